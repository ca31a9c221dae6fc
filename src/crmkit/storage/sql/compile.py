"""Compiling a bound segment to one SQL condition, per dialect family: ``(sql, params)``.

One class per dialect family (`SqliteSegmentCompiler`, `PostgresSegmentCompiler`), one
method per node kind (``visit_compare``, ``visit_related_count``, ...), as every condition
compiler in crmkit (`crmkit.conditions.ConditionCompiler`). What the SQL may hold:

- **values** only as parameters; relative dates arrive already resolved to bounds (the
  store's clock and business calendar, once per evaluation), never the database's ``now()``;
- **names** only from the model: tables and columns from `crmkit.model.registry` and the
  bound field specs; custom-field keys and JSON paths travel as parameters too.

The meaning is the one every evaluator holds (docs/segments.md): a condition on a missing
value is false, and ``not`` is the complement. SQL's third truth value is handled where it
matters: each compiled expression says whether it can be NULL, and ``not`` of one that can
is written ``NOT COALESCE(expr, FALSE)``. AND and OR need nothing: in a WHERE clause NULL
acts as false, and mapping NULL to false commutes with AND and OR.

Facts, scores and related records become uncorrelated ``id IN (SELECT ...)`` sub-queries
(``NOT IN`` when the condition holds for a record that has no row there, such as
``order_count = 0``), so the planner can use the side tables' indexes. Beside cheaper
conditions in an AND they become correlated probes instead (``EXISTS (... WHERE key =
t0.id)``, ``(SELECT count(*) ... WHERE key = t0.id) >= n``), written after those conditions:
the cheap ones narrow the rows first and each survivor costs one index look-up, where an
uncorrelated sub-query would walk every related row (`cost_rank`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from crmkit.conditions.binding import COUNTED, RELATIONS, Binding, FactTest, ScoreTest
from crmkit.conditions.compiler import ConditionCompiler
from crmkit.conditions.constants import Constant
from crmkit.conditions.dates import BusinessCalendar, RelativeDate
from crmkit.conditions.evaluate import fact_default_holds, score_default_holds
from crmkit.conditions.limits import check_nesting, nesting
from crmkit.conditions.related import Related, RelatedCount
from crmkit.conditions.text import ASCII_WHITESPACE, fold_ascii
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
from crmkit.model.registry import KINDS
from crmkit.storage.sql.dialect import Dialect
from crmkit.values.money import Money

__all__ = [
    "PostgresSegmentCompiler",
    "SegmentSqlCompiler",
    "SqliteSegmentCompiler",
    "compile_rfm",
    "compile_segment",
    "compiler_for",
]

Expr = tuple[str, bool]
"""A compiled condition: its SQL and whether it can be NULL."""

_MARK = re.compile("\x00(\\d+)\x00")
_CHUNK = 64
"""AND / OR chains longer than this are grouped: SQLite's expression depth stays far from 1000."""
_REORDER_DEPTH = 4
"""Nested deeper than this, AND / OR put their deepest item first (see `_ordered`)."""
_SQL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FACT_COLUMNS = {
    "last_activity_at": "timestamp",
    "activity_count": "int",
    "order_count": "int",
    "last_order_at": "timestamp",
}


