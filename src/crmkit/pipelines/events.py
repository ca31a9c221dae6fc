"""What a move produces: the moved deal and a `StageChanged` domain event."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

import attrs

from crmkit.model.deal import Deal
from crmkit.values.money import Money

__all__ = ["Moved", "StageChanged"]


@attrs.frozen(kw_only=True)
class StageChanged:
    """A deal entered another stage (or another pipeline): the domain event of a move.

    Attributes:
        deal_id: The deal.
        pipeline: The pipeline it is in after the move.
        from_stage: The stage it left.
        to_stage: The stage it entered.
        at: When (UTC).
        by: Who moved it, when known.
        note: Why, when someone said.
        amount: The deal's amount after the move.
        probability: The deal's win probability after the move.
        from_pipeline: The pipeline it left, for a transfer; None for a move within one.
    """

    event_type: ClassVar[str] = "deal.stage_changed"

    deal_id: uuid.UUID
    pipeline: str
    from_stage: str
    to_stage: str
    at: dt.datetime
    by: str | None = None
    note: str | None = None
    amount: Money | None = None
    probability: float | None = None
    from_pipeline: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as JSON-ready data, with its `event_type`."""
        return {
            "event_type": self.event_type,
            "deal_id": str(self.deal_id),
            "pipeline": self.pipeline,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "at": self.at.isoformat(),
            "by": self.by,
            "note": self.note,
            "amount": None
            if self.amount is None
            else {"amount": str(self.amount.amount), "currency": self.amount.currency},
            "probability": self.probability,
            "from_pipeline": self.from_pipeline,
        }


@attrs.frozen
class Moved:
    """The result of a move: the new deal to store and the event to record.

    Attributes:
        deal: The deal after the move (a new frozen object; the old one is unchanged).
        event: What happened.
    """

    deal: Deal
    event: StageChanged
