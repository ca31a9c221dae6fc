"""Follow-up tasks on every adapter: due in business time, done as activities, listed in SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Company, Contact, FixedClock, Task
from crmkit.conditions import BusinessCalendar
from crmkit.errors import ValidationError
from crmkit.segments import parse
from crmkit.work import (
    cancel,
    complete,
    due_today,
    follow_up,
    mark_reminded,
    open_tasks,
    overdue,
    reassign,
    reminders_due,
    snooze,
    tasks_for,
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
        completion = complete(uow, uow.tasks.get(task.id), note="left a voicemail")
    done, activity = completion.task, completion.activity
    assert completion.next_task is None
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


HOUR = dt.timedelta(hours=1)


def test_reminders_due_between_two_instants_meet_their_boundaries(store, person):
    """Due Monday 11:00 with reminders a day and an hour before: Sunday 11:00 (the offset
    is wall time, not business time) and Monday 10:00, each in ``[start, end)``."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call", due_in=4 * HOUR, reminders=[HOUR, 24 * HOUR])
        follow_up(uow, person, "No reminder", due_in=4 * HOUR)
    first = dt.datetime(2026, 11, 29, 11, tzinfo=dt.UTC)
    assert task.due_at == dt.datetime(2026, 11, 30, 11, tzinfo=dt.UTC)
    assert (task.reminders, task.next_reminder_at) == ((24 * HOUR, HOUR), first)
    with store.unit_of_work(readonly=True) as uow:
        assert [t.id for t in reminders_due(uow, first, first + MICRO)] == [task.id]
        assert reminders_due(uow, first - HOUR, first) == []  # the end is excluded
        assert reminders_due(uow, first + MICRO, first + HOUR) == []  # the start included
        assert [t.id for t in reminders_due(uow, first, first + MICRO, "anna")] == []
    with store.unit_of_work() as uow:
        marked = mark_reminded(uow, uow.tasks.get(task.id), at=first + MICRO)
    second = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    assert (marked.reminded_at, marked.next_reminder_at) == (first + MICRO, second)
    with store.unit_of_work(readonly=True) as uow:
        assert reminders_due(uow, first, second) == []  # delivered once, never again
        assert [t.id for t in reminders_due(uow, second, second + MICRO)] == [task.id]
        stored = uow.tasks.get(task.id)
        assert (stored.reminders, stored.next_reminder_at) == ((24 * HOUR, HOUR), second)
    with store.unit_of_work() as uow:
        last = mark_reminded(uow, uow.tasks.get(task.id), at=second)
    assert last.next_reminder_at is None  # both spent
    with store.unit_of_work(readonly=True) as uow:
        assert reminders_due(uow, first, task.due_at + HOUR) == []


def test_a_snoozed_task_reminds_again_and_a_done_one_never(store, person):
    """Snoozing moves the reminders after the last delivery; completing clears them."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call", due_in=4 * HOUR, reminders=[HOUR])
        task = mark_reminded(uow, task, at=dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC))
        assert task.next_reminder_at is None
        task = snooze(uow, task, 2 * HOUR)  # due Monday 13:00: remind at 12:00
        assert task.next_reminder_at == dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
        done = complete(uow, task).task
    assert done.next_reminder_at is None
    with store.unit_of_work(readonly=True) as uow:
        assert reminders_due(uow, FRIDAY_15, FRIDAY_15 + 10 * 24 * HOUR) == []
        with pytest.raises(ValidationError, match="already done"):
            mark_reminded(uow, done)


def test_a_recurring_task_continues_in_the_assignees_wall_clock_time(store, person):
    """Every Monday at 09:00 Berlin time: 08:00 UTC in winter, 07:00 after the clocks go
    forward (2027-03-28); COUNT counts down; a late completion skips the missed Mondays
    and so ends a counted series."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    monday = dt.datetime(2027, 3, 22, 8, tzinfo=dt.UTC)
    clock.set(monday + HOUR / 2)
    with store.unit_of_work() as uow:
        uow.calendars.save("anna", BusinessCalendar(time_zone="Europe/Berlin"))
        first = uow.tasks.add(
            Task.create(
                title="Pipeline review",
                due_at=monday,
                assignee="anna",
                contact_id=person.id,
                reminders=[HOUR],
                recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
                clock=clock,
            )
        )
        assert first.recurrence == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
        second = complete(uow, first).next_task
    assert second is not None
    assert second.due_at == dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC)
    assert second.recurrence == "FREQ=WEEKLY;BYDAY=MO;COUNT=2"
    assert (second.title, second.assignee, second.contact_id, second.reminders) == (
        "Pipeline review",
        "anna",
        person.id,
        (HOUR,),
    )
    assert second.next_reminder_at == dt.datetime(2027, 3, 29, 6, tzinfo=dt.UTC)
    assert second.status.value == "open"
    clock.set(dt.datetime(2027, 4, 14, 9, tzinfo=dt.UTC))  # April 5 and 12 missed
    with store.unit_of_work() as uow:
        ended = complete(uow, uow.tasks.get(second.id))
    assert ended.next_task is None  # April 5 was the last of three
    with store.unit_of_work(readonly=True) as uow:
        assert [t.title for t in open_tasks(uow, "anna")] == []
        assert uow.tasks.count() == 2


