"""How engagement fades with time: exponential, linear, a window, or not at all.

A decay turns the age of an activity (seconds between when it happened and the "as of"
instant) into a factor between 0 and 1 that multiplies its points. Ages are plain floats
(timestamps subtracted), never datetime or pendulum arithmetic, so decays are cheap enough
for the inner loop of batch scoring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.scoring.definition_text import check_keys, number_field

__all__ = ["DAY", "Decay", "Exponential", "Linear", "NoDecay", "Window", "decay_from_dict"]

DAY = 86_400.0
"""Seconds in a day: decay parameters are given in days, ages are measured in seconds."""


def _half_life_days(value: object) -> float:
    return number_field(value, "half_life_days", positive=True)


def _per_days(value: object) -> float:
    return number_field(value, "per_days", positive=True)


def _days(value: object) -> float:
    return number_field(value, "days", positive=True)


def _fraction(value: object) -> float:
    number = number_field(value, "fraction", positive=True)
    if number > 1.0:
        raise ValidationError.single("fraction", value, "must be in (0, 1]")
    return number


def _steps(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError.single("steps", value, "is not True or False")


@attrs.frozen
class NoDecay:
    """Points never fade: the factor is always 1."""

    def factor(self, age: float) -> float:
        """Return 1.0 whatever the age in seconds."""
        return 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"type": "none"}``."""
        return {"type": "none"}


@attrs.frozen
class Exponential:
    """Points halve every `half_life_days`: ``factor = 0.5 ** (age / half_life)``.

    Args:
        half_life_days: Days after which an activity counts half; greater than 0.

    Raises:
        ValidationError: Naming ``half_life_days`` when it is not a finite number above 0.
    """

    half_life_days: float = attrs.field(converter=_half_life_days)

    @property
    def rate(self) -> float:
        """The decay constant per second: ``ln 2 / half_life`` (``factor = exp(-rate * age)``)."""
        return math.log(2.0) / (self.half_life_days * DAY)

    def factor(self, age: float) -> float:
        """Return ``exp(-rate * age)`` for an age in seconds."""
        return math.exp(-self.rate * age)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"type": "exponential", "half_life_days": ...}``."""
        return {"type": "exponential", "half_life_days": self.half_life_days}


@attrs.frozen
class Linear:
    """Points lose `fraction` of their value every `per_days` days, down to nothing.

    ``factor = max(0, 1 - fraction * age / per_days)``; with ``steps=True`` the age is first
    rounded down to whole periods, so points drop in steps at the end of each period.

    Args:
        per_days: The length of a period in days; greater than 0.
        fraction: The share lost per period, in (0, 1]; 0.25 means gone after four periods.
        steps: Drop in whole-period steps instead of continuously.

    Raises:
        ValidationError: Naming ``per_days``, ``fraction`` or ``steps`` when it is not a
            finite number above 0, a number in (0, 1], or True/False.
    """

    per_days: float = attrs.field(converter=_per_days)
    fraction: float = attrs.field(default=0.25, converter=_fraction)
    steps: bool = attrs.field(default=False, validator=_steps)

    @property
    def rate(self) -> float:
        """The share lost per second of age."""
        return self.fraction / (self.per_days * DAY)

    def factor(self, age: float) -> float:
        """Return the remaining share of the points for an age in seconds."""
        if self.steps:
            periods = math.floor(age / (self.per_days * DAY))
            return max(0.0, 1.0 - self.fraction * periods)
        return max(0.0, 1.0 - self.rate * age)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"type": "linear", "per_days": ..., "fraction": ..., "steps": ...}``."""
        return {
            "type": "linear",
            "per_days": self.per_days,
            "fraction": self.fraction,
            "steps": self.steps,
        }


@attrs.frozen
class Window:
    """Points count in full for `days` days, then drop out entirely.

    Args:
        days: The length of the window in days; greater than 0. An activity exactly
            `days` old still counts.

    Raises:
        ValidationError: Naming ``days`` when it is not a finite number above 0.
    """

    days: float = attrs.field(converter=_days)

    def factor(self, age: float) -> float:
        """Return 1.0 inside the window and 0.0 after it."""
        return 1.0 if age <= self.days * DAY else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"type": "window", "days": ...}``."""
        return {"type": "window", "days": self.days}


Decay = NoDecay | Exponential | Linear | Window
"""Any of the time models of an engagement rule."""


def decay_from_dict(data: Mapping[str, Any]) -> Decay:
    """Load a decay from its dict form (``{"type": "exponential", "half_life_days": 30}``).

    Raises:
        ValidationError: For an unknown type or bad parameters.
    """
    kind = data.get("type") if isinstance(data, Mapping) else None
    if kind == "none":
        check_keys(data, "decay", ("type",))
        return NoDecay()
    if kind == "exponential":
        check_keys(data, "decay", ("type", "half_life_days"), ("half_life_days",))
        return Exponential(number_field(data["half_life_days"], "half_life_days"))
    if kind == "linear":
        values = check_keys(data, "decay", ("type", "per_days", "fraction", "steps"), ("per_days",))
        steps = values.get("steps", False)
        if not isinstance(steps, bool):
            raise ValidationError.single("steps", steps, "is not True or False")
        return Linear(
            number_field(values["per_days"], "per_days"),
            number_field(values.get("fraction", 0.25), "fraction"),
            steps,
        )
    if kind == "window":
        check_keys(data, "decay", ("type", "days"), ("days",))
        return Window(number_field(data["days"], "days"))
    raise ValidationError.single(
        "decay", data, "is not a decay: give type none, exponential, linear or window"
    )
