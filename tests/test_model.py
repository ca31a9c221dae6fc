import datetime as dt
import uuid
from decimal import Decimal

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import (
    Activity,
    ActivityKind,
    ActivityOutcome,
    Company,
    ConsentPurpose,
    Contact,
    Deal,
    FixedClock,
    Lead,
    LeadStatus,
    Money,
    Order,
    Priority,
    Task,
    TaskStatus,
    ValidationError,
)
from crmkit.model import FrozenMap, normalize_domain
from crmkit.model.contact import Address

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    return FixedClock(T0)


def test_contact_create_validates_and_normalises(clock):
    company_id = uuid.uuid4()
    ada = Contact.create(
        first_name=" Ada ",
        last_name="Lovelace",
        email="Ada@Acme.de",
        emails=["ada.l@acme.de", "ADA@acme.de"],
        phone="030 901820",
        country="de",
        company_id=str(company_id),
        tags={"VIP", " key-account "},
        time_zone="Europe/Berlin",
        custom={"seats": 50, "plan": "pro", "ratio": Decimal("0.5")},
        clock=clock,
    )
    assert ada.first_name == "Ada"
    assert ada.name == "Ada Lovelace"
    assert str(ada.email) == "Ada@acme.de"
    assert len(ada.emails) == 2  # ADA@acme.de normalises to the same address: kept once
    assert ada.phone is not None
    assert ada.phone.e164 == "+4930901820"
    assert ada.country == "DE"
    assert ada.company_id == company_id
    assert ada.tags == frozenset({"vip", "key-account"})
    assert ada.custom == {"seats": 50, "plan": "pro", "ratio": Decimal("0.5")}
    assert ada.version == 0
    assert ada.created_at == ada.updated_at == T0
    assert ada.id.version == 7
    hash(ada)  # entities with custom fields stay hashable


def test_contact_reports_every_problem_at_once():
    with pytest.raises(ValidationError) as info:
        Contact.create(
            first_name=7,  # type: ignore[arg-type]
            email="bob@@x",
            phone="12",
            country="XX",
            time_zone="Mars/Olympus",
            tags=[""],
            company_id="not-a-uuid",
        )
    assert set(info.value.fields) == {
        "first_name",
        "email",
        "phone",
        "country",
        "time_zone",
        "tags",
        "company_id",
    }


def test_contact_needs_a_name_or_an_email():
    with pytest.raises(ValidationError, match="name"):
        Contact.create(title="CTO")
    assert Contact.create(email="x@example.com").name == "x@example.com"


def test_unknown_fields_are_refused_by_changed(clock):
    ada = Contact.create(first_name="Ada", clock=clock)
    with pytest.raises(ValidationError, match="is not a contact field"):
        ada.changed(shoe_size=42)
    with pytest.raises(ValidationError, match="managed by crmkit"):
        ada.changed(version=5)


@pytest.mark.parametrize(
    "entity",
    [
        lambda c: Contact.create(first_name="Ada", clock=c),
        lambda c: Company.create(name="Acme", clock=c),
        lambda c: Deal.create(name="D", pipeline="sales", stage="prospecting", clock=c),
        lambda c: Lead.create(first_name="L", clock=c),
        lambda c: Task.create(title="Call back", contact_id=uuid.uuid4(), clock=c),
        lambda c: Activity.create(kind="call", contact_id=uuid.uuid4(), clock=c),
        lambda c: Order.create(total="10", currency="EUR", contact_id=uuid.uuid4(), clock=c),
    ],
)
def test_entities_are_frozen(entity, clock):
    record = entity(clock)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.version = 3
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.created_at = T0


@given(st.integers(min_value=1, max_value=10**7), st.sampled_from(["title", "owner", "last_name"]))
def test_a_change_bumps_updated_at_and_keeps_created_at_and_version(seconds, field):
    clock = FixedClock(T0)
    contact = Contact.create(first_name="Ada", clock=clock)
    clock.advance(seconds=seconds)
    changed = contact.changed(clock=clock, **{field: "new value"})
    assert changed.updated_at == T0 + dt.timedelta(seconds=seconds)
    assert changed.created_at == contact.created_at
    assert changed.version == contact.version
    assert changed.id == contact.id
    assert getattr(changed, field) == "new value"
    assert getattr(contact, field) is None  # the original is untouched


def test_changed_revalidates_and_changes_nothing_on_error(clock):
    ada = Contact.create(first_name="Ada", email="ada@acme.de", clock=clock)
    with pytest.raises(ValidationError) as info:
        ada.changed(email="nope", country="Germany")
    assert set(info.value.fields) == {"email", "country"}
    assert str(ada.email) == "ada@acme.de"


