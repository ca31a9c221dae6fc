"""Tests that pin down behaviour of crmkit.scoring that mutation testing found unchecked.

Each refusal is checked to the problem it reports (field, value, reason); boundaries are
checked on both sides. Definitions are built inside the tests, not at import time, so that
mutation testing sees the code that builds them.
"""

import datetime as dt
import math
import uuid
from fractions import Fraction
from types import MappingProxyType

import pytest

from crmkit import (
    Activity,
    Company,
    Contact,
    Deal,
    FixedClock,
    Lead,
    LeadStatus,
    Money,
    Priority,
    default_sales_pipeline,
    move_lead,
    open_store,
)
from crmkit.conditions import F
from crmkit.errors import ValidationError
from crmkit.scoring import (
    BatchResult,
    Contribution,
    ContributionKind,
    EngagementModel,
    EngagementRule,
    Exponential,
    FitModel,
    FitRule,
    FitSubject,
    GradeMatrix,
    InsufficientDataError,
    LeadScore,
    LeadScoring,
    Linear,
    NoDecay,
    PriorityBand,
    PriorityFactor,
    PriorityInput,
    PriorityPolicy,
    QualityReport,
    Reason,
    ResponseBonus,
    Score,
    StageOrder,
    Usefulness,
    Window,
    WinProbabilityModel,
    assess_in_store,
    brier_score,
    calibration_table,
    decay_from_dict,
    default_engagement_model,
    default_priority_policy,
    roc_auc,
    score_engagement,
    score_fit,
    score_record,
    score_records,
)
from crmkit.scoring.breakdown import clamp_lines
from crmkit.scoring.decay import DAY
from crmkit.scoring.definition_text import check_keys, condition_field, number_field
from crmkit.storage.protocol import StoredScore

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
CONTACT = uuid.UUID(int=42)
TWO = "is not two thresholds (high, low)"
ORDER = "must be two thresholds with 0 <= low < high <= 100, high first"
EMPTY_BAND = "is empty or reversed: low must be below high"
NOT_A_DECAY = "is not a decay: give type none, exponential, linear or window"


def tuples(error: ValidationError) -> list[tuple[object, object, str]]:
    """Return the problems of an error as (field, value, reason) tuples."""
    return [(p.field, p.value, p.reason) for p in error.problems]


