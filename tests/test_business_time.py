"""Business-time arithmetic equals a minute-by-minute walk of the calendar, across DST.

The reference classifies every minute on its own (its wall-clock time in the zone, through
zoneinfo, against the shifts of its weekday, and its day against the `holidays` package and
the calendar's own dates) and sums. Windows of six days around every DST transition of
Europe/Berlin, America/New_York and Australia/Sydney from 2000 to 2040, plus ordinary windows
and the turns of the year, are walked; random intervals inside them are then checked:
3,000 per zone by default, 35,000 per zone (105,000 in all) with HYPOTHESIS_PROFILE=thorough.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import os
import random
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.conditions import BusinessCalendar
from crmkit.errors import CrmkitError, SegmentError, ValidationError
from crmkit.values.working_hours import WEEKDAYS, WorkingHours
from crmkit.work import BusinessTime

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
# Sunday 01:00-04:00 covers the night clocks change in all three zones; split weekday shifts.
HOURS = {
    "mon": ["08:30-12:00", "13:00-17:30"],
    "tue": ["08:30-12:00", "13:00-17:30"],
    "wed": "08:30-17:30",
    "thu": ["00:00-02:00", "08:30-17:30", "22:00-24:00"],
    "fri": ["08:30-12:00", "12:00-16:00"],
    "sat": ["10:00-14:00", "23:00-24:00"],
    "sun": ["01:00-04:00", "20:00-21:00"],
}
ZONES = {
    "Europe/Berlin": ("DE", "BY"),
    "America/New_York": ("US", "NY"),
    "Australia/Sydney": ("AU", "NSW"),
    # Clocks change at midnight here: a day's instants are not all before the next day's.
    "America/Santiago": ("CL", None),
}
EXTRA_HOLIDAYS = [dt.date(2021, 3, 28), dt.date(2033, 11, 6), dt.date(2010, 10, 3)]
PER_ZONE = 35_000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 3_000


def calendar(zone: str) -> BusinessCalendar:
    country, subdivision = ZONES[zone]
    return BusinessCalendar(
        time_zone=zone,
        working_hours=HOURS,
        holidays=EXTRA_HOLIDAYS,
        holiday_country=country,
        holiday_subdivision=subdivision,
    )


def _transitions(zone: str) -> list[dt.datetime]:
    """Noon UTC of each day whose offset differs from the day before, 2000-2040."""
    tz = ZoneInfo(zone)
    found, day = [], dt.datetime(2000, 1, 1, 12, tzinfo=UTC)
    previous = day.astimezone(tz).utcoffset()
    while day.year < 2041:
        day += dt.timedelta(days=1)
        offset = day.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(day)
        previous = offset
    return found


class Walk:
    """The minute-by-minute reference over one window: prefix sums of open minutes."""

    def __init__(self, zone: str, start: dt.datetime, days: int) -> None:
        country, subdivision = ZONES[zone]
        tz = ZoneInfo(zone)
        shifts = WorkingHours.parse(HOURS).days
        closed = set(EXTRA_HOLIDAYS)
        for year in range(start.year - 1, start.year + 2):
            closed.update(holidays.country_holidays(country, subdiv=subdivision, years=year))
        self.start = start
        self.prefix = [0]
        for k in range(days * 1440):
            wall = (start + k * MINUTE).astimezone(tz)
            minute = wall.hour * 60 + wall.minute
            is_open = wall.date() not in closed and any(
                s <= minute < e for s, e in shifts[wall.weekday()]
            )
            self.prefix.append(self.prefix[-1] + is_open)

    def at(self, k: int) -> dt.datetime:
        return self.start + k * MINUTE

    def open_between(self, i: int, j: int) -> int:
        return self.prefix[j] - self.prefix[i]

    def reached(self, i: int, minutes: int) -> int | None:
        """The first minute index where `minutes` open minutes after `i` have passed."""
        for j in range(i, len(self.prefix)):
            done = self.prefix[j] - self.prefix[i]
            if minutes == 0 and j < len(self.prefix) - 1 and self.prefix[j + 1] > self.prefix[j]:
                return j
            if minutes and done == minutes:
                return j
        return None


@functools.cache
def windows(zone: str) -> list[Walk]:
    rnd = random.Random(zone)
    starts = [t - dt.timedelta(days=3, hours=12) for t in _transitions(zone)]
    starts += [dt.datetime(year, 12, 22, tzinfo=UTC) for year in (2001, 2019, 2039)]
    starts += [
        dt.datetime(2000, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=rnd.randrange(21_000_000))
        for _ in range(10)
    ]
    return [Walk(zone, start.replace(second=0, microsecond=0), 6) for start in starts]


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_working_time_equals_a_minute_by_minute_walk(zone):
    """`between`, `add` and `next_opening` agree with the walk on every random interval."""
    business = BusinessTime(calendar(zone))
    walks = windows(zone)
    assert len(walks) > 80  # two transitions a year for 41 years, and the rest
    rnd = random.Random(f"{zone}-intervals")
    for _ in range(PER_ZONE):
        walk = rnd.choice(walks)
        i = rnd.randrange(len(walk.prefix) - 1)
        j = rnd.randrange(i, min(len(walk.prefix), i + rnd.choice([60, 600, 3000, 8640])))
        expected = walk.open_between(i, j)
        assert business.between(walk.at(i), walk.at(j)) == expected * MINUTE
        assert business.between(walk.at(j), walk.at(i)) == -expected * MINUTE
        reached = walk.reached(i, expected)
        if reached is not None:
            assert business.add(walk.at(i), expected * MINUTE) == walk.at(reached)


def test_the_reference_sees_the_nights_the_clocks_change():
    """Sunday 01:00-04:00 lasts 2 hours when clocks go forward, 4 when they go back."""
    berlin = BusinessTime(calendar("Europe/Berlin"))
    spring, autumn = dt.date(2026, 3, 29), dt.date(2026, 10, 25)
    assert berlin.day_intervals(spring)[0] == (
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC),
    )
    assert berlin.day_intervals(autumn)[0] == (
        dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
    )
    sydney = BusinessTime(calendar("Australia/Sydney"))  # forward on 2026-10-04 at 02:00
    first = sydney.day_intervals(dt.date(2026, 10, 4))[0]
    assert first[1] - first[0] == dt.timedelta(hours=2)


# -- examples a person checks by hand -----------------------------------------------------

OFFICE = BusinessTime(BusinessCalendar(time_zone="Europe/Berlin"))  # Mon-Fri 09:00-17:00


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))  # type: ignore[misc]


def test_four_business_hours_after_friday_afternoon_is_monday_morning():
    """Friday 15:00 + 4 h with office hours to 17:00 is Monday 11:00."""
    assert OFFICE.add(berlin(2026, 11, 27, 15), dt.timedelta(hours=4)) == berlin(2026, 11, 30, 11)
    assert OFFICE.add(berlin(2026, 11, 27, 15), dt.timedelta(hours=2)) == berlin(2026, 11, 27, 17)
    assert OFFICE.add(berlin(2026, 11, 27, 15), dt.timedelta(hours=2, microseconds=1)) == berlin(
        2026, 11, 30, 9
    ) + dt.timedelta(microseconds=1)


def test_adding_nothing_gives_the_next_opening():
    """Zero working time after a closed instant is the next opening; an open one stays."""
    assert OFFICE.add(berlin(2026, 11, 28, 12), dt.timedelta(0)) == berlin(2026, 11, 30, 9)
    assert OFFICE.add(berlin(2026, 11, 27, 16, 59), dt.timedelta(0)) == berlin(2026, 11, 27, 16, 59)
    assert OFFICE.next_opening(berlin(2026, 11, 27, 17)) == berlin(2026, 11, 30, 9)
    assert OFFICE.next_opening(berlin(2026, 11, 30, 8, 59)) == berlin(2026, 11, 30, 9)


def test_is_open_on_both_sides_of_a_shift_edge():
    """A shift includes its start and excludes its end."""
    assert not OFFICE.is_open(berlin(2026, 11, 30, 8, 59, 59))
    assert OFFICE.is_open(berlin(2026, 11, 30, 9))
    assert OFFICE.is_open(berlin(2026, 11, 30, 16, 59, 59))
    assert not OFFICE.is_open(berlin(2026, 11, 30, 17))
    assert not OFFICE.is_open(berlin(2026, 11, 28, 12))  # Saturday


def test_two_business_days_later_keeps_the_wall_clock_time():
    """Monday 10:00 + 2 days is Wednesday 10:00; a Saturday starts from Monday's opening."""
    assert OFFICE.add_days(berlin(2026, 11, 30, 10), 2) == berlin(2026, 12, 2, 10)
    assert OFFICE.add_days(berlin(2026, 11, 28, 10), 2) == berlin(2026, 12, 2, 9)
    assert OFFICE.add_days(berlin(2026, 11, 27, 18), 1) == berlin(2026, 12, 1, 9)
    assert OFFICE.add_days(berlin(2026, 11, 30, 10), 0) == berlin(2026, 11, 30, 10)
    # Across the spring change: the wall-clock time is kept, not the UTC one.
    assert OFFICE.add_days(berlin(2026, 3, 27, 10), 1) == berlin(2026, 3, 30, 10)


