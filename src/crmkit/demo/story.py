"""The whole story on a sample CRM: qualify, convert, score, learn, prioritise, segment.

`run_demo` builds the sample CRM (`crmkit.demo.sample`) and then uses crmkit as an app would:
it qualifies the leads by BANT and converts the qualified ones (contact, company and deal in
one unit of work each), scores every contact's engagement and fit into the score table,
learns the win probability of deals from the closed ones and measures it on deals it did not
learn from, ranks the open deals by priority with the reasons, sizes a few segments and the
RFM groups. It returns a `DemoReport`: plain data the command line prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from crmkit.clock import FixedClock
from crmkit.demo.sample import NOW, SampleSummary, build_sample_crm
from crmkit.errors import CrmkitError
from crmkit.leads.convert import convert_lead
from crmkit.leads.qualify import Qualifier
from crmkit.leads.rules import Rule
from crmkit.leads.status import move_lead
from crmkit.model.deal import Deal
from crmkit.model.lead import Lead
from crmkit.pipelines.call_status import CallStatus
from crmkit.pipelines.default import default_renewal_pipeline, default_sales_pipeline
from crmkit.scoring.batch import score_engagement, score_fit
from crmkit.scoring.default import default_engagement_model
from crmkit.scoring.fit import FitModel, FitRule
from crmkit.scoring.predictive import InsufficientDataError, WinProbabilityModel
from crmkit.scoring.priority import default_priority_policy
from crmkit.segments.parser import parse
from crmkit.segments.rfm import rfm, rfm_groups
from crmkit.storage.protocol import Store
from crmkit.values.money import Money
from crmkit.work.assignment import AssignmentRules, assign
from crmkit.work.call_status import URGENCY, deal_call_status
from crmkit.work.sla import SlaClock, SlaState, first_touch_policy, sla_clocks
from crmkit.work.tasks import follow_up, reminders_due

__all__ = [
    "SEGMENTS",
    "DemoReport",
    "ModelQuality",
    "RankedDeal",
    "StageLine",
    "demo_fit_model",
    "run_demo",
]

Progress = Callable[[str, int, int], None]

SEGMENTS: tuple[tuple[str, str], ...] = (
    ("Engaged decision makers",
     'title in ("CEO", "CTO", "Head of Sales") and score.engagement >= 20'),
    ("VIPs gone quiet", 'has tag "vip" and last_activity_at more than 60 days ago'),
    ("Repeat buyers", "order_count >= 3"),
    ("Good fit, not yet engaged", "score.fit >= 60 and score.engagement < 10"),
    ("Germany, active this quarter", 'country = "DE" and last_activity_at this quarter'),
)  # fmt: skip
"""The segments the demo sizes: (name, text in the segment language)."""


@attrs.frozen
class StageLine:
    """One open stage of a pipeline: how many deals, their value and weighted value (EUR)."""

    pipeline: str
    stage: str
    deals: int
    value: Decimal
    weighted: Decimal


@attrs.frozen
class RankedDeal:
    """An open deal with its priority, score and the factors that decided it."""

    name: str
    stage: str
    amount: Decimal
    probability: float
    priority: str
    score: float
    why: tuple[str, ...]
    call_status: str


@attrs.frozen
class ModelQuality:
    """How good the learned win probability is on deals it did not learn from."""

    held_out: int
    won: int
    roc_auc: float
    brier: float
    base_rate_brier: float
    verdict: str


@attrs.frozen
class DemoReport:
    """What the demo did and found; `to_dict` gives it as JSON-ready data."""

    seed: int
    size: str
    as_of: dt.datetime
    stored: SampleSummary
    leads: dict[str, int]
    pipeline: tuple[StageLine, ...]
    top_deals: tuple[RankedDeal, ...]
    segments: tuple[tuple[str, str, int], ...]
    rfm_groups: tuple[tuple[str, int], ...]
    model: ModelQuality | None
    scored: dict[str, int]
    first_touch: dict[str, int]
    assigned: tuple[tuple[str, str, int], ...]
    follow_ups: dict[str, int]
    check_ins: int
    reminders_due: int
    call_statuses: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (decimals as text, instants in ISO form)."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dt.datetime):
                return value.isoformat()
            if attrs.has(type(value)):
                return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            return value

        return plain(self)  # type: ignore[no-any-return]


def demo_fit_model() -> FitModel:
    """The demo's fit model: mid-size and large companies, decision makers, core markets."""
    return FitModel(
        rules=[
            FitRule("decision maker", parse('title in ("CEO", "CTO", "Head of Sales")'), 35),
            FitRule("operations lead", parse('title = "Head of Operations"'), 20),
            FitRule("core market", parse('country in ("DE", "NL", "FR")'), 20),
            FitRule("mid-size company", parse("company.employees >= 50"), 25),
            FitRule("large company", parse("company.employees >= 500"), 20),
            FitRule("tiny company", parse("company.employees < 10"), -15),
        ],
        max_points=100,
        name="fit",
    )


