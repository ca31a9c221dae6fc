"""The limits every condition respects, so every evaluator (Python, SQLite, PostgreSQL) agrees.

A condition nests at most `MAX_NESTING` levels: each ``and`` / ``or`` / ``not`` node, each
related-record condition (``company matches (...)``, ``at least 3 activities where ...``)
opens one. Related-record conditions nest at most `MAX_RELATED_NESTING` inside one another
(each becomes a sub-query; SQLite's parser has a fixed stack of 100 entries, and a sub-query
takes about ten of them). Text is held to the same numbers by the parser, which also counts
each ``(`` and reports the position where the limit was passed.
"""

from __future__ import annotations

from crmkit.conditions.constants import _MAX_INTEGER, _MIN_INTEGER
from crmkit.conditions.related import Related, RelatedCount
from crmkit.conditions.tree import And, Condition, Not, Or
from crmkit.errors import SegmentError

__all__ = [
    "MAX_INTEGER",
    "MAX_NESTING",
    "MAX_RELATED_NESTING",
    "MIN_INTEGER",
    "check_nesting",
    "nesting",
]

MAX_NESTING = 32
"""How deep conditions nest: ``and``, ``or``, ``not`` and related-record conditions."""

MAX_RELATED_NESTING = 4
"""How deep related-record conditions nest inside one another."""

MIN_INTEGER = _MIN_INTEGER
"""The smallest whole number a condition holds (a signed 64-bit integer, as SQL stores it)."""

MAX_INTEGER = _MAX_INTEGER
"""The largest whole number a condition holds."""


def nesting(condition: Condition) -> tuple[int, int]:
    """Return how deep `condition` nests: ``(levels, related levels)``; a leaf is ``(0, 0)``."""
    if isinstance(condition, And | Or):
        depths = [nesting(item) for item in condition.items]
        return 1 + max(d for d, _ in depths), max(r for _, r in depths)
    if isinstance(condition, Not):
        depth, related = nesting(condition.item)
        return depth + 1, related
    if isinstance(condition, Related):
        depth, related = nesting(condition.condition)
        return depth + 1, related + 1
    if isinstance(condition, RelatedCount):
        if condition.where is None:
            return 1, 1
        depth, related = nesting(condition.where)
        return depth + 1, related + 1
    return 0, 0


def check_nesting(condition: Condition) -> None:
    """Refuse a condition nested deeper than the limits, before it reaches any evaluator.

    Raises:
        SegmentError: Naming the limit that was passed.
    """
    _check(condition, 0, 0)


def _check(condition: Condition, depth: int, related: int) -> None:
    # Recursion stops at the first level past a limit, so a tree nested thousands deep is
    # refused without exhausting Python's recursion limit.
    _check_levels(depth, related)
    if isinstance(condition, And | Or):
        for item in condition.items:
            _check(item, depth + 1, related)
    elif isinstance(condition, Not):
        _check(condition.item, depth + 1, related)
    elif isinstance(condition, Related):
        _check(condition.condition, depth + 1, related + 1)
    elif isinstance(condition, RelatedCount):
        if condition.where is None:
            _check_levels(depth + 1, related + 1)
        else:
            _check(condition.where, depth + 1, related + 1)


def _check_levels(depth: int, related: int) -> None:
    if depth > MAX_NESTING:
        raise SegmentError(
            f"the condition nests deeper than {MAX_NESTING} levels (and, or, not, related records)"
        )
    if related > MAX_RELATED_NESTING:
        raise SegmentError(
            f"related-record conditions nest deeper than {MAX_RELATED_NESTING} levels"
        )
