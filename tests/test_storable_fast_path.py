"""The fast storable check (generated per attrs class) says exactly what the full walk says.

`storable_problems` first asks a quick yes/no (`_fine`), generated once per attrs class from
its declared field types, and only walks the value to name its problems when the answer is
no. These properties hold that quick answer to the walk's, on entities built directly (as
`attrs.evolve` or a loader does), with values of the declared type and of other types.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Contact
from crmkit.errors import Problem
from crmkit.model.contact import Address
from crmkit.model.frozen_map import FrozenMap
from crmkit.storage.sql.dialect import compact_json
from crmkit.values.email import EmailAddress
from crmkit.values.phone import PhoneNumber
from crmkit.values.storable import _fine, _walk, storable_problems

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# text that is storable, and text holding NUL or a surrogate, ASCII and not
texts = st.text(alphabet=st.sampled_from(["a", "é", "\x00", "\ud800", "\udfff", " ", "€"]))
integers = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.sampled_from([2**63, -(2**63) - 1, 2**64])
)
atoms = st.one_of(st.none(), st.booleans(), st.just(T0), st.just(uuid.UUID(int=7)))
anything = st.recursive(
    st.one_of(
        atoms,
        texts,
        integers,
        st.sampled_from([Decimal("1.5"), Decimal("NaN"), Decimal("1E+3"), Decimal(10**18)]),
        st.sampled_from([1.5, float("nan"), float("inf")]),
        st.sampled_from([dt.timedelta(days=1), dt.timedelta(days=999_999_999)]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(texts, max_size=3),
        st.dictionaries(texts, inner, max_size=3),
        st.dictionaries(texts, inner, max_size=3).map(FrozenMap),
    ),
    max_leaves=8,
)


def _walk_finds_nothing(value: object) -> bool:
    problems: list[Problem] = []
    _walk(value, "", problems)
    return not problems


emails = st.builds(EmailAddress, normalized=texts, original=texts)
contacts = st.builds(
    Contact,
    id=st.one_of(st.just(uuid.UUID(int=1)), anything),
    created_at=st.just(T0),
    updated_at=st.one_of(st.just(T0), anything),
    first_name=st.one_of(st.none(), texts, anything),
    last_name=st.one_of(texts, integers),
    version=st.one_of(integers, anything),
    emails=st.one_of(st.lists(emails, max_size=2).map(tuple), anything),
    phones=st.lists(st.builds(PhoneNumber, e164=texts), max_size=2).map(tuple),
    tags=st.one_of(st.frozensets(texts, max_size=3), anything),
    custom=st.dictionaries(texts, anything, max_size=3).map(FrozenMap),
    address=st.one_of(st.none(), st.builds(Address, city=texts, street=anything)),
    owner=st.one_of(st.none(), texts, anything),
)


@given(contacts)
def test_the_generated_check_of_an_entity_agrees_with_the_walk(contact: Contact):
    assert _fine(contact) == _walk_finds_nothing(contact)
    assert (storable_problems(contact, "") == []) == _walk_finds_nothing(contact)


@given(anything)
def test_the_quick_check_of_any_value_agrees_with_the_walk(value: object):
    assert _fine(value) == _walk_finds_nothing(value)


def test_a_nul_in_each_kind_of_field_is_found_and_named():
    """One planted problem per declared shape: text, integer, tags, nested attrs, mapping."""
    ada = Contact.create(first_name="Ada", emails=["ada@example.com"], tags=["vip"])
    cases = {
        "first_name": "A\x00da",
        "version": 2**63,
        "tags": frozenset({"vip", "b\ud800"}),
        "emails": (EmailAddress(normalized="ada@example.com", original="ada\x00"),),
        "address": Address(city="Ber\x00lin"),
        "custom": FrozenMap({"note": "x\x00"}),
        "id": "not\x00an id",
    }
    where = {"custom": "custom.note", "emails": "emails[0]", "address": "address.city"}
    for field, value in cases.items():
        bad = attrs.evolve(ada, **{field: value})
        assert not _fine(bad), field
        named = [p.field for p in storable_problems(bad, "")]
        assert named == [where.get(field, field)], field
    assert _fine(ada)


json_data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_data)
def test_compact_json_is_json_dumps_without_spaces_keeping_unicode(value: object):
    assert compact_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_compact_json_refuses_what_json_cannot_hold():
    for value in ([Decimal(1)], {"a": {1, 2}}, object()):
        with pytest.raises(TypeError):
            compact_json(value)
