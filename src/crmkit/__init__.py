"""crmkit: the domain logic of a CRM as a library.

Validated contacts and companies, leads, deals, activities, tasks and orders as frozen
records; value objects for email, phone and money; one error hierarchy; clocks and ids.
Everything listed in `__all__` is the public API.

Names are imported when first used (PEP 562), so ``import crmkit`` costs only what a program
touches: a script that builds contacts does not load the scoring or storage code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and IDEs see; `_HOMES` says the same to Python
    from crmkit.clock import Clock, FixedClock, SystemClock
    from crmkit.conditions import (
        Condition,
        F,
        compile_predicate,
        condition_from_dict,
        validate_fields,
    )
    from crmkit.errors import (
        ConcurrencyError,
        CrmkitError,
        CurrencyMismatchError,
        NotFoundError,
        Problem,
        ReferencedError,
        SchemaVersionError,
        SegmentError,
        StorageError,
        StoreBusyError,
        StoreOpenError,
        TransitionError,
        ValidationError,
    )
    from crmkit.ids import new_id
    from crmkit.leads import (
        Conversion,
        LeadConverted,
        QualificationResult,
        Qualifier,
        Rule,
        RuleKind,
        convert_lead,
        move_lead,
    )
    from crmkit.model import (
        Activity,
        Address,
        BantFacts,
        Company,
        Consent,
        Contact,
        CustomField,
        CustomFields,
        CustomFieldSchema,
        Deal,
        Entity,
        FieldType,
        Lead,
        Order,
        OrderLine,
        Qualification,
        StageStay,
        Task,
    )
    from crmkit.pipelines import (
        CallStatus,
        Moved,
        Pipeline,
        Stage,
        StageChanged,
        default_renewal_pipeline,
        default_sales_pipeline,
    )
    from crmkit.scoring import (
        EngagementModel,
        EngagementRule,
        FitModel,
        FitRule,
        GradeMatrix,
        InsufficientDataError,
        LeadScoring,
        PriorityPolicy,
        Score,
        WinProbabilityModel,
        default_engagement_model,
        score_engagement,
    )
    from crmkit.segments import BusinessCalendar, MembershipDiff, SavedSegment, parse
    from crmkit.storage import (
        DomainEvent,
        FieldChange,
        HistoryEntry,
        RecordFacts,
        Store,
        StoredEvent,
        StoredScore,
        UnitOfWork,
        open_store,
    )
    from crmkit.values import (
        ActivityKind,
        ActivityOutcome,
        ConsentPurpose,
        Direction,
        EmailAddress,
        ForecastCategory,
        LeadStatus,
        LifecycleStage,
        Money,
        OrderStatus,
        PhoneNumber,
        PhoneType,
        Priority,
        QualificationVerdict,
        TaskStatus,
    )

UserRef = str
"""The app's own id of a user (owner, assignee, actor): crmkit does not manage users."""

