"""Three additions to the segment language, in memory: ``equals ignoring case``, a deal's
``contact_ids contains uuid(...)``, and ``is open`` / ``is won`` / ``is lost``."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import attrs
import pytest

from crmkit import Company, Contact, Deal, FixedClock, SegmentError
from crmkit.conditions import (
    And,
    Compare,
    DealOutcome,
    EqualsIgnoringCase,
    F,
    In,
    Or,
    compile_predicate,
    condition_from_dict,
)
from crmkit.conditions.binding import bind
from crmkit.pipelines import Pipeline, Stage, default_renewal_pipeline, default_sales_pipeline
from crmkit.segments import ListSource, matcher, parse, select

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
CLOCK = FixedClock(NOW)


def support_pipeline() -> Pipeline:
    """A custom pipeline whose closed stages are not called won or lost."""
    return Pipeline(
        key="support",
        label="Support upsell",
        stages=(
            Stage("asked", "Asked", 0.2, "pipeline"),
            Stage("quoted", "Quoted", 0.5, "best_case"),
            Stage("signed", "Signed", 1.0, "closed", won=True),
            Stage("declined", "Declined", 0.0, "omitted", lost=True),
            Stage("closed_won", "Not a win here", 0.0, "omitted", lost=True),
        ),
    )


PIPELINES = {
    p.key: p for p in (default_sales_pipeline(), default_renewal_pipeline(), support_pipeline())
}


# -- equals ignoring case ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("industry", "matches"),
    [
        ("software", True),
        ("Software", True),
        ("SOFTWARE", True),
        ("sOfTwArE", True),
        ("Softwarex", False),
        ("Softwar", False),
        ("software.", False),
        ("soft ware", False),
        ("", False),
        (None, False),  # missing is false
    ],
)
def test_equals_ignoring_case_folds_a_to_z_and_nothing_else(industry, matches):
    """Text equals when A-Z are lowered on both sides; everything else must be equal."""
    company = Company.create(name="Acme", industry=industry, clock=CLOCK)
    segment = parse('industry equals ignoring case "software"')
    assert matcher(segment, "company", now=NOW)(company) is matches
    assert matcher(~segment, "company", now=NOW)(company) is not matches  # not: the complement


@pytest.mark.parametrize(
    ("name", "written", "matches"),
    [
        ("École", "école", False),  # É and é are not folded (not A-Z)
        ("école", "École", False),
        ("École", "ÉCOLE", True),  # C-O-L-E fold, the É is equal
        ("Straße", "STRASSE", False),  # no casefold: ß is not ss
        ("STRASSE", "strasse", True),
        ("İstanbul", "istanbul", False),  # the dotted capital I is not A-Z
        ("\u212aelvin", "kelvin", False),  # the Kelvin sign lowers to k in Python: not here
        ("Zoë", "ZOË", False),  # ë and Ë differ
        ("Zoë", "zoë", True),
    ],
)
def test_equals_ignoring_case_leaves_letters_beyond_ascii_alone(name, written, matches):
    """É / é, ß / SS, İ / i and the Kelvin sign are different letters, as in SQL."""
    company = Company.create(name=name, clock=CLOCK)
    assert matcher(F("name").equals_ignoring_case(written), "company", now=NOW)(company) is matches


def test_equals_ignoring_case_reads_enums_emails_and_custom_text():
    """Enum fields compare by their value text; custom values only when they are text."""
    ada = Contact.create(
        first_name="Ada",
        email="Ada@Acme.de",
        lifecycle_stage="customer",
        custom={"plan": "Pro", "seats": 5},
        clock=CLOCK,
    )
    bob = Contact.create(first_name="Bob", custom={"plan": 5}, clock=CLOCK)
    for text, expected in [
        ('lifecycle_stage equals ignoring case "CUSTOMER"', ["Ada"]),
        ('email equals ignoring case "ADA@ACME.DE"', ["Ada"]),
        ('email equals ignoring case "ada@acme.de"', ["Ada"]),
        ('custom.plan equals ignoring case "pro"', ["Ada"]),
        ('custom.plan equals ignoring case "5"', []),  # 5 is a number, not text
        ('not custom.plan equals ignoring case "pro"', ["Bob"]),
    ]:
        found = select([ada, bob], text, "contact", now=NOW)
        assert [c.first_name for c in found] == expected, text


def test_equals_ignoring_case_has_a_builder_a_dict_form_and_a_text_form():
    """`F(...).equals_ignoring_case` builds the node the text parses to, and its dict loads."""
    node = F("industry").equals_ignoring_case("Software")
    assert node == EqualsIgnoringCase("industry", "Software")
    assert str(node) == 'industry equals ignoring case "Software"'
    assert parse(str(node)) == node
    assert node.to_dict() == {
        "field": "industry",
        "op": "equals ignoring case",
        "value": "Software",
    }
    assert condition_from_dict(json.loads(json.dumps(node.to_dict()))) == node
    assert compile_predicate(node)(attrs.evolve(_company(), industry="SOFTWARE")) is True
    with pytest.raises(SegmentError, match="equals_ignoring_case needs text, not 5"):
        F("industry").equals_ignoring_case(5)  # type: ignore[arg-type]


def _company() -> Company:
    return Company.create(name="Acme", clock=CLOCK)


@pytest.mark.parametrize(
    ("text", "kind", "message", "position"),
    [
        (
            'employees equals ignoring case "x"',
            "company",
            "employees is not text: 'equals ignoring case' does not apply",
            0,
        ),
        (
            'tags equals ignoring case "vip"',
            "contact",
            "tags is not text: 'equals ignoring case' does not apply",
            0,
        ),
        (
            'country = "DE" and lifecycle_stage equals ignoring case "CUSTMER"',
            "contact",
            "'CUSTMER' is no value of lifecycle_stage in any case of A-Z"
            " (did you mean 'customer'?)",
            19,
        ),
        (
            'industry equals ignoring case "\\ud800"',
            "company",
            "lone surrogate",
            30,
        ),
    ],
)
def test_equals_ignoring_case_refuses_what_would_be_silently_false(text, kind, message, position):
    """Numbers, sets and values no enum member has in any case are errors at the field."""
    with pytest.raises(SegmentError) as caught:
        parse(text, kind=kind)
    assert message in str(caught.value)
    assert caught.value.position == position


# -- contact_ids contains ------------------------------------------------------------------------


def _people() -> tuple[Contact, Contact, Contact]:
    return (
        Contact.create(first_name="Ada", clock=CLOCK),
        Contact.create(first_name="Bob", clock=CLOCK),
        Contact.create(first_name="Cy", clock=CLOCK),
    )


def test_contact_ids_contains_is_this_contact_on_the_deal():
    """A deal holds a contact when its contact_ids has the id; text of a uuid works too."""
    ada, bob, cy = _people()
    both = Deal.create(
        name="both", pipeline="sales", stage="proposal", contact_ids=[ada.id, bob.id], clock=CLOCK
    )
    bobs = Deal.create(
        name="bob", pipeline="sales", stage="proposal", contact_ids=[bob.id], clock=CLOCK
    )
    none = Deal.create(name="none", pipeline="sales", stage="proposal", clock=CLOCK)
    deals = [both, bobs, none]

    def named(segment: str) -> list[str]:
        return [d.name for d in select(deals, segment, "deal", now=NOW)]

    assert named(f'contact_ids contains uuid("{ada.id}")') == ["both"]
    assert named(f'contact_ids contains uuid("{bob.id}")') == ["both", "bob"]
    assert named(f'contact_ids contains uuid("{cy.id}")') == []
    assert named(f'not contact_ids contains uuid("{ada.id}")') == ["bob", "none"]
    assert named(f'contact_ids contains "{ada.id}"') == ["both"]  # text that is a uuid
    assert named(f'contact_ids contains "{str(ada.id).upper()}"') == ["both"]
    assert named("contact_ids is empty") == ["none"]
    assert named("contact_ids is not empty") == ["both", "bob"]
    bound = bind(F("contact_ids").contains(str(ada.id)), "deal").condition
    assert bound == F("contact_ids").contains(ada.id)  # bound to the uuid


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (
            'contact_ids contains "ada"',
            "contact_ids holds ids: give an id, uuid(\"...\"), not 'ada'",
            0,
        ),
        ("contact_ids contains 5", 'contact_ids holds ids: give an id, uuid("..."), not 5', 0),
        (
            'amount > 5 and contact_ids contains "019b76da-a800-7190-96de-926870d793e"',
            "contact_ids holds ids: give an id",
            15,
        ),
        (
            'contact_ids = uuid("019b76da-a800-7190-96de-926870d793e4")',
            "contact_ids holds ids: use 'contains uuid(\"...\")', 'is empty' or 'is not empty'",
            0,
        ),
        ('contact_ids has tag "x"', "contact_ids holds ids: use 'contains", 0),
        ("contact_ids within 3 days", "contact_ids is not a date", 0),
    ],
)
def test_contact_ids_contains_only_ids(text, message, position):
    """Anything but a uuid (or its text) is a SegmentError at the field."""
    with pytest.raises(SegmentError) as caught:
        parse(text, kind="deal")
    assert message in str(caught.value)
    assert caught.value.position == position


# -- is open / is won / is lost ------------------------------------------------------------------


def _deal(name: str, pipeline: str, stage: str) -> Deal:
    return Deal.create(name=name, pipeline=pipeline, stage=stage, clock=CLOCK)


def outcome_deals() -> list[Deal]:
    return [
        _deal("sales-open", "sales", "proposal"),
        _deal("sales-won", "sales", "closed_won"),
        _deal("sales-lost", "sales", "closed_lost"),
        _deal("renewal-open", "renewals", "upcoming"),
        _deal("renewal-won", "renewals", "renewed"),
        _deal("renewal-lost", "renewals", "churned"),
        _deal("support-won", "support", "signed"),
        _deal("support-closed_won-is-lost", "support", "closed_won"),
        _deal("support-open", "support", "quoted"),
        _deal("unknown-pipeline", "ghost", "closed_won"),
        _deal("unknown-stage", "sales", "renewed"),  # a renewals stage, not a sales one
    ]


OUTCOME_MEMBERS = {
    "is open": ["sales-open", "renewal-open", "support-open"],
    "is won": ["sales-won", "renewal-won", "support-won"],
    "is lost": ["sales-lost", "renewal-lost", "support-closed_won-is-lost"],
    "not is won": [
        "sales-open",
        "sales-lost",
        "renewal-open",
        "renewal-lost",
        "support-closed_won-is-lost",
        "support-open",
        "unknown-pipeline",
        "unknown-stage",
    ],
    "not is open and not is won and not is lost": ["unknown-pipeline", "unknown-stage"],
    'is won and name starts with "renewal"': ["renewal-won"],
}


@pytest.mark.parametrize(("text", "expected"), OUTCOME_MEMBERS.items())
def test_a_deals_outcome_is_its_stage_in_its_own_pipeline(text, expected):
    """Won, lost and open follow each pipeline's stages; an unknown one is none of them."""
    found = select(outcome_deals(), text, "deal", now=NOW, pipelines=PIPELINES)
    assert [d.name for d in found] == expected


