"""``crmkit show`` and ``crmkit history``: one record and its audit trail."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import attrs
import typer

import crmkit
from crmkit.cli.output import plain, print_rows
from crmkit.cli.store import open_existing, store_url
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS

__all__ = ["history", "show"]

DbOption = Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")]


def parse_record_id(text: str) -> uuid.UUID:
    """Return a record id given on the command line, or refuse it naming ``id``."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise crmkit.ValidationError.single("id", text, "is not a record id (a UUID)") from None


def find_record(store: crmkit.Store, ident: uuid.UUID) -> Entity:
    """Return the record with that id, whatever its kind.

    Raises:
        NotFoundError: When no record of any kind has it.
    """
    with store.unit_of_work(readonly=True) as uow:
        for name in KINDS:
            found = uow.repository(name).get_many([ident])
            if found:
                return found[ident]  # type: ignore[no-any-return]
    raise crmkit.NotFoundError("record", ident)


def show(
    record_id: Annotated[str, typer.Argument(help="The record's id")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show one record (contact, company, lead, deal, activity, task or order) by id.

    Example: crmkit show 0190f1c2-...
    """
    with open_existing(store_url(db)) as store:
        record = find_record(store, parse_record_id(record_id))
    fields = {f.name: plain(_value(getattr(record, f.name))) for f in attrs.fields(type(record))}
    if as_json:
        print(json.dumps({"kind": record.KIND, **fields}))
        return
    rows = [(name, value) for name, value in fields.items() if value not in (None, [], {}, "")]
    print_rows(("field", "value"), rows, form="table", title=f"{record.KIND} {record.id}")


def _value(value: Any) -> Any:
    if attrs.has(type(value)):
        return {f.name: _value(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple | list | frozenset):
        return [_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _value(v) for k, v in value.items()}
    return str(value) if type(value).__name__ in ("EmailAddress", "PhoneNumber", "Money") else value


def history(
    record_id: Annotated[str, typer.Argument(help="The record's id")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show every recorded change of a record, oldest first: who, when, what changed.

    Example: crmkit history 0190f1c2-...
    """
    with open_existing(store_url(db)) as store:
        entries = store.history(parse_record_id(record_id))
    if not entries:
        raise crmkit.NotFoundError("record history", record_id)
    rows = [
        (
            e.at,
            e.action,
            e.version,
            e.actor,
            "; ".join(f"{c.field}: {c.old!r} → {c.new!r}" for c in e.changes),
        )
        for e in entries
    ]
    print_rows(("at", "action", "version", "actor", "changes"), rows,
               form="json" if as_json else "table")  # fmt: skip
