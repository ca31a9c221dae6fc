import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import FixedClock, Lead, Money, Qualification, QualificationVerdict, ValidationError
from crmkit.conditions import F
from crmkit.leads import Qualifier, Rule, RuleKind

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

FULL_BANT = {
    "budget": "20000",
    "currency": "EUR",
    "authority": True,
    "need": "replace spreadsheets",
    "timeline": "2026-04-15",
}


def lead(**fields):
    fields.setdefault("first_name", "Ada")
    return Lead.create(clock=FixedClock(T0), **fields)


QUALIFIER = Qualifier.bant(
    Money.of("10000", "EUR"),
    timeline_days=90,
    rules=[
        Rule("company size", F("employees") >= 50, reason="fewer than 50 employees"),
        Rule("sanctioned", F("country").is_in(["KP", "IR"]), "disqualify", "sanctioned country"),
        Rule("software", F("industry") == "software", "nice_to_have", "not a software company"),
    ],
)


def test_a_complete_good_lead_qualifies():
    result = QUALIFIER.qualify(lead(employees=120, country="DE", bant=FULL_BANT), now=T0)
    assert result.verdict is QualificationVerdict.QUALIFIED
    assert [o.name for o in result.failed] == ["software"]  # nice to have: reported only
    assert result.missing == ("industry",)
    assert {o.name for o in result.passed} == {
        "budget",
        "authority",
        "need",
        "company size",
        "sanctioned",
        "timeline",
    }


def test_a_disqualify_rule_wins_over_everything():
    result = QUALIFIER.qualify(lead(employees=120, country="KP", bant=FULL_BANT), now=T0)
    assert result.verdict is QualificationVerdict.DISQUALIFIED
    (fired,) = [o for o in result.failed if o.kind is RuleKind.DISQUALIFY]
    assert fired.name == "sanctioned"
    assert fired.reason == "sanctioned country"


def test_failed_must_rules_and_missing_information_mean_nurture():
    small = QUALIFIER.qualify(lead(employees=10, country="DE", bant=FULL_BANT), now=T0)
    assert small.verdict is QualificationVerdict.NURTURE
    assert [o.name for o in small.failed if o.kind is RuleKind.MUST] == ["company size"]
    unknown = QUALIFIER.qualify(lead(employees=120), now=T0)
    assert unknown.verdict is QualificationVerdict.NURTURE
    assert unknown.missing == (
        "bant.budget",
        "bant.authority",
        "bant.need",
        "country",
        "industry",
        "bant.timeline",
    )
    # all musts pass, but the disqualify rule cannot be checked without a country
    no_country = QUALIFIER.qualify(lead(employees=120, bant=FULL_BANT), now=T0)
    assert no_country.verdict is QualificationVerdict.NURTURE
    assert "country" in no_country.missing


def test_bant_budget_and_timeline_limits():
    cheap = {**FULL_BANT, "budget": "500"}
    assert (
        QUALIFIER.qualify(lead(employees=99, country="DE", bant=cheap), now=T0).verdict
        is QualificationVerdict.NURTURE
    )
    dollars = {**FULL_BANT, "currency": "USD"}
    result = QUALIFIER.qualify(lead(employees=99, country="DE", bant=dollars), now=T0)
    assert "budget" in [o.name for o in result.failed]
    late = {**FULL_BANT, "timeline": "2027-01-01"}
    result = QUALIFIER.qualify(lead(employees=99, country="DE", bant=late), now=T0)
    assert [o.name for o in result.failed if o.kind is RuleKind.MUST] == ["timeline"]
    # the window moves with now
    later = T0 + dt.timedelta(days=250)
    result = QUALIFIER.qualify(lead(employees=99, country="DE", bant=late), now=later)
    assert result.verdict is QualificationVerdict.QUALIFIED


