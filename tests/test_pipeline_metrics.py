import datetime as dt
import uuid

import attrs
import pytest

from crmkit import Activity, ActivityKind, ActivityOutcome, FixedClock, Task, ValidationError
from crmkit.pipelines import (
    CallStatus,
    Pipeline,
    call_status,
    days_open,
    default_sales_pipeline,
    record_call_status,
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


# -- edges (issue 19: mutation testing) ---------------------------------------------------


def test_a_deal_without_stage_history_has_spent_no_time_in_its_stage():
    """`time_in_current_stage` is exactly zero when the deal has no stays."""
    deal, clock = walk([])
    bare = attrs.evolve(deal, stage_history=())
    assert time_in_current_stage(bare, clock.now() + DAY) == dt.timedelta(0)


def test_stage_conversion_skips_other_pipelines_and_counts_each_stage_once_per_deal():
    """A foreign deal first changes nothing; a re-entered stage still lets later ones count."""
    foreign = attrs.evolve(walk(["discovery"])[0], pipeline="renewals")
    deals = [
        foreign,
        walk(["discovery", "prospecting", "proposal", "closed_won"])[0],
        walk(["discovery", "closed_won"])[0],
    ]
    by_stage = {c.stage: (c.entered, c.advanced, c.won) for c in stage_conversion(deals, SALES)}
    assert by_stage == {
        "prospecting": (2, 2, 2),
        "discovery": (2, 2, 2),
        "proposal": (1, 1, 1),
        "negotiation": (0, 0, 0),
        "decision": (0, 0, 0),
    }


def test_a_deal_idle_exactly_its_rotting_days_is_not_stale_yet():
    """Stale means idle for more than `rotting_days`: 14 days in discovery is still fine."""
    deal, clock = walk(["discovery"])
    assert stale_deals([deal], SALES, {}, clock.now() + 14 * DAY) == []
    [stale] = stale_deals([deal], SALES, {}, clock.now() + 14 * DAY + dt.timedelta(seconds=1))
    assert (stale.deal.id, stale.rotting_days) == (deal.id, 14)


def test_stale_deals_are_listed_idlest_first_and_skip_what_cannot_rot():
    """Closed, foreign and unknown-stage deals and stages without a limit are skipped."""
    no_limit = Pipeline(
        "sales",
        "Sales",
        [attrs.evolve(s, rotting_days=None) if s.key == "negotiation" else s for s in SALES.stages],
    )
    closed, _ = walk(["closed_lost"])
    foreign = attrs.evolve(walk(["discovery"])[0], pipeline="renewals")
    unknown = attrs.evolve(walk(["discovery"])[0], stage="nope")
    resting, _ = walk(["negotiation"])
    newer, clock = walk(["discovery"], days=1)
    older, _ = walk(["discovery"], days=1)
    bare = attrs.evolve(walk(["discovery"])[0], stage_history=())
    now = clock.now() + 20 * DAY
    last = {newer.id: clock.now() + 2 * DAY}
    deals = [closed, foreign, unknown, resting, newer, older, bare]
    stale = stale_deals(deals, no_limit, last, now)
    assert [(s.deal.id, round(s.idle_days, 6)) for s in stale] == [
        (bare.id, 21.0),
        (older.id, 20.0),
        (newer.id, 18.0),
    ]


def test_a_deal_closed_in_an_open_stage_has_call_status_closed():
    """A set `closed_at` alone is enough for CLOSED, whatever the stage."""
    deal, clock = walk(["discovery"])
    closed = attrs.evolve(deal, closed_at=clock.now())
    assert call_status(closed, SALES, activity(clock.now()), clock.now()) is CallStatus.CLOSED


def test_follow_up_is_due_once_the_latest_activity_is_older_than_the_stages_rotting_days():
    """Proposal rots after 10 days: exactly 10 days old is fine, one second more is not."""
    deal, clock = walk(["proposal"])
    now = clock.now()
    exactly = activity(now - 10 * DAY)
    later = activity(now - 10 * DAY - dt.timedelta(seconds=1))
    assert call_status(deal, SALES, exactly, now) is CallStatus.NEGOTIATION_PENDING
    assert call_status(deal, SALES, later, now) is CallStatus.FOLLOW_UP_NEEDED


def test_a_stage_without_rotting_days_waits_fourteen_days_for_a_follow_up():
    """With no `rotting_days` the limit is DEFAULT_FOLLOW_UP_DAYS (14)."""
    no_limit = Pipeline(
        "sales",
        "Sales",
        [attrs.evolve(s, rotting_days=None) if s.key == "proposal" else s for s in SALES.stages],
    )
    deal, clock = walk(["proposal"])
    now = clock.now()
    assert call_status(deal, no_limit, activity(now - 14 * DAY), now) is (
        CallStatus.NEGOTIATION_PENDING
    )
    assert call_status(deal, no_limit, activity(now - 15 * DAY), now) is (
        CallStatus.FOLLOW_UP_NEEDED
    )


# -- wrong arguments: a ValidationError naming each, never a raw Python error (issue 11) ----


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_stage_conversion_refuses_what_is_not_deals_or_a_pipeline():
    """``stage_conversion(None, None)`` was an AttributeError ('stages')."""
    deal, _clock = walk(["discovery"])
    refused(lambda: stage_conversion([deal], None), "pipeline")
    refused(lambda: stage_conversion(None, SALES), "deals")
    refused(lambda: stage_conversion(deal, SALES), "deals")
    refused(lambda: stage_conversion([deal, "d"], SALES), "deals[1]")


def test_stale_deals_refuses_what_is_not_deals_a_pipeline_or_a_mapping():
    """``stale_deals(now, b"", ...)`` was a TypeError (a datetime is not iterable)."""
    deal, _clock = walk(["discovery"])
    now = T0 + 90 * DAY
    refused(lambda: stale_deals(T0, SALES, {}, now), "deals")
    refused(lambda: stale_deals([deal], b"", {}, now), "pipeline")
    refused(lambda: stale_deals([None], SALES, {}, now), "deals[0]")
    refused(lambda: stale_deals([deal], SALES, [deal.id], now), "last_activity")
    refused(
        lambda: stale_deals([deal], SALES, {deal.id: "yesterday"}, now), f"last_activity[{deal.id}]"
    )
    assert [s.deal for s in stale_deals([deal], SALES, {deal.id: None}, now)] == [deal]


# -- call status follows the work: overdue tasks, scheduled follow-ups (issue 16) ----------

MICRO = dt.timedelta(microseconds=1)


def task(due: dt.datetime | None, status: str = "open") -> Task:
    return Task.create(title="Call", due_at=due, status=status, clock=FixedClock(due or T))


T = T0


def test_an_overdue_task_means_follow_up_needed_until_its_due_time_passes():
    """Due exactly now: not overdue (scheduled); a microsecond earlier: overdue."""
    discovery, clock = walk(["discovery"])
    now = clock.now()
    reached = activity(now)
    assert call_status(discovery, SALES, reached, now) is CallStatus.READY_FOR_PROPOSAL
    late = task(now - MICRO)
    assert call_status(discovery, SALES, reached, now, tasks=[late]) is (
        CallStatus.FOLLOW_UP_NEEDED
    )
    on_time = task(now)
    assert call_status(discovery, SALES, reached, now, tasks=[on_time]) is (
        CallStatus.READY_FOR_PROPOSAL
    )
    new, _ = walk([])
    assert call_status(new, SALES, None, now, tasks=[late]) is CallStatus.FOLLOW_UP_NEEDED


def test_a_scheduled_follow_up_covers_a_missed_call_or_a_quiet_deal():
    """No answer, or nothing for 15 days: follow-up needed, unless a task is scheduled."""
    discovery, clock = walk(["discovery"])
    now = clock.now()
    missed = activity(now, outcome="no_answer")
    old = activity(now - 15 * DAY)
    planned = task(now + DAY)
    for latest in (missed, old, None):
        assert call_status(discovery, SALES, latest, now) is CallStatus.FOLLOW_UP_NEEDED
        assert call_status(discovery, SALES, latest, now, tasks=[planned]) is (
            CallStatus.READY_FOR_PROPOSAL
        )
    new, _ = walk([])
    assert call_status(new, SALES, missed, now, tasks=[planned]) is CallStatus.FIRST_CONTACT


def test_done_cancelled_and_undated_tasks_change_nothing():
    discovery, clock = walk(["discovery"])
    now = clock.now()
    missed = activity(now, outcome="no_answer")
    ignored = [task(now - DAY, "done"), task(now - DAY, "cancelled"), task(None)]
    assert call_status(discovery, SALES, missed, now, tasks=ignored) is (
        CallStatus.FOLLOW_UP_NEEDED
    )
    for status in ("in_progress", "waiting"):
        assert call_status(discovery, SALES, missed, now, tasks=[task(now - DAY, status)]) is (
            CallStatus.FOLLOW_UP_NEEDED
        )
        assert call_status(discovery, SALES, missed, now, tasks=[task(now + DAY, status)]) is (
            CallStatus.READY_FOR_PROPOSAL
        )


def test_a_closed_deal_stays_closed_whatever_its_tasks():
    won, clock = walk(["closed_won"])
    now = clock.now()
    assert call_status(won, SALES, None, now, tasks=[task(now - DAY)]) is CallStatus.CLOSED


def test_a_record_outside_a_pipeline_reads_like_a_first_stage():
    """Never reached: first contact; reached: still first contact; missed, 15 days quiet
    (14 is the limit) or overdue: follow-up needed; scheduled: first contact."""
    now = T + 30 * DAY
    assert record_call_status(None, now) is CallStatus.FIRST_CONTACT
    assert record_call_status(activity(now), now) is CallStatus.FIRST_CONTACT
    assert record_call_status(activity(now - 14 * DAY), now) is CallStatus.FIRST_CONTACT
    quiet = activity(now - 14 * DAY - dt.timedelta(seconds=1))
    assert record_call_status(quiet, now) is CallStatus.FOLLOW_UP_NEEDED
    assert record_call_status(quiet, now, tasks=[task(now + DAY)]) is CallStatus.FIRST_CONTACT
    missed = activity(now, outcome="voicemail")
    assert record_call_status(missed, now) is CallStatus.FOLLOW_UP_NEEDED
    assert record_call_status(None, now, tasks=[task(now - DAY)]) is CallStatus.FOLLOW_UP_NEEDED


def test_bad_tasks_are_refused_by_position():
    discovery, clock = walk(["discovery"])
    with pytest.raises(ValidationError) as caught:
        call_status(discovery, SALES, None, clock.now(), tasks=[task(T), "a task"])
    assert caught.value.fields == ("tasks[1]",)
    with pytest.raises(ValidationError) as caught:
        record_call_status(None, clock.now(), tasks=5)  # type: ignore[arg-type]
    assert caught.value.fields == ("tasks",)
