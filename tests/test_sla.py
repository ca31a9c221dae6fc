"""Service-level clocks from records, activities and history, in business time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import Activity, FixedClock, Lead
from crmkit.conditions import BusinessCalendar
from crmkit.errors import ValidationError
from crmkit.pipelines import default_sales_pipeline
from crmkit.storage.protocol import FieldChange, HistoryEntry
from crmkit.work import (
    BusinessTime,
    SlaPolicy,
    SlaState,
    first_touch_policy,
    sla_clock,
    sla_summary,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessTime(BusinessCalendar(time_zone="Europe/Berlin"))  # Mon-Fri 09:00-17:00
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)

FIRST_TOUCH = first_touch_policy("4h")  # the outbound first touch, paused while nurturing


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in the week of Monday 30 November 2026, Berlin time."""
    return (
        dt.datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)
        if day <= 30
        else dt.datetime(2026, 12, day - 30, hour, minute, tzinfo=BERLIN)
    )


def lead_created(at: dt.datetime) -> Lead:
    return Lead.create(last_name="Lovelace", company_name="Analytical", clock=FixedClock(at))


def touch(lead: Lead, at: dt.datetime, direction: str = "outbound") -> Activity:
    return Activity.create(
        kind="call", occurred_at=at, direction=direction, lead_id=lead.id, clock=FixedClock(at)
    )


def clock_of(record, now, activities=(), history=(), policy=FIRST_TOUCH):
    return sla_clock(
        policy, record, business=OFFICE, now=now, activities=activities, history=history
    )


def test_a_running_clock_is_ok_then_warns_then_breaches_past_the_target():
    """Created Monday 10:00: ok until 13:00, warning from 13:00 to 14:00, breached after."""
    lead = lead_created(berlin(30, 10))
    assert clock_of(lead, berlin(30, 13) - SECOND).state is SlaState.OK
    at_warning = clock_of(lead, berlin(30, 13))
    assert at_warning.state is SlaState.WARNING
    assert at_warning.elapsed == 3 * HOUR
    assert clock_of(lead, berlin(30, 14)).state is SlaState.WARNING  # exactly the target
    late = clock_of(lead, berlin(30, 14) + SECOND)
    assert late.state is SlaState.BREACHED
    assert late.warns_at == berlin(30, 13)
    assert late.breaches_at == berlin(30, 14)
    assert late.stopped_at is None
    assert late.started_at == berlin(30, 10)


def test_the_clock_counts_business_time_only():
    """Created Friday 16:00: 1 hour on Friday, breach on Monday at 12:00."""
    lead = lead_created(berlin(27, 16))
    clock = clock_of(lead, berlin(28, 12))  # Saturday
    assert clock.elapsed == HOUR
    assert clock.state is SlaState.OK
    assert clock.breaches_at == berlin(30, 12)
    assert clock.warns_at == berlin(30, 11)


def test_the_first_outbound_activity_stops_the_clock_in_time():
    """An outbound call at 11:30 meets the target; inbound, earlier and later ones do not count."""
    lead = lead_created(berlin(30, 10))
    other = lead_created(berlin(30, 9))
    activities = [
        touch(lead, berlin(30, 10, 15), "inbound"),
        touch(lead, berlin(30, 9, 30)),  # before the clock started
        touch(other, berlin(30, 10, 30)),  # another lead's
        touch(lead, berlin(30, 11, 30)),
        touch(lead, berlin(30, 12)),
    ]
    clock = clock_of(lead, berlin(30, 16), activities)
    assert clock.state is SlaState.MET
    assert clock.stopped_at == berlin(30, 11, 30)
    assert clock.elapsed == dt.timedelta(hours=1, minutes=30)
    assert clock.breaches_at is None  # never reached: moot
    # Evaluated before the call, the clock still runs.
    assert clock_of(lead, berlin(30, 11), activities).state is SlaState.OK


def test_a_late_first_touch_is_a_breach_that_stays_stopped():
    """Created Monday 10:00, first call Tuesday 10:00: 8 business hours, breached."""
    lead = lead_created(berlin(30, 10))
    clock = clock_of(lead, berlin(32, 9), [touch(lead, berlin(31, 10))])
    assert clock.state is SlaState.BREACHED
    assert clock.stopped_at == berlin(31, 10)
    assert clock.elapsed == 8 * HOUR
    assert clock.breaches_at == berlin(30, 14)


