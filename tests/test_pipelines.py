import datetime as dt
import itertools
import json
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Deal, FixedClock, ForecastCategory, Money, TransitionError, ValidationError
from crmkit.conditions import And, F
from crmkit.definitions import MissingExtraError
from crmkit.pipelines import (
    Moved,
    Pipeline,
    Stage,
    StageChanged,
    default_renewal_pipeline,
    default_sales_pipeline,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
SALES = default_sales_pipeline()


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def deal(clock):
    return SALES.open_deal(name="Acme, 50 seats", company_id=None, clock=clock, by="sam")


def test_default_sales_pipeline_follows_the_seeds():
    keys = [s.key for s in SALES.stages]
    assert keys == [
        "prospecting",
        "discovery",
        "proposal",
        "negotiation",
        "decision",
        "closed_won",
        "closed_lost",
    ]
    assert [s.probability for s in SALES.stages] == [0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 0.0]
    assert [s.key for s in SALES.won_stages] == ["closed_won"]
    assert [s.key for s in SALES.lost_stages] == ["closed_lost"]
    assert SALES.stage("decision").forecast_category is ForecastCategory.COMMIT
    assert SALES.stage("closed_lost").forecast_category is ForecastCategory.OMITTED
    assert str(SALES.stage("proposal").requires) == "amount is not empty"
    assert [p.field for p in SALES.stage("decision").requirements] == ["amount", "expected_close"]
    assert [p.field for p in SALES.stage("closed_lost").requirements] == ["lost_reason"]
    renewals = default_renewal_pipeline()
    assert renewals.key == "renewals"
    assert renewals.won_stages
    assert renewals.lost_stages


def test_open_deal_starts_in_the_initial_stage_with_a_full_first_stay(deal):
    assert deal.pipeline == "sales"
    assert deal.stage == "prospecting"
    (stay,) = deal.stage_history
    assert stay.entered_at == deal.created_at == T0
    assert stay.probability == 0.1
    assert stay.forecast_category is ForecastCategory.PIPELINE
    assert stay.moved_by == "sam"


def test_open_deal_checks_the_stage_and_its_requirements(clock):
    with pytest.raises(ValidationError, match="amount is required"):
        SALES.open_deal(name="x", stage="proposal", clock=clock)
    with pytest.raises(ValidationError, match="not a stage"):
        SALES.open_deal(name="x", stage="nope", clock=clock)
    with pytest.raises(ValidationError, match="closed stage"):
        SALES.open_deal(name="x", stage="closed_won", amount="1", currency="EUR", clock=clock)
    ok = SALES.open_deal(name="x", stage="proposal", amount="10", currency="EUR", clock=clock)
    SALES.validate_deal(ok)


def test_move_applies_changes_closes_the_stay_and_emits_an_event(deal, clock):
    clock.advance(days=2)
    moved = SALES.move(
        deal, "proposal", by="sam", note="demo done", amount="12000", currency="EUR", clock=clock
    )
    assert isinstance(moved, Moved)
    new = moved.deal
    assert new.stage == "proposal"
    assert new.amount == Money.of("12000", "EUR")
    first, second = new.stage_history
    assert first.left_at == second.entered_at == clock.now()
    assert second.moved_by == "sam"
    assert second.note == "demo done"
    assert second.amount == Money.of("12000", "EUR")
    assert second.probability == 0.4
    assert second.forecast_category is ForecastCategory.BEST_CASE
    assert new.updated_at == clock.now()
    assert new.closed_at is None
    event = moved.event
    assert isinstance(event, StageChanged)
    assert StageChanged.event_type == "deal.stage_changed"
    assert (event.from_stage, event.to_stage, event.pipeline) == (
        "prospecting",
        "proposal",
        "sales",
    )
    assert event.deal_id == deal.id
    assert event.by == "sam"
    assert event.probability == 0.4
    data = event.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["event_type"] == "deal.stage_changed"
    assert data["amount"] == {"amount": "12000", "currency": "EUR"}
    assert deal.stage == "prospecting"
    assert len(deal.stage_history) == 1


def test_move_lists_every_unmet_requirement_at_once(deal, clock):
    with pytest.raises(TransitionError) as info:
        SALES.move(deal, "decision", clock=clock)
    assert info.value.unmet == ("amount is required", "expected_close is required")
    with pytest.raises(TransitionError) as info:
        SALES.move(deal, "closed_lost", clock=clock)
    assert info.value.unmet == ("lost_reason is required",)
    lost = SALES.move(deal, "closed_lost", lost_reason="no budget", clock=clock).deal
    assert lost.closed_at == clock.now()
    assert lost.lost_reason == "no budget"


def test_refused_moves(deal, clock):
    with pytest.raises(TransitionError, match="not a stage"):
        SALES.move(deal, "nope", clock=clock)
    with pytest.raises(TransitionError, match="already"):
        SALES.move(deal, "prospecting", clock=clock)
    other = attrs.evolve(deal, pipeline="renewals")
    with pytest.raises(TransitionError, match="pipeline"):
        SALES.move(other, "discovery", clock=clock)
    won = SALES.move(deal, "closed_won", amount="5", currency="EUR", clock=clock).deal
    with pytest.raises(TransitionError, match="reopen"):
        SALES.move(won, "proposal", clock=clock)


def test_reopen_clears_closed_at_and_lost_reason(deal, clock):
    lost = SALES.move(deal, "closed_lost", lost_reason="timing", clock=clock).deal
    clock.advance(days=30)
    with pytest.raises(TransitionError, match="open stage"):
        SALES.reopen(lost, "closed_won", clock=clock)
    reopened = SALES.reopen(lost, "discovery", by="kim", note="back", clock=clock)
    assert reopened.deal.closed_at is None
    assert reopened.deal.lost_reason is None
    assert reopened.deal.stage == "discovery"
    assert reopened.deal.stage_history[-2].left_at == clock.now()
    with pytest.raises(TransitionError, match="only a closed deal"):
        SALES.reopen(reopened.deal, "proposal", clock=clock)


def test_no_skipping_allows_next_back_and_closed(clock):
    strict = attrs.evolve(SALES, allow_skipping=False)
    assert strict.allowed_moves("discovery") == (
        "prospecting",
        "proposal",
        "closed_won",
        "closed_lost",
    )
    deal = strict.open_deal(name="x", clock=clock)
    with pytest.raises(TransitionError, match="does not allow") as info:
        strict.move(deal, "negotiation", amount="1", currency="EUR", clock=clock)
    assert "allowed from 'prospecting'" in info.value.unmet[0]
    assert strict.move(deal, "discovery", clock=clock).deal.stage == "discovery"
    assert SALES.can_move("prospecting", "decision")
    assert not SALES.can_move("closed_won", "prospecting")


def test_explicit_transitions(clock):
    data = SALES.to_dict()
    data["transitions"] = {
        "prospecting": ["discovery", "closed_lost"],
        "discovery": ["proposal", "closed_lost"],
        "proposal": ["negotiation", "closed_lost"],
        "negotiation": ["decision", "closed_lost"],
        "decision": ["closed_won", "closed_lost"],
    }
    chain = Pipeline.from_dict(data)
    assert chain.allowed_moves("proposal") == ("negotiation", "closed_lost")
    deal = chain.open_deal(name="x", clock=clock)
    with pytest.raises(TransitionError):
        chain.move(deal, "proposal", amount="1", currency="EUR", clock=clock)


def test_probability_follows_stage_unless_overridden(deal, clock):
    assert SALES.probability(deal) == 0.1
    assert SALES.probability_source(deal) == "stage"
    sure = deal.changed(probability_override=0.95, clock=clock)
    assert SALES.probability(sure) == 0.95
    assert SALES.probability_source(sure) == "override"
    moved = SALES.move(sure, "discovery", clock=clock)
    assert moved.deal.stage_history[-1].probability == 0.95
    assert moved.event.probability == 0.95


def test_transfer_to_another_pipeline(deal, clock):
    renewals = default_renewal_pipeline()
    clock.advance(days=1)
    with pytest.raises(TransitionError, match="maps to no stage"):
        SALES.transfer(deal, renewals, clock=clock)
    with pytest.raises(TransitionError, match="expected_close is required"):
        SALES.transfer(deal, renewals, mapping={"prospecting": "upcoming"}, clock=clock)
    moved = SALES.transfer(
        deal,
        renewals,
        mapping={"prospecting": "upcoming"},
        expected_close="2026-06-30",
        by="sam",
        clock=clock,
    )
    assert moved.deal.pipeline == "renewals"
    assert moved.deal.stage == "upcoming"
    assert moved.event.from_pipeline == "sales"
    assert moved.event.pipeline == "renewals"
    assert moved.deal.stage_history[-1].probability == 0.6
    renewals.validate_deal(moved.deal)


def test_the_clock_must_not_run_backwards(deal, clock):
    clock.advance(days=-1)
    with pytest.raises(TransitionError, match="clock"):
        SALES.move(deal, "discovery", clock=clock)


# -- definitions -------------------------------------------------------------------------


def stage(key, p=0.5, cat="pipeline", **kw):
    return {"key": key, "label": key.title(), "probability": p, "forecast_category": cat, **kw}


def test_a_bad_definition_lists_every_problem():
    data = {
        "key": "Bad Key",
        "label": "x",
        "stages": [
            stage("a", p=1.5, requires=["amout"]),
            stage("a"),
            stage("c", cat="nope"),
        ],
    }
    with pytest.raises(ValidationError) as info:
        Pipeline.from_dict(data)
    text = str(info.value)
    assert "probability 1.5 is not between 0 and 1" in text
    assert "did you mean 'amount'" in text
    assert "'nope' is not one of" in text
    assert "is not a pipeline key" in text
    data = {"key": "p", "label": "P", "stages": [stage("a"), stage("a"), stage("b")]}
    with pytest.raises(ValidationError) as info:
        Pipeline.from_dict(data)
    reasons = [p.reason for p in info.value.problems]
    assert reasons == [
        "are stage keys used more than once",
        "has no won stage",
        "has no lost stage",
    ]


def test_unreachable_stage_and_bad_transitions_are_refused():
    stages = [
        stage("a"),
        stage("b"),
        stage("w", 1.0, "closed", won=True),
        stage("l", 0.0, "omitted", lost=True),
    ]
    with pytest.raises(ValidationError, match="'b' is a stage no move can reach"):
        Pipeline.from_dict(
            {"key": "p", "label": "P", "stages": stages, "transitions": {"a": ["w", "l"]}}
        )
    with pytest.raises(ValidationError, match="closed stages move only by reopen"):
        Pipeline.from_dict(
            {
                "key": "p",
                "label": "P",
                "stages": stages,
                "transitions": {"a": ["b", "w", "l"], "w": ["a"]},
            }
        )
    with pytest.raises(ValidationError, match="both won and lost"):
        Stage("x", "X", 0.5, "pipeline", won=True, lost=True)


def test_requirements_as_conditions_round_trip():
    big = Stage("big", "Big", 0.5, "best_case", requires=F("amount") >= Money.of("10000", "EUR"))
    assert Stage.from_dict(json.loads(json.dumps(big.to_dict()))) == big
    assert big.to_dict()["requires"] == {
        "field": "amount",
        "op": ">=",
        "value": {"$money": ["10000", "EUR"]},
    }
    assert SALES.stage("decision").to_dict()["requires"] == ["amount", "expected_close"]


def test_toml_needs_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "tomli_w":
            raise ImportError("no tomli_w")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingExtraError, match=r"crmkit\[toml\]"):
        SALES.to_toml()


