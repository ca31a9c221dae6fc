"""The condition tree: small frozen nodes, one class per kind, built with `F`.

``(F("industry") == "software") & (F("employees") >= 50)`` builds an `And` of two `Compare`
nodes. Every node prints as canonical text (``industry == "software" and employees >= 50``),
has a plain dict form (`Condition.to_dict`, `condition_from_dict`) that loads back equal,
and compiles once into a Python predicate (`crmkit.conditions.compile_predicate`).

Semantics, whatever the target: a condition on a missing (None) value is false, and so is a
comparison between values that cannot be compared (text with a number, euros with dollars);
``~c`` is the complement of ``c`` (true exactly where ``c`` is false, missing values
included); text compares by code point, except `contains`, `starts_with` and
`equals_ignoring_case`, which ignore the case of A-Z only (`crmkit.conditions.text`: the
same in Python and every SQL database); enums compare by their value; Money compares with
Money by amount within one currency, and with a plain number by its amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, NoReturn

import attrs

from crmkit.conditions.constants import (
    Constant,
    check_text,
    decode_constant,
    encode_constant,
    format_constant,
    to_constant,
)
from crmkit.conditions.paths import check_path
from crmkit.errors import SegmentError

__all__ = [
    "COMPARISONS",
    "And",
    "Between",
    "Compare",
    "Condition",
    "Contains",
    "EqualsIgnoringCase",
    "F",
    "FieldCondition",
    "HasTag",
    "In",
    "IsEmpty",
    "Not",
    "Or",
    "StartsWith",
    "condition_from_dict",
    "register_dict_form",
    "register_leaf_op",
]

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
"""The comparison operators of `Compare`."""


def _path(value: object) -> str:
    return check_path(value)


def _constants(values: Iterable[object]) -> tuple[Constant, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise SegmentError(f"is_in / not_in need a collection of values, not {values!r}")
    return tuple(dict.fromkeys(to_constant(v) for v in values))


@attrs.frozen
class Condition:
    """The base of every node: combine with ``&``, ``|`` and ``~``; never with and/or/not.

    Subclasses set `kind`, the name of their compiler method (``visit_<kind>``).
    """

    kind: ClassVar[str] = "condition"
    _compiled: dict[object, Callable[[Any], bool]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
    )

    def __and__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return And((*_parts(self, And), *_parts(other, And)))

    def __or__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Or((*_parts(self, Or), *_parts(other, Or)))

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> NoReturn:
        raise TypeError(
            "a condition has no truth value: combine conditions with &, | and ~ "
            "(not with and, or, not) and do not chain comparisons like 1 < F(x) < 3"
        )

    def fields(self) -> tuple[str, ...]:
        """The field paths the condition reads, in order of first use, without repeats."""
        return tuple(dict.fromkeys(self._walk_fields()))

    def _walk_fields(self) -> Iterator[str]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-ready dict form; `condition_from_dict` loads it back equal."""
        raise NotImplementedError


def _parts(condition: Condition, kind: type[And] | type[Or]) -> tuple[Condition, ...]:
    if isinstance(condition, kind):
        return condition.items
    return (condition,)


