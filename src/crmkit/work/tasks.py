"""Follow-ups nobody forgets: task services over a unit of work, and the lists each app shows.

- `follow_up(uow, record, "Call back", due_in_days=2, assignee="anna")`: a task on any
  contact, company, deal or lead, due in business time counted in the assignee's calendar
  (the stored calendar named like the assignee, else the store's own);
- `complete` (the task done, an activity logged on its records so scoring and segments
  see it, and the next task of a recurring series created), `cancel`, `snooze` (due later
  by business time), `reassign` (history keeps who had it), `mark_reminded` (the reminders
  up to now are delivered);
- `open_tasks`, `due_today` (in the assignee's time zone), `overdue`, `reminders_due`
  (between two instants) and `tasks_for` (one record's): segments on tasks, so SQLite and
  PostgreSQL answer them in the database, through the task indexes.

Every service is one update (or add) in the caller's unit of work: all or nothing with
whatever else it does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.tree import Condition, F
from crmkit.errors import ValidationError
from crmkit.model.activity import Activity
from crmkit.model.entity import Entity
from crmkit.model.task import Task
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import check_text, check_whole_number, require_attributes
from crmkit.values.enums import TaskStatus
from crmkit.values.recurrence import next_occurrence
from crmkit.values.temporal import require_instant
from crmkit.work.calendar import BusinessTime

__all__ = [
    "Completion",
    "calendar_of",
    "cancel",
    "complete",
    "due_today",
    "follow_up",
    "mark_reminded",
    "open_tasks",
    "overdue",
    "reassign",
    "reminders_due",
    "snooze",
    "tasks_for",
]

_LINKS = {"contact": "contact_id", "company": "company_id", "deal": "deal_id", "lead": "lead_id"}
_LIST_PAGE = 10_000
_OPEN = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value, TaskStatus.WAITING.value)


def calendar_of(uow: UnitOfWork, person: str | None) -> BusinessCalendar:
    """The stored calendar named like `person`, else the store's own."""
    _check_uow(uow)
    if person is not None and person in uow.calendars:
        return uow.calendars.get(person)
    return uow.business_calendar


def follow_up(
    uow: UnitOfWork,
    record: Entity,
    title: str,
    *,
    due_in: dt.timedelta | None = None,
    due_in_days: int | None = None,
    assignee: str | None = None,
    priority: str = "medium",
    notes: str | None = None,
    reminders: Iterable[dt.timedelta] = (),
    recurrence: str | None = None,
) -> Task:
    """Add a follow-up task on `record`, due in business time, and return it.

    Args:
        uow: A writing unit of work.
        record: The stored contact, company, deal or lead it is about.
        title: What to do ("Call back").
        due_in: Working time until it is due ("4 business hours").
        due_in_days: Business days until it is due (the same wall-clock time then).
        assignee: Who does it; their stored calendar (by name) counts the time.
        priority: high, medium or low.
        notes: Free text.
        reminders: Offsets before the due time to remind the assignee at
            (``[timedelta(hours=1)]``).
        recurrence: An RFC 5545 ``RRULE`` ("FREQ=WEEKLY;BYDAY=MO"): completing the task
            creates the next one, in the assignee calendar's wall-clock time.

    Raises:
        ValidationError: For a record of another kind, both or neither of `due_in` and
            `due_in_days`, or task fields that are not valid.
    """
    _check_uow(uow)
    link = _link_of(record)
    if (due_in is None) == (due_in_days is None):
        raise ValidationError.single("due_in", due_in, "give one of due_in and due_in_days")
    now = uow.clock.now()
    business = BusinessTime(calendar_of(uow, assignee))
    if due_in_days is not None:
        due = business.add_days(now, check_whole_number(due_in_days, "due_in_days", minimum=0))
    else:
        due = business.add(now, due_in)  # type: ignore[arg-type]
    links = {link: record.id}
    company_id = getattr(record, "company_id", None)  # a contact's, deal's or lead's company
    if company_id is not None:
        links["company_id"] = company_id
    task = Task.create(
        title=title,
        due_at=due,
        priority=priority,
        assignee=assignee,
        notes=notes,
        reminders=reminders,
        recurrence=recurrence,
        clock=uow.clock,
        **links,  # type: ignore[arg-type]
    )
    return uow.tasks.add(task)