def test_a_late_weekly_task_continues_on_the_next_monday_after_now(store, person):
    """No COUNT: completed on Wednesday 2027-04-14, the next is Monday 2027-04-19 07:00 UTC."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    clock.set(dt.datetime(2027, 4, 14, 9, tzinfo=dt.UTC))
    with store.unit_of_work() as uow:
        uow.calendars.save("anna", BusinessCalendar(time_zone="Europe/Berlin"))
        task = uow.tasks.add(
            Task.create(
                title="Review",
                due_at=dt.datetime(2027, 3, 22, 8, tzinfo=dt.UTC),
                assignee="anna",
                recurrence="FREQ=WEEKLY;BYDAY=MO",
                clock=clock,
            )
        )
        completion = complete(uow, task)
    following = completion.next_task
    assert completion.activity is None  # a task on no record logs no activity
    assert following is not None
    assert (following.due_at, following.recurrence) == (
        dt.datetime(2027, 4, 19, 7, tzinfo=dt.UTC),
        "FREQ=WEEKLY;BYDAY=MO",
    )


def test_a_completion_that_fails_later_in_its_unit_of_work_writes_nothing(store, person):
    """The task done, its activity and its successor are one unit: an error after them
    rolls all three back."""
    with store.unit_of_work() as uow:
        task = follow_up(uow, person, "Call", due_in_days=1, recurrence="FREQ=DAILY")

    def complete_then_fail() -> None:
        with store.unit_of_work() as uow:
            assert complete(uow, uow.tasks.get(task.id)).next_task is not None
            raise RuntimeError("the app failed after completing")

    with pytest.raises(RuntimeError):
        complete_then_fail()
    with store.unit_of_work(readonly=True) as uow:
        assert [t.id for t in open_tasks(uow)] == [task.id]
        assert (uow.tasks.count(), uow.activities.count()) == (1, 0)


def test_tasks_for_one_record_and_bad_reminders(store, person):
    """`tasks_for` lists one record's (open) tasks; bad reminders and rules are refused by
    field and position, and nothing is stored."""
    with store.unit_of_work() as uow:
        company = uow.companies.get(person.company_id)
        on_person = follow_up(uow, person, "Call", due_in_days=1)
        on_company = follow_up(uow, company, "Audit", due_in_days=2)
        done = follow_up(uow, person, "Old", due_in_days=1)
        complete(uow, done)
        assert [t.id for t in tasks_for(uow, person)] == [on_person.id]
        assert {t.id for t in tasks_for(uow, person, open_only=False)} == {
            on_person.id,
            done.id,
        }
        # the person's task names their company too
        assert [t.id for t in tasks_for(uow, company)] == [on_person.id, on_company.id]
        with pytest.raises(ValidationError) as caught:
            tasks_for(uow, on_person)
        assert caught.value.fields == ("record",)
        with pytest.raises(ValidationError) as caught:
            follow_up(uow, person, "x", due_in_days=1, reminders=[HOUR, -HOUR])
        assert caught.value.fields == ("reminders[1]",)
        with pytest.raises(ValidationError) as caught:
            follow_up(uow, person, "x", due_in_days=1, recurrence="FREQ=HOURLY")
        assert caught.value.fields == ("recurrence",)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.tasks.count() == 3
