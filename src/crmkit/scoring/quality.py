"""How good a probability is on data it was not trained on: ROC AUC, Brier score, calibration.

* **ROC AUC**: the chance that a random won record gets a higher probability than a random
  lost one (ties count half); 0.5 is guessing, 1.0 perfect.
* **Brier score**: the mean squared difference between the probability and the outcome
  (1 won, 0 lost); lower is better. The **base-rate Brier score** is what always predicting
  the training win rate would score: a model that does not beat it has learnt nothing.
* **Calibration table**: probabilities in ten equal bins, with the mean predicted and the
  observed win rate in each; a calibrated model has them close.
* **Usefulness**: the numbers in words. The ROC AUC and the Brier skill score
  (``1 - brier / base_rate_brier``) each fall in a band, and the report takes the lower of
  the two (`USEFULNESS_BANDS`):

  ============  ==============  ===================  ==========================================
  usefulness    ROC AUC         Brier skill          in words
  ============  ==============  ===================  ==========================================
  useless       below 0.55      0 or below           no better than always predicting 64 %
  weak          0.55 to 0.65    above 0, below 0.05  barely better than always predicting 64 %
  fair          0.65 to 0.75    0.05 to 0.15         somewhat better than ...
  good          0.75 to 0.85    0.15 to 0.30         clearly better than ...
  strong        0.85 and above  0.30 and above       much better than ...
  ============  ==============  ===================  ==========================================

  Each band includes its lower bound (an AUC of exactly 0.65 is fair) except useless's
  skill bound: a skill of exactly 0 (the base rate itself) is useless.
"""

from __future__ import annotations

import enum
import fractions
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from crmkit.errors import Problem, ValidationError
from crmkit.values.arguments import as_items, check_whole_number

__all__ = [
    "USEFULNESS_BANDS",
    "CalibrationBin",
    "QualityReport",
    "Usefulness",
    "brier_score",
    "calibration_table",
    "roc_auc",
]


class Usefulness(enum.StrEnum):
    """How useful a win probability is against always predicting the base rate, in words."""

    USELESS = "useless"
    WEAK = "weak"
    FAIR = "fair"
    GOOD = "good"
    STRONG = "strong"

    @classmethod
    def of(cls, roc_auc: float, skill: float) -> Usefulness:
        """Return the band of a ROC AUC and a Brier skill score: the lower of the two."""
        return USEFULNESS_BANDS[_band(roc_auc, skill)][0]


USEFULNESS_BANDS: tuple[tuple[Usefulness, float, float, str], ...] = (
    # (usefulness, lowest ROC AUC, lowest Brier skill, how it compares), weakest first
    (Usefulness.USELESS, 0.0, float("-inf"), "no better than"),
    (Usefulness.WEAK, 0.55, 0.0, "barely better than"),
    (Usefulness.FAIR, 0.65, 0.05, "somewhat better than"),
    (Usefulness.GOOD, 0.75, 0.15, "clearly better than"),
    (Usefulness.STRONG, 0.85, 0.30, "much better than"),
)
"""The bands of `QualityReport.usefulness`: a band needs both its AUC and its skill.

A band's AUC bound is inclusive (``auc >= 0.65`` is at least fair); its skill bound is
inclusive too, except that weak needs a skill strictly above 0.
"""


def _band(roc_auc: float, skill: float) -> int:
    band = 0
    for i, (_, auc_low, skill_low, _words) in enumerate(USEFULNESS_BANDS):
        if i == 0:
            continue
        skill_ok = skill > skill_low if skill_low == 0.0 else skill >= skill_low
        if roc_auc >= auc_low and skill_ok:
            band = i
    return band


def _checked(outcomes: object, probabilities: object) -> tuple[list[bool], list[float]]:
    """Return the outcomes and probabilities as lists, or raise naming what is wrong.

    Outcomes are True/False (1 and 0 too); probabilities are finite numbers from 0 to 1;
    there is one probability per outcome.
    """
    problems: list[Problem] = []
    checked_outcomes = as_items(outcomes)
    if checked_outcomes is None:
        problems.append(Problem("outcomes", outcomes, "is not a collection of True/False"))
    else:
        problems.extend(
            Problem(f"outcomes[{i}]", won, "is not True or False")
            for i, won in enumerate(checked_outcomes)
            if not (isinstance(won, bool) or (isinstance(won, int) and won in (0, 1)))
        )
    checked = as_items(probabilities)
    if checked is None:
        problems.append(Problem("probabilities", probabilities, "is not a collection of numbers"))
    else:
        problems.extend(
            Problem(f"probabilities[{i}]", p, "is not a probability (a number from 0 to 1)")
            for i, p in enumerate(checked)
            if not _is_probability(p)
        )
    if (
        not problems
        and checked_outcomes is not None
        and checked is not None
        and len(checked) != len(checked_outcomes)
    ):
        problems.append(
            Problem(
                "probabilities",
                f"{len(checked)} probabilities",
                f"do not match the {len(checked_outcomes)} outcomes one to one",
            )
        )
    if problems:
        raise ValidationError(problems)
    return [bool(won) for won in checked_outcomes or ()], [float(p) for p in checked or ()]