@attrs.frozen
class FieldCondition(Condition):
    """A condition on one field; `op` names the operator in the dict form.

    Attributes:
        field: The field path (``"employees"``, ``"bant.budget"``, ``"custom.plan"``).
    """

    op: ClassVar[str] = ""
    field: str = attrs.field(converter=_path)

    def _walk_fields(self) -> Iterator[str]:
        yield self.field

    def _value_dict(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"field": ..., "op": ..., "value": ...}`` (no value for emptiness)."""
        return {"field": self.field, "op": self.op, **self._value_dict()}


def _check_op(_instance: object, _attribute: object, value: str) -> None:
    if value not in COMPARISONS:
        raise SegmentError(f"{value!r} is not a comparison: use one of {', '.join(COMPARISONS)}")


@attrs.frozen
class Compare(FieldCondition):
    """``field <op> value`` for ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``.

    ``!=`` is false on a missing value (unlike ``~(F(x) == v)``, which is true there).

    Attributes:
        operator: One of `COMPARISONS`.
        value: The constant compared with.
    """

    kind: ClassVar[str] = "compare"
    operator: str = attrs.field(validator=_check_op)
    value: Constant = attrs.field(converter=to_constant)

    @property
    def op(self) -> str:  # type: ignore[override]
        """The operator, as in the dict form."""
        return self.operator

    def _value_dict(self) -> dict[str, Any]:
        return {"value": encode_constant(self.value)}

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {format_constant(self.value)}"


@attrs.frozen
class In(FieldCondition):
    """``field in [values]`` (or ``not in`` when `negated`); false on a missing value.

    Attributes:
        values: The constants, without repeats, in the order given.
        negated: True for ``not in``.
    """

    kind: ClassVar[str] = "in"
    values: tuple[Constant, ...] = attrs.field(converter=_constants)
    negated: bool = False

    @property
    def op(self) -> str:  # type: ignore[override]
        """``in`` or ``not in``."""
        return "not in" if self.negated else "in"

    def _value_dict(self) -> dict[str, Any]:
        return {"value": [encode_constant(v) for v in self.values]}

    def __str__(self) -> str:
        items = ", ".join(format_constant(v) for v in self.values)
        return f"{self.field} {self.op} [{items}]"


@attrs.frozen
class Between(FieldCondition):
    """``low <= field <= high`` (both ends included).

    Attributes:
        low: The lower bound.
        high: The upper bound.
    """

    kind: ClassVar[str] = "between"
    op: ClassVar[str] = "between"
    low: Constant = attrs.field(converter=to_constant)
    high: Constant = attrs.field(converter=to_constant)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": [encode_constant(self.low), encode_constant(self.high)]}

    def __str__(self) -> str:
        return f"{self.field} between {format_constant(self.low)} and {format_constant(self.high)}"


@attrs.frozen
class Contains(FieldCondition):
    """Text holds `value` ignoring case; a set or tuple (tags, multi-choice) has it as a member.

    Attributes:
        value: The text to look for, or the member.
    """

    kind: ClassVar[str] = "contains"
    op: ClassVar[str] = "contains"
    value: Constant = attrs.field(converter=to_constant)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": encode_constant(self.value)}

    def __str__(self) -> str:
        return f"{self.field} contains {format_constant(self.value)}"


def _text_for(op: str, value: object) -> str:
    if not isinstance(value, str):
        raise SegmentError(f"{op} needs text, not {value!r}")
    return check_text(value)


def _text(value: object) -> str:
    return _text_for("starts_with", value)


def _case_text(value: object) -> str:
    return _text_for("equals_ignoring_case", value)


@attrs.frozen
class StartsWith(FieldCondition):
    """Text starts with `value`, ignoring the case of A-Z.

    Attributes:
        value: The prefix.
    """

    kind: ClassVar[str] = "starts_with"
    op: ClassVar[str] = "starts with"
    value: str = attrs.field(converter=_text)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def __str__(self) -> str:
        return f"{self.field} starts with {format_constant(self.value)}"


@attrs.frozen
class EqualsIgnoringCase(FieldCondition):
    """Text equals `value` when the case of A-Z is ignored (`crmkit.conditions.fold_ascii`).

    ``"Software"`` equals ``"software"``; ``"É"`` does not equal ``"é"`` (only A-Z fold,
    the same in Python, SQLite and PostgreSQL). False on a missing value and on a value
    that is not text.

    Attributes:
        value: The text compared with.
    """

    kind: ClassVar[str] = "equals_ignoring_case"
    op: ClassVar[str] = "equals ignoring case"
    value: str = attrs.field(converter=_case_text)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def __str__(self) -> str:
        return f"{self.field} equals ignoring case {format_constant(self.value)}"


def _tag(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SegmentError(f"a tag is non-blank text, not {value!r}")
    return check_text(value.strip().lower())


@attrs.frozen
class HasTag(FieldCondition):
    """A set of tags holds `tag` (tags are stripped and lowercased, as entities store them).

    Attributes:
        tag: The tag.
    """

    kind: ClassVar[str] = "has_tag"
    op: ClassVar[str] = "has tag"
    tag: str = attrs.field(converter=_tag)

    def _value_dict(self) -> dict[str, Any]:
        return {"value": self.tag}

    def __str__(self) -> str:
        prefix = "" if self.field == "tags" else f"{self.field} "
        return f"{prefix}has tag {format_constant(self.tag)}"


@attrs.frozen
class IsEmpty(FieldCondition):
    """The value is missing: None, blank text or an empty collection (`negated`: it is not).

    Collections are tuples, lists, sets, frozensets, dicts and `FrozenMap`s (and their
    subclasses, but for `FrozenMap`).

    Zero, False and zero Money are values, not emptiness.

    Attributes:
        negated: True for ``is not empty``, the exact complement.
    """

    kind: ClassVar[str] = "is_empty"
    negated: bool = False

    @property
    def op(self) -> str:  # type: ignore[override]
        """``is empty`` or ``is not empty``."""
        return "is not empty" if self.negated else "is empty"

    def __invert__(self) -> Condition:
        return IsEmpty(self.field, not self.negated)

    def __str__(self) -> str:
        return f"{self.field} {self.op}"


def _items(values: Iterable[Condition]) -> tuple[Condition, ...]:
    if isinstance(values, Condition) or not isinstance(values, Iterable):
        raise SegmentError(f"and / or need a collection of conditions, not {values!r}")
    items = tuple(values)
    if not items:
        raise SegmentError("and / or need at least one condition")
    for item in items:
        if not isinstance(item, Condition):
            raise SegmentError(f"{item!r} is not a condition")
    return items


@attrs.frozen
class And(Condition):
    """True when every item is true.

    Attributes:
        items: The conditions, at least one.
    """

    kind: ClassVar[str] = "and"
    items: tuple[Condition, ...] = attrs.field(converter=_items)

    def _walk_fields(self) -> Iterator[str]:
        for item in self.items:
            yield from item._walk_fields()

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"and": [...]}``."""
        return {"and": [item.to_dict() for item in self.items]}

    def __str__(self) -> str:
        return " and ".join(f"({i})" if isinstance(i, Or | And) else str(i) for i in self.items)


