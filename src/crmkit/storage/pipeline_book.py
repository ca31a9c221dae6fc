"""The pipelines a store knows (``uow.pipelines``): deals are stored only in their stages.

A store knows crmkit's built-in pipelines (``sales`` and ``renewals``, from
`crmkit.pipelines.default`) from the start, at version 0, and every pipeline saved with
`PipelineBook.save`. Saving a pipeline with a built-in's key replaces the built-in. Each
save that changes a definition stores its next version, with a history entry listing what
changed; a stage that deals are in cannot be dropped.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from crmkit.conditions.tree import F
from crmkit.errors import Problem, ValidationError
from crmkit.pipelines.default import default_renewal_pipeline, default_sales_pipeline
from crmkit.pipelines.pipeline import Pipeline
from crmkit.storage.protocol import FieldChange, StoredPipeline

if TYPE_CHECKING:
    from crmkit.model.deal import Deal
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["BUILT_IN_PIPELINES", "PipelineBook"]

_PIPELINE_NAMESPACE = uuid.UUID("0b6f5e1a-3c2d-4e8f-9a7b-5d4c3b2a1f0e")


def _built_in() -> dict[str, StoredPipeline]:
    pipelines = (default_sales_pipeline(), default_renewal_pipeline())
    return {p.key: StoredPipeline(p, 0) for p in pipelines}


BUILT_IN_PIPELINES: dict[str, StoredPipeline] = _built_in()
"""The pipelines every store knows until one with the same key is saved (version 0)."""


def pipeline_record_id(key: str) -> uuid.UUID:
    """Return the id a pipeline's history is kept under (the same for every version)."""
    return uuid.uuid5(_PIPELINE_NAMESPACE, key)


