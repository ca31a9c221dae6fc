"""A task's reminders (offsets before due, the next one derived) and its recurrence rule."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import FixedClock, Task, ValidationError
from crmkit.model.task import MAX_REMINDER_OFFSET, MAX_REMINDERS, next_reminder
from crmkit.values.enums import TaskStatus
from crmkit.values.recurrence import check_recurrence, next_occurrence

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MICRO = dt.timedelta(microseconds=1)
CLOCK = FixedClock(NOW)


def task(**fields: object) -> Task:
    return Task.create(title="Call", **{"due_at": DUE, "clock": CLOCK, **fields})  # type: ignore[arg-type]


# -- reminders ----------------------------------------------------------------------------


def test_reminders_are_unique_offsets_earliest_reminder_first():
    """Seconds and timedeltas mix; duplicates go; the largest offset (earliest) comes first."""
    made = task(reminders=[3600, DAY, HOUR, 0])
    assert made.reminders == (DAY, HOUR, dt.timedelta(0))
    assert made.next_reminder_at == DUE - DAY
    assert task().reminders == ()
    assert task().next_reminder_at is None


def test_the_next_reminder_is_the_first_after_the_last_delivery():
    """Delivered at an instant spends the reminders at or before it, not the one after."""
    offsets = (DAY, HOUR)
    assert next_reminder(DUE, offsets, None, TaskStatus.OPEN) == DUE - DAY
    assert next_reminder(DUE, offsets, DUE - DAY - MICRO, TaskStatus.OPEN) == DUE - DAY
    assert next_reminder(DUE, offsets, DUE - DAY, TaskStatus.OPEN) == DUE - HOUR
    assert next_reminder(DUE, offsets, DUE - HOUR - MICRO, TaskStatus.OPEN) == DUE - HOUR
    assert next_reminder(DUE, offsets, DUE - HOUR, TaskStatus.OPEN) is None
    assert next_reminder(None, offsets, None, TaskStatus.OPEN) is None
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.WAITING):
        assert next_reminder(DUE, offsets, None, status) == DUE - DAY
    for status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        assert next_reminder(DUE, offsets, None, status) is None


def test_changing_what_reminders_depend_on_moves_the_next_one():
    """Due later, reminded, reminders replaced, completed: each recomputes it; a title
    change keeps it."""
    made = task(reminders=[HOUR])
    assert made.changed(due_at=DUE + DAY).next_reminder_at == DUE + DAY - HOUR
    assert made.changed(reminded_at=DUE - HOUR).next_reminder_at is None
    assert made.changed(reminders=[2 * HOUR]).next_reminder_at == DUE - 2 * HOUR
    assert made.changed(status="waiting").next_reminder_at == DUE - HOUR
    assert made.changed(title="Call again").next_reminder_at == DUE - HOUR
    assert made.completed(clock=CLOCK).next_reminder_at is None
    assert made.changed(status="cancelled").next_reminder_at is None


def test_bad_reminders_are_refused_by_position_with_every_problem():
    with pytest.raises(ValidationError) as caught:
        task(reminders=[-1, "soon", None, MAX_REMINDER_OFFSET + MICRO])
    assert caught.value.fields == ("reminders[0]", "reminders[1]", "reminders[2]", "reminders[3]")
    assert task(reminders=[MAX_REMINDER_OFFSET]).reminders == (MAX_REMINDER_OFFSET,)
    with pytest.raises(ValidationError, match="more than 10 reminders"):
        task(reminders=range(MAX_REMINDERS + 1))
    assert len(task(reminders=range(MAX_REMINDERS)).reminders) == MAX_REMINDERS
    for bad in (5, "3600", b"x"):
        with pytest.raises(ValidationError) as caught:
            task(reminders=bad)
        assert caught.value.fields == ("reminders",)


def test_reminders_and_a_recurrence_need_a_due_time():
    with pytest.raises(ValidationError) as caught:
        task(due_at=None, reminders=[HOUR], recurrence="FREQ=DAILY")
    assert caught.value.fields == ("reminders", "recurrence")
    with pytest.raises(ValidationError) as caught:
        task(reminders=[HOUR]).changed(due_at=None)
    assert caught.value.fields == ("reminders",)


def test_next_reminder_at_is_derived_never_given():
    with pytest.raises(ValidationError) as caught:
        task().changed(next_reminder_at=DUE)
    assert caught.value.fields == ("next_reminder_at",)


# -- recurrence rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("  RRULE:FREQ=DAILY;INTERVAL=2 ", "FREQ=DAILY;INTERVAL=2"),
        ("rrule:FREQ=MONTHLY;BYDAY=1MO,-1FR", "FREQ=MONTHLY;BYDAY=1MO,-1FR"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        ("FREQ=DAILY;COUNT=10000;INTERVAL=1000", "FREQ=DAILY;COUNT=10000;INTERVAL=1000"),
        ("FREQ=DAILY;UNTIL=20270101T000000Z", "FREQ=DAILY;UNTIL=20270101T000000Z"),
        ("FREQ=DAILY;UNTIL=20270101", "FREQ=DAILY;UNTIL=20270101"),
        ("", None),
        (None, None),
    ],
)
def test_recurrence_rules_accepted(given, kept):
    assert check_recurrence(given) == kept


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("FREQ=HOURLY", "at most daily"),
        ("FREQ=MINUTELY", "at most daily"),
        ("BYDAY=MO", "needs FREQ"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("FREQ=WEEKLY;COLOUR=RED", "not a valid RRULE"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL to be a whole number from 1 to 1000"),
        ("FREQ=DAILY;INTERVAL=1001", "INTERVAL to be a whole number from 1 to 1000"),
        ("FREQ=DAILY;COUNT=0", "COUNT to be a whole number from 1 to 10000"),
        ("FREQ=DAILY;COUNT=10001", "COUNT to be a whole number from 1 to 10000"),
        ("FREQ=DAILY;COUNT=-1", "COUNT"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "must be one RRULE"),
        ("FREQ=DAILY;EXDATE:20260101", "must be one RRULE"),
        ("FREQ=DAILY;" + "BYDAY=MO;" * 200, "longer than 1000"),
        (7, "is not a recurrence rule"),
    ],
)
def test_recurrence_rules_refused_with_the_reason(given, reason):
    with pytest.raises(ValidationError, match=reason) as caught:
        check_recurrence(given)
    assert caught.value.fields == ("recurrence",)


BERLIN = "Europe/Berlin"


def test_next_occurrence_keeps_the_wall_clock_across_daylight_saving():
    """Daily at 09:00 Berlin over the spring change (2027-03-28): 08:00 UTC, then 07:00."""
    due = dt.datetime(2027, 3, 27, 8, tzinfo=dt.UTC)
    assert next_occurrence("FREQ=DAILY", due, BERLIN, after=due) == (
        dt.datetime(2027, 3, 28, 7, tzinfo=dt.UTC),
        "FREQ=DAILY",
    )


def test_next_occurrence_is_strictly_after_the_due_time_and_now():
    due = dt.datetime(2027, 3, 22, 8, tzinfo=dt.UTC)  # Monday 09:00 CET
    weekly = "FREQ=WEEKLY;BYDAY=MO"
    nxt = dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC)
    assert next_occurrence(weekly, due, BERLIN, after=due - DAY)[0] == nxt
    assert next_occurrence(weekly, due, BERLIN, after=nxt - MICRO)[0] == nxt
    assert next_occurrence(weekly, due, BERLIN, after=nxt)[0] == nxt + 7 * DAY


def test_count_counts_down_and_ends_the_series():
    due = dt.datetime(2027, 1, 4, 8, tzinfo=dt.UTC)  # Monday 09:00
    rule = "FREQ=WEEKLY;COUNT=3;BYDAY=MO"
    assert next_occurrence(rule, due, BERLIN, after=due) == (
        due + 7 * DAY,
        "FREQ=WEEKLY;COUNT=2;BYDAY=MO",
    )
    # two weeks late: the second occurrence is spent, the third comes, with COUNT=1
    assert next_occurrence(rule, due, BERLIN, after=due + 8 * DAY) == (
        due + 14 * DAY,
        "FREQ=WEEKLY;COUNT=1;BYDAY=MO",
    )
    assert next_occurrence(rule, due, BERLIN, after=due + 14 * DAY) is None
    assert next_occurrence("FREQ=WEEKLY;COUNT=1", due, BERLIN, after=due) is None


def test_until_in_utc_is_an_instant_and_a_plain_one_is_wall_clock_time():
    """Daily 09:00 Berlin (08:00 UTC): UNTIL 08:00Z includes that day; plain UNTIL 08:59
    (Berlin wall time) excludes it."""
    due = dt.datetime(2027, 1, 4, 8, tzinfo=dt.UTC)
    assert next_occurrence("FREQ=DAILY;UNTIL=20270105T080000Z", due, BERLIN, after=due) == (
        due + DAY,
        "FREQ=DAILY;UNTIL=20270105T080000Z",
    )
    assert next_occurrence("FREQ=DAILY;UNTIL=20270105T075959Z", due, BERLIN, after=due) is None
    assert next_occurrence("FREQ=DAILY;UNTIL=20270105T090000", due, BERLIN, after=due) == (
        due + DAY,
        "FREQ=DAILY;UNTIL=20270105T090000",
    )
    assert next_occurrence("FREQ=DAILY;UNTIL=20270105T085959", due, BERLIN, after=due) is None


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")


@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1)),
    hour=st.integers(8, 18),
    late=st.timedeltas(dt.timedelta(0), dt.timedelta(days=60)),
    weekday=st.sampled_from(("MO", "TU", "WE", "TH", "FR")),
)
def test_a_weekly_series_always_lands_on_its_weekday_at_its_wall_clock_time(
    zone, start, hour, late, weekday
):
    """Whatever the zone, season and lateness: the next due time is the rule's weekday at
    the first due time's wall clock, within a week after the later of due and now."""
    tz = zoneinfo.ZoneInfo(zone)
    days = ("MO", "TU", "WE", "TH", "FR").index(weekday)
    local = start.replace(hour=hour, minute=0, second=0, microsecond=0)
    local += dt.timedelta(days=(days - local.weekday()) % 7)
    due = local.replace(tzinfo=tz).astimezone(dt.UTC)
    after = due + late
    found = next_occurrence(f"FREQ=WEEKLY;BYDAY={weekday}", due, zone, after=after)
    assert found is not None
    nxt = found[0].astimezone(tz)
    assert (nxt.weekday(), nxt.hour, nxt.minute) == (days, hour, 0)
    assert after < found[0] <= after + dt.timedelta(days=7)
