"""Compiling a condition once into a Python predicate: ``compile_predicate(c)(record)``.

Interpreting a tree per record costs ~7x a hand-written test (PERFORMANCE.md), so a
condition is compiled into the source of one function whose body is a single expression
(``r.industry == c0 and ...``), with every value passed in through the namespace as a named
constant and never formatted into the source; field paths are checked identifiers. The fast
path reads attributes directly and lets Python compare; if anything in it raises (an
attribute the record lacks, values that do not compare, ``None`` halfway along a dotted
path), that record is evaluated again by the closure compiler, which implements the exact
semantics slowly and safely. The result is cached on the node, per record type.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Hashable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from crmkit.clock import default_clock
from crmkit.codegen import generate
from crmkit.conditions.compiler import ConditionCompiler
from crmkit.conditions.constants import Constant
from crmkit.conditions.dates import BusinessCalendar, DateBounds, RelativeDate
from crmkit.conditions.outcomes import (
    DealOutcome,
    PipelineStages,
    check_pipelines,
    outcome_condition,
)
from crmkit.conditions.paths import resolve
from crmkit.conditions.text import ASCII_WHITESPACE, fold_text
from crmkit.conditions.tree import (
    And,
    Between,
    Compare,
    Condition,
    Contains,
    EqualsIgnoringCase,
    HasTag,
    In,
    IsEmpty,
    Not,
    Or,
    StartsWith,
)
from crmkit.errors import SegmentError, ValidationError
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.money import Money

__all__ = [
    "ClosureCompiler",
    "Predicate",
    "PythonSourceCompiler",
    "compile_predicate",
    "expand_outcomes",
    "has_relative_dates",
    "iter_nodes",
]

Predicate = Callable[[Any], bool]
"""A compiled condition: record in, True or False out."""

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FALLBACK = (AttributeError, TypeError, ValueError)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


_COLLECTIONS = (tuple, list, set, frozenset, dict)
# FrozenMap is checked by exact class: it is a Mapping, and isinstance through ABCMeta costs
# more than the whole rest of a requirement check.


def _is_empty(value: object) -> bool:
    """Whether a value counts as empty: None, blank text, an empty collection."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(ASCII_WHITESPACE)
    return (isinstance(value, _COLLECTIONS) or value.__class__ is FrozenMap) and not value


def compile_predicate(
    condition: Condition,
    record_type: type | None = None,
    *,
    now: dt.datetime | None = None,
    calendar: BusinessCalendar | None = None,
    pipelines: Mapping[str, PipelineStages] | None = None,
) -> Predicate:
    """Return a fast Python predicate for `condition`, compiled once and cached on the node.

    Args:
        condition: The condition tree.
        record_type: The class of the records it will see, when known (``Deal``): bare
            names that are not attributes of it then read custom fields directly instead
            of through the slow path.
        now: The instant relative dates (``within 30 days``) are resolved from; the
            default clock's now when not given. A condition with relative dates is
            resolved at each call and its predicate is not cached.
        calendar: The business calendar of relative dates (UTC, calendar year by default).
        pipelines: The pipelines by key, for ``is open`` / ``is won`` / ``is lost``
            (`crmkit.conditions.DealOutcome`) on deals; a condition holding those is
            expanded with them at each call and its predicate is not cached.

    Returns:
        A function taking a record and returning True or False.

    Raises:
        SegmentError: When `condition` is not a condition, or holds ``is won`` (open,
            lost) and no pipelines are given.
        ValidationError: Naming an argument of the wrong type.
    """
    if not isinstance(condition, Condition):
        raise SegmentError(f"{condition!r} is not a condition")
    if record_type is not None and not isinstance(record_type, type):
        raise ValidationError.single("record_type", record_type, "is not a class (or None)")
    if now is not None and (not isinstance(now, dt.datetime) or now.utcoffset() is None):
        raise ValidationError.single("now", now, "is not a timezone-aware datetime")
    if calendar is not None and not isinstance(calendar, BusinessCalendar):
        raise ValidationError.single("calendar", calendar, "is not a BusinessCalendar")
    check_pipelines(pipelines)
    relative = outcomes = False
    for node in _walk(condition):
        if isinstance(node, RelativeDate):
            relative = True
        elif isinstance(node, DealOutcome):
            outcomes = True
    if outcomes:
        condition = expand_outcomes(condition, pipelines)
        if not relative:
            slow = ClosureCompiler().compile(condition)
            return PythonSourceCompiler(record_type).build(condition, slow)
    if relative:
        when = default_clock.now() if now is None else now
        cal = BusinessCalendar() if calendar is None else calendar
        slow = ClosureCompiler(now=when, calendar=cal).compile(condition)
        return PythonSourceCompiler(record_type, now=when, calendar=cal).build(condition, slow)
    cache = condition._compiled
    predicate = cache.get(record_type)
    if predicate is None:
        slow = ClosureCompiler().compile(condition)
        predicate = PythonSourceCompiler(record_type).build(condition, slow)
        cache[record_type] = predicate
    return predicate


