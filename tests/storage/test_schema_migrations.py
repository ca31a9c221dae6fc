"""A database at any past schema version migrates to exactly what a fresh one is.

Each test builds a database at a past version from the fixed migration steps (or takes a
newest one back to version 4 by dropping what version 5 added), opens it with crmkit and
compares its tables, columns, indexes and constraints with a fresh database's: from
``sqlite_master`` on SQLite, from ``information_schema``, ``pg_indexes`` and
``pg_constraint`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit import Company, Contact, Deal, Task
from crmkit.errors import StoreOpenError, ValidationError
from crmkit.storage.protocol import Store
from crmkit.storage.sql.dialect import Dialect, SqliteDialect
from crmkit.storage.sql.schema import MIGRATIONS, SCHEMA_VERSION, Refusal
from crmkit.storage.sqlite.store import SqliteStore
from crmkit.work import reminders_due

from .adapters import drop_schemas, with_schema

PAST_VERSIONS = list(range(SCHEMA_VERSION))

Execute = Callable[[str, Sequence[Any]], Any]


def build_at(execute: Execute, dialect: Dialect, version: int) -> None:
    """Write a database at `version` from the fixed steps, as that crmkit left it."""
    for step in MIGRATIONS[:version]:
        for statement in step(dialect):
            if not isinstance(statement, Refusal):
                execute(statement, ())
    if version:
        execute(
            f"INSERT INTO crmkit_meta (key, value) VALUES ('schema_version', {dialect.param})",
            (str(version),),
        )


# -- SQLite ------------------------------------------------------------------------------


def sqlite_shape(path: Path) -> list[tuple[Any, ...]]:
    """Every table, index and trigger with its SQL, and every table's columns."""
    with sqlite3.connect(path) as connection:
        master = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        columns = [
            (table, *column)
            for (kind, table, _t, _s) in master
            if kind == "table"
            for column in connection.execute(f"PRAGMA table_info({table})").fetchall()
        ]
    return [*master, *columns]


def sqlite_version(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()
    return str(row[0])


@pytest.mark.parametrize("version", PAST_VERSIONS)
def test_a_sqlite_database_at_every_past_version_migrates_to_what_a_fresh_one_is(
    version: int, tmp_path: Path
) -> None:
    """Tables, columns, indexes and constraints of a migrated file equal a new file's."""
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    with sqlite3.connect(old) as connection:
        build_at(connection.execute, SqliteDialect(), version)
    SqliteStore(old).close()
    SqliteStore(fresh).close()
    assert sqlite_version(old) == str(SCHEMA_VERSION)
    assert sqlite_shape(old) == sqlite_shape(fresh)


def sqlite_back_to_v4(path: Path) -> None:
    """Undo versions 5 to 7 in a newest file: what crmkit with schema version 4 had written."""
    with sqlite3.connect(path) as connection:
        for index in ("next_reminder_at", "assignee_due_at", "status_due_at"):
            connection.execute(f"DROP INDEX ix_tasks_{index}")
        for column in ("reminders", "reminded_at", "next_reminder_at", "recurrence"):
            connection.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
        connection.execute("DROP TABLE record_ids")
        connection.execute("DROP TABLE pipelines")
        connection.execute("UPDATE crmkit_meta SET value = '4' WHERE key = 'schema_version'")


def test_a_sqlite_file_taken_back_to_version_4_is_a_version_4_file(tmp_path: Path) -> None:
    """Dropping what versions 5 to 7 added leaves the layout the version 4 steps create."""
    newest, built = tmp_path / "newest.db", tmp_path / "built.db"
    SqliteStore(newest).close()
    sqlite_back_to_v4(newest)
    with sqlite3.connect(built) as connection:
        build_at(connection.execute, SqliteDialect(), 4)
    assert sqlite_shape(newest) == sqlite_shape(built)


# -- what version 5 does to data, on SQLite and PostgreSQL ----------------------------------


def add_records(store: Store) -> tuple[Company, Contact, Deal]:
    with store.unit_of_work(actor="test") as uow:
        acme = uow.companies.add(Company.create(name="Acme", tags=["key"]))
        ada = uow.contacts.add(
            Contact.create(first_name="Ada", email="ada@acme.de", company_id=acme.id, tags=["vip"])
        )
        deal = uow.deals.add(
            Deal.create(
                name="Acme renewal", pipeline="sales", stage="prospecting", company_id=acme.id
            )
        )
    return acme, ada, deal


def check_v4_data_survives(store: Store, records: tuple[Company, Contact, Deal]) -> None:
    acme, ada, deal = records
    with store.unit_of_work(readonly=True) as uow:
        assert uow.companies.get(acme.id) == acme
        assert uow.contacts.get(ada.id) == ada
        assert uow.deals.get(deal.id) == deal
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.contacts.add(Contact.create(id=acme.id, first_name="Bob"))
        [problem] = info.value.problems
        assert (problem.field, problem.value, problem.reason) == (
            "id",
            str(acme.id),
            "is taken: a company has that id (ids are unique across kinds)",
        )


def test_a_sqlite_version_4_file_with_records_keeps_them_and_registers_their_ids(
    tmp_path: Path,
) -> None:
    """Opening a version 4 file fills ``record_ids`` with each record's id and kind."""
    path = tmp_path / "crm.db"
    store = SqliteStore(path)
    records = add_records(store)
    store.close()
    sqlite_back_to_v4(path)
    store = SqliteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(path) as connection:
        registered = connection.execute("SELECT id, kind FROM record_ids ORDER BY id").fetchall()
    assert registered == sorted((r.id.bytes, r.KIND) for r in records)
    check_v4_data_survives(store, records)


def test_a_sqlite_version_4_file_where_two_kinds_share_an_id_is_refused_untouched(
    tmp_path: Path,
) -> None:
    """The migration names the shared id and both kinds, and leaves the file at version 4."""
    path = tmp_path / "crm.db"
    store = SqliteStore(path)
    _acme, ada, _deal = add_records(store)
    store.close()
    sqlite_back_to_v4(path)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO companies (id, version, created_at, updated_at, name)"
            " VALUES (?, 1, 0, 0, 'Twin')",
            (ada.id.bytes,),
        )
    with pytest.raises(StoreOpenError) as info:
        SqliteStore(path)
    assert str(info.value) == (
        f"cannot migrate to schema version {SCHEMA_VERSION}: records of two kinds share an id;"
        " give one of each pair a new id with the crmkit that wrote the database, then open it"
        f" again: {ada.id} (company, contact)"
    )
    assert sqlite_version(path) == "4"
    with sqlite3.connect(path) as connection:
        assert (
            connection.execute(
                "SELECT name FROM sqlite_master WHERE name = 'record_ids'"
            ).fetchall()
            == []
        )


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture
def pg(postgres_dsn: str) -> Iterator[PgSchemas]:
    schemas = PgSchemas(postgres_dsn)
    try:
        yield schemas
    finally:
        drop_schemas(postgres_dsn, schemas.made)