def _family(value: object) -> str | None:
    """The kind of value a custom field holds that `value` can equal or order with."""
    if isinstance(value, bool | int | Decimal | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return None  # Money, uuid: a custom value never equals one


class SegmentSqlCompiler(ConditionCompiler[Expr]):
    """The SQL shared by every dialect; subclasses spell what differs.

    Args:
        binding: The segment, bound to its kind.
        dialect: The store's dialect (placeholders and value encoders).
        now: The instant relative dates are resolved from.
        calendar: The business calendar of relative dates.
    """

    name: ClassVar[str] = "sql"
    TRUE: ClassVar[str] = "TRUE"
    FALSE: ClassVar[str] = "FALSE"
    RFM_DAYS: ClassVar[str] = ""
    """Whole days from ``f.last_order_at`` to the parameter ``{p}``, at least 0."""
    RFM_MONETARY: ClassVar[str] = ""
    """The order total ``t.total`` in the chosen currency, 0 without one."""
    RFM_MONETARY_ORDER: ClassVar[str] = "monetary"
    """How the monetary column orders (by value)."""
    LINK_FIRST: ClassVar[str] = "JOIN"
    """The join of a probe through ``deal_contacts``, which must start from the link rows."""

    def __init__(
        self, binding: Binding, dialect: Dialect, now: dt.datetime, calendar: BusinessCalendar
    ) -> None:
        self.binding = binding
        self.dialect = dialect
        self.now = now
        self.calendar = calendar
        self._params: list[Any] = []
        self._aliases = itertools.count(1)
        self._scope: list[tuple[str, str]] = []
        self._beside_filters = False  # a direct child of an AND with other conditions
        self._probe = False  # beside cheaper conditions: correlated probes (`cost_rank`)

    # -- the entry point ---------------------------------------------------------------------

    def where(self, alias: str = "t0") -> tuple[str, list[Any]]:
        """Return the condition on the table of the binding's kind (aliased `alias`)."""
        self._params = []
        self._scope = [(self.binding.kind, alias)]
        sql, _nullable = self.compile(self.binding.condition)
        return self._finish(sql)

    def _finish(self, sql: str) -> tuple[str, list[Any]]:
        ordered: list[Any] = []

        def place(match: re.Match[str]) -> str:
            ordered.append(self._params[int(match.group(1))])
            return self.dialect.param

        return _MARK.sub(place, sql), ordered

    def p(self, value: Any) -> str:
        """Return a placeholder for `value` (numbered until `_finish` puts them in order)."""
        self._params.append(value)
        return f"\x00{len(self._params) - 1}\x00"

    def _alias(self) -> str:
        return f"t{next(self._aliases)}"

    # -- what dialects spell differently -----------------------------------------------------

    def number(self, value: Any) -> Any:
        """A number as a parameter."""
        return int(value) if isinstance(value, bool) else value

    def num(self, expr: str) -> str:
        """An exact-decimal column as a comparable number."""
        return expr

    def fold(self, expr: str) -> str:
        """Lower A-Z only (`crmkit.conditions.fold_ascii`)."""
        raise NotImplementedError

    def has_substring(self, hay: str, needle: str) -> str:
        """Whether `hay` holds `needle` (both text expressions)."""
        raise NotImplementedError

    def has_prefix(self, hay: str, prefix: Any) -> str:
        """Whether text `hay` starts with the value `prefix`."""
        raise NotImplementedError

    def blank(self, expr: str) -> str:
        """Whether non-null text is empty or ASCII whitespace only."""
        raise NotImplementedError

    def email(self, alias: str) -> str:
        """The contact's primary address (normalised) from its emails JSON."""
        raise NotImplementedError

    def custom_tag(self, alias: str, key: str) -> str:
        """The type tag of a custom value (``s``, ``i``, ``d``, ``b``, ``D``, ``t``, ``m``)."""
        raise NotImplementedError

    def custom_value(self, alias: str, key: str, family: str) -> str:
        """The custom value as a comparable of `family`, NULL for values of other types."""
        raise NotImplementedError

    def custom_member(self, alias: str, key: str, member: str) -> str:
        """Whether a multi-choice custom value holds `member`."""
        raise NotImplementedError

    def custom_no_members(self, alias: str, key: str) -> str:
        """Whether a multi-choice custom value is empty."""
        raise NotImplementedError

    def in_list(self, view: str, values: list[Any], negated: bool) -> Expr:
        """``view IN (values)``, or ``NOT IN``: one parameter per value."""
        marks = ", ".join(self.p(v) for v in values)
        return f"({view} {'NOT IN' if negated else 'IN'} ({marks}))", True

    def encode_family(self, family: str, value: Any) -> Any:
        """A constant as a parameter compared with `custom_value` of its family."""
        if family == "number":
            return self.number(value)
        return value

    def encode(self, shape: str, value: Any) -> Any:
        """A constant as a parameter for a column of `shape`."""
        if shape in ("int", "decimal", "money"):
            return self.number(value)
        if shape == "real":
            return float(value)
        if shape in ("timestamp", "date", "uuid", "bool"):
            return self.dialect.encoders[shape](value)
        return value

    # -- combinations --------------------------------------------------------------------------

    def _children(
        self, items: Sequence[Condition], beside: bool, probes: Sequence[bool] | None = None
    ) -> list[Expr]:
        outer, self._beside_filters = self._beside_filters, beside
        inherited = self._probe
        try:
            parts = []
            for i, item in enumerate(items):
                self._probe = inherited or (probes is not None and probes[i])
                parts.append(self.compile(item))
            return parts
        finally:
            self._beside_filters, self._probe = outer, inherited

    def _scoped(self, kind: str, alias: str, node: Condition) -> Expr:
        """Compile `node` on a related record (`kind` aliased `alias`): a fresh AND context."""
        outer = self._beside_filters, self._probe
        self._scope.append((kind, alias))
        self._beside_filters = self._probe = False
        try:
            return self.compile(node)
        finally:
            self._scope.pop()
            self._beside_filters, self._probe = outer

    def visit_and(self, node: And) -> Expr:
        """``(a AND b ...)``: the cheapest conditions first, costlier ones as probes after them.

        Deeply nested ANDs keep the parser-friendly order of `_ordered`.
        """
        items = _ordered(node)
        ranks = [cost_rank(item) for item in items]
        if items is node.items:
            order = sorted(range(len(items)), key=ranks.__getitem__)
            items, ranks = [items[i] for i in order], [ranks[i] for i in order]
        floor = min(ranks)
        parts = self._children(items, len(items) > 1, [rank > floor for rank in ranks])
        return _chain(" AND ", [sql for sql, _ in parts]), any(n for _, n in parts)

    def visit_or(self, node: Or) -> Expr:
        """``(a OR b ...)``."""
        parts = self._children(_ordered(node), False)
        return _chain(" OR ", [sql for sql, _ in parts]), any(n for _, n in parts)

    def visit_not(self, node: Not) -> Expr:
        """The complement: NULL (a missing value) counts as false before negating.

        Deeply nested, ``x IS NOT TRUE`` (``NOT COALESCE(x, FALSE)`` written after its
        operand): an LALR parser reduces the operand before reading on, so each nested
        complement costs one entry of SQLite's 100-entry parser stack instead of two to five.
        """
        ((sql, nullable),) = self._children([node.item], False)
        if nesting(node.item)[0] > _REORDER_DEPTH:
            return f"({sql} IS NOT TRUE)", False
        return (f"(NOT COALESCE({sql}, {self.FALSE}))" if nullable else f"(NOT {sql})"), False

    # -- field conditions ----------------------------------------------------------------------

    def _leaf(self, node: FieldCondition) -> Expr:
        kind, alias = self._scope[-1]
        spec = self.binding.spec(kind, node.field)
        if spec.source == "custom":
            return self.custom_leaf(node, alias, spec.column)
        if spec.shape == "tags":
            return self.tags_leaf(node, alias, kind)
        if spec.shape == "ids" and isinstance(node, Contains):
            return self.ids_leaf(node, alias, kind, spec.column)
        if spec.shape == "money" and spec.part is None:
            return self.money_leaf(node, alias, spec.column)
        if spec.source == "email":
            return self.scalar(node, self.email(alias), "text")
        column = f"{alias}.{spec.column}"
        if spec.part == "currency":
            column += "_currency"
        return self.scalar(node, column, spec.shape)

    visit_compare = _leaf
    visit_in = _leaf
    visit_between = _leaf
    visit_contains = _leaf
    visit_starts_with = _leaf
    visit_equals_ignoring_case = _leaf
    visit_has_tag = _leaf
    visit_is_empty = _leaf
    visit_within = _leaf
    visit_more_than_ago = _leaf
    visit_in_period = _leaf
    visit_before = _leaf
    visit_after = _leaf
    visit_within_next = _leaf
    visit_relative_moment = _leaf

    def scalar(self, node: FieldCondition, expr: str, shape: str) -> Expr:
        """A condition on one column-like value of a known type."""
        view = self.num(expr) if shape == "decimal" else expr
        if isinstance(node, IsEmpty):
            empty = (
                f"({expr} IS NULL OR {self.blank(expr)})"
                if shape == "text"
                else f"({expr} IS NULL)"
            )
            if node.negated:
                return f"(NOT {empty})", False
            return empty, False
        if isinstance(node, Compare):
            return (
                f"({view} {_SQL_OPS[node.operator]} {self.p(self.encode(shape, node.value))})",
                True,
            )
        if isinstance(node, In):
            return self.in_list(view, [self.encode(shape, v) for v in node.values], node.negated)
        if isinstance(node, Between):
            low, high = self.encode(shape, node.low), self.encode(shape, node.high)
            return f"({view} BETWEEN {self.p(low)} AND {self.p(high)})", True
        if isinstance(node, Contains):
            if not isinstance(node.value, str):
                return self.FALSE, False
            return self.has_substring(self.fold(expr), self.p(fold_ascii(node.value))), True
        if isinstance(node, StartsWith):
            return self.has_prefix(self.fold(expr), fold_ascii(node.value)), True
        if isinstance(node, EqualsIgnoringCase):
            return f"({self.fold(expr)} = {self.p(fold_ascii(node.value))})", True
        if isinstance(node, RelativeDate):
            return self.date_range(node, expr, shape), True
        raise SegmentError(f"{node.kind!r} conditions do not apply to {node.field!r}")

    def date_range(self, node: RelativeDate, expr: str, shape: str, custom: bool = False) -> str:
        """``start <= expr < end`` with the node's resolved bounds (days for a date shape)."""
        bounds = node.bounds(self.now, self.calendar)
        start: dt.date | None
        end: dt.date | None
        if shape == "date":
            start, end = bounds.start_day, bounds.end_day
        else:
            start, end = bounds.start, bounds.end

        def encode(value: dt.date) -> Any:
            if custom:
                return self.encode_family("date" if shape == "date" else "datetime", value)
            return self.encode("date" if shape == "date" else "timestamp", value)

        parts = []
        if start is not None:
            parts.append(f"{expr} >= {self.p(encode(start))}")
        if end is not None:
            parts.append(f"{expr} < {self.p(encode(end))}")
        return "(" + (" AND ".join(parts) or f"{expr} IS NOT NULL") + ")"

    def money_leaf(self, node: FieldCondition, alias: str, column: str) -> Expr:
        """Money: by amount against numbers, by currency and amount against Money."""
        amount, currency = self.num(f"{alias}.{column}"), f"{alias}.{column}_currency"
        present = f"{alias}.{column} IS NOT NULL"
        if isinstance(node, IsEmpty):
            return (f"({present})" if node.negated else f"({alias}.{column} IS NULL)"), False
        if isinstance(node, Compare) and isinstance(node.value, Money):
            money = node.value
            if node.operator == "!=":
                number = self.p(self.number(money.amount))
                same = f"{currency} = {self.p(money.currency)} AND {amount} = {number}"
                return f"({present} AND NOT ({same}))", False
            op = _SQL_OPS[node.operator]
            return (
                f"({currency} = {self.p(money.currency)} AND "
                f"{amount} {op} {self.p(self.number(money.amount))})",
                True,
            )
        if isinstance(node, In) and any(isinstance(v, Money) for v in node.values):
            # Money equals Money of its currency; a plain number equals the amount in any
            # currency (as in Python): one test per currency, one for the numbers.
            by_currency: dict[str, list[Any]] = {}
            numbers: list[Any] = []
            for item in node.values:
                if isinstance(item, Money):
                    by_currency.setdefault(item.currency, []).append(self.number(item.amount))
                elif isinstance(item, int | Decimal | float) and not isinstance(item, bool):
                    numbers.append(self.number(item))
            tests = [
                f"({currency} = {self.p(code)} AND {self.in_list(amount, amounts, False)[0]})"
                for code, amounts in by_currency.items()
            ]
            if numbers:
                tests.append(self.in_list(amount, numbers, False)[0])
            hit = "(" + " OR ".join(tests) + ")"
            if node.negated:
                return f"({present} AND ({hit} IS NOT TRUE))", False
            return hit, True
        if (
            isinstance(node, Between)
            and isinstance(node.low, Money)
            and isinstance(node.high, Money)
        ):
            return (
                f"({currency} = {self.p(node.low.currency)} AND {amount} BETWEEN "
                f"{self.p(self.number(node.low.amount))}"
                f" AND {self.p(self.number(node.high.amount))})",
                True,
            )
        return self.scalar(node, f"{alias}.{column}", "decimal")

    def ids_leaf(self, node: Contains, alias: str, kind: str, column: str) -> Expr:
        """A record's tuple of ids holds one: through the side table that indexes them.

        A deal's ``contact_ids`` are the rows of ``deal_contacts`` (``deal_id``,
        ``contact_id``); the binding made the value a uuid.
        """
        ref = next(r for r in KINDS[kind].refs if r.field == column and r.many)
        link = self._alias()
        source = (
            f"FROM deal_contacts {link}"
            f" WHERE {link}.{ref.target}_id = {self.p(self.encode('uuid', node.value))}"
        )
        return self._membership(alias, "id", f"{link}.{kind}_id", source, False)

    def tags_leaf(self, node: FieldCondition, alias: str, kind: str) -> Expr:
        """Tags, through the indexed ``record_tags`` side table."""
        if isinstance(node, IsEmpty):
            return (
                f"({alias}.tags IS NOT NULL)" if node.negated else f"({alias}.tags IS NULL)"
            ), False
        if isinstance(node, HasTag):
            tag: Constant = node.tag
        elif isinstance(node, Contains):
            tag = node.value
        else:
            raise SegmentError(f"{node.kind!r} conditions do not apply to tags")
        if not isinstance(tag, str):
            return self.FALSE, False
        return self.has_tag(alias, kind, tag), False

    def has_tag(self, alias: str, kind: str, tag: str) -> str:
        """Whether the record has a tag: through the ``(kind, tag)`` index of ``record_tags``."""
        g = self._alias()
        return (
            f"({alias}.id IN (SELECT {g}.record_id FROM record_tags {g}"
            f" WHERE {g}.kind = {self.p(kind)} AND {g}.tag = {self.p(tag)}))"
        )

    def custom_leaf(self, node: FieldCondition, alias: str, key: str) -> Expr:
        """A custom value, whatever type each record holds there (by its stored type tag)."""

        def tag() -> str:  # each use takes fresh parameters
            return self.custom_tag(alias, key)

        def value(family: str) -> str:
            return self.custom_value(alias, key, family)

        if isinstance(node, IsEmpty):
            empty = (
                f"({tag()} IS NULL OR ({tag()} = 's' AND {self.blank(value('text'))})"
                f" OR ({tag()} = 'm' AND {self.custom_no_members(alias, key)}))"
            )
            return (f"(NOT {empty})" if node.negated else empty), False
        if isinstance(node, Compare):
            family = _family(node.value)
            if family is None:
                return (
                    (f"({tag()} IS NOT NULL)", False)
                    if node.operator == "!="
                    else (self.FALSE, False)
                )
            mark = self.p(self.encode_family(family, node.value))
            if node.operator == "!=":
                return (
                    f"({tag()} IS NOT NULL"
                    f" AND NOT COALESCE({value(family)} = {mark}, {self.FALSE}))",
                    False,
                )
            return f"({value(family)} {_SQL_OPS[node.operator]} {mark})", True
        if isinstance(node, In):
            groups: dict[str, list[Any]] = {}
            for item in node.values:
                family = _family(item)
                if family is not None:
                    groups.setdefault(family, []).append(item)
            hits = [
                f"{value(family)} IN"
                f" ({', '.join(self.p(self.encode_family(family, v)) for v in items)})"
                for family, items in groups.items()
            ]
            hit = "(" + " OR ".join(hits) + ")" if hits else self.FALSE
            if node.negated:
                return f"({tag()} IS NOT NULL AND NOT COALESCE({hit}, {self.FALSE}))", False
            return hit, bool(hits)
        if isinstance(node, Between):
            family = _family(node.low)
            if family is None or family != _family(node.high):
                return self.FALSE, False
            low = self.p(self.encode_family(family, node.low))
            high = self.p(self.encode_family(family, node.high))
            return f"({value(family)} BETWEEN {low} AND {high})", True
        if isinstance(node, Contains):
            if not isinstance(node.value, str):
                return self.FALSE, False
            needle = self.p(fold_ascii(node.value))
            return (
                f"(CASE WHEN {tag()} = 's'"
                f" THEN {self.has_substring(self.fold(value('text')), needle)}"
                f" WHEN {tag()} = 'm' THEN {self.custom_member(alias, key, self.p(node.value))}"
                f" ELSE {self.FALSE} END)",
                False,
            )
        if isinstance(node, StartsWith):
            prefix = self.has_prefix(self.fold(value("text")), fold_ascii(node.value))
            return f"({tag()} = 's' AND {prefix})", True
        if isinstance(node, EqualsIgnoringCase):
            folded = self.p(fold_ascii(node.value))
            return f"({tag()} = 's' AND {self.fold(value('text'))} = {folded})", True
        if isinstance(node, HasTag):
            return f"({tag()} = 'm' AND {self.custom_member(alias, key, self.p(node.tag))})", True
        if isinstance(node, RelativeDate):
            instants = self.date_range(node, value("datetime"), "timestamp", custom=True)
            days = self.date_range(node, value("date"), "date", custom=True)
            return f"({instants} OR {days})", True
        raise SegmentError(f"{node.kind!r} conditions do not apply to custom fields")

    # -- facts, scores, related records --------------------------------------------------------

    def key(self, alias: str, column: str) -> str:
        """The column a sub-query's result is matched against (dialects may add a hint)."""
        return f"{alias}.{column}"

    def _membership(self, alias: str, key: str, column: str, source: str, negated: bool) -> Expr:
        """Whether the record's `key` is among `column` of the rows of `source` (or not).

        `source` is ``FROM ... WHERE ...``. Uncorrelated: ``key IN (SELECT column source)``;
        as a probe (`cost_rank`): ``EXISTS (SELECT 1 source AND column = key)``.
        """
        if self._probe:
            exists = f"EXISTS (SELECT 1 {source} AND {column} = {alias}.{key})"
            return (f"(NOT {exists})" if negated else exists), False
        select = f"SELECT {column} {source}"
        return f"({self.key(alias, key)} {'NOT IN' if negated else 'IN'} ({select}))", False

    def visit_fact_test(self, node: FactTest) -> Expr:
        """A derived fact, from ``record_facts`` / ``record_order_totals``."""
        _kind, alias = self._scope[-1]
        item = node.item
        negated = fact_default_holds(item, self.now, self.calendar)
        f = self._alias()
        if item.field == "total_spent":
            currency = next(
                v.currency
                for v in (getattr(item, n, None) for n in ("value", "low", "high"))
                if isinstance(v, Money)
            )
            amounts = _amounts(item)
            test, _nullable = self.scalar(amounts, f"{f}.total", "decimal")
            test = f"NOT COALESCE({test}, {self.FALSE})" if negated else test
            source = (
                f"FROM record_order_totals {f} WHERE {f}.currency = {self.p(currency)} AND {test}"
            )
            return self._membership(alias, "id", f"{f}.record_id", source, negated)
        test, _nullable = self.scalar(item, f"{f}.{item.field}", _FACT_COLUMNS[item.field])
        test = f"NOT COALESCE({test}, {self.FALSE})" if negated else test
        return self._membership(
            alias, "id", f"{f}.record_id", f"FROM record_facts {f} WHERE {test}", negated
        )

    def visit_score_test(self, node: ScoreTest) -> Expr:
        """The latest score of a scorer, from the ``scores`` table."""
        _kind, alias = self._scope[-1]
        negated = score_default_holds(node.item, self.now, self.calendar)
        s = self._alias()
        test, _nullable = self.scalar(node.item, f"{s}.value", "real")
        test = f"NOT COALESCE({test}, {self.FALSE})" if negated else test
        source = f"FROM scores {s} WHERE {s}.scorer = {self.p(node.scorer)} AND {test}"
        return self._membership(alias, "id", f"{s}.record_id", source, negated)

    def visit_related(self, node: Related) -> Expr:
        """The live record this one points to matches."""
        kind, alias = self._scope[-1]
        relation = RELATIONS[kind][node.relation]
        b = self._alias()
        inner, _nullable = self._scoped(relation.target, b, node.condition)
        table = KINDS[relation.target].table
        source = f"FROM {table} {b} WHERE {b}.archived_at IS NULL AND {inner}"
        if self._probe:
            return f"EXISTS (SELECT 1 {source} AND {b}.id = {alias}.{relation.link})", False
        return f"({self.key(alias, relation.link)} IN (SELECT {b}.id {source}))", True

    def visit_related_count(self, node: RelatedCount) -> Expr:
        """The number of live related records (matching `where`) compares."""
        kind, alias = self._scope[-1]
        relation = COUNTED[kind][node.relation]
        b = self._alias()
        inner = ""
        if node.where is not None:
            inner = f" AND {self._scoped(relation.target, b, node.where)[0]}"
        table = KINDS[relation.target].table
        if relation.style == "fk":
            key = f"{b}.{relation.link}"
            source = f"FROM {table} {b} WHERE {key} IS NOT NULL AND {b}.archived_at IS NULL{inner}"
        else:
            link = f"{b}l"
            mine, theirs = (
                ("contact_id", "deal_id")
                if relation.style == "many_on_target"
                else ("deal_id", "contact_id")
            )
            key = f"{link}.{mine}"
            join = self.LINK_FIRST if self._probe else "JOIN"
            source = (
                f"FROM deal_contacts {link} {join} {table} {b} ON {b}.id = {link}.{theirs}"
                f" WHERE {b}.archived_at IS NULL{inner}"
            )
        op, n = node.operator, node.value
        if (op, n) in ((">=", 1), (">", 0), ("!=", 0)):
            return self._membership(alias, "id", key, source, False)
        if (op, n) in (("==", 0), ("<", 1), ("<=", 0)):
            return self._membership(alias, "id", key, source, True)
        if self._probe:
            counted = f"(SELECT count(*) {source} AND {key} = {alias}.id)"
            return f"({counted} {_SQL_OPS[op]} {self.p(n)})", False
        negated = node.holds(0)
        having = f"count(*) {_SQL_OPS[op]} {self.p(n)}"
        having = f"NOT ({having})" if negated else having
        source += f" GROUP BY {key} HAVING {having}"
        return (
            f"({self.key(alias, 'id')} {'NOT IN' if negated else 'IN'} (SELECT {key} {source}))",
            False,
        )


def cost_rank(node: Condition) -> int:
    """How costly a condition is per record, for ordering an AND (0 is cheapest).

    0: the record's own columns (and tags, an indexed key look-up); 1: the record it points
    to (``company.industry``); 2: facts and scores (one row per record); 3: counted related
    records (``at least 2 activities``). Combinations cost their costliest item.
    """
    if isinstance(node, RelatedCount):
        return 3
    if isinstance(node, FactTest | ScoreTest):
        return 2
    if isinstance(node, Related):
        return 1
    if isinstance(node, And | Or):
        return max(cost_rank(item) for item in node.items)
    if isinstance(node, Not):
        return cost_rank(node.item)
    return 0


def _ordered(node: And | Or) -> Sequence[Condition]:
    """The items of a deeply nested AND / OR, deepest first; others as written.

    An LALR parser keeps every unfinished operand on its stack: in ``a OR (b OR (c ...))``
    each level waits for the rest, in ``((... c) OR b) OR a`` a level is reduced before the
    next starts. SQLite's stack has 100 entries, so deep trees put their deepest item first
    (AND and OR are commutative in a WHERE clause; shallow trees keep their order).
    """
    if nesting(node)[0] <= _REORDER_DEPTH:
        return node.items
    return sorted(node.items, key=lambda item: -nesting(item)[0])


def _chain(joiner: str, parts: list[str]) -> str:
    """Join AND / OR operands, in parenthesised groups of `_CHUNK` when there are more.

    SQLite parses ``a OR b OR c ...`` into a tree as deep as the chain is long and refuses
    depths over 1000; groups of 64 keep a 100,000-term chain three levels deep.
    """
    while len(parts) > _CHUNK:
        parts = [
            "(" + joiner.join(parts[i : i + _CHUNK]) + ")" for i in range(0, len(parts), _CHUNK)
        ]
    return "(" + joiner.join(parts) + ")"


def _amounts(item: FieldCondition) -> FieldCondition:
    """A total_spent condition with its Money constants replaced by their amounts."""
    import attrs

    if isinstance(item, Compare) and isinstance(item.value, Money):
        return attrs.evolve(item, value=item.value.amount)
    if isinstance(item, Between) and isinstance(item.low, Money) and isinstance(item.high, Money):
        return attrs.evolve(item, low=item.low.amount, high=item.high.amount)
    raise SegmentError("total_spent compares with an amount of money")


class SqliteSegmentCompiler(SegmentSqlCompiler):
    """SQLite: JSON through ``json_extract``; exact decimals compared as 64-bit floats.

    SQLite's built-in ``lower`` lowers A-Z only (without the ICU extension), which is the
    definition of case-insensitive matching; text compares with the BINARY collation (code
    points). Decimal text (money amounts, decimal custom values) is compared as REAL: exact
    to 15 significant digits.
    """

    name = "sqlite"
    # SQLite's planner, without statistics, may start a probe from an index on the deals
    # (``pipeline, stage``) and then walk every won deal once per contact; CROSS JOIN keeps
    # the tables in the order written (PostgreSQL plans the join itself).
    LINK_FIRST = "CROSS JOIN"
    # Instants are integer microseconds; integer division truncates, which is the floor
    # for the non-negative differences max() keeps.
    RFM_DAYS = "max(0, ({p} - f.last_order_at) / 86400000000)"
    RFM_MONETARY = "COALESCE(t.total, '0')"
    # Decimal text as REAL: correctly rounded, so equal amounts tie and the order is exact
    # to 15 significant digits (as every decimal comparison on SQLite).
    RFM_MONETARY_ORDER = "CAST(monetary AS REAL)"

    def key(self, alias: str, column: str) -> str:
        """Beside other conditions, ``+column``: scan once and look the sub-query result up.

        Without statistics SQLite's planner likes to drive the query from a sub-query's
        index (``id IN (SELECT ...)``) and then fetch rows one by one, slower than a scan
        when the sub-query matches many rows. The unary ``+`` (a no-op on the value) keeps
        it from doing so; a sub-query standing alone may still use the index.
        """
        column_sql = f"{alias}.{column}"
        return f"+{column_sql}" if self._beside_filters else column_sql

    def has_tag(self, alias: str, kind: str, tag: str) -> str:
        """Beside other conditions, a correlated probe of the ``(record_id, tag)`` key."""
        if not self._beside_filters:
            return super().has_tag(alias, kind, tag)
        g = self._alias()
        return (
            f"EXISTS (SELECT 1 FROM record_tags {g}"
            f" WHERE {g}.record_id = {alias}.id AND {g}.tag = {self.p(tag)})"
        )

    def number(self, value: Any) -> Any:
        """Decimals travel as floats (sqlite3 binds no Decimal)."""
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, Decimal):
            return (
                int(value)
                if value == value.to_integral_value() and abs(value) < 2**53
                else float(value)
            )
        return value

    def num(self, expr: str) -> str:
        """Decimal text as REAL."""
        return f"CAST({expr} AS REAL)"

    def fold(self, expr: str) -> str:
        """SQLite's built-in lower: A-Z only."""
        return f"lower({expr})"

    def has_substring(self, hay: str, needle: str) -> str:
        """``instr`` (1-based; 0 when absent)."""
        return f"(instr({hay}, {needle}) > 0)"

    def has_prefix(self, hay: str, prefix: Any) -> str:
        """``substr(hay, 1, length(prefix)) = prefix``."""
        return f"(substr({hay}, 1, {self.p(len(prefix))}) = {self.p(prefix)})"

    def blank(self, expr: str) -> str:
        """``trim`` of the ASCII whitespace characters."""
        return f"(trim({expr}, {self.p(ASCII_WHITESPACE)}) = '')"

    def email(self, alias: str) -> str:
        """``emails`` holds, per address, its normal form or ``[normalized, original]``."""
        first = f"json_extract({alias}.emails, '$[0]')"
        return (
            f"(CASE json_type({alias}.emails, '$[0]') WHEN 'text' THEN {first}"
            f" ELSE json_extract({alias}.emails, '$[0][0]') END)"
        )

    def _path(self, key: str, index: int) -> str:
        return self.p(f"$.{key}[{index}]")

    def custom_tag(self, alias: str, key: str) -> str:
        """The type tag, ``custom -> key -> 0``."""
        return f"json_extract({alias}.custom, {self._path(key, 0)})"

    def custom_value(self, alias: str, key: str, family: str) -> str:
        """Numbers: ints and booleans as integers, decimals as REAL; dates, instants as text."""
        raw = f"json_extract({alias}.custom, {self._path(key, 1)})"
        tag = self.custom_tag(alias, key)
        if family == "number":
            return (
                f"(CASE WHEN {tag} IN ('i', 'b') THEN {raw}"
                f" WHEN {tag} = 'd' THEN CAST({raw} AS REAL) END)"
            )
        wanted = {"text": "s", "date": "D", "datetime": "t"}[family]
        return f"(CASE WHEN {tag} = '{wanted}' THEN {raw} END)"

    def custom_member(self, alias: str, key: str, member: str) -> str:
        """``json_each`` over the array of choices."""
        j = self._alias()
        return (
            f"EXISTS (SELECT 1 FROM json_each({alias}.custom, {self._path(key, 1)}) {j}"
            f" WHERE {j}.value = {member})"
        )

    def custom_no_members(self, alias: str, key: str) -> str:
        """``json_array_length`` is 0."""
        return f"(json_array_length({alias}.custom, {self._path(key, 1)}) = 0)"

    def encode_family(self, family: str, value: Any) -> Any:
        """Dates and instants as the ISO text the store wrote (instants in UTC)."""
        if family == "number":
            return self.number(value)
        if family in ("date", "datetime"):
            return value.isoformat()
        return value