def test_to_qualification_gives_the_model_record():
    result = QUALIFIER.qualify(lead(employees=10, country="DE", bant=FULL_BANT), now=T0)
    stored = result.to_qualification()
    assert isinstance(stored, Qualification)
    assert stored.verdict is QualificationVerdict.NURTURE
    assert "company size: fewer than 50 employees" in stored.failed
    assert stored.decided_at == T0
    updated = lead().changed(qualification=stored)
    assert updated.qualification == stored


def test_rules_load_from_dict_json_and_toml():
    assert Qualifier.from_dict(QUALIFIER.to_dict()) == QUALIFIER
    assert Qualifier.from_json(QUALIFIER.to_json()) == QUALIFIER
    assert Qualifier.from_toml(QUALIFIER.to_toml()) == QUALIFIER
    text = """
    timeline_days = 30

    [[rules]]
    name = "big enough"
    condition = { field = "employees", op = ">=", value = 200 }

    [[rules]]
    name = "competitor"
    kind = "disqualify"
    reason = "works for a competitor"
    condition = { field = "company_domain", op = "in", value = ["rival.com"] }
    """
    loaded = Qualifier.from_toml(text)
    assert loaded.rules[0] == Rule("big enough", F("employees") >= 200)
    assert loaded.rules[1].kind is RuleKind.DISQUALIFY
    assert json.loads(loaded.to_json())["timeline_days"] == 30


def test_bad_rules_are_refused_with_every_problem():
    data = {
        "rules": [
            {"name": "a", "condition": {"field": "employes", "op": ">=", "value": 1}},
            {"name": "a", "condition": {"field": "country", "op": "==", "value": "DE"}},
            {"name": "b", "kind": "maybe", "condition": {"field": "country", "op": "is empty"}},
            {"name": "c"},
        ],
        "extra": 1,
    }
    with pytest.raises(ValidationError) as info:
        Qualifier.from_dict(data)
    text = str(info.value)
    assert "extra 1 is not a qualifier setting" in text
    assert "'maybe' is not one of" in text
    assert "rules[3].condition" in text
    assert "is required" in text
    assert "used more than once" in text
    assert "did you mean 'employees'" in text


@given(
    employees=st.none() | st.integers(0, 500),
    country=st.none() | st.sampled_from(["DE", "KP", "FR"]),
    authority=st.none() | st.booleans(),
    budget=st.none() | st.sampled_from(["100", "50000"]),
)
def test_qualifying_is_pure_and_follows_the_decision_rule(employees, country, authority, budget):
    bant = {"authority": authority, "need": "x", "timeline": "2026-03-20"}
    if budget is not None:
        bant |= {"budget": budget, "currency": "EUR"}
    subject = lead(employees=employees, country=country, bant=bant)
    first = QUALIFIER.qualify(subject, now=T0)
    assert QUALIFIER.qualify(subject, now=T0) == first
    kinds = {o.name: o for o in first.outcomes}
    if country == "KP":
        assert first.verdict is QualificationVerdict.DISQUALIFIED
    elif all(o.passed for o in first.outcomes if o.kind is RuleKind.MUST) and country:
        assert first.verdict is QualificationVerdict.QUALIFIED
    else:
        assert first.verdict is QualificationVerdict.NURTURE
    assert kinds["company size"].passed == (employees is not None and employees >= 50)


def test_a_qualifier_refuses_rules_that_are_no_collection_of_rules():
    """``Qualifier(None)`` was a TypeError from iterating None."""
    rule = Rule("sized", F("employees") >= 50)
    for rules, fields in [
        (None, ("rules",)),
        (rule, ("rules",)),
        ([rule, None], ("rules[1]",)),
        (["sized"], ("rules[0]",)),
    ]:
        with pytest.raises(ValidationError) as caught:
            Qualifier(rules)
        assert caught.value.fields == fields
    with pytest.raises(ValidationError) as caught:
        Qualifier(5, timeline_days=-1)
    assert caught.value.fields == ("rules", "timeline_days")
