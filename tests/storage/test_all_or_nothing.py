"""A unit of work commits whole or not at all, in every failure, on every adapter.

Failures the database reports (disk full, an aborted PostgreSQL transaction), interruptions
in the middle of a memory commit, streams read after their unit of work, savepoints left open,
files deleted or replaced under an open store, and a thread waiting for itself.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import crmkit
from crmkit import Contact, FixedClock
from crmkit.errors import ConcurrencyError, NestedWriteError, RolledBackError, StorageError
from crmkit.model.activity import Activity
from crmkit.segments import parse
from crmkit.storage.memory import _Commit
from crmkit.storage.sqlite.store import SqliteStore
from crmkit.testing import START

from .adapters import sqlite_urls


def _contact(name: str, **fields: object) -> Contact:
    return Contact.create(first_name=name, **fields)  # type: ignore[arg-type]


def _names(store: crmkit.Store) -> list[str]:
    with store.unit_of_work(readonly=True) as uow:
        return sorted(c.first_name or "" for c in uow.contacts.iter())


# -- SQLite rolls back by itself --------------------------------------------------------------


class _TinySqliteStore(SqliteStore):
    """A SQLite store whose file may not grow past a few pages: SQLITE_FULL, for real.

    ``max_page_count`` makes SQLite itself answer "database or disk is full" and roll the
    transaction back, exactly as a full disk does.
    """

    max_pages = 0

    def _connect(self) -> sqlite3.Connection:
        connection = super()._connect()
        if self.max_pages:
            connection.execute(f"PRAGMA max_page_count = {self.max_pages}")
        return connection


def _fill_until_full(store: crmkit.Store) -> None:
    """Add one contact, then bulk-add more than the file can hold; catch the failure."""
    big = (_contact(f"Bulk {i}", custom={"blob": "x" * 4000}) for i in range(1000))
    uow = store.unit_of_work(actor="sam")
    uow.__enter__()
    uow.contacts.add(_contact("First"))
    with pytest.raises(RolledBackError, match=r"after an error \(database or disk is full"):
        uow.contacts.add_many(big, batch_size=50)
    # SQLite rolled back the whole transaction: what follows must not run on its own
    with pytest.raises(RolledBackError, match="rolled the unit of work back"):
        uow.contacts.add(_contact("After"))
    with pytest.raises(RolledBackError):
        uow.contacts.count()
    with pytest.raises(RolledBackError):
        uow.__exit__(None, None, None)


def test_after_sqlite_rolls_back_by_itself_the_unit_of_work_is_failed_for_good(tmp_path):
    """Disk full in add_many: later statements and leaving raise; nothing is committed."""
    store = _TinySqliteStore(tmp_path / "tiny.db", clock=FixedClock(START))
    store.max_pages = 40
    with store:
        _fill_until_full(store)
        store.max_pages = 0
        assert _names(store) == []
        assert store.events() == []


@pytest.fixture
def full_disk(tmp_path: Path):
    """A 2 MiB tmpfs: a real file system that fills up (needs root; skipped otherwise)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_unit_of_work_and_commits_nothing_after_the_error(full_disk):
    """The reported bug: after disk full, the next add was committed on its own."""
    with crmkit.open_store(f"sqlite:///{full_disk / 'crm.db'}", clock=FixedClock(START)) as store:
        _fill_until_full(store)
        assert _names(store) == []


def test_a_sqlite_constraint_error_leaves_the_unit_of_work_usable(tmp_path):
    """A statement error SQLite undoes alone (no rollback of the transaction) is not fatal."""
    with crmkit.open_store(f"sqlite:///{tmp_path / 'crm.db'}") as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(_contact("Kept"))
            backend = uow._live_backend()
            with pytest.raises(StorageError, match="UNIQUE"):
                backend._execute(
                    "INSERT INTO crmkit_meta (key, value) VALUES ('schema_version', 'x')"
                )
            uow.contacts.add(_contact("Also kept"))
        assert _names(store) == ["Also kept", "Kept"]


# -- PostgreSQL aborts the transaction ---------------------------------------------------------


