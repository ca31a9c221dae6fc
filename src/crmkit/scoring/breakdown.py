"""Explained scores: a number and the contributions that add up to it.

Every score crmkit computes (engagement, fit) is a `Score`: its `value` and a tuple of
`Contribution` lines, each naming the rule and, for engagement, the activity that produced
it. Caps and the floor at 0 appear as lines of their own (``"cap: email"``, ``"cap: total"``,
``"floor at 0"``) so the lines always add up to the value.

Arithmetic is in floats: the lines add up to `value` within 1e-9 (`Score.check` verifies it
with `math.fsum`). Scores are not money: nothing is rounded until it is shown.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.storage.protocol import StoredScore

__all__ = ["TOLERANCE", "Contribution", "ContributionKind", "Score", "clamp_lines"]

TOLERANCE = 1e-9
"""How far the sum of a breakdown may be from its score's value (float rounding)."""


class ContributionKind(enum.StrEnum):
    """What produced a line of a breakdown."""

    RULE = "rule"
    """A rule that matched (for engagement: one activity it matched)."""
    GROUP_CAP = "group_cap"
    """What a group's cap took away (negative)."""
    TOTAL_CAP = "total_cap"
    """What the total cap took away (negative)."""
    FLOOR = "floor"
    """What was added back because scores do not go below 0 (positive)."""


@attrs.frozen
class Contribution:
    """One line of a breakdown: who or what added (or took away) how many points.

    Attributes:
        label: What people read: the rule's name, ``"cap: email"``, ``"floor at 0"``.
        points: The points on the score's own scale (0..100), signed.
        kind: What produced it.
        rule: The rule's name, for rule lines.
        group: The rule's group, or the capped group.
        activity_id: The activity that matched, for engagement lines.
        factor: How much of the rule's points were left after decay (1.0 when none).
    """

    label: str
    points: float
    kind: ContributionKind = ContributionKind.RULE
    rule: str | None = None
    group: str | None = None
    activity_id: uuid.UUID | None = None
    factor: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return the line as JSON-ready data (no None values)."""
        data: dict[str, Any] = {"label": self.label, "points": self.points, "kind": self.kind.value}
        if self.rule is not None:
            data["rule"] = self.rule
        if self.group is not None:
            data["group"] = self.group
        if self.activity_id is not None:
            data["activity_id"] = str(self.activity_id)
        if self.factor != 1.0:
            data["factor"] = self.factor
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contribution:
        """Load a line written by `to_dict` (as the score table gives it back)."""
        activity = data.get("activity_id")
        return cls(
            label=data["label"],
            points=float(data["points"]),
            kind=ContributionKind(data.get("kind", "rule")),
            rule=data.get("rule"),
            group=data.get("group"),
            activity_id=uuid.UUID(activity) if activity else None,
            factor=float(data.get("factor", 1.0)),
        )


@attrs.frozen
class Score:
    """A score and why it is what it is.

    Attributes:
        value: The score, 0..100.
        contributions: The lines that add up to `value` (within `TOLERANCE`).
        scorer: The name of the model that computed it (``"engagement"``).
        version: The version of that model's definition.
        as_of: The instant it was computed for (engagement decays; fit does not care).
    """

    value: float
    contributions: tuple[Contribution, ...] = ()
    scorer: str = ""
    version: str = "1"
    as_of: dt.datetime | None = None

    def total(self) -> float:
        """Return the exact (fsum) sum of the contributions."""
        return math.fsum(c.points for c in self.contributions)

    def check(self) -> bool:
        """Whether the contributions add up to the value within `TOLERANCE`."""
        return abs(self.total() - self.value) <= TOLERANCE * max(1.0, abs(self.value))

    def by_rule(self) -> dict[str, float]:
        """Sum the lines per label (rule names, caps, floor), largest effect first."""
        sums: dict[str, float] = {}
        for line in self.contributions:
            sums[line.label] = sums.get(line.label, 0.0) + line.points
        return dict(sorted(sums.items(), key=lambda item: -abs(item[1])))

    def breakdown(self) -> list[dict[str, Any]]:
        """Return the lines as JSON-ready data, as the score table stores them."""
        return [line.to_dict() for line in self.contributions]

    def to_stored(
        self,
        record_id: uuid.UUID,
        *,
        grade: str | None = None,
        computed_at: dt.datetime | None = None,
    ) -> StoredScore:
        """Return the score as a row of the score table (`uow.scores.put_many`).

        Args:
            record_id: The record scored.
            grade: A grade to store with it (``"A2"``).
            computed_at: When it counts as computed; `as_of` by default.

        Raises:
            ValueError: When neither `computed_at` nor `as_of` is known.
        """
        at = computed_at or self.as_of
        if at is None:
            raise ValueError("a stored score needs computed_at (the score has no as_of)")
        return StoredScore(
            record_id=record_id,
            scorer=self.scorer,
            value=self.value,
            computed_at=at,
            scorer_version=self.version,
            grade=grade,
            breakdown=self.breakdown(),
        )


def clamp_lines(total: float, cap: float, scale: float) -> list[Contribution]:
    """Return the line that brings a raw total into ``[0, cap]``, if one is needed.

    Args:
        total: The raw points after group caps.
        cap: The raw points that make 100.
        scale: ``100 / cap``: raw points to score points.
    """
    if total > cap:
        return [Contribution("cap: total", (cap - total) * scale, ContributionKind.TOTAL_CAP)]
    if total < 0.0:
        return [Contribution("floor at 0", -total * scale, ContributionKind.FLOOR)]
    return []
