"""``crmkit sla``: every record's service-level clock under a policy, breaches first."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from crmkit.cli.files import read_definition
from crmkit.cli.output import print_rows, say
from crmkit.cli.store import open_existing, store_url
from crmkit.errors import ValidationError
from crmkit.values.temporal import parse_instant
from crmkit.work.sla import SlaPolicy, SlaState, first_touch_policy, sla_clocks, sla_summary

__all__ = ["sla"]


def _policy(path: Path | None, target: str) -> SlaPolicy:
    if path is None:
        return first_touch_policy(target)
    text = read_definition(path, "--policy")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValidationError.single("--policy", str(path), f"does not parse: {error}") from None
    return SlaPolicy.from_dict(data)


def sla(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="An SLA policy (.toml or .json); default: first touch"),
    ] = None,
    target: Annotated[
        str, typer.Option(help="The default first-touch policy's target, e.g. 4h, 2h30m")
    ] = "4h",
    at: Annotated[
        str | None, typer.Option(help="Evaluate at this instant (ISO 8601; default: now)")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List met clocks too")] = False,
    by: Annotated[
        str | None, typer.Option(help="Count per owner or team instead of listing clocks")
    ] = None,
    form: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
) -> None:
    """Show the service-level clocks of a policy: breached first, then by deadline.

    Without --policy: each lead's first outbound activity within 4 business hours of its
    creation (paused while nurturing), counted in the store's business calendar.

    With --by owner (or team), count the clocks per owner and state instead.

    Example: crmkit sla --at 2026-06-30T17:00:00Z --by owner; crmkit sla --policy p.toml --all
    """
    chosen = _policy(policy, target)
    now = None if at is None else parse_instant(at, "--at")
    with open_existing(store_url(db)) as store:
        clocks = sla_clocks(store, chosen, now=now)
    form = "json" if as_json else form
    if by is not None:
        summary = sla_summary(clocks, by)
        states = [state.value for state in SlaState]
        rows_by = [(key, *(counts[s] for s in states)) for key, counts in summary.items()]
        print_rows((by, *states), rows_by, form=form, title=f"SLA {chosen.name} by {by}")
        return
    counts = {state: sum(1 for c in clocks if c.state is state) for state in SlaState}
    shown = [c for c in clocks if show_all or c.state is not SlaState.MET]
    rank = {SlaState.BREACHED: 0, SlaState.WARNING: 1, SlaState.OK: 2, SlaState.PAUSED: 3,
            SlaState.MET: 4}  # fmt: skip
    shown.sort(key=lambda c: (rank[c.state], c.breaches_at or c.started_at))
    rows = [
        (
            c.record_id,
            c.owner,
            c.state,
            round(c.elapsed.total_seconds() / 3600, 2),
            c.started_at,
            c.stopped_at,
            c.breaches_at,
        )
        for c in shown
    ]
    columns = ("record", "owner", "state", "hours", "started", "stopped", "breaches at")
    if form != "table":
        print_rows(columns, rows, form=form)
        return
    print_rows(columns, rows, form=form, title=f"SLA {chosen.name} ({chosen.applies_to}s)")
    say(", ".join(f"{counts[s]} {s.value}" for s in SlaState))
