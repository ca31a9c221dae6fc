"""How PostgreSQL spells crmkit's column shapes, and how rows get in fast (``COPY``).

psycopg 3 already converts most values both ways (uuid ↔ `uuid.UUID`, numeric ↔ `Decimal`,
timestamptz ↔ aware `datetime`, date ↔ `date`, jsonb → Python objects), so most shapes pass
through untouched. Two things need care and are settled per connection by the store:

- **time zone**: every connection runs with ``TimeZone = 'UTC'``, so timestamptz values come
  back as stdlib datetimes in `datetime.UTC`, equal to what the model holds;
- **JSON key order**: jsonb keeps object keys sorted by length, not alphabetically; `load_json`
  (installed as the connection's jsonb loader) rebuilds every object with sorted keys, the
  order `crmkit.model.frozen_map.FrozenMap` keeps, so loaded mappings are exactly the stored
  ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from crmkit.storage.sql.dialect import compact_json

__all__ = ["COPY_THRESHOLD", "PostgresDialect", "dump_json", "load_json"]

Codec = Callable[[Any], Any]

COPY_THRESHOLD = 24
"""From this many rows on, `PostgresDialect.insert_rows` uses ``COPY``; below, one ``INSERT``.

``COPY`` costs two round trips (start, then data and end) plus ~1.6 µs a row; one multi-row
``INSERT ... VALUES`` costs one round trip but its cost per row climbs fast past a couple of
dozen rows (a pipelined ``executemany`` is slower than both from two rows on). Measured on a
local server (µs per call): 1 row 27 vs 49 (COPY), 16 rows 43 vs 66, 32 rows 174 vs 83; see
``benchmarks/storage_postgres.py``.
"""


def dump_json(value: Any) -> str | None:
    """Encode JSON-ready data as compact text (sent untyped; the column makes it jsonb)."""
    return None if value is None else compact_json(value)


def _sorted_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) < 2:
        return dict(pairs)
    pairs.sort(key=_first)
    return dict(pairs)


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


_DECODER = json.JSONDecoder(object_pairs_hook=_sorted_object)
_decode = _DECODER.decode


def load_json(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse jsonb text as psycopg receives it, with every object's keys in sorted order."""
    if not isinstance(data, str):
        data = bytes(data).decode()
    return _decode(data)


def _identity(value: Any) -> Any:
    return value


class PostgresDialect:
    """PostgreSQL: native uuid, timestamptz, numeric and jsonb; text compares by code point.

    Text columns use ``COLLATE "C"`` so that ordering and range comparisons follow code points,
    as in SQLite and in memory (segments compare text the same way on every adapter).
    """

    name = "postgresql"
    param = "%s"
    passthrough = frozenset({"uuid", "text", "int", "real", "bool", "timestamp", "date", "decimal"})
    autoincrement = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    clustered = ""  # a heap and its primary-key index, as for every table
    column_types = {
        "uuid": "UUID",
        "text": 'TEXT COLLATE "C"',
        "int": "BIGINT",
        "real": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ",
        "date": "DATE",
        "decimal": "NUMERIC",
        "json": "JSONB",
    }
    encoders: dict[str, Codec] = {
        "uuid": _identity,
        "text": _identity,
        "int": _identity,
        "real": _identity,
        "bool": _identity,
        "timestamp": _identity,
        "date": _identity,
        "decimal": _identity,
        "json": dump_json,
    }
    decoders: dict[str, Codec] = {
        "uuid": _identity,
        "text": _identity,
        "int": _identity,
        "real": _identity,
        "bool": _identity,
        "timestamp": _identity,
        "date": _identity,
        "decimal": _identity,
        "json": _identity,  # psycopg parsed it already (with `load_json`)
    }
    raw_decoders = decoders

    def __init__(self, copy_threshold: int = COPY_THRESHOLD) -> None:
        self.copy_threshold = copy_threshold

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows: ``COPY`` for many, one multi-row ``INSERT`` for a few."""
        if not rows:
            return
        if len(rows) >= self.copy_threshold:
            self.copy_rows(cursor, table, columns, rows)
        else:
            self.insert_values(cursor, table, columns, rows)

    def copy_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Load rows with ``COPY table (columns) FROM STDIN`` (text format).

        Table and column names come from the model, never from user input.
        """
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def insert_values(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows with one ``INSERT ... VALUES (...), (...)`` statement (one round trip)."""
        group = f"({', '.join(['%s'] * len(columns))})"
        values = ", ".join([group] * len(rows))
        params = [value for row in rows for value in row]
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}", params)
