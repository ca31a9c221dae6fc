"""Work management: business time and service-level clocks (tasks and assignment to come).

`BusinessTime` does working-time arithmetic on a `crmkit.conditions.BusinessCalendar`;
`SlaPolicy` and `sla_clock` compute service-level clocks from records and their history.
"""

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
    "BusinessTime",
    "Interval",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "Trigger",
    "first_touch_policy",
    "sla_clock",
    "sla_clocks",
]
