"""What every record has in common: identity, the store's version, timestamps, custom fields.

Entities are frozen attrs classes. `create` turns plain input into a validated entity;
`changed` makes a new one with some fields changed and re-validated; both refuse values that
some store cannot keep (`crmkit.values.storable`). Neither touches `version`: that number
belongs to the store (0 from `create`, 1 on add, +1 per update).
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import Problem
from crmkit.ids import new_id
from crmkit.model.custom_fields import CustomFields, CustomFieldSchema, CustomValue, parse_custom
from crmkit.model.fast_records import copy_with
from crmkit.model.fields import Parser, ProblemCollector, parse_external_ids, required_ref
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.storable import storable_problems
from crmkit.values.temporal import parse_instant

__all__ = ["Entity", "carry_storable", "checked_storable"]

_NO_IDS: FrozenMap[str, str] = FrozenMap()
_NO_CUSTOM: CustomFields = FrozenMap()
_MANAGED = frozenset({"id", "version", "created_at", "updated_at", "archived_at"})


@attrs.frozen(kw_only=True)
class Entity:
    """The base of every record: `Contact`, `Company`, `Lead`, `Deal`, `Activity`, `Task`, `Order`.

    Attributes:
        id: A UUIDv7, time-ordered, made from the clock at creation.
        version: The store's optimistic-concurrency counter: 0 until stored.
        created_at: When the record was created (UTC).
        updated_at: When it last changed (UTC).
        archived_at: When the store archived it; None while it is live.
        external_ids: Ids of the same record in other systems (source system → id).
        custom: Values of the custom fields declared for this kind of record.
    """

    KIND: ClassVar[str] = "entity"
    _PARSERS: ClassVar[Mapping[str, Parser]] = {}
    _REQUIRED: ClassVar[frozenset[str]] = frozenset()

    id: uuid.UUID
    version: int = 0
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None = None
    external_ids: FrozenMap[str, str] = _NO_IDS
    custom: CustomFields = _NO_CUSTOM

    # -- building -------------------------------------------------------------------------

    @classmethod
    def _coerce(
        cls, values: dict[str, Any], collector: ProblemCollector, current: Self | None
    ) -> dict[str, Any]:
        """Parse the given fields; subclasses first fold composite inputs (amount + currency)."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            parser = cls._PARSERS.get(name)
            if parser is None:
                collector.add(name, value, f"is not a {cls.KIND} field")
                continue
            out[name] = collector.parse(parser, value, name)
        if current is None:
            for name in sorted(cls._REQUIRED - values.keys()):
                collector.add(name, None, "is required")
        return out

    def _problems(self) -> list[Problem]:
        """Return problems that involve several fields at once (none by default)."""
        return []

    @classmethod
    def _build(
        cls,
        values: dict[str, Any],
        *,
        clock: Clock | None,
        id: uuid.UUID | str | None,
        created_at: dt.datetime | str | None,
        external_ids: Mapping[str, str] | None,
        custom: Mapping[str, object] | None,
        schema: CustomFieldSchema | None,
    ) -> Self:
        """Validate everything `create` was given and return the new entity, or raise."""
        clock = resolve_clock(clock)
        collector = ProblemCollector()
        fields = cls._coerce(values, collector, None)
        ident = new_id(clock) if id is None else collector.parse(required_ref, id, "id")
        created = (
            clock.now()
            if created_at is None
            else collector.parse(parse_instant, created_at, "created_at")
        )
        ext = collector.parse(parse_external_ids, external_ids, "external_ids")
        values_custom = _custom(collector, custom, schema, cls.KIND, FrozenMap())
        collector.raise_if_any()
        assert ident is not None
        assert created is not None
        assert ext is not None
        entity = cls(
            id=ident,
            version=0,
            created_at=created,
            updated_at=created,
            external_ids=ext,
            custom=values_custom,
            **fields,
        )
        entity._raise_problems()
        return entity

    def _raise_problems(self) -> None:
        collector = ProblemCollector()
        collector.problems.extend(self._problems())
        collector.problems.extend(storable_problems(self, ""))  # what every store can keep
        collector.raise_if_any()
        _remember_storable(self)

    # -- changing -------------------------------------------------------------------------

    def changed(
        self,
        *,
        clock: Clock | None = None,
        schema: CustomFieldSchema | None = None,
        **fields: Any,
    ) -> Self:
        """Return a copy with `fields` changed, re-validated, and `updated_at` from the clock.

        ``custom=`` replaces all custom values (validated against `schema` when given).
        `id`, `version`, `created_at`, `updated_at` and `archived_at` cannot be changed here.

        Raises:
            ValidationError: Listing every refused field; the entity is unchanged.
        """
        collector = ProblemCollector()
        for name in _MANAGED & fields.keys():
            collector.add(name, fields.pop(name), "is managed by crmkit and the store")
        changes: dict[str, Any] = {}
        if "external_ids" in fields:
            changes["external_ids"] = collector.parse(
                parse_external_ids, fields.pop("external_ids"), "external_ids"
            )
        if "custom" in fields:
            changes["custom"] = _custom(
                collector, fields.pop("custom"), schema, self.KIND, self.custom
            )
        changes.update(self._coerce(fields, collector, self))
        collector.raise_if_any()
        entity = copy_with(self, {**changes, "updated_at": resolve_clock(clock).now()})
        # Only the changed values need the storable check: the rest passed it already.
        collector.problems.extend(entity._problems())
        for name, value in changes.items():
            collector.problems.extend(storable_problems(value, name))
        collector.raise_if_any()
        _remember_storable(entity)
        return entity

    def with_custom(
        self,
        key: str,
        value: object,
        *,
        schema: CustomFieldSchema | None = None,
        clock: Clock | None = None,
    ) -> Self:
        """Return a copy with one custom value set (None removes it)."""
        values: dict[str, object] = dict(self.custom)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        return self.changed(custom=values, schema=schema, clock=clock)

    @property
    def is_archived(self) -> bool:
        """Whether the store has archived this record."""
        return self.archived_at is not None


