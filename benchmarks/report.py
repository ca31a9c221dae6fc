"""Timing and table printing shared by every benchmark: medians of repeats, interleaved.

The garbage collector is on while timing, as it is in a user's program (`set_gc_policy`
turns it off for a run: ``python -m benchmarks NAME --gc off``, or ``--gc both``). A
comparison times its cases in rounds (`interleaved`): every round runs each case once, in
turn, so drift in a shared machine's load touches all of them alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

_GC_ON = True


def set_gc_policy(on: bool) -> None:
    """Time with the cyclic garbage collector on (the default, as users run) or off."""
    global _GC_ON
    _GC_ON = on


def gc_policy() -> str:
    """Say how timings are taken: ``"GC on"`` or ``"GC off"``."""
    return "GC on" if _GC_ON else "GC off"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collect once, then keep the cyclic GC off while measuring (fixes the GC policy)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _gc_as_set() -> Iterator[None]:
    """Collect once, then time with the collector as `set_gc_policy` says."""
    if not _GC_ON:
        with gc_paused():
            yield
        return
    gc.collect()
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def _time_once(fn: Callable[[], object], setup: Callable[[], object] | None) -> float:
    if setup is not None:
        setup()
    with _gc_as_set():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start


def best_of(
    fn: Callable[[], object], repeat: int = 3, setup: Callable[[], object] | None = None
) -> float:
    """Return the median wall time in seconds of `repeat` runs of `fn` (after `setup` each time).

    For one measurement alone; a comparison of cases uses `interleaved`.
    """
    return statistics.median(_time_once(fn, setup) for _ in range(repeat))


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    repeat: int = 3,
    setups: Mapping[str, Callable[[], object]] | None = None,
) -> dict[str, float]:
    """Return the median wall time in seconds of each case, timed in alternating rounds.

    Each of `repeat` rounds runs every case once, in the order given (after its setup, if
    `setups` has one), so the cases share the machine's good and bad moments.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            times[name].append(_time_once(fn, (setups or {}).get(name)))
    return {name: statistics.median(values) for name, values in times.items()}


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain aligned table."""
    cells = [list(map(str, header))] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.rjust(w) if j else c.ljust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 1000 else f"{value:,.0f}"
    return str(value)
