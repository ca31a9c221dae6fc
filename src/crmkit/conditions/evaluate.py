"""Evaluating a bound segment in Python, over records and the records around them.

A record alone answers conditions on its own fields; facts, scores and related records live
elsewhere. `segment_predicate` asks a `RecordSource` for them once, turns every such part of
the tree into a set of ids (what SQL does with ``id IN (SELECT ...)``), then compiles the
whole tree once into one Python predicate. Evaluating a record is then a few attribute
reads and set look-ups: no per-row calendar arithmetic, no per-row queries.

The memory store is a `RecordSource`; so is `ListSource`, for records held in plain lists.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Protocol

import attrs

from crmkit.conditions.binding import COUNTED, RELATIONS, Binding, FactTest, ScoreTest
from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.limits import check_nesting
from crmkit.conditions.predicate import ClosureCompiler, Predicate, PythonSourceCompiler
from crmkit.conditions.related import Related, RelatedCount
from crmkit.conditions.tree import And, Condition, FieldCondition, Not, Or
from crmkit.errors import SegmentError
from crmkit.model.registry import KINDS
from crmkit.values.money import Money

__all__ = [
    "IdSet",
    "LinkCount",
    "ListSource",
    "RecordSource",
    "fact_default_holds",
    "score_default_holds",
    "segment_predicate",
]


class FactsLike(Protocol):
    """The derived facts of one record, as stores keep them (`crmkit.RecordFacts`)."""

    @property
    def record_id(self) -> uuid.UUID:
        """The record."""
        ...

    @property
    def last_activity_at(self) -> dt.datetime | None:
        """Its latest activity."""
        ...

    @property
    def activity_count(self) -> int:
        """Its activities, all kinds."""
        ...

    @property
    def order_count(self) -> int:
        """Its counted orders."""
        ...

    @property
    def last_order_at(self) -> dt.datetime | None:
        """Its latest counted order."""
        ...

    def order_total(self, currency: str) -> Money:
        """What it spent in `currency`."""
        ...


class RecordSource(Protocol):
    """Where an evaluator finds the records around the ones it tests."""

    def records(self, kind: str) -> Iterable[Any]:
        """Yield the live records of a kind (``"company"``)."""
        ...

    def all_facts(self) -> Iterable[FactsLike]:
        """Yield the stored facts of every record that has any."""
        ...

    def all_scores(self, scorer: str) -> Iterable[tuple[uuid.UUID, float]]:
        """Yield ``(record_id, value)`` of every stored score by `scorer`."""
        ...


@attrs.frozen
class ListSource:
    """A `RecordSource` over records held in memory (lists, query results, fixtures).

    Args:
        records_by_kind: Records per kind name (``{"company": [...], "activity": [...]}``);
            archived records are skipped.
        facts: Facts per record, as ``uow.contacts.facts(id)`` returns them.
        scores: Scores per scorer: ``{"engagement": {record_id: value}}``.
    """

    records_by_kind: Mapping[str, Iterable[Any]] = attrs.field(factory=dict)
    facts: Iterable[FactsLike] = ()
    scores: Mapping[str, Mapping[uuid.UUID, float]] = attrs.field(factory=dict)

    def records(self, kind: str) -> Iterable[Any]:
        """Yield the live records of a kind."""
        return (r for r in self.records_by_kind.get(kind, ()) if r.archived_at is None)

    def all_facts(self) -> Iterable[FactsLike]:
        """Yield the facts given."""
        return self.facts

    def all_scores(self, scorer: str) -> Iterable[tuple[uuid.UUID, float]]:
        """Yield the scores given for `scorer`."""
        return self.scores.get(scorer, {}).items()


@attrs.frozen
class IdSet(Condition):
    """The record's `link` (its id, or the id it points to) is (not) among `ids`.

    What facts, scores and related-record conditions become once evaluated.
    """

    kind: ClassVar[str] = "id_set"
    link: str
    ids: frozenset[uuid.UUID] = attrs.field(repr=lambda ids: f"<{len(ids)} ids>")
    negated: bool = False

    def _walk_fields(self) -> Iterator[str]:
        yield self.link

    def to_dict(self) -> dict[str, Any]:
        """Not for storing: evaluated sets hold data, not a condition."""
        raise SegmentError("an evaluated id set has no dict form")


@attrs.frozen
class LinkCount(Condition):
    """How many of the ids in the record's `link` tuple are among `ids` satisfies `count`."""

    kind: ClassVar[str] = "link_count"
    link: str
    ids: frozenset[uuid.UUID] = attrs.field(repr=lambda ids: f"<{len(ids)} ids>")
    count: RelatedCount

    def _walk_fields(self) -> Iterator[str]:
        yield self.link

    def to_dict(self) -> dict[str, Any]:
        """Not for storing: evaluated sets hold data, not a condition."""
        raise SegmentError("an evaluated id set has no dict form")


