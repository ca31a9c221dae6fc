"""Recurring tasks: an RFC 5545 recurrence rule, checked, and the next occurrence it gives.

A rule is the text of an iCalendar ``RRULE`` ("FREQ=WEEKLY;BYDAY=MO,TH" or
"RRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12"). python-dateutil's `rrule` reads it (it comes
with pendulum; the ``work`` extra names it); crmkit never parses a rule by hand.

The series starts at the task's due time, read as wall-clock time in a calendar's time
zone, so "every Monday at 9:00" stays at 9:00 across daylight-saving changes. A task recurs
at most daily (a follow-up every hour is a schedule, not a task). ``COUNT`` counts the
occurrences still to come: the next task carries the rule with the count lowered by the
occurrences used up. An ``UNTIL`` in UTC (``...Z``) is an instant; a plain ``UNTIL`` is the
calendar's wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from crmkit.errors import ValidationError
from crmkit.values.temporal import parse_time_zone, require_instant

__all__ = ["check_recurrence", "next_occurrence"]

MAX_RULE_LENGTH = 1000
"""The longest rule text accepted."""

_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_PROBE = dt.datetime(2000, 1, 3, 9, 0)  # a Monday: any start checks a rule's syntax
_HORIZON = dt.timedelta(days=8 * 366)  # a rule that occurs at all occurs within 8 years


def _rrulestr() -> Any:
    try:
        from dateutil.rrule import rrulestr
    except ImportError:  # pragma: no cover - pendulum depends on python-dateutil
        raise ValidationError.single(
            "recurrence", None, "needs python-dateutil: pip install 'crmkit[work]'"
        ) from None
    return rrulestr


def _rule_line(text: str) -> str:
    """The ``RRULE`` line's value, without its name."""
    return text[6:] if text[:6].upper() == "RRULE:" else text


def check_recurrence(value: object, field: str = "recurrence") -> str | None:
    """Return a recurrence rule as its ``RRULE`` value text, or refuse it.

    Accepts the rule with or without its ``RRULE:`` name; refuses other iCalendar lines
    (``DTSTART``: the series starts at the task's due time; ``RDATE``, ``EXDATE``), rules
    more frequent than daily, and anything python-dateutil cannot read.

    Raises:
        ValidationError: Naming `field`, the value and the reason.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError.single(field, value, "is not a recurrence rule (RFC 5545 text)")
    text = _rule_line(value.strip())
    if not text:
        return None
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError.single(field, value, f"is longer than {MAX_RULE_LENGTH} characters")
    if "\n" in text or "\r" in text or ":" in text:
        raise ValidationError.single(
            field,
            value,
            "must be one RRULE (no DTSTART, RDATE or EXDATE: the task's due time starts it)",
        )
    frequency = _parts(text).get("FREQ")
    if frequency not in _FREQUENCIES:
        raise ValidationError.single(
            field,
            value,
            f"needs FREQ= one of {', '.join(_FREQUENCIES)} (tasks recur at most daily)",
        )
    for name, most in (("INTERVAL", 1000), ("COUNT", 10_000)):
        setting = _parts(text).get(name)
        if setting is not None and not (setting.isdigit() and 1 <= int(setting) <= most):
            raise ValidationError.single(
                field, value, f"needs {name} to be a whole number from 1 to {most}"
            )
    start = _PROBE.replace(tzinfo=dt.UTC)
    try:
        series, begin = _build(text, start)
        first = series.between(begin, begin + _HORIZON, inc=True, count=1)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as error:
        raise ValidationError.single(field, value, f"is not a valid RRULE: {error}") from None
    if not first and "UNTIL" not in _parts(text):
        raise ValidationError.single(field, value, "never occurs (no date matches the rule)")
    return text


def _parts(text: str) -> dict[str, str]:
    return dict(_part(item) for item in text.split(";") if item)


def _part(item: str) -> tuple[str, str]:
    name, _, setting = item.partition("=")
    return name.strip().upper(), setting.strip().upper()


def _build(text: str, start: dt.datetime) -> tuple[Any, dt.datetime]:
    """The dateutil rule starting at `start` (aware), and the start it uses.

    A plain UNTIL (no Z) cannot go with an aware start: such a series runs on naive
    wall-clock times from the same wall-clock start.
    """
    rrulestr = _rrulestr()
    try:
        return rrulestr(text, dtstart=start), start
    except ValueError as error:
        if "UNTIL" not in str(error):
            raise
        naive = start.replace(tzinfo=None)
        return rrulestr(text, dtstart=naive), naive


def next_occurrence(
    rule: str, due_at: dt.datetime, zone: str, *, after: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """Return the next due time of a series and the rule the next task carries, or None.

    The series starts at `due_at` (UTC) read in `zone`; the next occurrence is the first
    one strictly after both `due_at` and `after` (occurrences missed while a task was late
    are skipped, and counted against ``COUNT``). None when the series has ended.

    Args:
        rule: A rule `check_recurrence` accepted.
        due_at: The due time of the task that ends (UTC).
        zone: The IANA time zone whose wall clock the rule follows.
        after: Usually now: the next occurrence is later than this.

    Raises:
        ValidationError: For a rule `check_recurrence` refuses, an unknown zone, or
            instants that are not timezone-aware datetimes.
    """
    checked = check_recurrence(rule, "rule")
    if checked is None:
        raise ValidationError.single("rule", rule, "is empty")
    rule = checked
    due_at = require_instant(due_at, "due_at")
    after = require_instant(after, "after")
    tz = zoneinfo.ZoneInfo(parse_time_zone(zone, "zone"))
    series, _begin = _build(rule, due_at.astimezone(tz))
    threshold = max(due_at, after)
    horizon = threshold + _HORIZON
    used = 0
    for occurrence in series:
        used += 1
        moment = (occurrence if occurrence.tzinfo else occurrence.replace(tzinfo=tz)).astimezone(
            dt.UTC
        )
        if moment > threshold:
            break
        if moment > horizon:  # pragma: no cover - a rule that occurs checks within 8 years
            return None
    else:
        return None
    count = _parts(rule).get("COUNT")
    if count is None:
        return moment, rule
    left = int(count) - used + 1
    carried = ";".join(
        f"COUNT={left}" if _part(item)[0] == "COUNT" else item for item in rule.split(";") if item
    )
    return moment, carried
