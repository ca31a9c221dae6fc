"""The one condition language of crmkit: ``F("employees") >= 50``, combined with & | ~.

Stage requirements, qualifier rules, and later scoring rules and segments are all written
as these trees. See `crmkit.conditions.tree` for the semantics.
"""

from crmkit.conditions.compiler import ConditionCompiler
from crmkit.conditions.constants import Constant
from crmkit.conditions.known_fields import fields_of, unknown_fields, validate_fields
from crmkit.conditions.paths import check_path, resolve
from crmkit.conditions.predicate import (
    ClosureCompiler,
    Predicate,
    PythonSourceCompiler,
    compile_predicate,
)
from crmkit.conditions.tree import (
    And,
    Between,
    Compare,
    Condition,
    Contains,
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
    "And",
    "Between",
    "ClosureCompiler",
    "Compare",
    "Condition",
    "ConditionCompiler",
    "Constant",
    "Contains",
    "F",
    "FieldCondition",
    "HasTag",
    "In",
    "IsEmpty",
    "Not",
    "Or",
    "Predicate",
    "PythonSourceCompiler",
    "StartsWith",
    "check_path",
    "compile_predicate",
    "condition_from_dict",
    "fields_of",
    "resolve",
    "unknown_fields",
    "validate_fields",
]
