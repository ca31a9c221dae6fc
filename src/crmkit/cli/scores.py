"""``crmkit score``: score every contact's engagement and fit into the store's score table."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from crmkit.cli.output import console, progress_bar
from crmkit.cli.store import open_existing, store_url
from crmkit.demo.story import demo_fit_model
from crmkit.scoring import default_engagement_model, score_engagement, score_fit

__all__ = ["score"]


def score(
    db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the demo's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Score the engagement (default model) and fit (the demo's model) of every contact.

    Scores go to the score table, where segments read them (``score.engagement >= 20``).

    Example: crmkit score && crmkit segment 'score.engagement >= 20'
    """
    with open_existing(store_url(db)) as store, progress_bar(not as_json) as progress:
        engaged = score_engagement(
            store,
            default_engagement_model(),
            progress=lambda d, t: progress("engagement", d, t or 0),
        )
        fitted = score_fit(
            store, demo_fit_model(), progress=lambda d, t: progress("fit", d, t or 0)
        )
    if as_json:
        print(json.dumps({"engagement": engaged.scored, "fit": fitted.scored,
                          "without_activity": engaged.without_activity}))  # fmt: skip
        return
    console.print(
        f"Scored engagement of {engaged.scored:,} contacts ({engaged.without_activity:,} "
        f"without activities) and fit of {fitted.scored:,}, "
        f"as of {engaged.as_of:%Y-%m-%d %H:%M} UTC."
    )