# -- properties --------------------------------------------------------------------------

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
labels = st.text(min_size=1, max_size=12).filter(lambda s: s.strip())
probabilities = st.floats(0.0, 1.0, allow_nan=False)
requirements = st.one_of(
    st.none(),
    st.lists(
        st.sampled_from(["amount", "expected_close", "owner", "custom.plan"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    st.just(F("amount") >= Decimal("100.50")),
    st.just(F("source").is_in(["web", "referral"]) | F("tags").has_tag("vip")),
)


@st.composite
def pipelines(draw):
    names = draw(st.lists(keys, min_size=3, max_size=8, unique=True))
    n_open = draw(st.integers(1, len(names) - 2))
    open_keys, closed_keys = names[:n_open], names[n_open:]
    won_count = draw(st.integers(1, len(closed_keys) - 1))
    stages = []
    for key in open_keys:
        stages.append(
            Stage(
                key,
                draw(labels),
                draw(probabilities),
                draw(st.sampled_from(list(ForecastCategory))),
                requires=draw(requirements),
                rotting_days=draw(st.none() | st.integers(1, 90)),
                description=draw(st.sampled_from(["", "some words"])),
            )
        )
    for i, key in enumerate(closed_keys):
        won = i < won_count
        stages.append(
            Stage(
                key,
                draw(labels),
                draw(probabilities),
                draw(st.sampled_from(list(ForecastCategory))),
                won=won,
                lost=not won,
                requires=draw(requirements),
            )
        )
    order = draw(st.permutations(stages))
    transitions = None
    if draw(st.booleans()):
        ordered_open = [s.key for s in order if not s.is_closed]
        transitions = {
            key: [*ordered_open[i + 1 : i + 2], *closed_keys] for i, key in enumerate(ordered_open)
        }
    return Pipeline(
        draw(keys),
        draw(labels),
        order,
        allow_skipping=draw(st.booleans()),
        transitions=transitions,
    )


@given(pipelines())
def test_any_valid_pipeline_round_trips_through_dict_json_and_toml(pipeline):
    assert Pipeline.from_dict(pipeline.to_dict()) == pipeline
    assert Pipeline.from_json(pipeline.to_json()) == pipeline
    assert Pipeline.from_toml(pipeline.to_toml()) == pipeline


def check_history(deal, pipeline):
    stays = deal.stage_history
    assert stays[0].entered_at == deal.created_at
    assert stays[-1].stage == deal.stage
    assert stays[-1].left_at is None
    for before, after in itertools.pairwise(stays):
        assert before.left_at == after.entered_at  # consecutive stays touch, never overlap
        assert before.entered_at <= before.left_at
    for stay in stays:
        assert stay.probability is None or 0.0 <= stay.probability <= 1.0
    assert 0.0 <= pipeline.probability(deal) <= 1.0
    if deal.closed_at is not None:
        assert pipeline.stage(deal.stage).is_closed
        assert deal.closed_at == stays[-1].entered_at
        spent = sum((s.duration for s in stays[:-1]), dt.timedelta(0))
        assert spent == deal.closed_at - deal.created_at
    else:
        assert not pipeline.stage(deal.stage).is_closed


steps = st.lists(
    st.tuples(
        st.integers(0, 10_000),  # minutes to wait
        st.integers(0, 20),  # target stage index
        st.fixed_dictionaries(
            {},
            optional={
                "amount": st.sampled_from(["50", "5000", "20000"]),
                "expected_close": st.just("2026-12-31"),
                "lost_reason": st.just("price"),
                "probability_override": st.sampled_from([None, 0.33]),
            },
        ),
    ),
    max_size=25,
)


@given(st.one_of(st.just(SALES), st.just(default_renewal_pipeline()), pipelines()), steps)
def test_any_sequence_of_moves_keeps_the_history_consistent(pipeline, moves):
    clock = FixedClock(T0)
    start = pipeline.initial_stage
    fields = {"amount": "100", "currency": "EUR", "expected_close": "2026-12-31", "owner": "sam"}
    try:
        deal = pipeline.open_deal(name="deal", clock=clock, **fields)
    except ValidationError:
        return  # the generated initial stage asks for something we do not give
    assert deal.stage == start.key
    for minutes, index, changes in moves:
        clock.advance(minutes=minutes)
        target = pipeline.stages[index % len(pipeline.stages)].key
        before = deal
        snapshot = attrs.asdict(deal, recurse=False)
        if "amount" in changes:
            changes = {**changes, "currency": "EUR"}
        try:
            if deal.closed_at is not None:
                moved = pipeline.reopen(deal, target, clock=clock, **changes)
            else:
                moved = pipeline.move(deal, target, clock=clock, **changes)
        except (TransitionError, ValidationError):
            assert attrs.asdict(before, recurse=False) == snapshot  # a refusal changes nothing
            continue
        assert moved.event.to_stage == target == moved.deal.stage
        assert moved.event.at == clock.now()
        deal = moved.deal
        check_history(deal, pipeline)
    check_history(deal, pipeline)


def test_fast_copies_equal_attrs_evolve_and_fall_back_for_validated_classes(deal, clock):
    from crmkit.model.deal import StageStay
    from crmkit.model.fast_records import builder, evolver, plain_record

    assert plain_record(Deal)
    copy = evolver(Deal, ("stage", "updated_at"))
    assert copy(deal, stage="x", updated_at=clock.now()) == attrs.evolve(
        deal, stage="x", updated_at=clock.now()
    )
    stay = deal.stage_history[0]
    fields = attrs.asdict(stay, recurse=False)
    assert builder(StageStay)(**fields) == stay

    @attrs.frozen
    class Checked:
        x: int = attrs.field(validator=attrs.validators.gt(0))

    assert not plain_record(Checked)
    with pytest.raises(ValueError, match="must be > 0"):
        evolver(Checked, ("x",))(Checked(1), x=0)
    assert builder(Checked) is Checked


def test_each_stay_keeps_the_expected_close_the_deal_had_when_it_entered(clock):
    """The first stay and each later one snapshot `expected_close`; leaving keeps the snapshot."""
    deal = SALES.open_deal(name="Dated", expected_close="2026-06-30", clock=clock)
    assert deal.stage_history[0].expected_close == dt.date(2026, 6, 30)
    clock.advance(days=1)
    moved = SALES.move(deal, "discovery", expected_close="2026-07-31", clock=clock).deal
    first, second = moved.stage_history
    assert (first.expected_close, first.left_at) == (dt.date(2026, 6, 30), clock.now())
    assert second.expected_close == dt.date(2026, 7, 31)


def test_a_deal_created_directly_snapshots_its_expected_close_in_the_first_stay(clock):
    """`Deal.create` also writes `expected_close` into the first stay."""
    deal = Deal.create(
        name="D", pipeline="sales", stage="prospecting", expected_close="2026-09-01", clock=clock
    )
    assert deal.stage_history[0].expected_close == dt.date(2026, 9, 1)


def test_reopen_checks_the_requirements_of_the_target_stage(deal, clock):
    """Reopening a lost deal without an amount into `proposal` is refused, naming the amount."""
    lost = SALES.move(deal, "closed_lost", lost_reason="timing", clock=clock).deal
    clock.advance(days=3)
    with pytest.raises(TransitionError) as info:
        SALES.reopen(lost, "proposal", clock=clock)
    assert info.value.unmet == ("amount is required",)
    with pytest.raises(TransitionError) as info:
        SALES.reopen(lost, "decision", clock=clock)
    assert info.value.unmet == ("amount is required", "expected_close is required")


def test_reopen_with_the_changes_that_meet_the_requirements_succeeds(deal, clock):
    """The changes given to `reopen` count towards the target stage's requirements."""
    lost = SALES.move(deal, "closed_lost", lost_reason="timing", clock=clock).deal
    clock.advance(days=3)
    reopened = SALES.reopen(lost, "proposal", amount="900", currency="EUR", clock=clock).deal
    assert (reopened.stage, reopened.amount) == ("proposal", Money.of("900", "EUR"))
    assert reopened.stage_history[-1].amount == Money.of("900", "EUR")


# -- exact problems and messages (issue 19: mutation testing) ------------------------------


def problems_of(make):
    """Return the (field, value, reason) of every problem `make()` raises."""
    with pytest.raises(ValidationError) as info:
        make()
    return [(p.field, p.value, p.reason) for p in info.value.problems]


def refusal_of(make):
    """Return the message and the unmet list of the TransitionError `make()` raises."""
    with pytest.raises(TransitionError) as info:
        make()
    return str(info.value), list(info.value.unmet)


def stages_as_rows(pipeline):
    return [
        (
            s.key,
            s.label,
            s.probability,
            s.forecast_category.value,
            s.won,
            s.lost,
            s.to_dict().get("requires"),
            s.rotting_days,
            s.description,
        )
        for s in pipeline.stages
    ]


def test_the_default_sales_pipeline_holds_exactly_the_documented_stages():
    """Every setting of every shipped sales stage is pinned, descriptions included."""
    sales = default_sales_pipeline()  # built here, not at import, so each test sees the code
    assert (sales.key, sales.label, sales.allow_skipping, sales.transitions) == (
        "sales",
        "New business",
        True,
        None,
    )
    assert stages_as_rows(sales) == [
        (
            "prospecting",
            "Prospecting",
            0.1,
            "pipeline",
            False,
            False,
            None,
            14,
            "Initial contact: introduce the offer, learn the customer's needs.",
        ),
        (
            "discovery",
            "Discovery",
            0.2,
            "pipeline",
            False,
            False,
            None,
            14,
            "Needs assessment: pain points and goals, to tailor the solution.",
        ),
        (
            "proposal",
            "Proposal",
            0.4,
            "best_case",
            False,
            False,
            ["amount"],
            10,
            "Presentation: send a proposal, give a demo, quote a price.",
        ),
        (
            "negotiation",
            "Negotiation",
            0.6,
            "best_case",
            False,
            False,
            ["amount"],
            10,
            "Objection handling: pricing, timelines, terms.",
        ),
        (
            "decision",
            "Decision",
            0.8,
            "commit",
            False,
            False,
            ["amount", "expected_close"],
            7,
            "Commitment: verbal agreement, contract out; the deal is pending.",
        ),
        (
            "closed_won",
            "Closed Won",
            1.0,
            "closed",
            True,
            False,
            ["amount"],
            None,
            "The customer bought.",
        ),
        (
            "closed_lost",
            "Closed Lost",
            0.0,
            "omitted",
            False,
            True,
            ["lost_reason"],
            None,
            "It did not close; the reason is recorded.",
        ),
    ]


def test_the_default_renewal_pipeline_holds_exactly_the_documented_stages():
    """Every setting of every shipped renewal stage is pinned, descriptions included."""
    renewals = default_renewal_pipeline()
    assert (renewals.key, renewals.label, renewals.allow_skipping, renewals.transitions) == (
        "renewals",
        "Renewals",
        True,
        None,
    )
    assert stages_as_rows(renewals) == [
        (
            "upcoming",
            "Renewal upcoming",
            0.6,
            "pipeline",
            False,
            False,
            ["expected_close"],
            30,
            "The contract ends soon; the renewal date is the expected close.",
        ),
        (
            "in_review",
            "In review",
            0.7,
            "best_case",
            False,
            False,
            None,
            14,
            "Usage and needs reviewed with the customer.",
        ),
        (
            "quote_sent",
            "Quote sent",
            0.8,
            "best_case",
            False,
            False,
            ["amount"],
            10,
            "The renewal offer is out.",
        ),
        (
            "committed",
            "Committed",
            0.9,
            "commit",
            False,
            False,
            ["amount", "expected_close"],
            7,
            "The customer agreed; paperwork pending.",
        ),
        ("renewed", "Renewed", 1.0, "closed", True, False, ["amount"], None, ""),
        ("churned", "Churned", 0.0, "omitted", False, True, ["lost_reason"], None, ""),
    ]


KEY_REASON = "is not a stage key (lowercase letters, digits, _)"
CATEGORIES = "is not one of: pipeline, best_case, commit, closed, omitted"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"key": "Bad"}, [("key", "Bad", KEY_REASON)]),
        ({"key": "a" * 64}, [("key", "a" * 64, KEY_REASON)]),
        ({"key": 7}, [("key", 7, KEY_REASON)]),
        ({"label": "  "}, [("label", "  ", "must be non-blank text")]),
        ({"label": 5}, [("label", 5, "must be non-blank text")]),
        ({"probability": -0.01}, [("probability", -0.01, "is not between 0 and 1")]),
        ({"probability": 1.01}, [("probability", 1.01, "is not between 0 and 1")]),
        ({"probability": "0.5"}, [("probability", "0.5", "is not between 0 and 1")]),
        ({"probability": True}, [("probability", True, "is not between 0 and 1")]),
        ({"forecast_category": "nope"}, [("forecast_category", "nope", CATEGORIES)]),
        ({"forecast_category": 3}, [("forecast_category", 3, CATEGORIES)]),
        ({"won": "yes"}, [("won", ("yes", False), "won and lost are True/False")]),
        ({"lost": 1}, [("won", (False, 1), "won and lost are True/False")]),
        ({"won": True, "lost": True}, [("won", True, "a stage cannot be both won and lost")]),
        ({"rotting_days": 0}, [("rotting_days", 0, "is not a whole number >= 1")]),
        ({"rotting_days": True}, [("rotting_days", True, "is not a whole number >= 1")]),
        ({"rotting_days": 1.5}, [("rotting_days", 1.5, "is not a whole number >= 1")]),
        (
            {"requires": ["amout", "zzzz"]},
            [
                ("requires", "amout", "is not a deal field (did you mean 'amount'?)"),
                ("requires", "zzzz", "is not a deal field"),
            ],
        ),
        ({"description": 5}, [("description", 5, "is not text")]),
    ],
)
def test_each_bad_stage_setting_is_refused_naming_the_field_value_and_reason(settings, expected):
    """A stage lists exactly the problem of the setting that is wrong, and nothing else."""
    values = {"key": "b", "label": "B", "probability": 0.5, "forecast_category": "pipeline"}
    assert problems_of(lambda: Stage(**{**values, **settings})) == expected