def expand_outcomes(
    condition: Condition, pipelines: Mapping[str, PipelineStages] | None
) -> Condition:
    """Replace every ``is open`` / ``is won`` / ``is lost`` by its condition on the pipelines.

    Raises:
        SegmentError: When the tree holds one and no pipelines are given.
    """
    if isinstance(condition, DealOutcome):
        return outcome_condition(condition, pipelines)
    if isinstance(condition, And | Or):
        return type(condition)([expand_outcomes(item, pipelines) for item in condition.items])
    if isinstance(condition, Not):
        return Not(expand_outcomes(condition.item, pipelines))
    return condition


def iter_nodes(condition: Condition) -> Iterator[Condition]:
    """Yield every node of a tree, parents before children (related conditions included).

    Raises:
        SegmentError: When `condition` is not a condition.
    """
    if not isinstance(condition, Condition):
        raise SegmentError(f"{condition!r} is not a condition")
    return _walk(condition)


def _walk(condition: Condition) -> Iterator[Condition]:
    yield condition
    items = getattr(condition, "items", ())
    if isinstance(items, tuple):
        for item in items:
            if isinstance(item, Condition):
                yield from _walk(item)
    for name in ("item", "condition", "where"):
        child = getattr(condition, name, None)
        if isinstance(child, Condition):
            yield from _walk(child)


def has_relative_dates(condition: Condition) -> bool:
    """Whether the tree holds relative dates (its meaning depends on "now").

    Raises:
        SegmentError: When `condition` is not a condition.
    """
    return any(isinstance(node, RelativeDate) for node in iter_nodes(condition))


