"""Qualifying leads: rules declared as data, BANT out of the box, a verdict with reasons.

The decision rule, in order:

1. A ``disqualify`` rule whose condition holds → **disqualified** (whatever else is known).
2. A ``must`` rule that fails, or a field read by a ``must`` or ``disqualify`` rule that is
   missing (None) on the lead → **nurture**: either it is not good enough yet, or there is
   not enough information to decide.
3. Otherwise → **qualified**.

``nice_to_have`` rules are reported but never change the verdict. Qualifying is a pure
function of the lead, the rules and `now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.conditions import (
    Condition,
    F,
    Predicate,
    compile_predicate,
    fields_of,
    resolve,
    validate_fields,
)
from crmkit.definitions import dump_json, dump_toml, load_each, load_json, load_toml
from crmkit.errors import Problem, SegmentError, ValidationError
from crmkit.leads.rules import Rule, RuleKind
from crmkit.model.lead import Lead, Qualification
from crmkit.values.arguments import as_items
from crmkit.values.enums import QualificationVerdict
from crmkit.values.money import Money
from crmkit.values.temporal import require_instance, require_instant

__all__ = ["LEAD_FIELDS", "QualificationResult", "Qualifier", "RuleOutcome"]

LEAD_FIELDS: frozenset[str] = fields_of(Lead) | {
    "name",
    "bant.budget",
    "bant.budget.amount",
    "bant.budget.currency",
    "bant.authority",
    "bant.need",
    "bant.timeline",
}
"""The fields a qualifier rule may name: Lead's fields, its BANT facts and ``custom.*``."""

TIMELINE_RULE = "timeline"


@attrs.frozen
class RuleOutcome:
    """How one rule judged one lead.

    Attributes:
        name: The rule's name.
        kind: Its kind.
        passed: For must and nice-to-have rules, whether the condition held; for a
            disqualify rule, whether it did *not* fire.
        reason: The rule's reason.
        missing: The fields the rule reads that the lead does not have.
    """

    name: str
    kind: RuleKind
    passed: bool
    reason: str = ""
    missing: tuple[str, ...] = ()


@attrs.frozen
class QualificationResult:
    """The verdict on a lead and everything that led to it.

    Attributes:
        verdict: Qualified, nurture or disqualified.
        outcomes: One outcome per rule, in the qualifier's order.
        missing: The fields still missing to decide, in order, without repeats.
        decided_at: When it was judged.
    """

    verdict: QualificationVerdict
    outcomes: tuple[RuleOutcome, ...]
    missing: tuple[str, ...]
    decided_at: dt.datetime

    @property
    def passed(self) -> tuple[RuleOutcome, ...]:
        """The rules that passed."""
        return tuple(o for o in self.outcomes if o.passed)

    @property
    def failed(self) -> tuple[RuleOutcome, ...]:
        """The rules that failed (a disqualify rule fails when it fires)."""
        return tuple(o for o in self.outcomes if not o.passed)

    def to_qualification(self) -> Qualification:
        """Return the model's `Qualification`, to store on the lead (failed as "name: reason")."""
        return Qualification(
            verdict=self.verdict,
            passed=tuple(o.name for o in self.passed),
            failed=tuple(f"{o.name}: {o.reason}" if o.reason else o.name for o in self.failed),
            missing=self.missing,
            decided_at=self.decided_at,
        )


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    # Not a collection: kept as given, refused with the other problems after init.
    items = as_items(value)
    return value if items is None else items  # type: ignore[return-value]


