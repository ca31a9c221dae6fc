"""Business-time arithmetic: ``python -m benchmarks work [--n N] [--smoke]``.

`crmkit.work.BusinessTime` (Europe/Berlin, Monday to Friday 08:30-12:00 and 13:00-17:30,
Bavarian public holidays) against a plain loop doing the same calendar walk: day by day, each
shift's wall-clock start and end made aware in the zone and converted to UTC, the holiday
looked up in a set, the overlap with the interval summed (target: crmkit within 2x). The plain
loop is what a careful engineer writes without DST special cases; the two agree on every
measured interval (asserted). Both are timed interleaved, GC on, on the same random
intervals from 2000 to 2040: working time between two instants up to a day, a week and a
quarter apart, and "4 business hours after". crmkit is measured warm (one `BusinessTime`
kept, as an SLA run keeps it) and cold (a new one per call: every day computed afresh).

SLA states (``--leads N``, default 20,000; 100k by hand): `sla_clocks` over a SQLite store of
N leads, 85 % with an outbound first touch and a few inbound activities each, against a
hand-written pass: one SQL query for the leads' creation times, one for each lead's first
outbound activity (``min(occurred_at) ... GROUP BY lead_id``), and the same `BusinessTime`
arithmetic and state rules in a loop (no entity is built). The policy has no pause, so
neither side reads history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from benchmarks.report import gc_policy, interleaved, print_table
from crmkit.conditions import BusinessCalendar
from crmkit.values.public_holidays import public_holidays
from crmkit.work import BusinessTime, SlaState, first_touch_policy, sla_clocks

ZONE = "Europe/Berlin"
SHIFTS = ((8 * 60 + 30, 12 * 60), (13 * 60, 17 * 60 + 30))
CALENDAR = BusinessCalendar(
    time_zone=ZONE,
    working_hours={
        key: ["08:30-12:00", "13:00-17:30"] for key in ("mon", "tue", "wed", "thu", "fri")
    },
    holiday_country="DE",
    holiday_subdivision="BY",
)
UTC = dt.UTC


class PlainLoop:
    """The hand-written walk: per local day, each shift made aware and clipped."""

    def __init__(self) -> None:
        self.zone = ZoneInfo(ZONE)
        self.closed = {
            day for year in range(1999, 2042) for day in public_holidays("DE", "BY", year)
        }

    def shifts(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's shifts in UTC: each end made aware in the zone and converted."""
        if day.weekday() >= 5 or day in self.closed:
            return []
        return [
            (
                dt.datetime(
                    day.year, day.month, day.day, begin // 60, begin % 60, tzinfo=self.zone
                ).astimezone(UTC),
                dt.datetime(
                    day.year, day.month, day.day, finish // 60, finish % 60, tzinfo=self.zone
                ).astimezone(UTC),
            )
            for begin, finish in SHIFTS
        ]

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        total = dt.timedelta(0)
        day = start.astimezone(self.zone).date() - dt.timedelta(days=1)
        last = end.astimezone(self.zone).date() + dt.timedelta(days=1)
        while day <= last:
            for low, high in self.shifts(day):
                low, high = max(low, start), min(high, end)
                if low < high:
                    total += high - low
            day += dt.timedelta(days=1)
        return total

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        remaining = duration
        day = start.astimezone(self.zone).date()
        while True:
            for low, high in self.shifts(day):
                low = max(low, start)
                if low >= high:
                    continue
                if remaining <= high - low:
                    return low + remaining
                remaining -= high - low
            day += dt.timedelta(days=1)


def _intervals(n: int, span: dt.timedelta, seed: int) -> list[tuple[dt.datetime, dt.datetime]]:
    rnd = random.Random(seed)
    base = dt.datetime(2000, 1, 1, tzinfo=UTC)
    found = []
    for _ in range(n):
        start = base + dt.timedelta(minutes=rnd.randrange(40 * 365 * 1440))
        minutes = rnd.randrange(int(span / dt.timedelta(minutes=1)))
        found.append((start, start + dt.timedelta(minutes=minutes)))
    return found


SLA = attrs.evolve(first_touch_policy("4h"), pause_field=None, pause_values=())
"""First touch within 4 business hours, without the pause (so no history is read)."""
NOW = dt.datetime(2026, 6, 30, 17, tzinfo=UTC)
CALENDAR_UTC = BusinessCalendar()  # the task store's calendar: "today" ends at UTC midnight


