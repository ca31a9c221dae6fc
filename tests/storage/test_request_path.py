"""The one-record request path: kept SQLite connections, rows read once, only changes written.

A web request reads a record, changes it and writes it back in a unit of work of its own. What
keeps that cheap must not weaken what keeps it safe: a kept connection never serves an ended
unit of work's stream, a row known from `get` is still checked by version when written, and
writing only the changed columns and side tables leaves the store exactly as a full rewrite.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmkit import Contact, Deal, FixedClock
from crmkit import open_store as crmkit_open_store
from crmkit.errors import ConcurrencyError, StorageError, ValidationError
from crmkit.segments import parse
from crmkit.storage.protocol import Store
from crmkit.storage.sqlite.store import POOL_SIZE, SqliteStore

from .adapters import T0


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "crm.db", clock=FixedClock(T0)) as store:
        yield store


def _statements(uow: Any) -> list[str]:
    """Trace the SQL a SQLite unit of work runs from here on (the statements, as sent)."""
    seen: list[str] = []
    uow._live_backend()._raw.set_trace_callback(seen.append)
    return seen


# -- kept connections ----------------------------------------------------------------------


def test_a_unit_of_work_reuses_the_connection_the_last_one_gave_back(sqlite_store: SqliteStore):
    with sqlite_store.unit_of_work() as uow:
        uow.contacts.add(Contact.create(first_name="Ada"))
        first = uow._live_backend()._raw
    with sqlite_store.unit_of_work(readonly=True) as uow:
        assert uow._live_backend()._raw is first
    # the WAL stays while connections are kept; closing the store checkpoints and removes it
    wal = Path(f"{sqlite_store.path}-wal")
    assert wal.exists()
    sqlite_store.close()
    assert not wal.exists()
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")


def test_at_most_pool_size_connections_are_kept(sqlite_store: SqliteStore):
    uows = [sqlite_store.unit_of_work(readonly=True) for _ in range(POOL_SIZE + 2)]
    raws = []
    for uow in uows:
        uow.__enter__()
        raws.append(uow._live_backend()._raw)
    for uow in uows:
        uow.__exit__(None, None, None)
    assert len(sqlite_store._idle) == POOL_SIZE
    closed = 0
    for raw in raws:
        try:
            raw.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            closed += 1
    assert closed == 2


def test_a_stream_of_an_ended_unit_of_work_refuses_even_on_a_kept_connection(
    sqlite_store: SqliteStore,
):
    with sqlite_store.unit_of_work() as uow:
        uow.contacts.add_many(Contact.create(first_name=f"P{i}") for i in range(5))
    with sqlite_store.unit_of_work(readonly=True) as uow:
        stream = uow.contacts.iter(batch_size=2)
        next(stream)
        raw = uow._live_backend()._raw
    with sqlite_store.unit_of_work() as other:  # the same connection serves this one now
        assert other._live_backend()._raw is raw
        with pytest.raises(StorageError, match="the unit of work has ended"):
            next(stream)
        other.contacts.add(Contact.create(first_name="Late"))
    with sqlite_store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 6


def test_a_failed_unit_of_work_closes_its_connection(sqlite_store: SqliteStore):
    uow = sqlite_store.unit_of_work()
    uow.__enter__()
    raw = uow._live_backend()._raw
    uow.contacts.add(Contact.create(first_name="Ada"))
    raw.execute("ROLLBACK")  # as SQLite does by itself after a disk-full error
    with pytest.raises(StorageError):  # leaving says the work was rolled back
        uow.__exit__(None, None, None)
    assert raw not in sqlite_store._idle
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")
    with sqlite_store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 0


def test_a_file_replaced_while_a_connection_is_kept_is_a_typed_error(tmp_path: Path):
    path = tmp_path / "crm.db"
    with SqliteStore(path, clock=FixedClock(T0)) as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(Contact.create(first_name="Ada"))
        assert store._idle
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        SqliteStore(path).close()  # a new, empty database at the same path
        with pytest.raises(StorageError, match="replaced while the store was open"):
            store.unit_of_work(readonly=True).__enter__()
        assert store._idle == []


def _child_adds(path: str) -> None:
    store = _INHERITED["store"]
    with store.unit_of_work() as uow:
        uow.contacts.add(Contact.create(first_name="From the child"))


_INHERITED: dict[str, SqliteStore] = {}


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_opens_its_own_connections(sqlite_store: SqliteStore):
    with sqlite_store.unit_of_work() as uow:
        uow.contacts.add(Contact.create(first_name="Parent"))
    kept = list(sqlite_store._idle)
    assert kept
    _INHERITED["store"] = sqlite_store
    child = multiprocessing.get_context("fork").Process(
        target=_child_adds, args=(sqlite_store.path,)
    )
    child.start()
    child.join(30)
    assert child.exitcode == 0
    with sqlite_store.unit_of_work() as uow:
        assert uow._live_backend()._raw in kept  # the parent's connections are the parent's
        assert sorted(c.first_name or "" for c in uow.contacts.iter()) == [
            "From the child",
            "Parent",
        ]


# -- rows read once --------------------------------------------------------------------------


def test_an_update_after_get_reads_the_row_once_and_writes_only_what_changed(
    sqlite_store: SqliteStore,
):
    with sqlite_store.unit_of_work() as uow:
        ada = uow.contacts.add(
            Contact.create(first_name="Ada", emails=["ada@example.com"], tags=["vip"])
        )
    with sqlite_store.unit_of_work() as uow:
        seen = _statements(uow)
        got = uow.contacts.get(ada.id)
        uow.contacts.update(got.changed(title="CTO"))
    selects = [s for s in seen if s.startswith("SELECT") and "FROM contacts" in s]
    updates = [s for s in seen if s.startswith("UPDATE contacts")]
    assert len(selects) == 1
    assert len(updates) == 1
    assignments = updates[0].split(" SET ", 1)[1].split(" WHERE ", 1)[0].split(", ")
    assert [a.split(" = ")[0] for a in assignments] == ["version", "updated_at", "title"]
    assert not [s for s in seen if "contact_emails" in s or "record_tags" in s]


def test_changed_emails_and_tags_rewrite_their_side_rows(store: Store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(
            Contact.create(first_name="Ada", emails=["ada@example.com"], tags=["vip"])
        )
    with store.unit_of_work() as uow:
        uow.contacts.update(
            uow.contacts.get(ada.id).changed(emails=["ada@new.example"], tags=["b2b"])
        )
    with store.unit_of_work(readonly=True) as uow:
        assert [c.id for c in uow.contacts.find_by_email("ada@new.example")] == [ada.id]
        assert uow.contacts.find_by_email("ada@example.com") == []
        assert uow.contacts.count(parse("tags contains 'b2b'")) == 1
        assert uow.contacts.count(parse("tags contains 'vip'")) == 0
    with store.unit_of_work() as uow:  # a change elsewhere keeps the side rows as they are
        uow.contacts.update(uow.contacts.get(ada.id).changed(title="CTO"))
    with store.unit_of_work(readonly=True) as uow:
        assert [c.id for c in uow.contacts.find_by_email("ada@new.example")] == [ada.id]
        assert uow.contacts.count(parse("tags contains 'b2b'")) == 1


def test_a_known_row_rolled_back_in_a_savepoint_is_read_again(store: Store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
    with store.unit_of_work() as uow:
        got = uow.contacts.get(ada.id)
        try:
            with uow.savepoint():
                uow.contacts.update(got.changed(title="Tried"))
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        stored = uow.contacts.update(got.changed(last_name="Lovelace"))
    assert stored.version == 2
    entries = store.history(ada.id)
    assert [(e.version, [c.field for c in e.changes]) for e in entries] == [
        (1, []),
        (2, ["last_name"]),
    ]
    with store.unit_of_work(readonly=True) as uow:
        again = uow.contacts.get(ada.id)
    assert (again.title, again.last_name) == (None, "Lovelace")


def test_updating_the_same_read_twice_is_a_conflict_and_the_second_read_is_current(store: Store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
    with store.unit_of_work() as uow:
        got = uow.contacts.get(ada.id)
        newer = uow.contacts.update(got.changed(title="CTO"))
        with pytest.raises(ConcurrencyError):
            uow.contacts.update(got.changed(title="CEO"))
        newest = uow.contacts.update(newer.changed(title="CEO"))
    assert (newer.version, newest.version) == (2, 3)
    assert [c.field for c in store.history(ada.id)[-1].changes] == ["title"]
    assert store.history(ada.id)[-1].changes[0].old == "CTO"


def test_a_deleted_and_re_added_id_is_not_taken_from_what_was_known(store: Store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada", title="Old"))
    with store.unit_of_work() as uow:
        got = uow.contacts.get(ada.id)
        uow.contacts.delete(got)
        again = uow.contacts.add(
            Contact.create(first_name="Ada", title="New", id=ada.id, clock=FixedClock(T0))
        )
        stored = uow.contacts.update(again.changed(last_name="L"))
    assert store.history(ada.id)[-1].changes[0].field == "last_name"
    assert stored.title == "New"


def test_a_row_changed_by_another_writer_after_get_is_a_conflict(store: Store, adapter: Any):
    """PostgreSQL lets another transaction commit between get and update: still refused."""
    if adapter.name != "postgres":
        pytest.skip("only PostgreSQL lets another writer in during a writing unit of work")
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
    with store.unit_of_work() as uow:
        got = uow.contacts.get(ada.id)
        with store.unit_of_work() as other:
            other.contacts.update(other.contacts.get(ada.id).changed(title="Theirs"))
        with pytest.raises(ConcurrencyError):
            uow.contacts.update(got.changed(title="Mine"))
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(ada.id).title == "Theirs"


def test_a_moved_deal_rewrites_its_stage_rows_but_not_its_contacts(
    sqlite_store: SqliteStore,
):
    with sqlite_store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
        deal = uow.deals.add(
            Deal.create(
                name="Acme",
                pipeline="sales",
                stage="prospecting",
                contact_ids=[ada.id],
                clock=FixedClock(T0),
            )
        )
    with sqlite_store.unit_of_work() as uow:
        seen = _statements(uow)
        moved = uow.deals.move(uow.deals.get(deal.id), "discovery")
    assert [s for s in seen if s.startswith("DELETE FROM deal_stages")]
    assert not [s for s in seen if "deal_contacts" in s and not s.startswith("SELECT")]
    with sqlite_store.unit_of_work(readonly=True) as uow:
        stored = uow.deals.get(deal.id)
        assert stored == moved.deal
        held = uow.deals.find(parse(f"contact_ids contains uuid('{ada.id}')"))
        assert [d.id for d in held] == [deal.id]


# -- custom-field schemas kept between units of work (SQLite and PostgreSQL) -------------------


def _schema_lookups(adapter: Any, store: Any, work: Any) -> int:
    """Run `work(uow)` in a writing unit of work; count its custom-field schema look-ups."""
    statements: list[str] = []
    if adapter.name == "sqlite":
        with store.unit_of_work() as uow:
            uow._live_backend()._raw.set_trace_callback(statements.append)
            work(uow)
    else:
        from crmkit.storage.postgres.errors import PgCursor

        original = PgCursor.execute

        def counting(self: Any, query: str, params: Any = ()) -> Any:
            statements.append(query)
            return original(self, query, params)

        PgCursor.execute = counting  # type: ignore[method-assign]
        try:
            with store.unit_of_work() as uow:
                work(uow)
        finally:
            PgCursor.execute = original  # type: ignore[method-assign]
    return len([s for s in statements if "FROM custom_field_schemas" in s])


def test_a_store_keeps_schemas_until_any_store_saves_one(adapter: Any, clock: Any):
    """A second store on the same database saves a schema: the first one reads it again."""
    if adapter.name == "memory":
        pytest.skip("the memory store reads its schemas in-process")
    from crmkit import CustomField, CustomFieldSchema, FieldType

    first = adapter.make(clock)
    second = crmkit_open_store(adapter.url_of(first), clock=clock)
    try:
        add = lambda name: lambda uow: uow.contacts.add(Contact.create(first_name=name))  # noqa: E731
        assert _schema_lookups(adapter, first, add("Ada")) == 1
        assert _schema_lookups(adapter, first, add("Bob")) == 0  # kept
        schema = CustomFieldSchema("contact", (CustomField("plan", FieldType.TEXT, required=True),))
        with second.unit_of_work() as uow:
            uow.custom_fields.save(schema)
        with pytest.raises(ValidationError) as refused:
            _schema_lookups(adapter, first, add("Cy"))
        assert refused.value.fields == ("custom.plan",)
        with first.unit_of_work() as uow:  # its own save is seen at once too
            uow.custom_fields.save(
                CustomFieldSchema("contact", (CustomField("plan", FieldType.TEXT),), 2)
            )
        assert _schema_lookups(adapter, first, add("Di")) == 1
        assert _schema_lookups(adapter, first, add("Ed")) == 0
    finally:
        second.close()
        first.close()
