"""crmkit in one page: a company, a contact, a deal and an order, stored in SQLite and read back.

Run it with ``python examples/quickstart.py [path.db]``; it writes ``quickstart.db`` (made
anew each run) in the current folder unless given another path.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import crmkit
from crmkit import Activity, Company, Contact, Deal, FixedClock, Money, Order, ValidationError

clock = FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC))

acme = Company.create(
    name="Acme GmbH",
    domain="https://www.Acme.de/",
    country="DE",
    employees=250,
    industry="Software",
    clock=clock,
)
ada = Contact.create(
    first_name="Ada",
    last_name="Lovelace",
    email="Ada@Acme.de",
    phone="030 901820",
    country="DE",
    title="Head of Operations",
    company_id=acme.id,
    tags={"vip"},
    clock=clock,
)
deal = Deal.create(
    name="Acme, 50 seats",
    pipeline="sales",
    stage="prospecting",
    amount="12000",
    currency="EUR",
    expected_close="2027-01-31",
    company_id=acme.id,
    contact_ids=[ada.id],
    clock=clock,
)
order = Order.create(
    contact_id=ada.id,
    company_id=acme.id,
    lines=[{"description": "Seat licence", "quantity": 50, "unit_price": "240.00"}],
    currency="EUR",
    clock=clock,
)

path = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart.db")
for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
    leftover.unlink(missing_ok=True)

call = Activity.create(
    kind="call",
    outcome="connected",
    duration=540,
    contact_id=ada.id,
    company_id=acme.id,
    clock=clock,
)
with crmkit.open_store(f"sqlite:///{path}", clock=clock) as store:
    with store.unit_of_work(actor="sam@sales") as uow:  # all or nothing
        uow.companies.add(acme)
        uow.contacts.add(ada)
        uow.deals.add(deal)
        uow.orders.add(order)
        uow.activities.add(call)

# A new store object on the same file: everything comes back exactly as it went in.
with crmkit.open_store(f"sqlite:///{path}", clock=clock) as store:
    with store.unit_of_work(actor="sam@sales", readonly=True) as uow:
        acme = uow.companies.find_by_domain("www.acme.de")[0]
        ada = uow.contacts.find_by_email("ADA@acme.de")[0]
        deal = uow.deals.related(acme.id)[0]
        order = uow.orders.related(ada.id)[0]
        facts = uow.contacts.facts(ada.id)
    print(f"Stored in {path}: {acme.name}, {ada.name}, {deal.name}, one order, one call")
    last = f"{facts.last_activity_at:%Y-%m-%d}" if facts.last_activity_at else "never"
    print(f"Facts    {ada.name}: {facts.activity_count} activity, last {last},")
    print(f"         {facts.order_count} order, {facts.order_total('EUR')} spent")

print(f"Company  {acme.name}  domain={acme.domain}  employees={acme.employees}")
print(f"Contact  {ada.name} <{ada.email}>  phone={ada.phone.international if ada.phone else '-'}")
print(f"         match key {ada.email.match_key if ada.email else '-'}, tags {sorted(ada.tags)}")
print(f"Deal     {deal.name}  {deal.stage}  {deal.amount}  closes {deal.expected_close}")
print(f"Order    {len(order.lines)} line(s), total {order.total}")
print(f"Sum      {deal.amount + order.total if deal.amount else '-'}")
print(f"Ids are time-ordered UUIDv7: {acme.id} < {ada.id} is {acme.id < ada.id}")

clock.advance(days=1)
with crmkit.open_store(f"sqlite:///{path}", clock=clock) as store:
    with store.unit_of_work(actor="sam@sales") as uow:
        promoted = uow.contacts.update(ada.changed(title="COO", clock=clock))
    change = store.history(ada.id)[-1]
print(f"Changed  title {ada.title!r} -> {promoted.title!r} (version {promoted.version});")
print(f"         history: {change.action} by {change.actor}: {change.changes[0]}")

try:
    Contact.create(first_name="Bob", email="bob@@example", phone="12", country="DE")
except ValidationError as error:
    print("Refused:")
    for problem in error.problems:
        print(f"  - {problem}")

assert Money.of("0.10", "EUR") + Money.of("0.20", "EUR") == Money.of("0.30", "EUR")
