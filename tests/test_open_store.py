import datetime as dt
import sqlite3

import pytest

import crmkit
from crmkit import (
    Contact,
    FixedClock,
    SchemaVersionError,
    StorageError,
    StoreOpenError,
)
from crmkit.storage.memory import MemoryStore
from crmkit.storage.open import redact_url
from crmkit.storage.sql.schema import SCHEMA_VERSION
from crmkit.storage.sqlite.store import SqliteStore

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "url",
    ["crm.db", "mysql://x/y", "sqlite://host/crm.db", "sqlite://", "memory://somewhere", 42],
)
def test_bad_urls_get_a_clear_error(url):
    with pytest.raises(StoreOpenError):
        crmkit.open_store(url)


def test_memory_and_sqlite_urls(tmp_path):
    assert isinstance(crmkit.open_store("memory://"), MemoryStore)
    store = crmkit.open_store(f"sqlite:///{tmp_path}/crm.db?busy_timeout=2.5")
    assert isinstance(store, SqliteStore)
    assert store.path == f"{tmp_path}/crm.db"
    assert store.busy_timeout == 2.5


def test_a_path_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(StoreOpenError, match="does not exist"):
        crmkit.open_store(f"sqlite:///{tmp_path}/nope/crm.db")


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreOpenError):
        crmkit.open_store(f"sqlite:///{path}")


def test_a_database_with_foreign_tables_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreOpenError, match="not crmkit's"):
        crmkit.open_store(f"sqlite:///{path}")


def test_redact_url_hides_the_password():
    assert redact_url("postgresql://sam:s3cret@db/crm") == "postgresql://sam:***@db/crm"
    assert redact_url("postgresql://sam@db/crm") == "postgresql://sam@db/crm"


def test_postgres_url_without_the_extra_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg" or name.startswith(("psycopg.", "psycopg_pool")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    for module in [m for m in list(__import__("sys").modules) if "postgres" in m]:
        monkeypatch.delitem(__import__("sys").modules, module)
    with pytest.raises(StoreOpenError, match=r"crmkit\[postgres\]"):
        crmkit.open_store("postgresql://postgres@127.0.0.1/test")


def test_closed_stores_refuse_work(tmp_path):
    for store in (crmkit.open_store("memory://"), crmkit.open_store(f"sqlite:///{tmp_path}/a.db")):
        with store:
            pass
        with pytest.raises(StorageError):
            store.unit_of_work()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    store = SqliteStore(tmp_path / "crm.db")
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw = store._connect()
    assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    raw.close()


def test_schema_version_is_recorded_and_opening_twice_is_harmless(tmp_path):
    clock = FixedClock(T0)
    first = SqliteStore(tmp_path / "crm.db", clock=clock)
    assert first.schema_version == SCHEMA_VERSION
    with first.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada", clock=clock))
    second = SqliteStore(tmp_path / "crm.db", clock=clock)
    with second.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(ada.id) == ada
    assert second.schema_version == SCHEMA_VERSION


def _indexes(path):
    with sqlite3.connect(path) as connection:
        return {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            if row[0].startswith("ix_")
        }


def test_an_older_database_is_migrated_on_open(tmp_path):
    from crmkit.storage.sql.dialect import SqliteDialect
    from crmkit.storage.sql.schema import MIGRATIONS

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # a version-1 database: tables, no indexes
        for statement in MIGRATIONS[0](SqliteDialect()):
            connection.execute(statement)
        connection.execute("INSERT INTO crmkit_meta VALUES ('schema_version', '1')")
    assert _indexes(path) == set()
    store = SqliteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert "ix_contact_emails_match_key" in _indexes(path)
    with store.unit_of_work() as uow:
        uow.contacts.add(Contact.create(first_name="Ada", email="ada@acme.de"))
        assert uow.contacts.find_by_email("ADA@acme.de")


def test_a_newer_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "new.db"
    SqliteStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE crmkit_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(SchemaVersionError, match="newer"):
        SqliteStore(path)
    with sqlite3.connect(path) as connection:
        version = connection.execute("SELECT value FROM crmkit_meta").fetchone()[0]
    assert version == str(SCHEMA_VERSION + 1)


def test_no_value_is_formatted_into_sql(tmp_path, monkeypatch):
    from crmkit.storage.sqlite import store as sqlite_store

    seen: list[str] = []
    execute, executemany = (
        sqlite_store._SqliteCursor.execute,
        sqlite_store._SqliteCursor.executemany,
    )

    def spy_execute(self, sql, params=()):
        seen.append(sql)
        return execute(self, sql, params)

    def spy_executemany(self, sql, rows):
        seen.append(sql)
        return executemany(self, sql, rows)

    monkeypatch.setattr(sqlite_store._SqliteCursor, "execute", spy_execute)
    monkeypatch.setattr(sqlite_store._SqliteCursor, "executemany", spy_executemany)
    store = SqliteStore(tmp_path / "crm.db")
    evil = "Robert'); DROP TABLE contacts; --"
    with store.unit_of_work() as uow:
        bob = uow.contacts.add(
            Contact.create(first_name=evil, email="bob@example.com", tags=[evil])
        )
        uow.contacts.find_by_email("bob@example.com")
        uow.contacts.update(bob.changed(last_name=evil))
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(bob.id).first_name == evil
        assert uow.contacts.count() == 1
    assert seen
    assert not [sql for sql in seen if "Robert" in sql or "bob@" in sql]


def test_get_many_of_a_thousand_ids_is_one_query(tmp_path):
    store = SqliteStore(tmp_path / "crm.db")
    with store.unit_of_work() as uow:
        uow.contacts.add_many(Contact.create(first_name=f"C{i}") for i in range(1200))
        ids = [c.id for c in uow.contacts.iter(limit=1000)]
    statements: list[str] = []
    with store.unit_of_work(readonly=True) as uow:
        uow._live_backend()._raw.set_trace_callback(statements.append)
        found = uow.contacts.get_many(ids)
    assert len(found) == 1000
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
