"""Checking what callers hand to a store's entry points, before anything reaches a database.

A wrong argument is refused here with a `ValidationError` (or, when opening a store, a
`StoreOpenError`) naming it, so it never becomes a raw Python error, a driver error or, on
PostgreSQL, an aborted unit of work.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from crmkit.clock import Clock
from crmkit.errors import Problem, StoreOpenError, ValidationError

__all__ = [
    "MAX_BUSY_TIMEOUT",
    "check_clock",
    "check_events_window",
    "check_options",
    "check_record_id",
    "check_record_ids",
    "seconds_option",
]

MAX_BUSY_TIMEOUT = 86_400.0
"""The longest busy timeout a store accepts, in seconds (a day)."""

_NOT_AN_ID = "is not a record id: pass a uuid.UUID (uuid.UUID(text) reads one)"


def check_record_id(value: object, name: str) -> uuid.UUID:
    """Return `value` if it is a record id (a `uuid.UUID`).

    Raises:
        ValidationError: Naming `name` when it is anything else (text included: ids are
            UUIDs, and text that is not one would reach the database as a bad parameter).
    """
    if not isinstance(value, uuid.UUID):
        raise ValidationError.single(name, value, _NOT_AN_ID)
    return value


def check_record_ids(values: object, name: str) -> list[uuid.UUID]:
    """Return the ids of an iterable of record ids, in order, each checked.

    Raises:
        ValidationError: Naming ``name[i]`` for every item that is not a `uuid.UUID`, or
            `name` when `values` is not an iterable of ids (text is refused).
    """
    if isinstance(values, str | bytes | uuid.UUID) or not isinstance(values, Iterable):
        raise ValidationError.single(name, values, "is not an iterable of record ids")
    ids = list(values)
    problems = [
        Problem(f"{name}[{i}]", value, _NOT_AN_ID)
        for i, value in enumerate(ids)
        if not isinstance(value, uuid.UUID)
    ]
    if problems:
        raise ValidationError(problems)
    return ids


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_events_window(after: object, limit: object) -> None:
    """Check `Store.events` arguments: `after` a position (int >= 0), `limit` None or >= 0.

    Raises:
        ValidationError: Naming each argument that is not so (every one at once).
    """
    problems = []
    if not _count(after) or after < 0:  # type: ignore[operator]
        problems.append(Problem("after", after, "is not a position: an integer, 0 or more"))
    if limit is not None and (not _count(limit) or limit < 0):  # type: ignore[operator]
        problems.append(Problem("limit", limit, "is not a count: None or an integer, 0 or more"))
    if problems:
        raise ValidationError(problems)


def check_clock(clock: object) -> None:
    """Refuse a `clock` that is not None and has no ``now()``, when a store is opened.

    Raises:
        StoreOpenError: Naming ``clock``.
    """
    if clock is not None and not isinstance(clock, Clock):
        raise StoreOpenError(
            f"bad clock {clock!r}: pass a Clock (anything with now()), "
            "e.g. crmkit.FixedClock(at), or None for the system clock"
        )


def check_options(adapter: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse options (URL query parameters or keywords) an adapter does not read.

    Raises:
        StoreOpenError: Naming every unknown option and the known ones.
    """
    allowed = tuple(known)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        use = f"use {', '.join(allowed)}" if allowed else "it takes none"
        raise StoreOpenError(f"unknown {adapter} store option(s) {', '.join(unknown)}: {use}")


def seconds_option(
    name: str, raw: object, *, at_most: float | None = None, positive: bool = False
) -> float:
    """Read a duration option in seconds; text (from a URL) is read as a number.

    The value must be finite, 0 or more (more than 0 if `positive`), at most `at_most`.

    Raises:
        StoreOpenError: Naming `name` and the value when it is not such a number.
    """
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StoreOpenError(f"bad {name} {raw!r}: not a number of seconds") from None
    low_ok = value > 0 if positive else value >= 0
    if not math.isfinite(value) or not low_ok or (at_most is not None and value > at_most):
        bound = "more than 0" if positive else "0 or more"
        top = f" and at most {at_most:g}" if at_most is not None else ""
        raise StoreOpenError(f"bad {name} {raw!r}: seconds must be finite, {bound}{top}")
    return value
