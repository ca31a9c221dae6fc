"""Valid records of every kind for storage tests: minimal ones, maximal ones, and their parents.

Maximal records set every field, with the values stores most often get wrong: Decimal
amounts whose trailing zeros matter, datetimes with microseconds, text that looks like a
date or a number, Unicode, email addresses whose original spelling must survive, custom
fields of every type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, cast

import attrs

from crmkit.clock import FixedClock
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomValue
from crmkit.model.deal import Deal, StageStay
from crmkit.model.entity import Entity
from crmkit.model.lead import Lead, Qualification
from crmkit.model.order import Order
from crmkit.model.registry import KINDS as REGISTERED
from crmkit.model.task import Task
from crmkit.storage.protocol import Repository, Store, UnitOfWork
from crmkit.values.enums import ForecastCategory, QualificationVerdict
from crmkit.values.money import Money

__all__ = [
    "CHANGES",
    "CREATED_AT",
    "FULL_CUSTOM",
    "KINDS",
    "REFERENCES",
    "START",
    "Seed",
    "dangling",
    "maximal",
    "minimal",
    "repository",
    "seed",
]

START = dt.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=dt.UTC)
"""Where the contract's `FixedClock` starts."""

CREATED_AT = dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.UTC)
"""An explicit creation time (a leap day, with microseconds) given to maximal records."""

KINDS: tuple[str, ...] = tuple(REGISTERED)
"""Every built-in kind of record a store holds, by `Entity.KIND` (the registry's kinds when
the testing kit was imported; the records below cover each of them)."""

REFERENCES: tuple[tuple[str, str], ...] = tuple(
    (name, ref.field) for name in KINDS for ref in REGISTERED[name].refs
)
"""Every (kind, field) that refers to another record; a store refuses dangling ones."""

CHANGES: dict[str, dict[str, Any]] = {
    "contact": {"title": "CTO"},
    "company": {"industry": "Software"},
    "lead": {"title": "Head of Buying"},
    "deal": {"source": "webinar"},
    "activity": {"subject": "Follow-up"},
    "task": {"notes": "Call back on Monday"},
    "order": {"number": "SO-9"},
}
"""One simple change per kind (a field that is empty on minimal records), for update tests."""

FULL_CUSTOM: dict[str, CustomValue] = {
    "plan": "pro",
    "looks_like_date": "2024-01-01",
    "looks_like_number": "0012",
    "unicode": "Grüße aus Köln, 東京 🚀",
    "seats": 12,
    "big": 9007199254740993,  # 2**53 + 1: a float cannot hold it
    "negative": -7,
    "arr": Decimal("12000.50"),
    "tiny": Decimal("0.000001"),
    "zero": Decimal("0.00"),
    "renewal": dt.date(2026, 5, 1),
    "last_login": dt.datetime(2026, 1, 1, 9, 0, 0, 123456, tzinfo=dt.UTC),
    "trial": True,
    "churned": False,
    "modules": frozenset({"crm", "billing"}),
}
"""Schema-less custom values of every type, with the edge cases of each."""


def repository(uow: UnitOfWork, kind: str) -> Repository[Entity]:
    """Return the repository of `kind` (``"contact"`` → ``uow.contacts``)."""
    return cast(Repository[Entity], getattr(uow, REGISTERED[kind].table))


@attrs.frozen
class Seed:
    """Stored records that the records under test refer to.

    Attributes:
        company: A company.
        contact: A contact of `company`.
        other_contact: A second contact of `company`.
        lead: A lead.
        deal: A deal with `company` and `contact`.
    """

    company: Company
    contact: Contact
    other_contact: Contact
    lead: Lead
    deal: Deal


def seed(store: Store, clock: FixedClock) -> Seed:
    """Store the records that `minimal` and `maximal` records refer to, in one unit of work.

    Args:
        store: The store to fill.
        clock: The clock to create them with.

    Returns:
        The stored records (version 1).
    """
    company = Company.create(name="Seed GmbH", domain="seed.example", clock=clock)
    contact = Contact.create(
        first_name="Sid", email="sid@seed.example", company_id=company.id, clock=clock
    )
    other = Contact.create(
        first_name="Sue", email="sue@seed.example", company_id=company.id, clock=clock
    )
    lead = Lead.create(first_name="Lee", company_name="Seed GmbH", clock=clock)
    deal = Deal.create(
        name="Seed deal",
        pipeline="sales",
        stage="prospecting",
        company_id=company.id,
        contact_ids=[contact.id],
        clock=clock,
    )
    with store.unit_of_work(actor="seed") as uow:
        return Seed(
            company=uow.companies.add(company),
            contact=uow.contacts.add(contact),
            other_contact=uow.contacts.add(other),
            lead=uow.leads.add(lead),
            deal=uow.deals.add(deal),
        )


