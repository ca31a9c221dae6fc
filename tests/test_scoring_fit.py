import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Company, Contact, FixedClock, Lead, ValidationError, open_store
from crmkit.conditions import F
from crmkit.scoring import (
    ContributionKind,
    FitModel,
    FitRule,
    GradeMatrix,
    LeadScoring,
    Score,
    score_fit,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
CLOCK = FixedClock(T0)

CONTACT_FIT = FitModel(
    [
        FitRule("mid-size company", F("company.employees").between(50, 1000), 30),
        FitRule("software", F("company.industry") == "software", 20),
        FitRule("decision maker", F("title").contains("director") | F("title").contains("vp"), 25),
        FitRule("DACH", F("country").is_in(["DE", "AT", "CH"]), 10),
        FitRule("referral", F("lead_source") == "referral", 15),
        FitRule("paid plan", F("custom.plan").is_in(["team", "enterprise"]), 10),
        FitRule("student", F("title").contains("student"), -40),
    ],
    max_points=100,
)

LEAD_FIT = FitModel(
    [
        FitRule("mid-size", F("employees") >= 50, 40),
        FitRule("software", F("industry") == "software", 30),
        FitRule("from an event", F("source") == "event", 30),
        FitRule("competitor", F("company_domain") == "rival.com", -100),
    ]
)


def contact(**fields):
    fields.setdefault("first_name", "Ada")
    return Contact.create(clock=CLOCK, **fields)


ACME = Company.create(name="Acme", industry="software", employees=250, clock=CLOCK)


def test_a_contact_is_scored_with_its_company_fields_under_the_company_prefix():
    ada = contact(
        title="Director of IT",
        country="DE",
        company_id=ACME.id,
        lead_source="referral",
        custom={"plan": "team"},
    )
    score = CONTACT_FIT.score(ada, ACME)
    assert score.value == 100.0  # 110 raw, capped
    assert score.by_rule()["cap: total"] == pytest.approx(-10.0)
    assert math.isclose(score.total(), score.value)
    assert {c.rule for c in score.contributions if c.kind is ContributionKind.RULE} == {
        "mid-size company",
        "software",
        "decision maker",
        "DACH",
        "referral",
        "paid plan",
    }
    assert score.scorer == "fit"


def test_company_conditions_are_false_without_a_company_and_negatives_floor_at_zero():
    student = contact(title="Student", country="FR")
    score = CONTACT_FIT.score(student)
    assert score.value == 0.0
    assert score.by_rule() == pytest.approx({"student": -40.0, "floor at 0": 40.0})


def test_lead_fit_reads_the_lead_itself():
    good = Lead.create(first_name="Bo", employees=120, industry="software", clock=CLOCK)
    rival = Lead.create(
        first_name="Cy", employees=120, company_domain="www.rival.com", source="event", clock=CLOCK
    )
    assert LEAD_FIT.score(good).value == 70.0
    assert LEAD_FIT.score(rival).value == 0.0


def test_fit_does_not_decay():
    a = contact(title="VP Sales", company_id=ACME.id)
    assert CONTACT_FIT.score(a, ACME) == CONTACT_FIT.score(a, ACME)
    assert CONTACT_FIT.score(a, ACME).as_of is None


def test_fit_models_round_trip_and_refuse_bad_rules():
    for model in (CONTACT_FIT, LEAD_FIT):
        assert FitModel.from_dict(model.to_dict()) == model
        assert FitModel.from_json(model.to_json()) == model
        assert FitModel.from_toml(model.to_toml()) == model
    with pytest.raises(ValidationError) as error:
        FitModel.from_dict(
            {"rules": [{"name": "x", "points": 1, "when": {"field": "a", "op": "??", "value": 1}}]}
        )
    assert error.value.fields == ("rules[0].when",)
    with pytest.raises(ValidationError, match="is not a setting"):
        FitModel.from_dict({"rules": [], "colour": "red"})
    with pytest.raises(ValidationError, match="at least one rule"):
        FitModel([])


# -- grades and the lead score ------------------------------------------------------------------


def test_the_grade_matrix():
    grades = GradeMatrix()
    assert grades.grade(85, 70) == "A1"
    assert grades.grade(70, 59.9) == "A2"
    assert grades.grade(40, 25) == "B2"
    assert grades.grade(39.9, 0) == "C3"
    custom = GradeMatrix(fit_thresholds=(80, 50), engagement_thresholds=(50, 10))
    assert custom.grade(60, 12) == "B2"
    assert GradeMatrix.from_toml(custom.to_toml()) == custom
    with pytest.raises(ValidationError, match="high first"):
        GradeMatrix(fit_thresholds=(40, 70))
    with pytest.raises(ValidationError, match="is not two thresholds") as info:
        GradeMatrix.from_dict({"fit_thresholds": [1, 2, 3]})
    assert info.value.fields == ("fit_thresholds",)


def test_the_lead_score_weighs_fit_and_engagement_and_keeps_both_visible():
    scoring = LeadScoring(fit_weight=3, engagement_weight=1)
    result = scoring.score(Score(80.0), 20.0)
    assert result.value == 1 + round(99 * (3 * 80 + 20) / 4 / 100)
    assert (result.fit, result.engagement, result.grade) == (80.0, 20.0, "A3")
    assert LeadScoring().score(0, 0).value == 1
    assert LeadScoring().score(100, 100).value == 100
    assert LeadScoring.from_json(scoring.to_json()) == scoring
    assert LeadScoring.from_toml(scoring.to_toml()) == scoring
    with pytest.raises(ValidationError, match="both 0"):
        LeadScoring(fit_weight=0, engagement_weight=0)


@given(
    st.floats(0, 100),
    st.floats(0, 100),
    st.floats(0, 10),
    st.floats(0.01, 10),
    st.floats(0, 30),
)
def test_lead_scores_are_1_to_100_and_rise_with_either_score(fit, engagement, wf, we, bump):
    scoring = LeadScoring(fit_weight=wf, engagement_weight=we)
    value = scoring.score(fit, engagement).value
    assert 1 <= value <= 100
    assert scoring.score(min(fit + bump, 100), engagement).value >= value
    assert scoring.score(fit, min(engagement + bump, 100)).value >= value


@given(st.lists(st.tuples(st.booleans(), st.floats(-50, 50)), min_size=1, max_size=12))
def test_fit_scores_stay_in_range_and_add_up(rules):
    model = FitModel(
        [
            FitRule(f"r{i}", (F("country") == "DE") if hit else (F("country") == "FR"), points)
            for i, (hit, points) in enumerate(rules)
        ],
        max_points=60,
    )
    score = model.score(contact(country="DE"))
    assert 0 <= score.value <= 100
    assert score.check()


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_a_fit_model_refuses_rules_that_are_no_collection_of_rules():
    """``FitModel(None)`` was a TypeError from iterating None."""
    rule = FitRule("director", F("title") == "Director", 10)
    refused(lambda: FitModel(None), "rules")
    refused(lambda: FitModel({"director": rule}), "rules")
    refused(lambda: FitModel([rule, 7]), "rules[1]")
    refused(lambda: FitModel([rule], version=None), "version")


def test_score_fit_refuses_what_is_not_a_store_or_a_fit_model():
    """``score_fit(None, None)`` was an AttributeError ('unit_of_work')."""
    model = FitModel([FitRule("director", F("title") == "Director", 10)])
    refused(lambda: score_fit(None, model), "store")
    with open_store("memory://") as store:
        refused(lambda: score_fit(store, None), "model")
        refused(lambda: score_fit(store, model, kind="company"), "kind")