def test_a_stage_accepts_the_edges_of_each_setting():
    """Probability 0 and 1 (also as int), a 63-character key and rotting_days 1 are fine."""
    low = Stage("a" * 63, "A", 0, "closed", lost=True, rotting_days=1)
    high = Stage("a1_b", "A", 1, ForecastCategory.COMMIT, won=True)
    assert (low.probability, type(low.probability), low.rotting_days) == (0.0, float, 1)
    assert (high.probability, type(high.probability)) == (1.0, float)
    assert low.forecast_category is ForecastCategory.CLOSED
    assert (low.is_closed, high.is_closed, SALES.stage("proposal").is_closed) == (
        True,
        True,
        False,
    )


def test_stage_from_dict_names_unknown_and_missing_settings():
    """Unknown keys and each missing required key are listed together, before building."""
    assert problems_of(lambda: Stage.from_dict([1])) == [("stage", [1], "is not a mapping")]
    assert problems_of(lambda: Stage.from_dict({"key": "b", "colour": "red"})) == [
        ("colour", "red", "is not a stage setting"),
        ("label", None, "is required"),
        ("probability", None, "is required"),
        ("forecast_category", None, "is required"),
    ]


def test_stage_from_dict_turns_a_bad_requirement_into_a_problem_of_requires():
    """A requirement given as text is a ValidationError on `requires` with the reason."""
    assert problems_of(lambda: Stage.from_dict(stage("b", requires="amount"))) == [
        ("requires", "amount", "requires takes a list of field names, not the text 'amount'")
    ]


