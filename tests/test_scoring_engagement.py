import datetime as dt
import json
import math
import uuid

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Activity, FixedClock, ValidationError, open_store
from crmkit.conditions import F
from crmkit.scoring import (
    ContributionKind,
    EngagementModel,
    EngagementRule,
    Exponential,
    Linear,
    NoDecay,
    ResponseBonus,
    Window,
    decay_from_dict,
    default_engagement_model,
    score_engagement,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
CLOCK = FixedClock(T0)
CONTACT = uuid.UUID("01900000-0000-7000-8000-000000000001")
MODEL = default_engagement_model()

POSITIVE = [
    ("email", "opened"),
    ("email", "clicked"),
    ("email", "replied"),
    ("call", "connected"),
    ("meeting", "held"),
    ("form", "submitted"),
    ("web_visit", "visited"),
    ("chat", "completed"),
    ("sms", "replied"),
]
NEGATIVE = [("email", "bounced"), ("email", "unsubscribed"), ("meeting", "no_show")]
NEUTRAL = [("email", "sent"), ("call", "no_answer"), ("note", "completed")]


def activity(kind, outcome=None, *, days=0.0, minutes=None, response_hours=None, subject=None):
    return Activity(
        id=uuid.uuid4(),
        created_at=T0,
        updated_at=T0,
        kind=kind,
        outcome=outcome,
        occurred_at=T0 - dt.timedelta(days=days),
        duration=None if minutes is None else dt.timedelta(minutes=minutes),
        response_time=None if response_hours is None else dt.timedelta(hours=response_hours),
        subject=subject,
        contact_id=CONTACT,
    )


def adds_up(score):
    return math.isclose(score.total(), score.value, abs_tol=1e-9) and score.check()


# -- worked examples --------------------------------------------------------------------------


def test_one_fresh_open_scores_its_points_and_names_its_rule_and_activity():
    opened = activity("email", "opened")
    score = MODEL.score([opened], CLOCK.now())
    assert score.value == pytest.approx(1.0)
    (line,) = score.contributions
    assert (line.rule, line.group, line.activity_id) == ("email opened", "email", opened.id)
    assert score.scorer == "engagement"
    assert score.as_of == T0


def test_exponential_decay_halves_points_every_half_life():
    clicked = activity("email", "clicked", days=30)  # half-life 30 days
    assert MODEL.value([clicked], T0) == pytest.approx(1.5)
    assert MODEL.value([activity("email", "clicked", days=60)], T0) == pytest.approx(0.75)


def test_activities_after_as_of_have_not_happened_yet():
    later = activity("meeting", "held", days=-1)
    assert MODEL.value([later], T0) == 0.0
    assert MODEL.value([later], T0 + dt.timedelta(days=2)) > 0


def test_duration_points_are_capped_and_fast_replies_earn_a_bonus():
    call = activity("call", "connected", minutes=60)  # 5 + min(0.5 * 60, 10)
    assert MODEL.value([call], T0) == pytest.approx(15.0)
    fast = activity("email", "replied", response_hours=2)  # 8 + 4
    slow = activity("email", "replied", response_hours=20)  # 8 + 2
    never = activity("email", "replied", response_hours=48)  # 8
    assert [MODEL.value([a], T0) for a in (fast, slow, never)] == pytest.approx([12, 10, 8])


def test_group_cap_appears_as_a_negative_line_and_the_breakdown_adds_up():
    clicks = [activity("email", "clicked") for _ in range(12)]  # 36 points, email cap 25
    score = MODEL.score(clicks, T0)
    assert score.value == pytest.approx(25.0)
    caps = [c for c in score.contributions if c.kind is ContributionKind.GROUP_CAP]
    assert [(c.label, round(c.points, 9)) for c in caps] == [("cap: email", -11.0)]
    assert adds_up(score)


def test_total_cap_and_floor_lines():
    lots = [activity("meeting", "held", minutes=60) for _ in range(3)]  # 60 (cap 40)
    lots += [activity("call", "connected", minutes=60) for _ in range(3)]  # 45 (cap 30)
    lots += [activity("form", "submitted") for _ in range(2)]  # 20
    lots += [activity("email", "clicked") for _ in range(9)]  # 27 (cap 25)
    score = MODEL.score(lots, T0)
    assert score.value == 100.0
    assert score.by_rule()["cap: total"] == pytest.approx(-15.0)
    assert adds_up(score)
    gone = MODEL.score([activity("email", "opened"), activity("email", "unsubscribed")], T0)
    assert gone.value == 0.0
    assert gone.by_rule()["floor at 0"] == pytest.approx(24.0)
    assert adds_up(gone)


def test_window_and_linear_decay():
    no_show = activity("meeting", "no_show", days=90)
    assert MODEL.value([activity("meeting", "held"), no_show], T0) == pytest.approx(10.0)
    assert MODEL.value([activity("meeting", "held"), no_show], T0 + dt.timedelta(days=1)) > 14
    model = EngagementModel(
        [EngagementRule("visit", F("kind") == "web_visit", 10, decay=Linear(10, 0.5))]
    )
    assert [model.value([activity("web_visit", days=d)], T0) for d in (0, 5, 10, 20, 30)] == (
        pytest.approx([10, 7.5, 5, 0, 0])
    )
    steps = EngagementModel(
        [EngagementRule("visit", F("kind") == "web_visit", 10, decay=Linear(10, 0.5, True))]
    )
    assert [steps.value([activity("web_visit", days=d)], T0) for d in (0, 9.9, 10, 19)] == (
        pytest.approx([10, 10, 5, 5])
    )


@pytest.mark.parametrize(
    ("age", "points"),
    [
        (dt.timedelta(days=7), 10.0),
        (dt.timedelta(days=7, microseconds=1), 0.0),
        (dt.timedelta(days=7, seconds=1), 0.0),
        (dt.timedelta(days=6, hours=23), 10.0),
    ],
    ids=["exactly 7 days", "7 days and 1 us", "7 days and 1 s", "just inside"],
)
def test_window_decay_counts_an_activity_exactly_at_the_edge_in_value_and_score(age, points):
    """A 7-day window keeps an activity exactly 7 days old, in `value` and `score` alike."""
    model = EngagementModel(
        [EngagementRule("visit", F("kind") == "web_visit", 10, decay=Window(7))]
    )
    visit = attrs.evolve(activity("web_visit"), occurred_at=T0 - age)
    assert model.value([visit], T0) == points
    score = model.score([visit], T0)
    assert score.value == points
    assert [line.points for line in score.contributions] == ([points] if points else [])


def test_window_factor_is_1_up_to_and_including_the_last_instant_then_0():
    """`Window(7).factor` is 1.0 at exactly 7 days of age and 0.0 just after."""
    window = Window(7)
    assert window.factor(0.0) == 1.0
    assert window.factor(7 * 86_400.0) == 1.0
    assert window.factor(7 * 86_400.0 + 1e-6) == 0.0


def test_a_group_cap_line_is_scaled_by_the_total_cap_like_every_other_line():
    """With total_cap 50 (scale 2), 20 raw points capped at 10 give a cap line of -20."""
    model = EngagementModel(
        [EngagementRule("open", F("outcome") == "opened", 4, "email")],
        group_caps={"email": 10},
        total_cap=50,
    )
    score = model.score([activity("email", "opened") for _ in range(5)], T0)
    assert score.value == 20.0
    caps = [c for c in score.contributions if c.kind is ContributionKind.GROUP_CAP]
    assert [(c.label, c.points) for c in caps] == [("cap: email", -20.0)]
    assert [c.points for c in score.contributions if c.rule == "open"] == [8.0] * 5
    assert adds_up(score)


def test_first_matching_rule_wins_and_unmatched_activities_score_nothing():
    model = EngagementModel(
        [
            EngagementRule("demo request", F("subject").contains("demo"), 20, "web"),
            EngagementRule("any form", F("kind") == "form", 5, "web"),
        ]
    )
    demo = activity("form", "submitted", subject="Book a DEMO")
    plain = activity("form", "submitted", subject="newsletter")
    assert model.rule_for(demo).name == "demo request"
    assert model.rule_for(plain).name == "any form"
    assert model.value([demo, plain, activity("call", "connected")], T0) == 25.0


def test_totals_scale_to_100_by_the_total_cap():
    model = EngagementModel([EngagementRule("open", F("outcome") == "opened", 10)], total_cap=40)
    assert model.value([activity("email", "opened")] * 2, T0) == pytest.approx(50.0)
    score = model.score([activity("email", "opened")] * 5, T0)
    assert score.value == 100.0
    assert adds_up(score)


# -- validation and plain data ------------------------------------------------------------------


def test_bad_definitions_are_refused_with_every_problem():
    with pytest.raises(ValidationError) as error:
        EngagementModel(
            [
                EngagementRule("a", F("kind") == "email", 1, "email"),
                EngagementRule("a", F("kind") == "call", 1, "calls"),
            ],
            group_caps={"web": 5, "calls": 0},
        )
    text = str(error.value)
    assert "used more than once" in text
    assert "caps a group no rule uses" in text
    assert "must be a number > 0" in text
    with pytest.raises(ValidationError, match="not a field this rule can read"):
        EngagementRule("x", F("employees") > 3, 1)
    with pytest.raises(ValidationError, match="greater than 0"):
        Exponential(0)
    with pytest.raises(ValidationError) as error:
        EngagementModel.from_dict({"rules": [{"name": "x", "when": {"field": "kind"}}]})
    assert error.value.fields[0].startswith("rules[0].")


def test_decays_round_trip_through_dicts():
    for decay in (NoDecay(), Exponential(30), Linear(14, 0.5, True), Window(90)):
        assert decay_from_dict(decay.to_dict()) == decay
    with pytest.raises(ValidationError, match="is not a decay") as info:
        decay_from_dict({"type": "sometimes"})
    assert info.value.fields == ("decay",)


def test_the_default_model_round_trips_through_dict_json_and_toml():
    assert EngagementModel.from_dict(MODEL.to_dict()) == MODEL
    assert EngagementModel.from_json(MODEL.to_json()) == MODEL
    assert EngagementModel.from_toml(MODEL.to_toml()) == MODEL
    assert json.loads(MODEL.to_json())["group_caps"]["email"] == 25.0
    custom = EngagementModel(
        [
            EngagementRule(
                "reply",
                (F("kind") == "email") & (F("outcome") == "replied"),
                8,
                "email",
                per_minute=0.5,
                max_duration_points=3,
                response_bonus=[ResponseBonus(24, 2), ResponseBonus(1, 5)],
                decay=Linear(30),
            )
        ],
        total_cap=50,
        name="warmth",
        version="7",
    )
    assert EngagementModel.from_toml(custom.to_toml()) == custom
    assert custom.rules[0].response_bonus[0].within_hours == 1.0  # tiers sorted


# -- properties ------------------------------------------------------------------------------

KINDS = POSITIVE + NEGATIVE + NEUTRAL


@st.composite
def activities(draw, pairs=KINDS, max_size=25):
    n = draw(st.integers(0, max_size))
    out = []
    for _ in range(n):
        kind, outcome = draw(st.sampled_from(pairs))
        out.append(
            activity(
                kind,
                outcome,
                days=draw(st.floats(-5, 400, allow_nan=False)),
                minutes=draw(st.none() | st.integers(0, 120)),
                response_hours=draw(st.none() | st.floats(0, 72)),
            )
        )
    return out


@given(activities())
def test_scores_stay_in_range_and_the_breakdown_adds_up(acts):
    score = MODEL.score(acts, T0)
    assert 0.0 <= score.value <= 100.0
    assert adds_up(score)
    assert score.value == pytest.approx(MODEL.value(acts, T0), abs=1e-9)


@given(activities(), st.sampled_from(POSITIVE), st.floats(0, 400), st.none() | st.integers(0, 90))
def test_adding_a_positive_activity_never_lowers_engagement(acts, pair, days, minutes):
    before = MODEL.value(acts, T0)
    after = MODEL.value([*acts, activity(*pair, days=days, minutes=minutes)], T0)
    assert after >= before - 1e-9


@given(activities(pairs=POSITIVE), st.floats(0, 200))
def test_the_same_activities_moved_into_the_past_never_score_higher(acts, shift):
    acts = [a for a in acts if a.occurred_at <= T0]  # a future activity has not happened yet
    older = [
        activity(
            a.kind,
            a.outcome,
            days=(T0 - a.occurred_at).total_seconds() / 86400 + shift,
            minutes=None if a.duration is None else a.duration.total_seconds() / 60,
            response_hours=None
            if a.response_time is None
            else a.response_time.total_seconds() / 3600,
        )
        for a in acts
    ]
    assert MODEL.value(older, T0) <= MODEL.value(acts, T0) + 1e-9


@given(activities(), st.floats(0, 100))
def test_time_passing_never_raises_a_model_whose_negatives_do_not_decay(acts, days):
    steady = EngagementModel(
        [
            rule if rule.points > 0 else EngagementRule(**{**_fields(rule), "decay": NoDecay()})
            for rule in MODEL.rules
        ],
        group_caps=MODEL.group_caps,
    )
    kept = [a for a in acts if a.occurred_at <= T0]
    later = T0 + dt.timedelta(days=days)
    assert steady.value(kept, later) <= steady.value(kept, T0) + 1e-9


def _fields(rule):
    return {
        "name": rule.name,
        "when": rule.when,
        "points": rule.points,
        "group": rule.group,
        "per_minute": rule.per_minute,
        "max_duration_points": rule.max_duration_points,
        "response_bonus": rule.response_bonus,
    }


# -- wrong arguments: a ValidationError naming each, never a raw Python error (issue 11) ----


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


RULE = EngagementRule("opened", F("kind") == "email", 1, "email")


def test_an_engagement_model_refuses_rules_that_are_no_collection_of_rules():
    """``EngagementModel(None)`` was a TypeError from iterating None."""
    refused(lambda: EngagementModel(None), "rules")
    refused(lambda: EngagementModel("opened"), "rules")
    refused(lambda: EngagementModel([RULE, None, "x"]), "rules[1]", "rules[2]")
    refused(lambda: EngagementModel([RULE], group_caps=[("email", 5)]), "group_caps")
    refused(lambda: EngagementModel([RULE], total_cap=10**400), "total_cap")
    refused(lambda: EngagementModel([RULE], group_caps={"email": 10**400}), "group_caps.email")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Exponential(None), "half_life_days"),
        (lambda: Exponential("30"), "half_life_days"),
        (lambda: Linear(None), "per_days"),
        (lambda: Linear(10, None), "fraction"),
        (lambda: Linear(10, 1.5), "fraction"),
        (lambda: Linear(10, 0.5, "yes"), "steps"),
        (lambda: Window(None), "days"),
        (lambda: Window(float("inf")), "days"),
        (lambda: Window(10**400), "days"),
    ],
)
def test_decays_refuse_what_is_not_a_finite_number_naming_the_parameter(make, field):
    """``Exponential(None)`` was a TypeError from float(None)."""
    refused(make, field)