@pytest.fixture
def postgres_store(adapter):
    if adapter.name != "postgres":
        pytest.skip("PostgreSQL only")
    with adapter.make(FixedClock(START)) as store:
        yield store


def test_postgres_an_error_caught_by_the_caller_makes_leaving_raise_and_saves_nothing(
    postgres_store,
):
    """Today's bug: a caught StorageError, a normal exit, and the writes silently gone."""
    uow = postgres_store.unit_of_work()
    uow.__enter__()
    uow.contacts.add(_contact("Written before"))
    uow.segments.save("everyone", parse('first_name starts with "W"'))
    with pytest.raises(StorageError, match="division by zero"):
        uow._live_backend()._execute("SELECT 1 / 0")
    with pytest.raises(RolledBackError, match="division by zero"):
        uow.contacts.add(_contact("Written after"))
    with pytest.raises(RolledBackError, match="aborted"):
        uow.__exit__(None, None, None)
    assert _names(postgres_store) == []
    with postgres_store.unit_of_work(readonly=True) as uow:
        assert uow.segments.list() == []


def test_postgres_an_error_inside_a_rolled_back_savepoint_leaves_the_unit_of_work_usable(
    postgres_store,
):
    """The savepoint undoes the failed part; the rest of the unit of work commits."""
    with postgres_store.unit_of_work() as uow:
        uow.contacts.add(_contact("Before"))
        with pytest.raises(StorageError, match="division by zero"):
            _add_then_fail(uow, _contact("Undone"))
        uow.contacts.add(_contact("After"))
    assert _names(postgres_store) == ["After", "Before"]


def _add_then_fail(uow, contact: Contact) -> None:
    with uow.savepoint():
        uow.contacts.add(contact)
        uow._live_backend()._execute("SELECT 1 / 0")


def test_postgres_a_unique_violation_from_a_racing_writer_fails_the_loser_whole(postgres_store):
    """Two units of work add one explicit id; the loser's earlier write is not kept either."""
    shared = _contact("Shared")
    first_added = threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def loser() -> None:
        first_added.wait(timeout=30)
        try:
            with postgres_store.unit_of_work() as uow:
                uow.contacts.add(_contact("Loser's other contact"))
                with contextlib.suppress(ConcurrencyError):  # the caller swallows the conflict
                    uow.contacts.add(Contact.create(first_name="Copy", id=shared.id))
            outcome["loser"] = None
        except BaseException as error:
            outcome["loser"] = error

    thread = threading.Thread(target=loser)
    thread.start()
    with postgres_store.unit_of_work() as uow:
        uow.contacts.add(shared)
        first_added.set()
        time.sleep(0.5)  # let the loser block on the uncommitted id
    thread.join(timeout=60)
    assert isinstance(outcome["loser"], RolledBackError)
    assert _names(postgres_store) == ["Shared"]


# -- savepoints are released ---------------------------------------------------------------------


def test_a_savepoint_is_released_when_its_block_ends(adapter):
    """Hundreds of savepoint blocks leave no savepoint open (PostgreSQL's cache holds 64)."""
    if adapter.name == "memory":
        pytest.skip("memory savepoints are copies, nothing to release")
    with adapter.make(FixedClock(START)) as store:
        uow = store.unit_of_work()
        uow.__enter__()
        for i in range(100):
            with uow.savepoint():
                uow.contacts.add(_contact(f"Saved {i}"))
            with contextlib.suppress(StorageError), uow.savepoint():
                raise StorageError("undo this one")
        with pytest.raises(StorageError, match="savepoint"):
            uow._live_backend()._execute("RELEASE SAVEPOINT crmkit_1")
        uow.__exit__(StorageError, StorageError("give up"), None)  # roll back
        with store.unit_of_work() as uow:
            for i in range(3):
                with uow.savepoint():
                    uow.contacts.add(_contact(f"Kept {i}"))
        assert _names(store) == ["Kept 0", "Kept 1", "Kept 2"]


# -- streams live inside their unit of work --------------------------------------------------


def _streams(uow):
    segment = parse('first_name starts with "S"')
    return {
        "iter": uow.contacts.iter(batch_size=2),
        "find": uow.contacts.find(segment, batch_size=2),
        "find_ids": uow.contacts.find_ids(segment, batch_size=2),
        "grouped": uow.activities.grouped("contact_id", batch_size=2),
        "members": uow.segments.members("s-people"),
    }


