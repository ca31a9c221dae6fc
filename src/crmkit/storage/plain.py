"""Turning model values into plain JSON values and back, exactly.

Stores use this for JSON columns, audit-history values and the outbox. Encoding is driven by
the value; decoding by the declared type of the field, through decoders built once per type.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from crmkit.model.custom_fields import CustomFields, CustomValue
from crmkit.model.fast_records import builder
from crmkit.model.frozen_map import FrozenMap
from crmkit.values.email import EmailAddress
from crmkit.values.money import Money
from crmkit.values.phone import PhoneNumber

__all__ = [
    "copy_plain",
    "custom_from_plain",
    "custom_to_plain",
    "decoder_for",
    "encoder_for",
    "field_types",
    "is_empty",
    "to_plain",
]

Decoder = Callable[[Any], Any]


def copy_plain(value: Any) -> Any:
    """Return a deep copy of plain JSON data: new lists and dicts, the same scalars."""
    if isinstance(value, list):
        return [copy_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_plain(v) for k, v in value.items()}
    return value


def to_plain(value: Any) -> Any:
    """Return `value` as JSON-ready data (str, int, float, bool, None, list, dict)."""
    if value is None or (
        isinstance(value, bool | int | float) and not isinstance(value, enum.Enum)
    ):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Money):
        return [str(value.amount), value.currency]
    if isinstance(value, EmailAddress):
        if value.original == value.normalized:
            return value.normalized
        return [value.normalized, value.original]
    if isinstance(value, PhoneNumber):
        return value.e164
    if isinstance(value, FrozenMap):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if attrs.has(type(value)):
        return {
            f.name: to_plain(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if getattr(value, f.name) is not None
        }
    raise TypeError(f"cannot store a {type(value).__name__}")


def is_empty(value: object) -> bool:
    """Whether a field value is "nothing": None or an empty collection."""
    return value is None or (
        isinstance(value, tuple | frozenset | FrozenMap | list | dict) and not value
    )


# -- custom fields: typed, because one field may hold any of several types --------------------


def _identity(value: Any) -> Any:
    return value


_CUSTOM_TAGS: dict[type, str] = {
    bool: "b",
    int: "i",
    Decimal: "d",
    str: "s",
    dt.datetime: "t",
    dt.date: "D",
    frozenset: "m",
}
_CUSTOM_DECODERS: dict[str, Decoder] = {
    "b": _identity,
    "i": _identity,
    "d": Decimal,
    "s": _identity,
    "t": dt.datetime.fromisoformat,
    "D": dt.date.fromisoformat,
    "m": frozenset,
}


def custom_to_plain(values: CustomFields) -> dict[str, list[Any]]:
    """Encode custom values with their type: ``{"seats": ["i", 5]}``."""
    return {key: [_CUSTOM_TAGS[type(v)], to_plain(v)] for key, v in values.items()}


def custom_from_plain(data: dict[str, list[Any]] | None) -> CustomFields:
    """Decode what `custom_to_plain` wrote."""
    if not data:
        return _EMPTY
    decoders = _CUSTOM_DECODERS
    return FrozenMap.trusted({k: decoders[tag](v) for k, (tag, v) in data.items()})


_EMPTY: CustomFields = FrozenMap()


# -- decoding, driven by declared types ----------------------------------------------------


def field_types(cls: type) -> dict[str, Any]:
    """Return the resolved type of every attrs field of `cls`."""
    return typing.get_type_hints(cls)


@functools.cache
def decoder_for(tp: Any) -> Decoder:
    """Return a function turning plain data back into a value of type `tp`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot decode the union {tp}")
        decode = decoder_for(inner[0])
        return lambda v: None if v is None else decode(v)
    if origin is tuple:
        if args[0] is EmailAddress:  # the commonest structured column: decoded inline
            new = _new_email
            return lambda v: tuple(
                [
                    new(normalized=x, original=x)
                    if type(x) is str
                    else new(normalized=x[0], original=x[1])
                    for x in v
                ]
            )
        if args[0] is PhoneNumber:
            phone = _new_phone
            return lambda v: tuple([phone(e164=x) for x in v])
        item = decoder_for(args[0])
        if item is _identity:
            return tuple
        return lambda v: tuple([item(x) for x in v])
    if origin is frozenset:
        item = decoder_for(args[0])
        if item is _identity:
            return frozenset
        return lambda v: frozenset([item(x) for x in v])
    if origin is FrozenMap:
        value_decoder = decoder_for(args[1])
        if value_decoder is _identity:
            return FrozenMap.trusted
        return lambda v: FrozenMap.trusted({k: value_decoder(x) for k, x in v.items()})
    if tp is CustomValue:
        raise TypeError("custom values are decoded with custom_from_plain")
    simple = _SIMPLE.get(tp)
    if simple is not None:
        return simple
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if isinstance(tp, type) and attrs.has(tp):
        return _attrs_decoder(tp)
    raise TypeError(f"no decoder for {tp!r}")


@functools.cache
def encoder_for(tp: Any) -> Callable[[Any], Any]:
    """Return a fast `to_plain` specialised for values of type `tp` (same output)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            encode = encoder_for(inner[0])
            return lambda v: None if v is None else encode(v)
        return to_plain
    if origin is tuple:
        item = encoder_for(args[0])
        return list if item is _identity else lambda v: [item(x) for x in v]
    if origin is frozenset:
        item = encoder_for(args[0])
        return sorted if item is _identity else lambda v: sorted(item(x) for x in v)
    if tp is EmailAddress:
        # Most addresses are typed in normal form: then the normal form alone is stored.
        return lambda v: v.normalized if v.original == v.normalized else [v.normalized, v.original]
    if tp is PhoneNumber:
        return lambda v: v.e164
    if tp in _SIMPLE and tp not in (str, int, bool):
        return to_plain  # values with a plain form of their own (Money, dates, ...)
    if tp in (str, int, bool):
        return _identity
    if isinstance(tp, type) and attrs.has(tp):
        hints = field_types(tp)
        fields = [(f.name, encoder_for(hints[f.name])) for f in attrs.fields(tp)]

        def encode_attrs(value: Any) -> Any:
            out = {}
            for name, encode_field in fields:
                item = getattr(value, name)
                if item is not None:
                    out[name] = encode_field(item)
            return out

        return encode_attrs
    return to_plain


def _attrs_decoder(cls: type) -> Decoder:
    hints = field_types(cls)
    decoders = {f.name: decoder_for(hints[f.name]) for f in attrs.fields(cls)}

    def decode(data: dict[str, Any]) -> Any:
        return cls(**{k: decoders[k](v) for k, v in data.items()})

    return decode


_new_email = builder(EmailAddress)
_new_phone = builder(PhoneNumber)

_SIMPLE: dict[Any, Decoder] = {
    str: _identity,
    int: _identity,
    bool: _identity,
    float: float,
    Decimal: Decimal,
    uuid.UUID: uuid.UUID,
    dt.datetime: dt.datetime.fromisoformat,
    dt.date: dt.date.fromisoformat,
    dt.timedelta: lambda v: dt.timedelta(microseconds=v),
    Money: lambda v: Money(Decimal(v[0]), v[1]),
    EmailAddress: lambda v: (
        _new_email(normalized=v, original=v)
        if isinstance(v, str)
        else _new_email(normalized=v[0], original=v[1])
    ),
    PhoneNumber: lambda v: _new_phone(e164=v),
}