def test_a_bad_pipeline_lists_key_label_and_allow_skipping_problems_exactly():
    """Each pipeline setting is checked and named with the value given."""
    assert problems_of(lambda: Pipeline("Bad", " ", SALES.stages, allow_skipping=1)) == [
        ("key", "Bad", "is not a pipeline key (lowercase letters, digits, _ -)"),
        ("label", " ", "must be non-blank text"),
        ("allow_skipping", 1, "is not True/False"),
    ]
    assert problems_of(lambda: Pipeline(3, 4, SALES.stages))[:2] == [
        ("key", 3, "is not a pipeline key (lowercase letters, digits, _ -)"),
        ("label", 4, "must be non-blank text"),
    ]
    assert Pipeline("a-" + "b" * 61, "P", SALES.stages).key == "a-" + "b" * 61
    assert problems_of(lambda: Pipeline("a" * 64, "P", SALES.stages))[0][0] == "key"


def test_a_pipeline_of_something_that_is_not_a_stage_says_so_and_stops():
    """A non-Stage among the stages is the one stage problem reported."""
    first = SALES.stages[0]
    assert problems_of(lambda: Pipeline("p", "P", [first, "x"])) == [
        ("stages[1]", "x", "is not a Stage")
    ]


def test_a_pipeline_without_an_open_stage_is_refused():
    """Only closed stages: 'has no open stage', naming the keys."""
    assert problems_of(lambda: Pipeline("p", "P", SALES.stages[5:])) == [
        ("stages", ["closed_won", "closed_lost"], "has no open stage")
    ]


