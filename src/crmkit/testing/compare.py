"""Strict equality for stored values: types, Decimal scale, time zones and email spellings.

The model's own ``==`` is lenient on purpose (``10`` EUR equals ``10.00`` EUR, two spellings of
one email address are equal, ``True == 1``), which is right for business logic and wrong for
checking that a store gives back exactly what it was given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

import attrs

__all__ = ["assert_identical", "differences"]


def differences(expected: object, actual: object, path: str = "") -> list[str]:
    """List every way `actual` differs from `expected`, by path, comparing strictly.

    Types must match exactly (a pendulum ``DateTime`` is not a ``datetime``, ``1`` is not
    ``True``, a list is not a tuple); Decimals must have the same digits and exponent
    (``12000.50`` is not ``12000.5``); datetimes must be the same instant with the same UTC
    offset; attrs classes (entities, `Money`, `EmailAddress` with its original text) are
    compared field by field; mappings key by key; sequences item by item.

    Args:
        expected: What should have come back.
        actual: What came back.
        path: Where in an enclosing value this pair sits, for the messages.

    Returns:
        One human-readable line per difference; empty when the values are identical.
    """
    found: list[str] = []
    _diff(expected, actual, path, found)
    return found


def assert_identical(expected: object, actual: object) -> None:
    """Fail with every difference listed unless `actual` is strictly identical to `expected`.

    Args:
        expected: What should have come back.
        actual: What came back.

    Raises:
        AssertionError: Listing each difference found by `differences`.
    """
    found = differences(expected, actual)
    if found:
        raise AssertionError(
            "values differ:\n  " + "\n  ".join(found[:50]) + ("\n  ..." if len(found) > 50 else "")
        )


def _at(path: str) -> str:
    return path or "value"


def _diff(expected: object, actual: object, path: str, found: list[str]) -> None:
    if type(expected) is not type(actual):
        found.append(
            f"{_at(path)}: expected {type(expected).__name__} {expected!r}, "
            f"got {type(actual).__name__} {actual!r}"
        )
        return
    if isinstance(expected, Decimal):
        assert isinstance(actual, Decimal)
        if expected.as_tuple() != actual.as_tuple():
            found.append(f"{_at(path)}: expected Decimal('{expected}'), got Decimal('{actual}')")
        return
    if isinstance(expected, dt.datetime):
        assert isinstance(actual, dt.datetime)
        if expected != actual or expected.utcoffset() != actual.utcoffset():
            found.append(f"{_at(path)}: expected {expected.isoformat()}, got {actual.isoformat()}")
        return
    if attrs.has(type(expected)):
        for field in attrs.fields(cast(Any, type(expected))):
            name = field.name
            _diff(
                getattr(expected, name),
                getattr(actual, name),
                f"{path}.{name}" if path else name,
                found,
            )
        return
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping)
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            found.append(f"{_at(path)}: keys missing {missing!r}, unexpected {extra!r}")
        for key in expected:
            if key in actual:
                _diff(expected[key], actual[key], f"{path}[{key!r}]", found)
        return
    if isinstance(expected, tuple | list):
        assert isinstance(actual, tuple | list)
        if len(expected) != len(actual):
            found.append(f"{_at(path)}: expected {expected!r}, got {actual!r}")
            return
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _diff(want, got, f"{path}[{index}]", found)
        return
    if expected != actual:
        found.append(f"{_at(path)}: expected {expected!r}, got {actual!r}")