def run_demo(
    store: Store, *, seed: int = 7, size: str = "medium", progress: Progress | None = None
) -> DemoReport:
    """Build the sample CRM in an empty store and tell its story (see the module).

    Args:
        store: An empty store (its clock should stand at `crmkit.demo.sample.NOW`).
        seed: The random seed: the same seed gives the same report.
        size: ``"small"``, ``"medium"`` or ``"large"``.
        progress: Called with ``(step, done, total)`` as the work goes on.
    """
    report = progress or (lambda step, done, total: None)
    stored = build_sample_crm(store, seed=seed, size=size, progress=report)
    sales, renewals = default_sales_pipeline(), default_renewal_pipeline()
    assigned = _assign_new_leads(store, report)
    leads = _qualify_and_convert(store, report)
    report("first touch", 0, 1)
    clocks = sla_clocks(store, first_touch_policy("4h"), now=NOW)
    first_touch = _first_touch(clocks)
    follow_ups = _first_calls(store, clocks)
    report("first touch", 1, 1)
    scored = {
        "engagement": score_engagement(
            store, default_engagement_model(), as_of=NOW, progress=_step(report, "engagement")
        ).scored,
        "fit": score_fit(store, demo_fit_model(), as_of=NOW, progress=_step(report, "fit")).scored,
    }
    report("win probability", 0, 1)
    with store.unit_of_work(readonly=True) as uow:
        deals = list(uow.deals.iter())
    model = WinProbabilityModel.for_deals(
        ["source", "amount"],
        pipelines=[sales, renewals],
        bins={"amount": [10_000, 40_000]},
        min_per_class=20,
    )
    quality: ModelQuality | None
    try:
        measured = model.train(deals, seed=seed)
        quality = ModelQuality(
            measured.held_out,
            measured.won,
            measured.roc_auc,
            measured.brier,
            measured.base_rate_brier,
            measured.verdict,
        )
    except InsufficientDataError:
        quality = None
    report("win probability", 1, 1)
    pipelines = {p.key: p for p in (sales, renewals)}
    report("priorities", 0, 1)
    top, check_ins = _top_deals(store, deals, pipelines, model if quality else None)
    report("priorities", 1, 1)
    with store.unit_of_work(readonly=True) as uow:
        segments = tuple((name, text, uow.contacts.count(parse(text))) for name, text in SEGMENTS)
        groups = rfm_groups(rfm(uow, currency="EUR", as_of=NOW))
        reminders = len(reminders_due(uow, NOW, NOW + dt.timedelta(days=1)))
        calls = {status.value: 0 for status in URGENCY if status is not CallStatus.CLOSED}
        for deal in deals:
            if deal.closed_at is None:
                calls[deal_call_status(uow, deal, now=NOW).value] += 1
    return DemoReport(
        seed=seed,
        size=size,
        as_of=NOW,
        stored=stored,
        leads=leads,
        pipeline=_pipeline_lines(deals, pipelines),
        top_deals=top,
        segments=segments,
        rfm_groups=tuple((g.value, len(ids)) for g, ids in groups.items() if ids),
        model=quality,
        scored=scored,
        first_touch=first_touch,
        assigned=assigned,
        follow_ups=follow_ups,
        check_ins=check_ins,
        reminders_due=reminders,
        call_statuses=calls,
    )


