"""Work management: business time, service-level clocks, assignment and follow-up tasks.

`BusinessTime` does working-time arithmetic on a `crmkit.conditions.BusinessCalendar`;
`SlaPolicy` and `sla_clock` compute service-level clocks from records and their history.
"""

from crmkit.work.assignment import Assignment, AssignmentRule, AssignmentRules, assign
from crmkit.work.calendar import BusinessTime, Interval
from crmkit.work.call_status import contact_call_status, deal_call_status
from crmkit.work.sla import (
    SlaClock,
    SlaPolicy,
    SlaState,
    Trigger,
    first_touch_policy,
    sla_clock,
    sla_clocks,
    sla_summary,
)
from crmkit.work.tasks import (
    Completion,
    calendar_of,
    cancel,
    complete,
    due_today,
    follow_up,
    mark_reminded,
    open_tasks,
    overdue,
    reassign,
    reminders_due,
    snooze,
    tasks_for,
)

__all__ = [
    "Assignment",
    "AssignmentRule",
    "AssignmentRules",
    "BusinessTime",
    "Completion",
    "Interval",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "Trigger",
    "assign",
    "calendar_of",
    "cancel",
    "complete",
    "contact_call_status",
    "deal_call_status",
    "due_today",
    "first_touch_policy",
    "follow_up",
    "mark_reminded",
    "open_tasks",
    "overdue",
    "reassign",
    "reminders_due",
    "sla_clock",
    "sla_clocks",
    "sla_summary",
    "snooze",
    "tasks_for",
]
