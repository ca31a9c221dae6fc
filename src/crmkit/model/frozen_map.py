"""An immutable, hashable mapping, so entities that hold mappings stay hashable."""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, Generic, TypeVar

from crmkit.errors import Problem, ValidationError
from crmkit.values.arguments import as_items

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only mapping with a stable order (sorted by key) and a hash.

    Changing it makes a new one: `set` and `without`.

    Args:
        items: A mapping, or an iterable of ``(key, value)`` pairs with hashable keys.

    Raises:
        ValidationError: Naming ``items`` when it is neither, or ``items[i]`` for an item
            that is not a pair with a hashable key.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        if type(items) is dict or isinstance(items, Mapping):
            data = dict(items)
        elif type(items) is tuple and not items:  # the default: nothing to check
            data = {}
        else:
            data = _pairs(items)
        if len(data) > 1:
            data = dict(sorted(data.items(), key=_key_text))
        self._data: dict[K, V] = data
        self._hash: int | None = None

    @classmethod
    def trusted(cls, data: dict[K, V]) -> FrozenMap[K, V]:
        """Wrap a dict already sorted by key, taking it over without copying (for loaders)."""
        instance = cls.__new__(cls)
        instance._data = data
        instance._hash = None
        return instance

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> KeysView[K]:
        """The keys, in order (a read-only view)."""
        return self._data.keys()

    def values(self) -> ValuesView[V]:
        """The values, in key order (a read-only view)."""
        return self._data.values()

    def items(self) -> ItemsView[K, V]:
        """The ``(key, value)`` pairs, in key order (a read-only view)."""
        return self._data.items()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """Return a copy with `key` set to `value`."""
        return type(self)({**self._data, key: value})

    def without(self, key: K) -> FrozenMap[K, V]:
        """Return a copy without `key` (no error if it is absent)."""
        return type(self)({k: v for k, v in self._data.items() if k != key})

    def to_dict(self) -> dict[K, V]:
        """Return a plain, mutable dict copy."""
        return dict(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))


def _key_text(pair: tuple[Any, Any]) -> str:
    return str(pair[0])


def _pairs(items: object) -> dict[Any, Any]:
    """Return a dict of ``(key, value)`` pairs, naming what is not such a pair."""
    pairs = as_items(items)
    if pairs is None:
        raise ValidationError.single(
            "items", items, "is not a mapping or an iterable of (key, value) pairs"
        )
    problems = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            problems.append(Problem(f"items[{i}]", pair, "is not a (key, value) pair"))
        elif not _hashable(pair[0]):
            problems.append(Problem(f"items[{i}]", pair, "has a key that is not hashable"))
    if problems:
        raise ValidationError(problems)
    return dict(pairs)


def _hashable(key: object) -> bool:
    try:
        hash(key)
    except TypeError:  # hash() says so only by raising (a tuple holding a list, say)
        return False
    return True
