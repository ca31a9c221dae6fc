"""RFM scores: recency, frequency and monetary value of customers' orders, 1 to 5 each.

The pure parts of RFM analysis, shared by every store (the SQL stores compute the same
formula with window functions) and by `crmkit.segments.rfm`: the quantile rule, the scoring
of plain rows, the named R-by-F groups and the score record.
"""

from __future__ import annotations

import bisect
import enum
import uuid
from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmkit.errors import Problem, ValidationError
from crmkit.values.arguments import check_whole_number

__all__ = ["RfmGroup", "RfmRow", "RfmScore", "compute_rfm", "rfm_quantile", "rfm_recency_score"]

RfmRow = tuple[uuid.UUID, int, int, Decimal, int, int, int]
"""``(record_id, recency_days, frequency, monetary, r, f, m)``: one customer's RFM, no group."""


class RfmGroup(enum.StrEnum):
    """The named customer groups of RFM analysis, decided by the R and F scores.

    The common R-by-F segment map (R = recency score, F = frequency score, 1 to 5 each):

    - R 5: F 1 new customers; F 2-3 potential loyalists; F 4-5 champions
    - R 4: F 1 promising; F 2-3 potential loyalists; F 4-5 loyal
    - R 3: F 1-2 about to sleep; F 3 need attention; F 4-5 loyal
    - R 2: F 1-2 hibernating; F 3-4 at risk; F 5 can't lose them
    - R 1: F 1-2 lost; F 3-4 at risk; F 5 can't lose them
    """

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW_CUSTOMERS = "new_customers"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANT_LOSE = "cant_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"

    @classmethod
    def of(cls, r: int, f: int) -> RfmGroup:
        """Return the group of a recency score `r` and a frequency score `f` (1 to 5 each).

        Raises:
            ValidationError: Naming ``r`` or ``f`` when it is not a whole number 1 to 5.
        """
        problems = [
            Problem(name, value, "is not an RFM score (a whole number from 1 to 5)")
            for name, value in (("r", r), ("f", f))
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5
        ]
        if problems:
            raise ValidationError(problems)
        return _RFM_GRID[r - 1][f - 1]


_RFM_GRID: tuple[tuple[RfmGroup, ...], ...] = (
    # F = 1 .. 5, for R = 1 (the top row) to R = 5 (the bottom row)
    (RfmGroup.LOST, RfmGroup.LOST, RfmGroup.AT_RISK, RfmGroup.AT_RISK, RfmGroup.CANT_LOSE),
    (
        RfmGroup.HIBERNATING,
        RfmGroup.HIBERNATING,
        RfmGroup.AT_RISK,
        RfmGroup.AT_RISK,
        RfmGroup.CANT_LOSE,
    ),
    (
        RfmGroup.ABOUT_TO_SLEEP,
        RfmGroup.ABOUT_TO_SLEEP,
        RfmGroup.NEED_ATTENTION,
        RfmGroup.LOYAL,
        RfmGroup.LOYAL,
    ),
    (
        RfmGroup.PROMISING,
        RfmGroup.POTENTIAL_LOYALIST,
        RfmGroup.POTENTIAL_LOYALIST,
        RfmGroup.LOYAL,
        RfmGroup.LOYAL,
    ),
    (
        RfmGroup.NEW_CUSTOMERS,
        RfmGroup.POTENTIAL_LOYALIST,
        RfmGroup.POTENTIAL_LOYALIST,
        RfmGroup.CHAMPIONS,
        RfmGroup.CHAMPIONS,
    ),
)


