"""Engagement scoring: crmkit's compiled model against a hand-written loop, in memory and SQLite.

``python -m benchmarks scoring [--smoke] [--n 100000] [--scale] [--contacts 1000000]``

In memory: ``--n`` contacts with 20 activities each (default model: 12 rules, 5 capped
groups, exponential / window decay, duration points and response bonuses). The floor is a
hand-written straight loop computing the same formula over the same Activity objects with
float timestamps (``a.occurred_at.timestamp()``), its rule table written out by hand. Also
shown: the same loop over pre-extracted tuples of floats (no attribute reads, no
``timestamp()`` call), the figure PERFORMANCE.md quotes. Activities are drawn from a pool of
distinct objects (each contact holds 20 references), so 2M activities fit in memory.

SQLite: ``score_engagement`` over a store, activities streamed per contact
(``uow.activities.grouped("contact_id")``), totals only and scores written back in batches;
10k contacts, and with ``--scale`` also ``--contacts`` (1M by default, 20M activities; the
file takes a while to build and a few GB of disk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import crmkit
from benchmarks.report import best_of, gc_paused, gc_policy, interleaved, print_table
from crmkit import Activity, Contact, FixedClock
from crmkit.ids import IdGenerator
from crmkit.scoring import default_engagement_model, score_engagement

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
PER_CONTACT = 20
PAIRS = (
    ("email", "sent"),
    ("email", "opened"),
    ("email", "opened"),
    ("email", "clicked"),
    ("email", "replied"),
    ("email", "bounced"),
    ("call", "connected"),
    ("call", "no_answer"),
    ("meeting", "held"),
    ("meeting", "no_show"),
    ("form", "submitted"),
    ("web_visit", "visited"),
    ("web_visit", "visited"),
    ("chat", "completed"),
    ("sms", "replied"),
)


def make_activities(
    n: int, seed: int, contact_ids: list[Any] | None = None, ids: IdGenerator | None = None
) -> list[Activity]:
    """Build `n` activities directly (no re-validation): the stored shape."""
    rnd = random.Random(seed)
    ids = ids or IdGenerator()
    clock = FixedClock(T0)
    out = []
    for i in range(n):
        kind, outcome = PAIRS[rnd.randrange(len(PAIRS))]
        timed = kind in ("call", "meeting")
        out.append(
            Activity(
                id=ids.next(clock),
                created_at=T0,
                updated_at=T0,
                kind=crmkit.ActivityKind(kind),
                outcome=crmkit.ActivityOutcome(outcome),
                occurred_at=T0 - dt.timedelta(seconds=rnd.randrange(400 * 86_400)),
                duration=dt.timedelta(minutes=rnd.randint(1, 90)) if timed else None,
                response_time=(
                    dt.timedelta(minutes=rnd.randint(5, 3_000)) if outcome == "replied" else None
                ),
                contact_id=contact_ids[i // PER_CONTACT] if contact_ids else ids.next(clock),
            )
        )
    return out


# -- the hand-written floor: the default model's formula, written out ------------------------

_LN2, _DAY = math.log(2.0), 86_400.0


def _k(half_life_days: float) -> float:
    return -_LN2 / (half_life_days * _DAY)


# (kind, outcome) -> (group, points, decay constant, window seconds)
# groups: 0 email, 1 negative, 2 calls, 3 meetings, 4 web, 5 conversations
_TABLE: dict[tuple[str, str | None], tuple[int, float, float, float]] = {
    ("email", "opened"): (0, 1.0, _k(30), 0.0),
    ("email", "clicked"): (0, 3.0, _k(30), 0.0),
    ("email", "replied"): (0, 8.0, _k(45), 0.0),
    ("email", "bounced"): (1, -10.0, 0.0, 0.0),
    ("call", "connected"): (2, 5.0, _k(45), 0.0),
    ("meeting", "held"): (3, 15.0, _k(60), 0.0),
    ("meeting", "no_show"): (1, -5.0, 0.0, 90 * _DAY),
    ("form", "submitted"): (4, 10.0, _k(60), 0.0),
    ("sms", "replied"): (5, 4.0, _k(30), 0.0),
}
for _outcome in (None, *crmkit.ActivityOutcome):
    _TABLE[("web_visit", _outcome)] = (4, 1.0, _k(14), 0.0)
    _TABLE[("chat", _outcome)] = (5, 3.0, _k(30), 0.0)
    _TABLE.setdefault(("email", _outcome), (-1, 0.0, 0.0, 0.0))
for _kind in crmkit.ActivityKind:
    _TABLE[(_kind, "unsubscribed")] = (1, -25.0, 0.0, 0.0)
_CAPS = (25.0, math.inf, 30.0, 40.0, 20.0, 15.0)


def straight_loop(activities: list[Activity], now: float) -> float:
    """The default model's formula, hand-written over Activity objects with float times."""
    sums = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    table, exp = _TABLE, math.exp
    for a in activities:
        rule = table.get((a.kind, a.outcome))
        if rule is None:
            continue
        group, points, k, window = rule
        if group < 0:
            continue
        age = now - a.occurred_at.timestamp()
        if age < 0.0:
            continue
        kind = a.kind
        if kind == "call" or kind == "meeting":
            d = a.duration
            if d is not None and points > 0:
                if kind == "call":
                    points += min(d.total_seconds() * (0.5 / 60.0), 10.0)
                else:
                    points += min(d.total_seconds() * (0.1 / 60.0), 5.0)
        elif a.outcome == "replied":
            r = a.response_time
            if r is not None:
                s = r.total_seconds()
                if kind == "email":
                    points += 4.0 if s <= 4 * 3600.0 else 2.0 if s <= 24 * 3600.0 else 0.0
                elif s <= 3600.0:
                    points += 2.0
        if k:
            points *= exp(k * age)
        elif window and age > window:
            continue
        sums[group] += points
    raw = 0.0
    for value, cap in zip(sums, _CAPS, strict=True):
        raw += value if value < cap else cap
    return 0.0 if raw <= 0.0 else (raw if raw < 100.0 else 100.0)


