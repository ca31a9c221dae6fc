"""Value objects: validated, immutable, hashable building blocks of the model."""

from crmkit.values.email import EmailAddress
from crmkit.values.enums import (
    ActivityKind,
    ActivityOutcome,
    ConsentPurpose,
    Direction,
    ForecastCategory,
    LeadStatus,
    LifecycleStage,
    OrderStatus,
    Priority,
    QualificationVerdict,
    TaskStatus,
)
from crmkit.values.money import Money
from crmkit.values.phone import PhoneNumber, PhoneType
from crmkit.values.recurrence import check_recurrence, next_occurrence
from crmkit.values.working_hours import WorkingHours

__all__ = [
    "ActivityKind",
    "ActivityOutcome",
    "ConsentPurpose",
    "Direction",
    "EmailAddress",
    "ForecastCategory",
    "LeadStatus",
    "LifecycleStage",
    "Money",
    "OrderStatus",
    "PhoneNumber",
    "PhoneType",
    "Priority",
    "QualificationVerdict",
    "TaskStatus",
    "WorkingHours",
    "check_recurrence",
    "next_occurrence",
]
