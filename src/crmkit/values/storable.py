r"""What every store can keep exactly: one definition of storable values, checked at validation.

What one adapter cannot store, no adapter stores. The memory store keeps Python objects, SQLite
and PostgreSQL keep rows; values that only some of them keep (or keep differently) are refused
when they are validated, with a `ValidationError` naming the field, on every adapter alike:

- **text** holds no NUL character (PostgreSQL's ``text`` and ``jsonb`` refuse ``"\x00"``) and
  no surrogate code point U+D800 to U+DFFF (a lone surrogate such as ``"\ud800"`` cannot be
  encoded as UTF-8, so neither SQLite nor PostgreSQL can be handed it);
- **integers** fit in 64 bits, ``-2**63`` to ``2**63 - 1`` (SQLite's ``INTEGER``, PostgreSQL's
  ``BIGINT``; SQLite's JSON functions read larger numbers as floats); a duration counts as
  its whole number of microseconds;
- **decimals** (money amounts, decimal custom values) are finite with at most
  `DECIMAL_INTEGER_DIGITS` (18) digits before the decimal point and at most
  `DECIMAL_FRACTION_DIGITS` (10) after it, as written (``Decimal("1.50")`` has two): 28
  digits in all, which PostgreSQL's ``NUMERIC``, SQLite's decimal text and Python's default
  28-digit decimal context all hold exactly. Bounding both sides keeps sums exact too: a
  sum of up to 10**19 such values needs at most 47 digits, the precision of `SUM_CONTEXT`.
  A decimal is kept as written (``10.00`` stays ``10.00``), so it must be written as
  ``NUMERIC`` keeps it: no exponent (``1E+3``) and no negative zero (`parse_amount` turns
  both into their plain form; values made around it are refused);
- **floats** (scores, probabilities) are finite: no NaN, no infinity.

Dates, instants, ids, booleans and enum members are storable as they are.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, cast

import attrs

from crmkit.codegen import generate
from crmkit.errors import Problem, ValidationError

__all__ = [
    "DECIMAL_FRACTION_DIGITS",
    "DECIMAL_INTEGER_DIGITS",
    "MAX_INTEGER",
    "MIN_INTEGER",
    "SUM_CONTEXT",
    "add_exactly",
    "check_decimal",
    "check_float",
    "check_integer",
    "check_storable",
    "check_text",
    "storable_problems",
]

MIN_INTEGER = -(2**63)
"""The smallest storable integer (64-bit signed)."""

MAX_INTEGER = 2**63 - 1
"""The largest storable integer (64-bit signed)."""

DECIMAL_INTEGER_DIGITS = 18
"""Digits a storable decimal may have before its decimal point (its magnitude is < 10**18)."""

DECIMAL_FRACTION_DIGITS = 10
"""Digits a storable decimal may have after its decimal point, as written."""

SUM_CONTEXT = decimal.Context(
    prec=DECIMAL_INTEGER_DIGITS + DECIMAL_FRACTION_DIGITS + 19,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
)
"""A decimal context in which sums of up to 10**19 storable decimals are exact (else raise)."""

_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
_LIMIT = Decimal(10) ** DECIMAL_INTEGER_DIGITS


def _text_reason(value: str) -> str | None:
    if value.isascii():
        return "holds a NUL character, which no store keeps" if "\x00" in value else None
    found = _UNSTORABLE_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character, which no store keeps"
    return f"holds the surrogate U+{ord(found.group()):04X}, which is not UTF-8 text"


def _integer_reason(value: int) -> str | None:
    if MIN_INTEGER <= value <= MAX_INTEGER:
        return None
    return "is outside the 64-bit range -2**63 to 2**63-1"


def _decimal_reason(value: Decimal) -> str | None:
    if not value.is_finite():
        return "is not a finite number"
    if value.as_tuple().exponent < -DECIMAL_FRACTION_DIGITS:  # type: ignore[operator]
        return f"has more than {DECIMAL_FRACTION_DIGITS} digits after the decimal point"
    if abs(value) >= _LIMIT:
        return f"has more than {DECIMAL_INTEGER_DIGITS} digits before the decimal point"
    sign, digits, exponent = value.as_tuple()
    if exponent > 0:  # type: ignore[operator]
        return "is written with an exponent (1E+3): PostgreSQL keeps it as 1000; give the digits"
    if sign and not any(digits):
        return "is a negative zero, which PostgreSQL keeps as 0"
    return None


def _float_reason(value: float) -> str | None:
    return None if math.isfinite(value) else "is not a finite number"


def check_text(value: str, field: str) -> str:
    """Return `value` if every store can keep it.

    Raises:
        ValidationError: For text holding NUL or a surrogate code point.
    """
    reason = _text_reason(value)
    if reason is not None:
        raise ValidationError.single(field, value, reason)
    return value


def check_integer(value: int, field: str) -> int:
    """Return `value` if it fits in 64 bits.

    Raises:
        ValidationError: For an integer below ``-2**63`` or above ``2**63 - 1``.
    """
    reason = _integer_reason(value)
    if reason is not None:
        raise ValidationError.single(field, value, reason)
    return value


def check_decimal(value: Decimal, field: str) -> Decimal:
    """Return `value` if it is finite and within the storable digits.

    Raises:
        ValidationError: For NaN, infinity, 10**18 or more in magnitude, or more than 10
            digits after the decimal point.
    """
    reason = _decimal_reason(value)
    if reason is not None:
        raise ValidationError.single(field, value, reason)
    return value


def check_float(value: float, field: str) -> float:
    """Return `value` if it is finite.

    Raises:
        ValidationError: For NaN or an infinity.
    """
    reason = _float_reason(value)
    if reason is not None:
        raise ValidationError.single(field, value, reason)
    return value


def storable_problems(value: object, field: str) -> list[Problem]:
    """Return a problem for every part of `value` that some store cannot keep.

    Walks text, numbers, durations, mappings (keys too), collections and attrs classes;
    a problem inside a value object of `crmkit.values` (an amount of Money, an email's
    original text) names the field holding it, one inside another attrs class names the
    part (``address.city``), one in a mapping the key (``custom.note``), one in a sequence
    the position (``emails[1]``). With an empty `field`, the parts of an attrs instance are
    named alone: ``storable_problems(contact, "")`` names ``first_name``.
    """
    if _fine(value):  # the common case, without building a name for every part
        return []
    problems: list[Problem] = []
    _walk(value, field, problems)
    return problems


def check_storable(value: object, field: str) -> None:
    """Raise a `ValidationError` listing everything `storable_problems` finds in `value`."""
    problems = storable_problems(value, field)
    if problems:
        raise ValidationError(problems)


_ATOMS = (bool, enum.Enum, dt.date, dt.datetime, uuid.UUID, type(None))


_NAMES: dict[type, tuple[tuple[str, ...], bool]] = {}


def _attribute_names(cls: type) -> tuple[tuple[str, ...], bool]:
    """The attrs field names of `cls`, and whether it is one value of `crmkit.values`."""
    found = _NAMES.get(cls)
    if found is None:
        names = tuple(a.name for a in attrs.fields(cls))
        found = _NAMES[cls] = (names, cls.__module__.startswith("crmkit.values."))
    return found


# What `_fine` does with a value, by its exact type (decided once per type).
_ATOM, _TEXT, _INT, _DECIMAL, _FLOAT, _ITEMS, _MAPPING, _ATTRS, _OTHER = range(9)
_CATEGORY: dict[type, int] = {}


def _category(tp: type) -> int:
    found = _CATEGORY.get(tp)
    if found is None:
        if tp is str:
            found = _TEXT
        elif issubclass(tp, _ATOMS):  # bool and enums before int and str
            found = _ATOM
        elif tp is int:
            found = _INT
        elif tp is Decimal:
            found = _DECIMAL
        elif tp is float:
            found = _FLOAT
        elif tp is tuple or tp is frozenset or tp is list or tp is set:
            found = _ITEMS
        elif issubclass(tp, Mapping):
            found = _MAPPING
        elif attrs.has(tp):
            found = _ATTRS
        else:
            found = _OTHER
        _CATEGORY[tp] = found
    return found


def _fine(value: object) -> bool:
    """Whether every part of `value` is storable (the fast path of `storable_problems`)."""
    kind = _CATEGORY.get(type(value))
    if kind is None:
        kind = _category(type(value))
    if kind == _ATOM:
        return True
    if kind == _TEXT:
        text = cast(str, value)
        return "\x00" not in text if text.isascii() else _text_reason(text) is None
    if kind == _INT:
        return MIN_INTEGER <= value <= MAX_INTEGER  # type: ignore[operator]
    if kind == _ATTRS:
        return _checker(type(value))(value)
    if kind == _ITEMS:  # loops, not all(genexpr): a generator costs more than the check
        for item in value:  # type: ignore[attr-defined]  # noqa: SIM110
            if not _fine(item):
                return False
        return True
    if kind == _MAPPING:
        for key, item in value.items():  # type: ignore[attr-defined]  # noqa: SIM110
            if not (_fine(key) and _fine(item)):
                return False
        return True
    if kind == _DECIMAL:
        return _decimal_reason(value) is None  # type: ignore[arg-type]
    if kind == _FLOAT:
        return _float_reason(value) is None  # type: ignore[arg-type]
    problems: list[Problem] = []
    _walk(value, "", problems)
    return not problems


def _texts_fine(items: object) -> bool:
    """Whether a tuple or frozenset of text is storable: one check of all of it joined."""
    try:
        joined = "".join(items)  # type: ignore[arg-type]
    except TypeError:  # something in it is not text
        return _fine(items)
    return (joined.isascii() and "\x00" not in joined) or _text_reason(joined) is None


# One checker per attrs class, generated from its declared field types (`_compile_checker`).
_CHECKERS: dict[type, Callable[[object], bool]] = {}


def _compile_checker(cls: type) -> Callable[[object], bool]:
    """Generate `_fine` for instances of the attrs class `cls`, one test per field.

    Each field is tested the cheap way its declared type allows (text for NUL and
    surrogates, an integer against 64 bits, ids, dates and enums not at all, a tuple or set
    of text joined and tested once) when its value has that exact type; any other value,
    and every field of another type, goes through `_fine`, so a value that does not match
    its declaration is judged like any other.
    """
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # annotations that cannot be resolved: test generically
        hints = {}
    namespace: dict[str, Any] = {
        "_fine": _fine,
        "_text_reason": _text_reason,
        "_texts_fine": _texts_fine,
        "_checker": _checker,
        "MIN_INTEGER": MIN_INTEGER,
        "MAX_INTEGER": MAX_INTEGER,
    }
    lines = ["def fine(value):"]
    for number, name in enumerate(_attribute_names(cls)[0]):
        lines.append(f"    x = value.{name}")
        declared = _declared(hints.get(name))
        if declared is str:
            lines += [
                "    if x.__class__ is str:",
                '        if (not x.isascii() or "\\x00" in x) and _text_reason(x) is not None:',
                "            return False",
                "    elif x is not None and not _fine(x):",
            ]
        elif declared is int:
            lines += [
                "    if x.__class__ is int:",
                "        if not MIN_INTEGER <= x <= MAX_INTEGER:",
                "            return False",
                "    elif x is not None and not _fine(x):",
            ]
        elif declared in (tuple, frozenset):
            lines += [
                f"    if x.__class__ is {declared.__name__}:",
                "        if not _texts_fine(x):",
                "            return False",
                "    elif x is not None and not _fine(x):",
            ]
        elif isinstance(declared, _Parts):
            namespace[f"C{number}"] = declared.cls
            lines += [
                "    if x.__class__ is tuple:",
                "        for item in x:",
                f"            if item.__class__ is C{number}:",
                f"                if not _checker(C{number})(item):",
                "                    return False",
                "            elif not _fine(item):",
                "                return False",
                "    elif x is not None and not _fine(x):",
            ]
        elif isinstance(declared, _Entries):
            namespace[f"M{number}"] = declared.cls
            text_test = '(not {0}.isascii() or "\\x00" in {0}) and _text_reason({0}) is not None'
            lines += [
                f"    if x.__class__ is M{number}:",
                "        for k, v in x.items():",
                "            if k.__class__ is str:",
                f"                if {text_test.format('k')}:",
                "                    return False",
                "            elif not _fine(k):",
                "                return False",
                "            if v.__class__ is str:",
                f"                if {text_test.format('v')}:",
                "                    return False",
                "            elif v.__class__ is int:",
                "                if not MIN_INTEGER <= v <= MAX_INTEGER:",
                "                    return False",
                "            elif v is not None and not _fine(v):",
                "                return False",
                "    elif x is not None and not _fine(x):",
            ]
        elif isinstance(declared, type):  # an atom: an id, a date, an instant, an enum
            namespace[f"T{number}"] = declared
            lines.append(f"    if x.__class__ is not T{number} and x is not None and not _fine(x):")
        else:
            lines.append("    if x is not None and not _fine(x):")
        lines.append("        return False")
    lines.append("    return True")
    return cast(
        "Callable[[object], bool]",
        generate("\n".join(lines), namespace, "fine", what=f"storable check: {cls.__qualname__}"),
    )


def _checker(cls: type) -> Callable[[object], bool]:
    """The generated check of the attrs class `cls` (generated on first use)."""
    checker = _CHECKERS.get(cls)
    if checker is None:
        checker = _CHECKERS[cls] = _compile_checker(cls)
    return checker


@attrs.frozen
class _Parts:
    """A field declared as a tuple of one attrs class (``tuple[EmailAddress, ...]``)."""

    cls: type


@attrs.frozen
class _Entries:
    """A field declared as a mapping type (``FrozenMap[str, CustomValue]``)."""

    cls: type


def _declared(hint: object) -> type | _Parts | _Entries | None:
    """Say what a field's checker can test cheaply, from the field's declared type.

    That is str, int, a tuple or frozenset of text, a tuple of one attrs class
    (`_Parts`), a mapping class (`_Entries`) or an atom; None for anything else.
    """
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) != 1:
            return None
        hint = inner[0]
    if hint is str or hint is int:
        return cast(type, hint)
    origin = typing.get_origin(hint)
    if origin in (tuple, frozenset):
        args = typing.get_args(hint)
        if args in ((str,), (str, ...)):
            return origin  # type: ignore[no-any-return]
        if origin is tuple and len(args) == 2 and args[1] is ... and attrs.has(args[0]):
            return _Parts(args[0])
        return None
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return _Entries(origin)
    if isinstance(hint, type) and hint is not bool and issubclass(hint, _ATOMS):
        return hint
    return None


def _walk(value: object, field: str, problems: list[Problem]) -> None:
    reason: str | None
    if isinstance(value, str):
        reason = _text_reason(value)
    elif isinstance(value, _ATOMS):
        return
    elif isinstance(value, int):
        reason = _integer_reason(value)
    elif isinstance(value, Decimal):
        reason = _decimal_reason(value)
    elif isinstance(value, float):
        reason = _float_reason(value)
    elif isinstance(value, dt.timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        reason = _integer_reason(micros)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(key, field, problems)
            _walk(item, f"{field}.{key}" if field else str(key), problems)
        return
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            _walk(item, f"{field}[{i}]", problems)
        return
    elif isinstance(value, frozenset | set):
        for item in value:
            _walk(item, field, problems)
        return
    elif attrs.has(type(value)):
        names, whole = _attribute_names(type(value))
        for name in names:
            part = field if whole else f"{field}.{name}" if field else name
            _walk(getattr(value, name), part, problems)
        return
    else:
        return
    if reason is not None:
        problems.append(Problem(field, value, reason))


def add_exactly(total: Decimal, amount: Decimal, field: str = "amount") -> Decimal:
    """Return ``total + amount`` computed in `SUM_CONTEXT`: exact, or refused.

    Raises:
        ValidationError: If the sum needs more than 47 digits, which storable values summed
            fewer than 10**19 at a time never do (only values stored before these limits
            existed can).
    """
    try:
        return SUM_CONTEXT.add(total, amount)
    except decimal.Inexact:
        raise ValidationError.single(
            field, amount, f"makes a sum of more than {SUM_CONTEXT.prec} digits: not exact"
        ) from None
