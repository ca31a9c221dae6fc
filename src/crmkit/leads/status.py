"""Lead statuses and the guarded moves between them.

::

    new ──► working ◄──► nurturing
     │        │   ▲          │
     ▼        ▼   │          ▼
    qualified ────┴──────► unqualified (needs a reason) ──► working / nurturing
     │
     ▼
    converted (terminal; only the conversion service moves a lead here)

Allowed moves (anything else raises `TransitionError`):

| from | to |
|---|---|
| new | working, nurturing, qualified, unqualified, converted |
| working | nurturing, qualified, unqualified, converted |
| nurturing | working, qualified, unqualified, converted |
| qualified | working, nurturing, unqualified, converted |
| unqualified | working, nurturing (the reason is cleared) |
| converted | nothing |
"""

from __future__ import annotations

from collections.abc import Mapping

from crmkit.clock import Clock
from crmkit.errors import TransitionError, ValidationError
from crmkit.model.lead import Lead
from crmkit.values.enums import LeadStatus
from crmkit.values.temporal import require_instance

__all__ = ["LEAD_MOVES", "allowed_lead_moves", "move_lead"]

_S = LeadStatus

LEAD_MOVES: Mapping[LeadStatus, frozenset[LeadStatus]] = {
    _S.NEW: frozenset({_S.WORKING, _S.NURTURING, _S.QUALIFIED, _S.UNQUALIFIED, _S.CONVERTED}),
    _S.WORKING: frozenset({_S.NURTURING, _S.QUALIFIED, _S.UNQUALIFIED, _S.CONVERTED}),
    _S.NURTURING: frozenset({_S.WORKING, _S.QUALIFIED, _S.UNQUALIFIED, _S.CONVERTED}),
    _S.QUALIFIED: frozenset({_S.WORKING, _S.NURTURING, _S.UNQUALIFIED, _S.CONVERTED}),
    _S.UNQUALIFIED: frozenset({_S.WORKING, _S.NURTURING}),
    _S.CONVERTED: frozenset(),
}
"""Status → the statuses a lead in it may move to."""


def allowed_lead_moves(status: LeadStatus | str) -> tuple[LeadStatus, ...]:
    """The statuses a lead in `status` may move to, in the enum's order.

    Args:
        status: A lead status (member or value, ``"working"``).

    Raises:
        ValidationError: Naming ``status`` when it is not a lead status.
    """
    if not isinstance(status, LeadStatus):
        known = {s.value: s for s in LeadStatus}
        found = known.get(status) if isinstance(status, str) else None
        if found is None:
            choices = ", ".join(known)
            raise ValidationError.single("status", status, f"is not one of: {choices}")
        status = found
    targets = LEAD_MOVES[status]
    return tuple(s for s in LeadStatus if s in targets)


def move_lead(
    lead: Lead,
    to: LeadStatus | str,
    *,
    reason: str | None = None,
    clock: Clock | None = None,
) -> Lead:
    """Return the lead in status `to`, if that move is allowed.

    Moving to ``unqualified`` needs a `reason`, stored as `unqualified_reason`; leaving
    ``unqualified`` clears it. ``converted`` is terminal. Moving to ``converted`` is exposed
    for the conversion service (which also creates the contact, company and deal and sets
    the ``converted_*`` fields); applications should convert through that service rather
    than call this directly.

    Args:
        lead: The lead.
        to: The status to move to (member or value).
        reason: Why the lead is unqualified (required for that move, refused otherwise).
        clock: Where "now" comes from (`updated_at`).

    Raises:
        TransitionError: For an unknown status, a move the table does not allow, or a
            missing (or misplaced) reason.
        ValidationError: Naming ``lead`` when it is not a Lead.
    """
    require_instance(lead, Lead, "lead")
    try:
        target = LeadStatus(to)
    except ValueError:
        choices = ", ".join(s.value for s in LeadStatus)
        raise TransitionError(f"{to!r} is not a lead status", unmet=[f"one of {choices}"]) from None
    current = lead.status
    if target is current:
        raise TransitionError(f"lead is already {current.value}")
    if target not in LEAD_MOVES[current]:
        allowed = ", ".join(s.value for s in allowed_lead_moves(current)) or "nothing (terminal)"
        raise TransitionError(
            f"a lead cannot move from {current.value} to {target.value}",
            unmet=[f"allowed from {current.value}: {allowed}"],
        )
    text = reason.strip() if isinstance(reason, str) else None
    if target is LeadStatus.UNQUALIFIED:
        if not text:
            raise TransitionError(
                "cannot mark the lead unqualified", unmet=["a reason is required"]
            )
        return lead.changed(status=target, unqualified_reason=text, clock=clock)
    if reason is not None:
        raise TransitionError(f"a reason is only taken when moving to unqualified, not {target}")
    return lead.changed(status=target, unqualified_reason=None, clock=clock)
