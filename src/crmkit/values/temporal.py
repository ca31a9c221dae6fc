"""Turning what people and files give (text, pendulum or stdlib values) into UTC instants and days.

Entities hold timezone-aware stdlib `datetime`s in UTC and plain `date`s. pendulum parses text
and knows time zones; it stays out of hot loops (see the performance notes in the docs).
"""

from __future__ import annotations

import datetime as dt

import pendulum

from crmkit.clock import to_utc
from crmkit.errors import ValidationError
from crmkit.values.arguments import require_instance

__all__ = [
    "parse_day",
    "parse_instant",
    "parse_time_zone",
    "require_instance",
    "require_instant",
    "to_utc",
]


def parse_instant(value: object, field: str) -> dt.datetime:
    """Return `value` as an aware UTC datetime.

    Args:
        value: An aware `datetime` (pendulum's too) or ISO 8601 text with an offset or ``Z``.
        field: The field name to report on failure.

    Raises:
        ValidationError: For a naive datetime, text without an offset, or anything else.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError.single(
                field, value, "is a naive datetime: give a time zone (crmkit stores UTC)"
            )
        return _in_utc(value, field)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = pendulum.parse(text, exact=True)
        except ValueError:  # pendulum's ParserError is a ValueError
            raise ValidationError.single(field, value, "is not an ISO 8601 date-time") from None
        if not isinstance(parsed, dt.datetime):
            raise ValidationError.single(field, value, "is not a date-time (it has no time)")
        if not _has_explicit_offset(text):
            raise ValidationError.single(
                field, value, "has no UTC offset: add one, e.g. '+02:00' or 'Z'"
            )
        return _in_utc(parsed, field)
    raise ValidationError.single(field, value, "is not a date-time")


def _in_utc(value: dt.datetime, field: str) -> dt.datetime:
    """Return an aware datetime in UTC; refuse one whose UTC time is outside years 1 to 9999."""
    if value.tzinfo is dt.UTC:  # no offset: always in range
        return to_utc(value)
    offset = value.utcoffset() or dt.timedelta(0)
    naive = value.replace(tzinfo=None)
    if (offset > dt.timedelta(0) and naive < dt.datetime.min + offset) or (
        offset < dt.timedelta(0) and naive > dt.datetime.max + offset
    ):
        raise ValidationError.single(
            field, value, "is out of range: in UTC it falls before year 1 or after year 9999"
        )
    return to_utc(value)


def require_instant(value: object, field: str) -> dt.datetime:
    """Return an aware `datetime` argument in UTC; refuse text, naive datetimes and the rest.

    Args:
        value: The argument (``now``, ``as_of``).
        field: Its name, for the error.

    Raises:
        ValidationError: Naming `field`, for anything but an aware datetime.
    """
    if not isinstance(value, dt.datetime):
        raise ValidationError.single(field, value, "is not a datetime (give an aware datetime)")
    return parse_instant(value, field)


def _has_explicit_offset(text: str) -> bool:
    tail = text[10:]  # after the date part
    return tail.endswith(("Z", "z")) or "+" in tail or tail.count("-") > 0


def parse_day(value: object, field: str) -> dt.date:
    """Return `value` as a calendar day.

    Args:
        value: A `date` (not a datetime) or ISO 8601 text such as ``"2026-03-31"``.
        field: The field name to report on failure.

    Raises:
        ValidationError: For anything that is not a single calendar day.
    """
    if isinstance(value, dt.datetime):
        raise ValidationError.single(field, value, "is a date-time, not a calendar day")
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError.single(
                field, value, "is not an ISO 8601 date (YYYY-MM-DD)"
            ) from None
    raise ValidationError.single(field, value, "is not a calendar day")


def parse_time_zone(value: object, field: str) -> str:
    """Return the canonical IANA name of a time zone (``"Europe/Berlin"``).

    Raises:
        ValidationError: When the name is not a time zone pendulum knows.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single(field, value, "is not a time zone name")
    try:
        zone = pendulum.timezone(value.strip())
    except ValueError:  # pendulum's InvalidTimezone is a ValueError
        raise ValidationError.single(
            field, value, "is not a known IANA time zone (e.g. 'Europe/Berlin')"
        ) from None
    return str(zone.name)
