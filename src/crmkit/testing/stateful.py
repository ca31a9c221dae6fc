"""A Hypothesis state machine that drives a store and a plain in-memory model side by side.

Random adds of companies and contacts (contacts sometimes at a company), updates, stale
updates, archives, restores, deletes and rolled-back units of work go to both; after every
step the store must agree with the model on counts, id order and every record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from crmkit.clock import FixedClock
from crmkit.errors import ConcurrencyError, NotFoundError, ReferencedError, ValidationError
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.entity import Entity
from crmkit.storage.protocol import Store
from crmkit.testing.compare import assert_identical
from crmkit.testing.records import START, repository

__all__ = ["store_state_machine"]

_NAMES = st.sampled_from(["Ada", "Bob", "Chloé", "Dmitri", "Eve", "Fumiko", "  Gus  "])
_TITLES = st.sampled_from([None, "CEO", "CTO", "Buyer", "Straße-Chef"])


class _RollBackError(Exception):
    """Raised inside a unit of work to roll it back."""


def store_state_machine(
    make_store: Callable[[FixedClock], Store],
) -> type[RuleBasedStateMachine]:
    """Return a state machine class that checks a store against a model after every step.

    Run it with ``TestSomething = store_state_machine(factory).TestCase`` in a test module;
    set ``TestSomething.settings`` to choose examples and ``stateful_step_count``.

    Args:
        make_store: Returns a new, empty store that takes "now" from the given clock; it is
            called once per example and the store is closed when the example ends.

    Returns:
        A `RuleBasedStateMachine` subclass.
    """

    class StoreMachine(RuleBasedStateMachine):
        """The store under test and the model of what it should hold."""

        companies = Bundle("companies")
        contacts = Bundle("contacts")

        def __init__(self) -> None:
            super().__init__()
            self.clock = FixedClock(START)
            self.store = make_store(self.clock)
            self.model: dict[str, dict[uuid.UUID, Entity]] = {"company": {}, "contact": {}}

        # -- helpers ----------------------------------------------------------------------

        def _current(self, kind: str, entity_id: uuid.UUID) -> Entity | None:
            return self.model[kind].get(entity_id)

        def _referenced(self, company_id: uuid.UUID) -> bool:
            return any(
                getattr(c, "company_id", None) == company_id for c in self.model["contact"].values()
            )

        def _add_company(self, name: str) -> uuid.UUID:
            company = Company.create(name=name, clock=self.clock)
            with self.store.unit_of_work(actor="machine") as uow:
                stored = uow.companies.add(company)
            self.model["company"][company.id] = stored
            return company.id

        # -- rules ------------------------------------------------------------------------

        @initialize(target=companies, name=_NAMES)
        def first_company(self, name: str) -> uuid.UUID:
            return self._add_company(name)

        @rule(target=companies, name=_NAMES)
        def add_company(self, name: str) -> uuid.UUID:
            return self._add_company(name)

        @rule(target=contacts, name=_NAMES, company=st.none() | companies)
        def add_contact(self, name: str, company: uuid.UUID | None) -> uuid.UUID:
            contact = Contact.create(first_name=name, company_id=company, clock=self.clock)
            if company is not None and company not in self.model["company"]:
                with self.store.unit_of_work() as uow:
                    try:
                        uow.contacts.add(contact)
                    except ValidationError:
                        pass
                    else:
                        raise AssertionError("a contact of a deleted company was accepted")
                return contact.id  # never stored: later steps expect NotFoundError
            with self.store.unit_of_work(actor="machine") as uow:
                stored = uow.contacts.add(contact)
            self.model["contact"][contact.id] = stored
            return contact.id

        @rule(contact=contacts, title=_TITLES, company=st.none() | companies)
        def update_contact(
            self, contact: uuid.UUID, title: str | None, company: uuid.UUID | None
        ) -> None:
            current = self._current("contact", contact)
            if current is None:
                with self.store.unit_of_work() as uow:
                    try:
                        uow.contacts.get(contact)
                    except NotFoundError:
                        return
                    raise AssertionError("a contact missing from the model was found")
            assert isinstance(current, Contact)
            changed = current.changed(title=title, company_id=company, clock=self.clock)
            with self.store.unit_of_work(actor="machine") as uow:
                if company is not None and company not in self.model["company"]:
                    try:
                        uow.contacts.update(changed)
                    except ValidationError:
                        return
                    raise AssertionError("a contact was moved to a deleted company")
                updated = uow.contacts.update(changed)
            assert updated.version == current.version + 1
            self.model["contact"][contact] = updated

        @rule(contact=contacts, ahead=st.booleans())
        def stale_update(self, contact: uuid.UUID, ahead: bool) -> None:
            current = self._current("contact", contact)
            if current is None or (current.version == 1 and not ahead):
                return
            assert isinstance(current, Contact)
            stale = attrs.evolve(current, version=current.version + (1 if ahead else -1))
            with self.store.unit_of_work() as uow:
                try:
                    uow.contacts.update(stale.with_custom("stale", True, clock=self.clock))
                except ConcurrencyError:
                    return
            raise AssertionError("a stale update was accepted")

        @rule(kind=st.sampled_from(["company", "contact"]), data=st.data())
        def archive_or_restore(self, kind: str, data: st.DataObject) -> None:
            if not self.model[kind]:
                return
            entity_id = data.draw(st.sampled_from(sorted(self.model[kind])))
            current = self.model[kind][entity_id]
            self.clock.advance(seconds=1)
            with self.store.unit_of_work(actor="machine") as uow:
                repo = repository(uow, kind)
                changed = repo.restore(current) if current.archived_at else repo.archive(current)
            assert changed.version == current.version + 1
            assert (changed.archived_at is None) == (current.archived_at is not None)
            self.model[kind][entity_id] = changed

        @rule(kind=st.sampled_from(["company", "contact"]), data=st.data())
        def delete(self, kind: str, data: st.DataObject) -> None:
            if not self.model[kind]:
                return
            entity_id = data.draw(st.sampled_from(sorted(self.model[kind])))
            current = self.model[kind][entity_id]
            referenced = kind == "company" and self._referenced(entity_id)
            with self.store.unit_of_work(actor="machine") as uow:
                try:
                    repository(uow, kind).delete(current)
                except ReferencedError:
                    assert referenced, "delete refused though nothing refers to the record"
                    return
            assert not referenced, "a referenced company was deleted"
            del self.model[kind][entity_id]

        @rule(name=_NAMES, data=st.data())
        def rolled_back(self, name: str, data: st.DataObject) -> None:
            try:
                with self.store.unit_of_work(actor="machine") as uow:
                    uow.companies.add(Company.create(name=name, clock=self.clock))
                    if self.model["contact"]:
                        contact_id = data.draw(st.sampled_from(sorted(self.model["contact"])))
                        current = self.model["contact"][contact_id]
                        assert isinstance(current, Contact)
                        updated = uow.contacts.update(
                            current.changed(last_name="Rolled back", clock=self.clock)
                        )
                        if data.draw(st.booleans()):
                            uow.contacts.archive(updated)
                    raise _RollBackError
            except _RollBackError:
                pass

        @rule()
        def tick(self) -> None:
            self.clock.advance(minutes=1)

        # -- checks -----------------------------------------------------------------------

        @invariant()
        def store_agrees_with_model(self) -> None:
            with self.store.unit_of_work(readonly=True) as uow:
                for kind, records in self.model.items():
                    repo = repository(uow, kind)
                    every = sorted(records)
                    live = [i for i in every if records[i].archived_at is None]
                    assert repo.count() == len(live), kind
                    assert repo.count(include_archived=True) == len(every), kind
                    assert [e.id for e in repo.iter(batch_size=3)] == live, kind
                    stored = list(repo.iter(include_archived=True))
                    assert [e.id for e in stored] == every, kind
                    for entity in stored:
                        assert_identical(records[entity.id], entity)

        def teardown(self) -> None:
            self.store.close()

    return StoreMachine
