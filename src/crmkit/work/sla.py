"""Service-level clocks: "first touch of a new lead within 4 business hours, warn at 75 %".

An `SlaPolicy` is data (``SlaPolicy.from_dict``, every problem listed at once): which kind of
record it applies to, what starts its clock, what stops it, an optional field whose values
pause it ("waiting on the customer"), a target in business time and a warning threshold.
`sla_clock` computes a record's clock at any instant from the record, its activities and its
audit history, so a clock is right for data imported with its past as well as for live data:

- **start**: ``{"on": "created"}``; ``{"on": "stage_entered", "stage": "proposal"}`` (a deal,
  its latest entry into the stage); ``{"on": "field_changed", "field": "status", "to":
  ["working"]}`` (the latest such change in the history);
- **stop**: ``{"on": "activity", "where": 'direction = "outbound"'}`` (the first matching
  activity at or after the start; the condition is the segment language on activities);
  ``{"on": "stage_left"}`` (the started stay's end); ``{"on": "field_changed", ...}`` (the
  first such change after the start);
- **pause**: ``{"field": "status", "values": ["waiting"]}``: business time while the field
  holds one of the values does not count (from the history).

Elapsed time is business time in the policy's calendar (`crmkit.work.calendar`). States: a
stopped clock is ``met`` when the elapsed time is at most the target, else ``breached``; a
running one is ``breached`` past the target, else ``paused`` while paused, else ``warning``
from the threshold on, else ``ok``. `SlaClock.warns_at` / `breaches_at` say when (in the past
when it already happened); they are None when unknowable (a paused clock that has not reached
them) or moot (a met clock that never reached them).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from crmkit.errors import CrmkitError, Problem, ValidationError
from crmkit.model.activity import Activity
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS
from crmkit.storage.protocol import HistoryEntry, Store
from crmkit.values.arguments import check_items, require_attributes, require_instance
from crmkit.values.temporal import require_instant
from crmkit.work.calendar import BusinessTime

__all__ = [
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "Trigger",
    "first_touch_policy",
    "sla_clock",
    "sla_clocks",
    "sla_summary",
]

_STARTS = ("created", "stage_entered", "field_changed")
_STOPS = ("activity", "stage_left", "field_changed")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_KINDS_WITH_ACTIVITIES = ("contact", "company", "deal", "lead")


class SlaState(enum.StrEnum):
    """Where a service-level clock stands."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"


