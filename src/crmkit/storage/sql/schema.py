"""The SQL schema: tables derived from the row codecs, side tables, indexes, migrations.

Each migration moves a database one schema version up; `SCHEMA_VERSION` is the newest. A
database records its version in ``crmkit_meta``; opening an older one applies the missing
migrations in one transaction, opening a newer one is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from crmkit.storage.kinds import KINDS
from crmkit.storage.sql.dialect import Dialect
from crmkit.storage.sql.rows import RowCodec, StayCodec

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "apply_migrations", "codecs"]

# The foreign keys declared in SQL (the shared storage code also checks every reference).
_FOREIGN_KEYS = {
    ("company", "parent_id"): "companies",
    ("contact", "company_id"): "companies",
    ("deal", "company_id"): "companies",
    ("activity", "contact_id"): "contacts",
    ("activity", "company_id"): "companies",
    ("activity", "deal_id"): "deals",
    ("task", "contact_id"): "contacts",
    ("task", "company_id"): "companies",
    ("task", "deal_id"): "deals",
    ("order", "contact_id"): "contacts",
    ("order", "company_id"): "companies",
}
_TABLE_ORDER = ("company", "contact", "lead", "deal", "activity", "task", "order")


def codecs(dialect: Dialect) -> dict[str, RowCodec]:
    """Return a row codec per kind for a dialect."""
    return {name: RowCodec(kind, dialect) for name, kind in KINDS.items()}


def _tables(dialect: Dialect) -> list[str]:
    t = dialect.column_types
    statements = [
        f"CREATE TABLE crmkit_meta (key {t['text']} PRIMARY KEY, value {t['text']} NOT NULL)"
    ]
    row_codecs = codecs(dialect)
    for name in _TABLE_ORDER:
        codec = row_codecs[name]
        table = KINDS[name].table
        columns = []
        for column in codec.columns:
            sql = f"{column.name} {t[column.shape]}"
            if column.name == "id":
                sql += " PRIMARY KEY"
            elif column.name in ("version", "created_at", "updated_at"):
                sql += " NOT NULL"
            target = _FOREIGN_KEYS.get((name, column.name))
            if target is not None:
                sql += f" REFERENCES {target} (id)"
            columns.append(sql)
        statements.append(f"CREATE TABLE {table} ({', '.join(columns)})")
    stays = ", ".join(f"{n} {t[s]}" for n, s in StayCodec.columns)
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


def _indexes(dialect: Dialect) -> list[str]:
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
    return [
        f"CREATE INDEX ix_{table}_{columns.replace(', ', '_')} ON {table} ({columns})"
        for table, columns in wanted
    ]


def _scores(dialect: Dialect) -> list[str]:
    t = dialect.column_types
    return [
        f"CREATE TABLE scores (record_id {t['uuid']} NOT NULL, scorer {t['text']} NOT NULL,"
        f" value {t['real']} NOT NULL, grade {t['text']}, breakdown {t['json']},"
        f" scorer_version {t['text']} NOT NULL, computed_at {t['timestamp']} NOT NULL,"
        " PRIMARY KEY (record_id, scorer))",
        "CREATE INDEX ix_scores_scorer_value ON scores (scorer, value)",
    ]


def _segments(dialect: Dialect) -> list[str]:
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


Migration = Callable[[Dialect], list[str]]

MIGRATIONS: tuple[Migration, ...] = (
    _tables,  # version 1: the tables
    _indexes,  # version 2: the look-up indexes (foreign keys, email match keys, domains, tags)
    _scores,  # version 3: the score table (latest score per record and scorer)
    _segments,  # version 4: saved segments and their member lists; indexes on derived facts
)
"""Migration ``i`` takes a database from schema version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this crmkit writes."""


def apply_migrations(
    execute: Callable[[str, Sequence[Any]], object], dialect: Dialect, version: int
) -> None:
    """Take a database from schema `version` to `SCHEMA_VERSION` and record the new version.

    Runs inside the caller's transaction (and lock); `execute(sql, params)` runs one
    statement. A database already at the newest version is left untouched.
    """
    for step in MIGRATIONS[version:]:
        for statement in step(dialect):
            execute(statement, ())
    if version < SCHEMA_VERSION:
        execute(
            "INSERT INTO crmkit_meta (key, value) VALUES ('schema_version', "
            f"{dialect.param}) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
