"""A sales app's week on crmkit: people, calls and emails, a deal moving, and today's follow-ups.

What an app developer writes behind the screens of a CRM: record a company and its contacts,
log calls and emails as activities, open a deal in the default sales pipeline and move it
(the move, the stored deal and its event in one unit of work), create follow-up tasks with
due dates, list today's follow-ups (open tasks due today or overdue) with a segment, and
show a record's history.

Run it with ``python examples/app_developer.py [path.db]``; it writes ``app_developer.db``
(made anew each run) in the current folder unless given another path.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import crmkit
from crmkit import Activity, Company, Contact, FixedClock, Task, default_sales_pipeline
from crmkit.segments import parse

# Monday 23 November 2026, 09:00 UTC; the clock moves only when we move it.
clock = FixedClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))

path = Path(sys.argv[1] if len(sys.argv) > 1 else "app_developer.db")
for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
    leftover.unlink(missing_ok=True)

store = crmkit.open_store(f"sqlite:///{path}", clock=clock)
sales = default_sales_pipeline()

# -- Monday: a new account, two people, a first call and an email -----------------------
nordwind = Company.create(
    name="Nordwind Logistik GmbH", domain="nordwind-logistik.de", country="DE", clock=clock
)
ada = Contact.create(
    first_name="Ada",
    last_name="Brandt",
    email="ada.brandt@nordwind-logistik.de",
    phone="+49 40 3861 0021",
    title="Head of Operations",
    company_id=nordwind.id,
    clock=clock,
)
ben = Contact.create(
    first_name="Ben",
    last_name="Okafor",
    email="ben.okafor@nordwind-logistik.de",
    title="CFO",
    company_id=nordwind.id,
    clock=clock,
)
with store.unit_of_work(actor="sam@sales") as uow:  # all or nothing
    uow.companies.add(nordwind)
    uow.contacts.add_many([ada, ben])
    uow.activities.add(
        Activity.create(
            kind="call",
            direction="outbound",
            outcome="connected",
            duration=dt.timedelta(minutes=14),
            subject="Intro: route planning for 40 trucks",
            contact_id=ada.id,
            company_id=nordwind.id,
            owner="sam@sales",
            clock=clock,
        )
    )
    deal = uow.deals.add(
        sales.open_deal(
            name="Nordwind, route planning",
            amount="18000",
            currency="EUR",
            company_id=nordwind.id,
            contact_ids=[ada.id, ben.id],
            owner="sam@sales",
            by="sam@sales",
            clock=clock,
        )
    )
    clock.advance(minutes=30)
    uow.activities.add(
        Activity.create(
            kind="email",
            direction="outbound",
            outcome="sent",
            subject="Slides from our call",
            contact_id=ada.id,
            company_id=nordwind.id,
            deal_id=deal.id,
            owner="sam@sales",
            clock=clock,
        )
    )
print(f"Monday     {nordwind.name}: {ada.name}, {ben.name}; deal {deal.name!r} in {deal.stage}")

# -- Tuesday to Thursday: the deal moves; each move is the deal plus its event ----------
moves = [
    (1, "discovery", "needs: 40 trucks, two depots"),
    (2, "proposal", "quote sent: 18,000 EUR a year"),
]
for days, stage, note in moves:
    clock.advance(days=days)
    with store.unit_of_work(actor="sam@sales") as uow:
        moved = sales.move(deal, stage, by="sam@sales", note=note, clock=clock)
        deal = uow.deals.update(moved.deal)  # checks the version, keeps the stage history
        uow.record(moved.event)  # the outbox: stored in the same transaction
    print(f"{clock.now():%A}".ljust(11) + f"{moved.event.from_stage} -> {moved.event.to_stage}")

# -- Follow-up tasks, due on different days ---------------------------------------------
today = clock.now().date()  # Thursday 26 November 2026


def due(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


with store.unit_of_work(actor="sam@sales") as uow:
    uow.tasks.add_many(
        [
            Task.create(
                title="Send Ben the reference customers",
                due_at=due(today - dt.timedelta(days=1), 16),
                priority="high",
                contact_id=ben.id,
                deal_id=deal.id,
                assignee="sam@sales",
                clock=clock,
            ),
            Task.create(
                title="Call Ada about the quote",
                due_at=due(today, 15),
                contact_id=ada.id,
                deal_id=deal.id,
                assignee="sam@sales",
                clock=clock,
            ),
            Task.create(
                title="Book the depot visit",
                due_at=due(today, 11),
                status="done",
                contact_id=ada.id,
                assignee="sam@sales",
                clock=clock,
            ),
            Task.create(
                title="Prepare the contract draft",
                due_at=due(today + dt.timedelta(days=3), 9),
                deal_id=deal.id,
                assignee="sam@sales",
                clock=clock,
            ),
        ]
    )

# Today's follow-ups: not finished, and due before tomorrow starts (overdue ones included).
# The segment language has relative dates ("this day", "within 30 days") but no "today" or
# "tomorrow" as a value, so the day is written in; the store's business calendar (UTC until
# set) says when a day starts.
tomorrow = today + dt.timedelta(days=1)
follow_ups = parse(f'status in ("open", "in_progress", "waiting") and due_at before {tomorrow}')
with store.unit_of_work(readonly=True) as uow:
    tasks = sorted(uow.tasks.find(follow_ups), key=lambda task: task.due_at or clock.now())
    people = uow.contacts.get_many(t.contact_id for t in tasks if t.contact_id)
print(f"Follow-ups for {today:%A %d %B %Y} ({follow_ups}):")
for task in tasks:
    assert task.due_at is not None
    late = " OVERDUE" if task.due_at.date() < today else ""
    who = people[task.contact_id].name if task.contact_id else "-"
    print(f"  {task.due_at:%a %H:%M}  {task.priority:<6}  {task.title} ({who}){late}")

# -- What the CRM remembers ---------------------------------------------------------------
with store.unit_of_work(readonly=True) as uow:
    facts = uow.contacts.facts(ada.id)
    timeline = uow.activities.related(ada.id)
print(f"Ada's facts: {facts.activity_count} activities {dict(facts.activity_counts)}")
for activity in timeline:
    print(f"  {activity.occurred_at:%a %H:%M}  {activity.kind:<5}  {activity.subject}")

print(f"History of {deal.name!r} (version {deal.version}):")
for entry in store.history(deal.id):  # the audit trail, written with every change
    moved_stage = entry.change("stage")
    what = f"{moved_stage.old} -> {moved_stage.new}" if moved_stage else "the first version"
    fields = ", ".join(change.field for change in entry.changes) or "-"
    print(f"  {entry.at:%a %H:%M}  {entry.action:<7} by {entry.actor}: {what} (fields: {fields})")
print("Its stays:")
for stay in deal.stage_history:  # kept on the deal itself, with who moved it and why
    note = f"  {stay.note}" if stay.note else ""
    print(f"  {stay.entered_at:%a %H:%M}  {stay.stage:<11}  p={stay.probability}{note}")
print("Outbox:", ", ".join(f"{e.position} {e.event_type}" for e in store.events()))
store.close()
