"""Who gets a new record: assignment rules as data, evaluated in order, with a fallback owner.

``AssignmentRules.from_dict`` reads them (every problem listed at once)::

    {"name": "new leads", "applies_to": "lead", "fallback": "queue",
     "rules": [
        {"name": "DACH", "when": 'country in ("DE", "AT", "CH")',
         "round_robin": ["anna", "ben"]},
        {"name": "enterprise", "when": "employees >= 1000",
         "weighted": {"carla": 2, "dan": 1}},
        {"name": "everyone else", "least_loaded": ["eve", "fay"], "cap": 25}]}

A rule applies when its ``when`` (the segment language, on the record's own fields: country,
region, postal code prefixes with ``starts with``, title, industry, size) holds, or always
without one. Its people share the records by one strategy:

- ``round_robin``: in turn; ``weighted``: in proportion to each person's weight. Both keep a
  stored rotation (stride scheduling: each person has a pass that grows by 1 / weight per
  record; the smallest available pass goes next). A person who was unavailable (out of
  office) or is new comes back at the pass of the least-served available person, so nobody
  is flooded on return and nobody is starved: among the people available throughout, each
  stays within one record of their share. The rotation is read and written in the unit of
  work with a lock on its row, so two processes assigning at once stay fair.
- ``least_loaded``: the person with the fewest open records of the kind (leads new, working
  or nurturing; deals without `closed_at`; contacts and companies: all), skipping anyone at
  ``cap``; ties go to the name first in the list.
- ``owner``: always one person.

People listed as unavailable are skipped. When a rule applies but nobody in it can take the
record, the fallback owner gets it and the decision says why. `assign` writes the owner
(the record's history keeps who had it before) and returns the `Assignment` with its reason.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from crmkit.errors import CrmkitError, Problem, ValidationError
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import require_attributes, require_instance

__all__ = ["Assignment", "AssignmentRule", "AssignmentRules", "assign"]

_STRATEGIES = ("round_robin", "weighted", "least_loaded", "owner")
_KINDS = ("lead", "deal", "contact", "company")
_OPEN = {
    "lead": 'status in ("new", "working", "nurturing")',
    "deal": "closed_at is empty",
}


@attrs.frozen
class AssignmentRule:
    """One rule: when it applies, whom it may choose and how.

    Attributes:
        name: Its name, for the decision's reason.
        when: Segment text on the record, or None (always).
        strategy: ``round_robin``, ``weighted``, ``least_loaded`` or ``owner``.
        weights: Each person's weight (1 for everyone but in ``weighted``), in order.
        cap: For ``least_loaded``, the most open records a person may hold.
    """

    name: str
    when: str | None
    strategy: str
    weights: tuple[tuple[str, int], ...]
    cap: int | None = None

    @property
    def people(self) -> tuple[str, ...]:
        """The people of the rule, in order."""
        return tuple(person for person, _weight in self.weights)


@attrs.frozen
class AssignmentRules:
    """An ordered list of rules for one kind of record, and a fallback owner.

    Build it with `from_dict`, which checks everything.

    Attributes:
        name: The rules' name (their rotations are stored under it).
        applies_to: ``lead``, ``deal``, ``contact`` or ``company``.
        rules: The rules, tried in order.
        fallback: Who gets a record no rule gives to anyone.
    """

    name: str
    applies_to: str
    rules: tuple[AssignmentRule, ...]
    fallback: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssignmentRules:
        """Read the dict / JSON / TOML form (see the module docstring).

        Raises:
            ValidationError: Listing every problem, each naming its place
                (``rules[1].weighted.carla``).
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("rules", data, "is not a mapping")
        problems: list[Problem] = []
        for key in data:
            if key not in ("name", "applies_to", "rules", "fallback"):
                problems.append(Problem(key, key, "is not a field of assignment rules"))
        name = _person(data.get("name"), "name", problems)
        kind = data.get("applies_to")
        if kind not in _KINDS:
            problems.append(Problem("applies_to", kind, f"is not one of {', '.join(_KINDS)}"))
        fallback = _person(data.get("fallback"), "fallback", problems)
        raw_rules = data.get("rules")
        rules: list[AssignmentRule] = []
        if not isinstance(raw_rules, list | tuple) or not raw_rules:
            problems.append(Problem("rules", raw_rules, "is not a non-empty list of rules"))
        else:
            for i, raw in enumerate(raw_rules):
                rule = _rule(raw, f"rules[{i}]", kind if isinstance(kind, str) else "", problems)
                if rule is not None:
                    rules.append(rule)
            names = [rule.name for rule in rules]
            for dup in sorted({n for n in names if names.count(n) > 1}):
                problems.append(Problem("rules", dup, "names two rules"))
        if problems:
            raise ValidationError(problems)
        return cls(str(name), str(kind), tuple(rules), str(fallback))

    def to_dict(self) -> dict[str, Any]:
        """Return the plain form `from_dict` reads."""
        rules = []
        for rule in self.rules:
            item: dict[str, Any] = {"name": rule.name}
            if rule.when is not None:
                item["when"] = rule.when
            if rule.strategy == "weighted":
                item["weighted"] = dict(rule.weights)
            elif rule.strategy == "owner":
                item["owner"] = rule.people[0]
            else:
                item[rule.strategy] = list(rule.people)
            if rule.cap is not None:
                item["cap"] = rule.cap
            rules.append(item)
        return {
            "name": self.name,
            "applies_to": self.applies_to,
            "rules": rules,
            "fallback": self.fallback,
        }