def _sla_store(folder: str, n: int) -> Any:
    import crmkit
    from crmkit import Activity, FixedClock, Lead

    rnd = random.Random(3)
    clock = FixedClock(NOW)
    store = crmkit.open_store(f"sqlite:///{folder}/sla.db", clock=clock)
    store_calendar = CALENDAR
    with store.unit_of_work() as uow:
        uow.set_business_calendar(store_calendar)
    for first in range(0, n, 10_000):
        leads, activities = [], []
        for i in range(first, min(n, first + 10_000)):
            created = NOW - dt.timedelta(minutes=rnd.randrange(120 * 1440))
            lead = Lead.create(last_name=f"L{i}", created_at=created, clock=clock)
            leads.append(lead)
            for direction in ("inbound", "inbound", "outbound"):
                if direction == "outbound" and rnd.random() < 0.15:
                    continue
                at = min(created + dt.timedelta(minutes=rnd.randrange(3000)), NOW)
                activities.append(
                    Activity.create(
                        kind="email",
                        direction=direction,
                        occurred_at=at,
                        lead_id=lead.id,
                        clock=clock,
                    )
                )
        with store.unit_of_work() as uow:
            uow.leads.add_many(leads)
            uow.activities.add_many(activities)
    return store


def _hand_written_sla(path: str, business: BusinessTime) -> list[tuple[Any, SlaState]]:
    import sqlite3
    import uuid

    raw = sqlite3.connect(path)
    try:
        leads = raw.execute(
            "SELECT id, created_at FROM leads WHERE archived_at IS NULL ORDER BY id"
        ).fetchall()
        touched = dict(
            raw.execute(
                "SELECT lead_id, min(occurred_at) FROM activities WHERE direction = 'outbound'"
                " AND archived_at IS NULL AND lead_id IS NOT NULL GROUP BY lead_id"
            ).fetchall()
        )
    finally:
        raw.close()
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    now_us = int((NOW - epoch) / dt.timedelta(microseconds=1))
    target, warn = SLA.target, SLA.target * SLA.warn_at
    found = []
    for key, created_us in leads:
        first = touched.get(key)
        if first is not None and created_us <= first <= now_us:
            stop = epoch + dt.timedelta(microseconds=first)
        else:
            stop = None
        start = epoch + dt.timedelta(microseconds=created_us)
        elapsed = business.between(start, NOW if stop is None else stop)
        if stop is not None:
            state = SlaState.MET if elapsed <= target else SlaState.BREACHED
        elif elapsed > target:
            state = SlaState.BREACHED
        else:
            state = SlaState.WARNING if elapsed >= warn else SlaState.OK
        found.append((uuid.UUID(bytes=key), state))
    return found


def bench_sla(n: int, repeat: int) -> list[list[object]]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        store = _sla_store(folder, n)
        try:
            business = BusinessTime(CALENDAR)
            mine = [(c.record_id, c.state) for c in sla_clocks(store, SLA, now=NOW)]
            assert mine == _hand_written_sla(f"{folder}/sla.db", business)
            times = interleaved(
                {
                    "hand-written (2 queries + loop)": lambda: _hand_written_sla(
                        f"{folder}/sla.db", business
                    ),
                    "crmkit sla_clocks": lambda: sla_clocks(store, SLA, now=NOW),
                },
                repeat,
            )
        finally:
            store.close()
    base = times["hand-written (2 queries + loop)"]
    return [
        [f"SLA states of {n:,} leads: {name}", seconds / n * 1e6, seconds / base]
        for name, seconds in times.items()
    ]


