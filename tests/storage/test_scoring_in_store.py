"""Scoring and prioritising one stored record in one call (`score_record`, `assess_in_store`),
on every adapter: the result equals the pure function fed by hand with the same data."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import (
    Activity,
    Company,
    Contact,
    Deal,
    Money,
    NotFoundError,
    ValidationError,
    default_sales_pipeline,
)
from crmkit.scoring import (
    FitModel,
    FitRule,
    assess_in_store,
    default_engagement_model,
    default_priority_policy,
    score_record,
)
from crmkit.segments import parse
from crmkit.storage.protocol import StoredScore

from .adapters import T0


def activity(kind: str, outcome: str, who: Contact, *, days_ago: int) -> Activity:
    return Activity.create(
        kind=kind, outcome=outcome, contact_id=who.id, occurred_at=T0 - dt.timedelta(days=days_ago)
    )


@pytest.fixture
def people(store, clock):
    """Ada (at Acme, three activities) and Bob (one activity of his own)."""
    acme = Company.create(name="Acme", industry="software", employees=250, clock=clock)
    ada = Contact.create(first_name="Ada", company_id=acme.id, clock=clock)
    bob = Contact.create(first_name="Bob", clock=clock)
    activities = [
        activity("email", "opened", ada, days_ago=2),
        activity("meeting", "held", ada, days_ago=9),
        activity("call", "connected", ada, days_ago=40),
        activity("call", "connected", bob, days_ago=1),
    ]
    with store.unit_of_work() as uow:
        uow.companies.add(acme)
        ada, bob = uow.contacts.add(ada), uow.contacts.add(bob)
        uow.activities.add_many(activities)
    return acme, ada, bob, activities


def test_score_record_scores_a_contacts_own_activities_and_keeps_the_score(store, people):
    _acme, ada, bob, activities = people
    model = default_engagement_model()
    with store.unit_of_work() as uow:
        score = score_record(uow, ada, model)
    assert score == model.score(activities[:3], T0)
    assert score.value > 0
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(ada.id, model.name) == score.to_stored(ada.id, computed_at=T0)
        assert uow.scores.get(bob.id, model.name) is None


def test_score_record_as_of_leaves_later_activities_out_and_keep_false_writes_nothing(
    store, people
):
    _acme, ada, _bob, activities = people
    model = default_engagement_model()
    earlier = T0 - dt.timedelta(days=5)
    with store.unit_of_work() as uow:
        score = score_record(uow, ada, model, as_of=earlier, keep=False)
    assert score == model.score(activities[1:3], earlier)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(ada.id, model.name) is None


def fit_model() -> FitModel:
    return FitModel(
        name="fit",
        rules=[
            FitRule("software", parse('company.industry = "software"'), 60),
            FitRule("big", parse("company.employees >= 200"), 40),
        ],
    )


def test_score_record_with_a_fit_model_reads_the_contacts_company(store, people):
    _acme, ada, bob, _ = people
    model = fit_model()
    with store.unit_of_work() as uow:
        assert score_record(uow, ada, model).value == 100.0
        assert score_record(uow, bob, model).value == 0.0
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(ada.id, "fit").value == 100.0


def test_score_record_refuses_what_it_cannot_score_and_writes_nothing(store, people, clock):
    acme, ada, _, _ = people
    model = default_engagement_model()
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            score_record(uow, ada, "engagement")
        assert caught.value.fields == ("model",)
        with pytest.raises(ValidationError) as caught:
            score_record(uow, "ada", model)
        assert caught.value.fields == ("record",)
        with pytest.raises(ValidationError) as caught:
            score_record(None, ada, model)
        assert caught.value.fields == ("uow",)
        with pytest.raises(ValidationError) as caught:
            score_record(uow, ada, model, as_of=dt.datetime(2026, 3, 1))
        assert caught.value.fields == ("as_of",)
        with pytest.raises(ValidationError) as caught:
            score_record(uow, acme, fit_model())
        assert caught.value.fields == ("record",)
        with pytest.raises(NotFoundError):
            score_record(uow, Contact.create(first_name="Nobody", clock=clock), model)
        assert uow.scores.get(ada.id, model.name) is None


@pytest.fixture
def deal(store, people, clock):
    """A deal in proposal with Ada and Bob on it, expected to close in 30 days."""
    acme, ada, bob, _ = people
    opened = default_sales_pipeline().open_deal(
        name="Acme, 50 seats",
        amount=Money.of("25000", "EUR"),
        expected_close=(T0 + dt.timedelta(days=30)).date(),
        contact_ids=[ada.id, bob.id],
        company_id=acme.id,
        clock=clock,
    )
    with store.unit_of_work() as uow:
        stored = uow.deals.add(opened)
        return uow.deals.move(stored, "proposal").deal


def test_a_deal_takes_its_most_engaged_contact_and_latest_touch(store, people, deal):
    _acme, ada, bob, _ = people
    with store.unit_of_work() as uow:
        uow.scores.put_many(
            [
                StoredScore(ada.id, "engagement", 70.0, T0),
                StoredScore(bob.id, "engagement", 30.0, T0),
            ]
        )
    with store.unit_of_work(readonly=True) as uow:
        got = assess_in_store(uow, deal)
    expected = default_priority_policy().assess(
        deal,
        as_of=T0,
        engagement=70.0,
        last_touch=T0 - dt.timedelta(days=1),  # Bob's call, the latest of the deal's people
        pipeline=default_sales_pipeline(),
    )
    assert got == expected
    assert {r.name: r.value for r in got.factors}["win probability"] == 0.4
    assert {r.name: r.value for r in got.factors}["engagement"] == 70.0


def test_a_deals_own_score_wins_and_a_given_probability_is_used(store, people, deal):
    _acme, ada, _, _ = people
    with store.unit_of_work() as uow:
        uow.scores.put_many(
            [
                StoredScore(ada.id, "engagement", 70.0, T0),
                StoredScore(deal.id, "engagement", 10.0, T0),
            ]
        )
    with store.unit_of_work(readonly=True) as uow:
        got = assess_in_store(uow, deal, probability=0.9)
    factors = {r.name: r.value for r in got.factors}
    assert (factors["engagement"], factors["win probability"]) == (10.0, 0.9)


def test_without_stored_scores_engagement_is_missing(store, deal):
    with store.unit_of_work(readonly=True) as uow:
        got = assess_in_store(uow, deal)
    assert "engagement" in got.missing


def test_assess_in_store_refuses_wrong_arguments(store, deal, clock):
    with store.unit_of_work(readonly=True) as uow:
        for call, field in [
            (lambda: assess_in_store(uow, "deal"), "record"),
            (lambda: assess_in_store(uow, deal, policy="high"), "policy"),
            (lambda: assess_in_store(uow, deal, scorer=""), "scorer"),
            (lambda: assess_in_store(uow, deal, as_of=dt.datetime(2026, 3, 1)), "as_of"),
            (lambda: assess_in_store(object(), deal), "uow"),
        ]:
            with pytest.raises(ValidationError) as caught:
                call()
            assert caught.value.fields == (field,)
        unstored = Deal.create(name="x", pipeline="sales", stage="prospecting", clock=clock)
        with pytest.raises(NotFoundError):
            assess_in_store(uow, unstored)
