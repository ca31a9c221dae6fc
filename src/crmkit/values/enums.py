"""The closed vocabularies of the model: priorities, activity kinds and outcomes, statuses.

Every enum is a `StrEnum` whose value is the lowercase name, the form stores and files use.
"""

from __future__ import annotations

import enum

__all__ = [
    "ActivityKind",
    "ActivityOutcome",
    "ConsentPurpose",
    "Direction",
    "ForecastCategory",
    "LeadStatus",
    "LifecycleStage",
    "OrderStatus",
    "Priority",
    "QualificationVerdict",
    "TaskStatus",
]


class Priority(enum.StrEnum):
    """How urgent a lead, deal or task is. Ordered: ``Priority.HIGH > Priority.LOW``."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """3 for high, 2 for medium, 1 for low."""
        return _PRIORITY_RANK[self]

    def __lt__(self, other: str) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: str) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: str) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: str) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank >= other.rank


_PRIORITY_RANK = {Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}


class ActivityKind(enum.StrEnum):
    """The channel of an interaction recorded in the activity log."""

    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    SMS = "sms"
    CHAT = "chat"
    NOTE = "note"
    FORM = "form"
    WEB_VISIT = "web_visit"
    SOCIAL = "social"


class ActivityOutcome(enum.StrEnum):
    """What came of an interaction; engagement scoring reads these."""

    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    CONNECTED = "connected"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    SUBMITTED = "submitted"
    VISITED = "visited"
    COMPLETED = "completed"


class Direction(enum.StrEnum):
    """Whether the customer reached us (inbound) or we reached them (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class LeadStatus(enum.StrEnum):
    """Where a lead is in qualification."""

    NEW = "new"
    WORKING = "working"
    NURTURING = "nurturing"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    CONVERTED = "converted"


class QualificationVerdict(enum.StrEnum):
    """The outcome of judging a lead."""

    QUALIFIED = "qualified"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"


class TaskStatus(enum.StrEnum):
    """Where a follow-up task is."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"


class LifecycleStage(enum.StrEnum):
    """Where a contact stands in the customer lifecycle (as HubSpot names the stages)."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MARKETING_QUALIFIED = "marketing_qualified"
    SALES_QUALIFIED = "sales_qualified"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"


class ForecastCategory(enum.StrEnum):
    """How a deal counts in a forecast (as Salesforce names the categories)."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


class OrderStatus(enum.StrEnum):
    """Where a purchase stands."""

    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class ConsentPurpose(enum.StrEnum):
    """What a contact may (or may not) be contacted or tracked for."""

    EMAIL_MARKETING = "email_marketing"
    SMS_MARKETING = "sms_marketing"
    PHONE_CALLS = "phone_calls"
    TRACKING = "tracking"
    DATA_PROCESSING = "data_processing"
