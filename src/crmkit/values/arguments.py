"""Checking what callers hand to public entry points, before anything uses it.

Every public function and class of crmkit refuses a wrong argument with a `ValidationError`
naming it (``rules``, ``rules[2]``, ``clock``), never with the raw Python error that using
it would raise deep inside (iterating None, calling a method a list does not have). These
are the checks the packages share; each returns the value it checked, so a call reads
``stages = check_items(stages, "stages", Stage)``. (Store entry points have a few more of
their own, raising `StoreOpenError` where a store is opened: `crmkit.storage.arguments`.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from crmkit.clock import Clock
from crmkit.errors import Problem, ValidationError

__all__ = [
    "as_items",
    "check_callable",
    "check_clock",
    "check_flag",
    "check_items",
    "check_text",
    "check_whole_number",
    "item_problems",
    "require_attributes",
    "require_instance",
]

T = TypeVar("T")

Kind = type | tuple[type, ...]
"""A class, or a tuple of classes any of which will do (as `isinstance` takes them)."""


def _a(kind: Kind) -> str:
    """Name the class(es) of `kind` with an article: ``"a Stage"``, ``"an int or a float"``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        f"{'an' if k.__name__[:1].lower() in 'aeiou' else 'a'} {k.__name__}" for k in kinds
    )


def require_instance(value: object, kind: type[T], field: str) -> T:
    """Return an argument that must be a `kind` (a `Deal`, a `Lead`, a `Pipeline`).

    Raises:
        ValidationError: Naming `field` and the class expected, for anything else.
    """
    if not isinstance(value, kind):
        raise ValidationError.single(field, value, f"is not {_a(kind)}")
    return value


def as_items(value: object) -> tuple[Any, ...] | None:
    """Return the items of a collection argument as a tuple, or None when it is not one.

    None, text, bytes, mappings and anything not iterable are not collections of items
    here: iterating text gives its characters and a mapping its keys, never what a caller
    meant by a list of rules or of stages.
    """
    if (
        value is None
        or isinstance(value, str | bytes | bytearray | Mapping)
        or not isinstance(value, Iterable)
    ):
        return None
    return tuple(value)


def item_problems(items: Iterable[object], name: str, kind: Kind) -> list[Problem]:
    """Return a problem naming ``name[i]`` for every item that is not a `kind`."""
    return [
        Problem(f"{name}[{i}]", item, f"is not {_a(kind)}")
        for i, item in enumerate(items)
        if not isinstance(item, kind)
    ]


def check_items(value: object, name: str, kind: type[T], what: str) -> tuple[T, ...]:
    """Return the items of a collection argument whose every item must be a `kind`.

    Args:
        value: The argument: a list, tuple, set or any other iterable (not text, bytes or
            a mapping).
        name: Its name, for the error.
        kind: The class each item must be.
        what: What the items are, in the plural, for the error (``"stages"``).

    Raises:
        ValidationError: Naming `name` when `value` is not a collection, or ``name[i]``
            for every item that is not a `kind` (all at once).
    """
    items = as_items(value)
    if items is None:
        raise ValidationError.single(name, value, f"is not a collection of {what}")
    problems = item_problems(items, name, kind)
    if problems:
        raise ValidationError(problems)
    return items


def check_text(value: object, name: str, *, blank: bool = False) -> str:
    """Return an argument that must be text (non-blank text unless `blank`).

    Raises:
        ValidationError: Naming `name`, for anything but text (or for blank text).
    """
    if not isinstance(value, str):
        raise ValidationError.single(name, value, "is not text")
    if not blank and not value.strip():
        raise ValidationError.single(name, value, "must be non-blank text")
    return value


def check_flag(value: object, name: str) -> bool:
    """Return an argument that must be True or False.

    Raises:
        ValidationError: Naming `name`, for anything else (1 and 0 included).
    """
    if not isinstance(value, bool):
        raise ValidationError.single(name, value, "is not True or False")
    return value


def check_whole_number(value: object, name: str, *, minimum: int | None = None) -> int:
    """Return an argument that must be an int (not a bool), at least `minimum` if given.

    Raises:
        ValidationError: Naming `name`, for anything else or a number below `minimum`.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.single(name, value, "is not a whole number")
    if minimum is not None and value < minimum:
        raise ValidationError.single(name, value, f"must be at least {minimum}")
    return value


def check_callable(value: object, name: str) -> Callable[..., Any]:
    """Return an argument that must be a function (or any callable).

    Raises:
        ValidationError: Naming `name`, for anything that cannot be called.
    """
    if not callable(value):
        raise ValidationError.single(name, value, "is not a function (nothing to call)")
    return value


def check_clock(value: object, name: str = "clock") -> Clock | None:
    """Return an optional clock argument: None (the system clock) or anything with now().

    Raises:
        ValidationError: Naming `name`, for anything else.
    """
    if type(value) in _CLOCK_CLASSES:  # checked before (each id made checks its clock)
        return cast(Clock, value)
    if isinstance(value, type):
        raise ValidationError.single(
            name, value, "is a class, not a clock: pass an instance, e.g. crmkit.FixedClock(at)"
        )
    if value is not None and not isinstance(value, Clock):
        raise ValidationError.single(
            name,
            value,
            "is not a clock: pass a Clock (anything with now()), e.g. crmkit.FixedClock(at), "
            "or None for the system clock",
        )
    if value is not None and callable(getattr(type(value), "now", None)):
        _CLOCK_CLASSES.add(type(value))  # its class has now(): so has every instance
    return value


# Classes whose instances passed `check_clock` through a method of the class (the protocol
# check, ``isinstance(value, Clock)``, costs microseconds).
_CLOCK_CLASSES: set[type] = set()


def require_attributes(value: object, name: str, attributes: Iterable[str], what: str) -> None:
    """Refuse an argument that lacks what a `what` has (a store, a unit of work).

    The attributes are looked up on the class and the instance's own ``__dict__``, so a
    property such as ``uow.orders`` is not evaluated by the check; only a wrapper that
    hands attributes on through ``__getattr__`` (a store of one's own around another) is
    asked for them.

    Args:
        value: The argument.
        name: Its name, for the error.
        attributes: The attributes (methods, properties) the caller goes on to use.
        what: What it should be, for the error (``"a UnitOfWork (store.unit_of_work())"``).

    Raises:
        ValidationError: Naming `name` and the first attribute missing.
    """
    kind = type(value)
    own = getattr(value, "__dict__", None)
    for attribute in attributes:
        if hasattr(kind, attribute) or (isinstance(own, dict) and attribute in own):
            continue
        if hasattr(kind, "__getattr__") and hasattr(value, attribute):
            continue
        raise ValidationError.single(name, value, f"is not {what}: it has no {attribute} attribute")
