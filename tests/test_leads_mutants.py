"""Tests that pin down behaviour of crmkit.leads that mutation testing found unchecked.

Each refusal is checked to the problem it reports (field, value, reason) or to the unmet
requirements of the transition. Qualifiers are built inside the tests, not at import time,
so that mutation testing sees the code that builds them.
"""

import datetime as dt
import uuid

import pytest

import crmkit
from crmkit import (
    Company,
    Contact,
    FixedClock,
    Lead,
    LeadStatus,
    Money,
    QualificationVerdict,
    TransitionError,
    ValidationError,
    convert_lead,
    default_sales_pipeline,
    move_lead,
)
from crmkit.conditions import F
from crmkit.leads import (
    LeadConverted,
    Qualifier,
    Rule,
    RuleKind,
    allowed_lead_moves,
)

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=5)
STATUSES = "new, working, nurturing, qualified, unqualified, converted"
KINDS = "must, disqualify, nice_to_have"
BIG = F("employees") >= 50


def tuples(error: ValidationError) -> list[tuple[object, object, str]]:
    """Return the problems of an error as (field, value, reason) tuples."""
    return [(p.field, p.value, p.reason) for p in error.problems]


def refusal(call) -> list[tuple[object, object, str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return tuples(caught.value)


def make_lead(**fields) -> Lead:
    fields.setdefault("first_name", "Ada")
    return Lead.create(clock=FixedClock(T0), **fields)


# -- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["hot", None])
def test_allowed_lead_moves_names_the_status_and_lists_the_choices(status):
    assert refusal(lambda: allowed_lead_moves(status)) == [
        ("status", status, f"is not one of: {STATUSES}")
    ]


def test_move_lead_refuses_what_is_not_a_lead_naming_it():
    assert refusal(lambda: move_lead("lead", LeadStatus.WORKING)) == [
        ("lead", "lead", "is not a Lead")
    ]


def test_move_lead_to_an_unknown_status_lists_every_status():
    with pytest.raises(TransitionError) as caught:
        move_lead(make_lead(), "hot")
    assert caught.value.unmet == (f"one of {STATUSES}",)
    assert str(caught.value) == f"'hot' is not a lead status: one of {STATUSES}"


def test_a_refused_move_lists_what_is_allowed_from_the_current_status():
    out = move_lead(make_lead(), LeadStatus.UNQUALIFIED, reason="spam")
    with pytest.raises(TransitionError) as caught:
        move_lead(out, LeadStatus.QUALIFIED)
    assert caught.value.unmet == ("allowed from unqualified: working, nurturing",)
    assert str(caught.value) == (
        "a lead cannot move from unqualified to qualified: "
        "allowed from unqualified: working, nurturing"
    )
    converted = move_lead(make_lead(), LeadStatus.CONVERTED)
    with pytest.raises(TransitionError) as caught:
        move_lead(converted, LeadStatus.WORKING)
    assert caught.value.unmet == ("allowed from converted: nothing (terminal)",)


def test_unqualified_without_a_reason_says_what_is_missing():
    with pytest.raises(TransitionError) as caught:
        move_lead(make_lead(), LeadStatus.UNQUALIFIED, reason=" ")
    assert caught.value.unmet == ("a reason is required",)
    assert str(caught.value) == "cannot mark the lead unqualified: a reason is required"


def test_moving_to_unqualified_takes_the_time_from_the_clock():
    out = move_lead(make_lead(), LeadStatus.UNQUALIFIED, reason="spam", clock=FixedClock(T1))
    assert (out.status, out.unqualified_reason, out.updated_at) == (
        LeadStatus.UNQUALIFIED,
        "spam",
        T1,
    )
    back = move_lead(out, LeadStatus.WORKING, clock=FixedClock(T1 + dt.timedelta(1)))
    assert (back.unqualified_reason, back.updated_at) == (None, T1 + dt.timedelta(1))


# -- rules ----------------------------------------------------------------------------------


def test_a_rule_refuses_a_bad_condition_naming_it():
    assert refusal(lambda: Rule("x", 5)) == [
        ("condition", 5, "is not a condition or its dict form")
    ]
    bad = {"field": "employees", "op": "~", "value": 1}
    problems = refusal(lambda: Rule("x", bad))
    assert [(field, value) for field, value, _ in problems] == [("condition", bad)]
    assert "'~'" in problems[0][2]


def test_a_rule_refuses_a_blank_or_non_text_name_an_unknown_kind_and_a_non_text_reason():
    assert refusal(lambda: Rule("  ", BIG)) == [("name", "  ", "must be non-blank text")]
    assert refusal(lambda: Rule(5, BIG)) == [("name", 5, "must be non-blank text")]
    assert refusal(lambda: Rule("x", BIG, "maybe")) == [
        ("kind", "maybe", f"is not one of: {KINDS}")
    ]
    assert refusal(lambda: Rule("x", BIG, reason=7)) == [("reason", 7, "is not text")]
    assert refusal(lambda: Rule("", BIG, 3, reason=None)) == [
        ("name", "", "must be non-blank text"),
        ("kind", 3, f"is not one of: {KINDS}"),
        ("reason", None, "is not text"),
    ]


def test_a_rule_takes_its_kind_as_text_or_member():
    assert Rule("x", BIG, "disqualify").kind is RuleKind.DISQUALIFY
    assert Rule("x", BIG, RuleKind.NICE_TO_HAVE).kind is RuleKind.NICE_TO_HAVE
    assert Rule("x", BIG).kind is RuleKind.MUST


def test_rule_from_dict_lists_every_problem():
    assert refusal(lambda: Rule.from_dict(["name"])) == [("rule", ["name"], "is not a mapping")]
    assert refusal(lambda: Rule.from_dict({"name": "x", "points": 3, 4: "y"})) == [
        ("points", 3, "is not a rule setting"),
        ("4", "y", "is not a rule setting"),
        ("condition", None, "is required"),
    ]
    assert refusal(lambda: Rule.from_dict({})) == [
        ("name", None, "is required"),
        ("condition", None, "is required"),
    ]


def test_rule_to_dict_leaves_out_an_empty_reason():
    condition = {"field": "employees", "op": ">=", "value": 50}
    assert Rule("big", BIG).to_dict() == {"name": "big", "kind": "must", "condition": condition}
    assert Rule("big", BIG, "nice_to_have", "small").to_dict() == {
        "name": "big",
        "kind": "nice_to_have",
        "condition": condition,
        "reason": "small",
    }


# -- the qualifier's own checks -------------------------------------------------------------


def test_a_qualifier_reports_what_is_not_a_collection_with_its_value():
    assert refusal(lambda: Qualifier(5)) == [("rules", 5, "is not a collection of rules")]
    assert refusal(lambda: Qualifier("ab")) == [("rules", "ab", "is not a collection of rules")]


def test_a_qualifier_reports_every_item_that_is_not_a_rule():
    assert refusal(lambda: Qualifier([None, "x", Rule("ok", BIG)])) == [
        ("rules[0]", None, "is not a Rule"),
        ("rules[1]", "x", "is not a Rule"),
    ]
    bad_field = Rule("sized", F("employes") >= 1)
    problems = refusal(lambda: Qualifier([None, bad_field]))
    assert [(field, value) for field, value, _ in problems] == [
        ("rules[0]", None),
        ("rules[1].condition", "sized"),
    ]
    assert "did you mean 'employees'" in problems[1][2]


@pytest.mark.parametrize("days", [True, "30", 1.5])
def test_timeline_days_must_be_a_whole_number(days):
    assert refusal(lambda: Qualifier(timeline_days=days)) == [
        ("timeline_days", days, "is not a number")
    ]


def test_timeline_days_may_be_zero_but_not_negative():
    assert Qualifier(timeline_days=0).timeline_days == 0
    assert refusal(lambda: Qualifier(timeline_days=-1)) == [("timeline_days", -1, "is negative")]


def test_a_rule_named_timeline_clashes_with_the_timeline_rule():
    rules = [Rule("timeline", BIG)]
    assert Qualifier(rules).rules == tuple(rules)  # no clash without the timeline rule
    assert refusal(lambda: Qualifier(rules, timeline_days=30)) == [
        ("rules", ["timeline"], "are rule names used more than once")
    ]
    assert refusal(lambda: Qualifier([Rule("b", BIG), Rule("a", BIG), Rule("b", BIG)])) == [
        ("rules", ["b"], "are rule names used more than once")
    ]


# -- BANT -----------------------------------------------------------------------------------


def test_the_default_bant_qualifier_has_budget_authority_need_and_a_90_day_timeline():
    bant = Qualifier.bant()
    assert [(r.name, r.kind, r.reason) for r in bant.rules] == [
        ("budget", RuleKind.MUST, "budget unknown"),
        ("authority", RuleKind.MUST, "the contact cannot decide the purchase"),
        ("need", RuleKind.MUST, "no need identified"),
    ]
    assert bant.timeline_days == 90
    assert bant.to_dict()["rules"][0]["condition"] == {"field": "bant.budget", "op": "is not empty"}
    assert bant.to_dict()["rules"][1]["condition"] == {
        "field": "bant.authority",
        "op": "==",
        "value": True,
    }
    assert bant.to_dict()["rules"][2]["condition"] == {"field": "bant.need", "op": "is not empty"}


def test_bant_leaves_out_authority_need_and_timeline_when_asked_and_appends_own_rules():
    extra = Rule("big", BIG)
    bant = Qualifier.bant(authority=False, need=False, timeline_days=None, rules=[extra])
    assert [r.name for r in bant.rules] == ["budget", "big"]
    assert bant.timeline_days is None
    assert Qualifier.bant(timeline_days=10).timeline_days == 10


def _verdict(qualifier, now=T0, **bant):
    facts = {"budget": "1000", "currency": "EUR", "authority": True, "need": "crm"}
    facts.update(bant)
    result = qualifier.qualify(make_lead(bant=facts), now=now)
    return result.verdict, [o.name for o in result.failed]


def test_bant_budget_at_the_minimum_qualifies_and_below_does_not():
    bant = Qualifier.bant(Money.of("1000", "EUR"), timeline_days=None)
    assert bant.rules[0].reason == "budget unknown or below 1000 EUR"
    assert _verdict(bant, budget="1000") == (QualificationVerdict.QUALIFIED, [])
    assert _verdict(bant, budget="999.99") == (QualificationVerdict.NURTURE, ["budget"])
    assert _verdict(bant, budget="1000", currency="USD") == (
        QualificationVerdict.NURTURE,
        ["budget"],
    )


def test_bant_without_a_minimum_needs_only_a_known_budget():
    bant = Qualifier.bant(timeline_days=None)
    assert _verdict(bant, budget="1") == (QualificationVerdict.QUALIFIED, [])
    result = bant.qualify(make_lead(bant={"authority": True, "need": "crm"}), now=T0)
    assert (result.verdict, result.missing) == (QualificationVerdict.NURTURE, ("bant.budget",))


def test_bant_authority_must_be_true_and_need_written_down():
    bant = Qualifier.bant(timeline_days=None)
    assert _verdict(bant, authority=False) == (QualificationVerdict.NURTURE, ["authority"])
    result = bant.qualify(make_lead(bant={"budget": "5", "currency": "EUR"}), now=T0)
    assert [o.name for o in result.failed] == ["authority", "need"]
    assert result.missing == ("bant.authority", "bant.need")


def test_the_timeline_rule_includes_its_last_day_and_moves_with_now():
    bant = Qualifier.bant()  # 90 days
    last = (T0 + dt.timedelta(days=90)).date().isoformat()
    after = (T0 + dt.timedelta(days=91)).date().isoformat()
    assert _verdict(bant, timeline=last) == (QualificationVerdict.QUALIFIED, [])
    assert _verdict(bant, timeline=after) == (QualificationVerdict.NURTURE, ["timeline"])
    next_day = T0 + dt.timedelta(days=1)
    assert _verdict(bant, now=next_day, timeline=after) == (QualificationVerdict.QUALIFIED, [])
    assert _verdict(bant, timeline=after) == (QualificationVerdict.NURTURE, ["timeline"])


def test_timeline_rule_reads_as_of_its_day():
    qualifier = Qualifier(timeline_days=30)
    rule = qualifier.timeline_rule(T0)
    assert (rule.name, rule.kind, rule.reason) == (
        "timeline",
        RuleKind.MUST,
        "no purchase planned within 30 days",
    )
    assert rule.condition.to_dict() == {
        "field": "bant.timeline",
        "op": "<=",
        "value": {"$date": "2026-04-01"},
    }
    with pytest.raises(ValueError, match=r"^this qualifier has no timeline rule$"):
        Qualifier().timeline_rule(T0)


# -- qualify --------------------------------------------------------------------------------


def test_qualify_names_a_wrong_lead_or_now():
    qualifier = Qualifier([Rule("big", BIG)])
    assert refusal(lambda: qualifier.qualify("lead", now=T0)) == [("lead", "lead", "is not a Lead")]
    naive = dt.datetime(2026, 3, 2, 9)
    assert [f for f, _, _ in refusal(lambda: qualifier.qualify(make_lead(), now=naive))] == ["now"]


def test_qualify_takes_now_from_the_clock_when_not_given():
    qualifier = Qualifier([Rule("big", BIG)])
    result = qualifier.qualify(make_lead(employees=50), clock=FixedClock(T1))
    assert result.decided_at == T1
    assert result.verdict is QualificationVerdict.QUALIFIED


def test_each_outcome_lists_the_fields_it_misses():
    qualifier = Qualifier(
        [
            Rule("big", BIG, reason="small"),
            Rule("de", F("country") == "DE", "nice_to_have"),
            Rule("kp", F("country") == "KP", "disqualify", "sanctioned"),
        ]
    )
    result = qualifier.qualify(make_lead(employees=49), now=T0)
    assert result.outcomes == (
        crmkit.leads.RuleOutcome("big", RuleKind.MUST, False, "small", ()),
        crmkit.leads.RuleOutcome("de", RuleKind.NICE_TO_HAVE, False, "", ("country",)),
        crmkit.leads.RuleOutcome("kp", RuleKind.DISQUALIFY, True, "sanctioned", ("country",)),
    )
    assert result.missing == ("country",)
    assert result.verdict is QualificationVerdict.NURTURE


def test_a_missing_field_of_a_nice_to_have_rule_does_not_hold_the_lead_back():
    qualifier = Qualifier([Rule("big", BIG), Rule("de", F("country") == "DE", "nice_to_have")])
    result = qualifier.qualify(make_lead(employees=50), now=T0)
    assert (result.verdict, result.missing) == (QualificationVerdict.QUALIFIED, ("country",))
    disqualify = Qualifier([Rule("big", BIG), Rule("kp", F("country") == "KP", "disqualify")])
    result = disqualify.qualify(make_lead(employees=50), now=T0)
    assert (result.verdict, result.missing) == (QualificationVerdict.NURTURE, ("country",))
    result = disqualify.qualify(make_lead(employees=50, country="KP"), now=T0)
    assert result.verdict is QualificationVerdict.DISQUALIFIED


def test_to_qualification_copies_passed_failed_and_missing():
    qualifier = Qualifier(
        [
            Rule("big", BIG, reason="small"),
            Rule("named", F("title").is_not_empty()),
            Rule("de", F("country") == "DE", "nice_to_have"),
        ]
    )
    stored = qualifier.qualify(make_lead(employees=10, country="DE"), now=T0).to_qualification()
    assert stored.verdict is QualificationVerdict.NURTURE
    assert stored.passed == ("de",)
    assert stored.failed == ("big: small", "named")
    assert stored.missing == ("title",)
    assert stored.decided_at == T0


# -- loading --------------------------------------------------------------------------------


def test_qualifier_from_dict_defaults_and_refusals():
    assert Qualifier.from_dict({}) == Qualifier()
    assert Qualifier.from_dict({"timeline_days": 7}) == Qualifier(timeline_days=7)
    assert refusal(lambda: Qualifier.from_dict([1])) == [("qualifier", [1], "is not a mapping")]
    assert refusal(lambda: Qualifier.from_dict({"rules": "x", "extra": 2})) == [
        ("extra", 2, "is not a qualifier setting"),
        ("rules", "x", "is not a list of rules"),
    ]
    assert refusal(lambda: Qualifier.from_dict({"rules": [{"name": "x"}]})) == [
        ("rules[0].condition", None, "is required")
    ]


def test_qualifier_from_json_and_toml_name_the_qualifier_when_the_text_is_bad():
    assert [f for f, _, _ in refusal(lambda: Qualifier.from_json("{"))] == ["qualifier"]
    assert [f for f, _, _ in refusal(lambda: Qualifier.from_toml("= ="))] == ["qualifier"]
    text = (
        '{"rules": [{"name": "big", "condition": {"field": "employees", "op": ">=", "value": 50}}]}'
    )
    assert Qualifier.from_json(text) == Qualifier([Rule("big", BIG)])
    assert Qualifier.from_toml("timeline_days = 3") == Qualifier(timeline_days=3)


# -- conversion -----------------------------------------------------------------------------


def test_the_event_as_data():
    ids = [uuid.UUID(int=i) for i in range(1, 5)]
    event = LeadConverted(ids[0], ids[1], ids[2], ids[3], T0, "sam", True, False)
    assert event.to_dict() == {
        "lead_id": str(ids[0]),
        "contact_id": str(ids[1]),
        "company_id": str(ids[2]),
        "deal_id": str(ids[3]),
        "at": "2026-03-02T09:00:00+00:00",
        "by": "sam",
        "contact_created": True,
        "company_created": False,
    }
    alone = LeadConverted(ids[0], ids[1], None, ids[3], T0, None, False, True)
    assert alone.to_dict()["company_id"] is None
    assert (alone.to_dict()["by"], alone.to_dict()["company_created"]) == (None, True)


@pytest.fixture
def store():
    with crmkit.open_store("memory://", clock=FixedClock(T0)) as store:
        yield store


def _stored_lead(store, **fields):
    values = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "phone": "+14155550100",
        "title": "CTO",
        "company_name": "Navy Labs",
        "company_domain": "navy.example",
        "industry": "defence",
        "employees": 250,
        "country": "US",
        "owner": "olga",
        "tags": ["vip"],
        "source": "event",
        "bant": {"budget": "50000", "currency": "USD", "timeline": "2026-06-30"},
    }
    values.update(fields)
    lead = move_lead(Lead.create(**values, clock=store.clock), LeadStatus.QUALIFIED)
    with store.unit_of_work(actor="sam") as uow:
        return uow.leads.add(lead)


def test_conversion_copies_the_lead_into_contact_company_and_deal(store):
    lead = _stored_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline(), clock=FixedClock(T1))
    contact, company, deal = done.contact, done.company, done.deal
    assert (contact.first_name, contact.last_name, contact.title, contact.country) == (
        "Grace",
        "Hopper",
        "CTO",
        "US",
    )
    assert [e.normalized for e in contact.emails] == ["grace@navy.example"]
    assert [p.e164 for p in contact.phones] == ["+14155550100"]
    assert (contact.owner, contact.tags, contact.lead_source) == ("olga", {"vip"}, "event")
    assert contact.lifecycle_stage is crmkit.LifecycleStage.OPPORTUNITY
    assert (contact.company_id, contact.created_at) == (company.id, T1)
    assert (company.name, company.domain, company.industry, company.employees) == (
        "Navy Labs",
        "navy.example",
        "defence",
        250,
    )
    assert (company.country, company.owner, company.created_at) == ("US", "olga", T1)
    assert (deal.name, deal.owner, deal.source, deal.created_at) == (
        "Navy Labs",
        "olga",
        "event",
        T1,
    )
    assert (deal.amount, deal.expected_close) == (Money.of("50000", "USD"), dt.date(2026, 6, 30))
    assert (deal.company_id, deal.contact_ids, deal.lead_id) == (
        company.id,
        (contact.id,),
        lead.id,
    )
    assert deal.stage_history[0].moved_by == "sam"
    assert (done.lead.updated_at, done.lead.converted_at) == (T1, T1)
    assert done.lead.converted_company_id == company.id
    event = done.event
    assert (event.lead_id, event.contact_id, event.company_id, event.deal_id) == (
        lead.id,
        contact.id,
        company.id,
        deal.id,
    )
    assert (event.at, event.by, event.contact_created, event.company_created) == (
        T1,
        "sam",
        True,
        True,
    )


