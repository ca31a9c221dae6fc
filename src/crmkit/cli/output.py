"""How the command line prints: tables on a terminal, CSV or JSON for scripts, one-line errors."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["console", "fail", "plain", "print_rows", "progress_bar", "say"]

console = Console()


def plain(value: Any) -> Any:
    """Return a value as JSON-ready data (ids and decimals as text, instants in ISO form)."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def say(text: str) -> None:
    """Print a paragraph (Rich markup allowed), wrapped only by the terminal."""
    console.print(text, soft_wrap=True)


def fail(message: str, hint: str | None = None) -> None:
    """Print a one-line error (and what to do) on stderr and exit with code 1."""
    text = f"crmkit: error: {message}"
    if hint:
        text += f"\n  {hint}"
    sys.stderr.write(text + "\n")  # never wrapped: scripts grep it
    raise SystemExit(1)


def print_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, form: str, title: str | None = None
) -> None:
    """Print rows as a table (``table``), CSV (``csv``) or a JSON list of objects (``json``)."""
    if form == "json":
        print(json.dumps([dict(zip(columns, map(plain, r), strict=True)) for r in rows]))
        return
    if form == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in r] for r in rows])
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    console.print(table)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(_text(v) for v in value)
    value = plain(value)
    return value if isinstance(value, str) else str(value)


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``(step, done, total)`` callback that draws bars on a terminal, else nothing."""
    if not enabled or not console.is_terminal:
        yield lambda step, done, total: None
        return
    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed:>7,}/{task.total:<7,}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=max(total, 1))
            bars.update(tasks[step], completed=done, total=max(total, done, 1))

        yield update
