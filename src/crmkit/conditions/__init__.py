"""The one condition language of crmkit: ``F("employees") >= 50``, combined with & | ~.

Stage requirements, qualifier rules, and later scoring rules and segments are all written
as these trees. See `crmkit.conditions.tree` for the semantics.
"""

from crmkit.conditions.compiler import ConditionCompiler
from crmkit.conditions.constants import Constant
from crmkit.conditions.dates import (
    After,
    Before,
    BusinessCalendar,
    DateBounds,
    InPeriod,
    MoreThanAgo,
    RelativeDate,
    RelativeMoment,
    WithinLast,
    WithinNext,
)
from crmkit.conditions.known_fields import fields_of, unknown_fields, validate_fields
from crmkit.conditions.outcomes import DealOutcome
from crmkit.conditions.paths import check_path, resolve
from crmkit.conditions.predicate import (
    ClosureCompiler,
    Predicate,
    PythonSourceCompiler,
    compile_predicate,
    has_relative_dates,
    iter_nodes,
)
from crmkit.conditions.related import Related, RelatedCount
from crmkit.conditions.text import fold_ascii, is_blank
from crmkit.conditions.tree import (
    And,
    Between,
    Compare,
    Condition,
    Contains,
    EqualsIgnoringCase,
    F,
    FieldCondition,
    HasTag,
    In,
    IsEmpty,
    Not,
    Or,
    StartsWith,
    condition_from_dict,
)

__all__ = [
    "After",
    "And",
    "Before",
    "Between",
    "BusinessCalendar",
    "ClosureCompiler",
    "Compare",
    "Condition",
    "ConditionCompiler",
    "Constant",
    "Contains",
    "DateBounds",
    "DealOutcome",
    "EqualsIgnoringCase",
    "F",
    "FieldCondition",
    "HasTag",
    "In",
    "InPeriod",
    "IsEmpty",
    "MoreThanAgo",
    "Not",
    "Or",
    "Predicate",
    "PythonSourceCompiler",
    "Related",
    "RelatedCount",
    "RelativeDate",
    "RelativeMoment",
    "StartsWith",
    "WithinLast",
    "WithinNext",
    "check_path",
    "compile_predicate",
    "condition_from_dict",
    "fields_of",
    "fold_ascii",
    "has_relative_dates",
    "is_blank",
    "iter_nodes",
    "resolve",
    "unknown_fields",
    "validate_fields",
]
