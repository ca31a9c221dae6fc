"""The storage interface: what every adapter (memory, SQLite, PostgreSQL) provides.

This module names the interface only; it imports no adapter and no driver. Users reach a
store through `crmkit.open_store(url)` and work inside units of work::

    with crmkit.open_store("sqlite:///crm.db") as store:
        with store.unit_of_work(actor="sam@sales") as uow:   # all or nothing
            uow.contacts.add(contact)
            uow.record(event)

The contract every adapter honours (checked by `crmkit.testing.StoreContract`):

- **Units of work** commit on a normal exit and roll back entirely on an exception. Each holds
  its own connection, so a store can be shared by threads.
- **Isolation** is read-committed plus read-your-own-writes. Writing units of work are
  serialised (SQLite's ``BEGIN IMMEDIATE``; a write lock in memory; row locks in PostgreSQL).
- **Optimistic concurrency**: `update`, `archive`, `restore` and `delete` check the entity's
  `version` against the stored one; a stale write raises `ConcurrencyError` and writes nothing.
- **Versions**: `add` stores version 1; every update, archive and restore adds 1.
- **Deletes** are refused with `ReferencedError` while other records refer to the entity;
  `archive` hides it from `iter`, `count` and searches unless ``include_archived=True``.
- **Audit history**: every change writes a `HistoryEntry` in the same transaction.
- **Outbox**: events recorded with `UnitOfWork.record` are stored in the same transaction and
  read back in commit order by position with `Store.events`.
- **Facts**: the last activity, activity counts by kind, order count, order totals and last
  order of every record are kept in the same transaction as the activity or order that moves
  them (`Repository.facts`).
- **Custom-field schemas** are stored, versioned, and enforced on add and update.
- **Pipelines** are stored, versioned: a deal is stored only in a pipeline and stage the
  store knows (`UnitOfWork.pipelines`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, runtime_checkable

import attrs

from crmkit.clock import Clock
from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.tree import Condition
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.rfm import RfmGroup, RfmScore
from crmkit.model.task import Task
from crmkit.pipelines.events import Moved
from crmkit.pipelines.pipeline import Pipeline
from crmkit.values.money import Money

if TYPE_CHECKING:
    from crmkit.leads.convert import Conversion

__all__ = [
    "CalendarBook",
    "CustomFieldRegistry",
    "DealRepository",
    "DomainEvent",
    "FieldChange",
    "HistoryEntry",
    "LeadRepository",
    "MembershipDiff",
    "OrderRepository",
    "PipelineBook",
    "Progress",
    "RecordFacts",
    "RelatedRecords",
    "Repository",
    "RfmGroup",
    "RfmScore",
    "SavedSegment",
    "ScoreTable",
    "SegmentBook",
    "Store",
    "StoredEvent",
    "StoredPipeline",
    "StoredRecords",
    "StoredScore",
    "UnitOfWork",
]

E = TypeVar("E", bound=Entity)

Progress = Callable[[int, int | None], None]
"""A progress callback: ``progress(done, total)``; `total` is None when it is not known."""


@runtime_checkable
class DomainEvent(Protocol):
    """Anything that can be recorded in the outbox: a type name and a JSON-ready payload."""

    @property
    def event_type(self) -> str:
        """A stable dotted name such as ``"deal.stage_changed"``."""
        ...

    def to_dict(self) -> Mapping[str, Any]:
        """The event's data as JSON-ready plain values."""
        ...


@attrs.frozen
class FieldChange:
    """One field's change in an audit entry: its old and new value as plain JSON values."""

    field: str
    old: Any
    new: Any


@attrs.frozen
class HistoryEntry:
    """One change of one record, as the audit trail shows it.

    Attributes:
        entity_id: The record's id.
        kind: The kind of record (``"contact"``).
        version: The record's version after the change (0 for a delete).
        action: ``"added"``, ``"updated"``, ``"archived"``, ``"restored"`` or ``"deleted"``.
        actor: Who made the change (the unit of work's actor).
        at: When the change was committed (from the store's clock).
        changes: The fields that changed, with old and new values.
    """

    entity_id: uuid.UUID
    kind: str
    version: int
    action: str
    actor: str | None
    at: dt.datetime
    changes: tuple[FieldChange, ...]

    def change(self, field: str) -> FieldChange | None:
        """Return the change of `field` in this entry, if it changed."""
        return next((c for c in self.changes if c.field == field), None)


