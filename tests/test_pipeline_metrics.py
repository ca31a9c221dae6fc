import datetime as dt
import uuid

import pytest

from crmkit import Activity, ActivityKind, ActivityOutcome, FixedClock
from crmkit.pipelines import (
    CallStatus,
    call_status,
    days_open,
    default_sales_pipeline,
    stage_conversion,
    stale_deals,
    time_in_current_stage,
    time_in_stages,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
SALES = default_sales_pipeline()
DAY = dt.timedelta(days=1)


def walk(path, *, days=1, **fields):
    """Open a deal and move it along `path`, waiting `days` before each move."""
    clock = FixedClock(T0)
    deal = SALES.open_deal(name="d", clock=clock, amount="1000", currency="EUR", **fields)
    for stage in path:
        clock.advance(days=days)
        extra = {"lost_reason": "price"} if stage == "closed_lost" else {}
        extra |= {"expected_close": "2026-12-31"} if stage == "decision" else {}
        if deal.closed_at is not None:
            deal = SALES.reopen(deal, stage, clock=clock).deal
        else:
            deal = SALES.move(deal, stage, clock=clock, **extra).deal
    return deal, clock


def test_time_in_stage_sums_every_stay():
    deal, clock = walk(["discovery", "prospecting", "discovery", "proposal"], days=2)
    now = clock.now() + 3 * DAY
    totals = time_in_stages(deal, now)
    assert totals == {"prospecting": 4 * DAY, "discovery": 4 * DAY, "proposal": 3 * DAY}
    assert time_in_current_stage(deal, now) == 3 * DAY
    assert sum(totals.values(), dt.timedelta(0)) == now - deal.created_at


def test_days_open_stops_when_the_deal_closes():
    deal, clock = walk(["proposal", "closed_won"], days=5)
    assert days_open(deal, clock.now() + 100 * DAY) == 10.0
    open_deal, clock = walk(["proposal"], days=2)
    assert days_open(open_deal, clock.now() + DAY) == 3.0


def test_stage_conversion_counts_entries_advances_and_wins():
    deals = [
        walk(["discovery", "proposal", "closed_won"])[0],
        walk(["discovery", "closed_lost"])[0],
        walk(["proposal", "negotiation"])[0],  # skipped discovery
        walk(["discovery", "prospecting", "discovery"])[0],  # entered twice: counts once
        walk([])[0],
    ]
    by_stage = {c.stage: c for c in stage_conversion(deals, SALES)}
    assert set(by_stage) == {"prospecting", "discovery", "proposal", "negotiation", "decision"}
    assert (by_stage["prospecting"].entered, by_stage["prospecting"].advanced) == (5, 4)
    assert by_stage["prospecting"].won == 1
    assert (by_stage["discovery"].entered, by_stage["discovery"].advanced) == (3, 1)
    assert (by_stage["proposal"].entered, by_stage["proposal"].advanced) == (2, 2)
    assert by_stage["proposal"].win_rate == 0.5
    assert by_stage["decision"].entered == 0
    assert by_stage["decision"].advance_rate is None


def test_stale_deals_use_the_later_of_activity_and_stage_entry():
    quiet, clock = walk(["discovery"], days=1)  # discovery rots after 14 days
    busy, _ = walk(["discovery"], days=1)
    fresh, _ = walk(["proposal"], days=1)  # proposal rots after 10 days
    closed, _ = walk(["closed_lost"], days=1)
    now = clock.now() + 15 * DAY
    last = {busy.id: now - 2 * DAY, fresh.id: None}
    stale = stale_deals([quiet, busy, fresh, closed], SALES, last, now)
    assert [s.deal.id for s in stale] == [quiet.id, fresh.id]
    assert stale[0].idle_days == pytest.approx(15.0)
    assert stale[0].rotting_days == 14


def activity(at, outcome=ActivityOutcome.CONNECTED):
    return Activity.create(
        kind=ActivityKind.CALL,
        occurred_at=at,
        outcome=outcome,
        deal_id=uuid.uuid4(),
        clock=FixedClock(at),
    )


def test_call_status_rules():
    new, clock = walk([])
    now = clock.now()
    assert call_status(new, SALES, None, now) is CallStatus.FIRST_CONTACT
    assert call_status(new, SALES, activity(now), now) is CallStatus.FIRST_CONTACT
    assert (
        call_status(new, SALES, activity(now, ActivityOutcome.NO_ANSWER), now)
        is CallStatus.FOLLOW_UP_NEEDED
    )
    discovery, clock = walk(["discovery"])
    now = clock.now()
    assert call_status(discovery, SALES, None, now) is CallStatus.FOLLOW_UP_NEEDED
    assert call_status(discovery, SALES, activity(now), now) is CallStatus.READY_FOR_PROPOSAL
    old = activity(now - 15 * DAY)
    assert call_status(discovery, SALES, old, now) is CallStatus.FOLLOW_UP_NEEDED
    for path in (["proposal"], ["negotiation"], ["decision"]):
        deal, clock = walk(path)
        status = call_status(deal, SALES, activity(clock.now()), clock.now())
        assert status is CallStatus.NEGOTIATION_PENDING
    won, clock = walk(["closed_won"])
    assert call_status(won, SALES, None, clock.now()) is CallStatus.CLOSED
