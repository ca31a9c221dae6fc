"""Whether a deal is open, won or lost: ``is won``, by the stages of the deal's own pipeline.

A stage wins, loses or keeps a deal open by its pipeline's definition (`Stage.won`,
`Stage.lost`), never by its name, and pipelines are the store's data. So `DealOutcome` is
written without them (``is won``) and expanded once the pipelines are known, by
`outcome_condition`: ``is won`` over pipelines ``sales`` and ``renewals`` becomes

    (pipeline == "renewals" and stage == "renewed")
    or (pipeline == "sales" and stage == "closed_won")

which every evaluator runs as it runs any condition on two text fields. ``is open`` is a
stage among the pipeline's open stages: a deal whose pipeline (or stage) the store does not
know is neither open, won nor lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Protocol

import attrs

from crmkit.conditions.text import fold_text
from crmkit.conditions.tree import (
    And,
    Compare,
    Condition,
    In,
    Not,
    Or,
    register_dict_form,
)
from crmkit.errors import SegmentError

__all__ = ["OUTCOMES", "DealOutcome", "PipelineStages", "outcome_condition", "stage_labels"]

OUTCOMES = ("open", "won", "lost")
"""What `DealOutcome` can test, in the words of the text form (``is open``)."""


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


class PipelineStages(Protocol):
    """What `outcome_condition` reads of a pipeline (`crmkit.pipelines.Pipeline` has it)."""

    @property
    def open_stages(self) -> Iterable[_Keyed]:
        """The stages a deal is still open in."""
        ...

    @property
    def won_stages(self) -> Iterable[_Keyed]:
        """The stages that win a deal."""
        ...

    @property
    def lost_stages(self) -> Iterable[_Keyed]:
        """The stages that lose a deal."""
        ...


_MEANS = {"open": "keep a deal open", "won": "win a deal", "lost": "lose a deal"}


def _outcome(value: object) -> str:
    if not isinstance(value, str) or value not in OUTCOMES:
        raise SegmentError(f"a deal's outcome is one of {', '.join(OUTCOMES)}, not {value!r}")
    return value


@attrs.frozen
class DealOutcome(Condition):
    """The deal is open, won or lost, by the stages its pipeline defines (``is won``).

    It runs only once bound with the store's pipelines (`outcome_condition`): a unit of
    work does that with its own, `crmkit.segments.matcher` and
    `crmkit.conditions.compile_predicate` take them as ``pipelines=``.

    Attributes:
        outcome: ``"open"``, ``"won"`` or ``"lost"``.
    """

    kind: ClassVar[str] = "deal_outcome"
    outcome: str = attrs.field(converter=_outcome)

    def _walk_fields(self) -> Iterator[str]:
        yield "pipeline"
        yield "stage"

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"is": "won"}``."""
        return {"is": self.outcome}

    def __str__(self) -> str:
        return f"is {self.outcome}"


def _load(data: Mapping[str, Any]) -> Condition:
    if set(data) != {"is"}:
        raise SegmentError(f"{dict(data)!r} is not a condition: a deal's outcome is {{'is': ...}}")
    return DealOutcome(data["is"])


register_dict_form("is", _load)


def check_pipelines(pipelines: object) -> Mapping[str, PipelineStages] | None:
    """Return `pipelines` if it is None or a mapping, else raise a `SegmentError`."""
    if pipelines is None or isinstance(pipelines, Mapping):
        return pipelines
    raise SegmentError(
        f"pipelines is the store's pipelines by key (a mapping), not {type(pipelines).__name__}"
    )


def outcome_condition(
    node: DealOutcome, pipelines: Mapping[str, PipelineStages] | None
) -> Condition:
    """Return the condition on ``pipeline`` and ``stage`` that `node` means under `pipelines`.

    Args:
        node: ``is open``, ``is won`` or ``is lost``.
        pipelines: The store's pipelines by key (the key a deal's ``pipeline`` holds).

    Raises:
        SegmentError: When no pipelines are given, or one is not a pipeline.
    """
    if not pipelines:
        raise SegmentError(
            f"'{node}' needs the store's pipelines, to know which stages {_MEANS[node.outcome]}:"
            " none were given (pass pipelines=)"
        )
    check_pipelines(pipelines)
    terms: list[Condition] = []
    for key in sorted(pipelines, key=lambda k: (not isinstance(k, str), str(k))):
        stages = _stage_keys(key, pipelines[key], node.outcome)
        if not stages:
            continue
        stage: Condition = (
            Compare("stage", "==", stages[0]) if len(stages) == 1 else In("stage", stages)
        )
        terms.append(And([Compare("pipeline", "==", key), stage]))
    if not terms:  # a Pipeline always has open, won and lost stages; a stand-in may not
        raise SegmentError(f"'{node}': no pipeline given has {node.outcome} stages")
    return terms[0] if len(terms) == 1 else Or(terms)


def _stage_keys(key: object, pipeline: object, outcome: str) -> list[str]:
    if not isinstance(key, str):
        raise SegmentError(f"pipelines are keyed by their key (text), not {key!r}")
    own = getattr(pipeline, "key", key)
    if own != key:
        raise SegmentError(f"pipelines[{key!r}] is the pipeline {own!r}: key each by its own key")
    try:
        stages = getattr(pipeline, f"{outcome}_stages")
        keys = [stage.key for stage in stages]
    except (AttributeError, TypeError):
        raise SegmentError(
            f"pipelines[{key!r}] is not a pipeline: it has no {outcome} stages"
        ) from None
    if not all(isinstance(k, str) for k in keys):
        raise SegmentError(f"pipelines[{key!r}] has a stage whose key is not text")
    return keys


def stage_labels(node: Condition, pipelines: Mapping[str, PipelineStages] | None) -> Condition:
    """Return `node` with stages named by label turned into the stage keys they label.

    ``stage = "Closed Won"`` reads as a person sees the pipeline; with the store's pipelines
    it becomes ``(pipeline == "sales" and stage == "closed_won")`` (one term per pipeline
    that has a stage so labelled). A value that is some pipeline's stage key stays a key,
    and a value that is neither stays as written (it matches no deal). Labels match
    ignoring the case of A-Z. Applies to ``=``, ``!=``, ``in`` and ``not in`` on
    ``stage``; anything else, or no pipelines, returns `node` unchanged.
    """
    if not pipelines or not isinstance(node, Compare | In) or node.field != "stage":
        return node
    if isinstance(node, Compare) and node.operator not in ("==", "!="):
        return node
    values = [node.value] if isinstance(node, Compare) else list(node.values)
    keys: set[str] = set()
    labelled: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(k for k in pipelines if isinstance(k, str)):
        for stage in getattr(pipelines[key], "stages", ()):
            keys.add(stage.key)
            labelled.setdefault(fold_text(str(stage.label)), []).append((key, stage.key))
    plain: list[object] = []
    terms: list[Condition] = []
    for value in values:
        found = labelled.get(fold_text(value)) if isinstance(value, str) else None
        if isinstance(value, str) and value not in keys and found:
            terms.extend(
                And([Compare("pipeline", "==", pipeline), Compare("stage", "==", stage)])
                for pipeline, stage in found
            )
        else:
            plain.append(value)
    if not terms:
        return node
    if plain:
        terms.insert(0, Compare("stage", "==", plain[0]) if len(plain) == 1 else In("stage", plain))
    either = terms[0] if len(terms) == 1 else Or(terms)
    negated = node.operator == "!=" if isinstance(node, Compare) else node.negated
    return Not(either) if negated else either