def test_a_response_bonus_refuses_an_int_too_large_for_a_float():
    """``ResponseBonus(10**400, 1)`` was an OverflowError."""
    refused(lambda: ResponseBonus(10**400, 1), "within_hours")
    refused(lambda: ResponseBonus(1, -(10**400)), "points")


def test_a_rule_refuses_response_bonus_tiers_that_are_not_tiers():
    def rule(bonus):
        return EngagementRule("r", F("kind") == "email", 1, response_bonus=bonus)

    refused(lambda: rule(5), "response_bonus")
    refused(lambda: rule([5, {"within_hours": 1}]), "response_bonus[0]", "response_bonus[1].points")
    assert rule([{"within_hours": 2, "points": 1}, ResponseBonus(1, 2)]).response_bonus == (
        ResponseBonus(1, 2),
        ResponseBonus(2, 1),
    )


def test_score_engagement_refuses_what_is_not_a_store_or_a_model():
    """``score_engagement(None, None)`` was an AttributeError ('unit_of_work')."""
    refused(lambda: score_engagement(None, default_engagement_model()), "store")
    with open_store("memory://") as store:
        refused(lambda: score_engagement(store, None), "model")
        refused(lambda: score_engagement(store, RULE), "model")
        refused(
            lambda: score_engagement(store, default_engagement_model(), explain=None), "explain"
        )
