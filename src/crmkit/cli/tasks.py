"""``crmkit tasks``: open follow-up tasks: everyone's or one person's, due today, overdue."""

from __future__ import annotations

from typing import Annotated

import typer

from crmkit.cli.output import print_rows
from crmkit.cli.store import open_existing, store_url
from crmkit.errors import ValidationError
from crmkit.values.temporal import parse_instant
from crmkit.work.tasks import due_today, open_tasks, overdue

__all__ = ["tasks"]

_LISTS = ("open", "today", "overdue")


def tasks(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this person's tasks")] = None,
    due: Annotated[str, typer.Option(help="open, today (due by tonight) or overdue")] = "open",
    at: Annotated[
        str | None, typer.Option(help="As of this instant (ISO 8601; default: now)")
    ] = None,
    form: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
) -> None:
    """List open follow-up tasks by due time: all, due today or overdue.

    "Today" ends at midnight in the assignee's stored calendar (else the store's).

    Example: crmkit tasks --assignee anna --due today --at 2026-07-01T09:00:00Z
    """
    if due not in _LISTS:
        raise ValidationError.single("--due", due, f"is not one of {', '.join(_LISTS)}")
    now = None if at is None else parse_instant(at, "--at")
    with open_existing(store_url(db)) as store, store.unit_of_work(readonly=True) as uow:
        if due == "open":
            found = open_tasks(uow, assignee)
        elif due == "today":
            found = due_today(uow, assignee, now=now)
        else:
            found = overdue(uow, assignee, now=now)
    rows = [(t.id, t.title, t.assignee, t.due_at, t.priority, t.status) for t in found]
    form = "json" if as_json else form
    title = f"{len(rows)} {due} tasks" + (f" of {assignee}" if assignee else "")
    print_rows(("task", "title", "assignee", "due", "priority", "status"), rows, form=form,
               title=title)  # fmt: skip
