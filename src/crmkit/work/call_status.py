"""A deal's or a contact's call status read from the store: stage, latest activity, tasks.

A deal's latest activity is the newest one logged on the deal or on any of its contacts
(a call with the buyer counts even when it was logged on the person only).

`crmkit.pipelines.call_status` derives the status from what it is given; these functions
fetch what it needs in one unit of work, so the status an app shows always agrees with the
record's tasks (an overdue follow-up shows as "follow-up needed", a scheduled one does not)
and its latest activity (completing a task logs one).

A contact's status is the most urgent of its open deals' statuses; a contact with no open
deal is read like a deal in a first stage: ``first_contact`` until reached, then
``follow_up_needed`` when a follow-up is overdue, the latest activity did not reach them or
is more than 14 days old with nothing scheduled.
"""

from __future__ import annotations

import datetime as dt
import uuid

from crmkit.model.activity import Activity
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.pipelines.call_status import CallStatus, call_status, record_call_status
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import require_attributes
from crmkit.values.temporal import require_instance, require_instant
from crmkit.work.tasks import tasks_for

__all__ = ["URGENCY", "contact_call_status", "deal_call_status"]

URGENCY = (
    CallStatus.FOLLOW_UP_NEEDED,
    CallStatus.FIRST_CONTACT,
    CallStatus.READY_FOR_PROPOSAL,
    CallStatus.NEGOTIATION_PENDING,
    CallStatus.CLOSED,
)
"""Call statuses from the most to the least urgent: a contact shows its most urgent deal's."""


def deal_call_status(uow: UnitOfWork, deal: Deal, *, now: dt.datetime | None = None) -> CallStatus:
    """Return a stored deal's call status from its pipeline, latest activity and tasks.

    The latest activity is the newest on the deal or on its contacts.

    Raises:
        ValidationError: For something other than a deal, or a deal whose pipeline the
            store does not know.
    """
    _check_uow(uow)
    require_instance(deal, Deal, "deal")
    at = uow.clock.now() if now is None else require_instant(now, "now")
    pipeline = uow.pipelines.get(deal.pipeline)
    return call_status(deal, pipeline, _latest_activity(uow, deal), at, tasks=tasks_for(uow, deal))


def contact_call_status(
    uow: UnitOfWork, contact: Contact, *, now: dt.datetime | None = None
) -> CallStatus:
    """Return a stored contact's call status: its most urgent open deal's, else its own.

    Raises:
        ValidationError: For something other than a contact.
    """
    _check_uow(uow)
    require_instance(contact, Contact, "contact")
    at = uow.clock.now() if now is None else require_instant(now, "now")
    statuses = [
        deal_call_status(uow, deal, now=at)
        for deal in uow.deals.related(contact.id, limit=1000)
        if deal.closed_at is None
    ]
    statuses = [status for status in statuses if status is not CallStatus.CLOSED]
    if statuses:
        return min(statuses, key=URGENCY.index)
    return record_call_status(_latest_activity(uow, contact), at, tasks=tasks_for(uow, contact))


def _latest_activity(uow: UnitOfWork, record: Entity, *also: uuid.UUID) -> Activity | None:
    """The newest activity on the record or on any of the records `also` names."""
    latest: Activity | None = None
    for ident in (record.id, *also):
        found = uow.activities.related(ident, limit=1)
        if found and (latest is None or found[0].occurred_at > latest.occurred_at):
            latest = found[0]
    return latest


def _check_uow(uow: object) -> None:
    require_attributes(uow, "uow", ("deals", "activities", "tasks", "pipelines"), "a UnitOfWork")
