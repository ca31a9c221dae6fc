"""How each field of a record is stored: its shape, one vocabulary for every layer.

The row codecs (which column type), the condition binder (which comparisons a segment may
make) and the column fetcher (how a value is handed to a DataFrame) all start from
`shape_of` on the field's declared type, so a field is one thing everywhere: a duration is a
`Shape.DURATION` (stored as whole microseconds), a Money a `Shape.MONEY` (amount and
currency), a set of strings `Shape.TAGS`, anything structured `Shape.JSON`.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
import uuid
from decimal import Decimal
from typing import Any

from crmkit.values.money import Money

__all__ = ["Shape", "optional_inner", "shape_of"]


class Shape(enum.StrEnum):
    """What a field holds, as far as storing and comparing it goes."""

    UUID = "uuid"
    TEXT = "text"
    ENUM = "enum"
    BOOL = "bool"
    INT = "int"
    REAL = "real"
    TIMESTAMP = "timestamp"
    DATE = "date"
    DURATION = "duration"
    DECIMAL = "decimal"
    MONEY = "money"
    TAGS = "tags"
    JSON = "json"


_SIMPLE: dict[Any, Shape] = {
    uuid.UUID: Shape.UUID,
    str: Shape.TEXT,
    bool: Shape.BOOL,
    int: Shape.INT,
    float: Shape.REAL,
    dt.datetime: Shape.TIMESTAMP,
    dt.date: Shape.DATE,
    dt.timedelta: Shape.DURATION,
    Decimal: Shape.DECIMAL,
    Money: Shape.MONEY,
}


def optional_inner(tp: Any) -> tuple[Any, bool]:
    """Return ``(type, optional)``: the type inside ``X | None``, and whether None was allowed.

    A union of several types other than None is returned unchanged.
    """
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return inner[0], len(inner) < len(args)
    return tp, False


def shape_of(tp: Any) -> Shape:
    """Return the shape of a field's declared type (``X | None`` has the shape of ``X``)."""
    tp, _optional = optional_inner(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return Shape.ENUM
    simple = _SIMPLE.get(tp)
    if simple is not None:
        return simple
    if typing.get_origin(tp) is frozenset and typing.get_args(tp) == (str,):
        return Shape.TAGS
    return Shape.JSON
