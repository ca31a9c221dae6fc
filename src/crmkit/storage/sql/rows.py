"""Row codecs: one entity ↔ one row of core columns, derived once from the model's fields.

Scalar fields become real columns (ids, text, numbers, instants, dates); Money becomes an
exact decimal column plus a ``<name>_currency`` column; structured fields (emails, tags,
addresses, lines, ...) and custom fields become JSON; a deal's stage history has a table
of its own (`crmkit.storage.sql.schema`).
"""

from __future__ import annotations

import datetime as dt
import enum
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from crmkit.codegen import generate
from crmkit.model.deal import StageStay
from crmkit.model.entity import Entity
from crmkit.model.fast_records import builder
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.registry import Kind
from crmkit.model.shapes import Shape, optional_inner, shape_of
from crmkit.storage.plain import (
    custom_from_plain,
    custom_to_plain,
    decoder_for,
    encoder_for,
    field_types,
    to_plain,
)
from crmkit.storage.sql.dialect import Dialect
from crmkit.values.enums import ForecastCategory
from crmkit.values.money import Money

__all__ = ["Column", "RowCodec", "RowCodecs", "StayCodec", "column_shape"]

_OWN_TABLE = frozenset({"stage_history"})


@attrs.frozen
class Column:
    """One column: its name, its shape, and whether it holds a Money's currency."""

    name: str
    shape: str


# The column type each field shape is stored in (a shape not listed is stored as itself).
_COLUMN_TYPES = {Shape.ENUM: "text", Shape.DURATION: "int", Shape.TAGS: "json"}


def column_shape(tp: Any) -> str:
    """Return the column type (a dialect shape) a field of type `tp` is stored in."""
    shape = shape_of(tp)
    return _COLUMN_TYPES.get(shape, shape.value)


def _unwrap(tp: Any) -> Any:
    return optional_inner(tp)[0]


class RowCodec:
    """Encodes entities of one kind to row lists and decodes rows back, for one dialect.

    The two directions are generated once per kind as plain Python functions (one call per
    row instead of one per field: it halves the cost of moving rows). Only column positions
    and model field names enter the generated source; values travel as arguments.
    Decoding trusts the row (the store wrote it): no validation runs on load.
    """

    def __init__(self, kind: Kind, dialect: Dialect) -> None:
        self.kind = kind
        self.dialect = dialect
        hints = field_types(kind.cls)
        self.columns: list[Column] = []
        self._namespace: dict[str, Any] = {
            "cls": builder(kind.cls, positional=True),
            "Money": Money,
        }
        encode_parts: list[str] = []
        decode_parts: list[str] = []
        self.field_columns: dict[str, tuple[int, ...]] = {}
        """The positions of the columns each field is stored in (none: its own table)."""
        for index, field in enumerate(attrs.fields(kind.cls)):
            if field.name in _OWN_TABLE:
                decode_parts.append("history")  # its own table: handed in by the caller
                self.field_columns[field.name] = ()
                continue
            first = len(self.columns)
            encode, decode = self._field(index, field.name, hints[field.name], first)
            encode_parts.append(encode)
            decode_parts.append(decode)
            self.field_columns[field.name] = tuple(range(first, len(self.columns)))
        self.names = [c.name for c in self.columns]
        self.has_history = "stage_history" in hints
        source = (
            f"def encode(e):\n    return [{', '.join(encode_parts)}]\n"
            f"def decode(row, history=()):\n    return cls({', '.join(decode_parts)})\n"
        )
        what = f"row codec: {kind.name} ({dialect.name})"
        self.encode: Callable[[Entity], list[Any]] = generate(
            source, self._namespace, "encode", what=what
        )
        self.decode: Callable[..., Entity] = self._namespace["decode"]
        """Build the entity a row holds, trusting it: ``decode(row, history=())``."""

    def _helper(self, name: str, value: Any) -> str:
        self._namespace[name] = value
        return name

    def _field(self, index: int, name: str, tp: Any, position: int) -> tuple[str, str]:
        """Return the encode and decode expressions of one field; register its columns."""
        enc, dec = self.dialect.encoders, self.dialect.decoders
        passthrough = self.dialect.passthrough
        col = f"row[{position}]"
        value = f"e.{name}"
        if name == "custom":
            self.columns.append(Column(name, "json"))
            dump = self._helper("dump_json", enc["json"])
            to = self._helper("custom_to_plain", custom_to_plain)
            back_fn, load_fn = custom_from_plain, dec["json"]
            empty_custom = self._helper("empty_custom", custom_from_plain(None))
            decode = self._helper("decode_custom", _interning(lambda raw: back_fn(load_fn(raw))))
            return (
                f"({dump}({to}({value})) if {value} else None)",
                f"({empty_custom} if {col} is None else {decode}({col}))",
            )
        shape = column_shape(tp)
        if shape == "money":
            self.columns += [Column(name, "decimal"), Column(f"{name}_currency", "text")]
            amount = self._helper("enc_decimal", enc["decimal"])
            back = self._helper("dec_decimal", dec["decimal"])
            pair = f"({amount}({value}.amount), {value}.currency)"
            return (
                f"*((None, None) if {value} is None else {pair})",
                f"(None if {col} is None else Money({back}({col}), row[{position + 1}]))",
            )
        if shape == "json":
            self.columns.append(Column(name, "json"))
            to = self._helper(f"plain{index}", encoder_for(tp))
            dump = self._helper("dump_json", enc["json"])
            empty = self._helper(f"empty{index}", _empty_value(tp))
            value_decoder, json_loader = decoder_for(tp), dec["json"]
            decode = self._helper(
                f"decode{index}", _interning(lambda raw: value_decoder(json_loader(raw)))
            )
            return (
                f"({dump}({to}({value})) if {value} else None)",
                f"({empty} if {col} is None else {decode}({col}))",
            )
        plain = _unwrap(tp)
        if plain is dt.timedelta:
            self.columns.append(Column(name, "int"))
            to = self._helper("plain_timedelta", to_plain)
            back = self._helper("timedelta", dt.timedelta)
            return (
                f"(None if {value} is None else {to}({value}))",
                f"(None if {col} is None else {back}(microseconds={col}))",
            )
        if isinstance(plain, type) and issubclass(plain, enum.Enum):
            self.columns.append(Column(name, "text"))
            members = self._helper(f"members{index}", {None: None, **{m.value: m for m in plain}})
            return f"(None if {value} is None else {value}.value)", f"{members}[{col}]"
        self.columns.append(Column(name, shape))
        if shape in passthrough:
            return value, col
        to = self._helper(f"enc_{shape}", enc[shape])
        back = self._helper(f"raw_{shape}", self.dialect.raw_decoders[shape])
        if name == "created_at":  # remembered: a record's updated_at is often the same
            return f"{to}({value})", f"(created := {back}({col}))"
        if name == "updated_at":
            return f"{to}({value})", f"(created if {col} == row[{position - 1}] else {back}({col}))"
        return f"{to}({value})", f"(None if {col} is None else {back}({col}))"