def test_bad_transitions_name_the_source_and_target():
    """Unknown sources and targets and moves to itself are each a problem of transitions."""
    assert problems_of(lambda: Pipeline("p", "P", SALES.stages, transitions=[1])) == [
        ("transitions", [1], "is not a mapping of stage → stages")
    ]
    transitions = {"nope": ["discovery"], "discovery": ["discovery", "zz"], "closed_won": []}
    assert sorted(
        problems_of(lambda: Pipeline("p", "P", SALES.stages, transitions=transitions))
    ) == [
        ("transitions", "nope", "is not a stage key"),
        ("transitions.discovery", "discovery", "is a move to itself"),
        ("transitions.discovery", "zz", "is not a stage key"),
    ]


def test_a_single_target_may_be_given_as_text():
    """``{"second": "won"}`` means the one target ``("won",)``; a FrozenMap is kept as it is."""
    stages = [
        Stage("first", "A", 0.5, "pipeline"),
        Stage("second", "B", 0.5, "pipeline"),
        Stage("won", "W", 1.0, "closed", won=True),
        Stage("lost", "L", 0.0, "omitted", lost=True),
    ]
    pipeline = Pipeline(
        "p", "P", stages, transitions={"first": ["second", "lost"], "second": "won"}
    )
    assert dict(pipeline.transitions) == {"first": ("second", "lost"), "second": ("won",)}
    assert pipeline.allowed_moves("second") == ("won",)
    again = Pipeline("p", "P", stages, transitions=pipeline.transitions)
    assert again.transitions is pipeline.transitions
    assert again.allowed_moves("nope") == ()
    assert again.can_move("nope", "first") is False


