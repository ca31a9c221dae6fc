"""Scoring: engagement, fit, grades, lead scores, priority and learned win probability.

Every rule is written in `crmkit.conditions` and every definition loads from dicts, JSON
and TOML. Scores explain themselves: a `Score` carries the contributions that add up to it.
Batch functions score a whole store in streaming batches and write to its score table;
`score_record` and `assess_in_store` score or prioritise one stored record in one call.
"""

from crmkit.scoring.batch import (
    BatchResult,
    RecordKind,
    score_engagement,
    score_fit,
    score_records,
)
from crmkit.scoring.breakdown import TOLERANCE, Contribution, ContributionKind, Score
from crmkit.scoring.decay import Decay, Exponential, Linear, NoDecay, Window, decay_from_dict
from crmkit.scoring.default import default_engagement_model
from crmkit.scoring.engagement import (
    ACTIVITY_FIELDS,
    EngagementModel,
    EngagementRule,
    ResponseBonus,
)
from crmkit.scoring.fit import FitModel, FitRule, FitSubject
from crmkit.scoring.grade import GradeMatrix
from crmkit.scoring.in_store import assess_in_store, score_record
from crmkit.scoring.lead_score import LeadScore, LeadScoring
from crmkit.scoring.predictive import (
    InsufficientDataError,
    Prediction,
    Reason,
    StageOrder,
    WinProbabilityModel,
)
from crmkit.scoring.priority import (
    FactorResult,
    PriorityAssessment,
    PriorityBand,
    PriorityFactor,
    PriorityInput,
    PriorityPolicy,
    default_priority_policy,
)
from crmkit.scoring.quality import (
    USEFULNESS_BANDS,
    CalibrationBin,
    QualityReport,
    Usefulness,
    brier_score,
    calibration_table,
    roc_auc,
)

__all__ = [
    "ACTIVITY_FIELDS",
    "TOLERANCE",
    "USEFULNESS_BANDS",
    "BatchResult",
    "CalibrationBin",
    "Contribution",
    "ContributionKind",
    "Decay",
    "EngagementModel",
    "EngagementRule",
    "Exponential",
    "FactorResult",
    "FitModel",
    "FitRule",
    "FitSubject",
    "GradeMatrix",
    "InsufficientDataError",
    "LeadScore",
    "LeadScoring",
    "Linear",
    "NoDecay",
    "Prediction",
    "PriorityAssessment",
    "PriorityBand",
    "PriorityFactor",
    "PriorityInput",
    "PriorityPolicy",
    "QualityReport",
    "Reason",
    "RecordKind",
    "ResponseBonus",
    "Score",
    "StageOrder",
    "Usefulness",
    "WinProbabilityModel",
    "Window",
    "assess_in_store",
    "brier_score",
    "calibration_table",
    "decay_from_dict",
    "default_engagement_model",
    "default_priority_policy",
    "roc_auc",
    "score_engagement",
    "score_fit",
    "score_record",
    "score_records",
]
