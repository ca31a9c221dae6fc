"""The pipelines crmkit ships: new business (the classic sales stages) and renewals."""

from __future__ import annotations

from crmkit.pipelines.pipeline import Pipeline
from crmkit.pipelines.stage import Stage
from crmkit.values.enums import ForecastCategory

__all__ = ["default_renewal_pipeline", "default_sales_pipeline"]

_PIPELINE = ForecastCategory.PIPELINE
_BEST_CASE = ForecastCategory.BEST_CASE
_COMMIT = ForecastCategory.COMMIT
_CLOSED = ForecastCategory.CLOSED
_OMITTED = ForecastCategory.OMITTED


def default_sales_pipeline() -> Pipeline:
    """Return the new-business pipeline: the sales stages most CRMs start from.

    | key | label | probability | forecast | requires | rotting |
    |---|---|---|---|---|---|
    | prospecting | Prospecting (initial contact) | 0.1 | pipeline | | 14 days |
    | discovery | Discovery (needs assessment) | 0.2 | pipeline | | 14 days |
    | proposal | Proposal (presentation) | 0.4 | best_case | amount | 10 days |
    | negotiation | Negotiation (objection handling) | 0.6 | best_case | amount | 10 days |
    | decision | Decision (commitment) | 0.8 | commit | amount, expected_close | 7 days |
    | closed_won | Closed Won | 1.0 | closed | amount | |
    | closed_lost | Closed Lost | 0.0 | omitted | lost_reason | |

    Skipping stages is allowed; a closed deal moves only through `Pipeline.reopen`.
    """
    return Pipeline(
        key="sales",
        label="New business",
        stages=(
            Stage(
                "prospecting",
                "Prospecting",
                0.1,
                _PIPELINE,
                rotting_days=14,
                description="Initial contact: introduce the offer, learn the customer's needs.",
            ),
            Stage(
                "discovery",
                "Discovery",
                0.2,
                _PIPELINE,
                rotting_days=14,
                description="Needs assessment: pain points and goals, to tailor the solution.",
            ),
            Stage(
                "proposal",
                "Proposal",
                0.4,
                _BEST_CASE,
                requires=["amount"],
                rotting_days=10,
                description="Presentation: send a proposal, give a demo, quote a price.",
            ),
            Stage(
                "negotiation",
                "Negotiation",
                0.6,
                _BEST_CASE,
                requires=["amount"],
                rotting_days=10,
                description="Objection handling: pricing, timelines, terms.",
            ),
            Stage(
                "decision",
                "Decision",
                0.8,
                _COMMIT,
                requires=["amount", "expected_close"],
                rotting_days=7,
                description="Commitment: verbal agreement, contract out; the deal is pending.",
            ),
            Stage(
                "closed_won",
                "Closed Won",
                1.0,
                _CLOSED,
                won=True,
                requires=["amount"],
                description="The customer bought.",
            ),
            Stage(
                "closed_lost",
                "Closed Lost",
                0.0,
                _OMITTED,
                lost=True,
                requires=["lost_reason"],
                description="It did not close; the reason is recorded.",
            ),
        ),
    )


def default_renewal_pipeline() -> Pipeline:
    """Return the renewals pipeline: existing customers whose contract comes up for renewal.

    | key | label | probability | forecast | requires | rotting |
    |---|---|---|---|---|---|
    | upcoming | Renewal upcoming | 0.6 | pipeline | expected_close | 30 days |
    | in_review | In review | 0.7 | best_case | | 14 days |
    | quote_sent | Quote sent | 0.8 | best_case | amount | 10 days |
    | committed | Committed | 0.9 | commit | amount, expected_close | 7 days |
    | renewed | Renewed | 1.0 | closed | amount | |
    | churned | Churned | 0.0 | omitted | lost_reason | |
    """
    return Pipeline(
        key="renewals",
        label="Renewals",
        stages=(
            Stage(
                "upcoming",
                "Renewal upcoming",
                0.6,
                _PIPELINE,
                requires=["expected_close"],
                rotting_days=30,
                description="The contract ends soon; the renewal date is the expected close.",
            ),
            Stage(
                "in_review",
                "In review",
                0.7,
                _BEST_CASE,
                rotting_days=14,
                description="Usage and needs reviewed with the customer.",
            ),
            Stage(
                "quote_sent",
                "Quote sent",
                0.8,
                _BEST_CASE,
                requires=["amount"],
                rotting_days=10,
                description="The renewal offer is out.",
            ),
            Stage(
                "committed",
                "Committed",
                0.9,
                _COMMIT,
                requires=["amount", "expected_close"],
                rotting_days=7,
                description="The customer agreed; paperwork pending.",
            ),
            Stage("renewed", "Renewed", 1.0, _CLOSED, won=True, requires=["amount"]),
            Stage("churned", "Churned", 0.0, _OMITTED, lost=True, requires=["lost_reason"]),
        ),
    )
