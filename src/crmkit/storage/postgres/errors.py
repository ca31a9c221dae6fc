"""Driver errors become crmkit errors here, and only here, for the PostgreSQL adapter.

Every call into psycopg made by the adapter goes through `translated` (or the cursor and
connection wrappers built on it), which raises the crmkit error from the driver's:
``raise translate_postgres_error(error, url) from error``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg.errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg_pool import PoolTimeout

from crmkit.errors import (
    ConcurrencyError,
    CrmkitError,
    RolledBackError,
    StorageError,
    StoreBusyError,
    StoreOpenError,
)
from crmkit.storage.open import redact_url

__all__ = ["PgConnection", "PgCursor", "translate_postgres_error", "translated"]

# SQLSTATEs that mean "another transaction is in the way: retry".
_BUSY = (
    pg_errors.SerializationFailure,  # 40001
    pg_errors.DeadlockDetected,  # 40P01
    pg_errors.LockNotAvailable,  # 55P03 (lock_timeout, NOWAIT)
)
# The shared storage code checks ids and references before writing; these can only come
# from a concurrent unit of work that wrote the same key or removed a referenced record.
_RACES = (pg_errors.UniqueViolation, pg_errors.ForeignKeyViolation)


def _one_line(error: BaseException) -> str:
    """The driver's message on one line (libpq adds hints on further lines)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(error) or type(error).__name__
    return re.sub(r"\s+", " ", text).strip()


def _where(url: str) -> str:
    return redact_url(url)