@attrs.frozen
class StoredEvent:
    """An event as read back from the outbox.

    Attributes:
        position: Its place in commit order (1, 2, 3, ...); pass the last one seen as `after`.
        event_type: The event's type name.
        payload: Its data.
        actor: The unit of work's actor.
        recorded_at: When its unit of work recorded it.
    """

    position: int
    event_type: str
    payload: Mapping[str, Any]
    actor: str | None
    recorded_at: dt.datetime


@attrs.frozen
class RecordFacts:
    """Facts the store keeps about a record from its live activities and orders.

    Attributes:
        record_id: The contact, company, deal or lead.
        last_activity_at: When its latest activity happened.
        activity_counts: Number of activities per kind (``{"email": 12, "call": 3}``).
        order_count: Number of orders.
        order_totals: Sum of order totals per currency.
        last_order_at: When its latest order was placed.
    """

    record_id: uuid.UUID
    last_activity_at: dt.datetime | None = None
    activity_counts: FrozenMap[str, int] = attrs.field(factory=FrozenMap)
    order_count: int = 0
    order_totals: FrozenMap[str, Decimal] = attrs.field(factory=FrozenMap)
    last_order_at: dt.datetime | None = None

    @property
    def activity_count(self) -> int:
        """All activities, every kind together."""
        return sum(self.activity_counts.values())

    def order_total(self, currency: str) -> Money:
        """What the record has spent in `currency`."""
        return Money(self.order_totals.get(currency, Decimal(0)), currency)


class StoredRecords(list[E]):
    """What `Repository.add_many` stored: the records as stored (version 1), in input order.

    A list, so ``companies = uow.companies.add_many(companies)`` does what it reads;
    `stored` is how many were stored, also when ``keep=False`` kept none of them (a
    streamed import of millions of rows then stays in constant memory).
    """

    stored: int

    def __init__(self, records: Iterable[E] = (), *, stored: int | None = None) -> None:
        super().__init__(records)
        self.stored = len(self) if stored is None else stored


class RelatedRecords(list[E]):
    """What `Repository.related` found: at most `limit` records, newest first.

    `truncated` is True when more records relate than were returned: ask again with a
    larger `limit` (or stream them with `find` and a segment) rather than miss them.
    """

    truncated: bool

    def __init__(self, records: Iterable[E] = (), *, truncated: bool = False) -> None:
        super().__init__(records)
        self.truncated = truncated