@attrs.frozen
class Assignment:
    """Who got a record, by which rule, and why.

    Attributes:
        record_id: The record.
        owner: Who owns it now.
        rule: The rule that chose (None when the fallback owner got it).
        reason: Why, in words.
        previous: Who owned it before (None if nobody).
    """

    record_id: Any
    owner: str
    rule: str | None
    reason: str
    previous: str | None


def assign(
    uow: UnitOfWork,
    rules: AssignmentRules,
    record: Entity,
    *,
    unavailable: Iterable[str] = (),
) -> Assignment:
    """Choose the owner of a stored `record` by `rules`, store it, and say why.

    The owner is written with an update (history keeps the previous one) and the rotation
    the rule used is advanced in the same unit of work: all or nothing.

    Args:
        uow: A writing unit of work.
        rules: The rules.
        record: The stored record (of the rules' kind).
        unavailable: People who cannot take records now (out of office).

    Raises:
        ValidationError: For arguments of the wrong type or kind.
        ConcurrencyError: When the record changed since it was read.
    """
    require_attributes(uow, "uow", ("repository", "calendars"), "a UnitOfWork")
    require_instance(rules, AssignmentRules, "rules")
    if not isinstance(record, KINDS[rules.applies_to].cls):
        raise ValidationError.single("record", record, f"is not a {rules.applies_to}")
    if isinstance(unavailable, str):
        unavailable = (unavailable,)
    away = frozenset(unavailable)
    if not all(isinstance(person, str) for person in away):
        raise ValidationError.single("unavailable", unavailable, "is not a list of people")
    previous = getattr(record, "owner", None)
    for rule in rules.rules:
        if rule.when is not None and not _condition(rule.when, rules.applies_to)(record):
            continue
        chosen, why = _choose(uow, rules, rule, away)
        if chosen is None:
            return _store(
                uow, record, rules.fallback, None,
                f"rule {rule.name!r} applied but {why}: the fallback owner {rules.fallback!r}",
                previous,
            )  # fmt: skip
        return _store(uow, record, chosen, rule.name, f"rule {rule.name!r}: {why}", previous)
    return _store(
        uow, record, rules.fallback, None,
        f"no rule applied: the fallback owner {rules.fallback!r}", previous,
    )  # fmt: skip


def _store(
    uow: UnitOfWork,
    record: Entity,
    owner: str,
    rule: str | None,
    reason: str,
    previous: str | None,
) -> Assignment:
    repository = uow.repository(record.KIND)
    if previous != owner:
        repository.update(record.changed(owner=owner))
    return Assignment(record.id, owner, rule, reason, previous)


def _choose(
    uow: UnitOfWork, rules: AssignmentRules, rule: AssignmentRule, away: frozenset[str]
) -> tuple[str | None, str]:
    available = [(p, w) for p, w in rule.weights if p not in away]
    if not available:
        return None, "nobody in it is available"
    if rule.strategy == "owner":
        return available[0][0], f"always {available[0][0]!r}"
    if rule.strategy == "least_loaded":
        return _least_loaded(uow, rules.applies_to, rule, [p for p, _w in available])
    return _rotate(uow, f"assignment.{rules.name}.{rule.name}", rule, dict(available))


