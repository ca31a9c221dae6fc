"""The in-memory adapter: a real store with the same contract, for app tests and notebooks.

Committed data lives in plain dicts guarded by a lock. A unit of work writes to its own
layer over them (so nobody else sees uncommitted changes: read-committed) and reads through
that layer (read-your-own-writes); committing folds the layer in under the lock. Writers are
serialised by a write lock, like SQLite's ``BEGIN IMMEDIATE``, so version checks are exact.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.conditions.evaluate import segment_predicate
from crmkit.errors import NestedWriteError, StorageError, StoreBusyError
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS, Kind
from crmkit.model.rfm import compute_rfm
from crmkit.storage.arguments import (
    MAX_BUSY_TIMEOUT,
    check_clock,
    check_events_window,
    check_record_id,
    seconds_option,
)
from crmkit.storage.backend import (
    ActivitySource,
    ColumnSpec,
    OrderSource,
    PendingEvent,
    RfmRow,
    SegmentQuery,
    keyset_pages,
)
from crmkit.storage.columns import plain_column_value
from crmkit.storage.plain import copy_plain
from crmkit.storage.protocol import (
    FieldChange,
    HistoryEntry,
    RecordFacts,
    SavedSegment,
    StoredEvent,
    StoredPipeline,
    StoredScore,
)
from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["MemoryStore"]

K = TypeVar("K")
V = TypeVar("V")

_GONE: Any = object()


class _Layer(Generic[K, V]):
    """A dict seen through a transaction's private changes."""

    def __init__(self, base: dict[K, V]) -> None:
        self.base = base
        self.top: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        if key in self.top:
            value = self.top[key]
            return None if value is _GONE else value
        return self.base.get(key)

    def set(self, key: K, value: V) -> None:
        self.top[key] = value

    def delete(self, key: K) -> None:
        self.top[key] = _GONE

    def items(self) -> Iterator[tuple[K, V]]:
        """Every live (key, value), the transaction's own changes included."""
        for key, value in self.base.items():
            if key not in self.top:
                yield key, value
        for key, value in self.top.items():
            if value is not _GONE:
                yield key, value

    def apply(self) -> None:
        for key, value in self.top.items():
            if value is _GONE:
                self.base.pop(key, None)
            else:
                self.base[key] = value


class _State:
    """Everything a memory store has committed."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[uuid.UUID, Entity]] = {k: {} for k in KINDS}
        self.order: dict[str, list[uuid.UUID]] = {k: [] for k in KINDS}
        self.kinds: dict[uuid.UUID, str] = {}  # every record's id and kind: ids are unique
        self.emails: dict[str, frozenset[uuid.UUID]] = {}
        self.domains: dict[str, frozenset[uuid.UUID]] = {}
        self.refs: dict[uuid.UUID, frozenset[tuple[str, uuid.UUID]]] = {}
        self.facts: dict[uuid.UUID, RecordFacts] = {}
        self.schemas: dict[str, CustomFieldSchema] = {}
        self.pipelines: dict[str, StoredPipeline] = {}
        self.scores: dict[tuple[uuid.UUID, str], StoredScore] = {}
        self.settings: dict[str, str] = {}
        self.segments: dict[str, SavedSegment] = {}
        self.segment_members: dict[str, tuple[uuid.UUID, ...]] = {}
        self.history: dict[uuid.UUID, list[HistoryEntry]] = {}
        self.events: list[StoredEvent] = []


@attrs.frozen
class _Savepoint:
    """What a memory transaction had changed at a savepoint."""

    rows: dict[str, dict[uuid.UUID, Entity]]
    added: dict[str, list[uuid.UUID]]
    removed: dict[str, set[uuid.UUID]]
    indexes: list[dict[Any, Any]]
    history: int
    events: int


class _Commit:
    """A transaction's changes, ready to publish; `apply` may run again and again.

    A commit interrupted half-way (KeyboardInterrupt, a signal handler raising) must not
    leave rows without their history or facts. So the changes are prepared first, under the
    state lock, then recorded as the store's pending commit in one assignment; from then on
    they count as committed, and whoever takes the state lock next finishes publishing them
    (`_StateLock`) before reading anything. Every step of `apply` is idempotent, so running
    it again after an interruption at any point gives the same state.
    """

    def __init__(self, state: _State, backend: _MemoryBackend) -> None:
        self._state = state
        # only what the transaction touched (most touch one table and an index or two)
        self._rows = [layer for layer in backend._rows.values() if layer.top]
        self._indexes = [layer for layer in backend._indexes() if layer.top]
        self._order = [
            (state.order[name], backend._added[name], backend._removed[name])
            for name in KINDS
            if backend._added[name] or backend._removed[name]
        ]
        grouped: dict[uuid.UUID, list[HistoryEntry]] = {}
        for entry in backend._history:
            grouped.setdefault(entry.entity_id, []).append(entry)
        self._history = [
            (ident, len(state.history.get(ident, ())), entries)
            for ident, entries in grouped.items()
        ]
        first = len(state.events)
        self._events_from = first
        self._events = [
            StoredEvent(
                first + i + 1, event.event_type, event.payload, event.actor, event.recorded_at
            )
            for i, event in enumerate(backend._events)
        ]

    def apply(self) -> None:
        """Publish the changes into the store's state (again, if interrupted before)."""
        for layer in self._rows:
            layer.apply()
        for order, added, removed in self._order:
            if removed:
                order[:] = [i for i in order if i not in removed]
            for ident in added:
                if ident in removed:
                    continue
                at = bisect.bisect_left(order, ident)
                if at == len(order) or order[at] != ident:
                    order.insert(at, ident)
        for layer in self._indexes:
            layer.apply()
        history = self._state.history
        for ident, before, entries in self._history:
            kept = history.setdefault(ident, [])
            del kept[before:]
            kept.extend(entries)
        events = self._state.events
        del events[self._events_from :]
        events.extend(self._events)