def test_a_met_clock_at_exactly_the_target_is_met():
    """A touch exactly 4 business hours after the start is on time."""
    lead = lead_created(berlin(30, 10))
    assert clock_of(lead, berlin(30, 15), [touch(lead, berlin(30, 14))]).state is SlaState.MET
    late = clock_of(lead, berlin(30, 15), [touch(lead, berlin(30, 14) + SECOND)])
    assert late.state is SlaState.BREACHED


def _status_change(lead: Lead, at: dt.datetime, old: str, new: str) -> HistoryEntry:
    return HistoryEntry(
        lead.id, "lead", 2, "updated", "sam", at, (FieldChange("status", old, new),)
    )


def test_time_waiting_on_the_customer_does_not_count():
    """Nurturing from 11:00 to 15:00 pauses the clock: 1 h before, 1 h after = 2 h at 16:00."""
    lead = lead_created(berlin(30, 10))
    history = [
        _status_change(lead, berlin(30, 11), "new", "nurturing"),
        _status_change(lead, berlin(30, 15), "nurturing", "working"),
    ]
    clock = clock_of(lead, berlin(30, 16), history=history)
    assert clock.elapsed == 2 * HOUR
    assert clock.state is SlaState.OK
    assert clock.breaches_at == berlin(31, 10)  # 2 h left at 16:00: 1 h Monday, 1 h Tuesday
    paused = clock_of(lead, berlin(30, 12), history=history)
    assert paused.state is SlaState.PAUSED
    assert paused.elapsed == HOUR
    assert paused.breaches_at is None  # unknowable while paused
    assert paused.warns_at is None


def test_a_clock_paused_from_before_its_start_counts_nothing_until_resumed():
    """A lead imported as nurturing: its clock counts from the change back to working."""
    lead = lead_created(berlin(30, 10))
    history = [_status_change(lead, berlin(30, 13), "nurturing", "working")]
    assert clock_of(lead, berlin(30, 14), history=history).elapsed == HOUR


def _deal_through_proposal():
    pipeline = default_sales_pipeline()
    deal = pipeline.open_deal(
        name="Acme", amount="5000", currency="EUR", clock=FixedClock(berlin(30, 9))
    )
    deal = pipeline.move(deal, "proposal", clock=FixedClock(berlin(30, 10))).deal
    left = pipeline.move(deal, "negotiation", clock=FixedClock(berlin(31, 11))).deal
    return deal, left


PROPOSAL = SlaPolicy.from_dict(
    {
        "name": "proposal_followed_up",
        "applies_to": "deal",
        "start": {"on": "stage_entered", "stage": "proposal"},
        "stop": {"on": "stage_left"},
        "target": "16h",
        "warn_at": 0.5,
    }
)


def test_a_stage_clock_runs_from_entering_to_leaving_the_stage():
    """In proposal from Monday 10:00 to Tuesday 11:00: 9 business hours, met."""
    in_proposal, moved_on = _deal_through_proposal()
    running = clock_of(in_proposal, berlin(31, 10), policy=PROPOSAL)
    assert (running.state, running.elapsed) == (SlaState.WARNING, 8 * HOUR)
    assert running.breaches_at == berlin(32, 10)
    done = clock_of(moved_on, berlin(32, 12), policy=PROPOSAL)
    assert (done.state, done.elapsed, done.stopped_at) == (SlaState.MET, 9 * HOUR, berlin(31, 11))
    assert clock_of(moved_on, berlin(30, 9, 30), policy=PROPOSAL) is None  # not yet entered


def test_a_clock_of_a_record_that_never_started_is_none():
    """A deal that never entered the stage has no clock."""
    deal = default_sales_pipeline().open_deal(name="X", clock=FixedClock(berlin(30, 9)))
    assert clock_of(deal, berlin(30, 12), policy=PROPOSAL) is None


