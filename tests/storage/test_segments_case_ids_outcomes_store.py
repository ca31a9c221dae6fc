"""``equals ignoring case``, ``contact_ids contains`` and ``is open / won / lost`` in a store.

Every adapter (memory, SQLite, PostgreSQL when configured) must find exactly the members
listed here. The unit of work will pass the store's own pipelines to `bind`; until it does,
these tests hand it the pipelines they define (a stand-in for ``uow.pipelines``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

import crmkit.storage.unit_of_work as unit_of_work
from crmkit import Company, Contact, Deal, FixedClock, SegmentError
from crmkit.conditions.binding import bind
from crmkit.pipelines import Pipeline, Stage, default_renewal_pipeline, default_sales_pipeline
from crmkit.segments import parse

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
CLOCK = FixedClock(NOW)

SUPPORT = Pipeline(
    key="support",
    label="Support upsell",
    stages=(
        Stage("asked", "Asked", 0.2, "pipeline"),
        Stage("signed", "Signed", 1.0, "closed", won=True),
        Stage("closed_won", "Not a win here", 0.0, "omitted", lost=True),
    ),
)
PIPELINES = {p.key: p for p in (default_sales_pipeline(), default_renewal_pipeline(), SUPPORT)}


@pytest.fixture
def with_pipelines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bind every segment of a unit of work with `PIPELINES` (as the store's will be)."""

    @functools.wraps(bind)
    def bind_with_pipelines(*args: Any, **kwargs: Any) -> Any:
        return bind(*args, **{**kwargs, "pipelines": PIPELINES})

    monkeypatch.setattr(unit_of_work, "bind", bind_with_pipelines)


def _names(store, table, segment):
    with store.unit_of_work(readonly=True) as uow:
        repository = getattr(uow, table)
        found = [r.name if hasattr(r, "name") else r.first_name for r in repository.find(segment)]
        ids = list(repository.find_ids(segment))
        count = repository.count(segment)
    assert len(ids) == count == len(found)
    return sorted(found)


COMPANY_NAMES = [
    "software",
    "Software",
    "SOFTWARE",
    "Softwarex",
    "École",
    "école",
    "ÉCOLE",
    "Straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "\u212aelvin",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name equals ignoring case "software"', ["SOFTWARE", "Software", "software"]),
        ('name equals ignoring case "sOFTWARe"', ["SOFTWARE", "Software", "software"]),
        ('name equals ignoring case "softwar"', []),
        ('name equals ignoring case "école"', ["école"]),
        ('name equals ignoring case "École"', ["ÉCOLE", "École"]),
        ('name equals ignoring case "strasse"', ["STRASSE"]),
        ('name equals ignoring case "istanbul"', ["istanbul"]),
        ('name equals ignoring case "kelvin"', []),
        ('name equals ignoring case "\u212aELVIN"', ["\u212aelvin"]),
        (
            'not name equals ignoring case "software"',
            sorted(set(COMPANY_NAMES) - {"software", "Software", "SOFTWARE"}),
        ),
        ('industry equals ignoring case "x"', []),  # missing is false
        ('not industry equals ignoring case "x"', sorted(COMPANY_NAMES)),
    ],
)
def test_equals_ignoring_case_is_the_same_on_every_adapter(adapter, text, expected):
    """Only A-Z fold, on every adapter: É/é, ß/SS, İ/i and the Kelvin sign stay apart."""
    store = adapter.make(CLOCK)
    with store.unit_of_work() as uow:
        uow.companies.add_many([Company.create(name=n, clock=CLOCK) for n in COMPANY_NAMES])
    assert _names(store, "companies", parse(text)) == expected
    store.close()


