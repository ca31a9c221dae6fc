"""The saved segments of a unit of work (``uow.segments``), with their member lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from crmkit.conditions.tree import Condition
from crmkit.errors import (
    NotFoundError,
    ValidationError,
)
from crmkit.model.registry import KINDS
from crmkit.storage.protocol import (
    MembershipDiff,
    SavedSegment,
)

if TYPE_CHECKING:
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["SegmentBook"]


class SegmentBook:
    """The saved segments of a unit of work (``uow.segments``); see the protocol `SegmentBook`."""

    def __init__(self, uow: BackendUnitOfWork) -> None:
        self._uow = uow

    def save(
        self,
        name: str,
        condition: Condition,
        *,
        kind: str = "contact",
        static: bool = False,
        description: str | None = None,
    ) -> SavedSegment:
        """Save (or redefine) a segment; a static one is evaluated and frozen now.

        Raises:
            SegmentError: When the condition does not fit the kind of record.
            ValidationError: For a blank or overlong name.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ValidationError.single("name", name, "is not a segment name (1-200 characters)")
        if kind not in KINDS:
            raise ValidationError.single("kind", kind, f"is not one of {', '.join(KINDS)}")
        self._uow._segment_query(kind, condition)  # refuse what does not bind, before writing
        self._uow._write()
        backend = self._uow._live_backend()
        now = self._uow.clock.now()
        found = backend.load_segments(name)
        previous = found[0] if found else None
        segment = SavedSegment(
            name=name,
            kind=kind,
            condition=condition,
            static=static,
            description=description,
            version=(previous.version if previous else 0) + 1,
            created_at=previous.created_at if previous else now,
            updated_at=now,
            evaluated_at=previous.evaluated_at if previous else None,
            evaluated_by=previous.evaluated_by if previous else None,
            member_count=previous.member_count if previous else 0,
        )
        backend.store_segment(segment)
        if static:
            self.refresh(name)
            return self.get(name)
        return segment

    def get(self, name: str) -> SavedSegment:
        """Return a saved segment, or raise `NotFoundError`."""
        found = self._uow._live_backend().load_segments(name)
        if not found:
            raise NotFoundError("segment", name)
        return found[0]

    def list(self) -> list[SavedSegment]:
        """Return every saved segment, by name."""
        return self._uow._live_backend().load_segments(None)

    def delete(self, name: str) -> None:
        """Forget a saved segment and its member list."""
        self.get(name)
        self._uow._write()
        self._uow._live_backend().delete_segment(name)

    def members(self, name: str) -> Iterator[uuid.UUID]:
        """Yield the members' ids in id order: stored for a static segment, evaluated now else."""
        segment = self.get(name)
        backend = self._uow._live_backend()
        if segment.static:
            return self._uow._guarded(iter(backend.segment_members(name)))
        query = self._uow._segment_query(segment.kind, segment.condition)
        return self._uow._guarded(backend.find_ids(KINDS[segment.kind], query, None, False, 5000))

    def refresh(self, name: str) -> MembershipDiff:
        """Evaluate the segment now, store its member list, and say who joined and left.

        For a static segment this re-freezes the list (credited to the unit of work's actor).
        """
        segment = self.get(name)
        self._uow._write()
        backend = self._uow._live_backend()
        query = self._uow._segment_query(segment.kind, segment.condition)
        now = self._uow.clock.now()
        before = backend.segment_members(name)
        after = list(backend.find_ids(KINDS[segment.kind], query, None, False, 5000))
        backend.put_segment_members(name, after)
        backend.store_segment(
            attrs.evolve(
                segment,
                version=segment.version + 1,
                evaluated_at=now,
                evaluated_by=self._uow.actor,
                member_count=len(after),
            )
        )
        return MembershipDiff.between(before, after, before_at=segment.evaluated_at, after_at=now)
