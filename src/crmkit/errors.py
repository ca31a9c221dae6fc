"""The one error hierarchy of crmkit: every error the library raises is a `CrmkitError`.

Errors also subclass the natural builtin where there is one, so `except ValueError` keeps
working for callers who do not know crmkit: a `ValidationError` is a `ValueError`, a
`NotFoundError` is a `LookupError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "ConcurrencyError",
    "CrmkitError",
    "CurrencyMismatchError",
    "NestedWriteError",
    "NotFoundError",
    "Problem",
    "ReferencedError",
    "RolledBackError",
    "SchemaVersionError",
    "SegmentError",
    "StorageError",
    "StoreBusyError",
    "StoreOpenError",
    "TransitionError",
    "ValidationError",
]


class CrmkitError(Exception):
    """Base class of every error crmkit raises on purpose."""


def _show(value: object) -> str:
    """Render a rejected value for a message: short, quoted, never a wall of text."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 80 else text[:77] + "..."


@attrs.frozen
class Problem:
    """One thing wrong with one input value: where it is, what it was and why it was refused.

    Attributes:
        field: The name of the field (``"email"``, ``"emails[1]"``, ``"custom.plan"``).
        value: The value that was refused, as it was given.
        reason: A human sentence saying what is wrong.
        row: The row or item number in a bulk operation, when there is one.
    """

    field: str
    value: object
    reason: str
    row: int | None = None

    def at_row(self, row: int) -> Problem:
        """Return the same problem, located at `row` of a bulk input."""
        return attrs.evolve(self, row=row)

    def within(self, prefix: str) -> Problem:
        """Return the same problem with its field nested under `prefix` (``"bant.budget"``)."""
        return attrs.evolve(self, field=f"{prefix}.{self.field}" if self.field else prefix)

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.field} {_show(self.value)} {self.reason}"


class ValidationError(CrmkitError, ValueError):
    """Input was refused; `.problems` lists every problem found in the call, not only the first.

    Args:
        problems: The problems found; at least one.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("a ValidationError needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, value: object, reason: str) -> ValidationError:
        """Build an error holding one problem."""
        return cls([Problem(field, value, reason)])

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields named by the problems, in order, without repeats."""
        return tuple(dict.fromkeys(p.field for p in self.problems))


class CurrencyMismatchError(CrmkitError, ValueError):
    """Two amounts in different currencies met in arithmetic or comparison."""


class NotFoundError(CrmkitError, LookupError):
    """No record of that kind has that id (archived records are still found by id).

    Args:
        kind: The kind of record looked for (``"contact"``).
        key: The id or key that was looked up.
    """

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} with id {key}")


class ConcurrencyError(CrmkitError):
    """A write was based on a stale version: someone else changed the record first.

    Nothing was written; re-read the record and retry.
    """


class TransitionError(CrmkitError):
    """A move (of a deal between stages, of a lead between statuses) is not allowed.

    Args:
        message: What was refused.
        unmet: Every requirement that was not met, all at once.
    """

    def __init__(self, message: str, unmet: Sequence[str] = ()) -> None:
        self.unmet: tuple[str, ...] = tuple(unmet)
        detail = "; ".join(self.unmet)
        super().__init__(f"{message}: {detail}" if detail else message)


class SegmentError(CrmkitError, ValueError):
    """A segment or condition could not be parsed or refers to an unknown field.

    Args:
        message: What is wrong.
        position: The 0-based offset in the text where it went wrong, when known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        where = f" (at position {position})" if position is not None else ""
        super().__init__(f"{message}{where}")


class StorageError(CrmkitError):
    """The store could not do what was asked (a database failed, a file could not be opened)."""


class StoreOpenError(StorageError):
    """A store URL is unknown or malformed, or its database could not be opened."""


class SchemaVersionError(StorageError):
    """The database was written by a newer crmkit (its schema version is ahead of this one)."""


class StoreBusyError(StorageError):
    """Another writer held the store for longer than the busy timeout; retry later."""


class RolledBackError(StorageError):
    """The database rolled the unit of work back after a failure: nothing in it was saved.

    Raised by every statement after the failure and when the unit of work is left, so work
    done after the failure never runs on its own, outside the unit of work.
    """


class NestedWriteError(StorageError):
    """This thread already holds a writing unit of work on the store: finish that one first.

    A second writing unit of work would wait for the first, which waits for this thread.
    """


class ReferencedError(CrmkitError):
    """A record cannot be deleted while other records refer to it (archive it instead).

    Args:
        kind: The kind of record that was to be deleted.
        key: Its id.
        referrers: Who refers to it, e.g. ``("contact 0190...", "deal 0191...")``.
    """

    def __init__(self, kind: str, key: object, referrers: tuple[str, ...]) -> None:
        self.kind = kind
        self.key = key
        self.referrers = referrers
        shown = ", ".join(referrers[:5]) + (" and more" if len(referrers) > 5 else "")
        super().__init__(f"cannot delete {kind} {key}: still referred to by {shown}")
