"""Relative-date segments through the store against hand-worked members, on every adapter.

The adapter-equivalence property compares SQL with memory, but both resolve their bounds with
the same `bounds()`: here the expected members are written out by hand instead, with records
on both sides of each boundary.
"""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Contact, Deal, FixedClock
from crmkit.conditions import BusinessCalendar
from crmkit.segments import parse

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=UTC)  # a Thursday
JUST_BEFORE = dt.timedelta(microseconds=1)

# name -> created_at
CREATED = {
    "eve of": dt.datetime(2026, 1, 1, tzinfo=UTC) - JUST_BEFORE,
    "midnight": dt.datetime(2026, 1, 1, tzinfo=UTC),
    "end of day": dt.datetime(2026, 1, 2, tzinfo=UTC) - JUST_BEFORE,
    "next day": dt.datetime(2026, 1, 2, tzinfo=UTC),
    "30 days ago, 00:00": dt.datetime(2026, 4, 14, tzinfo=UTC),
    "30 days ago, eve": dt.datetime(2026, 4, 14, tzinfo=UTC) - JUST_BEFORE,
    "now": NOW,
    "just after now": NOW + JUST_BEFORE,
}
# name -> expected_close (a date)
CLOSING = {
    "dec 31": dt.date(2025, 12, 31),
    "jan 1": dt.date(2026, 1, 1),
    "jan 2": dt.date(2026, 1, 2),
    "apr 13": dt.date(2026, 4, 13),
    "apr 14": dt.date(2026, 4, 14),
    "today": dt.date(2026, 5, 14),
    "tomorrow": dt.date(2026, 5, 15),
}


@pytest.fixture
def store(adapter):
    clock = FixedClock(NOW)
    store = adapter.make(clock)
    with store.unit_of_work() as uow:
        uow.contacts.add_many(
            Contact.create(first_name=name, created_at=at, clock=clock)
            for name, at in CREATED.items()
        )
        uow.deals.add_many(
            Deal.create(
                name=name, pipeline="sales", stage="prospecting", expected_close=day, clock=clock
            )
            for name, day in CLOSING.items()
        )
    yield store
    store.close()


def _contacts(store, text):
    with store.unit_of_work(readonly=True) as uow:
        return {c.first_name for c in uow.contacts.find(parse(text))}


def _deals(store, text):
    with store.unit_of_work(readonly=True) as uow:
        return {d.name for d in uow.deals.find(parse(text))}


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ("created_at before 2026-01-01", {"eve of"}),
        (
            "created_at after 2026-01-01",
            {"next day", "30 days ago, 00:00", "30 days ago, eve", "now", "just after now"},
        ),
        ("created_at within 30 days", {"30 days ago, 00:00", "now"}),
        (
            "created_at more than 30 days ago",
            {"eve of", "midnight", "end of day", "next day", "30 days ago, eve"},
        ),
    ],
)
def test_instants_fall_on_the_documented_side_of_each_boundary(store, text, members):
    """Each instant lands where docs/segments say, a microsecond either side of the bound."""
    assert _contacts(store, text) == members


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ("expected_close before 2026-01-01", {"dec 31"}),
        ("expected_close after 2026-01-01", {"jan 2", "apr 13", "apr 14", "today", "tomorrow"}),
        ("expected_close within 30 days", {"apr 14", "today"}),
        ("expected_close more than 30 days ago", {"dec 31", "jan 1", "jan 2", "apr 13"}),
    ],
)
def test_dates_fall_on_the_documented_side_of_each_boundary(store, text, members):
    """Each date lands where docs/segments say: the bound's own day on the right side."""
    assert _deals(store, text) == members


def test_before_a_day_uses_the_start_of_that_day_in_the_business_calendar(store):
    """In Berlin, 2026-01-01 starts at 23:00 UTC on Dec 31: the eve's last microsecond is after."""
    with store.unit_of_work() as uow:
        uow.set_business_calendar(BusinessCalendar("Europe/Berlin"))
    assert _contacts(store, "created_at before 2026-01-01") == set()
    assert _deals(store, "expected_close before 2026-01-01") == {"dec 31"}
