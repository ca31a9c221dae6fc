"""Priority as a readable policy: weighted factors, a 0..100 score, High / Medium / Low bands.

A `PriorityPolicy` has factors and bands. Each `PriorityFactor` turns one input into a
share between 0 and 1, linearly between `zero_at` (share 0) and `full_at` (share 1) and
flat beyond them (``zero_at > full_at`` reverses the direction: fewer days to the close
is more urgent), or is a condition over the record (share 1 when it holds). Inputs:

| input | what it reads |
|---|---|
| ``amount`` | the deal's amount (a lead's BANT budget), as a number |
| ``probability`` | the win probability given, else the deal's stage probability |
| ``engagement`` | the engagement score given (0..100) |
| ``days_to_close`` | days from "as of" to the expected close (a lead's BANT timeline) |
| ``days_since_touch`` | days since the last touch given (`RecordFacts.last_activity_at`) |

``score = 100 * sum(weight * share) / sum(weight)``; a missing input has share 0 and is
reported as missing. The score falls in exactly one band: bands are half-open
``[low, high)`` except that the top one includes 100, and they must cover 0..100 with no
gap and no overlap. The result names the factors that decided it: for any band above the
lowest, the fewest factors (largest first) whose points alone reach the band; for the
lowest band, the factors that fell furthest short of their weight.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import attrs

from crmkit.conditions import Condition, compile_predicate
from crmkit.definitions import load_each
from crmkit.errors import Problem, ValidationError
from crmkit.model.deal import Deal
from crmkit.model.lead import Lead
from crmkit.pipelines import Pipeline
from crmkit.scoring.breakdown import Score
from crmkit.scoring.definition_text import (
    DefinitionText,
    check_keys,
    condition_field,
    number_field,
)
from crmkit.values.arguments import as_items
from crmkit.values.enums import Priority
from crmkit.values.money import Money
from crmkit.values.temporal import require_instant

__all__ = [
    "FactorResult",
    "PriorityAssessment",
    "PriorityBand",
    "PriorityFactor",
    "PriorityInput",
    "PriorityPolicy",
    "default_priority_policy",
]


_T = TypeVar("_T")


class PriorityInput(enum.StrEnum):
    """The measured inputs a priority factor can read."""

    AMOUNT = "amount"
    PROBABILITY = "probability"
    ENGAGEMENT = "engagement"
    DAYS_TO_CLOSE = "days_to_close"
    DAYS_SINCE_TOUCH = "days_since_touch"


def _input(value: object) -> PriorityInput | None:
    if value is None or isinstance(value, PriorityInput):
        return value
    try:
        return PriorityInput(str(value))
    except ValueError:
        choices = ", ".join(i.value for i in PriorityInput)
        raise ValidationError.single("input", value, f"is not one of: {choices}") from None


def _weight(value: object) -> float:
    return number_field(value, "weight", positive=True)


def _zero_at(value: object) -> float:
    return number_field(value, "zero_at")


def _full_at(value: object) -> float:
    return number_field(value, "full_at")


def _low(value: object) -> float:
    return number_field(value, "low")


def _high(value: object) -> float:
    return number_field(value, "high")


def _optional_condition(value: object) -> Condition | None:
    return None if value is None else condition_field(value, "when")


@attrs.frozen
class PriorityFactor:
    """One factor of a priority policy: an input (or a condition) and its weight.

    Args:
        name: A unique name, shown in results (``"deal value"``).
        weight: Its weight; greater than 0.
        input: The measured input it reads (see the module table); or None with `when`.
        when: A condition over the record: share 1 when it holds, else 0.
        zero_at: The input value with share 0.
        full_at: The input value with share 1 (below `zero_at` for "less is more").

    Raises:
        ValidationError: Unless exactly one of `input` and `when` is given, or when
            `zero_at` equals `full_at` for an input.
    """

    name: str
    weight: float = attrs.field(converter=_weight)
    input: PriorityInput | None = attrs.field(default=None, converter=_input)
    when: Condition | None = attrs.field(default=None, converter=_optional_condition)
    zero_at: float = attrs.field(default=0.0, converter=_zero_at)
    full_at: float = attrs.field(default=1.0, converter=_full_at)

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(Problem("name", self.name, "must be non-blank text"))
        if (self.input is None) == (self.when is None):
            problems.append(Problem("input", self.input, "give exactly one of input and when"))
        if self.input is not None and self.zero_at == self.full_at:
            problems.append(Problem("full_at", self.full_at, "must differ from zero_at"))
        if problems:
            raise ValidationError(problems)

    def share(self, value: float) -> float:
        """Return the share (0..1) of an input value: linear from `zero_at` to `full_at`."""
        share = (value - self.zero_at) / (self.full_at - self.zero_at)
        return min(max(share, 0.0), 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Return the factor as plain data."""
        data: dict[str, Any] = {"name": self.name, "weight": self.weight}
        if self.when is not None:
            data["when"] = self.when.to_dict()
        else:
            assert self.input is not None
            data.update(input=self.input.value, zero_at=self.zero_at, full_at=self.full_at)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityFactor:
        """Load a factor written by `to_dict`.

        Raises:
            ValidationError: Listing what is wrong.
        """
        values = check_keys(
            data,
            "priority factor",
            ("name", "weight", "input", "when", "zero_at", "full_at"),
            ("name", "weight"),
        )
        return cls(**dict(values))


