"""Domain entry points refuse wrong arguments with a typed crmkit error naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crmkit import Activity, Contact, Deal, FixedClock, Lead, ValidationError
from crmkit.leads import Qualifier, move_lead
from crmkit.model import CustomField, Order
from crmkit.model.rfm import RfmGroup
from crmkit.pipelines import (
    call_status,
    days_open,
    default_sales_pipeline,
    stale_deals,
    time_in_current_stage,
    time_in_stages,
)
from crmkit.scoring import default_engagement_model, default_priority_policy

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
NAIVE = dt.datetime(2026, 5, 14, 10, 30)
clock = FixedClock(NOW)


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def a_deal(**changes):
    return Deal.create(name="d", pipeline="sales", stage="prospecting", clock=clock, **changes)


def test_moving_none_through_a_pipeline_names_the_deal():
    """``pipeline.move(None, ...)`` was an AttributeError."""
    refused(lambda: default_sales_pipeline().move(None, "qualification", clock=clock), "deal")


def test_moving_text_as_a_lead_names_the_lead():
    """``move_lead("x", ...)`` was an AttributeError."""
    refused(lambda: move_lead("x", "working"), "lead")


def test_an_unknown_custom_field_type_is_a_validation_error_listing_the_types():
    """``CustomField("x", "bogus_type")`` was a raw ValueError."""
    error = refused(lambda: CustomField("x", "bogus_type"), "type")
    assert "one of text, integer, decimal" in str(error)


@pytest.mark.parametrize("metric", [time_in_stages, days_open, time_in_current_stage])
def test_deal_metrics_refuse_a_naive_now(metric):
    """Subtracting a naive from an aware datetime was a TypeError."""
    refused(lambda: metric(a_deal(), NAIVE), "now")


def test_deal_metrics_take_an_aware_now():
    """The other side of the boundary: an aware now works (a day after creation)."""
    assert days_open(a_deal(), NOW + dt.timedelta(days=1)) == 1.0


def test_call_status_and_stale_deals_refuse_a_naive_now():
    """Both take `now` as the docs say: aware."""
    pipeline = default_sales_pipeline()
    refused(lambda: call_status(a_deal(), pipeline, None, NAIVE), "now")
    refused(lambda: stale_deals([a_deal()], pipeline, {}, NAIVE), "now")


def test_qualify_refuses_a_naive_now_and_a_record_that_is_not_a_lead():
    """``qualify(now=)`` is held to aware datetimes."""
    qualifier = Qualifier.bant()
    lead = Lead.create(first_name="a", clock=clock)
    refused(lambda: qualifier.qualify(lead, now=NAIVE), "now")
    refused(lambda: qualifier.qualify(Contact, now=NOW), "lead")
    assert qualifier.qualify(lead, now=NOW).decided_at == NOW


def test_engagement_score_refuses_a_missing_or_naive_as_of():
    """``model.score(as_of=None)`` was an AttributeError deep in the kernel."""
    model = default_engagement_model()
    refused(lambda: model.score([], as_of=None), "as_of")
    refused(lambda: model.score([], as_of=NAIVE), "as_of")
    assert model.score([], as_of=NOW).value == 0.0


def test_assess_refuses_a_class_a_naive_as_of_and_out_of_range_inputs():
    """``assess(Contact)`` and ``engagement=150, probability=7`` are refused, all at once."""
    policy = default_priority_policy()
    refused(lambda: policy.assess(Contact, as_of=NOW), "record")
    refused(lambda: policy.assess(a_deal(), as_of=NAIVE), "as_of")
    refused(
        lambda: policy.assess(a_deal(), as_of=NOW, engagement=150, probability=7),
        "probability",
        "engagement",
    )
    refused(lambda: policy.assess(a_deal(), as_of=NOW, last_touch=NAIVE), "last_touch")


def test_assess_takes_the_bounds_of_its_ranges():
    """probability 0 and 1, engagement 0 and 100 are inside."""
    policy = default_priority_policy()
    for probability, engagement in ((0, 0), (1, 100)):
        policy.assess(a_deal(), as_of=NOW, probability=probability, engagement=engagement)


def test_a_new_lead_cannot_start_converted():
    """Only a conversion converts a lead; ``Lead.create(status="converted")`` is refused."""
    refused(lambda: Lead.create(first_name="a", status="converted", clock=clock), "status")
    assert Lead.create(first_name="a", status="qualified", clock=clock).status == "qualified"


def test_an_email_cannot_be_connected_and_a_call_can():
    """An outcome must be one its kind can have."""
    refused(
        lambda: Activity.create(
            kind="email", outcome="connected", contact_id=a_deal().id, clock=clock
        ),
        "outcome",
    )
    call = Activity.create(kind="call", outcome="connected", contact_id=a_deal().id, clock=clock)
    assert call.outcome == "connected"


def test_a_note_may_record_any_outcome():
    """Notes record anything, so every outcome is allowed there."""
    note = Activity.create(kind="note", outcome="opened", contact_id=a_deal().id, clock=clock)
    assert note.outcome == "opened"


def test_a_deal_amount_is_never_negative_and_zero_is_allowed():
    """Negative money belongs to refunds (orders), not to a potential sale."""
    refused(lambda: a_deal(amount="-0.01", currency="EUR"), "amount")
    assert a_deal(amount="0", currency="EUR").amount.amount == 0


def test_orders_may_be_negative_and_unit_prices_finer_than_a_cent():
    """A refund is an order with a negative total; an SMS may cost 0.0125 EUR."""
    contact_id = a_deal().id
    refund = Order.create(
        total="-5.00", currency="EUR", placed_at=NOW, contact_id=contact_id, clock=clock
    )
    assert refund.total.amount == Decimal("-5.00")
    sms = Order.create(
        currency="EUR",
        placed_at=NOW,
        contact_id=contact_id,
        lines=[{"description": "sms", "quantity": 1000, "unit_price": "0.0125"}],
        clock=clock,
    )
    assert sms.total.amount == Decimal("12.5")


@pytest.mark.parametrize(
    ("r", "f", "fields"), [(0, 1, ("r",)), (6, 6, ("r", "f")), (1, "5", ("f",))]
)
def test_rfm_group_of_refuses_scores_outside_one_to_five(r, f, fields):
    """``RfmGroup.of`` raised a raw ValueError."""
    refused(lambda: RfmGroup.of(r, f), *fields)


def test_rfm_group_of_reads_the_corners_of_the_grid():
    """Both ends of each range are inside."""
    assert RfmGroup.of(1, 1) is RfmGroup.LOST
    assert RfmGroup.of(5, 5) is RfmGroup.CHAMPIONS