class Repository(Protocol[E]):
    """The records of one kind inside a unit of work (`uow.contacts`, `uow.deals`, ...)."""

    def add(self, entity: E) -> E:
        """Store a new entity (version 0) and return it as stored (version 1).

        Raises:
            ValidationError: When it was stored already, refers to records that do not exist,
                or its custom fields do not fit the stored schema.
        """
        ...

    def add_many(
        self,
        entities: Iterable[E],
        *,
        batch_size: int = 1000,
        progress: Progress | None = None,
        keep: bool = True,
    ) -> StoredRecords[E]:
        """Store many new entities in batches; return them as stored (version 1).

        All or nothing: problems are collected for every row (``Problem.row`` is the 0-based
        position) and raised together as one `ValidationError`; nothing is stored then.

        Args:
            entities: The new entities (version 0), any iterable (a generator streams).
            batch_size: Rows written per batch.
            progress: Called as ``progress(done, total)`` after each batch.
            keep: Return the stored records; with False the result is empty and only its
                `stored` count is kept, so a long stream stays in constant memory.

        Returns:
            A `StoredRecords` list of the stored entities; its `stored` says how many.
        """
        ...

    def get(self, entity_id: uuid.UUID) -> E:
        """Return the entity with that id (archived ones too).

        Raises:
            NotFoundError: When there is none.
            ValidationError: Naming ``entity_id`` when it is not a `uuid.UUID`.
        """
        ...

    def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, E]:
        """Return the entities found among `ids` (one query), keyed by id.

        Raises:
            ValidationError: Naming ``ids[i]`` for each item that is not a `uuid.UUID`.
        """
        ...

    def update(self, entity: E) -> E:
        """Store a changed entity; return it with its version increased by one.

        Raises:
            NotFoundError: When it is not stored.
            ConcurrencyError: When the stored version is not `entity.version`.
            ValidationError: When it refers to missing records or breaks the custom schema.
        """
        ...

    def delete(self, entity: E) -> None:
        """Delete the entity for good.

        Raises:
            ReferencedError: While other records refer to it.
            ConcurrencyError: When `entity.version` is stale.
        """
        ...

    def archive(self, entity: E) -> E:
        """Hide the entity from `iter`, `count` and searches; return it archived."""
        ...

    def restore(self, entity: E) -> E:
        """Undo `archive`; return it live again."""
        ...

    def iter(
        self,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
        include_archived: bool = False,
        batch_size: int = 1000,
    ) -> Iterator[E]:
        """Stream the entities in id order (oldest first), fetching `batch_size` at a time.

        Args:
            after: Start after this id (keyset paging: pass the last id of the previous page).
            limit: Stop after this many.
            include_archived: Also yield archived entities.
            batch_size: Rows fetched per query; memory stays constant.
        """
        ...

    def count(self, segment: Condition | None = None, *, include_archived: bool = False) -> int:
        """Count the entities (live ones unless `include_archived`), those in `segment` if given.

        The count runs inside the database on SQL stores.
        """
        ...

    def find(
        self,
        segment: Condition,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
        include_archived: bool = False,
        batch_size: int = 1000,
    ) -> Iterator[E]:
        """Stream the entities in a segment in id order, `batch_size` at a time (keyset pages).

        Relative dates are resolved once from the store's clock and business calendar.

        Raises:
            SegmentError: When the segment names a field this kind of record does not have.
        """
        ...

    def find_ids(
        self,
        segment: Condition,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
        include_archived: bool = False,
        batch_size: int = 50_000,
    ) -> Iterator[uuid.UUID]:
        """Stream the ids of the entities in a segment in id order, building no entity.

        Ids are small, so pages are large (50,000 by default): with pages smaller than the
        segment, PostgreSQL's planner walks the primary key for every page instead of
        scanning once (2.2x slower at 1M contacts, measured).
        """
        ...

    def related(self, record_id: uuid.UUID, *, limit: int = 100) -> RelatedRecords[E]:
        """Return the live entities that relate to a record, newest first (at most `limit`).

        Activities, tasks and orders relate through their contact, company, deal and lead ids;
        deals through their company, contacts and lead. Nothing is cut silently: the result's
        `truncated` is True when more than `limit` relate.

        Raises:
            ValidationError: Naming ``record_id`` when it is not a `uuid.UUID`, or ``limit``
                when it is not an integer of at least 1.
        """
        ...

    def facts(self, record_id: uuid.UUID) -> RecordFacts:
        """Return the facts the store keeps about a record (empty facts if it has none)."""
        ...

    def grouped(
        self, by: str, *, include_archived: bool = False, batch_size: int = 1000
    ) -> Iterator[tuple[uuid.UUID, list[E]]]:
        """Stream live entities grouped by a link field, one group per linked record.

        Groups come in the linked record's id order; within a group, oldest first by the
        kind's time field. Only one group is held at a time, so 20M activities of 1M contacts
        stream through constant memory: ``uow.activities.grouped("contact_id")``.
        """
        ...

    def columns(
        self,
        names: Sequence[str] | None = None,
        segment: Condition | None = None,
        *,
        include_archived: bool = False,
        batch_size: int = 5000,
    ) -> dict[str, list[Any]]:
        """Return chosen columns of the entities (those in `segment` if given), in id order.

        No entity is built: SQL stores select only those columns and decode each value.
        Values are plain: scalars as the model holds them, enums as their value, a Money
        field as its Decimal amount plus a ``<name>_currency`` column, structured fields as
        JSON-ready data; ``facts.order_count`` (``facts.<fact>``) and ``score.<scorer>``
        name the store's facts and latest scores; ``custom.<key>`` is one custom field,
        typed as the record holds it (None when missing); ``email`` and ``phone`` are a
        contact's primary address (normalised text) and number (E.164). With no `names`,
        every field held in one plain column (`crmkit.storage.columns.default_column_names`).

        Raises:
            ValidationError: When a name is not a column of this kind of record.
            SegmentError: When the segment does not fit this kind of record.
        """
        ...


class ContactRepository(Repository[Contact], Protocol):
    """Contacts, with look-up by email."""

    def find_by_email(self, email: str) -> list[Contact]:
        """Return the live contacts with that address among their emails (by match key)."""
        ...


