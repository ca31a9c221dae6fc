"""What a change records in the audit history: the fields whose stored form changed."""

from __future__ import annotations

import json
from typing import Any

import attrs

from crmkit.model.custom_fields import CustomFields
from crmkit.model.entity import Entity
from crmkit.storage.plain import custom_to_plain, is_empty, to_plain
from crmkit.storage.protocol import (
    FieldChange,
)

__all__ = ["changes_between", "stored_alike"]

_NOT_IN_HISTORY = frozenset({"version", "updated_at"})


def changes_between(old: Entity | None, new: Entity | None) -> tuple[FieldChange, ...]:
    """Return the changed fields between two versions of a record, as plain values.

    A field is changed when what a store keeps of it changes, not only when Python calls the
    two values different: the custom value 1 becoming True, the amount 10 becoming 10.00
    (Money and Decimal compare equal across scales), an email re-typed as ``Ada@Acme.de``
    (equal to ``ada@acme.de`` by its normal form, but its original spelling is kept) are
    all listed, so every change a store writes has its history entry. None and an empty
    collection are both "nothing" and store alike.
    """
    sample = new if new is not None else old
    assert sample is not None
    changes = []
    for field in attrs.fields(type(sample)):
        name = field.name
        if name in _NOT_IN_HISTORY:
            continue
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name) if new is not None else None
        if before is after or (is_empty(before) and is_empty(after)):
            continue
        if before == after and _stored_form(name, before) == _stored_form(name, after):
            continue
        changes.append(FieldChange(name, _plain_or_none(before), _plain_or_none(after)))
    return tuple(changes)


def _stored_form(name: str, value: object) -> str:
    """Return what a store keeps of a field's value as JSON text: types and spellings count.

    Custom values keep their type tags (``["i", 1]`` is not ``["b", true]``); other fields
    their plain form (``["10.00", "EUR"]`` is not ``["10", "EUR"]``).
    """
    if is_empty(value):
        return "null"
    plain = custom_to_plain(value) if name == "custom" else to_plain(value)  # type: ignore[arg-type]
    return json.dumps(plain, sort_keys=True, ensure_ascii=False)


def stored_alike(custom: CustomFields, other: CustomFields) -> bool:
    """Say whether two sets of custom values are stored the same (same values, same types)."""
    return custom is other or (
        custom == other and _stored_form("custom", custom) == _stored_form("custom", other)
    )


def _plain_or_none(value: object) -> Any:
    return None if is_empty(value) else to_plain(value)