@pytest.mark.parametrize("name", ["iter", "find", "find_ids", "grouped", "members"])
def test_a_stream_refuses_to_run_after_its_unit_of_work_has_ended(adapter, name):
    """Started or not, a stream read after its with block raises a StorageError."""
    clock = FixedClock(START)
    with adapter.make(clock) as store:
        with store.unit_of_work() as uow:
            people = [uow.contacts.add(_contact(f"Sam {i}", clock=clock)) for i in range(5)]
            for person in people:
                uow.activities.add(
                    Activity.create(
                        kind="call", subject="hi", contact_id=person.id, occurred_at=START
                    )
                )
            uow.segments.save("s-people", parse('first_name starts with "S"'))
        with store.unit_of_work() as uow:
            untouched = _streams(uow)[name]
            started = _streams(uow)[name]
            next(started)
        with store.unit_of_work() as other:  # uncommitted rows another unit of work holds
            other.contacts.add(_contact("Sneaky", clock=clock))
            for stream in (untouched, started):
                with pytest.raises(StorageError, match=r"ended|not active"):
                    list(stream)


# -- the memory store commits in one step ----------------------------------------------------


def _interrupt_at_line(target_code, line_number):
    """Raise KeyboardInterrupt when `target_code` reaches its `line_number`-th line event."""
    seen = 0

    def local(frame, event, arg):
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == line_number:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        if frame.f_code is target_code:
            return local
        return None

    return tracer


def _memory_state(store):
    with store.unit_of_work(readonly=True) as uow:
        contacts = {c.first_name: c.id for c in uow.contacts.iter()}
        activities = uow.activities.count()
        facts = {name: uow.contacts.facts(ident).activity_count for name, ident in contacts.items()}
    histories = {name: len(store.history(ident)) for name, ident in contacts.items()}
    return contacts, activities, facts, histories, len(store.events())


def test_an_interrupted_memory_commit_is_published_whole_or_not_at_all():
    """KeyboardInterrupt at every line of the commit: rows never appear without history."""
    clock = FixedClock(START)
    line = 0
    outcomes = set()
    while True:
        line += 1
        store = crmkit.open_store("memory://", clock=clock)
        with store.unit_of_work() as uow:
            before = uow.contacts.add(_contact("Before", clock=clock))
        interrupted = False
        sys.settrace(_interrupt_at_line(_Commit.apply.__code__, line))
        try:
            with store.unit_of_work(actor="ann") as uow:
                ada = uow.contacts.add(_contact("Ada", clock=clock))
                uow.contacts.update(before.changed(title="CTO", clock=clock))
                uow.activities.add(
                    Activity.create(kind="call", subject="hi", contact_id=ada.id, occurred_at=START)
                )
                uow.record(_Note("moved"))
        except KeyboardInterrupt:
            interrupted = True
        except Exception:
            pass
        finally:
            sys.settrace(None)
        state = _memory_state(store)
        committed = (
            {"Before", "Ada"} == set(state[0]),
            state[1] == 1,
            state[2].get("Ada") == 1,
            state[3] == {"Before": 2, "Ada": 1},
        )
        assert all(committed) or (set(state[0]) == {"Before"} and state[1] == 0), (line, state)
        outcomes.add(all(committed))
        if not interrupted:
            break
    assert line > 10  # the commit was interrupted at each of its lines
    assert outcomes == {True}  # once the commit was recorded, it is always finished


def test_a_reader_after_an_interrupted_memory_commit_sees_it_finished():
    """Another thread reading right after the interruption sees the whole commit."""
    clock = FixedClock(START)
    store = crmkit.open_store("memory://", clock=clock)
    sys.settrace(_interrupt_at_line(_Commit.apply.__code__, 3))
    try:
        with store.unit_of_work() as uow:
            added = uow.contacts.add(_contact("Ada", clock=clock))
    except KeyboardInterrupt:
        pass
    finally:
        sys.settrace(None)
    seen: dict[str, object] = {}

    def reader() -> None:
        with store.unit_of_work(readonly=True) as uow:
            seen["names"] = [c.first_name for c in uow.contacts.iter()]
        seen["history"] = [e.action for e in store.history(added.id)]

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(timeout=30)
    assert seen == {"names": ["Ada"], "history": ["added"]}


