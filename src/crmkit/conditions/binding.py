"""Binding a condition to a kind of record: which fields exist, what they hold, what they mean.

A condition as written (``plan = "pro" and company.industry = "software"``) names fields
loosely. `bind` checks it against one kind of record and returns a `Binding`: a tree with
canonical field paths (``custom.plan``), related-record conditions made explicit
(``company matches (industry == "software")``), derived facts and scores wrapped in
`FactTest` / `ScoreTest`, and constants checked against the field's type, so every
evaluator (in memory, SQLite, PostgreSQL) sees the same, unambiguous tree.

What a segment over a kind can name:

- **core fields** of the record (``country``, ``employees``, ``amount``, ``created_at``;
  ``amount.currency`` and ``amount.amount`` for Money);
- ``email`` on contacts: the primary address (normalised text);
- **custom fields**: ``custom.<key>``, or the bare key when it is declared in the kind's
  custom-field schema and is not a built-in name;
- **facts** (contacts, companies, deals, leads): ``last_activity_at``, ``activity_count``,
  ``order_count``, ``last_order_at`` and ``total_spent`` (compared with Money, per currency);
  a record without activities or orders has counts 0, no dates and 0 spent;
- **scores**: ``score.<scorer>``, the latest value that scorer stored for the record;
- **related records**: ``company.<field>`` / ``company matches (...)`` (`RELATIONS`) and
  counted relations such as ``at least 3 activities where (...)`` (`COUNTED`);
- **ids of related records** a record holds in a tuple (a deal's ``contact_ids``): only
  ``contains uuid("...")`` and ``is empty``;
- on deals, **``is open`` / ``is won`` / ``is lost``** (`DealOutcome`), expanded with the
  store's pipelines into conditions on ``pipeline`` and ``stage``.

Unknown names raise `SegmentError` with a "did you mean" suggestion; so do constants of the
wrong type (``employees > "many"``), which would otherwise be silently false.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from crmkit.conditions.constants import Constant
from crmkit.conditions.dates import BusinessCalendar, RelativeDate
from crmkit.conditions.outcomes import (
    DealOutcome,
    PipelineStages,
    check_pipelines,
    outcome_condition,
    stage_labels,
)
from crmkit.conditions.related import Related, RelatedCount
from crmkit.conditions.text import fold_ascii
from crmkit.conditions.tree import (
    And,
    Between,
    Compare,
    Condition,
    Contains,
    EqualsIgnoringCase,
    FieldCondition,
    HasTag,
    In,
    IsEmpty,
    Not,
    Or,
    StartsWith,
)
from crmkit.errors import SegmentError
from crmkit.model.custom_fields import CustomFieldSchema, FieldType
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS, derived
from crmkit.model.shapes import Shape, optional_inner, shape_of
from crmkit.values.money import Money

__all__ = [
    "COUNTED",
    "FACT_FIELDS",
    "RECORD_TYPES",
    "RELATIONS",
    "Binding",
    "FactTest",
    "FieldSpec",
    "Relation",
    "ScoreTest",
    "bind",
    "field_spec",
    "known_names",
]

RECORD_TYPES: Mapping[str, type[Entity]] = derived(
    lambda: {name: kind.cls for name, kind in KINDS.items()}
)
"""The kinds of record a segment can select, by name (from the registry of kinds)."""


@attrs.frozen
class Relation:
    """How records of one kind relate to records of `target`.

    Attributes:
        target: The related kind.
        link: The field holding the id(s).
        style: ``"to_one"`` (the subject's `link` holds the target's id), ``"fk"`` (the
            target's `link` holds the subject's id), ``"many_on_target"`` (the target's
            `link` is a tuple of ids holding the subject's), ``"many_on_subject"`` (the
            subject's `link` is a tuple of the targets' ids).
    """

    target: str
    link: str
    style: str


def _relations() -> dict[str, dict[str, Relation]]:
    found: dict[str, dict[str, Relation]] = {}
    for name, kind in KINDS.items():
        for ref in kind.refs:
            if ref.relation is not None and not ref.many:
                found.setdefault(name, {})[ref.relation] = Relation(ref.target, ref.field, "to_one")
    return found


def _counted() -> dict[str, dict[str, Relation]]:
    found: dict[str, dict[str, Relation]] = {}
    for name, kind in KINDS.items():
        for ref in kind.refs:
            if ref.many and ref.relation is not None:
                found.setdefault(name, {})[ref.relation] = Relation(
                    ref.target, ref.field, "many_on_subject"
                )
            if ref.counted_as is not None:
                style = "many_on_target" if ref.many else "fk"
                found.setdefault(ref.target, {})[ref.counted_as] = Relation(name, ref.field, style)
    return found


RELATIONS: Mapping[str, Mapping[str, Relation]] = derived(_relations)
"""The records each kind points to (``company matches (...)``), by relation name: each
reference of the registry with a `relation` name."""

COUNTED: Mapping[str, Mapping[str, Relation]] = derived(_counted)
"""The records that point to each kind (``at least 3 activities``), by relation name: each
reference of the registry `counted_as` on its target, and each many-reference's `relation`."""

