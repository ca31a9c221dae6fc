"""The primitive operations an adapter provides inside one transaction.

`crmkit.storage.unit_of_work` builds the whole storage contract (validation, versions,
history, facts, events, schemas) on top of these; an adapter only moves rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs

from crmkit.conditions.binding import Binding
from crmkit.conditions.dates import BusinessCalendar
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.registry import Kind
from crmkit.model.rfm import RfmRow
from crmkit.storage.protocol import (
    HistoryEntry,
    RecordFacts,
    SavedSegment,
    StoredPipeline,
    StoredScore,
)

__all__ = [
    "ActivitySource",
    "Backend",
    "ColumnSpec",
    "OrderSource",
    "PendingEvent",
    "RfmRow",
    "SegmentQuery",
    "keyset_pages",
]

ActivitySource = tuple[uuid.UUID, str, dt.datetime]
"""``(record_id, activity kind, occurred_at)``."""

OrderSource = tuple[uuid.UUID, str, Decimal, dt.datetime]
"""``(record_id, currency, total amount, placed_at)``."""


@attrs.frozen
class ColumnSpec:
    """One column `Backend.columns` returns, checked and resolved by the shared layer.

    Attributes:
        name: Its key in the result (``"country"``, ``"total_currency"``, ``"score.fit"``).
        source: ``"field"`` (the kind's own column), ``"fact"`` or ``"score"``.
        field: The model field (the table column is `field`, or ``<field>_currency`` for
            the ``currency`` shape), the fact's column in ``record_facts``, or the scorer.
        shape: How the value is stored: a dialect shape (``uuid``, ``text``, ``int``,
            ``real``, ``bool``, ``timestamp``, ``date``, ``decimal``, ``json``), or ``enum``
            (text), ``duration`` (integer microseconds), ``custom`` (typed custom values),
            ``money`` (a Money's amount) or ``currency`` (a Money's currency).
        empty: The value of an empty structured field (stored as NULL): ``[]``, ``{}``,
            None; the value of a missing fact (0 for counts).
        key: For the ``custom_value`` shape (one custom field, typed): the field's key.
            The shapes ``primary_email`` / ``primary_phone`` (the first of a contact's
            `emails` / `phones`), ``email_text`` / ``phone_text`` (one address or
            number) give text: the normalised address, the E.164 number
            (`crmkit.storage.columns.derived_column`).
    """

    name: str
    source: str
    field: str
    shape: str
    empty: Any = None
    key: str | None = None


@attrs.frozen
class PendingEvent:
    """An event recorded in a unit of work, waiting for its commit to get a position."""

    event_type: str
    payload: dict[str, Any]
    actor: str | None
    recorded_at: dt.datetime


@attrs.frozen
class SegmentQuery:
    """A segment ready to run: bound to its kind, with "now" and the calendar fixed.

    Attributes:
        binding: The bound condition (`crmkit.conditions.binding.bind`).
        now: The instant relative dates resolve from (the store's clock, read once).
        calendar: The store's business calendar.
    """

    binding: Binding
    now: dt.datetime
    calendar: BusinessCalendar


class Backend(Protocol):
    """One adapter transaction. Reads see the transaction's own writes."""

    def begin_write(self) -> None:
        """Take the write lock before the first write (SQLite: ``BEGIN IMMEDIATE``)."""
        ...

    def load(self, kind: Kind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entity]:
        """Return the stored entities among `ids` (archived included)."""
        ...

    def insert(self, kind: Kind, entities: Sequence[Entity]) -> None:
        """Insert new rows (their ids are known to be free)."""
        ...

    def replace(
        self,
        kind: Kind,
        entity: Entity,
        expected_version: int,
        changed: Collection[str] | None = None,
    ) -> bool:
        """Overwrite the row if its stored version is `expected_version`; say if it did.

        `changed`, when given, names the fields whose stored form differs from the stored
        row (its history entry's fields): an adapter may then write only those, with the
        version and update time.
        """
        ...

    def remove(self, kind: Kind, entity_id: uuid.UUID, expected_version: int) -> bool:
        """Delete the row if its stored version is `expected_version`; say if it did."""
        ...

    def scan(
        self,
        kind: Kind,
        after: uuid.UUID | None,
        limit: int,
        include_archived: bool,
    ) -> list[Entity]:
        """Return up to `limit` entities with ids greater than `after`, in id order."""
        ...

    def count(self, kind: Kind, include_archived: bool) -> int:
        """Count the rows."""
        ...

    def existing(self, kind: Kind, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Return which of `ids` are stored (archived included)."""
        ...

    def kinds_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Return the kind of each of `ids` that a record of any kind holds (archived too).

        Ids are unique across kinds: `insert` refuses an id any record holds already.
        """
        ...

    def referrers(self, kind: Kind, entity_id: uuid.UUID, limit: int) -> list[str]:
        """Describe up to `limit` records (``"deal <id>"``) that refer to the entity."""
        ...

    def related(self, kind: Kind, record_id: uuid.UUID, limit: int) -> list[Entity]:
        """Return live entities of `kind` referring to `record_id`, newest first."""
        ...

    def contacts_by_email(self, match_key: str) -> list[Contact]:
        """Return live contacts with an email of that match key."""
        ...

    def companies_by_domain(self, domain: str) -> list[Company]:
        """Return live companies with that normalised domain."""
        ...

    def facts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RecordFacts]:
        """Return the stored facts of those records that have any."""
        ...

    def fact_sources(
        self, ids: Sequence[uuid.UUID], order_statuses: Sequence[str]
    ) -> tuple[list[ActivitySource], list[OrderSource]]:
        """Return what facts are computed from, for the records `ids`.

        Activities: ``(record_id, kind, occurred_at)`` of every live activity linked to one
        of `ids`. Orders: ``(record_id, currency, total, placed_at)`` of every live order
        linked to one of `ids` whose status is in `order_statuses`.
        """
        ...

    def put_facts(self, ids: Sequence[uuid.UUID], facts: Sequence[RecordFacts]) -> None:
        """Replace the stored facts of `ids` by `facts` (records missing there have none)."""
        ...

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Write audit entries."""
        ...

    def append_events(self, events: Sequence[PendingEvent]) -> None:
        """Write outbox events; their positions follow commit order."""
        ...

    def load_schema(self, kind: str) -> CustomFieldSchema | None:
        """Return the stored custom-field schema of `kind`, if any."""
        ...

    def store_schema(self, schema: CustomFieldSchema) -> None:
        """Store a new version of a custom-field schema."""
        ...

    def load_pipelines(self) -> dict[str, StoredPipeline]:
        """Return the newest stored version of every saved pipeline, by key."""
        ...

    def store_pipeline(self, stored: StoredPipeline) -> None:
        """Store a new version of a pipeline (`stored.version` is the next one)."""
        ...

    def savepoint(self) -> object:
        """Mark the transaction's state; return a token for `rollback_to`."""
        ...

    def rollback_to(self, token: object) -> None:
        """Undo every change made since `savepoint` returned `token`, and end the savepoint."""
        ...

    def release(self, token: object) -> None:
        """End the savepoint `token`, keeping its changes in the transaction."""
        ...

    def put_scores(self, scores: Sequence[StoredScore]) -> None:
        """Insert or replace scores, keyed by (record, scorer)."""
        ...

    def scores(self, record_ids: Sequence[uuid.UUID], scorer: str) -> dict[uuid.UUID, StoredScore]:
        """Return the stored scores of `record_ids` by `scorer`."""
        ...

    def scan_grouped(
        self, kind: Kind, link: str, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        """Stream entities with a non-null `link`, ordered by (link, time field, id)."""
        ...

    def commit(self) -> None:
        """Make every change durable and visible."""
        ...

    def rollback(self) -> None:
        """Forget every change."""
        ...

    def scan_iter(
        self, kind: Kind, after: uuid.UUID | None, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        """Stream entities after `after` in id order with constant memory."""
        ...

    # -- segments (additive: find / count by condition, saved segments, settings) -----------

    def find_iter(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[Entity]:
        """Stream the entities matching a segment after `after`, in id order."""
        ...

    def find_ids(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[uuid.UUID]:
        """Stream the ids of the entities matching a segment after `after`, in id order."""
        ...

    def count_matching(self, kind: Kind, query: SegmentQuery, include_archived: bool) -> int:
        """Count the entities matching a segment."""
        ...

    # -- for data scientists (additive: RFM, column fetches) -----------------------------------

    def rfm(self, kind: Kind, currency: str, as_of: dt.datetime) -> list[RfmRow]:
        """Return the RFM of every live record of `kind` with counted orders, in id order.

        From the stored facts: recency is ``max(0, floor((as_of - last_order_at) / 1 day))``,
        frequency the order count, monetary the order total in `currency` (0 without one).
        F and M are ``1 + (5 * (rank - 1)) // n`` with ``rank`` the 1-based rank of the
        value in ascending order, ties sharing the lowest rank; R is ``5 - (5 * (rank - 1))
        // n`` over ascending days (most recent first), so the most recent buyers score 5
        (`crmkit.model.rfm.compute_rfm`).
        """
        ...

    def columns(
        self,
        kind: Kind,
        specs: Sequence[ColumnSpec],
        query: SegmentQuery | None,
        include_archived: bool,
        batch_size: int,
    ) -> dict[str, list[Any]]:
        """Return the columns of the entities (matching `query` if given) in id order.

        Values come decoded as `ColumnSpec` says (plain: enums as values, JSON as data),
        without building entities.
        """
        ...

    def load_setting(self, key: str) -> str | None:
        """Return a store-wide setting (``business_calendar``), if set."""
        ...

    def store_setting(self, key: str, value: str) -> None:
        """Set a store-wide setting."""
        ...

    def claim_setting(self, key: str) -> str | None:
        """Return a setting and keep other units of work from changing it until this one ends.

        For read-modify-write of shared state (a rotation's counters): a concurrent claimer
        waits, then reads what this one wrote. Only in a writing unit of work.
        """
        ...

    def load_settings(self, prefix: str) -> dict[str, str]:
        """Return every store-wide setting whose key starts with `prefix`, by key."""
        ...

    def load_segments(self, name: str | None) -> list[SavedSegment]:
        """Return the saved segment of that name, or all of them (by name) for None."""
        ...

    def store_segment(self, segment: SavedSegment) -> None:
        """Insert or replace a saved segment (its member list is kept)."""
        ...

    def delete_segment(self, name: str) -> None:
        """Delete a saved segment and its member list."""
        ...

    def segment_members(self, name: str) -> list[uuid.UUID]:
        """Return the stored member list of a segment, in id order."""
        ...

    def put_segment_members(self, name: str, ids: Sequence[uuid.UUID]) -> None:
        """Replace the stored member list of a segment."""
        ...


def keyset_pages(
    scan: Callable[[Kind, uuid.UUID | None, int, bool], list[Entity]],
    kind: Kind,
    after: uuid.UUID | None,
    include_archived: bool,
    batch_size: int,
) -> Iterator[Entity]:
    """Stream what `scan` returns page by page after `after`, holding one page at a time.

    `scan(kind, after, limit, include_archived)` returns up to `limit` entities with ids
    greater than `after`, in id order: the `Backend.scan` of any adapter.
    """
    cursor = after
    while True:
        page = scan(kind, cursor, batch_size, include_archived)
        yield from page
        if len(page) < batch_size:
            return
        cursor = page[-1].id
