"""A realistic sample CRM, made deterministically from a seed.

Companies and people from six countries with plausible names, web domains, emails and
phone numbers that pass real validation; leads with BANT facts; deals across the sales and
renewal pipelines with a year of stage history; a year of calls, emails and meetings; and
orders. The same seed gives the same records, ids included (every record takes its time
from a `FixedClock`).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import phonenumbers

from crmkit.clock import FixedClock
from crmkit.errors import TransitionError
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.pipelines.default import default_renewal_pipeline, default_sales_pipeline
from crmkit.pipelines.pipeline import Pipeline
from crmkit.storage.protocol import Store

__all__ = ["NOW", "SIZES", "SampleSize", "SampleSummary", "build_sample_crm"]

NOW = dt.datetime(2026, 6, 30, 17, 0, tzinfo=dt.UTC)
"""The demo's "now": fixed, so the same seed always tells the same story."""

Progress = Callable[[str, int, int], None]


@attrs.frozen
class SampleSize:
    """How big the sample CRM is."""

    companies: int
    contacts: int
    leads: int
    deals: int
    activities_per_contact: int
    orders: int


SIZES = {
    "small": SampleSize(150, 500, 120, 400, 5, 400),
    "medium": SampleSize(600, 2000, 400, 1200, 8, 1500),
    "large": SampleSize(3000, 10000, 2000, 6000, 8, 8000),
}
"""The sizes `crmkit demo --size` offers; medium is the default."""


@attrs.frozen
class SampleSummary:
    """What `build_sample_crm` stored, by kind."""

    companies: int
    contacts: int
    leads: int
    deals: int
    activities: int
    orders: int


_COUNTRIES: dict[str, dict[str, Any]] = {
    "DE": {
        "first": ["Anna", "Lukas", "Mia", "Jonas", "Lea", "Felix", "Sophie", "Paul", "Jürgen"],
        "last": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker"],
        "suffix": "GmbH",
        "tld": "de",
    },
    "GB": {
        "first": ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily"],
        "last": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans"],
        "suffix": "Ltd",
        "tld": "co.uk",
    },
    "FR": {
        "first": ["Gabriel", "Louise", "Raphaël", "Jade", "Léo", "Chloé", "Hugo", "Inès"],
        "last": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit"],
        "suffix": "SAS",
        "tld": "fr",
    },
    "US": {
        "first": ["James", "Olivia", "Liam", "Emma", "Noah", "Sophia", "Ethan", "Grace"],
        "last": ["Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Lee"],
        "suffix": "Inc.",
        "tld": "com",
    },
    "NL": {
        "first": ["Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Finn", "Sanne"],
        "last": ["de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit"],
        "suffix": "B.V.",
        "tld": "nl",
    },
    "ES": {
        "first": ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Valeria", "Álvaro"],
        "last": ["García", "Fernández", "González", "Rodríguez", "López", "Martínez"],
        "suffix": "S.L.",
        "tld": "es",
    },
}
_WORDS = [
    "Nord", "Blue", "Apex", "Lumen", "Vertex", "Harbor", "Summit", "Atlas", "Nimbus",
    "Orbit", "Cedar", "Pioneer", "Quantum", "Riverside", "Solar", "Terra", "Unity", "Vista",
]  # fmt: skip
_TRADES = ["Systems", "Logistics", "Foods", "Energy", "Health", "Analytics", "Robotics", "Media"]
_INDUSTRIES = ["Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics"]
_TITLES = [
    ("CEO", 3), ("CTO", 3), ("Head of Sales", 5), ("Head of Operations", 4),
    ("Procurement Manager", 6), ("Engineer", 10), ("Analyst", 8), ("Office Manager", 4),
]  # fmt: skip
_SOURCES = [("referral", 0.62), ("webinar", 0.45), ("website", 0.38), ("cold call", 0.22)]
_LOST_REASONS = ["price", "competitor", "no budget", "timing", "no decision"]


