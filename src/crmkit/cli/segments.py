"""``crmkit segment`` and ``crmkit rfm``: who is in a segment, and customers by RFM group."""

from __future__ import annotations

from typing import Annotated

import typer

import crmkit
from crmkit.cli.output import print_rows
from crmkit.cli.store import open_existing, store_url
from crmkit.segments import parse, rfm, rfm_groups

__all__ = ["rfm_command", "segment"]

DbOption = Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")]
FormatOption = Annotated[str, typer.Option("--format", help="table, csv or json")]


def _check_format(form: str) -> None:
    if form not in ("table", "csv", "json"):
        raise crmkit.ValidationError.single("format", form, "is not table, csv or json")


def segment(
    text: Annotated[str, typer.Argument(help="A segment, e.g. 'country = \"DE\"'")],
    kind: Annotated[str, typer.Option(help="The kind of record it selects")] = "contact",
    list_members: Annotated[bool, typer.Option("--list", help="List the members")] = False,
    columns: Annotated[
        str | None, typer.Option(help="Columns to list, comma-separated (implies --list)")
    ] = None,
    limit: Annotated[int, typer.Option(help="List at most this many")] = 50,
    form: FormatOption = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
    db: DbOption = None,
) -> None:
    """Count the records in a segment, or list them with chosen columns.

    Example: crmkit segment 'country = "DE" and score.engagement >= 20' --list
    """
    form = "json" if as_json else form
    _check_format(form)
    condition = parse(text)
    with open_existing(store_url(db)) as store, store.unit_of_work(readonly=True) as uow:
        repository = uow.repository(kind)
        count = repository.count(condition)
        if not (list_members or columns):
            if form == "json":
                print(f'{{"kind": "{kind}", "count": {count}}}')
            else:
                print(count)
            return
        names = [c.strip() for c in (columns or _default_columns(kind)).split(",") if c.strip()]
        fetched = repository.columns(["id", *names], condition)
    rows = list(zip(*(fetched[n] for n in ["id", *names]), strict=True))[:limit]
    title = f"{count:,} {kind} record(s) in the segment" + (
        f", first {limit}" if count > limit else ""
    )
    print_rows(["id", *names], rows, form=form, title=title)


def _default_columns(kind: str) -> str:
    return {
        "contact": "first_name,last_name,title,country",
        "company": "name,domain,country,employees",
        "deal": "name,pipeline,stage,amount",
        "lead": "first_name,last_name,company_name,status",
    }.get(kind, "created_at")


def rfm_command(
    currency: Annotated[str, typer.Option(help="The currency of the orders counted")] = "EUR",
    by: Annotated[str, typer.Option(help="contact or company")] = "contact",
    group: Annotated[str | None, typer.Option(help="List the members of one group")] = None,
    form: FormatOption = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json")] = False,
    db: DbOption = None,
) -> None:
    """Score customers by recency, frequency and money, and count them per RFM group.

    Example: crmkit rfm --currency EUR --group at_risk
    """
    form = "json" if as_json else form
    _check_format(form)
    with open_existing(store_url(db)) as store, store.unit_of_work(readonly=True) as uow:
        scores = rfm(uow, currency=currency, by=by)
    if group is not None:
        picked = [s for s in scores if s.group.value == group]
        if not picked and group not in {g.value for g in rfm_groups([])}:
            raise crmkit.ValidationError.single("group", group, "is not an RFM group")
        rows = [(s.record_id, s.recency_days, s.frequency, s.monetary, s.code) for s in picked]
        print_rows(("id", "recency_days", "frequency", "monetary", "rfm"), rows, form=form)
        return
    groups = rfm_groups(scores)
    rows2 = [(g.value, len(ids)) for g, ids in groups.items()]
    print_rows(("group", "customers"), rows2, form=form, title=f"{len(scores):,} customers")
