"""Tasks: follow-ups someone has to do (call back, send the proposal), with a due time."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    optional_instant,
    parse_enum,
    parse_ref,
    parse_text,
    parse_user,
    required_text,
)
from crmkit.values.enums import Priority, TaskStatus

__all__ = ["Task"]

_priority = parse_enum(Priority)
_status = parse_enum(TaskStatus)


@attrs.frozen(kw_only=True)
class Task(Entity):
    """A follow-up: what to do, by when, how urgent, who does it, and for which record.

    Attributes:
        title: What to do.
        due_at: When it is due (UTC), if it has a deadline.
        priority: High, medium or low.
        status: Open, in progress, waiting, done or cancelled.
        assignee: The app's user who has to do it.
        notes: Free text.
        contact_id: The person it is about.
        company_id: The company it is about.
        deal_id: The deal it is about.
        lead_id: The lead it is about.
        completed_at: When it was done.
    """

    KIND: ClassVar[str] = "task"

    title: str
    due_at: dt.datetime | None = None
    priority: Priority = Priority.MEDIUM
    status: TaskStatus = TaskStatus.OPEN
    assignee: str | None = None
    notes: str | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    completed_at: dt.datetime | None = None

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "title": required_text,
        "due_at": optional_instant,
        "priority": lambda v, f: _priority(v, f) or Priority.MEDIUM,
        "status": lambda v, f: _status(v, f) or TaskStatus.OPEN,
        "assignee": parse_user,
        "notes": lambda v, f: parse_text(v, f, max_length=100_000),
        "contact_id": parse_ref,
        "company_id": parse_ref,
        "deal_id": parse_ref,
        "lead_id": parse_ref,
        "completed_at": optional_instant,
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"title"})

    @classmethod
    def create(
        cls,
        *,
        title: str,
        due_at: dt.datetime | str | None = None,
        priority: Priority | str = Priority.MEDIUM,
        status: TaskStatus | str = TaskStatus.OPEN,
        assignee: str | None = None,
        notes: str | None = None,
        contact_id: uuid.UUID | str | None = None,
        company_id: uuid.UUID | str | None = None,
        deal_id: uuid.UUID | str | None = None,
        lead_id: uuid.UUID | str | None = None,
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Task:
        """Validate and return a new task (version 0).

        Args:
            title: What to do (required).
            due_at: When it is due.
            priority: High, medium (default) or low.
            status: Open by default.
            assignee: The app's user who has to do it.
            notes: Free text.
            contact_id: The person it is about.
            company_id: The company it is about.
            deal_id: The deal it is about.
            lead_id: The lead it is about.
            custom: Custom field values.
            schema: The task custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem.
        """
        values = {
            "title": title,
            "due_at": due_at,
            "priority": priority,
            "status": status,
            "assignee": assignee,
            "notes": notes,
            "contact_id": contact_id,
            "company_id": company_id,
            "deal_id": deal_id,
            "lead_id": lead_id,
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

    def completed(self, *, clock: Clock | None = None) -> Task:
        """Return the task marked done, stamped with the clock's now."""
        now = resolve_clock(clock).now()
        return self.changed(status=TaskStatus.DONE, completed_at=now, clock=clock)

    def is_overdue(self, now: dt.datetime) -> bool:
        """Whether it is still open past its due time."""
        open_ = self.status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
        return open_ and self.due_at is not None and self.due_at < now