@attrs.frozen
class RfmScore:
    """One customer's recency, frequency and monetary values, their 1-5 scores and group.

    Scores are quantiles by rank among all the customers scored together. Frequency and
    money: with ``n`` customers and ``rank`` the 1-based position of a value in ascending
    order (ties share the lowest rank, as SQL's ``RANK()``), the score is
    ``1 + (5 * (rank - 1)) // n`` (`rfm_quantile`). Recency is the mirror image, best first:
    ``rank`` counts from the most recent (fewest days; ties share the best rank) and the
    score is ``5 - (5 * (rank - 1)) // n`` (`rfm_recency_score`), so the most recent buyers
    score 5, a lone customer or customers who all bought on the same day score 5 (not 1,
    "lost"), and the rest score down from there.

    Attributes:
        record_id: The contact (or company) that bought.
        recency_days: Whole 24-hour days elapsed from its last counted order to the "as of"
            instant, rounded down (0 for an order placed later, or less than a day ago).
        frequency: How many counted orders it placed (every currency).
        monetary: What those orders came to in the chosen currency.
        r: The recency score, 1 (longest ago) to 5 (most recent).
        f: The frequency score, 1 to 5.
        m: The monetary score, 1 to 5.
        group: The named group of ``(r, f)`` (`RfmGroup`).
    """

    record_id: uuid.UUID
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    group: RfmGroup

    @property
    def code(self) -> str:
        """The three scores as one text, ``"545"`` (R, F, M)."""
        return f"{self.r}{self.f}{self.m}"


def rfm_quantile(rank: int, n: int) -> int:
    """Return the 1-5 quantile score of the value at 1-based `rank` among `n` values.

    ``1 + (5 * (rank - 1)) // n``: with ties sharing their lowest rank (SQL's ``RANK()``),
    equal values get equal scores, and every SQL store computes the same integers.

    Raises:
        ValidationError: Naming ``n`` when it is not a whole number of at least 1, and
            ``rank`` when it is not a whole number from 1 to `n`.
    """
    _check_rank(rank, n)
    return _quantile(rank, n)


def _quantile(rank: int, n: int) -> int:
    return 1 + (5 * (rank - 1)) // n


def _check_rank(rank: object, n: object) -> None:
    total = check_whole_number(n, "n", minimum=1)
    if check_whole_number(rank, "rank", minimum=1) > total:
        raise ValidationError.single("rank", rank, f"is past the last rank, n = {n}")


def rfm_recency_score(rank: int, n: int) -> int:
    """Return the 1-5 recency score of the customer at 1-based `rank`, most recent first.

    ``5 - (5 * (rank - 1)) // n``, which is ``6 - rfm_quantile(rank, n)``: with ties sharing
    their best rank (SQL's ``RANK() OVER (ORDER BY recency_days)``), the customers who
    bought most recently score 5 however many share that day, and a customer who is alone
    scores 5. Equivalently, ranking by descending days with ties at their *highest* rank
    ``h``, the score is ``ceil(5 * h / n)``.

    Raises:
        ValidationError: Naming ``n`` when it is not a whole number of at least 1, and
            ``rank`` when it is not a whole number from 1 to `n`.
    """
    _check_rank(rank, n)
    return _recency_score(rank, n)


def _recency_score(rank: int, n: int) -> int:
    return 5 - (5 * (rank - 1)) // n


def compute_rfm(
    customers: Iterable[tuple[uuid.UUID, int, int, Decimal]],
) -> list[RfmRow]:
    """Score ``(record_id, recency_days, frequency, monetary)`` rows as the SQL stores do.

    Ranks are taken over all the rows given; returns `RfmRow` tuples in id order.
    """
    rows = sorted(customers)
    n = len(rows)
    days = sorted(row[1] for row in rows)
    counts = sorted(row[2] for row in rows)
    amounts = sorted(row[3] for row in rows)
    return [
        (
            ident,
            recency,
            frequency,
            monetary,
            # recency ranks most recent first: rank = 1 + how many bought more recently
            _recency_score(1 + bisect.bisect_left(days, recency), n),
            _quantile(1 + bisect.bisect_left(counts, frequency), n),
            _quantile(1 + bisect.bisect_left(amounts, monetary), n),
        )
        for ident, recency, frequency, monetary in rows
    ]