def test_with_email_phone_tags_and_consent(clock):
    ada = Contact.create(first_name="Ada", email="ada@acme.de", country="DE", clock=clock)
    ada2 = ada.with_email("lovelace@acme.de")
    assert [str(e) for e in ada2.emails] == ["lovelace@acme.de", "ada@acme.de"]
    ada3 = ada2.with_email("ada@acme.de", primary=False)
    assert [str(e) for e in ada3.emails] == ["lovelace@acme.de", "ada@acme.de"]
    assert ada.changed(email="new@acme.de").emails[0].normalized == "new@acme.de"
    assert str(ada.with_phone("030 901820").phone) == "+4930901820"
    assert ada.with_tags(add=["VIP"]).with_tags(remove=["vip"]).tags == frozenset()
    assert not ada.may_contact(ConsentPurpose.EMAIL_MARKETING)
    opted = ada.with_consent("email_marketing", True, source="double opt-in", clock=clock)
    assert opted.may_contact("email_marketing")
    clock.advance(days=3)
    withdrawn = opted.with_consent("email_marketing", False, source="unsubscribe link", clock=clock)
    assert not withdrawn.may_contact("email_marketing")
    consent = withdrawn.consent_for("email_marketing")
    assert (consent.purpose, consent.granted, consent.at, consent.source) == (
        ConsentPurpose.EMAIL_MARKETING,
        False,
        T0 + dt.timedelta(days=3),
        "unsubscribe link",
    )


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.Acme.de/", "acme.de"),
        ("http://shop.acme.co.uk:8080/path?q=1", "shop.acme.co.uk"),
        ("WWW.EXAMPLE.COM", "example.com"),
        ("Müller.de", "xn--mller-kva.de"),
        ("acme.de.", "acme.de"),
    ],
)
def test_company_domain_is_normalised(raw, domain):
    assert Company.create(name="X", domain=raw).domain == domain
    assert normalize_domain(domain) == domain  # normalising twice changes nothing


def test_company_refuses_bad_values():
    with pytest.raises(ValidationError) as info:
        Company.create(name=" ", domain="not a domain", employees=-3, annual_revenue="1000")
    assert set(info.value.fields) == {"name", "domain", "employees", "annual_revenue"}


def test_company_revenue_is_money():
    acme = Company.create(name="Acme", annual_revenue="1500000", currency="EUR")
    assert acme.annual_revenue == Money.of("1500000", "EUR")


def test_deal_amount_and_first_stay(clock):
    deal = Deal.create(
        name="Acme, 50 seats",
        pipeline="sales",
        stage="prospecting",
        amount="12000.00",
        currency="EUR",
        expected_close="2026-06-30",
        probability_override="0.4",
        clock=clock,
    )
    assert deal.amount == Money.of("12000", "EUR")
    assert deal.expected_close == dt.date(2026, 6, 30)
    assert deal.probability_override == 0.4
    assert deal.current_stay is not None
    assert deal.current_stay.stage == "prospecting"
    assert deal.current_stay.entered_at == T0
    assert deal.changed(amount="15000").amount == Money.of("15000", "EUR")
    with pytest.raises(ValidationError, match="is a float") as info:
        Deal.create(name="x", pipeline="p", stage="s", amount=1.5, currency="EUR")  # type: ignore[arg-type]
    assert info.value.fields == ("amount",)
    with pytest.raises(ValidationError, match="needs a currency"):
        Deal.create(name="x", pipeline="p", stage="s", amount="10")
    with pytest.raises(ValidationError, match="probability"):
        Deal.create(name="x", pipeline="p", stage="s", probability_override=2)


def test_deal_requires_name_pipeline_and_stage():
    with pytest.raises(ValidationError) as info:
        Deal.create(name="", pipeline=" ", stage=None)  # type: ignore[arg-type]
    assert set(info.value.fields) == {"name", "pipeline", "stage"}


def test_lead_with_bant(clock):
    lead = Lead.create(
        first_name="Grace",
        email="grace@navy.mil",
        company_name="US Navy",
        company_domain="https://navy.mil",
        source="event",
        bant={"budget": "50000", "currency": "USD", "authority": True, "timeline": "2026-09-01"},
        clock=clock,
    )
    assert lead.status is LeadStatus.NEW
    assert lead.bant.budget == Money.of("50000", "USD")
    assert lead.bant.missing == ("need",)
    assert lead.company_domain == "navy.mil"
    with pytest.raises(ValidationError) as info:
        Lead.create(first_name="X", bant={"budget": "lots", "authority": "yes", "colour": 1})
    assert set(info.value.fields) == {"bant.budget", "bant.authority", "bant.colour"}


