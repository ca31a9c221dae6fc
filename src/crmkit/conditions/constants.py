"""The constant values a condition compares with, and their exact plain-data encoding.

Allowed: text, bool, int, finite float, Decimal, date, aware datetime (kept in UTC), Money
and UUID; an enum member is replaced by its value. JSON has no Decimal, date, datetime,
Money or UUID, so those are written as one-key objects (``{"$decimal": "12.50"}``,
``{"$date": "2026-03-31"}``, ``{"$datetime": "2026-03-31T09:00:00+00:00"}``,
``{"$money": ["12000.00", "EUR"]}``, ``{"$uuid": "..."}``) that load back exactly.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from decimal import Decimal
from typing import Any, TypeAlias

from crmkit.errors import SegmentError
from crmkit.values.money import Money
from crmkit.values.temporal import to_utc

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "Constant",
    "check_moment",
    "check_number",
    "check_text",
    "decode_constant",
    "encode_constant",
    "format_constant",
    "to_constant",
]

FIRST_DAY = dt.date(1, 1, 2)
"""The earliest day a condition holds: a day's margin, so every time zone can place it."""

LAST_DAY = dt.date(9999, 12, 30)
"""The latest day a condition holds (the day after it must exist in every time zone)."""

_MIN_INTEGER = -(2**63)
_MAX_INTEGER = 2**63 - 1
_MAX_EXPONENT = 300  # decimals within 1e-300 .. 1e300: every store (SQLite: a double) holds them


def check_text(value: str) -> str:
    """Refuse text that cannot be stored: a lone surrogate (UTF-8 has no encoding for one).

    Raises:
        SegmentError: Naming the offset of the surrogate in the text.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise SegmentError(
            f"text holds a lone surrogate {value[error.start]!r} at offset {error.start}"
        ) from None
    return value


def check_number(value: int | float | Decimal) -> None:
    """Refuse integers beyond 64 bits and decimals too large or too small for every store.

    Raises:
        SegmentError: Naming the limit.
    """
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not _MIN_INTEGER <= value <= _MAX_INTEGER:
            raise SegmentError(
                f"{value} is beyond the whole numbers conditions hold"
                f" ({_MIN_INTEGER} to {_MAX_INTEGER})"
            )
    elif (
        isinstance(value, Decimal)
        and value.is_finite()
        and value
        and not -_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT
    ):
        raise SegmentError(
            f"{value} is beyond the decimals conditions hold (1e-{_MAX_EXPONENT}"
            f" to 1e{_MAX_EXPONENT} in size)"
        )


def check_moment(value: dt.date) -> dt.date:
    """Refuse a date or instant outside `FIRST_DAY` .. `LAST_DAY` (UTC days for instants).

    Raises:
        SegmentError: Naming the range.
    """
    day = value.astimezone(dt.UTC).date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise SegmentError(f"{value.isoformat()} is outside {FIRST_DAY} .. {LAST_DAY}")
    return value


Constant: TypeAlias = str | bool | int | float | Decimal | dt.date | dt.datetime | Money | uuid.UUID
"""A value a condition can hold."""


def to_constant(value: object) -> Constant:
    """Check a value given to a condition and return it in its stored form.

    Raises:
        SegmentError: For None (use `is_empty`), NaN or infinity, a naive datetime, text
            with a lone surrogate, an integer beyond 64 bits, a date outside `FIRST_DAY` ..
            `LAST_DAY`, or a type conditions do not handle.
    """
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        raise SegmentError("a condition cannot compare with None: use is_empty()")
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, int):
        check_number(value)
        return value
    if isinstance(value, uuid.UUID | Money):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SegmentError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise SegmentError(f"{value!r} is not a finite number")
        check_number(value)
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SegmentError(f"{value!r} is a naive datetime: give a time zone")
        return check_moment(to_utc(value))
    if isinstance(value, dt.date):
        return check_moment(dt.date(value.year, value.month, value.day))
    raise SegmentError(f"a condition cannot hold a {type(value).__name__} ({value!r})")


def encode_constant(value: Constant) -> Any:
    """Return the JSON-ready form of a constant (typed objects for non-JSON types)."""
    if isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Money):
        return {"$money": [str(value.amount), value.currency]}
    return {"$uuid": str(value)}


def decode_constant(data: object) -> Constant:
    """Load a constant written by `encode_constant`.

    Raises:
        SegmentError: When `data` is not an encoded constant.
    """
    if isinstance(data, dict):
        if len(data) == 1:
            ((tag, text),) = data.items()
            try:
                return _decode_tagged(tag, text)
            except (TypeError, ValueError, ArithmeticError) as error:
                raise SegmentError(f"{data!r} is not a valid {tag} value: {error}") from None
        raise SegmentError(f"{data!r} is not an encoded value")
    return to_constant(data)


def _decode_tagged(tag: str, text: Any) -> Constant:
    if tag == "$decimal" and isinstance(text, str):
        return to_constant(Decimal(text))
    if tag == "$date" and isinstance(text, str):
        return dt.date.fromisoformat(text)
    if tag == "$datetime" and isinstance(text, str):
        return to_constant(dt.datetime.fromisoformat(text))
    if tag == "$money" and isinstance(text, list) and len(text) == 2:
        return Money.of(Decimal(text[0]), text[1])
    if tag == "$uuid" and isinstance(text, str):
        return uuid.UUID(text)
    raise ValueError(f"unknown tag {tag!r} or wrong content")


def format_constant(value: Constant) -> str:
    """Return the canonical text of a constant, as `str(condition)` prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float | Decimal):
        return str(value) if not isinstance(value, float) else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Money):
        return f"{value.amount} {value.currency}"
    return f'uuid("{value}")'
