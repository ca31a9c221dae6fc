"""Work management: business time (and, to come, tasks, SLAs and assignment).

`BusinessTime` does working-time arithmetic on a `crmkit.conditions.BusinessCalendar`.
"""

from crmkit.work.calendar import BusinessTime, Interval

__all__ = ["BusinessTime", "Interval"]
