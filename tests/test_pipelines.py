import datetime as dt
import itertools
import json
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Deal, FixedClock, ForecastCategory, Money, TransitionError, ValidationError
from crmkit.conditions import F
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
