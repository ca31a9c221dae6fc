"""The storage contract, written once: every adapter subclasses `StoreContract` and runs it.

The contract is the module docstring of `crmkit.storage.protocol` made executable. Adapters
shipped with crmkit (memory, SQLite, PostgreSQL) run it in crmkit's own test suite; an adapter
written elsewhere runs it the same way, with pytest::

    # test_my_adapter.py
    from crmkit.clock import FixedClock
    from crmkit.storage.protocol import Store
    from crmkit.testing import StoreContract

    from my_adapter import MyStore


    class TestMyStore(StoreContract):
        def make_store(self, clock: FixedClock) -> Store:
            return MyStore(clock=clock)  # an empty store that reads time from `clock`

        def reopen_store(self, store: Store, clock: FixedClock) -> Store | None:
            store.close()  # only for stores that keep their data once closed
            return MyStore(clock=clock, path=store.path)

Every test gets a fresh, empty store from `make_store` (through the ``store`` fixture) and a
`FixedClock` (the ``clock`` fixture) that only moves when a test moves it, so times in
history, events and archived records can be checked exactly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs
import pytest

from crmkit.clock import FixedClock
from crmkit.conditions.dates import BusinessCalendar
from crmkit.errors import (
    ConcurrencyError,
    CrmkitError,
    NotFoundError,
    ReferencedError,
    ValidationError,
)
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomField, CustomFieldSchema, FieldType
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.task import Task
from crmkit.segments.parser import parse
from crmkit.storage.protocol import FieldChange, RecordFacts, Store, UnitOfWork
from crmkit.testing.compare import assert_identical
from crmkit.testing.records import (
    CHANGES,
    KINDS,
    REFERENCES,
    START,
    Seed,
    dangling,
    maximal,
    minimal,
    repository,
    seed,
)
from crmkit.values.money import Money

__all__ = ["ContractEvent", "StoreContract", "StoreFixtures"]

E = TypeVar("E", bound=Entity)


@attrs.frozen
class ContractEvent:
    """A small domain event the contract records in the outbox.

    Attributes:
        name: Tells events apart.
        number: Any number, carried in the payload.
        event_type: The type name stored with it.
    """

    name: str
    number: int = 0
    event_type: str = "contract.happened"

    def to_dict(self) -> dict[str, Any]:
        """Return the payload: JSON-ready values of every kind, nested."""
        return {
            "name": self.name,
            "number": self.number,
            "nested": {"flag": True, "nothing": None, "ratio": 0.5, "text": "Grüße"},
            "items": ["a", 2, False],
        }


def _ids(entities: Iterable[Entity]) -> list[uuid.UUID]:
    return [e.id for e in entities]


def _fields(error: ValidationError) -> str:
    return " ".join(p.field for p in error.problems)


def _contact(parents: Seed, clock: FixedClock, number: int = 0) -> Contact:
    return cast(Contact, minimal("contact", parents, clock, number))


class _RollBackError(Exception):
    """Raised at the end of a unit of work to roll it back."""


def _fail_after(store: Store, work: Callable[[UnitOfWork], object], actor: str | None) -> None:
    with store.unit_of_work(actor=actor) as uow:
        work(uow)
        raise _RollBackError("rolling back on purpose")


def _count(store: Store, kind: str) -> int:
    with store.unit_of_work(readonly=True) as uow:
        return repository(uow, kind).count()


def _stored(entity: E, version: int = 1) -> E:
    """What a store should give back for `entity` at `version`."""
    return attrs.evolve(entity, version=version)


class StoreFixtures:
    """The fixtures every contract class shares: a `FixedClock` and a fresh store from it."""

    def make_store(self, clock: FixedClock) -> Store:
        """Return a new, empty, open store that takes "now" from `clock` (subclasses do)."""
        raise NotImplementedError("subclasses implement make_store")

    @pytest.fixture
    def clock(self) -> FixedClock:
        """A clock standing at `START` until a test moves it."""
        return FixedClock(START)

    @pytest.fixture
    def store(self, clock: FixedClock) -> Iterator[Store]:
        """A fresh, empty store from `make_store`, closed after the test."""
        store = self.make_store(clock)
        try:
            yield store
        finally:
            store.close()


class StoreContract(StoreFixtures):
    """The storage contract as a pytest test class; subclass it and implement `make_store`.

    Subclasses must implement `make_store`; stores that keep data across close and open
    should also implement `reopen_store`, otherwise the tests that reopen a store skip.
    The class name does not start with ``Test`` so pytest collects only the subclasses.

    Example::

        class TestMemoryStore(StoreContract):
            def make_store(self, clock: FixedClock) -> Store:
                return crmkit.open_store("memory://", clock=clock)
    """

    # -- hooks ----------------------------------------------------------------------------

    def make_store(self, clock: FixedClock) -> Store:
        """Return a new, empty, open store that takes "now" from `clock`.

        Args:
            clock: The clock for history, events and archive times.

        Raises:
            NotImplementedError: Always, here; subclasses implement it.
        """
        raise NotImplementedError("subclasses of StoreContract implement make_store")

    def reopen_store(self, store: Store, clock: FixedClock) -> Store | None:
        """Close `store` and open it again over the same data; None if the data do not outlive it.

        Returning None (the default) leaves `store` open and skips the tests that reopen.

        Args:
            store: A store made by `make_store`, possibly reopened already.
            clock: The clock the reopened store should use.
        """
        return None

    # -- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def parents(self, store: Store, clock: FixedClock) -> Seed:
        """Stored records (company, contacts, lead, deal) that other records refer to."""
        made = seed(store, clock)
        clock.advance(seconds=1)
        return made

    # -- helpers --------------------------------------------------------------------------

    def add(self, store: Store, *entities: E, actor: str | None = None) -> list[E]:
        """Store `entities` in one unit of work and return them as stored.

        Args:
            store: Where to store them.
            *entities: New records of any kind (parents first).
            actor: The unit of work's actor.
        """
        with store.unit_of_work(actor=actor) as uow:
            return [cast(E, repository(uow, e.KIND).add(e)) for e in entities]

    def rolled_back(
        self, store: Store, work: Callable[[UnitOfWork], object], actor: str | None = None
    ) -> None:
        """Run `work` in a unit of work that then raises; check the exception comes out."""
        with pytest.raises(_RollBackError):
            _fail_after(store, work, actor)

    def read(self, store: Store, action: Callable[[UnitOfWork], Any]) -> Any:
        """Run `action` in a read-only unit of work and return what it returns."""
        with store.unit_of_work(readonly=True) as uow:
            return action(uow)

    # == add and get =======================================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_add_stores_version_1_and_get_returns_every_field(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """A maximal record comes back from `get` exactly as it went in, but at version 1."""
        entity = maximal(kind, parents, clock)
        with store.unit_of_work() as uow:
            added = repository(uow, kind).add(entity)
            assert_identical(_stored(entity), added)
            assert_identical(_stored(entity), repository(uow, kind).get(entity.id))
        got = self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        assert_identical(_stored(entity), got)
        if kind == "contact":
            assert [e.original for e in got.emails] == ["Ada.Lovelace@Acme.DE", "ada@example.org"]
            assert str(got.custom["arr"]) == "12000.50"
        if kind == "company":
            assert got.domain == "acme-example.de"
            assert str(got.annual_revenue.amount) == "12000.50"

    @pytest.mark.parametrize("kind", KINDS)
    def test_minimal_records_round_trip(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """A record with only the required fields comes back with its defaults and empties."""
        entity = minimal(kind, parents, clock, 7)
        self.add(store, entity)
        got = self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        assert_identical(_stored(entity), got)

    @pytest.mark.parametrize("kind", KINDS)
    def test_get_of_an_unknown_id_raises_not_found(self, store: Store, kind: str) -> None:
        """`get` raises `NotFoundError` (a `LookupError`) for an id never stored."""
        with store.unit_of_work(readonly=True) as uow, pytest.raises(NotFoundError):
            repository(uow, kind).get(uuid.uuid4())

    @pytest.mark.parametrize("kind", KINDS)
    def test_adding_the_same_record_twice_is_refused(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """A second `add` of an id, in the same or a later unit of work, is a ValidationError."""
        entity = minimal(kind, parents, clock)
        with store.unit_of_work() as uow:
            repository(uow, kind).add(entity)
            with pytest.raises(ValidationError):
                repository(uow, kind).add(entity)
        with store.unit_of_work() as uow, pytest.raises(ValidationError):
            repository(uow, kind).add(entity)
        assert self.read(store, lambda uow: repository(uow, kind).get(entity.id)).version == 1

    @pytest.mark.parametrize(("kind", "field"), REFERENCES)
    def test_add_with_a_missing_reference_is_refused_naming_the_field(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str, field: str
    ) -> None:
        """A record that refers to a record that does not exist is refused, naming the field."""
        entity = dangling(kind, field, parents, clock)
        before = self.read(store, lambda uow: repository(uow, kind).count())
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                repository(uow, kind).add(entity)
            assert field in _fields(info.value), str(info.value)
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before

    def test_update_with_a_missing_reference_is_refused(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """`update` checks references too; the stored record stays as it was."""
        [contact] = self.add(store, _contact(parents, clock))
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                uow.contacts.update(contact.changed(company_id=uuid.uuid4(), clock=clock))
            assert "company_id" in _fields(info.value)
        got = self.read(store, lambda uow: uow.contacts.get(contact.id))
        assert_identical(contact, got)

    def test_a_reference_to_a_record_added_earlier_in_the_same_unit_of_work_is_fine(
        self, store: Store, clock: FixedClock
    ) -> None:
        """References are checked against the unit of work's own writes."""
        company = Company.create(name="Fresh", clock=clock)
        contact = Contact.create(first_name="New", company_id=company.id, clock=clock)
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            uow.contacts.add(contact)
        assert self.read(store, lambda uow: uow.contacts.get(contact.id).company_id) == company.id

    @pytest.mark.parametrize("kind", KINDS)
    def test_get_many_returns_the_existing_ones_by_id(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`get_many` returns a dict of the ids found (archived too), leaving unknown ones out."""
        first, second, third = (minimal(kind, parents, clock, n) for n in range(3))
        stored = self.add(store, first, second, third)
        with store.unit_of_work() as uow:
            archived = repository(uow, kind).archive(stored[2])
        unknown = uuid.uuid4()
        found = self.read(
            store,
            lambda uow: repository(uow, kind).get_many([first.id, unknown, third.id, first.id]),
        )
        assert isinstance(found, dict)
        assert set(found) == {first.id, third.id}
        assert_identical(stored[0], found[first.id])
        assert_identical(archived, found[third.id])
        assert self.read(store, lambda uow: repository(uow, kind).get_many([])) == {}

    # == add_many ==========================================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_add_many_stores_everything_in_batches_and_reports_progress(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`add_many` stores all rows at version 1 and calls `progress(done, total)` up to n."""
        rows = [minimal(kind, parents, clock, n) for n in range(10)]
        before = self.read(store, lambda uow: repository(uow, kind).count())
        calls: list[tuple[int, int | None]] = []
        with store.unit_of_work() as uow:
            stored = repository(uow, kind).add_many(
                rows, batch_size=3, progress=lambda done, total: calls.append((done, total))
            )
        assert stored.stored == 10
        assert [(r.id, r.version) for r in stored] == [(r.id, 1) for r in rows]
        assert calls, "progress was never called"
        assert calls[-1][0] == 10
        assert all(total in (None, 10) for _, total in calls), calls
        dones = [done for done, _ in calls]
        assert dones == sorted(dones), calls
        assert all(0 <= done <= 10 for done in dones), calls
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before + 10
        got = self.read(store, lambda uow: repository(uow, kind).get_many(r.id for r in rows))
        for row in rows:
            assert_identical(_stored(row), got[row.id])

    def test_add_many_takes_a_generator_of_unknown_length(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Any iterable works, including a generator; the total may then be None."""
        calls: list[tuple[int, int | None]] = []
        rows = (Contact.create(first_name=f"Gen {n}", clock=clock) for n in range(25))
        with store.unit_of_work() as uow:
            assert (
                uow.contacts.add_many(
                    rows, batch_size=4, progress=lambda d, t: calls.append((d, t))
                ).stored
                == 25
            )
        assert calls[-1][0] == 25
        assert self.read(store, lambda uow: uow.contacts.count()) == 25

    def test_add_many_of_nothing_stores_nothing(self, store: Store) -> None:
        """An empty input stores nothing and returns an empty list (`stored` 0)."""
        with store.unit_of_work() as uow:
            assert uow.contacts.add_many([]) == []
            assert uow.contacts.add_many([]).stored == 0
        assert self.read(store, lambda uow: uow.contacts.count()) == 0

    @pytest.mark.parametrize("kind", KINDS)
    def test_add_many_with_a_bad_row_stores_nothing_and_names_the_row(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """A row whose id is stored already makes the whole call fail, naming its position."""
        [existing] = self.add(store, minimal(kind, parents, clock, 100))
        rows = [minimal(kind, parents, clock, n) for n in range(8)]
        rows[5] = _stored(existing, 0)
        before = self.read(store, lambda uow: repository(uow, kind).count())
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                repository(uow, kind).add_many(rows, batch_size=2)
            assert {p.row for p in info.value.problems} == {5}, str(info.value)
            assert repository(uow, kind).count() == before
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before
        found = self.read(store, lambda uow: repository(uow, kind).get_many(r.id for r in rows))
        assert set(found) == {existing.id}

    def test_add_many_reports_every_bad_row(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """A missing reference, a repeated id and an id stored already are all reported."""
        [existing] = self.add(store, _contact(parents, clock, 100))
        rows = [_contact(parents, clock, n) for n in range(9)]
        rows[2] = cast(Contact, dangling("contact", "company_id", parents, clock))
        rows[4] = rows[1]  # the same id twice in one call
        rows[7] = _stored(existing, 0)
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                uow.contacts.add_many(rows, batch_size=3)
            rows_named = {p.row for p in info.value.problems}
            assert rows_named == {2, 4, 7}, str(info.value)
            missing = [p for p in info.value.problems if p.row == 2]
            assert any("company_id" in p.field for p in missing), str(info.value)
        assert self.read(store, lambda uow: uow.contacts.count()) == 3  # seed + existing

    def test_a_failed_add_many_undoes_its_rows_history_and_facts_and_the_unit_goes_on(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """After a refused add_many the unit of work holds nothing of it and can still commit."""
        c = parents.contact.id
        rows = [
            Activity.create(
                kind="call", occurred_at=START - dt.timedelta(hours=n), contact_id=c, clock=clock
            )
            for n in range(6)
        ]
        rows[4] = cast(Activity, dangling("activity", "deal_id", parents, clock))
        kept = Contact.create(first_name="Kept", clock=clock)
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError):
                uow.activities.add_many(rows, batch_size=2)
            assert uow.activities.count() == 0
            assert uow.contacts.facts(c) == RecordFacts(c)
            uow.contacts.add(kept)
        with store.unit_of_work(readonly=True) as uow:
            assert uow.activities.count(include_archived=True) == 0
            assert uow.contacts.facts(c) == RecordFacts(c)
            assert uow.contacts.get(kept.id).version == 1
        assert all(store.history(r.id) == [] for r in rows)
        assert [h.action for h in store.history(kept.id)] == ["added"]

    def test_add_many_checks_custom_fields_row_by_row(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Custom values that break the stored schema are reported with their row."""
        with store.unit_of_work() as uow:
            uow.custom_fields.save(
                CustomFieldSchema("contact", [CustomField("seats", FieldType.INTEGER)])
            )
        rows = [
            Contact.create(first_name=f"C {n}", custom={"seats": n}, clock=clock) for n in range(5)
        ]
        rows[3] = Contact.create(first_name="Bad", custom={"seats": "many"}, clock=clock)
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                uow.contacts.add_many(rows)
            assert {p.row for p in info.value.problems} == {3}, str(info.value)
        assert self.read(store, lambda uow: uow.contacts.count()) == 0

    # == update ============================================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_update_adds_one_to_the_version_and_stores_the_change(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`update` returns the record at version + 1, and that is what `get` returns."""
        [entity] = self.add(store, maximal(kind, parents, clock))
        clock.advance(minutes=1)
        changed = entity.changed(clock=clock, **CHANGES[kind])
        with store.unit_of_work() as uow:
            updated = repository(uow, kind).update(changed)
            assert_identical(_stored(changed, 2), updated)
            again = repository(uow, kind).update(updated.with_custom("second", "yes", clock=clock))
            assert again.version == 3
        got = self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        assert_identical(again, got)

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_stale_update_raises_concurrency_error_and_writes_nothing(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """Updating from an old version fails; the newer stored data stand."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        with store.unit_of_work() as uow:
            winner = repository(uow, kind).update(entity.changed(clock=clock, **CHANGES[kind]))
        stale = entity.with_custom("stale", True, clock=clock)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            repository(uow, kind).update(stale)
        ahead = attrs.evolve(winner, version=winner.version + 1)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            repository(uow, kind).update(ahead)
        assert_identical(winner, self.read(store, lambda uow: repository(uow, kind).get(entity.id)))

    @pytest.mark.parametrize("kind", KINDS)
    def test_update_of_a_record_never_stored_raises_not_found(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`update` does not create records."""
        entity = _stored(minimal(kind, parents, clock), 1)
        with store.unit_of_work() as uow, pytest.raises(NotFoundError):
            repository(uow, kind).update(entity)
        with pytest.raises(NotFoundError):
            self.read(store, lambda uow: repository(uow, kind).get(entity.id))

    def test_after_a_conflict_the_caller_can_reread_and_retry(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """The documented recovery from a ConcurrencyError works: read again, change, update."""
        [contact] = self.add(store, _contact(parents, clock))
        with store.unit_of_work() as uow:
            uow.contacts.update(contact.changed(title="CEO", clock=clock))
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                uow.contacts.update(contact.changed(last_name="Late", clock=clock))
            fresh = uow.contacts.get(contact.id)
            retried = uow.contacts.update(fresh.changed(last_name="Late", clock=clock))
        got = self.read(store, lambda uow: uow.contacts.get(contact.id))
        assert (got.title, got.last_name, got.version) == ("CEO", "Late", 3)
        assert_identical(retried, got)

    # == delete ============================================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_delete_removes_the_record(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """After `delete`, `get` raises NotFoundError and `count` is one less."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        before = self.read(store, lambda uow: repository(uow, kind).count())
        with store.unit_of_work() as uow:
            repository(uow, kind).delete(entity)
            with pytest.raises(NotFoundError):
                repository(uow, kind).get(entity.id)
        with pytest.raises(NotFoundError):
            self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before - 1
        assert entity.id not in self.read(
            store, lambda uow: _ids(repository(uow, kind).iter(include_archived=True))
        )

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_stale_delete_raises_concurrency_error(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """Deleting from an old version fails and deletes nothing."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        with store.unit_of_work() as uow:
            winner = repository(uow, kind).update(entity.changed(clock=clock, **CHANGES[kind]))
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            repository(uow, kind).delete(entity)
        assert_identical(winner, self.read(store, lambda uow: repository(uow, kind).get(entity.id)))

    @pytest.mark.parametrize(
        "case",
        [
            "company with a contact",
            "company with a child company",
            "contact in a deal's contact_ids",
            "deal with an activity",
            "lead with a deal",
            "contact with an order",
            "company with a task",
        ],
    )
    def test_delete_is_refused_while_referenced(
        self, store: Store, clock: FixedClock, case: str
    ) -> None:
        """`delete` raises ReferencedError while anything (even archived) refers to the record."""
        company = Company.create(name="Target Co", clock=clock)
        contact = Contact.create(first_name="Target", clock=clock)
        deal = Deal.create(name="Target deal", pipeline="sales", stage="prospecting", clock=clock)
        lead = Lead.create(first_name="Target lead", clock=clock)
        target: Entity
        referrer: Entity
        if case == "company with a contact":
            target = company
            referrer = Contact.create(first_name="Ref", company_id=company.id, clock=clock)
        elif case == "company with a child company":
            target = company
            referrer = Company.create(name="Child", parent_id=company.id, clock=clock)
        elif case == "contact in a deal's contact_ids":
            target = contact
            referrer = Deal.create(
                name="Ref",
                pipeline="sales",
                stage="prospecting",
                contact_ids=[contact.id],
                clock=clock,
            )
        elif case == "deal with an activity":
            target = deal
            referrer = Activity.create(kind="call", deal_id=deal.id, clock=clock)
        elif case == "lead with a deal":
            target = lead
            referrer = Deal.create(
                name="Ref", pipeline="sales", stage="prospecting", lead_id=lead.id, clock=clock
            )
        elif case == "contact with an order":
            target = contact
            referrer = Order.create(
                total="1.00", currency="EUR", contact_id=contact.id, clock=clock
            )
        else:
            target = company
            referrer = Task.create(title="Ref", company_id=company.id, clock=clock)
        [target, referrer] = self.add(store, target, referrer)
        with store.unit_of_work() as uow, pytest.raises(ReferencedError) as info:
            repository(uow, target.KIND).delete(target)
        assert info.value.referrers, "ReferencedError names no referrers"
        with store.unit_of_work() as uow:
            referrer = repository(uow, referrer.KIND).archive(referrer)
        with store.unit_of_work() as uow, pytest.raises(ReferencedError):
            repository(uow, target.KIND).delete(target)
        self.read(store, lambda uow: repository(uow, target.KIND).get(target.id))
        with store.unit_of_work() as uow:
            repository(uow, referrer.KIND).delete(referrer)
            repository(uow, target.KIND).delete(target)
        with pytest.raises(NotFoundError):
            self.read(store, lambda uow: repository(uow, target.KIND).get(target.id))

    # == archive and restore ===============================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_archive_hides_and_restore_shows_again(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """Archived records leave iter and count (unless asked for) but stay gettable."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        before = self.read(store, lambda uow: repository(uow, kind).count())
        everything = self.read(
            store, lambda uow: repository(uow, kind).count(include_archived=True)
        )
        clock.advance(hours=1)
        with store.unit_of_work() as uow:
            archived = repository(uow, kind).archive(entity)
            assert archived.version == 2
            assert archived.archived_at == clock.now()
            assert repository(uow, kind).count() == before - 1
        got = self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        assert_identical(archived, got)
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before - 1
        assert (
            self.read(store, lambda uow: repository(uow, kind).count(include_archived=True))
            == everything
        )
        assert entity.id not in self.read(store, lambda uow: _ids(repository(uow, kind).iter()))
        assert entity.id in self.read(
            store, lambda uow: _ids(repository(uow, kind).iter(include_archived=True))
        )
        clock.advance(hours=1)
        with store.unit_of_work() as uow:
            restored = repository(uow, kind).restore(archived)
        assert restored.version == 3
        assert restored.archived_at is None
        assert_identical(
            restored, self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        )
        assert self.read(store, lambda uow: repository(uow, kind).count()) == before
        assert entity.id in self.read(store, lambda uow: _ids(repository(uow, kind).iter()))

    @pytest.mark.parametrize("kind", KINDS)
    def test_stale_archive_and_restore_raise_concurrency_error(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`archive` and `restore` check the version like `update`."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        with store.unit_of_work() as uow:
            current = repository(uow, kind).update(entity.changed(clock=clock, **CHANGES[kind]))
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            repository(uow, kind).archive(entity)
        with store.unit_of_work() as uow:
            archived = repository(uow, kind).archive(current)
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            repository(uow, kind).restore(current)
        assert_identical(
            archived, self.read(store, lambda uow: repository(uow, kind).get(entity.id))
        )

    # == iter and count ====================================================================

    def _many_contacts(self, store: Store, clock: FixedClock, count: int = 12) -> list[Contact]:
        """Store contacts whose ids mix time-ordered and random ones; return them by id."""
        contacts = [
            Contact.create(first_name=f"Iter {n}", id=uuid.uuid4() if n % 2 else None, clock=clock)
            for n in range(count)
        ]
        self.add(store, *contacts)
        return sorted((attrs.evolve(c, version=1) for c in contacts), key=lambda c: c.id)

    def test_iter_yields_in_id_order_and_pages_by_keyset(
        self, store: Store, clock: FixedClock
    ) -> None:
        """`after` + `limit` pages reproduce the whole set in id order, then an empty page."""
        contacts = self._many_contacts(store, clock)
        expected = [c.id for c in contacts]
        with store.unit_of_work(readonly=True) as uow:
            assert _ids(uow.contacts.iter()) == expected
            pages: list[list[uuid.UUID]] = []
            after: uuid.UUID | None = None
            while True:
                page = _ids(uow.contacts.iter(after=after, limit=5))
                if not page:
                    break
                assert len(page) <= 5
                pages.append(page)
                after = page[-1]
            assert [i for p in pages for i in p] == expected
            assert [len(p) for p in pages] == [5, 5, 2]
            assert _ids(uow.contacts.iter(limit=0)) == []
            assert _ids(uow.contacts.iter(after=expected[-1])) == []
            unknown = uuid.UUID(int=(expected[3].int + expected[4].int) // 2)
            assert _ids(uow.contacts.iter(after=unknown)) == expected[4:]
            for got, want in zip(uow.contacts.iter(), contacts, strict=True):
                assert_identical(want, got)

    def test_iter_with_a_small_batch_size_yields_everything_once(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Fetching in batches smaller than the set loses and repeats nothing."""
        expected = [c.id for c in self._many_contacts(store, clock, 11)]
        with store.unit_of_work(readonly=True) as uow:
            for size in (1, 2, 3, 10, 11, 12):
                assert _ids(uow.contacts.iter(batch_size=size)) == expected, size
            assert (
                _ids(uow.contacts.iter(batch_size=2, limit=5, after=expected[0])) == expected[1:6]
            )

    def test_iter_and_count_with_archived_records(self, store: Store, clock: FixedClock) -> None:
        """Archived records are skipped, even when paging from an archived id."""
        contacts = self._many_contacts(store, clock, 8)
        with store.unit_of_work() as uow:
            uow.contacts.archive(contacts[2])
            uow.contacts.archive(contacts[3])
        every = [c.id for c in contacts]
        live = [i for n, i in enumerate(every) if n not in (2, 3)]
        with store.unit_of_work(readonly=True) as uow:
            assert _ids(uow.contacts.iter()) == live
            assert _ids(uow.contacts.iter(include_archived=True)) == every
            assert _ids(uow.contacts.iter(after=every[2], batch_size=1)) == live[2:]
            assert (
                _ids(uow.contacts.iter(include_archived=True, after=every[2], limit=2))
                == every[3:5]
            )
            assert uow.contacts.count() == 6
            assert uow.contacts.count(include_archived=True) == 8

    @pytest.mark.parametrize("kind", KINDS)
    def test_count_counts_each_kind_separately(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """`count` of one kind moves only with records of that kind."""
        before = {k: _count(store, k) for k in KINDS}
        self.add(store, *(minimal(kind, parents, clock, n) for n in range(3)))
        after = {k: _count(store, k) for k in KINDS}
        assert after == {k: before[k] + (3 if k == kind else 0) for k in KINDS}

    # == segments, columns and RFM ==========================================================

    def test_segments_find_and_count_inside_the_store(
        self, store: Store, clock: FixedClock
    ) -> None:
        """`find`, `find_ids` and `count` of a segment agree with the records, archived aside."""
        people = [
            Contact.create(first_name=f"P{i}", country=c, tags=t, clock=clock)
            for i, (c, t) in enumerate(
                [("DE", ["vip"]), ("DE", []), ("FR", ["vip"]), (None, ["vip"]), ("DE", ["vip"])]
            )
        ]
        with store.unit_of_work(actor="contract") as uow:
            stored = [uow.contacts.add(p) for p in people]
            uow.contacts.archive(stored[4])
        segment = parse('country = "DE" and has tag "vip"')
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.count(segment) == 1
            assert [c.id for c in uow.contacts.find(segment)] == [stored[0].id]
            assert list(uow.contacts.find_ids(~segment)) == sorted(p.id for p in stored[1:4])
            assert uow.contacts.count(segment, include_archived=True) == 2

    def test_columns_match_the_records(self, store: Store, clock: FixedClock) -> None:
        """`columns` returns the same values the records hold, in id order."""
        people = [
            Contact.create(first_name=f"P{i}", country="DE" if i % 2 else None, clock=clock)
            for i in range(4)
        ]
        with store.unit_of_work(actor="contract") as uow:
            stored = [uow.contacts.add(p) for p in people]
        with store.unit_of_work(readonly=True) as uow:
            got = uow.contacts.columns(["id", "first_name", "country", "created_at"])
        assert got == {
            "id": [p.id for p in stored],
            "first_name": [p.first_name for p in stored],
            "country": [p.country for p in stored],
            "created_at": [p.created_at for p in stored],
        }

    def test_rfm_scores_by_rank_with_shared_ties(self, store: Store, clock: FixedClock) -> None:
        """Recency, frequency and monetary scores 1..5 by rank; equal values share a score."""
        now = clock.now()
        with store.unit_of_work(actor="contract") as uow:
            ada, bob, cy = (
                uow.contacts.add(Contact.create(first_name=n, clock=clock))
                for n in ("Ada", "Bob", "Cy")
            )
            for who, amount, days in (
                (ada, "100", 2),
                (ada, "50", 9),
                (bob, "150", 2),
                (cy, "5", 60),
            ):
                uow.orders.add(
                    Order.create(
                        total=amount,
                        currency="EUR",
                        placed_at=now - dt.timedelta(days=days, hours=1),
                        contact_id=who.id,
                        clock=clock,
                    )
                )
        with store.unit_of_work(readonly=True) as uow:
            scores = {s.record_id: s for s in uow.orders.rfm(currency="EUR")}
        assert scores[ada.id].r == scores[bob.id].r  # both ordered 2 days ago: a tie
        assert scores[ada.id].monetary == scores[bob.id].monetary == Decimal(150)
        assert scores[ada.id].m == scores[bob.id].m > scores[cy.id].m
        assert scores[ada.id].frequency == 2
        assert scores[ada.id].f > scores[bob.id].f == scores[cy.id].f
        assert scores[cy.id].recency_days == 60
        assert scores[cy.id].r < scores[ada.id].r

    # == related ===========================================================================

    def test_related_activities_are_newest_first_and_skip_archived(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Activities relate through contact and company; newest `occurred_at` first."""
        offsets = [5, 1, 9, 3, 7]  # hours ago; ids are made in a different order
        activities = [
            Activity.create(
                kind="email",
                occurred_at=START - dt.timedelta(hours=h, microseconds=h),
                contact_id=parents.contact.id,
                company_id=parents.company.id if h > 4 else None,
                clock=clock,
            )
            for h in offsets
        ]
        other = Activity.create(kind="call", contact_id=parents.other_contact.id, clock=clock)
        stored = self.add(store, *activities, other)
        by_time = sorted(stored[:5], key=lambda a: a.occurred_at, reverse=True)
        with store.unit_of_work(readonly=True) as uow:
            assert _ids(uow.activities.related(parents.contact.id)) == _ids(by_time)
            assert _ids(uow.activities.related(parents.contact.id, limit=2)) == _ids(by_time[:2])
            on_company = [a for a in by_time if a.company_id]
            assert _ids(uow.activities.related(parents.company.id)) == _ids(on_company)
            assert uow.activities.related(uuid.uuid4()) == []
            assert_identical(by_time[0], uow.activities.related(parents.contact.id, limit=1)[0])
        with store.unit_of_work() as uow:
            uow.activities.archive(by_time[0])
        got = self.read(store, lambda uow: _ids(uow.activities.related(parents.contact.id)))
        assert got == _ids(by_time[1:])

    def test_related_orders_are_newest_first(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Orders relate through contact and company; newest `placed_at` first."""
        orders = [
            Order.create(
                total="10.00",
                currency="EUR",
                placed_at=START - dt.timedelta(days=d),
                contact_id=parents.contact.id,
                company_id=parents.company.id,
                clock=clock,
            )
            for d in (3, 30, 1, 10)
        ]
        stored = self.add(store, *orders)
        by_time = sorted(stored, key=lambda o: o.placed_at, reverse=True)
        with store.unit_of_work(readonly=True) as uow:
            assert _ids(uow.orders.related(parents.contact.id)) == _ids(by_time)
            assert _ids(uow.orders.related(parents.company.id, limit=3)) == _ids(by_time[:3])
        with store.unit_of_work() as uow:
            uow.orders.archive(by_time[1])
        got = self.read(store, lambda uow: _ids(uow.orders.related(parents.contact.id)))
        assert got == _ids([by_time[0], *by_time[2:]])

    def test_related_tasks_through_every_reference(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Tasks relate through their contact, company, deal and lead."""
        tasks = [
            Task.create(title="c", contact_id=parents.contact.id, clock=clock),
            Task.create(title="co", company_id=parents.company.id, clock=clock),
            Task.create(title="d", deal_id=parents.deal.id, clock=clock),
            Task.create(title="l", lead_id=parents.lead.id, clock=clock),
            Task.create(title="c2", contact_id=parents.contact.id, clock=clock),
        ]
        stored = self.add(store, *tasks)
        with store.unit_of_work(readonly=True) as uow:
            assert set(_ids(uow.tasks.related(parents.contact.id))) == {tasks[0].id, tasks[4].id}
            assert _ids(uow.tasks.related(parents.company.id)) == [tasks[1].id]
            assert _ids(uow.tasks.related(parents.deal.id)) == [tasks[2].id]
            assert _ids(uow.tasks.related(parents.lead.id)) == [tasks[3].id]
            assert len(uow.tasks.related(parents.contact.id, limit=1)) == 1
        with store.unit_of_work() as uow:
            uow.tasks.archive(stored[0])
        got = self.read(store, lambda uow: _ids(uow.tasks.related(parents.contact.id)))
        assert got == [tasks[4].id]

    def test_related_deals_by_company_contacts_and_lead(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Deals relate through their company, every contact in `contact_ids`, and their lead."""
        person = Contact.create(first_name="Deal person", clock=clock)
        on_company = Deal.create(
            name="co",
            pipeline="sales",
            stage="prospecting",
            company_id=parents.company.id,
            clock=clock,
        )
        on_contact = Deal.create(
            name="ct",
            pipeline="sales",
            stage="prospecting",
            contact_ids=[parents.other_contact.id, person.id],
            clock=clock,
        )
        on_lead = Deal.create(
            name="l", pipeline="sales", stage="prospecting", lead_id=parents.lead.id, clock=clock
        )
        self.add(store, person)
        stored = self.add(store, on_company, on_contact, on_lead)
        with store.unit_of_work(readonly=True) as uow:
            assert set(_ids(uow.deals.related(parents.company.id))) == {
                parents.deal.id,
                on_company.id,
            }
            assert _ids(uow.deals.related(person.id)) == [on_contact.id]
            assert _ids(uow.deals.related(parents.other_contact.id)) == [on_contact.id]
            assert set(_ids(uow.deals.related(parents.contact.id))) == {parents.deal.id}
            assert _ids(uow.deals.related(parents.lead.id)) == [on_lead.id]
        with store.unit_of_work() as uow:
            uow.deals.archive(stored[1])
        assert self.read(store, lambda uow: uow.deals.related(person.id)) == []

    # == look-ups ==========================================================================

    def test_find_by_email_matches_any_spelling_of_any_address(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Look-up is by match key: case does not matter; secondary addresses count."""
        ada = Contact.create(
            first_name="Ada", email="ada@acme.de", emails=["Ada.L@Example.ORG"], clock=clock
        )
        bob = Contact.create(first_name="Bob", email="bob@acme.de", clock=clock)
        self.add(store, ada, bob)
        with store.unit_of_work(readonly=True) as uow:
            for text in ("ada@acme.de", "ADA@Acme.de", " Ada@ACME.DE ", "ada.l@example.org"):
                assert _ids(uow.contacts.find_by_email(text)) == [ada.id], text
            assert uow.contacts.find_by_email("nobody@acme.de") == []
            assert_identical(_stored(ada), uow.contacts.find_by_email("ADA@acme.de")[0])

    def test_find_by_email_returns_every_contact_sharing_an_address(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Two contacts may share an address; both are found, in id order."""
        first = Contact.create(first_name="One", email="team@acme.de", clock=clock)
        second = Contact.create(first_name="Two", email="Team@Acme.de", clock=clock)
        self.add(store, first, second)
        found = self.read(store, lambda uow: _ids(uow.contacts.find_by_email("TEAM@acme.de")))
        assert sorted(found) == sorted([first.id, second.id])

    def test_find_by_email_follows_updates_archive_and_rollback(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Changing addresses moves the look-up; archived contacts are not found."""
        [ada] = self.add(store, Contact.create(first_name="Ada", email="ada@acme.de", clock=clock))
        with store.unit_of_work() as uow:
            ada = uow.contacts.update(ada.changed(emails=["ada@new.example"], clock=clock))
            assert uow.contacts.find_by_email("ada@acme.de") == []
            assert _ids(uow.contacts.find_by_email("ADA@new.example")) == [ada.id]
        self.rolled_back(
            store,
            lambda uow: uow.contacts.update(ada.changed(emails=["ada@third.example"], clock=clock)),
        )
        with store.unit_of_work() as uow:
            assert uow.contacts.find_by_email("ada@third.example") == []
            assert _ids(uow.contacts.find_by_email("ada@new.example")) == [ada.id]
            archived = uow.contacts.archive(ada)
            assert uow.contacts.find_by_email("ada@new.example") == []
        with store.unit_of_work() as uow:
            uow.contacts.restore(archived)
        assert self.read(
            store, lambda uow: _ids(uow.contacts.find_by_email("ada@new.example"))
        ) == [ada.id]

    def test_find_by_domain_accepts_any_form(self, store: Store, clock: FixedClock) -> None:
        """A domain given as a URL, with www. or in upper case finds the normalised domain."""
        acme = Company.create(name="Acme", domain="acme.de", clock=clock)
        other = Company.create(name="Other", domain="other.de", clock=clock)
        self.add(store, acme, other)
        with store.unit_of_work(readonly=True) as uow:
            for text in ("acme.de", "https://www.Acme.de/x", "ACME.DE", "http://acme.de:8080/"):
                assert _ids(uow.companies.find_by_domain(text)) == [acme.id], text
            assert uow.companies.find_by_domain("nowhere.example") == []
            assert_identical(_stored(acme), uow.companies.find_by_domain("acme.de")[0])

    def test_find_by_domain_follows_updates_and_archive(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Changing the domain moves the look-up; archived companies are not found."""
        [acme] = self.add(store, Company.create(name="Acme", domain="acme.de", clock=clock))
        with store.unit_of_work() as uow:
            acme = uow.companies.update(acme.changed(domain="acme.com", clock=clock))
        with store.unit_of_work() as uow:
            assert uow.companies.find_by_domain("acme.de") == []
            assert _ids(uow.companies.find_by_domain("www.acme.com")) == [acme.id]
            uow.companies.archive(acme)
            assert uow.companies.find_by_domain("acme.com") == []
        assert self.read(store, lambda uow: uow.companies.find_by_domain("acme.com")) == []

    # == units of work =====================================================================

    def test_a_unit_of_work_commits_on_normal_exit(self, store: Store, clock: FixedClock) -> None:
        """What a unit of work wrote is visible to the next one."""
        contact = Contact.create(first_name="Kept", clock=clock)
        with store.unit_of_work() as uow:
            uow.contacts.add(contact)
            uow.record(ContractEvent("kept"))
        assert self.read(store, lambda uow: uow.contacts.get(contact.id)).version == 1
        assert [e.payload["name"] for e in store.events()] == ["kept"]

    def test_an_exception_rolls_back_everything(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Adds, updates, deletes, archives, history, events, facts and schemas all roll back."""
        [victim] = self.add(store, cast(Task, minimal("task", parents, clock, 1)))
        [changed] = self.add(store, _contact(parents, clock, 2))
        history_before = {i: store.history(i) for i in (victim.id, changed.id)}
        counts = {k: _count(store, k) for k in KINDS}
        new = [minimal(kind, parents, clock, 50) for kind in KINDS]
        clock.advance(minutes=5)

        def work(uow: UnitOfWork) -> None:
            for entity in new:
                repository(uow, entity.KIND).add(entity)
            uow.contacts.update(changed.changed(title="Never", clock=clock))
            uow.tasks.delete(victim)
            uow.deals.archive(parents.deal)
            uow.record(ContractEvent("never"))
            uow.custom_fields.save(CustomFieldSchema("lead", [CustomField("x", "text")]))

        self.rolled_back(store, work, actor="x")
        with store.unit_of_work(readonly=True) as uow:
            for entity in new:
                with pytest.raises(NotFoundError):
                    repository(uow, entity.KIND).get(entity.id)
            assert_identical(changed, uow.contacts.get(changed.id))
            assert_identical(victim, uow.tasks.get(victim.id))
            assert_identical(parents.deal, uow.deals.get(parents.deal.id))
            assert {k: repository(uow, k).count() for k in KINDS} == counts
            assert uow.contacts.facts(parents.contact.id) == RecordFacts(parents.contact.id)
            assert uow.custom_fields.get("lead").version == 0
        assert store.events() == []
        for entity in new:
            assert store.history(entity.id) == []
        assert {i: store.history(i) for i in (victim.id, changed.id)} == history_before

    def test_a_unit_of_work_reads_its_own_writes(self, store: Store, clock: FixedClock) -> None:
        """Inside one unit of work, get, get_many, iter, count and look-ups see what it wrote."""
        company = Company.create(name="Own", domain="own.example", clock=clock)
        contact = Contact.create(
            first_name="Own", email="own@own.example", company_id=company.id, clock=clock
        )
        with store.unit_of_work() as uow:
            uow.companies.add(company)
            added = uow.contacts.add(contact)
            assert uow.contacts.get(contact.id).version == 1
            assert set(uow.contacts.get_many([contact.id])) == {contact.id}
            assert _ids(uow.contacts.iter()) == [contact.id]
            assert uow.contacts.count() == 1
            assert _ids(uow.contacts.find_by_email("OWN@own.example")) == [contact.id]
            assert _ids(uow.companies.find_by_domain("own.example")) == [company.id]
            updated = uow.contacts.update(added.changed(title="Boss", clock=clock))
            assert uow.contacts.get(contact.id).title == "Boss"
            uow.contacts.archive(updated)
            assert uow.contacts.count() == 0
            assert uow.contacts.find_by_email("own@own.example") == []

    def test_uncommitted_writes_are_invisible_to_other_units_of_work(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Read-committed: a read-only unit of work opened meanwhile does not see them."""
        [old] = self.add(
            store, Contact.create(first_name="Old", email="old@x.example", clock=clock)
        )
        new = Contact.create(first_name="New", email="new@x.example", clock=clock)
        with store.unit_of_work() as writer:
            writer.contacts.add(new)
            writer.contacts.update(old.changed(title="Changed", clock=clock))
            writer.record(ContractEvent("pending"))
            with store.unit_of_work(readonly=True) as reader:
                with pytest.raises(NotFoundError):
                    reader.contacts.get(new.id)
                assert reader.contacts.get(old.id).title is None
                assert reader.contacts.count() == 1
                assert _ids(reader.contacts.iter()) == [old.id]
                assert reader.contacts.find_by_email("new@x.example") == []
            assert store.events() == []
        with store.unit_of_work(readonly=True) as reader:
            assert reader.contacts.get(new.id).version == 1
            assert reader.contacts.get(old.id).title == "Changed"
        assert len(store.events()) == 1

    def test_a_readonly_unit_of_work_refuses_writes(self, store: Store, clock: FixedClock) -> None:
        """Every write in a read-only unit of work raises a CrmkitError, and nothing is stored."""
        [stored] = self.add(store, Contact.create(first_name="Stored", clock=clock))
        fresh = Contact.create(first_name="Fresh", clock=clock)
        attempts: list[Callable[[UnitOfWork], object]] = [
            lambda uow: uow.contacts.add(fresh),
            lambda uow: uow.contacts.add_many([fresh]),
            lambda uow: uow.contacts.update(stored.changed(title="x", clock=clock)),
            lambda uow: uow.contacts.archive(stored),
            lambda uow: uow.contacts.delete(stored),
            lambda uow: uow.record(ContractEvent("ro")),
            lambda uow: uow.custom_fields.save(CustomFieldSchema("contact")),
        ]
        for attempt in attempts:
            with pytest.raises(CrmkitError), store.unit_of_work(readonly=True) as uow:
                attempt(uow)
        with store.unit_of_work(readonly=True) as uow:
            assert _ids(uow.contacts.iter()) == [stored.id]
            assert_identical(stored, uow.contacts.get(stored.id))
            assert uow.custom_fields.get("contact").version == 0
        assert store.events() == []

    def test_units_of_work_one_after_another_and_actor(self, store: Store) -> None:
        """A store opens any number of units of work; each reports its actor."""
        for n in range(5):
            with store.unit_of_work(actor=f"user{n}") as uow:
                assert uow.actor == f"user{n}"
        with store.unit_of_work() as uow:
            assert uow.actor is None

    # == history ===========================================================================

    def test_history_records_each_change_with_actor_time_and_version(
        self, store: Store, clock: FixedClock
    ) -> None:
        """add, update, archive, restore, delete each write an entry, in order."""
        contact = Contact.create(first_name="Hist", clock=clock)
        times: list[dt.datetime] = []
        with store.unit_of_work(actor="alice") as uow:
            contact = uow.contacts.add(contact)
        times.append(clock.now())
        clock.advance(minutes=1, seconds=0.000001)
        with store.unit_of_work(actor="bob") as uow:
            contact = uow.contacts.update(contact.changed(title="CTO", clock=clock))
        times.append(clock.now())
        clock.advance(hours=2)
        with store.unit_of_work(actor="carol") as uow:
            contact = uow.contacts.archive(contact)
        times.append(clock.now())
        clock.advance(days=1)
        with store.unit_of_work() as uow:
            contact = uow.contacts.restore(contact)
        times.append(clock.now())
        history = store.history(contact.id)
        assert [h.action for h in history] == ["added", "updated", "archived", "restored"]
        assert [h.version for h in history] == [1, 2, 3, 4]
        assert [h.actor for h in history] == ["alice", "bob", "carol", None]
        assert [h.at for h in history] == times
        assert all(h.entity_id == contact.id and h.kind == "contact" for h in history)
        assert_identical((FieldChange("title", None, "CTO"),), history[1].changes)
        assert history[1].change("title") == FieldChange("title", None, "CTO")
        clock.advance(days=1)
        with store.unit_of_work(actor="dave") as uow:
            uow.contacts.delete(contact)
        last = store.history(contact.id)[-1]
        assert (last.action, last.version, last.actor, last.at) == (
            "deleted",
            0,
            "dave",
            clock.now(),
        )
        assert len(store.history(contact.id)) == 5

    @pytest.mark.parametrize("kind", KINDS)
    def test_history_of_an_update_lists_exactly_the_changed_fields(
        self, store: Store, parents: Seed, clock: FixedClock, kind: str
    ) -> None:
        """Only the fields that changed are listed; `updated_at` and `version` never are."""
        [entity] = self.add(store, minimal(kind, parents, clock))
        clock.advance(minutes=3)
        [(field, value)] = CHANGES[kind].items()
        with store.unit_of_work() as uow:
            repository(uow, kind).update(entity.changed(clock=clock, **CHANGES[kind]))
        entry = store.history(entity.id)[-1]
        assert entry.action == "updated"
        assert_identical((FieldChange(field, None, value),), entry.changes)

    def test_history_values_are_plain_json(self, store: Store, clock: FixedClock) -> None:
        """Old and new values are plain JSON values (text, numbers, lists), never model objects."""
        [contact] = self.add(
            store, Contact.create(first_name="Json", email="a@b.example", clock=clock)
        )
        with store.unit_of_work() as uow:
            uow.contacts.update(
                contact.changed(tags={"b", "a"}, country="DE", emails=["c@d.example"], clock=clock)
            )
        entry = store.history(contact.id)[-1]
        assert {c.field for c in entry.changes} == {"tags", "country", "emails"}
        assert entry.change("country") == FieldChange("country", None, "DE")
        tags = entry.change("tags")
        assert tags is not None
        assert tags.old in ([], None)
        assert sorted(tags.new) == ["a", "b"]

        def plain(value: object) -> bool:
            if value is None or isinstance(value, str | int | float | bool):
                return True
            if isinstance(value, list):
                return all(plain(v) for v in value)
            if isinstance(value, dict):
                return all(isinstance(k, str) and plain(v) for k, v in value.items())
            return False

        assert all(plain(c.old) and plain(c.new) for c in entry.changes), entry.changes

    def test_rolled_back_changes_leave_no_history(self, store: Store, clock: FixedClock) -> None:
        """History is written in the unit of work's transaction."""
        [contact] = self.add(store, Contact.create(first_name="Roll", clock=clock))
        self.rolled_back(
            store, lambda uow: uow.contacts.update(contact.changed(title="No", clock=clock))
        )
        assert [h.action for h in store.history(contact.id)] == ["added"]
        assert store.history(uuid.uuid4()) == []

    # == events (the outbox) ===============================================================

    def test_events_come_back_in_commit_order_with_payload_actor_and_time(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Positions increase strictly; payloads equal `to_dict()`; actor and time are kept."""
        first, second, third = (
            ContractEvent("one", 1),
            ContractEvent("two", 2),
            ContractEvent("three", 3),
        )
        with store.unit_of_work(actor="alice") as uow:
            uow.record(first)
            uow.record(second)
        t1 = clock.now()
        clock.advance(seconds=30)
        with store.unit_of_work(actor="bob") as uow:
            uow.record(third)
        t2 = clock.now()
        events = store.events()
        assert [e.payload["name"] for e in events] == ["one", "two", "three"]
        positions = [e.position for e in events]
        assert positions == sorted(set(positions))
        assert positions[0] >= 1
        for event, original in zip(events, (first, second, third), strict=True):
            assert event.event_type == "contract.happened"
            assert dict(event.payload) == original.to_dict()
        assert [e.actor for e in events] == ["alice", "alice", "bob"]
        assert [e.recorded_at for e in events] == [t1, t1, t2]

    def test_events_after_a_position_and_with_a_limit(self, store: Store) -> None:
        """`after` skips what was seen; `limit` caps the answer; polling from the end is empty."""
        for n in range(5):
            with store.unit_of_work() as uow:
                uow.record(ContractEvent(f"e{n}", n))
        events = store.events()
        assert len(events) == 5
        assert store.events(after=events[1].position) == events[2:]
        assert store.events(limit=2) == events[:2]
        assert store.events(after=events[0].position, limit=3) == events[1:4]
        assert store.events(after=events[-1].position) == []
        with store.unit_of_work() as uow:
            uow.record(ContractEvent("late"))
        newer = store.events(after=events[-1].position)
        assert [e.payload["name"] for e in newer] == ["late"]
        assert newer[0].position > events[-1].position

    def test_events_of_a_rolled_back_unit_of_work_never_appear(self, store: Store) -> None:
        """Events are stored only if their unit of work commits."""
        with store.unit_of_work() as uow:
            uow.record(ContractEvent("before"))
        self.rolled_back(store, lambda uow: uow.record(ContractEvent("lost")))
        with store.unit_of_work() as uow:
            uow.record(ContractEvent("after"))
        events = store.events()
        assert [e.payload["name"] for e in events] == ["before", "after"]
        assert events[0].position < events[1].position

    # == facts =============================================================================

    def test_a_record_without_activities_or_orders_has_empty_facts(
        self, store: Store, parents: Seed
    ) -> None:
        """Empty facts are `RecordFacts(record_id)`, also for unknown ids."""
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.facts(parents.contact.id) == RecordFacts(parents.contact.id)
            unknown = uuid.uuid4()
            assert uow.companies.facts(unknown) == RecordFacts(unknown)

    def test_activities_keep_the_facts_of_their_contact_and_company(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Last activity, and counts by kind, for the contact and (when set) the company."""
        t1, t2, t3 = (START - dt.timedelta(days=d, microseconds=d) for d in (3, 2, 1))
        c, co = parents.contact.id, parents.company.id
        email1 = Activity.create(
            kind="email", occurred_at=t1, contact_id=c, company_id=co, clock=clock
        )
        call = Activity.create(
            kind="call", occurred_at=t2, contact_id=c, company_id=co, clock=clock
        )
        email2 = Activity.create(kind="email", occurred_at=t3, contact_id=c, clock=clock)
        [email1, call, email2] = self.add(store, email2, call, email1)[::-1]
        with store.unit_of_work(readonly=True) as uow:
            facts = uow.contacts.facts(c)
            assert facts.record_id == c
            assert facts.last_activity_at == t3
            assert facts.activity_counts == {"email": 2, "call": 1}
            assert facts.activity_count == 3
            company = uow.companies.facts(co)
            assert (company.last_activity_at, dict(company.activity_counts)) == (
                t2,
                {"email": 1, "call": 1},
            )
            for name in ("companies", "leads", "deals", "activities", "tasks", "orders"):
                assert getattr(uow, name).facts(c) == facts, name
            assert uow.contacts.facts(parents.other_contact.id) == RecordFacts(
                parents.other_contact.id
            )

    def test_facts_are_recomputed_when_activities_change(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Archiving, restoring, deleting or moving an activity in time moves the facts."""
        c = parents.contact.id
        t1, t2, t3, t4 = (START - dt.timedelta(days=d) for d in (4, 3, 2, 1))
        [a1, a2, a3] = self.add(
            store,
            Activity.create(kind="email", occurred_at=t1, contact_id=c, clock=clock),
            Activity.create(kind="call", occurred_at=t2, contact_id=c, clock=clock),
            Activity.create(kind="email", occurred_at=t3, contact_id=c, clock=clock),
        )

        def facts() -> RecordFacts:
            result: RecordFacts = self.read(store, lambda uow: uow.contacts.facts(c))
            return result

        with store.unit_of_work() as uow:
            a3 = uow.activities.archive(a3)
            assert uow.contacts.facts(c).last_activity_at == t2  # read-your-own-writes
        assert (facts().last_activity_at, dict(facts().activity_counts)) == (
            t2,
            {"email": 1, "call": 1},
        )
        with store.unit_of_work() as uow:
            a3 = uow.activities.restore(a3)
        assert (facts().last_activity_at, facts().activity_count) == (t3, 3)
        with store.unit_of_work() as uow:
            a1 = uow.activities.update(a1.changed(occurred_at=t4, clock=clock))
        assert facts().last_activity_at == t4
        with store.unit_of_work() as uow:
            uow.activities.update(a1.changed(kind="meeting", clock=clock))
        assert dict(facts().activity_counts) == {"email": 1, "call": 1, "meeting": 1}
        with store.unit_of_work() as uow:
            uow.activities.delete(a2)
        assert dict(facts().activity_counts) == {"email": 1, "meeting": 1}
        with store.unit_of_work() as uow:
            moved = uow.activities.update(
                a3.changed(contact_id=parents.other_contact.id, clock=clock)
            )
        assert dict(facts().activity_counts) == {"meeting": 1}
        other = self.read(store, lambda uow: uow.contacts.facts(parents.other_contact.id))
        assert (other.last_activity_at, dict(other.activity_counts)) == (t3, {"email": 1})
        with store.unit_of_work() as uow:
            uow.activities.archive(moved)
            uow.activities.archive(uow.activities.get(a1.id))
        assert facts() == RecordFacts(c)

    def test_orders_keep_count_exact_totals_per_currency_and_last_order(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Totals are exact Decimals per currency (0.10 + 0.20 is 0.30, not 0.30000000000000004)."""
        c, co = parents.contact.id, parents.company.id
        p1, p2, p3 = (START - dt.timedelta(days=d, microseconds=7) for d in (9, 5, 7))
        orders = [
            Order.create(
                total="0.10", currency="EUR", placed_at=p1, contact_id=c, company_id=co, clock=clock
            ),
            Order.create(total="0.20", currency="EUR", placed_at=p2, contact_id=c, clock=clock),
            Order.create(total="5.01", currency="USD", placed_at=p3, contact_id=c, clock=clock),
        ]
        with store.unit_of_work() as uow:
            assert uow.orders.add_many(orders, batch_size=2).stored == 3
        with store.unit_of_work(readonly=True) as uow:
            facts = uow.contacts.facts(c)
            assert facts.order_count == 3
            assert facts.last_order_at == p2
            assert_identical(
                FrozenMap({"EUR": Decimal("0.30"), "USD": Decimal("5.01")}),
                FrozenMap(facts.order_totals),
            )
            assert str(facts.order_total("EUR").amount) == "0.30"
            company = uow.companies.facts(co)
            assert (company.order_count, company.last_order_at) == (1, p1)
            assert_identical(FrozenMap({"EUR": Decimal("0.10")}), FrozenMap(company.order_totals))
            assert facts.activity_counts == {}

    def test_order_facts_are_recomputed_when_orders_change(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Changing a total or a time, archiving and deleting orders all move the facts."""
        c = parents.contact.id
        p1, p2 = START - dt.timedelta(days=3), START - dt.timedelta(days=1)
        [o1, o2] = self.add(
            store,
            Order.create(total="10.50", currency="EUR", placed_at=p1, contact_id=c, clock=clock),
            Order.create(total="5.25", currency="EUR", placed_at=p2, contact_id=c, clock=clock),
        )

        def facts() -> RecordFacts:
            result: RecordFacts = self.read(store, lambda uow: uow.contacts.facts(c))
            return result

        assert (facts().order_count, str(facts().order_totals["EUR"])) == (2, "15.75")
        with store.unit_of_work() as uow:
            o2 = uow.orders.update(o2.changed(total=Money.of("5.20", "EUR"), clock=clock))
        assert str(facts().order_totals["EUR"]) == "15.70"
        with store.unit_of_work() as uow:
            o1 = uow.orders.update(o1.changed(placed_at=START, clock=clock))
        assert facts().last_order_at == START
        with store.unit_of_work() as uow:
            o1 = uow.orders.archive(o1)
        f = facts()
        assert (f.order_count, str(f.order_totals["EUR"]), f.last_order_at) == (1, "5.20", p2)
        with store.unit_of_work() as uow:
            uow.orders.delete(o2)
        f = facts()
        assert (f.order_count, f.last_order_at) == (0, None)
        assert f.order_totals.get("EUR", Decimal(0)) == 0

    def test_add_many_of_activities_keeps_the_facts(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Bulk adds move facts exactly as single adds do."""
        c = parents.contact.id
        kinds = ["email", "call", "email", "meeting", "email"] * 5
        rows = [
            Activity.create(
                kind=k, occurred_at=START - dt.timedelta(minutes=n), contact_id=c, clock=clock
            )
            for n, k in enumerate(kinds)
        ]
        with store.unit_of_work() as uow:
            uow.activities.add_many(rows, batch_size=7)
        facts = self.read(store, lambda uow: uow.contacts.facts(c))
        assert dict(facts.activity_counts) == {"email": 15, "call": 5, "meeting": 5}
        assert facts.last_activity_at == START

    def test_facts_of_a_rolled_back_unit_of_work_are_not_kept(
        self, store: Store, parents: Seed, clock: FixedClock
    ) -> None:
        """Facts move in the same transaction as their activity or order."""
        c = parents.contact.id

        def work(uow: UnitOfWork) -> None:
            uow.activities.add(Activity.create(kind="sms", contact_id=c, clock=clock))
            uow.orders.add(Order.create(total="3", currency="EUR", contact_id=c, clock=clock))
            assert uow.contacts.facts(c).activity_count == 1

        self.rolled_back(store, work)
        assert self.read(store, lambda uow: uow.contacts.facts(c)) == RecordFacts(c)

    # == custom-field schemas ==============================================================

    @pytest.mark.parametrize("kind", KINDS)
    def test_every_kind_starts_with_an_empty_version_0_schema(
        self, store: Store, kind: str
    ) -> None:
        """Before any `save`, `get` returns an empty schema at version 0."""
        schema = self.read(store, lambda uow: uow.custom_fields.get(kind))
        assert_identical(CustomFieldSchema(kind, (), 0), schema)

    def test_schemas_are_saved_version_by_version(self, store: Store) -> None:
        """Version 1, then each `adding` or `retiring` is the next one; gaps and repeats fail."""
        v1 = CustomFieldSchema(
            "contact",
            [
                CustomField.from_dict(
                    {"key": "plan", "type": "choice", "label": "Plan", "choices": ["free", "pro"]}
                ),
                CustomField("seats", FieldType.INTEGER, required=True),
            ],
        )
        with store.unit_of_work() as uow:
            assert_identical(v1, uow.custom_fields.save(v1))
            assert_identical(v1, uow.custom_fields.get("contact"))
        for bad in (
            v1,
            CustomFieldSchema("contact", v1.fields, 3),
            CustomFieldSchema("contact", v1.fields, 0),
        ):
            with store.unit_of_work() as uow, pytest.raises(ValidationError):
                uow.custom_fields.save(bad)
        v2 = v1.adding(CustomField("trial", FieldType.BOOL, default=False))
        v3 = v2.retiring("seats")
        with store.unit_of_work() as uow:
            uow.custom_fields.save(v2)
            uow.custom_fields.save(v3)
        with store.unit_of_work(readonly=True) as uow:
            assert_identical(v3, uow.custom_fields.get("contact"))
            assert uow.custom_fields.get("company").version == 0

    def test_a_schema_cannot_change_a_type_or_drop_a_field(self, store: Store) -> None:
        """Old values must keep fitting: retire a field instead of dropping or retyping it."""
        v1 = CustomFieldSchema(
            "deal", [CustomField("seats", FieldType.INTEGER), CustomField("note", FieldType.TEXT)]
        )
        with store.unit_of_work() as uow:
            uow.custom_fields.save(v1)
        retyped = CustomFieldSchema(
            "deal", [CustomField("seats", FieldType.TEXT), CustomField("note", FieldType.TEXT)], 2
        )
        dropped = CustomFieldSchema("deal", [CustomField("seats", FieldType.INTEGER)], 2)
        for bad in (retyped, dropped):
            with store.unit_of_work() as uow, pytest.raises(ValidationError):
                uow.custom_fields.save(bad)
        assert_identical(v1, self.read(store, lambda uow: uow.custom_fields.get("deal")))

    def test_a_saved_schema_is_enforced_on_add_and_update(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Undeclared keys, wrong types and missing required values are refused."""
        schema = CustomFieldSchema(
            "contact",
            [
                CustomField.from_dict(
                    {"key": "plan", "type": "choice", "choices": ["free", "pro"], "required": True}
                ),
                CustomField("seats", FieldType.INTEGER),
            ],
        )
        with store.unit_of_work() as uow:
            uow.custom_fields.save(schema)
        bad = {
            "custom.colour": {"plan": "pro", "colour": "red"},
            "custom.seats": {"plan": "pro", "seats": "many"},
            "custom.plan": {"plan": "platinum"},
        }
        for field, custom in bad.items():
            contact = Contact.create(first_name="Bad", custom=custom, clock=clock)
            with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
                uow.contacts.add(contact)
            assert field in _fields(info.value), (field, str(info.value))
        with store.unit_of_work() as uow, pytest.raises(ValidationError):
            uow.contacts.add(Contact.create(first_name="No plan", clock=clock))
        good = Contact.create(first_name="Good", custom={"plan": "pro", "seats": 3}, clock=clock)
        with store.unit_of_work() as uow:
            good = uow.contacts.add(good)
        assert self.read(store, lambda uow: uow.contacts.get(good.id).custom) == {
            "plan": "pro",
            "seats": 3,
        }
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError):
                uow.contacts.update(good.with_custom("colour", "red", clock=clock))
            with pytest.raises(ValidationError):
                uow.contacts.update(good.with_custom("seats", "many", clock=clock))
            good = uow.contacts.update(good.with_custom("seats", 4, clock=clock))
        assert self.read(store, lambda uow: uow.contacts.get(good.id).custom["seats"]) == 4
        assert self.read(store, lambda uow: uow.contacts.count()) == 1

    def test_a_retired_field_keeps_old_values_but_takes_no_new_ones(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Records holding a retired field's value stay updatable; new values are refused."""
        v1 = CustomFieldSchema("contact", [CustomField("seats", FieldType.INTEGER)])
        with store.unit_of_work() as uow:
            uow.custom_fields.save(v1)
            old = uow.contacts.add(
                Contact.create(first_name="Old", custom={"seats": 3}, clock=clock)
            )
            uow.custom_fields.save(v1.retiring("seats"))
        with store.unit_of_work() as uow:
            old = uow.contacts.update(old.changed(title="Still here", clock=clock))
            assert old.custom == {"seats": 3}
            with pytest.raises(ValidationError):
                uow.contacts.add(Contact.create(first_name="New", custom={"seats": 5}, clock=clock))
            with pytest.raises(ValidationError):
                uow.contacts.update(old.with_custom("seats", 9, clock=clock))

    def test_schemas_are_per_kind(self, store: Store, clock: FixedClock) -> None:
        """A contact schema does not constrain companies."""
        with store.unit_of_work() as uow:
            uow.custom_fields.save(CustomFieldSchema("contact", [CustomField("seats", "integer")]))
            uow.companies.add(Company.create(name="Free", custom={"anything": "goes"}, clock=clock))
        assert self.read(store, lambda uow: uow.custom_fields.get("company").version) == 0

    # == named business calendars ===========================================================

    def test_calendars_are_stored_by_name_and_read_back_equal(self, store: Store) -> None:
        """Each name keeps its own calendar (hours, holidays, zone); names come sorted."""
        berlin = BusinessCalendar(
            time_zone="Europe/Berlin",
            working_hours={"mon": ["08:00-12:00", "13:00-17:00"], "fri": "08:00-14:00"},
            holidays=[dt.date(2026, 12, 24)],
        )
        new_york = BusinessCalendar(time_zone="America/New_York")
        with store.unit_of_work() as uow:
            assert uow.calendars.names() == ()
            uow.calendars.save("support Berlin", berlin)
            uow.calendars.save("sales NY", new_york)
            assert uow.calendars.get("support Berlin") == berlin  # its own writes
        with store.unit_of_work(readonly=True) as uow:
            assert uow.calendars.names() == ("sales NY", "support Berlin")
            assert uow.calendars.get("support Berlin") == berlin
            assert uow.calendars.get("sales NY") == new_york
            assert "sales NY" in uow.calendars
            assert "sales" not in uow.calendars
            assert uow.business_calendar == BusinessCalendar()  # the store's own is apart
        with store.unit_of_work() as uow:
            uow.calendars.save("sales NY", berlin)  # replaced
        assert self.read(store, lambda uow: uow.calendars.get("sales NY")) == berlin

    def test_an_unknown_calendar_is_not_found_and_bad_ones_are_refused(self, store: Store) -> None:
        """A missing name is NotFoundError; a bad name or a non-calendar is a ValidationError."""
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.calendars.get("nobody")
            for name in ("", "  ", "x" * 201, "tab\there", 5):
                with pytest.raises(ValidationError) as caught:
                    uow.calendars.save(name, BusinessCalendar())  # type: ignore[arg-type]
                assert caught.value.fields == ("name",)
            with pytest.raises(ValidationError) as caught:
                uow.calendars.save("ok", {"time_zone": "UTC"})  # type: ignore[arg-type]
            assert caught.value.fields == ("calendar",)
            assert uow.calendars.names() == ()

    def test_a_calendar_saved_in_a_rolled_back_unit_of_work_is_not_kept(self, store: Store) -> None:
        """Saving a calendar is part of the unit of work: all or nothing."""

        def fail() -> None:
            with store.unit_of_work() as uow:
                uow.calendars.save("temporary", BusinessCalendar(time_zone="Asia/Tokyo"))
                raise RuntimeError("the request failed")

        with pytest.raises(RuntimeError):
            fail()
        assert self.read(store, lambda uow: uow.calendars.names()) == ()

    # == reopening (file-based stores) =====================================================

    def test_everything_survives_closing_and_reopening(self, clock: FixedClock) -> None:
        """Records (every field), schemas, history, events and facts are all still there."""
        store = self.make_store(clock)
        try:
            parents = seed(store, clock)
            records = [maximal(kind, parents, clock) for kind in KINDS]
            schema = CustomFieldSchema("task", [CustomField("effort", FieldType.DECIMAL)])
            with store.unit_of_work(actor="saver") as uow:
                # A stored deal credits unattributed moves to the actor: compare what add returns.
                records = [repository(uow, entity.KIND).add(entity) for entity in records]
                uow.custom_fields.save(schema)
                uow.calendars.save("team", BusinessCalendar(time_zone="Europe/Berlin"))
                uow.record(ContractEvent("persisted", 7))
                archived = uow.leads.archive(uow.leads.get(records[2].id))
            facts = self.read(store, lambda uow: uow.contacts.facts(parents.contact.id))
            history = store.history(records[0].id)
            events = store.events()
        except BaseException:
            store.close()
            raise
        reopened = self.reopen_store(store, clock)
        if reopened is None:
            store.close()
            pytest.skip("this store keeps nothing once closed (reopen_store returned None)")
        with reopened:
            with reopened.unit_of_work(readonly=True) as uow:
                assert uow.calendars.get("team") == BusinessCalendar(time_zone="Europe/Berlin")
                for entity in records:
                    want = archived if entity.id == archived.id else entity
                    assert_identical(want, repository(uow, entity.KIND).get(entity.id))
                assert_identical(schema, uow.custom_fields.get("task"))
                assert uow.contacts.facts(parents.contact.id) == facts
                assert (facts.activity_count, facts.order_count) == (1, 1)
                assert uow.leads.count() == 1
            assert reopened.history(records[0].id) == history
            assert reopened.events() == events
            with reopened.unit_of_work() as uow:
                uow.record(ContractEvent("after reopen"))
                with pytest.raises(ValidationError):
                    uow.tasks.add(Task.create(title="t", custom={"effort": "lots"}, clock=clock))
            later = reopened.events(after=events[-1].position)
            assert [e.payload["name"] for e in later] == ["after reopen"]

    # == closing ===========================================================================

    def test_a_store_is_a_context_manager_that_closes(self, clock: FixedClock) -> None:
        """After `close` (or leaving ``with``), starting a unit of work raises a CrmkitError."""
        with self.make_store(clock) as store, store.unit_of_work() as uow:
            uow.contacts.add(Contact.create(first_name="Closing", clock=clock))
        with pytest.raises(CrmkitError), store.unit_of_work(readonly=True) as uow:
            uow.contacts.count()
        other = self.make_store(clock)
        other.close()
        with pytest.raises(CrmkitError), other.unit_of_work() as uow:
            uow.contacts.add(Contact.create(first_name="Too late", clock=clock))
