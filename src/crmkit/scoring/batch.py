"""Scoring every record in a store in streaming batches, writing scores back in bulk.

Records are read in id order through a read-only unit of work, a batch at a time; for
engagement, their activities stream alongside, grouped by record
(``uow.activities.grouped("contact_id")``), so memory stays constant however large the
store. Each batch of scores is written with ``uow.scores.put_many`` in a short unit of work
of its own (other writers wait for one batch, never for the whole run). Scores live in the
score table keyed by (record, scorer): writing one does not change the record's version,
cannot collide with a user's edit and leaves no audit-history entry.

Records with no activities get an engagement score of 0 with an empty breakdown (not
skipped): a record whose activities were deleted or archived then loses its stale score,
and "no engagement" is visible rather than unknown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import ValidationError
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.entity import Entity
from crmkit.scoring.breakdown import Score
from crmkit.scoring.engagement import EngagementModel
from crmkit.scoring.fit import FitModel
from crmkit.storage.protocol import Progress, Store, StoredScore, UnitOfWork
from crmkit.values.arguments import (
    check_callable,
    check_clock,
    check_flag,
    check_text,
    check_whole_number,
    require_attributes,
    require_instance,
)
from crmkit.values.temporal import require_instant

__all__ = ["BatchResult", "RecordKind", "score_engagement", "score_fit", "score_records"]

RecordKind = Literal["contact", "company", "lead", "deal"]
"""The kinds of record batch scoring reads."""

_REPOSITORY = {"contact": "contacts", "company": "companies", "lead": "leads", "deal": "deals"}
_LINK = {"contact": "contact_id", "company": "company_id", "lead": "lead_id", "deal": "deal_id"}


@attrs.frozen
class BatchResult:
    """What a batch scoring run did.

    Attributes:
        scorer: The scorer name written.
        scored: How many records were scored (and written).
        without_activity: How many of them had no activities (engagement only).
        as_of: The instant scored for.
    """

    scorer: str
    scored: int
    without_activity: int
    as_of: dt.datetime


_STORE = "a Store (crmkit.open_store(url) opens one)"


def _check(
    store: object,
    kind: object,
    kinds: tuple[str, ...],
    batch_size: object,
    as_of: object,
    clock: object,
    progress: object,
    actor: object,
) -> dt.datetime:
    """Check the arguments every batch scorer takes; return the instant to score for."""
    require_attributes(store, "store", ("unit_of_work",), _STORE)
    if not isinstance(kind, str) or kind not in kinds:
        raise ValidationError.single("kind", kind, f"is not one of {', '.join(kinds)}")
    check_whole_number(batch_size, "batch_size", minimum=1)
    if progress is not None:
        check_callable(progress, "progress")
    check_text(actor, "actor")
    check_clock(clock)
    if as_of is not None:
        return require_instant(as_of, "as_of")
    return resolve_clock(clock).now()  # type: ignore[arg-type]  # checked just above


def _records(uow: UnitOfWork, kind: str, batch_size: int) -> Iterator[Entity]:
    repository: Any = getattr(uow, _REPOSITORY[kind])
    return repository.iter(batch_size=batch_size)  # type: ignore[no-any-return]


def _count(uow: UnitOfWork, kind: str) -> int:
    repository: Any = getattr(uow, _REPOSITORY[kind])
    return int(repository.count())


class _Writer:
    """Collects scores and writes each full batch in a unit of work of its own."""

    def __init__(
        self, store: Store, batch_size: int, total: int, progress: Progress | None, actor: str
    ) -> None:
        self.store, self.batch_size, self.total = store, batch_size, total
        self.progress, self.actor = progress, actor
        self.pending: list[StoredScore] = []
        self.done = 0

    def add(self, score: StoredScore) -> None:
        self.pending.append(score)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.store.unit_of_work(actor=self.actor) as uow:
                uow.scores.put_many(self.pending)
            self.done += len(self.pending)
            self.pending = []
        if self.progress is not None:
            self.progress(self.done, self.total)


def _with_activities(
    records: Iterator[Entity], groups: Iterator[tuple[uuid.UUID, list[Activity]]]
) -> Iterator[tuple[Entity, Sequence[Activity]]]:
    """Merge records (in id order) with activity groups (in the same order) by id."""
    group = next(groups, None)
    for record in records:
        while group is not None and group[0] < record.id:
            group = next(groups, None)  # activities of a record not listed (archived)
        if group is not None and group[0] == record.id:
            yield record, group[1]
            group = next(groups, None)
        else:
            yield record, ()


def score_engagement(
    store: Store,
    model: EngagementModel,
    *,
    kind: RecordKind = "contact",
    as_of: dt.datetime | None = None,
    clock: Clock | None = None,
    explain: bool = True,
    batch_size: int = 1000,
    progress: Progress | None = None,
    actor: str = "scoring",
) -> BatchResult:
    """Score the engagement of every live record of a kind and write the scores back.

    Args:
        store: The store.
        model: The engagement model; its `name` and `version` are stored with each score.
        kind: Score contacts (default), companies, leads or deals, from the activities
            linked to them by ``contact_id``, ``company_id``, ``lead_id`` or ``deal_id``.
        as_of: The instant to score for; the clock's now by default.
        clock: Where "now" comes from when `as_of` is not given.
        explain: Store the breakdown with each score (True) or the value only (faster).
        batch_size: Records read and scores written per batch.
        progress: Called with ``(done, total)`` after each written batch.
        actor: Who the score writes are attributed to.

    Returns:
        How many records were scored, and how many of them had no activity.

    Raises:
        ValidationError: Naming the argument that is wrong: a `store` that is not a Store,
            a `model` that is not an EngagementModel, an unknown `kind`, a `batch_size`
            below 1, a naive `as_of`, and so on.
    """
    at = _check(store, kind, tuple(_REPOSITORY), batch_size, as_of, clock, progress, actor)
    require_instance(model, EngagementModel, "model")
    check_flag(explain, "explain")
    now = at.timestamp()
    empty = 0
    with store.unit_of_work(readonly=True) as reader:
        writer = _Writer(store, batch_size, _count(reader, kind), progress, actor)
        groups: Any = reader.activities.grouped(_LINK[kind], batch_size=batch_size)
        for record, activities in _with_activities(_records(reader, kind, batch_size), groups):
            if not activities:
                empty += 1
            if explain:
                writer.add(model.score(activities, at).to_stored(record.id))
            else:
                value = model.value_at(activities, now)
                writer.add(StoredScore(record.id, model.name, value, at, model.version))
        writer.flush()
    return BatchResult(model.name, writer.done, empty, at)


def score_fit(
    store: Store,
    model: FitModel,
    *,
    kind: Literal["contact", "lead"] = "contact",
    as_of: dt.datetime | None = None,
    clock: Clock | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    actor: str = "scoring",
) -> BatchResult:
    """Score the fit of every live contact (with its company) or lead and write it back.

    Companies are loaded a batch at a time (`get_many`), never one by one.

    Args:
        store: The store.
        model: The fit model.
        kind: ``"contact"`` or ``"lead"``.
        as_of: The time stamped on the scores; the clock's now by default.
        clock: Where "now" comes from when `as_of` is not given.
        batch_size: Records per batch.
        progress: Called with ``(done, total)`` after each written batch.
        actor: Who the score writes are attributed to.

    Raises:
        ValidationError: Naming the argument that is wrong: a `store` that is not a Store,
            a `model` that is not a FitModel, a `kind` other than contact or lead, a
            `batch_size` below 1, a naive `as_of`, and so on.
    """
    at = _check(store, kind, ("contact", "lead"), batch_size, as_of, clock, progress, actor)
    require_instance(model, FitModel, "model")
    with store.unit_of_work(readonly=True) as reader:
        writer = _Writer(store, batch_size, _count(reader, kind), progress, actor)
        batch: list[Entity] = []

        def flush_batch() -> None:
            ids = {c for r in batch if (c := getattr(r, "company_id", None)) is not None}
            companies: dict[uuid.UUID, Company] = reader.companies.get_many(ids) if ids else {}
            for record in batch:
                company = companies.get(getattr(record, "company_id", None))  # type: ignore[arg-type]
                score = model.score(record, company)
                writer.add(attrs.evolve(score, as_of=at).to_stored(record.id))
            batch.clear()

        for record in _records(reader, kind, batch_size):
            batch.append(record)
            if len(batch) >= batch_size:
                flush_batch()
        flush_batch()
        writer.flush()
    return BatchResult(model.name, writer.done, 0, at)


def score_records(
    store: Store,
    kind: RecordKind,
    score: Callable[[Entity], Score],
    *,
    scorer: str,
    version: str = "1",
    grade: Callable[[Score], str | None] | None = None,
    as_of: dt.datetime | None = None,
    clock: Clock | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    actor: str = "scoring",
) -> BatchResult:
    """Score every live record of a kind with any function returning a `Score`.

    For scorers that read only the record (a win probability wrapped into a `Score`,
    a priority score): records stream in batches and scores are written in bulk.

    Args:
        store: The store.
        kind: The kind of record.
        score: Record in, `Score` out.
        scorer: The scorer name written.
        version: The scorer version written.
        grade: Optionally derives the stored grade from the score.
        as_of: The time stamped on the scores; the clock's now by default.
        clock: Where "now" comes from when `as_of` is not given.
        batch_size: Records per batch.
        progress: Called with ``(done, total)`` after each written batch.
        actor: Who the score writes are attributed to.

    Raises:
        ValidationError: Naming the argument that is wrong: a `store` that is not a Store,
            an unknown `kind`, a `score` or `grade` that cannot be called, a blank
            `scorer` or `version`, a `batch_size` below 1, a naive `as_of`, and so on.
    """
    at = _check(store, kind, tuple(_REPOSITORY), batch_size, as_of, clock, progress, actor)
    check_callable(score, "score")
    check_text(scorer, "scorer")
    check_text(version, "version")
    if grade is not None:
        check_callable(grade, "grade")
    with store.unit_of_work(readonly=True) as reader:
        writer = _Writer(store, batch_size, _count(reader, kind), progress, actor)
        for record in _records(reader, kind, batch_size):
            result = attrs.evolve(score(record), scorer=scorer, version=version, as_of=at)
            label = grade(result) if grade is not None else None
            writer.add(result.to_stored(record.id, grade=label))
        writer.flush()
    return BatchResult(scorer, writer.done, 0, at)
