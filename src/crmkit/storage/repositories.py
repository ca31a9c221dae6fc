"""The repositories of a unit of work: the records of one kind, written and read.

Validation of what is stored, optimistic versions, references, history entries and the
facts an activity or order moves all happen here, the same for every adapter.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from crmkit.conditions.tree import Condition
from crmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    Problem,
    ReferencedError,
    ValidationError,
)
from crmkit.leads.convert import Conversion, convert_lead
from crmkit.model.company import Company, normalize_domain
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity, checked_storable
from crmkit.model.fast_records import copy_with
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.registry import KINDS, Kind
from crmkit.pipelines.events import Moved
from crmkit.pipelines.pipeline import Pipeline
from crmkit.storage.arguments import check_record_id, check_record_ids
from crmkit.storage.backend import Backend
from crmkit.storage.columns import column_specs
from crmkit.storage.facts import FEEDS_FACTS, fact_record_ids
from crmkit.storage.history import changes_between, stored_alike
from crmkit.storage.protocol import (
    Progress,
    RecordFacts,
    RelatedRecords,
    RfmGroup,
    RfmScore,
    StoredRecords,
)
from crmkit.values.email import EmailAddress
from crmkit.values.money import Money, parse_currency
from crmkit.values.storable import storable_problems

if TYPE_CHECKING:
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = [
    "CompanyRepository",
    "ContactRepository",
    "DealRepository",
    "EntityRepository",
    "OrderRepository",
]


E = TypeVar("E", bound=Entity)


class EntityRepository(Generic[E]):
    """The records of one kind inside a unit of work; see `crmkit.storage.protocol.Repository`."""

    def __init__(self, uow: BackendUnitOfWork, kind: Kind) -> None:
        self._uow = uow
        self._kind = kind

    @property
    def _backend(self) -> Backend:
        return self._uow._live_backend()

    # -- writing ---------------------------------------------------------------------------

    def add(self, entity: E) -> E:
        """Store a new entity; return it as stored (version 1)."""
        self._uow._write()
        stored = self._prepare_new([entity])
        self._backend.insert(self._kind, stored)
        self._after_add(stored)
        return stored[0]

    def add_many(
        self,
        entities: Iterable[E],
        *,
        batch_size: int = 1000,
        progress: Progress | None = None,
        keep: bool = True,
    ) -> StoredRecords[E]:
        """Store many new entities in batches; all or nothing; return them as stored.

        See `crmkit.storage.protocol.Repository.add_many`.
        """
        if isinstance(entities, str | bytes | Entity) or not isinstance(entities, Iterable):
            raise ValidationError.single(
                "entities", type(entities).__name__, "is not an iterable of records"
            )
        if batch_size < 1:
            raise ValidationError.single("batch_size", batch_size, "must be at least 1")
        self._uow._write()
        total = len(entities) if isinstance(entities, Sequence) else None
        done = 0
        problems: list[Problem] = []
        kept: list[E] = []
        seen: set[uuid.UUID] = set()
        iterator = iter(entities)
        backend = self._backend
        with self._uow.savepoint():  # all or nothing; the unit of work goes on after an error
            while batch := list(itertools.islice(iterator, batch_size)):
                try:
                    stored = self._prepare_new(batch, first_row=done, seen=seen)
                except ValidationError as error:
                    problems.extend(error.problems)  # go on: report every bad row
                    stored = []
                if not problems:
                    backend.insert(self._kind, stored)
                    self._after_add(stored)
                    if keep:
                        kept.extend(stored)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            if problems:
                raise ValidationError(problems)
        return StoredRecords(kept, stored=done)

    def update(self, entity: E) -> E:
        """Store a changed entity; return it with its version increased by one."""
        self._check_entity(entity)
        self._uow._write()
        current = self._current(entity)
        problems, [checked] = self._check_many([entity], None, {entity.id}, current)
        if problems:
            raise ValidationError(problems)
        stored = copy_with(checked, {"version": entity.version + 1})
        self._rewrite(stored, current, entity.version, "updated")
        return stored

    def archive(self, entity: E) -> E:
        """Hide the entity from iter, count and searches."""
        return self._set_archived(entity, self._uow.clock.now(), "archived")

    def restore(self, entity: E) -> E:
        """Undo `archive`."""
        return self._set_archived(entity, None, "restored")

    def delete(self, entity: E) -> None:
        """Delete the entity for good, unless other records refer to it."""
        self._check_entity(entity)
        self._uow._write()
        current = self._current(entity)
        referrers = self._backend.referrers(self._kind, entity.id, 20)
        if referrers:
            raise ReferencedError(self._kind.name, entity.id, tuple(referrers))
        self._uow._known.pop(entity.id, None)
        if not self._backend.remove(self._kind, entity.id, entity.version):
            raise self._stale(entity)
        self._uow._history(self._kind, entity.id, 0, "deleted", changes_between(current, None))
        if self._kind.name in FEEDS_FACTS:
            self._uow._refresh_facts(fact_record_ids(self._kind, [current]))

    def _set_archived(self, entity: E, when: dt.datetime | None, action: str) -> E:
        self._check_entity(entity)
        self._uow._write()
        current = self._current(entity)
        stored = copy_with(current, {"archived_at": when, "version": entity.version + 1})
        self._rewrite(stored, current, entity.version, action)
        return stored

    def _check_entity(self, entity: object) -> None:
        """Refuse anything but a record of this repository's kind (``entity``)."""
        if not isinstance(entity, self._kind.cls):
            raise ValidationError.single(
                "entity", type(entity).__name__, f"is not a {self._kind.name}"
            )

    def _current(self, entity: E) -> E:
        """Return the stored row `entity` was read from; refuse it if it changed since.

        A row this unit of work read with `get` or wrote at that very version is taken as
        known, without reading it again: versions only grow, every write of a row goes
        through `_rewrite` (which updates what is known), a delete and a rolled-back
        savepoint forget it, and the write itself still checks the version in the store.
        """
        known = self._uow._known.get(entity.id)
        same = known is not None and known.version == entity.version
        if same and isinstance(known, self._kind.cls):
            return known  # type: ignore[return-value]
        found = self._backend.load(self._kind, [entity.id]).get(entity.id)
        if found is None:
            raise NotFoundError(self._kind.name, entity.id)
        if found.version != entity.version:
            raise self._stale(entity, found.version)
        return found  # type: ignore[return-value]

    def _rewrite(self, stored: E, current: E, expected: int, action: str) -> None:
        """Write `stored` over `current` (only what changed), with its history and facts.

        The history entry's fields are what the store writes: the adapters write exactly
        the fields whose stored form changed, so the two cannot disagree.
        """
        changes = changes_between(current, stored)
        changed = {change.field for change in changes}
        if not self._backend.replace(self._kind, stored, expected, changed):
            self._uow._known.pop(stored.id, None)
            raise self._stale(stored)
        self._uow._known[stored.id] = stored
        self._uow._history(self._kind, stored.id, stored.version, action, changes)
        if self._kind.name in FEEDS_FACTS:
            self._uow._refresh_facts(fact_record_ids(self._kind, [stored, current]))

    def _stale(self, entity: Entity, stored_version: int | None = None) -> ConcurrencyError:
        now = f" (stored: {stored_version})" if stored_version is not None else ""
        return ConcurrencyError(
            f"{self._kind.name} {entity.id} changed since version {entity.version} was read{now}: "
            "re-read it and retry"
        )

    def _prepare_new(
        self, batch: Sequence[E], *, first_row: int = 0, seen: set[uuid.UUID] | None = None
    ) -> list[E]:
        seen = set() if seen is None else seen
        problems: list[Problem] = []
        for offset, entity in enumerate(batch):
            row = first_row + offset
            if not isinstance(entity, self._kind.cls):
                problems.append(
                    Problem("entity", type(entity).__name__, f"is not a {self._kind.name}", row)
                )
                continue
            if entity.version != 0:
                problems.append(
                    Problem("version", entity.version, "is not 0: was it stored already?", row)
                )
            if entity.id in seen:
                problems.append(Problem("id", str(entity.id), "appears twice in the batch", row))
            seen.add(entity.id)
        if problems:
            raise ValidationError(problems)
        taken = self._backend.kinds_of([e.id for e in batch])
        problems.extend(
            Problem("id", str(e.id), _taken(self._kind.name, taken[e.id]), row)
            for row, e in enumerate(batch, first_row)
            if e.id in taken
        )
        found, checked = self._check_many(batch, first_row, seen)
        problems.extend(found)
        if problems:
            raise ValidationError(problems)
        return [copy_with(e, {"version": 1}) for e in checked]

    def _check_many(
        self,
        batch: Sequence[E],
        first_row: int | None,
        batch_ids: set[uuid.UUID],
        previous: E | None = None,
    ) -> tuple[list[Problem], list[E]]:
        """Check a batch: storable values, references and custom fields; return it typed.

        One look-up per referenced kind. With a stored custom-field schema, each entity comes
        back with the custom values the schema made of its own (``"5"`` for an integer field
        is 5, a missing field with a default has the default): those are what is stored, so
        segments over custom fields find every record.
        """
        problems: list[Problem] = []
        checked: list[E] = []
        wanted: dict[str, set[Any]] = {}
        for entity in batch:
            for ref, ident in self._kind.ref_ids(entity):
                wanted.setdefault(ref.target, set()).add(ident)
        found: dict[str, set[Any]] = {}
        for target, ids in wanted.items():
            found[target] = self._backend.existing(KINDS[target], sorted(ids))
            if target == self._kind.name:
                found[target] |= batch_ids
        schema = self._uow._schema(self._kind.name)
        for offset, entity in enumerate(batch):
            row = None if first_row is None else first_row + offset
            # entities made around `create` (attrs.evolve) are held to the same limits;
            # those `create` or `changed` made were checked there already
            if not checked_storable(entity):
                problems.extend(
                    p if row is None else p.at_row(row) for p in storable_problems(entity, "")
                )
            for ref, ident in self._kind.ref_ids(entity):
                if ident not in found[ref.target]:
                    problems.append(
                        Problem(ref.field, str(ident), f"refers to no stored {ref.target}", row)
                    )
            problems.extend(self._kind_problems(entity, row))
            if schema is not None:
                try:
                    custom = schema.validate(
                        entity.custom, previous=previous.custom if previous else FrozenMap()
                    )
                except ValidationError as error:
                    problems.extend(p if row is None else p.at_row(row) for p in error.problems)
                else:
                    if not stored_alike(custom, entity.custom):
                        entity = attrs.evolve(entity, custom=custom)
            checked.append(entity)
        return problems, checked

    def _kind_problems(self, entity: E, row: int | None) -> list[Problem]:
        """Return what this kind checks against the store beyond references (nothing here)."""
        return []

    def _after_add(self, stored: Sequence[E]) -> None:
        # An "added" entry lists no fields: a record's first version is the record itself
        # (as Salesforce shows "Created."); later entries list what changed.
        self._uow._history_added(self._kind, stored)
        if self._kind.name in FEEDS_FACTS:
            self._uow._refresh_facts(fact_record_ids(self._kind, stored))

    # -- reading ---------------------------------------------------------------------------

    def get(self, entity_id: uuid.UUID) -> E:
        """Return the entity with that id, or raise `NotFoundError`."""
        check_record_id(entity_id, "entity_id")
        found = self._backend.load(self._kind, [entity_id]).get(entity_id)
        if found is None:
            raise NotFoundError(self._kind.name, entity_id)
        self._uow._known[entity_id] = found
        return found  # type: ignore[return-value]

    def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, E]:
        """Return the entities found among `ids`, keyed by id."""
        wanted = list(dict.fromkeys(check_record_ids(ids, "ids")))
        return self._backend.load(self._kind, wanted)  # type: ignore[return-value]

    def iter(
        self,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
        include_archived: bool = False,
        batch_size: int = 1000,
    ) -> Iterator[E]:
        """Stream entities in id order, `batch_size` at a time."""
        if batch_size < 1:
            raise ValidationError.single("batch_size", batch_size, "must be at least 1")
        if limit is not None and limit < 0:
            raise ValidationError.single("limit", limit, "must not be negative")
        if after is not None:
            check_record_id(after, "after")
        backend = self._backend
        stream = backend.scan_iter(self._kind, after, include_archived, batch_size)
        if limit is not None:
            stream = itertools.islice(stream, limit)
        return self._uow._guarded(stream)  # type: ignore[arg-type]

    def count(self, segment: Condition | None = None, *, include_archived: bool = False) -> int:
        """Count the live entities (all with `include_archived`), those in `segment` if given."""
        if segment is None:
            return self._backend.count(self._kind, include_archived)
        query = self._uow._segment_query(self._kind.name, segment)
        return self._backend.count_matching(self._kind, query, include_archived)

    def find(
        self,
        segment: Condition,
        *,
        after: uuid.UUID | None = None,
        limit: int | None = None,
        include_archived: bool = False,
        batch_size: int = 1000,
    ) -> Iterator[E]:
        """Stream the entities in a segment in id order, `batch_size` at a time."""
        _check_paging(limit, batch_size, after)
        query = self._uow._segment_query(self._kind.name, segment)
        stream = self._backend.find_iter(self._kind, query, after, include_archived, batch_size)
        if limit is not None:
            stream = itertools.islice(stream, limit)
        return self._uow._guarded(stream)  # type: ignore[arg-type]

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
        _check_paging(limit, batch_size, after)
        query = self._uow._segment_query(self._kind.name, segment)
        stream = self._backend.find_ids(self._kind, query, after, include_archived, batch_size)
        if limit is not None:
            stream = itertools.islice(stream, limit)
        return self._uow._guarded(stream)

    def related(self, record_id: uuid.UUID, *, limit: int = 100) -> RelatedRecords[E]:
        """Return live entities relating to a record, newest first; `truncated` if cut."""
        check_record_id(record_id, "record_id")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError.single("limit", limit, "must be an integer, at least 1")
        found = self._backend.related(self._kind, record_id, limit + 1)  # one more: cut?
        return RelatedRecords(cast(list[E], found[:limit]), truncated=len(found) > limit)

    def facts(self, record_id: uuid.UUID) -> RecordFacts:
        """Return the facts the store keeps about a record."""
        check_record_id(record_id, "record_id")
        return self._backend.facts([record_id]).get(record_id) or RecordFacts(record_id)

    def grouped(
        self, by: str, *, include_archived: bool = False, batch_size: int = 1000
    ) -> Iterator[tuple[uuid.UUID, list[E]]]:
        """Stream entities grouped by a link field (``"contact_id"``), one group at a time."""
        links = {ref.field for ref in self._kind.refs if not ref.many}
        if by not in links:
            raise ValidationError.single(
                "by", by, f"is not a link of {self._kind.name}: one of {', '.join(sorted(links))}"
            )
        if batch_size < 1:
            raise ValidationError.single("batch_size", batch_size, "must be at least 1")
        stream = cast(
            Iterator[E], self._backend.scan_grouped(self._kind, by, include_archived, batch_size)
        )
        groups = itertools.groupby(stream, key=lambda e: getattr(e, by))
        return self._uow._guarded((key, list(group)) for key, group in groups)

    def columns(
        self,
        names: Sequence[str] | None = None,
        segment: Condition | None = None,
        *,
        include_archived: bool = False,
        batch_size: int = 5000,
    ) -> dict[str, list[Any]]:
        """Return chosen columns of the entities (in `segment` if given), in id order.

        See `crmkit.storage.protocol.Repository.columns`.
        """
        _check_paging(None, batch_size)
        specs = column_specs(self._kind, names, self._uow._schema(self._kind.name))
        query = None if segment is None else self._uow._segment_query(self._kind.name, segment)
        return self._backend.columns(self._kind, specs, query, include_archived, batch_size)


