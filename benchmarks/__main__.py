"""Run a benchmark by name: ``python -m benchmarks storage``; ``smoke`` runs each one tiny."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

_HELPERS = {"report", "data"}
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
