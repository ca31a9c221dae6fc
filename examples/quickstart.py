"""crmkit in one page: a company, a contact, a deal and an order, validated and printed.

Run it with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import datetime as dt

from crmkit import Company, Contact, Deal, FixedClock, Money, Order, ValidationError

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

print(f"Company  {acme.name}  domain={acme.domain}  employees={acme.employees}")
print(f"Contact  {ada.name} <{ada.email}>  phone={ada.phone.international if ada.phone else '-'}")
print(f"         match key {ada.email.match_key if ada.email else '-'}, tags {sorted(ada.tags)}")
print(f"Deal     {deal.name}  {deal.stage}  {deal.amount}  closes {deal.expected_close}")
print(f"Order    {len(order.lines)} line(s), total {order.total}")
print(f"Sum      {deal.amount + order.total if deal.amount else '-'}")
print(f"Ids are time-ordered UUIDv7: {acme.id} < {ada.id} is {acme.id < ada.id}")

clock.advance(days=1)
promoted = ada.changed(title="COO", clock=clock)
print(f"Changed  title {ada.title!r} -> {promoted.title!r}, updated {promoted.updated_at:%Y-%m-%d}")

try:
    Contact.create(first_name="Bob", email="bob@@example", phone="12", country="DE")
except ValidationError as error:
    print("Refused:")
    for problem in error.problems:
        print(f"  - {problem}")

assert Money.of("0.10", "EUR") + Money.of("0.20", "EUR") == Money.of("0.30", "EUR")
