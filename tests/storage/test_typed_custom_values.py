"""A stored custom-field schema converts what it validates, and the converted values are stored.

Records created without the schema at hand hold their custom values as given (``"5"``,
``"no"``, ``"1940-05-01"``); once the store has a schema, `add`, `add_many` and `update`
store (and return) the values the schema makes of them, so segments over custom fields find
them on memory, SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Contact, CustomField, CustomFieldSchema, FieldType, FixedClock, ValidationError
from crmkit.segments import parse
from crmkit.storage.protocol import FieldChange

from .adapters import Adapter

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

SCHEMA = CustomFieldSchema(
    "contact",
    [
        CustomField("seats", FieldType.INTEGER),
        CustomField("active", FieldType.BOOL),
        CustomField("dob", FieldType.DATE),
        CustomField("plan", FieldType.CHOICE, choices=("free", "pro"), default="free"),
    ],
)
GIVEN = {"seats": "5", "active": "no", "dob": "1940-05-01"}
TYPED = {"seats": 5, "active": False, "dob": dt.date(1940, 5, 1), "plan": "free"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(adapter: Adapter, clock: FixedClock):
    store = adapter.make(clock)
    with store.unit_of_work() as uow:
        uow.custom_fields.save(SCHEMA)
    with store:
        yield store


def _types(custom) -> dict[str, type]:
    return {key: type(value) for key, value in custom.items()}


def test_add_stores_and_returns_the_values_the_schema_made(store, clock):
    """ "5" for an integer is 5, "no" for a bool False, date text a date, a default filled in."""
    given = Contact.create(first_name="Ada", custom=GIVEN, clock=clock)
    assert dict(given.custom) == GIVEN  # without the schema at hand: text as given
    with store.unit_of_work() as uow:
        added = uow.contacts.add(given)
    assert dict(added.custom) == TYPED
    assert _types(added.custom) == {"seats": int, "active": bool, "dob": dt.date, "plan": str}
    with store.unit_of_work(readonly=True) as uow:
        loaded = uow.contacts.get(added.id)
    assert loaded == added
    assert _types(loaded.custom) == _types(added.custom)


def test_add_many_stores_every_row_typed(store, clock):
    """Bulk adds convert row by row, like `add`."""
    rows = [
        Contact.create(first_name=f"P{i}", custom={"seats": str(i), "active": "yes"}, clock=clock)
        for i in range(3)
    ]
    with store.unit_of_work() as uow:
        assert uow.contacts.add_many(rows, batch_size=2).stored == 3
    with store.unit_of_work(readonly=True) as uow:
        stored = [dict(c.custom) for c in uow.contacts.iter()]
    assert stored == [{"seats": i, "active": True, "plan": "free"} for i in range(3)]


def test_update_stores_and_returns_the_typed_values(store, clock):
    """A changed value given as text is stored converted; the history shows the stored value."""
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada", clock=clock))
    assert dict(ada.custom) == {"plan": "free"}  # the default, on add
    clock.advance(minutes=1)
    with store.unit_of_work() as uow:
        ada = uow.contacts.update(ada.changed(custom={**ada.custom, "seats": "12"}, clock=clock))
    assert dict(ada.custom) == {"plan": "free", "seats": 12}
    with store.unit_of_work(readonly=True) as uow:
        assert dict(uow.contacts.get(ada.id).custom) == {"plan": "free", "seats": 12}
    [change] = store.history(ada.id)[-1].changes
    assert change == FieldChange("custom", {"plan": "free"}, {"plan": "free", "seats": 12})


def test_a_segment_finds_records_added_with_date_text(store, clock):
    """`custom.dob before 1950-01-01` finds the record whose date was given as text."""
    with store.unit_of_work() as uow:
        old = uow.contacts.add(Contact.create(first_name="Old", custom=GIVEN, clock=clock))
        young = uow.contacts.add(
            Contact.create(first_name="Young", custom={"dob": "1990-12-31"}, clock=clock)
        )
        uow.contacts.add_many(
            [Contact.create(first_name="Older", custom={"dob": "1930-01-01"}, clock=clock)]
        )
    with store.unit_of_work(readonly=True) as uow:
        before = [c.first_name for c in uow.contacts.find(parse("custom.dob before 1950-01-01"))]
        five = list(uow.contacts.find_ids(parse("custom.seats = 5")))
        inactive = uow.contacts.count(parse("custom.active = false"))
        free = uow.contacts.count(parse('custom.plan = "free"'))
    assert before == ["Old", "Older"]
    assert five == [old.id]
    assert inactive == 1
    assert free == 3
    assert young.custom["dob"] == dt.date(1990, 12, 31)


def test_values_the_schema_refuses_are_still_refused(store, clock):
    """Conversion does not loosen validation: "many" for an integer field is a problem."""
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.contacts.add(Contact.create(first_name="Bad", custom={"seats": "many"}, clock=clock))
    assert info.value.fields == ("custom.seats",)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 0
