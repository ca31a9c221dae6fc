"""Segments over records in memory: binding, related records, facts, scores, semantics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crmkit import (
    Activity,
    Company,
    Contact,
    CustomField,
    CustomFieldSchema,
    FixedClock,
    Money,
    Order,
    RecordFacts,
    SegmentError,
)
from crmkit.conditions import F, Related, RelatedCount, WithinLast
from crmkit.conditions.binding import FactTest, ScoreTest, bind, known_names
from crmkit.model import FrozenMap
from crmkit.segments import ListSource, matcher, parse, select

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture
def world():
    acme = Company.create(name="Acme", industry="software", employees=250, clock=CLOCK)
    shop = Company.create(name="Shop", industry="retail", employees=5, clock=CLOCK)
    ada = Contact.create(
        first_name="Ada",
        email="Ada@Acme.de",
        country="DE",
        company_id=acme.id,
        tags={"vip"},
        custom={"plan": "pro", "seats": 5},
        clock=CLOCK,
    )
    bob = Contact.create(first_name="Bob", country="FR", company_id=shop.id, clock=CLOCK)
    cy = Contact.create(first_name="Çy", email="cy@x.com", clock=CLOCK)
    day = dt.timedelta(days=1)
    activities = [
        Activity.create(
            kind="email",
            outcome="opened",
            occurred_at=NOW - 2 * day,
            contact_id=ada.id,
            clock=CLOCK,
        ),
        Activity.create(
            kind="email",
            outcome="opened",
            occurred_at=NOW - 5 * day,
            contact_id=ada.id,
            clock=CLOCK,
        ),
        Activity.create(
            kind="email",
            outcome="opened",
            occurred_at=NOW - 9 * day,
            contact_id=ada.id,
            clock=CLOCK,
        ),
        Activity.create(
            kind="email",
            outcome="opened",
            occurred_at=NOW - 60 * day,
            contact_id=bob.id,
            clock=CLOCK,
        ),
        Activity.create(kind="call", occurred_at=NOW - day, contact_id=bob.id, clock=CLOCK),
    ]
    orders = [
        Order.create(
            total="1200", currency="EUR", placed_at=NOW - 3 * day, contact_id=ada.id, clock=CLOCK
        ),
    ]
    facts = [
        RecordFacts(
            ada.id,
            last_activity_at=NOW - 2 * day,
            activity_counts=FrozenMap({"email": 3}),
            order_count=1,
            order_totals=FrozenMap({"EUR": Decimal("1200")}),
            last_order_at=NOW - 3 * day,
        ),
        RecordFacts(
            bob.id, last_activity_at=NOW - day, activity_counts=FrozenMap({"email": 1, "call": 1})
        ),
    ]
    source = ListSource(
        {"company": [acme, shop], "activity": activities, "order": orders},
        facts,
        {"engagement": {ada.id: 72.5, bob.id: 10.0}},
    )
    return {"ada": ada, "bob": bob, "cy": cy, "source": source, "all": [ada, bob, cy]}


def names(world, segment, **options):
    found = select(world["all"], segment, "contact", source=world["source"], now=NOW, **options)
    return [c.first_name for c in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('country in ("DE", "FR")', ["Ada", "Bob"]),
        ('not country = "DE"', ["Bob", "Çy"]),
        ('country != "DE"', ["Bob"]),  # missing is false, not is the complement
        ('company.industry = "software"', ["Ada"]),
        ('company matches (employees < 10 or industry = "software")', ["Ada", "Bob"]),
        ('not company matches (industry = "software")', ["Bob", "Çy"]),
        (
            'at least 3 activities where (kind = "email" and outcome = "opened"'
            " and occurred_at within 30 days)",
            ["Ada"],
        ),
        ('no activities where (kind = "call")', ["Ada", "Çy"]),
        ("count(activities) = 2", ["Bob"]),
        ("last_activity_at within 1 day", ["Bob"]),
        ("last_activity_at is empty", ["Çy"]),
        ("order_count = 0", ["Bob", "Çy"]),
        ("total_spent >= 1000 EUR", ["Ada"]),
        ("total_spent < 1000 EUR", ["Bob", "Çy"]),
        ("total_spent > 0 USD", []),
        ("score.engagement >= 50", ["Ada"]),
        ("score.engagement is empty", ["Çy"]),
        ('email contains "ACME"', ["Ada"]),
        ('email = "Ada@acme.de"', ["Ada"]),  # the normal form: domain lowercased
        ('email = "ada@acme.de"', []),
        ('first_name starts with "ç"', []),  # only A-Z ignore case
        ('first_name starts with "Ç"', ["Çy"]),
        ('custom.plan = "pro" and custom.seats >= 5', ["Ada"]),
        ('has tag "VIP"', ["Ada"]),
        ("created_at this quarter", ["Ada", "Bob", "Çy"]),
        ("created_at >= 2026-05-14", ["Ada", "Bob", "Çy"]),
        ("created_at < 2026-05-14", []),
    ],
)
def test_segments_over_contacts_in_memory(world, text, expected):
    assert names(world, parse(text)) == expected


def test_bare_custom_names_need_a_schema_and_schemas_type_their_values(world):
    with pytest.raises(SegmentError, match=r"custom\.plan"):
        names(world, parse('plan = "pro"'))
    schema = CustomFieldSchema(
        "contact",
        (CustomField("plan", "choice", choices=("free", "pro")), CustomField("seats", "integer")),
        1,
    )
    schemas = {"contact": schema}.get
    assert names(world, parse('plan = "pro"'), schemas=schemas) == ["Ada"]
    with pytest.raises(SegmentError, match="did you mean 'pro'"):
        names(world, parse('plan = "proo"'), schemas=schemas)
    with pytest.raises(SegmentError, match="is a number"):
        names(world, parse('seats > "many"'), schemas=schemas)
    with pytest.raises(SegmentError, match="no custom field"):
        names(world, parse("custom.colour = 1"), schemas=schemas)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contry = 1", "did you mean 'country'"),
        ("employees > 1", "unknown field"),
        ("country > 5", "is text"),
        ("created_at > 5", "is an instant"),
        ('tags = "vip"', "is a set"),
        ("emails contains 1", "only be tested with 'is empty'"),
        ("total_spent > 100", "per currency"),
        ("country within 3 days", "not a date"),
        ('lifecycle_stage = "custmer"', "did you mean 'customer'"),
        ("at least 1 companies", "related records"),
        ("company.foo = 1", "unknown field 'foo' for a company"),
        ("parent matches (name = 1)", "has no relation 'parent'"),
        ("count(contacts) > 1", "has no relation 'contacts'"),
        ("score.a.b > 1", "not a score"),
    ],
)
def test_binding_refuses_what_would_be_silently_false(world, text, message):
    with pytest.raises(SegmentError, match=message):
        bind(parse(text), "contact")


def test_binding_makes_facts_scores_and_relations_explicit():
    bound = bind(
        parse('company.industry = "x" and score.fit > 1 and order_count > 1'), "contact"
    ).condition
    items = bound.items
    assert items[0] == Related("company", F("industry") == "x")
    assert isinstance(items[1], ScoreTest)
    assert items[1].scorer == "fit"
    assert isinstance(items[2], FactTest)
    assert "last_activity_at" in known_names("contact")
    assert bind(parse("amount.currency = 'EUR'"), "deal").condition == (
        F("amount.currency") == "EUR"
    )


def test_counting_deals_through_their_contacts_and_contacts_of_a_company(world):
    from crmkit import Deal

    ada, bob = world["ada"], world["bob"]
    deal = Deal.create(
        name="d", pipeline="sales", stage="proposal", contact_ids=[ada.id, bob.id], clock=CLOCK
    )
    source = ListSource({"deal": [deal], "contact": world["all"]})
    found = select(
        world["all"],
        'at least 1 deals where (stage = "proposal")',
        "contact",
        source=source,
        now=NOW,
    )
    assert [c.first_name for c in found] == ["Ada", "Bob"]
    test = matcher('count(contacts where country = "DE") = 1', "deal", source=source, now=NOW)
    assert test(deal)
    acme_id = ada.company_id
    test = matcher("at least 1 contacts", "company", source=source, now=NOW)
    assert test(Company.create(name="Acme", id=acme_id, clock=CLOCK))


def test_the_predicate_is_compiled_once_and_reads_no_clock_per_row(world):
    calls = []

    class CountingClock:
        def now(self):
            calls.append(1)
            return NOW

    test = matcher(WithinLast("created_at", 1, "day"), "contact", clock=CountingClock())
    assert all(test(c) for c in world["all"] * 100)
    assert calls == [1]


def test_related_count_and_money_texts():
    assert str(RelatedCount("orders", None, ">", 2)) == "count(orders) > 2"
    assert parse("total_spent between 10 EUR and 20.5 EUR") == F("total_spent").between(
        Money.of("10", "EUR"), Money.of("20.5", "EUR")
    )