def _custom(
    collector: ProblemCollector,
    values: Mapping[str, object] | None,
    schema: CustomFieldSchema | None,
    kind: str,
    previous: Mapping[str, CustomValue],
) -> CustomFields:
    if schema is not None and schema.entity != kind:
        collector.add("schema", schema.entity, f"is a schema for {schema.entity}, not {kind}")
        return FrozenMap()
    if schema is None:
        return collector.parse(parse_custom, values, "custom") or FrozenMap()
    if values is not None and not isinstance(values, Mapping):
        collector.add("custom", values, "is not a mapping of custom values")
        return FrozenMap()
    return (
        collector.parse(lambda v, _f: schema.validate(v, previous=previous), values, "custom")
        or FrozenMap()
    )


# The entities `create` and `changed` checked as storable, by identity while they live: a
# store need not walk them again (an entity made around them, with attrs.evolve, it walks).
# Each entry's weak reference removes the entry when its entity is collected.
class _Mark(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a checked entity that knows its key in `_STORABLE`.

    (A plain weak reference as a dict key would hash the entity: all its fields.)
    """

    __slots__ = ("key",)
    key: int


_STORABLE: dict[int, _Mark] = {}


def _forget(mark: _Mark) -> None:
    if _STORABLE.get(mark.key) is mark:
        del _STORABLE[mark.key]


def _remember_storable(entity: Entity) -> None:
    mark = _Mark(entity, _forget)
    mark.key = id(entity)
    _STORABLE[mark.key] = mark


def checked_storable(entity: Entity) -> bool:
    """Say whether `create` or `changed` made this very entity (so it is storable already)."""
    ref = _STORABLE.get(id(entity))
    return ref is not None and ref() is entity


def carry_storable(source: Entity, made: Entity, *texts: str | None) -> None:
    """Remember `made`, a copy of `source` with `texts` added, as storable when both are.

    For copies made around `changed` (a pipeline move adds a stay with its mover and note):
    when `source` was checked and each added text is storable, so is `made`, and a store
    need not walk it again.
    """
    ref = _STORABLE.get(id(source))
    if ref is None or ref() is not source:
        return
    for text in texts:
        if text is not None and storable_problems(text, ""):
            return
    _remember_storable(made)