def test_holidays_from_the_country_and_from_data_are_closed():
    """Christmas in Bavaria and a company day off count no working time."""
    bavaria = BusinessTime(
        BusinessCalendar(
            time_zone="Europe/Berlin",
            holidays=["2026-12-23"],
            holiday_country="DE",
            holiday_subdivision="BY",
        )
    )
    assert bavaria.next_opening(berlin(2026, 12, 22, 17)) == berlin(2026, 12, 24, 9)
    assert bavaria.next_opening(berlin(2026, 12, 24, 17)) == berlin(2026, 12, 28, 9)
    assert bavaria.between(berlin(2026, 12, 21, 9), berlin(2026, 12, 29, 9)) == dt.timedelta(
        hours=8 * 4
    )  # 21, 22, 24 and 28 December
    assert bavaria.calendar.is_holiday(dt.date(2026, 1, 6))  # Epiphany, Bavaria only
    assert not BusinessCalendar(holiday_country="DE", holiday_subdivision="BE").is_holiday(
        dt.date(2026, 1, 6)
    )


def test_working_time_over_decades():
    """Twenty years of office hours without holidays: 8 hours on each weekday."""
    start, end = berlin(2000, 1, 3), berlin(2020, 1, 6)  # both Mondays
    weekdays = (end.date() - start.date()).days // 7 * 5
    assert OFFICE.between(start, end) == dt.timedelta(hours=8 * weekdays)