def float_tuples(activities: list[Activity]) -> list[tuple[Any, ...]]:
    return [
        (
            a.kind,
            a.outcome,
            a.occurred_at.timestamp(),
            a.duration.total_seconds() if a.duration else None,
            a.response_time.total_seconds() if a.response_time else None,
        )
        for a in activities
    ]


def tuple_loop(rows: list[tuple[Any, ...]], now: float) -> float:
    """The same formula over pre-extracted tuples of floats (no objects, no timestamp())."""
    sums = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    table, exp = _TABLE, math.exp
    for kind, outcome, ts, duration, response in rows:
        rule = table.get((kind, outcome))
        if rule is None:
            continue
        group, points, k, window = rule
        if group < 0:
            continue
        age = now - ts
        if age < 0.0:
            continue
        if duration is not None and points > 0:
            if kind == "call":
                points += min(duration * (0.5 / 60.0), 10.0)
            elif kind == "meeting":
                points += min(duration * (0.1 / 60.0), 5.0)
        elif response is not None and outcome == "replied":
            if kind == "email":
                points += 4.0 if response <= 14_400.0 else 2.0 if response <= 86_400.0 else 0.0
            elif response <= 3600.0:
                points += 2.0
        if k:
            points *= exp(k * age)
        elif window and age > window:
            continue
        sums[group] += points
    raw = 0.0
    for value, cap in zip(sums, _CAPS, strict=True):
        raw += value if value < cap else cap
    return 0.0 if raw <= 0.0 else (raw if raw < 100.0 else 100.0)


