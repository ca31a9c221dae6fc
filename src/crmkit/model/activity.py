"""Activities: the log of every interaction (emails, calls, meetings, visits, forms)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    parse_duration,
    parse_enum,
    parse_ref,
    parse_text,
    parse_user,
)
from crmkit.values.enums import ActivityKind, ActivityOutcome, Direction
from crmkit.values.temporal import parse_instant

__all__ = ["Activity"]

_kind = parse_enum(ActivityKind)


def _required_kind(value: object, field: str) -> ActivityKind:
    kind = _kind(value, field)
    if kind is None:
        raise ValidationError.single(field, value, "is required")
    return kind


_MESSAGE_OUTCOMES = frozenset(
    {
        ActivityOutcome.SENT,
        ActivityOutcome.DELIVERED,
        ActivityOutcome.OPENED,
        ActivityOutcome.CLICKED,
        ActivityOutcome.REPLIED,
        ActivityOutcome.BOUNCED,
        ActivityOutcome.UNSUBSCRIBED,
    }
)
_SESSION_OUTCOMES = frozenset(
    {ActivityOutcome.CANCELLED, ActivityOutcome.RESCHEDULED, ActivityOutcome.COMPLETED}
)
OUTCOMES_BY_KIND: Mapping[ActivityKind, frozenset[ActivityOutcome]] = {
    ActivityKind.EMAIL: _MESSAGE_OUTCOMES,
    ActivityKind.SMS: _MESSAGE_OUTCOMES,
    ActivityKind.SOCIAL: _MESSAGE_OUTCOMES | {ActivityOutcome.VISITED},
    ActivityKind.CHAT: _MESSAGE_OUTCOMES | {ActivityOutcome.CONNECTED, ActivityOutcome.COMPLETED},
    ActivityKind.CALL: _SESSION_OUTCOMES
    | {
        ActivityOutcome.CONNECTED,
        ActivityOutcome.NO_ANSWER,
        ActivityOutcome.VOICEMAIL,
        ActivityOutcome.BUSY,
        ActivityOutcome.HELD,
        ActivityOutcome.NO_SHOW,
    },
    ActivityKind.MEETING: _SESSION_OUTCOMES
    | {
        ActivityOutcome.HELD,
        ActivityOutcome.NO_SHOW,
        ActivityOutcome.CONNECTED,
        ActivityOutcome.SENT,
    },
    ActivityKind.FORM: frozenset({ActivityOutcome.SUBMITTED, ActivityOutcome.VISITED}),
    ActivityKind.WEB_VISIT: frozenset({ActivityOutcome.VISITED, ActivityOutcome.CLICKED}),
}
"""The outcomes each kind of activity can have; a note may have any (it records anything)."""


@attrs.frozen(kw_only=True)
class Activity(Entity):
    """One interaction with a customer, and what came of it; scoring and segments read these.

    Attributes:
        kind: The channel (email, call, meeting, ...).
        outcome: What came of it (opened, replied, connected, held, ...).
        direction: Inbound or outbound.
        occurred_at: When it happened (UTC).
        duration: How long it lasted (calls, meetings).
        response_time: How long the customer took to respond, when known.
        subject: A short title.
        contact_id: The person it involved.
        company_id: The company it involved.
        deal_id: The deal it belongs to.
        lead_id: The lead it belongs to.
        owner: The app's user who did it.
    """

    KIND: ClassVar[str] = "activity"

    kind: ActivityKind
    occurred_at: dt.datetime
    outcome: ActivityOutcome | None = None
    direction: Direction | None = None
    duration: dt.timedelta | None = None
    response_time: dt.timedelta | None = None
    subject: str | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    owner: str | None = None

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "kind": _required_kind,
        "occurred_at": parse_instant,
        "outcome": parse_enum(ActivityOutcome),
        "direction": parse_enum(Direction),
        "duration": parse_duration,
        "response_time": parse_duration,
        "subject": parse_text,
        "contact_id": parse_ref,
        "company_id": parse_ref,
        "deal_id": parse_ref,
        "lead_id": parse_ref,
        "owner": parse_user,
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"kind", "occurred_at"})

    @classmethod
    def create(
        cls,
        *,
        kind: ActivityKind | str,
        occurred_at: dt.datetime | str | None = None,
        outcome: ActivityOutcome | str | None = None,
        direction: Direction | str | None = None,
        duration: dt.timedelta | int | str | None = None,
        response_time: dt.timedelta | int | str | None = None,
        subject: str | None = None,
        contact_id: uuid.UUID | str | None = None,
        company_id: uuid.UUID | str | None = None,
        deal_id: uuid.UUID | str | None = None,
        lead_id: uuid.UUID | str | None = None,
        owner: str | None = None,
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Activity:
        """Validate and return a new activity; `occurred_at` defaults to the clock's now.

        Args:
            kind: The channel.
            occurred_at: When it happened; now when omitted.
            outcome: What came of it.
            direction: Inbound or outbound.
            duration: How long it lasted (timedelta or seconds).
            response_time: How long the customer took to respond (timedelta or seconds).
            subject: A short title.
            contact_id: The person it involved.
            company_id: The company it involved.
            deal_id: The deal it belongs to.
            lead_id: The lead it belongs to.
            owner: The app's user who did it.
            custom: Custom field values.
            schema: The activity custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem; it must relate to at least one record.
        """
        values = {
            "kind": kind,
            "occurred_at": occurred_at if occurred_at is not None else resolve_clock(clock).now(),
            "outcome": outcome,
            "direction": direction,
            "duration": duration,
            "response_time": response_time,
            "subject": subject,
            "contact_id": contact_id,
            "company_id": company_id,
            "deal_id": deal_id,
            "lead_id": lead_id,
            "owner": owner,
        }
        return cls._build(
            values,
            clock=clock,
            id=id,
            created_at=created_at,
            external_ids=external_ids,
            custom=custom,
            schema=schema,
        )

    def _problems(self) -> list[Problem]:
        problems = []
        if not (self.contact_id or self.company_id or self.deal_id or self.lead_id):
            problems.append(
                Problem(
                    "contact_id",
                    None,
                    "is missing: an activity relates to a contact, company, deal or lead",
                )
            )
        allowed = OUTCOMES_BY_KIND.get(self.kind)
        if self.outcome is not None and allowed is not None and self.outcome not in allowed:
            names = ", ".join(sorted(o.value for o in allowed))
            problems.append(
                Problem(
                    "outcome",
                    self.outcome.value,
                    f"cannot come of a {self.kind.value}: one of {names}",
                )
            )
        return problems

    @property
    def related_ids(self) -> tuple[uuid.UUID, ...]:
        """The ids of every record the activity relates to."""
        return tuple(i for i in (self.contact_id, self.company_id, self.deal_id, self.lead_id) if i)
