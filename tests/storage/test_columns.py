"""Column fetches (`Repository.columns`): plain values, no entity built, the same everywhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

import crmkit
from crmkit import Activity, Company, Contact, Deal, FixedClock, Order, StoredScore
from crmkit.errors import ValidationError
from crmkit.model.registry import KINDS
from crmkit.segments import parse, to_pandas, to_polars
from crmkit.storage.columns import column_specs, plain_column_value

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


def load(store):
    """Store a varied data set (fixed ids, so every adapter holds the same records)."""
    clock = FixedClock(NOW)
    with store.unit_of_work(actor="test") as uow:
        acme = uow.companies.add(
            Company.create(
                name="Acme",
                domain="acme.de",
                annual_revenue="1200000.50",
                currency="EUR",
                address={"city": "Berlin", "postal_code": "10115"},
                tags={"b2b", "vip"},
                custom={"tier": "gold", "since": dt.date(2020, 1, 2)},
                external_ids={"hubspot": "7"},
                id="01900000-0000-7000-8000-000000000001",
                clock=clock,
            )
        )
        bare = uow.companies.add(
            Company.create(name="Bare", id="01900000-0000-7000-8000-000000000002", clock=clock)
        )
        ada = uow.contacts.add(
            Contact.create(
                first_name="Ada",
                emails=["Ada@Acme.de", "ada@home.example"],
                phone="+49 30 901820",
                company_id=acme.id,
                country="DE",
                tags={"vip"},
                lifecycle_stage="customer",
                custom={"seats": 5, "ratio": Decimal("2.50"), "plan": "pro", "flags": {"a", "b"}},
                id="01900000-0000-7000-8000-000000000011",
                clock=clock,
            )
        )
        bob = uow.contacts.add(
            Contact.create(first_name="Bob", id="01900000-0000-7000-8000-000000000012", clock=clock)
        )
        gone = uow.contacts.add(
            Contact.create(
                first_name="Gone",
                country="DE",
                id="01900000-0000-7000-8000-000000000013",
                clock=clock,
            )
        )
        uow.contacts.archive(gone)
        uow.deals.add(
            Deal.create(
                name="Big",
                pipeline="sales",
                stage="proposal",
                amount="12000",
                currency="EUR",
                expected_close=dt.date(2026, 6, 30),
                contact_ids=[ada.id, bob.id],
                company_id=acme.id,
                probability_override="0.4",
                id="01900000-0000-7000-8000-000000000021",
                clock=clock,
            )
        )
        uow.deals.add(
            Deal.create(
                name="Small",
                pipeline="sales",
                stage="prospecting",
                id="01900000-0000-7000-8000-000000000022",
                clock=clock,
            )
        )
        uow.activities.add(
            Activity.create(
                kind="call",
                occurred_at=NOW - dt.timedelta(days=2),
                duration=dt.timedelta(minutes=5, microseconds=7),
                outcome="connected",
                contact_id=ada.id,
                id="01900000-0000-7000-8000-000000000031",
                clock=clock,
            )
        )
        uow.orders.add(
            Order.create(
                lines=[{"description": "Seat", "quantity": "2", "unit_price": "9.99"}],
                currency="EUR",
                placed_at=NOW - dt.timedelta(days=1),
                contact_id=ada.id,
                company_id=bare.id,
                id="01900000-0000-7000-8000-000000000041",
                clock=clock,
            )
        )
        uow.scores.put_many([StoredScore(ada.id, "engagement", 42, NOW)])


def every_column(kind):
    return [f.name for f in attrs.fields(KINDS[kind].cls) if f.name != "stage_history"]


def fetch_all(store, **options):
    with store.unit_of_work(readonly=True) as uow:
        return {
            kind: uow.repository(kind).columns(every_column(kind), batch_size=1, **options)
            for kind in KINDS
        }


def test_columns_are_the_entities_plain_values(adapter):
    store = adapter.make(FixedClock(NOW))
    try:
        load(store)
        got = fetch_all(store, include_archived=True)
        with store.unit_of_work(readonly=True) as uow:
            for kind in KINDS:
                entities = list(uow.repository(kind).iter(include_archived=True))
                specs = column_specs(KINDS[kind], every_column(kind))
                expected = {
                    spec.name: [plain_column_value(spec, getattr(e, spec.field)) for e in entities]
                    for spec in specs
                }
                assert got[kind] == expected, kind
                assert list(got[kind]) == [spec.name for spec in specs]
    finally:
        store.close()
    contacts = got["contact"]
    assert contacts["lifecycle_stage"][0] == "customer"
    assert contacts["tags"] == [["vip"], [], []]
    assert contacts["custom"][0] == {
        "flags": ["a", "b"],
        "plan": "pro",
        "ratio": "2.50",
        "seats": 5,
    }
    assert contacts["emails"][0][1] == "ada@home.example"
    assert contacts["emails"][1] == []
    companies = got["company"]
    assert companies["annual_revenue"] == [Decimal("1200000.50"), None]
    assert companies["annual_revenue_currency"] == ["EUR", None]
    assert companies["address"][1] is None
    assert got["activity"]["duration"] == [dt.timedelta(minutes=5, microseconds=7)]
    assert got["order"]["total"] == [Decimal("19.98")]


def test_every_adapter_gives_the_same_columns(adapter):
    memory = crmkit.open_store("memory://", clock=FixedClock(NOW))
    store = adapter.make(FixedClock(NOW))
    try:
        load(memory)
        load(store)
        assert fetch_all(store) == fetch_all(memory)
        segment = parse('country = "DE" or has tag "vip"')
        names = [
            "id",
            "first_name",
            "facts.order_count",
            "facts.last_activity_at",
            "facts.activity_count",
            "facts.last_order_at",
            "score.engagement",
            "score.fit",
        ]
        results = []
        for each in (memory, store):
            with each.unit_of_work(readonly=True) as uow:
                results.append(
                    (
                        uow.contacts.columns(names, segment, batch_size=1),
                        uow.contacts.columns(names, segment, include_archived=True),
                        uow.contacts.columns(["first_name"]),
                    )
                )
        assert results[0] == results[1]
    finally:
        memory.close()
        store.close()
    live, everyone, plain = results[1]
    assert live["first_name"] == ["Ada"]
    assert everyone["first_name"] == ["Ada", "Gone"]
    assert plain == {"first_name": ["Ada", "Bob"]}
    assert live["facts.order_count"] == [1]
    assert everyone["facts.order_count"] == [1, 0]
    assert live["facts.activity_count"] == [1]
    assert live["facts.last_order_at"] == [NOW - dt.timedelta(days=1)]
    assert live["score.engagement"] == [42.0]
    assert live["score.fit"] == [None]


def test_unknown_columns_are_refused_all_at_once(adapter):
    store = adapter.make(FixedClock(NOW))
    try:
        with store.unit_of_work(readonly=True) as uow:
            with pytest.raises(ValidationError) as caught:
                uow.contacts.columns(["first_name", "contry", "facts.nope", "stage_history"])
            assert [p.value for p in caught.value.problems] == [
                "contry",
                "facts.nope",
                "stage_history",
            ]
            assert "did you mean 'country'" in str(caught.value)
            with pytest.raises(ValidationError):
                uow.deals.columns(["stage_history"])
            with pytest.raises(ValidationError):
                uow.orders.columns(["facts.order_count"])  # orders have no facts
            with pytest.raises(ValidationError):
                uow.contacts.columns([])
            with pytest.raises(ValidationError):
                uow.contacts.columns("first_name")
            assert uow.contacts.columns(["first_name", "first_name"]) == {"first_name": []}
    finally:
        store.close()


def test_sqlite_columns_build_no_entity(tmp_path, monkeypatch):
    store = crmkit.open_store(f"sqlite:///{tmp_path / 'crm.db'}", clock=FixedClock(NOW))
    try:
        load(store)
        calls = []
        for codec in store._codecs.values():
            monkeypatch.setattr(codec, "decode", lambda *a, **k: calls.append(a))
        got = fetch_all(store)
        with store.unit_of_work(readonly=True) as uow:
            segment = parse('company.name = "Acme" and has tag "vip"')
            assert uow.contacts.columns(["first_name"], segment) == {"first_name": ["Ada"]}
        assert calls == []
        assert got["contact"]["first_name"] == ["Ada", "Bob"]
        with store.unit_of_work(readonly=True) as uow:
            list(uow.contacts.iter())  # the spy does see entity loads
        assert calls
    finally:
        store.close()


def test_dataframes_of_a_segment(adapter):
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    store = adapter.make(FixedClock(NOW))
    try:
        load(store)
        segment = parse('has tag "vip"')
        names = ["id", "first_name", "country", "created_at", "tags", "facts.order_count"]
        with store.unit_of_work(readonly=True) as uow:
            frame = to_pandas(uow.contacts, names, segment)
            pl_frame = to_polars(uow.contacts, names, segment)
            deals = to_pandas(uow.deals, ["name", "amount", "expected_close"])
    finally:
        store.close()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == names
    assert frame["first_name"].tolist() == ["Ada"]
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(pl_frame, polars.DataFrame)
    assert pl_frame["id"].to_list() == ["01900000-0000-7000-8000-000000000011"]
    assert pl_frame["tags"].to_list() == [["vip"]]
    assert deals.columns.tolist() == ["name", "amount", "amount_currency", "expected_close"]
    assert deals["amount"].tolist()[0] == Decimal(12000)
