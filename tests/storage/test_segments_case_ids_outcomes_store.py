"""``equals ignoring case``, ``contact_ids contains`` and ``is open / won / lost`` in a store.

Every adapter (memory, SQLite, PostgreSQL when configured) must find exactly the members
listed here. The unit of work binds segments with the store's own pipelines
(``uow.pipelines``): the built-in ``sales`` and ``renewals`` and the ``support`` pipeline
these tests save. (A deal in a pipeline or stage the store does not know cannot be stored;
that such a deal is neither open, won nor lost is tested in memory, with `matcher`.)
"""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Company, Contact, Deal, FixedClock, SegmentError
from crmkit.pipelines import Pipeline, Stage
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


def _store_with_support(adapter):
    """A new store that knows `SUPPORT` besides the built-in pipelines."""
    store = adapter.make(CLOCK)
    with store.unit_of_work() as uow:
        uow.pipelines.save(SUPPORT)
    return store


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
                "renewal-lost",
                "renewal-open",
                "sales-lost",
                "sales-open",
                "support-closed_won",
            ],
        ),
        ("not (is open or is won or is lost)", []),
        ('is won and pipeline != "sales"', ["renewal-won", "support-won"]),
    ],
)
def test_outcomes_follow_each_deals_pipeline_on_every_adapter(adapter, text, expected):
    """Won, lost, open by the stages of the deal's own pipeline, as the store keeps it."""
    store = _store_with_support(adapter)
    with store.unit_of_work() as uow:
        uow.deals.add_many(
            [Deal.create(name=n, pipeline=p, stage=s, clock=CLOCK) for n, p, s in OUTCOME_DEALS]
        )
    assert _names(store, "deals", parse(text)) == expected
    store.close()


def test_outcomes_count_deals_from_contacts_on_every_adapter(adapter):
    """``at least 1 deals where is won`` on contacts: the outcome inside a relation."""
    store = _store_with_support(adapter)
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('stage = "Closed Won"', ["sales-won"]),  # the label of sales' closed_won
        ('stage = "closed won"', ["sales-won"]),  # labels ignore the case of A-Z
        ('stage = "closed_won"', ["sales-won", "support-closed_won"]),  # a key stays a key
        ('stage = "Not a win here"', ["support-closed_won"]),
        (
            'stage in ("Renewed", "Signed", "proposal")',
            ["renewal-won", "sales-open", "support-won"],
        ),
        (
            'stage != "Closed Won"',
            sorted(n for n, *_ in OUTCOME_DEALS if n != "sales-won"),
        ),
        (
            'stage not in ("Churned", "Closed Lost")',
            sorted(n for n, *_ in OUTCOME_DEALS if n not in ("renewal-lost", "sales-lost")),
        ),
        ('stage = "Nowhere"', []),  # neither a key nor a label: no deal
    ],
)
def test_stages_can_be_named_by_label_on_every_adapter(adapter, text, expected):
    """A stage's label (as people see the pipeline) finds the deals in that stage."""
    store = _store_with_support(adapter)
    with store.unit_of_work() as uow:
        uow.deals.add_many(
            [Deal.create(name=n, pipeline=p, stage=s, clock=CLOCK) for n, p, s in OUTCOME_DEALS]
        )
    assert _names(store, "deals", parse(text)) == expected
    store.close()
