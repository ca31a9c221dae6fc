"""Working hours per weekday: when a business is open, in its own wall-clock time.

``WorkingHours.parse({"mon": "09:00-17:00", "tue": ["09:00-12:00", "13:00-17:00"]})``: each
weekday has zero or more shifts, ``start-end`` in 24-hour ``HH:MM`` wall-clock time, ``end``
after ``start`` and at most ``24:00``; a day not named is closed. Shifts of one day may touch
but not overlap. A night shift over midnight is two shifts: ``"mon": "22:00-24:00"``,
``"tue": "00:00-06:00"``. Minutes since midnight are what is kept.

Which calendar day is a holiday and in which time zone the wall clock runs belong to the
`crmkit.conditions.BusinessCalendar` that holds these hours; `crmkit.work.calendar` does the
arithmetic.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.errors import Problem, ValidationError

__all__ = ["WEEKDAYS", "Shift", "WorkingHours"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in ISO order (Monday is 0, as `datetime.date.weekday`)."""

Shift = tuple[int, int]
"""One shift: its start and end in minutes since midnight, ``0 <= start < end <= 1440``."""

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _minutes(hours: str, minutes: str) -> int | None:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        return None
    return h * 60 + m


def _text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@attrs.frozen
class WorkingHours:
    """The shifts of each weekday, Monday first (see the module docstring for the format).

    Attributes:
        days: Seven tuples of shifts (start and end minutes since midnight), in order.
    """

    days: tuple[tuple[Shift, ...], ...] = attrs.field(validator=lambda _i, _a, v: _check_days(v))

    @classmethod
    def office(cls) -> WorkingHours:
        """Monday to Friday, 09:00 to 17:00: the default of a business calendar."""
        return cls.parse(dict.fromkeys(WEEKDAYS[:5], "09:00-17:00"))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> WorkingHours:
        """Read ``{"mon": "09:00-17:00" | ["09:00-12:00", ...], ...}``; missing days are closed.

        Raises:
            ValidationError: Listing every problem at once (field ``working_hours.<day>``):
                an unknown weekday, a shift that is not ``HH:MM-HH:MM``, ends before it starts
                or after 24:00, overlapping shifts, or no open hour in the whole week.
        """
        if isinstance(data, WorkingHours):
            return data
        if not isinstance(data, Mapping):
            raise ValidationError.single(
                "working_hours", data, "is not a mapping of weekdays to shifts"
            )
        problems: list[Problem] = []
        days: list[tuple[Shift, ...]] = []
        for name in data:
            if name not in WEEKDAYS:
                problems.append(
                    Problem(f"working_hours.{name}", name, f"is not one of {', '.join(WEEKDAYS)}")
                )
        for name in WEEKDAYS:
            raw = data.get(name, ())
            texts = [raw] if isinstance(raw, str) else raw
            field = f"working_hours.{name}"
            if not isinstance(texts, list | tuple):
                problems.append(Problem(field, raw, "is not a shift or a list of shifts"))
                days.append(())
                continue
            shifts: list[Shift] = []
            for text in texts:
                shift = _shift(text, field, problems)
                if shift is not None:
                    shifts.append(shift)
            shifts.sort()
            for (start_a, end_a), (start_b, end_b) in itertools.pairwise(shifts):
                if start_b < end_a:
                    problems.append(
                        Problem(
                            field,
                            f"{_text(start_a)}-{_text(end_a)}, {_text(start_b)}-{_text(end_b)}",
                            "are overlapping shifts",
                        )
                    )
            days.append(tuple(shifts))
        if not problems and not any(days):
            problems.append(Problem("working_hours", dict(data), "has no open hour in the week"))
        if problems:
            raise ValidationError(problems)
        return cls(tuple(days))

    def to_dict(self) -> dict[str, list[str]]:
        """Return the plain form `parse` reads (open days only)."""
        return {
            name: [f"{_text(start)}-{_text(end)}" for start, end in shifts]
            for name, shifts in zip(WEEKDAYS, self.days, strict=True)
            if shifts
        }

    def week_minutes(self) -> int:
        """The open minutes of a week without holidays."""
        return sum(end - start for shifts in self.days for start, end in shifts)


def _check_days(days: object) -> None:
    """Refuse `days` that are not seven sorted tuples of non-overlapping shifts in minutes."""
    ok = isinstance(days, tuple) and len(days) == 7
    if ok:
        for shifts in days:  # type: ignore[attr-defined]
            if not isinstance(shifts, tuple):
                ok = False
                break
            end_before = 0
            for shift in shifts:
                if not (
                    isinstance(shift, tuple)
                    and len(shift) == 2
                    and all(type(m) is int for m in shift)
                    and end_before <= shift[0] < shift[1] <= 1440
                ):
                    ok = False
                    break
                end_before = shift[1]
    if not ok:
        raise ValidationError.single(
            "working_hours",
            days,
            "is not seven tuples of (start, end) minutes (use WorkingHours.parse)",
        )
    if not any(days):  # type: ignore[arg-type]
        raise ValidationError.single("working_hours", days, "has no open hour in the week")


def _shift(text: object, field: str, problems: list[Problem]) -> Shift | None:
    if not isinstance(text, str) or (match := _TIME.match(text)) is None:
        problems.append(Problem(field, text, "is not a shift like 09:00-17:00"))
        return None
    start, end = _minutes(*match.group(1, 2)), _minutes(*match.group(3, 4))
    if start is None or end is None or start == 1440:
        problems.append(Problem(field, text, "is not a time of day from 00:00 to 24:00"))
        return None
    if end <= start:
        problems.append(Problem(field, text, "ends before it starts (a night shift is two)"))
        return None
    return start, end