@attrs.frozen
class Completion:
    """What completing a task wrote.

    Attributes:
        task: The task, done.
        activity: The ``note`` activity logged on its records (None for a task on no
            record: an activity needs one).
        next_task: The next task of its recurring series, or None (no rule, or the series
            has ended).
    """

    task: Task
    activity: Activity | None
    next_task: Task | None = None


def complete(uow: UnitOfWork, task: Task, *, note: str | None = None) -> Completion:
    """Mark a task done, log it as an activity on its records and continue its series.

    The activity (kind ``note``, outcome ``completed``, "Done: <title>: <note>") goes on
    the contact, company, deal and lead the task names; a task on no record logs none.

    A task with a `recurrence` rule gets its successor in the same unit of work: the same
    title, assignee, records, priority, notes and reminders, due at the rule's next
    occurrence after both its due time and now (occurrences missed while it was late are
    skipped), read in the assignee calendar's wall-clock time.

    Raises:
        ValidationError: When the task is already done or cancelled.
    """
    _check_uow(uow)
    _check_open(task)
    subject = f"Done: {task.title}"
    if note is not None:
        subject += f": {check_text(note, 'note')}"
    now = uow.clock.now()
    # The activity is built (and so checked) before the task changes: a refusal writes nothing.
    activity = None
    if any(getattr(task, link) is not None for link in _LINKS.values()):
        activity = Activity.create(
            kind="note",
            outcome="completed",
            occurred_at=now,
            subject=subject[:500],
            contact_id=task.contact_id,
            company_id=task.company_id,
            deal_id=task.deal_id,
            lead_id=task.lead_id,
            owner=task.assignee,
            clock=uow.clock,
        )
    successor = _successor(uow, task, now)
    done = uow.tasks.update(task.changed(status=TaskStatus.DONE, completed_at=now))
    logged = None if activity is None else uow.activities.add(activity)
    return Completion(done, logged, None if successor is None else uow.tasks.add(successor))


def _successor(uow: UnitOfWork, task: Task, now: dt.datetime) -> Task | None:
    """The next task of a recurring series (built, not stored), or None."""
    if task.recurrence is None or task.due_at is None:
        return None
    zone = calendar_of(uow, task.assignee).time_zone
    found = next_occurrence(task.recurrence, task.due_at, zone, after=now)
    if found is None:
        return None
    due, rule = found
    return Task.create(
        title=task.title,
        due_at=due,
        priority=task.priority,
        assignee=task.assignee,
        notes=task.notes,
        contact_id=task.contact_id,
        company_id=task.company_id,
        deal_id=task.deal_id,
        lead_id=task.lead_id,
        reminders=task.reminders,
        recurrence=rule,
        custom=task.custom,
        clock=uow.clock,
    )


def mark_reminded(uow: UnitOfWork, task: Task, *, at: dt.datetime | None = None) -> Task:
    """Record that the task's reminders up to `at` (now by default) were delivered.

    Its `next_reminder_at` moves to the next reminder after `at`, or None when none is
    left: a scheduler that delivers what `reminders_due` returns and marks each one never
    delivers a reminder twice, and one that was down delivers one catch-up reminder, not a
    burst.

    Raises:
        ValidationError: When the task is done or cancelled.
    """
    _check_uow(uow)
    _check_open(task)
    when = uow.clock.now() if at is None else require_instant(at, "at")
    return uow.tasks.update(task.changed(reminded_at=when))


def cancel(uow: UnitOfWork, task: Task, *, reason: str | None = None) -> Task:
    """Cancel an open task (the reason goes to its notes).

    Raises:
        ValidationError: When the task is already done or cancelled.
    """
    _check_uow(uow)
    _check_open(task)
    notes = task.notes
    if reason is not None:
        reason = check_text(reason, "reason")
        notes = f"{notes}\nCancelled: {reason}" if notes else f"Cancelled: {reason}"
    return uow.tasks.update(task.changed(status=TaskStatus.CANCELLED, notes=notes))


def snooze(uow: UnitOfWork, task: Task, by: dt.timedelta) -> Task:
    """Move an open task's due time later by `by` of working time (from now if overdue).

    Raises:
        ValidationError: When the task is done or cancelled, or `by` is not a timedelta.
    """
    _check_uow(uow)
    _check_open(task)
    now = uow.clock.now()
    start = now if task.due_at is None or task.due_at < now else task.due_at
    due = BusinessTime(calendar_of(uow, task.assignee)).add(start, by)
    return uow.tasks.update(task.changed(due_at=due))


