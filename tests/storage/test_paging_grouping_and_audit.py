"""Keyset paging ends, `grouped` skips archived rows, savepoints drop their events, deletes
leave a full audit entry: on every adapter (memory, SQLite, PostgreSQL when set)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from crmkit import Activity, Contact, FixedClock
from crmkit.conditions import HasTag
from crmkit.storage.protocol import FieldChange
from crmkit.testing.compare import assert_identical
from crmkit.testing.contract import ContractEvent

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def store(adapter, clock):
    store = adapter.make(clock)
    try:
        yield store
    finally:
        store.close()


def _contacts(store, clock, n):
    made = [Contact.create(first_name=f"Page {i}", tags=["paged"], clock=clock) for i in range(n)]
    with store.unit_of_work() as uow:
        uow.contacts.add_many(made)
    return sorted(c.id for c in made)


# -- keyset paging: a page starts strictly after the cursor --------------------------------


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_iter_pages_start_strictly_after_the_cursor_so_paging_ends(store, clock, batch_size):
    """With pages of 1 to 3, `iter` yields the 5 ids once each (read bounded, so it cannot hang)."""
    expected = _contacts(store, clock, 5)
    with store.unit_of_work(readonly=True) as uow:
        got = [c.id for c in itertools.islice(uow.contacts.iter(batch_size=batch_size), 6)]
    assert got == expected


def test_iter_after_an_id_leaves_that_id_out(store, clock):
    """`after=x` never yields `x` itself, whatever the batch size."""
    expected = _contacts(store, clock, 4)
    with store.unit_of_work(readonly=True) as uow:
        for size in (1, 1000):
            got = [
                c.id
                for c in itertools.islice(uow.contacts.iter(after=expected[1], batch_size=size), 3)
            ]
            assert got == expected[2:], size


@pytest.mark.parametrize("batch_size", [1, 2])
def test_find_and_find_ids_pages_start_strictly_after_the_cursor(store, clock, batch_size):
    """Segment paging (entities and ids) yields each of the 5 members once (read bounded)."""
    expected = _contacts(store, clock, 5)
    segment = HasTag("tags", "paged")
    with store.unit_of_work(readonly=True) as uow:
        found = uow.contacts.find(segment, batch_size=batch_size)
        assert [c.id for c in itertools.islice(found, 6)] == expected
        ids = uow.contacts.find_ids(segment, batch_size=batch_size)
        assert list(itertools.islice(ids, 6)) == expected


# -- grouped: archived rows stay out unless asked for ---------------------------------------


def test_grouped_leaves_archived_activities_out_unless_asked(store, clock):
    """`grouped("contact_id")` skips an archived activity; `include_archived=True` keeps it."""
    ada = Contact.create(first_name="Ada", clock=clock)
    old, kept = (
        Activity.create(
            kind="call", contact_id=ada.id, occurred_at=T0 - dt.timedelta(days=d), clock=clock
        )
        for d in (2, 1)
    )
    with store.unit_of_work() as uow:
        uow.contacts.add(ada)
        stored_old = uow.activities.add(old)
        uow.activities.add(kept)
    with store.unit_of_work() as uow:
        uow.activities.archive(stored_old)
    with store.unit_of_work(readonly=True) as uow:
        live = [(key, [a.id for a in group]) for key, group in uow.activities.grouped("contact_id")]
        every = [
            (key, [a.id for a in group])
            for key, group in uow.activities.grouped("contact_id", include_archived=True)
        ]
    assert live == [(ada.id, [kept.id])]
    assert every == [(ada.id, [old.id, kept.id])]


def test_grouped_with_a_small_batch_skips_archived_rows_on_every_page(store, clock):
    """Paging through groups one row at a time still drops each archived row."""
    people = [Contact.create(first_name=f"G{i}", clock=clock) for i in range(3)]
    acts = [
        Activity.create(
            kind="email", contact_id=p.id, occurred_at=T0 - dt.timedelta(hours=h), clock=clock
        )
        for p in people
        for h in (3, 2, 1)
    ]
    with store.unit_of_work() as uow:
        uow.contacts.add_many(people)
        stored = [uow.activities.add(a) for a in acts]
    with store.unit_of_work() as uow:
        for n in (1, 3, 4, 8):
            uow.activities.archive(stored[n])
    live = {a.id for n, a in enumerate(acts) if n not in (1, 3, 4, 8)}
    with store.unit_of_work(readonly=True) as uow:
        got = [
            a.id for _, group in uow.activities.grouped("contact_id", batch_size=1) for a in group
        ]
    assert sorted(got) == sorted(live)
    assert len(got) == 5


# -- savepoints: a failed block takes its events with it -----------------------------------


class _UndoError(Exception):
    """Raised inside a savepoint to undo it."""


def _fail_in_savepoint(uow, work):
    with uow.savepoint():
        work()
        raise _UndoError


def test_events_recorded_in_a_failed_savepoint_are_not_committed(store):
    """Only the events recorded outside the failed savepoint reach the outbox."""
    with store.unit_of_work(actor="ann") as uow:
        uow.record(ContractEvent("before", 1))
        with pytest.raises(_UndoError):
            _fail_in_savepoint(uow, lambda: uow.record(ContractEvent("inside", 2)))
        uow.record(ContractEvent("after", 3))
    assert [e.payload["name"] for e in store.events()] == ["before", "after"]


def test_events_recorded_in_a_savepoint_that_succeeds_are_committed(store):
    """A savepoint that does not raise keeps its events, in order."""
    with store.unit_of_work() as uow:
        with uow.savepoint():
            uow.record(ContractEvent("inside", 2))
        uow.record(ContractEvent("after", 3))
    assert [e.payload["name"] for e in store.events()] == ["inside", "after"]


def test_history_recorded_in_a_failed_savepoint_is_not_committed(store, clock):
    """A record added in a failed savepoint leaves no history and no row."""
    ghost = Contact.create(first_name="Ghost", clock=clock)
    with store.unit_of_work() as uow:
        with pytest.raises(_UndoError):
            _fail_in_savepoint(uow, lambda: uow.contacts.add(ghost))
    assert store.history(ghost.id) == []
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 0


# -- history: a delete lists every field it removed ------------------------------------------


def test_the_history_entry_of_a_delete_lists_each_field_it_removed(store, clock):
    """The ``deleted`` entry has each non-empty field (id and created_at too) going to None."""
    contact = Contact.create(
        first_name="Ada", last_name="Lovelace", title="CTO", country="DE", clock=clock
    )
    with store.unit_of_work() as uow:
        stored = uow.contacts.add(contact)
    with store.unit_of_work() as uow:
        uow.contacts.delete(stored)
    entry = store.history(contact.id)[-1]
    assert (entry.action, entry.version) == ("deleted", 0)
    assert_identical(
        (
            FieldChange("id", str(contact.id), None),
            FieldChange("created_at", "2026-01-01T00:00:00+00:00", None),
            FieldChange("first_name", "Ada", None),
            FieldChange("last_name", "Lovelace", None),
            FieldChange("title", "CTO", None),
            FieldChange("country", "DE", None),
            FieldChange("lifecycle_stage", "lead", None),
        ),
        entry.changes,
    )
