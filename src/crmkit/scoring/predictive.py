"""Learned win probability: a smoothed naive Bayes over won / lost counts per field value.

The method follows Odoo's predictive lead scoring. For every field the model looks at
(``source``, ``team``, ``custom.industry``, an amount in bins, ...) it counts how many won
and how many lost records had each value; a record's probability is

    log odds = log((won + a) / (lost + a))
               + sum over its known field values v of
                 log(P(v | won) / P(v | lost)),   P(v | c) = (n_c(v) + a) / (N_c + a * K)

with Laplace smoothing ``a`` (1 by default), ``N_c`` the field's count for the class and
``K`` the number of values the field has taken. A value never seen in training carries no
evidence and is left out. Each term is a `Reason`: what pushed the probability up (> 0) or
down (< 0), in log odds.

**Stages.** For deals the stage is a field too, counted so that the probability rises as a
deal advances: a won deal counts as won in every open stage of its pipeline, a lost one as
lost in every open stage up to the furthest it reached (from its `stage_history`, in the
pipeline's stage order). The stage's term is not a likelihood ratio but the win rate of the
deals that reached the stage against the base rate, ``log((won_s + a) / (lost_s + a)) -
log((won + a) / (lost + a))``: every deal reached the first stage, so there the term is 0
and a deal in the first stage is predicted at the base rate (with the other fields).

**Tables.** One count table per pipeline (or per any field named by `group_by`, such as
``team``) plus one over everything; a record is predicted from its group's table when that
has at least `min_per_class` of each class, else from the table over everything. Tables
update one closed record at a time (`WinProbabilityModel.update`); `fit` rebuilds them.

**Quality.** `WinProbabilityModel.train` holds out a stratified share of the records, fits
on the rest, measures ROC AUC, Brier score and calibration on the held-out ones (each deal
as it stood in its first stage, so the stage it reached cannot leak its outcome), then
counts the held-out records in too. Training refuses fewer than `min_per_class` (40) won or
lost records with `InsufficientDataError`.

**Never worse than the base rate.** Naive Bayes is overconfident (it multiplies evidence
as if fields were independent), and on little or noisy data its probabilities can score a
worse Brier score than always predicting the win rate. So `train` ends with one more
parameter, chosen on the held-out records: the **blend** ``w`` in 0..1, and the model
predicts ``base + w * (naive Bayes - base)``, with ``base`` the win rate of the table over
everything. The Brier score of the blend is a quadratic in ``w`` whose value at ``w = 0`` is
the base rate's own, so the ``w`` that minimises it on [0, 1] (closed form, then checked
against 0 and 1 so rounding cannot lose) scores at most the base rate's Brier score on the
held-out records, by construction: a model with nothing to learn gets ``w = 0`` and predicts
the base rate. The blend is one number fitted on the held-out records, so the report is
that much optimistic; the ROC AUC is unchanged by it (unless ``w = 0``: then every record
ties, 0.5). The reasons stay the naive Bayes' own log-odds terms, before the blend. `fit`
measures nothing and resets the blend to 1; `update` keeps it.

**Field names** are checked when the model is built: a field (or `group_by`, or a `bins`
key) must be a field of `Deal` (or `Lead`), a field of such a field's value
(``bant.budget``, ``amount.currency``), or a custom field written ``custom.<key>``. Anything
else is refused with a `ValidationError` suggesting the closest name.

**Leads** train on converted (won) versus unqualified (lost) leads, without stages.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import enum
import math
import random
import typing
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

import attrs

from crmkit.conditions import check_path, resolve
from crmkit.errors import CrmkitError, Problem, SegmentError, ValidationError
from crmkit.model.deal import Deal
from crmkit.model.lead import Lead
from crmkit.pipelines import Pipeline
from crmkit.scoring.definition_text import DefinitionText, check_keys, number_field
from crmkit.scoring.quality import QualityReport, brier_score
from crmkit.values.arguments import as_items, check_items
from crmkit.values.enums import LeadStatus
from crmkit.values.money import Money

__all__ = [
    "FORMAT_VERSION",
    "InsufficientDataError",
    "Prediction",
    "Reason",
    "StageOrder",
    "WinProbabilityModel",
]

FORMAT_VERSION = 1
"""The version of the saved form of a `WinProbabilityModel`."""

STAGE = "stage"
"""The name of the stage field in count tables and reasons."""

ALL = "*"
"""The key of the table over every record."""


class InsufficientDataError(CrmkitError, ValueError):
    """Too few won or lost records to learn from.

    Args:
        won: How many won records there were.
        lost: How many lost records there were.
        minimum: How many of each are needed.
    """

    def __init__(self, won: int, lost: int, minimum: int) -> None:
        self.won = won
        self.lost = lost
        self.minimum = minimum
        super().__init__(
            f"too little data to learn a win probability: {won} won and {lost} lost records,"
            f" at least {minimum} of each are needed"
        )


@attrs.frozen
class Reason:
    """One field value's push on a probability.

    Attributes:
        field: The field (``"source"``, ``"stage"``).
        value: Its value, as the count table keys it (``"referral"``, ``"1000..10000"``).
        weight: Its log-odds contribution: above 0 pushed the probability up.
    """

    field: str
    value: str
    weight: float

    @property
    def pushes_up(self) -> bool:
        """Whether it raised the probability."""
        return self.weight > 0


@attrs.frozen
class Prediction:
    """A win probability and the field values that pushed it up or down.

    Attributes:
        probability: The win probability, 0..1.
        reasons: The reasons, strongest (by absolute weight) first.
        table: The table used: a group's key, or ``"*"`` for the table over everything.
    """

    probability: float
    reasons: tuple[Reason, ...]
    table: str

    @property
    def up(self) -> tuple[Reason, ...]:
        """The reasons that raised it, strongest first."""
        return tuple(r for r in self.reasons if r.weight > 0)

    @property
    def down(self) -> tuple[Reason, ...]:
        """The reasons that lowered it, strongest first."""
        return tuple(r for r in self.reasons if r.weight < 0)


@attrs.frozen
class StageOrder:
    """What the model keeps of a pipeline: its open stages in order, its won and lost ones.

    Attributes:
        open: The open stage keys, in pipeline order.
        won: The stage keys that win.
        lost: The stage keys that lose.
    """

    open: tuple[str, ...]
    won: frozenset[str]
    lost: frozenset[str]

    @classmethod
    def of(cls, pipeline: Pipeline) -> StageOrder:
        """Take the stage order of a pipeline."""
        return cls(
            tuple(s.key for s in pipeline.open_stages),
            frozenset(s.key for s in pipeline.won_stages),
            frozenset(s.key for s in pipeline.lost_stages),
        )

    def reached(self, deal: Deal) -> int:
        """Return the index of the furthest open stage the deal's history reached (0 if none)."""
        position = {key: i for i, key in enumerate(self.open)}
        reached = [position[s.stage] for s in deal.stage_history if s.stage in position]
        if deal.stage in position:
            reached.append(position[deal.stage])
        return max(reached, default=0)

    def first(self, deal: Deal) -> str:
        """Return the open stage the deal started in (the first open stay of its history)."""
        for stay in deal.stage_history:
            if stay.stage in self.open:
                return stay.stage
        return deal.stage if deal.stage in self.open else self.open[0]

    def to_dict(self) -> dict[str, Any]:
        """Return the order as plain data."""
        return {"open": list(self.open), "won": sorted(self.won), "lost": sorted(self.lost)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageOrder:
        """Load an order written by `to_dict`."""
        return cls(tuple(data["open"]), frozenset(data["won"]), frozenset(data["lost"]))


@attrs.define
class _Table:
    """The won / lost counts of one group."""

    won: int = 0
    lost: int = 0
    counts: dict[str, dict[str, list[int]]] = attrs.field(factory=dict)
    totals: dict[str, list[int]] = attrs.field(factory=dict)

    def add(self, features: Iterable[tuple[str, str]], won: bool) -> None:
        side = 0 if won else 1
        if won:
            self.won += 1
        else:
            self.lost += 1
        for field, value in features:
            self.counts.setdefault(field, {}).setdefault(value, [0, 0])[side] += 1
            self.totals.setdefault(field, [0, 0])[side] += 1

    def enough(self, minimum: int) -> bool:
        return self.won >= minimum and self.lost >= minimum

    def to_dict(self) -> dict[str, Any]:
        return {
            "won": self.won,
            "lost": self.lost,
            "counts": {
                field: {value: list(pair) for value, pair in sorted(values.items())}
                for field, values in sorted(self.counts.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Table:
        table = cls(int(data["won"]), int(data["lost"]))
        for field, values in data.get("counts", {}).items():
            for value, (won, lost) in values.items():
                table.counts.setdefault(field, {})[value] = [int(won), int(lost)]
                totals = table.totals.setdefault(field, [0, 0])
                totals[0] += int(won)
                totals[1] += int(lost)
        return table


def _bin_label(value: float, edges: tuple[float, ...]) -> str:
    i = bisect.bisect_right(edges, value)
    if i == 0:
        return f"<{edges[0]:g}"
    if i == len(edges):
        return f">={edges[-1]:g}"
    return f"{edges[i - 1]:g}..{edges[i]:g}"


def _fields(value: Iterable[str]) -> tuple[str, ...]:
    fields = as_items(value)
    if fields is None:
        raise ValidationError.single("fields", value, "is not a collection of field paths")
    wrong = [
        Problem(f"fields[{i}]", field, "is not a field path (text)")
        for i, field in enumerate(fields)
        if not isinstance(field, str)
    ]
    if wrong:
        raise ValidationError(wrong)
    for field in fields:
        try:
            check_path(field)
        except SegmentError as error:
            raise ValidationError.single("fields", field, str(error)) from None
    return fields


def _bins(value: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, ...]]:
    if not isinstance(value, Mapping):
        raise ValidationError.single("bins", value, "is not a mapping of field to bin edges")
    bins = {}
    for field, edges in value.items():
        items = as_items(edges)
        if items is None:
            raise ValidationError.single(f"bins.{field}", edges, "is not a list of bin edges")
        numbers = tuple(number_field(e, f"bins.{field}") for e in items)
        if not numbers or list(numbers) != sorted(set(numbers)):
            raise ValidationError.single(f"bins.{field}", list(edges), "must be rising numbers")
        bins[field] = numbers
    return bins


def _alpha(value: object) -> float:
    return number_field(value, "alpha", positive=True)


def _blend(value: object) -> float:
    number = number_field(value, "blend", minimum=0.0)
    if number > 1.0:
        raise ValidationError.single("blend", value, "must be at most 1")
    return number


def _setting_problems(model: WinProbabilityModel) -> list[Problem]:
    """Return the problems of the settings the converters do not check (types, mostly)."""
    problems = []
    if not isinstance(model.use_stage, bool):
        problems.append(Problem("use_stage", model.use_stage, "is not True or False"))
    for name, text in (("name", model.name), ("version", model.version)):
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(name, text, "must be non-blank text"))
    if model.quality is not None and not isinstance(model.quality, QualityReport):
        problems.append(Problem("quality", model.quality, "is not a QualityReport or None"))
    for name, mapping, kind in (
        ("stages", model.stages, StageOrder),
        ("tables", model._tables, _Table),
    ):
        if not isinstance(mapping, Mapping):
            problems.append(Problem(name, mapping, f"is not a mapping of key to {kind.__name__}"))
            continue
        problems.extend(
            Problem(f"{name}.{key}", value, f"is not a {kind.__name__}")
            for key, value in mapping.items()
            if not isinstance(key, str) or not isinstance(value, kind)
        )
    return problems


def _known_paths(record_type: type, depth: int = 2) -> set[str]:
    """Return the attribute paths of an attrs record, nested into attrs-typed values."""
    hints = typing.get_type_hints(record_type)
    paths = set()
    for field in attrs.fields(record_type):
        if field.name.startswith("_") or field.name == "custom":
            continue
        paths.add(field.name)
        if depth <= 1:
            continue
        hint = hints.get(field.name)
        for member in typing.get_args(hint) or (hint,):
            if isinstance(member, type) and attrs.has(member):
                paths.update(f"{field.name}.{sub}" for sub in _known_paths(member, depth - 1))
    return paths


_KNOWN_PATHS: dict[str, frozenset[str]] = {}


def _unknown_path(target: str, path: str) -> str | None:
    """Return why `path` is not a field of the target's records, or None when it is."""
    if path.startswith("custom."):
        return None  # any custom key (check_path has checked its spelling)
    known = _KNOWN_PATHS.get(target)
    if known is None:
        known = frozenset(_known_paths(Deal if target == "deal" else Lead))
        _KNOWN_PATHS[target] = known
    if path in known:
        return None
    close = difflib.get_close_matches(path, sorted(known), n=3, cutoff=0.6)
    hint = f": did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"is not a field of a {target}{hint} (custom fields are written custom.<key>)"


def _choose_blend(outcomes: Sequence[bool], raw: Sequence[float], base: float) -> float:
    """Return the blend in [0, 1] whose Brier score on these outcomes is the lowest.

    ``brier(w) = mean((base - y + w * (p - base)) ** 2)`` is a quadratic in ``w``; its
    minimum on [0, 1] is the clamped vertex. The vertex, 0 and 1 are all measured and the
    best kept (0 on a tie), so float rounding can never pick a blend worse than 0, which is
    the base rate itself.
    """
    num = math.fsum((float(y) - base) * (p - base) for y, p in zip(outcomes, raw, strict=True))
    den = math.fsum((p - base) ** 2 for p in raw)
    vertex = min(1.0, max(0.0, num / den)) if den > 0 else 0.0
    best, best_brier = 0.0, brier_score(outcomes, [base] * len(outcomes))
    for w in (vertex, 1.0):
        score = brier_score(outcomes, _blended(raw, base, w))
        if score < best_brier:
            best, best_brier = w, score
    return best


def _blended(raw: Sequence[float], base: float, blend: float) -> list[float]:
    if blend == 1.0:
        return list(raw)
    # clamped: rounding must not push a probability past 0 or 1 (brier_score refuses that)
    return [min(1.0, max(0.0, base + blend * (p - base))) for p in raw]


def _given_items(value: object) -> Any:
    """The items of a collection argument; anything else as given (the model refuses it)."""
    items = as_items(value)
    return value if items is None else items


def _given_bins(value: object) -> Any:
    """A copy of a bins mapping, {} for None; anything else as given, for the check."""
    if value is None:
        return {}
    return dict(value) if isinstance(value, Mapping) else value


@attrs.define
class WinProbabilityModel(DefinitionText):
    """A win-probability model for deals or leads; counts update as records close.

    Build one with `for_deals` or `for_leads`, then `train` (or `fit`) it.

    Args:
        target: ``"deal"`` or ``"lead"``.
        fields: The field paths it learns from.
        bins: Rising bin edges per numeric field (``{"amount": [1000, 10000]}``); Money
            counts by its amount.
        group_by: The field that picks a group's table (``"pipeline"``, ``"team"``), or None.
        alpha: The Laplace smoothing; greater than 0.
        min_per_class: The fewest won and lost records to train on (and for a group's
            table to be used).
        use_stage: Whether deals' stages are a field (see the module docs).
        stages: The stage order of each pipeline, by key (deals).
        version: The version of this definition, stored with scores.
        name: The scorer name stored with scores.
        quality: The quality report of the last `train`, or None.
        blend: The weight of the naive Bayes against the base rate, 0..1 (chosen by
            `train`; see the module docs).

    Raises:
        ValidationError: Listing every setting that is wrong, each named: ``fields`` when
            it is not a collection of field paths (``fields[i]`` for one that is not text),
            ``bins`` when it is not a mapping, a `target` other than deal or lead, unknown
            field paths (with suggestions), and settings of the wrong type.
    """

    WHAT: ClassVar[str] = "win probability model"

    target: Literal["deal", "lead"]
    fields: tuple[str, ...] = attrs.field(converter=_fields)
    bins: dict[str, tuple[float, ...]] = attrs.field(factory=dict, converter=_bins)
    group_by: str | None = None
    alpha: float = attrs.field(default=1.0, converter=_alpha)
    min_per_class: int = 40
    use_stage: bool = True
    stages: dict[str, StageOrder] = attrs.field(factory=dict)
    version: str = "1"
    name: str = "win_probability"
    quality: QualityReport | None = None
    blend: float = attrs.field(default=1.0, converter=_blend)
    _tables: dict[str, _Table] = attrs.field(factory=dict, alias="tables")

    def __attrs_post_init__(self) -> None:
        problems = _setting_problems(self)
        if self.target not in ("deal", "lead"):
            problems.append(Problem("target", self.target, "is not deal or lead"))
        if not self.fields and not (self.target == "deal" and self.use_stage):
            problems.append(Problem("fields", [], "needs at least one field"))
        if isinstance(self.min_per_class, bool) or not isinstance(self.min_per_class, int):
            problems.append(Problem("min_per_class", self.min_per_class, "is not a whole number"))
        elif self.min_per_class < 1:
            problems.append(Problem("min_per_class", self.min_per_class, "must be at least 1"))
        if self.group_by is not None:
            try:
                check_path(self.group_by)
            except SegmentError as error:
                problems.append(Problem("group_by", self.group_by, str(error)))
        if self.target in ("deal", "lead"):
            named = [("fields", f) for f in self.fields]
            if self.group_by is not None and not any(p.field == "group_by" for p in problems):
                named.append(("group_by", self.group_by))
            for where, path in named:
                why = _unknown_path(self.target, path)
                if why is not None:
                    problems.append(Problem(where, path, why))
            for field in self.bins:
                if field not in self.fields:
                    close = difflib.get_close_matches(field, self.fields, n=1, cutoff=0.6)
                    hint = f": did you mean {close[0]!r}?" if close else ""
                    problems.append(
                        Problem(
                            f"bins.{field}",
                            field,
                            f"is not one of the fields the model learns from{hint}",
                        )
                    )
        if self.target == "deal" and not self.stages and isinstance(self.stages, Mapping):
            problems.append(Problem("stages", {}, "a deal model needs its pipelines' stages"))
        if problems:
            raise ValidationError(problems)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def for_deals(
        cls,
        fields: Iterable[str],
        *,
        pipelines: Iterable[Pipeline],
        bins: Mapping[str, Sequence[float]] | None = None,
        group_by: str | None = "pipeline",
        use_stage: bool = True,
        alpha: float = 1.0,
        min_per_class: int = 40,
        version: str = "1",
    ) -> WinProbabilityModel:
        """Return an untrained model of deals (won versus lost) in the given pipelines.

        Args:
            fields: The deal fields to learn from.
            pipelines: The pipelines whose won and lost stages say how deals ended.
            bins: Bin edges per numeric field.
            group_by: One table per value of this field (pipeline by default), or None.
            use_stage: Learn from the stage too (the probability rises as deals advance).
            alpha: Laplace smoothing.
            min_per_class: The fewest won and lost deals to train on.
            version: The definition's version.
        """
        return cls(
            target="deal",
            fields=_given_items(fields),
            bins=_given_bins(bins),
            group_by=group_by,
            alpha=alpha,
            min_per_class=min_per_class,
            use_stage=use_stage,
            stages={
                p.key: StageOrder.of(p)
                for p in check_items(pipelines, "pipelines", Pipeline, "pipelines")
            },
            version=version,
        )

    @classmethod
    def for_leads(
        cls,
        fields: Iterable[str],
        *,
        bins: Mapping[str, Sequence[float]] | None = None,
        group_by: str | None = None,
        alpha: float = 1.0,
        min_per_class: int = 40,
        version: str = "1",
    ) -> WinProbabilityModel:
        """Return an untrained model of leads (converted versus unqualified).

        Args:
            fields: The lead fields to learn from (``"source"``, ``"industry"``, ...).
            bins: Bin edges per numeric field (``{"employees": [10, 50, 250]}``).
            group_by: One table per value of this field, or None.
            alpha: Laplace smoothing.
            min_per_class: The fewest converted and unqualified leads to train on.
            version: The definition's version.
        """
        return cls(
            target="lead",
            fields=_given_items(fields),
            bins=_given_bins(bins),
            group_by=group_by,
            alpha=alpha,
            min_per_class=min_per_class,
            use_stage=False,
            version=version,
        )

    # -- learning ---------------------------------------------------------------------------

    def outcome(self, record: Deal | Lead) -> bool | None:
        """Return True for a won (converted) record, False for a lost (unqualified) one, else None.

        Raises:
            ValidationError: For a record of the wrong kind, or a deal in a pipeline the
                model does not know.
        """
        if self.target == "lead":
            if not isinstance(record, Lead):
                raise ValidationError.single("record", type(record).__name__, "is not a Lead")
            if record.status is LeadStatus.CONVERTED:
                return True
            return False if record.status is LeadStatus.UNQUALIFIED else None
        if not isinstance(record, Deal):
            raise ValidationError.single("record", type(record).__name__, "is not a Deal")
        order = self.stages.get(record.pipeline)
        if order is None:
            raise ValidationError.single(
                "pipeline", record.pipeline, "is not a pipeline this model knows"
            )
        if record.stage in order.won:
            return True
        return False if record.stage in order.lost else None

    def fit(self, records: Iterable[Deal | Lead]) -> int:
        """Rebuild every count table from the closed records among `records`.

        Returns:
            How many closed records were counted.

        Raises:
            InsufficientDataError: With fewer than `min_per_class` won or lost records;
                the model is left unchanged then.
        """
        closed = self._closed(records)
        self._require(closed)
        self._tables = {}
        self.blend = 1.0
        for record, won in closed:
            self._count(record, won)
        return len(closed)

    def update(self, record: Deal | Lead) -> bool:
        """Count one more record if it is closed (won or lost); return whether it counted."""
        won = self.outcome(record)
        if won is None:
            return False
        self._count(record, won)
        return True

    def train(
        self, records: Iterable[Deal | Lead], *, holdout: float = 0.25, seed: int = 0
    ) -> QualityReport:
        """Fit on most records, measure quality on the held-out rest, then count those too.

        Args:
            records: Deals or leads; open ones are ignored.
            holdout: The share of won and of lost records held out (stratified), 0..0.9.
            seed: The seed of the split, for reproducible reports.

        The last step chooses the blend against the base rate on the held-out records
        (module docs), so the report's Brier score is never above its base-rate Brier score.

        Returns:
            The quality report, also kept as `quality` and saved with the model.

        Raises:
            InsufficientDataError: With fewer than `min_per_class` won or lost records, or
                fewer than 2 of either (one to hold out, one to train on).
            ValidationError: For a `holdout` out of range.
        """
        if (
            isinstance(holdout, bool)
            or not isinstance(holdout, int | float)
            or not 0.0 < holdout <= 0.9
        ):
            raise ValidationError.single("holdout", holdout, "must be a number in (0, 0.9]")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError.single("seed", seed, "is not a whole number")
        closed = self._closed(records)
        self._require(closed, at_least=2)
        rnd = random.Random(seed)
        train: list[tuple[Deal | Lead, bool]] = []
        test: list[tuple[Deal | Lead, bool]] = []
        for side in (True, False):
            items = [item for item in closed if item[1] is side]
            rnd.shuffle(items)
            # at least one of each class held out and one left to train on
            cut = min(max(1, round(len(items) * holdout)), len(items) - 1)
            test.extend(items[:cut])
            train.extend(items[cut:])
        self._tables = {}
        self.blend = 1.0
        for record, won in train:
            self._count(record, won)
        outcomes, raw, base_rate = self._raw_predictions([record for record, _ in test])
        self.blend = _choose_blend(outcomes, raw, base_rate)
        report = QualityReport.measure(
            outcomes, _blended(raw, base_rate, self.blend), base_rate, blend=self.blend
        )
        for record, won in test:
            self._count(record, won)
        self.quality = report
        return report

    def evaluate(self, records: Iterable[Deal | Lead]) -> QualityReport:
        """Measure the model (with its blend) on closed records it was not trained on.

        Deals are predicted as they stood in their first stage. The base rate is the win
        rate of the table over everything.

        Raises:
            ValidationError: When the model has not been trained, or the records do not
                hold both won and lost ones.
        """
        outcomes, raw, base_rate = self._raw_predictions(records)
        if all(outcomes) or not any(outcomes):
            raise ValidationError.single(
                "records", len(outcomes), "must hold both won and lost closed records"
            )
        return QualityReport.measure(
            outcomes, _blended(raw, base_rate, self.blend), base_rate, blend=self.blend
        )

    def _raw_predictions(
        self, records: Iterable[Deal | Lead]
    ) -> tuple[list[bool], list[float], float]:
        """Return the outcomes, the naive Bayes' probabilities (no blend) and the base rate."""
        outcomes, probabilities = [], []
        for record, won in self._closed(records):
            stage = None
            if isinstance(record, Deal) and self.use_stage:
                stage = self.stages[record.pipeline].first(record)
            outcomes.append(won)
            probabilities.append(self._predict(record, stage)[0])
        return outcomes, probabilities, self._base_rate()

    def _base_rate(self) -> float:
        table = self._tables.get(ALL, _Table())
        return table.won / (table.won + table.lost) if table.won + table.lost else 0.5

    # -- predicting -------------------------------------------------------------------------

    @property
    def trained(self) -> bool:
        """Whether the model has counts to predict from."""
        return ALL in self._tables

    def predict(self, record: Deal | Lead, *, stage: str | None = None) -> Prediction:
        """Return the win probability of a record and the reasons for it.

        Args:
            record: An open (or any) deal or lead.
            stage: Predict as if the deal were in this stage (default: its own stage).

        The probability is the naive Bayes' blended with the base rate (`blend`); the
        reasons are the naive Bayes' log-odds terms.

        Raises:
            ValidationError: When the model has not been trained, or for a record of the
                wrong kind or a stage the deal's pipeline does not have.
        """
        probability, reasons, key = self._predict(record, stage)
        if self.blend != 1.0:
            base = self._base_rate()
            probability = base + self.blend * (probability - base)
        return Prediction(probability, reasons, key)

    def _predict(
        self, record: Deal | Lead, stage: str | None
    ) -> tuple[float, tuple[Reason, ...], str]:
        if not self.trained:
            raise ValidationError.single(
                "model", self.name, "has not been trained: call train or fit"
            )
        self._check_record(record, stage)
        group = self._group(record)
        table = self._tables.get(group) if group is not None else None
        key = ALL if table is None or group is None else group
        if table is None or not table.enough(self.min_per_class):
            key, table = ALL, self._tables[ALL]
        alpha = self.alpha
        log_odds = math.log((table.won + alpha) / (table.lost + alpha))
        reasons = []
        for field, value in self._features(record, stage):
            values = table.counts.get(field)
            pair = values.get(value) if values else None
            if pair is None or values is None:
                continue
            if field == STAGE:
                # P(won | reached the stage) against the base rate: every deal reached the
                # first stage, so it carries no evidence (the likelihood ratio would count
                # won deals once per stage and push the first stage far below the base rate)
                weight = math.log((pair[0] + alpha) / (pair[1] + alpha)) - math.log(
                    (table.won + alpha) / (table.lost + alpha)
                )
            else:
                won_total, lost_total = table.totals[field]
                k = len(values)
                weight = math.log((pair[0] + alpha) / (won_total + alpha * k)) - math.log(
                    (pair[1] + alpha) / (lost_total + alpha * k)
                )
            reasons.append(Reason(field, value, weight))
            log_odds += weight
        reasons.sort(key=lambda r: -abs(r.weight))
        return _logistic(log_odds), tuple(reasons), key

    def _check_record(self, record: object, stage: object) -> None:
        expected = Deal if self.target == "deal" else Lead
        if not isinstance(record, expected):
            raise ValidationError.single(
                "record", type(record).__name__, f"is not a {expected.__name__}"
            )
        if stage is None:
            return
        order = self.stages.get(record.pipeline) if isinstance(record, Deal) else None
        if order is None or not isinstance(stage, str) or stage not in order.open:
            raise ValidationError.single(
                "stage", stage, "is not an open stage of the deal's pipeline"
            )

    # -- internals --------------------------------------------------------------------------

    def _closed(self, records: Iterable[Deal | Lead]) -> list[tuple[Deal | Lead, bool]]:
        closed = []
        for record in records:
            won = self.outcome(record)
            if won is not None:
                closed.append((record, won))
        return closed

    def _require(self, closed: Sequence[tuple[Deal | Lead, bool]], at_least: int = 1) -> None:
        won = sum(1 for _, w in closed if w)
        lost = len(closed) - won
        minimum = max(self.min_per_class, at_least)
        if won < minimum or lost < minimum:
            raise InsufficientDataError(won, lost, minimum)

    def _group(self, record: Deal | Lead) -> str | None:
        if self.group_by is None:
            return None
        value = resolve(record, self.group_by)
        return None if value is None else _key(value)

    def _values(self, record: Deal | Lead, field: str) -> list[str]:
        value = resolve(record, field)
        if value is None:
            return []
        if isinstance(value, Money):
            value = value.amount
        edges = self.bins.get(field)
        if (
            edges is not None
            and isinstance(value, int | float | Decimal)
            and not isinstance(value, bool)
        ):
            return [_bin_label(float(value), edges)]
        if isinstance(value, frozenset | set | tuple | list):
            return sorted({_key(v) for v in value})
        return [_key(value)]

    def _features(self, record: Deal | Lead, stage: str | None) -> list[tuple[str, str]]:
        features = [(field, v) for field in self.fields for v in self._values(record, field)]
        if self.use_stage and isinstance(record, Deal):
            features.append((STAGE, stage or record.stage))
        return features

    def _count(self, record: Deal | Lead, won: bool) -> None:
        features = [(field, v) for field in self.fields for v in self._values(record, field)]
        if self.use_stage and isinstance(record, Deal):
            order = self.stages[record.pipeline]
            reached = len(order.open) - 1 if won else order.reached(record)
            features.extend((STAGE, key) for key in order.open[: reached + 1])
        keys = [ALL]
        group = self._group(record)
        if group is not None:
            keys.append(group)
        for key in keys:
            self._tables.setdefault(key, _Table()).add(features, won)

    # -- plain data -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the model (definition, counts and quality report) as plain data."""
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "target": self.target,
            "fields": list(self.fields),
            "bins": {field: list(edges) for field, edges in self.bins.items()},
            "alpha": self.alpha,
            "min_per_class": self.min_per_class,
            "use_stage": self.use_stage,
            "stages": {key: order.to_dict() for key, order in self.stages.items()},
            "tables": {key: table.to_dict() for key, table in sorted(self._tables.items())},
            "blend": self.blend,
        }
        if self.group_by is not None:
            data["group_by"] = self.group_by
        if self.quality is not None:
            data["quality"] = self.quality.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WinProbabilityModel:
        """Load a model written by `to_dict`.

        Raises:
            ValidationError: For another format version or malformed data.
        """
        allowed = (
            "format_version",
            "name",
            "version",
            "target",
            "fields",
            "bins",
            "alpha",
            "min_per_class",
            "use_stage",
            "stages",
            "tables",
            "group_by",
            "quality",
            "blend",
        )
        values = check_keys(data, "win probability model", allowed, ("format_version", "target"))
        if values["format_version"] != FORMAT_VERSION:
            raise ValidationError.single(
                "format_version",
                values["format_version"],
                f"is not a format this crmkit reads (it reads {FORMAT_VERSION})",
            )
        try:
            quality = values.get("quality")
            return cls(
                target=values["target"],
                fields=tuple(values.get("fields", ())),
                bins=dict(values.get("bins", {})),
                group_by=values.get("group_by"),
                alpha=values.get("alpha", 1.0),
                min_per_class=values.get("min_per_class", 40),
                use_stage=values.get("use_stage", True),
                stages={k: StageOrder.from_dict(v) for k, v in values.get("stages", {}).items()},
                version=values.get("version", "1"),
                name=values.get("name", "win_probability"),
                quality=None if quality is None else QualityReport.from_dict(quality),
                blend=values.get("blend", 1.0),
                tables={k: _Table.from_dict(v) for k, v in values.get("tables", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, ValidationError):
                raise
            raise ValidationError.single(
                "win probability model", type(error).__name__, f"is malformed: {error}"
            ) from None


def _key(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _logistic(log_odds: float) -> float:
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)