def _priority(value: object) -> Priority:
    if isinstance(value, Priority):
        return value
    try:
        return Priority(str(value))
    except ValueError:
        raise ValidationError.single("priority", value, "is not high, medium or low") from None


@attrs.frozen
class PriorityBand:
    """The scores that get one priority: ``low <= score < high`` (the top band includes 100).

    Args:
        priority: High, medium or low.
        low: The lowest score in the band.
        high: The score where the band ends.
    """

    priority: Priority = attrs.field(converter=_priority)
    low: float = attrs.field(converter=_low)
    high: float = attrs.field(converter=_high)

    def to_dict(self) -> dict[str, Any]:
        """Return the band as plain data."""
        return {"priority": self.priority.value, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityBand:
        """Load a band written by `to_dict`."""
        values = check_keys(
            data, "priority band", ("priority", "low", "high"), ("priority", "low", "high")
        )
        return cls(**dict(values))


@attrs.frozen
class FactorResult:
    """How one factor counted in an assessment.

    Attributes:
        name: The factor's name.
        value: The input value it read (None when missing; True/False for a condition).
        share: Its share, 0..1.
        points: What it added to the 0..100 score.
        weight_points: The most it could have added.
    """

    name: str
    value: float | bool | None
    share: float
    points: float
    weight_points: float

    @property
    def missing(self) -> bool:
        """Whether the input was not known."""
        return self.value is None


@attrs.frozen
class PriorityAssessment:
    """The priority of a lead or deal and why.

    Attributes:
        priority: High, medium or low.
        score: The 0..100 score the bands were applied to.
        band: The band it fell in.
        factors: Every factor's result, largest points first.
        decided_by: The names of the factors that decided it (see the module docs).
    """

    priority: Priority
    score: float
    band: PriorityBand
    factors: tuple[FactorResult, ...]
    decided_by: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The factors whose input was not known."""
        return tuple(f.name for f in self.factors if f.missing)


def _band_problems(bands: tuple[PriorityBand, ...]) -> list[Problem]:
    problems = []
    for band in bands:
        if not band.low < band.high:
            problems.append(
                Problem("bands", band.to_dict(), "is empty or reversed: low must be below high")
            )
    if problems:
        return problems
    ordered = sorted(bands, key=lambda b: b.low)
    if not ordered:
        return [Problem("bands", [], "needs at least one band")]
    if ordered[0].low != 0.0:
        problems.append(
            Problem(
                "bands",
                ordered[0].to_dict(),
                f"leaves a gap: nothing covers 0 to {ordered[0].low:g}",
            )
        )
    furthest = max(ordered, key=lambda b: b.high)  # a band nested in another ends early
    if furthest.high != 100.0:
        problems.append(
            Problem(
                "bands",
                furthest.to_dict(),
                f"leaves a gap: nothing covers {furthest.high:g} to 100",
            )
        )
    reach = ordered[0]  # of the bands so far, the one that reaches highest
    for above in ordered[1:]:
        if above.low > reach.high:
            problems.append(
                Problem(
                    "bands",
                    [reach.to_dict(), above.to_dict()],
                    f"leave a gap: nothing covers {reach.high:g} to {above.low:g}",
                )
            )
        elif above.low < reach.high:
            problems.append(
                Problem(
                    "bands",
                    [reach.to_dict(), above.to_dict()],
                    f"overlap from {above.low:g} to {min(reach.high, above.high):g}",
                )
            )
        if above.high > reach.high:
            reach = above
    return problems


def _loaded(values: object, name: str, kind: type[_T], what: str) -> tuple[_T, ...]:
    """Return the items of `values` (each a `kind` or its dict form), or raise naming each."""
    items = as_items(values)
    if items is None:
        raise ValidationError.single(name, values, f"is not a collection of {what}")

    def load(value: object) -> _T:
        if isinstance(value, kind):
            return value
        if isinstance(value, Mapping):
            return kind.from_dict(value)  # type: ignore[attr-defined, no-any-return]
        raise ValidationError.single("", value, f"is not a {kind.__name__} or its dict form")

    problems: list[Problem] = []
    loaded = load_each(items, name, load, problems)
    if problems:
        raise ValidationError(problems)
    return tuple(loaded)


def _factors(values: Iterable[PriorityFactor | Mapping[str, Any]]) -> tuple[PriorityFactor, ...]:
    return _loaded(values, "factors", PriorityFactor, "priority factors")


def _bands(values: Iterable[PriorityBand | Mapping[str, Any]]) -> tuple[PriorityBand, ...]:
    return _loaded(values, "bands", PriorityBand, "priority bands")


@attrs.frozen
class PriorityPolicy(DefinitionText):
    """A priority policy: weighted factors and contiguous bands over the 0..100 score.

    Args:
        factors: The factors (at least one), with unique names.
        bands: The bands, covering 0..100 with no gap and no overlap, in any order.
        name: The scorer name stored with scores (``"priority"``).
        version: The version of this definition.

    Raises:
        ValidationError: Naming ``factors`` or ``bands`` when it is not a collection
            (``factors[i]`` for an item that is neither a `PriorityFactor` nor its dict
            form, ``bands[i]`` likewise), each gap, overlap, empty band or repeated factor
            name, and a blank `name` or `version`.
    """

    WHAT: ClassVar[str] = "priority policy"

    factors: tuple[PriorityFactor, ...] = attrs.field(converter=_factors)
    bands: tuple[PriorityBand, ...] = attrs.field(converter=_bands)
    name: str = "priority"
    version: str = "1"

    def __attrs_post_init__(self) -> None:
        problems = _band_problems(self.bands)
        for name, value in (("name", self.name), ("version", self.version)):
            if not isinstance(value, str) or not value.strip():
                problems.append(Problem(name, value, "must be non-blank text"))
        names = [f.name for f in self.factors]
        if not names:
            problems.append(Problem("factors", [], "needs at least one factor"))
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append(Problem("factors", repeated, "are factor names used more than once"))
        if problems:
            raise ValidationError(problems)
        ordered = tuple(sorted(self.bands, key=lambda b: b.low))
        object.__setattr__(self, "bands", ordered)

    def band_for(self, score: float) -> PriorityBand:
        """Return the band a 0..100 score falls in."""
        for band in self.bands:
            if score < band.high:
                return band
        return self.bands[-1]

    def assess(
        self,
        record: Deal | Lead,
        *,
        as_of: dt.datetime,
        probability: float | None = None,
        engagement: Score | float | None = None,
        last_touch: dt.datetime | None = None,
        pipeline: Pipeline | None = None,
    ) -> PriorityAssessment:
        """Return the priority of a deal or lead as of an instant, with the deciding factors.

        Args:
            record: The deal or lead.
            as_of: The instant to judge at (days to close and since the last touch).
            probability: A win probability (for instance predicted); for a deal without
                one, its stage's probability from `pipeline`.
            engagement: The record's engagement score.
            last_touch: When it was last touched (`RecordFacts.last_activity_at`).
            pipeline: The deal's pipeline, for the stage probability.

        Raises:
            ValidationError: Naming the argument: a record that is not a Deal or Lead, a
                naive or missing `as_of` or `last_touch`, a probability outside 0..1 or an
                engagement outside 0..100.
        """
        _check_assess(record, as_of, probability, engagement, last_touch)
        inputs = _inputs(record, as_of, probability, engagement, last_touch, pipeline)
        total_weight = sum(f.weight for f in self.factors)
        results = []
        for factor in self.factors:
            most = 100.0 * factor.weight / total_weight
            value: float | bool | None
            if factor.when is not None:
                value = compile_predicate(factor.when)(record)
                share = 1.0 if value else 0.0
            else:
                assert factor.input is not None
                value = inputs[factor.input]
                share = 0.0 if value is None else factor.share(value)
            results.append(FactorResult(factor.name, value, share, most * share, most))
        score = min(max(sum(r.points for r in results), 0.0), 100.0)
        band = self.band_for(score)
        ordered = tuple(sorted(results, key=lambda r: -r.points))
        return PriorityAssessment(
            band.priority, score, band, ordered, _deciders(ordered, band, self.bands[0])
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain data."""
        return {
            "name": self.name,
            "version": self.version,
            "factors": [f.to_dict() for f in self.factors],
            "bands": [b.to_dict() for b in self.bands],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityPolicy:
        """Load a policy written by `to_dict` (or by hand).

        Raises:
            ValidationError: Listing every problem, gaps and overlaps included.
        """
        values = check_keys(
            data, "priority policy", ("name", "version", "factors", "bands"), ("factors", "bands")
        )
        return cls(**dict(values))


def _deciders(
    ordered: tuple[FactorResult, ...], band: PriorityBand, lowest: PriorityBand
) -> tuple[str, ...]:
    if band is lowest:
        short = sorted(ordered, key=lambda r: -(r.weight_points - r.points))
        return tuple(r.name for r in short[:2] if r.weight_points > r.points)
    names, reached = [], 0.0
    for result in ordered:
        if reached >= band.low:
            break
        names.append(result.name)
        reached += result.points
    return tuple(names)


def _number(value: Money | Decimal | float | int | None) -> float | None:
    if value is None:
        return None
    return float(value.amount if isinstance(value, Money) else value)


def _check_assess(
    record: object,
    as_of: object,
    probability: object,
    engagement: object,
    last_touch: object,
) -> None:
    if not isinstance(record, Deal | Lead):
        raise ValidationError.single("record", record, "is not a Deal or a Lead")
    problems: list[Problem] = []
    for name, value in (("as_of", as_of), ("last_touch", last_touch)):
        if value is None and name == "last_touch":
            continue
        try:
            require_instant(value, name)
        except ValidationError as error:
            problems.extend(error.problems)
    for name, value, high in (("probability", probability, 1.0), ("engagement", engagement, 100.0)):
        if value is None or isinstance(value, Score):
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0.0 <= value <= high
        ):
            problems.append(Problem(name, value, f"is not a number from 0 to {high:g}"))
    if problems:
        raise ValidationError(problems)


def _inputs(
    record: Deal | Lead,
    as_of: dt.datetime,
    probability: float | None,
    engagement: Score | float | None,
    last_touch: dt.datetime | None,
    pipeline: Pipeline | None,
) -> dict[PriorityInput, float | None]:
    if isinstance(record, Deal):
        amount, close = _number(record.amount), record.expected_close
        if probability is None and pipeline is not None and record.stage in pipeline:
            probability = pipeline.probability(record)
    else:
        amount, close = _number(record.bant.budget), record.bant.timeline
    today = as_of.date()
    return {
        PriorityInput.AMOUNT: amount,
        PriorityInput.PROBABILITY: probability,
        PriorityInput.ENGAGEMENT: engagement.value if isinstance(engagement, Score) else engagement,
        PriorityInput.DAYS_TO_CLOSE: None if close is None else float((close - today).days),
        PriorityInput.DAYS_SINCE_TOUCH: (
            None if last_touch is None else (as_of - last_touch).total_seconds() / 86_400.0
        ),
    }


def default_priority_policy() -> PriorityPolicy:
    """Return a starting policy: value, probability, engagement and urgency.

    | factor | input | weight | share 0 at | share 1 at |
    |---|---|---|---|---|
    | deal value | amount | 30 | 0 | 50,000 |
    | win probability | probability | 25 | 0 | 1 |
    | engagement | engagement | 20 | 0 | 80 |
    | closing soon | days_to_close | 15 | 90 | 7 |
    | gone quiet | days_since_touch | 10 | 0 | 14 |

    Bands: high from 60, medium from 30, low below.
    """
    return PriorityPolicy(
        factors=(
            PriorityFactor("deal value", 30, PriorityInput.AMOUNT, zero_at=0, full_at=50_000),
            PriorityFactor("win probability", 25, PriorityInput.PROBABILITY, zero_at=0, full_at=1),
            PriorityFactor("engagement", 20, PriorityInput.ENGAGEMENT, zero_at=0, full_at=80),
            PriorityFactor("closing soon", 15, PriorityInput.DAYS_TO_CLOSE, zero_at=90, full_at=7),
            PriorityFactor("gone quiet", 10, PriorityInput.DAYS_SINCE_TOUCH, zero_at=0, full_at=14),
        ),
        bands=(
            PriorityBand(Priority.HIGH, 60, 100),
            PriorityBand(Priority.MEDIUM, 30, 60),
            PriorityBand(Priority.LOW, 0, 30),
        ),
    )
