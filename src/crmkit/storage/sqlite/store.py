"""The SQLite store: ``crmkit.open_store("sqlite:///path/crm.db")``.

One file per tenant, nothing to install. The database runs in WAL mode (readers never block
the writer) with foreign keys on and a busy timeout; each unit of work opens its own
connection; a writing unit of work begins with ``BEGIN IMMEDIATE``, so writers queue for the
lock up front instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import (
    NestedWriteError,
    RolledBackError,
    SchemaVersionError,
    StorageError,
    StoreBusyError,
    StoreOpenError,
)
from crmkit.storage.arguments import (
    MAX_BUSY_TIMEOUT,
    check_clock,
    check_options,
    seconds_option,
)
from crmkit.storage.sql.backend import SqlBackend
from crmkit.storage.sql.dialect import SqliteDialect
from crmkit.storage.sql.schema import apply_migrations, codecs, newest_version
from crmkit.storage.sql.store import SqlStore

__all__ = ["URL_OPTIONS", "SqliteStore", "translate_sqlite_error"]

URL_OPTIONS = ("busy_timeout",)
"""The options a SQLite store URL (or `open_store` keyword) may give; others are refused."""


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


class _SqliteConnection:
    """One unit of work's connection; every statement first checks the transaction lives.

    SQLite rolls a transaction back by itself after some failures (disk full, an I/O error,
    a busy error inside a statement). The connection is then in autocommit mode, and every
    later statement would be committed on its own: so once the transaction is gone, every
    statement raises `RolledBackError` instead, and so does leaving the unit of work.
    """

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self.raw = connection
        self._path = path
        self.failure: str | None = None  # the error after which SQLite rolled back, if any

    def cursor(self, *, rolling_back: bool = False) -> _SqliteCursor:
        """Return a new translating cursor (see the class; `rolling_back` changes nothing)."""
        self.check_alive()
        return _SqliteCursor(self.raw.cursor(), self)

    def check_alive(self) -> None:
        """Raise `RolledBackError` if SQLite rolled the transaction back (see the class).

        Raises:
            StorageError: When the unit of work has ended (its connection is closed).
            RolledBackError: When SQLite rolled the transaction back by itself.
        """
        try:
            alive = self.raw.in_transaction
        except sqlite3.ProgrammingError:  # closed
            raise StorageError(
                f"{self._path}: the unit of work has ended: use it inside its with block"
            ) from None
        if not alive:
            raise RolledBackError(
                f"{self._path}: SQLite rolled the unit of work back"
                f"{f' after an error ({self.failure})' if self.failure else ''}: "
                "nothing in it was saved; start a new unit of work"
            )

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """Run a statement: driver errors become crmkit errors, and a rollback is noted."""
        try:
            yield
        except sqlite3.Error as error:
            if self.failure is None and not self.raw.in_transaction:
                self.failure = str(error)
            raise translate_sqlite_error(error, self._path) from error


class _SqliteCursor:
    """A cursor whose driver errors come out as crmkit errors."""

    def __init__(self, cursor: sqlite3.Cursor, connection: _SqliteConnection) -> None:
        self._cursor = cursor
        self._connection = connection

    def execute(self, sql: str, params: Any = ()) -> _SqliteCursor:
        self._connection.check_alive()
        with self._connection.translated():
            self._cursor.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Any) -> _SqliteCursor:
        self._connection.check_alive()
        with self._connection.translated():
            self._cursor.executemany(sql, rows)
        return self

    def fetchall(self) -> list[Any]:
        with self._connection.translated():
            return self._cursor.fetchall()

    def fetchone(self) -> Any:
        with self._connection.translated():
            return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _SqliteBackend(SqlBackend):
    """One SQLite transaction on its own connection."""

    def __init__(self, store: SqliteStore, readonly: bool) -> None:
        self._store = store
        self._writer = not readonly
        if self._writer:
            store._enter_writer()
        try:
            self._raw = store._connect()
        except BaseException:
            if self._writer:
                store._leave_writer()
            raise
        self._connection = _SqliteConnection(self._raw, store.path)
        super().__init__(self._connection, store.dialect, store._codecs)
        self._path = store.path
        try:
            with _translated(self._path):
                self._raw.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
        except BaseException:
            self._close()
            raise

    def begin_write(self) -> None:
        """Nothing to do: writing units of work began with ``BEGIN IMMEDIATE``."""

    def commit(self) -> None:
        """Commit and close the connection; refused if SQLite rolled the work back."""
        try:
            self._connection.check_alive()
            with _translated(self._path):
                self._raw.execute("COMMIT")
        finally:
            self._close()

    def rollback(self) -> None:
        """Roll back and close the connection."""
        try:
            with _translated(self._path):
                if self._raw.in_transaction:
                    self._raw.execute("ROLLBACK")
        finally:
            self._close()

    def _close(self) -> None:
        try:
            self._raw.close()
        finally:
            if self._writer:
                self._writer = False
                self._store._leave_writer()


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
        check_clock(clock)
        self.path = str(path)
        self.clock = resolve_clock(clock)
        self.busy_timeout = seconds_option("busy_timeout", busy_timeout, at_most=MAX_BUSY_TIMEOUT)
        self.dialect = SqliteDialect()
        self._codecs = codecs(self.dialect)
        self._closed = False
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._threads = threading.local()  # .writing: this thread holds a writing unit of work
        if self.path == ":memory:" or self.path.startswith("file:"):
            raise StoreOpenError(
                f"cannot open {self.path!r}: name a file (memory:// is the in-memory store)"
            )
        if not Path(self.path).parent.is_dir():
            raise StoreOpenError(
                f"cannot open {self.path}: folder {Path(self.path).parent} does not exist"
            )
        self._migrate()
        self._identity = self._file_identity()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> SqliteStore:
        """Open ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

        The one option is ``busy_timeout`` (seconds, 0 to 86400), in the URL
        (``?busy_timeout=5``) or as a keyword; any other is refused with `StoreOpenError`.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.netloc:
            raise StoreOpenError(
                f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////abs/path.db"
            )
        path = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise StoreOpenError(f"bad SQLite URL {url!r}: it names no file")
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        check_options("SQLite", {**query, **options}, URL_OPTIONS)
        if "busy_timeout" in query:
            options.setdefault("busy_timeout", query["busy_timeout"])
        return cls(path, clock=clock, **options)

    def _connect(self) -> sqlite3.Connection:
        """Open a connection to the store's file, which must still be the file opened.

        Only the first connection (on open) may create the file; later ones refuse a file
        that was deleted or replaced while the store was open, instead of silently starting
        an empty database.
        """
        if self._closed:
            raise StorageError("the store is closed")
        creating = self._identity is None
        target = self.path if creating else f"file:{urllib.parse.quote(self.path)}?mode=rw"
        try:
            connection = sqlite3.connect(
                target,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=not creating,
            )
        except sqlite3.Error as error:
            if not creating and not Path(self.path).exists():
                raise StorageError(
                    f"{self.path}: the database file was deleted while the store was open"
                ) from None
            raise StoreOpenError(f"cannot open SQLite database {self.path}: {error}") from None
        try:
            identity = self._file_identity()
            if not creating and identity != self._identity:
                raise StorageError(
                    f"{self.path}: the database file was replaced while the store was open: "
                    "open the store again to use the new file"
                )
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as error:
            connection.close()
            raise StoreOpenError(f"cannot open SQLite database {self.path}: {error}") from None
        except BaseException:
            connection.close()
            raise
        return connection

    def _file_identity(self) -> tuple[int, int] | None:
        """Return the file's (device, inode), or None if there is no file."""
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_dev, info.st_ino)

    def _enter_writer(self) -> None:
        """Note that this thread starts a writing unit of work; refuse a second one."""
        if getattr(self._threads, "writing", False):
            raise NestedWriteError(
                f"{self.path}: this thread already holds a writing unit of work on the store; "
                "finish it first (a second one would wait for the first, which waits for this "
                "thread), or open the second one with readonly=True"
            )
        self._threads.writing = True

    def _leave_writer(self) -> None:
        self._threads.writing = False

    def _migrate(self) -> None:
        """Create or upgrade the schema; a store whose schema is current takes no write lock."""
        connection = self._connect()
        try:
            with _translated(self.path):
                try:
                    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
                    if mode.lower() != "wal":
                        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                except sqlite3.DatabaseError as error:
                    raise StoreOpenError(f"cannot open {self.path}: {error}") from None
                if mode.lower() != "wal":
                    raise StoreOpenError(f"cannot put {self.path} in WAL mode (got {mode})")
                connection.execute("BEGIN")
                version = self._schema_version(connection)
                connection.execute("ROLLBACK")
                self._check_version(version)
                if version == newest_version():
                    return
                connection.execute("BEGIN IMMEDIATE")
                version = self._schema_version(connection)  # another process may have migrated
                try:
                    self._check_version(version)
                except SchemaVersionError:
                    connection.execute("ROLLBACK")
                    raise
                apply_migrations(connection.execute, self.dialect, version)
                connection.execute("COMMIT")
        finally:
            connection.close()

    def _check_version(self, version: int) -> None:
        if version > newest_version():
            raise SchemaVersionError(
                f"{self.path} has schema version {version}, newer than this crmkit's "
                f"{newest_version()}: upgrade crmkit to open it"
            )

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
