"""Stages: one step of a pipeline, with its probability, forecast category and requirements."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.conditions import (
    And,
    Condition,
    F,
    IsEmpty,
    compile_predicate,
    condition_from_dict,
    fields_of,
    unknown_fields,
)
from crmkit.errors import Problem, SegmentError, ValidationError
from crmkit.model.deal import Deal
from crmkit.values.arguments import as_items
from crmkit.values.enums import ForecastCategory

__all__ = ["DEAL_FIELDS", "Requirement", "Stage", "describe_requirement", "requirement"]

DEAL_FIELDS: frozenset[str] = fields_of(Deal) | {"amount.amount", "amount.currency"}
"""The fields a stage requirement may name: Deal's fields, ``custom.*`` and Money's parts."""

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

Requirement = Condition | Iterable[str] | Mapping[str, Any] | None
"""What `Stage.requires` accepts: a condition, its dict form, or field names that must be set."""


def requirement(value: Requirement) -> Condition | None:
    """Turn the accepted forms of a stage requirement into a condition (or None).

    A list of field names ``["amount", "expected_close"]`` becomes
    ``F("amount").is_not_empty() & F("expected_close").is_not_empty()``; an empty list is
    no requirement.

    Raises:
        SegmentError: When a name or the dict form is not valid.
    """
    if value is None or isinstance(value, Condition):
        return value
    if isinstance(value, Mapping):
        return condition_from_dict(value)
    if isinstance(value, str):
        raise SegmentError(f"requires takes a list of field names, not the text {value!r}")
    names = as_items(value)
    if names is None:
        raise SegmentError(
            f"requires takes a condition, its dict form or a list of field names, not {value!r}"
        )
    if not names:
        return None
    return And([F(name).is_not_empty() for name in names])


def _requires(value: Requirement) -> Condition | None:
    """Read `Stage.requires`, naming ``requires`` (``requires[i]`` for a name) on failure."""
    names = as_items(value) if not isinstance(value, Condition) else None
    if names is not None:
        wrong = [
            Problem(f"requires[{i}]", name, "is not a field name (text)")
            for i, name in enumerate(names)
            if not isinstance(name, str)
        ]
        if wrong:
            raise ValidationError(wrong)
        value = names
    try:
        return requirement(value)
    except SegmentError as error:
        shown = dict(value) if isinstance(value, Mapping) else value
        raise ValidationError.single("requires", shown, str(error)) from None


def _probability(value: object) -> object:
    # an int past the float range is kept as given, refused with the other problems
    if isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 1
    ):
        return float(value)
    return value


def _category(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, ForecastCategory):
        try:
            return ForecastCategory(value)
        except ValueError:
            return value
    return value


@attrs.frozen
class Stage:
    """One stage of a pipeline; `won` and `lost` say whether it closes a deal (never its name).

    Args:
        key: The stable key stored on deals (``"proposal"``): lowercase letters, digits, _.
        label: The name people see (``"Proposal"``).
        probability: The win probability of a deal in it, 0..1.
        forecast_category: How its deals count in a forecast.
        won: Entering it wins the deal.
        lost: Entering it loses the deal.
        requires: What a deal must satisfy to enter: a condition, its dict form, or a list
            of field names that must not be empty (``["amount"]``).
        rotting_days: After how many days without activity a deal in it counts as stale.
        description: What happens in it, for people.

    Raises:
        ValidationError: Listing every problem of the stage.
    """

    key: str
    label: str
    probability: float = attrs.field(converter=_probability)
    forecast_category: ForecastCategory = attrs.field(converter=_category)
    won: bool = False
    lost: bool = False
    requires: Condition | None = attrs.field(default=None, converter=_requires)
    rotting_days: int | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValidationError(problems)

    def _problems(self) -> list[Problem]:
        problems = []
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            problems.append(
                Problem("key", self.key, "is not a stage key (lowercase letters, digits, _)")
            )
        if not isinstance(self.label, str) or not self.label.strip():
            problems.append(Problem("label", self.label, "must be non-blank text"))
        if not isinstance(self.probability, float) or not 0.0 <= self.probability <= 1.0:
            problems.append(Problem("probability", self.probability, "is not between 0 and 1"))
        if not isinstance(self.forecast_category, ForecastCategory):
            choices = ", ".join(c.value for c in ForecastCategory)
            problems.append(
                Problem("forecast_category", self.forecast_category, f"is not one of: {choices}")
            )
        if not isinstance(self.won, bool) or not isinstance(self.lost, bool):
            problems.append(Problem("won", (self.won, self.lost), "won and lost are True/False"))
        elif self.won and self.lost:
            problems.append(Problem("won", True, "a stage cannot be both won and lost"))
        if self.rotting_days is not None and (
            isinstance(self.rotting_days, bool)
            or not isinstance(self.rotting_days, int)
            or self.rotting_days < 1
        ):
            problems.append(
                Problem("rotting_days", self.rotting_days, "is not a whole number >= 1")
            )
        if self.requires is not None:
            for field in unknown_fields(self.requires, DEAL_FIELDS):
                close = difflib.get_close_matches(field, sorted(DEAL_FIELDS), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(Problem("requires", field, f"is not a deal field{hint}"))
        if not isinstance(self.description, str):
            problems.append(Problem("description", self.description, "is not text"))
        return problems

    @property
    def is_closed(self) -> bool:
        """Whether entering the stage closes the deal (won or lost)."""
        return self.won or self.lost

    @property
    def requirements(self) -> tuple[Condition, ...]:
        """The requirement split into its top-level conjuncts, each checked on its own."""
        if self.requires is None:
            return ()
        if isinstance(self.requires, And):
            return self.requires.items
        return (self.requires,)

    def unmet(self, deal: Deal) -> list[str]:
        """Return a sentence for each requirement `deal` does not meet (empty when all are)."""
        if self.requires is None or compile_predicate(self.requires, Deal)(deal):
            return []
        return [
            describe_requirement(part)
            for part in self.requirements
            if not compile_predicate(part, Deal)(deal)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Return the stage as plain data; a list of names stands for a simple requirement."""
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "probability": self.probability,
            "forecast_category": self.forecast_category.value,
            "won": self.won,
            "lost": self.lost,
        }
        if self.requires is not None:
            data["requires"] = _requirement_data(self.requires)
        if self.rotting_days is not None:
            data["rotting_days"] = self.rotting_days
        if self.description:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """Load a stage written by `to_dict`.

        Raises:
            ValidationError: Listing every problem, unknown keys included.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("stage", data, "is not a mapping")
        problems = [
            Problem(str(key), data[key], "is not a stage setting")
            for key in data
            if key not in _STAGE_KEYS
        ]
        missing = [k for k in ("key", "label", "probability", "forecast_category") if k not in data]
        problems.extend(Problem(k, None, "is required") for k in missing)
        if problems:
            raise ValidationError(problems)
        return cls(**dict(data))


_STAGE_KEYS = frozenset(attrs.fields_dict(Stage))


def describe_requirement(part: Condition) -> str:
    """Return the sentence that names one unmet requirement (``"amount is required"``)."""
    if isinstance(part, IsEmpty) and part.negated:
        return f"{part.field} is required"
    return f"needs {part}"


def _requirement_data(condition: Condition) -> Any:
    if isinstance(condition, And) and all(
        isinstance(item, IsEmpty) and item.negated for item in condition.items
    ):
        return [item.field for item in condition.items if isinstance(item, IsEmpty)]
    return condition.to_dict()
