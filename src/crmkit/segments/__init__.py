"""Segments: groups of records defined once by a condition, the same on every adapter.

Write a segment as text (`parse`) or with `crmkit.conditions.F`, then evaluate it where the
data is: ``uow.contacts.find(segment)`` and ``uow.contacts.count(segment)`` run inside the
database on SQLite and PostgreSQL and as one compiled predicate in memory; `matcher` and
`select` evaluate it over records you hold. See docs/segments.md for the language.

For data scientists: `rfm` scores customers by recency, frequency and monetary value
(inside the database), and `to_pandas` / `to_polars` hand a segment's members over with
chosen columns (the ``pandas`` / ``polars`` extras); `stage_stay_columns` gives deals'
stage histories as a long table (one row per stay).
"""

from crmkit.conditions.binding import Binding, bind
from crmkit.conditions.dates import BusinessCalendar
from crmkit.conditions.evaluate import ListSource, RecordSource
from crmkit.segments.frames import fetch_columns, to_pandas, to_polars
from crmkit.segments.matching import matcher, select
from crmkit.segments.parser import parse
from crmkit.segments.rfm import RfmGroup, RfmScore, rfm, rfm_columns, rfm_groups, rfm_quantile
from crmkit.segments.stage_stays import stage_stay_columns
from crmkit.storage.protocol import MembershipDiff, SavedSegment, SegmentBook

__all__ = [
    "Binding",
    "BusinessCalendar",
    "ListSource",
    "MembershipDiff",
    "RecordSource",
    "RfmGroup",
    "RfmScore",
    "SavedSegment",
    "SegmentBook",
    "bind",
    "fetch_columns",
    "matcher",
    "parse",
    "rfm",
    "rfm_columns",
    "rfm_groups",
    "rfm_quantile",
    "select",
    "stage_stay_columns",
    "to_pandas",
    "to_polars",
]
