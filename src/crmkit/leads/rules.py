"""Qualifier rules as data: a name, a condition on the lead, a kind and a reason."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.conditions import Condition, condition_from_dict
from crmkit.errors import Problem, SegmentError, ValidationError

__all__ = ["Rule", "RuleKind"]


class RuleKind(enum.StrEnum):
    """How a rule counts in the verdict."""

    MUST = "must"
    """Must hold for the lead to qualify."""
    DISQUALIFY = "disqualify"
    """Disqualifies the lead when its condition holds."""
    NICE_TO_HAVE = "nice_to_have"
    """Reported, but does not change the verdict."""


def _kind(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, RuleKind):
        try:
            return RuleKind(value)
        except ValueError:
            return value
    return value


def _condition(value: object) -> Condition:
    if isinstance(value, Condition):
        return value
    if isinstance(value, Mapping):
        try:
            return condition_from_dict(value)
        except SegmentError as error:
            raise ValidationError.single("condition", dict(value), str(error)) from None
    raise ValidationError.single("condition", value, "is not a condition or its dict form")


@attrs.frozen
class Rule:
    """One qualifier rule.

    For ``must`` and ``nice_to_have`` the condition says what a good lead looks like
    (``F("employees") >= 50``); for ``disqualify`` it says what rules a lead out
    (``F("country").is_in(["KP"])``). A condition on a missing value is false, so a must
    rule on a field not captured yet fails (and the field is reported missing), and a
    disqualify rule on it does not fire.

    Args:
        name: A short, unique name (``"company size"``).
        condition: The condition, or its dict form.
        kind: ``"must"`` (default), ``"disqualify"`` or ``"nice_to_have"``.
        reason: Why the rule matters, shown when it fails or fires.

    Raises:
        ValidationError: For a blank name, an unknown kind or a bad condition.
    """

    name: str
    condition: Condition = attrs.field(converter=_condition)
    kind: RuleKind = attrs.field(default=RuleKind.MUST, converter=_kind)
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(Problem("name", self.name, "must be non-blank text"))
        if not isinstance(self.kind, RuleKind):
            choices = ", ".join(k.value for k in RuleKind)
            problems.append(Problem("kind", self.kind, f"is not one of: {choices}"))
        if not isinstance(self.reason, str):
            problems.append(Problem("reason", self.reason, "is not text"))
        if problems:
            raise ValidationError(problems)

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as plain data."""
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "condition": self.condition.to_dict(),
        }
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """Load a rule written by `to_dict`.

        Raises:
            ValidationError: Listing what is wrong.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("rule", data, "is not a mapping")
        problems = [
            Problem(str(k), data[k], "is not a rule setting")
            for k in data
            if k not in ("name", "kind", "condition", "reason")
        ]
        problems.extend(
            Problem(k, None, "is required") for k in ("name", "condition") if k not in data
        )
        if problems:
            raise ValidationError(problems)
        return cls(**dict(data))