def test_conversion_with_explicit_owner_by_stage_and_text_amount(store):
    lead = _stored_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(
            uow,
            lead,
            default_sales_pipeline(),
            stage="proposal",
            amount="1200",
            currency="EUR",
            owner="kim",
            by="ann",
        )
    assert (done.contact.owner, done.company.owner, done.deal.owner) == ("kim", "kim", "kim")
    assert (done.deal.stage, done.deal.amount) == ("proposal", Money.of("1200", "EUR"))
    assert (done.deal.stage_history[0].moved_by, done.event.by) == ("ann", "ann")


def test_a_money_amount_ignores_no_currency_and_the_budget_ignores_the_currency(store):
    lead = _stored_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline(), amount=Money.of("7", "EUR"))
    assert done.deal.amount == Money.of("7", "EUR")
    other = _stored_lead(store, email="ada@else.example", company_domain="else.example")
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, other, default_sales_pipeline(), currency="EUR")
    assert done.deal.amount == Money.of("50000", "USD")  # the budget; currency only for text


def test_a_lead_without_a_company_converts_to_a_contact_and_a_deal_named_after_them(store):
    lead = _stored_lead(store, company_name=None, company_domain=None)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline())
    assert done.company is None
    assert (done.contact.company_id, done.deal.company_id) == (None, None)
    assert done.deal.name == "Grace Hopper"
    assert done.lead.converted_company_id is None
    assert (done.event.company_id, done.event.company_created) == (None, False)
    assert done.event.contact_created


