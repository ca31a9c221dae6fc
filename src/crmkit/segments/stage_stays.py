"""Deals' stage histories as columns: one row per stay of a deal in a stage.

``to_pandas(stage_stay_columns(uow.deals))`` gives the long table a data scientist wants for
time-in-stage, conversion between stages and velocity: each row is one `StageStay` with its
deal's id and pipeline, in deal id order and then in the order the deal moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from crmkit.conditions.tree import Condition
from crmkit.errors import ValidationError
from crmkit.model.deal import Deal
from crmkit.values.arguments import check_flag, check_items, require_instance

__all__ = ["STAY_COLUMNS", "DealSource", "stage_stay_columns"]

STAY_COLUMNS = (
    "deal_id",
    "pipeline",
    "seq",
    "stage",
    "entered_at",
    "left_at",
    "days",
    "moved_by",
    "amount",
    "currency",
    "expected_close",
    "probability",
    "forecast_category",
    "note",
)
"""The columns `stage_stay_columns` returns, in order."""


@runtime_checkable
class DealSource(Protocol):
    """Anything that streams deals like a repository (``uow.deals``)."""

    def iter(self, *, include_archived: bool = False) -> Iterator[Deal]:
        """Stream every deal."""
        ...

    def find(self, segment: Condition, *, include_archived: bool = False) -> Iterator[Deal]:
        """Stream the deals in a segment."""
        ...


def stage_stay_columns(
    source: DealSource | Iterable[Deal],
    segment: Condition | None = None,
    *,
    include_archived: bool = False,
) -> dict[str, list[Any]]:
    """Return one row per stay of each deal in a stage, as columns (`STAY_COLUMNS`).

    ``days`` is the stay's length in days (fractional; None for the stage a deal is in
    now); ``seq`` counts a deal's stays from 0; ``amount`` / ``currency`` are the deal's
    amount when it entered the stage (None when it had none).

    Args:
        source: The deals repository (``uow.deals``) or deals you hold.
        segment: With a repository: only the deals in this segment.
        include_archived: With a repository: archived deals too.

    Raises:
        ValidationError: Naming ``source`` when it is neither, ``source[i]`` for an item
            that is not a Deal, ``segment`` when it is not a Condition or comes with deals
            you hold.
    """
    check_flag(include_archived, "include_archived")
    if segment is not None:
        require_instance(segment, Condition, "segment")
    deals: Iterable[Deal]
    if isinstance(source, DealSource):
        deals = (
            source.iter(include_archived=include_archived)
            if segment is None
            else source.find(segment, include_archived=include_archived)
        )
    else:
        held = check_items(source, "source", Deal, "deals (or uow.deals)")
        if segment is not None:
            raise ValidationError.single("segment", str(segment), "applies to uow.deals only")
        deals = sorted(held, key=lambda deal: deal.id)
    columns: dict[str, list[Any]] = {name: [] for name in STAY_COLUMNS}
    for deal in deals:
        for seq, stay in enumerate(deal.stage_history):
            duration = stay.duration
            row = (
                deal.id,
                deal.pipeline,
                seq,
                stay.stage,
                stay.entered_at,
                stay.left_at,
                None if duration is None else duration.total_seconds() / 86_400.0,
                stay.moved_by,
                None if stay.amount is None else stay.amount.amount,
                None if stay.amount is None else stay.amount.currency,
                stay.expected_close,
                stay.probability,
                None if stay.forecast_category is None else stay.forecast_category.value,
                stay.note,
            )
            for name, value in zip(STAY_COLUMNS, row, strict=True):
                columns[name].append(value)
    return columns
