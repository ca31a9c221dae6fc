"""The SQL schema history: fixed migration steps, from an empty database to the newest.

Each step in `MIGRATIONS` moves a database one schema version up; `SCHEMA_VERSION` is the
newest. A database records its version in ``crmkit_meta``; opening an older one applies the
missing steps in one transaction, opening a newer one is refused.

The steps are history, so they never change: each table's columns are listed here by name
and shape (spelled through the dialect's type names), never read from today's model or row
codecs. A field added to a kind is a new step (`_add_columns`); a test checks that the
newest schema holds exactly the columns the row codecs read and write, and golden files
under ``tests/storage/golden/`` pin the DDL each step produces on each database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from crmkit.errors import StoreOpenError
from crmkit.model.registry import KINDS
from crmkit.storage.sql.dialect import Dialect
from crmkit.storage.sql.rows import RowCodecs

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Refusal",
    "apply_migrations",
    "codecs",
    "newest_version",
]

Columns = tuple[tuple[str, str], ...]
"""A table's columns as (name, shape) pairs; shapes are `crmkit.storage.sql.dialect.SHAPES`."""

_RECORD = (
    ("id", "uuid"),
    ("version", "int"),
    ("created_at", "timestamp"),
    ("updated_at", "timestamp"),
    ("archived_at", "timestamp"),
    ("external_ids", "json"),
    ("custom", "json"),
)
"""The columns every record table opens with."""

