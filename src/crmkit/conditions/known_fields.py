"""Checking that a condition only names fields a kind of record has, with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs

from crmkit.conditions.tree import Condition
from crmkit.errors import SegmentError

__all__ = ["fields_of", "unknown_fields", "validate_fields"]


def fields_of(record_type: type, *, custom: bool = True) -> frozenset[str]:
    """Return the field names of an attrs record class, plus ``custom.*`` when `custom`.

    Args:
        record_type: An attrs class such as `Deal` or `Lead`.
        custom: Whether any ``custom.<key>`` is allowed.

    Raises:
        SegmentError: When `record_type` is not an attrs class.
    """
    if not isinstance(record_type, type) or not attrs.has(record_type):
        raise SegmentError(
            f"record_type is an attrs record class such as Deal, not {record_type!r}"
        )
    names = {field.name for field in attrs.fields(record_type) if not field.name.startswith("_")}
    if custom:
        names.add("custom.*")
    return frozenset(names)


def _known(path: str, known: frozenset[str]) -> bool:
    if path in known:
        return True
    prefix, dot, _rest = path.rpartition(".")
    while dot:
        if f"{prefix}.*" in known:
            return True
        prefix, dot, _rest = prefix.rpartition(".")
    return False


def unknown_fields(condition: Condition, known_fields: Iterable[str]) -> tuple[str, ...]:
    """Return the paths in `condition` that `known_fields` does not cover, in order.

    A known entry ``"custom.*"`` (or any ``"<prefix>.*"``) covers every path under it.

    Raises:
        SegmentError: When `condition` is not a condition or `known_fields` not field names.
    """
    if not isinstance(condition, Condition):
        raise SegmentError(f"{condition!r} is not a condition")
    if isinstance(known_fields, str) or not isinstance(known_fields, Iterable):
        raise SegmentError(f"known_fields is a collection of field names, not {known_fields!r}")
    known = frozenset(known_fields)
    if not all(isinstance(name, str) for name in known):
        raise SegmentError("known_fields holds field names: text such as 'amount' or 'custom.*'")
    return tuple(path for path in condition.fields() if not _known(path, known))


def validate_fields(condition: Condition, known_fields: Iterable[str]) -> None:
    """Raise if `condition` names a field that is not known, suggesting the closest names.

    Args:
        condition: The condition to check.
        known_fields: The allowed paths; ``"custom.*"`` allows every custom field.

    Raises:
        SegmentError: Naming every unknown field, each with a "did you mean" suggestion
            when one is close enough; or when `condition` is not a condition or
            `known_fields` not field names.
    """
    if not isinstance(known_fields, str) and isinstance(known_fields, Iterable):
        known_fields = list(known_fields)  # read once: unknown_fields checks it
    unknown = unknown_fields(condition, known_fields)
    if not unknown:
        return
    known = frozenset(known_fields)
    candidates = sorted(k for k in known if not k.endswith(".*"))
    messages = []
    for path in unknown:
        close = difflib.get_close_matches(path, candidates, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        messages.append(f"unknown field {path!r}{hint}")
    raise SegmentError("; ".join(messages))
