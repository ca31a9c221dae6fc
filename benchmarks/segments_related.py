"""Related-record segments: ``python -m benchmarks segments_related [--n N] [--postgres]``.

Segments that reach into related records (activities, deals, orders, the company, scores), each
alone and beside a selective condition on the contact's own columns, on the data of
`benchmarks.related_data` (per 100 contacts: 1,000 activities, 25 deals, 50 orders, 5
companies). Each is timed, interleaved, against every hand-written query a person might write
for it (the correlated form that starts from the selective condition, the uncorrelated
``IN`` / ``GROUP BY`` form, a join), and the ratio is to the fastest of them: the target is
1.3x. A full scan is timed too (SQLite: the contacts table ``NOT INDEXED``; PostgreSQL: the
uncorrelated form with index and bitmap scans off): no generated query may be slower. On
PostgreSQL every connection runs with ``jit = off``, as crmkit's own do: JIT compilation,
started by the planner's over-estimate of correlated probes, would add 100-150 ms to the
hand-written correlated forms.

SQLite by default, in a temporary file; ``--postgres`` on a fresh ``crmkit_bench_<hex>`` schema
(analysed, dropped afterwards; the DSN from CRMKIT_BENCH_POSTGRES_DSN or
CRMKIT_TEST_POSTGRES_DSN, "skipped" without one). Loading goes through `add_many`: 100k
contacts take about three minutes on SQLite and fifteen on PostgreSQL on a small machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.related_data import NOW, load
from benchmarks.report import gc_policy, interleaved, print_table
from crmkit import FixedClock
from crmkit.conditions import BusinessCalendar
from crmkit.segments import parse

OWN = 'country = "DE" and created_at within 60 days'
"""The selective plain condition (about 1 contact in 120)."""
OWN_SQL = "c.country = ? AND c.created_at >= ? AND c.created_at < ?"
ACTIVITIES = 'at least 2 activities where (kind = "email" and occurred_at within 30 days)'
ACTIVITIES_SQL = "a.kind = ? AND a.occurred_at >= ? AND a.occurred_at < ? AND a.archived_at IS NULL"
DEALS = 'at least 1 deals where stage = "closed_won"'
DEALS_SQL = "d.pipeline = ? AND d.stage = ? AND d.archived_at IS NULL"
ORDERS = "at least 3 orders where placed_at within 365 days"
ORDERS_SQL = "o.placed_at >= ? AND o.placed_at < ? AND o.archived_at IS NULL"
COMPANY = 'company.industry = "software"'
COMPANY_SQL = "co.industry = ? AND co.archived_at IS NULL"
SCORE = "score.engagement >= 90"
SCORE_SQL = "s.scorer = ? AND s.value >= ?"

Query = tuple[str, list[Any]]
"""A hand-written count query in SQLite's spelling (``?``) and its parameters."""


def _day(days: int) -> dt.datetime:
    return BusinessCalendar().start_of_day(NOW.date() - dt.timedelta(days=days))


def _end() -> dt.datetime:
    return NOW + dt.timedelta(microseconds=1)