def bench_memory(n: int, repeat: int) -> list[list[object]]:
    model = default_engagement_model()
    pool = make_activities(min(n * PER_CONTACT, 200_000), seed=3)
    rnd = random.Random(4)
    contacts = [rnd.sample(pool, PER_CONTACT) for _ in range(n)]
    now = T0.timestamp()
    # the same answers first: the floor computes the same formula
    for group in contacts[:2_000]:
        a, b = straight_loop(group, now), model.value_at(group, now)
        assert abs(a - b) < 1e-9, (a, b)
    rows_of_floats = [float_tuples(group) for group in contacts]

    def run(fn: Callable[[Any, float], float], data: list[Any]) -> Callable[[], object]:
        return lambda: [fn(group, now) for group in data]

    def explained(group: list[Activity], _now: float) -> float:
        return model.score(group, T0).value

    times = interleaved(
        {
            "hand-written loop over Activity (floor)": run(straight_loop, contacts),
            "crmkit totals: EngagementModel.value_at": run(model.value_at, contacts),
            "crmkit with breakdown: EngagementModel.score": run(explained, contacts),
            "hand-written loop over float tuples (info)": run(tuple_loop, rows_of_floats),
        },
        repeat,
    )
    floor = times["hand-written loop over Activity (floor)"]
    return [[name, t / n * 1e6, n / t, t / floor] for name, t in times.items()]


def build_store(path: Path, n: int) -> None:
    """Write `n` contacts with 20 activities each, a chunk at a time."""
    ids = IdGenerator()
    clock = FixedClock(T0)
    chunk = 10_000
    with crmkit.open_store(f"sqlite:///{path}", clock=clock) as store:
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            people = [
                Contact(
                    id=ids.next(clock),
                    created_at=T0,
                    updated_at=T0,
                    first_name=f"P{start + i}",
                )
                for i in range(size)
            ]
            activities = make_activities(
                size * PER_CONTACT, seed=start, contact_ids=[p.id for p in people], ids=ids
            )
            with gc_paused(), store.unit_of_work(actor="bench") as uow:
                uow.contacts.add_many(people, batch_size=5_000)
                uow.activities.add_many(activities, batch_size=5_000)


def bench_sqlite(folder: Path, sizes: list[int]) -> list[list[object]]:
    model = default_engagement_model()
    rows: list[list[object]] = []
    base: float | None = None
    for n in sizes:
        path = folder / f"scoring-{n}.db"
        started = time.perf_counter()
        build_store(path, n)
        built = time.perf_counter() - started
        counted: list[int] = []
        results: list[Any] = []
        with crmkit.open_store(f"sqlite:///{path}") as store:

            def stream(store: Any = store, counted: list[int] = counted) -> None:
                with store.unit_of_work(readonly=True) as uow:
                    grouped = uow.activities.grouped("contact_id", batch_size=2_000)
                    counted.append(sum(1 for _ in grouped))

            def score(store: Any = store, results: list[Any] = results) -> None:
                results.append(
                    score_engagement(store, model, as_of=T0, explain=False, batch_size=2_000)
                )

            read = best_of(stream, 1)
            scored = best_of(score, 1)
        streamed, result = counted[0], results[0]
        assert result.scored == n
        assert streamed == n
        per = scored / n * 1e6
        base = base or per
        rows.append([f"{n:,}", f"{built:,.0f} s", read / n * 1e6, per, n / scored, per / base])
        path.unlink()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks scoring", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="contacts in memory (100000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also SQLite at --contacts")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the --scale size")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    args = parser.parse_args(argv)
    n = 300 if args.smoke else args.n
    repeat = 1 if args.smoke else args.repeat
    print(
        f"engagement scoring; {n:,} contacts x {PER_CONTACT} activities; "
        f"median of {repeat}, interleaved; {gc_policy()}"
    )
    print_table(
        "in memory (ratio = this / hand-written loop over the same Activity objects)",
        ["path", "µs/contact", "contacts/s", "ratio"],
        bench_memory(n, repeat),
    )
    sizes = [200] if args.smoke else [10_000]
    if args.scale and not args.smoke:
        sizes.append(args.contacts)
    print(f"\nSQLite {sqlite3.sqlite_version}: score_engagement(explain=False), batches of 2,000")
    with tempfile.TemporaryDirectory() as tmp:
        print_table(
            "streamed from SQLite, scores written back (ratio = µs/contact / smallest size's)",
            ["contacts", "build", "stream only µs", "score+write µs", "contacts/s", "ratio"],
            bench_sqlite(Path(tmp), sizes),
        )
    return 0
