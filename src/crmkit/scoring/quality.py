"""How good a probability is on data it was not trained on: ROC AUC, Brier score, calibration.

* **ROC AUC**: the chance that a random won record gets a higher probability than a random
  lost one (ties count half); 0.5 is guessing, 1.0 perfect.
* **Brier score**: the mean squared difference between the probability and the outcome
  (1 won, 0 lost); lower is better. The **base-rate Brier score** is what always predicting
  the training win rate would score: a model that does not beat it has learnt nothing.
* **Calibration table**: probabilities in ten equal bins, with the mean predicted and the
  observed win rate in each; a calibrated model has them close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["CalibrationBin", "QualityReport", "brier_score", "calibration_table", "roc_auc"]


def roc_auc(outcomes: Sequence[bool], probabilities: Sequence[float]) -> float:
    """Return the ROC AUC (Mann-Whitney U with ties counted half).

    Raises:
        ValueError: When the outcomes do not hold both classes.
    """
    pairs = sorted(zip(probabilities, outcomes, strict=True))
    positives = sum(1 for _, won in pairs if won)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        raise ValueError("ROC AUC needs both won and lost outcomes")
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
    """Return the mean squared error of the probabilities against the outcomes."""
    if not outcomes:
        raise ValueError("a Brier score needs at least one outcome")
    total = sum(
        (p - (1.0 if won else 0.0)) ** 2 for won, p in zip(outcomes, probabilities, strict=True)
    )
    return total / len(outcomes)


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
    """Return the non-empty bins of a calibration table with `bins` equal-width bins."""
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for won, p in zip(outcomes, probabilities, strict=True):
        grouped[min(int(p * bins), bins - 1)].append((p, won))
    return tuple(
        CalibrationBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=len(items),
            mean_predicted=sum(p for p, _ in items) / len(items),
            observed=sum(1 for _, won in items if won) / len(items),
        )
        for i, items in enumerate(grouped)
        if items
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
    """

    held_out: int
    won: int
    roc_auc: float
    brier: float
    base_rate_brier: float
    calibration: tuple[CalibrationBin, ...] = ()

    @property
    def skill(self) -> float:
        """The Brier skill score: ``1 - brier / base_rate_brier`` (above 0 beats the base rate)."""
        return 1.0 - self.brier / self.base_rate_brier if self.base_rate_brier else 0.0

    @classmethod
    def measure(
        cls, outcomes: Sequence[bool], probabilities: Sequence[float], base_rate: float
    ) -> QualityReport:
        """Measure probabilities against outcomes.

        Args:
            outcomes: Whether each held-out record was won.
            probabilities: The predicted win probabilities.
            base_rate: The win rate of the training records.
        """
        return cls(
            held_out=len(outcomes),
            won=sum(1 for won in outcomes if won),
            roc_auc=roc_auc(outcomes, probabilities),
            brier=brier_score(outcomes, probabilities),
            base_rate_brier=brier_score(outcomes, [base_rate] * len(outcomes)),
            calibration=calibration_table(outcomes, probabilities),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data."""
        return {
            "held_out": self.held_out,
            "won": self.won,
            "roc_auc": self.roc_auc,
            "brier": self.brier,
            "base_rate_brier": self.base_rate_brier,
            "calibration": [b.to_dict() for b in self.calibration],
        }

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
        )
