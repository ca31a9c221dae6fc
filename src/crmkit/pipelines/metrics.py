"""What a deal's stage history tells: time in stage, days open, conversion, stale deals.

All of it is read from `Deal.stage_history`; nothing here changes a deal. Time arithmetic
uses stdlib datetimes (pendulum stays out of these loops).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping

import attrs

from crmkit.errors import ValidationError
from crmkit.model.deal import Deal
from crmkit.pipelines.pipeline import Pipeline
from crmkit.values.arguments import check_items
from crmkit.values.temporal import require_instance, require_instant

__all__ = [
    "StageConversion",
    "StaleDeal",
    "days_open",
    "stage_conversion",
    "stale_deals",
    "time_in_current_stage",
    "time_in_stages",
]

_DAY = 86400.0


def time_in_current_stage(deal: Deal, now: dt.datetime) -> dt.timedelta:
    """How long the deal has been in its current stage, up to `now` (zero without history).

    A closed deal's last stay never ends, so for it this is the time since it closed.

    Raises:
        ValidationError: Naming ``deal`` or ``now`` when they are not a Deal and an aware
            datetime.
    """
    require_instance(deal, Deal, "deal")
    now = require_instant(now, "now")
    stay = deal.current_stay
    if stay is None:
        return dt.timedelta(0)
    return (stay.left_at or now) - stay.entered_at


def time_in_stages(deal: Deal, now: dt.datetime) -> dict[str, dt.timedelta]:
    """Total time spent in each stage, summed over every stay (the open stay up to `now`).

    Stages are listed in the order the deal first entered them.

    Raises:
        ValidationError: Naming ``deal`` or ``now`` when they are not a Deal and an aware
            datetime.
    """
    require_instance(deal, Deal, "deal")
    now = require_instant(now, "now")
    totals: dict[str, dt.timedelta] = {}
    for stay in deal.stage_history:
        spent = (stay.left_at or now) - stay.entered_at
        totals[stay.stage] = totals.get(stay.stage, dt.timedelta(0)) + spent
    return totals


def days_open(deal: Deal, now: dt.datetime) -> float:
    """Days from the deal's creation until it closed, or until `now` while it is open.

    Raises:
        ValidationError: Naming ``deal`` or ``now`` when they are not a Deal and an aware
            datetime.
    """
    require_instance(deal, Deal, "deal")
    now = require_instant(now, "now")
    end = deal.closed_at or now
    return (end - deal.created_at).total_seconds() / _DAY


@attrs.frozen
class StageConversion:
    """How deals that entered one stage went on.

    Attributes:
        stage: The stage key.
        entered: How many deals entered it.
        advanced: How many of those later entered a later open stage or a won stage.
        won: How many of those were won in the end.
    """

    stage: str
    entered: int
    advanced: int
    won: int

    @property
    def advance_rate(self) -> float | None:
        """`advanced` / `entered`; None when no deal entered."""
        return self.advanced / self.entered if self.entered else None

    @property
    def win_rate(self) -> float | None:
        """`won` / `entered`; None when no deal entered."""
        return self.won / self.entered if self.entered else None


def stage_conversion(deals: Iterable[Deal], pipeline: Pipeline) -> tuple[StageConversion, ...]:
    """Count, for each open stage, the deals that entered it and how many went further.

    A deal "advanced" from a stage when, after its first entry into it, it entered any stage
    further along the pipeline that is not a lost stage. Only deals of `pipeline` count;
    stays in stages the pipeline does not have (from before a transfer) are skipped.

    Raises:
        ValidationError: Naming ``pipeline`` when it is not a Pipeline, ``deals`` when it
            is not a collection of deals, and ``deals[i]`` for an item that is not a Deal.
    """
    require_instance(pipeline, Pipeline, "pipeline")
    deals = check_items(deals, "deals", Deal, "deals")
    order = {s.key: i for i, s in enumerate(pipeline.stages)}
    lost = {s.key for s in pipeline.lost_stages}
    won_keys = {s.key for s in pipeline.won_stages}
    entered: dict[str, int] = dict.fromkeys(order, 0)
    advanced: dict[str, int] = dict.fromkeys(order, 0)
    won: dict[str, int] = dict.fromkeys(order, 0)
    for deal in deals:
        if deal.pipeline != pipeline.key:
            continue
        path = [stay.stage for stay in deal.stage_history if stay.stage in order]
        is_won = deal.stage in won_keys
        seen: set[str] = set()
        for i, key in enumerate(path):
            if key in seen:
                continue
            seen.add(key)
            entered[key] += 1
            rank = order[key]
            if any(order[later] > rank and later not in lost for later in path[i + 1 :]):
                advanced[key] += 1
            if is_won:
                won[key] += 1
    return tuple(
        StageConversion(s.key, entered[s.key], advanced[s.key], won[s.key])
        for s in pipeline.open_stages
    )


@attrs.frozen
class StaleDeal:
    """An open deal that has gone quiet for longer than its stage allows.

    Attributes:
        deal: The deal.
        idle_days: Days since the later of its last activity and its entry into its stage.
        rotting_days: The limit of its stage.
    """

    deal: Deal
    idle_days: float
    rotting_days: int


def stale_deals(
    deals: Iterable[Deal],
    pipeline: Pipeline,
    last_activity: Mapping[uuid.UUID, dt.datetime | None],
    now: dt.datetime,
) -> list[StaleDeal]:
    """Return the open deals idle for more than their stage's `rotting_days`, idlest first.

    A deal is idle since the later of its last activity (``last_activity[deal.id]``; missing
    or None means none) and the moment it entered its current stage: moving a deal counts
    as activity. Stages without `rotting_days` never rot; closed deals never rot.

    Raises:
        ValidationError: Naming the argument that is wrong: ``deals`` when it is not a
            collection of deals (``deals[i]`` for an item that is not a Deal), ``pipeline``
            when it is not a Pipeline, ``last_activity`` when it is not a mapping
            (``last_activity[<id>]`` for a value that is not an aware datetime or None),
            ``now`` when it is not an aware datetime.
    """
    now_ts = require_instant(now, "now").timestamp()
    require_instance(pipeline, Pipeline, "pipeline")
    deals = check_items(deals, "deals", Deal, "deals")
    if not isinstance(last_activity, Mapping):
        raise ValidationError.single(
            "last_activity", last_activity, "is not a mapping of deal id to datetime"
        )
    stale = []
    for deal in deals:
        if (
            deal.closed_at is not None
            or deal.pipeline != pipeline.key
            or deal.stage not in pipeline
        ):
            continue
        limit = pipeline.stage(deal.stage).rotting_days
        if limit is None:
            continue
        stay = deal.current_stay
        since = stay.entered_at.timestamp() if stay is not None else deal.created_at.timestamp()
        activity = last_activity.get(deal.id)
        if activity is not None:
            since = max(since, require_instant(activity, f"last_activity[{deal.id}]").timestamp())
        idle = (now_ts - since) / _DAY
        if idle > limit:
            stale.append(StaleDeal(deal, idle, limit))
    stale.sort(key=lambda s: s.idle_days, reverse=True)
    return stale
