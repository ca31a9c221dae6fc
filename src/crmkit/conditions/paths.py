"""Field paths: how a field name in a condition is checked and looked up on a record.

A path is one or more dot-separated Python identifiers. ``custom.<key>`` reads the record's
custom fields; a bare name that is not an attribute of the record but is one of its custom
keys reads that custom value; any further segments read attributes of the value found.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping

from crmkit.errors import SegmentError

__all__ = ["CUSTOM_PREFIX", "check_path", "resolve"]

CUSTOM_PREFIX = "custom."
"""The prefix of custom-field paths."""

_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MISSING = object()


def check_path(path: object) -> str:
    """Return `path` if it is a valid field path, else raise.

    Args:
        path: A dotted path such as ``"employees"``, ``"bant.budget"`` or ``"custom.plan"``.

    Raises:
        SegmentError: When a segment is not an identifier (or is a Python keyword), or a
            custom key is not a custom-field key.
    """
    if not isinstance(path, str) or not path:
        raise SegmentError(f"a field name must be non-empty text, not {path!r}")
    parts = path.split(".")
    for part in parts:
        if not part.isidentifier() or keyword.iskeyword(part) or part.startswith("_"):
            raise SegmentError(
                f"{path!r} is not a field name (dot-separated identifiers, no leading _)"
            )
    if parts[0] == "custom" and (len(parts) != 2 or not _CUSTOM_KEY.match(parts[1])):
        raise SegmentError(f"{path!r} is not a custom field (write custom.<key>)")
    return path


def resolve(record: object, path: str) -> object:
    """Return the value at `path` on `record`, or None when any step of it is missing.

    This is the reference lookup; compiled predicates give the same answers faster.

    Args:
        record: Any object with attributes (an entity, usually).
        path: A path accepted by `check_path`.

    Raises:
        SegmentError: When `path` is not text.
    """
    if not isinstance(path, str):
        raise SegmentError(f"a field path is text, not {type(path).__name__}")
    parts = path.split(".")
    head = parts[0]
    if head == "custom" and len(parts) > 1:
        value: object = _custom(record, parts[1])
        rest = parts[2:]
    else:
        value = getattr(record, head, _MISSING)
        if value is _MISSING:
            value = _custom(record, head)
        rest = parts[1:]
    for part in rest:
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def _custom(record: object, key: str) -> object:
    custom = getattr(record, "custom", None)
    if isinstance(custom, Mapping):
        return custom.get(key)
    return None
