"""Pipelines as data: stages, allowed moves, moving deals, and what the history tells."""

from crmkit.pipelines.call_status import CallStatus, call_status, record_call_status
from crmkit.pipelines.default import default_renewal_pipeline, default_sales_pipeline
from crmkit.pipelines.events import Moved, StageChanged
from crmkit.pipelines.metrics import (
    StageConversion,
    StaleDeal,
    days_open,
    stage_conversion,
    stale_deals,
    time_in_current_stage,
    time_in_stages,
)
from crmkit.pipelines.pipeline import DEAL_FIELDS, Pipeline
from crmkit.pipelines.stage import Stage

__all__ = [
    "DEAL_FIELDS",
    "CallStatus",
    "Moved",
    "Pipeline",
    "Stage",
    "StageChanged",
    "StageConversion",
    "StaleDeal",
    "call_status",
    "days_open",
    "default_renewal_pipeline",
    "default_sales_pipeline",
    "record_call_status",
    "stage_conversion",
    "stale_deals",
    "time_in_current_stage",
    "time_in_stages",
]
