"""`columns()` and `to_pandas(repo)` without names fetch a default set; `email`, `phone` and
`custom.<key>` are one typed column each: the same on every adapter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crmkit import Contact, FixedClock, Lead, ValidationError
from crmkit.model import CustomField, CustomFieldSchema
from crmkit.segments import parse, to_pandas

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)

CONTACT_DEFAULT = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company_id",
    "country",
    "time_zone",
    "owner",
    "lifecycle_stage",
    "lead_source",
]


@pytest.fixture
def store(adapter):
    with adapter.make(FixedClock(NOW)) as store:
        yield store


@pytest.fixture
def people(store):
    """Ada (two emails, a phone, custom values), Bob (nothing), in id order."""
    clock = FixedClock(NOW)
    ada = Contact.create(
        first_name="Ada",
        email="Ada@Example.COM",
        emails=["second@example.com"],
        phone="+49 30 1234567",
        custom={"plan": "gold", "seats": 5, "since": dt.date(2020, 5, 1), "mrr": Decimal("9.50")},
        clock=clock,
    )
    bob = Contact.create(first_name="Bob", clock=clock)
    with store.unit_of_work() as uow:
        return uow.contacts.add_many([ada, bob])


def test_columns_without_names_fetch_the_default_set(store, people):
    """Every one-column field in declaration order, primary email and phone for the lists."""
    with store.unit_of_work(readonly=True) as uow:
        got = uow.contacts.columns()
    assert list(got) == CONTACT_DEFAULT
    assert got["id"] == [p.id for p in people]
    assert got["first_name"] == ["Ada", "Bob"]
    assert got["lifecycle_stage"] == ["lead", "lead"]
    assert got["created_at"] == [NOW, NOW]


def test_email_and_phone_are_the_primary_ones_as_text(store, people):
    """The first address normalised (domain lowercased) and the first number in E.164."""
    with store.unit_of_work(readonly=True) as uow:
        got = uow.contacts.columns(["email", "phone"])
    assert got == {"email": ["Ada@example.com", None], "phone": ["+49301234567", None]}


def test_custom_key_is_one_typed_column_none_when_missing(store, people):
    """`custom.<key>` gives the value as the record holds it: int, date, Decimal, text."""
    with store.unit_of_work(readonly=True) as uow:
        got = uow.contacts.columns(["custom.plan", "custom.seats", "custom.since", "custom.mrr"])
    assert got == {
        "custom.plan": ["gold", None],
        "custom.seats": [5, None],
        "custom.since": [dt.date(2020, 5, 1), None],
        "custom.mrr": [Decimal("9.50"), None],
    }
    assert type(got["custom.mrr"][0]) is Decimal
    assert type(got["custom.since"][0]) is dt.date


def test_custom_keys_follow_the_stored_schema_once_there_is_one(store, people):
    """Without a schema any key reads (None if absent); with one, an unknown key is refused."""
    with store.unit_of_work() as uow:
        assert uow.contacts.columns(["custom.nope"]) == {"custom.nope": [None, None]}
        with pytest.raises(ValidationError) as caught:
            uow.contacts.columns(["custom."])
        assert caught.value.fields == ("names",)
        uow.custom_fields.save(
            CustomFieldSchema("contact", (CustomField("plan", "text"),), version=1)
        )
        assert uow.contacts.columns(["custom.plan"]) == {"custom.plan": ["gold", None]}
        with pytest.raises(ValidationError) as caught:
            uow.contacts.columns(["custom.plan", "custom.nope"])
        assert [p.value for p in caught.value.problems] == ["custom.nope"]
        assert "custom.plan" in str(caught.value)


def test_a_segment_limits_the_default_columns_too(store, people):
    """`columns(None, segment)` is the default set of the segment's members."""
    with store.unit_of_work(readonly=True) as uow:
        got = uow.contacts.columns(None, parse('first_name = "Bob"'))
    assert got["first_name"] == ["Bob"]
    assert got["email"] == [None]


def test_a_lead_email_and_phone_are_text_columns(store):
    """A lead's single address and number read as text, in its default set too."""
    lead = Lead.create(first_name="Grace", email="Grace@Navy.Example", phone="+1 202 555 0143")
    with store.unit_of_work() as uow:
        uow.leads.add(lead)
        got = uow.leads.columns(["email", "phone"])
        assert got == {"email": ["Grace@navy.example"], "phone": ["+12025550143"]}
        assert {"email", "phone"} <= set(uow.leads.columns())


def test_to_pandas_without_columns_gives_the_default_frame(store, people):
    """``to_pandas(uow.contacts)`` works without a column list; an empty list is refused."""
    pytest.importorskip("pandas")
    with store.unit_of_work(readonly=True) as uow:
        frame = to_pandas(uow.contacts)
        assert list(frame.columns) == CONTACT_DEFAULT
        assert frame["email"][0] == "Ada@example.com"
        assert frame["email"].isna().tolist() == [False, True]  # pandas' missing text
        with pytest.raises(ValidationError):
            to_pandas(uow.contacts, [])