@attrs.frozen
class Qualifier:
    """Judges leads by rules: `qualify` returns a verdict, the rules' outcomes and what is missing.

    Args:
        rules: The rules, each with a unique name.
        timeline_days: When set, adds a must rule ``timeline``: the BANT timeline is known
            and no more than this many days after `now` (it moves with `now`, so it is not a
            plain condition).

    Raises:
        ValidationError: For `rules` that are not a collection of rules (``rules[i]`` for
            an item that is not a `Rule`), repeated names, unknown fields (with
            suggestions) or a bad `timeline_days`, all at once.
    """

    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules)
    timeline_days: int | None = None
    _predicates: tuple[Predicate, ...] = attrs.field(init=False, eq=False, repr=False)
    _timeline: dict[dt.date, Predicate] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        problems = []
        rules = self.rules if isinstance(self.rules, tuple) else ()
        if rules is not self.rules:
            problems.append(Problem("rules", self.rules, "is not a collection of rules"))
        names = [rule.name for rule in rules if isinstance(rule, Rule)]
        if self.timeline_days is not None:
            names.append(TIMELINE_RULE)
            if isinstance(self.timeline_days, bool) or not isinstance(self.timeline_days, int):
                problems.append(Problem("timeline_days", self.timeline_days, "is not a number"))
            elif self.timeline_days < 0:
                problems.append(Problem("timeline_days", self.timeline_days, "is negative"))
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append(Problem("rules", repeated, "are rule names used more than once"))
        for i, rule in enumerate(rules):
            if not isinstance(rule, Rule):
                problems.append(Problem(f"rules[{i}]", rule, "is not a Rule"))
                continue
            try:
                validate_fields(rule.condition, LEAD_FIELDS)
            except SegmentError as error:
                problems.append(Problem(f"rules[{i}].condition", rule.name, str(error)))
        if problems:
            raise ValidationError(problems)
        predicates = tuple(compile_predicate(rule.condition, Lead) for rule in self.rules)
        object.__setattr__(self, "_predicates", predicates)

    @classmethod
    def bant(
        cls,
        min_budget: Money | None = None,
        *,
        timeline_days: int | None = 90,
        authority: bool = True,
        need: bool = True,
        rules: Iterable[Rule] = (),
    ) -> Qualifier:
        """Return the classic BANT qualifier, plus any `rules` of your own.

        Must rules: ``budget`` (known, and at least `min_budget` when given: Money compares
        within one currency, so a budget in another currency fails), ``authority`` (the
        contact can decide), ``need`` (a need is written down), and ``timeline`` (known and
        within `timeline_days` of now; None leaves it out).

        Args:
            min_budget: The smallest budget that qualifies.
            timeline_days: How soon the purchase must be planned.
            authority: Whether to require authority.
            need: Whether to require a stated need.
            rules: More rules (company size, industry, country, title, source, score).
        """
        budget: Condition = (
            F("bant.budget").is_not_empty()
            if min_budget is None
            else F("bant.budget") >= min_budget
        )
        below = "" if min_budget is None else f" or below {min_budget}"
        bant = [Rule("budget", budget, RuleKind.MUST, f"budget unknown{below}")]
        if authority:
            bant.append(
                Rule(
                    "authority",
                    F("bant.authority") == True,  # noqa: E712 - builds a condition
                    RuleKind.MUST,
                    "the contact cannot decide the purchase",
                )
            )
        if need:
            bant.append(
                Rule("need", F("bant.need").is_not_empty(), RuleKind.MUST, "no need identified")
            )
        return cls((*bant, *rules), timeline_days=timeline_days)

    def qualify(
        self, lead: Lead, *, now: dt.datetime | None = None, clock: Clock | None = None
    ) -> QualificationResult:
        """Judge a lead. Pure: the same lead, rules and `now` always give the same result.

        Args:
            lead: The lead.
            now: The moment of judgement (timeline rule, `decided_at`); from `clock` if None.
            clock: Where "now" comes from when `now` is None.

        Raises:
            ValidationError: Naming ``lead`` or ``now`` when they are not a Lead and an aware
                datetime.
        """
        require_instance(lead, Lead, "lead")
        at = resolve_clock(clock).now() if now is None else require_instant(now, "now")
        outcomes = []
        missing: dict[str, None] = {}
        decisive_missing = False
        fired = False
        musts_pass = True
        for rule, predicate in self._checks(at):
            holds = predicate(lead)
            absent = tuple(f for f in rule.condition.fields() if resolve(lead, f) is None)
            missing.update(dict.fromkeys(absent))
            if rule.kind is RuleKind.DISQUALIFY:
                fired = fired or holds
                passed = not holds
            else:
                passed = holds
                if rule.kind is RuleKind.MUST and not holds:
                    musts_pass = False
            if absent and rule.kind is not RuleKind.NICE_TO_HAVE:
                decisive_missing = True
            outcomes.append(RuleOutcome(rule.name, rule.kind, passed, rule.reason, absent))
        if fired:
            verdict = QualificationVerdict.DISQUALIFIED
        elif not musts_pass or decisive_missing:
            verdict = QualificationVerdict.NURTURE
        else:
            verdict = QualificationVerdict.QUALIFIED
        return QualificationResult(verdict, tuple(outcomes), tuple(missing), at)

    def _checks(self, at: dt.datetime) -> list[tuple[Rule, Predicate]]:
        checks = list(zip(self.rules, self._predicates, strict=True))
        if self.timeline_days is not None:
            rule = self.timeline_rule(at)
            day = at.date()
            predicate = self._timeline.get(day)
            if predicate is None:
                self._timeline.clear()
                predicate = self._timeline[day] = compile_predicate(rule.condition, Lead)
            checks.append((rule, predicate))
        return checks

    def timeline_rule(self, at: dt.datetime) -> Rule:
        """The ``timeline`` rule as it reads at `at` (None when `timeline_days` is None).

        Raises:
            ValueError: When the qualifier has no timeline rule.
        """
        if self.timeline_days is None:
            raise ValueError("this qualifier has no timeline rule")
        limit = at.date() + dt.timedelta(days=self.timeline_days)
        return Rule(
            TIMELINE_RULE,
            F("bant.timeline") <= limit,
            RuleKind.MUST,
            f"no purchase planned within {self.timeline_days} days",
        )

    # -- plain data ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the qualifier as plain data."""
        data: dict[str, Any] = {"rules": [rule.to_dict() for rule in self.rules]}
        if self.timeline_days is not None:
            data["timeline_days"] = self.timeline_days
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Qualifier:
        """Load a qualifier written by `to_dict`.

        Raises:
            ValidationError: Listing every problem, rule problems prefixed ``rules[i]``.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("qualifier", data, "is not a mapping")
        problems = [
            Problem(str(k), data[k], "is not a qualifier setting")
            for k in data
            if k not in ("rules", "timeline_days")
        ]
        raw = data.get("rules", [])
        if not isinstance(raw, list | tuple):
            raise ValidationError([*problems, Problem("rules", raw, "is not a list of rules")])
        rules = load_each(raw, "rules", Rule.from_dict, problems)
        try:
            qualifier = cls(rules, timeline_days=data.get("timeline_days"))
        except ValidationError as error:
            problems.extend(error.problems)
        else:
            if not problems:
                return qualifier
        raise ValidationError(problems)

    def to_json(self) -> str:
        """Return the qualifier as JSON text."""
        return dump_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Qualifier:
        """Load a qualifier from JSON text."""
        return cls.from_dict(load_json(text, "qualifier"))

    def to_toml(self) -> str:
        """Return the qualifier as TOML text (needs the ``toml`` extra).

        Raises:
            MissingExtraError: When tomli-w is not installed.
        """
        return dump_toml(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> Qualifier:
        """Load a qualifier from TOML text."""
        return cls.from_dict(load_toml(text, "qualifier"))
