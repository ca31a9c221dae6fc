"""The call status of a deal, derived from its stage and its latest activity.

The statuses are the ones sales teams label calls with: first contact, follow-up needed,
ready for proposal, negotiation pending, closed.
"""

from __future__ import annotations

import datetime as dt
import enum

from crmkit.model.activity import Activity
from crmkit.model.deal import Deal
from crmkit.pipelines.pipeline import Pipeline
from crmkit.values.enums import ActivityOutcome, ForecastCategory
from crmkit.values.temporal import require_instance, require_instant

__all__ = ["DEFAULT_FOLLOW_UP_DAYS", "FAILED_OUTCOMES", "CallStatus", "call_status"]


class CallStatus(enum.StrEnum):
    """Where the conversation with a deal's buyer stands, as sales teams label calls."""

    FIRST_CONTACT = "first_contact"
    FOLLOW_UP_NEEDED = "follow_up_needed"
    READY_FOR_PROPOSAL = "ready_for_proposal"
    NEGOTIATION_PENDING = "negotiation_pending"
    CLOSED = "closed"


FAILED_OUTCOMES = frozenset(
    {
        ActivityOutcome.NO_ANSWER,
        ActivityOutcome.VOICEMAIL,
        ActivityOutcome.BUSY,
        ActivityOutcome.NO_SHOW,
        ActivityOutcome.CANCELLED,
        ActivityOutcome.RESCHEDULED,
        ActivityOutcome.BOUNCED,
    }
)
"""Outcomes that mean the buyer was not reached: the ball is still in our court."""

DEFAULT_FOLLOW_UP_DAYS = 14
"""How old the latest activity may get before a follow-up is due, in stages that set no
`rotting_days`."""


def call_status(
    deal: Deal, pipeline: Pipeline, latest_activity: Activity | None, now: dt.datetime
) -> CallStatus:
    """Derive the call status of a deal from its stage and latest activity.

    The first rule that applies wins:

    1. The deal is closed (`closed_at` set or its stage is won or lost) → CLOSED.
    2. It is in the pipeline's first open stage and has no activity → FIRST_CONTACT.
    3. It has no activity, or the latest one did not reach the buyer (no answer, voicemail,
       busy, no-show, cancelled, rescheduled, bounced), or the latest one is older than the
       stage's `rotting_days` (14 days when the stage sets none) → FOLLOW_UP_NEEDED.
    4. It is in the first open stage → FIRST_CONTACT (contact made, still prospecting).
    5. Its stage's forecast category is ``pipeline`` → READY_FOR_PROPOSAL.
    6. Otherwise (best case, commit) → NEGOTIATION_PENDING.

    The stage is read through the pipeline's data (order, flags, forecast category), never
    guessed from its name.

    Args:
        deal: The deal.
        pipeline: Its pipeline.
        latest_activity: Its most recent activity, or None.
        now: The current time.

    Raises:
        KeyError: When the deal's stage is not in the pipeline.
    """
    require_instance(deal, Deal, "deal")
    require_instance(pipeline, Pipeline, "pipeline")
    if latest_activity is not None:
        require_instance(latest_activity, Activity, "latest_activity")
    now = require_instant(now, "now")
    stage = pipeline.stage(deal.stage)
    if deal.closed_at is not None or stage.is_closed:
        return CallStatus.CLOSED
    first = stage.key == pipeline.initial_stage.key
    if latest_activity is None:
        return CallStatus.FIRST_CONTACT if first else CallStatus.FOLLOW_UP_NEEDED
    limit = stage.rotting_days or DEFAULT_FOLLOW_UP_DAYS
    too_old = (now - latest_activity.occurred_at).total_seconds() > limit * 86400
    if latest_activity.outcome in FAILED_OUTCOMES or too_old:
        return CallStatus.FOLLOW_UP_NEEDED
    if first:
        return CallStatus.FIRST_CONTACT
    if stage.forecast_category is ForecastCategory.PIPELINE:
        return CallStatus.READY_FOR_PROPOSAL
    return CallStatus.NEGOTIATION_PENDING
