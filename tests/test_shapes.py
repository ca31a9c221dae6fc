"""One vocabulary of field shapes: the row codecs, the binder and the column fetcher agree."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crmkit.conditions.binding import field_spec
from crmkit.model.registry import KINDS
from crmkit.model.shapes import Shape, optional_inner, shape_of
from crmkit.storage.columns import column_specs
from crmkit.storage.sql.dialect import SqliteDialect
from crmkit.storage.sql.rows import RowCodec, column_shape
from crmkit.values.enums import Priority
from crmkit.values.money import Money


@pytest.mark.parametrize(
    ("tp", "shape"),
    [
        (uuid.UUID, Shape.UUID),
        (str, Shape.TEXT),
        (str | None, Shape.TEXT),
        (Priority, Shape.ENUM),
        (bool, Shape.BOOL),
        (int, Shape.INT),
        (float, Shape.REAL),
        (dt.datetime, Shape.TIMESTAMP),
        (dt.date, Shape.DATE),
        (dt.timedelta | None, Shape.DURATION),
        (Decimal, Shape.DECIMAL),
        (Money | None, Shape.MONEY),
        (frozenset[str], Shape.TAGS),
        (tuple[uuid.UUID, ...], Shape.JSON),
        (int | str, Shape.JSON),
    ],
)
def test_each_declared_type_has_one_shape(tp, shape):
    assert shape_of(tp) is shape


def test_optional_inner_says_whether_none_was_allowed():
    assert optional_inner(int | None) == (int, True)
    assert optional_inner(int) == (int, False)
    assert optional_inner(int | str) == (int | str, False)


def test_a_duration_is_a_duration_to_the_codec_the_binder_and_the_column_fetcher():
    """The activity's duration: an integer column, only emptiness in segments, a timedelta out."""
    activity = KINDS["activity"]
    codec = RowCodec(activity, SqliteDialect())
    assert {c.name: c.shape for c in codec.columns}["duration"] == "int"
    assert column_shape(dt.timedelta | None) == "int"
    spec = field_spec("activity", "duration")
    assert spec is not None
    assert spec.shape == "json"
    [column] = column_specs(activity, ["duration"])
    assert column.shape == "duration"


def test_an_enum_is_text_with_its_choices_in_segments_and_its_value_in_columns():
    spec = field_spec("task", "priority")
    assert spec is not None
    assert (spec.shape, spec.choices) == ("text", ("high", "medium", "low"))
    [column] = column_specs(KINDS["task"], ["priority"])
    assert column.shape == "enum"
