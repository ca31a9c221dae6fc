"""Work management: business time, service-level clocks and assignment (tasks to come).

`BusinessTime` does working-time arithmetic on a `crmkit.conditions.BusinessCalendar`;
`SlaPolicy` and `sla_clock` compute service-level clocks from records and their history.
"""

from crmkit.work.assignment import Assignment, AssignmentRule, AssignmentRules, assign
from crmkit.work.calendar import BusinessTime, Interval
from crmkit.work.sla import (
    SlaClock,
    SlaPolicy,
    SlaState,
    Trigger,
    first_touch_policy,
    sla_clock,
    sla_clocks,
)

__all__ = [
    "Assignment",
    "AssignmentRule",
    "AssignmentRules",
    "BusinessTime",
    "Interval",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "Trigger",
    "assign",
    "first_touch_policy",
    "sla_clock",
    "sla_clocks",
]
