"""Relative dates in conditions: ``last_activity_at within 30 days``, ``closed_at this quarter``.

A relative-date condition names a span of time; it is resolved, once per evaluation, into
`DateBounds` from "now" (the store's clock) and a `BusinessCalendar` (the store's time zone
and fiscal-year start). Evaluators then only compare values with fixed bounds: no per-row
calendar arithmetic, and SQL gets the bounds as parameters, never the database's ``now()``.

The spans, with *today* the calendar day of "now" in the calendar's time zone:

- ``within N days|weeks|months|quarters|years``: from the start of the day N units before
  today up to and including "now" (so ``within 0 days`` is today so far);
- ``more than N <units> ago``: before the start of the day N units before today; together
  with ``within`` it covers every past instant exactly once;
- ``this <unit>`` / ``last <unit>``: the current / previous calendar day, ISO week (from
  Monday), month, fiscal quarter or fiscal year;
- ``before D`` / ``after D``: before the start of day D / from the start of the day after D
  (a date), or strictly before / after an instant (a datetime).

A datetime value is tested against the instant bounds, a date value (``expected_close``)
against the day bounds; anything else (and a missing value) makes the condition false.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import pendulum

from crmkit.conditions.constants import (
    check_moment,
    decode_constant,
    encode_constant,
    format_constant,
)
from crmkit.conditions.tree import FieldCondition, register_leaf_op
from crmkit.errors import Problem, SegmentError, ValidationError
from crmkit.values.public_holidays import check_country, public_holidays
from crmkit.values.temporal import to_utc
from crmkit.values.working_hours import WorkingHours

__all__ = [
    "MAX_AMOUNTS",
    "UNITS",
    "After",
    "Before",
    "BusinessCalendar",
    "DateBounds",
    "InPeriod",
    "MoreThanAgo",
    "RelativeDate",
    "RelativeMoment",
    "WithinLast",
    "WithinNext",
]

UNITS = ("day", "week", "month", "quarter", "year")
"""The calendar units of relative dates."""

MAX_AMOUNTS = {"day": 366_000, "week": 52_200, "month": 12_000, "quarter": 4_000, "year": 1_000}
"""How far back ``within`` / ``more than ... ago`` reach: about 1,000 years in every unit."""

_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_ONE_MICROSECOND = dt.timedelta(microseconds=1)


def _time_zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise SegmentError(f"{value!r} is not a time zone name")
    try:
        pendulum.timezone(value)
    except Exception:  # pendulum raises its own InvalidTimezone (not a ValueError)
        raise SegmentError(f"{value!r} is not an IANA time zone name") from None
    return value


def _month(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise SegmentError(f"the fiscal year starts in a month 1..12, not {value!r}")


def _holiday_dates(value: object) -> frozenset[dt.date]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValidationError.single("holidays", value, "is not a list of dates")
    problems: list[Problem] = []
    days: set[dt.date] = set()
    for i, item in enumerate(value):
        if isinstance(item, str):
            with contextlib.suppress(ValueError):
                item = dt.date.fromisoformat(item)
        if isinstance(item, dt.datetime) or not isinstance(item, dt.date):
            problems.append(Problem(f"holidays[{i}]", item, "is not a date (YYYY-MM-DD)"))
        else:
            days.add(item)
    if problems:
        raise ValidationError(problems)
    return frozenset(days)


def _working_hours(value: Any) -> WorkingHours:
    return WorkingHours.parse(value)


def _check_holiday_country(
    instance: BusinessCalendar, _attribute: object, value: str | None
) -> None:
    if value is None:
        if instance.holiday_subdivision is not None:
            raise ValidationError.single(
                "holiday_subdivision", instance.holiday_subdivision, "needs a holiday_country"
            )
        return
    check_country(value, instance.holiday_subdivision)


@attrs.frozen
class BusinessCalendar:
    """How a business counts time: its time zone, fiscal year, working hours and holidays.

    Weeks start on Monday (ISO 8601); quarters are fiscal quarters. Relative dates in
    conditions use the time zone and the fiscal year; business-time arithmetic
    (`crmkit.work.calendar.BusinessTime`: "4 business hours after", SLAs) uses the working
    hours, in the time zone's wall-clock time, on every day that is not a holiday.

    Attributes:
        time_zone: The IANA time zone days start and end in (``"Europe/Berlin"``).
        fiscal_year_start_month: 1 for a calendar fiscal year, 4 for April to March, ...
        working_hours: The shifts of each weekday (default Monday to Friday, 09:00-17:00);
            a mapping such as ``{"mon": "09:00-17:00", "tue": ["09:00-12:00", "13:00-17:00"]}``
            is converted (`crmkit.values.working_hours.WorkingHours`).
        holidays: Closed days given as data (dates, or ``YYYY-MM-DD`` text).
        holiday_country: An ISO country code whose public holidays are closed days too, from
            the ``holidays`` package (``pip install 'crmkit[work]'``).
        holiday_subdivision: A subdivision of that country (``"BY"``, ``"NY"``, ``"NSW"``).

    Raises:
        SegmentError: For an unknown time zone or a month outside 1..12.
        ValidationError: For working hours, holidays or a country that are not valid, with
            every problem of the working hours listed at once.
    """

    time_zone: str = attrs.field(default="UTC", converter=_time_zone)
    fiscal_year_start_month: int = attrs.field(default=1, validator=_month)
    working_hours: WorkingHours = attrs.field(factory=WorkingHours.office, converter=_working_hours)
    holidays: frozenset[dt.date] = attrs.field(factory=frozenset, converter=_holiday_dates)
    holiday_subdivision: str | None = attrs.field(default=None, kw_only=True)
    holiday_country: str | None = attrs.field(
        default=None, kw_only=True, validator=_check_holiday_country
    )  # after the subdivision, so its validator sees it

    def today(self, now: dt.datetime) -> dt.date:
        """Return the calendar day `now` falls on in this calendar's time zone."""
        local = pendulum.instance(now).in_tz(self.time_zone)
        return dt.date(local.year, local.month, local.day)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        """Return the instant (UTC) a calendar day starts in this time zone."""
        local = pendulum.datetime(day.year, day.month, day.day, tz=self.time_zone)
        return to_utc(local)

    def shift(self, day: dt.date, unit: str, amount: int) -> dt.date:
        """Return `day` moved by `amount` units (month ends clamp: 31 March - 1 month = 28 Feb)."""
        if unit == "day":
            return day + dt.timedelta(days=amount)
        if unit == "week":
            return day + dt.timedelta(weeks=amount)
        moved = pendulum.date(day.year, day.month, day.day).add(months=amount * _MONTHS[unit])
        return dt.date(moved.year, moved.month, moved.day)

    def period_start(self, day: dt.date, unit: str) -> dt.date:
        """Return the first day of the day, ISO week, month, fiscal quarter or fiscal year."""
        if unit == "day":
            return day
        if unit == "week":
            return day - dt.timedelta(days=day.weekday())
        if unit == "month":
            return day.replace(day=1)
        size = _MONTHS[unit]
        back = (day.month - self.fiscal_year_start_month) % size
        absolute = day.year * 12 + day.month - 1 - back
        return dt.date(absolute // 12, absolute % 12 + 1, 1)

    def is_holiday(self, day: dt.date) -> bool:
        """Whether `day` is closed as a holiday (given as data or the country's)."""
        if day in self.holidays:
            return True
        if self.holiday_country is None:
            return False
        return day in public_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def to_dict(self) -> dict[str, Any]:
        """Return the plain dict form (JSON-ready; `from_dict` reads it back)."""
        data: dict[str, Any] = {
            "time_zone": self.time_zone,
            "fiscal_year_start_month": self.fiscal_year_start_month,
            "working_hours": self.working_hours.to_dict(),
        }
        if self.holidays:
            data["holidays"] = [day.isoformat() for day in sorted(self.holidays)]
        if self.holiday_country is not None:
            data["holiday_country"] = self.holiday_country
        if self.holiday_subdivision is not None:
            data["holiday_subdivision"] = self.holiday_subdivision
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Load the dict form written by `to_dict`.

        A calendar stored before working hours existed loads with the default hours.

        Raises:
            SegmentError: When it is not a calendar.
            ValidationError: When its working hours, holidays or country are not valid.
        """
        if not isinstance(data, Mapping) or not set(data) <= _CALENDAR_KEYS:
            raise SegmentError(f"{data!r} is not a business calendar")
        return cls(**data)


_CALENDAR_KEYS = {field.name for field in attrs.fields(BusinessCalendar)}


@attrs.frozen
class DateBounds:
    """A resolved span: instants in ``[start, end)`` and days in ``[start_day, end_day)``.

    A missing bound is open. Datetime values are tested against the instants, date values
    against the days; any other value is outside.
    """

    start: dt.datetime | None
    end: dt.datetime | None
    start_day: dt.date | None
    end_day: dt.date | None

    def holds(self, value: object) -> bool:
        """Whether `value` lies within the span."""
        if isinstance(value, dt.datetime):
            return (self.start is None or self.start <= value) and (
                self.end is None or value < self.end
            )
        if isinstance(value, dt.date):
            return (self.start_day is None or self.start_day <= value) and (
                self.end_day is None or value < self.end_day
            )
        return False


def _unit(value: object) -> str:
    if isinstance(value, str):
        singular = value.lower().removesuffix("s")
        if singular in UNITS:
            return singular
    raise SegmentError(f"{value!r} is not a unit: use one of {', '.join(UNITS)}")


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SegmentError(f"a number of units is a whole number >= 0, not {value!r}")
    return value


def _reach(instance: Any, _attribute: object, value: int) -> None:
    limit = MAX_AMOUNTS[instance.unit]
    if value > limit:
        raise SegmentError(f"a relative date reaches back at most {limit} {instance.unit}s")


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


@attrs.frozen
class RelativeDate(FieldCondition):
    """The base of relative-date conditions: each resolves to `DateBounds`."""

    def bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return the span this condition names, seen from `now` in `calendar`.

        Raises:
            SegmentError: When the span leaves the dates Python represents (years 1-9999).
        """
        try:
            return self._bounds(now, calendar)
        except (OverflowError, ValueError) as error:
            if isinstance(error, SegmentError):
                raise
            raise SegmentError(
                f"{self} seen from {now.isoformat()} leaves the representable dates"
                f" (years 1 to 9999): {error}"
            ) from None

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        raise NotImplementedError


@attrs.frozen
class WithinLast(RelativeDate):
    """The value lies between the start of the day `amount` units ago and now.

    Attributes:
        amount: How many units back (0: today so far).
        unit: ``day``, ``week``, ``month``, ``quarter`` or ``year``.
    """

    kind: ClassVar[str] = "within"
    op: ClassVar[str] = "within"
    amount: int = attrs.field(converter=_amount, validator=_reach)
    unit: str = attrs.field(converter=_unit)

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return ``[start of day (today - amount units), now]``."""
        today = calendar.today(now)
        first = calendar.shift(today, self.unit, -self.amount)
        return DateBounds(
            calendar.start_of_day(first),
            now + _ONE_MICROSECOND,
            first,
            today + dt.timedelta(days=1),
        )

    def _value_dict(self) -> dict[str, Any]:
        return {"value": [self.amount, self.unit]}

    def __str__(self) -> str:
        return f"{self.field} within {_plural(self.amount, self.unit)}"


@attrs.frozen
class MoreThanAgo(RelativeDate):
    """The value lies before the start of the day `amount` units ago.

    Attributes:
        amount: How many units back.
        unit: ``day``, ``week``, ``month``, ``quarter`` or ``year``.
    """

    kind: ClassVar[str] = "more_than_ago"
    op: ClassVar[str] = "more than ago"
    amount: int = attrs.field(converter=_amount, validator=_reach)
    unit: str = attrs.field(converter=_unit)

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return ``(-inf, start of day (today - amount units))``."""
        last = calendar.shift(calendar.today(now), self.unit, -self.amount)
        return DateBounds(None, calendar.start_of_day(last), None, last)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": [self.amount, self.unit]}

    def __str__(self) -> str:
        return f"{self.field} more than {_plural(self.amount, self.unit)} ago"


def _which(value: object) -> str:
    if value not in ("this", "last"):
        raise SegmentError(f"a period is 'this' or 'last', not {value!r}")
    return str(value)


@attrs.frozen
class InPeriod(RelativeDate):
    """The value lies in the current (``this``) or previous (``last``) calendar period.

    Attributes:
        which: ``"this"`` or ``"last"``.
        unit: ``day``, ``week`` (ISO, from Monday), ``month``, ``quarter`` or ``year``
            (fiscal, from the calendar's fiscal-year start).
    """

    kind: ClassVar[str] = "in_period"
    which: str = attrs.field(converter=_which)
    unit: str = attrs.field(converter=_unit)

    @property
    def op(self) -> str:  # type: ignore[override]
        """``this`` or ``last``, as in the dict form."""
        return self.which

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return the period's ``[first day, first day of the next period)``."""
        first = calendar.period_start(calendar.today(now), self.unit)
        if self.which == "last":
            first = calendar.shift(first, self.unit, -1)
        after = calendar.shift(first, self.unit, 1)
        return DateBounds(calendar.start_of_day(first), calendar.start_of_day(after), first, after)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": self.unit}

    def __str__(self) -> str:
        return f"{self.field} {self.which} {self.unit}"


def _moment(value: object) -> dt.date:
    constant = decode_constant(value) if isinstance(value, dict) else value
    if not isinstance(constant, dt.date):
        raise SegmentError(f"before / after need a date or a datetime, not {value!r}")
    if isinstance(constant, dt.datetime):
        if constant.tzinfo is None or constant.utcoffset() is None:
            raise SegmentError(f"{value!r} is a naive datetime: give a time zone")
        return check_moment(to_utc(constant))
    return check_moment(dt.date(constant.year, constant.month, constant.day))


@attrs.frozen
class Before(RelativeDate):
    """The value lies before a day (its start, in the calendar's zone) or an instant.

    Attributes:
        value: A date or an aware datetime.
    """

    kind: ClassVar[str] = "before"
    op: ClassVar[str] = "before"
    value: dt.date = attrs.field(converter=_moment)

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return everything before the day or instant."""
        if isinstance(self.value, dt.datetime):
            return DateBounds(None, self.value, None, calendar.today(self.value))
        return DateBounds(None, calendar.start_of_day(self.value), None, self.value)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": encode_constant(self.value)}

    def __str__(self) -> str:
        return f"{self.field} before {format_constant(self.value)}"


@attrs.frozen
class After(RelativeDate):
    """The value lies after a day (from the start of the next day) or an instant.

    Attributes:
        value: A date or an aware datetime.
    """

    kind: ClassVar[str] = "after"
    op: ClassVar[str] = "after"
    value: dt.date = attrs.field(converter=_moment)

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return everything after the day or instant."""
        if isinstance(self.value, dt.datetime):
            day_after = calendar.today(self.value) + dt.timedelta(days=1)
            return DateBounds(self.value + _ONE_MICROSECOND, None, day_after, None)
        next_day = self.value + dt.timedelta(days=1)
        return DateBounds(calendar.start_of_day(next_day), None, next_day, None)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": encode_constant(self.value)}

    def __str__(self) -> str:
        return f"{self.field} after {format_constant(self.value)}"


def _pair(value: object) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SegmentError(f"{value!r} is not [amount, unit]")
    return value[0], value[1]


register_leaf_op("within", lambda f, v: WithinLast(f, *_pair(v)))
register_leaf_op("more than ago", lambda f, v: MoreThanAgo(f, *_pair(v)))
register_leaf_op("this", lambda f, v: InPeriod(f, "this", v))
register_leaf_op("last", lambda f, v: InPeriod(f, "last", v))
register_leaf_op("before", lambda f, v: Before(f, v))
register_leaf_op("after", lambda f, v: After(f, v))


@attrs.frozen
class WithinNext(RelativeDate):
    """The value lies between now and the end of the day `amount` units ahead.

    The forward mirror of `WithinLast`: ``due_at within the next 7 days`` holds from now
    to the end of the day a week ahead (days: from today to that day, both included).

    Attributes:
        amount: How many units ahead (0: the rest of today).
        unit: ``day``, ``week``, ``month``, ``quarter`` or ``year``.
    """

    kind: ClassVar[str] = "within_next"
    op: ClassVar[str] = "within next"
    amount: int = attrs.field(converter=_amount, validator=_reach)
    unit: str = attrs.field(converter=_unit)

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        """Return ``[now, start of day (today + amount units + 1 day))``."""
        today = calendar.today(now)
        end_day = calendar.shift(today, self.unit, self.amount) + dt.timedelta(days=1)
        return DateBounds(now, calendar.start_of_day(end_day), today, end_day)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": [self.amount, self.unit]}

    def __str__(self) -> str:
        return f"{self.field} within the next {_plural(self.amount, self.unit)}"


_ANCHORS = ("today", "now")


def _anchor(value: object) -> str:
    if value not in _ANCHORS:
        raise SegmentError(f"a moment relative to now is 'today' or 'now', not {value!r}")
    return str(value)


def _side(value: object) -> str:
    if value not in ("before", "after"):
        raise SegmentError(f"a side is 'before' or 'after', not {value!r}")
    return str(value)


@attrs.frozen
class RelativeMoment(RelativeDate):
    """The value lies before or after today (the calendar's day) or now (the instant).

    ``before today``: before the start of today; ``after today``: from the start of
    tomorrow; ``before now`` / ``after now``: before / after this instant (a date is before
    now when it is before today, after now when it is after today).

    Attributes:
        side: ``"before"`` or ``"after"``.
        anchor: ``"today"`` or ``"now"``.
    """

    kind: ClassVar[str] = "relative_moment"
    side: str = attrs.field(converter=_side)
    anchor: str = attrs.field(converter=_anchor)

    @property
    def op(self) -> str:  # type: ignore[override]
        """``"before today"``, ``"after now"``, ..., as in the dict form (no value)."""
        return f"{self.side} {self.anchor}"

    def _bounds(self, now: dt.datetime, calendar: BusinessCalendar) -> DateBounds:
        today = calendar.today(now)
        tomorrow = today + dt.timedelta(days=1)
        if self.side == "before":
            end = calendar.start_of_day(today) if self.anchor == "today" else now
            return DateBounds(None, end, None, today)
        if self.anchor == "today":
            return DateBounds(calendar.start_of_day(tomorrow), None, tomorrow, None)
        return DateBounds(now + _ONE_MICROSECOND, None, tomorrow, None)

    def __str__(self) -> str:
        return f"{self.field} {self.side} {self.anchor}"


register_leaf_op("within next", lambda f, v: WithinNext(f, *_pair(v)))
for _s in ("before", "after"):
    for _a in _ANCHORS:
        register_leaf_op(
            f"{_s} {_a}",
            (lambda s, a: lambda f, _v: RelativeMoment(f, s, a))(_s, _a),
            takes_value=False,
        )
