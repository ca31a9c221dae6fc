"""Evaluating a segment over records held in memory (lists, query results, notebooks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from crmkit.clock import Clock, resolve_clock
from crmkit.conditions.binding import bind
from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.evaluate import ListSource, RecordSource, segment_predicate
from crmkit.conditions.outcomes import PipelineStages
from crmkit.conditions.predicate import Predicate
from crmkit.conditions.tree import Condition
from crmkit.errors import SegmentError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.segments.parser import parse

__all__ = ["matcher", "select"]

T = TypeVar("T")


def matcher(
    segment: Condition | str,
    kind: str,
    *,
    source: RecordSource | None = None,
    clock: Clock | None = None,
    now: dt.datetime | None = None,
    calendar: BusinessCalendar | None = None,
    schemas: Callable[[str], CustomFieldSchema | None] | None = None,
    pipelines: Mapping[str, PipelineStages] | None = None,
) -> Predicate:
    """Return a compiled predicate deciding whether a record of `kind` is in the segment.

    The segment is bound to the kind, its relative dates resolved from `now` (or the
    clock's now) once, its related records, facts and scores read from `source` once, and
    the whole compiled into one Python function.

    Args:
        segment: A condition, or segment text.
        kind: The kind of the records it will see (``"contact"``).
        source: Related records, facts and scores; an empty `ListSource` when not given.
        clock: Where "now" comes from when `now` is not given.
        now: The instant relative dates are resolved from.
        calendar: The business calendar (UTC, calendar year by default).
        schemas: The custom-field schema of each kind, when there are any.
        pipelines: The pipelines by key (`crmkit.pipelines.Pipeline`), which ``is open``,
            ``is won`` and ``is lost`` on deals need (a deal is won when its stage is a
            won stage of its own pipeline).

    Raises:
        SegmentError: When the segment does not parse or names unknown fields, or uses
            ``is won`` (open, lost) without pipelines.
    """
    condition = parse(segment) if isinstance(segment, str) else segment
    if not isinstance(condition, Condition):
        raise SegmentError(f"{segment!r} is not a segment")
    calendar = calendar or BusinessCalendar()
    binding = bind(condition, kind, schemas=schemas, calendar=calendar, pipelines=pipelines)
    when = resolve_clock(clock).now() if now is None else now
    return segment_predicate(binding, source or ListSource(), now=when, calendar=calendar)


def select(
    records: Iterable[T], segment: Condition | str, kind: str, **options: Any
) -> Iterator[T]:
    """Yield the records in the segment, in the order given (see `matcher` for options)."""
    test = matcher(segment, kind, **options)
    return (record for record in records if test(record))