class DealRepository(EntityRepository[Deal]):
    """Deals, only in a pipeline and stage the store knows (`uow.pipelines`).

    Stays in their stage history that name no mover are credited to the actor.
    """

    def _kind_problems(self, entity: Deal, row: int | None) -> list[Problem]:
        return self._uow.pipelines.deal_problems(entity, row)

    def _stamped(self, deal: Deal, stored_stays: int) -> Deal:
        actor = self._uow.actor
        history = deal.stage_history
        if actor is None or all(s.moved_by is not None for s in history[stored_stays:]):
            return deal
        stays = tuple(
            attrs.evolve(s, moved_by=actor) if i >= stored_stays and s.moved_by is None else s
            for i, s in enumerate(history)
        )
        return attrs.evolve(deal, stage_history=stays)

    def add(self, entity: Deal) -> Deal:
        """Store a new deal; see `EntityRepository.add`."""
        return super().add(self._stamped(entity, 0))

    def add_many(
        self,
        entities: Iterable[Deal],
        *,
        batch_size: int = 1000,
        progress: Progress | None = None,
        keep: bool = True,
    ) -> StoredRecords[Deal]:
        """Store many new deals; see `EntityRepository.add_many`."""
        if isinstance(entities, str | bytes | Entity) or not isinstance(entities, Iterable):
            raise ValidationError.single(
                "entities", type(entities).__name__, "is not an iterable of records"
            )
        stamped = (self._stamped(deal, 0) if isinstance(deal, Deal) else deal for deal in entities)
        # a list in stays a list (its length is the progress total); a stream stays a stream
        rows = list(stamped) if isinstance(entities, Sequence) else stamped
        return super().add_many(rows, batch_size=batch_size, progress=progress, keep=keep)

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

        The store's pipeline moves it (`uow.pipelines`): `Pipeline.move` checks and makes
        the move (applying `changes` first, as `Deal.changed` takes them); the moved deal is
        stored with `update` (its version is checked) and the `StageChanged` event is
        recorded in the outbox, all or nothing in a savepoint. Times come from the store's
        clock; `by` defaults to the unit of work's actor.

        Args:
            deal: The deal as last read.
            to: The stage key to move to.
            pipeline: Optional: the deal's pipeline as the caller holds it; it must be the
                store's definition (a stale or unsaved one is refused).
            by: Who moved it.
            note: Why.
            **changes: Deal fields to change with the move (``amount=``, ``lost_reason=``).

        Returns:
            `Moved` with the stored deal (version + 1) and the recorded event.

        Raises:
            ValidationError: Naming ``deal`` when it is not a Deal, ``pipeline`` when the
                store knows no pipeline of the deal's or the one given is not it, or the
                changed fields.
            TransitionError: When the pipeline refuses the move.
            ConcurrencyError: When the deal changed since it was read.
        """
        self._check_entity(deal)
        if pipeline is None:
            pipeline = self._uow.pipelines.get(deal.pipeline)
        else:
            if not isinstance(pipeline, Pipeline):
                raise ValidationError.single(
                    "pipeline", type(pipeline).__name__, "is not a Pipeline"
                )
            if pipeline.key != deal.pipeline:
                raise ValidationError.single(
                    "pipeline", pipeline.key, f"is not the deal's pipeline ({deal.pipeline!r})"
                )
            pipeline = self._uow.pipelines.current(pipeline, "leave pipeline= out")
        by = by if by is not None else self._uow.actor
        moved = pipeline.move(deal, to, by=by, note=note, clock=self._uow.clock, **changes)
        with self._uow.savepoint():
            stored = self.update(moved.deal)
            self._uow.record(moved.event)
        return Moved(stored, moved.event)

    def update(self, entity: Deal) -> Deal:
        """Store a changed deal; moves it records without a mover are the actor's."""
        self._check_entity(entity)
        stored = self._backend.load(self._kind, [entity.id]).get(entity.id)
        known = len(stored.stage_history) if isinstance(stored, Deal) else 0
        return super().update(self._stamped(entity, known))


