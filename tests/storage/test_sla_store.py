"""`sla_clocks` over a whole store: the same clocks on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Activity, FixedClock, Lead
from crmkit.conditions import BusinessCalendar
from crmkit.errors import NotFoundError
from crmkit.work import SlaPolicy, SlaState, first_touch_policy, sla_clocks

MONDAY_9 = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)  # a Monday; the store calendar is UTC
HOUR = dt.timedelta(hours=1)
POLICY = first_touch_policy("4h")


def test_every_live_lead_gets_its_clock_from_the_store(store):
    """Touched in time, never touched, paused, archived: each as its history says."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    clock.set(MONDAY_9)
    with store.unit_of_work() as uow:
        touched, silent, waiting, gone = (
            uow.leads.add(Lead.create(last_name=name, clock=clock))
            for name in ("Touched", "Silent", "Waiting", "Gone")
        )
        uow.activities.add(
            Activity.create(
                kind="email",
                direction="outbound",
                occurred_at=MONDAY_9 + HOUR,
                lead_id=touched.id,
                clock=clock,
            )
        )
        uow.activities.add(
            Activity.create(
                kind="email",
                direction="inbound",
                occurred_at=MONDAY_9 + HOUR,
                lead_id=silent.id,
                clock=clock,
            )
        )
    clock.advance(hours=2)
    with store.unit_of_work() as uow:
        uow.leads.update(uow.leads.get(waiting.id).changed(status="nurturing"))
        uow.leads.archive(uow.leads.get(gone.id))
    clock.advance(hours=4)  # 15:00
    clocks = {c.record_id: c for c in sla_clocks(store, POLICY)}
    assert set(clocks) == {touched.id, silent.id, waiting.id}
    assert (clocks[touched.id].state, clocks[touched.id].elapsed) == (SlaState.MET, HOUR)
    assert (clocks[silent.id].state, clocks[silent.id].elapsed) == (SlaState.BREACHED, 6 * HOUR)
    assert clocks[silent.id].breaches_at == MONDAY_9 + 4 * HOUR
    assert (clocks[waiting.id].state, clocks[waiting.id].elapsed) == (SlaState.PAUSED, 2 * HOUR)
    # Evaluated at an earlier instant, the history after it is ignored.
    earlier = {c.record_id: c for c in sla_clocks(store, POLICY, now=MONDAY_9 + 3 * HOUR)}
    assert (earlier[waiting.id].state, earlier[waiting.id].elapsed) == (SlaState.PAUSED, 2 * HOUR)
    assert earlier[silent.id].state is SlaState.WARNING
    before = {c.record_id: c for c in sla_clocks(store, POLICY, now=MONDAY_9 + 1.5 * HOUR)}
    assert before[waiting.id].state is SlaState.OK  # not yet nurturing
    assert before[touched.id].state is SlaState.MET


def test_a_policy_counts_in_the_calendar_it_names(store):
    """A named calendar with hours from 12:00 counts nothing before noon."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    clock.set(MONDAY_9)
    afternoon = BusinessCalendar(working_hours={"mon": "12:00-18:00"})
    with store.unit_of_work() as uow:
        uow.calendars.save("afternoons", afternoon)
        lead = uow.leads.add(Lead.create(last_name="Late", clock=clock))
    named = SlaPolicy.from_dict({**POLICY.to_dict(), "calendar": "afternoons"})
    (found,) = sla_clocks(store, named, now=MONDAY_9 + 5 * HOUR)
    assert (found.record_id, found.elapsed, found.state) == (lead.id, 2 * HOUR, SlaState.OK)
    missing = SlaPolicy.from_dict({**POLICY.to_dict(), "calendar": "nights"})
    with pytest.raises(NotFoundError):
        sla_clocks(store, missing)


def test_something_that_is_not_a_store_is_a_typed_error():
    """sla_clocks names its store argument."""
    from crmkit.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        sla_clocks("sqlite:///crm.db", POLICY)  # type: ignore[arg-type]
    assert caught.value.fields == ("store",)