def test_is_won_binds_to_conditions_on_pipeline_and_stage():
    """One term per pipeline, in key order; a lone stage is an equality, several an `in`."""
    bound = bind(parse("is won"), "deal", pipelines=PIPELINES).condition
    assert bound == Or(
        [
            And([Compare("pipeline", "==", "renewals"), Compare("stage", "==", "renewed")]),
            And([Compare("pipeline", "==", "sales"), Compare("stage", "==", "closed_won")]),
            And([Compare("pipeline", "==", "support"), Compare("stage", "==", "signed")]),
        ]
    )
    sales = {"sales": PIPELINES["sales"]}
    assert bind(parse("is lost"), "deal", pipelines=sales).condition == And(
        [Compare("pipeline", "==", "sales"), Compare("stage", "==", "closed_lost")]
    )
    assert bind(parse("is open"), "deal", pipelines=sales).condition == And(
        [
            Compare("pipeline", "==", "sales"),
            In("stage", ["prospecting", "discovery", "proposal", "negotiation", "decision"]),
        ]
    )


def test_is_won_works_on_deals_counted_from_contacts_and_companies():
    """``at least 1 deals where is won`` on contacts: the outcome binds inside the relation."""
    ada, bob, cy = _people()
    deals = [
        Deal.create(
            name="w", pipeline="sales", stage="closed_won", contact_ids=[ada.id], clock=CLOCK
        ),
        Deal.create(
            name="o", pipeline="sales", stage="proposal", contact_ids=[bob.id], clock=CLOCK
        ),
    ]
    source = ListSource({"deal": deals})
    found = select(
        [ada, bob, cy],
        "at least 1 deals where is won",
        "contact",
        source=source,
        now=NOW,
        pipelines=PIPELINES,
    )
    assert [c.first_name for c in found] == ["Ada"]
    found = select(
        [ada, bob, cy],
        "no deals where is open",
        "contact",
        source=source,
        now=NOW,
        pipelines=PIPELINES,
    )
    assert [c.first_name for c in found] == ["Ada", "Cy"]