def minimal(kind: str, parents: Seed, clock: FixedClock, number: int = 0) -> Entity:
    """Return a small valid record of `kind` (version 0), referring to `parents` where needed.

    Args:
        kind: The kind of record.
        parents: Stored records to refer to.
        clock: Where "now" comes from.
        number: Makes names, addresses and amounts of several records differ.
    """
    when = START - dt.timedelta(hours=number + 1)
    if kind == "contact":
        return Contact.create(
            first_name=f"Person {number}",
            email=f"person{number}@example.org",
            company_id=parents.company.id,
            clock=clock,
        )
    if kind == "company":
        return Company.create(
            name=f"Company {number}", domain=f"company{number}.example", clock=clock
        )
    if kind == "lead":
        return Lead.create(first_name=f"Lead {number}", clock=clock)
    if kind == "deal":
        return Deal.create(
            name=f"Deal {number}",
            pipeline="sales",
            stage="prospecting",
            amount=f"{number}.50",
            currency="EUR",
            company_id=parents.company.id,
            clock=clock,
        )
    if kind == "activity":
        return Activity.create(
            kind="email", occurred_at=when, contact_id=parents.contact.id, clock=clock
        )
    if kind == "task":
        return Task.create(title=f"Task {number}", contact_id=parents.contact.id, clock=clock)
    if kind == "order":
        return Order.create(
            total=f"{number}.10",
            currency="EUR",
            placed_at=when,
            contact_id=parents.contact.id,
            clock=clock,
        )
    raise ValueError(f"unknown kind {kind!r}")


