"""Column fetches (`Repository.columns`): names resolved to model fields, facts and scores."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from crmkit.errors import (
    Problem,
    ValidationError,
)
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.registry import Kind
from crmkit.model.shapes import Shape, optional_inner, shape_of
from crmkit.storage.backend import ColumnSpec
from crmkit.storage.plain import custom_from_plain, field_types, to_plain
from crmkit.values.email import EmailAddress
from crmkit.values.phone import PhoneNumber

__all__ = [
    "DERIVED_SHAPES",
    "column_specs",
    "default_column_names",
    "derived_column",
    "plain_column_value",
]

_FACT_COLUMNS: dict[str, tuple[str, Any]] = {
    "order_count": ("int", 0),
    "activity_count": ("int", 0),
    "last_order_at": ("timestamp", None),
    "last_activity_at": ("timestamp", None),
}


# A contact's primary address and number: one text column each, read from the first of
# its `emails` / `phones` (the model's `email` / `phone` properties).
_PRIMARY: dict[str, tuple[str, str]] = {
    "email": ("emails", "primary_email"),
    "phone": ("phones", "primary_phone"),
}


def default_column_names(kind: Kind) -> list[str]:
    """The columns `Repository.columns` fetches when given no names: one per plain field.

    Every model field held in one scalar column (``id``, names, references, enums, dates,
    a Money's amount and currency, ...) in declaration order, with a contact's primary
    ``email`` and ``phone`` in place of its `emails` and `phones` lists; tags, structured
    fields (addresses, consents, lines), custom fields and the stage history are left out:
    ask for them by name (``custom.<key>`` gives one custom field).
    """
    hints = field_types(kind.cls)
    names: list[str] = []
    for f in attrs.fields(kind.cls):
        primary = next((alias for alias, (field, _) in _PRIMARY.items() if field == f.name), None)
        if primary is not None and primary not in hints:
            names.append(primary)
        elif f.name != "custom" and f.name in hints:
            shape = shape_of(hints[f.name])
            single = optional_inner(hints[f.name])[0] in (EmailAddress, PhoneNumber)
            if single or (shape not in (Shape.TAGS, Shape.JSON) and f.name != "stage_history"):
                names.append(f.name)
    return names


def column_specs(
    kind: Kind, names: Sequence[str] | None, schema: CustomFieldSchema | None = None
) -> list[ColumnSpec]:
    """Resolve column names for `Repository.columns`: model fields, facts and scores.

    None means `default_column_names`. ``custom.<key>`` is one custom field (with a stored
    `schema`, one of its fields); ``email`` / ``phone`` a contact's primary ones.

    Raises:
        ValidationError: Listing every name that is not a column of `kind`.
    """
    if names is None:
        names = default_column_names(kind)
    if isinstance(names, str) or not names or not isinstance(names, Sequence):
        raise ValidationError.single("names", names, "is not a non-empty list of column names")
    hints = field_types(kind.cls)
    fields = [f.name for f in attrs.fields(kind.cls) if f.name != "stage_history"]
    specs: list[ColumnSpec] = []
    problems: list[Problem] = []
    for name in dict.fromkeys(names):
        if not isinstance(name, str):
            problems.append(Problem("names", name, "is not a column name"))
        elif name.startswith("facts.") and kind.keeps_facts:
            fact = name.removeprefix("facts.")
            if fact not in _FACT_COLUMNS:
                problems.append(
                    Problem("names", name, f"is not one of facts.{', facts.'.join(_FACT_COLUMNS)}")
                )
            else:
                shape, empty = _FACT_COLUMNS[fact]
                specs.append(ColumnSpec(name, "fact", fact, shape, empty))
        elif name.startswith("score.") and len(name) > len("score."):
            specs.append(ColumnSpec(name, "score", name.removeprefix("score."), "real"))
        elif name.startswith("custom.") and "custom" in hints:
            key = name.removeprefix("custom.")
            if not key or (schema is not None and schema.field(key) is None):
                known = ", ".join(f"custom.{f.key}" for f in schema.fields) if schema else ""
                problems.append(
                    Problem("names", name, f"is not a custom field of a {kind.name}: {known}")
                    if key
                    else Problem("names", name, "names no custom field (custom.<key>)")
                )
            else:
                specs.append(ColumnSpec(name, "field", "custom", "custom_value", None, key))
        elif name in _PRIMARY and name not in hints and _PRIMARY[name][0] in hints:
            field, shape = _PRIMARY[name]
            specs.append(ColumnSpec(name, "field", field, shape))
        elif name in hints and name in fields:
            specs.extend(_field_specs(name, hints[name]))
        else:
            close = difflib.get_close_matches(name, fields, n=2)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            problems.append(Problem("names", name, f"is not a column of a {kind.name}{hint}"))
    if problems:
        raise ValidationError(problems)
    return specs


def _field_specs(name: str, tp: Any) -> list[ColumnSpec]:
    if name == "custom":
        return [ColumnSpec(name, "field", name, "custom", {})]
    shape = shape_of(tp)
    if shape is Shape.MONEY:
        return [
            ColumnSpec(name, "field", name, "money"),
            ColumnSpec(f"{name}_currency", "field", name, "currency"),
        ]
    inner, optional = optional_inner(tp)
    if inner is EmailAddress:
        return [ColumnSpec(name, "field", name, "email_text")]
    if inner is PhoneNumber:
        return [ColumnSpec(name, "field", name, "phone_text")]
    if shape in (Shape.TAGS, Shape.JSON):
        return [ColumnSpec(name, "field", name, "json", None if optional else _empty_plain(inner))]
    return [ColumnSpec(name, "field", name, shape.value)]


def _empty_plain(tp: Any) -> Any:
    """The plain form of an empty structured field (what an entity holds when it is unset)."""
    origin = typing.get_origin(tp)
    if origin in (tuple, frozenset):
        return []
    if origin is FrozenMap:
        return {}
    try:
        return to_plain(tp())
    except TypeError:
        return None


DERIVED_SHAPES = frozenset(
    {"primary_email", "primary_phone", "email_text", "phone_text", "custom_value"}
)
"""Column shapes a SQL store derives in Python from a JSON column (see `derived_column`)."""


def _email_text(plain: Any) -> Any:
    """An address's normalised text from its plain form (text, or [normalised, original])."""
    return plain[0] if isinstance(plain, list) else plain


def derived_column(spec: ColumnSpec) -> Callable[[Any], Any]:
    """Return how a SQL store derives a one-value column from its stored JSON (decoded).

    ``email_text`` / ``phone_text``: an address's normalised text, a number's E.164;
    ``primary_email`` / ``primary_phone``: the same of the first in a list (None if
    empty); ``custom_value``: the typed value of one custom field (None when missing).
    """
    shape = spec.shape
    if shape == "custom_value":
        key = str(spec.key)
        return lambda data: custom_from_plain(data).get(key)
    if shape == "primary_email":
        return lambda data: _email_text(data[0]) if data else None
    if shape == "primary_phone":
        return lambda data: data[0] if data else None
    if shape == "email_text":
        return _email_text
    return lambda data: data  # phone_text: stored as its E.164 text


def plain_column_value(spec: ColumnSpec, value: Any) -> Any:
    """Return an entity attribute's value as `Repository.columns` gives it (see `ColumnSpec`)."""
    if value is None:
        return spec.empty
    shape = spec.shape
    if shape == "custom_value":
        return value.get(spec.key)
    if shape == "primary_email":
        return value[0].normalized if value else None
    if shape == "primary_phone":
        return value[0].e164 if value else None
    if shape == "email_text":
        return value.normalized
    if shape == "phone_text":
        return value.e164
    if shape == "money":
        return value.amount
    if shape == "currency":
        return value.currency
    if shape == "enum":
        return value.value
    if shape in ("json", "custom"):
        return to_plain(value)
    return value