class PgSchemas:
    """Makes ``crmkit_test_<hex>`` schemas (dropped after the test) and reads their layout."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.made: list[str] = []

    def new(self) -> str:
        self.made.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
        return self.made[-1]

    def url(self, schema: str) -> str:
        return with_schema(self.dsn, schema)

    def run(self, schema: str, *statements: tuple[str, Sequence[Any]]) -> list[Any]:
        import psycopg
        from psycopg import sql

        rows: list[Any] = []
        with psycopg.connect(self.dsn) as connection:
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            for statement, params in statements:
                cursor = connection.execute(statement, params)
                if cursor.description is not None:
                    rows.extend(cursor.fetchall())
        return rows

    def build_at(self, schema: str, version: int) -> None:
        import psycopg
        from psycopg import sql

        from crmkit.storage.postgres.dialect import PostgresDialect

        with psycopg.connect(self.dsn) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            build_at(connection.execute, PostgresDialect(), version)

    def shape(self, schema: str) -> list[tuple[Any, ...]]:
        """Columns, indexes and constraints, with the schema's name taken out."""
        rows = self.run(
            schema,
            (
                "SELECT 'column', table_name, column_name, ordinal_position, data_type,"
                " is_nullable, column_default, collation_name, is_identity"
                " FROM information_schema.columns WHERE table_schema = %s"
                " ORDER BY table_name, ordinal_position",
                (schema,),
            ),
            (
                "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = %s ORDER BY tablename, indexname",
                (schema,),
            ),
            (
                "SELECT 'constraint', c.relname, k.conname, k.contype,"
                " pg_get_constraintdef(k.oid) FROM pg_constraint k"
                " JOIN pg_class c ON c.oid = k.conrelid"
                " JOIN pg_namespace n ON n.oid = k.connamespace"
                " WHERE n.nspname = %s ORDER BY c.relname, k.conname",
                (schema,),
            ),
        )
        return [
            tuple(v.replace(schema, "<schema>") if isinstance(v, str) else v for v in row)
            for row in rows
        ]

    def back_to_v4(self, schema: str) -> None:
        self.run(
            schema,
            ("DROP TABLE record_ids", ()),
            ("DROP TABLE pipelines", ()),
            ("DROP INDEX ix_tasks_assignee_due_at", ()),
            ("DROP INDEX ix_tasks_status_due_at", ()),
            *(
                (f"ALTER TABLE tasks DROP COLUMN {column}", ())
                for column in ("reminders", "reminded_at", "next_reminder_at", "recurrence")
            ),
            ("UPDATE crmkit_meta SET value = '4' WHERE key = 'schema_version'", ()),
        )


