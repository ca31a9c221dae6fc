"""The call status of a deal, derived from its stage and its latest activity.

The statuses are the ones sales teams label calls with: first contact, follow-up needed,
ready for proposal, negotiation pending, closed.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from crmkit.errors import ValidationError
from crmkit.model.activity import Activity
from crmkit.model.deal import Deal
from crmkit.model.task import Task
from crmkit.pipelines.pipeline import Pipeline
from crmkit.values.enums import ActivityOutcome, ForecastCategory, TaskStatus
from crmkit.values.temporal import require_instance, require_instant

__all__ = [
    "DEFAULT_FOLLOW_UP_DAYS",
    "FAILED_OUTCOMES",
    "CallStatus",
    "call_status",
    "record_call_status",
]


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


_OPEN_TASK = frozenset({TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING})


def call_status(
    deal: Deal,
    pipeline: Pipeline,
    latest_activity: Activity | None,
    now: dt.datetime,
    *,
    tasks: Iterable[Task] = (),
) -> CallStatus:
    """Derive the call status of a deal from its stage, latest activity and tasks.

    The first rule that applies wins:

    1. The deal is closed (`closed_at` set or its stage is won or lost) → CLOSED.
    2. One of its open tasks is overdue (due before `now`) → FOLLOW_UP_NEEDED.
    3. It is in the pipeline's first open stage and has no activity → FIRST_CONTACT.
    4. It has no activity, or the latest one did not reach the buyer (no answer, voicemail,
       busy, no-show, cancelled, rescheduled, bounced), or the latest one is older than the
       stage's `rotting_days` (14 days when the stage sets none) → FOLLOW_UP_NEEDED, unless
       an open task is due at or after `now` (the follow-up is already scheduled).
    5. It is in the first open stage → FIRST_CONTACT (contact made, still prospecting).
    6. Its stage's forecast category is ``pipeline`` → READY_FOR_PROPOSAL.
    7. Otherwise (best case, commit) → NEGOTIATION_PENDING.

    So the status follows the work: completing the follow-up (an activity) or scheduling
    one (a task) moves it, and a follow-up left overdue shows.

    The stage is read through the pipeline's data (order, flags, forecast category), never
    guessed from its name.

    Args:
        deal: The deal.
        pipeline: Its pipeline.
        latest_activity: Its most recent activity, or None.
        now: The current time.
        tasks: Its tasks (done and cancelled ones are ignored).

    Raises:
        KeyError: When the deal's stage is not in the pipeline.
    """
    require_instance(deal, Deal, "deal")
    require_instance(pipeline, Pipeline, "pipeline")
    if latest_activity is not None:
        require_instance(latest_activity, Activity, "latest_activity")
    now = require_instant(now, "now")
    due = _open_due_times(tasks)
    stage = pipeline.stage(deal.stage)
    if deal.closed_at is not None or stage.is_closed:
        return CallStatus.CLOSED
    first = stage.key == pipeline.initial_stage.key
    status = _before_stage(latest_activity, now, due, first, stage.rotting_days)
    if status is not None:
        return status
    if first:
        return CallStatus.FIRST_CONTACT
    if stage.forecast_category is ForecastCategory.PIPELINE:
        return CallStatus.READY_FOR_PROPOSAL
    return CallStatus.NEGOTIATION_PENDING


def record_call_status(
    latest_activity: Activity | None, now: dt.datetime, *, tasks: Iterable[Task] = ()
) -> CallStatus:
    """Derive the call status of a record outside any pipeline (a contact with no open deal).

    It is read like a deal in a first stage (rules 2 to 5 of `call_status`, with the
    14-day follow-up limit): FOLLOW_UP_NEEDED when a task is overdue, or the latest activity
    did not reach them or is too old with nothing scheduled; FIRST_CONTACT otherwise.
    """
    if latest_activity is not None:
        require_instance(latest_activity, Activity, "latest_activity")
    now = require_instant(now, "now")
    due = _open_due_times(tasks)
    return _before_stage(latest_activity, now, due, True, None) or CallStatus.FIRST_CONTACT


def _before_stage(
    latest_activity: Activity | None,
    now: dt.datetime,
    due: list[dt.datetime],
    first: bool,
    rotting_days: int | None,
) -> CallStatus | None:
    """Rules 2 to 4: what the tasks and the latest activity say before the stage does."""
    if any(at < now for at in due):
        return CallStatus.FOLLOW_UP_NEEDED
    if latest_activity is None and first:
        return CallStatus.FIRST_CONTACT
    if _needs_follow_up(latest_activity, rotting_days, now) and not due:
        return CallStatus.FOLLOW_UP_NEEDED
    return None


def _open_due_times(tasks: Iterable[Task]) -> list[dt.datetime]:
    """The due times of the open, dated tasks among `tasks`."""
    if isinstance(tasks, str | bytes) or not isinstance(tasks, Iterable):
        raise ValidationError.single("tasks", tasks, "is not a list of tasks")
    due = []
    for position, task in enumerate(tasks):
        require_instance(task, Task, f"tasks[{position}]")
        if task.status in _OPEN_TASK and task.due_at is not None:
            due.append(task.due_at)
    return due


def _needs_follow_up(
    latest_activity: Activity | None, rotting_days: int | None, now: dt.datetime
) -> bool:
    """No activity, one that did not reach the buyer, or one older than the limit."""
    if latest_activity is None or latest_activity.outcome in FAILED_OUTCOMES:
        return True
    limit = rotting_days or DEFAULT_FOLLOW_UP_DAYS
    return (now - latest_activity.occurred_at).total_seconds() > limit * 86400
