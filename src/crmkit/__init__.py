"""crmkit: the domain logic of a CRM as a library.

Validated contacts and companies, leads, deals, activities, tasks and orders as frozen
records; value objects for email, phone and money; one error hierarchy; clocks and ids.
Everything listed in `__all__` is the public API.
"""

from importlib.metadata import PackageNotFoundError, version

from crmkit.clock import Clock, FixedClock, SystemClock
from crmkit.conditions import Condition, F, compile_predicate, condition_from_dict, validate_fields
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
from crmkit.leads import QualificationResult, Qualifier, Rule, RuleKind, move_lead
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

try:
    __version__ = version("crmkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

UserRef = str
"""The app's own id of a user (owner, assignee, actor): crmkit does not manage users."""

__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityOutcome",
    "Address",
    "BantFacts",
    "CallStatus",
    "Clock",
    "Company",
    "ConcurrencyError",
    "Condition",
    "Consent",
    "ConsentPurpose",
    "Contact",
    "CrmkitError",
    "CurrencyMismatchError",
    "CustomField",
    "CustomFieldSchema",
    "CustomFields",
    "Deal",
    "Direction",
    "DomainEvent",
    "EmailAddress",
    "Entity",
    "F",
    "FieldChange",
    "FieldType",
    "FixedClock",
    "ForecastCategory",
    "HistoryEntry",
    "Lead",
    "LeadStatus",
    "LifecycleStage",
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
    "Problem",
    "Qualification",
    "QualificationResult",
    "QualificationVerdict",
    "Qualifier",
    "RecordFacts",
    "ReferencedError",
    "Rule",
    "RuleKind",
    "SchemaVersionError",
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
    "__version__",
    "compile_predicate",
    "condition_from_dict",
    "default_renewal_pipeline",
    "default_sales_pipeline",
    "move_lead",
    "new_id",
    "open_store",
    "validate_fields",
]