def refusal(call) -> list[tuple[object, object, str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return tuples(caught.value)


# -- definition text ------------------------------------------------------------------------


def test_number_field_refusals_name_the_field():
    assert refusal(lambda: number_field(True, "w")) == [("w", True, "is not a number")]
    assert refusal(lambda: number_field("1", "w")) == [("w", "1", "is not a number")]
    big = 10**400
    assert refusal(lambda: number_field(big, "w")) == [
        ("w", big, "is not a finite number (too large)")
    ]
    assert number_field(-(10**300), "w") == -1e300
    assert refusal(lambda: number_field(math.inf, "w")) == [
        ("w", math.inf, "is not a finite number")
    ]
    assert refusal(lambda: number_field(0, "w", positive=True)) == [
        ("w", 0, "must be greater than 0")
    ]
    assert number_field(1e-300, "w", positive=True) == 1e-300
    assert number_field(-1, "w") == -1.0
    assert refusal(lambda: number_field(-0.5, "w", minimum=0.0)) == [
        ("w", -0.5, "must be at least 0")
    ]
    assert refusal(lambda: number_field(1.25, "w", minimum=1.5)) == [
        ("w", 1.25, "must be at least 1.5")
    ]
    assert number_field(0, "w", minimum=0.0) == 0.0
    assert isinstance(number_field(3, "w"), float)


def test_check_keys_lists_unknown_and_missing_keys():
    assert refusal(lambda: check_keys([1], "thing", ("a",))) == [("thing", [1], "is not a mapping")]
    assert refusal(lambda: check_keys({"a": 1, "b": 2, 3: 4}, "thing", ("a",), ("a", "c"))) == [
        ("b", 2, "is not a setting of a thing"),
        ("3", 4, "is not a setting of a thing"),
        ("c", None, "is required"),
    ]
    data = {"a": 1}
    assert check_keys(data, "thing", ("a",), ("a",)) is data


def test_condition_field_names_the_field():
    assert refusal(lambda: condition_field(5, "when")) == [
        ("when", 5, "is not a condition or its dict form")
    ]
    bad = {"field": "x", "op": "~", "value": 1}
    [(field, value, _)] = refusal(lambda: condition_field(bad, "when"))
    assert (field, value) == ("when", bad)
    good = {"field": "employees", "op": ">=", "value": 5}
    assert condition_field(good, "when").to_dict() == good
    assert condition_field(good, "when", frozenset({"employees"})).to_dict() == good
    unknown = {"and": [{"field": "a", "op": "is empty"}, {"field": "b", "op": "is empty"}]}
    assert refusal(lambda: condition_field(unknown, "when", frozenset({"c"}))) == [
        ("when", "a", "is not a field this rule can read"),
        ("when", "b", "is not a field this rule can read"),
    ]


# -- grades ---------------------------------------------------------------------------------


def test_grade_boundaries_are_inclusive_from_above():
    grades = GradeMatrix()
    assert [grades.fit_letter(v) for v in (70, 69.99, 40, 39.99)] == ["A", "B", "B", "C"]
    assert [grades.engagement_digit(v) for v in (60, 59.99, 25, 24.99)] == ["1", "2", "2", "3"]
    assert grades.grade(70, 24.99) == "A3"
    assert grades.grade(39.99, 60) == "C1"


def test_grade_thresholds_are_checked():
    assert GradeMatrix((100, 0), (100, 0)).fit_thresholds == (100.0, 0.0)
    assert refusal(lambda: GradeMatrix(fit_thresholds=5)) == [("fit_thresholds", 5, TWO)]
    assert refusal(lambda: GradeMatrix(fit_thresholds=(90, 50, 10))) == [
        ("fit_thresholds", (90, 50, 10), TWO)
    ]
    assert refusal(lambda: GradeMatrix(engagement_thresholds=[9])) == [
        ("engagement_thresholds", [9], TWO)
    ]
    assert refusal(lambda: GradeMatrix(fit_thresholds=(90, "x"))) == [
        ("fit_thresholds", "x", "is not a number")
    ]
    for pair in [(50, 50), (40, 70), (100.5, 10), (50, -0.5)]:
        assert refusal(lambda pair=pair: GradeMatrix(engagement_thresholds=pair)) == [
            ("engagement_thresholds", pair, ORDER)
        ]


def test_grade_matrix_as_data():
    grades = GradeMatrix((80, 50), (70, 30))
    assert grades.to_dict() == {
        "fit_thresholds": [80.0, 50.0],
        "engagement_thresholds": [70.0, 30.0],
    }
    assert GradeMatrix.from_dict(grades.to_dict()) == grades
    assert GradeMatrix.from_dict({}) == GradeMatrix()
    assert GradeMatrix.from_json(grades.to_json()) == grades
    assert refusal(lambda: GradeMatrix.from_dict({"fit_thresholds": [1], "x": 2})) == [
        ("x", 2, "is not a setting of a grade matrix")
    ]
    assert refusal(
        lambda: GradeMatrix.from_dict({"fit_thresholds": [1], "engagement_thresholds": [5, 9]})
    ) == [("fit_thresholds", [1], TWO), ("engagement_thresholds", [5, 9], ORDER)]
    assert [f for f, _, _ in refusal(lambda: GradeMatrix.from_json("["))] == ["grade matrix"]
    assert [f for f, _, _ in refusal(lambda: GradeMatrix.from_toml("= ="))] == ["grade matrix"]


# -- lead score -----------------------------------------------------------------------------


def test_lead_score_blends_clamps_and_grades():
    scoring = LeadScoring()
    assert scoring.score(0, 0) == LeadScore(1, 0.0, 0.0, "C3")
    assert scoring.score(100, 100) == LeadScore(100, 100.0, 100.0, "A1")
    assert scoring.score(150, -20) == LeadScore(51, 100.0, 0.0, "A3")
    assert scoring.score(-0.5, 100.5) == LeadScore(51, 0.0, 100.0, "C1")
    assert scoring.score(Score(40.0), Score(60.0)) == LeadScore(51, 40.0, 60.0, "B1")
    weighted = LeadScoring(fit_weight=3, engagement_weight=1)
    assert weighted.score(100, 0).value == 1 + round(99 * 0.75)
    assert LeadScoring(fit_weight=0, engagement_weight=2).score(100, 20).value == 1 + round(19.8)
    assert LeadScoring(fit_weight=1, engagement_weight=0).score(100, 20).value == 100


def test_lead_scoring_refuses_bad_weights_and_grades():
    assert refusal(lambda: LeadScoring(fit_weight=-1)) == [("fit_weight", -1, "must be at least 0")]
    assert refusal(lambda: LeadScoring(engagement_weight=-0.5)) == [
        ("engagement_weight", -0.5, "must be at least 0")
    ]
    assert refusal(lambda: LeadScoring(fit_weight=0, engagement_weight=0)) == [
        ("fit_weight", (0.0, 0.0), "and engagement_weight are both 0")
    ]
    assert refusal(lambda: LeadScoring(grades=5)) == [
        ("grades", 5, "is not a grade matrix or its dict form")
    ]
    assert LeadScoring(grades={"fit_thresholds": [90, 10]}).grades == GradeMatrix((90, 10))


def test_lead_scoring_as_data():
    scoring = LeadScoring(fit_weight=2, engagement_weight=1, grades=GradeMatrix((80, 50)))
    assert scoring.to_dict() == {
        "fit_weight": 2.0,
        "engagement_weight": 1.0,
        "grades": {"fit_thresholds": [80.0, 50.0], "engagement_thresholds": [60.0, 25.0]},
    }
    assert LeadScoring.from_dict(scoring.to_dict()) == scoring
    assert LeadScoring.from_json(scoring.to_json()) == scoring
    assert refusal(lambda: LeadScoring.from_dict({"weight": 1})) == [
        ("weight", 1, "is not a setting of a lead scoring")
    ]
    assert [f for f, _, _ in refusal(lambda: LeadScoring.from_json("1"))] == ["lead scoring"]


# -- decays ---------------------------------------------------------------------------------


def test_exponential_decay_halves_every_half_life():
    decay = Exponential(30)
    assert decay.rate == pytest.approx(math.log(2) / (30 * DAY), rel=1e-12)
    assert decay.factor(0) == 1.0
    assert decay.factor(30 * DAY) == pytest.approx(0.5, rel=1e-12)
    assert decay.factor(60 * DAY) == pytest.approx(0.25, rel=1e-12)
    assert decay.to_dict() == {"type": "exponential", "half_life_days": 30.0}
    assert refusal(lambda: Exponential(0)) == [("half_life_days", 0, "must be greater than 0")]


def test_linear_decay_continuous_and_in_steps():
    decay = Linear(10)
    assert (decay.fraction, decay.steps) == (0.25, False)
    assert decay.rate == pytest.approx(0.25 / (10 * DAY), rel=1e-12)
    assert decay.factor(0) == 1.0
    assert decay.factor(5 * DAY) == pytest.approx(0.875, rel=1e-12)
    assert decay.factor(40 * DAY) == pytest.approx(0.0, abs=1e-12)
    assert decay.factor(50 * DAY) == 0.0
    steps = Linear(10, 0.5, steps=True)
    assert steps.factor(10 * DAY - 1) == 1.0
    assert steps.factor(10 * DAY) == 0.5
    assert steps.factor(19 * DAY) == 0.5
    assert steps.factor(30 * DAY) == 0.0
    assert steps.to_dict() == {"type": "linear", "per_days": 10.0, "fraction": 0.5, "steps": True}


def test_linear_decay_refusals():
    assert Linear(1, 1.0).fraction == 1.0
    assert refusal(lambda: Linear(1, 1.01)) == [("fraction", 1.01, "must be in (0, 1]")]
    assert refusal(lambda: Linear(1, 0)) == [("fraction", 0, "must be greater than 0")]
    assert refusal(lambda: Linear(-1)) == [("per_days", -1, "must be greater than 0")]
    assert refusal(lambda: Linear(1, steps=1)) == [("steps", 1, "is not True or False")]


def test_window_counts_its_last_instant():
    window = Window(7)
    assert window.factor(7 * DAY) == 1.0
    assert window.factor(7 * DAY + 1) == 0.0
    assert window.to_dict() == {"type": "window", "days": 7.0}
    assert refusal(lambda: Window(0)) == [("days", 0, "must be greater than 0")]
    assert NoDecay().factor(1e12) == 1.0
    assert NoDecay().to_dict() == {"type": "none"}


def test_decay_from_dict_loads_each_type():
    assert decay_from_dict({"type": "none"}) == NoDecay()
    assert decay_from_dict({"type": "exponential", "half_life_days": 3}) == Exponential(3)
    assert decay_from_dict({"type": "linear", "per_days": 4}) == Linear(4, 0.25, False)
    assert decay_from_dict(
        {"type": "linear", "per_days": 4, "fraction": 0.5, "steps": True}
    ) == Linear(4, 0.5, True)
    assert decay_from_dict({"type": "window", "days": 2}) == Window(2)


def test_decay_from_dict_refusals():
    assert refusal(lambda: decay_from_dict({"type": "none", "days": 1})) == [
        ("days", 1, "is not a setting of a decay")
    ]
    assert refusal(lambda: decay_from_dict({"type": "exponential"})) == [
        ("half_life_days", None, "is required")
    ]
    assert refusal(lambda: decay_from_dict({"type": "exponential", "half_life_days": "3"})) == [
        ("half_life_days", "3", "is not a number")
    ]
    assert refusal(lambda: decay_from_dict({"type": "linear", "days": 1})) == [
        ("days", 1, "is not a setting of a decay"),
        ("per_days", None, "is required"),
    ]
    assert refusal(lambda: decay_from_dict({"type": "linear", "per_days": 1, "steps": 0})) == [
        ("steps", 0, "is not True or False")
    ]
    assert refusal(lambda: decay_from_dict({"type": "linear", "per_days": 1, "fraction": "x"})) == [
        ("fraction", "x", "is not a number")
    ]
    assert refusal(lambda: decay_from_dict({"type": "linear", "per_days": "x"})) == [
        ("per_days", "x", "is not a number")
    ]
    assert refusal(lambda: decay_from_dict({"type": "window"})) == [("days", None, "is required")]
    for data in [
        {"type": "exponential", "half_life_days": 1, "x": 2},
        {"type": "window", "days": 1, "x": 2},
        {"type": "linear", "per_days": 1, "x": 2},
    ]:
        assert refusal(lambda data=data: decay_from_dict(data)) == [
            ("x", 2, "is not a setting of a decay")
        ]
    assert refusal(lambda: decay_from_dict({"type": "window", "days": "x"})) == [
        ("days", "x", "is not a number")
    ]
    for data in [{"type": "cubic"}, {}, ["type"]]:
        assert refusal(lambda data=data: decay_from_dict(data)) == [("decay", data, NOT_A_DECAY)]


# -- breakdowns -----------------------------------------------------------------------------


def test_a_contribution_as_data_leaves_out_defaults():
    line = Contribution("opened", 5.0)
    assert line.to_dict() == {"label": "opened", "points": 5.0, "kind": "rule"}
    assert Contribution.from_dict({"label": "opened", "points": 5}) == line
    activity = uuid.UUID(int=7)
    full = Contribution("cap: email", -2.5, ContributionKind.GROUP_CAP, "r", "email", activity, 0.5)
    assert full.to_dict() == {
        "label": "cap: email",
        "points": -2.5,
        "kind": "group_cap",
        "rule": "r",
        "group": "email",
        "activity_id": str(activity),
        "factor": 0.5,
    }
    assert Contribution.from_dict(full.to_dict()) == full


def test_a_score_checks_its_lines_within_a_relative_tolerance():
    assert Score(1000.0, (Contribution("a", 1000.0000001),)).check()
    assert not Score(1000.0, (Contribution("a", 1000.00001),)).check()
    assert Score(0.001, (Contribution("a", 0.001 + 5e-10),)).check()
    assert not Score(0.001, (Contribution("a", 0.001 + 5e-9),)).check()
    lines = (Contribution("a", 0.1), Contribution("b", 0.2), Contribution("c", -0.3))
    assert Score(0.0, lines).total() == math.fsum([0.1, 0.2, -0.3])


def test_by_rule_sums_per_label_largest_effect_first():
    lines = (
        Contribution("a", 2.0),
        Contribution("b", -5.0),
        Contribution("a", 1.5),
        Contribution("c", 4.0),
    )
    assert list(Score(2.5, lines).by_rule().items()) == [("b", -5.0), ("c", 4.0), ("a", 3.5)]


def test_to_stored_takes_computed_at_or_as_of():
    record = uuid.UUID(int=1)
    score = Score(12.5, (Contribution("a", 12.5),), "fit", "3", as_of=T0)
    stored = score.to_stored(record, grade="B2")
    assert (stored.record_id, stored.scorer, stored.value, stored.computed_at) == (
        record,
        "fit",
        12.5,
        T0,
    )
    assert (stored.scorer_version, stored.grade, stored.breakdown) == (
        "3",
        "B2",
        [{"label": "a", "points": 12.5, "kind": "rule"}],
    )
    later = T0 + dt.timedelta(days=1)
    assert score.to_stored(record, computed_at=later).computed_at == later
    with pytest.raises(
        ValueError, match=r"^a stored score needs computed_at \(the score has no as_of\)$"
    ):
        Score(1.0).to_stored(record)


def test_clamp_lines_only_outside_zero_to_cap():
    assert clamp_lines(50.0, 50.0, 2.0) == []
    assert clamp_lines(0.0, 50.0, 2.0) == []
    assert clamp_lines(60.0, 50.0, 2.0) == [
        Contribution("cap: total", -20.0, ContributionKind.TOTAL_CAP)
    ]
    assert clamp_lines(-3.0, 50.0, 2.0) == [Contribution("floor at 0", 6.0, ContributionKind.FLOOR)]


# -- quality --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auc", "skill", "expected"),
    [
        (0.55, 0.0, Usefulness.USELESS),
        (0.55, 1e-9, Usefulness.WEAK),
        (0.5499, 0.5, Usefulness.USELESS),
        (0.65, 0.05, Usefulness.FAIR),
        (0.65, 0.0499, Usefulness.WEAK),
        (0.6499, 0.05, Usefulness.WEAK),
        (0.75, 0.15, Usefulness.GOOD),
        (0.7499, 0.15, Usefulness.FAIR),
        (0.85, 0.30, Usefulness.STRONG),
        (0.85, 0.2999, Usefulness.GOOD),
        (0.8499, 0.9, Usefulness.GOOD),
        (1.0, -0.1, Usefulness.USELESS),
    ],
)
def test_usefulness_bands_include_their_lower_bounds(auc, skill, expected):
    assert Usefulness.of(auc, skill) is expected


def test_quality_inputs_are_checked_item_by_item():
    assert refusal(lambda: roc_auc(None, "x")) == [
        ("outcomes", None, "is not a collection of True/False"),
        ("probabilities", "x", "is not a collection of numbers"),
    ]
    big = 2**2000
    outcomes = [True, 2, "x", 0, 1, False, True]
    probabilities = [0.5, 1.5, True, math.nan, Fraction(3, 2), big, -0.01]
    reason = "is not a probability (a number from 0 to 1)"
    problems = refusal(lambda: brier_score(outcomes, probabilities))
    assert problems[:2] == [
        ("outcomes[1]", 2, "is not True or False"),
        ("outcomes[2]", "x", "is not True or False"),
    ]
    assert [(f, r) for f, _, r in problems[2:]] == [
        (f"probabilities[{i}]", reason) for i in (1, 2, 3, 4, 5, 6)
    ]
    assert brier_score([1, 0], [Fraction(1, 2), 0]) == 0.125
    assert refusal(lambda: brier_score([True, False, True], [0.5, 0.5])) == [
        ("probabilities", "2 probabilities", "do not match the 3 outcomes one to one")
    ]


def test_roc_auc_counts_ties_half():
    assert roc_auc([True, False, True, False], [0.9, 0.1, 0.5, 0.5]) == 0.875
    assert roc_auc([True, False], [0.2, 0.8]) == 0.0
    assert roc_auc([True, False, False], [0.3, 0.3, 0.3]) == 0.5
    assert roc_auc((False, True, True, False, True), (0.1, 0.4, 0.35, 0.8, 0.9)) == pytest.approx(
        4 / 6
    )
    assert refusal(lambda: roc_auc([True, True], [0.2, 0.3])) == [
        ("outcomes", "2 won, 0 lost", "ROC AUC needs both won and lost")
    ]
    assert refusal(lambda: roc_auc([False], [0.2])) == [
        ("outcomes", "0 won, 1 lost", "ROC AUC needs both won and lost")
    ]


def test_brier_score_is_the_mean_squared_error():
    assert brier_score([True, False], [0.8, 0.4]) == pytest.approx(0.1)
    assert brier_score([True], [1.0]) == 0.0
    assert refusal(lambda: brier_score([], [])) == [
        ("outcomes", [], "a Brier score needs at least one outcome")
    ]


def test_calibration_table_bins_and_their_edges():
    table = calibration_table(
        [True, False, True, False, True], [0.0, 0.0999, 0.1, 0.55, 1.0], bins=10
    )
    assert [(b.low, b.high, b.count) for b in table] == [
        (0.0, 0.1, 2),
        (0.1, 0.2, 1),
        (0.5, 0.6, 1),
        (0.9, 1.0, 1),
    ]
    assert (table[0].mean_predicted, table[0].observed) == (pytest.approx(0.04995), 0.5)
    assert table[3].to_dict() == {
        "low": 0.9,
        "high": 1.0,
        "count": 1,
        "mean_predicted": 1.0,
        "observed": 1.0,
    }
    halves = calibration_table([True, False, False], [0.5, 0.49, 0.2], bins=2)
    assert [(b.low, b.count, b.observed) for b in halves] == [(0.0, 2, 0.0), (0.5, 1, 1.0)]
    assert [(b.low, b.high) for b in calibration_table([True], [0.7], bins=1)] == [(0.0, 1.0)]
    assert [f for f, _, _ in refusal(lambda: calibration_table([True], [0.7], bins=0))] == ["bins"]
    huge = calibration_table([True], [0.5], bins=2**60)
    assert (huge[0].low, huge[0].count) == (0.5, 1)


def test_quality_report_words_and_numbers():
    report = QualityReport(
        held_out=10, won=6, roc_auc=0.7, brier=0.18, base_rate_brier=0.2, base_rate=0.64
    )
    assert report.skill == pytest.approx(0.1)
    assert report.usefulness is Usefulness.FAIR
    assert report.verdict == "fair: somewhat better than always predicting 64 %"
    assert report.summary() == (
        "fair: somewhat better than always predicting 64 % "
        "(ROC AUC 0.70, Brier skill 0.10, on 10 held-out records, 6 won)"
    )
    assert str(report) == report.summary()
    unknown = QualityReport(5, 1, 0.5, 0.2, 0.0)
    assert unknown.skill == 0.0
    assert unknown.verdict == "useless: no better than always predicting the training win rate"


def test_quality_report_measure_and_data():
    outcomes = [True, False, True, False]
    report = QualityReport.measure(outcomes, [0.9, 0.1, 0.6, 0.4], 0.5, blend=0.5)
    assert (report.held_out, report.won, report.roc_auc) == (4, 2, 1.0)
    assert report.brier == pytest.approx((0.01 + 0.01 + 0.16 + 0.16) / 4)
    assert report.base_rate_brier == pytest.approx(0.25)
    assert (report.base_rate, report.blend) == (0.5, 0.5)
    assert [b.low for b in report.calibration] == [0.1, 0.4, 0.6, 0.9]
    data = report.to_dict()
    assert data["base_rate"] == 0.5
    assert data["blend"] == 0.5
    assert QualityReport.from_dict(data) == report
    plain = QualityReport(3, 1, 0.6, 0.2, 0.25)
    assert "base_rate" not in plain.to_dict()
    assert plain.to_dict()["blend"] == 1.0
    minimal = {"held_out": 3, "won": 1, "roc_auc": 0.6, "brier": 0.2, "base_rate_brier": 0.25}
    assert QualityReport.from_dict(minimal) == plain


# -- priority -------------------------------------------------------------------------------

INPUTS = "amount, probability, engagement, days_to_close, days_since_touch"


def _bands(*edges):
    """Bands low, medium, high split at the two edges."""
    low, high = edges
    return (
        PriorityBand("low", 0, low),
        PriorityBand("medium", low, high),
        PriorityBand("high", high, 100),
    )


def test_priority_factor_refusals():
    assert refusal(lambda: PriorityFactor("x", 1, "size")) == [
        ("input", "size", f"is not one of: {INPUTS}")
    ]
    assert PriorityFactor("x", 1, "amount").input is PriorityInput.AMOUNT
    assert refusal(lambda: PriorityFactor(" ", 1, "amount")) == [
        ("name", " ", "must be non-blank text")
    ]
    assert refusal(lambda: PriorityFactor(3, 1, "amount")) == [
        ("name", 3, "must be non-blank text")
    ]
    assert refusal(lambda: PriorityFactor("x", 1)) == [
        ("input", None, "give exactly one of input and when")
    ]
    both = {"field": "stage", "op": "==", "value": "proposal"}
    assert refusal(lambda: PriorityFactor("x", 1, "amount", both)) == [
        ("input", PriorityInput.AMOUNT, "give exactly one of input and when")
    ]
    assert refusal(lambda: PriorityFactor("x", 1, when=5)) == [
        ("when", 5, "is not a condition or its dict form")
    ]
    assert refusal(lambda: PriorityFactor("x", 1, "amount", zero_at=5, full_at=5)) == [
        ("full_at", 5.0, "must differ from zero_at")
    ]
    assert PriorityFactor("x", 1, when=both, zero_at=5, full_at=5).full_at == 5.0
    assert refusal(lambda: PriorityFactor("x", 0, "amount")) == [
        ("weight", 0, "must be greater than 0")
    ]
    assert refusal(lambda: PriorityFactor("x", 1, "amount", zero_at="a")) == [
        ("zero_at", "a", "is not a number")
    ]
    assert refusal(lambda: PriorityFactor("x", 1, "amount", full_at="b")) == [
        ("full_at", "b", "is not a number")
    ]


def test_priority_factor_share_is_linear_and_flat_beyond_its_ends():
    up = PriorityFactor("value", 1, "amount", zero_at=100, full_at=300)
    assert [up.share(v) for v in (50, 100, 150, 300, 400)] == [0.0, 0.0, 0.25, 1.0, 1.0]
    down = PriorityFactor("soon", 1, "days_to_close", zero_at=90, full_at=10)
    assert [down.share(v) for v in (100, 90, 50, 10, 0)] == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_priority_factor_and_band_as_data():
    factor = PriorityFactor("value", 2, "amount", zero_at=1, full_at=9)
    data = {"name": "value", "weight": 2.0, "input": "amount", "zero_at": 1.0, "full_at": 9.0}
    assert factor.to_dict() == data
    assert PriorityFactor.from_dict(data) == factor
    when = {"field": "stage", "op": "==", "value": "proposal"}
    conditional = PriorityFactor("late", 1, when=when)
    assert conditional.to_dict() == {"name": "late", "weight": 1.0, "when": when}
    assert PriorityFactor.from_dict(conditional.to_dict()) == conditional
    assert refusal(lambda: PriorityFactor.from_dict({"name": "x"})) == [
        ("weight", None, "is required")
    ]
    band = PriorityBand("high", 60, 100)
    assert band.to_dict() == {"priority": "high", "low": 60.0, "high": 100.0}
    assert PriorityBand.from_dict(band.to_dict()) == band
    assert refusal(lambda: PriorityBand.from_dict({"priority": "high", "low": 1})) == [
        ("high", None, "is required")
    ]
    assert refusal(lambda: PriorityBand("urgent", 0, 1)) == [
        ("priority", "urgent", "is not high, medium or low")
    ]
    assert refusal(lambda: PriorityBand("low", "0", 1)) == [("low", "0", "is not a number")]
    assert refusal(lambda: PriorityBand("low", 0, "1")) == [("high", "1", "is not a number")]


def test_bands_must_cover_zero_to_a_hundred_without_gap_or_overlap():
    factor = PriorityFactor("value", 1, "amount")
    policy = lambda bands: PriorityPolicy([factor], bands)  # noqa: E731
    assert refusal(lambda: policy([PriorityBand("low", 10, 10)])) == [
        ("bands", {"priority": "low", "low": 10.0, "high": 10.0}, EMPTY_BAND)
    ]
    assert refusal(lambda: policy([])) == [("bands", [], "needs at least one band")]
    low, high = PriorityBand("low", 5, 50), PriorityBand("high", 60, 99)
    assert refusal(lambda: policy([high, low])) == [
        ("bands", low.to_dict(), "leaves a gap: nothing covers 0 to 5"),
        ("bands", high.to_dict(), "leaves a gap: nothing covers 99 to 100"),
        ("bands", [low.to_dict(), high.to_dict()], "leave a gap: nothing covers 50 to 60"),
    ]
    three = (*_bands(30, 60)[:2], PriorityBand("high", 60, 99))
    assert refusal(lambda: policy(three)) == [
        ("bands", three[2].to_dict(), "leaves a gap: nothing covers 99 to 100")
    ]
    first, second = PriorityBand("low", 0, 70), PriorityBand("high", 60, 100)
    assert refusal(lambda: policy([first, second])) == [
        ("bands", [first.to_dict(), second.to_dict()], "overlap from 60 to 70")
    ]
    inner = PriorityBand("medium", 20, 30)
    outer = PriorityBand("low", 0, 100)
    overlap = ("bands", [outer.to_dict(), inner.to_dict()], "overlap from 20 to 30")
    assert refusal(lambda: policy([outer, inner])) == [overlap]  # no gap after the inner one
    late = PriorityBand("high", 40, 50)  # also inside outer: overlaps it, no gap from 30 to 40
    assert refusal(lambda: policy([outer, inner, late])) == [
        overlap,
        ("bands", [outer.to_dict(), late.to_dict()], "overlap from 40 to 50"),
    ]
    ordered = policy([PriorityBand("high", 50, 100), PriorityBand("low", 0, 50)])
    assert [b.low for b in ordered.bands] == [0.0, 50.0]


def test_a_policy_refuses_bad_factors_names_and_versions():
    factor = PriorityFactor("value", 1, "amount")
    bands = _bands(30, 60)
    assert refusal(lambda: PriorityPolicy(5, bands)) == [
        ("factors", 5, "is not a collection of priority factors")
    ]
    assert refusal(lambda: PriorityPolicy([factor], 5)) == [
        ("bands", 5, "is not a collection of priority bands")
    ]
    assert refusal(lambda: PriorityPolicy([factor, 5], bands)) == [
        ("factors[1]", 5, "is not a PriorityFactor or its dict form")
    ]
    assert refusal(lambda: PriorityPolicy([{"name": "x"}, {"weight": 1}], bands)) == [
        ("factors[0].weight", None, "is required"),
        ("factors[1].name", None, "is required"),
    ]
    assert refusal(lambda: PriorityPolicy([], bands, name=" ", version="")) == [
        ("name", " ", "must be non-blank text"),
        ("version", "", "must be non-blank text"),
        ("factors", [], "needs at least one factor"),
    ]
    assert refusal(lambda: PriorityPolicy([factor, factor], bands, name=1, version=2)) == [
        ("name", 1, "must be non-blank text"),
        ("version", 2, "must be non-blank text"),
        ("factors", ["value"], "are factor names used more than once"),
    ]
    policy = PriorityPolicy([factor.to_dict()], [b.to_dict() for b in bands])
    assert policy.factors == (factor,)
    assert PriorityPolicy.from_dict(policy.to_dict()) == policy
    assert PriorityPolicy.from_json(policy.to_json()) == policy
    assert policy.to_dict()["name"] == "priority"
    assert policy.to_dict()["version"] == "1"
    assert refusal(lambda: PriorityPolicy.from_dict({"factors": []})) == [
        ("bands", None, "is required")
    ]


def test_band_for_uses_half_open_bands_with_the_top_one_closed():
    policy = PriorityPolicy([PriorityFactor("value", 1, "amount")], _bands(30, 60))
    assert [policy.band_for(s).priority.value for s in (0, 29.99, 30, 59.99, 60, 100)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_assess_checks_its_arguments_by_name():
    policy = default_priority_policy()
    deal = Deal.create(name="D", pipeline="sales", stage="proposal")
    naive = dt.datetime(2026, 3, 2, 9)
    assert refusal(lambda: policy.assess("deal", as_of=T0)) == [
        ("record", "deal", "is not a Deal or a Lead")
    ]
    problems = refusal(
        lambda: policy.assess(deal, as_of=naive, last_touch=naive, probability=1.5, engagement=101)
    )
    assert [(f, v) for f, v, _ in problems] == [
        ("as_of", naive),
        ("last_touch", naive),
        ("probability", 1.5),
        ("engagement", 101),
    ]
    assert [r for _, _, r in problems[2:]] == [
        "is not a number from 0 to 1",
        "is not a number from 0 to 100",
    ]
    assert [f for f, _, _ in refusal(lambda: policy.assess(deal, as_of=None))] == ["as_of"]
    assert refusal(lambda: policy.assess(deal, as_of=T0, probability=True, engagement="9")) == [
        ("probability", True, "is not a number from 0 to 1"),
        ("engagement", "9", "is not a number from 0 to 100"),
    ]
    edge = policy.assess(deal, as_of=T0, probability=1, engagement=100)
    assert {f.name: f.value for f in edge.factors}["engagement"] == 100
    low = policy.assess(deal, as_of=T0, probability=0.0, engagement=0.0)
    assert {f.name: f.value for f in low.factors}["win probability"] == 0.0


def test_assess_a_deal_reads_amount_stage_probability_close_and_touch():
    policy = default_priority_policy()
    deal = Deal.create(
        name="D",
        pipeline="sales",
        stage="negotiation",
        amount=Money.of("25000", "EUR"),
        expected_close=dt.date(2026, 3, 9),
    )
    pipeline = default_sales_pipeline()
    result = policy.assess(
        deal,
        as_of=T0,
        engagement=Score(40.0),
        last_touch=T0 - dt.timedelta(days=7),
        pipeline=pipeline,
    )
    values = {f.name: f.value for f in result.factors}
    assert values == {
        "deal value": 25000.0,
        "win probability": 0.6,
        "engagement": 40.0,
        "closing soon": 7.0,
        "gone quiet": 7.0,
    }
    points = {f.name: f.points for f in result.factors}
    assert points["deal value"] == pytest.approx(15.0)
    assert points["win probability"] == pytest.approx(15.0)
    assert points["engagement"] == pytest.approx(10.0)
    assert points["closing soon"] == pytest.approx(15.0)
    assert points["gone quiet"] == pytest.approx(5.0)
    assert result.score == pytest.approx(60.0)
    assert result.priority is Priority.HIGH
    assert [f.name for f in result.factors][:1] in (["deal value"], ["win probability"])
    assert [f.points for f in result.factors] == sorted(
        (f.points for f in result.factors), reverse=True
    )
    given = policy.assess(deal, as_of=T0, probability=0.2, pipeline=pipeline)
    assert {f.name: f.value for f in given.factors}["win probability"] == 0.2
    unknown = policy.assess(deal, as_of=T0)
    assert unknown.missing == ("win probability", "engagement", "gone quiet")
    stranger = Deal.create(name="D", pipeline="other", stage="elsewhere")
    assert policy.assess(stranger, as_of=T0, pipeline=pipeline).factors[1].value is None


def test_assess_a_lead_reads_its_bant_budget_and_timeline():
    policy = default_priority_policy()
    lead = Lead.create(
        first_name="Ada", bant={"budget": "50000", "currency": "EUR", "timeline": "2026-03-02"}
    )
    result = policy.assess(lead, as_of=T0 + dt.timedelta(hours=12), last_touch=T0)
    values = {f.name: f.value for f in result.factors}
    assert values["deal value"] == 50000.0
    assert values["closing soon"] == 0.0
    assert values["gone quiet"] == 0.5
    assert result.score == pytest.approx(30 + 15 + 10 * 0.5 / 14)
    assert result.priority is Priority.MEDIUM
    assert result.decided_by == ("deal value",)


def test_deciders_for_a_higher_band_and_the_lowest():
    factors = [
        PriorityFactor("a", 50, "amount", zero_at=0, full_at=100),
        PriorityFactor("b", 30, "engagement", zero_at=0, full_at=100),
        PriorityFactor("c", 20, "probability", zero_at=0, full_at=1),
    ]
    policy = PriorityPolicy(factors, _bands(30, 60))
    lead = Lead.create(first_name="Ada", bant={"budget": "100", "currency": "EUR"})
    high = policy.assess(lead, as_of=T0, engagement=50, probability=1)
    assert (high.priority, high.score) == (Priority.HIGH, pytest.approx(85.0))
    assert high.decided_by == ("a", "c")  # 50 + 20 reach 60; b's 15 is not needed
    exact = policy.assess(lead, as_of=T0, engagement=0, probability=0.5)
    assert (exact.score, exact.priority) == (pytest.approx(60.0), Priority.HIGH)
    assert exact.decided_by == ("a", "c")
    medium = policy.assess(lead, as_of=T0, engagement=0, probability=0)
    assert (medium.priority, medium.decided_by) == (Priority.MEDIUM, ("a",))
    poor = Lead.create(first_name="Bo", bant={"budget": "10", "currency": "EUR"})
    low = policy.assess(poor, as_of=T0, engagement=50, probability=0)
    assert (low.priority, low.score) == (Priority.LOW, pytest.approx(20.0))
    assert low.decided_by == ("a", "c")  # 45 and 20 short of their weights, b only 15
    full = PriorityPolicy(factors[1:2], (PriorityBand("low", 0, 100),))
    assert full.assess(poor, as_of=T0, engagement=100).decided_by == ()


# -- engagement -----------------------------------------------------------------------------


def act(kind, outcome=None, *, days=0.0, minutes=None, response_hours=None, subject=None):
    """An activity `days` before T0."""
    return Activity.create(
        kind=kind,
        outcome=outcome,
        occurred_at=T0 - dt.timedelta(days=days),
        duration=None if minutes is None else dt.timedelta(minutes=minutes),
        response_time=None if response_hours is None else dt.timedelta(hours=response_hours),
        subject=subject,
        contact_id=CONTACT,
        clock=FixedClock(T0),
    )


def both(model, activities, as_of=T0):
    """The score with its breakdown, after checking the batch path gives the same value."""
    score = model.score(activities, as_of)
    assert model.value(activities, as_of) == pytest.approx(score.value, abs=1e-9)
    assert model.value_at(activities, as_of.timestamp()) == pytest.approx(score.value, abs=1e-9)
    assert score.check()
    return score


def rule(name, when, points, **settings):
    return EngagementRule(name, when, points, **settings)


def test_engagement_rule_refusals_name_the_setting():
    kind = F("kind") == "call"
    assert refusal(lambda: rule(" ", kind, 1)) == [("name", " ", "must be non-blank text")]
    assert refusal(lambda: rule("x", kind, 1, group="")) == [
        ("group", "", "must be non-blank text")
    ]
    assert refusal(lambda: rule("x", kind, 1, group=5)) == [("group", 5, "must be non-blank text")]
    assert refusal(lambda: rule("x", F("stage") == "a", 1)) == [
        ("when", "stage", "is not a field this rule can read")
    ]
    assert refusal(lambda: rule("x", kind, "1")) == [("points", "1", "is not a number")]
    assert refusal(lambda: rule("x", kind, 1, per_minute=-1)) == [
        ("per_minute", -1, "must be at least 0")
    ]
    assert refusal(lambda: rule("x", kind, 1, max_duration_points=-1)) == [
        ("max_duration_points", -1, "must be at least 0")
    ]
    assert refusal(lambda: rule("x", kind, 1, response_bonus=5)) == [
        ("response_bonus", 5, "is not a collection of response bonus tiers")
    ]
    assert refusal(lambda: rule("x", kind, 1, response_bonus=[5, {"points": 1}])) == [
        ("response_bonus[0]", 5, "is not a ResponseBonus or its dict form"),
        ("response_bonus[1].within_hours", None, "is required"),
    ]
    assert refusal(lambda: rule("x", kind, 1, decay=5)) == [
        ("decay", 5, "is not a decay or its dict form")
    ]
    assert rule("x", kind, 1, decay={"type": "window", "days": 3}).decay == Window(3)
    assert refusal(lambda: ResponseBonus(-1, 1)) == [("within_hours", -1, "must be at least 0")]
    assert ResponseBonus(0, 1).within_hours == 0.0
    assert refusal(lambda: ResponseBonus.from_dict({"within_hours": 1, "bonus": 2})) == [
        ("bonus", 2, "is not a setting of a response bonus"),
        ("points", None, "is required"),
    ]


def test_engagement_rule_as_data_leaves_out_defaults():
    kind = F("kind") == "call"
    plain = rule("call", kind, 2)
    assert plain.to_dict() == {
        "name": "call",
        "group": "general",
        "when": kind.to_dict(),
        "points": 2.0,
        "decay": {"type": "none"},
    }
    full = rule(
        "call",
        kind,
        2,
        group="calls",
        per_minute=0.5,
        max_duration_points=0,
        response_bonus=[{"within_hours": 24, "points": 1}, ResponseBonus(1, 3)],
        decay=Exponential(7),
    )
    assert [t.within_hours for t in full.response_bonus] == [1.0, 24.0]
    assert full.to_dict() == {
        "name": "call",
        "group": "calls",
        "when": kind.to_dict(),
        "points": 2.0,
        "per_minute": 0.5,
        "max_duration_points": 0.0,
        "response_bonus": [
            {"within_hours": 1.0, "points": 3.0},
            {"within_hours": 24.0, "points": 1.0},
        ],
        "decay": {"type": "exponential", "half_life_days": 7.0},
    }
    assert EngagementRule.from_dict(full.to_dict()) == full
    assert refusal(lambda: EngagementRule.from_dict({**full.to_dict(), "x": 1})) == [
        ("x", 1, "is not a setting of a engagement rule")
    ]
    assert refusal(lambda: EngagementRule.from_dict({"name": "x", "when": kind.to_dict()})) == [
        ("points", None, "is required")
    ]


def test_base_points_add_duration_up_to_its_cap_and_the_tightest_bonus():
    call = rule(
        "call",
        F("kind") == "call",
        2,
        per_minute=0.5,
        max_duration_points=5,
        response_bonus=[ResponseBonus(24, 1), ResponseBonus(1, 3)],
    )
    assert call.base_points(act("call")) == 2.0
    assert call.base_points(act("call", minutes=4)) == 4.0
    assert call.base_points(act("call", minutes=10)) == 7.0
    assert call.base_points(act("call", minutes=30)) == 7.0
    assert call.base_points(act("call", response_hours=1)) == 5.0
    assert call.base_points(act("call", response_hours=1.5)) == 3.0
    assert call.base_points(act("call", response_hours=24)) == 3.0
    assert call.base_points(act("call", response_hours=25)) == 2.0
    uncapped = rule("call", F("kind") == "call", 0, per_minute=1)
    assert uncapped.base_points(act("call", minutes=90)) == 90.0
    model = EngagementModel([call], total_cap=1000)
    assert both(model, [act("call", minutes=30, response_hours=0.5)]).value == pytest.approx(1.0)
    assert both(model, [act("call", minutes=4, response_hours=2)]).value == pytest.approx(0.5)
    assert both(EngagementModel([uncapped], total_cap=1000), [act("call", minutes=90)]).value == (
        pytest.approx(9.0)
    )


def test_the_first_matching_rule_scores_and_future_activities_wait():
    model = EngagementModel(
        [
            rule("replied", (F("kind") == "email") & (F("outcome") == "replied"), 10),
            rule("email", F("kind") == "email", 1),
        ]
    )
    replied = act("email", "replied")
    assert model.rule_for(replied).name == "replied"
    assert model.rule_for(act("email", "opened")).name == "email"
    assert model.rule_for(act("call")) is None
    future = act("email", "replied", days=-1)
    score = both(model, [replied, act("email", "sent"), act("call"), future])
    assert score.value == 11.0
    assert [(c.label, c.points, c.activity_id) for c in score.contributions] == [
        ("replied", 10.0, replied.id),
        ("email", 1.0, score.contributions[1].activity_id),
    ]
    assert (score.scorer, score.version, score.as_of) == ("engagement", "1", T0)
    subject = EngagementModel([rule("demo", F("subject") == "demo", 5)])
    assert both(subject, [act("note", subject="demo"), act("note", subject="x")]).value == 5.0


def test_decays_in_the_batch_path_and_the_breakdown_agree_at_their_edges():
    when = F("kind") == "meeting"
    window = EngagementModel([rule("m", when, 30, decay=Window(10))])
    assert both(window, [act("meeting", days=10)]).value == 30.0
    assert both(window, [act("meeting", days=10.001)]).value == 0.0
    assert both(window, [act("meeting", days=10.001)]).contributions == ()
    linear = EngagementModel([rule("m", when, 40, decay=Linear(10, 0.5))])
    assert both(linear, [act("meeting", days=5)]).value == pytest.approx(30.0)
    assert both(linear, [act("meeting", days=20)]).value == 0.0
    assert both(linear, [act("meeting", days=25)]).value == 0.0
    steps = EngagementModel([rule("m", when, 40, decay=Linear(10, 0.5, steps=True))])
    assert both(steps, [act("meeting", days=9.99)]).value == 40.0
    assert both(steps, [act("meeting", days=10)]).value == 20.0
    assert both(steps, [act("meeting", days=20)]).value == 0.0
    exponential = EngagementModel([rule("m", when, 40, decay=Exponential(7))])
    score = both(exponential, [act("meeting", days=7)])
    assert score.value == pytest.approx(20.0)
    assert score.contributions[0].factor == pytest.approx(0.5)
    assert both(exponential, [act("meeting", days=0)]).value == 40.0


def test_group_caps_the_total_cap_and_the_floor():
    model = EngagementModel(
        [
            rule(
                "replied", (F("kind") == "email") & (F("outcome") == "replied"), 30, group="email"
            ),
            rule(
                "bounced", (F("kind") == "email") & (F("outcome") == "bounced"), -50, group="email"
            ),
            rule("meeting", F("kind") == "meeting", 40, group="meetings"),
        ],
        group_caps={"email": 50},
        total_cap=80,
    )
    assert model.groups == ("email", "meetings")
    replies = [act("email", "replied") for _ in range(2)]
    score = both(model, replies)
    assert score.value == pytest.approx(50 * 100 / 80)
    assert [(c.label, c.kind) for c in score.contributions][-1] == (
        "cap: email",
        ContributionKind.GROUP_CAP,
    )
    assert score.contributions[-1].points == pytest.approx(-10 * 100 / 80)
    assert score.contributions[-1].group == "email"
    at_cap = both(model, [act("email", "replied"), act("meeting")])
    assert at_cap.value == pytest.approx(70 * 100 / 80)
    assert [c.label for c in at_cap.contributions] == ["replied", "meeting"]
    over = both(model, [*replies, act("meeting")])
    assert over.value == 100.0
    assert [c.label for c in over.contributions][-1] == "cap: total"
    assert over.contributions[-1].points == pytest.approx(-10 * 100 / 80)
    exact = EngagementModel([rule("m", F("kind") == "meeting", 40)], total_cap=80)
    assert both(exact, [act("meeting"), act("meeting")]).value == 100.0
    assert [c.label for c in both(exact, [act("meeting"), act("meeting")]).contributions] == [
        "m",
        "m",
    ]
    floor = both(model, [act("email", "bounced")])
    assert floor.value == 0.0
    assert [(c.label, c.points) for c in floor.contributions] == [
        ("bounced", pytest.approx(-62.5)),
        ("floor at 0", pytest.approx(62.5)),
    ]
    nothing = both(model, [])
    assert (nothing.value, nothing.contributions) == (0.0, ())


def test_engagement_model_refusals_name_the_setting():
    call = rule("call", F("kind") == "call", 1, group="calls")
    assert refusal(lambda: EngagementModel(5, group_caps=3)) == [
        ("rules", 5, "is not a collection of rules"),
        ("group_caps", 3, "is not a mapping of group to cap"),
    ]
    assert refusal(lambda: EngagementModel([])) == [("rules", [], "needs at least one rule")]
    assert [f for f, _, _ in refusal(lambda: EngagementModel([call, 5]))] == ["rules[1]"]
    caps = {"calls": 0, "email": 5, "x": True}
    assert refusal(lambda: EngagementModel([call, call], group_caps=caps, total_cap=-1)) == [
        ("total_cap", -1, "must be greater than 0")
    ]
    assert refusal(lambda: EngagementModel([call, call], group_caps=caps)) == [
        ("rules", ["call"], "are rule names used more than once"),
        ("group_caps.calls", 0, "must be a number > 0"),
        ("group_caps.email", 5, "caps a group no rule uses"),
        ("group_caps.x", True, "caps a group no rule uses"),
    ]
    for cap in [True, "5", -1, 10**400]:
        assert refusal(lambda cap=cap: EngagementModel([call], group_caps={"calls": cap})) == [
            ("group_caps.calls", cap, "must be a number > 0")
        ]
    assert EngagementModel([call], group_caps={"calls": 2}).group_caps == {"calls": 2.0}
    assert refusal(lambda: EngagementModel([call], name=" ")) == [
        ("name", " ", "must be non-blank text")
    ]
    assert refusal(lambda: EngagementModel([call], version="")) == [
        ("version", "", "must be non-blank text")
    ]
    assert [f for f, _, _ in refusal(lambda: EngagementModel([call]).value([], as_of=None))] == [
        "as_of"
    ]
    assert [f for f, _, _ in refusal(lambda: EngagementModel([call]).score([], as_of=None))] == [
        "as_of"
    ]


def test_engagement_model_as_data():
    call = rule("call", F("kind") == "call", 1, group="calls")
    model = EngagementModel([call], group_caps={"calls": 3}, total_cap=50, name="eng", version="2")
    assert model.to_dict() == {
        "name": "eng",
        "version": "2",
        "total_cap": 50.0,
        "group_caps": {"calls": 3.0},
        "rules": [call.to_dict()],
    }
    assert EngagementModel.from_dict(model.to_dict()) == model
    assert EngagementModel.from_dict({"rules": [call.to_dict()]}) == EngagementModel([call])
    assert refusal(lambda: EngagementModel.from_dict({"rules": "x"})) == [
        ("rules", "x", "is not a list of rules")
    ]
    assert refusal(lambda: EngagementModel.from_dict({"rules": [{"name": "x"}]})) == [
        ("rules[0].when", None, "is required"),
        ("rules[0].points", None, "is required"),
    ]
    assert refusal(
        lambda: EngagementModel.from_dict({"rules": [call.to_dict()], "group_caps": 3})
    ) == [("group_caps", 3, "is not a mapping of group to cap")]
    assert refusal(lambda: EngagementModel.from_dict({"total_cap": 3})) == [
        ("rules", None, "is required")
    ]


# -- fit ------------------------------------------------------------------------------------


def test_fit_scores_clamp_to_zero_and_max_points():
    model = FitModel(
        [
            FitRule("big", F("company.employees") >= 200, 60),
            FitRule("director", F("title").contains("director"), 30),
            FitRule("student", F("title").contains("student"), -50),
        ],
        max_points=80,
    )
    company = Company.create(name="Acme", employees=200)
    contact = Contact.create(first_name="A", title="director", company_id=company.id)
    score = model.score(contact, company)
    assert score.value == 100.0
    assert [(c.label, c.points, c.kind) for c in score.contributions] == [
        ("big", 75.0, ContributionKind.RULE),
        ("director", 37.5, ContributionKind.RULE),
        ("cap: total", -12.5, ContributionKind.TOTAL_CAP),
    ]
    assert score.contributions[0].rule == "big"
    assert (score.scorer, score.version) == ("fit", "1")
    assert model.score(contact).value == pytest.approx(37.5)
    student = Contact.create(first_name="B", title="student")
    floor = model.score(student)
    assert floor.value == 0.0
    assert [(c.label, c.points) for c in floor.contributions] == [
        ("student", -62.5),
        ("floor at 0", 62.5),
    ]
    assert FitSubject(contact, company).company is company
    assert FitSubject(contact).title == "director"


def test_fit_refusals_name_the_setting():
    good = FitRule("big", F("employees") >= 5, 1)
    assert refusal(lambda: FitRule(" ", F("employees") >= 5, 1)) == [
        ("name", " ", "must be non-blank text")
    ]
    assert refusal(lambda: FitRule("x", 5, 1)) == [
        ("when", 5, "is not a condition or its dict form")
    ]
    assert refusal(lambda: FitRule("x", F("employees") >= 5, "1")) == [
        ("points", "1", "is not a number")
    ]
    assert refusal(lambda: FitModel(5, version="")) == [
        ("version", "", "must be non-blank text"),
        ("rules", 5, "is not a collection of rules"),
    ]
    assert refusal(lambda: FitModel([], version=3)) == [
        ("version", 3, "must be non-blank text"),
        ("rules", [], "needs at least one rule"),
    ]
    assert [f for f, _, _ in refusal(lambda: FitModel([good, 5]))] == ["rules[1]"]
    assert refusal(lambda: FitModel([good, good])) == [
        ("rules", ["big"], "are rule names used more than once")
    ]
    assert refusal(lambda: FitModel([good], max_points=0)) == [
        ("max_points", 0, "must be greater than 0")
    ]
    assert refusal(lambda: FitModel([good], name="")) == [("name", "", "must be non-blank text")]


def test_fit_model_as_data():
    good = FitRule("big", F("employees") >= 5, 1)
    model = FitModel([good], max_points=10, name="fit2", version="3")
    assert good.to_dict() == {"name": "big", "when": (F("employees") >= 5).to_dict(), "points": 1.0}
    assert model.to_dict() == {
        "name": "fit2",
        "version": "3",
        "max_points": 10.0,
        "rules": [good.to_dict()],
    }
    assert FitModel.from_dict(model.to_dict()) == model
    assert refusal(lambda: FitModel.from_dict({"rules": {}})) == [
        ("rules", {}, "is not a list of rules")
    ]
    assert refusal(lambda: FitModel.from_dict({"rules": [{"name": "x", "points": 1}]})) == [
        ("rules[0].when", None, "is required")
    ]
    assert refusal(lambda: FitRule.from_dict({"name": "x", "when": {}, "points": 1, "y": 2})) == [
        ("y", 2, "is not a setting of a fit rule")
    ]
    assert refusal(lambda: FitModel.from_dict({})) == [("rules", None, "is required")]


# -- predictive -----------------------------------------------------------------------------


def closed_lead(source, won, **fields):
    """A lead from `source`: converted (won), unqualified (lost) or open (None)."""
    lead = Lead.create(first_name="A", source=source, clock=FixedClock(T0), **fields)
    if won is None:
        return lead
    if won:
        return move_lead(lead, LeadStatus.CONVERTED)
    return move_lead(lead, LeadStatus.UNQUALIFIED, reason="no")


def small_lead_model(**settings):
    model = WinProbabilityModel.for_leads(
        ["source", "employees"], bins={"employees": [10, 100]}, min_per_class=1, **settings
    )
    counted = model.fit(
        [
            closed_lead("web", True, employees=5),
            closed_lead("ref", True, employees=50),
            closed_lead("web", False, employees=500),
            closed_lead("web", None),
        ]
    )
    assert counted == 3
    return model


def test_naive_bayes_by_hand():
    model = small_lead_model()
    assert model.trained
    prediction = model.predict(closed_lead("web", None, employees=10))
    # base log((2+1)/(1+1)); employees 10..100: log((1+1)/(2+3)) - log((0+1)/(1+3));
    # source web: log((1+1)/(2+2)) - log((1+1)/(1+2))
    assert prediction.probability == pytest.approx(1.8 / 2.8)
    assert prediction.table == "*"
    assert [(r.field, r.value) for r in prediction.reasons] == [
        ("employees", "10..100"),
        ("source", "web"),
    ]
    assert prediction.reasons[0].weight == pytest.approx(math.log(1.6))
    assert prediction.reasons[1].weight == pytest.approx(math.log(0.75))
    assert [r.field for r in prediction.up] == ["employees"]
    assert [r.field for r in prediction.down] == ["source"]
    assert prediction.reasons[0].pushes_up
    assert not prediction.reasons[1].pushes_up
    unseen = model.predict(closed_lead("fair", None))
    assert (unseen.probability, unseen.reasons) == (pytest.approx(0.6), ())
    assert model.predict(closed_lead("ref", None, employees=100)).reasons[0] == Reason(
        "employees", ">=100", pytest.approx(math.log((1 / 5) / (2 / 4)))
    )
    assert model.predict(closed_lead("ref", None, employees=9)).reasons[0].value == "<10"


def test_smoothing_alpha_changes_the_weights():
    model = small_lead_model(alpha=2)
    prediction = model.predict(closed_lead("web", None))
    # base log((2+2)/(1+2)); web: log((1+2)/(2+4)) - log((1+2)/(1+4))
    expected = math.log(4 / 3) + math.log(0.5) - math.log(0.6)
    assert prediction.probability == pytest.approx(1 / (1 + math.exp(-expected)))


def test_group_tables_are_used_once_they_have_enough_of_each_class():
    model = WinProbabilityModel.for_leads(["source"], group_by="country", min_per_class=1)
    records = [
        closed_lead("web", True, country="DE"),
        closed_lead("web", False, country="DE"),
        closed_lead("web", True, country="FR"),
        closed_lead("ref", False),
    ]
    model.fit(records)
    assert model.predict(closed_lead("web", None, country="DE")).table == "DE"
    assert model.predict(closed_lead("web", None, country="FR")).table == "*"  # no lost in FR
    assert model.predict(closed_lead("web", None, country="IT")).table == "*"
    assert model.predict(closed_lead("web", None)).table == "*"
    de = model.predict(closed_lead("web", None, country="DE"))
    assert de.probability == pytest.approx(0.5)
    model.min_per_class = 2
    assert model.predict(closed_lead("web", None, country="DE")).table == "*"


def test_update_counts_only_closed_records_and_keeps_the_blend():
    model = small_lead_model()
    model.blend = 0.5
    assert model.update(closed_lead("web", None)) is False
    assert model.update(closed_lead("web", True)) is True
    assert model.blend == 0.5
    assert model.to_dict()["tables"]["*"]["won"] == 3
    assert model.to_dict()["tables"]["*"]["counts"]["source"]["web"] == [2, 1]
    base = 3 / 4
    raw = model._predict(closed_lead("web", None), None)[0]
    assert model.predict(closed_lead("web", None)).probability == pytest.approx(
        base + 0.5 * (raw - base)
    )


def test_outcome_of_leads_and_deals():
    leads = WinProbabilityModel.for_leads(["source"])
    assert leads.outcome(closed_lead("web", True)) is True
    assert leads.outcome(closed_lead("web", False)) is False
    assert leads.outcome(closed_lead("web", None)) is None
    deal = Deal.create(name="D", pipeline="sales", stage="closed_won")
    assert refusal(lambda: leads.outcome(deal)) == [("record", "Deal", "is not a Lead")]
    deals = WinProbabilityModel.for_deals(["source"], pipelines=[default_sales_pipeline()])
    assert deals.outcome(deal) is True
    assert deals.outcome(Deal.create(name="D", pipeline="sales", stage="closed_lost")) is False
    assert deals.outcome(Deal.create(name="D", pipeline="sales", stage="proposal")) is None
    assert refusal(lambda: deals.outcome(closed_lead("web", True))) == [
        ("record", "Lead", "is not a Deal")
    ]
    other = Deal.create(name="D", pipeline="renewals", stage="closed_won")
    assert refusal(lambda: deals.outcome(other)) == [
        ("pipeline", "renewals", "is not a pipeline this model knows")
    ]


def test_too_little_data_is_refused_with_the_counts():
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    records = [closed_lead("web", True), closed_lead("web", True), closed_lead("web", False)]
    with pytest.raises(InsufficientDataError) as caught:
        model.fit(records)
    assert (caught.value.won, caught.value.lost, caught.value.minimum) == (2, 1, 2)
    assert str(caught.value) == (
        "too little data to learn a win probability: 2 won and 1 lost records,"
        " at least 2 of each are needed"
    )
    assert not model.trained
    assert model.fit([*records, closed_lead("ref", False)]) == 4
    one = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    with pytest.raises(InsufficientDataError) as caught:
        one.train([closed_lead("web", True), closed_lead("web", False), closed_lead("a", False)])
    assert caught.value.minimum == 2


def test_predicting_needs_a_trained_model_and_the_right_record():
    model = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    assert refusal(lambda: model.predict(closed_lead("web", None))) == [
        ("model", "win_probability", "has not been trained: call train or fit")
    ]
    model.fit([closed_lead("web", True), closed_lead("web", False)])
    deal = Deal.create(name="D", pipeline="sales", stage="proposal")
    assert refusal(lambda: model.predict(deal)) == [("record", "Deal", "is not a Lead")]
    assert refusal(lambda: model.predict(closed_lead("web", None), stage="proposal")) == [
        ("stage", "proposal", "is not an open stage of the deal's pipeline")
    ]


def test_train_checks_holdout_and_seed():
    model = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    for holdout in (0, 0.91, True, "0.5"):
        assert refusal(lambda holdout=holdout: model.train([], holdout=holdout)) == [
            ("holdout", holdout, "must be a number in (0, 0.9]")
        ]
    for seed in (True, 1.5):
        assert refusal(lambda seed=seed: model.train([], seed=seed)) == [
            ("seed", seed, "is not a whole number")
        ]


def test_train_holds_out_a_stratified_share_and_counts_it_afterwards():
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    records = [closed_lead("web", True) for _ in range(6)]
    records += [closed_lead("ref", False) for _ in range(6)]
    records += [closed_lead("web", False) for _ in range(2)]
    report = model.train(records, holdout=0.25, seed=3)
    assert (report.held_out, report.won) == (4, 2)  # round(6 * .25) won, round(8 * .25) lost
    assert model.quality == report
    assert model.to_dict()["tables"]["*"]["won"] == 6
    assert model.to_dict()["tables"]["*"]["lost"] == 8
    assert report.brier <= report.base_rate_brier
    assert report.blend == model.blend
    assert 0.0 <= model.blend <= 1.0
    full = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    assert full.train(records, holdout=0.9, seed=3).held_out == 5 + 7  # all but one per class


def test_evaluate_needs_both_classes_and_uses_the_blend():
    model = small_lead_model()
    assert refusal(lambda: model.evaluate([closed_lead("web", True)])) == [
        ("records", 1, "must hold both won and lost closed records")
    ]
    report = model.evaluate([closed_lead("ref", True), closed_lead("web", False)])
    assert (report.held_out, report.won, report.roc_auc) == (2, 1, 1.0)
    assert report.base_rate == pytest.approx(2 / 3)
    assert report.blend == 1.0


def test_win_probability_settings_are_checked_by_name():
    assert refusal(lambda: WinProbabilityModel(target="lead", fields=5)) == [
        ("fields", 5, "is not a collection of field paths")
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads(["source", 3])) == [
        ("fields[1]", 3, "is not a field path (text)")
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads([])) == [
        ("fields", [], "needs at least one field")
    ]
    assert refusal(lambda: WinProbabilityModel(target="lead", fields=("source",), bins=5)) == [
        ("bins", 5, "is not a mapping of field to bin edges")
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads(["employees"], bins={"employees": 5})) == [
        ("bins.employees", 5, "is not a list of bin edges")
    ]
    for edges in ([], [5, 5], [9, 1]):
        assert refusal(
            lambda edges=edges: WinProbabilityModel.for_leads(
                ["employees"], bins={"employees": edges}
            )
        ) == [("bins.employees", edges, "must be rising numbers")]
    assert refusal(
        lambda: WinProbabilityModel.for_leads(["employees"], bins={"employees": [1, "x"]})
    ) == [("bins.employees", "x", "is not a number")]
    assert refusal(lambda: WinProbabilityModel.for_leads(["source"], alpha=0)) == [
        ("alpha", 0, "must be greater than 0")
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads(["source"], min_per_class=0)) == [
        ("min_per_class", 0, "must be at least 1")
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads(["source"], min_per_class=True)) == [
        ("min_per_class", True, "is not a whole number")
    ]
    assert WinProbabilityModel.for_leads(["source"], min_per_class=1).min_per_class == 1
    [(field, value, why)] = refusal(lambda: WinProbabilityModel.for_leads(["sourse"]))
    assert (field, value) == ("fields", "sourse")
    assert why == (
        "is not a field of a lead: did you mean 'source'? (custom fields are written custom.<key>)"
    )
    [(field, value, why)] = refusal(lambda: WinProbabilityModel.for_leads(["zzz"]))
    assert why == "is not a field of a lead (custom fields are written custom.<key>)"
    assert WinProbabilityModel.for_leads(["custom.plan", "bant.budget"]).fields == (
        "custom.plan",
        "bant.budget",
    )
    [(field, value, why)] = refusal(
        lambda: WinProbabilityModel.for_leads(["source"], group_by="contry")
    )
    assert (field, value) == ("group_by", "contry")
    assert "did you mean 'country'?" in why
    assert refusal(
        lambda: WinProbabilityModel.for_leads(["employees"], bins={"employes": [1]})
    ) == [
        (
            "bins.employes",
            "employes",
            "is not one of the fields the model learns from: did you mean 'employees'?",
        )
    ]
    assert refusal(lambda: WinProbabilityModel.for_leads(["source"], bins={"zz": [1]})) == [
        ("bins.zz", "zz", "is not one of the fields the model learns from")
    ]


def test_for_leads_and_for_deals_refuse_wrong_arguments_by_name():
    assert [f for f, _, _ in refusal(lambda: WinProbabilityModel.for_leads(5))] == ["fields"]
    assert [
        f for f, _, _ in refusal(lambda: WinProbabilityModel.for_leads(["source"], bins=5))
    ] == ["bins"]
    assert [
        f for f, _, _ in refusal(lambda: WinProbabilityModel.for_deals(["source"], pipelines=5))
    ] == ["pipelines"]


def test_win_probability_settings_of_the_wrong_type():
    base = {"target": "lead", "fields": ("source",)}
    assert refusal(lambda: WinProbabilityModel(**base, blend=1.5)) == [
        ("blend", 1.5, "must be at most 1")
    ]
    assert WinProbabilityModel(**base, blend=1).blend == 1.0
    assert refusal(lambda: WinProbabilityModel(**base, blend=-0.1)) == [
        ("blend", -0.1, "must be at least 0")
    ]
    problems = refusal(
        lambda: WinProbabilityModel(
            **base, use_stage=1, name=" ", version=2, quality=5, stages=3, tables={"*": 1}
        )
    )
    assert problems == [
        ("use_stage", 1, "is not True or False"),
        ("name", " ", "must be non-blank text"),
        ("version", 2, "must be non-blank text"),
        ("quality", 5, "is not a QualityReport or None"),
        ("stages", 3, "is not a mapping of key to StageOrder"),
        ("tables.*", 1, "is not a _Table"),
    ]
    assert refusal(lambda: WinProbabilityModel(target="opportunity", fields=("source",))) == [
        ("target", "opportunity", "is not deal or lead")
    ]
    assert refusal(lambda: WinProbabilityModel(target="deal", fields=("source",))) == [
        ("stages", {}, "a deal model needs its pipelines' stages")
    ]


def test_win_probability_model_as_data():
    model = small_lead_model()
    model.quality = QualityReport(4, 2, 0.75, 0.2, 0.25, base_rate=0.5)
    data = model.to_dict()
    assert data["format_version"] == 1
    assert (data["name"], data["version"], data["target"]) == ("win_probability", "1", "lead")
    assert (data["alpha"], data["min_per_class"], data["use_stage"]) == (1.0, 1, False)
    assert data["quality"]["roc_auc"] == 0.75
    assert "group_by" not in data
    loaded = WinProbabilityModel.from_dict(data)
    assert loaded.to_dict() == data
    assert loaded.predict(closed_lead("web", None, employees=10)).probability == pytest.approx(
        1.8 / 2.8
    )
    grouped = WinProbabilityModel.for_leads(["source"], group_by="country")
    assert grouped.to_dict()["group_by"] == "country"
    minimal = WinProbabilityModel.from_dict(
        {"format_version": 1, "target": "lead", "fields": ["source"]}
    )
    assert (minimal.alpha, minimal.min_per_class, minimal.use_stage, minimal.blend) == (
        1.0,
        40,
        True,
        1.0,
    )
    assert (minimal.name, minimal.version, minimal.quality, minimal.trained) == (
        "win_probability",
        "1",
        None,
        False,
    )
    assert refusal(
        lambda: WinProbabilityModel.from_dict({"format_version": 2, "target": "lead"})
    ) == [("format_version", 2, "is not a format this crmkit reads (it reads 1)")]
    [(field, value, why)] = refusal(
        lambda: WinProbabilityModel.from_dict(
            {"format_version": 1, "target": "lead", "fields": ["source"], "tables": {"*": {}}}
        )
    )
    assert (field, value, why) == ("win probability model", "KeyError", "is malformed: 'won'")
    assert refusal(lambda: WinProbabilityModel.from_dict({"target": "lead"})) == [
        ("format_version", None, "is required")
    ]


def test_deal_stages_raise_the_probability_as_deals_advance():
    pipeline = default_sales_pipeline()
    model = WinProbabilityModel.for_deals([], pipelines=[pipeline], min_per_class=1)
    clock = FixedClock(T0)

    def closed(path, end):
        deal = pipeline.open_deal(name="D", amount="10", currency="EUR", clock=clock)
        for stage in [*path, end]:
            deal = pipeline.move(
                deal,
                stage,
                clock=clock,
                **({"lost_reason": "price"} if end == "closed_lost" else {}),
            ).deal
        return deal

    won = closed(["discovery", "proposal"], "closed_won")
    lost_early = closed([], "closed_lost")
    lost_late = closed(["discovery"], "closed_lost")
    assert StageOrder.of(pipeline).reached(lost_late) == 1
    assert StageOrder.of(pipeline).first(lost_late) == "prospecting"
    model.fit([won, lost_early, lost_late])
    stages = model.to_dict()["tables"]["*"]["counts"]["stage"]
    assert stages == {
        "prospecting": [1, 2],
        "discovery": [1, 1],
        "proposal": [1, 0],
        "negotiation": [1, 0],
        "decision": [1, 0],
    }
    open_deal = pipeline.open_deal(name="D", amount="10", currency="EUR", clock=clock)
    first = model.predict(open_deal)
    assert first.probability == pytest.approx(2 / 5)  # the base rate: (1+1)/(1+1 + 2+1)
    assert first.reasons == (Reason("stage", "prospecting", 0.0),)
    later = model.predict(open_deal, stage="proposal")
    assert later.reasons[0].weight == pytest.approx(math.log(2 / 1) - math.log(2 / 3))
    assert later.probability == pytest.approx(2 / 3)
    assert refusal(lambda: model.predict(open_deal, stage="closed_won")) == [
        ("stage", "closed_won", "is not an open stage of the deal's pipeline")
    ]


# -- batch and in-store scoring -------------------------------------------------------------


@pytest.fixture
def store():
    with open_store("memory://", clock=FixedClock(T0)) as store:
        yield store


def _one_rule_model(**settings):
    return EngagementModel(
        [rule("replied", (F("kind") == "email") & (F("outcome") == "replied"), 10)], **settings
    )


def _people(store, count):
    with store.unit_of_work(actor="sam") as uow:
        return [
            uow.contacts.add(Contact.create(first_name=f"P{i}", clock=store.clock))
            for i in range(count)
        ]


def _reply(uow, person, days=0.0):
    return uow.activities.add(
        Activity.create(
            kind="email",
            outcome="replied",
            occurred_at=T0 - dt.timedelta(days=days),
            contact_id=person.id,
            clock=FixedClock(T0),
        )
    )


def test_score_engagement_writes_every_record_in_batches_and_reports_progress(store):
    people = sorted(_people(store, 5), key=lambda p: p.id)
    with store.unit_of_work(actor="sam") as uow:
        _reply(uow, people[1])
        _reply(uow, people[1])
        _reply(uow, people[3])
        uow.contacts.archive(people[2])
    calls = []
    model = _one_rule_model(name="eng", version="7")
    result = score_engagement(
        store,
        model,
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
        clock=FixedClock(T0),
    )
    assert result == BatchResult("eng", 4, 2, T0)
    assert calls == [(2, 4), (4, 4), (4, 4)]
    with store.unit_of_work(readonly=True) as uow:
        stored = {p.id: uow.scores.get(p.id, "eng") for p in people}
    assert stored[people[2].id] is None
    assert [stored[p.id].value for p in (people[0], people[1], people[3], people[4])] == [
        0.0,
        20.0,
        10.0,
        0.0,
    ]
    one = stored[people[1].id]
    assert (one.scorer_version, one.computed_at, len(one.breakdown)) == ("7", T0, 2)
    quick = score_engagement(store, model, explain=False, as_of=T0 + dt.timedelta(days=1))
    assert (quick.scored, quick.without_activity) == (4, 2)
    with store.unit_of_work(readonly=True) as uow:
        fast = uow.scores.get(people[1].id, "eng")
    assert (fast.value, fast.breakdown, fast.computed_at) == (
        20.0,
        None,
        T0 + dt.timedelta(days=1),
    )
    assert fast.scorer_version == "7"


def test_score_engagement_of_other_kinds_and_its_clock(store):
    with store.unit_of_work(actor="sam") as uow:
        lead = uow.leads.add(Lead.create(first_name="L", clock=store.clock))
        uow.activities.add(
            Activity.create(kind="email", outcome="replied", lead_id=lead.id, clock=store.clock)
        )
    later = T0 + dt.timedelta(hours=3)
    result = score_engagement(store, _one_rule_model(), kind="lead", clock=FixedClock(later))
    assert result == BatchResult("engagement", 1, 0, later)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(lead.id, "engagement").value == 10.0


def test_batch_scorers_name_their_wrong_arguments(store):
    model = _one_rule_model()
    assert refusal(lambda: score_engagement(store, model, kind="person")) == [
        ("kind", "person", "is not one of contact, company, lead, deal")
    ]
    assert refusal(lambda: score_fit(store, model, kind="deal")) == [
        ("kind", "deal", "is not one of contact, lead")
    ]
    assert [f for f, _, _ in refusal(lambda: score_engagement(None, model))] == ["store"]
    assert (
        "a Store (crmkit.open_store(url) opens one)"
        in refusal(lambda: score_engagement(None, model))[0][2]
    )
    assert refusal(lambda: score_engagement(store, model, batch_size=0)) == [
        ("batch_size", 0, "must be at least 1")
    ]
    assert [
        f
        for f, _, _ in refusal(
            lambda: score_fit(store, FitModel([FitRule("a", F("title") == "x", 1)]), progress=5)
        )
    ] == ["progress"]
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, model, progress=5))] == [
        "progress"
    ]
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, model, actor=5))] == ["actor"]
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, model, clock=5))] == ["clock"]
    naive = dt.datetime(2026, 3, 2)
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, model, as_of=naive))] == [
        "as_of"
    ]
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, 5))] == ["model"]
    assert [f for f, _, _ in refusal(lambda: score_engagement(store, model, explain=1))] == [
        "explain"
    ]
    assert [f for f, _, _ in refusal(lambda: score_fit(store, model))] == ["model"]
    good = lambda record: Score(1.0)  # noqa: E731
    assert [f for f, _, _ in refusal(lambda: score_records(store, "contact", 5, scorer="x"))] == [
        "score"
    ]
    assert [f for f, _, _ in refusal(lambda: score_records(store, "contact", good, scorer=""))] == [
        "scorer"
    ]
    assert [
        f
        for f, _, _ in refusal(lambda: score_records(store, "contact", good, scorer="x", version=5))
    ] == ["version"]
    assert [
        f for f, _, _ in refusal(lambda: score_records(store, "contact", good, scorer="x", grade=5))
    ] == ["grade"]


