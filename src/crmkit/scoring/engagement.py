"""Engagement scoring as data: rules that give points to activities, decay, caps, 0..100.

An `EngagementModel` is a list of `EngagementRule`s. Each activity is scored by the **first**
rule whose `when` condition matches it (rules are tried in order; an activity no rule
matches scores nothing; an activity after the "as of" instant has not happened yet and is
left out). The rule gives

    points(activity) = (points + min(per_minute * minutes, max_duration_points)
                        + response bonus) * decay.factor(age)

where the response bonus is the points of the first `ResponseBonus` tier whose
`within_hours` the activity's `response_time` is within. Then, with ``S_g`` the sum of a
group's points and ``C_g`` its cap (no cap: infinite)::

    raw   = sum over groups of min(S_g, C_g)          (caps only limit from above)
    score = clamp(raw, 0, total_cap) * 100 / total_cap

Negative points (bounces, unsubscribes, no-shows) reduce the total; the score never goes
below 0. The breakdown (`EngagementModel.score`) has one line per scored activity, one
negative ``cap: <group>`` line per capped group, and a ``cap: total`` or ``floor at 0``
line when the clamp applied, so the lines add up to the score.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import attrs

from crmkit.conditions import Condition, compile_predicate, fields_of
from crmkit.definitions import load_each
from crmkit.errors import Problem, ValidationError
from crmkit.model.activity import Activity
from crmkit.scoring.breakdown import Contribution, ContributionKind, Score, clamp_lines
from crmkit.scoring.decay import (
    DAY,
    Decay,
    Exponential,
    Linear,
    NoDecay,
    Window,
    decay_from_dict,
)
from crmkit.scoring.definition_text import (
    DefinitionText,
    check_keys,
    condition_field,
    number_field,
)
from crmkit.values.arguments import as_items, item_problems
from crmkit.values.temporal import require_instant

__all__ = [
    "ACTIVITY_FIELDS",
    "EngagementModel",
    "EngagementRule",
    "ResponseBonus",
]

ACTIVITY_FIELDS: frozenset[str] = fields_of(Activity)
"""The fields an engagement rule's condition may read: Activity's fields and ``custom.*``."""

_CATEGORICAL = frozenset({"kind", "outcome", "direction"})
"""Fields with few values: rules that read only these are classified once per combination."""


def _condition(value: object) -> Condition:
    return condition_field(value, "when", ACTIVITY_FIELDS)


def _within_hours(value: object) -> float:
    return number_field(value, "within_hours", minimum=0.0)


def _points(value: object) -> float:
    return number_field(value, "points")


def _per_minute(value: object) -> float:
    return number_field(value, "per_minute", minimum=0.0)


def _total_cap(value: object) -> float:
    return number_field(value, "total_cap", positive=True)


def _rules(value: Iterable[EngagementRule]) -> tuple[EngagementRule, ...]:
    # Not a collection: kept as given, refused with the other problems after init.
    items = as_items(value)
    return value if items is None else items  # type: ignore[return-value]


def _caps(value: object) -> dict[str, float]:
    # Not a mapping: kept as given, refused with the other problems after init.
    return dict(value) if isinstance(value, Mapping) else value  # type: ignore[return-value]


def _optional_cap(value: object) -> float | None:
    return None if value is None else number_field(value, "max_duration_points", minimum=0.0)


@attrs.frozen
class ResponseBonus:
    """Extra points when the customer responded within `within_hours`.

    Args:
        within_hours: The response time limit in hours; greater than 0.
        points: The bonus.
    """

    within_hours: float = attrs.field(converter=_within_hours)
    points: float = attrs.field(converter=_points)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"within_hours": ..., "points": ...}``."""
        return {"within_hours": self.within_hours, "points": self.points}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResponseBonus:
        """Load a tier written by `to_dict`."""
        values = check_keys(
            data, "response bonus", ("within_hours", "points"), ("within_hours", "points")
        )
        return cls(values["within_hours"], values["points"])


def _bonus(value: object) -> ResponseBonus:
    if isinstance(value, ResponseBonus):
        return value
    if isinstance(value, Mapping):
        return ResponseBonus.from_dict(value)
    raise ValidationError.single("", value, "is not a ResponseBonus or its dict form")


def _bonuses(value: Iterable[ResponseBonus | Mapping[str, Any]]) -> tuple[ResponseBonus, ...]:
    items = as_items(value)
    if items is None:
        raise ValidationError.single(
            "response_bonus", value, "is not a collection of response bonus tiers"
        )
    problems: list[Problem] = []
    tiers = load_each(items, "response_bonus", _bonus, problems)
    if problems:
        raise ValidationError(problems)
    return tuple(sorted(tiers, key=lambda tier: tier.within_hours))


