"""The SQLite store: ``crmkit.open_store("sqlite:///path/crm.db")``.

One file per tenant, nothing to install. The database runs in WAL mode (readers never block
the writer) with foreign keys on and a busy timeout; each unit of work opens its own
connection; a writing unit of work begins with ``BEGIN IMMEDIATE``, so writers queue for the
lock up front instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import (
    SchemaVersionError,
    StorageError,
    StoreBusyError,
    StoreOpenError,
)
from crmkit.storage.sql.backend import SqlBackend
from crmkit.storage.sql.dialect import SqliteDialect
from crmkit.storage.sql.schema import SCHEMA_VERSION, apply_migrations, codecs
from crmkit.storage.sql.store import SqlStore

__all__ = ["SqliteStore", "translate_sqlite_error"]


def translate_sqlite_error(error: sqlite3.Error, path: str) -> StorageError:
    """Turn a sqlite3 error into crmkit's hierarchy (the one place this adapter does it)."""
    text = str(error)
    if (isinstance(error, sqlite3.OperationalError) and "locked" in text) or "busy" in text:
        return StoreBusyError(f"{path}: another writer kept the database locked ({text})")
    return StorageError(f"{path}: SQLite failed: {text}")


@contextlib.contextmanager
def _translated(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise translate_sqlite_error(error, path) from error


class _SqliteCursor:
    """A cursor whose driver errors come out as crmkit errors."""

    def __init__(self, cursor: sqlite3.Cursor, path: str) -> None:
        self._cursor = cursor
        self._path = path

    def execute(self, sql: str, params: Any = ()) -> _SqliteCursor:
        with _translated(self._path):
            self._cursor.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Any) -> _SqliteCursor:
        with _translated(self._path):
            self._cursor.executemany(sql, rows)
        return self

    def fetchall(self) -> list[Any]:
        with _translated(self._path):
            return self._cursor.fetchall()

    def fetchone(self) -> Any:
        with _translated(self._path):
            return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _SqliteConnection:
    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self.raw = connection
        self._path = path

    def cursor(self) -> _SqliteCursor:
        return _SqliteCursor(self.raw.cursor(), self._path)


class _SqliteBackend(SqlBackend):
    """One SQLite transaction on its own connection."""

    def __init__(self, store: SqliteStore, readonly: bool) -> None:
        self._raw = store._connect()
        super().__init__(_SqliteConnection(self._raw, store.path), store.dialect, store._codecs)
        self._path = store.path
        with _translated(self._path):
            self._raw.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")

    def begin_write(self) -> None:
        """Nothing to do: writing units of work began with ``BEGIN IMMEDIATE``."""

    def commit(self) -> None:
        """Commit and close the connection."""
        try:
            with _translated(self._path):
                self._raw.execute("COMMIT")
        finally:
            self._raw.close()

    def rollback(self) -> None:
        """Roll back and close the connection."""
        try:
            with _translated(self._path):
                if self._raw.in_transaction:
                    self._raw.execute("ROLLBACK")
        finally:
            self._raw.close()


class SqliteStore(SqlStore):
    """A store in one SQLite file, created and migrated on open.

    Args:
        path: The database file; it is created if missing (its folder must exist).
        clock: Where history, events and archive times get "now" from.
        busy_timeout: Seconds a writer waits for another writer's lock before giving up.
    """

    def __init__(
        self, path: str | Path, *, clock: Clock | None = None, busy_timeout: float = 30.0
    ) -> None:
        self.path = str(path)
        self.clock = resolve_clock(clock)
        self.busy_timeout = busy_timeout
        self.dialect = SqliteDialect()
        self._codecs = codecs(self.dialect)
        self._closed = False
        if self.path != ":memory:" and not Path(self.path).parent.is_dir():
            raise StoreOpenError(
                f"cannot open {self.path}: folder {Path(self.path).parent} does not exist"
            )
        self._migrate()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> SqliteStore:
        """Open ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``."""
        parts = urllib.parse.urlsplit(url)
        if parts.netloc:
            raise StoreOpenError(
                f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////abs/path.db"
            )
        path = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise StoreOpenError(f"bad SQLite URL {url!r}: it names no file")
        timeout = urllib.parse.parse_qs(parts.query).get("busy_timeout")
        if timeout:
            options.setdefault("busy_timeout", float(timeout[0]))
        return cls(path, clock=clock, **options)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError("the store is closed")
        try:
            connection = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as error:
            raise StoreOpenError(f"cannot open SQLite database {self.path}: {error}") from None
        return connection

    def _migrate(self) -> None:
        connection = self._connect()
        try:
            with _translated(self.path):
                try:
                    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                except sqlite3.DatabaseError as error:
                    raise StoreOpenError(f"cannot open {self.path}: {error}") from None
                if mode.lower() != "wal":
                    raise StoreOpenError(f"cannot put {self.path} in WAL mode (got {mode})")
                connection.execute("BEGIN IMMEDIATE")
                version = self._schema_version(connection)
                if version > SCHEMA_VERSION:
                    connection.execute("ROLLBACK")
                    raise SchemaVersionError(
                        f"{self.path} has schema version {version}, newer than this crmkit's "
                        f"{SCHEMA_VERSION}: upgrade crmkit to open it"
                    )
                apply_migrations(connection.execute, self.dialect, version)
                connection.execute("COMMIT")
        finally:
            connection.close()

    @staticmethod
    def _schema_version(connection: sqlite3.Connection) -> int:
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'crmkit_meta'"
        ).fetchone()
        if exists is None:
            other = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if other:
                raise StoreOpenError("the SQLite file holds tables that are not crmkit's")
            return 0
        row = connection.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0]) if row else 0

    @property
    def schema_version(self) -> int:
        """The schema version of the database file."""
        connection = self._connect()
        try:
            return self._schema_version(connection)
        finally:
            connection.close()

    def _backend(self, readonly: bool) -> _SqliteBackend:
        """Start a transaction on a connection of its own."""
        return _SqliteBackend(self, readonly)