@attrs.frozen
class Or(Condition):
    """True when at least one item is true.

    Attributes:
        items: The conditions, at least one.
    """

    kind: ClassVar[str] = "or"
    items: tuple[Condition, ...] = attrs.field(converter=_items)

    def _walk_fields(self) -> Iterator[str]:
        for item in self.items:
            yield from item._walk_fields()

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"or": [...]}``."""
        return {"or": [item.to_dict() for item in self.items]}

    def __str__(self) -> str:
        return " or ".join(f"({i})" if isinstance(i, Or) else str(i) for i in self.items)


def _condition(value: object) -> Condition:
    if not isinstance(value, Condition):
        raise SegmentError(f"{value!r} is not a condition")
    return value


@attrs.frozen
class Not(Condition):
    """The complement: true exactly where `item` is false (missing values included).

    Attributes:
        item: The condition negated.
    """

    kind: ClassVar[str] = "not"
    item: Condition = attrs.field(converter=_condition)

    def __invert__(self) -> Condition:
        return self.item

    def _walk_fields(self) -> Iterator[str]:
        return self.item._walk_fields()

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"not": {...}}``."""
        return {"not": self.item.to_dict()}

    def __str__(self) -> str:
        return f"not ({self.item})"


class F:
    """A reference to a field, whose operators build conditions: ``F("employees") >= 50``.

    Args:
        path: A built-in attribute (``"industry"``), a dotted path (``"bant.budget"``),
            ``"custom.<key>"``, or a bare custom key that is not an attribute.

    Raises:
        SegmentError: When `path` is not a valid field name.
    """

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path: str = check_path(path)

    def __repr__(self) -> str:
        return f"F({self.path!r})"

    def __eq__(self, value: object) -> Compare:  # type: ignore[override]
        return Compare(self.path, "==", value)

    def __ne__(self, value: object) -> Compare:  # type: ignore[override]
        return Compare(self.path, "!=", value)

    def __lt__(self, value: object) -> Compare:
        return Compare(self.path, "<", value)

    def __le__(self, value: object) -> Compare:
        return Compare(self.path, "<=", value)

    def __gt__(self, value: object) -> Compare:
        return Compare(self.path, ">", value)

    def __ge__(self, value: object) -> Compare:
        return Compare(self.path, ">=", value)

    __hash__ = None  # type: ignore[assignment]

    def is_in(self, values: Iterable[object]) -> In:
        """The value is one of `values`."""
        return In(self.path, values)

    def not_in(self, values: Iterable[object]) -> In:
        """The value is present and none of `values`."""
        return In(self.path, values, negated=True)

    def between(self, low: object, high: object) -> Between:
        """``low <= value <= high``."""
        return Between(self.path, low, high)

    def contains(self, value: object) -> Contains:
        """Text contains `value` ignoring case, or a collection has `value` as a member."""
        return Contains(self.path, value)

    def starts_with(self, text: str) -> StartsWith:
        """Text starts with `text`, ignoring case."""
        return StartsWith(self.path, text)

    def equals_ignoring_case(self, text: str) -> EqualsIgnoringCase:
        """Text equals `text` when the case of A-Z is ignored (``"Software"`` = ``"software"``)."""
        return EqualsIgnoringCase(self.path, text)

    def has_tag(self, tag: str) -> HasTag:
        """The set of tags at this field holds `tag` (``F("tags").has_tag("vip")``)."""
        return HasTag(self.path, tag)

    def is_empty(self) -> IsEmpty:
        """The value is missing, blank text or an empty collection."""
        return IsEmpty(self.path)

    def is_not_empty(self) -> IsEmpty:
        """The value is present: the exact complement of `is_empty`."""
        return IsEmpty(self.path, negated=True)


