import datetime as dt

import pytest

from crmkit import (
    Company,
    ConcurrencyError,
    Contact,
    FixedClock,
    Lead,
    LeadStatus,
    Money,
    TransitionError,
    ValidationError,
    convert_lead,
    default_sales_pipeline,
    move_lead,
)

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def store(adapter):
    """A fresh store of each adapter (memory, SQLite, PostgreSQL when configured)."""
    with adapter.make(FixedClock(T0)) as store:
        yield store


def _qualified_lead(store, **fields):
    values = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "company_name": "Navy Labs",
        "company_domain": "https://www.navy.example/",
        "source": "event",
        "bant": {"budget": "50000", "currency": "USD", "authority": True},
    }
    values.update(fields)
    lead = move_lead(Lead.create(**values, clock=store.clock), LeadStatus.QUALIFIED)
    with store.unit_of_work(actor="sam") as uow:
        return uow.leads.add(lead)


def _counts(store):
    with store.unit_of_work(readonly=True) as uow:
        return tuple(uow.repository(k).count() for k in ("contact", "company", "deal", "lead"))


def test_a_qualified_lead_becomes_contact_company_and_deal(store):
    lead = _qualified_lead(store)
    pipeline = default_sales_pipeline()
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, pipeline)
    assert done.lead.status is LeadStatus.CONVERTED
    assert done.lead.converted_contact_id == done.contact.id
    assert done.lead.converted_company_id == done.company.id
    assert done.lead.converted_deal_id == done.deal.id
    assert done.lead.converted_at == T0
    assert done.company.domain == "navy.example"
    assert done.contact.company_id == done.company.id
    assert done.deal.stage == pipeline.initial_stage.key
    assert done.deal.amount == Money.of("50000", "USD")
    assert done.deal.contact_ids == (done.contact.id,)
    assert done.deal.lead_id == lead.id
    assert done.deal.stage_history[0].moved_by == "sam"
    assert done.event.by == "sam"
    assert done.event.contact_created
    assert done.event.company_created
    with store.unit_of_work(readonly=True) as uow:
        assert uow.leads.get(lead.id) == done.lead
        assert uow.deals.get(done.deal.id) == done.deal
    [event] = store.events()
    assert event.event_type == "lead.converted"
    assert event.payload["deal_id"] == str(done.deal.id)
    assert [h.action for h in store.history(lead.id)] == ["added", "updated"]


def test_existing_contact_and_company_are_linked_not_duplicated(store):
    with store.unit_of_work(actor="sam") as uow:
        navy = uow.companies.add(Company.create(name="US Navy", domain="navy.example"))
        grace = uow.contacts.add(Contact.create(first_name="Grace", email="GRACE@navy.example"))
    lead = _qualified_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline(), deal_name="Navy pilot")
    assert done.company.id == navy.id
    assert done.contact.id == grace.id
    assert done.contact.company_id == navy.id  # the unattached contact now works there
    assert not done.event.contact_created
    assert not done.event.company_created
    assert done.deal.name == "Navy pilot"
    assert _counts(store) == (1, 1, 1, 1)


def test_converting_twice_raises_and_changes_nothing(store):
    lead = _qualified_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        convert_lead(uow, lead, default_sales_pipeline())
    before = _counts(store)
    with store.unit_of_work(actor="sam") as uow, pytest.raises(TransitionError, match="already"):
        convert_lead(uow, lead, default_sales_pipeline())
    assert _counts(store) == before
    assert len(store.events()) == 1


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.NURTURING])
def test_a_lead_that_is_not_qualified_cannot_be_converted(store, status):
    lead = Lead.create(first_name="Ann", email="ann@x.example", status=status)
    with store.unit_of_work() as uow:
        lead = uow.leads.add(lead)
    with store.unit_of_work() as uow, pytest.raises(TransitionError, match="qualified"):
        convert_lead(uow, lead, default_sales_pipeline())
    assert _counts(store) == (0, 0, 0, 1)


def test_a_failed_conversion_leaves_nothing_behind(store):
    # No person data: the company is created first, then the contact is refused.
    lead = _qualified_lead(store, first_name=None, last_name=None, email=None)
    with store.unit_of_work(actor="sam") as uow:
        with pytest.raises(ValidationError, match="give a first name, last name or email") as info:
            convert_lead(uow, lead, default_sales_pipeline())
        assert info.value.fields == ("name",)
        assert uow.companies.count() == 0  # undone at once; the unit of work goes on
    assert _counts(store) == (0, 0, 0, 1)
    assert store.events() == []


def test_a_stale_lead_is_refused(store):
    lead = _qualified_lead(store)
    with store.unit_of_work() as uow:
        uow.leads.update(lead.changed(title="Rear Admiral"))
    with store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
        convert_lead(uow, lead, default_sales_pipeline())
    assert _counts(store) == (0, 0, 0, 1)


