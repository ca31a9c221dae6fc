"""Pipelines are stored data (`uow.pipelines`): deals are stored only in stages the store
knows, saved pipelines are versioned with history, and a stage holding deals cannot be
dropped. On every adapter."""

from __future__ import annotations

import attrs
import pytest

from crmkit import (
    Deal,
    FixedClock,
    Pipeline,
    Stage,
    ValidationError,
    default_sales_pipeline,
)
from crmkit.pipelines import default_renewal_pipeline
from crmkit.storage.pipeline_book import pipeline_record_id

from .adapters import T0


def support(*stage_keys: str) -> Pipeline:
    """A small pipeline: the given open stages, then won and lost."""
    stages = [
        Stage(key=k, label=k.title(), probability=0.5, forecast_category="pipeline")
        for k in stage_keys
    ]
    return Pipeline(
        key="support",
        label="Support renewals",
        stages=[
            *stages,
            Stage(key="won", label="Won", probability=1.0, forecast_category="closed", won=True),
            Stage(
                key="lost", label="Lost", probability=0.0, forecast_category="omitted", lost=True
            ),
        ],
    )


def deal_in(pipeline: str, stage: str, clock: FixedClock, name: str = "D") -> Deal:
    return Deal.create(name=name, pipeline=pipeline, stage=stage, clock=clock)


def test_a_new_store_knows_the_built_in_pipelines_at_version_0(store):
    with store.unit_of_work(readonly=True) as uow:
        assert [p.key for p in uow.pipelines.all()] == ["renewals", "sales"]
        assert uow.pipelines.get("sales") == default_sales_pipeline()
        assert uow.pipelines.get("renewals") == default_renewal_pipeline()
        assert (uow.pipelines.version("sales"), uow.pipelines.version("renewals")) == (0, 0)
        assert "sales" in uow.pipelines
        assert "support" not in uow.pipelines
        assert None not in uow.pipelines


def test_a_deal_in_an_unknown_pipeline_or_stage_is_refused_and_nothing_is_stored(store, clock):
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.deals.add(deal_in("sale", "prospecting", clock))
        assert caught.value.fields == ("pipeline",)
        assert str(caught.value) == (
            "row 0: pipeline 'sale' is not a pipeline the store knows (known: renewals, sales;"
            " did you mean 'sales'?): save it first with uow.pipelines.save(pipeline)"
        )
        with pytest.raises(ValidationError) as caught:
            uow.deals.add(deal_in("sales", "qualify", clock))
        assert caught.value.fields == ("stage",)
        assert str(caught.value) == (
            "row 0: stage 'qualify' is not a stage of pipeline 'sales' (its stages: prospecting,"
            " discovery, proposal, negotiation, decision, closed_won, closed_lost)"
        )
        assert uow.deals.count() == 0


def test_add_many_names_each_bad_row_and_keeps_nothing(store, clock):
    rows = [
        deal_in("sales", "prospecting", clock, "ok"),
        deal_in("support", "new", clock, "unknown pipeline"),
        deal_in("sales", "new", clock, "unknown stage"),
    ]
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.deals.add_many(rows)
        assert [(p.row, p.field) for p in caught.value.problems] == [
            (1, "pipeline"),
            (2, "stage"),
        ]
        assert uow.deals.count() == 0


def test_an_update_into_an_unknown_stage_is_refused_and_the_deal_is_unchanged(store, clock):
    with store.unit_of_work() as uow:
        stored = uow.deals.add(deal_in("sales", "prospecting", clock))
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.deals.update(attrs.evolve(stored, stage="qualify"))
        assert caught.value.fields == ("stage",)
        assert uow.deals.get(stored.id) == stored


def test_a_saved_pipeline_is_versioned_kept_and_accepts_its_deals(store, clock):
    with store.unit_of_work(actor="ops") as uow:
        saved = uow.pipelines.save(support("new"))
        assert (saved.version, saved.saved_at) == (1, T0)
        deal = uow.deals.add(deal_in("support", "new", clock))
    with store.unit_of_work(readonly=True) as uow:
        assert uow.pipelines.get("support") == support("new")
        assert uow.pipelines.version("support") == 1
        assert [p.key for p in uow.pipelines.all()] == ["renewals", "sales", "support"]
        assert uow.deals.get(deal.id).stage == "new"
    [entry] = store.history(pipeline_record_id("support"))
    assert (entry.kind, entry.version, entry.action, entry.actor) == ("pipeline", 1, "added", "ops")
    assert [c.field for c in entry.changes] == [
        "allow_skipping",
        "label",
        "stage_order",
        "stages.lost",
        "stages.new",
        "stages.won",
    ]