class PostgresSegmentCompiler(SegmentSqlCompiler):
    """PostgreSQL: JSON through ``->`` / ``->>`` with the key as a parameter.

    Text columns are ``COLLATE "C"`` (code points); text taken out of JSON is given the same
    collation. Case is ignored by ``translate`` of A-Z (``lower`` would follow the database's
    locale); decimals compare exactly as ``numeric``.
    """

    name = "postgresql"
    _UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # EXTRACT(EPOCH ...) is an exact numeric (microseconds) since PostgreSQL 14.
    RFM_DAYS = (
        "GREATEST(0, floor(EXTRACT(EPOCH FROM ({p}::timestamptz - f.last_order_at)) / 86400))"
        "::bigint"
    )
    RFM_MONETARY = "COALESCE(t.total, 0)"

    def in_list(self, view: str, values: list[Any], negated: bool) -> Expr:
        """``view = ANY(array)``: one parameter however long the list.

        A protocol message holds at most 65,535 parameters; lists mixing types psycopg
        cannot put in one array keep one parameter per value.
        """
        kinds = {type(v) for v in values}
        if kinds <= {int, Decimal} and len(kinds) == 2:
            values = [Decimal(v) for v in values]
        elif len(kinds) != 1:
            return super().in_list(view, values, negated)
        if negated:
            return f"({view} <> ALL({self.p(values)}))", True
        return f"({view} = ANY({self.p(values)}))", True

    def fold(self, expr: str) -> str:
        """``translate`` of A-Z to a-z: the same on every locale."""
        return f"translate({expr}, {self.p(self._UPPER)}, {self.p(self._UPPER.lower())})"

    def has_substring(self, hay: str, needle: str) -> str:
        """``strpos`` (1-based; 0 when absent)."""
        return f"(strpos({hay}, {needle}) > 0)"

    def has_prefix(self, hay: str, prefix: Any) -> str:
        """``starts_with``."""
        return f"starts_with({hay}, {self.p(prefix)})"

    def blank(self, expr: str) -> str:
        """``btrim`` of the ASCII whitespace characters."""
        return f"(btrim({expr}, {self.p(ASCII_WHITESPACE)}) = '')"

    def email(self, alias: str) -> str:
        """``emails`` holds, per address, its normal form or ``[normalized, original]``."""
        return (
            f"((CASE jsonb_typeof({alias}.emails -> 0) WHEN 'string' THEN {alias}.emails ->> 0"
            f' ELSE {alias}.emails -> 0 ->> 0 END) COLLATE "C")'
        )

    def custom_tag(self, alias: str, key: str) -> str:
        """The type tag, ``custom -> key ->> 0``."""
        return f"({alias}.custom -> {self.p(key)} ->> 0)"

    def custom_value(self, alias: str, key: str, family: str) -> str:
        """Numbers as numeric (booleans as 0 / 1), dates as date, instants as timestamptz."""
        raw = f"({alias}.custom -> {self.p(key)} ->> 1)"
        tag = self.custom_tag(alias, key)
        if family == "number":
            return (
                f"(CASE WHEN {tag} IN ('i', 'd') THEN ({raw})::numeric"
                f" WHEN {tag} = 'b' THEN (CASE WHEN {raw} = 'true' THEN 1 ELSE 0 END) END)"
            )
        if family == "text":
            return f"((CASE WHEN {tag} = 's' THEN {raw} END) COLLATE \"C\")"
        if family == "date":
            return f"(CASE WHEN {tag} = 'D' THEN ({raw})::date END)"
        return f"(CASE WHEN {tag} = 't' THEN ({raw})::timestamptz END)"

    def custom_member(self, alias: str, key: str, member: str) -> str:
        """The jsonb ``?`` operator: the array holds the string."""
        return f"(({alias}.custom -> {self.p(key)} -> 1) ? {member})"

    def custom_no_members(self, alias: str, key: str) -> str:
        """``jsonb_array_length`` is 0."""
        return f"(jsonb_array_length({alias}.custom -> {self.p(key)} -> 1) = 0)"