class DealRepository(Repository[Deal], Protocol):
    """Deals, with their stage history; moved through their pipeline in one call."""

    def move(
        self,
        deal: Deal,
        to: str,
        *,
        pipeline: Pipeline | None = None,
        by: str | None = None,
        note: str | None = None,
        **changes: Any,
    ) -> Moved:
        """Move a deal to stage `to` of its pipeline, store it and record its event, in one call.

        The pipeline is the store's (`UnitOfWork.pipelines`) unless one is given, which must
        then be the stored one. `Pipeline.move` checks and makes the move; the deal is stored
        (its version checked) and its `StageChanged` event recorded in the outbox, all or
        nothing.

        Raises:
            ValidationError: When `deal` is not a Deal, or `pipeline` is not the stored
                definition of the deal's pipeline.
            TransitionError: When the pipeline refuses the move.
            ConcurrencyError: When the deal changed since it was read.
        """
        ...


class LeadRepository(Repository[Lead], Protocol):
    """Leads, converted in one call."""

    def convert(
        self,
        lead: Lead,
        pipeline: str | Pipeline = "sales",
        *,
        deal_name: str | None = None,
        stage: str | None = None,
        amount: Money | str | None = None,
        currency: str | None = None,
        owner: str | None = None,
        by: str | None = None,
    ) -> Conversion:
        """Convert a qualified lead: contact, company and deal stored, the event recorded.

        The deal opens in the store's pipeline with that key; see `crmkit.convert_lead`.

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no such pipeline.
            TransitionError: When the lead is not qualified or already converted.
        """
        ...


class CompanyRepository(Repository[Company], Protocol):
    """Companies, with look-up by web domain."""

    def find_by_domain(self, domain: str) -> list[Company]:
        """Return the live companies with that web domain (given in any form)."""
        ...


class OrderRepository(Repository[Order], Protocol):
    """Orders, with RFM analysis of the customers who placed them."""

    def rfm(
        self, *, currency: str, as_of: dt.datetime | None = None, by: str = "contact"
    ) -> list[RfmScore]:
        """Score every live customer with counted orders by recency, frequency and money.

        Computed where the data is (SQL window functions on SQLite and PostgreSQL), from
        the facts the store keeps: counted orders are live and neither cancelled nor
        refunded. Recency and frequency count orders in every currency; monetary sums the
        orders in `currency` only (0 for a customer who never paid in it): there are no
        exchange rates yet.

        Args:
            currency: The ISO 4217 currency monetary values are summed in.
            as_of: The instant recency is counted to; the store's clock by default.
            by: ``"contact"`` (the orders' contacts) or ``"company"`` (their companies).

        Returns:
            One score per customer, in id order.

        Raises:
            ValidationError: For an unknown currency or `by`, or a naive `as_of`.
        """
        ...


@attrs.frozen
class StoredScore:
    """The latest score one scorer gave one record, as the score table keeps it.

    Scores live outside the record: writing one does not change the record's version, does
    not collide with a user's edit and is not an audit-history entry.

    Attributes:
        record_id: The contact, company, lead or deal scored.
        scorer: The scorer's name (``"engagement"``, ``"fit"``, ``"win_probability"``).
        value: The score.
        computed_at: When it was computed (the "as of" instant).
        scorer_version: The version of the scorer's definition that computed it.
        grade: A grade or band, when the scorer gives one (``"A2"``, ``"high"``).
        breakdown: Why: JSON-ready data naming each contribution.
    """

    record_id: uuid.UUID
    scorer: str
    value: float
    computed_at: dt.datetime
    scorer_version: str = "1"
    grade: str | None = None
    breakdown: Any = None


@attrs.frozen
class SavedSegment:
    """A segment kept by the store under a name: dynamic (re-evaluated) or static (frozen).

    A dynamic segment is evaluated each time its members are asked for; the store also keeps
    the members found by its latest refresh, so the next refresh can tell who joined and who
    left. A static segment is a frozen member list, with when and by whom it was frozen.

    Attributes:
        name: Its key (``"german-vips"``).
        kind: The kind of record it selects (``"contact"``).
        condition: Its definition.
        static: True for a frozen member list.
        description: What it is for.
        version: The store's version: 1 when saved, +1 per change.
        created_at: When it was first saved.
        updated_at: When its definition last changed.
        evaluated_at: When its member list was last stored (frozen or refreshed).
        evaluated_by: Who stored that list (the unit of work's actor).
        member_count: How many members that list holds.
    """

    name: str
    kind: str
    condition: Condition
    static: bool = False
    description: str | None = None
    version: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    evaluated_at: dt.datetime | None = None
    evaluated_by: str | None = None
    member_count: int = 0


