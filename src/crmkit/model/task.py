"""Tasks: follow-ups someone has to do (call back, send the proposal), with a due time.

A task may carry reminders (offsets before its due time) and a recurrence rule (RFC 5545).
`next_reminder_at` is derived, never given: the earliest reminder still to deliver (after
`reminded_at`) while the task is open, so a store can index it and a scheduler can ask for
the reminders due between two instants.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    ProblemCollector,
    optional_instant,
    parse_duration,
    parse_enum,
    parse_ref,
    parse_text,
    parse_user,
    required_text,
)
from crmkit.values.enums import Priority, TaskStatus
from crmkit.values.recurrence import check_recurrence

__all__ = ["MAX_REMINDERS", "MAX_REMINDER_OFFSET", "Task", "next_reminder"]

_priority = parse_enum(Priority)
_status = parse_enum(TaskStatus)

MAX_REMINDERS = 10
"""The most reminders one task may carry."""

MAX_REMINDER_OFFSET = dt.timedelta(days=366)
"""The furthest before its due time a reminder may be."""

_CLOSED = frozenset({TaskStatus.DONE, TaskStatus.CANCELLED})
_REMINDER_INPUTS = frozenset({"due_at", "reminders", "reminded_at", "status"})


def _parse_reminders(value: object, field: str) -> tuple[dt.timedelta, ...]:
    """Offsets before the due time (timedeltas or seconds): unique, earliest reminder first."""
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValidationError.single(field, value, "is not a list of offsets before the due time")
    offsets: set[dt.timedelta] = set()
    collector = ProblemCollector()
    for position, item in enumerate(value):
        name = f"{field}[{position}]"
        offset = collector.parse(parse_duration, item, name)
        if offset is None:
            if item is None:
                collector.add(name, item, "is not a duration (timedelta or seconds)")
            continue
        if offset > MAX_REMINDER_OFFSET:
            collector.add(name, item, f"is more than {MAX_REMINDER_OFFSET.days} days before due")
            continue
        offsets.add(offset)
        if len(offsets) > MAX_REMINDERS:
            collector.add(field, value, f"has more than {MAX_REMINDERS} reminders")
            break
    collector.raise_if_any()
    return tuple(sorted(offsets, reverse=True))


def next_reminder(
    due_at: dt.datetime | None,
    reminders: tuple[dt.timedelta, ...],
    reminded_at: dt.datetime | None,
    status: TaskStatus,
) -> dt.datetime | None:
    """The earliest reminder instant after `reminded_at`, while the task is open; else None.

    Reminders are at ``due_at - offset``; `reminded_at` is when they were last delivered,
    so every reminder at or before it is spent.
    """
    if due_at is None or status in _CLOSED:
        return None
    for offset in reminders:  # largest offset first: earliest instant first
        at = due_at - offset
        if reminded_at is None or at > reminded_at:
            return at
    return None


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
        reminders: Offsets before `due_at` at which to remind the assignee, earliest first.
        reminded_at: When reminders were last delivered (every reminder up to it is spent).
        next_reminder_at: Derived: the next reminder to deliver, None when none is left or
            the task is done or cancelled.
        recurrence: An RFC 5545 ``RRULE`` ("FREQ=WEEKLY;BYDAY=MO"): when the task is
            completed, the next one in the series is created (see `crmkit.work.complete`).
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
    reminders: tuple[dt.timedelta, ...] = ()
    reminded_at: dt.datetime | None = None
    next_reminder_at: dt.datetime | None = None
    recurrence: str | None = None

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
        "reminders": _parse_reminders,
        "reminded_at": optional_instant,
        "recurrence": check_recurrence,
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"title"})

    @classmethod
    def _coerce(
        cls, values: dict[str, Any], collector: ProblemCollector, current: Task | None
    ) -> dict[str, Any]:
        if "next_reminder_at" in values:
            values = dict(values)
            collector.add(
                "next_reminder_at",
                values.pop("next_reminder_at"),
                "is derived from due_at, reminders and reminded_at",
            )
        out = super()._coerce(values, collector, current)
        if current is None or not _REMINDER_INPUTS.isdisjoint(out):

            def now(name: str, default: Any) -> Any:
                value = out[name] if name in out else getattr(current, name, default)
                return default if value is None else value  # None: absent or refused

            out["next_reminder_at"] = next_reminder(
                out.get("due_at") if "due_at" in out else getattr(current, "due_at", None),
                now("reminders", ()),
                out.get("reminded_at")
                if "reminded_at" in out
                else getattr(current, "reminded_at", None),
                now("status", TaskStatus.OPEN),
            )
        return out

    def _problems(self) -> list[Problem]:
        problems = []
        if self.due_at is None:
            if self.reminders:
                problems.append(
                    Problem("reminders", self.reminders, "need a due_at to count back from")
                )
            if self.recurrence is not None:
                problems.append(
                    Problem("recurrence", self.recurrence, "needs a due_at to start the series")
                )
        return problems

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
        reminders: Iterable[dt.timedelta | int] = (),
        recurrence: str | None = None,
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
            reminders: Offsets before `due_at` to remind at (timedeltas or seconds; at most
                10, each at most 366 days); needs `due_at`.
            recurrence: An RFC 5545 ``RRULE`` (at most daily); needs `due_at`, where the
                series starts.
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
            "reminders": reminders,
            "recurrence": recurrence,
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
        open_ = self.status not in _CLOSED
        return open_ and self.due_at is not None and self.due_at < now
