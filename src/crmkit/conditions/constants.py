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

__all__ = ["Constant", "decode_constant", "encode_constant", "format_constant", "to_constant"]

Constant: TypeAlias = str | bool | int | float | Decimal | dt.date | dt.datetime | Money | uuid.UUID
"""A value a condition can hold."""


def to_constant(value: object) -> Constant:
    """Check a value given to a condition and return it in its stored form.

    Raises:
        SegmentError: For None (use `is_empty`), NaN or infinity, a naive datetime, or a
            type conditions do not handle.
    """
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        raise SegmentError("a condition cannot compare with None: use is_empty()")
    if isinstance(value, bool | str | int | uuid.UUID | Money):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SegmentError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise SegmentError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SegmentError(f"{value!r} is a naive datetime: give a time zone")
        return to_utc(value)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
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