# -- properties ----------------------------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=60))


@pytest.mark.parametrize("zone", sorted(ZONES))
@given(start=instants, duration=durations)
def test_adding_then_measuring_gives_the_duration_back(zone, start, duration):
    """between(start, add(start, d)) == d, and the result is open or a shift's end."""
    business = _business(zone)
    end = business.add(start, duration)
    assert end >= start
    assert business.between(start, end) == duration
    assert business.is_open(end) or business.is_open(end - dt.timedelta(microseconds=1))


@pytest.mark.parametrize("zone", sorted(ZONES))
@given(start=instants, first=durations, second=durations)
def test_adding_is_monotonic_and_adds_up(zone, start, first, second):
    """More working time never ends earlier, and adding twice is adding the sum."""
    business = _business(zone)
    low, high = sorted([first, second])
    assert business.add(start, low) <= business.add(start, high)
    once = business.add(start, first + second)
    assert business.add(business.add(start, first), second) == once


@pytest.mark.parametrize("zone", sorted(ZONES))
@given(a=instants, b=instants, c=instants)
def test_working_time_between_adds_up_over_a_midpoint(zone, a, b, c):
    """between(a, c) == between(a, b) + between(b, c), whatever the order."""
    business = _business(zone)
    assert business.between(a, c) == business.between(a, b) + business.between(b, c)


@functools.cache
def _business(zone: str) -> BusinessTime:
    return BusinessTime(calendar(zone))


# -- bad input -----------------------------------------------------------------------------


def test_working_hours_list_every_problem_at_once():
    """Bad shifts, overlaps and unknown days are all named in one error."""
    with pytest.raises(ValidationError) as caught:
        WorkingHours.parse(
            {
                "mon": ["09:00-12:00", "11:00-13:00"],
                "tue": "17:00-09:00",
                "wed": "9-5",
                "thu": "08:00-24:30",
                "funday": "10:00-11:00",
            }
        )
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("working_hours.funday", "funday"),
        ("working_hours.mon", "09:00-12:00, 11:00-13:00"),
        ("working_hours.tue", "17:00-09:00"),
        ("working_hours.wed", "9-5"),
        ("working_hours.thu", "08:00-24:30"),
    ]


def test_a_calendar_with_no_working_hours_is_refused():
    """No open hour in the week is a typed error, not an endless search."""
    with pytest.raises(ValidationError, match="has no open hour in the week"):
        BusinessCalendar(working_hours={})
    with pytest.raises(ValidationError, match="not a mapping"):
        BusinessCalendar(working_hours="09:00-17:00")


