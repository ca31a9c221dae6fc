"""The storage contract, written once over an adapter's `Backend`.

A `BackendUnitOfWork` is one transaction of any adapter: it holds the repositories of
every kind, the score table, the saved segments and the custom-field schemas; it keeps
the history entries and events of the transaction and writes them with its commit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import attrs

from crmkit.clock import Clock
from crmkit.conditions.binding import bind
from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.tree import Condition
from crmkit.errors import (
    SegmentError,
    StorageError,
    ValidationError,
)
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.fast_records import builder
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.registry import KINDS, Kind, kind_named
from crmkit.model.task import Task
from crmkit.storage.backend import Backend, PendingEvent, SegmentQuery
from crmkit.storage.calendar_book import CalendarBook
from crmkit.storage.custom_field_registry import CustomFieldRegistry
from crmkit.storage.facts import COUNTED_ORDER_STATUSES, compute_facts
from crmkit.storage.pipeline_book import PipelineBook
from crmkit.storage.plain import to_plain
from crmkit.storage.protocol import (
    DomainEvent,
    FieldChange,
    HistoryEntry,
)
from crmkit.storage.repositories import (
    CompanyRepository,
    ContactRepository,
    DealRepository,
    EntityRepository,
    LeadRepository,
    OrderRepository,
)
from crmkit.storage.score_table import ScoreTable
from crmkit.storage.segment_book import SegmentBook

__all__ = ["BackendUnitOfWork"]

T = TypeVar("T")

_new_entry = builder(HistoryEntry, positional=True)

# The repositories with an API of their own, by the entity class it serves; every other
# kind gets an `EntityRepository`.
_REPOSITORY_CLASSES: dict[type[Entity], type[EntityRepository[Any]]] = {
    Contact: ContactRepository,
    Company: CompanyRepository,
    Deal: DealRepository,
    Lead: LeadRepository,
    Order: OrderRepository,
}

_CALENDAR_SETTING = "business_calendar"
_STATE_PREFIX = "state."


def _state_key(key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > 400:
        raise ValidationError.single("key", key, "is not a state key (1-400 characters)")
    return key


class BackendUnitOfWork:
    """A unit of work over one adapter transaction; the same for every adapter.

    Args:
        open_backend: Starts the adapter's transaction (called on entering).
        clock: The store's clock, for history, events and archive times.
        actor: Who the changes are attributed to.
        readonly: Refuse writes.
    """

    def __init__(
        self,
        open_backend: Callable[[], Backend],
        clock: Clock,
        actor: str | None,
        readonly: bool,
    ) -> None:
        self._open_backend = open_backend
        self.clock = clock
        self._actor = actor
        self._readonly = readonly
        self._backend: Backend | None = None
        self._writing = False
        self._done = False
        self._events: list[PendingEvent] = []
        self._history_entries: list[HistoryEntry] = []
        self._schemas: dict[str, CustomFieldSchema | None] = {}
        # What `get` read and what this unit of work wrote, by id: the stored row at that
        # version, so an update of it need not read it again (see EntityRepository._current).
        self._known: dict[uuid.UUID, Entity] = {}
        # repositories and books are made when first used: a request touches one or two
        self._repositories: dict[str, EntityRepository[Any]] = {}
        self._calendar: BusinessCalendar | None = None

    def _repository(self, name: str) -> EntityRepository[Any]:
        found = self._repositories.get(name)
        if found is None:
            kind = KINDS[name]
            found = _REPOSITORY_CLASSES.get(kind.cls, EntityRepository)(self, kind)
            self._repositories[name] = found
        return found

    @functools.cached_property
    def contacts(self) -> ContactRepository:
        """The contacts."""
        return cast(ContactRepository, self._repository("contact"))

    @functools.cached_property
    def companies(self) -> CompanyRepository:
        """The companies."""
        return cast(CompanyRepository, self._repository("company"))

    @functools.cached_property
    def leads(self) -> LeadRepository:
        """The leads."""
        return cast(LeadRepository, self._repository("lead"))

    @functools.cached_property
    def deals(self) -> DealRepository:
        """The deals."""
        return cast(DealRepository, self._repository("deal"))

    @functools.cached_property
    def activities(self) -> EntityRepository[Activity]:
        """The activities."""
        return self._repository("activity")

    @functools.cached_property
    def tasks(self) -> EntityRepository[Task]:
        """The tasks."""
        return self._repository("task")

    @functools.cached_property
    def orders(self) -> OrderRepository:
        """The orders."""
        return cast(OrderRepository, self._repository("order"))

    @functools.cached_property
    def custom_fields(self) -> CustomFieldRegistry:
        """The stored custom-field schemas."""
        return CustomFieldRegistry(self)

    @functools.cached_property
    def scores(self) -> ScoreTable:
        """The stored scores."""
        return ScoreTable(self)

    @functools.cached_property
    def segments(self) -> SegmentBook:
        """The saved segments."""
        return SegmentBook(self)

    @functools.cached_property
    def calendars(self) -> CalendarBook:
        """Business calendars stored by name."""
        return CalendarBook(self)

    def claim_state(self, key: str) -> str | None:
        """Read a domain service's shared state for update (see the protocol)."""
        self._write()
        return self._live_backend().claim_setting(_STATE_PREFIX + _state_key(key))

    def put_state(self, key: str, value: str) -> None:
        """Write a domain service's shared state in this unit of work."""
        if not isinstance(value, str):
            raise ValidationError.single("value", value, "is not text")
        self._write()
        self._live_backend().store_setting(_STATE_PREFIX + _state_key(key), value)

    @functools.cached_property
    def pipelines(self) -> PipelineBook:
        """The stored pipelines."""
        return PipelineBook(self)

    @property
    def actor(self) -> str | None:
        """Who the changes of this unit of work are attributed to."""
        return self._actor

    @property
    def business_calendar(self) -> BusinessCalendar:
        """The store's business calendar (UTC, calendar fiscal year until one is set)."""
        if self._calendar is None:
            text = self._live_backend().load_setting(_CALENDAR_SETTING)
            self._calendar = (
                BusinessCalendar() if text is None else BusinessCalendar.from_dict(json.loads(text))
            )
        return self._calendar

    def set_business_calendar(self, calendar: BusinessCalendar) -> None:
        """Store the business calendar segments follow (time zone, fiscal-year start)."""
        if not isinstance(calendar, BusinessCalendar):
            raise ValidationError.single("calendar", calendar, "is not a BusinessCalendar")
        self._write()
        self._live_backend().store_setting(_CALENDAR_SETTING, json.dumps(calendar.to_dict()))
        self._calendar = calendar

    def _segment_query(self, kind: str, segment: Condition) -> SegmentQuery:
        """Bind a segment to a kind with the stored schemas and pipelines; fix "now"."""
        if not isinstance(segment, Condition):
            raise SegmentError(
                f"{segment!r} is not a segment: pass a condition (crmkit.segments.parse(text))"
            )
        calendar = self.business_calendar
        binding = bind(
            segment,
            kind,
            schemas=self._schema,
            calendar=calendar,
            pipelines=self.pipelines.by_key(),
        )
        return SegmentQuery(binding, self.clock.now(), calendar)

    def repository(self, kind: str) -> EntityRepository[Any]:
        """Return the repository of a kind by name (``"contact"`` → `contacts`).

        Every registered kind has one (`crmkit.model.registry`), also under its table name
        as an attribute (``uow.notes`` for a kind whose table is ``notes``).

        Raises:
            ValidationError: When no kind has that name.
        """
        return self._repository(kind_named(kind).name)

    def __getattr__(self, name: str) -> EntityRepository[Any]:
        """Return the repository of a registered kind by its table name (``uow.notes``)."""
        if "_repositories" in self.__dict__:
            for kind_name, kind in KINDS.items():
                if kind.table == name:
                    return self._repository(kind_name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo everything done inside the block if it raises; the unit of work goes on.

        Use it to try a group of changes (a lead conversion, a bulk add) all or nothing
        without giving up the whole unit of work.
        """
        self._write()
        backend = self._live_backend()
        token = backend.savepoint()
        history, events = len(self._history_entries), len(self._events)
        try:
            yield
        except BaseException:
            del self._history_entries[history:]
            del self._events[events:]
            self._schemas.clear()
            self._known.clear()
            if "pipelines" in self.__dict__:  # a book made (cached_property) may hold pipelines
                self.pipelines.forget()
            self._calendar = None
            backend.rollback_to(token)
            raise
        backend.release(token)

    def record(self, event: DomainEvent) -> None:
        """Add an event to the outbox, stored if and when this unit of work commits.

        An attrs event whose `by` is None is attributed to the unit of work's actor.
        """
        event_type = getattr(event, "event_type", None)
        if not isinstance(event_type, str) or not event_type or not hasattr(event, "to_dict"):
            raise ValidationError.single(
                "event", type(event).__name__, "needs an event_type string and a to_dict()"
            )
        self._write()
        if attrs.has(type(event)) and getattr(event, "by", "") is None and self._actor:
            event = attrs.evolve(event, by=self._actor)  # type: ignore[misc]
        try:
            payload = json.loads(json.dumps(dict(event.to_dict()), default=_json_default))
        except (TypeError, ValueError) as error:
            raise ValidationError.single(
                "event", event_type, f"is not JSON-ready: {error}"
            ) from None
        self._events.append(PendingEvent(event_type, payload, self._actor, self.clock.now()))

    # -- the transaction -------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._backend is not None or self._done:
            raise StorageError("a unit of work can be entered only once")
        self._backend = self._open_backend()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        backend = self._live_backend()
        self._done = True
        self._backend = None
        if exc_type is not None:
            backend.rollback()
            return
        try:
            if self._history_entries:
                backend.append_history(self._history_entries)
            if self._events:
                backend.append_events(self._events)
            backend.commit()
        except BaseException:
            backend.rollback()
            raise

    def _live_backend(self) -> Backend:
        if self._backend is None:
            raise StorageError("the unit of work is not active: use it in a with block")
        return self._backend

    def _guarded(self, stream: Iterator[T]) -> Iterator[T]:
        """Yield from a stream of this unit of work, refusing to go on once it has ended.

        A stream read after its unit of work would read outside the transaction (on
        PostgreSQL, possibly on a connection the pool lent to another unit of work).
        """
        backend = self._live_backend()
        for item in stream:
            if self._backend is not backend:
                raise StorageError(
                    "the unit of work has ended: read its streams inside its with block"
                )
            yield item

    def _write(self) -> None:
        backend = self._live_backend()
        if self._readonly:
            raise StorageError("this unit of work is read-only")
        if not self._writing:
            backend.begin_write()
            self._writing = True

    def _schema(self, kind: str) -> CustomFieldSchema | None:
        if kind not in self._schemas:
            self._schemas[kind] = self._live_backend().load_schema(kind)
        return self._schemas[kind]

    def _history(
        self,
        kind: Kind,
        entity_id: uuid.UUID,
        version: int,
        action: str,
        changes: tuple[FieldChange, ...],
    ) -> None:
        self._history_entry(entity_id, kind.name, version, action, changes)

    def _history_added(self, kind: Kind, entities: Sequence[Entity]) -> None:
        """Record an "added" entry (listing no fields) for each new record, at one instant."""
        name, actor, at = kind.name, self._actor, self.clock.now()
        self._history_entries.extend(
            _new_entry(e.id, name, e.version, "added", actor, at, ()) for e in entities
        )

    def _history_entry(
        self,
        entity_id: uuid.UUID,
        kind: str,
        version: int,
        action: str,
        changes: tuple[FieldChange, ...],
    ) -> None:
        self._history_entries.append(
            HistoryEntry(entity_id, kind, version, action, self._actor, self.clock.now(), changes)
        )

    def _refresh_facts(self, ids: set[uuid.UUID]) -> None:
        if not ids:
            return
        backend = self._live_backend()
        wanted = sorted(ids)
        activities, orders = backend.fact_sources(wanted, COUNTED_ORDER_STATUSES)
        backend.put_facts(wanted, compute_facts(activities, orders))


def _json_default(value: object) -> Any:
    try:
        return to_plain(value)
    except TypeError:
        raise TypeError(f"{type(value).__name__} is not JSON-ready") from None