def test_field_changed_triggers_start_and_stop_from_history():
    """Working → qualified within 8 business hours: started and stopped by status changes."""
    policy = SlaPolicy.from_dict(
        {
            "name": "qualify_fast",
            "applies_to": "lead",
            "start": {"on": "field_changed", "field": "status", "to": ["working"]},
            "stop": {"on": "field_changed", "field": "status", "to": ["qualified", "unqualified"]},
            "target": "8h",
        }
    )
    lead = lead_created(berlin(30, 9))
    history = [
        _status_change(lead, berlin(30, 11), "new", "working"),
        _status_change(lead, berlin(31, 12), "working", "qualified"),
    ]
    clock = clock_of(lead, berlin(32, 9), history=history, policy=policy)
    assert (clock.started_at, clock.stopped_at) == (berlin(30, 11), berlin(31, 12))
    assert (clock.elapsed, clock.state) == (9 * HOUR, SlaState.BREACHED)
    assert clock_of(lead, berlin(30, 10), history=history, policy=policy) is None


def test_clocks_from_a_real_store_history(tmp_path):
    """The history a SQLite store keeps drives the pause; the activities come from the store."""
    clock = FixedClock(berlin(30, 10).astimezone(dt.UTC))
    with crmkit.open_store(f"sqlite:///{tmp_path / 'crm.db'}", clock=clock) as store:
        with store.unit_of_work() as uow:
            lead = uow.leads.add(lead_created(berlin(30, 10)))
        clock.advance(hours=1)
        with store.unit_of_work() as uow:
            uow.leads.update(uow.leads.get(lead.id).changed(status="nurturing"))
        clock.advance(hours=4)
        with store.unit_of_work() as uow:
            uow.leads.update(uow.leads.get(lead.id).changed(status="working"))
            uow.activities.add(touch(lead, berlin(30, 16)))
        with store.unit_of_work(readonly=True) as uow:
            stored = uow.leads.get(lead.id)
            activities = list(uow.activities.related(lead.id))
        result = sla_clock(
            FIRST_TOUCH,
            stored,
            business=OFFICE,
            now=berlin(31, 9),
            activities=activities,
            history=store.history(lead.id),
        )
    assert (result.state, result.elapsed, result.stopped_at) == (
        SlaState.MET,
        2 * HOUR,
        berlin(30, 16),
    )


# -- policies as data --------------------------------------------------------------------------


def test_a_policy_round_trips_through_its_dict_form():
    """to_dict / from_dict keep every part."""
    assert SlaPolicy.from_dict(FIRST_TOUCH.to_dict()) == FIRST_TOUCH
    assert SlaPolicy.from_dict(PROPOSAL.to_dict()) == PROPOSAL
    assert FIRST_TOUCH.to_dict()["target"] == "4h0m"


def test_a_bad_policy_lists_every_problem_at_once():
    """Unknown keys, names, kinds, triggers, fields, targets and shares are all named."""
    with pytest.raises(ValidationError) as caught:
        SlaPolicy.from_dict(
            {
                "name": "First Touch",
                "applies_to": "lead",
                "start": {"on": "stage_entered"},
                "stop": {"on": "activity", "where": "direction = = 1"},
                "target": "four hours",
                "warn_at": 1.5,
                "pause": {"field": "mood", "values": ["grumpy"]},
                "colour": "red",
            }
        )
    assert set(caught.value.fields) == {
        "colour",
        "name",
        "start.on",
        "start.stage",
        "stop.where",
        "target",
        "warn_at",
        "pause.field",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applies_to": "order"}, "applies_to"),
        ({"stop": {"on": "stage_left"}}, "stop.on"),
        ({"start": {"on": "never"}}, "start.on"),
        ({"target": "0m"}, "target"),
        ({"target": 4}, "target"),
        ({"warn_at": True}, "warn_at"),
        ({"calendar": ""}, "calendar"),
        ({"start": {"on": "field_changed", "field": "status", "to": "working"}}, "start.to"),
    ],
)
def test_each_bad_part_is_named(change, field):
    """One wrong part at a time: the error names it."""
    with pytest.raises(ValidationError) as caught:
        SlaPolicy.from_dict({**FIRST_TOUCH.to_dict(), **change})
    assert field in caught.value.fields