class Hand:
    """The hand-written forms of each condition, with parameters encoded for a dialect."""

    def __init__(self, encode_time: Callable[[dt.datetime], Any], link_first: str) -> None:
        self.link_first = link_first
        t = encode_time
        self.own = ["DE", t(_day(60)), t(_end())]
        self.activities = ["email", t(_day(30)), t(_end())]
        self.deals = ["sales", "closed_won"]
        self.orders = [t(_day(365)), t(_end())]
        self.company = ["software"]
        self.score = ["engagement", 90]

    def correlated(self, name: str) -> Query:
        """The condition as a probe of the current contact ``c``."""
        if name == "activities":
            return (
                "(SELECT count(*) FROM activities a WHERE a.contact_id = c.id AND "
                f"{ACTIVITIES_SQL}) >= 2",
                self.activities,
            )
        if name == "deals":
            return (
                f"EXISTS (SELECT 1 FROM deal_contacts dc {self.link_first} deals d"
                f" ON d.id = dc.deal_id WHERE dc.contact_id = c.id AND {DEALS_SQL})",
                self.deals,
            )
        if name == "orders":
            return (
                f"(SELECT count(*) FROM orders o WHERE o.contact_id = c.id AND {ORDERS_SQL}) >= 3",
                self.orders,
            )
        if name == "company":
            return (
                f"EXISTS (SELECT 1 FROM companies co WHERE co.id = c.company_id AND {COMPANY_SQL})",
                self.company,
            )
        return (
            f"EXISTS (SELECT 1 FROM scores s WHERE s.record_id = c.id AND {SCORE_SQL})",
            self.score,
        )

    def uncorrelated(self, name: str) -> Query:
        """The condition as one sub-query over the related table (``IN``)."""
        if name == "activities":
            return (
                f"c.id IN (SELECT a.contact_id FROM activities a WHERE {ACTIVITIES_SQL}"
                " GROUP BY a.contact_id HAVING count(*) >= 2)",
                self.activities,
            )
        if name == "deals":
            return (
                "c.id IN (SELECT dc.contact_id FROM deal_contacts dc JOIN deals d"
                f" ON d.id = dc.deal_id WHERE {DEALS_SQL})",
                self.deals,
            )
        if name == "orders":
            return (
                f"c.id IN (SELECT o.contact_id FROM orders o WHERE {ORDERS_SQL}"
                " GROUP BY o.contact_id HAVING count(*) >= 3)",
                self.orders,
            )
        if name == "company":
            return (
                f"c.company_id IN (SELECT co.id FROM companies co WHERE {COMPANY_SQL})",
                self.company,
            )
        return (f"c.id IN (SELECT s.record_id FROM scores s WHERE {SCORE_SQL})", self.score)

    def forms(self, names: tuple[str, ...], own: bool) -> dict[str, Query]:
        """Every hand-written count query for the conditions `names` (and the own condition)."""
        first: list[Query] = [(OWN_SQL, self.own)] if own else []
        forms: dict[str, Query] = {}
        for label, shape in (("correlated", self.correlated), ("IN", self.uncorrelated)):
            parts = first + [shape(name) for name in names]
            forms[label] = _count("contacts c", parts)
        if names == ("company",) or names[-1:] == ("company",):
            # Starting from the companies: a join, the other conditions as probes.
            parts = first + [self.correlated(name) for name in names if name != "company"]
            forms["join"] = _count(
                "companies co JOIN contacts c ON c.company_id = co.id",
                [(COMPANY_SQL, self.company), *parts],
            )
        return forms

    def full_scan(self, names: tuple[str, ...], own: bool) -> Query:
        """The contacts scanned row by row, each condition probed (SQLite's full scan)."""
        first: list[Query] = [(OWN_SQL, self.own)] if own else []
        return _count("contacts c NOT INDEXED", first + [self.correlated(n) for n in names])


def _count(source: str, parts: list[Query]) -> Query:
    where = " AND ".join(["c.archived_at IS NULL", *(sql for sql, _ in parts)])
    return f"SELECT count(*) FROM {source} WHERE {where}", [p for _, ps in parts for p in ps]


CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("activities", ("activities",)),
    ("deals", ("deals",)),
    ("orders", ("orders",)),
    ("company", ("company",)),
    ("score", ("score",)),
    ("activities + company", ("activities", "company")),
)
TEXTS = {
    "activities": ACTIVITIES,
    "deals": DEALS,
    "orders": ORDERS,
    "company": COMPANY,
    "score": SCORE,
}


def segment_text(names: tuple[str, ...], own: bool) -> str:
    """The segment of a case, as a user writes it."""
    return " and ".join(([OWN] if own else []) + [TEXTS[name] for name in names])


def _time_case(
    crmkit_count: Callable[[], int],
    run: Callable[[Query], Callable[[], int]],
    forms: dict[str, Query],
    scan: Callable[[], int],
    repeat: int,
) -> tuple[dict[str, float], int]:
    expected = crmkit_count()
    for label, query in forms.items():
        got = run(query)()
        assert got == expected, (label, got, expected)
    assert scan() == expected
    timings = interleaved(
        {
            "crmkit": crmkit_count,
            **{f"hand-written, {label}": run(query) for label, query in forms.items()},
            "full scan": scan,
        },
        repeat,
    )
    return timings, expected


def _rows(name: str, timings: dict[str, float], members: int) -> list[list[object]]:
    best = min(v for k, v in timings.items() if k.startswith("hand-written"))
    scan = timings["full scan"]
    return [
        [f"{name}: {label}", seconds * 1000, seconds / best, seconds / scan, members]
        for label, seconds in timings.items()
    ]


HEADER = ["case", "ms", "ratio to best hand-written", "ratio to full scan", "members"]