def test_compile_predicate_expands_outcomes_with_the_pipelines_given():
    """`compile_predicate` takes pipelines too, for deals held in hand."""
    won = compile_predicate(DealOutcome("won"), Deal, pipelines=PIPELINES)
    assert [d.name for d in outcome_deals() if won(d)] == OUTCOME_MEMBERS["is won"]
    with pytest.raises(SegmentError, match="'is won' needs the store's pipelines"):
        compile_predicate(DealOutcome("won"), Deal)


def test_outcomes_have_a_dict_form_and_a_text_form():
    """``{"is": "won"}`` is the dict form; ``is won`` the text."""
    for outcome in ("open", "won", "lost"):
        node = DealOutcome(outcome)
        assert str(node) == f"is {outcome}"
        assert node.to_dict() == {"is": outcome}
        assert condition_from_dict({"is": outcome}) == node
        assert parse(str(~node & (F("amount") > 5))) == ~node & (F("amount") > 5)
        assert node.fields() == ("pipeline", "stage")
    with pytest.raises(SegmentError, match="one of open, won, lost, not 'closed'"):
        DealOutcome("closed")
    with pytest.raises(SegmentError, match="not a condition"):
        condition_from_dict({"is": "won", "x": 1})


@pytest.mark.parametrize(
    ("text", "kind", "pipelines", "message", "position"),
    [
        (
            "is won",
            "deal",
            None,
            "'is won' needs the store's pipelines, to know which stages win a deal:"
            " none were given (pass pipelines=)",
            0,
        ),
        (
            'name = "x" or is open',
            "deal",
            {},
            "'is open' needs the store's pipelines, to know which stages keep a deal open",
            14,
        ),
        ("amount > 1 and is lost", "deal", None, "which stages lose a deal", 15),
        (
            'country = "DE" and is won',
            "contact",
            PIPELINES,
            "'is won' applies to deals (records in a pipeline), not to a contact",
            19,
        ),
        (
            "company matches (is won)",
            "contact",
            PIPELINES,
            "'is won' applies to deals (records in a pipeline), not to a company",
            17,
        ),
        (
            "is open",
            "deal",
            {"renewals": default_sales_pipeline()},
            "pipelines['renewals'] is the pipeline 'sales': key each by its own key",
            0,
        ),
        (
            "is open",
            "deal",
            {"sales": object()},
            "pipelines['sales'] is not a pipeline: it has no open stages",
            0,
        ),
    ],
)
def test_outcomes_need_deals_and_the_stores_pipelines(text, kind, pipelines, message, position):
    """Without pipelines, or on another kind, ``is won`` is a SegmentError at its position."""
    with pytest.raises(SegmentError) as caught:
        parse(text, kind=kind, pipelines=pipelines)
    assert message in str(caught.value)
    assert caught.value.position == position


def test_pipelines_must_be_a_mapping():
    """A list of pipelines is refused by name, wherever pipelines are taken."""
    listed = list(PIPELINES.values())
    for call in (
        lambda: bind(parse("is won"), "deal", pipelines=listed),  # type: ignore[arg-type]
        lambda: matcher("is won", "deal", pipelines=listed),  # type: ignore[arg-type]
        lambda: compile_predicate(DealOutcome("won"), pipelines=listed),  # type: ignore[arg-type]
    ):
        with pytest.raises(SegmentError, match="pipelines is the store's pipelines by key"):
            call()


def test_a_segment_without_outcomes_binds_without_pipelines():
    """Pipelines are only needed where ``is open`` / ``is won`` / ``is lost`` is written."""
    deal = _deal("d", "ghost", "x")
    assert matcher('stage = "x"', "deal", now=NOW)(deal)
    assert uuid.UUID(int=0) not in deal.contact_ids
