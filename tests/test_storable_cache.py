"""A store trusts what `create` and `changed` checked, and walks anything made around them."""

from __future__ import annotations

import gc

import attrs
import pytest

import crmkit
from crmkit import Contact
from crmkit.errors import ValidationError
from crmkit.model.entity import checked_storable


def test_create_and_changed_mark_their_own_results_as_checked():
    made = Contact.create(first_name="Ada")
    assert checked_storable(made)
    assert checked_storable(made.changed(title="CTO"))
    assert not checked_storable(attrs.evolve(made, title="CTO"))


def test_an_entity_made_around_create_is_still_walked_by_the_store():
    """attrs.evolve skips validation; the repository still refuses a NUL in it."""
    sneaky = attrs.evolve(Contact.create(first_name="Ada"), title="a\x00b")
    with crmkit.open_store("memory://") as store:
        with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
            uow.contacts.add(sneaky)
        assert caught.value.fields == ("title",)


def test_the_mark_goes_with_the_entity():
    """Once an entity is gone, a new object at the same address is not taken as checked."""
    made = Contact.create(first_name="Ada")
    address = id(made)
    del made
    gc.collect()
    from crmkit.model import entity as module

    assert address not in module._STORABLE