def test_two_concurrent_moves_of_one_deal_one_wins(store):
    pipeline = default_sales_pipeline()
    deal = pipeline.open_deal(name="D", amount="1000", currency="EUR", clock=store.clock)
    with store.unit_of_work(actor="sam") as uow:
        deal = uow.deals.add(deal)
    first = pipeline.move(deal, "discovery", clock=store.clock)
    second = pipeline.move(deal, "negotiation", clock=store.clock)
    with store.unit_of_work(actor="ann") as uow:
        uow.deals.update(first.deal)
        uow.record(first.event)
    with store.unit_of_work(actor="bob") as uow, pytest.raises(ConcurrencyError):
        uow.deals.update(second.deal)
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.deals.get(deal.id)
    assert [s.stage for s in stored.stage_history] == ["prospecting", "discovery"]
    assert stored.stage_history[-1].moved_by == "ann"
    assert store.events()[-1].payload["by"] == "ann"


def test_a_matched_contact_of_another_company_keeps_its_company(store):
    """Converting links the contact found by email but never moves it to the lead's company."""
    with store.unit_of_work(actor="sam") as uow:
        navy = uow.companies.add(Company.create(name="US Navy", domain="navy.example"))
        other = uow.companies.add(Company.create(name="Remington Rand", domain="rand.example"))
        grace = uow.contacts.add(
            Contact.create(first_name="Grace", email="grace@navy.example", company_id=other.id)
        )
    lead = _qualified_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline())
    assert (done.contact.id, done.contact.company_id, done.contact.version) == (
        grace.id,
        other.id,
        1,
    )
    assert (done.deal.company_id, done.deal.contact_ids) == (navy.id, (grace.id,))
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(grace.id).company_id == other.id
    assert [h.action for h in store.history(grace.id)] == ["added"]


def test_a_contact_is_matched_by_casefolded_email(store):
    """``STRASSE@`` on the lead finds the contact stored as ``Straße@``: no duplicate."""
    with store.unit_of_work(actor="sam") as uow:
        known = uow.contacts.add(Contact.create(first_name="Erika", email="Straße@navy.example"))
    lead = _qualified_lead(store, email="STRASSE@navy.example")
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline())
    assert done.contact.id == known.id
    assert not done.event.contact_created
    assert _counts(store)[0] == 1


def test_uow_leads_convert_is_one_call_in_the_stores_pipeline(store):
    """`uow.leads.convert` opens the deal in the store's pipeline (by key) and records the event."""
    bant = {"budget": "50000", "currency": "USD", "timeline": "2026-09-30"}
    lead = _qualified_lead(store, bant=bant)
    with store.unit_of_work(actor="sam") as uow:
        done = uow.leads.convert(lead, "renewals", deal_name="Navy renewal")
    assert (done.deal.pipeline, done.deal.stage, done.deal.name) == (
        "renewals",
        "upcoming",
        "Navy renewal",
    )
    [event] = store.events()
    assert event.event_type == "lead.converted"
    assert event.payload["deal_id"] == str(done.deal.id)
    assert event.actor == "sam"
    assert _counts(store) == (1, 1, 1, 1)


def test_uow_leads_convert_refuses_an_unknown_or_unsaved_pipeline_and_stores_nothing(store):
    lead = _qualified_lead(store)
    changed = default_sales_pipeline()
    changed = type(changed)(
        key="sales", label="Changed", stages=changed.stages, transitions=changed.transitions
    )
    with store.unit_of_work(actor="sam") as uow:
        with pytest.raises(ValidationError) as caught:
            uow.leads.convert(lead, "sale")
        assert caught.value.fields == ("pipeline",)
        with pytest.raises(ValidationError) as caught:
            uow.leads.convert(lead, changed)
        assert caught.value.fields == ("pipeline",)
        with pytest.raises(ValidationError) as caught:
            uow.leads.convert(None)
        assert caught.value.fields == ("entity",)
    assert _counts(store) == (0, 0, 0, 1)
    assert store.events() == []


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_convert_lead_refuses_wrong_arguments_by_name_before_touching_the_store(store):
    """``convert_lead(None, None, None)`` was an AttributeError ('clock')."""
    lead = _qualified_lead(store)
    pipeline = default_sales_pipeline()
    refused(lambda: convert_lead(None, lead, pipeline), "uow")
    refused(lambda: convert_lead(store, lead, pipeline), "uow")  # the store, not a unit of work
    with store.unit_of_work(actor="sam") as uow:
        refused(lambda: convert_lead(uow, lead.id, pipeline), "lead")
        refused(lambda: convert_lead(uow, lead, "sales"), "pipeline")
        refused(lambda: convert_lead(uow, lead, pipeline, clock=[]), "clock")
        refused(lambda: convert_lead(uow, lead, pipeline, stage=["proposal"]), "stage")
        refused(lambda: convert_lead(uow, lead, pipeline, by=7), "by")
        refused(lambda: convert_lead(uow, lead, pipeline, deal_name=" "), "deal_name")
    assert _counts(store) == (0, 0, 0, 1)
