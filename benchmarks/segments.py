"""Segment benchmarks: ``python -m benchmarks segments [--n N] [--scale] [--postgres] [--smoke]``.

A typical segment of four conditions (a country list, a lifecycle stage, a relative date and
a tag), and the same without the tag, each measured against a baseline in the same run:

- SQLite ``count()`` and id-only ``find_ids()`` against the hand-written SQL on the same
  database and indexes (target: 1.3x), and against a full scan (``NOT INDEXED``): no
  generated query may be slower than scanning the table;
- in memory, `crmkit.segments.matcher` over a list of contacts against a hand-written list
  comprehension (target: 2x), and ``count()`` on the memory store;
- growth (``--scale``): the same at 10k, 100k and 1M contacts;
- ``--postgres`` (instead of SQLite and memory): the same on PostgreSQL, in a fresh
  ``crmkit_bench_<hex>`` schema loaded through `add_many`, analysed, and dropped afterwards.
  The DSN comes from CRMKIT_BENCH_POSTGRES_DSN or CRMKIT_TEST_POSTGRES_DSN; without one it
  prints "skipped: no PostgreSQL DSN" and succeeds. ``count()`` and ``find_ids()`` against the
  hand-written SQL on the same tables and indexes (target: 1.3x) and against a full scan (the
  same query with ``enable_indexscan`` and ``enable_bitmapscan`` off); with ``--scale``, how the
  cost per contact grows from 10k to 1M. ``--smoke`` runs it tiny when a DSN is set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.report import best_of, gc_policy, interleaved, print_table
from crmkit import Contact, FixedClock
from crmkit.conditions import BusinessCalendar
from crmkit.ids import IdGenerator
from crmkit.segments import matcher, parse
from crmkit.storage.memory import MemoryStore
from crmkit.storage.sqlite.store import SqliteStore
from crmkit.values.enums import LifecycleStage

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
COUNTRIES = ("DE", "AT", "CH", "FR", "IT", "ES", "NL", "GB", "US", "PL")
STAGES = tuple(LifecycleStage)
TAGS = ("vip", "newsletter", "partner", "trial")

CASES = (("4 conditions", True), ("3 conditions", False))
FOUR = 'country in ("DE", "AT", "CH") and lifecycle_stage = "customer"'
FOUR += ' and created_at within 180 days and has tag "vip"'
THREE = 'country in ("DE", "AT", "CH") and lifecycle_stage = "customer"'
THREE += " and created_at within 180 days"


def contacts(n: int, seed: int = 11) -> Iterator[Contact]:
    """Yield `n` contacts in id order, spread over two years, countries, stages and tags."""
    rnd = random.Random(seed)
    ids = IdGenerator()
    clock = FixedClock(NOW)
    for i in range(n):
        created = NOW - dt.timedelta(minutes=rnd.randrange(2 * 365 * 24 * 60))
        yield Contact(
            id=ids.next(clock),
            created_at=created,
            updated_at=created,
            first_name=f"First{i}",
            country=rnd.choice(COUNTRIES),
            lifecycle_stage=rnd.choice(STAGES),
            tags=frozenset(rnd.sample(TAGS, rnd.randint(0, 2))),
        )


def _start() -> dt.datetime:
    return BusinessCalendar().start_of_day(dt.date(2026, 6, 1) - dt.timedelta(days=180))


def _us(value: dt.datetime) -> int:
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def hand_written(with_tag: bool, indexed: bool = True) -> tuple[str, list[Any]]:
    """The SQL a person would write for the segment (on the same tables)."""
    table = "contacts" if indexed else "contacts NOT INDEXED"
    sql = (
        f"FROM {table} WHERE country IN (?, ?, ?) AND lifecycle_stage = ?"
        " AND created_at >= ? AND created_at < ? AND archived_at IS NULL"
    )
    params: list[Any] = ["DE", "AT", "CH", "customer", _us(_start()), _us(NOW) + 1]
    if with_tag:
        sql += " AND id IN (SELECT record_id FROM record_tags WHERE kind = ? AND tag = ?)"
        params += ["contact", "vip"]
    return sql, params


def bench_sqlite(folder: Path, n: int, repeat: int) -> list[list[object]]:
    store = SqliteStore(folder / f"seg{n}.db", clock=FixedClock(NOW))
    with store.unit_of_work(actor="bench") as uow:
        uow.contacts.add_many(contacts(n), batch_size=5000)
    raw = sqlite3.connect(store.path)
    rows: list[list[object]] = []
    for name, text, with_tag in (("4 conditions", FOUR, True), ("3 conditions", THREE, False)):
        segment = parse(text)
        sql, params = hand_written(with_tag)
        scan_sql, scan_params = hand_written(with_tag, indexed=False)
        with store.unit_of_work(readonly=True) as uow:
            expected = uow.contacts.count(segment)
            assert expected == raw.execute(f"SELECT count(*) {sql}", params).fetchone()[0]

            def crmkit_count(uow: Any = uow, segment: Any = segment) -> None:
                uow.contacts.count(segment)

            def crmkit_ids(uow: Any = uow, segment: Any = segment) -> None:
                list(uow.contacts.find_ids(segment))

            def crmkit_entities(uow: Any = uow, segment: Any = segment) -> None:
                list(uow.contacts.find(segment))

            measured = interleaved(
                {
                    "count: crmkit": crmkit_count,
                    "count: hand-written": lambda sql=sql, params=params: raw.execute(
                        f"SELECT count(*) {sql}", params
                    ).fetchone(),
                    "count: full scan": lambda sql=scan_sql, params=scan_params: raw.execute(
                        f"SELECT count(*) {sql}", params
                    ).fetchone(),
                    "ids: crmkit": crmkit_ids,
                    # Reported apart: the segment's cost plus building one Contact per member.
                    "ids: crmkit find() with entities": crmkit_entities,
                    "ids: hand-written": lambda sql=sql, params=params: raw.execute(
                        f"SELECT id {sql} ORDER BY id", params
                    ).fetchall(),
                },
                repeat,
            )
        base_count, base_ids = measured["count: hand-written"], measured["ids: hand-written"]
        for label, seconds in measured.items():
            base = base_ids if label.startswith("ids") else base_count
            rows.append([f"{name}, {label}", seconds * 1000, seconds / base, expected])
    raw.close()
    return rows


def bench_memory(n: int, repeat: int) -> list[list[object]]:
    people = list(contacts(n))
    store = MemoryStore(clock=FixedClock(NOW))
    with store.unit_of_work(actor="bench") as uow:
        uow.contacts.add_many(people, batch_size=5000)
    start = _start()
    countries = frozenset({"DE", "AT", "CH"})
    rows: list[list[object]] = []
    cases: list[tuple[str, str, Callable[[Contact], bool]]] = [
        (
            "4 conditions",
            FOUR,
            lambda c: (
                c.country in countries
                and c.lifecycle_stage == "customer"
                and start <= c.created_at <= NOW
                and "vip" in c.tags
            ),
        ),
        (
            "3 conditions",
            THREE,
            lambda c: (
                c.country in countries
                and c.lifecycle_stage == "customer"
                and start <= c.created_at <= NOW
            ),
        ),
    ]
    for name, text, by_hand in cases:
        test = matcher(parse(text), "contact", now=NOW)
        expected = sum(1 for c in people if by_hand(c))
        assert expected == sum(1 for c in people if test(c))
        compile_once = best_of(lambda text=text: matcher(parse(text), "contact", now=NOW), repeat)
        with store.unit_of_work(readonly=True) as uow:
            segment = parse(text)
            times = interleaved(
                {
                    "hand": lambda by_hand=by_hand: [c for c in people if by_hand(c)],
                    "compiled": lambda test=test: [c for c in people if test(c)],
                    "count": lambda uow=uow, segment=segment: uow.contacts.count(segment),
                    "find": lambda uow=uow, segment=segment: list(uow.contacts.find(segment)),
                    "columns": lambda uow=uow, segment=segment: uow.contacts.columns(
                        ["id"], segment
                    ),
                },
                repeat,
            )
            assert len(list(uow.contacts.find(segment))) == expected
        hand, compiled = times["hand"], times["compiled"]
        store_count, store_find, store_columns = times["count"], times["find"], times["columns"]
        rows.append([f"{name}, list comprehension", hand * 1000, 1.0, expected])
        rows.append([f"{name}, crmkit matcher", compiled * 1000, compiled / hand, expected])
        rows.append([f"{name}, parse + compile once", compile_once * 1000, compile_once / hand, ""])
        rows.append(
            [f"{name}, memory store count()", store_count * 1000, store_count / hand, expected]
        )
        rows.append(
            [f"{name}, memory store find()", store_find * 1000, store_find / hand, expected]
        )
        rows.append(
            [
                f"{name}, memory store columns(['id'])",
                store_columns * 1000,
                store_columns / hand,
                expected,
            ]
        )
    return rows


# -- PostgreSQL ----------------------------------------------------------------------------------


def hand_written_pg(with_tag: bool) -> tuple[str, list[Any]]:
    """The SQL a person would write for the segment on PostgreSQL (the same tables)."""
    sql = (
        "FROM contacts WHERE country IN (%s, %s, %s) AND lifecycle_stage = %s"
        " AND created_at >= %s AND created_at < %s AND archived_at IS NULL"
    )
    end = NOW + dt.timedelta(microseconds=1)
    params: list[Any] = ["DE", "AT", "CH", "customer", _start(), end]
    if with_tag:
        sql += " AND id IN (SELECT record_id FROM record_tags WHERE kind = %s AND tag = %s)"
        params += ["contact", "vip"]
    return sql, params


def _full_scan(raw: Any) -> None:
    """Open a transaction in which the planner may use no index: the full-scan baseline."""
    raw.execute("SET LOCAL enable_indexscan = off")  # index-only scans too
    raw.execute("SET LOCAL enable_bitmapscan = off")


def _fetch(connection: Any, query: str, params: list[Any]) -> Callable[[], object]:
    """Run a hand-written query on a bare connection and fetch every row."""
    return lambda: connection.execute(query, params).fetchall()


def _pg_load(schemas: Any, n: int) -> tuple[Any, Any, float]:
    """A fresh schema with `n` contacts added through crmkit, analysed; (store, raw, seconds)."""
    from crmkit.storage.postgres import PostgresStore

    schemas.made.append(f"crmkit_bench_{uuid.uuid4().hex[:12]}")
    store = PostgresStore(schemas.url(schemas.made[-1]), clock=FixedClock(NOW))
    try:

        def load() -> None:
            with store.unit_of_work(actor="bench") as uow:
                uow.contacts.add_many(contacts(n), batch_size=5000)

        seconds = best_of(load, 1)
        raw = schemas.connect(store.schema)
    except BaseException:
        store.close()
        raise
    raw.execute("ANALYZE contacts")
    raw.execute("ANALYZE record_tags")
    raw.commit()
    return store, raw, seconds


Timings = dict[str, dict[str, float]]
"""Seconds by case ("4 conditions") and label ("count: crmkit")."""
_LABELS = ("crmkit", "hand-written", "full scan")


def bench_postgres(schemas: Any, n: int, repeat: int) -> tuple[Timings, dict[str, int], float]:
    """Time each case on a fresh schema of `n` contacts: (timings, members by case, load s)."""
    store, raw, load = _pg_load(schemas, n)
    timings: Timings = {}
    members: dict[str, int] = {}
    try:
        scan = schemas.connect(store.schema)
        try:
            for name, with_tag in CASES:
                segment = parse(FOUR if with_tag else THREE)
                sql, params = hand_written_pg(with_tag)
                count_sql, ids_sql = f"SELECT count(*) {sql}", f"SELECT id {sql} ORDER BY id"
                _full_scan(scan)
                with store.unit_of_work(readonly=True) as uow:
                    members[name] = uow.contacts.count(segment)
                    ids = list(uow.contacts.find_ids(segment))
                    for connection in (raw, scan):
                        assert members[name] == connection.execute(count_sql, params).fetchone()[0]
                        assert ids == [row[0] for row in connection.execute(ids_sql, params)]
                    timings[name] = interleaved(
                        {
                            "count: crmkit": lambda uow=uow, s=segment: uow.contacts.count(s),
                            "count: hand-written": _fetch(raw, count_sql, params),
                            "count: full scan": _fetch(scan, count_sql, params),
                            "ids: crmkit": lambda uow=uow, s=segment: list(
                                uow.contacts.find_ids(s)
                            ),
                            "ids: hand-written": _fetch(raw, ids_sql, params),
                            "ids: full scan": _fetch(scan, ids_sql, params),
                        },
                        repeat,
                    )
                raw.rollback()
                scan.rollback()
        finally:
            scan.close()
    finally:
        raw.close()
        store.close()
    return timings, members, load


def _pg_rows(timings: Timings, members: dict[str, int]) -> list[list[object]]:
    rows: list[list[object]] = []
    for name, measured in timings.items():
        for what in ("count", "ids"):
            hand, scan = measured[f"{what}: hand-written"], measured[f"{what}: full scan"]
            for label in _LABELS:
                seconds = measured[f"{what}: {label}"]
                rows.append(
                    [
                        f"{name}, {what}: {label}",
                        seconds * 1000,
                        seconds / hand,
                        seconds / scan,
                        members[name],
                    ]
                )
    return rows


def _slower_than_scan(timings: Timings) -> str:
    """The generated queries more than 10% (beyond run-to-run noise) slower than a scan."""
    slower = [
        f"{name}, {what} ({measured[f'{what}: crmkit'] / measured[f'{what}: full scan']:.2f}x)"
        for name, measured in timings.items()
        for what in ("count", "ids")
        if measured[f"{what}: crmkit"] > 1.1 * measured[f"{what}: full scan"]
    ]
    return ", ".join(slower) or "none"


def _growth_rows(runs: list[tuple[int, Timings]]) -> list[list[object]]:
    first_n, first = runs[0]
    rows: list[list[object]] = []
    for name, _ in CASES:
        for what in ("count", "ids"):
            label = f"{what}: crmkit"
            base = first[name][label] / first_n
            for n, timings in runs:
                seconds = timings[name][label]
                rows.append(
                    [
                        f"{name}, {label}",
                        f"{n:,}",
                        seconds * 1000,
                        seconds / n * 1e9,
                        seconds / n / base,
                        seconds / timings[name][f"{what}: hand-written"],
                    ]
                )
    return rows


def run_postgres(sizes: list[int], repeat: int) -> int:
    """The PostgreSQL part: every size in its own schema, each dropped after use."""
    import psycopg

    from benchmarks.storage_postgres import Schemas, _dsn
    from crmkit.storage.open import redact_url

    dsn = _dsn()
    if dsn is None:
        print("skipped: no PostgreSQL DSN")
        return 0
    with psycopg.connect(dsn) as connection:
        version = connection.info.server_version
    print(
        f"PostgreSQL {version // 10000}.{version % 10000} at {redact_url(dsn)}; "
        f"psycopg {psycopg.__version__}; median of {repeat}, interleaved; {gc_policy()}; "
        f"now = {NOW.isoformat()}"
    )
    schemas = Schemas(dsn)
    runs: list[tuple[int, Timings]] = []
    header = ["case", "ms", "ratio to hand-written", "ratio to full scan", "members"]
    try:
        for n in sizes:
            try:
                timings, members, load = bench_postgres(schemas, n, repeat)
            finally:
                schemas.drop_all()
            title = f"PostgreSQL, {n:,} contacts (loaded by add_many at {n / load:,.0f}/s)"
            print_table(title, header, _pg_rows(timings, members))
            print(f"  crmkit > 1.1x the full scan: {_slower_than_scan(timings)}")
            runs.append((n, timings))
    finally:
        schemas.drop_all()
    if len(runs) > 1:
        print_table(
            "PostgreSQL growth: crmkit cost per contact as the table grows",
            ["case", "contacts", "ms", "ns/contact", "per contact ÷ smallest", "÷ hand-written"],
            _growth_rows(runs),
        )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks segments", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="contacts (default 100000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also 10k → 100k → 1M")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL instead of SQLite and memory"
    )
    args = parser.parse_args(argv)
    sizes = [2_000] if args.smoke else ([10_000, 100_000, 1_000_000] if args.scale else [args.n])
    repeat = 1 if args.smoke else args.repeat
    if args.postgres:
        return run_postgres(sizes, repeat)
    print(
        f"SQLite {sqlite3.sqlite_version}; median of {repeat}, interleaved; {gc_policy()}; "
        f"now = {NOW.isoformat()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            header = ["case", "ms", "ratio to hand-written", "members"]
            print_table(f"SQLite, {n:,} contacts", header, bench_sqlite(Path(tmp), n, repeat))
            print_table(f"in memory, {n:,} contacts", header, bench_memory(n, repeat))
    if args.smoke:  # the CI's `python -m benchmarks smoke`: PostgreSQL tiny, or skipped
        return run_postgres(sizes, repeat)
    return 0
