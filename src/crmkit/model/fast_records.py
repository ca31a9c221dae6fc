"""Fast construction of frozen records, for hot paths (pipeline moves, loading rows).

A pipeline move builds a new deal, two stays, an event and its result; a store loading
rows builds an entity and its value objects per row. attrs' generated `__init__`
for a frozen, slotted class sets each field through ``object.__setattr__``, and
`attrs.evolve` adds a pass over the fields on top; on `Deal`'s 23 fields that is most of a
move. These helpers generate, once per class, straight-line functions that create the
object and fill its slots directly.

They are used only for classes where that is exactly what `__init__` would do: attrs,
slotted, every field in `__init__`, no validators, converters, ``on_setattr`` hooks or
``__attrs_pre_init__`` / ``__attrs_post_init__``. For any other class they fall back to
`attrs.evolve` and the normal constructor, so a later validator on `Deal` keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import attrs

from crmkit.codegen import generate

__all__ = ["builder", "copy_with", "evolver", "plain_record"]

T = TypeVar("T")


def plain_record(cls: type) -> bool:
    """Whether creating `cls` is nothing but setting its slots (so it can be done directly)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        return False
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return False
    for field in attrs.fields(cls):
        if not field.init or field.validator is not None or field.converter is not None:
            return False
        if field.on_setattr not in (None, attrs.setters.NO_OP):
            return False
    return True


def _fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cast(Any, cls))
    return fields


def _namespace(cls: type) -> dict[str, Any]:
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for i, field in enumerate(_fields(cls)):
        namespace[f"_set{i}"] = getattr(cls, field.name).__set__
    return namespace


def evolver(cls: type[T], changed: Sequence[str], *, positional: bool = False) -> Callable[..., T]:
    """Return ``f(record, **changes)`` copying `record` with the `changed` fields replaced.

    The changes must be passed by keyword, exactly the names in `changed`; with
    ``positional=True``, by position in the order of `changed` (faster to call).
    """
    names = [f.name for f in _fields(cls)]
    unknown = set(changed) - set(names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no fields {sorted(unknown)}")
    if not plain_record(cls):
        if positional:
            return lambda record, *values: attrs.evolve(
                record, **dict(zip(changed, values, strict=True))
            )
        return lambda record, **changes: attrs.evolve(record, **changes)
    star = "" if positional else "*, "
    lines = [f"def evolve(record, {star}{', '.join(changed)}):", "    new = _new(_cls)"]
    for i, name in enumerate(names):
        value = name if name in changed else f"record.{name}"
        lines.append(f"    _set{i}(new, {value})")
    lines.append("    return new")
    what = f"record copier: {cls.__name__}({', '.join(changed)})"
    function: Callable[..., T] = generate("\n".join(lines), _namespace(cls), "evolve", what=what)
    return function


def builder(cls: type[T], *, positional: bool = False) -> Callable[..., T]:
    """Return ``f(**fields)`` that builds `cls` from every one of its fields, by keyword.

    With ``positional=True`` the function takes every field by position instead, in the
    class's field order (faster to call with many fields).
    """
    names = [str(field.alias) for field in _fields(cls)]
    if not plain_record(cls):
        if not positional:
            return cls
        return lambda *values: cls(**dict(zip(names, values, strict=True)))
    star = "" if positional else "*, "
    lines = [f"def build({star}{', '.join(names)}):", "    new = _new(_cls)"]
    lines.extend(f"    _set{i}(new, {name})" for i, name in enumerate(names))
    lines.append("    return new")
    what = f"record builder: {cls.__name__}{' (positional)' if positional else ''}"
    function: Callable[..., T] = generate("\n".join(lines), _namespace(cls), "build", what=what)
    return function


# Copiers by (class, names of the fields replaced): made on first use; a program copies with
# few sets of fields, and past `_MOST_COPIERS` sets `copy_with` falls back to attrs.evolve.
_COPIERS: dict[tuple[type, tuple[str, ...]], Callable[..., Any]] = {}
_MOST_COPIERS = 256


def copy_with(record: T, values: dict[str, Any]) -> T:
    """Return a copy of `record` with `values` set: `attrs.evolve` through a cached `evolver`.

    `values` must name fields of the record's class (as `attrs.evolve` requires).
    """
    key = (type(record), tuple(values))
    copier = _COPIERS.get(key)
    if copier is None:
        if len(_COPIERS) >= _MOST_COPIERS:
            return attrs.evolve(record, **values)  # type: ignore[misc]
        copier = _COPIERS[key] = evolver(type(record), key[1])
    return cast(T, copier(record, **values))