DEMO_ROUTING = AssignmentRules.from_dict(
    {
        "name": "new leads",
        "applies_to": "lead",
        "fallback": "sales-queue",
        "rules": [
            {"name": "DACH", "when": 'country = "DE"', "round_robin": ["anna", "jonas"]},
            {"name": "enterprise", "when": "employees >= 250", "weighted": {"claire": 2, "sam": 1}},
            {"name": "everyone else", "least_loaded": ["emma", "noah", "lucas"], "cap": 90},
        ],
    }
)
"""How the demo routes its new leads."""


def _assign_new_leads(store: Store, report: Progress) -> tuple[tuple[str, str, int], ...]:
    """Assign every lead by `DEMO_ROUTING`; (owner, rule, leads) sorted by rule and owner."""
    counts: dict[tuple[str, str], int] = {}
    with store.unit_of_work(actor="router") as uow:
        leads = list(uow.leads.iter())
        for done, lead in enumerate(leads, 1):
            decision = assign(uow, DEMO_ROUTING, lead)
            key = (decision.owner, decision.rule or "fallback")
            counts[key] = counts.get(key, 0) + 1
            if done % 100 == 0 or done == len(leads):
                report("assignment", done, len(leads))
    return tuple(sorted(((o, r, n) for (o, r), n in counts.items()), key=lambda x: (x[1], x[0])))


def _first_calls(store: Store, clocks: list[SlaClock]) -> dict[str, int]:
    """A "first call" task for each never-touched open lead, reminder an hour before.

    Due in 4 business hours.

    Returns the tasks made per assignee.
    """
    untouched = {c.record_id for c in clocks if c.stopped_at is None}
    made: dict[str, int] = {}
    with store.unit_of_work(actor="demo") as uow:
        for lead in uow.leads.iter():
            if lead.id in untouched and lead.status.value in ("new", "working", "nurturing"):
                task = follow_up(uow, lead, "First call", due_in=dt.timedelta(hours=4),
                                 assignee=lead.owner, priority="high",
                                 reminders=[dt.timedelta(hours=1)])  # fmt: skip
                made[str(task.assignee)] = made.get(str(task.assignee), 0) + 1
    return dict(sorted(made.items()))


def _first_touch(clocks: list[SlaClock]) -> dict[str, int]:
    """The leads' first-touch clocks (4 business hours, the store's calendar) by state."""
    counts = {state.value: 0 for state in SlaState}
    for clock in clocks:
        counts[clock.state.value] += 1
    counts["never touched"] = sum(1 for clock in clocks if clock.stopped_at is None)
    return counts


def _step(report: Progress, name: str) -> Callable[[int, int | None], None]:
    return lambda done, total: report(name, done, total or 0)


