"""How one SQL database spells types and values: the only thing SQL adapters do differently.

A column has a *shape* (``uuid``, ``text``, ``timestamp``, ``decimal``, ``json``, ...); a
dialect maps each shape to a column type, an encoder (Python value → driver value) and a
decoder (driver value → Python value).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

__all__ = ["SHAPES", "Dialect", "SqliteDialect", "compact_json"]

SHAPES = ("uuid", "text", "int", "real", "bool", "timestamp", "date", "decimal", "json")

Codec = Callable[[Any], Any]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Dialect(Protocol):
    """What an SQL adapter tells the shared SQL code about its database."""

    name: str
    param: str
    column_types: dict[str, str]
    encoders: dict[str, Codec]
    decoders: dict[str, Codec]
    raw_decoders: dict[str, Codec]
    passthrough: frozenset[str]
    autoincrement: str
    clustered: str
    """What ends a ``CREATE TABLE`` whose rows are best kept in primary-key order alone."""

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows into a table in the fastest way the driver offers."""
        ...


def _same(value: Any) -> Any:
    return value


def _none_or(codec: Codec) -> Codec:
    return lambda v: None if v is None else codec(v)


def _timestamp_to_int(value: dt.datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _int_to_timestamp(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value)


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# The C encoder `JSONEncoder.encode` builds anew on every call, built once: a third of the
# cost per call on the short lists and objects a row holds (a contact has four). No cycle
# check: what is encoded is plain data made by `crmkit.storage.plain`.
_C_ENCODE = (
    None
    if json.encoder.c_make_encoder is None  # type: ignore[attr-defined]
    else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _JSON.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def compact_json(value: Any) -> str:
    """Encode JSON-ready data as compact text: no spaces, non-ASCII kept as it is.

    Raises:
        TypeError: For a value JSON cannot hold (as `json.dumps` does).
    """
    if _C_ENCODE is None or isinstance(value, str):  # the C encoder wants a container
        return _JSON.encode(value)
    return "".join(_C_ENCODE(value, 0))


_new_object = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def _uuid_from_bytes(value: bytes) -> uuid.UUID:
    """Build a UUID from the 16 bytes the store wrote, without re-checking them.

    Equal to ``uuid.UUID(bytes=value)`` (a test holds it to that) at a third of the cost:
    loading a contact builds one, so it shows in every read.
    """
    ident: uuid.UUID = _new_object(uuid.UUID)
    _set_slot(ident, "int", int.from_bytes(value, "big"))
    _set_slot(ident, "is_safe", _UNKNOWN_SAFETY)
    return ident


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _load_json(text: str) -> Any:
    """Parse JSON the store wrote itself (trusted: no check for trailing text)."""
    return _SCAN(text, 0)[0]


class SqliteDialect:
    """SQLite: uuids as 16-byte blobs, instants as integer microseconds, money as text.

    Uuids are time-ordered, so the primary key appends; instants are microseconds since the
    Unix epoch in UTC; money is exact decimal text next to its currency.
    """

    name = "sqlite"
    param = "?"
    passthrough = frozenset({"text", "int", "real"})
    autoincrement = "INTEGER PRIMARY KEY AUTOINCREMENT"
    clustered = " WITHOUT ROWID"  # one b-tree keyed by the primary key instead of two
    column_types = {
        "uuid": "BLOB",
        "text": "TEXT",
        "int": "INTEGER",
        "real": "REAL",
        "bool": "INTEGER",
        "timestamp": "INTEGER",
        "date": "TEXT",
        "decimal": "TEXT",
        "json": "TEXT",
    }
    encoders: dict[str, Codec] = {
        "uuid": _none_or(lambda v: v.bytes),
        "text": _none_or(str),
        "int": _none_or(int),
        "real": _none_or(float),
        "bool": _none_or(int),
        "timestamp": _none_or(_timestamp_to_int),
        "date": _none_or(lambda v: v.isoformat()),
        "decimal": _none_or(str),
        "json": _none_or(compact_json),  # see passthrough: text, int and real pass as they are
    }
    raw_decoders: dict[str, Codec] = {
        "uuid": _uuid_from_bytes,
        "text": _same,
        "int": _same,
        "real": _same,
        "bool": bool,
        "timestamp": _int_to_timestamp,
        "date": dt.date.fromisoformat,
        "decimal": Decimal,
        "json": _load_json,
    }
    """Decoders for values known not to be NULL (generated row decoders check first)."""
    decoders: dict[str, Codec] = {
        shape: codec if codec is _same else _none_or(codec) for shape, codec in raw_decoders.items()
    }

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert with ``executemany`` (one prepared statement); a single row with ``execute``."""
        if rows:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)
