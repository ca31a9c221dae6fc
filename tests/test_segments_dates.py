"""Relative dates: resolved once from the clock and the business calendar, never per row."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmkit import SegmentError
from crmkit.conditions import (
    After,
    Before,
    BusinessCalendar,
    F,
    InPeriod,
    MoreThanAgo,
    WithinLast,
    compile_predicate,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=UTC)  # a Thursday, in fiscal Q1 from April
BERLIN = BusinessCalendar("Europe/Berlin", 4)


def instants(bounds):
    return bounds.start, bounds.end


def test_within_starts_at_the_start_of_the_day_and_ends_now():
    bounds = WithinLast("x", 30, "days").bounds(NOW, BusinessCalendar())
    assert bounds.start == dt.datetime(2026, 4, 14, tzinfo=UTC)
    assert bounds.end == NOW + dt.timedelta(microseconds=1)
    assert (bounds.start_day, bounds.end_day) == (dt.date(2026, 4, 14), dt.date(2026, 5, 15))
    assert WithinLast("x", 0, "day").bounds(NOW, BusinessCalendar()).start == dt.datetime(
        2026, 5, 14, tzinfo=UTC
    )


def test_days_start_in_the_calendar_time_zone_even_across_daylight_saving():
    berlin = WithinLast("x", 1, "day").bounds(NOW, BERLIN)
    assert berlin.start == dt.datetime(2026, 5, 12, 22, tzinfo=UTC)  # CEST: UTC+2
    march = dt.datetime(2026, 3, 30, 12, tzinfo=UTC)  # the day after the clocks moved
    assert WithinLast("x", 2, "days").bounds(march, BERLIN).start == dt.datetime(
        2026,
        3,
        27,
        23,
        tzinfo=UTC,  # 28 March, still CET: UTC+1
    )
    late = dt.datetime(2026, 5, 14, 23, 30, tzinfo=UTC)  # already the 15th in Berlin
    assert BERLIN.today(late) == dt.date(2026, 5, 15)


def test_fiscal_quarters_and_years_follow_the_fiscal_year_start():
    this = InPeriod("x", "this", "quarter").bounds(NOW, BERLIN)
    assert (this.start_day, this.end_day) == (dt.date(2026, 4, 1), dt.date(2026, 7, 1))
    assert this.start == dt.datetime(2026, 3, 31, 22, tzinfo=UTC)
    last = InPeriod("x", "last", "quarter").bounds(NOW, BERLIN)
    assert (last.start_day, last.end_day) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    year = InPeriod("x", "this", "year").bounds(NOW, BERLIN)
    assert (year.start_day, year.end_day) == (dt.date(2026, 4, 1), dt.date(2027, 4, 1))
    calendar_q = InPeriod("x", "last", "quarter").bounds(NOW, BusinessCalendar())
    assert (calendar_q.start_day, calendar_q.end_day) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    week = InPeriod("x", "this", "week").bounds(NOW, BusinessCalendar())
    assert (week.start_day, week.end_day) == (dt.date(2026, 5, 11), dt.date(2026, 5, 18))
    month = InPeriod("x", "last", "month").bounds(NOW, BusinessCalendar())
    assert (month.start_day, month.end_day) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))


def test_months_clamp_at_month_ends():
    end_of_march = dt.datetime(2026, 3, 31, 12, tzinfo=UTC)
    bounds = WithinLast("x", 1, "month").bounds(end_of_march, BusinessCalendar())
    assert bounds.start_day == dt.date(2026, 2, 28)


def test_before_and_after_a_day_or_an_instant():
    cal = BusinessCalendar()
    assert instants(Before("x", dt.date(2026, 1, 1)).bounds(NOW, cal)) == (
        None,
        dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    after = After("x", dt.date(2026, 1, 1)).bounds(NOW, cal)
    assert after.start == dt.datetime(2026, 1, 2, tzinfo=UTC)
    assert after.start_day == dt.date(2026, 1, 2)
    moment = dt.datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert After("x", moment).bounds(NOW, cal).start == moment + dt.timedelta(microseconds=1)


@given(
    st.integers(0, 400),
    st.sampled_from(["day", "week", "month", "quarter", "year"]),
    st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 5, 14), timezones=st.just(UTC)),
    st.sampled_from([BusinessCalendar(), BERLIN, BusinessCalendar("America/New_York", 10)]),
)
@example(30, "day", dt.datetime(2026, 4, 14, tzinfo=UTC), BusinessCalendar())
@example(30, "day", dt.datetime(2026, 4, 13, 23, 59, 59, 999_999, tzinfo=UTC), BusinessCalendar())
@example(0, "day", dt.datetime(2026, 5, 13, 22, tzinfo=UTC), BERLIN)
@example(1, "quarter", dt.datetime(2026, 1, 1, tzinfo=UTC), BusinessCalendar())
def test_within_and_more_than_ago_split_the_past_exactly(amount, unit, value, calendar):
    within = compile_predicate(
        F("x").is_not_empty() & WithinLast("x", amount, unit), now=NOW, calendar=calendar
    )
    older = compile_predicate(MoreThanAgo("x", amount, unit), now=NOW, calendar=calendar)

    class R:
        x = value

    assert within(R()) != older(R())


def test_compiled_predicates_resolve_relative_dates_from_now_and_read_dates_and_instants():
    seg = WithinLast("x", 30, "day")

    class R:
        def __init__(self, x):
            self.x = x

    test = compile_predicate(seg, now=NOW)
    assert test(R(NOW - dt.timedelta(days=3)))
    assert test(R(dt.date(2026, 4, 20)))
    assert not test(R(dt.date(2026, 1, 1)))
    assert not test(R(None))
    assert not test(R("2026-05-01"))
    assert compile_predicate(~seg, now=NOW)(R(None))
    later = NOW + dt.timedelta(days=90)
    assert not compile_predicate(seg, now=later)(R(NOW))  # not cached across "now"s


def test_calendar_and_units_are_checked():
    with pytest.raises(SegmentError):
        BusinessCalendar("Mars/Olympus")
    with pytest.raises(SegmentError):
        BusinessCalendar(fiscal_year_start_month=13)
    with pytest.raises(SegmentError):
        WithinLast("x", 3, "fortnight")
    with pytest.raises(SegmentError):
        WithinLast("x", -1, "day")
    assert BusinessCalendar.from_dict(BERLIN.to_dict()) == BERLIN


class _Row:
    def __init__(self, x):
        self.x = x


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (dt.date(2025, 12, 31), True),
        (dt.date(2026, 1, 1), False),
        (dt.datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), True),
        (dt.datetime(2026, 1, 1, tzinfo=UTC), False),
    ],
)
def test_before_a_day_ends_at_the_start_of_that_day_for_dates_and_instants(value, inside):
    """``before 2026-01-01`` holds for the last day and microsecond before it, never on it."""
    test = compile_predicate(Before("x", dt.date(2026, 1, 1)), now=NOW)
    assert test(_Row(value)) is inside


def test_before_a_day_resolves_to_exact_bounds_in_the_calendar_zone():
    """The span ends at the day's start in Berlin (23:00 UTC the evening before) and on that day."""
    bounds = Before("x", dt.date(2026, 1, 1)).bounds(NOW, BERLIN)
    assert (bounds.start, bounds.end, bounds.start_day, bounds.end_day) == (
        None,
        dt.datetime(2025, 12, 31, 23, tzinfo=UTC),
        None,
        dt.date(2026, 1, 1),
    )


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (dt.date(2026, 1, 1), False),
        (dt.date(2026, 1, 2), True),
        (dt.datetime(2026, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC), False),
        (dt.datetime(2026, 1, 2, tzinfo=UTC), True),
    ],
)
def test_after_a_day_starts_at_the_start_of_the_next_day(value, inside):
    """``after 2026-01-01`` leaves that whole day out and takes the next day from its start."""
    test = compile_predicate(After("x", dt.date(2026, 1, 1)), now=NOW)
    assert test(_Row(value)) is inside
