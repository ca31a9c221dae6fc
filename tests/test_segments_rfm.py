"""RFM scoring rules: the quantile formula, the group grid, helpers and DataFrame hand-off."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import Contact, FixedClock, Order
from crmkit.definitions import MissingExtraError
from crmkit.model.rfm import compute_rfm, rfm_recency_score
from crmkit.segments import (
    RfmGroup,
    RfmScore,
    fetch_columns,
    rfm,
    rfm_columns,
    rfm_groups,
    rfm_quantile,
    to_pandas,
    to_polars,
)

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


def test_quantile_scores_run_from_1_to_5():
    assert [rfm_quantile(rank, 5) for rank in range(1, 6)] == [1, 2, 3, 4, 5]
    assert [rfm_quantile(rank, 10) for rank in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm_quantile(1, 1) == 1
    assert rfm_quantile(2, 3) == 2
    assert rfm_quantile(3, 3) == 4


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(1, 4), st.sampled_from([Decimal(0), Decimal("1.0")])
        ),
        min_size=1,
        max_size=30,
    )
)
def test_ties_share_a_score_and_better_never_scores_lower(values):
    rows = [(uuid.UUID(int=i), d, f, m) for i, (d, f, m) in enumerate(values)]
    scored = compute_rfm(rows)
    assert [row[0] for row in scored] == sorted(row[0] for row in rows)
    for a in scored:
        assert all(1 <= s <= 5 for s in a[4:])
        for b in scored:
            if a[1] == b[1]:
                assert a[4] == b[4]
            if a[1] < b[1]:  # more recent: at least as good a recency score
                assert a[4] >= b[4]
            if a[2] <= b[2]:
                assert a[5] <= b[5]
            if a[3] <= b[3]:
                assert a[6] <= b[6]


def test_all_equal_customers_score_5_for_recency_and_1_for_frequency_and_money():
    """Ties share a score: all bought on the same day (R 5), none bought more or for more."""
    rows = [(uuid.UUID(int=i), 3, 2, Decimal(5)) for i in range(7)]
    assert {row[4:] for row in compute_rfm(rows)} == {(5, 1, 1)}


@pytest.mark.parametrize(
    ("r", "f", "group"),
    [
        (5, 5, RfmGroup.CHAMPIONS),
        (5, 4, RfmGroup.CHAMPIONS),
        (4, 4, RfmGroup.LOYAL),
        (3, 5, RfmGroup.LOYAL),
        (5, 2, RfmGroup.POTENTIAL_LOYALIST),
        (4, 3, RfmGroup.POTENTIAL_LOYALIST),
        (5, 1, RfmGroup.NEW_CUSTOMERS),
        (4, 1, RfmGroup.PROMISING),
        (3, 3, RfmGroup.NEED_ATTENTION),
        (3, 1, RfmGroup.ABOUT_TO_SLEEP),
        (3, 2, RfmGroup.ABOUT_TO_SLEEP),
        (2, 3, RfmGroup.AT_RISK),
        (1, 4, RfmGroup.AT_RISK),
        (2, 5, RfmGroup.CANT_LOSE),
        (1, 5, RfmGroup.CANT_LOSE),
        (2, 1, RfmGroup.HIBERNATING),
        (2, 2, RfmGroup.HIBERNATING),
        (1, 1, RfmGroup.LOST),
        (1, 2, RfmGroup.LOST),
    ],
)
def test_group_grid(r, f, group):
    assert RfmGroup.of(r, f) is group


def test_every_group_is_on_the_grid_and_scores_are_checked():
    assert {RfmGroup.of(r, f) for r in range(1, 6) for f in range(1, 6)} == set(RfmGroup)
    with pytest.raises(ValueError, match="1 to 5"):
        RfmGroup.of(0, 3)


def _store():
    clock = FixedClock(NOW)
    store = crmkit.open_store("memory://", clock=clock)
    with store.unit_of_work() as uow:
        a = uow.contacts.add(Contact.create(first_name="A", clock=clock))
        b = uow.contacts.add(Contact.create(first_name="B", clock=clock))
        for days, contact in ((1, a), (3, a), (50, b)):
            uow.orders.add(
                Order.create(
                    total="10",
                    currency="EUR",
                    placed_at=NOW - dt.timedelta(days=days),
                    contact_id=contact.id,
                    clock=clock,
                )
            )
    return store, a, b


def test_helpers_group_and_tabulate_scores():
    store, a, b = _store()
    with store.unit_of_work(readonly=True) as uow:
        scores = rfm(uow, currency="EUR")
    # two customers: F and M ranks 1 and 2 of n = 2 score 1 and 1 + 5 * 1 // 2 = 3; recency
    # mirrors it, most recent first: 5 and 5 - 5 * 1 // 2 = 3
    assert scores == [
        RfmScore(a.id, 1, 2, Decimal(20), 5, 3, 3, RfmGroup.POTENTIAL_LOYALIST),
        RfmScore(b.id, 50, 1, Decimal(10), 3, 1, 1, RfmGroup.ABOUT_TO_SLEEP),
    ]
    groups = rfm_groups(reversed(scores))
    assert groups[RfmGroup.POTENTIAL_LOYALIST] == [a.id]
    assert groups[RfmGroup.ABOUT_TO_SLEEP] == [b.id]
    assert groups[RfmGroup.CHAMPIONS] == []
    columns = rfm_columns(scores)
    assert columns["group"] == ["potential_loyalist", "about_to_sleep"]
    assert columns["monetary"] == [Decimal(20), Decimal(10)]


def test_missing_dataframe_library_names_the_extra(monkeypatch):
    store, _a, _b = _store()
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    monkeypatch.setitem(sys.modules, "polars", None)
    with store.unit_of_work(readonly=True) as uow:
        with pytest.raises(MissingExtraError, match=r"crmkit\[pandas\]"):
            to_pandas(uow.contacts, ["first_name"])
        with pytest.raises(MissingExtraError, match=r"crmkit\[polars\]"):
            to_polars(uow.contacts, ["first_name"])


def test_rfm_scores_to_dataframes():
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    store, a, _b = _store()
    with store.unit_of_work(readonly=True) as uow:
        scores = rfm(uow, currency="EUR")
    frame = to_pandas(scores)
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["group"]) == ["potential_loyalist", "about_to_sleep"]
    assert frame["record_id"][0] == a.id
    small = to_polars(scores, ["record_id", "r", "monetary"])
    assert isinstance(small, polars.DataFrame)
    assert small.columns == ["record_id", "r", "monetary"]
    assert small["record_id"][0] == str(a.id)
    assert small["monetary"].to_list() == [Decimal(20), Decimal(10)]


# -- wrong arguments: a ValidationError naming each, never a raw Python error (issue 11) ----


def refused(call, *fields):
    with pytest.raises(crmkit.ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


@pytest.mark.parametrize(
    ("rank", "n", "fields"),
    [
        (None, None, ("n",)),
        (1, 0, ("n",)),
        (0, 3, ("rank",)),
        (4, 3, ("rank",)),
        (1.0, 3, ("rank",)),
    ],
)
def test_rfm_scores_of_a_rank_refuse_what_is_not_a_rank_among_n(rank, n, fields):
    """``rfm_quantile(None, None)`` was a TypeError."""
    refused(lambda: rfm_quantile(rank, n), *fields)
    refused(lambda: rfm_recency_score(rank, n), *fields)


def test_rfm_refuses_what_is_not_a_unit_of_work():
    """``rfm(None, currency=...)`` was an AttributeError ('orders')."""
    store, _a, _b = _store()
    refused(lambda: rfm(None, currency="EUR"), "uow")
    refused(lambda: rfm(store, currency="EUR"), "uow")


def test_rfm_helpers_refuse_what_is_not_a_collection_of_scores():
    """``rfm_groups(None)`` and ``rfm_columns(None)`` were TypeErrors."""
    score = RfmScore(uuid.UUID(int=1), 1, 1, Decimal(1), 5, 1, 1, RfmGroup.NEW_CUSTOMERS)
    for helper in (rfm_groups, rfm_columns):
        refused(lambda helper=helper: helper(None), "scores")
        refused(lambda helper=helper: helper(score), "scores")
        refused(lambda helper=helper: helper([score, {"r": 5}]), "scores[1]")


def test_fetching_columns_refuses_wrong_arguments_by_name():
    """``fetch_columns(None)`` was a TypeError from iterating None."""
    score = RfmScore(uuid.UUID(int=1), 1, 1, Decimal(1), 5, 1, 1, RfmGroup.NEW_CUSTOMERS)
    refused(lambda: fetch_columns(None), "source")
    refused(lambda: fetch_columns([score, None]), "source[1]")
    refused(lambda: fetch_columns({"a": 5}), "source.a")
    refused(lambda: fetch_columns({"a": [1], "b": [1, 2]}), "source")
    refused(lambda: fetch_columns({"a": [1]}, "a"), "columns")
    refused(lambda: fetch_columns({"a": [1]}, ["a", 5]), "columns[1]")
    refused(lambda: fetch_columns({"a": [1]}, segment="a = 1"), "segment")
    refused(lambda: fetch_columns({"a": [1]}, include_archived=None), "include_archived")
    assert fetch_columns(iter([score]), ["r"]) == {"r": [5]}
    assert fetch_columns({"a": (1, 2)}) == {"a": [1, 2]}


def test_to_polars_names_a_column_polars_cannot_hold():
    """``to_polars({"a": [1, "x"]})`` was polars' own TypeError."""
    pytest.importorskip("polars")
    error = refused(lambda: to_polars({"n": [1, 2], "mixed": [1, "x"]}), "mixed")
    assert "to_pandas keeps such values" in str(error)
    refused(lambda: to_polars({"big": [10**40]}), "big")
    assert to_polars({"n": [1, None]})["n"].to_list() == [1, None]
