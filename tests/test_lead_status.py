import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import FixedClock, Lead, LeadStatus, TransitionError, ValidationError
from crmkit.leads import allowed_lead_moves, move_lead

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

# The table of docs/leads.md, written out here so the tests do not check the code against
# its own table (crmkit.leads.LEAD_MOVES).
DOCUMENTED_MOVES = {
    "new": {"working", "nurturing", "qualified", "unqualified", "converted"},
    "working": {"nurturing", "qualified", "unqualified", "converted"},
    "nurturing": {"working", "qualified", "unqualified", "converted"},
    "qualified": {"working", "nurturing", "unqualified", "converted"},
    "unqualified": {"working", "nurturing"},
    "converted": set(),
}


@pytest.fixture
def lead():
    return Lead.create(first_name="Ada", clock=FixedClock(T0))


def test_the_happy_path(lead):
    clock = FixedClock(T0 + dt.timedelta(hours=1))
    working = move_lead(lead, LeadStatus.WORKING, clock=clock)
    assert working.status is LeadStatus.WORKING
    assert working.updated_at == clock.now()
    qualified = move_lead(working, "qualified", clock=clock)
    converted = move_lead(qualified, LeadStatus.CONVERTED, clock=clock)
    assert converted.status is LeadStatus.CONVERTED
    assert lead.status is LeadStatus.NEW  # the old one is unchanged


def test_unqualified_needs_a_reason_and_leaving_clears_it(lead):
    with pytest.raises(TransitionError, match="a reason is required"):
        move_lead(lead, LeadStatus.UNQUALIFIED)
    with pytest.raises(TransitionError, match="a reason is required"):
        move_lead(lead, LeadStatus.UNQUALIFIED, reason="   ")
    out = move_lead(lead, LeadStatus.UNQUALIFIED, reason=" no budget ")
    assert out.unqualified_reason == "no budget"
    back = move_lead(out, LeadStatus.NURTURING)
    assert back.unqualified_reason is None
    with pytest.raises(TransitionError, match="only taken"):
        move_lead(lead, LeadStatus.WORKING, reason="why")


def test_converted_is_terminal_and_unqualified_cannot_convert(lead):
    converted = move_lead(lead, LeadStatus.CONVERTED)
    for status in LeadStatus:
        with pytest.raises(TransitionError):
            move_lead(converted, status, reason="x")
    out = move_lead(lead, LeadStatus.UNQUALIFIED, reason="spam")
    with pytest.raises(TransitionError, match="cannot move from unqualified to converted"):
        move_lead(out, LeadStatus.CONVERTED)
    assert allowed_lead_moves(LeadStatus.CONVERTED) == ()


def test_unknown_and_same_status_are_refused(lead):
    with pytest.raises(TransitionError, match="not a lead status"):
        move_lead(lead, "hot")
    with pytest.raises(TransitionError, match="already"):
        move_lead(lead, LeadStatus.NEW)


@given(st.lists(st.sampled_from(list(LeadStatus)), max_size=12))
def test_moves_follow_the_table_exactly(path):
    lead = Lead.create(first_name="Ada", clock=FixedClock(T0))
    for target in path:
        reason = "r" if target is LeadStatus.UNQUALIFIED else None
        allowed = target.value in DOCUMENTED_MOVES[lead.status.value]
        try:
            moved = move_lead(lead, target, reason=reason, clock=FixedClock(T0))
        except TransitionError:
            assert not allowed
            continue
        assert allowed
        assert moved.status is target
        assert (moved.unqualified_reason is not None) == (target is LeadStatus.UNQUALIFIED)
        lead = moved


def _lead_in(status: LeadStatus) -> Lead:
    clock = FixedClock(T0)
    if status is LeadStatus.CONVERTED:  # only a conversion makes a converted lead
        lead = Lead.create(first_name="Ada", clock=clock)
        return lead.changed(status=status, converted_at=clock.now(), clock=clock)
    lead = Lead.create(first_name="Ada", status=status, clock=clock)
    if status is LeadStatus.UNQUALIFIED:
        lead = lead.changed(unqualified_reason="spam")
    return lead


@pytest.mark.parametrize("source", list(LeadStatus), ids=str)
@pytest.mark.parametrize("target", list(LeadStatus), ids=str)
def test_every_move_is_allowed_exactly_when_the_documented_table_says(source, target):
    """Each of the 36 (from, to) pairs is allowed or refused as docs/leads.md lists it."""
    lead = _lead_in(source)
    reason = "r" if target is LeadStatus.UNQUALIFIED else None
    if target.value in DOCUMENTED_MOVES[source.value]:
        assert move_lead(lead, target, reason=reason).status is target
    else:
        with pytest.raises(TransitionError):
            move_lead(lead, target, reason=reason)


def test_allowed_lead_moves_lists_the_documented_targets_in_enum_order():
    """`allowed_lead_moves` gives the documented targets, ordered as `LeadStatus` is."""
    assert [s.value for s in allowed_lead_moves(LeadStatus.NEW)] == [
        "working",
        "nurturing",
        "qualified",
        "unqualified",
        "converted",
    ]
    assert [s.value for s in allowed_lead_moves(LeadStatus.UNQUALIFIED)] == [
        "working",
        "nurturing",
    ]


@pytest.mark.parametrize("status", [None, "bogus", 3, ["new"]])
def test_allowed_lead_moves_refuses_what_is_not_a_status_naming_it(status):
    """``allowed_lead_moves(None)`` was a KeyError."""
    with pytest.raises(ValidationError) as caught:
        allowed_lead_moves(status)
    assert caught.value.fields == ("status",)


def test_allowed_lead_moves_takes_a_status_or_its_value():
    assert allowed_lead_moves("unqualified") == allowed_lead_moves(LeadStatus.UNQUALIFIED)
    assert allowed_lead_moves("converted") == ()