def test_saving_a_changed_pipeline_adds_a_version_and_saving_it_unchanged_does_not(store, clock):
    with store.unit_of_work() as uow:
        uow.pipelines.save(support("new"))
    with store.unit_of_work() as uow:
        again = uow.pipelines.save(support("new"))
        assert again.version == 1
        changed = uow.pipelines.save(support("new", "triage"))
        assert changed.version == 2
    with store.unit_of_work(readonly=True) as uow:
        assert uow.pipelines.get("support") == support("new", "triage")
    entries = store.history(pipeline_record_id("support"))
    assert [(e.version, e.action) for e in entries] == [(1, "added"), (2, "updated")]
    assert [(c.field, c.old, c.new) for c in entries[1].changes] == [
        ("stage_order", ["new", "won", "lost"], ["new", "triage", "won", "lost"]),
        (
            "stages.triage",
            None,
            {
                "key": "triage",
                "label": "Triage",
                "probability": 0.5,
                "forecast_category": "pipeline",
                "won": False,
                "lost": False,
            },
        ),
    ]


def test_a_stage_holding_deals_cannot_be_dropped_archived_ones_included(store, clock):
    with store.unit_of_work() as uow:
        uow.pipelines.save(support("new", "triage"))
        kept = uow.deals.add(deal_in("support", "triage", clock))
        uow.deals.archive(uow.deals.add(deal_in("support", "triage", clock, "old")))
        uow.deals.add(deal_in("support", "new", clock, "other"))
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.pipelines.save(support("new"))
        assert caught.value.fields == ("stages.triage",)
        assert str(caught.value) == (
            "stages.triage 'triage' holds 2 deals: move them to another stage before dropping it"
        )
        assert uow.pipelines.version("support") == 1
    with store.unit_of_work() as uow:
        uow.deals.delete(uow.deals.get(kept.id))
        [old] = [d for d in uow.deals.iter(include_archived=True) if d.stage == "triage"]
        with pytest.raises(ValidationError) as caught:
            uow.pipelines.save(support("new"))
        assert str(caught.value) == (
            "stages.triage 'triage' holds 1 deal: move it to another stage before dropping it"
        )
        uow.deals.delete(old)
        assert uow.pipelines.save(support("new")).version == 2


def test_a_saved_pipeline_with_a_built_in_key_replaces_the_built_in(store, clock):
    sales = default_sales_pipeline()
    shorter = attrs.evolve(
        sales, stages=[s for s in sales.stages if s.key != "decision"], transitions=None
    )
    with store.unit_of_work() as uow:
        assert uow.pipelines.save(shorter).version == 1
        with pytest.raises(ValidationError) as caught:
            uow.deals.add(deal_in("sales", "decision", clock))
        assert caught.value.fields == ("stage",)


def test_a_save_undone_by_a_savepoint_or_a_rollback_leaves_no_pipeline(store, clock):
    def save_then_fail(uow):
        uow.pipelines.save(support("new"))
        raise RuntimeError("undo")

    def in_savepoint(uow):
        with uow.savepoint():
            save_then_fail(uow)

    def in_unit_of_work():
        with store.unit_of_work() as uow:
            save_then_fail(uow)

    with store.unit_of_work() as uow:
        with pytest.raises(RuntimeError):
            in_savepoint(uow)
        assert "support" not in uow.pipelines
        with pytest.raises(ValidationError):
            uow.deals.add(deal_in("support", "new", clock))
    with pytest.raises(RuntimeError):
        in_unit_of_work()
    with store.unit_of_work(readonly=True) as uow:
        assert "support" not in uow.pipelines
    assert store.history(pipeline_record_id("support")) == []


def test_moving_a_deal_uses_the_stores_pipeline_and_refuses_a_stale_one(store, clock):
    with store.unit_of_work() as uow:
        uow.pipelines.save(support("new", "triage"))
        deal = uow.deals.add(deal_in("support", "new", clock))
    with store.unit_of_work() as uow:
        moved = uow.deals.move(deal, "triage")
        assert moved.deal.stage == "triage"
        with pytest.raises(ValidationError) as caught:
            uow.deals.move(moved.deal, "won", pipeline=support("new", "triage", "extra"))
        assert caught.value.fields == ("pipeline",)
        assert str(caught.value) == (
            "pipeline 'support' differs from the store's definition: save it first with "
            "uow.pipelines.save(pipeline), or leave pipeline= out"
        )
        assert uow.deals.get(deal.id).stage == "triage"


def test_wrong_arguments_name_themselves(store):
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.pipelines.save("support")
        assert caught.value.fields == ("pipeline",)
        with pytest.raises(ValidationError) as caught:
            uow.pipelines.get(None)
        assert caught.value.fields == ("pipeline",)
        with pytest.raises(ValidationError) as caught:
            uow.pipelines.version("nope")
        assert caught.value.fields == ("pipeline",)


def test_a_reopened_store_still_knows_its_saved_pipelines(adapter, clock):
    store = adapter.make(clock)
    with store:
        with store.unit_of_work() as uow:
            uow.pipelines.save(support("new"))
    reopened = adapter.reopen(store, clock)
    if reopened is None:
        pytest.skip(f"{adapter.name} keeps nothing once closed")
    with reopened, reopened.unit_of_work(readonly=True) as uow:
        assert uow.pipelines.get("support") == support("new")
        assert uow.pipelines.version("support") == 1
