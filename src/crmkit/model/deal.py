"""Deals (opportunities): a potential sale moving through the stages of a pipeline."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import attrs

from crmkit.clock import Clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity, carry_storable
from crmkit.model.fields import (
    ProblemCollector,
    fold_money,
    optional_day,
    optional_instant,
    parse_probability,
    parse_ref,
    parse_refs,
    parse_tags,
    parse_text,
    parse_user,
    required_text,
)
from crmkit.values.enums import ForecastCategory
from crmkit.values.money import Money

__all__ = ["Deal", "StageStay"]


@attrs.frozen(kw_only=True)
class StageStay:
    """One stay of a deal in one stage: when it entered and left, and the deal at that moment.

    Attributes:
        stage: The stage key.
        entered_at: When the deal entered the stage (UTC).
        left_at: When it left; None for the stage it is in now.
        moved_by: Who moved it in (the app's user id), when known.
        amount: The deal's amount when it entered.
        expected_close: The expected close date when it entered.
        probability: The win probability when it entered.
        forecast_category: The forecast category when it entered.
        note: Why it was moved, when someone said.
    """

    stage: str
    entered_at: dt.datetime
    left_at: dt.datetime | None = None
    moved_by: str | None = None
    amount: Money | None = None
    expected_close: dt.date | None = None
    probability: float | None = None
    forecast_category: ForecastCategory | None = None
    note: str | None = None

    @property
    def duration(self) -> dt.timedelta | None:
        """How long the stay lasted; None while it goes on."""
        return None if self.left_at is None else self.left_at - self.entered_at

    def seconds_until(self, now: dt.datetime) -> float:
        """Seconds spent in the stage up to `now` (or until it was left)."""
        end = self.left_at or now
        return (end - self.entered_at).total_seconds()


def _parse_money(value: object, field: str) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    raise ValidationError.single(field, value, "is not Money (give an amount and a currency)")


def _parse_history(value: object, field: str) -> tuple[StageStay, ...]:
    if value is None:
        return ()
    if not isinstance(value, Iterable) or not all(isinstance(s, StageStay) for s in value):
        raise ValidationError.single(field, value, "is not a sequence of StageStay")
    return tuple(value)


@attrs.frozen(kw_only=True)
class Deal(Entity):
    """A potential sale: its pipeline and stage, amount, expected close date and people.

    A deal holds the key of its pipeline and stage and its `stage_history`, never a state
    machine object; pipelines (see `crmkit.pipelines`) move it. `probability_override`, when
    set, wins over the stage's probability and says so.
    """

    KIND: ClassVar[str] = "deal"

    name: str
    pipeline: str
    stage: str
    amount: Money | None = None
    expected_close: dt.date | None = None
    owner: str | None = None
    team: str | None = None
    contact_ids: tuple[uuid.UUID, ...] = ()
    company_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    source: str | None = None
    lost_reason: str | None = None
    probability_override: float | None = None
    closed_at: dt.datetime | None = None
    tags: frozenset[str] = frozenset()
    stage_history: tuple[StageStay, ...] = ()

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "name": required_text,
        "pipeline": required_text,
        "stage": required_text,
        "amount": _parse_money,
        "expected_close": optional_day,
        "owner": parse_user,
        "team": parse_text,
        "contact_ids": parse_refs,
        "company_id": parse_ref,
        "lead_id": parse_ref,
        "source": parse_text,
        "lost_reason": parse_text,
        "probability_override": parse_probability,
        "closed_at": optional_instant,
        "tags": parse_tags,
        "stage_history": _parse_history,
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"name", "pipeline", "stage"})

    @classmethod
    def create(
        cls,
        *,
        name: str,
        pipeline: str,
        stage: str,
        amount: Money | str | int | None = None,
        currency: str | None = None,
        expected_close: dt.date | str | None = None,
        owner: str | None = None,
        team: str | None = None,
        contact_ids: Iterable[uuid.UUID | str] = (),
        company_id: uuid.UUID | str | None = None,
        lead_id: uuid.UUID | str | None = None,
        source: str | None = None,
        probability_override: float | str | None = None,
        tags: Iterable[str] = (),
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Deal:
        """Validate plain values and return a new deal in `stage` (version 0).

        The first stay of its stage history starts at `created_at`. Checking that the stage
        exists and its requirements are met is the pipeline's job (`Pipeline.open_deal`).

        Args:
            name: What the deal is (required).
            pipeline: The key of its pipeline (required).
            stage: The key of its stage (required).
            amount: Money, or an amount with `currency` (``"12000.00"``).
            currency: The currency of `amount` when given as an amount.
            expected_close: The date it is expected to close.
            owner: The app's id of the owning user.
            team: The sales team.
            contact_ids: The people involved.
            company_id: The company the deal is with.
            lead_id: The lead it was converted from.
            source: Where it came from.
            probability_override: A win probability set by hand (0..1).
            tags: Free labels.
            custom: Custom field values.
            schema: The deal custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem.
        """
        values = {
            "name": name,
            "pipeline": pipeline,
            "stage": stage,
            "amount": amount,
            "_currency": currency,
            "expected_close": expected_close,
            "owner": owner,
            "team": team,
            "contact_ids": contact_ids,
            "company_id": company_id,
            "lead_id": lead_id,
            "source": source,
            "probability_override": probability_override,
            "tags": tags,
        }
        deal = cls._build(
            values,
            clock=clock,
            id=id,
            created_at=created_at,
            external_ids=external_ids,
            custom=custom,
            schema=schema,
        )
        first = StageStay(
            stage=deal.stage,
            entered_at=deal.created_at,
            amount=deal.amount,
            expected_close=deal.expected_close,
        )
        opened = attrs.evolve(deal, stage_history=(first,))
        carry_storable(deal, opened)  # its first stay holds the deal's own checked values
        return opened

    @classmethod
    def _coerce(
        cls, values: dict[str, Any], collector: ProblemCollector, current: Self | None
    ) -> dict[str, Any]:
        values = dict(values)
        currency = values.pop("currency", values.pop("_currency", None))
        if currency is None and current is not None and current.amount is not None:
            currency = current.amount.currency if "amount" in values else None
        fold_money(values, "amount", currency, collector)
        return super()._coerce(values, collector, current)

    def _problems(self) -> list[Problem]:
        problems = []
        if self.amount is not None and self.amount.amount < 0:
            problems.append(
                Problem("amount", self.amount, "is negative: a deal's amount is 0 or more")
            )
        if self.closed_at is not None and self.closed_at < self.created_at:
            problems.append(Problem("closed_at", self.closed_at, "is before the deal was created"))
        return problems

    @property
    def is_closed(self) -> bool:
        """Whether the deal has been closed (won or lost)."""
        return self.closed_at is not None

    @property
    def current_stay(self) -> StageStay | None:
        """The stay in the current stage."""
        return self.stage_history[-1] if self.stage_history else None
