"""The learned win probability against the base rate: the blend, field names, usefulness."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import FixedClock, Lead, ValidationError
from crmkit.pipelines import default_sales_pipeline
from crmkit.scoring import (
    InsufficientDataError,
    QualityReport,
    Usefulness,
    WinProbabilityModel,
    brier_score,
)

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
SALES = default_sales_pipeline()
CLOCK = FixedClock(T0)


def lead(won, source=None, industry=None):
    """A converted (won) or unqualified (lost) lead with the given source and industry."""
    made = Lead.create(first_name="L", source=source, industry=industry, clock=CLOCK)
    if won:
        return made.changed(status="converted", converted_at=T0, clock=CLOCK)
    return made.changed(status="unqualified", clock=CLOCK)


def deal(source="a"):
    """An open deal with what closing it requires."""
    return SALES.open_deal(
        name="d",
        source=source,
        amount="1000",
        currency="EUR",
        expected_close="2026-06-30",
        clock=CLOCK,
    )


def closed(open_deal, won):
    """The deal won or lost from where it stands."""
    if won:
        return SALES.move(open_deal, SALES.won_stages[0].key, clock=CLOCK).deal
    target = SALES.lost_stages[0].key
    return SALES.move(open_deal, target, clock=CLOCK, lost_reason="price").deal


# -- never worse than the base rate ---------------------------------------------------------


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", None]), st.sampled_from("xy")),
        min_size=4,
        max_size=60,
    ),
    holdout=st.floats(0.05, 0.9),
    seed=st.integers(0, 2**32),
    alpha=st.sampled_from([0.01, 0.5, 1.0, 5.0]),
)
def test_the_report_is_never_worse_than_the_base_rate_on_its_held_out_records(
    rows, holdout, seed, alpha
):
    """On random leads the reported Brier score is at most the base rate's, blend in 0..1."""
    leads = [lead(won, source, industry) for won, source, industry in rows]
    won = sum(1 for w, _, _ in rows if w)
    model = WinProbabilityModel.for_leads(["source", "industry"], alpha=alpha, min_per_class=1)
    if won < 2 or len(rows) - won < 2:
        with pytest.raises(InsufficientDataError):
            model.train(leads, holdout=holdout, seed=seed)
        return
    report = model.train(leads, holdout=holdout, seed=seed)
    assert report.brier <= report.base_rate_brier
    assert report.skill >= 0.0
    assert 0.0 <= report.blend <= 1.0
    assert model.blend == report.blend