class _StateLock:
    """The lock over a memory store's committed state.

    Taking it first finishes publishing a commit that an interruption left pending (see
    `_Commit`), so nobody ever reads a half-published commit.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.pending: _Commit | None = None

    def __enter__(self) -> Self:
        self._lock.acquire()
        try:
            if self.pending is not None:
                self.pending.apply()
                self.pending = None
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()


class _MemoryBackend:
    """One memory transaction (see `crmkit.storage.backend.Backend`)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        state = store._state
        self._lock = store._lock
        self._rows = {k: _Layer(state.rows[k]) for k in KINDS}
        self._added: dict[str, list[uuid.UUID]] = {k: [] for k in KINDS}
        self._removed: dict[str, set[uuid.UUID]] = {k: set() for k in KINDS}
        self._kinds = _Layer(state.kinds)
        self._emails = _Layer(state.emails)
        self._domains = _Layer(state.domains)
        self._refs = _Layer(state.refs)
        self._facts = _Layer(state.facts)
        self._schemas = _Layer(state.schemas)
        self._pipelines = _Layer(state.pipelines)
        self._scores = _Layer(state.scores)
        self._settings = _Layer(state.settings)
        self._segments = _Layer(state.segments)
        self._segment_members = _Layer(state.segment_members)
        self._history: list[HistoryEntry] = []
        self._events: list[PendingEvent] = []
        self._holds_write_lock = False

    # -- transaction -----------------------------------------------------------------------

    def begin_write(self) -> None:
        store = self._store
        if store._writer == threading.get_ident():
            raise NestedWriteError(
                "this thread already holds a writing unit of work on the store; finish it "
                "first (a second one would wait for the first, which waits for this thread)"
            )
        if not store._write_lock.acquire(timeout=store.busy_timeout):
            raise StoreBusyError(
                f"another unit of work held the store for over {store.busy_timeout} s"
            )
        store._writer = threading.get_ident()
        self._holds_write_lock = True

    def savepoint(self) -> object:
        return _Savepoint(
            rows={name: dict(layer.top) for name, layer in self._rows.items()},
            added={name: list(ids) for name, ids in self._added.items()},
            removed={name: set(ids) for name, ids in self._removed.items()},
            indexes=[dict(layer.top) for layer in self._indexes()],
            history=len(self._history),
            events=len(self._events),
        )

    def rollback_to(self, token: object) -> None:
        assert isinstance(token, _Savepoint)
        for name, layer in self._rows.items():
            layer.top = dict(token.rows[name])
        self._added = {name: list(ids) for name, ids in token.added.items()}
        self._removed = {name: set(ids) for name, ids in token.removed.items()}
        for layer, top in zip(self._indexes(), token.indexes, strict=True):
            layer.top = dict(top)
        del self._history[token.history :]
        del self._events[token.events :]

    def release(self, token: object) -> None:
        """Nothing to free: a memory savepoint is only a copy of the changes so far."""

    def _indexes(self) -> tuple[_Layer[Any, Any], ...]:
        return (
            self._kinds,
            self._emails,
            self._domains,
            self._refs,
            self._facts,
            self._schemas,
            self._pipelines,
            self._scores,
            self._settings,
            self._segments,
            self._segment_members,
        )

    def commit(self) -> None:
        """Publish the transaction's changes in one step (see `_Commit`), then end it."""
        with self._lock:  # taking it finishes any earlier commit that was interrupted
            commit = _Commit(self._store._state, self)
            self._lock.pending = commit  # from here on, the changes are committed
            commit.apply()
            self._lock.pending = None
        self._release()

    def rollback(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self._store._writer = None
            self._store._write_lock.release()

    # -- rows ------------------------------------------------------------------------------

    def load(self, kind: Kind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entity]:
        rows = self._rows[kind.name]
        with self._lock:
            found = {i: rows.get(i) for i in ids}
        return {i: e for i, e in found.items() if e is not None}

    def insert(self, kind: Kind, entities: Sequence[Entity]) -> None:
        rows = self._rows[kind.name]
        removed = self._removed[kind.name]
        kinds = self._kinds
        with self._lock:
            taken = [(e.id, k) for e in entities if (k := kinds.get(e.id)) is not None]
        if taken:  # the unit of work checks first (`kinds_of`): this is the adapter's guard
            ident, holder = taken[0]
            raise StorageError(f"id {ident} is taken: a {holder} holds it (ids are unique)")
        new = []
        for entity in entities:
            rows.set(entity.id, entity)
            kinds.set(entity.id, kind.name)
            self._index(kind, None, entity)
            if entity.id in removed:  # deleted and added again in this transaction
                removed.discard(entity.id)
            else:
                new.append(entity.id)
        new.sort()
        added = self._added[kind.name]
        if added and new and new[0] < added[-1]:
            added[:] = sorted([*added, *new])
        else:
            added.extend(new)

    def replace(
        self,
        kind: Kind,
        entity: Entity,
        expected_version: int,
        changed: Collection[str] | None = None,
    ) -> bool:
        rows = self._rows[kind.name]
        with self._lock:
            current = rows.get(entity.id)
        if current is None or current.version != expected_version:
            return False
        rows.set(entity.id, entity)
        self._index(kind, current, entity)
        return True

    def remove(self, kind: Kind, entity_id: uuid.UUID, expected_version: int) -> bool:
        rows = self._rows[kind.name]
        with self._lock:
            current = rows.get(entity_id)
        if current is None or current.version != expected_version:
            return False
        rows.delete(entity_id)
        self._kinds.delete(entity_id)
        self._removed[kind.name].add(entity_id)
        self._index(kind, current, None)
        return True

    def _index(self, kind: Kind, old: Entity | None, new: Entity | None) -> None:
        """Keep the email, domain and reference indexes in step with a row change."""
        ident = (new or old).id  # type: ignore[union-attr]
        if "emails" in kind.side_tables:
            self._reindex(self._emails, _email_keys(old), _email_keys(new), ident)
        self._reindex(self._domains, _domain_keys(old), _domain_keys(new), ident)
        before = {i for _r, i in kind.ref_ids(old)} if old else set()
        after = {i for _r, i in kind.ref_ids(new)} if new else set()
        self._reindex(self._refs, before, after, (kind.name, ident))

    def _reindex(self, layer: _Layer[Any, Any], old: set[Any], new: set[Any], item: Any) -> None:
        with self._lock:
            for key in old - new:
                layer.set(key, (layer.get(key) or frozenset()) - {item})
            for key in new - old:
                layer.set(key, (layer.get(key) or frozenset()) | {item})

    def scan(
        self, kind: Kind, after: uuid.UUID | None, limit: int, include_archived: bool
    ) -> list[Entity]:
        rows = self._rows[kind.name]
        added = self._added[kind.name]
        result: list[Entity] = []
        cursor = after
        with self._lock:
            order = self._store._state.order[kind.name]
            while len(result) < limit:
                start = 0 if cursor is None else bisect.bisect_right(order, cursor)
                extra_start = 0 if cursor is None else bisect.bisect_right(added, cursor)
                candidates = list(
                    heapq.merge(
                        order[start : start + limit], added[extra_start : extra_start + limit]
                    )
                )[:limit]
                if not candidates:
                    break
                for ident in candidates:
                    entity = rows.get(ident)  # None once removed in this transaction
                    if entity is not None and (include_archived or entity.archived_at is None):
                        result.append(entity)
                        if len(result) == limit:
                            break
                cursor = candidates[-1]
        return result

    def scan_iter(
        self, kind: Kind, after: uuid.UUID | None, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        return keyset_pages(self.scan, kind, after, include_archived, batch_size)

    def count(self, kind: Kind, include_archived: bool) -> int:
        return sum(1 for _ in self._every(kind, include_archived))

    def _untouched(self, kind: Kind) -> bool:
        """Whether this transaction has changed no row of `kind` (so it sees the committed)."""
        name = kind.name
        return not (self._rows[name].top or self._added[name] or self._removed[name])

    def _every(self, kind: Kind, include_archived: bool) -> Iterable[Entity]:
        """Every live entity of `kind` (archived ones too if asked), in no particular order.

        For counting: a kind this transaction has not touched is read straight from the
        committed rows (a snapshot of them, taken under the lock), with no look-up per id.
        """
        if not self._untouched(kind):
            return self.scan_iter(kind, None, include_archived, 10_000)
        with self._lock:
            rows = list(self._rows[kind.name].base.values())
        if include_archived:
            return rows
        return [e for e in rows if e.archived_at is None]

    def existing(self, kind: Kind, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        rows = self._rows[kind.name]
        with self._lock:
            return {i for i in ids if rows.get(i) is not None}

    def kinds_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        kinds = self._kinds
        with self._lock:
            found = {i: kinds.get(i) for i in ids}
        return {i: k for i, k in found.items() if k is not None}

    def referrers(self, kind: Kind, entity_id: uuid.UUID, limit: int) -> list[str]:
        with self._lock:
            pointing = sorted(self._refs.get(entity_id) or ())
        return [f"{name} {ident}" for name, ident in pointing if ident != entity_id][:limit]

    def related(self, kind: Kind, record_id: uuid.UUID, limit: int) -> list[Entity]:
        with self._lock:
            ids = [i for name, i in self._refs.get(record_id) or () if name == kind.name]
        found = [e for e in self.load(kind, ids).values() if e.archived_at is None]
        found.sort(key=lambda e: (getattr(e, kind.time_field), e.id), reverse=True)
        return found[:limit]

    def contacts_by_email(self, match_key: str) -> list[Contact]:
        return self._live(KINDS["contact"], self._emails, match_key)  # type: ignore[return-value]

    def companies_by_domain(self, domain: str) -> list[Company]:
        return self._live(KINDS["company"], self._domains, domain)  # type: ignore[return-value]

    def _live(self, kind: Kind, index: _Layer[str, frozenset[uuid.UUID]], key: str) -> list[Entity]:
        with self._lock:
            ids = sorted(index.get(key) or ())
        return [e for e in self.load(kind, ids).values() if e.archived_at is None]

    # -- facts, history, events, schemas ---------------------------------------------------

    def facts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RecordFacts]:
        with self._lock:
            found = {i: self._facts.get(i) for i in ids}
        return {i: f for i, f in found.items() if f is not None}

    def fact_sources(
        self, ids: Sequence[uuid.UUID], order_statuses: Sequence[str]
    ) -> tuple[list[ActivitySource], list[OrderSource]]:
        activities: list[ActivitySource] = []
        orders: list[OrderSource] = []
        counted = set(order_statuses)
        for record in ids:
            for entity in self.related(KINDS["activity"], record, 10**12):
                activities.append((record, str(entity.kind.value), entity.occurred_at))  # type: ignore[attr-defined]
            for entity in self.related(KINDS["order"], record, 10**12):
                if entity.status.value in counted:  # type: ignore[attr-defined]
                    total = entity.total  # type: ignore[attr-defined]
                    orders.append((record, total.currency, total.amount, entity.placed_at))  # type: ignore[attr-defined]
        return activities, orders

    def put_facts(self, ids: Sequence[uuid.UUID], facts: Sequence[RecordFacts]) -> None:
        for ident in ids:
            self._facts.delete(ident)
        for fact in facts:
            self._facts.set(fact.record_id, fact)

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        self._history.extend(entries)

    def append_events(self, events: Sequence[PendingEvent]) -> None:
        self._events.extend(events)

    def load_schema(self, kind: str) -> CustomFieldSchema | None:
        with self._lock:
            return self._schemas.get(kind)

    def store_schema(self, schema: CustomFieldSchema) -> None:
        self._schemas.set(schema.entity, schema)

    def load_pipelines(self) -> dict[str, StoredPipeline]:
        with self._lock:
            return dict(self._pipelines.items())

    def store_pipeline(self, stored: StoredPipeline) -> None:
        self._pipelines.set(stored.pipeline.key, stored)

    def put_scores(self, scores: Sequence[StoredScore]) -> None:
        for score in scores:
            self._scores.set((score.record_id, score.scorer), score)

    def scores(self, record_ids: Sequence[uuid.UUID], scorer: str) -> dict[uuid.UUID, StoredScore]:
        with self._lock:
            found = {i: self._scores.get((i, scorer)) for i in record_ids}
        return {i: score for i, score in found.items() if score is not None}

    def scan_grouped(
        self, kind: Kind, link: str, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        # Memory has no index on every link: collect (link, time, id) keys once, then load
        # entities a batch at a time in that order.
        keys = sorted(
            (getattr(e, link), getattr(e, kind.time_field), e.id)
            for e in self.scan_iter(kind, None, include_archived, 10_000)
            if getattr(e, link) is not None
        )
        for start in range(0, len(keys), batch_size):
            chunk = [ident for _link, _time, ident in keys[start : start + batch_size]]
            loaded = self.load(kind, chunk)
            yield from (loaded[i] for i in chunk if i in loaded)

    # -- segments: evaluated with one compiled predicate (this backend is its RecordSource) --

    def records(self, kind: str) -> Iterator[Entity]:
        """Yield the live records of a kind (for related-record conditions)."""
        return self.scan_iter(KINDS[kind], None, False, 10_000)

    def all_facts(self) -> list[RecordFacts]:
        """Return the facts of every record that has any."""
        with self._lock:
            return [facts for _key, facts in self._facts.items()]

    def all_scores(self, scorer: str) -> list[tuple[uuid.UUID, float]]:
        """Return ``(record_id, value)`` of every score by `scorer`."""
        with self._lock:
            scores = self._scores.items()
            return [(s.record_id, s.value) for (_r, name), s in scores if name == scorer]

    def find_iter(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[Entity]:
        """Stream the matching entities in id order; the segment is compiled once.

        A kind this transaction has not touched is filtered straight from a snapshot of the
        committed rows and only the matches are put in id order; otherwise each page of the
        transaction's view is filtered.
        """
        test = segment_predicate(query.binding, self, now=query.now, calendar=query.calendar)
        if self._untouched(kind):
            matches = [e for e in self._every(kind, include_archived) if test(e)]
            matches.sort(key=_id_number)
            start = 0 if after is None else bisect.bisect_right(matches, after.int, key=_id_number)
            yield from matches[start:]
            return
        for entity in self.scan_iter(kind, after, include_archived, batch_size):
            if test(entity):
                yield entity

    def find_ids(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[uuid.UUID]:
        """Stream the matching ids."""
        return (e.id for e in self.find_iter(kind, query, after, include_archived, batch_size))

    def count_matching(self, kind: Kind, query: SegmentQuery, include_archived: bool) -> int:
        """Count the matching entities (the segment compiled once, each entity tested once)."""
        test = segment_predicate(query.binding, self, now=query.now, calendar=query.calendar)
        return sum(1 for entity in self._every(kind, include_archived) if test(entity))

    # -- for data scientists: RFM and column fetches, in Python --------------------------

    def rfm(self, kind: Kind, currency: str, as_of: dt.datetime) -> list[RfmRow]:
        """Score the live records of `kind` with counted orders (the SQL stores' formula)."""
        rows = self._rows[kind.name]
        customers: list[tuple[uuid.UUID, int, int, Decimal]] = []
        zero = Decimal(0)
        with self._lock:
            for ident, facts in self._facts.items():
                if facts.order_count == 0 or facts.last_order_at is None:
                    continue
                entity = rows.get(ident)
                if entity is None or entity.archived_at is not None:
                    continue
                days = max(0, (as_of - facts.last_order_at).days)  # floor of whole days
                monetary = facts.order_totals.get(currency, zero)
                customers.append((ident, days, facts.order_count, monetary))
        return compute_rfm(customers)

    def columns(
        self,
        kind: Kind,
        specs: Sequence[ColumnSpec],
        query: SegmentQuery | None,
        include_archived: bool,
        batch_size: int,
    ) -> dict[str, list[Any]]:
        """Read the asked attributes of each entity (in memory there is no row to spare)."""
        if query is None:
            stream = self.scan_iter(kind, None, include_archived, batch_size)
        else:
            stream = self.find_iter(kind, query, None, include_archived, batch_size)
        out: dict[str, list[Any]] = {spec.name: [] for spec in specs}
        for entity in stream:
            for spec in specs:
                out[spec.name].append(self._column_value(entity, spec))
        return out

    def _column_value(self, entity: Entity, spec: ColumnSpec) -> Any:
        if spec.source == "field":
            return plain_column_value(spec, getattr(entity, spec.field))
        with self._lock:
            if spec.source == "fact":
                facts = self._facts.get(entity.id)
                return spec.empty if facts is None else getattr(facts, spec.field)
            score = self._scores.get((entity.id, spec.field))
        return None if score is None else float(score.value)

    def load_setting(self, key: str) -> str | None:
        with self._lock:
            return self._settings.get(key)

    def store_setting(self, key: str, value: str) -> None:
        self._settings.set(key, value)

    def claim_setting(self, key: str) -> str | None:
        # A writing unit of work holds the store's write lock: nobody else can change it.
        return self.load_setting(key)

    def load_settings(self, prefix: str) -> dict[str, str]:
        with self._lock:
            return {k: v for k, v in self._settings.items() if k.startswith(prefix)}

    def load_segments(self, name: str | None) -> list[SavedSegment]:
        with self._lock:
            if name is not None:
                found = self._segments.get(name)
                return [] if found is None else [found]
            return sorted((s for _n, s in self._segments.items()), key=lambda s: s.name)

    def store_segment(self, segment: SavedSegment) -> None:
        self._segments.set(segment.name, segment)

    def delete_segment(self, name: str) -> None:
        self._segments.delete(name)
        self._segment_members.delete(name)

    def segment_members(self, name: str) -> list[uuid.UUID]:
        with self._lock:
            return list(self._segment_members.get(name) or ())

    def put_segment_members(self, name: str, ids: Sequence[uuid.UUID]) -> None:
        self._segment_members.set(name, tuple(sorted(ids)))


def _email_keys(entity: Entity | None) -> set[str]:
    if not isinstance(entity, Contact):
        return set()
    return {e.match_key for e in entity.emails}


def _domain_keys(entity: Entity | None) -> set[str]:
    if not isinstance(entity, Company) or entity.domain is None:
        return set()
    return {entity.domain}


class MemoryStore:
    """A store in this process's memory: ``crmkit.open_store("memory://")``.

    Args:
        clock: Where history, events and archive times get "now" from.
        busy_timeout: Seconds a writing unit of work waits for another writer to finish.
    """

    def __init__(self, clock: Clock | None = None, *, busy_timeout: float = 5.0) -> None:
        check_clock(clock)
        self.clock = resolve_clock(clock)
        self.busy_timeout = seconds_option("busy_timeout", busy_timeout, at_most=MAX_BUSY_TIMEOUT)
        self._state = _State()
        self._lock = _StateLock()
        self._write_lock = threading.Lock()
        self._writer: int | None = None  # the thread holding the write lock
        self._closed = False

    def unit_of_work(
        self, actor: str | None = None, *, readonly: bool = False
    ) -> BackendUnitOfWork:
        """Start a unit of work (use it in a ``with`` block)."""
        if self._closed:
            raise StorageError("the store is closed")
        return BackendUnitOfWork(lambda: _MemoryBackend(self), self.clock, actor, readonly)

    def history(self, entity_id: uuid.UUID) -> list[HistoryEntry]:
        """Return every recorded change of a record, oldest first.

        The entries are frozen and their values are the caller's own copies (as a SQL store
        decodes them anew), so changing what is read changes nothing stored.
        """
        check_record_id(entity_id, "entity_id")
        with self._lock:
            entries = list(self._state.history.get(entity_id, ()))
        return [
            attrs.evolve(
                entry,
                changes=tuple(
                    FieldChange(c.field, copy_plain(c.old), copy_plain(c.new))
                    for c in entry.changes
                ),
            )
            for entry in entries
        ]

    def events(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Return outbox events after position `after`, in commit order (the caller's copies)."""
        check_events_window(after, limit)
        with self._lock:
            end = None if limit is None else after + limit
            events = self._state.events[after:end]
        return [attrs.evolve(e, payload=copy_plain(e.payload)) for e in events]

    def close(self) -> None:
        """Drop the data; the store cannot be used afterwards."""
        self._closed = True
        self._state = _State()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _id_number(entity: Entity) -> int:
    """An entity's id as a number: ids sort alike, and ints compare in C (UUIDs in Python)."""
    return entity.id.int