FACT_FIELDS: Mapping[str, str] = {
    "last_activity_at": "timestamp",
    "activity_count": "int",
    "order_count": "int",
    "last_order_at": "timestamp",
    "total_spent": "spent",
}
"""The derived facts a segment can read on contacts, companies, deals and leads."""

_FACT_KINDS: Mapping[str, bool] = derived(
    lambda: {name: True for name, kind in KINDS.items() if kind.keeps_facts}
)

_CUSTOM_SHAPES = {
    FieldType.TEXT: "text",
    FieldType.CHOICE: "text",
    FieldType.INTEGER: "int",
    FieldType.DECIMAL: "decimal",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamp",
    FieldType.BOOL: "bool",
    FieldType.MULTI_CHOICE: "multi",
}


@attrs.frozen
class FieldSpec:
    """What one field path means on one kind of record.

    Attributes:
        path: The canonical path (``"country"``, ``"custom.plan"``, ``"amount.currency"``).
        shape: What it holds: ``text``, ``int``, ``real``, ``decimal``, ``money``,
            ``timestamp``, ``date``, ``bool``, ``uuid``, ``tags``, ``json`` (a structure:
            only emptiness is tested), ``ids`` (a tuple of related records' ids, such as a
            deal's ``contact_ids``: membership and emptiness), ``multi`` (a set of
            choices), ``spent`` (money per currency) or ``any`` (a custom field without a
            declared type).
        source: Where the value lives: ``column`` (a field of the record), ``email`` (the
            contact's primary address), ``custom``, ``fact`` or ``score``.
        column: The record field (or fact, or custom key) it is read from.
        part: For Money parts: ``"amount"`` or ``"currency"``.
        choices: The allowed values of an enum or choice field, when fixed.
    """

    path: str
    shape: str
    source: str = "column"
    column: str = ""
    part: str | None = None
    choices: tuple[str, ...] = ()


# What a segment may do with each field shape: durations are only tested for emptiness
# (``is empty``) until the language has duration constants; anything structured likewise.
_SEGMENT_SHAPES = {Shape.ENUM: "text", Shape.DURATION: "json"}


def _shape_of(tp: Any) -> tuple[str, tuple[str, ...]]:
    shape = shape_of(tp)
    if shape is Shape.ENUM:
        members = optional_inner(tp)[0]
        return "text", tuple(str(m.value) for m in members)
    return _SEGMENT_SHAPES.get(shape, shape.value), ()


_CORE_CACHE: dict[type[Entity], dict[str, FieldSpec]] = {}


def _core_fields(kind: str) -> dict[str, FieldSpec]:
    cls = RECORD_TYPES[kind]
    found = _CORE_CACHE.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        many = {ref.field for ref in KINDS[kind].refs if ref.many} if kind in KINDS else set()
        found = {}
        for field in attrs.fields(cls):
            if field.name.startswith("_") or field.name == "custom":
                continue
            shape, choices = _shape_of(hints[field.name])
            if shape == "tags" and field.name != "tags":
                shape = "json"
            if field.name in many:
                shape = "ids"
            found[field.name] = FieldSpec(field.name, shape, "column", field.name, None, choices)
            if shape == "money":
                found[f"{field.name}.amount"] = FieldSpec(
                    f"{field.name}.amount", "decimal", "column", field.name, "amount"
                )
                found[f"{field.name}.currency"] = FieldSpec(
                    f"{field.name}.currency", "text", "column", field.name, "currency"
                )
        _CORE_CACHE[cls] = found
    return found


def _has_emails(kind: str) -> bool:
    """Whether records of the kind have email addresses (``email`` is their primary one)."""
    found = KINDS.get(kind)
    return found is not None and "emails" in found.side_tables


