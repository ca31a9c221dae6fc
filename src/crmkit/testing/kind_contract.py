"""The storage contract of one kind of record, for any kind in the registry.

A kind added to `crmkit.model.registry` (its model file, its `Kind` entry and the migration
step that creates its table) is stored, versioned, audited, searched and fetched by every
adapter without a change anywhere else. `KindContract` proves it: subclass it, name the
kind, say how to make a valid record and a valid change, and give the adapter::

    class TestNotesOnSqlite(KindContract):
        kind = "note"
        text_field = "body"

        def make_store(self, clock):
            return crmkit.open_store(f"sqlite:///{self.tmp / 'crm.db'}", clock=clock)

        def make_record(self, uow, number, clock):
            return Note.create(body=f"note {number}", clock=clock)

        def change(self, record, clock):
            return record.changed(body="edited", clock=clock)

The built-in kinds are held to the fuller `StoreContract`; this one checks what every kind
gets from the registry alone.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, cast

import attrs
import pytest

from crmkit.clock import FixedClock
from crmkit.errors import ConcurrencyError, NotFoundError, ReferencedError, ValidationError
from crmkit.model.contact import Contact
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS, Kind
from crmkit.segments.parser import parse
from crmkit.storage.protocol import Repository, Store, UnitOfWork
from crmkit.testing.contract import StoreFixtures
from crmkit.testing.records import START

__all__ = ["KindContract"]


class KindContract(StoreFixtures):
    """The contract every registered kind keeps on an adapter; subclass it per kind and adapter.

    Attributes:
        kind: The registered kind under test (``"note"``).
        text_field: A text field of the kind that `make_record` fills with a value unique
            to each record, for segment and column checks.
    """

    kind: ClassVar[str]
    text_field: ClassVar[str]

    # -- what a subclass provides (and `make_store`, from `StoreFixtures`) -------------------

    def make_record(self, uow: UnitOfWork, number: int, clock: FixedClock) -> Entity:
        """Return a valid new record of the kind (version 0), different for each `number`.

        Records it refers to may be added through `uow` first.
        """
        raise NotImplementedError

    def change(self, record: Entity, clock: FixedClock) -> Entity:
        """Return the record with one field changed validly."""
        raise NotImplementedError

    def _kind(self) -> Kind:
        return KINDS[self.kind]

    def _repository(self, uow: UnitOfWork) -> Repository[Any]:
        return uow.repository(self.kind)

    def _add(self, store: Store, clock: FixedClock, count: int = 1) -> list[Entity]:
        with store.unit_of_work(actor="contract") as uow:
            made = [self.make_record(uow, number, clock) for number in range(count)]
            return [self._repository(uow).add(record) for record in made]

    # -- the contract ------------------------------------------------------------------------

    def test_the_unit_of_work_has_a_repository_for_the_kind(self, store: Store) -> None:
        """`uow.repository(kind)` and the table-named attribute are one repository."""
        with store.unit_of_work(readonly=True) as uow:
            assert getattr(uow, self._kind().table) is uow.repository(self.kind)
            assert self._repository(uow).count() == 0

    def test_a_record_is_stored_and_read_back_identical(
        self, store: Store, clock: FixedClock
    ) -> None:
        """`add` stores version 1; `get` and `get_many` return an equal record."""
        [stored] = self._add(store, clock)
        assert stored.version == 1
        with store.unit_of_work(readonly=True) as uow:
            repository = self._repository(uow)
            assert repository.get(stored.id) == stored
            assert repository.get_many([stored.id, uuid.uuid4()]) == {stored.id: stored}

    def test_add_many_stores_every_record_and_iter_reads_them_in_id_order(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Bulk add, then `iter` pages through them by id, and `count` agrees."""
        with store.unit_of_work() as uow:
            made = [self.make_record(uow, number, clock) for number in range(7)]
            assert self._repository(uow).add_many(made, batch_size=3).stored == 7
        with store.unit_of_work(readonly=True) as uow:
            read = list(self._repository(uow).iter(batch_size=2))
            assert [r.id for r in read] == sorted(r.id for r in made)
            assert self._repository(uow).count() == 7

    def test_an_update_adds_one_to_the_version_and_its_history_lists_the_change(
        self, store: Store, clock: FixedClock
    ) -> None:
        """The history holds "added" then "updated" with the changed field, old and new."""
        [stored] = self._add(store, clock)
        clock.advance(seconds=5)
        changed = self.change(stored, clock)
        with store.unit_of_work(actor="editor") as uow:
            updated = self._repository(uow).update(changed)
        assert updated.version == 2
        history = store.history(stored.id)
        assert [(e.kind, e.action, e.version, e.actor) for e in history] == [
            (self.kind, "added", 1, "contract"),
            (self.kind, "updated", 2, "editor"),
        ]
        fields = {c.field for c in history[-1].changes}
        assert fields
        assert fields <= {f.name for f in attrs.fields(type(stored))}

    def test_a_stale_update_is_refused_and_changes_nothing(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Writing from version 1 after version 2 is stored raises `ConcurrencyError`."""
        [stored] = self._add(store, clock)
        with store.unit_of_work() as uow:
            self._repository(uow).update(self.change(stored, clock))
        with pytest.raises(ConcurrencyError), store.unit_of_work() as uow:
            self._repository(uow).update(self.change(stored, clock))
        with store.unit_of_work(readonly=True) as uow:
            assert self._repository(uow).get(stored.id).version == 2

    def test_archive_hides_a_record_and_restore_brings_it_back(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Archived records leave `count` and `iter` but `get` still finds them."""
        [stored] = self._add(store, clock)
        with store.unit_of_work() as uow:
            archived = self._repository(uow).archive(stored)
            assert self._repository(uow).count() == 0
            assert self._repository(uow).get(stored.id).archived_at == START
            self._repository(uow).restore(archived)
            assert self._repository(uow).count() == 1

    def test_delete_removes_the_record_and_history_ends_with_deleted(
        self, store: Store, clock: FixedClock
    ) -> None:
        """After `delete`, `get` raises `NotFoundError`; the last entry is a delete."""
        [stored] = self._add(store, clock)
        with store.unit_of_work() as uow:
            self._repository(uow).delete(stored)
        with store.unit_of_work(readonly=True) as uow, pytest.raises(NotFoundError):
            self._repository(uow).get(stored.id)
        assert [e.action for e in store.history(stored.id)] == ["added", "deleted"]

    def test_an_id_held_by_a_record_of_another_kind_is_refused(
        self, store: Store, clock: FixedClock
    ) -> None:
        """Ids are unique across kinds: a contact cannot take this record's id."""
        [stored] = self._add(store, clock)
        intruder = Contact.create(first_name="Intruder", id=stored.id, clock=clock)
        with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
            uow.contacts.add(intruder)
        assert caught.value.fields == ("id",)
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.get_many([stored.id]) == {}
            assert self._repository(uow).get(stored.id) == stored

    def test_each_reference_to_a_missing_record_is_refused(
        self, store: Store, clock: FixedClock
    ) -> None:
        """A reference field pointing nowhere is a `ValidationError` naming that field."""
        for ref in self._kind().refs:
            with store.unit_of_work() as uow:
                record = self.make_record(uow, 0, clock)
            missing: Any = (uuid.uuid4(),) if ref.many else uuid.uuid4()
            dangling = attrs.evolve(record, **{ref.field: missing})
            with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
                self._repository(uow).add(dangling)
            assert caught.value.fields == (ref.field,)

    def test_a_record_it_refers_to_cannot_be_deleted(self, store: Store, clock: FixedClock) -> None:
        """Deleting a referred-to record raises `ReferencedError` naming this kind."""
        [stored] = self._add(store, clock)
        kind = self._kind()
        for ref, ident in kind.ref_ids(stored):
            with store.unit_of_work() as uow:
                target = uow.repository(ref.target).get(cast(uuid.UUID, ident))
                with pytest.raises(ReferencedError, match=self.kind):
                    uow.repository(ref.target).delete(target)

    def test_related_lists_the_record_under_each_record_it_refers_to(
        self, store: Store, clock: FixedClock
    ) -> None:
        """`related(target_id)` on this kind's repository finds the record."""
        [stored] = self._add(store, clock)
        with store.unit_of_work(readonly=True) as uow:
            for _ref, ident in self._kind().ref_ids(stored):
                related = self._repository(uow).related(cast(uuid.UUID, ident))
                assert [r.id for r in related] == [stored.id]

    def test_segments_find_and_count_records_of_the_kind(
        self, store: Store, clock: FixedClock
    ) -> None:
        """A condition on a field finds exactly the records holding that value."""
        added = self._add(store, clock, count=3)
        wanted = added[1]
        value = getattr(wanted, self.text_field)
        segment = parse(f"{self.text_field} = {_quoted(value)}")
        with store.unit_of_work(readonly=True) as uow:
            repository = self._repository(uow)
            assert [r.id for r in repository.find(segment)] == [wanted.id]
            assert list(repository.find_ids(segment)) == [wanted.id]
            assert repository.count(segment) == 1
            assert repository.count(parse(f"not ({segment})")) == 2

    def test_segments_on_the_referred_kind_count_these_records(
        self, store: Store, clock: FixedClock
    ) -> None:
        """``at least 1 <counted name>`` on the target kind finds the record referred to."""
        [stored] = self._add(store, clock)
        kind = self._kind()
        for ref, ident in kind.ref_ids(stored):
            if ref.counted_as is None:
                continue
            with store.unit_of_work(readonly=True) as uow:
                target = uow.repository(ref.target)
                found = list(target.find_ids(parse(f"at least 1 {ref.counted_as}")))
                assert found == [ident]

    def test_columns_fetch_the_kinds_fields_without_building_records(
        self, store: Store, clock: FixedClock
    ) -> None:
        """`columns` returns the ids and the text field, in id order."""
        added = self._add(store, clock, count=3)
        with store.unit_of_work(readonly=True) as uow:
            got = self._repository(uow).columns(["id", self.text_field])
        ordered = sorted(added, key=lambda r: r.id)
        assert got == {
            "id": [r.id for r in ordered],
            self.text_field: [getattr(r, self.text_field) for r in ordered],
        }


def _quoted(value: object) -> str:
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
