"""Custom fields: per-entity schemas of typed extra fields, and the values entities hold.

A `CustomFieldSchema` declares, for one kind of record, which extra fields exist, their type
(text, integer, decimal, date, datetime, bool, choice, multi-choice), whether they are
required and their default. Values are validated against it and held in a `CustomFields`
mapping, which is immutable and hashable so an entity that holds one stays hashable.

Without a schema, values are accepted with the type they have (text, int, Decimal, bool,
date, datetime, a set of choices); a float becomes the Decimal of its shortest repr.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeAlias, cast

import attrs

from crmkit.errors import Problem, ValidationError
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.arguments import as_items, item_problems
from crmkit.values.money import parse_amount
from crmkit.values.storable import check_storable
from crmkit.values.temporal import parse_day, parse_instant

__all__ = [
    "CustomField",
    "CustomFieldSchema",
    "CustomFields",
    "CustomValue",
    "FieldType",
    "infer_type",
]

CustomValue: TypeAlias = str | int | Decimal | bool | dt.date | dt.datetime | frozenset[str]
"""What a custom field can hold."""

CustomFields: TypeAlias = FrozenMap[str, CustomValue]
"""The custom values of one entity: an immutable, hashable mapping sorted by key."""

_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A field key, matched whole (`re.fullmatch`: ``$`` would let a trailing newline through)."""