def test_score_fit_loads_companies_and_stamps_the_time(store):
    with store.unit_of_work(actor="sam") as uow:
        acme = uow.companies.add(Company.create(name="Acme", employees=500, clock=store.clock))
        big = uow.contacts.add(
            Contact.create(first_name="A", company_id=acme.id, clock=store.clock)
        )
        alone = uow.contacts.add(Contact.create(first_name="B", clock=store.clock))
        lead = uow.leads.add(Lead.create(first_name="C", employees=900, clock=store.clock))
    model = FitModel([FitRule("big", F("company.employees") >= 200, 50)], name="fit9", version="2")
    calls = []
    result = score_fit(
        store, model, batch_size=1, progress=lambda d, t: calls.append((d, t)), as_of=T0
    )
    assert result == BatchResult("fit9", 2, 0, T0)
    assert calls == [(1, 2), (2, 2), (2, 2)]
    with store.unit_of_work(readonly=True) as uow:
        scored = uow.scores.get(big.id, "fit9")
        assert (scored.value, scored.computed_at, scored.scorer_version) == (50.0, T0, "2")
        assert uow.scores.get(alone.id, "fit9").value == 0.0
        assert uow.scores.get(lead.id, "fit9") is None
    later = T0 + dt.timedelta(hours=2)
    assert score_fit(store, model, clock=FixedClock(later)).as_of == later
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(big.id, "fit9").computed_at == later
    leads = FitModel([FitRule("big", F("employees") >= 200, 100)])
    assert score_fit(store, leads, kind="lead", as_of=T0 + dt.timedelta(1)).scored == 1
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(lead.id, "fit").value == 100.0