class ClosureCompiler(ConditionCompiler[Predicate]):
    """Compiles a condition into nested closures: the reference semantics, safe on any value.

    Used as the fallback of the generated predicate and to check it in tests.

    Args:
        now: The instant relative dates are resolved from (the default clock's by default).
        calendar: The business calendar of relative dates.
    """

    def __init__(
        self, now: dt.datetime | None = None, calendar: BusinessCalendar | None = None
    ) -> None:
        self.now = now
        self.calendar = BusinessCalendar() if calendar is None else calendar

    def getter(self, path: str) -> Callable[[Any], object]:
        """Return the function reading `path` on a record (subclasses add virtual fields)."""
        return lambda record: resolve(record, path)

    def bounds(self, node: RelativeDate) -> DateBounds:
        """Resolve a relative date from this compiler's now and calendar."""
        return node.bounds(default_clock.now() if self.now is None else self.now, self.calendar)

    def _relative(self, node: RelativeDate) -> Predicate:
        get, holds = self.getter(node.field), self.bounds(node).holds
        return lambda record: holds(get(record))

    visit_within = _relative
    visit_more_than_ago = _relative
    visit_in_period = _relative
    visit_before = _relative
    visit_after = _relative
    visit_within_next = _relative
    visit_relative_moment = _relative

    def visit_compare(self, node: Compare) -> Predicate:
        """Compile ``field <op> value``."""
        path, value, compare = node.field, node.value, _OPS[node.operator]
        numeric = _is_number(value)
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            if found is None:
                return False
            if numeric and isinstance(found, Money):
                found = found.amount
            try:
                return bool(compare(found, value))
            except _FALLBACK:
                return False

        return test

    def visit_in(self, node: In) -> Predicate:
        """Compile ``field in [...]`` / ``not in``.

        A Money value equals Money of its currency; a number equals a Money value's amount
        in any currency (as `Compare` does), so ``amount in (100 EUR, 100)`` holds for 100
        in every currency.
        """
        path, negated = node.field, node.negated
        numbers = tuple(v for v in node.values if _is_number(v))
        others = tuple(v for v in node.values if not _is_number(v))
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            if found is None:
                return False
            if isinstance(found, Money):
                hit = any(_equal(found, v) for v in others) or any(
                    _equal(found.amount, v) for v in numbers
                )
            else:
                hit = any(_equal(found, v) for v in node.values)
            return not hit if negated else hit

        return test

    def visit_between(self, node: Between) -> Predicate:
        """Compile ``low <= field <= high``."""
        path, low, high = node.field, node.low, node.high
        numeric = _is_number(low) or _is_number(high)
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            if found is None:
                return False
            if numeric and isinstance(found, Money):
                found = found.amount
            try:
                return bool(low <= found <= high)  # type: ignore[operator]
            except _FALLBACK:
                return False

        return test

    def visit_contains(self, node: Contains) -> Predicate:
        """Compile ``field contains value``."""
        path, value = node.field, node.value
        get = self.getter(path)
        folded = fold_text(value) if isinstance(value, str) else None

        def test(record: object) -> bool:
            found = get(record)
            if found is None:
                return False
            if isinstance(found, str):
                return folded is not None and folded in fold_text(found)
            try:
                return value in found  # type: ignore[operator]
            except TypeError:
                return False

        return test

    def visit_starts_with(self, node: StartsWith) -> Predicate:
        """Compile ``field starts with text``."""
        path, prefix = node.field, fold_text(node.value)
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            return isinstance(found, str) and fold_text(found).startswith(prefix)

        return test

    def visit_equals_ignoring_case(self, node: EqualsIgnoringCase) -> Predicate:
        """Compile ``field equals ignoring case text``."""
        path, folded = node.field, fold_text(node.value)
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            return isinstance(found, str) and fold_text(found) == folded

        return test

    def visit_has_tag(self, node: HasTag) -> Predicate:
        """Compile ``field has tag t``."""
        path, tag = node.field, node.tag
        get = self.getter(path)

        def test(record: object) -> bool:
            found = get(record)
            if found is None or isinstance(found, str):
                return False
            try:
                return tag in found  # type: ignore[operator]
            except TypeError:
                return False

        return test

    def visit_is_empty(self, node: IsEmpty) -> Predicate:
        """Compile ``field is empty`` / ``is not empty``."""
        path, negated = node.field, node.negated
        get = self.getter(path)

        def test(record: object) -> bool:
            return _is_empty(get(record)) is not negated

        return test

    def visit_and(self, node: And) -> Predicate:
        """Compile a conjunction."""
        items = tuple(self.compile(item) for item in node.items)
        return lambda record: all(item(record) for item in items)

    def visit_or(self, node: Or) -> Predicate:
        """Compile a disjunction."""
        items = tuple(self.compile(item) for item in node.items)
        return lambda record: any(item(record) for item in items)

    def visit_not(self, node: Not) -> Predicate:
        """Compile the complement."""
        item = self.compile(node.item)
        return lambda record: not item(record)


def _equal(left: object, right: object) -> bool:
    try:
        return bool(left == right)
    except _FALLBACK:
        return False