def reassign(uow: UnitOfWork, task: Task, assignee: str) -> Task:
    """Give an open task to someone else (its history keeps the previous assignee).

    Raises:
        ValidationError: When the task is done or cancelled, or `assignee` is blank.
    """
    _check_uow(uow)
    _check_open(task)
    return uow.tasks.update(task.changed(assignee=check_text(assignee, "assignee")))


def open_tasks(uow: UnitOfWork, assignee: str | None = None) -> list[Task]:
    """Return the open tasks (of one assignee), by due time (undated last)."""
    return _sorted(uow, _open_condition(assignee))


def due_today(
    uow: UnitOfWork, assignee: str | None = None, *, now: dt.datetime | None = None
) -> list[Task]:
    """Return the open tasks due on today's date in the assignee's calendar (overdue ones too).

    "Today" is the calendar day of `now` (the store's clock by default) in the time zone of
    the assignee's stored calendar, else the store's.
    """
    _check_uow(uow)
    at = uow.clock.now() if now is None else require_instant(now, "now")
    calendar = calendar_of(uow, assignee)
    end = calendar.start_of_day(calendar.today(at) + dt.timedelta(days=1))
    return _sorted(uow, _open_condition(assignee) & (F("due_at") < end))


def overdue(
    uow: UnitOfWork, assignee: str | None = None, *, now: dt.datetime | None = None
) -> list[Task]:
    """Return the open tasks whose due time has passed."""
    _check_uow(uow)
    at = uow.clock.now() if now is None else require_instant(now, "now")
    return _sorted(uow, _open_condition(assignee) & (F("due_at") < at))


def reminders_due(
    uow: UnitOfWork, start: dt.datetime, end: dt.datetime, assignee: str | None = None
) -> list[Task]:
    """Return the open tasks whose next reminder falls in ``[start, end)``, soonest first.

    A scheduler asks for ``(last run, now]``-style windows; reminders already marked
    delivered (`mark_reminded`) are not returned again.
    """
    _check_uow(uow)
    start = require_instant(start, "start")
    end = require_instant(end, "end")
    condition = (F("next_reminder_at") >= start) & (F("next_reminder_at") < end)
    if assignee is not None:
        condition = condition & (F("assignee") == check_text(assignee, "assignee"))
    found = list(uow.tasks.find(condition, batch_size=_LIST_PAGE))
    return sorted(found, key=lambda t: (t.next_reminder_at, t.id))


def tasks_for(uow: UnitOfWork, record: Entity, *, open_only: bool = True) -> list[Task]:
    """Return the tasks on one contact, company, deal or lead, by due time (undated last).

    Raises:
        ValidationError: For a record of another kind.
    """
    _check_uow(uow)
    link = _link_of(record)
    condition: Condition = F(link) == record.id
    if open_only:
        condition = condition & F("status").is_in(_OPEN)
    return _sorted(uow, condition)


def _link_of(record: object) -> str:
    link = _LINKS.get(getattr(record, "KIND", ""))
    if link is None or not isinstance(record, Entity):
        raise ValidationError.single("record", record, "is not a contact, company, deal or lead")
    return link


def _open_condition(assignee: str | None) -> Condition:
    condition: Condition = F("status").is_in(_OPEN)
    if assignee is not None:
        condition = condition & (F("assignee") == check_text(assignee, "assignee"))
    return condition


def _check_uow(uow: object) -> None:
    require_attributes(uow, "uow", ("tasks", "calendars", "clock"), "a UnitOfWork")


def _sorted(uow: UnitOfWork, condition: Condition) -> list[Task]:
    _check_uow(uow)
    # One page for any list a person reads: each keyset page re-reads and re-sorts the
    # matching rows by id (two pages of a 1,400-task list cost 4x the hand-written query).
    found = list(uow.tasks.find(condition, batch_size=_LIST_PAGE))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda t: (t.due_at or far, t.id))


def _check_open(task: object) -> None:
    if not isinstance(task, Task):
        raise ValidationError.single("task", task, "is not a Task")
    if task.status not in _OPEN:
        raise ValidationError.single("task", task.status.value, "is already done or cancelled")