def test_score_records_renames_grades_and_stamps_each_score(store):
    people = _people(store, 3)
    result = score_records(
        store,
        "contact",
        lambda record: Score(42.0, (Contribution("x", 42.0),), "ignored", "9"),
        scorer="mine",
        version="3",
        grade=lambda score: "B" if score.value > 40 else None,
        batch_size=2,
        clock=FixedClock(T0),
    )
    assert result == BatchResult("mine", 3, 0, T0)
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.scores.get(people[0].id, "mine")
    assert (stored.value, stored.scorer_version, stored.grade, stored.computed_at) == (
        42.0,
        "3",
        "B",
        T0,
    )
    score_records(store, "contact", lambda record: Score(1.0), scorer="plain")
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(people[0].id, "plain").grade is None


def test_score_record_reads_what_the_model_needs_and_keeps_it(store):
    [person] = _people(store, 1)
    with store.unit_of_work(actor="sam") as uow:
        _reply(uow, person, days=1)
        _reply(uow, person, days=-1)  # not yet
        acme = uow.companies.add(Company.create(name="Acme", employees=500, clock=store.clock))
        worker = uow.contacts.add(
            Contact.create(first_name="W", company_id=acme.id, clock=store.clock)
        )
    with store.unit_of_work(actor="sam") as uow:
        score = score_record(uow, person, _one_rule_model())
        assert (score.value, score.as_of) == (10.0, T0)
        assert uow.scores.get(person.id, "engagement").value == 10.0
        later = score_record(uow, person, _one_rule_model(), as_of=T0 + dt.timedelta(days=2))
        assert later.value == 20.0
        fit = FitModel([FitRule("big", F("company.employees") >= 200, 50)])
        assert score_record(uow, worker, fit, keep=False).value == 50.0
        assert uow.scores.get(worker.id, "fit") is None
        assert refusal(lambda: score_record(uow, acme, fit)) == [
            ("record", "company", "is not a contact or a lead (fit scores those)")
        ]
        assert refusal(lambda: score_record(uow, "x", fit)) == [
            ("record", "str", "is not a record")
        ]
        assert refusal(lambda: score_record(uow, person, 5)) == [
            ("model", "int", "is not an EngagementModel or a FitModel")
        ]
        naive = dt.datetime(2026, 3, 2)
        assert [f for f, _, _ in refusal(lambda: score_record(uow, person, fit, as_of=naive))] == [
            "as_of"
        ]
    assert [f for f, _, _ in refusal(lambda: score_record(store, person, fit))] == ["uow"]


