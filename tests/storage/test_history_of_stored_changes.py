"""Every stored change has a history entry, even when Python calls the two values equal.

The custom value 1 becoming True, the amount 10 becoming 10.00, an email re-typed with
another spelling: each is stored differently, so each is listed. A property test reads the
stored row itself (the SQL row; for the memory store the object it keeps) before and after
every update and checks that the history entry lists exactly the fields whose stored form
changed, with the new stored values, on every adapter.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Company, Contact, FixedClock, Money
from crmkit.storage.plain import custom_to_plain, is_empty, to_plain
from crmkit.storage.protocol import FieldChange

from .adapters import Adapter

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TABLES = {"contact": "contacts", "company": "companies"}


def stored_row(adapter: Adapter, store: Any, kind: str, entity: Any) -> dict[str, str]:
    """Return what the store keeps of a record, per model field, as comparable text."""
    fields = [f.name for f in attrs.fields(type(entity))]
    if adapter.name == "memory":  # it keeps the entity object: its parts are what is stored
        with store.unit_of_work(readonly=True) as uow:
            kept = uow.repository(kind).get(entity.id)
        return {
            name: _text(custom_to_plain(value) if name == "custom" else to_plain(value))
            for name in fields
            if (value := getattr(kept, name)) is not None
        }
    url = adapter.url_of(store)
    sql = f"SELECT * FROM {TABLES[kind]} WHERE id = "
    if adapter.name == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            cursor = conn.execute(sql + "?", (entity.id.bytes,))
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
    else:
        import psycopg

        schema = parse_qs(urlsplit(url).query)["schema"][0]
        dsn = url.split("?")[0]
        with psycopg.connect(dsn) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            cursor = conn.execute(sql + "%s", (entity.id,))
            row = cursor.fetchone()
            names = [d.name for d in cursor.description]
    columns: dict[str, list[str]] = {}
    for name, value in zip(names, row, strict=True):
        field = name if name in fields else name.removesuffix("_currency")
        columns.setdefault(field, []).append(_text(value))
    return {field: " | ".join(parts) for field, parts in columns.items() if parts != ["null"]}


def _text(value: Any) -> str:
    """Comparable text that tells 1 from True and Decimal('10') from Decimal('10.00')."""
    if isinstance(value, str) and value[:1] in "[{":
        value = json.loads(value)  # JSON text columns: key order and spacing do not count
    return json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)


def stored_changes(before: dict[str, str], after: dict[str, str]) -> set[str]:
    ignored = {"version", "updated_at"}
    return {f for f in before.keys() | after.keys() if before.get(f) != after.get(f)} - ignored


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def _update(store: Any, adapter: Adapter, kind: str, entity: Any, **changes: Any) -> Any:
    before = stored_row(adapter, store, kind, entity)
    with store.unit_of_work() as uow:
        updated = uow.repository(kind).update(attrs.evolve(entity, **changes))
    after = stored_row(adapter, store, kind, updated)
    entry = store.history(entity.id)[-1]
    assert (entry.action, entry.version) == ("updated", updated.version)
    listed = {c.field for c in entry.changes}
    assert listed == stored_changes(before, after), (before, after, entry.changes)
    for change in entry.changes:  # the entry holds the stored new value
        value = getattr(updated, change.field)
        assert _text(change.new) == _text(None if is_empty(value) else to_plain(value))
    return updated


def test_equal_values_stored_differently_are_listed(adapter, clock):
    """1 → True, Decimal 2 → 2.0, Money 10 → 10.00 and an email's spelling each get an entry."""
    with adapter.make(clock) as store:
        with store.unit_of_work() as uow:
            ada = uow.contacts.add(
                Contact.create(
                    first_name="Ada",
                    email="ada@acme.example",
                    custom={"flag": 1, "n": Decimal(2)},
                    clock=clock,
                )
            )
            acme = uow.companies.add(
                Company.create(name="Acme", annual_revenue=10, currency="EUR", clock=clock)
            )
        ada = _update(store, adapter, "contact", ada, custom=ada.custom.set("flag", True))
        assert store.history(ada.id)[-1].changes == (
            FieldChange("custom", {"flag": 1, "n": "2"}, {"flag": True, "n": "2"}),
        )
        ada = _update(store, adapter, "contact", ada, custom=ada.custom.set("n", Decimal("2.0")))
        assert store.history(ada.id)[-1].changes == (
            FieldChange("custom", {"flag": True, "n": "2"}, {"flag": True, "n": "2.0"}),
        )
        respelled = Contact.create(first_name="x", email="ada@ACME.example").emails
        assert respelled == ada.emails  # equal in Python: the same normal form
        ada = _update(store, adapter, "contact", ada, emails=respelled)
        assert store.history(ada.id)[-1].changes == (
            FieldChange("emails", ["ada@acme.example"], [["ada@acme.example", "ada@ACME.example"]]),
        )
        acme = _update(
            store, adapter, "company", acme, annual_revenue=Money(Decimal("10.00"), "EUR")
        )
        assert store.history(acme.id)[-1].changes == (
            FieldChange("annual_revenue", ["10", "EUR"], ["10.00", "EUR"]),
        )
        versions = [h.version for h in store.history(ada.id)]
        assert versions == [1, 2, 3, 4]


