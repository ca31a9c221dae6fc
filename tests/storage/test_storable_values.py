"""What one adapter cannot store, no adapter stores: the same refusals on every adapter.

Text with NUL or a lone surrogate, integers past 64 bits, decimals past 18 + 10 digits and
non-finite floats are refused with a `ValidationError` naming the field, whether the record
was made with `create` or around it (``attrs.evolve``), and the store is unchanged
afterwards. Values at the limits round-trip exactly, and derived facts sum them exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import attrs
import pytest

from crmkit import (
    Contact,
    CustomField,
    CustomFieldSchema,
    Deal,
    FieldType,
    FixedClock,
    Money,
    Order,
    StoredScore,
    ValidationError,
)
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.email import EmailAddress

from .adapters import Adapter

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FORTY_DIGITS = Decimal("1234567890123456789012345678901234567890")
LARGEST = Decimal("999999999999999999.9999999999")  # 18 + 10 digits: the largest storable


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(adapter: Adapter, clock: FixedClock):
    with adapter.make(clock) as store:
        yield store


def _contact(clock: FixedClock) -> Contact:
    return Contact.create(first_name="Ada", email="ada@acme.example", clock=clock)


UNSTORABLE_CONTACT_FIELDS = {
    "first_name": ("first_name", "a\x00b"),
    "surrogate first_name": ("first_name", "\ud800"),
    "title": ("title", "CTO\x00"),
    "tags": ("tags", frozenset({"vip", "a\x00b"})),
    "external_ids.crm": ("external_ids", FrozenMap({"crm": "a\x00b"})),
    "emails[0]": ("emails", (EmailAddress("ada@acme.example", "ada@acme.example\x00"),)),
    "custom.note": ("custom", FrozenMap({"note": "a\x00b"})),
    "custom.surrogate": ("custom", FrozenMap({"surrogate": "\ud800"})),
    "custom.big": ("custom", FrozenMap({"big": 2**63})),
    "custom.small": ("custom", FrozenMap({"small": -(2**63) - 1})),
    "custom.ratio": ("custom", FrozenMap({"ratio": FORTY_DIGITS})),
    "custom.fine": ("custom", FrozenMap({"fine": Decimal("0.00000000001")})),
}


@pytest.mark.parametrize("field", sorted(UNSTORABLE_CONTACT_FIELDS))
def test_an_unstorable_value_made_around_create_is_refused_on_add(store, clock, field):
    """A contact holding an unstorable value is refused naming the field; nothing is stored."""
    name, value = UNSTORABLE_CONTACT_FIELDS[field]
    reported = "first_name" if field.startswith("surrogate") else field
    bad = attrs.evolve(_contact(clock), **{name: value})
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.contacts.add(bad)
    assert info.value.fields == (reported,)
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.contacts.add_many([_contact(clock), bad])
    assert [(p.field, p.row) for p in info.value.problems] == [(reported, 1)]
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count(include_archived=True) == 0
    assert store.history(bad.id) == []


@pytest.mark.parametrize("field", sorted(UNSTORABLE_CONTACT_FIELDS))
def test_an_unstorable_value_is_refused_on_update_and_the_stored_record_stays(store, clock, field):
    """An update to an unstorable value is refused naming the field; version 1 stays."""
    name, value = UNSTORABLE_CONTACT_FIELDS[field]
    reported = "first_name" if field.startswith("surrogate") else field
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(_contact(clock))
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.contacts.update(attrs.evolve(ada, **{name: value}))
    assert info.value.fields == (reported,)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(ada.id) == ada
        assert uow.contacts.get(ada.id).version == 1
    assert [h.action for h in store.history(ada.id)] == ["added"]


@pytest.mark.parametrize(
    ("custom", "field"),
    [
        ({"note": "a\x00b"}, "custom.note"),
        ({"note": "\ud800"}, "custom.note"),
        ({"seats": 2**63}, "custom.seats"),
        ({"seats": -(2**63) - 1}, "custom.seats"),
        ({"ratio": FORTY_DIGITS}, "custom.ratio"),
        ({"ratio": "1E+18"}, "custom.ratio"),
        ({"ratio": "0.00000000001"}, "custom.ratio"),
    ],
)
def test_a_stored_schema_refuses_unstorable_custom_values(store, clock, custom, field):
    """Custom values converted by a stored schema are held to the same limits."""
    schema = CustomFieldSchema(
        "contact",
        [
            CustomField("note", FieldType.TEXT),
            CustomField("seats", FieldType.INTEGER),
            CustomField("ratio", FieldType.DECIMAL),
        ],
    )
    with store.unit_of_work() as uow:
        uow.custom_fields.save(schema)
    as_text = {key: str(value) for key, value in custom.items()}  # converted by the store
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.contacts.add(Contact.create(first_name="Ada", custom=as_text, clock=clock))
    assert info.value.fields == (field,)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 0


def test_values_at_the_limits_round_trip_exactly(store, clock):
    """2**63-1, -2**63, 18 + 10 decimal digits and non-ASCII text are stored as they are."""
    custom = {
        "big": 2**63 - 1,
        "small": -(2**63),
        "largest": LARGEST,
        "smallest": -LARGEST,
        "tiny": Decimal("0.0000000001"),
        "text": "Zoë 🙂 \x01\u2028",
    }
    contact = Contact.create(first_name="Zoë 🙂", custom=custom, clock=clock)
    deal = Deal.create(
        name="Big",
        pipeline="sales",
        stage="prospecting",
        amount=LARGEST,
        currency="EUR",
        clock=clock,
    )
    with store.unit_of_work() as uow:
        contact = uow.contacts.add(contact)
        deal = uow.deals.add(deal)
    with store.unit_of_work(readonly=True) as uow:
        loaded = uow.contacts.get(contact.id)
        assert dict(loaded.custom) == custom
        assert {k: type(v) for k, v in loaded.custom.items()} == {
            k: type(v) for k, v in custom.items()
        }
        assert str(loaded.custom["largest"]) == "999999999999999999.9999999999"
        assert loaded.first_name == "Zoë 🙂"
        assert str(uow.deals.get(deal.id).amount.amount) == "999999999999999999.9999999999"


def test_money_past_the_limits_is_refused_on_every_adapter(store, clock):
    """A deal amount of 10**18 or with 11 decimals is refused naming `amount`."""
    deal = Deal.create(name="D", pipeline="sales", stage="prospecting", clock=clock)
    for amount in (Decimal(10**18), Decimal("0.00000000001"), FORTY_DIGITS):
        with pytest.raises(ValidationError) as info:
            deal.changed(amount=amount, currency="EUR", clock=clock)
        assert info.value.fields == ("amount",)
        with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.deals.add(attrs.evolve(deal, amount=Money(amount, "EUR")))
        assert info.value.fields == ("amount",)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.deals.count() == 0


@pytest.mark.parametrize(
    ("score", "field"),
    [
        ({"value": math.nan}, "value"),
        ({"value": math.inf}, "value"),
        ({"value": -math.inf}, "value"),
        ({"breakdown": [["email opened", math.nan]]}, "breakdown[0][1]"),
        ({"breakdown": {"opens": math.inf}}, "breakdown.opens"),
        ({"grade": "A\x00"}, "grade"),
    ],
)
def test_a_score_that_is_not_storable_is_refused_before_anything_is_written(
    store, clock, score, field
):
    """NaN, infinities (in the value or the breakdown) and NUL text are refused, all or nothing."""
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(_contact(clock))
        bob = uow.contacts.add(Contact.create(first_name="Bob", clock=clock))
    good = StoredScore(ada.id, "fit", 1.5, T0, breakdown=[["title", 1.5]])
    bad = attrs.evolve(StoredScore(bob.id, "fit", 2.0, T0), **score)
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.scores.put_many([good, bad])
        assert [(p.field, p.row) for p in info.value.problems] == [(field, 1)]
        assert uow.scores.get(ada.id, "fit") is None  # the good one was not kept either
        assert uow.scores.put_many([good]) == 1  # the unit of work goes on
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.for_records([ada.id, bob.id], "fit") == {ada.id: good}


def test_order_totals_are_summed_exactly_past_28_digits(store, clock):
    """Facts keep every cent of sums that Decimal's default 28-digit context would round."""
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(_contact(clock))
        orders = [
            Order.create(total=LARGEST, currency="EUR", contact_id=ada.id, clock=clock)
            for _ in range(3)
        ]
        uow.orders.add_many(orders)
    expected = Decimal("2999999999999999999.9999999997")
    assert Decimal("3000000000000000000.000000000") == LARGEST * 3  # the default context
    with store.unit_of_work(readonly=True) as uow:
        facts = uow.contacts.facts(ada.id)
    assert facts.order_count == 3
    assert facts.order_totals == {"EUR": expected}
    assert str(facts.order_totals["EUR"]) == "2999999999999999999.9999999997"
