"""RFM on every adapter: a worked example, and random orders scored the same everywhere.

Hypothesis builds random contacts, companies and orders (ties on purpose: few distinct
amounts and days; some orders cancelled, refunded, archived or in another currency; some
customers archived), loads them into memory, SQLite and (with CRMKIT_TEST_POSTGRES_DSN)
PostgreSQL, and checks that `uow.orders.rfm` returns identical `RfmScore` lists.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Company, Contact, FixedClock, Order
from crmkit.errors import ValidationError
from crmkit.model.rfm import compute_rfm
from crmkit.segments import RfmGroup, RfmScore, rfm

from .adapters import HAS_POSTGRES_ADAPTER, drop_schemas, with_schema

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
POSTGRES_DSN = os.environ.get("CRMKIT_TEST_POSTGRES_DSN")


def _order(clock, amount, days_ago, *, contact=None, company=None, currency="EUR", **kw):
    return Order.create(
        total=amount,
        currency=currency,
        placed_at=NOW - dt.timedelta(days=days_ago, hours=1),
        contact_id=contact,
        company_id=company,
        clock=clock,
        **kw,
    )


def test_worked_example(adapter):
    clock = FixedClock(NOW)
    store = adapter.make(clock)
    try:
        with store.unit_of_work(actor="test") as uow:
            acme = uow.companies.add(Company.create(name="Acme", clock=clock))
            ada, bob, cy, dee, eve = (
                uow.contacts.add(Contact.create(first_name=n, clock=clock))
                for n in ("Ada", "Bob", "Cy", "Dee", "Eve")
            )
            orders = [
                _order(clock, "100", 2, contact=ada.id),
                _order(clock, "50.50", 10, contact=ada.id),
                _order(clock, "70", 40, contact=ada.id, currency="USD"),  # F, not M
                _order(clock, "20", 2, contact=bob.id),  # same day as Ada: a tie
                _order(clock, "999", 1, contact=bob.id, status="cancelled"),  # not counted
                _order(clock, "999", 1, contact=bob.id, status="refunded"),  # not counted
                _order(clock, "150.50", 200, contact=cy.id),
                _order(clock, "5", 400, contact=dee.id),
                _order(clock, "500", 30, company=acme.id),  # no contact: the company's
                _order(clock, "20.00", 90, contact=eve.id, company=acme.id),
            ]
            stored = [uow.orders.add(o) for o in orders]
            uow.orders.archive(stored[-3])  # Dee's only order: archived, Dee drops out
        with store.unit_of_work(readonly=True) as uow:
            scores = uow.orders.rfm(currency="EUR")
            by_company = rfm(uow, currency="EUR", by="company")
            later = uow.orders.rfm(currency="EUR", as_of=NOW + dt.timedelta(days=10))
            earlier = uow.orders.rfm(currency="EUR", as_of=NOW - dt.timedelta(days=5))
    finally:
        store.close()
    got = {s.record_id: s for s in scores}
    assert [s.record_id for s in scores] == sorted(got)
    assert set(got) == {ada.id, bob.id, cy.id, eve.id}
    # n = 4. Recency ranks most recent first: Ada = Bob 2 (1, 1: R 5), Eve 90 (3: 5 - 10 // 4
    # = 3), Cy 200 (4: 5 - 15 // 4 = 2). Frequency: Bob 1 = Cy 1 = Eve 1 (1), Ada 3 (4).
    # Monetary: Bob 20 = Eve 20.00 (1), Cy 150.50 (3), Ada 150.50 (3): Ada's USD order is out.
    assert got[ada.id] == RfmScore(ada.id, 2, 3, Decimal("150.50"), 5, 4, 3, RfmGroup.CHAMPIONS)
    assert got[bob.id] == RfmScore(bob.id, 2, 1, Decimal(20), 5, 1, 1, RfmGroup.NEW_CUSTOMERS)
    assert got[cy.id] == RfmScore(cy.id, 200, 1, Decimal("150.5"), 2, 1, 3, RfmGroup.HIBERNATING)
    assert got[eve.id] == RfmScore(eve.id, 90, 1, Decimal(20), 3, 1, 1, RfmGroup.ABOUT_TO_SLEEP)
    assert got[ada.id].code == "543"
    assert [(s.record_id, s.frequency, s.monetary) for s in by_company] == [
        (acme.id, 2, Decimal("520.00"))
    ]
    assert {s.record_id: s.recency_days for s in later}[ada.id] == 12
    assert {s.record_id: s.recency_days for s in earlier}[ada.id] == 0  # placed after as_of


def test_arguments_are_checked(adapter):
    store = adapter.make(FixedClock(NOW))
    try:
        with store.unit_of_work(readonly=True) as uow:
            assert uow.orders.rfm(currency="eur") == []
            with pytest.raises(ValidationError, match="currency"):
                uow.orders.rfm(currency="EURO")
            with pytest.raises(ValidationError, match="by"):
                uow.orders.rfm(currency="EUR", by="deal")
            with pytest.raises(ValidationError, match="as_of"):
                uow.orders.rfm(currency="EUR", as_of=dt.datetime(2026, 1, 1))
    finally:
        store.close()


# -- the same scores everywhere ------------------------------------------------------------

amounts = st.sampled_from(["10", "10.00", "0.10", "0.20", "0.30", "5.5", "99.99", "1E+2"])


@st.composite
def datasets(draw):
    clock = FixedClock(NOW)
    companies = [
        Company.create(name=f"Co {i}", clock=clock) for i in range(draw(st.integers(0, 3)))
    ]
    contacts = [
        Contact.create(first_name=f"C{i}", clock=clock) for i in range(draw(st.integers(1, 10)))
    ]
    orders = []
    for _ in range(draw(st.integers(0, 30))):
        contact = draw(st.none() | st.sampled_from(contacts))
        company = draw(st.sampled_from(companies)) if companies and draw(st.booleans()) else None
        if contact is None and company is None:
            contact = contacts[0]
        orders.append(
            Order.create(
                total=draw(amounts),
                currency=draw(st.sampled_from(["EUR", "EUR", "USD"])),
                placed_at=NOW
                - dt.timedelta(
                    days=draw(st.sampled_from([0, 1, 1, 7, 30, 31, 365])),
                    hours=draw(st.integers(-30, 23)),
                ),
                status=draw(st.sampled_from(["paid", "paid", "pending", "cancelled", "refunded"])),
                contact_id=None if contact is None else contact.id,
                company_id=None if company is None else company.id,
                clock=clock,
            )
        )
    archived_orders = draw(st.sets(st.sampled_from([o.id for o in orders]))) if orders else set()
    archived_contacts = draw(st.sets(st.sampled_from([c.id for c in contacts]), max_size=2))
    return {
        "companies": companies,
        "contacts": contacts,
        "orders": orders,
        "archived_orders": archived_orders,
        "archived_contacts": archived_contacts,
        "as_of": NOW + dt.timedelta(hours=draw(st.integers(-72, 72))),
    }


def load(url, data):
    store = crmkit.open_store(url, clock=FixedClock(NOW))
    with store.unit_of_work(actor="test") as uow:
        uow.companies.add_many(data["companies"])
        uow.contacts.add_many(data["contacts"])
        uow.orders.add_many(data["orders"])
        for order in uow.orders.get_many(sorted(data["archived_orders"])).values():
            uow.orders.archive(order)
        for contact in uow.contacts.get_many(sorted(data["archived_contacts"])).values():
            uow.contacts.archive(contact)
    return store


# Each example loads every adapter's store: two thirds of the profile's examples (40 under ci,
# 66 under dev, 666 under thorough), so the profile still decides.
@settings(
    max_examples=settings.default.max_examples * 2 // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=datasets())
def test_every_adapter_scores_the_same(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("rfm")
    urls = {"memory": "memory://", "sqlite": f"sqlite:///{directory / 'store.db'}"}
    schemas: list[str] = []
    if POSTGRES_DSN and HAS_POSTGRES_ADAPTER:
        schemas.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
        urls["postgres"] = with_schema(POSTGRES_DSN, schemas[-1])
    stores = {name: load(url, data) for name, url in urls.items()}
    try:
        for by in ("contact", "company"):
            for currency in ("EUR", "USD"):
                results = {}
                for name, store in stores.items():
                    with store.unit_of_work(readonly=True) as uow:
                        results[name] = uow.orders.rfm(
                            currency=currency, as_of=data["as_of"], by=by
                        )
                expected = results["memory"]
                for name, got in results.items():
                    assert got == expected, (name, by, currency)
                # and the memory adapter holds to the formula, checked from scratch
                rows = [(s.record_id, s.recency_days, s.frequency, s.monetary) for s in expected]
                assert [(s.record_id, s.r, s.f, s.m) for s in expected] == [
                    (row[0], *reference_scores(rows, row)) for row in rows
                ]
                assert [tuple(r) for r in compute_rfm(rows)] == [
                    (s.record_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m)
                    for s in expected
                ]
    finally:
        for store in stores.values():
            store.close()
        if schemas:
            drop_schemas(POSTGRES_DSN, schemas)


def reference_scores(rows, row):
    """Scores by counting: F and M rank = 1 + how many are strictly worse, R rank = 1 + how
    many are strictly more recent (ties share it); R mirrors the quantile, best first."""
    n = len(rows)
    _id, days, count, money = row
    r_rank = 1 + sum(1 for other in rows if other[1] < days)
    f_rank = 1 + sum(1 for other in rows if other[2] < count)
    m_rank = 1 + sum(1 for other in rows if other[3] < money)
    r = 5 - (5 * (r_rank - 1)) // n
    return (r, *(1 + (5 * (rank - 1)) // n for rank in (f_rank, m_rank)))
