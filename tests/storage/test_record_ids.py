"""An id names one record of one kind, on every adapter: a second kind cannot take it."""

from __future__ import annotations

import pytest

from crmkit import Activity, Company, Contact
from crmkit.errors import ConcurrencyError, StorageError, ValidationError
from crmkit.storage.protocol import Store

from .adapters import Adapter


def count_all(store: Store) -> tuple[int, int, int]:
    with store.unit_of_work(readonly=True) as uow:
        return uow.companies.count(), uow.contacts.count(), uow.activities.count()


def test_a_contact_cannot_take_the_id_of_a_stored_company(adapter: Adapter) -> None:
    """The second add is a ValidationError naming `id` and the company; nothing is stored."""
    store = adapter.make()
    with store.unit_of_work() as uow:
        acme = uow.companies.add(Company.create(name="Acme", tags=["key"]))
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.contacts.add(Contact.create(id=acme.id, first_name="Ada", tags=["vip"]))
        [problem] = info.value.problems
        assert (problem.field, problem.value, problem.reason, problem.row) == (
            "id",
            str(acme.id),
            "is taken: a company has that id (ids are unique across kinds)",
            0,
        )
    assert count_all(store) == (1, 0, 0)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.companies.get(acme.id) == acme


def test_a_company_and_a_contact_with_one_id_in_one_unit_of_work_cannot_both_be_added(
    adapter: Adapter,
) -> None:
    """Within one unit of work the second add is refused too, and the first one stays."""
    store = adapter.make()
    with store.unit_of_work() as uow:
        acme = uow.companies.add(Company.create(name="Acme"))
        with pytest.raises(ValidationError) as info:
            uow.contacts.add(Contact.create(id=acme.id, first_name="Ada"))
        assert [p.reason for p in info.value.problems] == [
            "is taken: a company has that id (ids are unique across kinds)"
        ]
    assert count_all(store) == (1, 0, 0)


def test_add_many_names_each_row_whose_id_another_kind_holds(adapter: Adapter) -> None:
    """Only the rows with a taken id are reported, each with the kind holding it."""
    store = adapter.make()
    with store.unit_of_work() as uow:
        acme = uow.companies.add(Company.create(name="Acme"))
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
    rows = [Contact.create(first_name=f"C{n}") for n in range(5)]
    rows[1] = Contact.create(id=acme.id, first_name="Twin")
    rows[3] = Contact.create(id=ada.id, first_name="Again")
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.contacts.add_many(rows, batch_size=2)
        assert [(p.row, p.field, p.reason) for p in info.value.problems] == [
            (1, "id", "is taken: a company has that id (ids are unique across kinds)"),
            (3, "id", "is taken: that contact is stored already"),
        ]
    assert count_all(store) == (1, 1, 0)


def test_an_activity_cannot_take_the_id_of_a_contact_it_refers_to(adapter: Adapter) -> None:
    """Kinds with facts are held to it too: the activity is refused, the contact's facts stay."""
    store = adapter.make()
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.activities.add(Activity.create(id=ada.id, kind="call", contact_id=ada.id))
        assert [p.reason for p in info.value.problems] == [
            "is taken: a contact has that id (ids are unique across kinds)"
        ]
    assert count_all(store) == (0, 1, 0)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.facts(ada.id).activity_count == 0


def test_a_deleted_records_id_is_free_again(adapter: Adapter) -> None:
    """Deleting a record takes its id out of the registry."""
    store = adapter.make()
    with store.unit_of_work() as uow:
        acme = uow.companies.add(Company.create(name="Acme"))
    with store.unit_of_work() as uow:
        uow.companies.delete(acme)
        ada = uow.contacts.add(Contact.create(id=acme.id, first_name="Ada"))
    assert count_all(store) == (0, 1, 0)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.get(acme.id) == ada


def test_the_adapter_itself_refuses_an_id_another_kind_holds(
    adapter: Adapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the unit of work's check, the store (database or memory guard) still refuses.

    SQLite and memory report a storage error; PostgreSQL reports the unique violation as a
    conflict with a concurrent unit of work (what it is when the check did run).
    """
    store = adapter.make()
    with store.unit_of_work() as uow:
        acme = uow.companies.add(Company.create(name="Acme"))

    def add_past_the_check() -> None:
        with store.unit_of_work() as uow:
            backend = uow.contacts._backend  # type: ignore[attr-defined]
            monkeypatch.setattr(backend, "kinds_of", lambda ids: {})
            uow.contacts.add(Contact.create(id=acme.id, first_name="Ada"))

    with pytest.raises((StorageError, ConcurrencyError)):
        add_past_the_check()
    assert count_all(store) == (1, 0, 0)