def test_assess_in_store_gathers_engagement_touches_and_the_stage_probability(store):
    pipeline = default_sales_pipeline()
    [ann, bob] = _people(store, 2)
    with store.unit_of_work(actor="sam") as uow:
        deal = uow.deals.add(
            pipeline.open_deal(
                name="D",
                stage="negotiation",
                amount="25000",
                currency="EUR",
                expected_close=dt.date(2026, 3, 9),
                contact_ids=[ann.id, bob.id],
                clock=store.clock,
            )
        )
        _reply(uow, bob, days=7)
        uow.scores.put_many(
            [
                StoredScore(ann.id, "engagement", 30.0, T0),
                StoredScore(bob.id, "engagement", 140.0, T0),
            ]
        )
    with store.unit_of_work(readonly=True) as uow:
        result = assess_in_store(uow, deal)
        values = {f.name: f.value for f in result.factors}
        assert values == {
            "deal value": 25000.0,
            "win probability": 0.6,
            "engagement": 100.0,
            "closing soon": 7.0,
            "gone quiet": 7.0,
        }
        given = assess_in_store(uow, deal, probability=0.1, as_of=T0 + dt.timedelta(days=1))
        values = {f.name: f.value for f in given.factors}
        assert (values["win probability"], values["closing soon"], values["gone quiet"]) == (
            0.1,
            6.0,
            8.0,
        )
        other = assess_in_store(uow, deal, scorer="fit")
        assert other.missing == ("engagement",)
        assert refusal(lambda: assess_in_store(uow, "x")) == [
            ("record", "str", "is not a Deal or a Lead")
        ]
        assert refusal(lambda: assess_in_store(uow, deal, policy=5)) == [
            ("policy", "int", "is not a PriorityPolicy")
        ]
        assert refusal(lambda: assess_in_store(uow, deal, scorer="")) == [
            ("scorer", "", "is not a scorer name")
        ]
    with store.unit_of_work(actor="sam") as uow:
        uow.scores.put_many([StoredScore(deal.id, "engagement", 12.0, T0)])
    with store.unit_of_work(readonly=True) as uow:
        own = assess_in_store(uow, deal)
        assert {f.name: f.value for f in own.factors}["engagement"] == 12.0


