"""``crmkit pipeline``: open deals by stage, with their value and weighted value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from crmkit.cli.files import read_definition
from crmkit.cli.output import print_rows, say
from crmkit.cli.store import open_existing, store_url
from crmkit.pipelines.pipeline import Pipeline

__all__ = ["pipeline"]


def _save(url: str, path: Path) -> None:
    """Store the pipeline defined in `path` and say which version it became."""
    text = read_definition(path, "--save")
    defined = Pipeline.from_toml(text) if path.suffix == ".toml" else Pipeline.from_json(text)
    with open_existing(url) as store, store.unit_of_work(actor="crmkit-cli") as uow:
        stored = uow.pipelines.save(defined)
    say(f"pipeline {defined.key!r} is stored at version {stored.version}")


def pipeline(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    form: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Save a pipeline definition (.toml or .json) to the store"),
    ] = None,
) -> None:
    """Show the open deals of the store's pipelines by stage: count, value, weighted value.

    The weighted value is the amount times the stage's (or the deal's own) probability.
    With --save FILE, store that pipeline definition instead (a new version when it changed).

    Example: crmkit pipeline --format csv; crmkit pipeline --save support.toml
    """
    if save is not None:
        _save(store_url(db), save)
        return
    totals: dict[tuple[str, str, str], list[Decimal]] = {}
    with open_existing(store_url(db)) as store, store.unit_of_work(readonly=True) as uow:
        pipelines = {p.key: p for p in uow.pipelines.all()}
        for deal in uow.deals.iter():
            known = pipelines.get(deal.pipeline)
            if known is None or deal.closed_at is not None:
                continue
            amount = deal.amount.amount if deal.amount else Decimal(0)
            key = (
                known.label,
                known.stage(deal.stage).label,
                deal.amount.currency if deal.amount else "",
            )
            line = totals.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
            line[0] += 1
            line[1] += amount
            line[2] += amount * Decimal(str(known.probability(deal)))
    order = {
        (p.label, s.label): i
        for i, (p, s) in enumerate((p, s) for p in pipelines.values() for s in p.stages)
    }
    rows = [
        (name, stage, currency, int(n), value, weighted.quantize(Decimal(1)))
        for (name, stage, currency), (n, value, weighted) in sorted(
            totals.items(), key=lambda item: (order[item[0][:2]], item[0][2])
        )
    ]
    form = "json" if as_json else form
    print_rows(("pipeline", "stage", "currency", "deals", "value", "weighted"), rows, form=form,
               title="Open deals by stage")  # fmt: skip
