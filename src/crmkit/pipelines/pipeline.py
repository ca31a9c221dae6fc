"""Pipelines as data: ordered stages, the moves allowed between them, and moving deals.

A `Pipeline` never lives inside a deal: a deal holds its pipeline's key, its stage's key and
its stage history, and the pipeline moves it, returning a new frozen deal and an event. The
allowed moves are computed once per pipeline into a table of dict lookups.

Which moves are allowed (from an open stage; a closed deal moves only through `reopen`):

* `transitions` given: exactly the targets it lists for each stage.
* otherwise, ``allow_skipping=True`` (the default): any other stage, open or closed.
* otherwise (``allow_skipping=False``): the next open stage, any earlier open stage (going
  back), or any closed stage (a deal can be won or lost from anywhere).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from crmkit.clock import Clock, default_clock
from crmkit.conditions import compile_predicate
from crmkit.definitions import dump_json, dump_toml, load_each, load_json, load_toml
from crmkit.errors import Problem, TransitionError, ValidationError
from crmkit.model.deal import Deal, StageStay
from crmkit.model.entity import carry_storable
from crmkit.model.fast_records import builder, evolver
from crmkit.model.frozen_map import FrozenMap
from crmkit.pipelines.events import Moved, StageChanged
from crmkit.pipelines.stage import DEAL_FIELDS, Stage, describe_requirement
from crmkit.values.arguments import as_items, item_problems
from crmkit.values.temporal import require_instance

__all__ = ["DEAL_FIELDS", "Pipeline"]

_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")

Transitions = FrozenMap[str, tuple[str, ...]]


def _transitions(value: object) -> Transitions | None:
    if value is None or isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap({key: _targets(targets) for key, targets in value.items()})
    return value  # type: ignore[return-value]  # reported as a problem after init


def _targets(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items = as_items(value)
    # Not a collection: kept as given, reported as a problem after init.
    return value if items is None else items  # type: ignore[return-value]


def _stages(value: Iterable[Stage]) -> tuple[Stage, ...]:
    # Not a collection: kept as given, refused with the other problems after init.
    items = as_items(value)
    return value if items is None else items  # type: ignore[return-value]


# Positional builders: a move calls each once, and keyword arguments cost more to pass.
_left = evolver(StageStay, ("left_at",), positional=True)
_new_stay = builder(StageStay, positional=True)
_moved = evolver(Deal, ("stage", "stage_history", "closed_at", "updated_at"), positional=True)
_new_event = builder(StageChanged, positional=True)
_new_moved = builder(Moved, positional=True)


class _At:
    """A clock that shows one instant, so a move and the changes it makes share a time."""

    __slots__ = ("at",)

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


@attrs.frozen
class Pipeline:
    """A named, ordered set of stages and the rules for moving deals between them.

    Args:
        key: The stable key stored on deals (``"sales"``).
        label: The name people see (``"New business"``).
        stages: The stages in order; at least one open, one won and one lost stage.
        allow_skipping: With no `transitions`, whether an open stage may move to any stage
            (True) or only to the next open one, back, or to a closed one (False).
        transitions: Explicit moves: stage key → the stage keys it may move to.

    Raises:
        ValidationError: Listing every problem of the definition at once: ``stages`` when
            it is not a collection of stages (``stages[i]`` for an item that is not a
            `Stage`), ``transitions.<key>`` for targets that are not stage keys, and so on.
    """

    key: str
    label: str
    stages: tuple[Stage, ...] = attrs.field(converter=_stages)
    allow_skipping: bool = True
    transitions: Transitions | None = attrs.field(default=None, converter=_transitions)
    _by_key: dict[str, Stage] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _moves: dict[str, frozenset[str]] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _checks: dict[str, Callable[[Deal], bool] | None] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValidationError(problems)
        by_key = {stage.key: stage for stage in self.stages}
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_moves", _move_table(self))
        object.__setattr__(
            self,
            "_checks",
            {
                s.key: None if s.requires is None else compile_predicate(s.requires, Deal)
                for s in self.stages
            },
        )

    # -- looking up ------------------------------------------------------------------------

    def stage(self, key: str) -> Stage:
        """Return the stage with `key`.

        Raises:
            KeyError: When the pipeline has no such stage.
        """
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The stages a deal is still open in, in order."""
        return tuple(s for s in self.stages if not s.is_closed)

    @property
    def initial_stage(self) -> Stage:
        """The first open stage: where new deals start by default."""
        return next(s for s in self.stages if not s.is_closed)

    @property
    def won_stages(self) -> tuple[Stage, ...]:
        """The stages that win a deal."""
        return tuple(s for s in self.stages if s.won)

    @property
    def lost_stages(self) -> tuple[Stage, ...]:
        """The stages that lose a deal."""
        return tuple(s for s in self.stages if s.lost)

    def allowed_moves(self, key: str) -> tuple[str, ...]:
        """The stage keys a deal in stage `key` may move to, in pipeline order."""
        targets = self._moves.get(key, frozenset())
        return tuple(s.key for s in self.stages if s.key in targets)

    def can_move(self, from_stage: str, to_stage: str) -> bool:
        """Whether the pipeline allows a move from one stage to another."""
        return to_stage in self._moves.get(from_stage, ())

    # -- probability -----------------------------------------------------------------------

    def probability(self, deal: Deal) -> float:
        """Return the deal's win probability: its override when set, else its stage's.

        Raises:
            KeyError: When the deal's stage is not in this pipeline.
        """
        if deal.probability_override is not None:
            return deal.probability_override
        return self._by_key[deal.stage].probability

    def probability_source(self, deal: Deal) -> Literal["stage", "override"]:
        """Say where `probability` comes from: ``"override"`` or ``"stage"``."""
        return "stage" if deal.probability_override is None else "override"

    # -- creating and checking deals -------------------------------------------------------

    def validate_deal(self, deal: Deal) -> None:
        """Check that a deal belongs here, its stage exists and meets its requirements.

        Raises:
            ValidationError: Listing every problem (each unmet requirement separately).
        """
        problems = []
        if deal.pipeline != self.key:
            problems.append(Problem("pipeline", deal.pipeline, f"is not {self.key!r}"))
        stage = self._by_key.get(deal.stage)
        if stage is None:
            problems.append(
                Problem("stage", deal.stage, f"is not a stage of pipeline {self.key!r}")
            )
        else:
            for part in stage.requirements:
                if not compile_predicate(part, Deal)(deal):
                    field = part.fields()[0] if part.fields() else "stage"
                    problems.append(
                        Problem(field, None, f"{describe_requirement(part)} in {stage.label}")
                    )
            if stage.is_closed != (deal.closed_at is not None):
                problems.append(
                    Problem("closed_at", deal.closed_at, f"does not fit stage {stage.label}")
                )
        if problems:
            raise ValidationError(problems)

    def open_deal(
        self,
        *,
        name: str,
        stage: str | None = None,
        by: str | None = None,
        clock: Clock | None = None,
        **fields: Any,
    ) -> Deal:
        """Create a deal in this pipeline (in its first open stage by default) and check it.

        The first stay of its history records who opened it, the probability and the
        forecast category.

        Args:
            name: What the deal is.
            stage: The open stage to start in; the initial stage when None.
            by: Who opened it.
            clock: Where "now" comes from.
            **fields: Anything else `Deal.create` takes (amount, currency, company_id, ...).

        Raises:
            ValidationError: Listing every problem with the values or the stage.
        """
        key = self.initial_stage.key if stage is None else stage
        target = self._by_key.get(key)
        if target is not None and target.is_closed:
            raise ValidationError.single("stage", key, "is a closed stage: open deals start open")
        deal = Deal.create(name=name, pipeline=self.key, stage=key, clock=clock, **fields)
        self.validate_deal(deal)
        assert target is not None
        first = attrs.evolve(
            deal.stage_history[0],
            moved_by=by,
            probability=self.probability(deal),
            forecast_category=target.forecast_category,
        )
        return attrs.evolve(deal, stage_history=(first,))

    # -- moving ----------------------------------------------------------------------------

    def move(
        self,
        deal: Deal,
        to: str,
        *,
        by: str | None = None,
        note: str | None = None,
        clock: Clock | None = None,
        **changes: Any,
    ) -> Moved:
        """Move a deal to stage `to`, applying `changes` first, and return it with the event.

        The current stay is closed at "now" and a new one begins, recording who moved it,
        the amount, expected close date, probability and forecast category; entering a won
        or lost stage sets `closed_at`. A refused move changes nothing.

        Args:
            deal: The deal (of this pipeline).
            to: The stage key to move to.
            by: Who moved it (the app's user id).
            note: Why.
            clock: Where "now" comes from.
            **changes: Fields to change with the move (``lost_reason=``, ``amount=``), as
                `Deal.changed` takes them.

        Returns:
            `Moved` with the new deal and a `StageChanged` event.

        Raises:
            TransitionError: For an unknown stage, a closed deal, a move the pipeline does
                not allow, or unmet requirements (all listed in `unmet`).
            ValidationError: When `deal` is not a Deal (naming ``deal``) or `changes` are
                not valid deal values.
        """
        require_instance(deal, Deal, "deal")
        targets = self._moves.get(deal.stage)
        if targets is None or to not in targets or deal.pipeline != self.key or deal.closed_at:
            self._refuse(deal, to)
        now = (default_clock if clock is None else clock).now()
        if changes:
            deal = deal.changed(clock=_At(now), **changes)
        check = self._checks[to]
        target = self._by_key[to]
        if check is not None and not check(deal):
            raise TransitionError(f"cannot move deal to {target.label}", unmet=target.unmet(deal))
        return self._enter(deal, target, now, by, note, None)

    def reopen(
        self,
        deal: Deal,
        stage: str,
        *,
        by: str | None = None,
        note: str | None = None,
        clock: Clock | None = None,
        **changes: Any,
    ) -> Moved:
        """Bring a closed (won or lost) deal back into open stage `stage`.

        Clears `closed_at` and `lost_reason`; otherwise works like `move`.

        Raises:
            TransitionError: When the deal is not closed, or `stage` is not an open stage
                of this pipeline, or its requirements are not met.
        """
        target = self._by_key.get(stage)
        if deal.pipeline != self.key:
            raise TransitionError(f"deal is in pipeline {deal.pipeline!r}, not {self.key!r}")
        if deal.closed_at is None:
            raise TransitionError("only a closed deal can be reopened: use move")
        if target is None or target.is_closed:
            raise TransitionError(f"{stage!r} is not an open stage of pipeline {self.key!r}")
        now = (default_clock if clock is None else clock).now()
        deal = deal.changed(clock=_At(now), **{"lost_reason": None, **changes})
        unmet = target.unmet(deal)
        if unmet:
            raise TransitionError(f"cannot reopen deal in {target.label}", unmet=unmet)
        return self._enter(attrs.evolve(deal, closed_at=None), target, now, by, note, None)

    def transfer(
        self,
        deal: Deal,
        other: Pipeline,
        *,
        mapping: Mapping[str, str] | None = None,
        by: str | None = None,
        note: str | None = None,
        clock: Clock | None = None,
        **changes: Any,
    ) -> Moved:
        """Move an open deal into another pipeline, to the stage `mapping` names for its stage.

        Args:
            deal: An open deal of this pipeline.
            other: The pipeline to move it to.
            mapping: This pipeline's stage key → `other`'s stage key; a stage it does not
                name maps to the stage with the same key in `other`, if there is one.
            by: Who moved it.
            note: Why.
            clock: Where "now" comes from.
            **changes: Fields to change with the move.

        Raises:
            TransitionError: For a closed deal, a stage with no target, or unmet
                requirements of the target stage.
        """
        if deal.pipeline != self.key:
            raise TransitionError(f"deal is in pipeline {deal.pipeline!r}, not {self.key!r}")
        if deal.closed_at is not None:
            raise TransitionError("a closed deal cannot change pipeline: reopen it first")
        key = (mapping or {}).get(deal.stage, deal.stage)
        if key not in other._by_key:
            raise TransitionError(
                f"stage {deal.stage!r} maps to no stage of pipeline {other.key!r}",
                unmet=[f"give mapping[{deal.stage!r}]: one of {', '.join(other._by_key)}"],
            )
        target = other._by_key[key]
        now = (default_clock if clock is None else clock).now()
        deal = deal.changed(clock=_At(now), pipeline=other.key, **changes)
        unmet = target.unmet(deal)
        if unmet:
            raise TransitionError(f"cannot transfer deal to {target.label}", unmet=unmet)
        return other._enter(deal, target, now, by, note, self.key)

    def _enter(
        self,
        deal: Deal,
        target: Stage,
        now: dt.datetime,
        by: str | None,
        note: str | None,
        from_pipeline: str | None,
    ) -> Moved:
        history = deal.stage_history
        override = deal.probability_override
        probability = target.probability if override is None else override
        amount = deal.amount
        # Fields in class order: stage, entered_at, left_at, moved_by, amount,
        # expected_close, probability, forecast_category, note.
        stay = _new_stay(
            target.key,
            now,
            None,
            by,
            amount,
            deal.expected_close,
            probability,
            target.forecast_category,
            note,
        )
        if history:
            last = history[-1]
            if now < last.entered_at:
                raise TransitionError(
                    "cannot move deal: the clock reads before it entered its current stage"
                )
            history = (*history[:-1], _left(last, now), stay)
        else:
            history = (stay,)
        moved = _moved(deal, target.key, history, now if target.won or target.lost else None, now)
        carry_storable(deal, moved, by, note)  # a store need not walk the moved deal again
        # Fields in class order: deal_id, pipeline, from_stage, to_stage, at, by, note,
        # amount, probability, from_pipeline.
        event = _new_event(
            deal.id,
            self.key,
            deal.stage,
            target.key,
            now,
            by,
            note,
            amount,
            probability,
            from_pipeline,
        )
        return _new_moved(moved, event)

    def _refuse(self, deal: Deal, to: str) -> None:
        if deal.pipeline != self.key:
            raise TransitionError(f"deal is in pipeline {deal.pipeline!r}, not {self.key!r}")
        if to not in self._by_key:
            raise TransitionError(
                f"{to!r} is not a stage of pipeline {self.key!r}",
                unmet=[f"choose one of {', '.join(self._by_key)}"],
            )
        if deal.stage not in self._by_key:
            raise TransitionError(f"deal's stage {deal.stage!r} is not in pipeline {self.key!r}")
        if deal.closed_at is not None or self._by_key[deal.stage].is_closed:
            raise TransitionError(
                f"deal is closed ({self._by_key[deal.stage].label}): use reopen to move it"
            )
        if to == deal.stage:
            raise TransitionError(f"deal is already in {self._by_key[to].label}")
        allowed = ", ".join(self.allowed_moves(deal.stage)) or "nothing"
        raise TransitionError(
            f"pipeline {self.key!r} does not allow moving from {deal.stage!r} to {to!r}",
            unmet=[f"allowed from {deal.stage!r}: {allowed}"],
        )

    # -- plain data ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as plain data (no None anywhere, so TOML can hold it)."""
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "allow_skipping": self.allow_skipping,
            "stages": [stage.to_dict() for stage in self.stages],
        }
        if self.transitions is not None:
            data["transitions"] = {k: list(v) for k, v in self.transitions.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pipeline:
        """Load a definition written by `to_dict` (or by hand).

        Raises:
            ValidationError: Listing every problem, stage problems prefixed ``stages[i]``.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("pipeline", data, "is not a mapping")
        problems = [
            Problem(str(k), data[k], "is not a pipeline setting")
            for k in data
            if k not in ("key", "label", "allow_skipping", "stages", "transitions")
        ]
        problems.extend(Problem(k, None, "is required") for k in ("key", "label") if k not in data)
        raw_stages = data.get("stages", [])
        if not isinstance(raw_stages, list | tuple):
            problems.append(Problem("stages", raw_stages, "is not a list of stages"))
            raw_stages = []
        stages = load_each(raw_stages, "stages", Stage.from_dict, problems)
        values = {
            k: data[k] for k in ("key", "label", "allow_skipping", "transitions") if k in data
        }
        try:
            pipeline = cls(stages=stages, **{"key": "", "label": "", **values})
        except ValidationError as error:
            partial = len(stages) != len(raw_stages)
            problems.extend(p for p in error.problems if not (partial and p.field == "stages"))
        else:
            if not problems:
                return pipeline
        raise ValidationError(problems)

    def to_json(self) -> str:
        """Return the definition as JSON text."""
        return dump_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Pipeline:
        """Load a definition from JSON text."""
        return cls.from_dict(load_json(text, "pipeline"))

    def to_toml(self) -> str:
        """Return the definition as TOML text (needs the ``toml`` extra).

        Raises:
            MissingExtraError: When tomli-w is not installed.
        """
        return dump_toml(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> Pipeline:
        """Load a definition from TOML text."""
        return cls.from_dict(load_toml(text, "pipeline"))


def _problems(pipeline: Pipeline) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(pipeline.key, str) or not _KEY.match(pipeline.key):
        problems.append(
            Problem("key", pipeline.key, "is not a pipeline key (lowercase letters, digits, _ -)")
        )
    if not isinstance(pipeline.label, str) or not pipeline.label.strip():
        problems.append(Problem("label", pipeline.label, "must be non-blank text"))
    if not isinstance(pipeline.allow_skipping, bool):
        problems.append(Problem("allow_skipping", pipeline.allow_skipping, "is not True/False"))
    stages = pipeline.stages
    if not isinstance(stages, tuple):
        return [*problems, Problem("stages", stages, "is not a collection of stages")]
    wrong = item_problems(stages, "stages", Stage)
    if wrong:
        return [*problems, *wrong]
    keys = [s.key for s in stages]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        problems.append(Problem("stages", repeated, "are stage keys used more than once"))
    if not any(not s.is_closed for s in stages):
        problems.append(Problem("stages", keys, "has no open stage"))
    if not any(s.won for s in stages):
        problems.append(Problem("stages", keys, "has no won stage"))
    if not any(s.lost for s in stages):
        problems.append(Problem("stages", keys, "has no lost stage"))
    problems.extend(_transition_problems(pipeline, set(keys)))
    if not problems:
        table = _move_table(pipeline)
        reached = _reachable(pipeline, table)
        for stage in stages:
            if stage.key not in reached:
                problems.append(Problem("stages", stage.key, "is a stage no move can reach"))
    return problems


def _transition_problems(pipeline: Pipeline, keys: set[str]) -> list[Problem]:
    transitions = pipeline.transitions
    if transitions is None:
        return []
    if not isinstance(transitions, FrozenMap):
        return [Problem("transitions", transitions, "is not a mapping of stage → stages")]
    problems = []
    closed = {s.key for s in pipeline.stages if s.is_closed}
    for source, targets in transitions.items():
        if not isinstance(targets, tuple):
            problems.append(
                Problem(f"transitions.{source}", targets, "is not a stage key or a list of them")
            )
            continue
        if source not in keys:
            problems.append(Problem("transitions", source, "is not a stage key"))
        elif source in closed and targets:
            problems.append(
                Problem(f"transitions.{source}", targets, "closed stages move only by reopen")
            )
        for target in targets:
            if not isinstance(target, str) or target not in keys:
                problems.append(Problem(f"transitions.{source}", target, "is not a stage key"))
            elif target == source:
                problems.append(Problem(f"transitions.{source}", target, "is a move to itself"))
    return problems


def _move_table(pipeline: Pipeline) -> dict[str, frozenset[str]]:
    stages = pipeline.stages
    open_keys = [s.key for s in stages if not s.is_closed]
    closed_keys = [s.key for s in stages if s.is_closed]
    table: dict[str, frozenset[str]] = {key: frozenset() for key in closed_keys}
    for i, key in enumerate(open_keys):
        if pipeline.transitions is not None:
            targets = set(pipeline.transitions.get(key, ()))
        elif pipeline.allow_skipping:
            targets = {s.key for s in stages} - {key}
        else:
            targets = {*open_keys[:i], *open_keys[i + 1 : i + 2], *closed_keys}
        table[key] = frozenset(targets)
    return table


def _reachable(pipeline: Pipeline, table: Mapping[str, frozenset[str]]) -> set[str]:
    start = next((s.key for s in pipeline.stages if not s.is_closed), None)
    if start is None:
        return set()
    seen = {start}
    todo = [start]
    while todo:
        for target in table.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
