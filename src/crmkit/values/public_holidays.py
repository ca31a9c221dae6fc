"""Public holidays by country and subdivision, from the ``holidays`` package (an extra).

``pip install 'crmkit[work]'`` brings it; crmkit imports it only when a business calendar
names a country. Results are cached per country, subdivision and year.
"""

from __future__ import annotations

import datetime as dt
import functools
from types import ModuleType

from crmkit.errors import ValidationError

__all__ = ["check_country", "public_holidays"]


def _module() -> ModuleType:
    try:
        import holidays
    except ImportError:
        raise ValidationError.single(
            "holiday_country",
            None,
            "needs the holidays package: pip install 'crmkit[work]'",
        ) from None
    return holidays


def check_country(country: str, subdivision: str | None) -> None:
    """Refuse a country or subdivision the ``holidays`` package does not know.

    Raises:
        ValidationError: Naming ``holiday_country`` or ``holiday_subdivision``, or saying the
            package is missing.
    """
    if not isinstance(country, str):
        raise ValidationError.single("holiday_country", country, "is not a country code")
    if subdivision is not None and not isinstance(subdivision, str):
        raise ValidationError.single(
            "holiday_subdivision", subdivision, "is not a subdivision code"
        )
    holidays = _module()
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValidationError.single(
            "holiday_country", country, "is not a country the holidays package knows (ISO code)"
        )
    if subdivision is not None and subdivision not in supported[country]:
        raise ValidationError.single(
            "holiday_subdivision",
            subdivision,
            f"is not a subdivision of {country} (one of {', '.join(supported[country])})",
        )


@functools.lru_cache(maxsize=1024)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    """Return the public holidays of `year` in `country` (and `subdivision`).

    Raises:
        ValidationError: For a country or subdivision the package does not know.
    """
    check_country(country, subdivision)
    found = _module().country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(day for day in found if day.year == year)
