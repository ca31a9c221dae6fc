"""Row codecs: one entity ↔ one row of core columns, derived once from the model's fields.

Scalar fields become real columns (ids, text, numbers, instants, dates); Money becomes an
exact decimal column plus a ``<name>_currency`` column; structured fields (emails, tags,
addresses, lines, ...) and custom fields become JSON; a deal's stage history has a table
of its own (`crmkit.storage.sql.schema`).
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from crmkit.model.deal import StageStay
from crmkit.model.entity import Entity
from crmkit.storage.kinds import Kind
from crmkit.storage.plain import (
    custom_from_plain,
    custom_to_plain,
    decoder_for,
    field_types,
    to_plain,
)
from crmkit.storage.sql.dialect import Dialect
from crmkit.values.money import Money

__all__ = ["Column", "RowCodec", "StayCodec", "shape_of"]

_OWN_TABLE = frozenset({"stage_history"})


@attrs.frozen
class Column:
    """One column: its name, its shape, and whether it holds a Money's currency."""

    name: str
    shape: str


def shape_of(tp: Any) -> str:
    """Return the column shape for a field type (``json`` for anything structured)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return shape_of(inner[0]) if len(inner) == 1 else "json"
    if tp is uuid.UUID:
        return "uuid"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "text"
    simple = {
        str: "text",
        bool: "bool",
        int: "int",
        float: "real",
        dt.datetime: "timestamp",
        dt.date: "date",
        dt.timedelta: "int",
        Decimal: "decimal",
        Money: "money",
    }
    return simple.get(tp, "json")


def _unwrap(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return tp


class RowCodec:
    """Encodes entities of one kind to row tuples and decodes rows back, for one dialect.

    Decoding trusts the row (the store wrote it): no validation runs on load.
    """

    def __init__(self, kind: Kind, dialect: Dialect) -> None:
        self.kind = kind
        self.dialect = dialect
        hints = field_types(kind.cls)
        self.columns: list[Column] = []
        encoders: list[Callable[[Entity], list[Any]]] = []
        decoders: list[tuple[str, int, Callable[[Sequence[Any], int], Any]]] = []
        for field in attrs.fields(kind.cls):
            name = field.name
            if name in _OWN_TABLE:
                continue
            encode, decode, columns = self._field_codec(name, hints[name])
            position = len(self.columns)
            self.columns.extend(columns)
            encoders.append(encode)
            decoders.append((name, position, decode))
        self._encoders = encoders
        self._decoders = decoders
        self.names = [c.name for c in self.columns]
        self.has_history = "stage_history" in hints

    def _field_codec(
        self, name: str, tp: Any
    ) -> tuple[Callable[[Entity], list[Any]], Callable[[Sequence[Any], int], Any], list[Column]]:
        enc = self.dialect.encoders
        dec = self.dialect.decoders
        if name == "custom":
            dump, load = enc["json"], dec["json"]
            return (
                lambda e: [dump(custom_to_plain(e.custom) or None)],
                lambda row, i=0: custom_from_plain(load(row[i])),
                [Column(name, "json")],
            )
        shape = shape_of(tp)
        if shape == "money":
            to_amount, to_currency = enc["decimal"], enc["text"]
            from_amount = dec["decimal"]

            def encode_money(e: Entity) -> list[Any]:
                money = getattr(e, name)
                if money is None:
                    return [None, None]
                return [to_amount(money.amount), to_currency(money.currency)]

            def decode_money(row: Sequence[Any], i: int = 0) -> Money | None:
                amount = row[i]
                return None if amount is None else Money(from_amount(amount), row[i + 1])

            return (
                encode_money,
                decode_money,
                [
                    Column(name, "decimal"),
                    Column(f"{name}_currency", "text"),
                ],
            )
        if shape == "json":
            dump, load = enc["json"], dec["json"]
            value_decoder = decoder_for(tp)
            empty = _empty_value(tp)

            def encode_json(e: Entity) -> list[Any]:
                value = getattr(e, name)
                plain = to_plain(value)
                return [dump(plain) if plain not in (None, [], {}) else None]

            def decode_json(row: Sequence[Any], i: int = 0) -> Any:
                raw = row[i]
                return empty if raw is None else value_decoder(load(raw))

            return encode_json, decode_json, [Column(name, "json")]
        plain_type = _unwrap(tp)
        to_db = enc[shape]
        from_db = dec[shape]
        if plain_type is dt.timedelta:
            return (
                lambda e: [None if getattr(e, name) is None else to_plain(getattr(e, name))],
                lambda row, i=0: None if row[i] is None else dt.timedelta(microseconds=row[i]),
                [Column(name, "int")],
            )
        if isinstance(plain_type, type) and issubclass(plain_type, enum.Enum):
            members = {m.value: m for m in plain_type}
            return (
                lambda e: [None if getattr(e, name) is None else getattr(e, name).value],
                lambda row, i=0: None if row[i] is None else members[row[i]],
                [Column(name, "text")],
            )
        return (
            lambda e: [to_db(getattr(e, name))],
            lambda row, i=0: from_db(row[i]),
            [Column(name, shape)],
        )

    def encode(self, entity: Entity) -> list[Any]:
        """Return the row values for an entity, in `names` order."""
        row: list[Any] = []
        for encode in self._encoders:
            row.extend(encode(entity))
        return row

    def decode(self, row: Sequence[Any], history: tuple[StageStay, ...] = ()) -> Entity:
        """Build the entity a row holds (trusting it: no validation)."""
        values = {name: decode(row, position) for name, position, decode in self._decoders}
        if self.has_history:
            values["stage_history"] = history
        return self.kind.cls(**values)


def _empty_value(tp: Any) -> Any:
    from crmkit.model.frozen_map import FrozenMap

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
        from crmkit.values.enums import ForecastCategory

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
        from crmkit.values.enums import ForecastCategory

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
