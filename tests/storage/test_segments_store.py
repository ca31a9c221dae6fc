"""Segments through the store, on every adapter: find, count, paging, saved segments."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Activity, Contact, FixedClock, NotFoundError, SegmentError
from crmkit.conditions import BusinessCalendar, F
from crmkit.segments import parse

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(adapter):
    clock = FixedClock(NOW)
    store = adapter.make(clock)
    with store.unit_of_work(actor="sam") as uow:
        contacts = [
            Contact.create(
                first_name=f"P{i:02d}",
                country=["DE", "FR", None][i % 3],
                tags={"vip"} if i % 4 == 0 else (),
                created_at=NOW - dt.timedelta(days=i * 10),
                clock=clock,
            )
            for i in range(20)
        ]
        uow.contacts.add_many(contacts)
        uow.activities.add(
            Activity.create(kind="email", occurred_at=NOW, contact_id=contacts[1].id, clock=clock)
        )
    yield store
    store.close()


def ids(uow, segment, **options):
    return [c.first_name for c in uow.contacts.find(segment, **options)]


def test_find_streams_in_id_order_with_keyset_pages_and_count_agrees(store):
    segment = parse('country = "DE" or has tag "vip"')
    with store.unit_of_work() as uow:
        everyone = ids(uow, segment)
        assert everyone == sorted(everyone)
        assert uow.contacts.count(segment) == len(everyone) == 10
        assert ids(uow, segment, batch_size=2) == everyone
        assert ids(uow, segment, limit=3) == everyone[:3]
        third = next(iter(uow.contacts.find(segment, limit=3, batch_size=1)))
        after = [c.id for c in uow.contacts.find(segment)][2]
        assert ids(uow, segment, after=after) == everyone[3:]
        assert list(uow.contacts.find_ids(segment, limit=1)) == [third.id]
        assert uow.contacts.count() == 20  # the old form still counts everything


def test_archived_records_are_left_out_unless_asked_for(store):
    segment = F("country") == "DE"
    with store.unit_of_work() as uow:
        first = next(iter(uow.contacts.find(segment)))
        uow.contacts.archive(first)
        assert uow.contacts.count(segment) == 6
        assert uow.contacts.count(segment, include_archived=True) == 7


def test_relative_dates_follow_the_store_clock_and_its_business_calendar(store):
    with store.unit_of_work() as uow:
        assert uow.business_calendar == BusinessCalendar()
        assert uow.contacts.count(parse("created_at within 30 days")) == 4
        assert uow.contacts.count(parse("created_at more than 30 days ago")) == 16
        assert ids(uow, parse("last_activity_at within 0 days")) == ["P01"]
        uow.set_business_calendar(BusinessCalendar("Pacific/Kiritimati", 4))  # UTC+14
    with store.unit_of_work() as uow:
        assert uow.business_calendar == BusinessCalendar("Pacific/Kiritimati", 4)
        # today there is 15 May: 30 days back is 15 April, so P03 (44 days) stays out
        assert uow.contacts.count(parse("created_at within 30 days")) == 4


def test_saved_segments_dynamic_static_and_the_membership_diff(store):
    with store.unit_of_work(actor="sam") as uow:
        dynamic = uow.segments.save("germans", parse('country = "DE"'), description="DACH")
        assert dynamic.version == 1
        assert not dynamic.static
        frozen = uow.segments.save("vips", parse('has tag "vip"'), static=True)
        assert frozen.static
        assert frozen.member_count == 5
        assert frozen.evaluated_by == "sam"
        assert frozen.evaluated_at == NOW
        first = uow.segments.refresh("germans")
        assert len(first.joined) == 7
        assert first.left == ()
    with store.unit_of_work(actor="kim") as uow:
        assert [s.name for s in uow.segments.list()] == ["germans", "vips"]
        assert uow.segments.get("germans").condition == parse('country = "DE"')
        germans = list(uow.segments.members("germans"))
        leaving = uow.contacts.get(germans[0])
        uow.contacts.update(leaving.changed(country="AT"))
        newcomer = uow.contacts.get(next(uow.contacts.find_ids(F("country") == "FR")))
        uow.contacts.update(newcomer.changed(country="DE"))
        vip = uow.contacts.get(next(uow.segments.members("vips")))
        uow.contacts.update(vip.with_tags(remove=["vip"]))
        assert len(list(uow.segments.members("vips"))) == 5  # frozen: unchanged
        assert len(list(uow.segments.members("germans"))) == 7  # dynamic: evaluated now
        diff = uow.segments.refresh("germans")
        assert diff.joined == (newcomer.id,)
        assert diff.left == (leaving.id,)
        assert diff.after == NOW
        assert bool(diff)
        assert uow.segments.get("germans").evaluated_by == "kim"
        uow.segments.delete("vips")
        with pytest.raises(NotFoundError):
            uow.segments.get("vips")


def test_saving_a_segment_that_does_not_bind_writes_nothing(store):
    with store.unit_of_work() as uow:
        with pytest.raises(SegmentError, match="did you mean 'country'"):
            uow.segments.save("bad", parse("contry = 1"))
        assert uow.segments.list() == []


def test_find_wants_a_condition_and_user_values_never_reach_the_sql(store):
    nasty = "DE'); DROP TABLE contacts; --"
    with store.unit_of_work() as uow:
        with pytest.raises(SegmentError, match="parse"):
            list(uow.contacts.find('country = "DE"'))  # type: ignore[arg-type]
        assert uow.contacts.count(F("country") == nasty) == 0
        assert uow.contacts.count(F("custom.x") == nasty) == 0
        assert uow.contacts.count(F("first_name").contains("%")) == 0
        assert uow.contacts.count(F("first_name").starts_with("_")) == 0
        assert uow.contacts.count() == 20
