"""RFM recency on every adapter: the most recent buyers score 5, a lone buyer is not "lost".

Recency is whole 24-hour days elapsed from the last counted order to "as of", rounded down;
R ranks customers most recent first (ties share the best rank), ``5 - (5 * (rank - 1)) // n``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crmkit import Contact, FixedClock, Order
from crmkit.model.rfm import compute_rfm, rfm_recency_score
from crmkit.segments import RfmGroup, RfmScore

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


def scored(adapter, ages, *, as_of=None):
    """Score one contact per (age, total) in `ages`; return the contacts' ids and scores."""
    clock = FixedClock(NOW)
    store = adapter.make(clock)
    try:
        ids = []
        with store.unit_of_work(actor="test") as uow:
            for i, (age, total) in enumerate(ages):
                contact = uow.contacts.add(Contact.create(first_name=f"C{i}", clock=clock))
                uow.orders.add(
                    Order.create(
                        total=total,
                        currency="EUR",
                        placed_at=NOW - age,
                        contact_id=contact.id,
                        clock=clock,
                    )
                )
                ids.append(contact.id)
        with store.unit_of_work(readonly=True) as uow:
            scores = uow.orders.rfm(currency="EUR", as_of=as_of)
    finally:
        store.close()
    return ids, {s.record_id: s for s in scores}


def test_a_lone_customer_who_bought_today_is_a_new_customer_not_lost(adapter):
    """One customer, one order an hour ago: 0 days, R 5, F 1, M 1, new customers."""
    [ada], got = scored(adapter, [(dt.timedelta(hours=1), "10")])
    assert got == {ada: RfmScore(ada, 0, 1, Decimal(10), 5, 1, 1, RfmGroup.NEW_CUSTOMERS)}


def test_a_lone_customer_who_bought_long_ago_still_scores_5_among_one(adapter):
    """Scores are ranks among the customers scored: alone, 400 days ago is still the best R."""
    [ada], got = scored(adapter, [(dt.timedelta(days=400), "10")])
    assert got == {ada: RfmScore(ada, 400, 1, Decimal(10), 5, 1, 1, RfmGroup.NEW_CUSTOMERS)}


def test_customers_who_all_bought_on_the_same_day_share_r_5(adapter):
    """Three customers tied on recency, frequency and money: all 5-1-1."""
    ids, got = scored(adapter, [(dt.timedelta(days=10, hours=h), "25") for h in (1, 2, 3)])
    assert got == {i: RfmScore(i, 10, 1, Decimal(25), 5, 1, 1, RfmGroup.NEW_CUSTOMERS) for i in ids}


def test_today_against_400_days_ago(adapter):
    """Of two customers the recent one scores R 5, the one 400 days ago R 5 - 5 // 2 = 3."""
    (today, old), got = scored(
        adapter, [(dt.timedelta(hours=2), "10"), (dt.timedelta(days=400), "20")]
    )
    assert got == {
        today: RfmScore(today, 0, 1, Decimal(10), 5, 1, 1, RfmGroup.NEW_CUSTOMERS),
        old: RfmScore(old, 400, 1, Decimal(20), 3, 1, 3, RfmGroup.ABOUT_TO_SLEEP),
    }


def test_five_customers_on_five_days_score_5_to_1(adapter):
    """n = 5, distinct days: R 5, 4, 3, 2, 1 from the most recent; ties below share the best."""
    ages = [(dt.timedelta(days=d, hours=1), "10") for d in (0, 3, 30, 90, 365)]
    ids, got = scored(adapter, ages)
    assert [(got[i].recency_days, got[i].r) for i in ids] == [
        (0, 5),
        (3, 4),
        (30, 3),
        (90, 2),
        (365, 1),
    ]
    assert [got[i].group for i in ids] == [
        RfmGroup.NEW_CUSTOMERS,
        RfmGroup.PROMISING,
        RfmGroup.ABOUT_TO_SLEEP,
        RfmGroup.HIBERNATING,
        RfmGroup.LOST,
    ]


def test_two_of_five_tied_at_the_most_recent_day_both_score_5(adapter):
    """Ranks 1, 1, 3, 4, 5 of n = 5: R 5, 5, 3, 2, 1."""
    ages = [
        (dt.timedelta(days=d, hours=h), "10") for d, h in ((1, 1), (1, 5), (8, 1), (9, 1), (70, 1))
    ]
    ids, got = scored(adapter, ages)
    assert [got[i].r for i in ids] == [5, 5, 3, 2, 1]


@pytest.mark.parametrize(
    ("age", "days"),
    [
        (dt.timedelta(hours=23, minutes=59, seconds=59), 0),
        (dt.timedelta(hours=24), 1),
        (dt.timedelta(days=1, hours=23, minutes=59), 1),
        (dt.timedelta(days=2), 2),
        (dt.timedelta(days=400), 400),
        (dt.timedelta(seconds=-1), 0),  # placed after "as of"
        (dt.timedelta(days=-3), 0),
    ],
    ids=["23:59:59", "24h", "47:59", "48h", "400d", "1s later", "3d later"],
)
def test_recency_is_whole_24_hour_days_rounded_down(adapter, age, days):
    """Days are elapsed 24-hour periods, not calendar days: 23:59:59 is 0, 24 hours is 1."""
    [ada], got = scored(adapter, [(age, "10")])
    assert got[ada].recency_days == days
    assert got[ada].r == 5


def test_calendar_midnight_does_not_make_a_day(adapter):
    """An order at 23:00 scored at 01:00 the next day is 0 days old, not 1."""
    as_of = dt.datetime(2026, 5, 14, 1, 0, tzinfo=dt.UTC)
    [ada], got = scored(
        adapter, [(NOW - dt.datetime(2026, 5, 13, 23, 0, tzinfo=dt.UTC), "10")], as_of=as_of
    )
    assert got[ada].recency_days == 0


@pytest.mark.parametrize(
    ("rank", "n", "score"),
    [(1, 1, 5), (1, 2, 5), (2, 2, 3), (1, 3, 5), (2, 3, 4), (3, 3, 2), (1, 5, 5), (5, 5, 1)]
    + [
        (rank, 10, score)
        for rank, score in zip(range(1, 11), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1], strict=True)
    ],
)
def test_the_recency_score_mirrors_the_quantile(rank, n, score):
    """``5 - (5 * (rank - 1)) // n``: rank 1 is always 5; the last of 5 or more is 1."""
    assert rfm_recency_score(rank, n) == score


def test_compute_rfm_scores_a_lone_customer_5_1_1():
    """The Python formula the memory store uses: one row, R 5."""
    one = uuid.UUID(int=1)
    assert compute_rfm([(one, 0, 1, Decimal(10))]) == [(one, 0, 1, Decimal(10), 5, 1, 1)]
