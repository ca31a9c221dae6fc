"""Storage benchmarks: ``python -m benchmarks storage [--n 100000] [--scale] [--smoke]``.

Every figure is a ratio against a baseline measured in the same run, on the same machine:

- bulk add: `add_many` of contacts against a hand-written loader that serialises the same
  entities and writes the same tables and rows (record_ids, contacts, contact_emails,
  record_tags, history) with ``executemany`` in one transaction; also against inserting
  prepared tuples alone, and the end-to-end cost from text (validation included);
- iter: streaming every contact against the bare driver fetching the same rows as tuples;
- get_many of 1,000 ids, counting the queries it runs;
- scaling (``--scale``): cost per contact of `add_many` at 10k, 100k and 1M.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks.data import T0, contact_texts, contacts_from_text, stored_shape_contacts
from benchmarks.report import best_of, gc_policy, interleaved, print_table
from crmkit import Contact, FixedClock
from crmkit.storage.plain import custom_to_plain
from crmkit.storage.sql.dialect import compact_json
from crmkit.storage.sqlite.store import SqliteStore

_EPOCH_US = int(T0.timestamp() * 1_000_000)


def _fresh(folder: Path, name: str) -> SqliteStore:
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return SqliteStore(path, clock=FixedClock(T0))


def crmkit_add(store: SqliteStore, contacts: list[Contact]) -> None:
    with store.unit_of_work(actor="bench") as uow:
        uow.contacts.add_many(contacts, batch_size=5000)


def _us(value: object) -> int | None:
    if value is None:
        return None
    return int(value.timestamp() * 1_000_000)  # type: ignore[attr-defined]


def baseline_rows(contacts: list[Contact]) -> tuple[list[tuple[object, ...]], ...]:
    """Serialise by hand: the rows crmkit writes, without its generic machinery."""
    dumps = compact_json  # the C encoder built once: the fastest stdlib way, as crmkit uses
    ids, main, emails, tags, history = [], [], [], [], []
    now = _us(T0)
    for c in contacts:
        key = c.id.bytes
        main.append(
            (
                key,
                1,
                _us(c.created_at),
                _us(c.updated_at),
                None,
                None,
                dumps(custom_to_plain(c.custom)) if c.custom else None,
                c.first_name,
                c.last_name,
                dumps([[e.normalized, e.original] for e in c.emails]),
                dumps([p.e164 for p in c.phones]),
                None,
                None,
                None,
                None,
                None,
                None,
                dumps(sorted(c.tags)),
                c.lifecycle_stage.value,
                None,
                None,
            )
        )
        emails.extend((key, i, e.match_key) for i, e in enumerate(c.emails))
        tags.extend((key, "contact", t) for t in c.tags)
        history.append((key, "contact", 1, "added", "bench", now, None))
        ids.append((key, "contact"))
    return ids, main, emails, tags, history


# the positions of the JSON columns in `_MAIN_COLUMNS` (what PostgreSQL's driver parses)
_JSON_COLUMNS = (5, 6, 9, 10, 14, 17, 20)

_MAIN_COLUMNS = (
    "id, version, created_at, updated_at, archived_at, external_ids, custom, first_name,"
    " last_name, emails, phones, title, company_id, country, address, time_zone, owner, tags,"
    " lifecycle_stage, lead_source, consents"
)


def baseline_write(store: SqliteStore, rows: tuple[list[tuple[object, ...]], ...]) -> None:
    ids, main, emails, tags, history = rows
    connection = sqlite3.connect(store.path, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO record_ids (id, kind) VALUES (?, ?)", ids)
    connection.executemany(
        f"INSERT INTO contacts ({_MAIN_COLUMNS}) VALUES ({', '.join('?' * 21)})", main
    )
    connection.executemany(
        "INSERT INTO contact_emails (contact_id, position, match_key) VALUES (?, ?, ?)", emails
    )
    connection.executemany("INSERT INTO record_tags (record_id, kind, tag) VALUES (?, ?, ?)", tags)
    connection.executemany(
        "INSERT INTO history (entity_id, kind, version, action, actor, at, changes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        history,
    )
    connection.execute("COMMIT")
    connection.close()


def bench_bulk_add(folder: Path, n: int, repeat: int) -> list[list[object]]:
    texts = contact_texts(n)
    made: list[Contact] = []
    validate = best_of(lambda: made.extend(contacts_from_text(texts)), 1)
    contacts = made

    stores: dict[str, SqliteStore] = {}

    def reset(name: str) -> None:
        if name in stores:
            stores[name].close()  # its kept connections must not outlive its file
        stores[name] = _fresh(folder, name)

    prepared = baseline_rows(contacts)
    times = interleaved(
        {
            "crmkit": lambda: crmkit_add(stores["a"], contacts),
            "baseline": lambda: baseline_write(stores["b"], baseline_rows(contacts)),
            "prepared": lambda: baseline_write(stores["c"], prepared),
        },
        repeat,
        {
            "crmkit": lambda: reset("a"),
            "baseline": lambda: reset("b"),
            "prepared": lambda: reset("c"),
        },
    )
    t_crmkit, t_baseline, t_prepared = times["crmkit"], times["baseline"], times["prepared"]
    with stores["a"].unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == n, "crmkit stored the wrong number of contacts"
    for store in stores.values():
        store.close()
    per = 1e6 / n
    return [
        ["crmkit add_many", t_crmkit * per, n / t_crmkit, 1.0],
        [
            "baseline: serialise + executemany",
            t_baseline * per,
            n / t_baseline,
            t_crmkit / t_baseline,
        ],
        ["prepared tuples + executemany", t_prepared * per, n / t_prepared, t_crmkit / t_prepared],
        [
            "end to end from text",
            (validate + t_crmkit) * per,
            n / (validate + t_crmkit),
            (validate + t_crmkit) / t_baseline,
        ],
    ]


def bench_reads(folder: Path, n: int, repeat: int) -> list[list[object]]:
    store = _fresh(folder, "reads")
    crmkit_add(store, list(stored_shape_contacts(n)))

    def crmkit_iter() -> None:
        with store.unit_of_work(readonly=True) as uow:
            for _ in uow.contacts.iter(batch_size=1000):
                pass

    def bare_iter() -> None:
        connection = sqlite3.connect(store.path)
        for _ in connection.execute(f"SELECT {_MAIN_COLUMNS} FROM contacts ORDER BY id"):
            pass
        connection.close()

    def bare_decoding() -> None:
        connection = sqlite3.connect(store.path)
        loads = json.loads
        for row in connection.execute(f"SELECT {_MAIN_COLUMNS} FROM contacts ORDER BY id"):
            for i in _JSON_COLUMNS:
                if row[i] is not None:
                    loads(row[i])
        connection.close()

    times = interleaved(
        {"crmkit": crmkit_iter, "bare": bare_iter, "decoding": bare_decoding}, repeat
    )
    t_crmkit, t_bare, t_decoding = times["crmkit"], times["bare"], times["decoding"]

    with store.unit_of_work(readonly=True) as uow:
        ids = [c.id for c in uow.contacts.iter(limit=1000)]
    queries: list[str] = []
    with store.unit_of_work(readonly=True) as uow:
        connection = uow._live_backend()._raw  # type: ignore[attr-defined]
        connection.set_trace_callback(queries.append)
        found = uow.contacts.get_many(ids)
        connection.set_trace_callback(None)
    selects = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    assert selects, "no statement was traced"
    assert len(found) == len(ids)
    per = 1e6 / n
    return [
        ["crmkit iter", t_crmkit * per, t_crmkit / t_bare],
        ["bare driver, tuples (no decoding)", t_bare * per, 1.0],
        ["bare driver, JSON columns parsed", t_decoding * per, t_decoding / t_bare],
        [f"get_many({len(ids)}): SELECT statements", float(len(selects)), "-"],
    ]


def bench_scale(folder: Path, sizes: list[int]) -> list[list[object]]:
    rows: list[list[object]] = []
    first = None
    for n in sizes:
        store = _fresh(folder, f"scale{n}")
        contacts = stored_shape_contacts(n)

        def add(store: SqliteStore = store, contacts: Iterator[Contact] = contacts) -> None:
            with store.unit_of_work(actor="bench") as uow:
                uow.contacts.add_many(contacts, batch_size=5000)

        elapsed = best_of(add, 1)
        store.close()
        per_row = elapsed / n * 1e6
        first = first or per_row
        rows.append([f"{n:,}", per_row, per_row / first])
        Path(store.path).unlink()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks storage", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="contacts (default 100000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also 10k → 100k → 1M")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    args = parser.parse_args(argv)
    n = 500 if args.smoke else args.n
    repeat = 1 if args.smoke else args.repeat
    print(
        f"SQLite {sqlite3.sqlite_version}; {n:,} contacts; median of {repeat}, interleaved; "
        f"{gc_policy()} (PostgreSQL: python -m benchmarks storage_postgres)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Reads first: the bulk-add phase leaves a fragmented heap behind that slows every
        # later object-building loop (seen: iter 4.2x alone, 6.5x after the adds).
        print_table(
            "reads", ["path", "µs/contact", "ratio to bare"], bench_reads(folder, n, repeat)
        )
        print_table(
            "bulk add (ratio = this / baseline)",
            ["path", "µs/contact", "contacts/s", "crmkit ÷ this"],
            bench_bulk_add(folder, n, repeat),
        )
        if args.scale or args.smoke:
            sizes = [200, 2_000] if args.smoke else [10_000, 100_000, 1_000_000]
            print_table(
                "add_many cost per contact as the store grows",
                ["contacts", "µs/contact", "ratio to smallest"],
                bench_scale(folder, sizes),
            )
    return 0