def test_pipeline_from_dict_lists_setting_problems_then_the_defaults_problems():
    """Not a mapping, unknown settings, missing key/label and non-list stages are all named."""
    assert problems_of(lambda: Pipeline.from_dict(5)) == [("pipeline", 5, "is not a mapping")]
    assert problems_of(lambda: Pipeline.from_dict({"colour": 1, "stages": 3})) == [
        ("colour", 1, "is not a pipeline setting"),
        ("key", None, "is required"),
        ("label", None, "is required"),
        ("stages", 3, "is not a list of stages"),
        ("key", "", "is not a pipeline key (lowercase letters, digits, _ -)"),
        ("label", "", "must be non-blank text"),
        ("stages", [], "has no open stage"),
        ("stages", [], "has no won stage"),
        ("stages", [], "has no lost stage"),
    ]


def test_pipeline_from_dict_with_a_bad_stage_reports_only_that_stage():
    """When a stage fails to load, the stage-set problems it would cause are left out."""
    data = {"key": "p", "label": "P", "stages": [stage("a"), {"key": "b"}]}
    assert problems_of(lambda: Pipeline.from_dict(data)) == [
        ("stages[1].label", None, "is required"),
        ("stages[1].probability", None, "is required"),
        ("stages[1].forecast_category", None, "is required"),
    ]


def test_pipeline_from_dict_with_a_valid_definition_and_an_unknown_setting_is_refused():
    """An otherwise valid pipeline with one unknown setting raises, naming only that setting."""
    data = {**SALES.to_dict(), "colour": "red"}
    assert problems_of(lambda: Pipeline.from_dict(data)) == [
        ("colour", "red", "is not a pipeline setting")
    ]


def test_pipeline_json_and_toml_round_trip_to_an_equal_pipeline():
    """`from_json(to_json())` and `from_toml(to_toml())` give the same pipeline back."""
    pytest.importorskip("tomli_w")
    assert Pipeline.from_json(SALES.to_json()) == SALES
    assert Pipeline.from_toml(SALES.to_toml()) == SALES


def test_validate_deal_lists_wrong_pipeline_unmet_requirements_and_closed_at(deal):
    """Each problem of a deal is named exactly: pipeline, each requirement, closed_at."""
    wrong = attrs.evolve(deal, pipeline="renewals", stage="closed_won")
    assert problems_of(lambda: SALES.validate_deal(wrong)) == [
        ("pipeline", "renewals", "is not 'sales'"),
        ("amount", None, "amount is required in Closed Won"),
        ("closed_at", None, "does not fit stage Closed Won"),
    ]
    assert problems_of(lambda: SALES.validate_deal(attrs.evolve(deal, stage="nope"))) == [
        ("stage", "nope", "is not a stage of pipeline 'sales'")
    ]
    assert problems_of(lambda: SALES.validate_deal(attrs.evolve(deal, stage="decision"))) == [
        ("amount", None, "amount is required in Decision"),
        ("expected_close", None, "expected_close is required in Decision"),
    ]
    closed = attrs.evolve(deal, closed_at=T0)
    assert problems_of(lambda: SALES.validate_deal(closed)) == [
        ("closed_at", T0, "does not fit stage Prospecting")
    ]


def test_open_deal_in_a_closed_stage_names_the_stage(clock):
    """Opening a deal in a won or lost stage is one problem on 'stage'."""
    assert problems_of(lambda: SALES.open_deal(name="x", stage="closed_lost", clock=clock)) == [
        ("stage", "closed_lost", "is a closed stage: open deals start open")
    ]


def test_each_refused_move_says_exactly_why(deal, clock):
    """The message and unmet list of each refusal name the pipeline, stages and choices."""
    all_keys = "prospecting, discovery, proposal, negotiation, decision, closed_won, closed_lost"
    assert refusal_of(
        lambda: SALES.move(attrs.evolve(deal, pipeline="renewals"), "discovery", clock=clock)
    ) == ("deal is in pipeline 'renewals', not 'sales'", [])
    assert refusal_of(lambda: SALES.move(deal, "nope", clock=clock)) == (
        f"'nope' is not a stage of pipeline 'sales': choose one of {all_keys}",
        [f"choose one of {all_keys}"],
    )
    assert refusal_of(
        lambda: SALES.move(attrs.evolve(deal, stage="nope"), "discovery", clock=clock)
    ) == ("deal's stage 'nope' is not in pipeline 'sales'", [])
    assert refusal_of(
        lambda: SALES.move(attrs.evolve(deal, closed_at=T0), "discovery", clock=clock)
    ) == ("deal is closed (Prospecting): use reopen to move it", [])
    assert refusal_of(lambda: SALES.move(deal, "prospecting", clock=clock)) == (
        "deal is already in Prospecting",
        [],
    )
    strict = attrs.evolve(SALES, allow_skipping=False)
    allowed = "allowed from 'prospecting': discovery, closed_won, closed_lost"
    assert refusal_of(lambda: strict.move(deal, "decision", clock=clock)) == (
        f"pipeline 'sales' does not allow moving from 'prospecting' to 'decision': {allowed}",
        [allowed],
    )


