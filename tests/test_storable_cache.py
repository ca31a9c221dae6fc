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


def test_an_opened_and_a_moved_deal_are_trusted_but_not_a_move_by_a_nul_mover():
    """`Deal.create` and `Pipeline.move` vouch for what they made from checked values."""
    from crmkit import Deal, default_sales_pipeline

    opened = Deal.create(name="Acme", pipeline="sales", stage="prospecting")
    assert checked_storable(opened)
    pipeline = default_sales_pipeline()
    moved = pipeline.move(opened, "discovery", by="sam", note="call went well").deal
    assert checked_storable(moved)
    sneaky = pipeline.move(opened, "discovery", by="s\x00m").deal
    assert not checked_storable(sneaky)
    assert not checked_storable(pipeline.move(attrs.evolve(opened), "discovery").deal)
    with crmkit.open_store("memory://") as store:
        with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
            uow.deals.add(sneaky)
        assert caught.value.fields == ("stage_history[1].moved_by",)


def test_a_forgotten_entry_is_gone_and_only_its_own():
    """A collected entity's mark leaves; a newer mark at a reused address stays."""
    from crmkit.model import entity as module

    kept = Contact.create(first_name="Kept")
    made = Contact.create(first_name="Ada")
    address = id(made)
    del made
    gc.collect()
    assert address not in module._STORABLE
    assert checked_storable(kept)
    stale = module._Mark(kept, None)
    stale.key = id(kept)
    module._forget(stale)  # an older mark for the same address: the current one stays
    assert checked_storable(kept)
    assert all(mark() is not None and mark.key == key for key, mark in module._STORABLE.items())
