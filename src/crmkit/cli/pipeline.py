"""``crmkit pipeline``: open deals by stage, with their value and weighted value."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from crmkit.cli.output import print_rows
from crmkit.cli.store import open_existing, store_url

__all__ = ["pipeline"]


def pipeline(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    form: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
) -> None:
    """Show the open deals of the store's pipelines by stage: count, value, weighted value.

    The weighted value is the amount times the stage's (or the deal's own) probability.

    Example: crmkit pipeline --format csv
    """
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
