"""``crmkit info``: what a store holds, its schema version and its business calendar."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from crmkit.cli.output import print_rows
from crmkit.cli.store import open_existing, store_url
from crmkit.model.registry import KINDS

__all__ = ["info"]


def info(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Say what the store holds (live and archived records per kind), its schema and calendar.

    Example: crmkit info --db sqlite:///crm.db
    """
    url = store_url(db)
    with open_existing(url) as store:
        with store.unit_of_work(readonly=True) as uow:
            counts = {
                name: (
                    uow.repository(name).count(),
                    uow.repository(name).count(include_archived=True),
                )
                for name in KINDS
            }
            calendar = uow.business_calendar.to_dict()
            saved = [s.name for s in uow.segments.list()]
        version = getattr(store, "schema_version", None)
        events = len(store.events())
    if as_json:
        records = {k: {"live": live, "all": every} for k, (live, every) in counts.items()}
        data = {"store": url, "schema_version": version, "calendar": calendar}
        data.update(records=records, saved_segments=saved, events=events)
        print(json.dumps(data))
        return
    rows = [(KINDS[k].table, live, every - live) for k, (live, every) in counts.items()]
    print_rows(("records", "live", "archived"), rows, form="table", title=url)
    print(f"schema version: {version}; events in the outbox: {events}")
    print(f"business calendar: {calendar}")
    print(f"saved segments: {', '.join(saved) or 'none'}")
