"""A deal's and a contact's call status read from the store agree with their tasks."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Activity, Contact, FixedClock, ValidationError
from crmkit.pipelines import CallStatus, default_sales_pipeline
from crmkit.work import complete, contact_call_status, deal_call_status, follow_up

MONDAY_10 = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)  # the store's calendar is UTC


@pytest.fixture
def people(store):
    """Ada on a new deal; Bob on no deal."""
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    clock.set(MONDAY_10)
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada", clock=clock))
        bob = uow.contacts.add(Contact.create(first_name="Bob", clock=clock))
        deal = uow.deals.add(
            default_sales_pipeline().open_deal(name="Ada's", contact_ids=[ada.id], clock=clock)
        )
    return ada, bob, deal


def statuses(store, ada, bob, deal):
    with store.unit_of_work(readonly=True) as uow:
        return (
            deal_call_status(uow, uow.deals.get(deal.id)),
            contact_call_status(uow, ada),
            contact_call_status(uow, bob),
        )


def test_the_status_follows_a_follow_up_from_scheduled_to_overdue_to_done(store, people):
    ada, bob, deal = people
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    first = CallStatus.FIRST_CONTACT
    assert statuses(store, ada, bob, deal) == (first, first, first)
    with store.unit_of_work() as uow:
        task = follow_up(uow, deal, "Call Ada", due_in=dt.timedelta(hours=2))
        follow_up(uow, bob, "Call Bob", due_in=dt.timedelta(hours=2))
    clock.set(task.due_at)  # due now: still scheduled
    assert statuses(store, ada, bob, deal) == (first, first, first)
    clock.advance(seconds=1)  # overdue: the deal, its contact and Bob need a follow-up
    late = CallStatus.FOLLOW_UP_NEEDED
    assert statuses(store, ada, bob, deal) == (late, late, late)
    with store.unit_of_work() as uow:
        done = complete(uow, uow.tasks.get(task.id))
    assert done.activity is not None
    assert done.activity.deal_id == deal.id
    # Done: the deal's latest activity is the completion (reached), Bob's task is still late.
    assert statuses(store, ada, bob, deal) == (first, first, late)


def test_a_missed_call_needs_a_follow_up_unless_one_is_scheduled(store, people):
    ada, bob, deal = people
    with store.unit_of_work() as uow:
        uow.activities.add(
            Activity.create(
                kind="call", outcome="no_answer", occurred_at=MONDAY_10, contact_id=bob.id
            )
        )
    late, first = CallStatus.FOLLOW_UP_NEEDED, CallStatus.FIRST_CONTACT
    assert statuses(store, ada, bob, deal)[2] is late
    with store.unit_of_work() as uow:
        follow_up(uow, bob, "Try again", due_in_days=1)
    assert statuses(store, ada, bob, deal)[2] is first


def test_a_contact_shows_its_most_urgent_open_deal_and_ignores_closed_ones(store, people):
    """Two deals: one moved on (ready for proposal), one new (first contact): first contact
    is the more urgent; once the new one is lost, the other shows."""
    ada, _bob, deal = people
    sales = default_sales_pipeline()
    clock: FixedClock = store.clock  # type: ignore[attr-defined]
    with store.unit_of_work() as uow:
        other = sales.open_deal(name="Ada's second", contact_ids=[ada.id], clock=clock)
        other = uow.deals.add(sales.move(other, "discovery", clock=clock).deal)
        uow.activities.add(
            Activity.create(
                kind="call", outcome="connected", occurred_at=MONDAY_10, deal_id=other.id
            )
        )
    with store.unit_of_work(readonly=True) as uow:
        assert deal_call_status(uow, uow.deals.get(other.id)) is CallStatus.READY_FOR_PROPOSAL
        assert contact_call_status(uow, ada) is CallStatus.FIRST_CONTACT
    with store.unit_of_work() as uow:
        stored = uow.deals.get(deal.id)
        uow.deals.update(sales.move(stored, "closed_lost", lost_reason="price", clock=clock).deal)
    with store.unit_of_work(readonly=True) as uow:
        assert deal_call_status(uow, uow.deals.get(deal.id)) is CallStatus.CLOSED
        assert contact_call_status(uow, ada) is CallStatus.READY_FOR_PROPOSAL


def test_call_status_arguments_are_checked(store, people):
    ada, _bob, deal = people
    with store.unit_of_work(readonly=True) as uow:
        with pytest.raises(ValidationError) as caught:
            deal_call_status(uow, ada)  # type: ignore[arg-type]
        assert caught.value.fields == ("deal",)
        with pytest.raises(ValidationError) as caught:
            contact_call_status(uow, deal)  # type: ignore[arg-type]
        assert caught.value.fields == ("contact",)
        with pytest.raises(ValidationError) as caught:
            contact_call_status(uow, ada, now=dt.datetime(2026, 1, 1))  # naive
        assert caught.value.fields == ("now",)
