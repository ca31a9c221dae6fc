"""One record read, changed and written, as a web request does: ``python -m benchmarks requests``.

Each request is a unit of work of its own: get one contact by id, change its title, update it
(version checked, history entry written), commit. It is measured against a hand-written path
doing the same work with the same durability on a connection kept open:

- SQLite (WAL, ``synchronous = NORMAL``, foreign keys on, as crmkit opens it): ``BEGIN
  IMMEDIATE``; select the row; ``UPDATE ... WHERE id = ? AND version = ?``; insert the history
  entry; ``COMMIT`` (target: crmkit within 1.5x);
- PostgreSQL (needs CRMKIT_BENCH_POSTGRES_DSN or CRMKIT_TEST_POSTGRES_DSN): the same
  statements in one transaction (target: within 1.3x).

crmkit and the baseline alternate in rounds of `--chunk` requests on the same records, with
the garbage collector on (as a server runs), and the figure is the sum over rounds, so drift
in the machine's load touches both alike. A second SQLite line measures crmkit while another
connection holds the file open (an app with a background job), which SQLite treats
differently when the last connection closes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.data import T0
from benchmarks.report import print_table
from benchmarks.storage_postgres import Schemas, _dsn
from crmkit import Contact, FixedClock

_SELECT = (
    "SELECT id, version, created_at, updated_at, archived_at, external_ids, custom, first_name,"
    " last_name, emails, phones, title, company_id, country, address, time_zone, owner, tags,"
    " lifecycle_stage, lead_source, consents FROM contacts WHERE id = {p}"
)
_UPDATE = (
    "UPDATE contacts SET title = {p}, updated_at = {p}, version = {p}"
    " WHERE id = {p} AND version = {p}"
)
_HISTORY = (
    "INSERT INTO history (entity_id, kind, version, action, actor, at, changes)"
    " VALUES ({p}, 'contact', {p}, 'updated', 'web', {p}, {p})"
)


def _people(n: int) -> list[Contact]:
    clock = FixedClock(T0)
    return [
        Contact.create(
            first_name=f"First{i}",
            last_name=f"Last{i}",
            emails=[f"person{i}@example.com"],
            phones=[f"+4930{1000000 + i:07d}"],
            tags=["vip"] if i % 3 else ["trial", "b2b"],
            clock=clock,
        )
        for i in range(n)
    ]


def crmkit_requests(store: Any, ids: list[uuid.UUID], start: int) -> None:
    """Each request: get, change the title, update: its own unit of work."""
    for i, ident in enumerate(ids, start):
        with store.unit_of_work(actor="web") as uow:
            contact = uow.contacts.get(ident)
            uow.contacts.update(contact.changed(title=f"Title {i}"))


def _changes(old: object, new: str) -> str:
    return json.dumps([["title", old, new]], separators=(",", ":"), ensure_ascii=False)


def sqlite_requests(connection: sqlite3.Connection) -> Callable[[list[uuid.UUID], int], None]:
    select, update, history = (s.format(p="?") for s in (_SELECT, _UPDATE, _HISTORY))
    execute = connection.execute

    def run(ids: list[uuid.UUID], start: int) -> None:
        for i, ident in enumerate(ids, start):
            key = ident.bytes
            execute("BEGIN IMMEDIATE")
            row = execute(select, (key,)).fetchone()
            version, title, new = row[1], row[11], f"Title {i}"
            now = int(time.time() * 1_000_000)
            if execute(update, (new, now, version + 1, key, version)).rowcount != 1:
                raise RuntimeError("the baseline lost an update")
            execute(history, (key, version + 1, now, _changes(title, new)))
            execute("COMMIT")

    return run


def postgres_requests(connection: Any) -> Callable[[list[uuid.UUID], int], None]:
    import datetime as dt

    select, update, history = (s.format(p="%s") for s in (_SELECT, _UPDATE, _HISTORY))

    def run(ids: list[uuid.UUID], start: int) -> None:
        with connection.cursor() as cursor:
            for i, ident in enumerate(ids, start):
                row = cursor.execute(select, (ident,)).fetchone()
                version, title, new = row[1], row[11], f"Title {i}"
                now = dt.datetime.now(dt.UTC)
                cursor.execute(update, (new, now, version + 1, ident, version))
                if cursor.rowcount != 1:
                    raise RuntimeError("the baseline lost an update")
                cursor.execute(history, (ident, version + 1, now, _changes(title, new)))
                connection.commit()

    return run


def alternate(
    paths: dict[str, Callable[[list[uuid.UUID], int], None]],
    ids: list[uuid.UUID],
    n: int,
    chunk: int,
) -> dict[str, float]:
    """Run `n` requests on each path in alternating rounds; return µs per request."""
    totals = dict.fromkeys(paths, 0.0)
    done = 0
    while done < n:
        size = min(chunk, n - done)
        batch = [ids[(done + k) % len(ids)] for k in range(size)]
        for name, path in paths.items():
            started = time.perf_counter()
            path(batch, done)
            totals[name] += time.perf_counter() - started
        done += size
    return {name: total / n * 1e6 for name, total in totals.items()}


def bench_sqlite(folder: Path, n: int, chunk: int, records: int) -> list[list[object]]:
    from crmkit.storage.sqlite.store import SqliteStore

    people = _people(records)
    stores = {}
    for name in ("crmkit", "crmkit_shared", "baseline"):
        stores[name] = SqliteStore(folder / f"{name}.db", clock=FixedClock(T0))
        with stores[name].unit_of_work(actor="setup") as uow:
            uow.contacts.add_many(people)
    ids = [c.id for c in people]
    hand = sqlite3.connect(stores["baseline"].path, isolation_level=None)
    hand.execute("PRAGMA foreign_keys = ON")
    hand.execute("PRAGMA synchronous = NORMAL")
    other = sqlite3.connect(stores["crmkit_shared"].path)  # another user of the file
    other.execute("SELECT count(*) FROM contacts").fetchone()
    try:
        per = alternate(
            {
                "crmkit": lambda batch, start: crmkit_requests(stores["crmkit"], batch, start),
                "crmkit_shared": lambda batch, start: crmkit_requests(
                    stores["crmkit_shared"], batch, start
                ),
                "baseline": sqlite_requests(hand),
            },
            ids,
            n,
            chunk,
        )
        for name in ("crmkit", "crmkit_shared"):
            with stores[name].unit_of_work(readonly=True) as uow:
                got = uow.contacts.get(ids[(n - 1) % len(ids)])
            assert got.title == f"Title {n - 1}", "crmkit did not write the last request"
    finally:
        hand.close()
        other.close()
        for store in stores.values():
            store.close()
    base = per["baseline"]
    return [
        ["crmkit (the only user of the file)", per["crmkit"], per["crmkit"] / base],
        ["crmkit (another connection open)", per["crmkit_shared"], per["crmkit_shared"] / base],
        ["hand-written, one open connection", base, 1.0],
    ]


def bench_postgres(dsn: str, n: int, chunk: int, records: int) -> list[list[object]]:
    import psycopg
    from psycopg import sql

    schemas = Schemas(dsn)
    people = _people(records)
    ids = [c.id for c in people]
    stores = {name: schemas.store() for name in ("crmkit", "baseline")}
    try:
        for store in stores.values():
            with store.unit_of_work(actor="setup") as uow:
                uow.contacts.add_many(people)
        hand = psycopg.connect(dsn)
        hand.execute(
            sql.SQL("SET search_path TO {}").format(sql.Identifier(stores["baseline"].schema))
        )
        hand.execute("SET TIME ZONE 'UTC'")
        hand.commit()
        try:
            per = alternate(
                {
                    "crmkit": lambda batch, start: crmkit_requests(stores["crmkit"], batch, start),
                    "baseline": postgres_requests(hand),
                },
                ids,
                n,
                chunk,
            )
        finally:
            hand.close()
    finally:
        for store in stores.values():
            store.close()
        schemas.drop_all()
    base = per["baseline"]
    return [
        ["crmkit", per["crmkit"], per["crmkit"] / base],
        ["hand-written, one open connection", base, 1.0],
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks requests", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="requests per path (2000)")
    parser.add_argument("--chunk", type=int, default=100, help="requests per round (100)")
    parser.add_argument("--records", type=int, default=1000, help="contacts in the store")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    args = parser.parse_args(argv)
    n, chunk, records = (40, 10, 20) if args.smoke else (args.n, args.chunk, args.records)
    print(f"{n:,} requests per path over {records:,} contacts; rounds of {chunk}; GC on")
    with tempfile.TemporaryDirectory() as folder:
        print_table(
            "SQLite: get + changed + update, one unit of work each (target: within 1.5x)",
            ["path", "µs/request", "ratio to hand-written"],
            bench_sqlite(Path(folder), n, chunk, records),
        )
    dsn = _dsn()
    if dsn is None:
        print("\nPostgreSQL: skipped (no DSN)")
        return 0
    print_table(
        "PostgreSQL: get + changed + update, one unit of work each (target: within 1.3x)",
        ["path", "µs/request", "ratio to hand-written"],
        bench_postgres(dsn, n, chunk, records),
    )
    return 0