_COMPILERS: dict[str, type[SegmentSqlCompiler]] = {
    "sqlite": SqliteSegmentCompiler,
    "postgresql": PostgresSegmentCompiler,
}


def compiler_for(dialect: Dialect) -> type[SegmentSqlCompiler]:
    """Return the segment compiler class of a dialect (by its name).

    Raises:
        SegmentError: For a dialect crmkit has no segment compiler for.
    """
    found = _COMPILERS.get(dialect.name)
    if found is None:
        raise SegmentError(f"no segment compiler for the {dialect.name!r} dialect")
    return found


def compile_segment(
    binding: Binding,
    dialect: Dialect,
    now: dt.datetime,
    calendar: BusinessCalendar,
    alias: str = "t0",
) -> tuple[str, list[Any]]:
    """Return ``(sql, params)``: the segment as a condition on its kind's table (`alias`).

    Args:
        binding: The segment, bound to its kind.
        dialect: The store's dialect.
        now: The instant relative dates are resolved from (the store's clock).
        calendar: The business calendar.
        alias: The alias the main table has in the query.

    Raises:
        SegmentError: When the segment nests deeper than `crmkit.conditions.limits` allows.
    """
    check_nesting(binding.condition)
    return compiler_for(dialect)(binding, dialect, now, calendar).where(alias)


