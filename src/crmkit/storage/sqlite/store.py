"""The SQLite store: ``crmkit.open_store("sqlite:///path/crm.db")``.

One file per tenant, nothing to install. The database runs in WAL mode (readers never block
the writer) with foreign keys on and a busy timeout; each unit of work has a connection of its
own; a writing unit of work begins with ``BEGIN IMMEDIATE``, so writers queue for the lock up
front instead of failing half-way with "database is locked".

Connections are kept: a unit of work that ended cleanly hands its connection back to a small
pool (`POOL_SIZE`) for the next one, so a request does not pay for opening the file, and the
last connection's close (which checkpoints the WAL into the file and removes it) happens when
the store is closed, not after every unit of work. A connection from the pool is used only
while the file is still the one the store opened; one whose unit of work failed is closed.
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
from crmkit.model.custom_fields import CustomFieldSchema
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

__all__ = ["POOL_SIZE", "URL_OPTIONS", "SqliteStore", "translate_sqlite_error"]

POOL_SIZE = 4
"""Idle connections a SQLite store keeps for its next units of work (more are opened as needed)."""

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


def _identity(path: str) -> tuple[int, int] | None:
    """Return a file's (device, inode), or None if there is no file at `path`."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


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
        self.ended = False  # the unit of work ended: the connection may serve another one now
        self.lost = False  # SQLite rolled the transaction back by itself

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
            alive = not self.ended and self.raw.in_transaction
        except sqlite3.ProgrammingError:  # closed
            alive = False
            self.ended = True
        if self.ended:
            raise StorageError(
                f"{self._path}: the unit of work has ended: use it inside its with block"
            )
        if not alive:
            self.lost = True
            raise RolledBackError(
                f"{self._path}: SQLite rolled the unit of work back"
                f"{f' after an error ({self.failure})' if self.failure else ''}: "
                "nothing in it was saved; start a new unit of work"
            )

    def failed(self, error: sqlite3.Error) -> StorageError:
        """Return the crmkit error for a driver error, noting it if SQLite rolled back."""
        if self.failure is None and not self.raw.in_transaction:
            self.failure = str(error)
        return translate_sqlite_error(error, self._path)


