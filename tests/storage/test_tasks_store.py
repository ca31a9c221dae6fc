"""Follow-up tasks on every adapter: due in business time, done as activities, listed in SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Company, Contact, FixedClock
from crmkit.conditions import BusinessCalendar
from crmkit.errors import ValidationError
from crmkit.segments import parse
from crmkit.work import (
    cancel,
    complete,
    due_today,
    follow_up,
    open_tasks,
    overdue,
    reassign,
    snooze,
)

FRIDAY_15 = dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC)  # the store's calendar is UTC
MICRO = dt.timedelta(microseconds=1)


@pytest.fixture
def person(store):
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    clock.set(FRIDAY_15)
    with store.unit_of_work() as uow:
        company = uow.companies.add(Company.create(name="Acme", clock=clock))
        return uow.contacts.add(
            Contact.create(first_name="Ada", company_id=company.id, clock=clock)
        )


def test_a_follow_up_is_due_in_business_time(store, person):
    """Friday 15:00: 2 business days is Tuesday 15:00, 4 business hours Monday 11:00."""
    with store.unit_of_work() as uow:
        days = follow_up(uow, person, "Call back", due_in_days=2, assignee="anna")
        hours = follow_up(uow, person, "Send deck", due_in=dt.timedelta(hours=4))
    assert days.due_at == dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    assert hours.due_at == dt.datetime(2026, 11, 30, 11, tzinfo=dt.UTC)
    assert (days.contact_id, days.company_id, days.assignee) == (
        person.id,
        person.company_id,
        "anna",
    )


def test_the_assignees_stored_calendar_counts_their_time(store, person):
    """anna works 13:00-21:00 UTC: 4 hours from Friday 15:00 is Friday 19:00."""
    with store.unit_of_work() as uow:
        uow.calendars.save(
            "anna", BusinessCalendar(working_hours=dict.fromkeys(("mon", "fri"), "13:00-21:00"))
        )
        task = follow_up(uow, person, "Call", due_in=dt.timedelta(hours=4), assignee="anna")
    assert task.due_at == dt.datetime(2026, 11, 27, 19, tzinfo=dt.UTC)


def test_lists_of_open_due_today_and_overdue_tasks_meet_their_boundaries(store, person):
    """Due at an instant: not overdue then, overdue a microsecond later; today ends at midnight."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    with store.unit_of_work() as uow:
        soon = follow_up(uow, person, "Soon", due_in=dt.timedelta(hours=1), assignee="anna")
        later = follow_up(uow, person, "Monday", due_in_days=1, assignee="anna")
        other = follow_up(uow, person, "Ben's", due_in=dt.timedelta(hours=1), assignee="ben")
    with store.unit_of_work(readonly=True) as uow:
        assert [t.id for t in open_tasks(uow, "anna")] == [soon.id, later.id]
        # Ties on the due time go by id (the order they were made).
        assert [t.id for t in open_tasks(uow)] == [soon.id, other.id, later.id]
        assert [t.id for t in due_today(uow, "anna")] == [soon.id]
        assert overdue(uow, "anna", now=soon.due_at) == []
        assert [t.id for t in overdue(uow, "anna", now=soon.due_at + MICRO)] == [soon.id]
    clock.set(dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC))  # Monday
    with store.unit_of_work(readonly=True) as uow:
        assert [t.id for t in due_today(uow, "anna")] == [soon.id, later.id]
        assert [t.id for t in overdue(uow, "anna")] == [soon.id, later.id]


def test_completing_a_task_logs_an_activity_the_facts_see(store, person):
    """Done: the task closes and the contact and company each count one more activity."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call back", due_in_days=1, assignee="anna")
    with store.unit_of_work() as uow:
        done, activity = complete(uow, uow.tasks.get(task.id), note="left a voicemail")
    assert (done.status.value, done.completed_at) == ("done", FRIDAY_15)
    assert activity.subject == "Done: Call back: left a voicemail"
    assert (activity.contact_id, activity.company_id, activity.owner) == (
        person.id,
        person.company_id,
        "anna",
    )
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.facts(person.id).activity_count == 1
        assert uow.companies.facts(person.company_id).activity_count == 1
        assert uow.contacts.count(parse("activity_count >= 1")) == 1
        assert open_tasks(uow) == []
        with pytest.raises(ValidationError, match="already done"):
            complete(uow, uow.tasks.get(task.id))


def test_snooze_reassign_and_cancel(store, person):
    """Snoozed by working time, reassigned with history, cancelled with the reason noted."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call", due_in=dt.timedelta(hours=1), assignee="anna")
        task = snooze(uow, task, dt.timedelta(hours=2))  # 16:00 + 2 h: Monday 10:00
        assert task.due_at == dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
        task = reassign(uow, task, "ben")
        cancelled = cancel(uow, task, reason="customer bought elsewhere")
    assert cancelled.status.value == "cancelled"
    assert cancelled.notes == "Cancelled: customer bought elsewhere"
    change = store.history(task.id)[-2].change("assignee")
    assert (change.old, change.new) == ("anna", "ben")
    with store.unit_of_work() as uow, pytest.raises(ValidationError):
        snooze(uow, uow.tasks.get(task.id), dt.timedelta(hours=1))


def test_bad_follow_ups_are_typed_errors_and_store_nothing(store, person):
    """Neither or both due forms, a task on a task, a bad priority: refused, nothing added."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            follow_up(uow, person, "Call")
        assert caught.value.fields == ("due_in",)
        with pytest.raises(ValidationError):
            follow_up(uow, person, "Call", due_in=dt.timedelta(hours=1), due_in_days=1)
        task = follow_up(uow, person, "Call", due_in_days=1)
        with pytest.raises(ValidationError) as caught:
            follow_up(uow, task, "On a task", due_in_days=1)
        assert caught.value.fields == ("record",)
        with pytest.raises(ValidationError) as caught:
            follow_up(uow, person, "Call", due_in_days=1, priority="urgent!")
        assert caught.value.fields == ("priority",)
        with pytest.raises(ValidationError):
            follow_up(uow, person, "Call", due_in_days=-1)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.tasks.count() == 1


def test_a_refused_completion_leaves_the_task_open(store, person):
    """A note that cannot be stored (NUL) is refused, as the activity's subject, before the
    task is touched."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call back", due_in_days=1)
        with pytest.raises(ValidationError) as caught:
            complete(uow, task, note="bad\x00note")
        assert caught.value.fields == ("subject",)
        assert uow.tasks.get(task.id).status.value == "open"
        assert uow.activities.count() == 0
