"""The kinds of record a store holds, what each refers to, and how it relates to others."""

from __future__ import annotations

from types import MappingProxyType

import attrs

from crmkit.model.activity import Activity
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.entity import Entity
from crmkit.model.lead import Lead
from crmkit.model.order import Order
from crmkit.model.task import Task

__all__ = ["KINDS", "Kind", "Ref", "kind_of"]


@attrs.frozen
class Ref:
    """A field of one kind that holds the id (or ids, when `many`) of a record of `target`."""

    field: str
    target: str
    many: bool = False


@attrs.frozen
class Kind:
    """What the store needs to know about one kind of record.

    Attributes:
        name: The kind's name (``"contact"``), also `Entity.KIND`.
        cls: The entity class.
        table: The table (or collection) name.
        refs: The fields that refer to other records.
        time_field: The field `related` sorts by, newest first.
    """

    name: str
    cls: type[Entity]
    table: str
    refs: tuple[Ref, ...]
    time_field: str = "created_at"

    def ref_ids(self, entity: Entity) -> list[tuple[Ref, object]]:
        """Return each (reference, id) the entity holds, one pair per referenced id."""
        pairs: list[tuple[Ref, object]] = []
        for ref in self.refs:
            value = getattr(entity, ref.field)
            if value is None:
                continue
            if ref.many:
                pairs.extend((ref, item) for item in value)
            else:
                pairs.append((ref, value))
        return pairs


_LINKS = (
    Ref("contact_id", "contact"),
    Ref("company_id", "company"),
    Ref("deal_id", "deal"),
    Ref("lead_id", "lead"),
)

KINDS: MappingProxyType[str, Kind] = MappingProxyType(
    {
        "company": Kind("company", Company, "companies", (Ref("parent_id", "company"),)),
        "contact": Kind("contact", Contact, "contacts", (Ref("company_id", "company"),)),
        "lead": Kind(
            "lead",
            Lead,
            "leads",
            (
                Ref("converted_contact_id", "contact"),
                Ref("converted_company_id", "company"),
                Ref("converted_deal_id", "deal"),
            ),
        ),
        "deal": Kind(
            "deal",
            Deal,
            "deals",
            (
                Ref("company_id", "company"),
                Ref("contact_ids", "contact", many=True),
                Ref("lead_id", "lead"),
            ),
        ),
        "activity": Kind("activity", Activity, "activities", _LINKS, "occurred_at"),
        "task": Kind("task", Task, "tasks", _LINKS),
        "order": Kind("order", Order, "orders", _LINKS[:2], "placed_at"),
    }
)
"""Every kind, in an order where each kind's references point to kinds listed before it
or to itself (companies first), except leads' conversion links, which point forward."""


def kind_of(entity: Entity) -> Kind:
    """Return the `Kind` of an entity."""
    return KINDS[entity.KIND]
