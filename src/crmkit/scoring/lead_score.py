"""The lead score: one number from 1 to 100 that weighs fit and engagement as you choose.

``lead score = 1 + round(99 * (w_fit * fit + w_engagement * engagement)
/ ((w_fit + w_engagement) * 100))``: a lead with neither scores 1, one perfect on both 100.
Fit and engagement stay visible beside it, with the grade from a `GradeMatrix`, because one
number hides whether a lead is a good match gone quiet (A3) or a poor match that clicks
everything (C1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from crmkit.errors import ValidationError
from crmkit.scoring.breakdown import Score
from crmkit.scoring.definition_text import DefinitionText, check_keys, number_field
from crmkit.scoring.grade import GradeMatrix

__all__ = ["LeadScore", "LeadScoring"]


@attrs.frozen
class LeadScore:
    """A lead's score with the two scores it comes from and its grade.

    Attributes:
        value: The lead score, 1..100.
        fit: The fit score, 0..100.
        engagement: The engagement score, 0..100.
        grade: Fit letter and engagement digit (``"A2"``).
    """

    value: int
    fit: float
    engagement: float
    grade: str


def _fit_weight(value: object) -> float:
    return number_field(value, "fit_weight", minimum=0.0)


def _engagement_weight(value: object) -> float:
    return number_field(value, "engagement_weight", minimum=0.0)


def _grades(value: object) -> GradeMatrix:
    if isinstance(value, GradeMatrix):
        return value
    if isinstance(value, Mapping):
        return GradeMatrix.from_dict(value)
    raise ValidationError.single("grades", value, "is not a grade matrix or its dict form")


@attrs.frozen
class LeadScoring(DefinitionText):
    """How fit and engagement combine into a 1..100 lead score and a grade.

    Args:
        fit_weight: The weight of fit (0 or more).
        engagement_weight: The weight of engagement (0 or more); the two may not both be 0.
        grades: The grade thresholds.

    Raises:
        ValidationError: For negative weights or two zero weights.
    """

    WHAT: ClassVar[str] = "lead scoring"

    fit_weight: float = attrs.field(default=0.5, converter=_fit_weight)
    engagement_weight: float = attrs.field(default=0.5, converter=_engagement_weight)
    grades: GradeMatrix = attrs.field(factory=GradeMatrix, converter=_grades)

    def __attrs_post_init__(self) -> None:
        if self.fit_weight + self.engagement_weight <= 0:
            raise ValidationError.single(
                "fit_weight",
                (self.fit_weight, self.engagement_weight),
                "and engagement_weight are both 0",
            )

    def score(self, fit: Score | float, engagement: Score | float) -> LeadScore:
        """Return the lead score of a fit and an engagement score (each 0..100).

        Args:
            fit: The fit score (a `Score` or its value).
            engagement: The engagement score (a `Score` or its value).
        """
        f = min(max(fit.value if isinstance(fit, Score) else float(fit), 0.0), 100.0)
        e = min(
            max(engagement.value if isinstance(engagement, Score) else float(engagement), 0.0),
            100.0,
        )
        weights = self.fit_weight + self.engagement_weight
        blended = (self.fit_weight * f + self.engagement_weight * e) / weights
        return LeadScore(1 + round(99 * blended / 100), f, e, self.grades.grade(f, e))

    def to_dict(self) -> dict[str, Any]:
        """Return the weights and grade thresholds as plain data."""
        return {
            "fit_weight": self.fit_weight,
            "engagement_weight": self.engagement_weight,
            "grades": self.grades.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadScoring:
        """Load settings written by `to_dict`.

        Raises:
            ValidationError: Listing what is wrong.
        """
        values = check_keys(data, "lead scoring", ("fit_weight", "engagement_weight", "grades"))
        return cls(**dict(values))
