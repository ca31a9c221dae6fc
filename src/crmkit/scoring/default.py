"""The engagement model crmkit ships: sensible points for the common channels.

| rule | group | points | extras | decay |
|---|---|---|---|---|
| email opened | email | 1 | | half-life 30 days |
| email clicked | email | 3 | | half-life 30 days |
| email replied | email | 8 | +4 within 4 h, +2 within 24 h | half-life 45 days |
| call connected | calls | 5 | +0.5 per minute, at most +10 | half-life 45 days |
| meeting held | meetings | 15 | +0.1 per minute, at most +5 | half-life 60 days |
| form submitted | web | 10 | | half-life 60 days |
| web visit | web | 1 | | half-life 14 days |
| chat | conversations | 3 | | half-life 30 days |
| sms replied | conversations | 4 | +2 within 1 h | half-life 30 days |
| email bounced | negative | -10 | | none |
| unsubscribed | negative | -25 | | none |
| meeting no-show | negative | -5 | | 90-day window |

Group caps: email 25, calls 30, meetings 40, web 20, conversations 15 (negative signals are
not capped). Total cap 100, so raw points are the score.
"""

from __future__ import annotations

from crmkit.conditions import Condition, F
from crmkit.scoring.decay import Exponential, NoDecay, Window
from crmkit.scoring.engagement import EngagementModel, EngagementRule, ResponseBonus

__all__ = ["default_engagement_model"]


def _is(kind: str, outcome: str) -> Condition:
    return (F("kind") == kind) & (F("outcome") == outcome)


def default_engagement_model() -> EngagementModel:
    """Return the engagement model crmkit ships (see the module's table of points)."""
    return EngagementModel(
        rules=(
            EngagementRule(
                "email opened", _is("email", "opened"), 1, "email", decay=Exponential(30)
            ),
            EngagementRule(
                "email clicked", _is("email", "clicked"), 3, "email", decay=Exponential(30)
            ),
            EngagementRule(
                "email replied",
                _is("email", "replied"),
                8,
                "email",
                response_bonus=(ResponseBonus(4, 4), ResponseBonus(24, 2)),
                decay=Exponential(45),
            ),
            EngagementRule(
                "email bounced", _is("email", "bounced"), -10, "negative", decay=NoDecay()
            ),
            EngagementRule(
                "unsubscribed",
                F("outcome") == "unsubscribed",
                -25,
                "negative",
                decay=NoDecay(),
            ),
            EngagementRule(
                "call connected",
                _is("call", "connected"),
                5,
                "calls",
                per_minute=0.5,
                max_duration_points=10,
                decay=Exponential(45),
            ),
            EngagementRule(
                "meeting held",
                _is("meeting", "held"),
                15,
                "meetings",
                per_minute=0.1,
                max_duration_points=5,
                decay=Exponential(60),
            ),
            EngagementRule(
                "meeting no-show", _is("meeting", "no_show"), -5, "negative", decay=Window(90)
            ),
            EngagementRule(
                "form submitted", _is("form", "submitted"), 10, "web", decay=Exponential(60)
            ),
            EngagementRule("web visit", F("kind") == "web_visit", 1, "web", decay=Exponential(14)),
            EngagementRule("chat", F("kind") == "chat", 3, "conversations", decay=Exponential(30)),
            EngagementRule(
                "sms replied",
                _is("sms", "replied"),
                4,
                "conversations",
                response_bonus=(ResponseBonus(1, 2),),
                decay=Exponential(30),
            ),
        ),
        group_caps={"email": 25, "calls": 30, "meetings": 40, "web": 20, "conversations": 15},
        total_cap=100,
    )
