"""A deterministic CRM with related records, for the related-record segment benchmarks.

Per 100 contacts: 5 companies (10 industries), 1,000 activities over two years (a tenth of
them in the last 30 days), 25 deals (a fifth of them won) and 50 orders; every contact has an
engagement score. Written through `add_many` and `uow.scores.put_many`, a chunk of contacts
and their related records per unit of work.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from crmkit import Activity, Company, Contact, Deal, FixedClock, Money, Order
from crmkit.ids import IdGenerator
from crmkit.storage.protocol import StoredScore
from crmkit.values.enums import ActivityKind

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
INDUSTRIES = (
    "software",
    "retail",
    "banking",
    "health",
    "energy",
    "media",
    "logistics",
    "education",
    "travel",
    "farming",
)
COUNTRIES = ("DE", "AT", "CH", "FR", "IT", "ES", "NL", "GB", "US", "PL")
KINDS = tuple(ActivityKind)
ACTIVITIES_PER_CONTACT = 10
CHUNK = 10_000
"""Contacts per unit of work while loading."""


def _instant(rnd: random.Random, days: int) -> dt.datetime:
    return NOW - dt.timedelta(minutes=rnd.randrange(days * 24 * 60))


def load(store: Any, n: int, seed: int = 5) -> None:
    """Write `n` contacts and their companies, activities, deals, orders and scores."""
    rnd = random.Random(seed)
    ids = IdGenerator()
    clock = FixedClock(NOW)
    companies = [
        Company(
            id=ids.next(clock),
            created_at=NOW,
            updated_at=NOW,
            name=f"Company {i}",
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            employees=rnd.randrange(1, 5000),
            country=rnd.choice(COUNTRIES),
        )
        for i in range(max(1, n // 20))
    ]
    with store.unit_of_work(actor="bench") as uow:
        uow.companies.add_many(companies, batch_size=5000)
    for start in range(0, n, CHUNK):
        people = list(_contacts(rnd, ids, clock, companies, min(CHUNK, n - start), start))
        with store.unit_of_work(actor="bench") as uow:
            uow.contacts.add_many(people, batch_size=5000)
            uow.activities.add_many(_activities(rnd, ids, clock, people), batch_size=5000)
            uow.deals.add_many(_deals(rnd, ids, clock, people), batch_size=5000)
            uow.orders.add_many(_orders(rnd, ids, clock, people), batch_size=5000)
            uow.scores.put_many(
                StoredScore(
                    record_id=p.id, scorer="engagement", value=rnd.random() * 100, computed_at=NOW
                )
                for p in people
            )


def _contacts(
    rnd: random.Random,
    ids: IdGenerator,
    clock: FixedClock,
    companies: list[Company],
    count: int,
    offset: int,
) -> Iterator[Contact]:
    for i in range(count):
        created = _instant(rnd, 730)
        company = rnd.choice(companies) if rnd.random() < 0.8 else None
        yield Contact(
            id=ids.next(clock),
            created_at=created,
            updated_at=created,
            first_name=f"First{offset + i}",
            country=rnd.choice(COUNTRIES),
            company_id=company.id if company else None,
        )


def _activities(
    rnd: random.Random, ids: IdGenerator, clock: FixedClock, people: list[Contact]
) -> Iterator[Activity]:
    for person in people:
        for _ in range(ACTIVITIES_PER_CONTACT):
            at = _instant(rnd, 30) if rnd.random() < 0.1 else _instant(rnd, 730)
            yield Activity(
                id=ids.next(clock),
                created_at=at,
                updated_at=at,
                kind=rnd.choice(KINDS),
                occurred_at=at,
                contact_id=person.id,
                company_id=person.company_id,
            )


def _deals(
    rnd: random.Random, ids: IdGenerator, clock: FixedClock, people: list[Contact]
) -> Iterator[Deal]:
    for person in rnd.sample(people, len(people) // 4):
        won = rnd.random() < 0.2
        yield Deal(
            id=ids.next(clock),
            created_at=NOW,
            updated_at=NOW,
            name=f"Deal for {person.first_name}",
            pipeline="sales",
            stage="closed_won" if won else rnd.choice(("prospecting", "discovery", "proposal")),
            amount=Money(Decimal(rnd.randrange(1_000, 100_000)), "EUR"),
            contact_ids=(person.id,),
            company_id=person.company_id,
        )


def _orders(
    rnd: random.Random, ids: IdGenerator, clock: FixedClock, people: list[Contact]
) -> Iterator[Order]:
    for _ in range(len(people) // 2):
        person = rnd.choice(people)
        at = _instant(rnd, 730)
        yield Order(
            id=ids.next(clock),
            created_at=at,
            updated_at=at,
            total=Money(Decimal(rnd.randrange(10, 5_000)), "EUR"),
            placed_at=at,
            contact_id=person.id,
            company_id=person.company_id,
        )


def random_id() -> uuid.UUID:
    """An id no record has."""
    return uuid.uuid4()