def test_activity_task_and_order(clock):
    contact = uuid.uuid4()
    call = Activity.create(
        kind="CALL",
        outcome="connected",
        direction="outbound",
        duration=300,
        occurred_at="2026-02-28T16:00:00+01:00",
        contact_id=contact,
        clock=clock,
    )
    assert call.kind is ActivityKind.CALL
    assert call.outcome is ActivityOutcome.CONNECTED
    assert call.duration == dt.timedelta(minutes=5)
    assert call.occurred_at == dt.datetime(2026, 2, 28, 15, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="relates to"):
        Activity.create(kind="email")
    with pytest.raises(ValidationError, match="naive"):
        Activity.create(kind="email", contact_id=contact, occurred_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="no UTC offset"):
        Activity.create(kind="email", contact_id=contact, occurred_at="2026-01-01T10:00")

    task = Task.create(
        title="Send proposal",
        due_at=pendulum.datetime(2026, 3, 2, tz="Europe/Berlin"),
        priority="high",
        contact_id=contact,
        clock=clock,
    )
    assert task.priority is Priority.HIGH
    assert task.due_at == dt.datetime(2026, 3, 1, 23, tzinfo=dt.UTC)
    assert type(task.due_at) is dt.datetime
    assert task.is_overdue(T0 + dt.timedelta(days=2))
    done = task.completed(clock=clock)
    assert done.status is TaskStatus.DONE
    assert not done.is_overdue(T0 + dt.timedelta(days=2))

    order = Order.create(
        contact_id=contact,
        currency="EUR",
        lines=[
            {"description": "Seat", "quantity": 3, "unit_price": "10.50"},
            {"description": "Setup", "unit_price": "100"},
        ],
        clock=clock,
    )
    assert order.total == Money.of("131.50", "EUR")
    with pytest.raises(ValidationError, match="does not match"):
        Order.create(
            contact_id=contact,
            total="5",
            currency="EUR",
            lines=[{"description": "Seat", "unit_price": "10"}],
        )
    with pytest.raises(ValidationError, match="contact or a company"):
        Order.create(total="5", currency="EUR")


def test_imports_keep_explicit_id_created_at_and_external_ids():
    ident = uuid.uuid4()
    contact = Contact.create(
        first_name="Old",
        id=ident,
        created_at="2019-05-01T08:00:00Z",
        external_ids={"salesforce": "003XYZ", "hubspot": 123},
    )
    assert contact.id == ident
    assert contact.created_at == dt.datetime(2019, 5, 1, 8, tzinfo=dt.UTC)
    assert contact.external_ids == {"salesforce": "003XYZ", "hubspot": "123"}
    hash(contact)


def test_custom_values_are_typed_without_a_schema():
    contact = Contact.create(
        first_name="Ada",
        custom={
            "plan": "pro",
            "seats": 5,
            "ratio": 0.25,
            "trial": True,
            "renewal": dt.date(2026, 5, 1),
            "seen": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "modules": ["crm", "billing"],
        },
    )
    assert contact.custom["ratio"] == Decimal("0.25")
    assert contact.custom["modules"] == frozenset({"crm", "billing"})
    with pytest.raises(ValidationError) as info:
        Contact.create(first_name="Ada", custom={"Bad Key": 1, "obj": object()})
    assert set(info.value.fields) == {"custom.Bad Key", "custom.obj"}


def test_a_contact_with_only_a_last_name_is_accepted(clock):
    """A last name alone is enough of a name; `name` is that last name."""
    contact = Contact.create(last_name="Lovelace", clock=clock)
    assert (contact.first_name, contact.last_name, contact.name) == (None, "Lovelace", "Lovelace")


def test_a_contact_with_only_a_first_name_is_accepted(clock):
    """A first name alone is enough of a name."""
    assert Contact.create(first_name="Ada", clock=clock).name == "Ada"


def test_a_contact_with_no_name_and_no_email_is_refused_naming_name(clock):
    """With neither name nor email, the one problem is on the field ``name``."""
    with pytest.raises(ValidationError) as info:
        Contact.create(title="CTO", clock=clock)
    assert info.value.fields == ("name",)