@attrs.frozen
class MembershipDiff:
    """Who joined and who left a segment between two evaluations (ids in id order).

    Attributes:
        joined: Members now that were not members before.
        left: Members before that are not members now.
        before: When the earlier member list was taken (None when there was none).
        after: When the later one was taken.
    """

    joined: tuple[uuid.UUID, ...]
    left: tuple[uuid.UUID, ...]
    before: dt.datetime | None = None
    after: dt.datetime | None = None

    @classmethod
    def between(
        cls,
        before: Iterable[uuid.UUID],
        after: Iterable[uuid.UUID],
        *,
        before_at: dt.datetime | None = None,
        after_at: dt.datetime | None = None,
    ) -> MembershipDiff:
        """Compare two member lists."""
        old, new = set(before), set(after)
        return cls(tuple(sorted(new - old)), tuple(sorted(old - new)), before_at, after_at)

    def __bool__(self) -> bool:
        return bool(self.joined or self.left)


class SegmentBook(Protocol):
    """The saved segments inside a unit of work: ``uow.segments``."""

    def save(
        self,
        name: str,
        condition: Condition,
        *,
        kind: str = "contact",
        static: bool = False,
        description: str | None = None,
    ) -> SavedSegment:
        """Save (or redefine) a segment; a static one is evaluated and frozen now."""
        ...

    def get(self, name: str) -> SavedSegment:
        """Return a saved segment.

        Raises:
            NotFoundError: When none has that name.
        """
        ...

    def list(self) -> list[SavedSegment]:
        """Return every saved segment, by name."""
        ...

    def delete(self, name: str) -> None:
        """Forget a saved segment and its member list."""
        ...

    def members(self, name: str) -> Iterator[uuid.UUID]:
        """Yield its members' ids in id order (a dynamic segment is evaluated now)."""
        ...

    def refresh(self, name: str) -> MembershipDiff:
        """Evaluate a segment now, store the member list, and say who joined and left."""
        ...


class ScoreTable(Protocol):
    """The score table inside a unit of work: ``uow.scores``."""

    def put_many(self, scores: Iterable[StoredScore]) -> int:
        """Write scores in bulk, replacing each record's previous score of that scorer."""
        ...

    def get(self, record_id: uuid.UUID, scorer: str) -> StoredScore | None:
        """Return the latest score of a record by a scorer, if any."""
        ...

    def for_records(
        self, record_ids: Iterable[uuid.UUID], scorer: str
    ) -> dict[uuid.UUID, StoredScore]:
        """Return the latest scores of many records by one scorer (one query)."""
        ...


class CustomFieldRegistry(Protocol):
    """The stored custom-field schemas, one per kind of record, versioned."""

    def get(self, kind: str) -> CustomFieldSchema:
        """Return the current schema of `kind` (an empty version-0 schema if none was saved)."""
        ...

    def save(self, schema: CustomFieldSchema) -> CustomFieldSchema:
        """Store the next version of a schema.

        Raises:
            ValidationError: When it is not the next version (the stored version + 1), or it
                changes a field's type or drops a field (retire it instead).
        """
        ...


@attrs.frozen
class StoredPipeline:
    """A pipeline as a store keeps it: the definition and its version.

    Attributes:
        pipeline: The definition.
        version: 1 when first saved, +1 per saved change; 0 for a built-in pipeline the store
            knows without it being saved (`crmkit.pipelines.default_sales_pipeline` and
            `default_renewal_pipeline`, until a pipeline with their key is saved).
        saved_at: When this version was saved (None for a built-in one).
    """

    pipeline: Pipeline
    version: int
    saved_at: dt.datetime | None = None


class PipelineBook(Protocol):
    """The pipelines a store knows: deals are stored only in their stages."""

    def get(self, key: str) -> Pipeline:
        """Return the pipeline with that key.

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no such pipeline.
        """
        ...

    def version(self, key: str) -> int:
        """Return the stored version of a pipeline (0 for a built-in one never saved)."""
        ...

    def all(self) -> tuple[Pipeline, ...]:
        """Return every pipeline the store knows, by key."""
        ...

    def __contains__(self, key: object) -> bool:
        """Whether the store knows a pipeline with that key."""
        ...

    def save(self, pipeline: Pipeline) -> StoredPipeline:
        """Store a pipeline, new or changed (unchanged: nothing is written).

        Raises:
            ValidationError: When a stage that deals are in (archived ones included) is
                missing from the new definition, naming the stage and how many deals.
        """
        ...