def test_noise_gets_blend_0_and_then_predicts_the_base_rate():
    """Sources that decide nothing: the blend is 0 and every lead gets the win rate."""
    leads = [lead(i % 2 == 0, source="ab"[(i // 2) % 2]) for i in range(80)]
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    report = model.train(leads, holdout=0.5, seed=1)
    assert report.blend == 0.0
    assert model.blend == 0.0
    assert report.brier == report.base_rate_brier == 0.25
    assert report.roc_auc == 0.5
    assert report.usefulness is Usefulness.USELESS
    assert report.verdict == "useless: no better than always predicting 50 %"
    assert model.predict(lead(True, source="a")).probability == 0.5


def test_a_decisive_field_keeps_the_whole_model():
    """Source "a" always wins and "b" always loses: the blend is 1 and the report strong."""
    leads = [lead(i % 2 == 0, source="ab"[i % 2]) for i in range(80)]
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    report = model.train(leads, holdout=0.25, seed=1)
    assert report.blend == 1.0
    assert report.roc_auc == 1.0
    assert report.usefulness is Usefulness.STRONG
    assert report.verdict == "strong: much better than always predicting 50 %"
    assert model.predict(lead(True, source="a")).probability > 0.9


def test_fit_resets_the_blend_and_update_keeps_it():
    """`fit` measures nothing, so its model is the naive Bayes itself; `update` counts only."""
    leads = [lead(i % 2 == 0, source="ab"[(i // 2) % 2]) for i in range(80)]
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    model.train(leads, holdout=0.5, seed=1)
    assert model.blend == 0.0
    model.update(lead(True, source="a"))
    assert model.blend == 0.0
    model.fit(leads)
    assert model.blend == 1.0


def test_the_blend_is_saved_with_the_model_and_old_saves_load_with_1():
    """The blend and the report's base rate round-trip; a save without them reads 1 / None."""
    leads = [lead(i % 2 == 0, source="ab"[(i // 2) % 2]) for i in range(80)]
    model = WinProbabilityModel.for_leads(["source"], min_per_class=2)
    model.train(leads, holdout=0.5, seed=1)
    data = model.to_dict()
    assert data["blend"] == 0.0
    assert data["quality"]["base_rate"] == 0.5
    loaded = WinProbabilityModel.from_dict(data)
    assert loaded.to_dict() == data
    assert loaded.quality == model.quality
    old = {k: v for k, v in data.items() if k != "blend"}
    old["quality"] = {k: v for k, v in data["quality"].items() if k not in ("blend", "base_rate")}
    older = WinProbabilityModel.from_dict(old)
    assert older.blend == 1.0
    assert older.quality is not None
    assert older.quality.base_rate is None
    expected = "useless: no better than always predicting the training win rate"
    assert older.quality.verdict == expected


@pytest.mark.parametrize("blend", [-0.01, 1.01, "1", None, float("nan")])
def test_a_blend_outside_0_to_1_is_refused(blend):
    """A saved blend must be a number from 0 to 1."""
    data = WinProbabilityModel.for_leads(["source"]).to_dict()
    with pytest.raises(ValidationError, match="blend"):
        WinProbabilityModel.from_dict({**data, "blend": blend})


@pytest.mark.parametrize("blend", [0.0, 1.0])
def test_a_blend_of_0_or_1_loads(blend):
    """Both ends of the blend's range are allowed."""
    data = WinProbabilityModel.for_leads(["source"]).to_dict()
    assert WinProbabilityModel.from_dict({**data, "blend": blend}).blend == blend


def test_training_needs_two_of_each_class_even_with_a_lower_minimum():
    """One won lead cannot be both held out and trained on: InsufficientDataError, minimum 2."""
    leads = [lead(True, "a")] + [lead(False, "b") for _ in range(5)]
    model = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    with pytest.raises(InsufficientDataError) as error:
        model.train(leads)
    assert (error.value.won, error.value.lost, error.value.minimum) == (1, 5, 2)
    report = model.train([*leads, lead(True, "a")], holdout=0.9)
    assert (report.held_out, report.won) == (5, 1)  # 1 of 2 won and 4 of 5 lost held out


def test_evaluating_records_of_one_class_is_refused():
    """Without both won and lost records there is no ROC AUC: a ValidationError, not ValueError."""
    model = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    model.fit([lead(True, "a"), lead(False, "b")])
    with pytest.raises(ValidationError, match="both won and lost"):
        model.evaluate([lead(True, "a")])


@pytest.mark.parametrize("holdout", [0.0, 0.91, True, "0.2", float("nan")])
def test_a_holdout_outside_0_to_0_9_is_refused(holdout):
    """The held-out share is a number in (0, 0.9]."""
    with pytest.raises(ValidationError, match="holdout"):
        WinProbabilityModel.for_leads(["source"]).train([], holdout=holdout)


def test_predicting_the_wrong_kind_or_an_unknown_stage_is_refused():
    """A lead model is given a deal, or a deal is asked about a stage its pipeline lacks."""
    leads = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    leads.fit([lead(True, "a"), lead(False, "b")])
    one = deal()
    with pytest.raises(ValidationError, match="record"):
        leads.predict(one)
    with pytest.raises(ValidationError, match="record"):
        leads.predict(None)
    deals = WinProbabilityModel.for_deals(["source"], pipelines=[SALES], min_per_class=1)
    deals.fit([closed(one, True), closed(one, False)])
    with pytest.raises(ValidationError, match="stage"):
        deals.predict(one, stage="closed_won")
    with pytest.raises(ValidationError, match="record"):
        deals.predict(lead(True, "a"))
    assert 0.0 < deals.predict(one, stage="proposal").probability < 1.0


# -- field names ---------------------------------------------------------------------------


def test_a_misspelled_deal_field_is_refused_with_a_suggestion():
    """`sorce` is not a deal field: the error names it and suggests `source`."""
    with pytest.raises(ValidationError) as error:
        WinProbabilityModel.for_deals(["sorce", "amount"], pipelines=[SALES])
    [problem] = error.value.problems
    assert (problem.field, problem.value) == ("fields", "sorce")
    assert "did you mean 'source'?" in problem.reason
    assert "custom.<key>" in problem.reason


def test_a_misspelled_lead_field_is_refused_with_a_suggestion():
    """`industri` and `xyz` are not lead fields: both are listed, one with a suggestion."""
    with pytest.raises(ValidationError) as error:
        WinProbabilityModel.for_leads(["industri", "source", "xyz"])
    assert [(p.field, p.value) for p in error.value.problems] == [
        ("fields", "industri"),
        ("fields", "xyz"),
    ]
    assert "did you mean 'industry'?" in error.value.problems[0].reason
    assert "did you mean" not in error.value.problems[1].reason


def test_a_misspelled_group_by_or_bin_is_refused_with_a_suggestion():
    """`group_by="teem"` and a bin for `amout` are refused, suggesting `team` and `amount`."""
    with pytest.raises(ValidationError) as error:
        WinProbabilityModel.for_deals(
            ["amount"], pipelines=[SALES], group_by="teem", bins={"amout": [10]}
        )
    assert [(p.field, p.value) for p in error.value.problems] == [
        ("group_by", "teem"),
        ("bins.amout", "amout"),
    ]
    assert "did you mean 'team'?" in error.value.problems[0].reason
    assert "did you mean 'amount'?" in error.value.problems[1].reason


def test_custom_and_nested_fields_are_accepted():
    """`custom.<key>`, a field of a field's value and every plain field are fine."""
    deals = WinProbabilityModel.for_deals(
        ["custom.industry", "amount.currency", "team", "tags"], pipelines=[SALES]
    )
    assert deals.fields == ("custom.industry", "amount.currency", "team", "tags")
    leads = WinProbabilityModel.for_leads(["bant.budget", "email.normalized", "employees"])
    assert leads.fields == ("bant.budget", "email.normalized", "employees")


def test_a_field_of_the_other_kind_is_refused():
    """`bant.budget` is a lead's field, `team` a deal's."""
    with pytest.raises(ValidationError, match=r"bant\.budget"):
        WinProbabilityModel.for_deals(["bant.budget"], pipelines=[SALES])
    with pytest.raises(ValidationError, match="team"):
        WinProbabilityModel.for_leads(["team"])


def test_a_bare_custom_key_must_be_written_with_its_prefix():
    """`industry` is no deal field (only a lead's): a deal model asks for `custom.industry`."""
    with pytest.raises(ValidationError, match=r"custom\.<key>"):
        WinProbabilityModel.for_deals(["industry"], pipelines=[SALES])


# -- usefulness in words -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roc_auc", "skill", "usefulness"),
    [
        (0.5, 0.0, Usefulness.USELESS),
        (0.5499, 0.5, Usefulness.USELESS),  # below the AUC bound of weak
        (0.55, 0.0, Usefulness.USELESS),  # a skill of exactly 0 is the base rate itself
        (0.55, 1e-9, Usefulness.WEAK),
        (0.6499, 0.5, Usefulness.WEAK),
        (0.65, 0.0499, Usefulness.WEAK),
        (0.65, 0.05, Usefulness.FAIR),
        (0.7499, 0.5, Usefulness.FAIR),
        (0.75, 0.1499, Usefulness.FAIR),
        (0.75, 0.15, Usefulness.GOOD),
        (0.8499, 0.5, Usefulness.GOOD),
        (0.85, 0.2999, Usefulness.GOOD),
        (0.85, 0.30, Usefulness.STRONG),
        (1.0, 1.0, Usefulness.STRONG),
        (0.95, -0.2, Usefulness.USELESS),  # ranks well, but worse than the base rate
    ],
)
def test_usefulness_is_the_lower_of_the_auc_band_and_the_skill_band(roc_auc, skill, usefulness):
    """Bands include their lower bound; weak needs a skill strictly above 0."""
    assert Usefulness.of(roc_auc, skill) is usefulness


def test_the_report_says_in_words_how_useful_the_model_is():
    """AUC 0.6 and skill 0.02 against a 64 % base rate: weak, barely better than 64 %."""
    report = QualityReport(
        held_out=100, won=64, roc_auc=0.6, brier=0.2254, base_rate_brier=0.23, base_rate=0.64
    )
    assert report.skill == pytest.approx(0.02)
    assert report.usefulness is Usefulness.WEAK
    assert report.verdict == "weak: barely better than always predicting 64 %"
    assert str(report) == (
        "weak: barely better than always predicting 64 %"
        " (ROC AUC 0.60, Brier skill 0.02, on 100 held-out records, 64 won)"
    )


def test_measure_keeps_the_base_rate_and_blend():
    """`QualityReport.measure` records what it compared against."""
    report = QualityReport.measure([True, False], [0.7, 0.4], 0.5, blend=0.25)
    assert (report.base_rate, report.blend) == (0.5, 0.25)
    assert report.brier == brier_score([True, False], [0.7, 0.4])
    assert QualityReport.from_dict(report.to_dict()) == report


def test_a_deal_model_reports_its_verdict_after_training():
    """Deals whose source decides the outcome: the verdict is at least fair."""
    deals = [closed(deal("ab"[i % 2]), i % 2 == 0 or i % 7 == 0) for i in range(120)]
    model = WinProbabilityModel.for_deals(["source"], pipelines=[SALES])
    report = model.train(deals, seed=4)
    assert report.usefulness in (Usefulness.GOOD, Usefulness.STRONG)
    assert report.brier <= report.base_rate_brier