# The module each public name is imported from on first use (see `__getattr__`); a test
# holds it equal to the imports above and to `__all__`.
_HOMES: dict[str, str] = {
    "Activity": "crmkit.model",
    "ActivityKind": "crmkit.values",
    "ActivityOutcome": "crmkit.values",
    "Address": "crmkit.model",
    "BantFacts": "crmkit.model",
    "BusinessCalendar": "crmkit.segments",
    "CallStatus": "crmkit.pipelines",
    "Clock": "crmkit.clock",
    "Company": "crmkit.model",
    "ConcurrencyError": "crmkit.errors",
    "Condition": "crmkit.conditions",
    "Consent": "crmkit.model",
    "ConsentPurpose": "crmkit.values",
    "Contact": "crmkit.model",
    "Conversion": "crmkit.leads",
    "CrmkitError": "crmkit.errors",
    "CurrencyMismatchError": "crmkit.errors",
    "CustomField": "crmkit.model",
    "CustomFieldSchema": "crmkit.model",
    "CustomFields": "crmkit.model",
    "Deal": "crmkit.model",
    "Direction": "crmkit.values",
    "DomainEvent": "crmkit.storage",
    "EmailAddress": "crmkit.values",
    "EngagementModel": "crmkit.scoring",
    "EngagementRule": "crmkit.scoring",
    "Entity": "crmkit.model",
    "F": "crmkit.conditions",
    "FieldChange": "crmkit.storage",
    "FieldType": "crmkit.model",
    "FitModel": "crmkit.scoring",
    "FitRule": "crmkit.scoring",
    "FixedClock": "crmkit.clock",
    "ForecastCategory": "crmkit.values",
    "GradeMatrix": "crmkit.scoring",
    "HistoryEntry": "crmkit.storage",
    "InsufficientDataError": "crmkit.scoring",
    "Lead": "crmkit.model",
    "LeadConverted": "crmkit.leads",
    "LeadScoring": "crmkit.scoring",
    "LeadStatus": "crmkit.values",
    "LifecycleStage": "crmkit.values",
    "MembershipDiff": "crmkit.segments",
    "Money": "crmkit.values",
    "Moved": "crmkit.pipelines",
    "NotFoundError": "crmkit.errors",
    "Order": "crmkit.model",
    "OrderLine": "crmkit.model",
    "OrderStatus": "crmkit.values",
    "PhoneNumber": "crmkit.values",
    "PhoneType": "crmkit.values",
    "Pipeline": "crmkit.pipelines",
    "Priority": "crmkit.values",
    "PriorityPolicy": "crmkit.scoring",
    "Problem": "crmkit.errors",
    "Qualification": "crmkit.model",
    "QualificationResult": "crmkit.leads",
    "QualificationVerdict": "crmkit.values",
    "Qualifier": "crmkit.leads",
    "RecordFacts": "crmkit.storage",
    "ReferencedError": "crmkit.errors",
    "Rule": "crmkit.leads",
    "RuleKind": "crmkit.leads",
    "SavedSegment": "crmkit.segments",
    "SchemaVersionError": "crmkit.errors",
    "Score": "crmkit.scoring",
    "SegmentError": "crmkit.errors",
    "Stage": "crmkit.pipelines",
    "StageChanged": "crmkit.pipelines",
    "StageStay": "crmkit.model",
    "StorageError": "crmkit.errors",
    "Store": "crmkit.storage",
    "StoreBusyError": "crmkit.errors",
    "StoreOpenError": "crmkit.errors",
    "StoredEvent": "crmkit.storage",
    "StoredScore": "crmkit.storage",
    "SystemClock": "crmkit.clock",
    "Task": "crmkit.model",
    "TaskStatus": "crmkit.values",
    "TransitionError": "crmkit.errors",
    "UnitOfWork": "crmkit.storage",
    "ValidationError": "crmkit.errors",
    "WinProbabilityModel": "crmkit.scoring",
    "compile_predicate": "crmkit.conditions",
    "condition_from_dict": "crmkit.conditions",
    "convert_lead": "crmkit.leads",
    "default_engagement_model": "crmkit.scoring",
    "default_renewal_pipeline": "crmkit.pipelines",
    "default_sales_pipeline": "crmkit.pipelines",
    "move_lead": "crmkit.leads",
    "new_id": "crmkit.ids",
    "open_store": "crmkit.storage",
    "parse": "crmkit.segments",
    "score_engagement": "crmkit.scoring",
    "validate_fields": "crmkit.conditions",
}


def __getattr__(name: str) -> object:
    """Import a public name on first use and keep it (PEP 562)."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif name == "__version__":
        value = _version()
    else:
        raise AttributeError(f"module 'crmkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crmkit")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityOutcome",
    "Address",
    "BantFacts",
    "BusinessCalendar",
    "CallStatus",
    "Clock",
    "Company",
    "ConcurrencyError",
    "Condition",
    "Consent",
    "ConsentPurpose",
    "Contact",
    "Conversion",
    "CrmkitError",
    "CurrencyMismatchError",
    "CustomField",
    "CustomFieldSchema",
    "CustomFields",
    "Deal",
    "Direction",
    "DomainEvent",
    "EmailAddress",
    "EngagementModel",
    "EngagementRule",
    "Entity",
    "F",
    "FieldChange",
    "FieldType",
    "FitModel",
    "FitRule",
    "FixedClock",
    "ForecastCategory",
    "GradeMatrix",
    "HistoryEntry",
    "InsufficientDataError",
    "Lead",
    "LeadConverted",
    "LeadScoring",
    "LeadStatus",
    "LifecycleStage",
    "MembershipDiff",
    "Money",
    "Moved",
    "NotFoundError",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PhoneNumber",
    "PhoneType",
    "Pipeline",
    "Priority",
    "PriorityPolicy",
    "Problem",
    "Qualification",
    "QualificationResult",
    "QualificationVerdict",
    "Qualifier",
    "RecordFacts",
    "ReferencedError",
    "Rule",
    "RuleKind",
    "SavedSegment",
    "SchemaVersionError",
    "Score",
    "SegmentError",
    "Stage",
    "StageChanged",
    "StageStay",
    "StorageError",
    "Store",
    "StoreBusyError",
    "StoreOpenError",
    "StoredEvent",
    "StoredScore",
    "SystemClock",
    "Task",
    "TaskStatus",
    "TransitionError",
    "UnitOfWork",
    "UserRef",
    "ValidationError",
    "WinProbabilityModel",
    "__version__",
    "compile_predicate",
    "condition_from_dict",
    "convert_lead",
    "default_engagement_model",
    "default_renewal_pipeline",
    "default_sales_pipeline",
    "move_lead",
    "new_id",
    "open_store",
    "parse",
    "score_engagement",
    "validate_fields",
]