@attrs.frozen
class Trigger:
    """What starts or stops a clock (see the module docstring for each kind).

    Attributes:
        on: ``created``, ``stage_entered``, ``stage_left``, ``activity`` or ``field_changed``.
        stage: The stage, for ``stage_entered``.
        where: The activities that count, for ``activity`` (segment text; all when None).
        field: The field, for ``field_changed``.
        to: The new values that count, for ``field_changed`` (any change when empty).
    """

    on: str
    stage: str | None = None
    where: str | None = None
    field: str | None = None
    to: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the plain form `SlaPolicy.from_dict` reads."""
        data: dict[str, Any] = {"on": self.on}
        for name in ("stage", "where", "field"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.to:
            data["to"] = list(self.to)
        return data


@attrs.frozen
class SlaPolicy:
    """A service level as data. Build it with `from_dict`, which checks everything.

    Attributes:
        name: A lower-case identifier (``first_touch``).
        applies_to: The kind of record: ``lead``, ``deal``, ``contact`` or ``company``.
        start: What starts the clock.
        stop: What stops it.
        target: The business time allowed.
        warn_at: The share of the target from which the clock warns (0 < warn_at <= 1).
        pause_field: A field whose values in `pause_values` pause the clock.
        pause_values: Those values.
        calendar: The name of the stored calendar to count in (the store's own when None).
    """

    name: str
    applies_to: str
    start: Trigger
    stop: Trigger
    target: dt.timedelta
    warn_at: float = 0.75
    pause_field: str | None = None
    pause_values: tuple[str, ...] = ()
    calendar: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Read a policy's dict / JSON / TOML form.

        Example: ``{"name": "first_touch", "applies_to": "lead", "start": {"on": "created"},
        "stop": {"on": "activity", "where": 'direction = "outbound"'}, "target": "4h",
        "warn_at": 0.75, "pause": {"field": "status", "values": ["waiting"]}}``. The target
        is business time: ``"4h"``, ``"90m"``, ``"2h30m"``.

        Raises:
            ValidationError: Listing every problem, each naming its field.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("policy", data, "is not a mapping")
        problems: list[Problem] = []
        known = {"name", "applies_to", "start", "stop", "target", "warn_at", "pause", "calendar"}
        problems += [Problem(key, key, "is not a policy field") for key in data if key not in known]
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(Problem("name", name, "is not a lower-case identifier"))
        kind = data.get("applies_to")
        if kind not in _KINDS_WITH_ACTIVITIES:
            problems.append(
                Problem("applies_to", kind, f"is not one of {', '.join(_KINDS_WITH_ACTIVITIES)}")
            )
        kind_name = kind if isinstance(kind, str) else ""
        start = _trigger(data.get("start"), "start", _STARTS, kind_name, problems)
        stop = _trigger(data.get("stop"), "stop", _STOPS, kind_name, problems)
        if (
            stop is not None
            and stop.on == "stage_left"
            and (start is None or start.on != "stage_entered")
        ):
            problems.append(Problem("stop.on", "stage_left", "needs a stage_entered start"))
        target = _duration(data.get("target"), problems)
        warn_at = data.get("warn_at", 0.75)
        if (
            isinstance(warn_at, bool)
            or not isinstance(warn_at, int | float)
            or not 0 < warn_at <= 1
        ):
            problems.append(Problem("warn_at", warn_at, "is not a share between 0 and 1"))
        pause = data.get("pause")
        pause_field: str | None = None
        pause_values: tuple[str, ...] = ()
        if pause is not None:
            if not isinstance(pause, Mapping) or set(pause) != {"field", "values"}:
                problems.append(Problem("pause", pause, "is not {field, values}"))
            else:
                pause_field = _field(pause["field"], "pause.field", kind_name, problems)
                pause_values = _texts(pause["values"], "pause.values", problems)
        calendar = data.get("calendar")
        if calendar is not None and (not isinstance(calendar, str) or not calendar.strip()):
            problems.append(Problem("calendar", calendar, "is not a calendar name"))
        if problems or start is None or stop is None or target is None:
            raise ValidationError(problems or [Problem("policy", data, "is incomplete")])
        return cls(
            name=str(name),
            applies_to=kind_name,
            start=start,
            stop=stop,
            target=target,
            warn_at=float(warn_at),
            pause_field=pause_field,
            pause_values=pause_values,
            calendar=calendar,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the plain form `from_dict` reads."""
        minutes = int(self.target / dt.timedelta(minutes=1))
        data: dict[str, Any] = {
            "name": self.name,
            "applies_to": self.applies_to,
            "start": self.start.to_dict(),
            "stop": self.stop.to_dict(),
            "target": f"{minutes // 60}h{minutes % 60}m",
            "warn_at": self.warn_at,
        }
        if self.pause_field is not None:
            data["pause"] = {"field": self.pause_field, "values": list(self.pause_values)}
        if self.calendar is not None:
            data["calendar"] = self.calendar
        return data


@attrs.frozen
class SlaClock:
    """One record's clock under one policy, at one instant.

    Attributes:
        policy: The policy's name.
        record_id: The record.
        state: ok, warning, breached, met or paused.
        started_at: When it started.
        stopped_at: When it stopped (None while running).
        elapsed: The business time counted (pauses excluded).
        target: The policy's target.
        warns_at: When it warns (or warned); None when unknowable or moot.
        breaches_at: When it breaches (or breached); None when unknowable or moot.
        owner: The record's owner when the clock was read (None if it has none).
        team: The record's team (deals have one), else None.
    """

    policy: str
    record_id: uuid.UUID
    state: SlaState
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    elapsed: dt.timedelta
    target: dt.timedelta
    warns_at: dt.datetime | None
    breaches_at: dt.datetime | None
    owner: str | None = None
    team: str | None = None


def sla_clock(
    policy: SlaPolicy,
    record: Entity,
    *,
    business: BusinessTime,
    now: dt.datetime,
    activities: Iterable[Activity] = (),
    history: Iterable[HistoryEntry] = (),
) -> SlaClock | None:
    """Return `record`'s clock under `policy` as of `now`, or None when it has not started.

    Args:
        policy: The policy.
        record: The record (of the policy's kind).
        business: Business time in the policy's calendar.
        now: The instant to evaluate at; later activities and changes are ignored.
        activities: The record's activities (others may be included: only those linked to
            the record count).
        history: The record's audit history (`Store.history`), oldest first.

    Raises:
        ValidationError: For arguments of the wrong type or kind, or a naive `now`.
    """
    require_instance(policy, SlaPolicy, "policy")
    require_instance(business, BusinessTime, "business")
    now = require_instant(now, "now")
    activities = check_items(activities, "activities", Activity, "activities")
    history = check_items(history, "history", HistoryEntry, "history entries")
    if not isinstance(record, KINDS[policy.applies_to].cls):
        raise ValidationError.single("record", record, f"is not a {policy.applies_to}")
    # Every change of the record, later ones too: the value a field had before `now` is the
    # old value of its first later change (the record itself holds today's value).
    everything = sorted(
        (entry for entry in history if entry.entity_id == record.id), key=lambda e: e.at
    )
    changes = [entry for entry in everything if entry.at <= now]
    started = _start(policy.start, record, changes, now)
    if started is None:
        return None
    start, stay_end = started
    stop = _stop(policy, record, activities, changes, start, stay_end, now)
    end = now if stop is None else stop
    pauses = _pauses(policy, record, everything, start, end)
    spans = [
        (low, high, business.between(low, high)) for low, high in _subtract([(start, end)], pauses)
    ]
    elapsed = sum((counted for _low, _high, counted in spans), dt.timedelta(0))
    paused_now = stop is None and bool(pauses) and pauses[-1][1] >= end
    can_extend = stop is None and not paused_now
    warns_at = _reach(business, spans, policy.target * policy.warn_at, end, can_extend)
    breaches_at = _reach(business, spans, policy.target, end, can_extend)
    if stop is not None:
        state = SlaState.MET if elapsed <= policy.target else SlaState.BREACHED
    elif elapsed > policy.target:
        state = SlaState.BREACHED
    elif paused_now:
        state = SlaState.PAUSED
    elif elapsed >= policy.target * policy.warn_at:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return SlaClock(
        policy=policy.name,
        record_id=record.id,
        state=state,
        started_at=start,
        stopped_at=stop,
        elapsed=elapsed,
        target=policy.target,
        warns_at=warns_at,
        breaches_at=breaches_at,
        owner=getattr(record, "owner", None),
        team=getattr(record, "team", None),
    )


def sla_summary(clocks: Iterable[SlaClock], by: str = "owner") -> dict[str, dict[str, int]]:
    """Count clocks per owner (or team) and state: ``{"anna": {"breached": 2, ...}, ...}``.

    Records without an owner (team) count under ``"(none)"``; owners come sorted, every
    state is present.

    Raises:
        ValidationError: When `by` is not ``owner`` or ``team``, or `clocks` holds other things.
    """
    if by not in ("owner", "team"):
        raise ValidationError.single("by", by, "is not owner or team")
    found: dict[str, dict[str, int]] = {}
    for clock in check_items(clocks, "clocks", SlaClock, "SLA clocks"):
        key = getattr(clock, by) or "(none)"
        counts = found.setdefault(key, {state.value: 0 for state in SlaState})
        counts[clock.state.value] += 1
    return dict(sorted(found.items()))


def first_touch_policy(target: str = "4h") -> SlaPolicy:
    """A common starting point: a lead's first outbound activity within `target` business time.

    Paused while the lead is nurturing; warns at 75 %.

    Raises:
        ValidationError: For a target that is not business time like ``"4h"``.
    """
    return SlaPolicy.from_dict(
        {
            "name": "first_touch",
            "applies_to": "lead",
            "start": {"on": "created"},
            "stop": {"on": "activity", "where": 'direction = "outbound"'},
            "target": target,
            "warn_at": 0.75,
            "pause": {"field": "status", "values": ["nurturing"]},
        }
    )


def sla_clocks(
    store: Store, policy: SlaPolicy, *, now: dt.datetime | None = None
) -> list[SlaClock]:
    """Return the clock of every live record of the policy's kind that has one, by record id.

    Reads the records, their activities (streamed, grouped by record) and, when the policy
    looks at field changes or pauses, each record's history, in one read-only unit of work.
    Business time is counted in the stored calendar the policy names, else the store's own.

    Args:
        store: The store.
        policy: The policy.
        now: The instant to evaluate at (the store's clock by default).

    Raises:
        ValidationError: For a `policy` that is not one or a naive `now`.
        NotFoundError: When the policy names a calendar the store does not have.
    """
    require_instance(policy, SlaPolicy, "policy")
    require_attributes(store, "store", ("unit_of_work", "history"), "a store")
    found: list[SlaClock] = []
    with store.unit_of_work(readonly=True) as uow:
        at = uow.clock.now() if now is None else require_instant(now, "now")
        calendar = (
            uow.business_calendar if policy.calendar is None else uow.calendars.get(policy.calendar)
        )
        business = BusinessTime(calendar)
        uses_history = policy.pause_field is not None or "field_changed" in (
            policy.start.on,
            policy.stop.on,
        )
        groups = (
            uow.activities.grouped(f"{policy.applies_to}_id")
            if policy.stop.on == "activity"
            else iter(())
        )
        group = next(groups, None)
        for record in uow.repository(policy.applies_to).iter():
            while group is not None and group[0] < record.id:
                group = next(groups, None)
            activities = group[1] if group is not None and group[0] == record.id else ()
            history = store.history(record.id) if uses_history else ()
            clock = sla_clock(
                policy, record, business=business, now=at, activities=activities, history=history
            )
            if clock is not None:
                found.append(clock)
    return found


# -- the pieces ----------------------------------------------------------------------------


def _start(
    trigger: Trigger, record: Entity, changes: Sequence[HistoryEntry], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """When the clock started, and (for a stage) when that stay ended."""
    if trigger.on == "created":
        return (record.created_at, None) if record.created_at <= now else None
    if trigger.on == "stage_entered":
        stays = [
            s
            for s in getattr(record, "stage_history", ())
            if s.stage == trigger.stage and s.entered_at <= now
        ]
        if not stays:
            return None
        latest = max(stays, key=lambda s: s.entered_at)
        left = latest.left_at if latest.left_at is not None and latest.left_at <= now else None
        return latest.entered_at, left
    hits = [entry.at for entry in changes if _changed(entry, trigger)]
    return (hits[-1], None) if hits else None


def _stop(
    policy: SlaPolicy,
    record: Entity,
    activities: Iterable[Activity],
    changes: Sequence[HistoryEntry],
    start: dt.datetime,
    stay_end: dt.datetime | None,
    now: dt.datetime,
) -> dt.datetime | None:
    trigger = policy.stop
    if trigger.on == "stage_left":
        return stay_end
    if trigger.on == "field_changed":
        return next((e.at for e in changes if e.at >= start and _changed(e, trigger)), None)
    link = f"{policy.applies_to}_id"
    test = _activity_test(trigger.where, now)
    times = [
        activity.occurred_at
        for activity in activities
        if getattr(activity, link, None) == record.id
        and start <= activity.occurred_at <= now
        and test(activity)
    ]
    return min(times) if times else None


def _changed(entry: HistoryEntry, trigger: Trigger) -> bool:
    change = entry.change(str(trigger.field))
    return change is not None and (not trigger.to or change.new in trigger.to)


def _pauses(
    policy: SlaPolicy,
    record: Entity,
    changes: Sequence[HistoryEntry],
    start: dt.datetime,
    end: dt.datetime,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The intervals within [start, end) while the pause field held a pausing value."""
    field = policy.pause_field
    if field is None:
        return []
    timeline = [(e.at, c.old, c.new) for e in changes if (c := e.change(field)) is not None]
    before = [new for at, _old, new in timeline if at <= start]
    if before:
        value = before[-1]
    elif timeline:
        value = timeline[0][1]
    else:
        current = getattr(record, field, None)
        value = getattr(current, "value", current)
    found: list[tuple[dt.datetime, dt.datetime]] = []
    since = start if value in policy.pause_values else None
    for at, _old, new in timeline:
        if not start < at < end:
            continue
        pausing = new in policy.pause_values
        if pausing and since is None:
            since = at
        elif not pausing and since is not None:
            found.append((since, at))
            since = None
    if since is not None:
        found.append((since, end))
    return found


def _subtract(
    spans: list[tuple[dt.datetime, dt.datetime]], holes: list[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    for hole_low, hole_high in holes:
        kept = []
        for low, high in spans:
            if hole_high <= low or high <= hole_low:
                kept.append((low, high))
                continue
            if low < hole_low:
                kept.append((low, hole_low))
            if hole_high < high:
                kept.append((hole_high, high))
        spans = kept
    return spans


def _reach(
    business: BusinessTime,
    spans: list[tuple[dt.datetime, dt.datetime, dt.timedelta]],
    amount: dt.timedelta,
    end: dt.datetime,
    can_extend: bool,
) -> dt.datetime | None:
    """The instant the counted business time reaches `amount` (None if it never can)."""
    for low, _high, counted in spans:
        if amount <= counted:
            return business.add(low, amount)
        amount -= counted
    if not can_extend:
        return None
    return business.add(end, amount)


@functools.lru_cache(maxsize=256)
def _activity_test(where: str | None, now: dt.datetime) -> Callable[[Activity], bool]:
    if where is None:
        return lambda _activity: True
    from crmkit.segments import matcher

    test: Callable[[Activity], bool] = matcher(where, "activity", now=now)
    return test


# -- reading the dict form -------------------------------------------------------------------


def _trigger(
    raw: object, where: str, allowed: tuple[str, ...], kind: str, problems: list[Problem]
) -> Trigger | None:
    if not isinstance(raw, Mapping) or "on" not in raw:
        problems.append(Problem(where, raw, "is not a trigger like {on: ...}"))
        return None
    on = raw["on"]
    if on not in allowed:
        problems.append(Problem(f"{where}.on", on, f"is not one of {', '.join(allowed)}"))
        return None
    extra = set(raw) - {"on", "stage", "where", "field", "to"}
    problems += [Problem(f"{where}.{key}", key, "is not a trigger field") for key in sorted(extra)]
    stage = raw.get("stage")
    if on == "stage_entered":
        if kind != "deal":
            problems.append(Problem(f"{where}.on", on, "applies to deals"))
        if not isinstance(stage, str) or not stage.strip():
            problems.append(Problem(f"{where}.stage", stage, "is not a stage key"))
    if on == "stage_left" and kind != "deal":
        problems.append(Problem(f"{where}.on", on, "applies to deals"))
    condition = raw.get("where")
    if on == "activity" and condition is not None:
        if not isinstance(condition, str):
            problems.append(Problem(f"{where}.where", condition, "is not segment text"))
        else:
            try:
                _activity_test(condition, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            except CrmkitError as error:
                problems.append(Problem(f"{where}.where", condition, f"does not parse: {error}"))
    field = None
    to: tuple[str, ...] = ()
    if on == "field_changed":
        field = _field(raw.get("field"), f"{where}.field", kind, problems)
        to = _texts(raw.get("to", []), f"{where}.to", problems)
    return Trigger(
        on=str(on),
        stage=stage if isinstance(stage, str) else None,
        where=condition if isinstance(condition, str) else None,
        field=field,
        to=to,
    )


def _field(raw: object, where: str, kind: str, problems: list[Problem]) -> str | None:
    if kind not in KINDS:
        return None
    names = {f.name for f in attrs.fields(KINDS[kind].cls)}
    if not isinstance(raw, str) or raw not in names:
        problems.append(Problem(where, raw, f"is not a field of a {kind}"))
        return None
    return raw


def _texts(raw: object, where: str, problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        problems.append(Problem(where, raw, "is not a list of values"))
        return ()
    return tuple(raw)


def _duration(raw: object, problems: list[Problem]) -> dt.timedelta | None:
    match = _DURATION.match(raw) if isinstance(raw, str) else None
    if match is None or not any(match.groups()):
        problems.append(Problem("target", raw, 'is not business time like "4h" or "2h30m"'))
        return None
    hours, minutes = (int(g) if g else 0 for g in match.groups())
    target = dt.timedelta(hours=hours, minutes=minutes)
    if not dt.timedelta(0) < target <= dt.timedelta(days=3650):
        problems.append(Problem("target", raw, "is not between a minute and ten years"))
        return None
    return target
