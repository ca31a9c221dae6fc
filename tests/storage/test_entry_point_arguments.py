"""Store entry points refuse wrong arguments with a typed crmkit error naming the argument,
before anything reaches the database, so the store is unchanged and the unit of work goes on
(on PostgreSQL too, where a driver error would have aborted it): on every adapter."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import crmkit
from crmkit import Activity, Company, Contact, FixedClock, StoreOpenError, ValidationError
from crmkit.storage.protocol import RelatedRecords, StoredRecords

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def store(adapter, clock):
    store = adapter.make(clock)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def seeded(store, clock):
    """A store with one company and one contact; returns (store, company, contact)."""
    with store.unit_of_work(actor="sam") as uow:
        acme = uow.companies.add(Company.create(name="Acme", clock=clock))
        ada = uow.contacts.add(Contact.create(first_name="Ada", company_id=acme.id, clock=clock))
    return store, acme, ada


def refused(call, *fields):
    """Run `call`; it must raise a ValidationError naming exactly `fields`."""
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def still_usable(uow, ada):
    """The unit of work goes on after the refusal: it reads and writes."""
    assert uow.contacts.get(ada.id).first_name == "Ada"
    uow.contacts.add(Contact.create(first_name="After", clock=FixedClock(T0)))


BAD_IDS = ["not-a-uuid", "0190a000-0000-7000-8000-000000000000", 42, None, b"x"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_reading_by_something_that_is_not_a_uuid_names_the_argument(seeded, bad):
    """`get`, `get_many`, `iter`/`find`/`find_ids` `after` (None aside), `related`, `facts`."""
    store, _, ada = seeded
    with store.unit_of_work() as uow:
        refused(lambda: uow.contacts.get(bad), "entity_id")
        refused(lambda: uow.contacts.get_many([ada.id, bad]), "ids[1]")
        if bad is not None:  # after=None is "from the start"
            refused(lambda: list(uow.contacts.iter(after=bad)), "after")
            seg = crmkit.segments.parse('first_name = "Ada"')
            refused(lambda: list(uow.contacts.find(seg, after=bad)), "after")
            refused(lambda: list(uow.contacts.find_ids(seg, after=bad)), "after")
        refused(lambda: uow.activities.related(bad), "record_id")
        refused(lambda: uow.contacts.facts(bad), "record_id")
        still_usable(uow, ada)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 2


def test_get_many_names_every_bad_id_and_refuses_text_as_the_list(seeded):
    """Each bad item is its own problem; a string is not a list of ids."""
    store, _, ada = seeded
    with store.unit_of_work() as uow:
        refused(lambda: uow.contacts.get_many(["x", ada.id, 7]), "ids[0]", "ids[2]")
        refused(lambda: uow.contacts.get_many(str(ada.id)), "ids")
        refused(lambda: uow.contacts.get_many(None), "ids")
        assert uow.contacts.get_many([ada.id, ada.id]) == {ada.id: ada}
        assert uow.contacts.get_many([]) == {}


def test_history_of_something_that_is_not_a_uuid_names_entity_id(seeded):
    """``store.history("x")`` was an AttributeError on SQLite and a driver error on PostgreSQL."""
    store, _, ada = seeded
    refused(lambda: store.history("x"), "entity_id")
    refused(lambda: store.history(str(ada.id)), "entity_id")
    assert [e.action for e in store.history(ada.id)] == ["added"]


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"after": -1}, ("after",)),
        ({"after": -5}, ("after",)),
        ({"after": "3"}, ("after",)),
        ({"after": 1.0}, ("after",)),
        ({"after": True}, ("after",)),
        ({"after": None}, ("after",)),
        ({"limit": -1}, ("limit",)),
        ({"limit": "2"}, ("limit",)),
        ({"limit": 2.5}, ("limit",)),
        ({"limit": False}, ("limit",)),
        ({"after": -1, "limit": -1}, ("after", "limit")),
    ],
    ids=repr,
)
def test_events_refuse_a_negative_or_non_integer_window_the_same_on_every_adapter(
    seeded, kwargs, fields
):
    """`events` read -5 as 0 on memory, took 'x' on SQLite, failed in the driver elsewhere."""
    store, _, _ = seeded
    refused(lambda: store.events(**kwargs), *fields)


def test_events_accept_both_sides_of_the_window_boundaries(seeded):
    """`after=0` and `limit=0` are the smallest accepted values; `limit=None` means all."""
    store, _, _ = seeded
    with store.unit_of_work(actor="sam") as uow:
        for n in range(3):
            uow.record(_Event(n))
    assert [e.payload["n"] for e in store.events(after=0)] == [0, 1, 2]
    assert store.events(after=0, limit=0) == []
    assert [e.payload["n"] for e in store.events(after=1, limit=1)] == [1]
    assert [e.payload["n"] for e in store.events(after=2, limit=None)] == [2]
    assert store.events(after=3) == []
    assert store.events(after=99) == []


class _Event:
    event_type = "test.counted"

    def __init__(self, n: int) -> None:
        self.n = n

    def to_dict(self):
        return {"n": self.n}


@pytest.mark.parametrize("op", ["update", "archive", "restore", "delete"])
@pytest.mark.parametrize("given", ["company", "none", "text"])
def test_writing_something_that_is_not_a_record_of_the_kind_names_entity(seeded, op, given):
    """A company given to `uow.contacts.<op>` was a NotFoundError; None an AttributeError."""
    store, acme, ada = seeded
    value = {"company": acme, "none": None, "text": "ada"}[given]
    shown = {"company": "Company", "none": "NoneType", "text": "str"}[given]
    with store.unit_of_work() as uow:
        error = refused(lambda: getattr(uow.contacts, op)(value), "entity")
        assert error.problems[0].value == shown
        assert error.problems[0].reason == "is not a contact"
        still_usable(uow, ada)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.companies.get(acme.id) == acme
        assert uow.contacts.get(ada.id) == ada


def test_adding_a_record_of_another_kind_names_entity(seeded):
    """`add` and `add_many` name the entity (and its row in `add_many`); text is no list."""
    store, acme, ada = seeded
    with store.unit_of_work() as uow:
        refused(lambda: uow.contacts.add(acme), "entity")
        error = refused(
            lambda: uow.contacts.add_many([Contact.create(first_name="Ok"), None]), "entity"
        )
        assert error.problems[0].row == 1
        refused(lambda: uow.contacts.add_many("contacts"), "entities")
        refused(lambda: uow.contacts.add_many(None), "entities")
        refused(lambda: uow.deals.add_many(acme), "entities")
        still_usable(uow, ada)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 2


def test_saving_something_that_is_not_a_schema_names_schema(seeded):
    """``custom_fields.save(None)`` was an AttributeError."""
    store, _, ada = seeded
    with store.unit_of_work() as uow:
        error = refused(lambda: uow.custom_fields.save(None), "schema")
        assert str(error) == "schema 'NoneType' is not a CustomFieldSchema"
        refused(lambda: uow.custom_fields.get(None), "kind")
        still_usable(uow, ada)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.custom_fields.get("contact").version == 0


def test_grouping_or_fetching_columns_by_an_unknown_name_names_the_argument(seeded):
    """``grouped("x")`` names `by` with the links; ``columns("x")`` names `names`."""
    store, _, ada = seeded
    with store.unit_of_work() as uow:
        error = refused(lambda: list(uow.activities.grouped("x")), "by")
        assert "one of company_id, contact_id, deal_id, lead_id" in str(error)
        refused(lambda: list(uow.activities.grouped(None)), "by")
        refused(lambda: uow.contacts.columns("x"), "names")
        refused(lambda: uow.contacts.columns(["x"]), "names")
        refused(lambda: uow.contacts.columns([]), "names")
        still_usable(uow, ada)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "2", True, None])
def test_related_refuses_a_limit_that_is_not_a_positive_integer(seeded, limit):
    """`limit` must be an integer of at least 1 (1 is accepted, 0 is not)."""
    store, _, ada = seeded
    with store.unit_of_work() as uow:
        refused(lambda: uow.activities.related(ada.id, limit=limit), "limit")
        assert uow.activities.related(ada.id, limit=1) == []


def test_related_says_when_it_was_cut_on_both_sides_of_the_limit(seeded, clock):
    """`truncated` is False at exactly `limit` related records, True with one more."""
    store, _, ada = seeded
    times = [T0 - dt.timedelta(hours=h) for h in range(4)]
    with store.unit_of_work() as uow:
        made = uow.activities.add_many(
            [Activity.create(kind="call", contact_id=ada.id, occurred_at=t) for t in times]
        )
    newest_first = [a.id for a in made]  # made oldest-last: times go back
    with store.unit_of_work(readonly=True) as uow:
        four = uow.activities.related(ada.id, limit=4)
        assert isinstance(four, RelatedRecords)
        assert [a.id for a in four] == newest_first
        assert four.truncated is False
        three = uow.activities.related(ada.id, limit=3)
        assert [a.id for a in three] == newest_first[:3]
        assert three.truncated is True
        five = uow.activities.related(ada.id, limit=5)
        assert (len(five), five.truncated) == (4, False)


def test_add_many_returns_the_stored_records_with_their_count(store, clock):
    """``companies = uow.companies.add_many(companies)`` gives them back at version 1."""
    companies = [Company.create(name=f"C{i}", clock=clock) for i in range(3)]
    with store.unit_of_work() as uow:
        companies = uow.companies.add_many(companies, batch_size=2)
        assert isinstance(companies, StoredRecords)
        assert [c.version for c in companies] == [1, 1, 1]
        assert companies.stored == 3
        assert uow.companies.update(companies[0].changed(name="C0 GmbH")).version == 2
    with store.unit_of_work(readonly=True) as uow:
        assert [c.name for c in uow.companies.iter()] == ["C0 GmbH", "C1", "C2"]


def test_add_many_without_keep_returns_only_the_count(store, clock):
    """``keep=False`` keeps nothing in memory for a long stream; `stored` still counts."""
    rows = (Contact.create(first_name=f"S{i}", clock=clock) for i in range(5))
    with store.unit_of_work() as uow:
        result = uow.contacts.add_many(rows, batch_size=2, keep=False)
        assert (list(result), result.stored) == ([], 5)
        assert uow.contacts.count() == 5


# -- opening --------------------------------------------------------------------------------


def test_a_clock_without_now_is_refused_when_the_store_opens(adapter):
    """``open_store(url, clock="now")`` was accepted and failed on the first write."""
    url = adapter.new_url()
    with pytest.raises(StoreOpenError, match="bad clock 'now'"):
        crmkit.open_store(url, clock="now")
    with crmkit.open_store(url, clock=FixedClock(T0)) as store, store.unit_of_work() as uow:
        assert uow.contacts.add(Contact.create(first_name="Ok")).version == 1


def test_an_unknown_keyword_option_is_refused_on_every_adapter(adapter):
    """Memory and SQLite raised TypeError for an unknown keyword; PostgreSQL refused it."""
    with pytest.raises(StoreOpenError, match=r"unknown .*option.*colour"):
        crmkit.open_store(adapter.new_url(), colour="blue")


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-inf", "-1", "-0.001", "86400.5", ""])
def test_a_bad_sqlite_busy_timeout_is_refused_naming_it(tmp_path, value):
    """``?busy_timeout=`` must be a finite number of seconds from 0 to 86400."""
    with pytest.raises(StoreOpenError, match="bad busy_timeout"):
        crmkit.open_store(f"sqlite:///{tmp_path}/crm.db?busy_timeout={value}")
    assert not (tmp_path / "crm.db").exists()


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("86400", 86400.0), ("2.5", 2.5)])
def test_a_sqlite_busy_timeout_at_the_bounds_is_accepted(tmp_path, value, seconds):
    """0 (do not wait) and 86400 (a day) are the bounds, both accepted."""
    with crmkit.open_store(f"sqlite:///{tmp_path}/crm.db?busy_timeout={value}") as store:
        assert store.busy_timeout == seconds


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "soon", True])
def test_a_bad_busy_timeout_keyword_is_refused_on_memory_and_sqlite(tmp_path, value):
    """The keyword form is held to the same rule as the URL's."""
    for url in ("memory://", f"sqlite:///{tmp_path}/crm.db"):
        with pytest.raises(StoreOpenError, match="bad busy_timeout"):
            crmkit.open_store(url, busy_timeout=value)


def test_an_unknown_sqlite_url_option_is_refused_naming_it(tmp_path):
    """``?journal=off`` was silently ignored; now it is named with the known options."""
    with pytest.raises(StoreOpenError) as caught:
        crmkit.open_store(f"sqlite:///{tmp_path}/crm.db?journal=off&busy_timeout=1")
    assert str(caught.value) == "unknown SQLite store option(s) journal: use busy_timeout"
    assert not (tmp_path / "crm.db").exists()


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "0", "-1", "abc"])
def test_a_bad_postgres_pool_timeout_is_refused_before_connecting(value):
    """``?pool_timeout=inf|nan`` passed the `<= 0` check; now it must be finite and positive."""
    from crmkit.storage.postgres.url import parse_postgres_url

    with pytest.raises(StoreOpenError, match="bad pool_timeout"):
        parse_postgres_url(f"postgresql://ada@h/crm?pool_timeout={value}", {})
    assert parse_postgres_url("postgresql://ada@h/crm?pool_timeout=0.5", {}).pool_timeout == 0.5