def test_wrong_arguments_are_typed_errors():
    """A record of another kind, a naive now or a non-policy: ValidationError naming it."""
    deal = default_sales_pipeline().open_deal(name="X", clock=FixedClock(berlin(30, 9)))
    lead = lead_created(berlin(30, 10))
    with pytest.raises(ValidationError) as caught:
        clock_of(deal, berlin(30, 12))
    assert caught.value.fields == ("record",)
    with pytest.raises(ValidationError) as caught:
        clock_of(lead, dt.datetime(2026, 11, 30, 12))
    assert caught.value.fields == ("now",)
    with pytest.raises(ValidationError) as caught:
        sla_clock({"name": "x"}, lead, business=OFFICE, now=berlin(30, 12))  # type: ignore[arg-type]
    assert caught.value.fields == ("policy",)
    with pytest.raises(ValidationError):
        SlaPolicy.from_dict("first_touch")  # type: ignore[arg-type]


def test_activities_and_history_must_be_collections_of_them():
    """Anything else in them is a ValidationError naming the item."""
    lead = lead_created(berlin(30, 10))
    with pytest.raises(ValidationError) as caught:
        clock_of(lead, berlin(30, 12), activities=[touch(lead, berlin(30, 11)), "call"])
    assert caught.value.fields == ("activities[1]",)
    with pytest.raises(ValidationError) as caught:
        clock_of(lead, berlin(30, 12), history=5)
    assert caught.value.fields == ("history",)


_ORDER = [SlaState.OK, SlaState.WARNING, SlaState.BREACHED]


@given(
    created=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2030, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    steps=st.lists(
        st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)), max_size=6
    ),
)
def test_a_running_clock_counts_business_time_and_its_state_only_moves_forward(created, steps):
    """Without stops or pauses: elapsed is the business time since creation; ok → warning →
    breached, in that order, and each happens exactly at warns_at / breaches_at."""
    lead = lead_created(created)
    now, seen = created, []
    for step in steps:
        now += step
        clock = clock_of(lead, now)
        assert clock.elapsed == OFFICE.between(created, now)
        assert OFFICE.between(created, clock.breaches_at) == FIRST_TOUCH.target
        assert OFFICE.between(created, clock.warns_at) == FIRST_TOUCH.target * 0.75
        expected = (
            SlaState.BREACHED
            if clock.elapsed > FIRST_TOUCH.target
            else SlaState.WARNING
            if clock.elapsed >= FIRST_TOUCH.target * 0.75
            else SlaState.OK
        )
        assert clock.state is expected
        seen.append(_ORDER.index(clock.state))
    assert seen == sorted(seen)


def test_a_clock_evaluated_in_the_past_reads_the_value_the_field_had_then():
    """The lead is nurturing today since 11:00; at 10:30 its clock was running, not paused."""
    lead = lead_created(berlin(30, 10)).changed(status="nurturing")
    history = [_status_change(lead, berlin(30, 11), "new", "nurturing")]
    then = clock_of(lead, berlin(30, 10, 30), history=history)
    assert (then.state, then.elapsed) == (SlaState.OK, dt.timedelta(minutes=30))
    assert clock_of(lead, berlin(30, 12), history=history).state is SlaState.PAUSED


def test_clocks_count_per_owner_and_state():
    """sla_summary: every state present, owners sorted, no owner under '(none)'."""
    anna = lead_created(berlin(30, 10)).changed(owner="anna")
    ben = lead_created(berlin(30, 10)).changed(owner="ben")
    nobody = lead_created(berlin(30, 10))
    clocks = [
        clock_of(anna, berlin(30, 16)),  # breached
        clock_of(anna, berlin(30, 11)),  # ok
        clock_of(ben, berlin(30, 13)),  # warning
        clock_of(nobody, berlin(30, 16), [touch(nobody, berlin(30, 11))]),  # met
    ]
    assert [c.owner for c in clocks] == ["anna", "anna", "ben", None]
    summary = sla_summary(clocks)
    assert list(summary) == ["(none)", "anna", "ben"]
    assert summary["anna"] == {"ok": 1, "warning": 0, "breached": 1, "met": 0, "paused": 0}
    assert summary["ben"]["warning"] == 1
    assert summary["(none)"]["met"] == 1
    assert sla_summary(clocks, "team") == {
        "(none)": {"ok": 1, "warning": 1, "breached": 1, "met": 1, "paused": 0}
    }
    with pytest.raises(ValidationError) as caught:
        sla_summary(clocks, "region")
    assert caught.value.fields == ("by",)
    with pytest.raises(ValidationError) as caught:
        sla_summary([*clocks, "clock"])
    assert caught.value.fields == ("clocks[4]",)