def maximal(kind: str, parents: Seed, clock: FixedClock) -> Entity:
    """Return a valid record of `kind` with every field set (version 0).

    Args:
        kind: The kind of record.
        parents: Stored records to refer to.
        clock: Where "now" comes from.
    """
    common: dict[str, Any] = {
        "custom": FULL_CUSTOM,
        "external_ids": {"hubspot": "101", "erp": "C-0007"},
        "created_at": CREATED_AT,
        "clock": clock,
    }
    address = {
        "street": "Unter den Linden 1",
        "city": "Berlin",
        "region": "BE",
        "postal_code": "01067",
    }
    if kind == "contact":
        return Contact.create(
            first_name="Ada",
            last_name="Lovelace-Byron",
            email="Ada.Lovelace@Acme.DE",
            emails=["ada@example.org"],
            phone="+49 30 901820",
            phones=["+1 650-253-0000"],
            title="Countess",
            company_id=parents.company.id,
            country="DE",
            address=address,
            time_zone="Europe/Berlin",
            owner="sam@sales",
            tags={"vip", "newsletter"},
            lifecycle_stage="customer",
            lead_source="referral",
            consents=[
                {
                    "purpose": "email_marketing",
                    "granted": True,
                    "at": "2024-05-06T07:08:09.123456+02:00",
                    "source": "double opt-in",
                },
                {"purpose": "tracking", "granted": False, "at": "2024-05-07T00:00:00.000001Z"},
            ],
            **common,
        )
    if kind == "company":
        return Company.create(
            name="Acme Straße GmbH",
            domain="https://www.Acme-Example.DE/about?x=1",
            industry="Machinery",
            employees=250,
            annual_revenue="12000.50",
            currency="EUR",
            country="DE",
            address=address,
            phone="+49 30 901820",
            parent_id=parents.company.id,
            owner="sam@sales",
            tags={"key-account", "dach"},
            **common,
        )
    if kind == "lead":
        lead = Lead.create(
            source="web form",
            status="working",
            first_name="Grace",
            last_name="Hopper",
            email="Grace.Hopper@Navy.MIL",
            phone="+1 650-253-0000",
            title="Rear Admiral",
            company_name="US Navy",
            company_domain="https://www.Navy.mil/",
            industry="Defence",
            employees=300000,
            country="US",
            owner="sam@sales",
            tags={"event", "hot"},
            bant={
                "budget": "50000.00",
                "currency": "USD",
                "authority": True,
                "need": "A compiler",
                "timeline": "2025-09-30",
            },
            **common,
        )
        return lead.changed(
            status="converted",
            qualification=Qualification(
                verdict=QualificationVerdict.QUALIFIED,
                passed=("budget", "authority"),
                failed=("timeline: too late",),
                missing=("need",),
                decided_at=dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
            ),
            unqualified_reason="was not, at first",
            converted_contact_id=parents.contact.id,
            converted_company_id=parents.company.id,
            converted_deal_id=parents.deal.id,
            converted_at=dt.datetime(2025, 1, 3, 0, 0, 0, 999999, tzinfo=dt.UTC),
            clock=clock,
        )
    if kind == "deal":
        deal = Deal.create(
            name="Acme, 50 seats",
            pipeline="sales",
            stage="proposal",
            amount="12000.50",
            currency="EUR",
            expected_close="2025-06-30",
            owner="sam@sales",
            team="DACH",
            contact_ids=[parents.other_contact.id, parents.contact.id],
            company_id=parents.company.id,
            lead_id=parents.lead.id,
            source="referral",
            probability_override="0.35",
            tags={"upsell"},
            **common,
        )
        entered = CREATED_AT + dt.timedelta(days=3, microseconds=17)
        history = (
            attrs.evolve(deal.stage_history[0], stage="prospecting", left_at=entered),
            StageStay(
                stage="proposal",
                entered_at=entered,
                moved_by="sam@sales",
                amount=Money(Decimal("12000.50"), "EUR"),
                expected_close=dt.date(2025, 6, 30),
                probability=0.6,
                forecast_category=ForecastCategory.BEST_CASE,
                note="sent the proposal",
            ),
        )
        return deal.changed(
            stage_history=history,
            lost_reason="not lost yet",
            closed_at=dt.datetime(2025, 2, 1, 12, 0, 0, 1, tzinfo=dt.UTC),
            clock=clock,
        )
    if kind == "activity":
        return Activity.create(
            kind="meeting",
            occurred_at="2025-01-02T03:04:05.678901+01:00",
            outcome="held",
            direction="inbound",
            duration=dt.timedelta(minutes=45, seconds=30, microseconds=250),
            response_time=3600,
            subject="Kick-off — “Phase 1”",
            contact_id=parents.contact.id,
            company_id=parents.company.id,
            deal_id=parents.deal.id,
            lead_id=parents.lead.id,
            owner="sam@sales",
            **common,
        )
    if kind == "task":
        task = Task.create(
            title="Send the proposal",
            due_at="2025-03-20T17:00:00.000500+01:00",
            priority="high",
            status="in_progress",
            assignee="sam@sales",
            notes="line one\nline two\n\ttabbed 'quoted' \"double\"",
            contact_id=parents.contact.id,
            company_id=parents.company.id,
            deal_id=parents.deal.id,
            lead_id=parents.lead.id,
            **common,
        )
        return task.completed(clock=clock)
    if kind == "order":
        return Order.create(
            total="420.30",
            currency="EUR",
            placed_at="2025-02-03T04:05:06.000007Z",
            status="fulfilled",
            contact_id=parents.contact.id,
            company_id=parents.company.id,
            number="SO-2025-0001",
            lines=[
                {"description": "Seat", "quantity": "3", "unit_price": "100.10", "sku": "S-1"},
                {"description": "Consulting hours", "quantity": "1.5", "unit_price": "80.00"},
            ],
            **common,
        )
    raise ValueError(f"unknown kind {kind!r}")


def dangling(kind: str, field: str, parents: Seed, clock: FixedClock) -> Entity:
    """Return a minimal record of `kind` whose `field` refers to a record that does not exist.

    Args:
        kind: The kind of record.
        field: A reference field of that kind (see `REFERENCES`).
        parents: Stored records for its other references.
        clock: Where "now" comes from.
    """
    missing = uuid.uuid4()
    change: dict[str, Any] = {field: [missing] if field == "contact_ids" else missing}
    return minimal(kind, parents, clock).changed(clock=clock, **change)