class LeadRepository(EntityRepository[Lead]):
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
        """Convert a qualified lead into a contact, a company and a deal; see `convert_lead`.

        The deal opens in the store's pipeline with that key (``"sales"`` by default, see
        `uow.pipelines`); everything is stored and the `LeadConverted` event recorded, all
        or nothing. Times come from the store's clock; `by` defaults to the actor.

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no such pipeline, or
                what the lead lacks for a contact or deal.
            TransitionError: When the lead is not qualified or already converted.
            ConcurrencyError: When the lead changed since it was read.
        """
        self._check_entity(lead)
        known = (
            self._uow.pipelines.current(pipeline, "pass its key")
            if isinstance(pipeline, Pipeline)
            else self._uow.pipelines.get(pipeline)
        )
        return convert_lead(
            self._uow,
            lead,
            known,
            deal_name=deal_name,
            stage=stage,
            amount=amount,
            currency=currency,
            owner=owner,
            by=by,
        )


class ContactRepository(EntityRepository[Contact]):
    """Contacts, with look-up by email."""

    def find_by_email(self, email: str) -> list[Contact]:
        """Return live contacts having that address among their emails (by match key)."""
        key = (email if isinstance(email, EmailAddress) else EmailAddress.parse(email)).match_key
        return self._backend.contacts_by_email(key)


