"""Conditions on related records: ``company matches (...)``, ``at least 3 activities``.

`Related` tests the one record a record points to (a contact's company); `RelatedCount`
counts the live records that point to it (a contact's activities, orders, deals) and
compares the count. Which relations a kind of record has is listed in
`crmkit.conditions.binding.RELATIONS`. Only live (not archived) related records count.

Evaluating either needs the records around the one tested, so they compile only through
an evaluator that has them: ``uow.contacts.find(...)`` or `crmkit.segments.matcher`.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs

from crmkit.conditions.constants import _MAX_INTEGER as MAX_INTEGER
from crmkit.conditions.tree import (
    COMPARISONS,
    Condition,
    condition_from_dict,
    register_dict_form,
)
from crmkit.errors import SegmentError
from crmkit.model.registry import KINDS, derived

__all__ = ["COUNTED_RELATIONS", "Related", "RelatedCount"]


def _counted_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for name, kind in KINDS.items():
        for ref in kind.refs:
            if ref.counted_as is not None:
                names.setdefault(name, ref.counted_as)
                names[ref.counted_as] = ref.counted_as
            if ref.many and ref.relation is not None:
                names.setdefault(ref.target, ref.relation)
                names[ref.relation] = ref.relation
    return dict(sorted(names.items()))


COUNTED_RELATIONS: Mapping[str, str] = derived(_counted_names)
"""The names a counted relation may be written with (singular or plural) → its name, from
the registry of kinds (``activity`` and ``activities`` → ``activities``)."""


def _relation(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value.isidentifier()
        or keyword.iskeyword(value)
        or value.startswith("_")
    ):
        raise SegmentError(f"{value!r} is not a relation name")
    return value


def _counted(value: object) -> str:
    name = COUNTED_RELATIONS.get(value) if isinstance(value, str) else None
    if name is None:
        raise SegmentError(
            f"{value!r} is not a counted relation: use one of "
            + ", ".join(sorted(set(COUNTED_RELATIONS.values())))
        )
    return name


def _condition(value: object) -> Condition:
    if not isinstance(value, Condition):
        raise SegmentError(f"{value!r} is not a condition")
    return value


def _optional_condition(value: object) -> Condition | None:
    return None if value is None else _condition(value)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SegmentError(f"a count is a whole number >= 0, not {value!r}")
    if value > MAX_INTEGER:
        raise SegmentError(
            f"{value} is beyond the largest whole number conditions hold ({MAX_INTEGER})"
        )
    return value


def _check_op(_instance: object, _attribute: object, value: str) -> None:
    if value not in COMPARISONS:
        raise SegmentError(f"{value!r} is not a comparison: use one of {', '.join(COMPARISONS)}")


@attrs.frozen
class Related(Condition):
    """The record this one points to (``company``) exists, is live and matches `condition`.

    Attributes:
        relation: The link's name (``"company"``, ``"parent"``).
        condition: The condition on the related record.
    """

    kind: ClassVar[str] = "related"
    relation: str = attrs.field(converter=_relation)
    condition: Condition = attrs.field(converter=_condition)

    def _walk_fields(self) -> Iterator[str]:
        for path in self.condition._walk_fields():
            yield f"{self.relation}.{path}"

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"related": relation, "matches": {...}}``."""
        return {"related": self.relation, "matches": self.condition.to_dict()}

    def __str__(self) -> str:
        return f"{self.relation} matches ({self.condition})"


@attrs.frozen
class RelatedCount(Condition):
    """The number of live related records (matching `where`) compares with `value`.

    ``at least 3 activities where (kind == "email")`` is ``RelatedCount("activities",
    F("kind") == "email", ">=", 3)``; ``no orders`` is ``RelatedCount("orders", None,
    "==", 0)``.

    Attributes:
        relation: ``activities``, ``orders``, ``deals``, ``contacts`` or ``tasks``.
        where: The condition a related record must meet to count; None counts them all.
        operator: One of the comparisons.
        value: The count compared with.
    """

    kind: ClassVar[str] = "related_count"
    relation: str = attrs.field(converter=_counted)
    where: Condition | None = attrs.field(converter=_optional_condition)
    operator: str = attrs.field(validator=_check_op)
    value: int = attrs.field(converter=_count)

    def holds(self, count: int) -> bool:
        """Whether a count satisfies the comparison."""
        op, n = self.operator, self.value
        if op == "==":
            return count == n
        if op == "!=":
            return count != n
        if op == "<":
            return count < n
        if op == "<=":
            return count <= n
        if op == ">":
            return count > n
        return count >= n

    def _walk_fields(self) -> Iterator[str]:
        if self.where is None:
            yield self.relation
            return
        for path in self.where._walk_fields():
            yield f"{self.relation}.{path}"

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"count": relation, "where": {...}, "op": ..., "value": n}``."""
        data: dict[str, Any] = {"count": self.relation}
        if self.where is not None:
            data["where"] = self.where.to_dict()
        data["op"] = self.operator
        data["value"] = self.value
        return data

    def __str__(self) -> str:
        where = "" if self.where is None else f" where ({self.where})"
        op, n = self.operator, self.value
        if op == ">=":
            return f"at least {n} {self.relation}{where}"
        if op == "<=":
            return f"at most {n} {self.relation}{where}"
        if op == "==":
            return f"no {self.relation}{where}" if n == 0 else f"exactly {n} {self.relation}{where}"
        return f"count({self.relation}{where}) {op} {n}"


def _load_related(data: Mapping[str, Any]) -> Condition:
    if set(data) != {"related", "matches"} or not isinstance(data["matches"], Mapping):
        raise SegmentError(f"{dict(data)!r} is not a related condition")
    return Related(data["related"], condition_from_dict(data["matches"]))


def _load_count(data: Mapping[str, Any]) -> Condition:
    if not {"count", "op", "value"} <= set(data) <= {"count", "where", "op", "value"}:
        raise SegmentError(f"{dict(data)!r} is not a count condition")
    where = data.get("where")
    return RelatedCount(
        data["count"],
        None if where is None else condition_from_dict(where),
        data["op"],
        data["value"],
    )


register_dict_form("related", _load_related)
register_dict_form("count", _load_count)