def _scrub(text: str, url: str) -> str:
    """Remove the URL's password from a message, should the driver ever repeat it."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    if password:
        for secret in {password, unquote(password)}:
            text = text.replace(secret, "***")
    return text


def translate_postgres_error(
    error: BaseException, url: str, *, opening: bool = False
) -> CrmkitError:
    """Turn a psycopg (or psycopg_pool) error into crmkit's hierarchy, on one line.

    Args:
        error: What the driver raised.
        url: The store URL, shown with its password hidden.
        opening: Whether the store was being opened: connection failures then become
            `StoreOpenError` naming the cause (server unreachable, wrong password, no such
            database).

    Returns:
        The crmkit error to raise ``from`` the driver's: `StoreBusyError` for lock and
        serialisation conflicts, deadlocks and an exhausted pool; `ConcurrencyError` for a
        key written or removed by a concurrent unit of work; `StoreOpenError` when opening
        fails; `StorageError` for anything else.
    """
    where = _where(url)
    message = _scrub(_one_line(error), url)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(error, PoolTimeout):
        return StoreBusyError(
            f"{where}: no free PostgreSQL connection within the pool timeout (every pooled "
            f"connection is in use, or the server cannot be reached): {message}"
        )
    if isinstance(error, _BUSY):
        return StoreBusyError(f"{where}: another transaction is in the way, retry ({message})")
    if isinstance(error, _RACES):
        return ConcurrencyError(
            f"{where}: a concurrent unit of work changed the same records ({message}): "
            "re-read them and retry"
        )
    if isinstance(error, pg_errors.InvalidPassword):  # 28P01
        return StoreOpenError(f"cannot open {where}: wrong password ({message})")
    if isinstance(error, pg_errors.InvalidAuthorizationSpecification):  # 28000
        return StoreOpenError(f"cannot open {where}: access refused ({message})")
    if isinstance(error, pg_errors.InvalidCatalogName):  # 3D000
        return StoreOpenError(f"cannot open {where}: the database does not exist ({message})")
    if isinstance(error, pg_errors.InsufficientPrivilege) and opening:
        return StoreOpenError(f"cannot open {where}: permission denied ({message})")
    if isinstance(error, psycopg.OperationalError) and sqlstate is None:
        if opening:
            return StoreOpenError(f"cannot open {where}: {_connect_failure(message)}")
        return StorageError(f"{where}: lost the connection to PostgreSQL ({message})")
    if isinstance(error, pg_errors.AdminShutdown | pg_errors.CrashShutdown):
        return StorageError(f"{where}: the server ended the connection ({message})")
    if opening:
        return StoreOpenError(f"cannot open {where}: {message}")
    code = f" [{sqlstate}]" if sqlstate else ""
    return StorageError(f"{where}: PostgreSQL failed{code}: {message}")


def _connect_failure(message: str) -> str:
    lowered = message.lower()
    if "connection refused" in lowered:
        return f"the server is unreachable: connection refused ({message})"
    if "timeout expired" in lowered or "timed out" in lowered:
        return f"the server is unreachable: connection timed out ({message})"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return f"the server is unreachable: unknown host ({message})"
    if "password authentication failed" in lowered:
        return f"wrong password ({message})"
    if "no password supplied" in lowered:
        return f"the server wants a password and the URL has none ({message})"
    if "does not exist" in lowered and "database" in lowered:
        return f"the database does not exist ({message})"
    return f"cannot connect ({message})"


@contextlib.contextmanager
def translated(url: str, *, opening: bool = False) -> Iterator[None]:
    """Run a block, raising driver errors as crmkit errors (``from`` the driver's)."""
    try:
        yield
    except (psycopg.Error, PoolTimeout) as error:
        raise translate_postgres_error(error, url, opening=opening) from error


class PgCursor:
    """A psycopg cursor whose errors come out as crmkit errors (what `SqlBackend` calls)."""

    __slots__ = ("_connection", "_cursor", "_url")

    def __init__(self, cursor: psycopg.Cursor[Any], connection: PgConnection) -> None:
        self._cursor = cursor
        self._connection = connection
        self._url = connection.url

    def execute(self, sql: str, params: Any = ()) -> PgCursor:
        """Run one statement."""
        with self._connection.translated():
            self._cursor.execute(sql, params or None)
        return self

    def executemany(self, sql: str, rows: Any) -> PgCursor:
        """Run one statement for each parameter row (pipelined by psycopg)."""
        with self._connection.translated():
            self._cursor.executemany(sql, rows)
        return self

    @contextlib.contextmanager
    def copy(self, statement: str) -> Iterator[psycopg.Copy]:
        """Run ``COPY ... FROM STDIN``; write rows to what it yields."""
        with self._connection.translated(), self._cursor.copy(statement) as copy:
            yield copy

    def fetchall(self) -> list[Any]:
        """Return every remaining row."""
        with self._connection.translated():
            return self._cursor.fetchall()

    def fetchone(self) -> Any:
        """Return the next row, or None."""
        with self._connection.translated():
            return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        """Rows the last statement touched."""
        return self._cursor.rowcount


class PgConnection:
    """A unit of work's pooled psycopg connection as `SqlBackend` uses it: it hands out cursors.

    After an error the server aborts the transaction: until a savepoint rolls it back, every
    statement would fail and a commit would silently roll back. So a statement on an aborted
    transaction raises `RolledBackError`, naming the error that aborted it; and once the unit
    of work has ended (`detach`), no statement runs on the connection, which the pool may have
    lent to another unit of work.
    """

    __slots__ = ("failure", "raw", "url")

    def __init__(self, connection: psycopg.Connection[Any], url: str) -> None:
        self.raw: psycopg.Connection[Any] | None = connection
        self.url = url
        self.failure: str | None = None  # the last error the server reported

    def live(self, *, rolling_back: bool = False) -> psycopg.Connection[Any]:
        """Return the connection if its transaction can still run statements.

        Args:
            rolling_back: The statement rolls back to a savepoint, which an aborted
                transaction accepts.

        Raises:
            StorageError: When the unit of work has ended.
            RolledBackError: When an error aborted the transaction.
        """
        raw = self.raw
        if raw is None:
            raise StorageError("the unit of work has ended: use it inside its with block")
        if not rolling_back and raw.info.transaction_status == TransactionStatus.INERROR:
            raise RolledBackError(
                f"{self.url}: PostgreSQL aborted the unit of work after an error"
                f"{f' ({self.failure})' if self.failure else ''}: nothing in it was saved; "
                "start a new unit of work (or catch the error inside uow.savepoint())"
            )
        return raw

    def cursor(self, *, rolling_back: bool = False) -> PgCursor:
        """Return a new translating cursor (for `rolling_back`, see `live`)."""
        return PgCursor(self.live(rolling_back=rolling_back).cursor(), self)

    def detach(self) -> None:
        """Forget the connection: the unit of work has ended and gave it back to the pool."""
        self.raw = None

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """Run a block, raising driver errors as crmkit errors and noting the last one."""
        try:
            yield
        except psycopg.Error as error:
            translated_error = translate_postgres_error(error, self.url)
            self.failure = str(translated_error)
            raise translated_error from error
