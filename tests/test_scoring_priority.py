import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import FixedClock, Lead, Priority, ValidationError
from crmkit.conditions import F
from crmkit.pipelines import default_sales_pipeline
from crmkit.scoring import (
    PriorityBand,
    PriorityFactor,
    PriorityInput,
    PriorityPolicy,
    Score,
    default_priority_policy,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
CLOCK = FixedClock(T0)
PIPELINE = default_sales_pipeline()
POLICY = default_priority_policy()


def deal(stage="prospecting", **fields):
    fields.setdefault("name", "Acme, 50 seats")
    opened = PIPELINE.open_deal(clock=CLOCK, **fields)
    if stage != opened.stage:
        opened = PIPELINE.move(opened, stage, clock=CLOCK).deal
    return opened


def test_a_big_deal_closing_soon_is_high_and_says_why():
    big = deal("negotiation", amount="60000", currency="EUR", expected_close="2026-03-08")
    result = POLICY.assess(big, as_of=T0, pipeline=PIPELINE, engagement=Score(70.0))
    assert result.priority is Priority.HIGH
    assert result.decided_by[0] == "deal value"
    assert result.score == pytest.approx(30 + 25 * 0.6 + 20 * 70 / 80 + 15 * 1.0)
    assert result.missing == ("gone quiet",)
    assert result.factors[0].name == "deal value"


def test_a_small_cold_deal_is_low_and_names_what_it_lacks():
    small = deal(amount="500", currency="EUR")
    result = POLICY.assess(small, as_of=T0, pipeline=PIPELINE, engagement=0.0)
    assert result.priority is Priority.LOW
    assert result.decided_by == ("deal value", "win probability")


def test_inputs_for_leads_and_predicted_probability_and_last_touch():
    lead = Lead.create(
        first_name="Ada",
        bant={"budget": "25000", "currency": "EUR", "timeline": "2026-04-30"},
        clock=CLOCK,
    )
    result = POLICY.assess(
        lead, as_of=T0, probability=0.5, engagement=40, last_touch=T0 - dt.timedelta(days=21)
    )
    shares = {f.name: f.share for f in result.factors}
    assert shares == pytest.approx(
        {
            "deal value": 0.5,
            "win probability": 0.5,
            "engagement": 0.5,
            "closing soon": (90 - 60) / 83,
            "gone quiet": 1.0,
        }
    )
    assert result.priority is Priority.MEDIUM


def test_condition_factors_use_the_condition_language():
    policy = PriorityPolicy(
        factors=[
            PriorityFactor("strategic", 1, when=F("tags").has_tag("strategic")),
            PriorityFactor("value", 1, PriorityInput.AMOUNT, zero_at=0, full_at=1000),
        ],
        bands=[
            PriorityBand("high", 75, 100),
            PriorityBand("medium", 50, 75),
            PriorityBand("low", 0, 50),
        ],
    )
    tagged = deal(amount="600", currency="EUR", tags=["strategic"])
    assert policy.assess(tagged, as_of=T0).priority is Priority.HIGH
    assert policy.assess(deal(amount="600", currency="EUR"), as_of=T0).priority is Priority.LOW
    assert PriorityPolicy.from_toml(policy.to_toml()) == policy


def test_bands_with_a_gap_or_an_overlap_are_refused_naming_the_problem():
    factors = [PriorityFactor("p", 1, "probability")]
    with pytest.raises(ValidationError, match="gap: nothing covers 60 to 70"):
        PriorityPolicy(
            factors,
            [
                PriorityBand("high", 70, 100),
                PriorityBand("medium", 30, 60),
                PriorityBand("low", 0, 30),
            ],
        )
    with pytest.raises(ValidationError, match="overlap from 50 to 60"):
        PriorityPolicy(
            factors,
            [
                PriorityBand("high", 50, 100),
                PriorityBand("medium", 30, 60),
                PriorityBand("low", 0, 30),
            ],
        )
    with pytest.raises(ValidationError, match="nothing covers 0 to 10"):
        PriorityPolicy(factors, [PriorityBand("high", 50, 100), PriorityBand("low", 10, 50)])
    with pytest.raises(ValidationError, match="nothing covers 90 to 100"):
        PriorityPolicy(factors, [PriorityBand("high", 50, 90), PriorityBand("low", 0, 50)])
    with pytest.raises(ValidationError, match="empty or reversed"):
        PriorityPolicy(factors, [PriorityBand("high", 50, 50), PriorityBand("low", 0, 100)])
    with pytest.raises(ValidationError, match="exactly one of input and when"):
        PriorityFactor("p", 1)
    with pytest.raises(ValidationError, match="not one of"):
        PriorityFactor("p", 1, "mood")
    with pytest.raises(ValidationError, match="high, medium or low"):
        PriorityBand("urgent", 0, 100)


def test_the_default_policy_round_trips():
    assert PriorityPolicy.from_dict(POLICY.to_dict()) == POLICY
    assert PriorityPolicy.from_json(POLICY.to_json()) == POLICY
    assert PriorityPolicy.from_toml(POLICY.to_toml()) == POLICY


@given(
    st.lists(st.floats(1, 100), min_size=1, max_size=4),
    st.integers(0, 200_000),
    st.floats(0, 1),
    st.none() | st.floats(0, 100),
    st.integers(-30, 400),
)
def test_every_score_falls_in_exactly_one_band(cuts, amount, probability, engagement, days):
    edges = sorted({0.0, 100.0, *cuts})
    levels = [Priority.LOW, Priority.MEDIUM, Priority.HIGH]
    bands = [
        PriorityBand(levels[min(i, 2)], lo, hi)
        for i, (lo, hi) in enumerate(itertools.pairwise(edges))
    ]
    policy = PriorityPolicy(POLICY.factors, bands)
    d = deal(
        amount=str(amount),
        currency="EUR",
        expected_close=(T0 + dt.timedelta(days=days)).date().isoformat(),
    )
    result = policy.assess(d, as_of=T0, probability=probability, engagement=engagement)
    assert 0 <= result.score <= 100
    inside = [
        b for b in policy.bands if b.low <= result.score < b.high or result.score == b.high == 100
    ]
    assert inside == [result.band]


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_a_policy_refuses_factors_and_bands_that_are_no_collections():
    """``PriorityPolicy(None, None)`` was a TypeError from iterating None."""
    policy = default_priority_policy()
    refused(lambda: PriorityPolicy(None, policy.bands), "factors")
    refused(lambda: PriorityPolicy(policy.factors, "high"), "bands")
    refused(lambda: PriorityPolicy([policy.factors[0], 3], policy.bands), "factors[1]")
    refused(
        lambda: PriorityPolicy([{"name": "x", "weight": "heavy", "input": "amount"}], policy.bands),
        "factors[0].weight",
    )
    refused(lambda: PriorityPolicy(policy.factors, [None, *policy.bands]), "bands[0]")
    refused(lambda: PriorityPolicy(policy.factors, policy.bands, name=None), "name")
    refused(lambda: PriorityPolicy(policy.factors, policy.bands, version=" "), "version")
