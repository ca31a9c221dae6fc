"""RFM analysis: score customers by recency, frequency and monetary value of their orders.

``crmkit.segments.rfm(uow, currency="EUR")`` (or ``uow.orders.rfm(currency="EUR")``) gives
every live customer with counted orders a 1-5 score for each of the three, and a named group
(`RfmGroup`: champions, loyal, ..., lost). SQLite and PostgreSQL compute it inside the
database with window functions; the memory store computes the same formula in Python, so
every adapter returns the same list, ties included. See docs/segments.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from crmkit.model.rfm import RfmGroup, RfmScore, rfm_quantile, rfm_recency_score
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import check_items, require_attributes

__all__ = [
    "RfmGroup",
    "RfmScore",
    "rfm",
    "rfm_columns",
    "rfm_groups",
    "rfm_quantile",
    "rfm_recency_score",
]

_COLUMNS = ("record_id", "recency_days", "frequency", "monetary", "r", "f", "m", "group")


def rfm(
    uow: UnitOfWork, *, currency: str, as_of: dt.datetime | None = None, by: str = "contact"
) -> list[RfmScore]:
    """Score every live customer with counted orders by recency, frequency and money.

    Counted orders are live (not archived) and neither cancelled nor refunded. Recency is
    the whole 24-hour days elapsed from a customer's last counted order to `as_of`, rounded
    down (not calendar days); frequency counts its counted orders (every currency); monetary
    sums those in `currency` only (orders in other currencies add nothing: there are no
    exchange rates yet). Each is scored 1-5 by rank among all customers scored
    (`rfm_quantile`, and `rfm_recency_score` for recency, most recent first; equal values
    get equal scores, and the most recent buyers score 5).

    Args:
        uow: An open unit of work (read-only is enough).
        currency: The ISO 4217 currency monetary values are summed in.
        as_of: The instant recency is counted to; the store's clock by default.
        by: ``"contact"`` to score the orders' contacts, ``"company"`` their companies.

    Returns:
        One `RfmScore` per customer, in id order.

    Raises:
        ValidationError: Naming ``uow`` when it is not a unit of work, and for an unknown
            currency or `by`, or a naive `as_of`.
    """
    require_attributes(uow, "uow", ("orders",), "a UnitOfWork (store.unit_of_work() opens one)")
    return uow.orders.rfm(currency=currency, as_of=as_of, by=by)


def rfm_groups(scores: Iterable[RfmScore]) -> dict[RfmGroup, list[uuid.UUID]]:
    """Return the customers of each group (every group present, in id order).

    Raises:
        ValidationError: Naming ``scores`` when it is not a collection of `RfmScore`
            (``scores[i]`` for an item that is not one).
    """
    checked = check_items(scores, "scores", RfmScore, "RFM scores")
    groups: dict[RfmGroup, list[uuid.UUID]] = {group: [] for group in RfmGroup}
    for score in sorted(checked, key=lambda s: s.record_id):
        groups[score.group].append(score.record_id)
    return groups


def rfm_columns(scores: Iterable[RfmScore]) -> dict[str, list[Any]]:
    """Return scores as columns (``record_id``, ..., ``group`` as its text), for DataFrames.

    Raises:
        ValidationError: Naming ``scores`` when it is not a collection of `RfmScore`
            (``scores[i]`` for an item that is not one).
    """
    checked = check_items(scores, "scores", RfmScore, "RFM scores")
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    for score in checked:
        for name in _COLUMNS:
            value = getattr(score, name)
            columns[name].append(value.value if name == "group" else value)
    return columns
