"""Memory store reads of a kind the unit of work has not touched go straight to the committed rows.

`count`, `find` and `columns` then filter a snapshot of the committed rows instead of paging
through the transaction's view; these tests hold both ways to the same answers.
"""

from __future__ import annotations

import datetime as dt
import uuid

from crmkit import Contact, FixedClock
from crmkit.segments import parse
from crmkit.storage.memory import MemoryStore

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
VIP = parse("tags contains 'vip'")


def _store_with(n: int) -> tuple[MemoryStore, list[Contact]]:
    clock = FixedClock(T0)
    store = MemoryStore(clock=clock)
    # ids made out of order, so the committed rows are not in id order
    people = [
        Contact.create(
            first_name=f"P{i}",
            tags=["vip"] if i % 3 else [],
            id=uuid.UUID(int=(i * 7919) % 1000 + 1),
            clock=clock,
        )
        for i in range(n)
    ]
    with store.unit_of_work() as uow:
        uow.contacts.add_many(people)
        for person in people[::5]:
            uow.contacts.archive(uow.contacts.get(person.id))
    return store, people


def test_untouched_and_touched_reads_agree_in_order_and_count():
    store, people = _store_with(60)
    vip_live = sorted((p.id for i, p in enumerate(people) if i % 3 and i % 5), key=lambda u: u.int)
    vip_all = sorted((p.id for i, p in enumerate(people) if i % 3), key=lambda u: u.int)
    with store.unit_of_work(readonly=True) as uow:  # untouched: the direct path
        assert uow.contacts.count(VIP) == len(vip_live)
        assert uow.contacts.count() == 60 - 12
        assert uow.contacts.count(include_archived=True) == 60
        assert [c.id for c in uow.contacts.find(VIP)] == vip_live
        assert [c.id for c in uow.contacts.find(VIP, include_archived=True)] == vip_all
        assert [c.id for c in uow.contacts.find(VIP, after=vip_live[9])] == vip_live[10:]
        assert [c.id for c in uow.contacts.find(VIP, limit=3)] == vip_live[:3]
        assert uow.contacts.columns(["id"], VIP)["id"] == vip_live
    with store.unit_of_work() as uow:  # touched: the transaction's own view
        extra = uow.contacts.add(
            Contact.create(first_name="New", tags=["vip"], id=uuid.UUID(int=5000))
        )
        assert uow.contacts.count(VIP) == len(vip_live) + 1
        assert [c.id for c in uow.contacts.find(VIP)] == [*vip_live, extra.id]
        assert [c.id for c in uow.contacts.find(VIP, after=vip_live[9])] == [
            *vip_live[10:],
            extra.id,
        ]


def test_a_read_of_an_untouched_kind_sees_what_another_unit_of_work_committed():
    store, _people = _store_with(9)
    with store.unit_of_work(readonly=True) as reader:
        before = reader.contacts.count(VIP)
        with store.unit_of_work() as writer:
            writer.contacts.add(Contact.create(first_name="Late", tags=["vip"]))
        assert reader.contacts.count(VIP) == before + 1