class _SqliteCursor:
    """A cursor whose driver errors come out as crmkit errors."""

    def __init__(self, cursor: sqlite3.Cursor, connection: _SqliteConnection) -> None:
        self._cursor = cursor
        self._connection = connection

    def execute(self, sql: str, params: Any = ()) -> _SqliteCursor:
        self._connection.check_alive()
        try:
            self._cursor.execute(sql, params)
        except sqlite3.Error as error:
            raise self._connection.failed(error) from error
        return self

    def executemany(self, sql: str, rows: Any) -> _SqliteCursor:
        self._connection.check_alive()
        try:
            self._cursor.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self._connection.failed(error) from error
        return self

    def fetchall(self) -> list[Any]:
        self._connection.check_alive()
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as error:
            raise self._connection.failed(error) from error

    def fetchone(self) -> Any:
        self._connection.check_alive()
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as error:
            raise self._connection.failed(error) from error

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
            self._raw = store._take_connection()
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

    def load_schema(self, kind: str) -> CustomFieldSchema | None:
        """Return the newest schema of a kind; kept per connection while no one changes data.

        ``PRAGMA data_version`` on a connection changes whenever another connection (of this
        process or another) has committed anything since; a schema this connection read is
        used again while it stays the same. Saving a schema drops every kept one on commit
        (the saving connection's own number does not change).
        """
        with _translated(self._path):
            version = self._raw.execute("PRAGMA data_version").fetchone()[0]
        kept = self._store._schemas_by_connection.get(self._raw)
        if kept is not None and kept[0] == version and kind in kept[1]:
            return kept[1][kind]
        schema = super().load_schema(kind)
        if not self._saved_schema:  # not what this transaction wrote, uncommitted
            if kept is None or kept[0] != version:
                kept = (version, {})
                self._store._schemas_by_connection[self._raw] = kept
            kept[1][kind] = schema
        return schema

    def commit(self) -> None:
        """Commit and give the connection back; refused if SQLite rolled the work back."""
        ended = False
        try:
            self._connection.check_alive()
            with _translated(self._path):
                self._raw.execute("COMMIT")
            ended = True
            if self._saved_schema:
                self._store._schemas_by_connection.clear()
        finally:
            self._close(reusable=ended)

    def rollback(self) -> None:
        """Roll back and give the connection back (closed if SQLite had rolled back)."""
        ended = False
        try:
            with _translated(self._path):
                if self._raw.in_transaction:
                    self._raw.execute("ROLLBACK")
                else:
                    self._connection.lost = True
            ended = True
        finally:
            self._close(reusable=ended and not self._connection.lost)

    def _close(self, *, reusable: bool = False) -> None:
        if self._connection.ended:  # given back already (a rollback after a failed commit)
            return
        self._connection.ended = True  # before the connection can serve another unit of work
        try:
            self._store._give_back(self._raw, reusable=reusable)
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
        self._idle: list[sqlite3.Connection] = []  # connections kept for the next units of work
        self._idle_lock = threading.Lock()
        self._idle_pid = os.getpid()  # a forked child must not use its parent's connections
        self._wal: tuple[int, int] | None = None  # (device, inode) of the WAL kept connections hold
        # custom-field schemas each kept connection read, with its data_version then
        self._schemas_by_connection: dict[
            sqlite3.Connection, tuple[int, dict[str, CustomFieldSchema | None]]
        ] = {}
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

    def _take_connection(self) -> sqlite3.Connection:
        """Return a kept connection if the file is still the one opened, else a new one."""
        if self._closed:
            raise StorageError("the store is closed")
        with self._idle_lock:
            if self._idle_pid != os.getpid():
                self._idle, self._idle_pid = [], os.getpid()  # the parent's: leave them be
            kept = self._idle.pop() if self._idle else None
        if kept is None:
            return self._connect()
        if self._file_identity() != self._identity:  # deleted or replaced while kept
            self._close_idle(kept)
            return self._connect()  # raises the typed error that says which
        return kept

    def _give_back(self, connection: sqlite3.Connection, *, reusable: bool) -> None:
        """Keep a connection whose unit of work ended cleanly for the next one; close others."""
        if reusable and not connection.in_transaction:
            with self._idle_lock:
                keep = (
                    not self._closed
                    and self._idle_pid == os.getpid()
                    and len(self._idle) < POOL_SIZE
                )
                if keep:
                    if self._wal is None:
                        self._wal = _identity(f"{self.path}-wal")
                    self._idle.append(connection)
                    return
        self._schemas_by_connection.pop(connection, None)
        connection.close()

    def _close_idle(self, *taken: sqlite3.Connection) -> None:
        """Close the kept connections (and `taken` ones); keep a WAL out of a replaced file.

        A file replaced or deleted while connections were kept leaves their WAL file at
        ``<path>-wal``; SQLite would replay it into whatever database is opened at the path
        next (SQLite's own advice: never replace a database file that is in use). So when the
        WAL there is still the one these connections hold, it is removed before they close.
        """
        with self._idle_lock:
            idle, self._idle = [*self._idle, *taken], []
            wal, self._wal = self._wal, None
        moved = idle and wal is not None and self._file_identity() != self._identity
        if moved and _identity(f"{self.path}-wal") == wal:
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}-wal")
        for connection in idle:
            self._schemas_by_connection.pop(connection, None)
            connection.close()

    def close(self) -> None:
        """Close the store and the connections it kept; units of work cannot start afterwards.

        A unit of work still running keeps its connection until it ends, then closes it.
        """
        super().close()
        self._close_idle()

    def _file_identity(self) -> tuple[int, int] | None:
        """Return the file's (device, inode), or None if there is no file."""
        return _identity(self.path)

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
