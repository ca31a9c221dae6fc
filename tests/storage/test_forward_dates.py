"""Forward-looking dates (`within the next`, `before/after today/now`) find the same members
on every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import FixedClock, Task, default_sales_pipeline
from crmkit.segments import parse

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)  # a Thursday
TODAY = dt.datetime(2026, 5, 14, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)

DUE = {  # name -> due_at
    "yesterday_last": TODAY - US,
    "today_first": TODAY,
    "just_before_now": NOW - US,
    "now": NOW,
    "just_after_now": NOW + US,
    "today_last": TODAY + dt.timedelta(days=1) - US,
    "tomorrow_first": TODAY + dt.timedelta(days=1),
    "day_7_last": TODAY + dt.timedelta(days=8) - US,
    "day_8_first": TODAY + dt.timedelta(days=8),
}


@pytest.fixture
def store(adapter):
    with adapter.make(FixedClock(NOW)) as store:
        yield store


@pytest.fixture
def tasks(store):
    with store.unit_of_work() as uow:
        made = uow.tasks.add_many([Task.create(title=n, due_at=d) for n, d in DUE.items()])
    return {t.title: t.id for t in made}


def members(store, text, repo="tasks"):
    with store.unit_of_work(readonly=True) as uow:
        found = getattr(uow, repo).find(parse(text))
        return {getattr(r, "title", None) or r.name for r in found}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "due_at within the next 7 days",
            {"now", "just_after_now", "today_last", "tomorrow_first", "day_7_last"},
        ),
        ("due_at within the next 0 days", {"now", "just_after_now", "today_last"}),
        ("due_at before today", {"yesterday_last"}),
        ("due_at after today", {"tomorrow_first", "day_7_last", "day_8_first"}),
        ("due_at before now", {"yesterday_last", "today_first", "just_before_now"}),
        (
            "due_at after now",
            {"just_after_now", "today_last", "tomorrow_first", "day_7_last", "day_8_first"},
        ),
        ("not due_at before now", set(DUE) - {"yesterday_last", "today_first", "just_before_now"}),
    ],
)
def test_forward_looking_instants_on_both_sides_of_each_bound(store, tasks, text, expected):
    """Each bound is inclusive or exclusive as documented, to the microsecond."""
    assert members(store, text) == expected


def test_forward_looking_dates_compare_days(store):
    """On a date field, `within the next 7 days` is today to the 7th day; today is neither
    before nor after today."""
    pipeline = default_sales_pipeline()
    days = {f"d{n}": TODAY.date() + dt.timedelta(days=n) for n in (-1, 0, 1, 7, 8)}
    with store.unit_of_work() as uow:
        uow.deals.add_many([pipeline.open_deal(name=n, expected_close=d) for n, d in days.items()])
    assert members(store, "expected_close within the next 7 days", "deals") == {
        "d0",
        "d1",
        "d7",
    }
    assert members(store, "expected_close before today", "deals") == {"d-1"}
    assert members(store, "expected_close after today", "deals") == {"d1", "d7", "d8"}
    assert members(store, "expected_close before now", "deals") == {"d-1"}
    assert members(store, "expected_close after now", "deals") == {"d1", "d7", "d8"}


def test_the_text_form_round_trips(store):
    """`str` prints what `parse` reads, and the dict form loads back equal."""
    from crmkit.conditions import condition_from_dict

    for text in (
        "due_at within the next 7 days",
        "due_at before today",
        "due_at after now",
        "due_at within the next 1 week",
    ):
        condition = parse(text)
        assert str(condition) == text
        assert condition_from_dict(condition.to_dict()) == condition
    assert parse("due_at within next 2 weeks") == parse("due_at within the next 2 weeks")