def bench_tasks(n: int, repeat: int) -> list[list[object]]:
    """`open_tasks`, `due_today` and `overdue` of one assignee among n tasks of 500 people,
    and everyone's reminders due in one hour, against the hand-written SQL on the same table
    (which the same indexes serve), rows fetched (SQLite)."""
    import sqlite3
    import tempfile

    import crmkit
    from crmkit import FixedClock, Task
    from crmkit.work import due_today, open_tasks, overdue, reminders_due

    rnd = random.Random(9)
    clock = FixedClock(NOW)
    people = [f"rep{i}" for i in range(500)]
    statuses = ["open"] * 6 + ["in_progress", "waiting", "done", "done", "cancelled"]
    with tempfile.TemporaryDirectory() as folder:
        store = crmkit.open_store(f"sqlite:///{folder}/tasks.db", clock=clock)
        try:
            for first in range(0, n, 20_000):
                batch = [
                    Task.create(
                        title=f"Follow up {i}",
                        due_at=NOW + dt.timedelta(minutes=rnd.randrange(-30 * 1440, 30 * 1440)),
                        status=rnd.choice(statuses),
                        assignee=rnd.choice(people),
                        reminders=[dt.timedelta(hours=1)] if i % 2 else (),
                        clock=clock,
                    )
                    for i in range(first, min(n, first + 20_000))
                ]
                with store.unit_of_work() as uow:
                    uow.tasks.add_many(batch)
            raw = sqlite3.connect(f"{folder}/tasks.db")
            epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)

            def us(at: dt.datetime) -> int:
                return int((at - epoch) / dt.timedelta(microseconds=1))

            tonight = CALENDAR_UTC.start_of_day(NOW.date() + dt.timedelta(days=1))
            base = (
                "SELECT * FROM tasks WHERE archived_at IS NULL AND status IN"
                " ('open', 'in_progress', 'waiting') AND assignee = ?"
            )
            hand = {
                "open": (base + " ORDER BY due_at IS NULL, due_at, id", ["rep7"]),
                "today": (base + " AND due_at < ? ORDER BY due_at, id", ["rep7", us(tonight)]),
                "overdue": (base + " AND due_at < ? ORDER BY due_at, id", ["rep7", us(NOW)]),
                "reminders in the next hour": (
                    "SELECT * FROM tasks WHERE archived_at IS NULL AND next_reminder_at >= ?"
                    " AND next_reminder_at < ? ORDER BY next_reminder_at, id",
                    [us(NOW), us(NOW + dt.timedelta(hours=1))],
                ),
            }
            rows: list[list[object]] = []
            with store.unit_of_work(readonly=True) as uow:
                mine = {
                    "open": lambda: open_tasks(uow, "rep7"),
                    "today": lambda: due_today(uow, "rep7", now=NOW),
                    "overdue": lambda: overdue(uow, "rep7", now=NOW),
                    "reminders in the next hour": lambda: reminders_due(
                        uow, NOW, NOW + dt.timedelta(hours=1)
                    ),
                }
                for name, (sql, params) in hand.items():
                    found = [t.id.bytes for t in mine[name]()]
                    assert found == [r[0] for r in raw.execute(sql, params).fetchall()], name
                    times = interleaved(
                        {
                            "hand-written SQL": lambda sql=sql, params=params: raw.execute(
                                sql, params
                            ).fetchall(),
                            "crmkit": mine[name],
                        },
                        repeat,
                    )
                    for label, seconds in times.items():
                        rows.append(
                            [f"{name} ({len(found):,} tasks): {label}",
                             seconds * 1000, seconds / times["hand-written SQL"]]
                        )  # fmt: skip
            raw.close()
        finally:
            store.close()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks work", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="intervals per case")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--leads", type=int, default=20_000, help="leads in the SLA case")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the task lists")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    n, repeat = (50, 1) if args.smoke else (args.n, args.repeat)
    plain, warm = PlainLoop(), BusinessTime(CALENDAR)
    four = dt.timedelta(hours=4)
    rows: list[list[object]] = []
    spans = {"a day": 1, "a week": 7, "a quarter": 91}
    for label, days in spans.items():
        span = dt.timedelta(days=days)
        pairs = _intervals(n, span, seed=int(span.days))
        for start, end in pairs:
            assert warm.between(start, end) == plain.between(start, end), (start, end)

        def run(between: Callable[[dt.datetime, dt.datetime], object], pairs=pairs) -> None:
            for start, end in pairs:
                between(start, end)

        times = interleaved(
            {
                "plain loop": lambda: run(plain.between),
                "crmkit, warm": lambda: run(warm.between),
                "crmkit, cold": lambda: run(lambda a, b: BusinessTime(CALENDAR).between(a, b)),
            },
            repeat,
        )
        base = times["plain loop"]
        for name, seconds in times.items():
            rows.append([f"between, up to {label}: {name}", seconds / n * 1e6, seconds / base])
    starts = [a for a, _ in _intervals(n, dt.timedelta(days=1), seed=4)]
    for start in starts:
        assert warm.add(start, four) == plain.add(start, four), start
    times = interleaved(
        {
            "plain loop": lambda: [plain.add(s, four) for s in starts],
            "crmkit, warm": lambda: [warm.add(s, four) for s in starts],
            "crmkit, cold": lambda: [BusinessTime(CALENDAR).add(s, four) for s in starts],
        },
        repeat,
    )
    for name, seconds in times.items():
        ratio = seconds / times["plain loop"]
        rows.append([f"4 business hours after: {name}", seconds / n * 1e6, ratio])
    print(
        f"{ZONE}, Bavarian holidays, {n} random intervals 2000-2040 per case;"
        f" median of {repeat}, interleaved; {gc_policy()}"
    )
    print_table("business time", ["case", "µs per call", "x plain loop"], rows)
    leads = 300 if args.smoke else args.leads
    print_table(
        "SLA states (SQLite)", ["case", "µs per lead", "x hand-written"], bench_sla(leads, repeat)
    )
    tasks = 1_000 if args.smoke else args.tasks
    print_table(
        f"task lists over {tasks:,} tasks (SQLite)",
        ["case", "ms", "x hand-written"],
        bench_tasks(tasks, repeat),
    )
    return 0