@pytest.mark.postgres
@pytest.mark.parametrize("version", PAST_VERSIONS)
def test_a_postgres_schema_at_every_past_version_migrates_to_what_a_fresh_one_is(
    version: int, pg: PgSchemas
) -> None:
    """Columns, indexes and constraints of a migrated schema equal a new schema's."""
    old, fresh = pg.new(), pg.new()
    pg.build_at(old, version)
    crmkit.open_store(pg.url(old)).close()
    crmkit.open_store(pg.url(fresh)).close()
    assert pg.run(old, ("SELECT value FROM crmkit_meta WHERE key = 'schema_version'", ())) == [
        (str(SCHEMA_VERSION),)
    ]
    shape = pg.shape(old)
    assert len(shape) > 100
    assert shape == pg.shape(fresh)


@pytest.mark.postgres
def test_a_postgres_schema_taken_back_to_version_4_is_a_version_4_schema(pg: PgSchemas) -> None:
    """Dropping what versions 5 to 7 added leaves the layout the version 4 steps create."""
    newest, built = pg.new(), pg.new()
    crmkit.open_store(pg.url(newest)).close()
    pg.back_to_v4(newest)
    pg.build_at(built, 4)
    assert pg.shape(newest) == pg.shape(built)


@pytest.mark.postgres
def test_a_postgres_version_4_schema_with_records_keeps_them_and_registers_their_ids(
    pg: PgSchemas,
) -> None:
    """Opening a version 4 schema fills ``record_ids`` with each record's id and kind."""
    schema = pg.new()
    store = crmkit.open_store(pg.url(schema))
    records = add_records(store)
    store.close()
    pg.back_to_v4(schema)
    store = crmkit.open_store(pg.url(schema))
    try:
        registered = pg.run(schema, ("SELECT id, kind FROM record_ids ORDER BY id", ()))
        assert registered == sorted((r.id, r.KIND) for r in records)
        check_v4_data_survives(store, records)
    finally:
        store.close()


@pytest.mark.postgres
def test_a_postgres_version_4_schema_where_two_kinds_share_an_id_is_refused_untouched(
    pg: PgSchemas,
) -> None:
    """The migration names the shared id and both kinds, and leaves the schema at version 4."""
    schema = pg.new()
    store = crmkit.open_store(pg.url(schema))
    _acme, ada, _deal = add_records(store)
    store.close()
    pg.back_to_v4(schema)
    pg.run(
        schema,
        (
            "INSERT INTO companies (id, version, created_at, updated_at, name)"
            " VALUES (%s, 1, now(), now(), 'Twin')",
            (ada.id,),
        ),
    )
    with pytest.raises(StoreOpenError) as info:
        crmkit.open_store(pg.url(schema))
    assert str(info.value) == (
        f"cannot migrate to schema version {SCHEMA_VERSION}: records of two kinds share an id;"
        " give one of each pair a new id with the crmkit that wrote the database, then open it"
        f" again: {ada.id} (company, contact)"
    )
    assert pg.run(schema, ("SELECT value FROM crmkit_meta", ())) == [("4",)]
    assert pg.run(schema, ("SELECT to_regclass('record_ids')::text", ())) == [(None,)]


# -- what version 7 does to data ----------------------------------------------------------


def test_a_sqlite_version_6_file_with_tasks_keeps_them_and_gains_empty_reminders(
    tmp_path: Path,
) -> None:
    """A task written before version 7 reads back unchanged, with no reminders and no rule,
    and can be given reminders after the migration (which its index then finds)."""
    path = tmp_path / "crm.db"
    due = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
    store = SqliteStore(path)
    with store.unit_of_work() as uow:
        task = uow.tasks.add(Task.create(title="Call", due_at=due, assignee="anna"))
    store.close()
    with sqlite3.connect(path) as connection:
        for index in ("next_reminder_at", "assignee_due_at", "status_due_at"):
            connection.execute(f"DROP INDEX ix_tasks_{index}")
        for column in ("reminders", "reminded_at", "next_reminder_at", "recurrence"):
            connection.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
        connection.execute("UPDATE crmkit_meta SET value = '6' WHERE key = 'schema_version'")
    store = SqliteStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        with store.unit_of_work() as uow:
            stored = uow.tasks.get(task.id)
            assert stored == task
            assert (stored.reminders, stored.next_reminder_at, stored.recurrence) == (
                (),
                None,
                None,
            )
            uow.tasks.update(stored.changed(reminders=[dt.timedelta(hours=1)]))
        with store.unit_of_work(readonly=True) as uow:
            hour = dt.timedelta(hours=1)
            assert [t.id for t in reminders_due(uow, due - hour, due)] == [task.id]
    finally:
        store.close()
