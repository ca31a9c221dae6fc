"""Business calendars stored by name (``uow.calendars``): one per team or person.

Each is a store-wide setting ``calendar.<name>`` holding the calendar's dict form, written in
the unit of work's transaction like every other change.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from crmkit.conditions.dates import BusinessCalendar
from crmkit.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["CalendarBook"]

_PREFIX = "calendar."


def _check_name(name: object) -> str:
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > 200
        or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name)
    ):
        raise ValidationError.single(
            "name", name, "is not a calendar name (1-200 printable characters)"
        )
    return name


class CalendarBook:
    """The named business calendars of a unit of work; see the protocol `CalendarBook`."""

    def __init__(self, uow: BackendUnitOfWork) -> None:
        self._uow = uow

    def get(self, name: str) -> BusinessCalendar:
        """Return the calendar stored under `name`.

        Raises:
            NotFoundError: When no calendar has that name.
            ValidationError: For a name that cannot be one.
        """
        text = self._uow._live_backend().load_setting(_PREFIX + _check_name(name))
        if text is None:
            raise NotFoundError("business calendar", name)
        return BusinessCalendar.from_dict(json.loads(text))

    def save(self, name: str, calendar: BusinessCalendar) -> None:
        """Store `calendar` under `name`, replacing one of that name.

        Raises:
            ValidationError: For a blank or overlong name, or a `calendar` that is not one.
        """
        _check_name(name)
        if not isinstance(calendar, BusinessCalendar):
            raise ValidationError.single("calendar", calendar, "is not a BusinessCalendar")
        self._uow._write()
        self._uow._live_backend().store_setting(
            _PREFIX + name, json.dumps(calendar.to_dict(), ensure_ascii=False)
        )

    def names(self) -> tuple[str, ...]:
        """Return the names of the stored calendars, sorted."""
        found = self._uow._live_backend().load_settings(_PREFIX)
        return tuple(sorted(key.removeprefix(_PREFIX) for key in found))

    def __contains__(self, name: object) -> bool:
        """Whether a calendar is stored under `name`."""
        if not isinstance(name, str):
            return False
        return self._uow._live_backend().load_setting(_PREFIX + name) is not None
