"""``crmkit tasks``: follow-up tasks: open, due today, overdue, reminders due, one record's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from crmkit.cli.output import print_rows
from crmkit.cli.records import find_record, parse_record_id
from crmkit.cli.store import open_existing, store_url
from crmkit.errors import ValidationError
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.task import Task
from crmkit.values.temporal import parse_instant
from crmkit.work.call_status import contact_call_status, deal_call_status
from crmkit.work.tasks import due_today, open_tasks, overdue, reminders_due, tasks_for

__all__ = ["tasks"]

_LISTS = ("open", "today", "overdue", "reminders")
_COLUMNS = ("task", "title", "assignee", "due", "priority", "status")


def tasks(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this person's tasks")] = None,
    due: Annotated[
        str, typer.Option(help="open, today (due by tonight), overdue or reminders")
    ] = "open",
    at: Annotated[
        str | None, typer.Option(help="As of this instant (ISO 8601; default: now)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="With --due reminders: from this instant (default: a day before --at)"),
    ] = None,
    record: Annotated[
        str | None,
        typer.Option(help="Only the open tasks of this contact, company, deal or lead (id)"),
    ] = None,
    form: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
) -> None:
    """List open follow-up tasks by due time: all, due today, overdue, or reminders due.

    "Today" ends at midnight in the assignee's stored calendar (else the store's).
    "reminders" lists the tasks whose next reminder falls between --since and --at.
    --record lists one record's open tasks, with its call status for a contact or deal.

    Example: crmkit tasks --assignee anna --due today --at 2026-07-01T09:00:00Z
    """
    if due not in _LISTS:
        raise ValidationError.single("--due", due, f"is not one of {', '.join(_LISTS)}")
    now = None if at is None else parse_instant(at, "--at")
    start = None if since is None else parse_instant(since, "--since")
    target = None if record is None else parse_record_id(record)
    form = "json" if as_json else form
    with open_existing(store_url(db)) as store:
        about = None if target is None else find_record(store, target)
        with store.unit_of_work(readonly=True) as uow:
            if about is not None:
                found = tasks_for(uow, about)
                title = f"{len(found)} open tasks of {about.KIND} {about.id}"
                if isinstance(about, Deal):
                    title += f" (call status: {deal_call_status(uow, about, now=now)})"
                elif isinstance(about, Contact):
                    title += f" (call status: {contact_call_status(uow, about, now=now)})"
                _print(found, title, form)
                return
            if due == "reminders":
                end = uow.clock.now() if now is None else now
                begin = end - dt.timedelta(days=1) if start is None else start
                found = reminders_due(uow, begin, end, assignee)
                rows = [
                    (t.id, t.title, t.assignee, t.next_reminder_at, t.due_at, t.priority)
                    for t in found
                ]
                title = f"{len(rows)} reminders due" + (f" for {assignee}" if assignee else "")
                columns = ("task", "title", "assignee", "remind at", "due", "priority")
                print_rows(columns, rows, form=form, title=title)
                return
            if due == "open":
                found = open_tasks(uow, assignee)
            elif due == "today":
                found = due_today(uow, assignee, now=now)
            else:
                found = overdue(uow, assignee, now=now)
    _print(found, f"{len(found)} {due} tasks" + (f" of {assignee}" if assignee else ""), form)


def _print(found: list[Task], title: str, form: str) -> None:
    rows = [(t.id, t.title, t.assignee, t.due_at, t.priority, t.status) for t in found]
    print_rows(_COLUMNS, rows, form=form, title=title)
