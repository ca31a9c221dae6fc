"""The query plans of related-record segments, where the planner's choice is stable.

Beside a cheaper condition, a count of related records is a correlated probe of the related
table's ``(link, time, id)`` index, evaluated after that condition; standing alone it is one
uncorrelated sub-query. SQLite has no statistics, so its plans follow the SQL's shape alone
and are asserted in full; PostgreSQL's depend on statistics, so only the shape is asserted
(a SubPlan or not) after ``ANALYZE``. Every adapter, memory too, counts the same members.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crmkit import Activity, Company, Contact, Deal, FixedClock
from crmkit.conditions import BusinessCalendar
from crmkit.conditions.binding import bind
from crmkit.ids import IdGenerator
from crmkit.segments import parse
from crmkit.storage.protocol import Store
from crmkit.storage.sql.compile import compile_segment
from crmkit.values.enums import ActivityKind

from .adapters import T0, Adapter

PROBED = (
    'country = "DE" and at least 2 activities where (kind = "email" and occurred_at within 30 days)'
)
ALONE = 'at least 2 activities where (kind = "email" and occurred_at within 30 days)'
WON = 'country = "DE" and at least 1 deals where (pipeline = "sales" and stage = "closed_won")'
WITH_COMPANY = (
    'at least 2 activities where (kind = "email" and occurred_at within 30 days)'
    ' and company.industry = "software"'
)


@pytest.fixture
def filled(store: Store) -> Store:
    ids, clock = IdGenerator(), FixedClock(T0)
    companies = [
        Company(id=ids.next(clock), created_at=T0, updated_at=T0, name=f"C{i}", industry=industry)
        for i, industry in enumerate(["software", "retail"] * 10)
    ]
    people = [
        Contact(
            id=ids.next(clock),
            created_at=T0,
            updated_at=T0,
            first_name=f"P{i}",
            country="DE" if i % 10 == 0 else "FR",
            company_id=companies[i % 20].id,
        )
        for i in range(400)
    ]
    activities = [
        Activity(
            id=ids.next(clock),
            created_at=T0,
            updated_at=T0,
            kind=ActivityKind.EMAIL if j % 2 else ActivityKind.CALL,
            occurred_at=T0 - dt.timedelta(days=j * 7),
            contact_id=person.id,
        )
        for person in people
        for j in range(10)
    ]
    deals = [
        Deal(
            id=ids.next(clock),
            created_at=T0,
            updated_at=T0,
            name=f"D{i}",
            pipeline="sales",
            stage="closed_won" if i % 2 == 0 else "proposal",
            contact_ids=(person.id,),
        )
        for i, person in enumerate(people[:100])
    ]
    with store.unit_of_work() as uow:
        uow.companies.add_many(companies)
        uow.contacts.add_many(people)
        uow.activities.add_many(activities)
        uow.deals.add_many(deals)
    return store


def _query(store: Any, text: str) -> tuple[str, list[Any]]:
    where, params = compile_segment(
        bind(parse(text), "contact"), store.dialect, T0, BusinessCalendar()
    )
    return f"SELECT count(*) FROM contacts t0 WHERE {where} AND t0.archived_at IS NULL", params


def _sqlite_plan(adapter: Adapter, store: Store, text: str) -> list[str]:
    sql, params = _query(store, text)
    with sqlite3.connect(adapter.url_of(store).removeprefix("sqlite:///")) as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def _postgres_plan(adapter: Adapter, store: Store, text: str) -> str:
    import psycopg

    url = adapter.url_of(store)
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    sql, params = _query(store, text)
    with psycopg.connect(url.split("?")[0]) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("ANALYZE")
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))


def test_a_count_beside_a_cheaper_condition_probes_the_index_after_it(adapter, filled):
    if adapter.name == "sqlite":
        assert _sqlite_plan(adapter, filled, PROBED) == [
            "SCAN t0",
            "CORRELATED SCALAR SUBQUERY 1",
            "SEARCH t1 USING INDEX ix_activities_contact_id_occurred_at_id"
            " (contact_id=? AND occurred_at>? AND occurred_at<?)",
        ]
        # The company is a list built once; the activities are probed per contact.
        assert _sqlite_plan(adapter, filled, WITH_COMPANY) == [
            "SCAN t0",
            "LIST SUBQUERY 1",
            "SCAN t1",
            "CORRELATED SCALAR SUBQUERY 2",
            "SEARCH t2 USING INDEX ix_activities_contact_id_occurred_at_id"
            " (contact_id=? AND occurred_at>? AND occurred_at<?)",
        ]
        # Through the link table first, whatever index the deals have.
        assert _sqlite_plan(adapter, filled, WON) == [
            "SCAN t0",
            "CORRELATED SCALAR SUBQUERY 1",
            "SEARCH t1l USING INDEX ix_deal_contacts_contact_id (contact_id=?)",
            "SEARCH t1 USING INDEX sqlite_autoindex_deals_1 (id=?)",
        ]
    elif adapter.name == "postgres":
        plan = _postgres_plan(adapter, filled, PROBED)
        assert "SubPlan 1" in plan
        assert "ix_activities_contact_id_occurred_at_id" in plan
    with filled.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count(parse(PROBED)) == 40
        assert uow.contacts.count(parse(WITH_COMPANY)) == 200
        assert uow.contacts.count(parse(WON)) == 10


def test_a_count_standing_alone_is_one_uncorrelated_group(adapter, filled):
    if adapter.name == "sqlite":
        assert _sqlite_plan(adapter, filled, ALONE) == [
            "SEARCH t0 USING INDEX sqlite_autoindex_contacts_1 (id=?)",
            "LIST SUBQUERY 1",
            "SEARCH t1 USING INDEX ix_activities_contact_id_occurred_at_id (contact_id>?)",
        ]
    elif adapter.name == "postgres":
        assert "SubPlan" not in _postgres_plan(adapter, filled, ALONE)
    with filled.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count(parse(ALONE)) == 400