class CalendarBook(Protocol):
    """Business calendars stored by name: a support team in Berlin, sales in New York.

    The store's own calendar (`UnitOfWork.business_calendar`) is apart from these.
    """

    def get(self, name: str) -> BusinessCalendar:
        """Return the calendar stored under `name`.

        Raises:
            NotFoundError: When no calendar has that name.
        """
        ...

    def save(self, name: str, calendar: BusinessCalendar) -> None:
        """Store `calendar` under `name`, replacing one of that name.

        Raises:
            ValidationError: For a blank or overlong name (naming ``name``) or a `calendar`
                that is not a `BusinessCalendar` (naming ``calendar``).
        """
        ...

    def names(self) -> tuple[str, ...]:
        """Return the names of the stored calendars, sorted."""
        ...

    def __contains__(self, name: object) -> bool:
        """Whether a calendar is stored under `name`."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories for every kind, the outbox and custom-field schemas."""

    @property
    def contacts(self) -> ContactRepository:
        """The contacts."""
        ...

    @property
    def companies(self) -> CompanyRepository:
        """The companies."""
        ...

    @property
    def leads(self) -> LeadRepository:
        """The leads."""
        ...

    @property
    def deals(self) -> DealRepository:
        """The deals, with their stage history."""
        ...

    @property
    def activities(self) -> Repository[Activity]:
        """The activity log."""
        ...

    @property
    def tasks(self) -> Repository[Task]:
        """The follow-up tasks."""
        ...

    @property
    def orders(self) -> OrderRepository:
        """The orders."""
        ...

    def repository(self, kind: str) -> Repository[Any]:
        """Return the repository of any registered kind by name (``"contact"`` → `contacts`).

        Raises:
            ValidationError: When no kind has that name.
        """
        ...

    @property
    def custom_fields(self) -> CustomFieldRegistry:
        """The stored custom-field schemas."""
        ...

    @property
    def scores(self) -> ScoreTable:
        """The latest score of each record by each scorer."""
        ...

    @property
    def pipelines(self) -> PipelineBook:
        """The pipelines the store knows (deals are stored only in their stages)."""
        ...

    @property
    def segments(self) -> SegmentBook:
        """The saved segments."""
        ...

    @property
    def business_calendar(self) -> BusinessCalendar:
        """The store's business calendar (time zone, fiscal year) for relative dates."""
        ...

    @property
    def calendars(self) -> CalendarBook:
        """Business calendars stored by name (teams' and people's working hours)."""
        ...

    def claim_state(self, key: str) -> str | None:
        """Read a domain service's shared state (a rotation's counters) for update.

        Other units of work claiming the same key wait until this one ends, then read what
        it wrote: read, change and `put_state` stay consistent across processes. Makes the
        unit of work a writing one.
        """
        ...

    def put_state(self, key: str, value: str) -> None:
        """Write a domain service's shared state (text, usually JSON) in this unit of work."""
        ...

    @property
    def actor(self) -> str | None:
        """Who the changes of this unit of work are attributed to."""
        ...

    @property
    def clock(self) -> Clock:
        """The store's clock: where history, events and archive times get "now" from."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A block whose changes are undone if it raises, while the unit of work goes on."""
        ...

    def record(self, event: DomainEvent) -> None:
        """Add an event to the outbox; it is stored if and when the unit of work commits.

        An attrs event whose `by` is None is attributed to the unit of work's actor.
        """
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Store(Protocol):
    """A CRM's data: open units of work, read the audit trail and the outbox, close."""

    def unit_of_work(self, actor: str | None = None, *, readonly: bool = False) -> UnitOfWork:
        """Start a unit of work; use it as a context manager.

        Args:
            actor: Who the changes are attributed to in history and events.
            readonly: Refuse writes and take no write lock (SQLite: a deferred transaction).
        """
        ...

    def history(self, entity_id: uuid.UUID) -> list[HistoryEntry]:
        """Return every recorded change of a record, oldest first.

        Raises:
            ValidationError: Naming ``entity_id`` when it is not a `uuid.UUID`.
        """
        ...

    def events(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Return outbox events with a position greater than `after`, in commit order.

        Raises:
            ValidationError: Naming ``after`` when it is not an integer of 0 or more, and
                ``limit`` when it is neither None nor an integer of 0 or more.
        """
        ...

    def close(self) -> None:
        """Release every resource; the store cannot be used afterwards."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