def test_unknown_time_zone_country_and_subdivision_are_typed_errors():
    """Each names what it refuses."""
    with pytest.raises(SegmentError, match="IANA"):
        BusinessCalendar(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar(holiday_country="XX")
    assert caught.value.fields == ("holiday_country",)
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar(holiday_country="DE", holiday_subdivision="ZZ")
    assert caught.value.fields == ("holiday_subdivision",)
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar(holiday_subdivision="BY")
    assert caught.value.fields == ("holiday_subdivision",)
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar(holidays=["2026-12-24", "tomorrow", 5])
    assert caught.value.fields == ("holidays[1]", "holidays[2]")


def test_a_calendar_closed_for_ten_years_says_so():
    """Every working day a holiday: add reports it instead of searching forever."""
    closed = BusinessCalendar(
        working_hours={"mon": "09:00-10:00"},
        holidays=[dt.date(2026, 11, 30) + dt.timedelta(weeks=w) for w in range(600)],
    )
    with pytest.raises(ValidationError, match="no working time in the ten years"):
        BusinessTime(closed).next_opening(dt.datetime(2026, 11, 29, tzinfo=UTC))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda b: b.add(dt.datetime(2026, 1, 1), dt.timedelta(hours=1)), "start"),
        (lambda b: b.add(dt.datetime(2026, 1, 1, tzinfo=UTC), 3600), "duration"),
        (lambda b: b.add(dt.datetime(2026, 1, 1, tzinfo=UTC), -MINUTE), "duration"),
        (lambda b: b.add_days(dt.datetime(2026, 1, 1, tzinfo=UTC), -1), "days"),
        (lambda b: b.add_days(dt.datetime(2026, 1, 1, tzinfo=UTC), 1.5), "days"),
        (lambda b: b.between("2026-01-01", dt.datetime(2026, 1, 1, tzinfo=UTC)), "start"),
        (lambda b: b.is_open(dt.datetime(2201, 1, 1, tzinfo=UTC)), "at"),
        (lambda b: b.is_open(dt.datetime(1899, 12, 31, 23, tzinfo=UTC)), "at"),
        (
            lambda b: b.add(dt.datetime(2026, 1, 1, tzinfo=UTC), dt.timedelta(days=36_526)),
            "duration",
        ),
        (lambda b: b.next_opening(None), "at"),
    ],
)
def test_bad_arguments_are_typed_errors_naming_the_argument(call, field):
    """Naive datetimes, wrong types, negative amounts and the ends of time."""
    with pytest.raises(ValidationError) as caught:
        call(OFFICE)
    assert caught.value.fields == (field,)


def test_business_time_needs_a_calendar():
    """Anything else is a typed error naming ``calendar``."""
    with pytest.raises(CrmkitError):
        BusinessTime("Europe/Berlin")  # type: ignore[arg-type]


def test_the_calendar_round_trips_through_its_dict_form():
    """to_dict / from_dict keep hours, holidays and the country; old dicts get office hours."""
    full = calendar("Australia/Sydney")
    assert BusinessCalendar.from_dict(full.to_dict()) == full
    old = BusinessCalendar.from_dict({"time_zone": "UTC", "fiscal_year_start_month": 4})
    assert old.working_hours == WorkingHours.office()
    assert old.to_dict()["working_hours"] == {key: ["09:00-17:00"] for key in WEEKDAYS[:5]}


def test_shift_combinations_week_minutes():
    """A week's open minutes: the sum over shifts (and adjacent shifts do not double)."""
    assert WorkingHours.office().week_minutes() == 5 * 8 * 60
    assert WorkingHours.parse(HOURS).week_minutes() == sum(
        end - start for day in WorkingHours.parse(HOURS).days for start, end in day
    )
    assert list(itertools.chain.from_iterable(WorkingHours.parse(HOURS).days[4])) == [
        510,
        720,
        720,
        960,
    ]


wrong = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.floats(),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(UTC)),  # aware, to the ends of time
    st.timedeltas(),
    st.dates(),
)


@given(method=st.sampled_from(["add", "add_days", "between", "intervals"]), a=wrong, b=wrong)
def test_methods_fed_wrong_values_raise_only_crmkit_errors(method, a, b):
    """Every two-argument method: a CrmkitError or an answer, never anything else."""
    with contextlib.suppress(CrmkitError):
        getattr(OFFICE, method)(a, b)


@given(method=st.sampled_from(["is_open", "next_opening"]), value=wrong)
def test_one_argument_methods_fed_wrong_values_raise_only_crmkit_errors(method, value):
    """is_open and next_opening: a CrmkitError or an answer."""
    with contextlib.suppress(CrmkitError):
        getattr(OFFICE, method)(value)


def test_working_time_past_the_last_year_is_a_typed_error():
    """A century of office hours from 1900 would end after 2200: refused, naming duration."""
    start = dt.datetime(1900, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="runs past the year 2200") as caught:
        OFFICE.add(start, dt.timedelta(days=36_525))
    assert caught.value.fields == ("duration",)
    assert OFFICE.between(start, dt.datetime(2200, 12, 31, tzinfo=UTC)) > dt.timedelta(days=26_000)
