"""Business-time arithmetic on a `BusinessCalendar`: "4 business hours after", time elapsed.

``BusinessTime(calendar)`` answers, for aware datetimes (results in UTC):

- ``add(start, timedelta(hours=4))``: the instant 4 hours of working time after `start`;
- ``add_days(start, 2)``: the same wall-clock time two business days later;
- ``between(start, end)``: the working time elapsed between two instants;
- ``next_opening(at)`` and ``is_open(at)``.

**What is open.** An instant is open when its wall-clock time in the calendar's time zone
falls inside a shift of its weekday (`crmkit.values.working_hours.WorkingHours`) and its
calendar day is not a holiday (given as data, or the public holidays of the calendar's
country). That is the whole definition, applied as a minute-by-minute walk would: a shift
``01:00-04:00`` on the night clocks go forward an hour is two hours long, on the night they go
back four; a shift starting at a wall time that does not exist that night starts when the
clocks jump. Working time is real elapsed time (UTC), never wall-clock differences.

Instants must lie in the years 1900 to 2200 (a typed error otherwise): every answer walks
the calendar day by day, so the span bounds the work.

**How.** Each calendar day's open intervals are computed once, in UTC, and cached: the day
is cut where the zone's UTC offset changes (found by bisection, only on days with a change),
and within a piece of constant offset a shift is a plain interval. pendulum's time zones
(zoneinfo underneath) do the zone maths; the inner loops only compare and subtract datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pendulum

from crmkit.conditions.dates import BusinessCalendar
from crmkit.errors import ValidationError
from crmkit.values.arguments import check_whole_number, require_instance
from crmkit.values.temporal import require_instant

__all__ = ["BusinessTime", "Interval"]

Interval = tuple[dt.datetime, dt.datetime]
"""An open interval of working time: ``[start, end)``, both in UTC."""

_ZERO = dt.timedelta(0)
_SECOND = dt.timedelta(seconds=1)
_MARGIN = dt.timedelta(hours=15)  # more than any UTC offset: a day's instants lie within
_DAY = dt.timedelta(days=1)
_WINDOW = dt.timedelta(days=7)
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
_MOST_WORKING_TIME = dt.timedelta(days=36_525)  # a century
_LATEST = dt.datetime(_LAST_YEAR, 12, 31, tzinfo=dt.UTC)
_MOST_CLOSED_DAYS = 3700
"""How far `add` looks for working time before it says the calendar never opens (10 years)."""
_MOST_CACHED_DAYS = 200_000


class BusinessTime:
    """Working-time arithmetic for one business calendar (cheap to keep; caches its days).

    Args:
        calendar: The calendar: time zone, working hours, holidays.

    Raises:
        ValidationError: When `calendar` is not a `BusinessCalendar`.
    """

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = require_instance(calendar, BusinessCalendar, "calendar")
        self._zone = pendulum.timezone(calendar.time_zone)
        self._days: dict[dt.date, tuple[Interval, ...]] = {}
        self._totals: dict[dt.date, dt.timedelta] = {}

    # -- the questions ----------------------------------------------------------------------

    def is_open(self, at: dt.datetime) -> bool:
        """Whether `at` is working time."""
        at = self._instant(at, "at")
        return any(start <= at < end for start, end in self._around(at))

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """Return `at` when it is working time, else the next instant that is.

        Raises:
            ValidationError: For a naive datetime, or a calendar with no working time in the
                ten years after `at` (every working day a holiday).
        """
        return self._advance(self._instant(at, "at"), _ZERO)

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """Return the instant `duration` of working time after `start` (UTC).

        Time outside working hours does not count: 4 hours after Friday 15:00 with hours to
        17:00 is Monday 11:00. A result at the very end of a shift stays there (2 hours after
        15:00 is 17:00, not the next morning); adding nothing to a closed instant gives the
        next opening.

        Raises:
            ValidationError: For a naive `start`, a `duration` that is not a non-negative
                timedelta (or is over a century), or a calendar that never opens.
        """
        if not isinstance(duration, dt.timedelta) or duration < _ZERO:
            raise ValidationError.single(
                "duration", duration, "is not a non-negative timedelta of working time"
            )
        if duration > _MOST_WORKING_TIME:
            raise ValidationError.single("duration", duration, "is more than a century")
        return self._advance(self._instant(start, "start"), duration)

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Return the same wall-clock time `days` business days after `start` (UTC).

        A business day is a day with working hours that is not a holiday. A closed `start`
        first moves to its next opening (Saturday 10:00 plus 2 business days is Wednesday
        09:00 with office hours); a result that falls outside working hours moves to the next
        opening of that day or the next one.

        Raises:
            ValidationError: For a naive `start`, `days` that is not a whole number >= 0, or
                a calendar that never opens.
        """
        days = check_whole_number(days, "days", minimum=0)
        opening = self.next_opening(self._instant(start, "start"))
        local = opening.astimezone(self._zone)
        day = local.date()
        for _ in range(days):
            day = self._next_business_day(day)
        # A wall time the clocks skip that night counts from the jump (fold 0: the offset
        # before it); one they repeat is its first occurrence.
        wall = local.replace(year=day.year, month=day.month, day=day.day, fold=0)
        return self._advance(wall.astimezone(dt.UTC), _ZERO)

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Return the working time from `start` to `end` (negative when `end` is earlier).

        Raises:
            ValidationError: For naive datetimes.
        """
        start, end = self._instant(start, "start"), self._instant(end, "end")
        if end < start:
            return -self.between(end, start)
        return self._total(start, end)

    def _total(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The working time in ``[start, end)``: whole days from a cache, the ends clipped."""
        total = _ZERO
        for day in self._days_between(start, end):
            intervals = self.day_intervals(day)
            if not intervals:
                continue
            if start <= intervals[0][0] and intervals[-1][1] <= end:
                total += self._day_total(day)
                continue
            for low, high in intervals:
                low, high = max(low, start), min(high, end)
                if low < high:
                    total += high - low
        return total

    def _day_total(self, day: dt.date) -> dt.timedelta:
        found = self._totals.get(day)
        if found is None:
            found = self._totals[day] = sum(
                (high - low for low, high in self.day_intervals(day)), _ZERO
            )
        return found

    def _days_between(self, start: dt.datetime, end: dt.datetime) -> Iterator[dt.date]:
        """The local days whose instants can fall in ``[start, end)`` (none when empty)."""
        if end <= start:
            return
        day, last = self._local_day(start), self._local_day(end)
        # A day's instants are those whose wall-clock date is that day. Only where the
        # clocks go back across midnight can an instant of day d come after one of d + 1;
        # then the neighbouring days are read too.
        if self._offset(start - _DAY) != self._offset(start):
            day -= _DAY
        if self._offset(end + _DAY) != self._offset(end):
            last += _DAY
        while day <= last:
            yield day
            day += _DAY

    def intervals(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """Return the working intervals within ``[start, end)``, clipped, in order (UTC).

        Raises:
            ValidationError: For naive datetimes.
        """
        return self._clipped(self._instant(start, "start"), self._instant(end, "end"))

    def _clipped(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        found: list[Interval] = []
        for day in self._days_between(start, end):
            for low, high in self.day_intervals(day):
                low, high = max(low, start), min(high, end)
                if low < high:
                    found.append((low, high))
        found.sort()
        return found

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """Return the working intervals (UTC, in order) of a calendar day of the zone."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) >= _MOST_CACHED_DAYS:
                self._days.clear()
                self._totals.clear()
            cached = self._days[day] = self._compute_day(day)
        return cached

    # -- the walk ---------------------------------------------------------------------------

    def _advance(self, cursor: dt.datetime, remaining: dt.timedelta) -> dt.datetime:
        """The instant `remaining` working time after `cursor` (its next opening for zero)."""
        closed_until = cursor + _MOST_CLOSED_DAYS * _DAY
        step = _DAY  # most answers lie within a day or two: look a day ahead, then further
        while True:
            window = min(cursor + step, _LATEST)
            step = min(step * 2, _WINDOW)
            for low, high in self._clipped(cursor, window):
                if remaining == _ZERO or remaining <= high - low:
                    return low + remaining
                remaining -= high - low
                closed_until = high + _MOST_CLOSED_DAYS * _DAY
            if window >= _LATEST:
                raise ValidationError.single(
                    "duration", remaining, f"of working time runs past the year {_LAST_YEAR}"
                )
            if window >= closed_until:
                raise ValidationError.single(
                    "calendar",
                    self.calendar.to_dict(),
                    f"has no working time in the ten years after {cursor.isoformat()}",
                )
            cursor = window

    def _next_business_day(self, day: dt.date) -> dt.date:
        for _ in range(_MOST_CLOSED_DAYS):
            day += _DAY
            if self.day_intervals(day):
                return day
        raise ValidationError.single(
            "calendar", self.calendar.to_dict(), "has no business day in ten years"
        )

    def _around(self, at: dt.datetime) -> Iterator[Interval]:
        day = self._local_day(at)
        for near in (day - _DAY, day, day + _DAY):
            yield from self.day_intervals(near)

    def _compute_day(self, day: dt.date) -> tuple[Interval, ...]:
        shifts = self.calendar.working_hours.days[day.weekday()]
        if not shifts or self.calendar.is_holiday(day):
            return ()
        # Wall-clock midnight written as if it were UTC: wall = utc + offset, so within a
        # piece of constant offset the wall times [s, e) are the instants [s - off, e - off).
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        pieces = self._pieces(midnight - _MARGIN, midnight + _DAY + _MARGIN)
        found: list[Interval] = []
        for start, end in shifts:
            wall_start = midnight + dt.timedelta(minutes=start)
            wall_end = midnight + dt.timedelta(minutes=end)
            for low, high, offset in pieces:
                clipped = max(low, wall_start - offset), min(high, wall_end - offset)
                if clipped[0] < clipped[1]:
                    found.append(clipped)
        found.sort()
        merged: list[Interval] = []
        for low, high in found:
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return tuple(merged)

    def _pieces(
        self, low: dt.datetime, high: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
        """Cut ``[low, high)`` where the zone's UTC offset changes: (start, end, offset)."""
        pieces = []
        while True:
            offset = self._offset(low)
            if self._offset(high - _SECOND) == offset:
                pieces.append((low, high, offset))
                return pieces
            before, after = low, high - _SECOND  # offset(before) == offset != offset(after)
            while after - before > _SECOND:
                middle = before + (after - before) // 2
                middle -= dt.timedelta(microseconds=middle.microsecond)
                if middle <= before:
                    middle = before + _SECOND
                if self._offset(middle) == offset:
                    before = middle
                else:
                    after = middle
            pieces.append((low, after, offset))
            low = after

    def _offset(self, instant: dt.datetime) -> dt.timedelta:
        return instant.astimezone(self._zone).utcoffset() or _ZERO

    def _local_day(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self._zone).date()

    def _instant(self, value: object, field: str) -> dt.datetime:
        instant = require_instant(value, field)
        if not _FIRST_YEAR <= instant.year <= _LAST_YEAR:
            raise ValidationError.single(
                field, value, f"is outside the years {_FIRST_YEAR} to {_LAST_YEAR}"
            )
        return instant
