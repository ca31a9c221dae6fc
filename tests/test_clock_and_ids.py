import datetime as dt
import threading

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import FixedClock, SystemClock, ValidationError, new_id
from crmkit.ids import IdGenerator, uuid7_time_ms

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_fixed_clock_stands_still_and_moves_on_request():
    clock = FixedClock(T0)
    assert clock.now() == clock.now() == T0
    assert clock.advance(days=1, hours=2) == T0 + dt.timedelta(days=1, hours=2)
    clock.set(dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert clock.now() == dt.datetime(2030, 1, 1, 10, tzinfo=dt.UTC)
    assert clock.now().tzinfo is dt.UTC


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_fixed_clock_refuses_naive_datetimes_and_accepts_pendulum():
    refused(lambda: FixedClock(dt.datetime(2026, 1, 1)), "at")
    clock = FixedClock(pendulum.datetime(2026, 1, 1, 12, tz="Europe/Berlin"))
    assert clock.now() == dt.datetime(2026, 1, 1, 11, tzinfo=dt.UTC)
    assert type(clock.now()) is dt.datetime


def test_system_clock_is_utc():
    now = SystemClock().now()
    assert now.tzinfo is dt.UTC


def test_ids_are_uuid7_stamped_from_the_clock():
    ident = new_id(FixedClock(T0))
    assert ident.version == 7
    assert ident.variant == "specified in RFC 4122"
    assert uuid7_time_ms(ident) >= int(T0.timestamp() * 1000)


def test_ids_in_a_tight_loop_under_a_fixed_clock_are_unique_and_sorted():
    generator = IdGenerator()
    clock = FixedClock(T0)
    ids = [generator.next(clock) for _ in range(20_000)]  # > 4096: the counter borrows ms
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_ids_never_go_backwards_when_the_clock_does():
    generator = IdGenerator()
    clock = FixedClock(T0)
    first = generator.next(clock)
    clock.advance(seconds=-60)
    assert generator.next(clock) > first


def test_ids_from_many_threads_are_unique():
    generator = IdGenerator()
    clock = FixedClock(T0)
    out: list[list[object]] = [[] for _ in range(4)]

    def work(bucket: list[object]) -> None:
        bucket.extend(generator.next(clock) for _ in range(3000))

    threads = [threading.Thread(target=work, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for bucket in out for i in bucket]
    assert len(set(every)) == 12_000
    for bucket in out:
        assert bucket == sorted(bucket)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=50))
def test_ids_follow_the_clock(steps):
    generator = IdGenerator()
    clock = FixedClock(T0)
    ids = []
    for step in steps:
        clock.advance(seconds=step / 1000)
        ids.append(generator.next(clock))
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "instant",
    [
        dt.datetime(2001, 2, 3, 4, 5, 6, 789_000, tzinfo=dt.UTC),
        dt.datetime(2099, 12, 31, 23, 59, 59, 1_000, tzinfo=dt.UTC),
    ],
    ids=["past", "future"],
)
def test_an_id_carries_exactly_the_millisecond_of_the_injected_clock(instant):
    """A fresh generator stamps the clock's own millisecond, far from the wall clock either way."""
    ident = IdGenerator().next(FixedClock(instant))
    assert uuid7_time_ms(ident) == int(instant.timestamp() * 1000)


@pytest.mark.parametrize("at", [None, "2026-01-01T00:00:00Z", dt.date(2026, 1, 1), 1.5])
def test_fixed_clock_refuses_what_is_not_a_datetime_naming_at(at):
    """``FixedClock(None)`` was a TypeError: a wrong argument is a ValidationError now."""
    refused(lambda: FixedClock(at), "at")


def test_fixed_clock_refuses_an_instant_beyond_the_utc_range():
    """datetime.max at UTC-5 is in year 10000 in UTC: refused, not an OverflowError."""
    late = dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    refused(lambda: FixedClock(late), "at")


def test_fixed_clock_set_names_at():
    clock = FixedClock(T0)
    refused(lambda: clock.set(None), "at")
    assert clock.now() == T0


@pytest.mark.parametrize("clock", [[], "now", object(), FixedClock])
def test_new_id_refuses_what_is_not_a_clock_naming_clock(clock):
    """``new_id([])`` was an AttributeError ('list' object has no attribute 'now')."""
    error = refused(lambda: new_id(clock), "clock")
    assert "FixedClock" in str(error)
    refused(lambda: IdGenerator().next(clock), "clock")