def _rotate(
    uow: UnitOfWork, key: str, rule: AssignmentRule, available: dict[str, int]
) -> tuple[str, str]:
    """Stride scheduling over a stored rotation: the smallest pass among the available."""
    text = uow.claim_state(key)
    state: dict[str, float] = json.loads(text) if text else {}
    present = [state[p] for p in available if p in state]
    floor = min(present) if present else 0.0
    # Newcomers and returners start at the least-served available pass: no flood, no famine.
    passes = {p: max(state.get(p, floor), floor) for p in available}
    order = {p: i for i, p in enumerate(rule.people)}
    chosen = min(available, key=lambda p: (passes[p], order[p]))
    passes[chosen] += 1.0 / available[chosen]
    state.update(passes)
    uow.put_state(key, json.dumps(state, sort_keys=True))
    how = (
        "round robin"
        if rule.strategy == "round_robin"
        else f"weighted round robin ({available[chosen]})"
    )
    return chosen, f"{how}: {chosen!r} was next of {len(available)} available"


def _least_loaded(
    uow: UnitOfWork, kind: str, rule: AssignmentRule, people: list[str]
) -> tuple[str | None, str]:
    from crmkit.segments import parse

    repository = uow.repository(kind)
    open_text = _OPEN.get(kind)
    loads = {}
    for person in people:
        text = f"owner = {json.dumps(person)}"
        if open_text is not None:
            text += f" and {open_text}"
        loads[person] = repository.count(parse(text))
    candidates = [p for p in people if rule.cap is None or loads[p] < rule.cap]
    if not candidates:
        return None, f"everyone available is at the cap of {rule.cap}"
    chosen = min(candidates, key=lambda p: (loads[p], people.index(p)))
    return chosen, f"least loaded: {chosen!r} held {loads[chosen]} open"


@functools.lru_cache(maxsize=256)
def _condition(text: str, kind: str) -> Callable[[Entity], bool]:
    from crmkit.segments import matcher

    test: Callable[[Entity], bool] = matcher(text, kind)
    return test


# -- reading the dict form -------------------------------------------------------------------


def _person(raw: object, where: str, problems: list[Problem]) -> str | None:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        problems.append(Problem(where, raw, "is not a name (1-200 characters)"))
        return None
    return raw


def _rule(raw: object, where: str, kind: str, problems: list[Problem]) -> AssignmentRule | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, raw, "is not a rule"))
        return None
    start = len(problems)
    known = {"name", "when", "cap", *_STRATEGIES}
    problems += [
        Problem(f"{where}.{key}", key, "is not a field of a rule")
        for key in raw
        if key not in known
    ]
    name = _person(raw.get("name"), f"{where}.name", problems)
    when = raw.get("when")
    if when is not None:
        if not isinstance(when, str):
            problems.append(Problem(f"{where}.when", when, "is not segment text"))
        elif kind in _KINDS:
            try:
                _condition(when, kind)
            except CrmkitError as error:
                problems.append(Problem(f"{where}.when", when, f"does not fit a {kind}: {error}"))
    strategies = [s for s in _STRATEGIES if s in raw]
    if len(strategies) != 1:
        problems.append(
            Problem(where, sorted(raw), f"names not exactly one of {', '.join(_STRATEGIES)}")
        )
        return None
    strategy = strategies[0]
    people = raw[strategy]
    weights: list[tuple[str, int]] = []
    if strategy == "owner":
        person = _person(people, f"{where}.owner", problems)
        weights = [(str(person), 1)]
    elif strategy == "weighted":
        if not isinstance(people, Mapping) or not people:
            problems.append(Problem(f"{where}.weighted", people, "is not {person: weight}"))
        else:
            for person, weight in people.items():
                _person(person, f"{where}.weighted", problems)
                if (
                    isinstance(weight, bool)
                    or not isinstance(weight, int)
                    or not 1 <= weight <= 1000
                ):
                    problems.append(
                        Problem(f"{where}.weighted.{person}", weight, "is not a weight 1..1000")
                    )
                weights.append((str(person), weight if isinstance(weight, int) else 1))
    elif not isinstance(people, list | tuple) or not people:
        problems.append(Problem(f"{where}.{strategy}", people, "is not a non-empty list of people"))
    else:
        for person in people:
            _person(person, f"{where}.{strategy}", problems)
            weights.append((str(person), 1))
    listed = [person for person, _w in weights]
    for dup in sorted({p for p in listed if listed.count(p) > 1}):
        problems.append(Problem(f"{where}.{strategy}", dup, "is listed twice"))
    cap = raw.get("cap")
    if cap is not None and (
        strategy != "least_loaded" or isinstance(cap, bool) or not isinstance(cap, int) or cap < 1
    ):
        problems.append(Problem(f"{where}.cap", cap, "is a whole number >= 1 for least_loaded"))
    if len(problems) > start:
        return None
    return AssignmentRule(str(name), when, strategy, tuple(weights), cap)
