"""Column fetches (`Repository.columns`): names resolved to model fields, facts and scores."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Sequence
from typing import Any

import attrs

from crmkit.errors import (
    Problem,
    ValidationError,
)
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.registry import Kind
from crmkit.model.shapes import Shape, optional_inner, shape_of
from crmkit.storage.backend import ColumnSpec
from crmkit.storage.plain import field_types, to_plain

__all__ = ["column_specs", "plain_column_value"]

_FACT_COLUMNS: dict[str, tuple[str, Any]] = {
    "order_count": ("int", 0),
    "activity_count": ("int", 0),
    "last_order_at": ("timestamp", None),
    "last_activity_at": ("timestamp", None),
}


def column_specs(kind: Kind, names: Sequence[str]) -> list[ColumnSpec]:
    """Resolve column names for `Repository.columns`: model fields, facts and scores.

    Raises:
        ValidationError: Listing every name that is not a column of `kind`.
    """
    if isinstance(names, str) or not names:
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
    if shape in (Shape.TAGS, Shape.JSON):
        inner, optional = optional_inner(tp)
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


def plain_column_value(spec: ColumnSpec, value: Any) -> Any:
    """Return an entity attribute's value as `Repository.columns` gives it (see `ColumnSpec`)."""
    if value is None:
        return spec.empty
    shape = spec.shape
    if shape == "money":
        return value.amount
    if shape == "currency":
        return value.currency
    if shape == "enum":
        return value.value
    if shape in ("json", "custom"):
        return to_plain(value)
    return value
