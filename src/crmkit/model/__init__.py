"""The domain model: frozen, validated records and their custom fields."""

from crmkit.model.activity import Activity
from crmkit.model.company import Company, normalize_domain
from crmkit.model.contact import Address, Consent, Contact
from crmkit.model.custom_fields import (
    CustomField,
    CustomFields,
    CustomFieldSchema,
    CustomValue,
    FieldType,
)
from crmkit.model.deal import Deal, StageStay
from crmkit.model.entity import Entity
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.lead import BantFacts, Lead, Qualification
from crmkit.model.order import Order, OrderLine
from crmkit.model.task import Task

__all__ = [
    "Activity",
    "Address",
    "BantFacts",
    "Company",
    "Consent",
    "Contact",
    "CustomField",
    "CustomFieldSchema",
    "CustomFields",
    "CustomValue",
    "Deal",
    "Entity",
    "FieldType",
    "FrozenMap",
    "Lead",
    "Order",
    "OrderLine",
    "Qualification",
    "StageStay",
    "Task",
    "normalize_domain",
]