def _email(record: Any) -> str | None:
    emails = getattr(record, "emails", None)
    return emails[0].normalized if emails else None


class SegmentClosureCompiler(ClosureCompiler):
    """The reference closures, plus evaluated id sets and the contact's ``email``."""

    def __init__(
        self,
        now: dt.datetime | None = None,
        calendar: BusinessCalendar | None = None,
        virtual: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(now, calendar)
        self.virtual = virtual

    def getter(self, path: str) -> Callable[[Any], object]:
        """Read ``email`` as the primary address's text on contacts."""
        if path == "email" and path in self.virtual:
            return _email
        return super().getter(path)

    def visit_id_set(self, node: IdSet) -> Predicate:
        """Compile an evaluated id set."""
        get, ids, negated = self.getter(node.link), node.ids, node.negated
        if negated:
            return lambda record: get(record) not in ids
        return lambda record: (found := get(record)) is not None and found in ids

    def visit_link_count(self, node: LinkCount) -> Predicate:
        """Compile a count over the ids a record holds."""
        get, ids, holds = self.getter(node.link), node.ids, node.count.holds

        def test(record: object) -> bool:
            found = get(record)
            held: Iterable[uuid.UUID] = found if isinstance(found, tuple) else ()
            return holds(_count_in(held, ids))

        return test


@attrs.define
class SegmentSourceCompiler(PythonSourceCompiler):
    """The generated-source compiler, plus evaluated id sets and the contact's ``email``."""

    virtual: frozenset[str] = attrs.field(default=frozenset(), kw_only=True)

    def access(self, path: str) -> str:
        """Read ``email`` as the primary address's text on contacts."""
        if path == "email" and path in self.virtual:
            return f"{self.constant(_email)}(r)"
        return super().access(path)

    def visit_id_set(self, node: IdSet) -> str:
        """Compile an evaluated id set."""
        ids = self.constant(node.ids)
        if node.negated:
            return f"({self.access(node.link)} not in {ids})"
        return f"((x := {self.access(node.link)}) is not None and x in {ids})"

    def visit_link_count(self, node: LinkCount) -> str:
        """Compile a count over the ids a record holds."""
        ids, holds = self.constant(node.ids), self.constant(node.count.holds)
        count = self.constant(_count_in)
        return f"{holds}({count}({self.access(node.link)}, {ids}))"


def _count_in(values: Iterable[uuid.UUID] | None, ids: frozenset[uuid.UUID]) -> int:
    return sum(1 for v in values or () if v in ids)


@attrs.frozen
class _FactsRow:
    last_activity_at: dt.datetime | None
    activity_count: int
    order_count: int
    last_order_at: dt.datetime | None
    total_spent: Money | None


@attrs.frozen
class _ScoreRow:
    value: float | None


def segment_predicate(
    binding: Binding,
    source: RecordSource,
    *,
    now: dt.datetime,
    calendar: BusinessCalendar | None = None,
) -> Predicate:
    """Return one compiled predicate for a bound segment, its context fetched once.

    Args:
        binding: The segment bound to its kind (`crmkit.conditions.binding.bind`).
        source: Where related records, facts and scores come from.
        now: The instant relative dates are resolved from (the store's clock).
        calendar: The business calendar (UTC, calendar year by default).

    Raises:
        SegmentError: When the segment nests deeper than `crmkit.conditions.limits` allows.
    """
    check_nesting(binding.condition)
    return _Evaluator(binding, source, now, calendar or BusinessCalendar()).predicate(
        binding.condition, binding.kind
    )


@attrs.define
class _Evaluator:
    binding: Binding
    source: RecordSource
    now: dt.datetime
    calendar: BusinessCalendar
    _facts: list[FactsLike] | None = None

    def predicate(self, condition: Condition, kind: str) -> Predicate:
        resolved = self.resolve(condition, kind)
        has_emails = kind in KINDS and "emails" in KINDS[kind].side_tables
        virtual = frozenset({"email"}) if has_emails else frozenset()
        slow = SegmentClosureCompiler(self.now, self.calendar, virtual).compile(resolved)
        compiler = SegmentSourceCompiler(now=self.now, calendar=self.calendar, virtual=virtual)
        return compiler.build(resolved, slow)

    def resolve(self, node: Condition, kind: str) -> Condition:
        """Replace facts, scores and related-record conditions by evaluated id sets."""
        if isinstance(node, And):
            return And([self.resolve(item, kind) for item in node.items])
        if isinstance(node, Or):
            return Or([self.resolve(item, kind) for item in node.items])
        if isinstance(node, Not):
            return Not(self.resolve(node.item, kind))
        if isinstance(node, FactTest):
            return self.facts_set(node.item)
        if isinstance(node, ScoreTest):
            return self.score_set(node)
        if isinstance(node, Related):
            relation = RELATIONS[kind][node.relation]
            test = self.predicate(node.condition, relation.target)
            ids = frozenset(r.id for r in self.source.records(relation.target) if test(r))
            return IdSet(relation.link, ids)
        if isinstance(node, RelatedCount):
            return self.count_set(node, kind)
        return node

    def _split(
        self, holds: Callable[[Any], bool], rows: Iterable[tuple[uuid.UUID, Any]], default: Any
    ) -> IdSet:
        """Ids where `holds`; or, when the default (no row) holds, ids where it does not."""
        if holds(default):
            return IdSet("id", frozenset(i for i, row in rows if not holds(row)), negated=True)
        return IdSet("id", frozenset(i for i, row in rows if holds(row)))

    def facts_set(self, item: FieldCondition) -> IdSet:
        if self._facts is None:
            self._facts = list(self.source.all_facts())
        currency = next((v.currency for v in _constants(item) if isinstance(v, Money)), None)
        holds = self._leaf(item)

        def row(f: FactsLike | None) -> _FactsRow:
            if f is None:
                spent = None if currency is None else Money.zero(currency)
                return _FactsRow(None, 0, 0, None, spent)
            spent = None if currency is None else f.order_total(currency)
            return _FactsRow(
                f.last_activity_at, f.activity_count, f.order_count, f.last_order_at, spent
            )

        return self._split(holds, ((f.record_id, row(f)) for f in self._facts), row(None))

    def score_set(self, node: ScoreTest) -> IdSet:
        holds = self._leaf(node.item)
        rows = ((i, _ScoreRow(v)) for i, v in self.source.all_scores(node.scorer))
        return self._split(holds, rows, _ScoreRow(None))

    def count_set(self, node: RelatedCount, kind: str) -> Condition:
        relation = COUNTED[kind][node.relation]
        test = None if node.where is None else self.predicate(node.where, relation.target)
        matching = (r for r in self.source.records(relation.target) if test is None or test(r))
        if relation.style == "many_on_subject":
            return LinkCount(relation.link, frozenset(r.id for r in matching), node)
        counts: Counter[uuid.UUID] = Counter()
        for record in matching:
            value = getattr(record, relation.link)
            if relation.style == "fk":
                if value is not None:
                    counts[value] += 1
            else:
                counts.update(set(value))
        return self._split(node.holds, counts.items(), 0)

    def _leaf(self, item: FieldCondition) -> Predicate:
        slow = ClosureCompiler(self.now, self.calendar).compile(item)
        return PythonSourceCompiler(now=self.now, calendar=self.calendar).build(item, slow)


def _constants(item: FieldCondition) -> list[Any]:
    return [getattr(item, name) for name in ("value", "low", "high") if hasattr(item, name)]


def fact_default_holds(item: FieldCondition, now: dt.datetime, calendar: BusinessCalendar) -> bool:
    """Whether a fact condition holds for a record without facts (no activities, no orders).

    SQL evaluators use it to choose between ``id IN (facts where c)`` and
    ``id NOT IN (facts where not c)``, exactly as `segment_predicate` does.
    """
    currency = next((v.currency for v in _constants(item) if isinstance(v, Money)), None)
    spent = None if currency is None else Money.zero(currency)
    row = _FactsRow(None, 0, 0, None, spent)
    return ClosureCompiler(now, calendar).compile(item)(row)


def score_default_holds(item: FieldCondition, now: dt.datetime, calendar: BusinessCalendar) -> bool:
    """Whether a score condition holds for a record the scorer never scored."""
    return ClosureCompiler(now, calendar).compile(item)(_ScoreRow(None))