def test_a_move_allowed_nowhere_says_nothing_is_allowed(clock):
    """With no transitions out of a stage the refusal lists 'nothing' as allowed."""
    stages = [
        Stage("a", "A", 0.5, "pipeline"),
        Stage("b", "B", 0.5, "pipeline"),
        Stage("w", "W", 1.0, "closed", won=True),
        Stage("l", "L", 0.0, "omitted", lost=True),
    ]
    pipeline = Pipeline("p", "P", stages, transitions={"a": ["b", "w", "l"], "b": []})
    deal = pipeline.move(pipeline.open_deal(name="x", clock=clock), "b", clock=clock).deal
    assert refusal_of(lambda: pipeline.move(deal, "a", clock=clock)) == (
        "pipeline 'p' does not allow moving from 'b' to 'a': allowed from 'b': nothing",
        ["allowed from 'b': nothing"],
    )


def test_each_refused_reopen_and_transfer_says_exactly_why(deal, clock):
    """Reopen and transfer refusals name the pipeline, the stage and what is missing."""
    renewals = default_renewal_pipeline()
    elsewhere = attrs.evolve(deal, pipeline="renewals")
    lost = SALES.move(deal, "closed_lost", lost_reason="x", clock=clock).deal
    assert refusal_of(lambda: SALES.reopen(elsewhere, "discovery", clock=clock)) == (
        "deal is in pipeline 'renewals', not 'sales'",
        [],
    )
    assert refusal_of(lambda: SALES.reopen(lost, "nope", clock=clock)) == (
        "'nope' is not an open stage of pipeline 'sales'",
        [],
    )
    assert refusal_of(lambda: SALES.reopen(lost, "decision", clock=clock)) == (
        "cannot reopen deal in Decision: amount is required; expected_close is required",
        ["amount is required", "expected_close is required"],
    )
    assert refusal_of(lambda: SALES.transfer(elsewhere, renewals, clock=clock)) == (
        "deal is in pipeline 'renewals', not 'sales'",
        [],
    )
    assert refusal_of(lambda: SALES.transfer(lost, renewals, clock=clock)) == (
        "a closed deal cannot change pipeline: reopen it first",
        [],
    )
    choices = "one of upcoming, in_review, quote_sent, committed, renewed, churned"
    assert refusal_of(lambda: SALES.transfer(deal, renewals, clock=clock)) == (
        f"stage 'prospecting' maps to no stage of pipeline 'renewals': "
        f"give mapping['prospecting']: {choices}",
        [f"give mapping['prospecting']: {choices}"],
    )
    mapping = {"prospecting": "committed"}
    assert refusal_of(lambda: SALES.transfer(deal, renewals, mapping=mapping, clock=clock)) == (
        "cannot transfer deal to Committed: amount is required; expected_close is required",
        ["amount is required", "expected_close is required"],
    )


def test_a_stage_changed_event_becomes_json_ready_data(deal, clock):
    """`StageChanged.to_dict` holds every field under its own name, money as text."""
    clock.advance(days=1)
    event = SALES.move(
        deal, "proposal", amount="12.50", currency="EUR", by="kim", note="demo", clock=clock
    ).event
    assert event.to_dict() == {
        "event_type": "deal.stage_changed",
        "deal_id": str(deal.id),
        "pipeline": "sales",
        "from_stage": "prospecting",
        "to_stage": "proposal",
        "at": "2026-03-02T09:00:00+00:00",
        "by": "kim",
        "note": "demo",
        "amount": {"amount": "12.50", "currency": "EUR"},
        "probability": 0.4,
        "from_pipeline": None,
    }
    assert SALES.move(deal, "discovery", clock=clock).event.to_dict()["amount"] is None


def test_a_move_without_a_clock_reads_the_default_clock(deal):
    """With no clock, the move happens now (after the deal's creation in 2026-03-01)."""
    moved = SALES.move(deal, "discovery", amount="1", currency="EUR")
    assert moved.deal.stage_history[-1].entered_at > T0
    assert moved.event.at == moved.deal.updated_at


def test_a_move_refused_for_requirements_names_the_stage_and_each_unmet_one(deal, clock):
    """A pipeline built here checks the target's requirements and lists only the unmet."""
    sales = default_sales_pipeline()
    assert refusal_of(lambda: sales.move(deal, "decision", clock=clock)) == (
        "cannot move deal to Decision: amount is required; expected_close is required",
        ["amount is required", "expected_close is required"],
    )
    priced = deal.changed(amount="5", currency="EUR", clock=clock)
    assert refusal_of(lambda: sales.move(priced, "decision", clock=clock)) == (
        "cannot move deal to Decision: expected_close is required",
        ["expected_close is required"],
    )


def test_a_reopen_lists_only_the_requirements_still_unmet(deal, clock):
    """Reopening into Decision with an amount set complains only about expected_close."""
    lost = SALES.move(
        deal, "closed_lost", lost_reason="x", amount="5", currency="EUR", clock=clock
    ).deal
    assert refusal_of(lambda: SALES.reopen(lost, "decision", clock=clock)) == (
        "cannot reopen deal in Decision: expected_close is required",
        ["expected_close is required"],
    )
    assert refusal_of(lambda: SALES.reopen(deal, "discovery", clock=clock)) == (
        "only a closed deal can be reopened: use move",
        [],
    )


def test_reopen_records_who_why_and_when_in_the_new_stay_and_the_event(deal, clock):
    """`by` and `note` reach the new stay and the event; no clock means the default one."""
    lost = SALES.move(deal, "closed_lost", lost_reason="x", clock=clock).deal
    moved = SALES.reopen(lost, "discovery", by="kim", note="budget found")
    stay = moved.deal.stage_history[-1]
    assert (stay.stage, stay.moved_by, stay.note, stay.left_at) == (
        "discovery",
        "kim",
        "budget found",
        None,
    )
    assert (moved.event.by, moved.event.note, moved.event.from_pipeline) == (
        "kim",
        "budget found",
        None,
    )
    assert stay.entered_at > T0
    assert (moved.deal.closed_at, moved.deal.lost_reason) == (None, None)