def _interning(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a JSON column decoder so equal raw values share one decoded (immutable) value.

    Tags, custom values and the like repeat across rows; decoding each distinct text once
    saves time and memory. The cache is bounded and simply starts over when full.
    """
    cache: dict[Any, Any] = {}

    def decode_interned(raw: Any) -> Any:
        if type(raw) is not str:  # drivers that parse JSON themselves hand over lists/dicts
            return decode(raw)
        value = cache.get(raw, _MISSING)
        if value is _MISSING:
            if len(cache) >= _INTERN_LIMIT:
                cache.clear()
            value = cache[raw] = decode(raw)
        return value

    return decode_interned


_MISSING = object()
_INTERN_LIMIT = 4096


def _empty_value(tp: Any) -> Any:
    base = _unwrap(tp)
    origin = typing.get_origin(base)
    if origin is tuple:
        return ()
    if origin is frozenset:
        return frozenset()
    if origin is FrozenMap:
        return FrozenMap()
    if base is not tp:
        return None
    try:
        return base()
    except TypeError:
        return None


class StayCodec:
    """Rows of the ``deal_stages`` table: one per stay in a deal's stage history."""

    columns = (
        ("deal_id", "uuid"),
        ("seq", "int"),
        ("stage", "text"),
        ("entered_at", "timestamp"),
        ("left_at", "timestamp"),
        ("moved_by", "text"),
        ("amount", "decimal"),
        ("amount_currency", "text"),
        ("expected_close", "date"),
        ("probability", "real"),
        ("forecast_category", "text"),
        ("note", "text"),
    )

    def __init__(self, dialect: Dialect) -> None:
        self.names = [name for name, _shape in self.columns]
        self._enc = [dialect.encoders[shape] for _name, shape in self.columns]
        self._dec = [dialect.decoders[shape] for _name, shape in self.columns]

    def encode(self, deal_id: uuid.UUID, history: Sequence[StageStay]) -> list[list[Any]]:
        """Return one row per stay, numbered from 0."""
        rows = []
        for seq, stay in enumerate(history):
            raw = [
                deal_id,
                seq,
                stay.stage,
                stay.entered_at,
                stay.left_at,
                stay.moved_by,
                stay.amount.amount if stay.amount else None,
                stay.amount.currency if stay.amount else None,
                stay.expected_close,
                stay.probability,
                stay.forecast_category.value
                if isinstance(stay.forecast_category, ForecastCategory)
                else None,
                stay.note,
            ]
            rows.append([enc(v) for enc, v in zip(self._enc, raw, strict=True)])
        return rows

    def decode(self, row: Sequence[Any]) -> tuple[uuid.UUID, StageStay]:
        """Return the deal id and the stay a row holds."""
        v = [dec(x) for dec, x in zip(self._dec, row, strict=True)]
        stay = StageStay(
            stage=v[2],
            entered_at=v[3],
            left_at=v[4],
            moved_by=v[5],
            amount=None if v[6] is None else Money(v[6], v[7]),
            expected_close=v[8],
            probability=v[9],
            forecast_category=None if v[10] is None else ForecastCategory(v[10]),
            note=v[11],
        )
        return v[0], stay


class RowCodecs(dict[str, RowCodec]):
    """A store's row codec of each kind, and what else it prepares once for every transaction.

    Attributes:
        stays: The codec of a deal's stage-history rows.
        select: Each kind's ``SELECT <columns> FROM <table>`` (a look-up adds its WHERE).
    """

    def __init__(self, dialect: Dialect, kinds: Mapping[str, Kind]) -> None:
        super().__init__((name, RowCodec(kind, dialect)) for name, kind in kinds.items())
        self.stays = StayCodec(dialect)
        self.select = {
            name: f"SELECT {', '.join(codec.names)} FROM {kinds[name].table}"
            for name, codec in self.items()
        }