def _day(rng: random.Random, days_back: int) -> dt.datetime:
    """An instant within the last `days_back` days before `NOW`, in office hours."""
    day = NOW - dt.timedelta(days=rng.randrange(days_back))
    return day.replace(hour=rng.randrange(8, 18), minute=rng.randrange(60), second=0)


def _phone(rng: random.Random, region: str) -> str | None:
    """A mobile number of the region that passes `phonenumbers` validation."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return None
    digits = str(example.national_number)
    for _attempt in range(5):
        tail = "".join(str(rng.randrange(10)) for _ in range(4))
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code, national_number=int(digits[:-4] + tail)
        )
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _ascii(text: str) -> str:
    """The text as a lower-case ASCII word for an address (accents dropped)."""
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return "".join(c for c in plain if (c.isascii() and c.isalnum()) or c == "-")


def build_sample_crm(
    store: Store, *, seed: int = 7, size: str = "medium", progress: Progress | None = None
) -> SampleSummary:
    """Fill an empty store with a sample CRM (see the module); return what it stored.

    Args:
        store: An empty store.
        seed: The random seed: the same seed gives the same records.
        size: ``"small"``, ``"medium"`` or ``"large"`` (`SIZES`).
        progress: Called with ``(step, done, total)`` as the work goes on.
    """
    rng = random.Random(seed)
    plan = SIZES[size]
    clock = FixedClock(NOW)
    report = progress or (lambda step, done, total: None)
    sales, renewals = default_sales_pipeline(), default_renewal_pipeline()

    report("companies", 0, plan.companies)
    companies = [_company(rng, i, clock) for i in range(plan.companies)]
    with store.unit_of_work(actor="demo") as uow:
        uow.companies.add_many(companies)
    report("companies", plan.companies, plan.companies)

    contacts = [_contact(rng, i, rng.choice(companies), clock) for i in range(plan.contacts)]
    with store.unit_of_work(actor="demo") as uow:
        uow.contacts.add_many(contacts, progress=lambda d, t: report("contacts", d, t or 0))

    leads = [_lead(rng, i, clock) for i in range(plan.leads)]
    with store.unit_of_work(actor="demo") as uow:
        uow.leads.add_many(leads)
    report("leads", plan.leads, plan.leads)

    by_company: dict[uuid.UUID, list[Contact]] = {}
    for contact in contacts:
        by_company.setdefault(contact.company_id, []).append(contact)  # type: ignore[arg-type]
    deals = []
    for i in range(plan.deals):
        company = rng.choice(companies)
        people = by_company.get(company.id) or [rng.choice(contacts)]
        pipeline = renewals if rng.random() < 0.25 else sales
        deals.append(_deal_history(rng, i, pipeline, company, people[:2]))
    with store.unit_of_work(actor="demo") as uow:
        uow.deals.add_many(deals, progress=lambda d, t: report("deals", d, t or 0))

    activities = _activities(rng, contacts, plan.activities_per_contact, clock)
    # The first touches of the leads draw from their own generator, so the rest of the
    # sample stays what it was for a seed.
    activities += _first_touches(random.Random(f"{seed}-first-touch"), leads, clock)
    with store.unit_of_work(actor="demo") as uow:
        uow.activities.add_many(
            activities, batch_size=2000, progress=lambda d, t: report("activities", d, t or 0)
        )

    buyers = rng.sample(contacts, k=min(len(contacts), max(1, plan.orders // 3)))
    orders = [_order(rng, i, rng.choice(buyers), clock) for i in range(plan.orders)]
    with store.unit_of_work(actor="demo") as uow:
        uow.orders.add_many(orders, progress=lambda d, t: report("orders", d, t or 0))
    return SampleSummary(
        len(companies), len(contacts), len(leads), len(deals), len(activities), len(orders)
    )


def _company(rng: random.Random, number: int, clock: FixedClock) -> Company:
    country = rng.choice(list(_COUNTRIES))
    info = _COUNTRIES[country]
    name = f"{rng.choice(_WORDS)} {rng.choice(_TRADES)} {number}"
    return Company.create(
        name=f"{name} {info['suffix']}",
        domain=f"{_ascii(name.replace(' ', '-'))}.{info['tld']}",
        industry=rng.choice(_INDUSTRIES),
        employees=int(rng.lognormvariate(4.0, 1.3)) + 2,
        country=country,
        tags=["key account"] if rng.random() < 0.08 else [],
        created_at=_day(rng, 720),
        clock=clock,
    )


def _contact(rng: random.Random, number: int, company: Company, clock: FixedClock) -> Contact:
    info = _COUNTRIES[company.country or "DE"]
    first, last = rng.choice(info["first"]), rng.choice(info["last"])
    title = rng.choices([t for t, _w in _TITLES], weights=[w for _t, w in _TITLES])[0]
    local = f"{_ascii(first)}.{_ascii(last.replace(' ', ''))}{number}"
    return Contact.create(
        first_name=first,
        last_name=last,
        email=f"{local}@{company.domain}",
        phone=_phone(rng, company.country or "DE"),
        title=title,
        company_id=company.id,
        country=company.country,
        tags=["vip"] if rng.random() < 0.1 else [],
        lead_source=rng.choice(_SOURCES)[0],
        created_at=_day(rng, 540),
        clock=clock,
    )


def _lead(rng: random.Random, number: int, clock: FixedClock) -> Lead:
    country = rng.choice(list(_COUNTRIES))
    info = _COUNTRIES[country]
    first, last = rng.choice(info["first"]), rng.choice(info["last"])
    company = f"{rng.choice(_WORDS)} {rng.choice(_TRADES)} L{number}"
    domain = f"{_ascii(company.replace(' ', '-'))}.{info['tld']}"
    bant: dict[str, Any] = {}
    if rng.random() < 0.9:
        bant["budget"] = str(rng.choice([2_000, 8_000, 15_000, 40_000, 90_000]))
        bant["currency"] = "EUR"
    if rng.random() < 0.9:
        bant["authority"] = rng.random() < 0.75
    if rng.random() < 0.9:
        bant["need"] = rng.choice(["replace spreadsheets", "one view of customers", "forecasts"])
    if rng.random() < 0.85:
        bant["timeline"] = (NOW + dt.timedelta(days=rng.randrange(10, 150))).date().isoformat()
    return Lead.create(
        first_name=first,
        last_name=last,
        email=f"{_ascii(first)}.{number}@{domain}",
        company_name=f"{company} {info['suffix']}",
        company_domain=domain,
        employees=int(rng.lognormvariate(4.0, 1.2)) + 2,
        country=country,
        industry=rng.choice(_INDUSTRIES),
        source=rng.choice(_SOURCES)[0],
        bant=bant or None,
        created_at=_day(rng, 120),
        clock=clock,
    )


def _deal_history(
    rng: random.Random, number: int, pipeline: Pipeline, company: Company, people: list[Contact]
) -> Deal:
    """A deal opened in the last year and moved through its pipeline until now."""
    source, win_rate = rng.choice(_SOURCES)
    amount = rng.choice([3_000, 6_000, 12_000, 25_000, 48_000, 90_000])
    if amount >= 48_000:
        win_rate -= 0.12  # big deals are harder to win
    opened = _day(rng, 365)
    at = opened
    deal = pipeline.open_deal(
        name=f"{company.name}: {rng.choice(['platform', 'seats', 'support', 'rollout'])}",
        amount=str(amount),
        currency="EUR",
        expected_close=(opened + dt.timedelta(days=rng.randrange(30, 150))).date(),
        company_id=company.id,
        contact_ids=[p.id for p in people],
        source=source,
        owner=rng.choice(["ann", "ben", "chloe", "dev"]),
        clock=FixedClock(opened),
    )
    open_stages = [s.key for s in pipeline.open_stages]
    won = next(iter(pipeline.won_stages)).key
    lost = next(iter(pipeline.lost_stages)).key
    for stage in open_stages[1:]:
        at += dt.timedelta(days=rng.randrange(4, 30))
        if at >= NOW:
            return deal
        if rng.random() < 0.25 * (1 - win_rate):  # falls out along the way
            return _move(deal, pipeline, lost, at, lost_reason=rng.choice(_LOST_REASONS))
        deal = _move(deal, pipeline, stage, at)
    at += dt.timedelta(days=rng.randrange(3, 20))
    if at >= NOW:
        return deal
    if rng.random() < win_rate:
        return _move(deal, pipeline, won, at)
    return _move(deal, pipeline, lost, at, lost_reason=rng.choice(_LOST_REASONS))


def _move(deal: Deal, pipeline: Pipeline, stage: str, at: dt.datetime, **changes: Any) -> Deal:
    try:
        return pipeline.move(deal, stage, by=deal.owner, clock=FixedClock(at), **changes).deal
    except TransitionError:  # pragma: no cover - the sample only makes allowed moves
        return deal


_KINDS: list[tuple[str, list[str | None], int]] = [
    ("email", ["sent", "opened", "clicked", "replied", "bounced"], 5),
    ("call", ["connected", "no_answer", "voicemail", "completed"], 3),
    ("meeting", ["completed", "cancelled", "rescheduled"], 2),
    ("web_visit", [None], 2),
]


def _activities(
    rng: random.Random, contacts: list[Contact], per_contact: int, clock: FixedClock
) -> list[Activity]:
    made = []
    weights = [w for _k, _o, w in _KINDS]
    for contact in contacts:
        keen = rng.random()  # some people engage a lot, most a little
        count = int(per_contact * 2 * keen * keen) + rng.randrange(2)
        burst = int(per_contact * keen) if keen > 0.8 else 0  # busy in the last month
        for number in range(count + burst):
            kind, outcomes, _w = rng.choices(_KINDS, weights=weights)[0]
            recent = 30 if number >= count else (365 if keen > 0.3 else 200)
            made.append(
                Activity.create(
                    kind=kind,
                    outcome=rng.choice(outcomes),
                    occurred_at=_day(rng, recent),
                    subject=f"{kind.replace('_', ' ')} with {contact.first_name}",
                    contact_id=contact.id,
                    company_id=contact.company_id,
                    duration=rng.randrange(300, 3600) if kind in ("call", "meeting") else None,
                    clock=clock,
                )
            )
    return made


def _first_touches(rng: random.Random, leads: list[Lead], clock: FixedClock) -> list[Activity]:
    """Most leads get an outbound call or email, some fast, some late; a few none yet."""
    made = []
    for lead in leads:
        if rng.random() < 0.15:
            continue
        delay = dt.timedelta(hours=rng.choice([0.25, 0.5, 1, 2, 3, 5, 8, 20, 30, 50]))
        kind = rng.choice(["call", "email"])
        made.append(
            Activity.create(
                kind=kind,
                direction="outbound",
                outcome="connected" if kind == "call" else "sent",
                occurred_at=min(lead.created_at + delay, NOW),
                subject=f"first {kind} with {lead.first_name}",
                lead_id=lead.id,
                clock=clock,
            )
        )
    return made


def _order(rng: random.Random, number: int, buyer: Contact, clock: FixedClock) -> Order:
    quantity = rng.randrange(1, 20)
    price = rng.choice(["49.00", "99.00", "249.00", "990.00"])
    status = rng.choices(["paid", "fulfilled", "refunded", "cancelled"], weights=[6, 6, 1, 1])[0]
    return Order.create(
        number=f"SO-{10000 + number}",
        currency="EUR",
        placed_at=_day(rng, 365),
        status=status,
        contact_id=buyer.id,
        company_id=buyer.company_id,
        lines=[{"description": "crmkit seats", "quantity": quantity, "unit_price": price}],
        clock=clock,
    )
