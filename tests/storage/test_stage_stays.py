"""Deals' stage histories as a long table (`stage_stay_columns`), on every adapter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crmkit import Deal, Money, ValidationError, default_sales_pipeline
from crmkit.segments import parse, stage_stay_columns, to_pandas
from crmkit.segments.stage_stays import STAY_COLUMNS

from .adapters import T0


@pytest.fixture
def deals(store, clock):
    """Acme (prospecting 2 days, proposal 1.5 days, now in negotiation) and Zeta (new)."""
    sales = default_sales_pipeline()
    with store.unit_of_work(actor="sam") as uow:
        acme = uow.deals.add(sales.open_deal(name="Acme", clock=clock))
    clock.advance(days=2)
    with store.unit_of_work(actor="sam") as uow:
        acme = uow.deals.move(acme, "proposal", amount=Money.of("12000", "EUR"), note="demo").deal
    clock.advance(hours=36)
    with store.unit_of_work(actor="kim") as uow:
        acme = uow.deals.move(acme, "negotiation").deal
        zeta = uow.deals.add(sales.open_deal(name="Zeta", clock=clock))
    return acme, zeta


def test_each_stay_is_a_row_in_deal_and_move_order(store, deals):
    acme, zeta = deals
    with store.unit_of_work(readonly=True) as uow:
        columns = stage_stay_columns(uow.deals)
    assert list(columns) == list(STAY_COLUMNS)
    first, second = sorted([acme, zeta], key=lambda d: d.id)
    rows = list(zip(*columns.values(), strict=True))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        *((first.id, i, s) for i, s in enumerate(s.stage for s in first.stage_history)),
        *((second.id, i, s) for i, s in enumerate(s.stage for s in second.stage_history)),
    ]
    acme_rows = [dict(zip(STAY_COLUMNS, r, strict=True)) for r in rows if r[0] == acme.id]
    assert [(r["stage"], r["days"], r["moved_by"]) for r in acme_rows] == [
        ("prospecting", 2.0, "sam"),
        ("proposal", 1.5, "sam"),
        ("negotiation", None, "kim"),
    ]
    assert acme_rows[1] | {"deal_id": None} == {
        "deal_id": None,
        "pipeline": "sales",
        "seq": 1,
        "stage": "proposal",
        "entered_at": T0 + dt.timedelta(days=2),
        "left_at": T0 + dt.timedelta(days=3, hours=12),
        "days": 1.5,
        "moved_by": "sam",
        "amount": Decimal("12000"),
        "currency": "EUR",
        "expected_close": None,
        "probability": 0.4,
        "forecast_category": "best_case",
        "note": "demo",
    }
    assert acme_rows[0]["amount"] is None  # no amount when it entered prospecting


def test_a_segment_narrows_the_deals_and_held_deals_give_the_same_rows(store, deals):
    acme, _zeta = deals
    with store.unit_of_work(readonly=True) as uow:
        only_acme = stage_stay_columns(uow.deals, parse('name = "Acme"'))
        stored = list(uow.deals.iter())
        everything = stage_stay_columns(uow.deals)
    assert set(only_acme["deal_id"]) == {acme.id}
    assert len(only_acme["stage"]) == 3
    assert stage_stay_columns(list(reversed(stored))) == everything
    frame = to_pandas(everything)
    assert list(frame.columns) == list(STAY_COLUMNS)
    assert len(frame) == 4


def test_wrong_arguments_are_named(store, deals):
    with store.unit_of_work(readonly=True) as uow:
        for call, field in [
            (lambda: stage_stay_columns(None), "source"),
            (lambda: stage_stay_columns([deals[0], "deal"]), "source[1]"),
            (lambda: stage_stay_columns(list(deals), parse('name = "Acme"')), "segment"),
            (lambda: stage_stay_columns(uow.deals, 'name = "Acme"'), "segment"),
            (lambda: stage_stay_columns(uow.deals, include_archived=1), "include_archived"),
        ]:
            with pytest.raises(ValidationError) as caught:
                call()
            assert caught.value.fields == (field,)
    assert stage_stay_columns([]) == {name: [] for name in STAY_COLUMNS}
    assert isinstance(deals[0], Deal)