def _summary(results: list[tuple[str, dict[str, float]]]) -> None:
    worst = max(
        (t["crmkit"] / min(v for k, v in t.items() if k.startswith("hand")), name)
        for name, t in results
    )
    slower = [name for name, t in results if t["crmkit"] > 1.1 * t["full scan"]]
    print(f"  worst crmkit / best hand-written: {worst[0]:.2f}x ({worst[1]})")
    print(f"  crmkit > 1.1x the full scan: {', '.join(slower) or 'none'}")


def bench_sqlite(folder: Path, n: int, repeat: int) -> None:
    from crmkit.storage.sqlite.store import SqliteStore

    store = SqliteStore(folder / f"related{n}.db", clock=FixedClock(NOW))
    load(store, n)
    raw = sqlite3.connect(store.path)
    # Without CROSS JOIN SQLite walks every won deal for each contact (no statistics).
    hand = Hand(store.dialect.encoders["timestamp"], "CROSS JOIN")

    def run(query: Query) -> Callable[[], int]:
        return lambda: int(raw.execute(*query).fetchone()[0])

    rows: list[list[object]] = []
    results: list[tuple[str, dict[str, float]]] = []
    with store.unit_of_work(readonly=True) as uow:
        for own in (False, True):
            for name, names in CASES:
                label = f"{'own + ' if own else ''}{name}"
                segment = parse(segment_text(names, own))
                timings, members = _time_case(
                    lambda segment=segment: uow.contacts.count(segment),
                    run,
                    hand.forms(names, own),
                    run(hand.full_scan(names, own)),
                    repeat,
                )
                rows += _rows(label, timings, members)
                results.append((label, timings))
    raw.close()
    store.close()
    print_table(f"SQLite, {n:,} contacts", HEADER, rows)
    _summary(results)


def bench_postgres(n: int, repeat: int) -> int:
    import psycopg

    from benchmarks.storage_postgres import Schemas, _dsn
    from crmkit.storage.postgres import PostgresStore

    dsn = _dsn()
    if dsn is None:
        print("skipped: no PostgreSQL DSN")
        return 0
    schemas = Schemas(dsn)
    schemas.made.append(f"crmkit_bench_{uuid.uuid4().hex[:12]}")
    try:
        store = PostgresStore(schemas.url(schemas.made[-1]), clock=FixedClock(NOW))
        try:
            load(store, n)
            raw = schemas.connect(store.schema)
            raw.execute("ANALYZE")
            raw.execute("SET jit = off")  # as on crmkit's connections (PostgresStore._configure)
            raw.commit()
            scan = schemas.connect(store.schema)
            scan.execute("SET jit = off")
            hand = Hand(lambda value: value, "JOIN")

            def run(query: Query, connection: Any = raw) -> Callable[[], int]:
                sql = query[0].replace("?", "%s")
                return lambda: int(connection.execute(sql, query[1]).fetchone()[0])

            rows: list[list[object]] = []
            results: list[tuple[str, dict[str, float]]] = []
            with psycopg.connect(dsn) as info:
                version = info.info.server_version
            print(f"PostgreSQL {version // 10000}.{version % 10000}")
            with store.unit_of_work(readonly=True) as uow:
                for own in (False, True):
                    for name, names in CASES:
                        label = f"{'own + ' if own else ''}{name}"
                        segment = parse(segment_text(names, own))
                        scan.execute("SET enable_indexscan = off")
                        scan.execute("SET enable_bitmapscan = off")
                        timings, members = _time_case(
                            lambda segment=segment: uow.contacts.count(segment),
                            run,
                            hand.forms(names, own),
                            run(hand.forms(names, own)["IN"], scan),
                            repeat,
                        )
                        rows += _rows(label, timings, members)
                        results.append((label, timings))
            raw.close()
            scan.close()
        finally:
            store.close()
    finally:
        schemas.drop_all()
    print_table(f"PostgreSQL, {n:,} contacts", HEADER, rows)
    _summary(results)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks segments_related", description=__doc__
    )
    parser.add_argument("--n", type=int, default=100_000, help="contacts (default 100000)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    n = 1_000 if args.smoke else args.n
    repeat = 1 if args.smoke else args.repeat
    print(f"median of {repeat}, interleaved; {gc_policy()}; now = {NOW.isoformat()}")
    if args.postgres:
        return bench_postgres(n, repeat)
    print(f"SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_sqlite(Path(tmp), n, repeat)
    if args.smoke:
        return bench_postgres(n, repeat)
    return 0
