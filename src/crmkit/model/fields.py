"""Parsers that turn one plain input value into one validated model value.

Every entity's `create` and `changed` run their inputs through these, collecting every
problem of a call into one `ValidationError` instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar, cast

import phonenumbers

from crmkit.errors import Problem, ValidationError
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.money import Money, parse_amount
from crmkit.values.temporal import parse_day, parse_instant, parse_time_zone

__all__ = [
    "Parser",
    "ProblemCollector",
    "fold_money",
    "parse_country",
    "parse_duration",
    "parse_enum",
    "parse_probability",
    "parse_ref",
    "parse_refs",
    "parse_tags",
    "parse_text",
    "parse_user",
]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

Parser = Callable[[Any, str], Any]
"""A function ``(value, field) -> parsed value`` that raises `ValidationError`."""


class ProblemCollector:
    """Runs parsers and remembers every problem, so a call can report them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def parse(self, parser: Callable[[Any, str], T], value: object, field: str) -> T | None:
        """Return ``parser(value, field)``, or None after recording its problems."""
        try:
            return parser(value, field)
        except ValidationError as error:
            self.problems.extend(error.problems)
            return None

    def add(self, field: str, value: object, reason: str) -> None:
        """Record one problem found by hand."""
        self.problems.append(Problem(field, value, reason))

    def raise_if_any(self) -> None:
        """Raise one `ValidationError` with everything recorded, if anything was."""
        if self.problems:
            raise ValidationError(self.problems)


def parse_text(value: object, field: str, *, max_length: int = 1000) -> str | None:
    """Return stripped text, None for None or blank text; refuse non-text and overlong text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError.single(field, value, "is not text")
    text = value.strip()
    if len(text) > max_length:
        raise ValidationError.single(field, value, f"is longer than {max_length} characters")
    return text or None


def required_text(value: object, field: str) -> str:
    """Like `parse_text`, but blank or missing text is a problem."""
    text = parse_text(value, field)
    if text is None:
        raise ValidationError.single(field, value, "is required")
    return text


def parse_user(value: object, field: str) -> str | None:
    """Return a `UserRef`: the app's own user id as text (crmkit does not manage users)."""
    return parse_text(value, field, max_length=200)


def parse_country(value: object, field: str) -> str | None:
    """Return an ISO 3166 alpha-2 country code in upper case (``"de"`` → ``"DE"``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError.single(field, value, "is not an ISO 3166 alpha-2 country code")
    return value.strip().upper()


def parse_tags(value: object, field: str) -> frozenset[str]:
    """Return a set of tags, each stripped and lowercased; blank tags are refused."""
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.single(field, value, "is not a collection of tags")
    tags = set()
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError.single(field, tag, "is not a tag (non-blank text)")
        if len(tag) > 100:
            raise ValidationError.single(field, tag, "is longer than 100 characters")
        tags.add(tag.strip().lower())
    return frozenset(tags)


def parse_ref(value: object, field: str) -> uuid.UUID | None:
    """Return the id of another record (a UUID, or its text), None for None."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            pass
    raise ValidationError.single(field, value, "is not a record id (a UUID)")


def required_ref(value: object, field: str) -> uuid.UUID:
    """Like `parse_ref`, but a missing id is a problem."""
    ref = parse_ref(value, field)
    if ref is None:
        raise ValidationError.single(field, value, "is required")
    return ref


def parse_refs(value: object, field: str) -> tuple[uuid.UUID, ...]:
    """Return record ids in the given order, without repeats."""
    if value is None:
        return ()
    if isinstance(value, str | uuid.UUID) or not isinstance(value, Iterable):
        raise ValidationError.single(field, value, "is not a collection of record ids")
    refs = [required_ref(item, f"{field}[{i}]") for i, item in enumerate(value)]
    return tuple(dict.fromkeys(refs))


def parse_enum(kind: type[E]) -> Callable[[object, str], E | None]:
    """Return a parser for one enum: accepts a member or its value, any case."""

    def parse(value: object, field: str) -> E | None:
        if value is None:
            return None
        if isinstance(value, kind):
            return value
        if isinstance(value, str):
            try:
                return kind(value.strip().lower())
            except ValueError:
                pass
        choices = ", ".join(str(m.value) for m in kind)
        raise ValidationError.single(field, value, f"is not one of: {choices}")

    return parse


def parse_count(value: object, field: str) -> int | None:
    """Return a whole number >= 0 (text allowed), None for None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError.single(field, value, "is not a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip().replace("_", ""))
        except ValueError:
            raise ValidationError.single(field, value, "is not a whole number") from None
    if not isinstance(value, int):
        raise ValidationError.single(field, value, "is not a whole number")
    if value < 0:
        raise ValidationError.single(field, value, "must not be negative")
    return value


def parse_probability(value: object, field: str) -> float | None:
    """Return a probability in 0..1 (text, int, float or Decimal), None for None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError.single(field, value, "is not a probability")
    try:
        number = float(value) if isinstance(value, int | float | Decimal | str) else None
    except ValueError:
        number = None
    if number is None or not 0.0 <= number <= 1.0:
        raise ValidationError.single(field, value, "is not a probability between 0 and 1")
    return number


def parse_duration(value: object, field: str) -> dt.timedelta | None:
    """Return a non-negative duration from a timedelta or a number of seconds."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value
    elif isinstance(value, int | Decimal | str) and not isinstance(value, bool):
        try:
            seconds = dt.timedelta(seconds=float(parse_amount(value, field)))
        except ValidationError:
            raise ValidationError.single(field, value, "is not a duration in seconds") from None
    else:
        raise ValidationError.single(field, value, "is not a duration (timedelta or seconds)")
    if seconds < dt.timedelta(0):
        raise ValidationError.single(field, value, "must not be negative")
    return seconds


def optional(parser: Callable[[object, str], T]) -> Callable[[object, str], T | None]:
    """Wrap a parser so that None passes through as None."""

    def parse(value: object, field: str) -> T | None:
        return None if value is None else parser(value, field)

    return parse


def parse_external_ids(value: object, field: str) -> FrozenMap[str, str]:
    """Return a mapping of source system → id in that system, both as text."""
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise ValidationError.single(field, value, "is not a mapping of system to id")
    items = {}
    for system, ident in value.items():
        if not isinstance(system, str) or not system.strip():
            raise ValidationError.single(field, system, "is not a source system name")
        if not isinstance(ident, str | int) or isinstance(ident, bool) or str(ident) == "":
            raise ValidationError.single(f"{field}.{system}", ident, "is not an id")
        items[system.strip()] = str(ident)
    return FrozenMap(items)


optional_instant = optional(parse_instant)
optional_day = optional(parse_day)
optional_time_zone = optional(parse_time_zone)


def fold_money(
    values: dict[str, Any], name: str, currency: object, collector: ProblemCollector
) -> None:
    """Replace an amount given with a separate currency by `Money` in `values`, in place.

    An amount that is already Money passes through (a currency beside it must agree).
    """
    amount = values.get(name)
    if amount is None or name not in values:
        if currency is not None and name in values:
            collector.add("currency", currency, f"was given without {name}")
        return
    if isinstance(amount, Money):
        if currency is not None and str(currency).upper() != amount.currency:
            collector.add("currency", currency, f"disagrees with {name} in {amount.currency}")
        return
    if currency is None:
        collector.add(name, amount, "needs a currency (currency='EUR') or Money")
        values[name] = None
        return
    values[name] = collector.parse(
        lambda v, f: Money.of(v, cast(str, currency), field=f),
        amount,
        name,
    )
