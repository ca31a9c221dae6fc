"""The registry of record kinds: one declaration per kind, everything else derives from it.

Each `Kind` names its entity class, its table, the fields that refer to other records (and
how segments call those relations), the field `related` sorts by, its side tables, and its
part in derived facts. Storage (tables, row codecs, side rows, facts, ids), the condition
binder (relations, counted relations, fact fields), segments, column fetches and the testing
kit read it from here; none of them lists kinds again.

Adding a kind is its model file, one `register` call (the built-in kinds are registered
below) and a migration step that creates its table (`crmkit.storage.sql.schema`).
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from crmkit.errors import Problem, ValidationError
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.task import Task

__all__ = [
    "KINDS",
    "SIDE_TABLES",
    "Kind",
    "Ref",
    "derived",
    "kind_named",
    "kind_of",
    "register",
    "unregister",
]

SIDE_TABLES: Mapping[str, str] = MappingProxyType(
    {
        "emails": "emails",
        "tags": "tags",
        "deal_contacts": "contact_ids",
        "deal_stages": "stage_history",
    }
)
"""The side tables a kind may have, each with the field its rows are made from: its email
match keys (look-up by email), its tags (look-up by tag), a deal's contacts (look-up of a
contact's deals), a deal's stage history."""

K = TypeVar("K")
V = TypeVar("V")


@attrs.frozen
class Ref:
    """A field of one kind that holds the id (or ids, when `many`) of a record of `target`.

    Attributes:
        field: The field holding the id(s) (``"company_id"``).
        target: The kind it refers to (``"company"``).
        many: The field holds a tuple of ids (a deal's ``contact_ids``).
        relation: The name segments on this kind use for the record(s) referred to:
            ``company matches (...)`` for a single reference, a counted relation
            (``at least 2 contacts``) for `many`; None when segments do not follow it.
        counted_as: The name segments on the *target* use to count the records of this kind
            that refer to it (``at least 3 activities``); None when they do not.
    """

    field: str
    target: str
    many: bool = False
    relation: str | None = None
    counted_as: str | None = None


@attrs.frozen
class Kind:
    """What storage, segments and the testing kit need to know about one kind of record.

    Attributes:
        name: The kind's name (``"contact"``), also `Entity.KIND`.
        cls: The entity class.
        table: The table (or collection) name, also the unit of work's repository name
            (``uow.contacts``).
        refs: The fields that refer to other records.
        time_field: The field `related` sorts by, newest first.
        side_tables: The side tables its records have (`SIDE_TABLES`).
        keeps_facts: The store keeps derived facts about its records (last activity,
            activity counts, orders and totals), from the records that feed them.
        feeds_facts: Its records move the facts of the records they refer to.
    """

    name: str
    cls: type[Entity]
    table: str
    refs: tuple[Ref, ...] = ()
    time_field: str = "created_at"
    side_tables: frozenset[str] = frozenset()
    keeps_facts: bool = False
    feeds_facts: bool = False

    def ref_ids(self, entity: Entity) -> list[tuple[Ref, object]]:
        """Return each (reference, id) the entity holds, one pair per referenced id."""
        pairs: list[tuple[Ref, object]] = []
        for ref in self.refs:
            value = getattr(entity, ref.field)
            if value is None:
                continue
            if ref.many:
                pairs.extend((ref, item) for item in value)
            else:
                pairs.append((ref, value))
        return pairs


_KINDS: dict[str, Kind] = {}
_generation = 0

KINDS: Mapping[str, Kind] = MappingProxyType(_KINDS)
"""Every registered kind by name, in registration order: each kind's references point to
kinds registered before it or to itself, except leads' conversion links, which point forward."""


def register(kind: Kind) -> Kind:
    """Add a kind to the registry; return it.

    Raises:
        ValidationError: Listing every problem: a taken name or table, a class whose `KIND`
            is not the name, a table name that is not a plain identifier, a reference to an
            unregistered kind or a field the class does not have, an unknown side table.
    """
    if not isinstance(kind, Kind):
        raise ValidationError.single("kind", type(kind).__name__, "is not a Kind")
    problems = _problems(kind, {*_KINDS, kind.name})
    if problems:
        raise ValidationError(problems)
    _add(kind)
    return kind


def _problems(kind: Kind, known: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if kind.name in _KINDS:
        problems.append(Problem("name", kind.name, "is registered already"))
    if getattr(kind.cls, "KIND", None) != kind.name:
        problems.append(Problem("cls", kind.cls.__name__, "has another KIND than the name"))
    if not kind.table.isidentifier() or keyword.iskeyword(kind.table):
        problems.append(Problem("table", kind.table, "is not a plain identifier"))
    if any(k.table == kind.table for k in _KINDS.values()):
        problems.append(Problem("table", kind.table, "is the table of another kind"))
    fields = {f.name for f in attrs.fields(kind.cls)}
    for ref in kind.refs:
        if ref.field not in fields:
            problems.append(Problem("refs", ref.field, f"is not a field of {kind.cls.__name__}"))
        if ref.target not in known:
            problems.append(Problem("refs", ref.target, "is not a registered kind"))
    if kind.time_field not in fields:
        problems.append(
            Problem("time_field", kind.time_field, f"is not a field of {kind.cls.__name__}")
        )
    for side in sorted(kind.side_tables - SIDE_TABLES.keys()):
        problems.append(
            Problem("side_tables", side, f"is not one of {', '.join(sorted(SIDE_TABLES))}")
        )
    return problems


def _add(kind: Kind) -> None:
    global _generation
    _KINDS[kind.name] = kind
    _generation += 1


def unregister(name: str) -> None:
    """Remove a kind registered with `register` (for tests and plug-ins that go away)."""
    global _generation
    kind_named(name)
    del _KINDS[name]
    _generation += 1


def kind_named(name: str) -> Kind:
    """Return the registered kind of that name.

    Raises:
        ValidationError: When no kind has that name (with the closest names).
    """
    found = _KINDS.get(name) if isinstance(name, str) else None
    if found is None:
        close = difflib.get_close_matches(str(name), list(_KINDS), n=1)
        hint = f": did you mean {close[0]!r}?" if close else f": one of {', '.join(_KINDS)}"
        raise ValidationError.single("kind", name, f"is not a kind of record{hint}")
    return found


def kind_of(entity: Entity) -> Kind:
    """Return the `Kind` of an entity."""
    return kind_named(entity.KIND)


class _Derived(Mapping[K, V], Generic[K, V]):
    """A read-only mapping built from the registry, rebuilt when a kind is (un)registered."""

    def __init__(self, build: Callable[[], dict[K, V]]) -> None:
        self._build = build
        self._generation = -1
        self._data: dict[K, V] = {}

    def _current(self) -> dict[K, V]:
        if self._generation != _generation:
            self._data = self._build()
            self._generation = _generation
        return self._data

    def __getitem__(self, key: K) -> V:
        return self._current()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def __repr__(self) -> str:
        return f"derived({self._current()!r})"


def derived(build: Callable[[], dict[Any, Any]]) -> Mapping[Any, Any]:
    """Return a read-only mapping that `build` makes from the registry, kept up to date.

    Tables that restate the registry in another shape (relations by name, kinds with facts)
    are built this way, so a kind registered later shows in them too.
    """
    return _Derived(build)


_LINKS = (
    Ref("contact_id", "contact", relation="contact"),
    Ref("company_id", "company", relation="company"),
    Ref("deal_id", "deal", relation="deal"),
    Ref("lead_id", "lead"),
)


def _links(plural: str, *fields: str) -> tuple[Ref, ...]:
    """The links of an activity-like kind, each counted on its target as `plural`."""
    return tuple(
        attrs.evolve(ref, counted_as=plural) for ref in _LINKS if not fields or ref.field in fields
    )


_BUILT_IN = (
    Kind(
        "company",
        Company,
        "companies",
        (Ref("parent_id", "company", relation="parent"),),
        side_tables=frozenset({"tags"}),
        keeps_facts=True,
    ),
    Kind(
        "contact",
        Contact,
        "contacts",
        (Ref("company_id", "company", relation="company", counted_as="contacts"),),
        side_tables=frozenset({"emails", "tags"}),
        keeps_facts=True,
    ),
    Kind(
        "lead",
        Lead,
        "leads",
        (
            Ref("converted_contact_id", "contact"),
            Ref("converted_company_id", "company"),
            Ref("converted_deal_id", "deal"),
        ),
        side_tables=frozenset({"tags"}),
        keeps_facts=True,
    ),
    Kind(
        "deal",
        Deal,
        "deals",
        (
            Ref("company_id", "company", relation="company", counted_as="deals"),
            Ref("contact_ids", "contact", many=True, relation="contacts", counted_as="deals"),
            Ref("lead_id", "lead"),
        ),
        side_tables=frozenset({"tags", "deal_contacts", "deal_stages"}),
        keeps_facts=True,
    ),
    Kind("activity", Activity, "activities", _links("activities"), "occurred_at", feeds_facts=True),
    Kind("task", Task, "tasks", _links("tasks")),
    Kind(
        "order",
        Order,
        "orders",
        _links("orders", "contact_id", "company_id"),
        "placed_at",
        feeds_facts=True,
    ),
)


def _register_built_in() -> None:
    """Register the built-in kinds (leads refer forward to contacts, companies and deals)."""
    names = {kind.name for kind in _BUILT_IN}
    for kind in _BUILT_IN:
        problems = _problems(kind, names)
        assert not problems, problems
        _add(kind)


_register_built_in()
