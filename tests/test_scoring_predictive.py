import datetime as dt
import math
import random

import pytest

from crmkit import CrmkitError, Deal, FixedClock, Lead, ValidationError
from crmkit.pipelines import default_renewal_pipeline, default_sales_pipeline
from crmkit.scoring import (
    InsufficientDataError,
    QualityReport,
    StageOrder,
    WinProbabilityModel,
    brier_score,
    calibration_table,
    roc_auc,
)

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
SALES = default_sales_pipeline()
RENEWALS = default_renewal_pipeline()
SOURCES = ("referral", "web", "event", "ads")
TEAMS = ("north", "south", "east")
CHANCE = {"referral": 0.9, "event": 0.6, "web": 0.3, "ads": 0.1}


def world(n, seed, *, signal, pipeline=SALES):
    """Closed deals; with `signal`, the source decides the odds (referrals win 90 %)."""
    rnd = random.Random(seed)
    clock = FixedClock(T0)
    open_keys = [s.key for s in pipeline.open_stages]
    won_key, lost_key = pipeline.won_stages[0].key, pipeline.lost_stages[0].key
    deals = []
    for i in range(n):
        source, team = rnd.choice(SOURCES), rnd.choice(TEAMS)
        chance = CHANCE[source] if signal else 0.5
        won = rnd.random() < chance
        clock.set(T0 + dt.timedelta(hours=i))
        deal = pipeline.open_deal(
            name=f"deal {i}",
            amount=str(rnd.randint(1, 90) * 1000),
            currency="EUR",
            expected_close="2026-06-30",
            source=source,
            team=team,
            clock=clock,
        )
        reached = len(open_keys) - 1 if won else rnd.randrange(len(open_keys))
        for key in open_keys[1 : reached + 1]:
            clock.advance(minutes=1)
            deal = pipeline.move(deal, key, clock=clock).deal
        clock.advance(minutes=1)
        if won:
            deal = pipeline.move(deal, won_key, clock=clock).deal
        else:
            deal = pipeline.move(deal, lost_key, clock=clock, lost_reason="price").deal
        deals.append(deal)
    return deals


SIGNAL = world(800, seed=11, signal=True)
NOISE = world(800, seed=12, signal=False)


def model(**options):
    options.setdefault("pipelines", [SALES, RENEWALS])
    return WinProbabilityModel.for_deals(
        ["source", "team", "amount"], bins={"amount": [10_000, 50_000]}, **options
    )


def test_a_known_signal_is_found_on_held_out_deals():
    m = model()
    report = m.train(SIGNAL, holdout=0.3, seed=3)
    assert report.held_out == 240
    assert report.roc_auc > 0.72
    assert report.brier < report.base_rate_brier
    assert report.skill > 0.05
    referral = next(d for d in SIGNAL if d.source == "referral")
    prediction = m.predict(referral, stage="prospecting")
    assert prediction.reasons[0].field == "source"
    assert prediction.reasons[0].value == "referral"
    assert prediction.reasons[0].pushes_up
    assert prediction.up[0] == prediction.reasons[0]
    ads = next(d for d in SIGNAL if d.source == "ads")
    assert m.predict(ads, stage="prospecting").down[0].field == "source"
    assert m.quality == report


def test_pure_noise_claims_nothing():
    m = model()
    report = m.train(NOISE, holdout=0.3, seed=3)
    assert abs(report.roc_auc - 0.5) < 0.1
    assert report.brier >= report.base_rate_brier - 0.005


def test_probability_rises_as_a_deal_advances():
    m = model()
    m.fit(SIGNAL)
    deal = SIGNAL[0]
    chances = [m.predict(deal, stage=s.key).probability for s in SALES.open_stages]
    assert chances == sorted(chances)
    assert chances[-1] > 3 * chances[0]


def test_lost_deals_count_only_up_to_the_stage_they_were_lost_in():
    m = model(use_stage=True)
    m.fit(SIGNAL)
    counts = m.to_dict()["tables"]["*"]["counts"]["stage"]
    won = sum(1 for d in SIGNAL if d.stage == "closed_won")
    lost_reached = [
        max(
            [s.key for s in SALES.open_stages].index(stay.stage)
            for stay in d.stage_history
            if stay.stage in counts
        )
        for d in SIGNAL
        if d.stage == "closed_lost"
    ]
    assert counts["prospecting"] == [won, len(lost_reached)]
    assert counts["decision"] == [won, sum(1 for r in lost_reached if r >= 4)]


def test_too_little_data_is_refused_clearly():
    with pytest.raises(InsufficientDataError) as error:
        model().train(SIGNAL[:60])
    assert isinstance(error.value, CrmkitError)
    assert "at least 40 of each" in str(error.value)
    assert error.value.minimum == 40
    with pytest.raises(ValidationError, match="not been trained"):
        model().predict(SIGNAL[0])


