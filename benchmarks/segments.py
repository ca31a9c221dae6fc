"""Segment benchmarks: ``python -m benchmarks segments [--n 100000] [--scale] [--smoke]``.

A typical segment of four conditions (a country list, a lifecycle stage, a relative date and
a tag), and the same without the tag, each measured against a baseline in the same run:

- SQLite ``count()`` and id-only ``find_ids()`` against the hand-written SQL on the same
  database and indexes (target: 1.3x), and against a full scan (``NOT INDEXED``): no
  generated query may be slower than scanning the table;
- in memory, `crmkit.segments.matcher` over a list of contacts against a hand-written list
  comprehension (target: 2x), and ``count()`` on the memory store;
- growth (``--scale``): the same at 10k, 100k and 1M contacts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.report import best_of, print_table
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

            measured = {
                "count: crmkit": best_of(crmkit_count, repeat),
                "count: hand-written": best_of(
                    lambda sql=sql, params=params: raw.execute(
                        f"SELECT count(*) {sql}", params
                    ).fetchone(),
                    repeat,
                ),
                "count: full scan": best_of(
                    lambda sql=scan_sql, params=scan_params: raw.execute(
                        f"SELECT count(*) {sql}", params
                    ).fetchone(),
                    repeat,
                ),
                "ids: crmkit": best_of(crmkit_ids, repeat),
                "ids: hand-written": best_of(
                    lambda sql=sql, params=params: raw.execute(
                        f"SELECT id {sql} ORDER BY id", params
                    ).fetchall(),
                    repeat,
                ),
            }
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
        hand = best_of(lambda by_hand=by_hand: [c for c in people if by_hand(c)], repeat)
        compiled = best_of(lambda test=test: [c for c in people if test(c)], repeat)
        compile_once = best_of(lambda text=text: matcher(parse(text), "contact", now=NOW), repeat)
        with store.unit_of_work(readonly=True) as uow:
            segment = parse(text)
            store_count = best_of(
                lambda uow=uow, segment=segment: uow.contacts.count(segment), repeat
            )
        rows.append([f"{name}, list comprehension", hand * 1000, 1.0, expected])
        rows.append([f"{name}, crmkit matcher", compiled * 1000, compiled / hand, expected])
        rows.append([f"{name}, parse + compile once", compile_once * 1000, compile_once / hand, ""])
        rows.append(
            [f"{name}, memory store count()", store_count * 1000, store_count / hand, expected]
        )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks segments", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="contacts (default 100000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also 10k → 100k → 1M")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    args = parser.parse_args(argv)
    sizes = [2_000] if args.smoke else ([10_000, 100_000, 1_000_000] if args.scale else [args.n])
    repeat = 1 if args.smoke else args.repeat
    print(f"SQLite {sqlite3.sqlite_version}; median of {repeat}; now = {NOW.isoformat()}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            header = ["case", "ms", "ratio to hand-written", "members"]
            print_table(f"SQLite, {n:,} contacts", header, bench_sqlite(Path(tmp), n, repeat))
            print_table(f"in memory, {n:,} contacts", header, bench_memory(n, repeat))
    return 0