def test_assess_in_store_for_a_lead(store):
    with store.unit_of_work(actor="sam") as uow:
        lead = uow.leads.add(
            Lead.create(
                first_name="L", bant={"budget": "50000", "currency": "EUR"}, clock=store.clock
            )
        )
        uow.activities.add(
            Activity.create(
                kind="email",
                outcome="replied",
                occurred_at=T0 - dt.timedelta(days=14),
                lead_id=lead.id,
                clock=store.clock,
            )
        )
        uow.scores.put_many([StoredScore(lead.id, "engagement", -5.0, T0)])
    with store.unit_of_work(readonly=True) as uow:
        result = assess_in_store(uow, lead)
    values = {f.name: f.value for f in result.factors}
    assert values == {
        "deal value": 50000.0,
        "win probability": None,
        "engagement": 0.0,
        "closing soon": None,
        "gone quiet": 14.0,
    }
    assert result.score == pytest.approx(40.0)


# -- the shipped defaults, against their documented tables ----------------------------------

# (rule, matches (kind, outcome), group, points, per minute, at most, bonus tiers, decay)
DOCUMENTED_ENGAGEMENT = [
    ("email opened", ("email", "opened"), "email", 1, 0, None, [], Exponential(30)),
    ("email clicked", ("email", "clicked"), "email", 3, 0, None, [], Exponential(30)),
    (
        "email replied",
        ("email", "replied"),
        "email",
        8,
        0,
        None,
        [(4, 4), (24, 2)],
        Exponential(45),
    ),
    ("email bounced", ("email", "bounced"), "negative", -10, 0, None, [], NoDecay()),
    ("unsubscribed", ("email", "unsubscribed"), "negative", -25, 0, None, [], NoDecay()),
    ("call connected", ("call", "connected"), "calls", 5, 0.5, 10, [], Exponential(45)),
    ("meeting held", ("meeting", "held"), "meetings", 15, 0.1, 5, [], Exponential(60)),
    ("meeting no-show", ("meeting", "no_show"), "negative", -5, 0, None, [], Window(90)),
    ("form submitted", ("form", "submitted"), "web", 10, 0, None, [], Exponential(60)),
    ("web visit", ("web_visit", "visited"), "web", 1, 0, None, [], Exponential(14)),
    ("chat", ("chat", "completed"), "conversations", 3, 0, None, [], Exponential(30)),
    ("sms replied", ("sms", "replied"), "conversations", 4, 0, None, [(1, 2)], Exponential(30)),
]