_NO_VALUE_OPS: set[str] = {"is empty", "is not empty"}
_LEAF_OPS: dict[str, Callable[[str, Any], Condition]] = {
    **{op: (lambda o: lambda f, v: Compare(f, o, decode_constant(v)))(op) for op in COMPARISONS},
    "in": lambda f, v: In(f, [decode_constant(x) for x in _list(v, 0)]),
    "not in": lambda f, v: In(f, [decode_constant(x) for x in _list(v, 0)], negated=True),
    "between": lambda f, v: Between(f, *(decode_constant(x) for x in _list(v, 2))),
    "contains": lambda f, v: Contains(f, decode_constant(v)),
    "starts with": lambda f, v: StartsWith(f, v),
    "equals ignoring case": lambda f, v: EqualsIgnoringCase(f, v),
    "has tag": lambda f, v: HasTag(f, v),
    "is empty": lambda f, _v: IsEmpty(f),
    "is not empty": lambda f, _v: IsEmpty(f, negated=True),
}


_FORMS: dict[str, Callable[[Mapping[str, Any]], Condition]] = {}


def register_leaf_op(
    op: str, build: Callable[[str, Any], Condition], *, takes_value: bool = True
) -> None:
    """Teach `condition_from_dict` a field operator ``{"field", "op": op, "value"}``.

    Modules that add node kinds (`crmkit.conditions.dates`) register their operators here;
    one that `takes_value=False` has no ``value`` (``{"field", "op": "before today"}``).
    """
    _LEAF_OPS[op] = build
    if not takes_value:
        _NO_VALUE_OPS.add(op)


def register_dict_form(key: str, load: Callable[[Mapping[str, Any]], Condition]) -> None:
    """Teach `condition_from_dict` a dict form recognised by one of its keys (``"count"``)."""
    _FORMS[key] = load


def _list(value: object, size: int) -> list[Any]:
    if not isinstance(value, list | tuple) or (size and len(value) != size):
        wanted = f"a list of {size} values" if size else "a list of values"
        raise SegmentError(f"{value!r} is not {wanted}")
    return list(value)


def condition_from_dict(data: Mapping[str, Any]) -> Condition:
    """Load a condition from its dict form (see `Condition.to_dict`).

    Forms: ``{"field": "employees", "op": ">=", "value": 50}``, ``{"and": [...]}``,
    ``{"or": [...]}``, ``{"not": {...}}``; ops are ``==``, ``!=``, ``<``, ``<=``, ``>``,
    ``>=``, ``in``, ``not in``, ``between``, ``contains``, ``starts with``,
    ``equals ignoring case``, ``has tag``, ``is empty``, ``is not empty``.

    Raises:
        SegmentError: Naming what is wrong.
    """
    if not isinstance(data, Mapping):
        raise SegmentError(f"{data!r} is not a condition mapping")
    keys = set(data)
    if keys == {"and"} or keys == {"or"}:
        (name,) = keys
        items = _list(data[name], 0)
        nodes = [condition_from_dict(item) for item in items]
        return And(nodes) if name == "and" else Or(nodes)
    if keys == {"not"}:
        return Not(condition_from_dict(data["not"]))
    if "field" in keys and "op" in keys and keys <= {"field", "op", "value"}:
        op = data["op"]
        build = _LEAF_OPS.get(op) if isinstance(op, str) else None
        if build is None:
            raise SegmentError(f"{op!r} is not an operator: use one of {', '.join(_LEAF_OPS)}")
        needs_value = op not in _NO_VALUE_OPS
        if needs_value != ("value" in keys):
            raise SegmentError(
                f"operator {op!r} {'needs' if needs_value else 'takes no'} value in {dict(data)!r}"
            )
        return build(data["field"], data.get("value"))
    for key, load in _FORMS.items():
        if key in keys:
            return load(data)
    raise SegmentError(f"{dict(data)!r} is not a condition: give field/op/value, and, or, or not")