def field_spec(kind: str, path: str, schema: CustomFieldSchema | None = None) -> FieldSpec | None:
    """Return what a canonical path means on a kind (None when it names nothing).

    Args:
        kind: The kind of record (``"contact"``).
        path: A path as `bind` leaves it (``"country"``, ``"custom.plan"``, ``"email"``).
        schema: The kind's custom-field schema, when one is stored.
    """
    core = _core_fields(kind)
    if path in core:
        return core[path]
    if path == "email" and _has_emails(kind):
        return FieldSpec("email", "text", "email", "emails")
    if path.startswith("custom."):
        key = path.removeprefix("custom.")
        declared = schema.field(key) if schema is not None else None
        if declared is not None:
            return FieldSpec(
                path, _CUSTOM_SHAPES[declared.type], "custom", key, None, declared.choices
            )
        if schema is None or not schema.fields:
            return FieldSpec(path, "any", "custom", key)
        return None
    if kind in _FACT_KINDS and path in FACT_FIELDS:
        return FieldSpec(path, FACT_FIELDS[path], "fact", path)
    return None


def known_names(kind: str, schema: CustomFieldSchema | None = None) -> list[str]:
    """Return every field name a segment over `kind` may use, for suggestions and docs."""
    names = list(_core_fields(kind))
    if _has_emails(kind):
        names.append("email")
    if kind in _FACT_KINDS:
        names.extend(FACT_FIELDS)
    if schema is not None:
        for field in schema.fields:
            names.append(f"custom.{field.key}")
            names.append(field.key)
    names.extend(RELATIONS.get(kind, {}))
    names.extend(COUNTED.get(kind, {}))
    return sorted(set(names))


@attrs.frozen
class FactTest(Condition):
    """A bound condition on one of the record's derived facts (internal to evaluators).

    Attributes:
        item: The condition, on a fact field (`FACT_FIELDS`).
    """

    kind: ClassVar[str] = "fact_test"
    item: FieldCondition

    def _walk_fields(self) -> Iterator[str]:
        yield self.item.field

    def to_dict(self) -> dict[str, Any]:
        """Return the item's dict form (a fact reads like a field)."""
        return self.item.to_dict()

    def __str__(self) -> str:
        return str(self.item)


@attrs.frozen
class ScoreTest(Condition):
    """A bound condition on the record's latest score by `scorer` (internal to evaluators).

    Attributes:
        scorer: The scorer's name.
        item: The condition, on the field ``value``.
    """

    kind: ClassVar[str] = "score_test"
    scorer: str
    item: FieldCondition

    def _walk_fields(self) -> Iterator[str]:
        yield f"score.{self.scorer}"

    def to_dict(self) -> dict[str, Any]:
        """Return the dict form of the condition as written."""
        return {**self.item.to_dict(), "field": f"score.{self.scorer}"}

    def __str__(self) -> str:
        return str(self.item).replace("value", f"score.{self.scorer}", 1)


@attrs.frozen
class Binding:
    """A condition bound to a kind of record: the tree every evaluator runs.

    Attributes:
        kind: The kind of record selected.
        condition: The bound tree.
        specs: What each canonical path means, per kind: ``specs[(kind, path)]``.
    """

    kind: str
    condition: Condition
    specs: Mapping[tuple[str, str], FieldSpec]

    def spec(self, kind: str, path: str) -> FieldSpec:
        """Return the spec of a bound path."""
        return self.specs[(kind, path)]


SchemaLookup = Callable[[str], CustomFieldSchema | None]