def test_linking_a_found_contact_to_the_new_company_uses_the_clock(store):
    with store.unit_of_work(actor="sam") as uow:
        grace = uow.contacts.add(
            Contact.create(first_name="G", email="grace@navy.example", clock=store.clock)
        )
    lead = _stored_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline(), clock=FixedClock(T1))
    assert (done.contact.id, done.contact.company_id) == (grace.id, done.company.id)
    assert (done.contact.created_at, done.contact.updated_at) == (T0, T1)
    assert (done.event.contact_created, done.event.company_created) == (False, True)


def test_a_found_company_is_used_and_not_created(store):
    with store.unit_of_work(actor="sam") as uow:
        navy = uow.companies.add(Company.create(name="US Navy", domain="navy.example"))
    lead = _stored_lead(store)
    with store.unit_of_work(actor="sam") as uow:
        done = convert_lead(uow, lead, default_sales_pipeline())
    assert (done.company.id, done.deal.name, done.event.company_created) == (
        navy.id,
        "US Navy",
        False,
    )


def test_converting_a_lead_that_is_not_qualified_says_so(store):
    lead = Lead.create(first_name="Ann", status=LeadStatus.WORKING)
    with store.unit_of_work() as uow:
        lead = uow.leads.add(lead)
    with store.unit_of_work() as uow, pytest.raises(TransitionError) as caught:
        convert_lead(uow, lead, default_sales_pipeline())
    assert caught.value.unmet == ("status qualified (qualify the lead first)",)
    assert str(caught.value) == (
        f"only a qualified lead can be converted: lead {lead.id} is working: "
        "status qualified (qualify the lead first)"
    )