class CompanyRepository(EntityRepository[Company]):
    """Companies, with look-up by web domain."""

    def find_by_domain(self, domain: str) -> list[Company]:
        """Return live companies with that web domain, given in any form."""
        normal = normalize_domain(domain)
        return [] if normal is None else self._backend.companies_by_domain(normal)


class OrderRepository(EntityRepository[Order]):
    """Orders, with RFM analysis of the customers who placed them."""

    def rfm(
        self, *, currency: str, as_of: dt.datetime | None = None, by: str = "contact"
    ) -> list[RfmScore]:
        """Score every live customer with counted orders by recency, frequency and money.

        See `crmkit.storage.protocol.OrderRepository.rfm`.
        """
        code = parse_currency(currency)
        customers = tuple(ref.target for ref in self._kind.refs)  # who places orders
        if by not in customers:
            raise ValidationError.single("by", by, f"is not one of {', '.join(customers)}")
        if as_of is None:
            as_of = self._uow.clock.now()
        elif not isinstance(as_of, dt.datetime) or as_of.utcoffset() is None:
            raise ValidationError.single("as_of", as_of, "is not an aware datetime")
        rows = self._backend.rfm(KINDS[by], code, as_of.astimezone(dt.UTC))
        return [
            RfmScore(ident, days, frequency, monetary, r, f, m, RfmGroup.of(r, f))
            for ident, days, frequency, monetary, r, f, m in rows
        ]


def _check_paging(limit: int | None, batch_size: int, after: uuid.UUID | None = None) -> None:
    if after is not None:
        check_record_id(after, "after")
    if batch_size < 1:
        raise ValidationError.single("batch_size", batch_size, "must be at least 1")
    if limit is not None and limit < 0:
        raise ValidationError.single("limit", limit, "must not be negative")


def _taken(kind: str, holder: str) -> str:
    """Say why a new record's id is refused: a record of `holder` has it (ids are unique)."""
    if holder == kind:
        return f"is taken: that {kind} is stored already"
    return f"is taken: a {holder} has that id (ids are unique across kinds)"