class PipelineBook:
    """The pipelines of a unit of work's store; see `crmkit.storage.protocol.PipelineBook`."""

    def __init__(self, uow: BackendUnitOfWork) -> None:
        self._uow = uow
        self._known: dict[str, StoredPipeline] | None = None

    def _all(self) -> dict[str, StoredPipeline]:
        if self._known is None:
            self._known = {**BUILT_IN_PIPELINES, **self._uow._live_backend().load_pipelines()}
        return self._known

    def forget(self) -> None:
        """Drop what was read (a savepoint rolled back): the next look-up reads again."""
        self._known = None

    def get(self, key: str) -> Pipeline:
        """Return the pipeline with that key.

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no such pipeline.
        """
        return self._stored(key, "pipeline").pipeline

    def current(self, pipeline: Pipeline, instead: str) -> Pipeline:
        """Return the stored definition of `pipeline`, which a caller handed in.

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no pipeline with its
                key, or its definition differs from the stored one (`instead` says what
                the caller may do rather than save it).
        """
        known = self.get(pipeline.key)
        if pipeline.to_dict() != known.to_dict():
            raise ValidationError.single(
                "pipeline",
                pipeline.key,
                "differs from the store's definition: save it first with "
                f"uow.pipelines.save(pipeline), or {instead}",
            )
        return known

    def version(self, key: str) -> int:
        """Return the stored version of a pipeline (0 for a built-in one never saved).

        Raises:
            ValidationError: Naming ``pipeline`` when the store knows no such pipeline.
        """
        return self._stored(key, "pipeline").version

    def all(self) -> tuple[Pipeline, ...]:
        """Return every pipeline the store knows, by key."""
        known = self._all()
        return tuple(known[key].pipeline for key in sorted(known))

    def __contains__(self, key: object) -> bool:
        """Whether the store knows a pipeline with that key."""
        return isinstance(key, str) and key in self._all()

    def by_key(self) -> Mapping[str, Pipeline]:
        """Return the store's pipelines by key, read only when first looked into.

        Segments take it (``is won`` needs the pipelines' stages); a segment that does not
        ask costs no read.
        """
        return _PipelinesByKey(self)

    def save(self, pipeline: Pipeline) -> StoredPipeline:
        """Store a pipeline, new or changed; an unchanged one is returned as stored.

        Returns:
            The stored pipeline with its version (the previous version + 1 when it changed).

        Raises:
            ValidationError: Naming ``pipeline`` when it is not a Pipeline, or
                ``stages.<key>`` for each dropped stage that deals are in (archived ones
                included): move them first.
        """
        if not isinstance(pipeline, Pipeline):
            raise ValidationError.single("pipeline", type(pipeline).__name__, "is not a Pipeline")
        self._uow._write()
        current = self._all().get(pipeline.key)
        if current is not None and current.pipeline.to_dict() == pipeline.to_dict():
            return current
        before = {} if current is None else {s.key: s for s in current.pipeline.stages}
        dropped = [key for key in before if key not in pipeline]
        problems = []
        for key in dropped:
            condition = (F("pipeline") == pipeline.key) & (F("stage") == key)
            count = self._uow.deals.count(condition, include_archived=True)
            if count:
                problems.append(
                    Problem(
                        f"stages.{key}",
                        key,
                        f"holds {count} deal{'s' if count != 1 else ''}: move "
                        f"{'them' if count != 1 else 'it'} to another stage before dropping it",
                    )
                )
        if problems:
            raise ValidationError(problems)
        version = 1 if current is None else current.version + 1
        stored = StoredPipeline(pipeline, version, self._uow.clock.now())
        self._uow._live_backend().store_pipeline(stored)
        self._all()[pipeline.key] = stored
        self._uow._history_entry(
            pipeline_record_id(pipeline.key),
            "pipeline",
            version,
            "added" if current is None or current.version == 0 else "updated",
            _changes(None if current is None else current.pipeline, pipeline),
        )
        return stored

    # -- checking deals --------------------------------------------------------------------

    def deal_problems(self, deal: Deal, row: int | None) -> list[Problem]:
        """Return why a deal cannot be stored: its pipeline or stage is unknown to the store."""
        stored = self._all().get(deal.pipeline)
        if stored is None:
            return [Problem("pipeline", deal.pipeline, self._unknown(deal.pipeline), row)]
        if deal.stage not in stored.pipeline:
            stages = ", ".join(s.key for s in stored.pipeline.stages)
            return [
                Problem(
                    "stage",
                    deal.stage,
                    f"is not a stage of pipeline {deal.pipeline!r} (its stages: {stages})",
                    row,
                )
            ]
        return []

    def _stored(self, key: object, field: str) -> StoredPipeline:
        if not isinstance(key, str):
            raise ValidationError.single(field, type(key).__name__, "is not a pipeline key")
        found = self._all().get(key)
        if found is None:
            raise ValidationError.single(field, key, self._unknown(key))
        return found

    def _unknown(self, key: str) -> str:
        known = sorted(self._all())
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return (
            f"is not a pipeline the store knows (known: {', '.join(known)}{hint}): "
            "save it first with uow.pipelines.save(pipeline)"
        )


class _PipelinesByKey(Mapping[str, Pipeline]):
    """A read-only view of a book's pipelines by key that reads them on first use."""

    def __init__(self, book: PipelineBook) -> None:
        self._book = book

    def __getitem__(self, key: str) -> Pipeline:
        return self._book._all()[key].pipeline

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._book._all()))

    def __len__(self) -> int:
        return len(self._book._all())


def _changes(before: Pipeline | None, after: Pipeline) -> tuple[FieldChange, ...]:
    """What a save changed: the label, the settings and each stage, as plain data."""
    old = {} if before is None else _flat(before)
    new = _flat(after)
    return tuple(
        FieldChange(name, old.get(name), new.get(name))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    )


def _flat(pipeline: Pipeline) -> dict[str, object]:
    data = pipeline.to_dict()
    flat: dict[str, object] = {
        "label": data["label"],
        "allow_skipping": data["allow_skipping"],
        "stage_order": [s["key"] for s in data["stages"]],
    }
    if "transitions" in data:
        flat["transitions"] = data["transitions"]
    for stage in data["stages"]:
        flat[f"stages.{stage['key']}"] = stage
    return flat
