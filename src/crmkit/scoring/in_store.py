"""Scoring and prioritising one record inside a unit of work, each in one call.

`score_record` reads what a model needs from the store (a record's activities for an
engagement model, a contact's company for a fit model), scores the record and keeps the
score in the score table. `assess_in_store` judges a deal's or lead's priority from what the
store already keeps: the stored engagement score, the last touch from the record's facts and
the stage probability from the store's pipeline, so the caller gathers nothing.

For thousands of records use the batch functions (`score_engagement`, `score_fit`): they
stream; these read one record's data with a few queries.
"""

from __future__ import annotations

import datetime as dt

from crmkit.conditions.tree import F
from crmkit.errors import ValidationError
from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.lead import Lead
from crmkit.model.registry import KINDS, kind_of
from crmkit.scoring.breakdown import Score
from crmkit.scoring.engagement import EngagementModel
from crmkit.scoring.fit import FitModel
from crmkit.scoring.priority import PriorityAssessment, PriorityPolicy, default_priority_policy
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import require_attributes
from crmkit.values.temporal import require_instant

__all__ = ["assess_in_store", "score_record"]


def _activity_link(record: Entity) -> str:
    """The activity field that links an activity to this record's kind (``contact_id``)."""
    kind = kind_of(record).name
    for ref in KINDS["activity"].refs:
        if ref.target == kind:
            return ref.field
    raise ValidationError.single("record", kind, "is not a kind activities link to")


def _as_of(uow: UnitOfWork, as_of: object) -> dt.datetime:
    return uow.clock.now() if as_of is None else require_instant(as_of, "as_of")


def _check_uow(uow: object) -> UnitOfWork:
    require_attributes(
        uow,
        "uow",
        ("scores", "pipelines", "activities", "clock"),
        "a UnitOfWork (store.unit_of_work() opens one)",
    )
    return uow  # type: ignore[return-value]


def score_record(
    uow: UnitOfWork,
    record: Entity,
    model: EngagementModel | FitModel,
    *,
    as_of: dt.datetime | None = None,
    keep: bool = True,
) -> Score:
    """Score one stored record with a model and keep the score, in one call.

    An engagement model scores the record's live activities (those linked to it by
    ``contact_id``, ``company_id``, ``deal_id`` or ``lead_id``) as of `as_of`; a fit model
    scores a contact (with its company) or a lead. The score is written to the score table
    under the model's name (``uow.scores.get(record.id, model.name)``) unless `keep` is False.

    Args:
        uow: The unit of work (it must be able to write when `keep` is True).
        record: The stored record, as read.
        model: An `EngagementModel` or a `FitModel`.
        as_of: The instant to score for; the store's clock by default.
        keep: Write the score to the score table.

    Returns:
        The score with its breakdown.

    Raises:
        ValidationError: Naming ``uow``, ``record`` (not a record, not stored, or a kind
            the model does not score), ``model`` or ``as_of`` (naive).
    """
    uow = _check_uow(uow)
    if not isinstance(record, Entity):
        raise ValidationError.single("record", type(record).__name__, "is not a record")
    if not isinstance(model, EngagementModel | FitModel):
        raise ValidationError.single(
            "model", type(model).__name__, "is not an EngagementModel or a FitModel"
        )
    at = _as_of(uow, as_of)
    repository = uow.repository(kind_of(record).name)
    stored = repository.get(record.id)  # NotFoundError when it is not stored
    if isinstance(model, EngagementModel):
        link = _activity_link(stored)
        activities: list[Activity] = list(uow.activities.find(F(link) == stored.id))
        score = model.score(activities, at)
    else:
        if not isinstance(stored, Contact | Lead):
            raise ValidationError.single(
                "record", kind_of(stored).name, "is not a contact or a lead (fit scores those)"
            )
        company: Company | None = None
        if isinstance(stored, Contact) and stored.company_id is not None:
            company = uow.companies.get(stored.company_id)
        score = model.score(stored, company)
    if keep:
        uow.scores.put_many([score.to_stored(stored.id, computed_at=at)])
    return score


def assess_in_store(
    uow: UnitOfWork,
    record: Deal | Lead,
    policy: PriorityPolicy | None = None,
    *,
    as_of: dt.datetime | None = None,
    scorer: str = "engagement",
    probability: float | None = None,
) -> PriorityAssessment:
    """Return the priority of a stored deal or lead from what the store keeps, in one call.

    - **Engagement**: the record's own stored score by `scorer`; for a deal without one,
      the highest stored score among its contacts (the most engaged buyer). Missing when
      none was stored (`score_engagement` or `score_record` store them).
    - **Last touch**: the latest activity of the record and, for a deal, of its contacts
      (`Repository.facts`).
    - **Probability**: `probability` if given, else the deal's own override or its stage's
      probability in the store's pipeline (`uow.pipelines`).

    Args:
        uow: The unit of work.
        record: The deal or lead.
        policy: The priority policy; `default_priority_policy()` by default.
        as_of: The instant to judge at; the store's clock by default.
        scorer: The scorer name whose stored scores count as engagement.
        probability: A win probability (for instance a learned one) to use instead.

    Raises:
        ValidationError: Naming ``uow``, ``record`` (not a Deal or Lead), ``policy``,
            ``scorer`` or ``as_of``; or what `PriorityPolicy.assess` refuses.
        NotFoundError: When the record is not stored.
    """
    uow = _check_uow(uow)
    if not isinstance(record, Deal | Lead):
        raise ValidationError.single("record", type(record).__name__, "is not a Deal or a Lead")
    if policy is None:
        policy = default_priority_policy()
    elif not isinstance(policy, PriorityPolicy):
        raise ValidationError.single("policy", type(policy).__name__, "is not a PriorityPolicy")
    if not isinstance(scorer, str) or not scorer:
        raise ValidationError.single("scorer", scorer, "is not a scorer name")
    at = _as_of(uow, as_of)
    if isinstance(record, Deal):
        stored: Deal | Lead = uow.deals.get(record.id)
        people = stored.contact_ids if isinstance(stored, Deal) else ()
    else:
        stored = uow.leads.get(record.id)
        people = ()
    engagement: float | None = None
    own = uow.scores.get(stored.id, scorer)
    if own is not None:
        engagement = own.value
    elif people:
        found = uow.scores.for_records(people, scorer)
        engagement = max((s.value for s in found.values()), default=None)
    touches = [uow.repository(kind_of(stored).name).facts(stored.id).last_activity_at]
    touches.extend(uow.contacts.facts(person).last_activity_at for person in people)
    known_touches = [t for t in touches if t is not None]
    pipeline = uow.pipelines.get(stored.pipeline) if isinstance(stored, Deal) else None
    return policy.assess(
        stored,
        as_of=at,
        probability=probability,
        engagement=None if engagement is None else min(max(engagement, 0.0), 100.0),
        last_touch=max(known_touches, default=None),
        pipeline=pipeline,
    )