# The record tables as schema version 1 created them, in creation order. Frozen: never edit
# a column list here; add a step that adds the column (see `_add_columns`).
_V1_RECORD_TABLES: dict[str, Columns] = {
    "companies": (
        *_RECORD,
        ("name", "text"),
        ("domain", "text"),
        ("industry", "text"),
        ("employees", "int"),
        ("annual_revenue", "decimal"),
        ("annual_revenue_currency", "text"),
        ("country", "text"),
        ("address", "json"),
        ("phone", "text"),
        ("parent_id", "uuid"),
        ("owner", "text"),
        ("tags", "json"),
    ),
    "contacts": (
        *_RECORD,
        ("first_name", "text"),
        ("last_name", "text"),
        ("emails", "json"),
        ("phones", "json"),
        ("title", "text"),
        ("company_id", "uuid"),
        ("country", "text"),
        ("address", "json"),
        ("time_zone", "text"),
        ("owner", "text"),
        ("tags", "json"),
        ("lifecycle_stage", "text"),
        ("lead_source", "text"),
        ("consents", "json"),
    ),
    "leads": (
        *_RECORD,
        ("source", "text"),
        ("status", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("email", "json"),
        ("phone", "json"),
        ("title", "text"),
        ("company_name", "text"),
        ("company_domain", "text"),
        ("industry", "text"),
        ("employees", "int"),
        ("country", "text"),
        ("owner", "text"),
        ("tags", "json"),
        ("bant", "json"),
        ("qualification", "json"),
        ("unqualified_reason", "text"),
        ("converted_contact_id", "uuid"),
        ("converted_company_id", "uuid"),
        ("converted_deal_id", "uuid"),
        ("converted_at", "timestamp"),
    ),
    "deals": (
        *_RECORD,
        ("name", "text"),
        ("pipeline", "text"),
        ("stage", "text"),
        ("amount", "decimal"),
        ("amount_currency", "text"),
        ("expected_close", "date"),
        ("owner", "text"),
        ("team", "text"),
        ("contact_ids", "json"),
        ("company_id", "uuid"),
        ("lead_id", "uuid"),
        ("source", "text"),
        ("lost_reason", "text"),
        ("probability_override", "real"),
        ("closed_at", "timestamp"),
        ("tags", "json"),
    ),
    "activities": (
        *_RECORD,
        ("kind", "text"),
        ("occurred_at", "timestamp"),
        ("outcome", "text"),
        ("direction", "text"),
        ("duration", "int"),
        ("response_time", "int"),
        ("subject", "text"),
        ("contact_id", "uuid"),
        ("company_id", "uuid"),
        ("deal_id", "uuid"),
        ("lead_id", "uuid"),
        ("owner", "text"),
    ),
    "tasks": (
        *_RECORD,
        ("title", "text"),
        ("due_at", "timestamp"),
        ("priority", "text"),
        ("status", "text"),
        ("assignee", "text"),
        ("notes", "text"),
        ("contact_id", "uuid"),
        ("company_id", "uuid"),
        ("deal_id", "uuid"),
        ("lead_id", "uuid"),
        ("completed_at", "timestamp"),
    ),
    "orders": (
        *_RECORD,
        ("total", "decimal"),
        ("total_currency", "text"),
        ("placed_at", "timestamp"),
        ("status", "text"),
        ("contact_id", "uuid"),
        ("company_id", "uuid"),
        ("number", "text"),
        ("lines", "json"),
    ),
}

# The foreign keys schema version 1 declared (the shared storage code also checks every
# reference).
_V1_FOREIGN_KEYS = {
    ("companies", "parent_id"): "companies",
    ("contacts", "company_id"): "companies",
    ("deals", "company_id"): "companies",
    ("activities", "contact_id"): "contacts",
    ("activities", "company_id"): "companies",
    ("activities", "deal_id"): "deals",
    ("tasks", "contact_id"): "contacts",
    ("tasks", "company_id"): "companies",
    ("tasks", "deal_id"): "deals",
    ("orders", "contact_id"): "contacts",
    ("orders", "company_id"): "companies",
}
_V1_NOT_NULL = frozenset({"version", "created_at", "updated_at"})

_V1_DEAL_STAGES: Columns = (
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


@attrs.frozen
class Refusal:
    """A check inside a migration step: when `query` finds rows, the migration stops.

    Each row the query returns starts with a record id and goes on with words describing
    it; the error names up to 20 of them after `problem`.
    """

    query: str
    problem: str

    def __str__(self) -> str:
        return f"-- stop if any row: {self.query}"


Statement = str | Refusal
Migration = Callable[[Dialect], list[Statement]]


def codecs(dialect: Dialect) -> RowCodecs:
    """Return a row codec per kind for a dialect (and the statements made from them)."""
    return RowCodecs(dialect, KINDS)


def _v1_tables(dialect: Dialect) -> list[Statement]:
    """Version 1: the meta table, one table per kind, and the side tables."""
    t = dialect.column_types
    statements: list[Statement] = [
        f"CREATE TABLE crmkit_meta (key {t['text']} PRIMARY KEY, value {t['text']} NOT NULL)"
    ]
    for table, columns in _V1_RECORD_TABLES.items():
        parts = []
        for name, shape in columns:
            sql = f"{name} {t[shape]}"
            if name == "id":
                sql += " PRIMARY KEY"
            elif name in _V1_NOT_NULL:
                sql += " NOT NULL"
            target = _V1_FOREIGN_KEYS.get((table, name))
            if target is not None:
                sql += f" REFERENCES {target} (id)"
            parts.append(sql)
        statements.append(f"CREATE TABLE {table} ({', '.join(parts)})")
    stays = ", ".join(f"{n} {t[s]}" for n, s in _V1_DEAL_STAGES)
    statements += [
        f"CREATE TABLE deal_stages ({stays}, PRIMARY KEY (deal_id, seq),"
        " FOREIGN KEY (deal_id) REFERENCES deals (id))",
        f"CREATE TABLE deal_contacts (deal_id {t['uuid']} NOT NULL REFERENCES deals (id),"
        f" contact_id {t['uuid']} NOT NULL REFERENCES contacts (id),"
        " PRIMARY KEY (deal_id, contact_id))",
        f"CREATE TABLE contact_emails (contact_id {t['uuid']} NOT NULL REFERENCES contacts (id),"
        f" position {t['int']} NOT NULL, match_key {t['text']} NOT NULL,"
        " PRIMARY KEY (contact_id, position))",
        f"CREATE TABLE record_tags (record_id {t['uuid']} NOT NULL, kind {t['text']} NOT NULL,"
        f" tag {t['text']} NOT NULL, PRIMARY KEY (record_id, tag))",
        f"CREATE TABLE record_facts (record_id {t['uuid']} PRIMARY KEY,"
        f" last_activity_at {t['timestamp']}, activity_count {t['int']} NOT NULL,"
        f" order_count {t['int']} NOT NULL, last_order_at {t['timestamp']})",
        f"CREATE TABLE record_activity_counts (record_id {t['uuid']} NOT NULL,"
        f" kind {t['text']} NOT NULL, count {t['int']} NOT NULL, PRIMARY KEY (record_id, kind))",
        f"CREATE TABLE record_order_totals (record_id {t['uuid']} NOT NULL,"
        f" currency {t['text']} NOT NULL, total {t['decimal']} NOT NULL,"
        " PRIMARY KEY (record_id, currency))",
        f"CREATE TABLE history (seq {dialect.autoincrement}, entity_id {t['uuid']} NOT NULL,"
        f" kind {t['text']} NOT NULL, version {t['int']} NOT NULL, action {t['text']} NOT NULL,"
        f" actor {t['text']}, at {t['timestamp']} NOT NULL, changes {t['json']})",
        f"CREATE TABLE events (position {dialect.autoincrement},"
        f" event_type {t['text']} NOT NULL, payload {t['json']} NOT NULL, actor {t['text']},"
        f" recorded_at {t['timestamp']} NOT NULL)",
        f"CREATE TABLE custom_field_schemas (kind {t['text']} NOT NULL,"
        f" version {t['int']} NOT NULL, definition {t['json']} NOT NULL,"
        " PRIMARY KEY (kind, version))",
    ]
    return statements


def _index(table: str, columns: str) -> str:
    return f"CREATE INDEX ix_{table}_{columns.replace(', ', '_')} ON {table} ({columns})"


def _v2_indexes(dialect: Dialect) -> list[Statement]:
    """Version 2: the look-up indexes (foreign keys, email match keys, domains, tags)."""
    wanted = [
        ("contact_emails", "match_key"),
        ("companies", "domain"),
        ("companies", "parent_id"),
        ("contacts", "company_id"),
        ("contacts", "owner"),
        ("deals", "company_id"),
        ("deals", "owner"),
        ("deals", "pipeline, stage"),
        ("deals", "lead_id"),
        ("deal_contacts", "contact_id"),
        ("leads", "status"),
        ("leads", "owner"),
        ("record_tags", "kind, tag"),
        ("history", "entity_id"),
    ]
    # (link, time, id): serves related() newest first and grouped() keyset pages in order.
    for table in ("activities", "tasks"):
        time = "occurred_at" if table == "activities" else "created_at"
        for column in ("contact_id", "company_id", "deal_id", "lead_id"):
            wanted.append((table, f"{column}, {time}, id"))
    for column in ("contact_id", "company_id"):
        wanted.append(("orders", f"{column}, placed_at, id"))
    return [_index(table, columns) for table, columns in wanted]


def _v3_scores(dialect: Dialect) -> list[Statement]:
    """Version 3: the score table (the latest score per record and scorer)."""
    t = dialect.column_types
    return [
        f"CREATE TABLE scores (record_id {t['uuid']} NOT NULL, scorer {t['text']} NOT NULL,"
        f" value {t['real']} NOT NULL, grade {t['text']}, breakdown {t['json']},"
        f" scorer_version {t['text']} NOT NULL, computed_at {t['timestamp']} NOT NULL,"
        " PRIMARY KEY (record_id, scorer))",
        "CREATE INDEX ix_scores_scorer_value ON scores (scorer, value)",
    ]


def _v4_segments(dialect: Dialect) -> list[Statement]:
    """Version 4: saved segments and their member lists; indexes on derived facts."""
    t = dialect.column_types
    return [
        f"CREATE TABLE segments (name {t['text']} PRIMARY KEY, kind {t['text']} NOT NULL,"
        f" definition {t['json']} NOT NULL, static {t['bool']} NOT NULL, description {t['text']},"
        f" version {t['int']} NOT NULL, created_at {t['timestamp']}, updated_at {t['timestamp']},"
        f" evaluated_at {t['timestamp']}, evaluated_by {t['text']},"
        f" member_count {t['int']} NOT NULL)",
        f"CREATE TABLE segment_members (segment {t['text']} NOT NULL,"
        f" record_id {t['uuid']} NOT NULL, PRIMARY KEY (segment, record_id))",
        "CREATE INDEX ix_record_facts_last_activity_at ON record_facts (last_activity_at)",
        "CREATE INDEX ix_record_facts_last_order_at ON record_facts (last_order_at)",
        "CREATE INDEX ix_record_order_totals_currency_total"
        " ON record_order_totals (currency, total)",
    ]


# The kinds and their tables as schema version 5 knew them (a new kind adds its own step).
_V5_KIND_TABLES = (
    ("company", "companies"),
    ("contact", "contacts"),
    ("lead", "leads"),
    ("deal", "deals"),
    ("activity", "activities"),
    ("task", "tasks"),
    ("order", "orders"),
)


def _v5_record_ids(dialect: Dialect) -> list[Statement]:
    """Version 5: ``record_ids``, every record's id once with its kind (ids unique across kinds).

    The store writes a record's ``record_ids`` row in the same batch as the record and
    deletes it with the record; its primary key makes the database refuse a second record
    with the same id, whatever its kind. Existing records are registered here; a database
    in which two kinds already share an id is refused with the ids named (nothing changes).
    """
    t = dialect.column_types
    every_id = " UNION ALL ".join(
        f"SELECT id, '{kind}' AS kind FROM {table}" for kind, table in _V5_KIND_TABLES
    )
    return [
        Refusal(
            f"WITH every_id AS ({every_id}) SELECT a.id, a.kind, b.kind FROM every_id a"
            " JOIN every_id b ON a.id = b.id AND a.kind < b.kind ORDER BY a.id, a.kind, b.kind",
            "records of two kinds share an id; give one of each pair a new id with the crmkit"
            " that wrote the database, then open it again",
        ),
        f"CREATE TABLE record_ids (id {t['uuid']} PRIMARY KEY,"
        f" kind {t['text']} NOT NULL){dialect.clustered}",
        *(
            f"INSERT INTO record_ids (id, kind) SELECT id, '{kind}' FROM {table}"
            for kind, table in _V5_KIND_TABLES
        ),
    ]


def _v6_pipelines(dialect: Dialect) -> list[Statement]:
    """Version 6: the store's pipelines, every saved version of each (the newest is in use)."""
    t = dialect.column_types
    return [
        f"CREATE TABLE pipelines (key {t['text']} NOT NULL, version {t['int']} NOT NULL,"
        f" definition {t['json']} NOT NULL, saved_at {t['timestamp']} NOT NULL,"
        " PRIMARY KEY (key, version))",
    ]


def _v7_task_reminders(dialect: Dialect) -> list[Statement]:
    """Version 7: a task's reminders and recurrence; indexes for the task lists.

    ``next_reminder_at`` (derived by the model) is indexed so "reminders due between two
    instants" is a range scan; ``(assignee, due_at)`` serves one person's open, due-today
    and overdue lists, ``(status, due_at)`` everyone's.
    """
    columns = _add_columns(
        "tasks",
        (
            ("reminders", "json"),
            ("reminded_at", "timestamp"),
            ("next_reminder_at", "timestamp"),
            ("recurrence", "text"),
        ),
    )
    return [
        *columns(dialect),
        _index("tasks", "next_reminder_at"),
        _index("tasks", "assignee, due_at"),
        _index("tasks", "status, due_at"),
    ]


MIGRATIONS: tuple[Migration, ...] = (
    _v1_tables,
    _v2_indexes,
    _v3_scores,
    _v4_segments,
    _v5_record_ids,
    _v6_pipelines,
    _v7_task_reminders,
)
"""Migration ``i`` takes a database from schema version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this crmkit writes (its built-in kinds)."""


def newest_version() -> int:
    """Return the schema version stores migrate to: one per step in `MIGRATIONS`.

    Stores read it when they open, so a kind added with its own migration step (appended to
    `MIGRATIONS`, as a plug-in or a test does) is created in every store opened afterwards.
    """
    return len(MIGRATIONS)


def _add_columns(table: str, columns: Columns) -> Migration:
    """Return a step adding nullable columns to a table: how a new field of a kind arrives.

    Use it as the next entry of `MIGRATIONS`, e.g.
    ``_add_columns("contacts", (("nickname", "text"),))``, then refresh the golden files.
    """

    def step(dialect: Dialect) -> list[Statement]:
        t = dialect.column_types
        return [f"ALTER TABLE {table} ADD COLUMN {name} {t[shape]}" for name, shape in columns]

    return step


def apply_migrations(
    execute: Callable[[str, Sequence[Any]], Any], dialect: Dialect, version: int
) -> None:
    """Take a database from schema `version` to `newest_version()`; record the new version.

    Runs inside the caller's transaction (and lock); `execute(sql, params)` runs one
    statement and returns a cursor. A database already at the newest version is left
    untouched.

    Raises:
        StoreOpenError: A step's `Refusal` found rows (the caller rolls back).
    """
    newest = newest_version()
    for step in MIGRATIONS[version:]:
        for statement in step(dialect):
            if isinstance(statement, Refusal):
                _check(execute, dialect, statement, newest)
            else:
                execute(statement, ())
    if version < newest:
        execute(
            "INSERT INTO crmkit_meta (key, value) VALUES ('schema_version', "
            f"{dialect.param}) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(newest),),
        )


def _check(
    execute: Callable[[str, Sequence[Any]], Any],
    dialect: Dialect,
    refusal: Refusal,
    newest: int,
) -> None:
    rows = execute(refusal.query, ()).fetchall()
    if rows:
        decode = dialect.decoders["uuid"]
        named = "; ".join(f"{decode(r[0])} ({', '.join(map(str, r[1:]))})" for r in rows[:20])
        more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
        raise StoreOpenError(
            f"cannot migrate to schema version {newest}: {refusal.problem}: {named}{more}"
        )