def test_updating_one_deal_at_a_time_equals_a_full_rebuild():
    small = model(min_per_class=5)
    small.fit(SIGNAL[:200])
    counted = [small.update(d) for d in SIGNAL[200:]]
    full = model(min_per_class=5)
    full.fit(SIGNAL)
    assert all(counted)
    assert small.to_dict() == full.to_dict()
    open_deal = SALES.open_deal(name="new", clock=FixedClock(T0))
    assert small.update(open_deal) is False


def test_per_pipeline_tables_with_a_fallback_to_all():
    renewals = world(60, seed=5, signal=True, pipeline=RENEWALS)
    m = model()
    m.fit(SIGNAL + renewals)
    assert m.predict(SIGNAL[0]).table == "sales"
    assert m.predict(renewals[0]).table == "*"  # too few renewals for a table of its own
    with pytest.raises(ValidationError, match="not a pipeline this model knows"):
        WinProbabilityModel.for_deals(["source"], pipelines=[RENEWALS]).fit(SIGNAL)


def test_a_trained_model_round_trips_as_plain_data_with_a_version():
    m = model()
    m.train(SIGNAL, seed=1)
    data = m.to_dict()
    assert data["format_version"] == 1
    for loaded in (
        WinProbabilityModel.from_dict(data),
        WinProbabilityModel.from_json(m.to_json()),
        WinProbabilityModel.from_toml(m.to_toml()),
    ):
        assert loaded.to_dict() == data
        assert loaded.quality == m.quality
        assert loaded.predict(SIGNAL[3]) == m.predict(SIGNAL[3])
    with pytest.raises(ValidationError, match="format"):
        WinProbabilityModel.from_dict({**data, "format_version": 99})


def test_leads_learn_converted_versus_unqualified():
    rnd = random.Random(8)
    clock = FixedClock(T0)
    leads = []
    for i in range(600):
        industry = rnd.choice(["software", "retail", "energy"])
        employees = rnd.choice([5, 40, 300, 2000])
        chance = 0.1 + 0.4 * (industry == "software") + 0.4 * (employees >= 50)
        converted = rnd.random() < chance
        leads.append(
            Lead.create(
                first_name=f"L{i}",
                industry=industry,
                employees=employees,
                source=rnd.choice(SOURCES),
                status="qualified" if converted else "unqualified",
                clock=clock,
            )
        )
        if converted:  # a new lead cannot start converted: only a conversion converts it
            leads[-1] = leads[-1].changed(status="converted", converted_at=clock.now(), clock=clock)
    leads.append(Lead.create(first_name="open", clock=clock))  # ignored: still new
    m = WinProbabilityModel.for_leads(
        ["industry", "employees", "source"], bins={"employees": [10, 50, 250]}
    )
    report = m.train(leads, seed=2)
    assert report.roc_auc > 0.65
    top = m.predict(Lead.create(first_name="x", industry="software", employees=500, clock=clock))
    assert {r.field for r in top.up} >= {"industry", "employees"}
    assert WinProbabilityModel.from_toml(m.to_toml()).to_dict() == m.to_dict()