def _is_probability(value: object) -> bool:
    """Whether `value` is a real number from 0 to 1 (not a bool, NaN or an int past floats)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, numbers.Rational):  # ints and fractions: compared exactly
        return bool(0 <= value <= 1)  # type: ignore[operator]
    return 0.0 <= float(value) <= 1.0


def roc_auc(outcomes: Sequence[bool], probabilities: Sequence[float]) -> float:
    """Return the ROC AUC (Mann-Whitney U with ties counted half).

    Args:
        outcomes: Whether each record was won (True/False).
        probabilities: The probability predicted for each, from 0 to 1, in the same order.

    Raises:
        ValidationError: Naming ``outcomes`` or ``probabilities`` (``outcomes[i]``,
            ``probabilities[i]`` for a wrong item) when they are not such collections of
            the same length, and ``outcomes`` when they do not hold both classes.
    """
    won_list, probability_list = _checked(outcomes, probabilities)
    pairs = sorted(zip(probability_list, won_list, strict=True))
    positives = sum(1 for _, won in pairs if won)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        raise ValidationError.single(
            "outcomes", f"{positives} won, {negatives} lost", "ROC AUC needs both won and lost"
        )
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2.0  # ranks i+1..j share their mean
        rank_sum += mid_rank * sum(1 for _, won in pairs[i:j] if won)
        i = j
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def brier_score(outcomes: Sequence[bool], probabilities: Sequence[float]) -> float:
    """Return the mean squared error of the probabilities against the outcomes.

    Args:
        outcomes: Whether each record was won (True/False).
        probabilities: The probability predicted for each, from 0 to 1, in the same order.

    Raises:
        ValidationError: Naming ``outcomes`` or ``probabilities`` (``outcomes[i]``,
            ``probabilities[i]`` for a wrong item) when they are not such collections of
            the same length, and ``outcomes`` when there is none.
    """
    won_list, probability_list = _checked(outcomes, probabilities)
    if not won_list:
        raise ValidationError.single("outcomes", [], "a Brier score needs at least one outcome")
    total = sum(
        (p - (1.0 if won else 0.0)) ** 2 for won, p in zip(won_list, probability_list, strict=True)
    )
    return total / len(won_list)


@attrs.frozen
class CalibrationBin:
    """One bin of a calibration table.

    Attributes:
        low: The lowest probability in the bin.
        high: Where the bin ends (the last bin includes 1.0).
        count: How many records fell in it.
        mean_predicted: Their mean predicted probability.
        observed: The share of them that were won.
    """

    low: float
    high: float
    count: int
    mean_predicted: float
    observed: float

    def to_dict(self) -> dict[str, Any]:
        """Return the bin as plain data."""
        return attrs.asdict(self)


def calibration_table(
    outcomes: Sequence[bool], probabilities: Sequence[float], bins: int = 10
) -> tuple[CalibrationBin, ...]:
    """Return the non-empty bins of a calibration table with `bins` equal-width bins.

    Args:
        outcomes: Whether each record was won (True/False).
        probabilities: The probability predicted for each, from 0 to 1, in the same order.
        bins: How many equal-width bins divide 0..1; at least 1.

    Raises:
        ValidationError: Naming ``outcomes`` or ``probabilities`` (``outcomes[i]``,
            ``probabilities[i]`` for a wrong item) when they are not such collections of
            the same length, and ``bins`` when it is not a whole number of at least 1.
    """
    won_list, probability_list = _checked(outcomes, probabilities)
    check_whole_number(bins, "bins", minimum=1)
    grouped: dict[int, list[tuple[float, bool]]] = {}  # only the bins something falls in
    for won, p in zip(won_list, probability_list, strict=True):
        # past 2**53 bins, p * bins as a float is no longer exact (or overflows): use Fraction
        scaled = p * bins if bins <= 2**53 else fractions.Fraction(p) * bins
        grouped.setdefault(min(math.floor(scaled), bins - 1), []).append((p, won))
    return tuple(
        CalibrationBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=len(items),
            mean_predicted=sum(p for p, _ in items) / len(items),
            observed=sum(1 for _, won in items if won) / len(items),
        )
        for i, items in sorted(grouped.items())
    )


@attrs.frozen
class QualityReport:
    """A model's quality on held-out records.

    Attributes:
        held_out: How many records were held out.
        won: How many of them were won.
        roc_auc: ROC AUC on them.
        brier: Brier score on them.
        base_rate_brier: The Brier score of always predicting the training win rate.
        calibration: The calibration table.
        base_rate: The training win rate itself, or None when not known (reports saved
            before it was kept).
        blend: The weight the model's own probability got against the base rate
            (``base_rate + blend * (model - base_rate)``), 0..1; 1 when no blend was chosen.
    """

    held_out: int
    won: int
    roc_auc: float
    brier: float
    base_rate_brier: float
    calibration: tuple[CalibrationBin, ...] = ()
    base_rate: float | None = None
    blend: float = 1.0

    @property
    def skill(self) -> float:
        """The Brier skill score: ``1 - brier / base_rate_brier`` (above 0 beats the base rate)."""
        return 1.0 - self.brier / self.base_rate_brier if self.base_rate_brier else 0.0

    @property
    def usefulness(self) -> Usefulness:
        """The band of the ROC AUC and the Brier skill, the lower of the two (module docs)."""
        return Usefulness.of(self.roc_auc, self.skill)

    @property
    def verdict(self) -> str:
        """Whether the model is useful, in words.

        For instance ``"weak: barely better than always predicting 64 %"``: the
        `usefulness`, how it compares, and the base rate as a whole percentage.
        """
        usefulness, _auc, _skill, words = USEFULNESS_BANDS[_band(self.roc_auc, self.skill)]
        if self.base_rate is None:
            baseline = "the training win rate"
        else:
            baseline = f"{round(100 * self.base_rate)} %"
        return f"{usefulness.value}: {words} always predicting {baseline}"

    def summary(self) -> str:
        """Return the verdict with the numbers behind it, in one line."""
        return (
            f"{self.verdict} (ROC AUC {self.roc_auc:.2f}, Brier skill {self.skill:.2f},"
            f" on {self.held_out} held-out records, {self.won} won)"
        )

    def __str__(self) -> str:
        return self.summary()

    @classmethod
    def measure(
        cls,
        outcomes: Sequence[bool],
        probabilities: Sequence[float],
        base_rate: float,
        *,
        blend: float = 1.0,
    ) -> QualityReport:
        """Measure probabilities against outcomes.

        Args:
            outcomes: Whether each held-out record was won.
            probabilities: The predicted win probabilities.
            base_rate: The win rate of the training records.
            blend: The weight the model got against the base rate, kept in the report.
        """
        return cls(
            held_out=len(outcomes),
            won=sum(1 for won in outcomes if won),
            roc_auc=roc_auc(outcomes, probabilities),
            brier=brier_score(outcomes, probabilities),
            base_rate_brier=brier_score(outcomes, [base_rate] * len(outcomes)),
            calibration=calibration_table(outcomes, probabilities),
            base_rate=base_rate,
            blend=blend,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data."""
        data: dict[str, Any] = {
            "held_out": self.held_out,
            "won": self.won,
            "roc_auc": self.roc_auc,
            "brier": self.brier,
            "base_rate_brier": self.base_rate_brier,
            "calibration": [b.to_dict() for b in self.calibration],
            "blend": self.blend,
        }
        if self.base_rate is not None:
            data["base_rate"] = self.base_rate
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        """Load a report written by `to_dict`."""
        return cls(
            held_out=int(data["held_out"]),
            won=int(data["won"]),
            roc_auc=float(data["roc_auc"]),
            brier=float(data["brier"]),
            base_rate_brier=float(data["base_rate_brier"]),
            calibration=tuple(
                CalibrationBin(
                    float(b["low"]),
                    float(b["high"]),
                    int(b["count"]),
                    float(b["mean_predicted"]),
                    float(b["observed"]),
                )
                for b in data.get("calibration", [])
            ),
            base_rate=None if data.get("base_rate") is None else float(data["base_rate"]),
            blend=float(data.get("blend", 1.0)),
        )
