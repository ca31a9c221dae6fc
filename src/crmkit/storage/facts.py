"""Derived facts: what a record's live activities and orders say about it, kept in step.

In the same transaction as an activity or order that moves them, the store recomputes the
facts of every record it links to (`compute_facts`); archived activities and orders, and
cancelled or refunded orders, do not count.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal

from crmkit.model.entity import Entity
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.registry import KINDS, Kind, derived
from crmkit.storage.protocol import (
    RecordFacts,
)
from crmkit.values.enums import OrderStatus
from crmkit.values.storable import add_exactly

__all__ = ["COUNTED_ORDER_STATUSES", "FEEDS_FACTS", "compute_facts", "fact_record_ids"]

COUNTED_ORDER_STATUSES: tuple[str, ...] = tuple(
    s.value for s in OrderStatus if s not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
)
"""Orders in these statuses count in a record's facts; cancelled and refunded ones do not."""

FEEDS_FACTS: Mapping[str, bool] = derived(
    lambda: {name: True for name, kind in KINDS.items() if kind.feeds_facts}
)
"""The kinds whose records move the facts of the records they link to (the registry's
`feeds_facts`)."""

_ZERO = Decimal(0)


def compute_facts(
    activities: Iterable[tuple[uuid.UUID, str, dt.datetime]],
    orders: Iterable[tuple[uuid.UUID, str, Decimal, dt.datetime]],
) -> list[RecordFacts]:
    """Fold activity and order sources into one `RecordFacts` per record.

    Order totals are summed exactly (`crmkit.values.storable.add_exactly`): storable amounts
    have at most 28 digits, and their sums fit the 47-digit context used.
    """
    last_activity: dict[uuid.UUID, dt.datetime] = {}
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for record, kind, at in activities:
        if record not in last_activity or at > last_activity[record]:
            last_activity[record] = at
        per_kind = counts.setdefault(record, {})
        per_kind[kind] = per_kind.get(kind, 0) + 1
    order_count: dict[uuid.UUID, int] = {}
    totals: dict[uuid.UUID, dict[str, Decimal]] = {}
    last_order: dict[uuid.UUID, dt.datetime] = {}
    for record, currency, amount, placed in orders:
        order_count[record] = order_count.get(record, 0) + 1
        per_currency = totals.setdefault(record, {})
        # exact at any size: Decimal's default context keeps 28 digits and rounds past them
        per_currency[currency] = add_exactly(per_currency.get(currency, _ZERO), amount)
        if record not in last_order or placed > last_order[record]:
            last_order[record] = placed
    return [
        RecordFacts(
            record_id=record,
            last_activity_at=last_activity.get(record),
            activity_counts=FrozenMap(counts.get(record, {})),
            order_count=order_count.get(record, 0),
            order_totals=FrozenMap(totals.get(record, {})),
            last_order_at=last_order.get(record),
        )
        for record in sorted({*last_activity, *order_count})
    ]


def fact_record_ids(kind: Kind, entities: Iterable[Entity]) -> set[uuid.UUID]:
    """Return the ids of the records whose facts the entities (of a kind in `FEEDS_FACTS`) move."""
    ids: set[uuid.UUID] = set()
    for entity in entities:
        for _ref, ident in kind.ref_ids(entity):
            ids.add(ident)  # type: ignore[arg-type]
    return ids