def compile_rfm(dialect: Dialect, table: str) -> str:
    """Return the RFM query over the facts of the live records of `table` (in id order).

    Its two parameters are the "as of" instant (encoded for the dialect) and the currency.
    Rows are ``(record_id, recency_days, frequency, monetary, r, f, m)``. F and M are
    ``1 + (5 * (RANK() - 1)) / count`` in integer arithmetic (ascending, so ties share the
    score of their lowest rank; ``NTILE`` would split ties arbitrarily); R is the mirror
    image, ``5 - (5 * (RANK() - 1)) / count`` over ascending days, so ties at the most
    recent day (and a lone customer) score 5. The same integers as
    `crmkit.model.rfm.compute_rfm`, so every store agrees.
    """
    compiler = compiler_for(dialect)
    p = dialect.param

    def score(order: str) -> str:
        return f"1 + (5 * (RANK() OVER (ORDER BY {order}) - 1)) / (COUNT(*) OVER ())"

    def recency_score() -> str:
        return "5 - (5 * (RANK() OVER (ORDER BY recency_days) - 1)) / (COUNT(*) OVER ())"

    return (
        "WITH base AS (SELECT f.record_id AS record_id,"
        f" {compiler.RFM_DAYS.format(p=p)} AS recency_days,"
        f" f.order_count AS frequency, {compiler.RFM_MONETARY} AS monetary"
        f" FROM record_facts f JOIN {table} r ON r.id = f.record_id AND r.archived_at IS NULL"
        f" LEFT JOIN record_order_totals t ON t.record_id = f.record_id AND t.currency = {p}"
        " WHERE f.order_count > 0)"
        " SELECT record_id, recency_days, frequency, monetary,"
        f" {recency_score()}, {score('frequency')},"
        f" {score(compiler.RFM_MONETARY_ORDER)}"
        " FROM base ORDER BY record_id"
    )


def uuid_params(dialect: Dialect, ids: Sequence[uuid.UUID]) -> list[Any]:
    """Encode ids as the dialect stores them."""
    encode = dialect.encoders["uuid"]
    return [encode(i) for i in ids]
