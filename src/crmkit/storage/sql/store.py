"""What the SQL stores (SQLite, PostgreSQL) share: units of work, history, events, closing."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

from crmkit.clock import Clock
from crmkit.errors import StorageError
from crmkit.storage.arguments import check_events_window, check_record_id
from crmkit.storage.protocol import HistoryEntry, StoredEvent
from crmkit.storage.sql.backend import SqlBackend, read_events, read_history
from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["SqlStore"]


class SqlStore:
    """The Store protocol over one SQL database; adapters say how to start a transaction.

    Subclasses set `clock` and `_closed`, implement `_backend` (a new transaction on a
    connection of its own) and may extend `close`.
    """

    clock: Clock
    _closed: bool

    def _backend(self, readonly: bool) -> SqlBackend:
        """Start a transaction on a connection of its own."""
        raise NotImplementedError  # pragma: no cover - every adapter overrides it

    def unit_of_work(
        self, actor: str | None = None, *, readonly: bool = False
    ) -> BackendUnitOfWork:
        """Start a unit of work (use it in a ``with`` block); it holds its own connection."""
        if self._closed:
            raise StorageError("the store is closed")
        return BackendUnitOfWork(lambda: self._backend(readonly), self.clock, actor, readonly)

    def history(self, entity_id: uuid.UUID) -> list[HistoryEntry]:
        """Return every recorded change of a record, oldest first."""
        check_record_id(entity_id, "entity_id")
        backend = self._backend(readonly=True)
        try:
            return read_history(backend, entity_id)
        finally:
            backend.rollback()

    def events(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Return outbox events after position `after`, in commit order."""
        check_events_window(after, limit)
        backend = self._backend(readonly=True)
        try:
            return read_events(backend, after, limit)
        finally:
            backend.rollback()

    def close(self) -> None:
        """Close the store; units of work cannot be started afterwards."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