@attrs.define
class PythonSourceCompiler(ConditionCompiler[str]):
    """Compiles a condition into the source of one Python expression over the record ``r``.

    Values go into `namespace` as ``c0``, ``c1``, ...; the source only ever holds those
    names, checked field names and operators.

    Args:
        record_type: The class of the records, when known (see `compile_predicate`).
    """

    record_type: type | None = None
    namespace: dict[str, object] = attrs.field(factory=dict)
    now: dt.datetime | None = attrs.field(default=None, kw_only=True)
    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar, kw_only=True)

    def build(self, condition: Condition, fallback: Predicate) -> Predicate:
        """Return the compiled predicate; `fallback` evaluates records the fast path cannot."""
        expression = self.compile(condition)
        source = (
            "def _predicate(r):\n"
            "    try:\n"
            f"        return {expression}\n"
            "    except _FALLBACK:\n"
            "        return _slow(r)\n"
        )
        namespace: dict[str, Any] = {
            **self.namespace,
            "_FALLBACK": _FALLBACK,
            "_slow": fallback,
            "_Money": Money,
            "_COLLECTIONS": _COLLECTIONS,
            "_FrozenMap": FrozenMap,
            "_fold": fold_text,
            "_WS": ASCII_WHITESPACE,
            "_datetime": dt.datetime,
            "_date": dt.date,
            "isinstance": isinstance,
            "str": str,
            "__builtins__": {},
        }
        predicate: Predicate = generate(
            source, namespace, "_predicate", what=f"condition: {str(condition)[:60]}"
        )
        predicate.__doc__ = f"Compiled condition: {condition}"
        return predicate

    def constant(self, value: object) -> str:
        """Put `value` into the namespace and return the name that refers to it."""
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def access(self, path: str) -> str:
        """Return the expression that reads `path` on ``r``."""
        parts = path.split(".")
        if parts[0] == "custom":
            return f"r.custom.get({self.constant(parts[1])})"
        head, rest = parts[0], parts[1:]
        if self.record_type is not None and not _has_attribute(self.record_type, head):
            base = f"r.custom.get({self.constant(head)})"
        else:
            base = f"r.{head}"
        return base + "".join(f".{part}" for part in rest)

    def _number_view(self, numeric: bool) -> str:
        return "(x.amount if x.__class__ is _Money else x)" if numeric else "x"

    def visit_compare(self, node: Compare) -> str:
        """Compile ``field <op> value``."""
        value = self.constant(node.value)
        access, op = self.access(node.field), node.operator
        if _is_number(node.value):
            view = f"(x.amount if (x := {access}).__class__ is _Money else x)"
            if op == "==":
                return f"({view} == {value})"
            return f"((x := {access}) is not None and {self._number_view(True)} {op} {value})"
        if op == "==":
            return f"({access} == {value})"
        return f"((x := {access}) is not None and x {op} {value})"

    def visit_in(self, node: In) -> str:
        """Compile ``field in [...]`` / ``not in`` (Money as `ClosureCompiler.visit_in`)."""
        numbers = tuple(v for v in node.values if _is_number(v))
        if numbers and any(isinstance(v, Money) for v in node.values):
            money = self.constant(frozenset(v for v in node.values if isinstance(v, Money)))
            amounts = self.constant(frozenset(numbers))
            every: tuple[Constant, ...] | frozenset[Constant] = node.values
            if all(isinstance(v, Hashable) for v in node.values):
                every = frozenset(node.values)
            # A value other than Money (a custom field's) equals a number or nothing.
            hit = (
                f"((x in {money} or x.amount in {amounts}) if x.__class__ is _Money"
                f" else x in {self.constant(every)})"
            )
            return (
                f"((x := {self.access(node.field)}) is not None"
                f" and {'not ' if node.negated else ''}{hit})"
            )
        values: tuple[Constant, ...] | frozenset[Constant] = node.values
        if all(isinstance(v, Hashable) for v in node.values):
            values = frozenset(node.values)
        name = self.constant(values)
        view = self._number_view(bool(numbers))
        op = "not in" if node.negated else "in"
        return f"((x := {self.access(node.field)}) is not None and {view} {op} {name})"

    def visit_between(self, node: Between) -> str:
        """Compile ``low <= field <= high``."""
        low, high = self.constant(node.low), self.constant(node.high)
        view = self._number_view(_is_number(node.low) or _is_number(node.high))
        return f"((x := {self.access(node.field)}) is not None and {low} <= {view} <= {high})"

    def visit_contains(self, node: Contains) -> str:
        """Compile ``field contains value``."""
        raw = self.constant(node.value)
        folded = self.constant(fold_text(node.value) if isinstance(node.value, str) else None)
        return (
            f"((x := {self.access(node.field)}) is not None and "
            f"({folded} in _fold(x) if isinstance(x, str) else {raw} in x))"
        )

    def visit_starts_with(self, node: StartsWith) -> str:
        """Compile ``field starts with text``."""
        prefix = self.constant(fold_text(node.value))
        return (
            f"(isinstance(x := {self.access(node.field)}, str) and _fold(x).startswith({prefix}))"
        )

    def visit_equals_ignoring_case(self, node: EqualsIgnoringCase) -> str:
        """Compile ``field equals ignoring case text``."""
        folded = self.constant(fold_text(node.value))
        return f"(isinstance(x := {self.access(node.field)}, str) and _fold(x) == {folded})"

    def visit_has_tag(self, node: HasTag) -> str:
        """Compile ``field has tag t``."""
        tag = self.constant(node.tag)
        return (
            f"((x := {self.access(node.field)}) is not None "
            f"and not isinstance(x, str) and {tag} in x)"
        )

    def visit_is_empty(self, node: IsEmpty) -> str:
        """Compile ``field is empty`` / ``is not empty``."""
        test = (
            f"((x := {self.access(node.field)}) is None or (not x.strip(_WS) "
            "if isinstance(x, str) else ((isinstance(x, _COLLECTIONS) "
            "or x.__class__ is _FrozenMap) and not x)))"
        )
        return f"(not {test})" if node.negated else test

    def _relative(self, node: RelativeDate) -> str:
        when = default_clock.now() if self.now is None else self.now
        bounds = node.bounds(when, self.calendar)
        instants = [
            f"{self.constant(bounds.start)} <= x" if bounds.start is not None else "",
            f"x < {self.constant(bounds.end)}" if bounds.end is not None else "",
        ]
        days = [
            f"{self.constant(bounds.start_day)} <= x" if bounds.start_day is not None else "",
            f"x < {self.constant(bounds.end_day)}" if bounds.end_day is not None else "",
        ]
        instant_test = " and ".join(t for t in instants if t) or "True"
        day_test = " and ".join(t for t in days if t) or "True"
        return (
            f"(({instant_test}) if isinstance(x := {self.access(node.field)}, _datetime) "
            f"else (isinstance(x, _date) and {day_test}))"
        )

    visit_within = _relative
    visit_more_than_ago = _relative
    visit_in_period = _relative
    visit_before = _relative
    visit_after = _relative
    visit_within_next = _relative
    visit_relative_moment = _relative

    def visit_and(self, node: And) -> str:
        """Compile a conjunction."""
        return "(" + " and ".join(self.compile(item) for item in node.items) + ")"

    def visit_or(self, node: Or) -> str:
        """Compile a disjunction."""
        return "(" + " or ".join(self.compile(item) for item in node.items) + ")"

    def visit_not(self, node: Not) -> str:
        """Compile the complement."""
        return f"(not {self.compile(node.item)})"


def _has_attribute(record_type: type, name: str) -> bool:
    if attrs.has(record_type) and name in attrs.fields_dict(record_type):
        return True
    return hasattr(record_type, name)
