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
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable
from zoneinfo import ZoneInfo

from benchmarks.report import gc_policy, interleaved, print_table
from crmkit.conditions import BusinessCalendar
from crmkit.values.public_holidays import public_holidays
from crmkit.work import BusinessTime

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

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        total = dt.timedelta(0)
        day = start.astimezone(self.zone).date() - dt.timedelta(days=1)
        last = end.astimezone(self.zone).date() + dt.timedelta(days=1)
        while day <= last:
            if day.weekday() < 5 and day not in self.closed:
                for begin, finish in SHIFTS:
                    low = dt.datetime(
                        day.year, day.month, day.day, begin // 60, begin % 60, tzinfo=self.zone
                    ).astimezone(UTC)
                    high = dt.datetime(
                        day.year, day.month, day.day, finish // 60, finish % 60, tzinfo=self.zone
                    ).astimezone(UTC)
                    low, high = max(low, start), min(high, end)
                    if low < high:
                        total += high - low
            day += dt.timedelta(days=1)
        return total

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        remaining = duration
        day = start.astimezone(self.zone).date()
        while True:
            if day.weekday() < 5 and day not in self.closed:
                for begin, finish in SHIFTS:
                    low = dt.datetime(
                        day.year, day.month, day.day, begin // 60, begin % 60, tzinfo=self.zone
                    ).astimezone(UTC)
                    high = dt.datetime(
                        day.year, day.month, day.day, finish // 60, finish % 60, tzinfo=self.zone
                    ).astimezone(UTC)
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks work", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="intervals per case")
    parser.add_argument("--repeat", type=int, default=5)
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
    return 0
