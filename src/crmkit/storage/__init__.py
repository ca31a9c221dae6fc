"""Storage: one interface (`crmkit.storage.protocol`), adapters for memory, SQLite, PostgreSQL."""

from crmkit.storage.open import open_store
from crmkit.storage.protocol import (
    DomainEvent,
    FieldChange,
    HistoryEntry,
    RecordFacts,
    Repository,
    Store,
    StoredEvent,
    StoredScore,
    UnitOfWork,
)

__all__ = [
    "DomainEvent",
    "FieldChange",
    "HistoryEntry",
    "RecordFacts",
    "Repository",
    "Store",
    "StoredEvent",
    "StoredScore",
    "UnitOfWork",
    "open_store",
]
