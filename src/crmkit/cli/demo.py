"""``crmkit demo``: build a sample CRM and tell the whole story in one report."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

import crmkit
from crmkit.cli.output import console, progress_bar, say
from crmkit.cli.store import store_url
from crmkit.clock import FixedClock
from crmkit.demo.sample import NOW, SIZES
from crmkit.demo.story import DemoReport, run_demo

__all__ = ["demo"]


def demo(
    db: Annotated[
        str | None, typer.Option(help="Store URL (default: sqlite:///crmkit-demo.db)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same report")] = 7,
    size: Annotated[str, typer.Option(help="small, medium or large")] = "medium",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Build a sample CRM and show what crmkit does with it, in under a minute.

    Companies, contacts, leads, deals in two pipelines and a year of activities and orders
    are generated from the seed; then leads are qualified and converted, engagement and fit
    scored, win probabilities learned and measured, open deals ranked, segments and RFM
    groups sized. A SQLite file that exists is replaced.

    Example: crmkit demo --size small --seed 42
    """
    if size not in SIZES:
        raise crmkit.ValidationError.single("size", size, f"is not one of {', '.join(SIZES)}")
    url = store_url(db)
    _replace_sqlite_file(url)
    with crmkit.open_store(url, clock=FixedClock(NOW)) as store:
        with store.unit_of_work(readonly=True) as uow:
            if uow.contacts.count(include_archived=True) or uow.companies.count():
                raise crmkit.StoreOpenError(f"{url} already holds records: name an empty store")
        with progress_bar(not as_json) as progress:
            report = run_demo(store, seed=seed, size=size, progress=progress)
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    render(report, url)


def _replace_sqlite_file(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sqlite":
        return
    raw = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    for suffix in ("", "-wal", "-shm"):
        Path(raw + suffix).unlink(missing_ok=True)


def _money(value: object) -> str:
    return f"{float(str(value)):,.0f}"


def render(report: DemoReport, url: str) -> None:
    """Print the demo's report: what was built, the pipeline, priorities, model, segments."""
    s = report.stored
    say(
        f"[bold]crmkit demo[/] (seed {report.seed}, {report.size}, as of "
        f"{report.as_of:%Y-%m-%d %H:%M} UTC) → {url}\n"
        f"Built {s.companies:,} companies, {s.contacts:,} contacts, {s.leads:,} leads, "
        f"{s.deals:,} deals, {s.activities:,} activities and {s.orders:,} orders."
    )
    leads = report.leads
    say(
        f"Leads: {leads['qualified']} qualified by BANT and {leads['converted']} converted "
        f"(contact, company and deal each), {leads['nurture']} to nurture, "
        f"{leads['disqualified']} disqualified. Scored engagement and fit of "
        f"{report.scored['engagement']:,} contacts.\n"
    )
    routed = ", ".join(f"{owner} {count}" for owner, _rule, count in report.assigned)
    say(f"Assigned the new leads by rule (round robin, weighted, least loaded): {routed}.")
    touch = report.first_touch
    say(
        f"First touch of new leads within 4 business hours (Mon-Fri 09:00-17:00 UTC): "
        f"{touch['met']} met, {touch['breached']} breached ({touch['never touched']} never "
        f"touched), {touch['ok'] + touch['warning'] + touch['paused']} still running."
    )
    calls = ", ".join(f"{owner} {count}" for owner, count in report.follow_ups.items())
    say(
        f"Follow-ups: a high-priority first call, due in 4 business hours, for each open lead "
        f"never touched: {sum(report.follow_ups.values())} ({calls}), each with a reminder "
        f"an hour before; {report.reminders_due} reminders fall due in the next 24 hours.\n"
    )
    table = Table(title="Open pipeline (EUR)", title_justify="left", header_style="bold")
    for name, justify in [("pipeline", "left"), ("stage", "left"), ("deals", "right"),
                          ("value", "right"), ("weighted", "right")]:  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in report.pipeline:
        table.add_row(
            line.pipeline, line.stage, str(line.deals), _money(line.value), _money(line.weighted)
        )
    console.print(table)
    top = Table(title="Ten highest-priority open deals", title_justify="left", header_style="bold")
    for name in ("deal", "stage", "EUR", "win", "priority", "call status", "why"):
        top.add_column(name)
    for deal in report.top_deals:
        top.add_row(
            deal.name,
            deal.stage,
            _money(deal.amount),
            f"{deal.probability:.0%}",
            f"{deal.priority} ({deal.score:.0f})",
            deal.call_status.replace("_", " "),
            ", ".join(deal.why[:2]),
        )
    console.print(top)
    calls = ", ".join(
        f"{count} {status.replace('_', ' ')}" for status, count in report.call_statuses.items()
    )
    say(
        f"Weekly check-ins (recurring tasks, a reminder an hour before) set for the "
        f"{report.check_ins} of them whose call status said a follow-up was needed. "
        f"Call status of the open deals now: {calls}.\n"
    )
    if report.model is None:
        say("Win probability: too few closed deals to learn from.\n")
    else:
        m = report.model
        say(
            f"Win probability, measured on {m.held_out} closed deals it did not learn from "
            f"({m.won} won): ROC AUC {m.roc_auc:.2f}, Brier {m.brier:.3f} against "
            f"{m.base_rate_brier:.3f} for always predicting the overall win rate.\n"
            f"  → {m.verdict}\n"
        )
    segs = Table(title="Segments (contacts)", title_justify="left", header_style="bold")
    segs.add_column("segment")
    segs.add_column("members", justify="right")
    segs.add_column("as written")
    for name, text, count in report.segments:
        segs.add_row(name, f"{count:,}", text)
    console.print(segs)
    groups = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in report.rfm_groups)
    say(f"RFM groups of customers (EUR orders): {groups}.\n")
    say(
        "Next: crmkit segment 'score.engagement >= 20' --list, crmkit pipeline, "
        f"crmkit rfm, crmkit sla --at {report.as_of:%Y-%m-%dT%H:%M}Z, crmkit info "
        "(each takes --db and --help)."
    )