def _qualify_and_convert(store: Store, report: Progress) -> dict[str, int]:
    """BANT-qualify every new lead; convert the qualified ones, one unit of work each.

    Qualified leads convert (contact, company and deal in the sales pipeline); leads that
    fail a must rule go to nurturing; a disqualifying rule (a one-person company) ends them.
    """
    qualifier = Qualifier.bant(
        Money.of("5000", "EUR"),
        rules=[
            Rule("big enough", parse("employees >= 20")),
            Rule("tiny company", parse("employees < 10"), "disqualify", "too small to need a CRM"),
        ],
    )
    sales = default_sales_pipeline()
    clock = FixedClock(NOW)
    counts = {"qualified": 0, "converted": 0, "nurture": 0, "disqualified": 0}
    with store.unit_of_work(readonly=True) as uow:
        leads: list[Lead] = list(uow.leads.iter())
    for done, lead in enumerate(leads, 1):
        result = qualifier.qualify(lead, now=NOW)
        verdict = str(result.verdict.value)
        counts[verdict] = counts.get(verdict, 0) + 1
        with store.unit_of_work(actor="demo") as uow:
            if verdict == "qualified":
                moved = uow.leads.update(move_lead(lead, "qualified", clock=clock))
                try:
                    convert_lead(uow, moved, sales, by="demo", clock=clock)
                    counts["converted"] += 1
                except CrmkitError:
                    pass  # a lead that cannot convert stays qualified
            elif verdict == "disqualified":
                reason = "; ".join(o.reason or o.name for o in result.failed) or "disqualified"
                uow.leads.update(move_lead(lead, "unqualified", reason=reason, clock=clock))
            else:
                uow.leads.update(move_lead(lead, "nurturing", clock=clock))
        if done % 50 == 0 or done == len(leads):
            report("leads", done, len(leads))
    return counts


def _pipeline_lines(deals: list[Deal], pipelines: dict[str, Any]) -> tuple[StageLine, ...]:
    lines = []
    for key, pipeline in pipelines.items():
        for stage in pipeline.open_stages:
            here = [d for d in deals if d.pipeline == key and d.stage == stage.key]
            value = sum((d.amount.amount for d in here if d.amount), Decimal(0))
            weighted = sum(
                (d.amount.amount * Decimal(str(pipeline.probability(d))) for d in here if d.amount),
                Decimal(0),
            )
            lines.append(StageLine(pipeline.label, stage.label, len(here), value, weighted))
    return tuple(lines)


def _top_deals(
    store: Store, deals: list[Deal], pipelines: dict[str, Any], model: Any
) -> tuple[tuple[RankedDeal, ...], int]:
    """Rank the open deals by the default priority policy; return the ten highest.

    Each gets its call status (stage, latest activity, tasks); those that need a follow-up
    get a weekly check-in (recurring, a reminder an hour before). Returns the ten and the
    number of check-ins made.
    """
    policy = default_priority_policy()
    open_deals = [d for d in deals if d.closed_at is None]
    contact_ids = {c for d in open_deals for c in d.contact_ids}
    with store.unit_of_work(readonly=True) as uow:
        engagement = uow.scores.for_records(contact_ids, "engagement")
        facts = {c: uow.contacts.facts(c) for c in contact_ids}
    ranked = []
    for deal in open_deals:
        scores = [engagement[c].value for c in deal.contact_ids if c in engagement]
        touches = [t for c in deal.contact_ids if (t := facts[c].last_activity_at) is not None]
        probability = model.predict(deal).probability if model is not None else None
        assessed = policy.assess(
            deal,
            as_of=NOW,
            probability=probability,
            engagement=max(scores) if scores else None,
            last_touch=max(touches) if touches else None,
            pipeline=pipelines[deal.pipeline],
        )
        ranked.append((assessed, deal, probability))
    ranked.sort(key=lambda item: (-item[0].score, item[1].id))
    top = []
    check_ins = 0
    with store.unit_of_work(actor="demo") as uow:
        for assessed, deal, probability in ranked[:10]:
            status = deal_call_status(uow, deal, now=NOW)
            if status is CallStatus.FOLLOW_UP_NEEDED:
                follow_up(uow, deal, "Weekly check-in", due_in_days=1, assignee=deal.owner,
                          reminders=[dt.timedelta(hours=1)], recurrence="FREQ=WEEKLY")  # fmt: skip
                check_ins += 1
            top.append(
                RankedDeal(
                    name=deal.name,
                    stage=pipelines[deal.pipeline].stage(deal.stage).label,
                    amount=deal.amount.amount if deal.amount else Decimal(0),
                    probability=probability if probability is not None else 0.0,
                    priority=str(assessed.priority.value),
                    score=round(assessed.score, 1),
                    why=tuple(assessed.decided_by),
                    call_status=status.value,
                )
            )
    return tuple(top), check_ins
