"""`uow.deals.move` moves a deal through its pipeline, stores it and records the
`StageChanged` event in one call, all or nothing: on every adapter."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import (
    ConcurrencyError,
    Deal,
    Money,
    TransitionError,
    ValidationError,
    default_sales_pipeline,
)
from crmkit.pipelines import default_renewal_pipeline

from .adapters import T0


@pytest.fixture
def deal(store, clock):
    """A stored deal in prospecting of the default sales pipeline (version 1)."""
    opened = default_sales_pipeline().open_deal(name="Acme, 50 seats", clock=clock)
    with store.unit_of_work(actor="sam") as uow:
        return uow.deals.add(opened)


def test_a_move_stores_the_deal_and_records_its_event_in_one_call(store, deal, clock):
    """The deal is stored at version 2 in the new stage with the changes; one event recorded."""
    clock.advance(days=3)
    with store.unit_of_work(actor="sam") as uow:
        moved = uow.deals.move(
            deal,
            "proposal",
            pipeline=default_sales_pipeline(),
            amount=Money.of("12000", "EUR"),
            note="demo",
        )
    assert (moved.deal.stage, moved.deal.version) == ("proposal", 2)
    assert moved.deal.amount == Money.of("12000", "EUR")
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.deals.get(deal.id)
    assert stored == moved.deal
    assert [(s.stage, s.moved_by) for s in stored.stage_history] == [
        ("prospecting", "sam"),
        ("proposal", "sam"),
    ]
    assert stored.stage_history[-1].entered_at == T0 + dt.timedelta(days=3)
    [event] = store.events()
    assert event.event_type == "deal.stage_changed"
    assert event.actor == "sam"
    assert {k: event.payload[k] for k in ("deal_id", "from_stage", "to_stage", "by", "note")} == {
        "deal_id": str(deal.id),
        "from_stage": "prospecting",
        "to_stage": "proposal",
        "by": "sam",
        "note": "demo",
    }
    assert event.payload["amount"] == {"amount": "12000", "currency": "EUR"}
    assert event.payload["at"] == (T0 + dt.timedelta(days=3)).isoformat()


def test_two_moves_in_one_unit_of_work_record_two_events(store, deal):
    """Moving twice keeps both events (calling `pipeline.move` twice and `update` once lost one)."""
    pipeline = default_sales_pipeline()
    with store.unit_of_work(actor="sam") as uow:
        first = uow.deals.move(deal, "discovery", pipeline=pipeline)
        second = uow.deals.move(first.deal, "closed_lost", pipeline=pipeline, lost_reason="price")
    assert second.deal.version == 3
    assert second.deal.closed_at == T0
    assert [(e.payload["from_stage"], e.payload["to_stage"]) for e in store.events()] == [
        ("prospecting", "discovery"),
        ("discovery", "closed_lost"),
    ]


def test_an_explicit_mover_wins_over_the_actor(store, deal):
    """`by` names the mover in the stay and the event; the actor stays the committer."""
    with store.unit_of_work(actor="sam") as uow:
        moved = uow.deals.move(deal, "discovery", pipeline=default_sales_pipeline(), by="kim")
    assert moved.deal.stage_history[-1].moved_by == "kim"
    [event] = store.events()
    assert (event.payload["by"], event.actor) == ("kim", "sam")


def test_a_refused_move_stores_nothing_and_records_nothing(store, deal):
    """Unmet requirements raise TransitionError; the deal and the outbox are unchanged."""
    with store.unit_of_work(actor="sam") as uow:
        with pytest.raises(TransitionError) as caught:
            uow.deals.move(deal, "proposal", pipeline=default_sales_pipeline())
        assert caught.value.unmet == ("amount is required",)
        assert uow.deals.get(deal.id) == deal
    assert store.events() == []


def test_a_stale_deal_is_refused_and_nothing_is_recorded(store, deal):
    """A deal changed since it was read raises ConcurrencyError; no event is kept."""
    with store.unit_of_work() as uow:
        uow.deals.update(deal.changed(name="Acme, 60 seats"))
    with store.unit_of_work(actor="sam") as uow:
        with pytest.raises(ConcurrencyError):
            uow.deals.move(deal, "discovery", pipeline=default_sales_pipeline())
        assert uow.deals.get(deal.id).version == 2
    assert store.events() == []


def test_the_pipeline_must_be_a_pipeline_and_the_deals_own(store, deal):
    """Another pipeline or no pipeline names `pipeline`; no deal names `deal`."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.deals.move(deal, "discovery", pipeline=default_renewal_pipeline())
        assert caught.value.fields == ("pipeline",)
        assert str(caught.value) == "pipeline 'renewals' is not the deal's pipeline ('sales')"
        with pytest.raises(ValidationError) as caught:
            uow.deals.move(deal, "discovery", pipeline="sales")
        assert caught.value.fields == ("pipeline",)
        with pytest.raises(ValidationError) as caught:
            uow.deals.move(None, "discovery", pipeline=default_sales_pipeline())
        assert caught.value.fields == ("entity",)
        assert uow.deals.get(deal.id) == deal
    assert store.events() == []


def test_a_move_in_a_read_only_unit_of_work_is_refused(store, deal):
    """Moving writes, so a readonly unit of work refuses it and nothing changes."""
    from crmkit import StorageError

    with store.unit_of_work(readonly=True) as uow, pytest.raises(StorageError):
        uow.deals.move(deal, "discovery", pipeline=default_sales_pipeline())
    with store.unit_of_work(readonly=True) as uow:
        assert isinstance(uow.deals.get(deal.id), Deal)
        assert uow.deals.get(deal.id).stage == "prospecting"
