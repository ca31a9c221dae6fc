"""How scoring definitions become plain data and text: dict checks, JSON and TOML.

Every scoring definition (engagement and fit models, grade matrices, lead-score weights,
priority policies, trained win-probability models) is plain data first: ``to_dict`` returns
JSON-ready values with no None anywhere (TOML has no null), ``from_dict`` loads it back equal
and refuses bad input with a `ValidationError` listing every problem.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from crmkit.conditions import Condition, condition_from_dict, unknown_fields
from crmkit.definitions import dump_json, dump_toml, load_json, load_toml
from crmkit.errors import Problem, SegmentError, ValidationError

__all__ = ["DefinitionText", "check_keys", "condition_field", "number_field"]


class DefinitionText:
    """Mixin giving a definition with `to_dict` / `from_dict` its JSON and TOML forms."""

    __slots__ = ()
    WHAT: ClassVar[str] = "definition"

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as plain, JSON-ready data."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Load a definition from its dict form."""
        raise NotImplementedError

    def to_json(self) -> str:
        """Return the definition as JSON text."""
        return dump_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Load a definition from JSON text.

        Raises:
            ValidationError: When the text is not JSON or not a valid definition.
        """
        return cls.from_dict(load_json(text, cls.WHAT))

    def to_toml(self) -> str:
        """Return the definition as TOML text (needs the ``toml`` extra).

        Raises:
            MissingExtraError: When tomli-w is not installed.
        """
        return dump_toml(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> Self:
        """Load a definition from TOML text.

        Raises:
            ValidationError: When the text is not TOML or not a valid definition.
        """
        return cls.from_dict(load_toml(text, cls.WHAT))


def check_keys(
    data: object, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    """Return `data` as a mapping after checking its keys, or raise listing every problem.

    Args:
        data: The dict form being loaded.
        what: What it defines (``"engagement rule"``), for messages.
        allowed: The keys it may have.
        required: The keys it must have.

    Raises:
        ValidationError: For a non-mapping, unknown keys or missing keys (all at once).
    """
    if not isinstance(data, Mapping):
        raise ValidationError.single(what, data, "is not a mapping")
    problems = [
        Problem(str(key), data[key], f"is not a setting of a {what}")
        for key in data
        if key not in allowed
    ]
    problems.extend(Problem(key, None, "is required") for key in required if key not in data)
    if problems:
        raise ValidationError(problems)
    return data


def condition_field(value: object, field: str, known: frozenset[str] | None = None) -> Condition:
    """Return `value` as a condition (given as one or as its dict form), checking its fields.

    Args:
        value: A `Condition` or its dict form.
        field: Where it was given, for messages.
        known: The field paths it may name (``"custom.*"`` covers custom fields); None
            accepts any path.

    Raises:
        ValidationError: For something that is not a condition or names an unknown field.
    """
    if isinstance(value, Condition):
        condition = value
    elif isinstance(value, Mapping):
        try:
            condition = condition_from_dict(value)
        except SegmentError as error:
            raise ValidationError.single(field, dict(value), str(error)) from None
    else:
        raise ValidationError.single(field, value, "is not a condition or its dict form")
    if known is not None:
        unknown = unknown_fields(condition, known)
        if unknown:
            raise ValidationError(
                [Problem(field, path, "is not a field this rule can read") for path in unknown]
            )
    return condition


_LARGEST_FLOAT = int(sys.float_info.max)
"""The largest int that float() turns into a finite number (larger ones overflow)."""


def number_field(
    value: object, field: str, *, minimum: float | None = None, positive: bool = False
) -> float:
    """Return `value` as a finite float, or raise naming `field`.

    Args:
        value: An int or float (bools are refused).
        field: Its name, for messages.
        minimum: The smallest allowed value, when there is one.
        positive: Whether it must be greater than zero.

    Raises:
        ValidationError: For a non-number, a non-finite number, or one out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.single(field, value, "is not a number")
    if isinstance(value, int) and abs(value) > _LARGEST_FLOAT:
        raise ValidationError.single(field, value, "is not a finite number (too large)")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError.single(field, value, "is not a finite number")
    if positive and number <= 0:
        raise ValidationError.single(field, value, "must be greater than 0")
    if minimum is not None and number < minimum:
        raise ValidationError.single(field, value, f"must be at least {minimum:g}")
    return number