def test_the_default_engagement_model_is_its_documented_table():
    model = default_engagement_model()
    assert [
        (
            r.name,
            r.group,
            r.points,
            r.per_minute,
            r.max_duration_points,
            [(t.within_hours, t.points) for t in r.response_bonus],
            r.decay,
        )
        for r in model.rules
    ] == [(name, *rest) for name, _, *rest in DOCUMENTED_ENGAGEMENT]
    for name, (kind, outcome), *_ in DOCUMENTED_ENGAGEMENT:
        assert model.rule_for(act(kind, outcome)).name == name
    assert model.rule_for(act("sms", "unsubscribed")).name == "unsubscribed"
    assert model.rule_for(act("web_visit")).name == "web visit"
    assert model.rule_for(act("chat")).name == "chat"
    for kind, outcome in [
        ("email", "sent"),
        ("email", "delivered"),
        ("call", "no_answer"),
        ("meeting", "cancelled"),
        ("form", "visited"),
        ("sms", "sent"),
        ("note", "completed"),
    ]:
        assert model.rule_for(act(kind, outcome)) is None
    assert model.group_caps == {
        "email": 25,
        "calls": 30,
        "meetings": 40,
        "web": 20,
        "conversations": 15,
    }
    assert (model.total_cap, model.name, model.version) == (100.0, "engagement", "1")


