"""Fit scoring: how well a person or lead matches the customers you want, from attributes.

A `FitModel` is a list of `FitRule`s, each a condition with positive or negative points.
Every rule whose condition holds adds its points (fit never decays: it reads attributes,
not activities); then ``score = clamp(raw, 0, max_points) * 100 / max_points``, with a
``cap: total`` or ``floor at 0`` line in the breakdown when the clamp applied.

Rules read the scored record (a `Contact` or a `Lead`) by its field names
(``F("title").contains("director")``, ``F("lead_source") == "referral"``, ``custom.<key>``),
and, for a contact scored with its company, the company's fields under the ``company.``
prefix (``F("company.employees") >= 200``, ``F("company.industry") == "software"``). A
``company.`` condition is false when the contact has no company, like any condition on a
missing value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import attrs

from crmkit.conditions import Condition, compile_predicate
from crmkit.definitions import load_each
from crmkit.errors import Problem, ValidationError
from crmkit.model.company import Company
from crmkit.scoring.breakdown import Contribution, Score, clamp_lines
from crmkit.scoring.definition_text import (
    DefinitionText,
    check_keys,
    condition_field,
    number_field,
)
from crmkit.values.arguments import as_items, item_problems

__all__ = ["FitModel", "FitRule", "FitSubject"]


class FitSubject:
    """What fit rules see: the record's own fields, plus its company as ``company``.

    Args:
        record: The contact or lead (any record with attributes).
        company: The contact's company, when it has one and it was loaded.
    """

    __slots__ = ("company", "record")

    def __init__(self, record: object, company: Company | None = None) -> None:
        self.record = record
        self.company = company

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def _condition(value: object) -> Condition:
    return condition_field(value, "when")


def _name(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single("name", value, "must be non-blank text")


def _points(value: object) -> float:
    return number_field(value, "points")


def _max_points(value: object) -> float:
    return number_field(value, "max_points", positive=True)


def _rules(value: Iterable[FitRule]) -> tuple[FitRule, ...]:
    # Not a collection: kept as given, refused with the other problems after init.
    items = as_items(value)
    return value if items is None else items  # type: ignore[return-value]


@attrs.frozen
class FitRule:
    """One fit rule: a condition on the record (and its company) and the points it gives.

    Args:
        name: A unique name, shown in breakdowns (``"mid-size company"``).
        when: The condition, or its dict form.
        points: The points when it holds; negative for a poor fit.

    Raises:
        ValidationError: For a blank name, a bad condition or points that are no number.
    """

    name: str = attrs.field(validator=_name)
    when: Condition = attrs.field(converter=_condition)
    points: float = attrs.field(converter=_points)

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as plain data."""
        return {"name": self.name, "when": self.when.to_dict(), "points": self.points}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitRule:
        """Load a rule written by `to_dict`.

        Raises:
            ValidationError: Listing what is wrong.
        """
        values = check_keys(
            data, "fit rule", ("name", "when", "points"), ("name", "when", "points")
        )
        return cls(**dict(values))


@attrs.frozen
class FitModel(DefinitionText):
    """A fit model: rules with points, scaled to 0..100.

    Args:
        rules: The rules; every one that holds adds its points.
        max_points: The raw points that make a score of 100; greater than 0.
        name: The scorer name stored with scores (``"fit"``).
        version: The version of this definition, stored with every score.

    Raises:
        ValidationError: Naming ``rules`` when it is not a collection of rules (``rules[i]``
            for an item that is not a `FitRule`), and for no rules, repeated rule names, a
            bad `max_points`, or a blank `name` or `version`.
    """

    WHAT: ClassVar[str] = "fit model"

    rules: tuple[FitRule, ...] = attrs.field(converter=_rules)
    max_points: float = attrs.field(default=100.0, converter=_max_points)
    name: str = attrs.field(default="fit", validator=_name)
    version: str = "1"
    _predicates: tuple[Callable[[Any], bool], ...] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.version, str) or not self.version:
            problems.append(Problem("version", self.version, "must be non-blank text"))
        if not isinstance(self.rules, tuple):
            problems.append(Problem("rules", self.rules, "is not a collection of rules"))
        elif not self.rules:
            problems.append(Problem("rules", [], "needs at least one rule"))
        elif not (wrong := item_problems(self.rules, "rules", FitRule)):
            names = [rule.name for rule in self.rules]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                problems.append(Problem("rules", repeated, "are rule names used more than once"))
        else:
            problems.extend(wrong)
        if problems:
            raise ValidationError(problems)
        predicates = tuple(compile_predicate(rule.when) for rule in self.rules)
        object.__setattr__(self, "_predicates", predicates)

    def score(self, record: object, company: Company | None = None) -> Score:
        """Return the fit score of a contact or lead (with its company) and its breakdown.

        Args:
            record: The contact or lead.
            company: The contact's company, for ``company.`` conditions.
        """
        subject = FitSubject(record, company)
        scale = 100.0 / self.max_points
        lines = []
        total = 0.0
        for rule, holds in zip(self.rules, self._predicates, strict=True):
            if holds(subject):
                total += rule.points
                lines.append(Contribution(rule.name, rule.points * scale, rule=rule.name))
        lines.extend(clamp_lines(total, self.max_points, scale))
        value = min(max(total, 0.0), self.max_points) * scale
        return Score(value, tuple(lines), self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        """Return the model as plain data."""
        return {
            "name": self.name,
            "version": self.version,
            "max_points": self.max_points,
            "rules": [rule.to_dict() for rule in self.rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitModel:
        """Load a model written by `to_dict` (or by hand).

        Raises:
            ValidationError: Listing every problem; rule problems prefixed ``rules[i]``.
        """
        values = dict(
            check_keys(data, "fit model", ("name", "version", "max_points", "rules"), ("rules",))
        )
        raw = values.pop("rules")
        if not isinstance(raw, list | tuple):
            raise ValidationError.single("rules", raw, "is not a list of rules")
        problems: list[Problem] = []
        rules = load_each(raw, "rules", FitRule.from_dict, problems)
        if problems:
            raise ValidationError(problems)
        return cls(rules=rules, **values)
