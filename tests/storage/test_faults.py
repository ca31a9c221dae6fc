"""Failures half-way: broken inputs, racing threads, killed and competing writer processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import crmkit
from crmkit import ConcurrencyError, Contact, FixedClock
from crmkit.testing import START

from .adapters import sqlite_urls


class SourceBrokeError(Exception):
    pass


def _contacts(n, *, fail_at=None, prefix="Bulk"):
    for i in range(n):
        if i == fail_at:
            raise SourceBrokeError(f"the source broke after {i} rows")
        yield Contact.create(first_name=f"{prefix} {i}", email=f"{prefix.lower()}{i}@example.org")


def test_an_exception_half_way_through_a_bulk_add_leaves_nothing_behind(adapter):
    with adapter.make(FixedClock(START)) as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(Contact.create(first_name="Before"))
        with pytest.raises(SourceBrokeError), store.unit_of_work() as uow:
            uow.contacts.add_many(_contacts(1000, fail_at=500), batch_size=100)
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == 1
            assert uow.contacts.find_by_email("bulk10@example.org") == []


def test_a_bulk_add_that_breaks_stores_none_of_its_rows_even_if_the_unit_of_work_goes_on(adapter):
    """add_many is all or nothing by itself, not only through the unit of work's rollback."""
    with adapter.make(FixedClock(START)) as store:
        with store.unit_of_work() as uow:
            with pytest.raises(SourceBrokeError):
                uow.contacts.add_many(_contacts(1000, fail_at=500), batch_size=100)
            uow.contacts.add(Contact.create(first_name="After"))
        with store.unit_of_work(readonly=True) as uow:
            assert [c.first_name for c in uow.contacts.iter()] == ["After"]


def test_two_threads_updating_one_contact_one_wins_the_other_gets_a_conflict(adapter):
    """Both read version 1, then race to write: one update lands, the other is refused."""
    clock = FixedClock(START)
    with adapter.make(clock) as store:
        with store.unit_of_work() as uow:
            original = uow.contacts.add(Contact.create(first_name="Shared", clock=clock))
        barrier = threading.Barrier(2, timeout=30)
        outcomes: dict[str, object] = {}

        def writer(title):
            with store.unit_of_work(readonly=True) as uow:
                read = uow.contacts.get(original.id)
            barrier.wait()
            try:
                with store.unit_of_work(actor=title) as uow:
                    outcomes[title] = uow.contacts.update(read.changed(title=title, clock=clock))
            except BaseException as error:
                outcomes[title] = error

        threads = [threading.Thread(target=writer, args=(t,)) for t in ("CEO", "CTO")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a writer hung"
        errors = [v for v in outcomes.values() if isinstance(v, BaseException)]
        assert len(errors) == 1, outcomes
        assert isinstance(errors[0], ConcurrencyError), errors
        with store.unit_of_work(readonly=True) as uow:
            got = uow.contacts.get(original.id)
        assert got.version == 2
        assert got.title in ("CEO", "CTO")
        assert outcomes[got.title] == got
        assert [h.actor for h in store.history(original.id)] == [None, got.title]


# -- processes (SQLite) ----------------------------------------------------------------------

KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import crmkit
    from crmkit import Contact

    store = crmkit.open_store(sys.argv[1])
    with store.unit_of_work() as uow:
        uow.contacts.add_many(
            Contact.create(first_name=f"Committed {i}", email=f"kept{i}@example.org")
            for i in range(50)
        )
    uow = store.unit_of_work(actor="doomed")
    uow.__enter__()
    uow.contacts.add_many(
        Contact.create(first_name=f"Doomed {i}", email=f"lost{i}@example.org")
        for i in range(3000)
    )
    for i in range(100):
        uow.contacts.add(Contact.create(first_name=f"Doomed single {i}"))
    print("MID-TRANSACTION", flush=True)
    time.sleep(120)
    """
)

HAMMER = textwrap.dedent(
    """
    import random, sys, time
    import crmkit
    from crmkit import ConcurrencyError, Contact

    url, tag, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = crmkit.open_store(url)
    added = updated = conflicts = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.unit_of_work(actor=tag) as uow:
            uow.contacts.add(Contact.create(first_name=f"{tag} {added}"))
        added += 1
        with store.unit_of_work(readonly=True) as uow:
            pool = [c.id for c in uow.contacts.iter(limit=10)]
        target = random.choice(pool)
        while True:
            with store.unit_of_work(readonly=True) as uow:
                current = uow.contacts.get(target)
            try:
                with store.unit_of_work(actor=tag) as uow:
                    uow.contacts.update(current.changed(title=f"{tag} {updated}"))
            except ConcurrencyError:
                conflicts += 1
                continue
            updated += 1
            break
    store.close()
    print(f"ADDED {added} UPDATED {updated} CONFLICTS {conflicts}", flush=True)
    """
)


def _sqlite_url(tmp_path: Path) -> str:
    return sqlite_urls(tmp_path)()


@pytest.mark.slow
def test_a_writer_killed_mid_transaction_leaves_only_committed_data(tmp_path):
    url = _sqlite_url(tmp_path)
    script = tmp_path / "killed_writer.py"
    script.write_text(KILLED_WRITER)
    process = subprocess.Popen(
        [sys.executable, str(script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "MID-TRANSACTION", (line, process.stderr.read())
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    with crmkit.open_store(url) as store:
        with store.unit_of_work(readonly=True) as uow:
            names = [c.first_name for c in uow.contacts.iter()]
            assert uow.contacts.find_by_email("lost1@example.org") == []
            assert len(uow.contacts.find_by_email("kept1@example.org")) == 1
        assert sorted(names) == sorted(f"Committed {i}" for i in range(50))
        with store.unit_of_work() as uow:  # the lock died with the writer
            uow.contacts.add(Contact.create(first_name="After the crash"))
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == 51


@pytest.mark.slow
def test_two_writer_processes_hammering_one_file_lose_nothing(tmp_path):
    url = _sqlite_url(tmp_path)
    with crmkit.open_store(url) as store, store.unit_of_work() as uow:
        uow.contacts.add(Contact.create(first_name="Seed"))
    script = tmp_path / "hammer.py"
    script.write_text(HAMMER)
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), url, tag, "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("left", "right")
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    elapsed = time.monotonic() - started
    for code, _, err in results:
        assert "database is locked" not in err, err
        assert code == 0, err
    added = [int(out.split()[1]) for _, out, _ in results]
    updated = [int(out.split()[3]) for _, out, _ in results]
    assert all(n > 0 for n in added), results
    with crmkit.open_store(url) as store:
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == 1 + sum(added)
            versions = sum(c.version - 1 for c in uow.contacts.iter())
        assert versions == sum(updated), (versions, results)
    assert elapsed < 60