def test_the_default_priority_policy_is_its_documented_table():
    policy = default_priority_policy()
    assert [(f.name, f.input, f.weight, f.zero_at, f.full_at, f.when) for f in policy.factors] == [
        ("deal value", PriorityInput.AMOUNT, 30, 0, 50_000, None),
        ("win probability", PriorityInput.PROBABILITY, 25, 0, 1, None),
        ("engagement", PriorityInput.ENGAGEMENT, 20, 0, 80, None),
        ("closing soon", PriorityInput.DAYS_TO_CLOSE, 15, 90, 7, None),
        ("gone quiet", PriorityInput.DAYS_SINCE_TOUCH, 10, 0, 14, None),
    ]
    assert [(b.priority, b.low, b.high) for b in policy.bands] == [
        (Priority.LOW, 0, 30),
        (Priority.MEDIUM, 30, 60),
        (Priority.HIGH, 60, 100),
    ]
    assert (policy.name, policy.version) == ("priority", "1")


def test_activities_of_an_archived_last_record_are_skipped(store):
    people = sorted(_people(store, 2), key=lambda p: p.id)
    with store.unit_of_work(actor="sam") as uow:
        _reply(uow, people[0])
        _reply(uow, people[1])
        uow.contacts.archive(people[1])
    result = score_engagement(store, _one_rule_model(), as_of=T0)
    assert result == BatchResult("engagement", 1, 0, T0)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(people[0].id, "engagement").value == 10.0


def test_score_engagement_without_any_activity_scores_every_record_zero(store):
    people = _people(store, 2)
    result = score_engagement(store, _one_rule_model(), as_of=T0)
    assert result == BatchResult("engagement", 2, 2, T0)
    with store.unit_of_work(readonly=True) as uow:
        assert [uow.scores.get(p.id, "engagement").value for p in people] == [0.0, 0.0]


def test_definitions_name_what_they_define_in_unknown_settings():
    assert refusal(lambda: FitModel.from_dict({"rules": [], "x": 1})) == [
        ("x", 1, "is not a setting of a fit model")
    ]
    assert refusal(lambda: PriorityFactor.from_dict({"name": "a", "weight": 1, "x": 1})) == [
        ("x", 1, "is not a setting of a priority factor")
    ]
    assert refusal(
        lambda: PriorityBand.from_dict({"priority": "low", "low": 0, "high": 1, "x": 1})
    ) == [("x", 1, "is not a setting of a priority band")]
    assert refusal(lambda: PriorityPolicy.from_dict({"factors": [], "bands": [], "x": 1})) == [
        ("x", 1, "is not a setting of a priority policy")
    ]
    assert refusal(lambda: EngagementModel.from_dict({"rules": [], "x": 1})) == [
        ("x", 1, "is not a setting of a engagement model")
    ]


def test_score_records_reports_progress_against_the_count(store):
    _people(store, 3)
    calls = []
    score_records(
        store,
        "contact",
        lambda record: Score(1.0),
        scorer="mine",
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
        as_of=T0,
    )
    assert calls == [(2, 3), (3, 3)]


def test_score_record_refuses_what_activities_do_not_link_to_and_keeps_fit_scores(store):
    [person] = _people(store, 1)
    with store.unit_of_work(actor="sam") as uow:
        activity = _reply(uow, person)
        lead = uow.leads.add(Lead.create(first_name="L", title="CTO", clock=store.clock))
    fit = FitModel([FitRule("cto", F("title") == "CTO", 40)])
    with store.unit_of_work(actor="sam") as uow:
        assert refusal(lambda: score_record(uow, activity, _one_rule_model())) == [
            ("record", "activity", "is not a kind activities link to")
        ]
        assert score_record(uow, lead, fit).value == 40.0
        kept = uow.scores.get(lead.id, "fit")
        assert (kept.value, kept.computed_at) == (40.0, T0)
    assert refusal(lambda: score_record(None, lead, fit)) == [
        (
            "uow",
            None,
            "is not a UnitOfWork (store.unit_of_work() opens one): it has no scores attribute",
        )
    ]


def test_assess_in_store_for_a_lead_with_nothing_stored(store):
    with store.unit_of_work(actor="sam") as uow:
        lead = uow.leads.add(Lead.create(first_name="L", clock=store.clock))
    with store.unit_of_work(readonly=True) as uow:
        result = assess_in_store(uow, lead)
    assert result.missing == (
        "deal value",
        "win probability",
        "engagement",
        "closing soon",
        "gone quiet",
    )
    assert (result.score, result.priority) == (0.0, Priority.LOW)


def test_the_batch_path_goes_on_after_an_expired_activity_and_bonus_edges():
    when = F("kind") == "meeting"
    for decay in (Linear(10, 0.5), Linear(10, 0.5, steps=True), Window(10)):
        model = EngagementModel([rule("m", when, 40, decay=decay)])
        assert both(model, [act("meeting", days=30), act("meeting")]).value == 40.0
    call = rule("call", F("kind") == "call", 2, response_bonus=[ResponseBonus(1, 3)])
    model = EngagementModel([call], total_cap=100)
    assert both(model, [act("call", response_hours=1)]).value == 5.0
    assert both(model, [act("call", response_hours=1 + 0.5 / 3600)]).value == 2.0


def test_a_group_exactly_at_its_cap_gets_no_cap_line():
    model = EngagementModel(
        [rule("m", F("kind") == "meeting", 25, group="meetings")], group_caps={"meetings": 50}
    )
    score = both(model, [act("meeting"), act("meeting")])
    assert (score.value, [c.label for c in score.contributions]) == (50.0, ["m", "m"])


def test_score_check_tolerance_is_relative_to_at_least_one():
    assert not Score(0.001, (Contribution("a", 0.001 + 1.5e-9),)).check()


def test_more_refusals_carry_their_value_and_reason():
    assert refusal(lambda: roc_auc(5, [0.5])) == [
        ("outcomes", 5, "is not a collection of True/False")
    ]
    assert refusal(lambda: brier_score([True], [1.5])) == [
        ("probabilities[0]", 1.5, "is not a probability (a number from 0 to 1)")
    ]
    bad = {"field": "x", "op": "~", "value": 1}
    [(_, _, why)] = refusal(lambda: condition_field(bad, "when"))
    assert why.startswith("'~' is not an operator: use one of ==, !=, <, <=, >, >=, in, ")
    call = rule("call", F("kind") == "call", 1, group="calls")
    proxy = MappingProxyType({"calls": 2})
    assert EngagementModel([call], group_caps=proxy).group_caps == {"calls": 2.0}
    policy = default_priority_policy()
    deal = Deal.create(name="D", pipeline="sales", stage="proposal")
    assert refusal(lambda: policy.assess(deal, as_of=T0, engagement=101)) == [
        ("engagement", 101, "is not a number from 0 to 100")
    ]
    assert QualityReport.measure([True, False], [0.8, 0.2], 0.5).blend == 1.0


def test_a_condition_factor_gives_its_whole_weight_when_it_holds():
    policy = PriorityPolicy(
        [
            PriorityFactor("late stage", 1, when=F("stage") == "proposal"),
            PriorityFactor("value", 1, "amount", zero_at=0, full_at=100),
        ],
        _bands(30, 60),
    )
    deal = Deal.create(name="D", pipeline="sales", stage="proposal")
    result = policy.assess(deal, as_of=T0)
    assert [(f.name, f.value, f.share, f.points) for f in result.factors] == [
        ("late stage", True, 1.0, 50.0),
        ("value", None, 0.0, 0.0),
    ]
    assert (result.score, result.priority, result.decided_by) == (
        50.0,
        Priority.MEDIUM,
        ("late stage",),
    )
    early = policy.assess(Deal.create(name="D", pipeline="sales", stage="discovery"), as_of=T0)
    assert [(f.name, f.value, f.share) for f in early.factors] == [
        ("late stage", False, 0.0),
        ("value", None, 0.0),
    ]