def test_contact_ids_contains_finds_the_deals_a_contact_is_on(adapter):
    """Membership of one id in a deal's contact_ids, through the store's side table."""
    store = adapter.make(CLOCK)
    ada, bob, cy = (Contact.create(first_name=n, clock=CLOCK) for n in ("Ada", "Bob", "Cy"))
    deals = [
        Deal.create(
            name="both",
            pipeline="sales",
            stage="proposal",
            contact_ids=[ada.id, bob.id],
            clock=CLOCK,
        ),
        Deal.create(
            name="bob", pipeline="sales", stage="proposal", contact_ids=[bob.id], clock=CLOCK
        ),
        Deal.create(name="none", pipeline="sales", stage="proposal", clock=CLOCK),
    ]
    with store.unit_of_work() as uow:
        uow.contacts.add_many([ada, bob, cy])
        uow.deals.add_many(deals)
    assert _names(store, "deals", parse(f'contact_ids contains uuid("{ada.id}")')) == ["both"]
    assert _names(store, "deals", parse(f'contact_ids contains "{bob.id}"')) == ["bob", "both"]
    assert _names(store, "deals", parse(f'contact_ids contains uuid("{cy.id}")')) == []
    assert _names(store, "deals", parse(f'not contact_ids contains uuid("{ada.id}")')) == [
        "bob",
        "none",
    ]
    assert _names(store, "deals", parse("contact_ids is empty")) == ["none"]
    assert _names(store, "deals", parse("contact_ids is not empty")) == ["bob", "both"]
    with store.unit_of_work() as uow:  # moved off the deal: no longer found
        deal = next(iter(uow.deals.find(parse('name = "both"'))))
        uow.deals.update(deal.changed(contact_ids=[bob.id], clock=CLOCK))
    assert _names(store, "deals", parse(f'contact_ids contains uuid("{ada.id}")')) == []
    with store.unit_of_work(readonly=True) as uow, pytest.raises(SegmentError, match="holds ids"):
        uow.deals.count(parse('contact_ids contains "ada"'))
    store.close()


OUTCOME_DEALS = [
    ("sales-open", "sales", "proposal"),
    ("sales-won", "sales", "closed_won"),
    ("sales-lost", "sales", "closed_lost"),
    ("renewal-open", "renewals", "upcoming"),
    ("renewal-won", "renewals", "renewed"),
    ("renewal-lost", "renewals", "churned"),
    ("support-won", "support", "signed"),
    ("support-closed_won", "support", "closed_won"),
    ("ghost", "ghost", "closed_won"),
    ("sales-renewed", "sales", "renewed"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is open", ["renewal-open", "sales-open"]),
        ("is won", ["renewal-won", "sales-won", "support-won"]),
        ("is lost", ["renewal-lost", "sales-lost", "support-closed_won"]),
        (
            "not is won",
            [
                "ghost",
                "renewal-lost",
                "renewal-open",
                "sales-lost",
                "sales-open",
                "sales-renewed",
                "support-closed_won",
            ],
        ),
        ("not (is open or is won or is lost)", ["ghost", "sales-renewed"]),
        ('is won and pipeline != "sales"', ["renewal-won", "support-won"]),
    ],
)
def test_outcomes_follow_each_deals_pipeline_on_every_adapter(
    adapter, with_pipelines, text, expected
):
    """Won, lost, open by the deal's own pipeline; unknown pipelines and stages are none."""
    store = adapter.make(CLOCK)
    with store.unit_of_work() as uow:
        uow.deals.add_many(
            [Deal.create(name=n, pipeline=p, stage=s, clock=CLOCK) for n, p, s in OUTCOME_DEALS]
        )
    assert _names(store, "deals", parse(text)) == expected
    store.close()


def test_outcomes_count_deals_from_contacts_on_every_adapter(adapter, with_pipelines):
    """``at least 1 deals where is won`` on contacts: the outcome inside a relation."""
    store = adapter.make(CLOCK)
    ada, bob, cy = (Contact.create(first_name=n, clock=CLOCK) for n in ("Ada", "Bob", "Cy"))
    with store.unit_of_work() as uow:
        uow.contacts.add_many([ada, bob, cy])
        uow.deals.add_many(
            [
                Deal.create(
                    name="w",
                    pipeline="sales",
                    stage="closed_won",
                    contact_ids=[ada.id],
                    clock=CLOCK,
                ),
                Deal.create(
                    name="o", pipeline="support", stage="asked", contact_ids=[bob.id], clock=CLOCK
                ),
            ]
        )
    assert _names(store, "contacts", parse("at least 1 deals where is won")) == ["Ada"]
    assert _names(store, "contacts", parse("no deals where is open")) == ["Ada", "Cy"]
    store.close()