def test_an_update_that_stores_the_same_lists_nothing(adapter, clock):
    """An equal value stored alike (a rebuilt but identical mapping) is no change."""
    with adapter.make(clock) as store:
        with store.unit_of_work() as uow:
            ada = uow.contacts.add(Contact.create(first_name="Ada", custom={"n": 1}, clock=clock))
        ada = _update(store, adapter, "contact", ada, custom=ada.custom.set("n", 1))
        assert store.history(ada.id)[-1].changes == ()


# -- the property ------------------------------------------------------------------------

custom_values = st.sampled_from(
    [1, True, 0, False, Decimal(1), Decimal("1.0"), Decimal("1.00"), "1", "true", 2, Decimal(2)]
)
customs = st.dictionaries(st.sampled_from(["a", "b"]), custom_values, max_size=2)
spellings = st.sampled_from(["ada@acme.example", "ada@ACME.example", "ada@Acme.Example"])
amounts = st.sampled_from(["10", "10.0", "10.00", "0", "0.00", "-0.00", "1E+1", "10.5"])
contact_changes = st.fixed_dictionaries(
    {},
    optional={
        "custom": customs,
        "emails": st.lists(spellings, max_size=1),
        "title": st.sampled_from(["CTO", "cto", None]),
        "tags": st.frozensets(st.sampled_from(["vip", "b"]), max_size=2),
    },
)
company_changes = st.fixed_dictionaries(
    {},
    optional={
        "annual_revenue": st.none() | amounts,
        "custom": customs,
        "employees": st.sampled_from([None, 0, 10]),
    },
)


def _as_fields(kind: str, changes: dict[str, Any], clock: FixedClock) -> dict[str, Any]:
    """Turn drawn plain values into model values (through `create`, as apps make them)."""
    if kind == "contact":
        made = Contact.create(first_name="x", clock=clock, **changes)
    else:
        revenue = changes.get("annual_revenue")
        plain = {k: v for k, v in changes.items() if k != "annual_revenue"}
        made = Company.create(
            name="x",
            clock=clock,
            annual_revenue=revenue,
            currency=None if revenue is None else "EUR",
            **plain,
        )
    return {name: getattr(made, name) for name in changes}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    contact_steps=st.lists(contact_changes, min_size=1, max_size=4),
    company_steps=st.lists(company_changes, min_size=1, max_size=4),
)
def test_every_change_of_a_stored_row_has_its_history_entry(adapter, contact_steps, company_steps):
    """Before and after every update, the changed stored fields are exactly those listed."""
    clock = FixedClock(T0)
    with adapter.make(clock) as store:  # a fresh store per example
        with store.unit_of_work() as uow:
            contact = uow.contacts.add(Contact.create(first_name="Ada", clock=clock))
            company = uow.companies.add(Company.create(name="Acme", clock=clock))
        for changes in contact_steps:
            fields = _as_fields("contact", changes, clock)
            contact = _update(store, adapter, "contact", contact, **fields)
        for changes in company_steps:
            fields = _as_fields("company", changes, clock)
            company = _update(store, adapter, "company", company, **fields)