def test_changed_checks_the_cross_field_rule_and_refuses_removing_the_only_name(clock):
    """`changed(first_name=None)` on a contact known only by first name is refused on ``name``."""
    ada = Contact.create(first_name="Ada", clock=clock)
    with pytest.raises(ValidationError) as info:
        ada.changed(first_name=None)
    assert info.value.fields == ("name",)
    assert ada.first_name == "Ada"


def test_changed_may_drop_one_name_while_another_remains(clock):
    """Removing the first name is fine when a last name (or an email) is left."""
    ada = Contact.create(first_name="Ada", last_name="Lovelace", clock=clock)
    assert ada.changed(first_name=None).name == "Lovelace"
    mailed = Contact.create(first_name="Ada", email="ada@acme.de", clock=clock)
    assert mailed.changed(first_name=None).name == "ada@acme.de"


# -- found by mutation testing (mutmut over model/) -------------------------------------------


def test_with_phone_puts_a_new_number_first_or_last_and_keeps_the_others(clock):
    """Primary by default; ``primary=False`` appends; a number already there is not repeated."""
    ada = Contact.create(first_name="Ada", phone="+49 30 901820", country="DE", clock=clock)
    first = ada.with_phone("+49 30 1234567")
    assert [p.e164 for p in first.phones] == ["+49301234567", "+4930901820"]
    last = ada.with_phone("030 1234567", primary=False)
    assert [p.e164 for p in last.phones] == ["+4930901820", "+49301234567"]
    again = first.with_phone("+49 30 901820")
    assert [p.e164 for p in again.phones] == ["+4930901820", "+49301234567"]


def test_with_email_phone_and_consent_take_updated_at_from_the_given_clock(clock):
    """Each `with_*` change stamps `updated_at` from its `clock` argument."""
    ada = Contact.create(first_name="Ada", country="DE", clock=clock)
    later = FixedClock(T0 + dt.timedelta(days=2))
    assert ada.with_email("ada@acme.de", clock=later).updated_at == later.now()
    assert ada.with_phone("+49 30 901820", clock=later).updated_at == later.now()
    assert ada.with_consent("email_marketing", True, clock=later).updated_at == later.now()


def test_an_address_is_parsed_from_its_parts_and_an_empty_one_is_none():
    """Known parts make an `Address`; all parts empty gives None; a non-mapping is refused."""
    assert Address.parse({"street": "Unter den Linden 1", "city": "Berlin"}) == Address(
        street="Unter den Linden 1", city="Berlin"
    )
    assert Address.parse({"city": "  "}) is None
    assert Address.parse({}) is None
    with pytest.raises(ValidationError) as info:
        Address.parse("Berlin", field="home")
    assert [(p.field, p.reason) for p in info.value.problems] == [
        ("home", "is not an address mapping")
    ]


def test_an_address_lists_every_unknown_part():
    """Each unknown key is its own problem, named ``address.<key>``; good parts do not hide them."""
    with pytest.raises(ValidationError) as info:
        Address.parse({"street": "x", "planet": "Mars", "zip": "1"})
    assert [(p.field, p.reason) for p in info.value.problems] == [
        ("address.planet", "is not an address part"),
        ("address.zip", "is not an address part"),
    ]


def test_changing_the_primary_email_keeps_the_other_addresses(clock):
    """``changed(email=...)`` replaces only the primary; ``emails[1:]`` stay in order."""
    ada = Contact.create(first_name="Ada", emails=["a@x.de", "b@x.de", "c@x.de"], clock=clock)
    assert [str(e) for e in ada.changed(email="z@x.de").emails] == ["z@x.de", "b@x.de", "c@x.de"]


# -- FrozenMap refuses what is not a mapping or pairs (issue 11) ---------------------------


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        (None, ("items",)),
        (5, ("items",)),
        ("ab", ("items",)),
        ([("a", 1), "b", ("c", 2, 3)], ("items[1]", "items[2]")),
        ([(["a"], 1)], ("items[0]",)),
    ],
)
def test_a_frozen_map_refuses_what_is_not_a_mapping_or_pairs(items, fields):
    """``FrozenMap(None)`` was a TypeError from dict(None)."""
    with pytest.raises(ValidationError) as caught:
        FrozenMap(items)
    assert caught.value.fields == fields


def test_a_frozen_map_takes_a_mapping_or_pairs_sorted_by_key():
    assert list(FrozenMap({"b": 1, "a": 2})) == ["a", "b"]
    assert FrozenMap([("b", 1), ["a", 2]]) == {"a": 2, "b": 1}
    assert FrozenMap(iter([("x", 1)])) == {"x": 1}