def _decay(value: object) -> Decay:
    if isinstance(value, NoDecay | Exponential | Linear | Window):
        return value
    if isinstance(value, Mapping):
        return decay_from_dict(value)
    raise ValidationError.single("decay", value, "is not a decay or its dict form")


def _text(field: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError.single(field, value, "must be non-blank text")

    return check


@attrs.frozen
class EngagementRule:
    """One engagement rule: which activities it scores and how many points they are worth.

    Args:
        name: A unique name, shown in breakdowns (``"email replied"``).
        when: The condition over the `Activity`, or its dict form
            (``(F("kind") == "email") & (F("outcome") == "replied")``).
        points: The points per matching activity (negative for bad signals).
        group: The group it counts in, for group caps (``"email"``).
        per_minute: Points per minute of the activity's `duration` (calls, meetings).
        max_duration_points: The most the duration can add; no limit when None.
        response_bonus: Bonus tiers for fast responses; the tightest matching tier counts.
        decay: How its points fade with the activity's age.

    Raises:
        ValidationError: For a blank name or group, a bad condition (or one reading a field
            activities do not have), or bad numbers.
    """

    name: str = attrs.field(validator=_text("name"))
    when: Condition = attrs.field(converter=_condition)
    points: float = attrs.field(converter=_points)
    group: str = attrs.field(default="general", validator=_text("group"))
    per_minute: float = attrs.field(default=0.0, converter=_per_minute)
    max_duration_points: float | None = attrs.field(default=None, converter=_optional_cap)
    response_bonus: tuple[ResponseBonus, ...] = attrs.field(default=(), converter=_bonuses)
    decay: Decay = attrs.field(factory=NoDecay, converter=_decay)

    def base_points(self, activity: Activity) -> float:
        """Return the activity's points before decay: points, duration and response bonus."""
        points = self.points
        if self.per_minute and activity.duration is not None:
            extra = self.per_minute * activity.duration.total_seconds() / 60.0
            if self.max_duration_points is not None:
                extra = min(extra, self.max_duration_points)
            points += extra
        if self.response_bonus and activity.response_time is not None:
            hours = activity.response_time.total_seconds() / 3600.0
            for tier in self.response_bonus:
                if hours <= tier.within_hours:
                    points += tier.points
                    break
        return points

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as plain data (settings left at their defaults are left out)."""
        data: dict[str, Any] = {
            "name": self.name,
            "group": self.group,
            "when": self.when.to_dict(),
            "points": self.points,
        }
        if self.per_minute:
            data["per_minute"] = self.per_minute
        if self.max_duration_points is not None:
            data["max_duration_points"] = self.max_duration_points
        if self.response_bonus:
            data["response_bonus"] = [tier.to_dict() for tier in self.response_bonus]
        data["decay"] = self.decay.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngagementRule:
        """Load a rule written by `to_dict` (or by hand).

        Raises:
            ValidationError: Listing what is wrong.
        """
        values = check_keys(
            data,
            "engagement rule",
            (
                "name",
                "group",
                "when",
                "points",
                "per_minute",
                "max_duration_points",
                "response_bonus",
                "decay",
            ),
            ("name", "when", "points"),
        )
        return cls(**dict(values))


@attrs.frozen
class EngagementModel(DefinitionText):
    """An engagement model: rules, group caps and a total cap; scores on 0..100.

    See the module documentation for the formula. Rule conditions are compiled once; batch
    scoring runs a tight loop over float timestamps (`value_at`).

    Args:
        rules: The rules, tried in order; the first that matches an activity scores it.
        group_caps: The most points each named group can add (groups not named: no cap).
        total_cap: The raw points that make a score of 100; greater than 0.
        name: The scorer name stored with scores (``"engagement"``).
        version: The version of this definition, stored with every score.

    Raises:
        ValidationError: Naming ``rules`` when it is not a collection of rules (``rules[i]``
            for an item that is not an `EngagementRule`), ``group_caps`` when it is not a
            mapping, and every repeated rule name, cap on a group no rule uses, or cap that
            is not greater than 0.
    """

    WHAT: ClassVar[str] = "engagement model"

    rules: tuple[EngagementRule, ...] = attrs.field(converter=_rules)
    group_caps: Mapping[str, float] = attrs.field(factory=dict, converter=_caps)
    total_cap: float = attrs.field(default=100.0, converter=_total_cap)
    name: str = attrs.field(default="engagement", validator=_text("name"))
    version: str = attrs.field(default="1", validator=_text("version"))
    _kernel: _Kernel = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.rules, tuple):
            problems.append(Problem("rules", self.rules, "is not a collection of rules"))
        elif not self.rules:
            problems.append(Problem("rules", [], "needs at least one rule"))
        else:
            problems.extend(item_problems(self.rules, "rules", EngagementRule))
        if not isinstance(self.group_caps, dict):
            problems.append(
                Problem("group_caps", self.group_caps, "is not a mapping of group to cap")
            )
        if problems:
            raise ValidationError(problems)
        names = [rule.name for rule in self.rules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append(Problem("rules", repeated, "are rule names used more than once"))
        groups = {rule.group for rule in self.rules}
        for group, cap in self.group_caps.items():
            if group not in groups:
                problems.append(Problem(f"group_caps.{group}", cap, "caps a group no rule uses"))
            elif (
                isinstance(cap, bool)
                or not isinstance(cap, int | float)
                or not cap > 0
                or (isinstance(cap, int) and cap > sys.float_info.max)  # no float() for it
            ):
                problems.append(Problem(f"group_caps.{group}", cap, "must be a number > 0"))
        if not self.total_cap > 0:
            problems.append(Problem("total_cap", self.total_cap, "must be greater than 0"))
        if problems:
            raise ValidationError(problems)
        caps = {group: float(cap) for group, cap in self.group_caps.items()}
        object.__setattr__(self, "group_caps", caps)
        object.__setattr__(self, "_kernel", _Kernel(self))

    @property
    def groups(self) -> tuple[str, ...]:
        """The rule groups, in order of first use."""
        return tuple(dict.fromkeys(rule.group for rule in self.rules))

    def rule_for(self, activity: Activity) -> EngagementRule | None:
        """Return the first rule whose condition matches `activity`, if any."""
        index = self._kernel.rule_index(activity)
        return None if index < 0 else self.rules[index]

    def value(self, activities: Iterable[Activity], as_of: dt.datetime) -> float:
        """Return the engagement score (0..100) as of an instant, without the breakdown.

        Args:
            activities: The record's activities, in any order.
            as_of: The instant to score for; later activities are left out.
        """
        return self._kernel.value(activities, require_instant(as_of, "as_of").timestamp())

    def value_at(self, activities: Iterable[Activity], as_of: float) -> float:
        """Return the score as of a POSIX timestamp: the batch path (no datetime maths).

        Args:
            activities: The record's activities.
            as_of: ``as_of.timestamp()``, computed once per batch.
        """
        return self._kernel.value(activities, as_of)

    def score(self, activities: Iterable[Activity], as_of: dt.datetime) -> Score:
        """Return the score as of an instant with its breakdown.

        Args:
            activities: The record's activities, in any order.
            as_of: The instant to score for; later activities are left out.

        Returns:
            A `Score` whose lines name each scored activity and rule, each capped group,
            and the total cap or the floor at 0 when they applied.
        """
        return self._kernel.explain(activities, require_instant(as_of, "as_of"))

    def to_dict(self) -> dict[str, Any]:
        """Return the model as plain data."""
        return {
            "name": self.name,
            "version": self.version,
            "total_cap": self.total_cap,
            "group_caps": dict(self.group_caps),
            "rules": [rule.to_dict() for rule in self.rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngagementModel:
        """Load a model written by `to_dict` (or by hand).

        Raises:
            ValidationError: Listing every problem; rule problems prefixed ``rules[i]``.
        """
        values = dict(
            check_keys(
                data,
                "engagement model",
                ("name", "version", "total_cap", "group_caps", "rules"),
                ("rules",),
            )
        )
        raw = values.pop("rules")
        if not isinstance(raw, list | tuple):
            raise ValidationError.single("rules", raw, "is not a list of rules")
        problems: list[Problem] = []
        rules = load_each(raw, "rules", EngagementRule.from_dict, problems)
        if problems:
            raise ValidationError(problems)
        caps = values.get("group_caps", {})
        if not isinstance(caps, Mapping):
            raise ValidationError.single("group_caps", caps, "is not a mapping of group to cap")
        return cls(rules=rules, **values)


_NONE, _EXPONENTIAL, _LINEAR, _WINDOW, _STEPS = range(5)


def _decay_code(decay: Decay) -> tuple[int, float, float]:
    """Return (mode, constant, period) for the inner loop."""
    if isinstance(decay, Exponential):
        return _EXPONENTIAL, -decay.rate, 0.0
    if isinstance(decay, Linear):
        if decay.steps:
            return _STEPS, decay.fraction, decay.per_days * DAY
        return _LINEAR, decay.rate, 0.0
    if isinstance(decay, Window):
        return _WINDOW, decay.days * DAY, 0.0
    return _NONE, 0.0, 0.0


def _extra(rule: EngagementRule) -> Callable[[Activity, float], float] | None:
    """Return the duration and response-bonus part of a rule as a function, if it has one."""
    if not (rule.per_minute or rule.response_bonus):
        return None
    per_second = rule.per_minute / 60.0
    most = math.inf if rule.max_duration_points is None else rule.max_duration_points
    tiers = tuple((tier.within_hours * 3600.0, tier.points) for tier in rule.response_bonus)

    def extra(activity: Activity, points: float) -> float:
        if per_second:
            duration = activity.duration
            if duration is not None:
                points += min(per_second * duration.total_seconds(), most)
        if tiers:
            response = activity.response_time
            if response is not None:
                seconds = response.total_seconds()
                for limit, bonus in tiers:
                    if seconds <= limit:
                        points += bonus
                        break
        return points

    return extra


_Params = tuple[int, float, int, float, float, Callable[[Activity, float], float] | None]


class _Kernel:
    """The model compiled for speed: predicates compiled once, classification memoised.

    When every rule condition reads only categorical fields (kind, outcome, direction), an
    activity's rule depends only on those values, so it is found once per combination with
    the compiled predicates and then looked up in a dict.
    """

    def __init__(self, model: EngagementModel) -> None:
        self.model = model
        self.predicates = tuple(compile_predicate(rule.when, Activity) for rule in model.rules)
        read = {path for rule in model.rules for path in rule.when.fields()}
        self.key: Callable[[Activity], object] | None = (
            operator.attrgetter(*sorted(read)) if read and read <= _CATEGORICAL else None
        )
        self.memo: dict[object, int] = {}
        groups = model.groups
        index = {group: i for i, group in enumerate(groups)}
        self.caps = tuple(model.group_caps.get(group, math.inf) for group in groups)
        self.params: tuple[_Params, ...] = tuple(
            (index[rule.group], rule.points, *_decay_code(rule.decay), _extra(rule))
            for rule in model.rules
        )
        self.scale = 100.0 / model.total_cap

    def classify(self, activity: Activity) -> int:
        for i, predicate in enumerate(self.predicates):
            if predicate(activity):
                return i
        return -1

    def rule_index(self, activity: Activity) -> int:
        key = self.key
        if key is None:
            return self.classify(activity)
        signature = key(activity)
        found = self.memo.get(signature)
        if found is None:
            found = self.memo[signature] = self.classify(activity)
        return found

    def points(self, activities: Iterable[Activity], now: float) -> list[float]:
        """Return the raw points per group (the inner loop)."""
        sums = [0.0] * len(self.caps)
        key, memo, classify, params = self.key, self.memo, self.classify, self.params
        exp, floor = math.exp, math.floor
        for activity in activities:
            if key is None:
                i = classify(activity)
            else:
                signature = key(activity)
                i = memo.get(signature, -2)
                if i == -2:
                    i = memo[signature] = classify(activity)
            if i < 0:
                continue
            age = now - activity.occurred_at.timestamp()
            if age < 0.0:
                continue
            group, points, mode, constant, period, extra = params[i]
            if extra is not None:
                points = extra(activity, points)
            if mode == _EXPONENTIAL:
                points *= exp(constant * age)
            elif mode == _WINDOW:
                if age > constant:
                    continue
            elif mode == _LINEAR:
                factor = 1.0 - constant * age
                if factor <= 0.0:
                    continue
                points *= factor
            elif mode == _STEPS:
                factor = 1.0 - constant * floor(age / period)
                if factor <= 0.0:
                    continue
                points *= factor
            sums[group] += points
        return sums

    def value(self, activities: Iterable[Activity], now: float) -> float:
        raw = 0.0
        for points, cap in zip(self.points(activities, now), self.caps, strict=True):
            raw += points if points < cap else cap
        if raw <= 0.0:
            return 0.0
        total_cap = self.model.total_cap
        return (raw if raw < total_cap else total_cap) * self.scale

    def explain(self, activities: Iterable[Activity], as_of: dt.datetime) -> Score:
        model, scale, now = self.model, self.scale, as_of.timestamp()
        lines: list[Contribution] = []
        sums: dict[str, list[float]] = {group: [] for group in model.groups}
        for activity in activities:
            i = self.rule_index(activity)
            if i < 0:
                continue
            age = now - activity.occurred_at.timestamp()
            if age < 0.0:
                continue
            rule = model.rules[i]
            factor = rule.decay.factor(age)
            if factor <= 0.0:
                continue
            raw = rule.base_points(activity) * factor
            sums[rule.group].append(raw)
            lines.append(
                Contribution(
                    label=rule.name,
                    points=raw * scale,
                    rule=rule.name,
                    group=rule.group,
                    activity_id=activity.id,
                    factor=factor,
                )
            )
        total = 0.0
        for group, values in sums.items():
            got = math.fsum(values)
            cap = model.group_caps.get(group, math.inf)
            if got > cap:
                lines.append(
                    Contribution(
                        f"cap: {group}",
                        (cap - got) * scale,
                        ContributionKind.GROUP_CAP,
                        group=group,
                    )
                )
                got = cap
            total += got
        lines.extend(clamp_lines(total, model.total_cap, scale))
        value = min(max(total, 0.0), model.total_cap) * scale
        return Score(value, tuple(lines), model.name, model.version, as_of)