def bind(
    condition: Condition,
    kind: str,
    *,
    schemas: SchemaLookup | None = None,
    calendar: BusinessCalendar | None = None,
    pipelines: Mapping[str, PipelineStages] | None = None,
) -> Binding:
    """Check a condition against a kind of record and return the tree evaluators run.

    Args:
        condition: The condition as written (parsed or built with `F`).
        kind: The kind of record it selects (``"contact"``).
        schemas: Returns the stored custom-field schema of a kind (None when none).
        calendar: The business calendar; dates compared with instants
            (``created_at >= 2026-03-01``) mean the start of that day in its time zone.
        pipelines: The store's pipelines by key (`crmkit.pipelines.Pipeline`), which
            ``is open`` / ``is won`` / ``is lost`` on deals need: each becomes a condition
            on the deal's ``pipeline`` and ``stage``.

    Raises:
        SegmentError: Naming an unknown field (with suggestions), a relation the kind does
            not have, a value of the wrong type for its field, or ``is won`` (open, lost)
            on a kind other than deals or without pipelines; or an argument of the wrong
            type (`kind`, `condition`, `calendar`, `schemas`, `pipelines`).
    """
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        raise SegmentError(f"{kind!r} is not a kind of record: one of {', '.join(RECORD_TYPES)}")
    if not isinstance(condition, Condition):
        raise SegmentError(f"{condition!r} is not a condition")
    if calendar is not None and not isinstance(calendar, BusinessCalendar):
        raise SegmentError(f"calendar is a BusinessCalendar, not {type(calendar).__name__}")
    if schemas is not None and not callable(schemas):
        raise SegmentError(
            f"schemas looks up a kind's custom-field schema (a function), not {schemas!r}"
        )
    binder = _Binder(
        schemas or (lambda _kind: None), calendar or BusinessCalendar(), check_pipelines(pipelines)
    )
    bound = binder.bind(condition, kind)
    return Binding(kind, bound, types.MappingProxyType(binder.specs))


