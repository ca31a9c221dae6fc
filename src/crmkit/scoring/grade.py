"""Grades: fit A/B/C times engagement 1/2/3, as sales teams read them (``"A1"`` is best).

A `GradeMatrix` holds two pairs of thresholds on the 0..100 scores: fit at or above
``fit_thresholds[0]`` is A, at or above ``fit_thresholds[1]`` is B, else C; engagement at or
above ``engagement_thresholds[0]`` is 1, at or above ``engagement_thresholds[1]`` is 2,
else 3. A1 is a good fit that engages now: call first; C3 is neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from crmkit.errors import Problem, ValidationError
from crmkit.scoring.definition_text import DefinitionText, check_keys, number_field

__all__ = ["GradeMatrix"]


def _pair(value: Sequence[object], field: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValidationError.single(field, value, "is not two thresholds (high, low)")
    high, low = (number_field(v, field) for v in value)
    if not 0.0 <= low < high <= 100.0:
        raise ValidationError.single(
            field, value, "must be two thresholds with 0 <= low < high <= 100, high first"
        )
    return high, low


def _fit_pair(value: Sequence[object]) -> tuple[float, float]:
    return _pair(value, "fit_thresholds")


def _engagement_pair(value: Sequence[object]) -> tuple[float, float]:
    return _pair(value, "engagement_thresholds")


@attrs.frozen
class GradeMatrix(DefinitionText):
    """Turns a fit score and an engagement score into a grade such as ``"B2"``.

    Args:
        fit_thresholds: (A from, B from) on the fit score; below B is C.
        engagement_thresholds: (1 from, 2 from) on the engagement score; below 2 is 3.

    Raises:
        ValidationError: When a pair is not two thresholds with 0 <= low < high <= 100.
    """

    WHAT: ClassVar[str] = "grade matrix"

    fit_thresholds: tuple[float, float] = attrs.field(default=(70.0, 40.0), converter=_fit_pair)
    engagement_thresholds: tuple[float, float] = attrs.field(
        default=(60.0, 25.0), converter=_engagement_pair
    )

    def fit_letter(self, fit: float) -> str:
        """Return ``"A"``, ``"B"`` or ``"C"`` for a fit score."""
        high, low = self.fit_thresholds
        return "A" if fit >= high else "B" if fit >= low else "C"

    def engagement_digit(self, engagement: float) -> str:
        """Return ``"1"``, ``"2"`` or ``"3"`` for an engagement score."""
        high, low = self.engagement_thresholds
        return "1" if engagement >= high else "2" if engagement >= low else "3"

    def grade(self, fit: float, engagement: float) -> str:
        """Return the grade of a fit and an engagement score, ``"A1"`` to ``"C3"``."""
        return self.fit_letter(fit) + self.engagement_digit(engagement)

    def to_dict(self) -> dict[str, Any]:
        """Return the thresholds as plain data."""
        return {
            "fit_thresholds": list(self.fit_thresholds),
            "engagement_thresholds": list(self.engagement_thresholds),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradeMatrix:
        """Load thresholds written by `to_dict`.

        Raises:
            ValidationError: Listing what is wrong.
        """
        values = check_keys(data, "grade matrix", ("fit_thresholds", "engagement_thresholds"))
        problems: list[Problem] = []
        for key in values:
            try:
                _pair(values[key], key)
            except ValidationError as error:
                problems.extend(error.problems)
        if problems:
            raise ValidationError(problems)
        return cls(**dict(values))
