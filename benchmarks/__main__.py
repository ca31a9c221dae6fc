"""Run a benchmark by name: ``python -m benchmarks storage``; ``smoke`` runs each one tiny.

``--gc off`` times with the garbage collector off (it is on by default, as in a user's
program); ``--gc both`` runs the benchmark twice, on and then off.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks.report import set_gc_policy

_HELPERS = {"report", "data", "related_data"}
BENCHMARKS = tuple(
    sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name not in _HELPERS and not m.name.startswith("_")
    )
)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS), "| smoke")
        return 0
    name, rest = argv[0], argv[1:]
    policies = ["on"]
    if "--gc" in rest:
        at = rest.index("--gc")
        choice = rest[at + 1] if at + 1 < len(rest) else ""
        if choice not in ("on", "off", "both"):
            print("--gc takes on, off or both", file=sys.stderr)
            return 2
        policies = ["on", "off"] if choice == "both" else [choice]
        del rest[at : at + 2]
    for policy in policies:
        set_gc_policy(policy == "on")
        if len(policies) > 1:
            print(f"\n===== garbage collector {policy} =====")
        code = _run(name, rest)
        if code:
            return code
    return 0


def _run(name: str, rest: list[str]) -> int:
    if name == "smoke":
        for bench in BENCHMARKS:
            print(f"== {bench} (smoke)")
            code = importlib.import_module(f"benchmarks.{bench}").main(["--smoke", *rest])
            if code:
                return int(code)
        return 0
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    return int(importlib.import_module(f"benchmarks.{name}").main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