class FieldType(enum.StrEnum):
    """The type of a custom field."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"


def infer_type(value: object) -> FieldType:
    """Return the field type a parsed custom value has (used where there is no schema)."""
    if isinstance(value, bool):
        return FieldType.BOOL
    if isinstance(value, int):
        return FieldType.INTEGER
    if isinstance(value, Decimal):
        return FieldType.DECIMAL
    if isinstance(value, dt.datetime):
        return FieldType.DATETIME
    if isinstance(value, dt.date):
        return FieldType.DATE
    if isinstance(value, frozenset):
        return FieldType.MULTI_CHOICE
    return FieldType.TEXT


def _parse_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
        return _BOOL_TEXT[value.strip().lower()]
    raise ValidationError.single(field, value, "is not a yes/no value")


_BOOL_TEXT = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _parse_integer(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError.single(field, value, "is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValidationError.single(field, value, "is not an integer")


def _parse_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    return parse_amount(value, field)


def _parse_choices(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.single(field, value, "is not a collection of choices")
    items = list(value)
    if not all(isinstance(item, str) and item for item in items):
        raise ValidationError.single(field, value, "holds something that is not a choice")
    return frozenset(items)


def _parse_text_value(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError.single(field, value, "is not text")
    return value


def _infer_value(value: object, field: str) -> CustomValue:
    """Accept a value with the type it already has (schema-less custom fields)."""
    parsed: CustomValue
    if isinstance(value, bool | int | Decimal | str | dt.date):
        if isinstance(value, dt.datetime):
            parsed = parse_instant(value, field)
        elif isinstance(value, Decimal):
            parsed = parse_amount(value, field)
        else:
            parsed = value
    elif isinstance(value, float):
        parsed = _parse_decimal(value, field)
    elif isinstance(value, set | frozenset | list | tuple):
        parsed = _parse_choices(value, field)
    else:
        raise ValidationError.single(
            field, value, "is not a custom value (text, number, bool, date, datetime or choices)"
        )
    check_storable(parsed, field)
    return parsed


_PARSERS = {
    FieldType.TEXT: _parse_text_value,
    FieldType.INTEGER: _parse_integer,
    FieldType.DECIMAL: _parse_decimal,
    FieldType.DATE: parse_day,
    FieldType.DATETIME: parse_instant,
    FieldType.BOOL: _parse_bool,
    FieldType.CHOICE: _parse_text_value,
    FieldType.MULTI_CHOICE: _parse_choices,
}


def _check_key(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ValidationError.single(
            "key", value, "is not a field key (lowercase letters, digits and _, max 63)"
        )


def _field_type(value: object) -> FieldType:
    if isinstance(value, FieldType):
        return value
    if isinstance(value, str) and value in FieldType.__members__.values():
        return FieldType(value)
    choices = ", ".join(t.value for t in FieldType)
    raise ValidationError.single("type", value, f"is not a field type: one of {choices}")


@attrs.frozen
class CustomField:
    """The declaration of one custom field.

    Attributes:
        key: The name used in code, files and segments (``"plan"``, ``"seats"``).
        type: What the field holds.
        label: The name shown to people; the key when empty.
        required: Whether every record must have a value (a default counts).
        default: The value given to records that have none.
        choices: The allowed values of a choice or multi-choice field.
        retired: A retired field accepts no new values but its old values stay readable.
    """

    key: str = attrs.field(validator=_check_key)
    type: FieldType = attrs.field(converter=_field_type)
    label: str = ""
    required: bool = False
    default: CustomValue | None = None
    choices: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    retired: bool = False

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not self.choices:
            problems.append(Problem(f"{self.key}.choices", self.choices, "is empty"))
        if self.choices and self.type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            problems.append(
                Problem(f"{self.key}.choices", self.choices, f"make no sense for {self.type}")
            )
        if problems:
            raise ValidationError(problems)
        if self.default is not None:
            object.__setattr__(self, "default", self.parse(self.default, f"{self.key}.default"))

    def parse(self, value: object, field: str | None = None) -> CustomValue:
        """Validate one value for this field and return it in its stored type.

        Raises:
            ValidationError: When the value does not fit the type or the choices, or is not
                storable (text with NUL, an integer past 64 bits, a decimal past 18 + 10
                digits: `crmkit.values.storable`).
        """
        where = field or f"custom.{self.key}"
        parsed = cast(CustomValue, _PARSERS[self.type](value, where))
        check_storable(parsed, where)  # what every store keeps: `crmkit.values.storable`
        if self.type is FieldType.CHOICE and parsed not in self.choices:
            raise ValidationError.single(
                where, value, f"is not one of the choices: {', '.join(self.choices)}"
            )
        if self.type is FieldType.MULTI_CHOICE:
            assert isinstance(parsed, frozenset)
            unknown = sorted(parsed - set(self.choices))
            if unknown:
                raise ValidationError.single(
                    where, value, f"holds unknown choices {unknown}: allowed are {self.choices}"
                )
        return parsed

    def to_dict(self) -> dict[str, Any]:
        """Return the declaration as plain data (JSON-ready but for a non-text default)."""
        data: dict[str, Any] = {"key": self.key, "type": self.type.value}
        if self.label:
            data["label"] = self.label
        if self.required:
            data["required"] = True
        if self.default is not None:
            data["default"] = _plain(self.default)
        if self.choices:
            data["choices"] = list(self.choices)
        if self.retired:
            data["retired"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomField:
        """Load a declaration written by `to_dict`."""
        try:
            return cls(**dict(data))
        except (TypeError, ValueError) as error:
            if isinstance(error, ValidationError):
                raise
            raise ValidationError.single("custom field", dict(data), str(error)) from None


def _plain(value: CustomValue) -> object:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Decimal | dt.date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def _field_tuple(fields: Iterable[CustomField]) -> tuple[CustomField, ...]:
    # Not a collection: kept as given, refused with the other problems after init.
    items = as_items(fields)
    return fields if items is None else items  # type: ignore[return-value]


@attrs.frozen
class CustomFieldSchema:
    """The custom fields declared for one kind of record, with a version that counts changes.

    A schema changes only by making a new one: `adding` a field or `retiring` one bumps the
    version; changing a field's type is refused (old values would no longer fit).

    Attributes:
        entity: The kind of record (``"contact"``, ``"company"``, ``"deal"``, ...).
        fields: The declared fields, retired ones included.
        version: 1 for a new schema, +1 per change.

    Raises:
        ValidationError: Naming ``entity`` when it is not non-blank text, ``fields`` when it
            is not a collection of fields (``fields[i]`` for an item that is not a
            `CustomField`), ``version`` when it is not a whole number of at least 0 (0 is
            the empty schema of a kind nothing was declared for), and keys declared more
            than once, all at once.
    """

    entity: str
    fields: tuple[CustomField, ...] = attrs.field(default=(), converter=_field_tuple)
    version: int = 1

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.entity, str) or not self.entity.strip():
            problems.append(Problem("entity", self.entity, "must be non-blank text"))
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            problems.append(Problem("version", self.version, "is not a whole number"))
        elif self.version < 0:
            problems.append(Problem("version", self.version, "must not be negative"))
        if not isinstance(self.fields, tuple):
            problems.append(Problem("fields", self.fields, "is not a collection of fields"))
        else:
            problems.extend(item_problems(self.fields, "fields", CustomField))
        if problems:
            raise ValidationError(problems)
        keys = [f.key for f in self.fields]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValidationError.single("fields", repeated, "are declared more than once")

    def field(self, key: str) -> CustomField | None:
        """Return the declaration of `key`, or None."""
        return next((f for f in self.fields if f.key == key), None)

    @property
    def active(self) -> tuple[CustomField, ...]:
        """The fields that are not retired."""
        return tuple(f for f in self.fields if not f.retired)

    def adding(self, field: CustomField) -> CustomFieldSchema:
        """Return the next version with `field` declared (or a retired field revived).

        Raises:
            ValidationError: When the key exists with another type, or is already active.
        """
        existing = self.field(field.key)
        if existing is not None:
            if existing.type != field.type:
                raise ValidationError.single(
                    f"custom.{field.key}",
                    field.type.value,
                    f"changes the field's type from {existing.type.value}: refused",
                )
            if not existing.retired:
                raise ValidationError.single(f"custom.{field.key}", field.key, "exists already")
            fields = tuple(field if f.key == field.key else f for f in self.fields)
        else:
            fields = (*self.fields, field)
        return CustomFieldSchema(self.entity, fields, self.version + 1)

    def retiring(self, key: str) -> CustomFieldSchema:
        """Return the next version with `key` retired: old values stay, new ones are refused.

        Raises:
            ValidationError: When there is no active field `key`.
        """
        existing = self.field(key)
        if existing is None or existing.retired:
            raise ValidationError.single(f"custom.{key}", key, "is not an active field")
        retired = attrs.evolve(existing, retired=True, required=False)
        fields = tuple(retired if f.key == key else f for f in self.fields)
        return CustomFieldSchema(self.entity, fields, self.version + 1)

    def validate(
        self,
        values: Mapping[str, object] | None,
        *,
        previous: Mapping[str, CustomValue] = FrozenMap(),
    ) -> CustomFields:
        """Check custom values against the schema, fill defaults, and return them typed.

        Args:
            values: The values given (None or a missing key means "not given").
            previous: The values the record held before, for a change; a retired field's
                old value may stay, but a retired field cannot be set anew.

        Raises:
            ValidationError: Listing every unknown key, type mismatch and missing required field.
        """
        given = dict(values or {})
        problems: list[Problem] = []
        result: dict[str, CustomValue] = {}
        for key, value in given.items():
            declared = self.field(key) if isinstance(key, str) else None
            if declared is None:
                problems.append(
                    Problem(f"custom.{key}", value, f"is not a declared {self.entity} field")
                )
                continue
            if value is None:
                continue
            if declared.retired and previous.get(key) != value:
                problems.append(Problem(f"custom.{key}", value, "is a retired field"))
                continue
            try:
                result[key] = declared.parse(value)
            except ValidationError as error:
                problems.extend(error.problems)
        for declared in self.active:
            if (
                declared.key not in result
                and declared.default is not None
                and (declared.key not in given)
            ):
                result[declared.key] = declared.default
            if declared.required and declared.key not in result:
                problems.append(Problem(f"custom.{declared.key}", None, "is required"))
        if problems:
            raise ValidationError(problems)
        return FrozenMap(result)

    def to_dict(self) -> dict[str, Any]:
        """Return the schema as plain data."""
        return {
            "entity": self.entity,
            "version": self.version,
            "fields": [f.to_dict() for f in self.fields],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomFieldSchema:
        """Load a schema written by `to_dict`."""
        fields = tuple(CustomField.from_dict(f) for f in data.get("fields", ()))
        return cls(str(data["entity"]), fields, int(data.get("version", 1)))


def parse_custom(value: object, field: str = "custom") -> CustomFields:
    """Accept schema-less custom values: each keeps the type it has."""
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise ValidationError.single(field, value, "is not a mapping of custom values")
    problems: list[Problem] = []
    result: dict[str, CustomValue] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append(Problem(f"{field}.{key}", key, "is not a field key"))
            continue
        if item is None:
            continue
        try:
            result[key] = _infer_value(item, f"{field}.{key}")
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return FrozenMap(result)
