"""Where "now" comes from: nothing in crmkit reads the wall clock except through a `Clock`.

Pass a `FixedClock` in tests and examples to make ids, timestamps, decay and relative dates
reproducible.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import attrs

__all__ = ["Clock", "FixedClock", "SystemClock", "default_clock", "resolve_clock", "to_utc"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a `now()` that returns an aware UTC datetime."""

    def now(self) -> dt.datetime:
        """Return the current instant as a timezone-aware datetime in UTC."""
        ...


@attrs.frozen
class SystemClock:
    """The real clock: the current UTC time from the operating system."""

    def now(self) -> dt.datetime:
        """Return the current instant in UTC."""
        return dt.datetime.now(dt.UTC)


@attrs.define
class FixedClock:
    """A clock that stands still until moved; for tests, examples and replaying history.

    Args:
        at: The instant it shows; a naive datetime is refused, other zones are turned to UTC.

    Raises:
        ValidationError: Naming ``at`` when it is not a timezone-aware datetime (or is one
            whose UTC time falls outside years 1 to 9999).
    """

    at: dt.datetime = attrs.field()

    @at.validator
    def _check(self, _attribute: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
        # imported here: crmkit.values imports this module (for to_utc)
        from crmkit.values.temporal import require_instant

        require_instant(value, "at")

    def __attrs_post_init__(self) -> None:
        self.at = to_utc(self.at)

    def now(self) -> dt.datetime:
        """Return the instant the clock is set to."""
        return self.at

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> dt.datetime:
        """Move the clock forward (or back, with negative values) and return the new instant."""
        self.at = self.at + dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return self.at

    def set(self, at: dt.datetime) -> None:
        """Set the clock to an aware instant.

        Raises:
            ValidationError: Naming ``at`` when it is not a timezone-aware datetime.
        """
        self._check(attrs.fields(FixedClock).at, at)
        self.at = to_utc(at)


def to_utc(value: dt.datetime) -> dt.datetime:
    """Turn any aware datetime (pendulum's included) into a plain stdlib datetime in UTC."""
    if type(value) is dt.datetime and value.tzinfo is dt.UTC and not value.fold:
        return value  # already what the rest would make
    u = value.astimezone(dt.UTC)
    return dt.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=dt.UTC
    )


default_clock: Clock = SystemClock()
"""The clock used when a call is given none."""


def resolve_clock(clock: Clock | None) -> Clock:
    """Return `clock`, or the default system clock when it is None."""
    return default_clock if clock is None else clock