def test_quality_measures():
    assert roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert roc_auc([True, False, True, False], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([True, False, False], [0.2, 0.6, 0.1]) == 0.5
    assert brier_score([True, False], [1.0, 0.0]) == 0.0
    assert brier_score([True, False], [0.5, 0.5]) == 0.25
    table = calibration_table([True, False, True], [0.05, 0.07, 0.95])
    assert [(b.low, b.count, b.observed) for b in table] == [(0.0, 2, 0.5), (0.9, 1, 1.0)]
    report = QualityReport.measure([True, False, True, False], [0.8, 0.3, 0.6, 0.1], 0.5)
    assert QualityReport.from_dict(report.to_dict()) == report
    with pytest.raises(ValueError, match="both"):
        roc_auc([True], [0.3])


def _counted_leads():
    """4 converted (web 3, ads 1) and 6 unqualified leads (web 1, ads 4, one without a source)."""
    clock = FixedClock(T0)
    made = [("converted", "web")] * 3 + [("converted", "ads")]
    made += [("unqualified", "web")] + [("unqualified", "ads")] * 4 + [("unqualified", None)]
    leads = []
    for i, (status, source) in enumerate(made):
        lead = Lead.create(first_name=f"L{i}", source=source, clock=clock)
        if status == "converted":  # only a conversion makes a converted lead
            lead = lead.changed(status=status, converted_at=clock.now(), clock=clock)
        else:
            lead = lead.changed(status=status, clock=clock)
        leads.append(lead)
    return leads


@pytest.mark.parametrize(
    ("alpha", "weight", "probability"),
    [
        # prior log(5/7); web: log((3+1)/(4+1*2)) - log((1+1)/(5+1*2)) = log(7/3); odds 5/3
        (1.0, math.log(7 / 3), 5 / 8),
        # prior log(6/8); web: log((3+2)/(4+2*2)) - log((1+2)/(5+2*2)) = log(15/8); odds 45/32
        (2.0, math.log(15 / 8), 45 / 77),
    ],
    ids=["alpha 1", "alpha 2"],
)
def test_the_smoothed_naive_bayes_matches_a_hand_worked_example(alpha, weight, probability):
    """P(v | c) = (n_c(v) + a) / (N_c + a * K): the weight and probability, worked by hand."""
    m = WinProbabilityModel.for_leads(["source"], alpha=alpha, min_per_class=1)
    m.fit(_counted_leads())
    got = m.predict(Lead.create(first_name="new", source="web", clock=FixedClock(T0)))
    [reason] = got.reasons
    assert (reason.field, reason.value) == ("source", "web")
    assert reason.weight == pytest.approx(weight, rel=1e-12)
    assert got.probability == pytest.approx(probability, rel=1e-12)


def test_a_value_never_seen_in_training_carries_no_evidence():
    """An unknown source adds no reason: the probability is the smoothed prior, 5/12."""
    m = WinProbabilityModel.for_leads(["source"], min_per_class=1)
    m.fit(_counted_leads())
    got = m.predict(Lead.create(first_name="new", source="fax", clock=FixedClock(T0)))
    assert got.reasons == ()
    assert got.probability == pytest.approx(5 / 12, rel=1e-12)


def test_deals_that_all_closed_from_the_first_stage_predict_the_base_rate_there():
    """60 won and 60 lost deals straight from the first stage: 0.5, not 0.18 (issue 11)."""
    pipeline = default_sales_pipeline()
    first = pipeline.open_stages[0].key
    won_stage = next(iter(pipeline.won_stages)).key
    lost_stage = next(iter(pipeline.lost_stages)).key
    moment = FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    deals = []
    for i in range(120):
        deal = Deal.create(
            name=f"d{i}",
            pipeline=pipeline.key,
            stage=first,
            amount="100",
            currency="EUR",
            expected_close="2026-02-01",
            clock=moment,
        )
        target = won_stage if i % 2 else lost_stage
        changes = {} if target == won_stage else {"lost_reason": "price"}
        deals.append(pipeline.move(deal, target, clock=moment, **changes).deal)
    model = WinProbabilityModel.for_deals([], pipelines=[pipeline])
    model.fit(deals)
    probe = Deal.create(name="open", pipeline=pipeline.key, stage=first, clock=moment)
    assert model.predict(probe).probability == pytest.approx(0.5)


# -- wrong arguments: a ValidationError naming each, never a raw Python error (issue 11) ----


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


@pytest.mark.parametrize("measure", [brier_score, roc_auc, calibration_table])
def test_quality_measures_refuse_what_is_not_outcomes_and_probabilities(measure):
    """``brier_score(None, None)`` was a ValueError, ``roc_auc(None, None)`` a TypeError."""
    refused(lambda: measure(None, None), "outcomes", "probabilities")
    refused(lambda: measure("yes", [0.5]), "outcomes")
    refused(lambda: measure([True, None], [0.5, 0.5]), "outcomes[1]")
    refused(lambda: measure([True, False], [0.5, 1.5]), "probabilities[1]")
    refused(lambda: measure([True, False], [float("nan"), 0.5]), "probabilities[0]")
    refused(lambda: measure([True, False], [10**400, 0.5]), "probabilities[0]")  # no float
    refused(lambda: measure([True, False], [0.5]), "probabilities")


def test_brier_score_and_roc_auc_name_the_outcomes_they_lack():
    refused(lambda: brier_score([], []), "outcomes")
    refused(lambda: roc_auc([True, True], [0.2, 0.9]), "outcomes")
    assert brier_score([1, 0], [1, 0]) == 0.0  # 1 and 0 count as won and lost
    assert roc_auc((won for won in (True, False)), [0.9, 0.1]) == 1.0


def test_a_calibration_table_needs_a_whole_number_of_bins():
    refused(lambda: calibration_table([True], [0.5], bins=0), "bins")
    refused(lambda: calibration_table([True], [0.5], bins=2.0), "bins")
    assert len(calibration_table([True], [0.5], bins=1)) == 1
    (only,) = calibration_table([True], [0.5], bins=10**400)  # no list of 10**400 bins
    assert only.count == 1


def test_a_win_probability_model_refuses_settings_of_the_wrong_type():
    """``WinProbabilityModel(None, None)`` was a TypeError from iterating None."""
    stages = {"sales": StageOrder.of(SALES)}

    def model(**changes):
        return lambda: WinProbabilityModel(
            **{"target": "deal", "fields": ["source"], "stages": stages, **changes}
        )

    refused(model(fields=None), "fields")
    refused(model(fields="source"), "fields")
    refused(model(fields=["source", 5]), "fields[1]")
    refused(model(bins=[("amount", [1, 2])]), "bins")
    refused(model(fields=["amount"], bins={"amount": 5}), "bins.amount")
    refused(model(stages=[SALES]), "stages")
    refused(model(stages={"sales": SALES}), "stages.sales")
    refused(model(use_stage="yes"), "use_stage")
    refused(model(name=None, version=""), "name", "version")
    refused(model(quality=0.8), "quality")
    refused(model(tables=None), "tables")
    refused(model(target=None, fields=None), "fields")
    refused(model(target=["deal"]), "target")