# -- what readers get cannot rewrite the trail ---------------------------------------------------


def test_history_and_events_handed_to_readers_cannot_change_what_is_stored(adapter):
    """Changing a read entry's values or an event's payload changes nothing stored."""
    clock = FixedClock(START)
    with adapter.make(clock) as store:
        with store.unit_of_work(actor="ann") as uow:
            ada = uow.contacts.add(_contact("Ada", clock=clock))
            uow.contacts.update(ada.changed(tags={"vip"}, clock=clock))
            uow.record(_Note("hello"))
        entry = store.history(ada.id)[-1]
        tags = entry.change("tags")
        assert tags is not None
        assert tags.new == ["vip"]
        tags.new.append("forged")
        with pytest.raises(AttributeError):
            entry.actor = "mallory"  # type: ignore[misc]
        event = store.events()[0]
        event.payload["text"] = "forged"  # type: ignore[index]
        assert store.history(ada.id)[-1].change("tags").new == ["vip"]  # type: ignore[union-attr]
        assert store.events()[0].payload == {"text": "hello"}


class _Note:
    event_type = "note"

    def __init__(self, text: str) -> None:
        self.text = text

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text}


# -- files deleted or replaced under an open store --------------------------------------------


def test_a_sqlite_file_deleted_while_the_store_is_open_is_an_error_not_a_new_empty_file(
    tmp_path,
):
    path = tmp_path / "crm.db"
    with crmkit.open_store(f"sqlite:///{path}") as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(_contact("Ada"))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{path}{suffix}")
        with pytest.raises(StorageError, match="deleted while the store was open"):
            store.unit_of_work().__enter__()
        assert not path.exists()


def test_a_sqlite_file_replaced_while_the_store_is_open_is_an_error(tmp_path):
    path = tmp_path / "crm.db"
    other = tmp_path / "other.db"
    with crmkit.open_store(f"sqlite:///{path}") as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(_contact("Ada"))
        crmkit.open_store(f"sqlite:///{other}").close()
        os.replace(other, path)
        with pytest.raises(StorageError, match="replaced while the store was open"):
            with store.unit_of_work(readonly=True) as uow:
                uow.contacts.count()
    with crmkit.open_store(f"sqlite:///{path}") as reopened:
        assert _names(reopened) == []  # the new file, opened on purpose


def test_opening_a_current_sqlite_store_takes_no_write_lock(tmp_path):
    """Another connection holds the write lock; opening the store still succeeds at once."""
    url = sqlite_urls(tmp_path)()
    crmkit.open_store(url).close()
    path = url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with crmkit.open_store(f"{url}?busy_timeout=5") as store:
            assert store.schema_version >= 1
            with store.unit_of_work(readonly=True) as uow:
                assert uow.contacts.count() == 0
        assert time.monotonic() - started < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- a thread never waits for itself -----------------------------------------------------------


def test_a_second_writing_unit_of_work_in_the_same_thread_fails_at_once(adapter):
    """It would wait out the busy timeout for a lock its own thread holds; it says so."""
    if adapter.name == "postgres":
        pytest.skip("PostgreSQL has no store-wide write lock")
    with adapter.make(FixedClock(START)) as store:
        with store.unit_of_work() as outer:
            outer.contacts.add(_contact("Outer"))
            started = time.monotonic()
            with pytest.raises(NestedWriteError, match="this thread already holds"):
                with store.unit_of_work() as inner:
                    inner.contacts.add(_contact("Inner"))
            assert time.monotonic() - started < 1
            with store.unit_of_work(readonly=True) as reader:
                assert reader.contacts.count() == 0  # a reader is fine
            outer.contacts.add(_contact("Outer again"))
        assert _names(store) == ["Outer", "Outer again"]
        with store.unit_of_work() as after:  # the thread may write again once it is done
            after.contacts.add(_contact("Later"))
        assert _names(store) == ["Later", "Outer", "Outer again"]