def test_transfer_without_mapping_keeps_the_stage_key_and_records_who_and_why(deal, clock):
    """A stage with the same key in the other pipeline is the target when mapping omits it."""
    partners = Pipeline("partners", "Partners", SALES.stages)
    clock.advance(days=1)
    moved = SALES.transfer(deal, partners, by="kim", note="via partner", clock=clock)
    stay = moved.deal.stage_history[-1]
    assert (moved.deal.pipeline, moved.deal.stage, stay.entered_at) == (
        "partners",
        "prospecting",
        clock.now(),
    )
    assert (stay.moved_by, stay.note) == ("kim", "via partner")
    assert (moved.event.by, moved.event.note, moved.event.from_pipeline) == (
        "kim",
        "via partner",
        "sales",
    )
    unclocked = SALES.transfer(deal, partners)
    assert unclocked.event.at > clock.now()


def test_moving_a_deal_without_history_starts_its_history(deal, clock):
    """A deal with no stays gets exactly one: the stage it entered."""
    bare = attrs.evolve(deal, stage_history=())
    moved = SALES.move(bare, "discovery", by="kim", clock=clock).deal
    assert [(s.stage, s.entered_at, s.left_at, s.moved_by) for s in moved.stage_history] == [
        ("discovery", T0, None, "kim")
    ]


def test_a_clock_running_backwards_is_refused_with_the_reason(deal, clock):
    """A move timed before the current stay began says the clock reads too early."""
    clock.advance(days=-1)
    assert refusal_of(lambda: SALES.move(deal, "discovery", clock=clock)) == (
        "cannot move deal: the clock reads before it entered its current stage",
        [],
    )


def test_pipeline_from_dict_without_stages_reports_the_missing_stage_kinds():
    """No `stages` key is an empty list: no open, won or lost stage, nothing else."""
    assert problems_of(lambda: Pipeline.from_dict({"key": "p", "label": "P"})) == [
        ("stages", [], "has no open stage"),
        ("stages", [], "has no won stage"),
        ("stages", [], "has no lost stage"),
    ]


def test_bad_json_and_toml_text_is_a_problem_of_the_pipeline():
    """Unreadable text is one problem on 'pipeline' with the parser's reason."""
    pytest.importorskip("tomllib")
    assert problems_of(lambda: Pipeline.from_json("{")) == [
        (
            "pipeline",
            "{",
            "is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        )
    ]
    assert problems_of(lambda: Pipeline.from_toml("x = ")) == [
        ("pipeline", "x = ", "is not valid TOML: Invalid value (at end of document)")
    ]


def test_repeated_unreachable_and_closed_source_problems_are_exact():
    """Repeated keys, unreachable stages and moves out of closed stages name what is wrong."""
    a, b = Stage("a", "A", 0.5, "pipeline"), Stage("b", "B", 0.5, "pipeline")
    won, lost = Stage("w", "W", 1.0, "closed", won=True), Stage("l", "L", 0.0, "omitted", lost=True)
    assert problems_of(lambda: Pipeline("p", "P", [a, a, b, b, won, lost])) == [
        ("stages", ["a", "b"], "are stage keys used more than once")
    ]
    only_closing = {"a": ["w", "l"]}
    assert problems_of(lambda: Pipeline("p", "P", [a, b, won, lost], transitions=only_closing)) == [
        ("stages", "b", "is a stage no move can reach")
    ]
    out_of_won = {"a": ["b", "w", "l"], "w": ["a"]}
    assert problems_of(lambda: Pipeline("p", "P", [a, b, won, lost], transitions=out_of_won)) == [
        ("transitions.w", ("a",), "closed stages move only by reopen")
    ]


def test_a_requirement_of_empty_fields_keeps_its_condition_form():
    """Only 'is not empty' conjuncts shorten to a list of names; 'is empty' ones do not."""
    empty = Stage(
        "b",
        "B",
        0.5,
        "pipeline",
        requires=And([F("amount").is_empty(), F("lost_reason").is_empty()]),
    )
    assert empty.to_dict()["requires"] == empty.requires.to_dict()
    assert not isinstance(empty.to_dict()["requires"], list)
    assert Stage.from_dict(empty.to_dict()) == empty


# -- wrong arguments: a ValidationError naming each, never a raw Python error (issue 11) ----


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_a_pipeline_refuses_stages_that_are_no_collection_of_stages():
    """``Pipeline(None, None, None)`` was a TypeError from iterating None."""
    refused(lambda: Pipeline(None, None, None), "key", "label", "stages")
    refused(lambda: Pipeline("s", "S", SALES.stages[0]), "stages")
    refused(lambda: Pipeline("s", "S", [*SALES.stages, "lost"]), "stages[7]")


def test_a_pipeline_refuses_transition_targets_that_are_not_stage_keys():
    def pipeline(targets):
        return lambda: Pipeline("s", "S", SALES.stages, transitions={"prospecting": targets})

    refused(pipeline(5), "transitions.prospecting")
    refused(pipeline([["qualification"]]), "transitions.prospecting")


def test_a_stage_refuses_requirements_it_cannot_read_naming_requires():
    """``Stage(..., requires=len)`` was a TypeError ('builtin_function_or_method' ...)."""

    def stage(requires):
        return lambda: Stage("a", "A", 0.5, "pipeline", requires=requires)

    refused(stage(len), "requires")
    refused(lambda: Stage("a", "A", 10**400, "pipeline"), "probability")  # no OverflowError
    refused(stage("amount"), "requires")
    refused(stage(["amount", 5]), "requires[1]")
    refused(stage({"field": "amount", "op": "bogus"}), "requires")
    assert stage(("amount",))().requirements == (F("amount").is_not_empty(),)
