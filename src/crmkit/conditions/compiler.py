"""The shape of every condition compiler: one method per node kind, dispatched by `kind`.

A compiler for a new target (Python source, closures, later SQL per dialect) subclasses
`ConditionCompiler` and writes ``visit_compare``, ``visit_in``, ``visit_between``,
``visit_contains``, ``visit_starts_with``, ``visit_has_tag``, ``visit_is_empty``,
``visit_and``, ``visit_or`` and ``visit_not``. A node kind it does not know raises
`SegmentError`, so adding a node kind never silently compiles to nonsense.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from crmkit.conditions.tree import Condition
from crmkit.errors import SegmentError

__all__ = ["ConditionCompiler"]

T = TypeVar("T")


class ConditionCompiler(Generic[T]):
    """Walks a condition tree, calling ``visit_<kind>`` for each node."""

    def compile(self, node: Condition) -> T:
        """Return what this compiler makes of `node`.

        Raises:
            SegmentError: When the compiler has no method for the node's kind.
        """
        method = getattr(self, f"visit_{node.kind}", None)
        if method is None:
            raise SegmentError(f"{type(self).__name__} cannot compile {node.kind!r} conditions")
        result: T = method(node)
        return result
