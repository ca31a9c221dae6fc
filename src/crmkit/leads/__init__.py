"""Leads: guarded status moves and qualification by rules (BANT and your own)."""

from crmkit.leads.convert import Conversion, LeadConverted, convert_lead
from crmkit.leads.qualify import LEAD_FIELDS, QualificationResult, Qualifier, RuleOutcome
from crmkit.leads.rules import Rule, RuleKind
from crmkit.leads.status import LEAD_MOVES, allowed_lead_moves, move_lead

__all__ = [
    "LEAD_FIELDS",
    "LEAD_MOVES",
    "Conversion",
    "LeadConverted",
    "QualificationResult",
    "Qualifier",
    "Rule",
    "RuleKind",
    "RuleOutcome",
    "allowed_lead_moves",
    "convert_lead",
    "move_lead",
]