@attrs.define
class _Binder:
    schemas: SchemaLookup
    calendar: BusinessCalendar
    pipelines: Mapping[str, PipelineStages] | None = None
    specs: dict[tuple[str, str], FieldSpec] = attrs.field(factory=dict)
    _schema_cache: dict[str, CustomFieldSchema | None] = attrs.field(factory=dict)

    def schema(self, kind: str) -> CustomFieldSchema | None:
        if kind not in self._schema_cache:
            self._schema_cache[kind] = self.schemas(kind)
        return self._schema_cache[kind]

    def bind(self, node: Condition, kind: str) -> Condition:
        if isinstance(node, And):
            return And([self.bind(item, kind) for item in node.items])
        if isinstance(node, Or):
            return Or([self.bind(item, kind) for item in node.items])
        if isinstance(node, Not):
            return Not(self.bind(node.item, kind))
        if isinstance(node, Related):
            relation = RELATIONS.get(kind, {}).get(node.relation)
            if relation is None:
                raise self._unknown_relation(node.relation, kind, RELATIONS)
            return Related(node.relation, self.bind(node.condition, relation.target))
        if isinstance(node, RelatedCount):
            relation = COUNTED.get(kind, {}).get(node.relation)
            if relation is None:
                raise self._unknown_relation(node.relation, kind, COUNTED)
            where = None if node.where is None else self.bind(node.where, relation.target)
            return RelatedCount(node.relation, where, node.operator, node.value)
        if isinstance(node, FieldCondition):
            return self.leaf(node, kind)
        if isinstance(node, DealOutcome):
            return self.outcome(node, kind)
        raise SegmentError(f"{type(node).__name__} conditions cannot be used in segments")

    def outcome(self, node: DealOutcome, kind: str) -> Condition:
        try:
            core = _core_fields(kind)
            if "pipeline" not in core or "stage" not in core:
                raise SegmentError(
                    f"'{node}' applies to deals (records in a pipeline), not to a {kind}"
                )
            return self.bind(outcome_condition(node, self.pipelines), kind)
        except SegmentError as error:
            # The condition as written, so a parser can point at it.
            error.field = str(node)  # type: ignore[attr-defined]
            raise

    def _unknown_relation(
        self, name: str, kind: str, table: Mapping[str, Mapping[str, Relation]]
    ) -> SegmentError:
        known = sorted(table.get(kind, {}))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = ", ".join(known) or "none"
        return SegmentError(f"a {kind} has no relation {name!r}{hint}; it has: {listed}")

    def leaf(self, node: FieldCondition, kind: str) -> Condition:
        try:
            return self._leaf(node, kind)
        except SegmentError as error:
            # The field as written, so a parser can point at it (the outermost wins).
            error.field = node.field  # type: ignore[attr-defined]
            raise

    def _leaf(self, node: FieldCondition, kind: str) -> Condition:
        path = node.field
        schema = self.schema(kind)
        head, _dot, rest = path.partition(".")
        if head == "score" and rest and kind in _FACT_KINDS:
            if "." in rest:
                raise SegmentError(f"{path!r} is not a score: write score.<scorer>")
            item = self.check(
                attrs.evolve(node, field="value"), FieldSpec("value", "real", "score", rest)
            )
            if not isinstance(item, FieldCondition):  # pragma: no cover - scores take no days
                raise SegmentError(f"{path!r} cannot be tested that way")
            return ScoreTest(rest, item)
        spec = field_spec(kind, path, schema)
        if spec is None and head != "custom" and head not in _core_fields(kind):
            relation = RELATIONS.get(kind, {}).get(head)
            if relation is not None and rest:
                return Related(head, self.bind(attrs.evolve(node, field=rest), relation.target))
            if "." not in path and schema is not None and schema.field(path) is not None:
                spec = field_spec(kind, f"custom.{path}", schema)
        if spec is None:
            raise self._unknown_field(path, kind, schema)
        if spec.path == "stage" and "pipeline" in _core_fields(kind):
            named = stage_labels(node, self.pipelines)  # "Closed Won" → its stage keys
            if named is not node:
                return self.bind(named, kind)
        checked = self.check(attrs.evolve(node, field=spec.path), spec)
        self.specs[(kind, spec.path)] = spec
        if spec.source == "fact":
            return (
                FactTest(checked) if isinstance(checked, FieldCondition) else _wrap_facts(checked)
            )
        return checked

    def _unknown_field(
        self, path: str, kind: str, schema: CustomFieldSchema | None
    ) -> SegmentError:
        candidates = known_names(kind, schema)
        close = difflib.get_close_matches(path, candidates, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        if path.startswith("custom.") and schema is not None and schema.fields:
            return SegmentError(f"{kind} has no custom field {path!r}{hint}")
        if not hint and "." not in path:
            hint = f" (a custom field without a declared schema is written custom.{path})"
        return SegmentError(f"unknown field {path!r} for a {kind}{hint}")

    # -- constants against field types ------------------------------------------------------

    def check(self, node: FieldCondition, spec: FieldSpec) -> Condition:
        shape = spec.shape
        name = spec.path if spec.source != "score" else "a score"
        if isinstance(node, IsEmpty):
            if shape == "spent":
                raise SegmentError("total_spent is never empty: compare it with an amount")
            return node
        if isinstance(node, RelativeDate):
            if shape not in ("timestamp", "date", "any"):
                raise SegmentError(f"{name} is not a date: relative dates do not apply")
            return node
        if shape == "ids":
            if not isinstance(node, Contains):
                raise SegmentError(
                    f"{name} holds ids: use 'contains uuid(\"...\")', 'is empty' or 'is not empty'"
                )
            return attrs.evolve(node, value=_an_id(node.value, name))
        if shape == "json":
            raise SegmentError(f"{name} can only be tested with 'is empty' / 'is not empty'")
        if isinstance(node, HasTag):
            if shape not in ("tags", "multi", "any"):
                raise SegmentError(f"{name} holds no tags: 'has tag' does not apply")
            return node
        if isinstance(node, Contains):
            if shape not in ("text", "tags", "multi", "any"):
                raise SegmentError(f"{name} is not text or a set: 'contains' does not apply")
            if shape != "any" and not isinstance(node.value, str):
                raise SegmentError(f"{name} contains text: give text, not {node.value!r}")
            return node
        if isinstance(node, StartsWith):
            if shape not in ("text", "any"):
                raise SegmentError(f"{name} is not text: 'starts with' does not apply")
            return node
        if isinstance(node, EqualsIgnoringCase):
            if shape not in ("text", "any"):
                raise SegmentError(f"{name} is not text: 'equals ignoring case' does not apply")
            folded = {fold_ascii(choice) for choice in spec.choices}
            if folded and fold_ascii(node.value) not in folded:
                close = difflib.get_close_matches(node.value.lower(), spec.choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SegmentError(
                    f"{node.value!r} is no value of {name} in any case of A-Z{hint}:"
                    f" one of {', '.join(spec.choices)}"
                )
            return node
        if shape in ("tags", "multi"):
            raise SegmentError(f"{name} is a set: use 'has tag', 'contains' or 'is empty'")
        if isinstance(node, Compare):
            if shape == "timestamp" and _is_day(node.value):
                return self._day_compare(node)
            return attrs.evolve(node, value=self.constant(node.value, spec, name))
        if isinstance(node, Between):
            if shape == "timestamp" and (_is_day(node.low) or _is_day(node.high)):
                return self._day_between(node, spec, name)
            low = self.constant(node.low, spec, name)
            high = self.constant(node.high, spec, name)
            if isinstance(low, Money) != isinstance(high, Money) or (
                isinstance(low, Money) and isinstance(high, Money) and low.currency != high.currency
            ):
                raise SegmentError(
                    f"between on {name} needs two amounts of one currency or two numbers"
                )
            return attrs.evolve(node, low=low, high=high)
        if isinstance(node, In):
            if shape == "spent":
                raise SegmentError("total_spent compares with one amount: use = or between")
            if shape == "timestamp" and any(_is_day(v) for v in node.values):
                raise SegmentError(f"{name} is an instant: 'in' needs datetimes, not days")
            return attrs.evolve(node, values=[self.constant(v, spec, name) for v in node.values])
        raise SegmentError(f"{type(node).__name__} conditions cannot be used in segments")

    def _day_between(self, node: Between, spec: FieldSpec, name: str) -> Condition:
        low: Constant = node.low
        if isinstance(low, dt.date) and _is_day(low):
            low = self.calendar.start_of_day(low)
        low = self.constant(low, spec, name)
        high = node.high
        if isinstance(high, dt.date) and _is_day(high):
            end = self.calendar.start_of_day(high + dt.timedelta(days=1))
            return And([Compare(node.field, ">=", low), Compare(node.field, "<", end)])
        return Between(node.field, low, self.constant(high, spec, name))

    def _day_compare(self, node: Compare) -> Condition:
        day = node.value
        assert isinstance(day, dt.date)
        start = self.calendar.start_of_day(day)
        end = self.calendar.start_of_day(day + dt.timedelta(days=1))
        field, op = node.field, node.operator
        if op == ">=":
            return Compare(field, ">=", start)
        if op == ">":
            return Compare(field, ">=", end)
        if op == "<":
            return Compare(field, "<", start)
        if op == "<=":
            return Compare(field, "<", end)
        if op == "==":
            return And([Compare(field, ">=", start), Compare(field, "<", end)])
        return Or([Compare(field, "<", start), Compare(field, ">=", end)])

    def constant(self, value: Constant, spec: FieldSpec, name: str) -> Constant:
        shape = spec.shape
        if isinstance(value, float):
            value = float(value) if shape in ("real",) else Decimal(repr(value))
        if shape == "any":
            return value
        number = isinstance(value, int | Decimal | float) and not isinstance(value, bool)
        if shape == "text":
            if not isinstance(value, str):
                raise SegmentError(f"{name} is text: compare it with text, not {value!r}")
            if spec.choices and value not in spec.choices:
                close = difflib.get_close_matches(value, spec.choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SegmentError(
                    f"{value!r} is not a value of {name}{hint}: one of {', '.join(spec.choices)}"
                )
            return value
        if shape in ("int", "decimal", "real"):
            if not number:
                raise SegmentError(f"{name} is a number: compare it with a number, not {value!r}")
            if shape == "real" and isinstance(value, int | Decimal | float):
                return float(value)
            return value
        if shape == "money":
            if not number and not isinstance(value, Money):
                raise SegmentError(f"{name} is an amount: compare it with a number or Money")
            return value
        if shape == "spent":
            if not isinstance(value, Money):
                raise SegmentError(
                    "total_spent is per currency: write an amount with one (1000 EUR),"
                    f" not {value!r}"
                )
            return value
        if shape == "timestamp":
            if not isinstance(value, dt.datetime):
                raise SegmentError(f"{name} is an instant: compare it with a date or datetime")
            return value
        if shape == "date":
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise SegmentError(f"{name} is a day: compare it with a date (2026-03-31)")
            return value
        if shape == "bool":
            if not isinstance(value, bool):
                raise SegmentError(f"{name} is true or false, not {value!r}")
            return value
        if shape == "uuid":
            if isinstance(value, str):
                try:
                    return uuid.UUID(value)
                except ValueError:
                    pass
            if not isinstance(value, uuid.UUID):
                raise SegmentError(f'{name} holds an id: compare it with uuid("...")')
            return value
        raise SegmentError(f"{name} cannot be compared")  # pragma: no cover - all shapes above


def _an_id(value: Constant, name: str) -> uuid.UUID:
    """An id to look for among a record's ids: a uuid, or text that is one."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise SegmentError(f'{name} holds ids: give an id, uuid("..."), not {value!r}')


def _is_day(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _wrap_facts(node: Condition) -> Condition:
    """Wrap every field condition of a rewritten fact test (day bounds) in `FactTest`."""
    if isinstance(node, And):
        return And([_wrap_facts(item) for item in node.items])
    if isinstance(node, Or):
        return Or([_wrap_facts(item) for item in node.items])
    assert isinstance(node, FieldCondition)
    return FactTest(node)