def test_arguments_are_checked_before_the_lead_is(store):
    """A wrong owner or currency is refused first, even for a lead that cannot convert."""
    lead = Lead.create(first_name="Ann", status=LeadStatus.WORKING)
    with store.unit_of_work() as uow:
        lead = uow.leads.add(lead)
    pipeline = default_sales_pipeline()
    with store.unit_of_work() as uow:
        assert refusal(lambda: convert_lead(uow, lead, pipeline, owner=5)) == [
            ("owner", 5, "is not text")
        ]
        assert [
            f for f, _, _ in refusal(lambda: convert_lead(uow, lead, pipeline, currency=[]))
        ] == ["currency"]


def test_convert_lead_checks_currency_and_owner_and_says_what_a_unit_of_work_is(store):
    lead = _stored_lead(store)
    pipeline = default_sales_pipeline()
    with store.unit_of_work(actor="sam") as uow:
        assert [
            f for f, _, _ in refusal(lambda: convert_lead(uow, lead, pipeline, currency=5))
        ] == ["currency"]
        assert [f for f, _, _ in refusal(lambda: convert_lead(uow, lead, pipeline, owner=5))] == [
            "owner"
        ]
    assert refusal(lambda: convert_lead(None, lead, pipeline)) == [
        (
            "uow",
            None,
            "is not a UnitOfWork (store.unit_of_work() opens one): it has no leads attribute",
        )
    ]
