"""Assignment rules as data: read with every problem listed, written back the same."""

from __future__ import annotations

import pytest

from crmkit.errors import ValidationError
from crmkit.work import AssignmentRules

GOOD = {
    "name": "new leads",
    "applies_to": "lead",
    "fallback": "queue",
    "rules": [
        {"name": "DACH", "when": 'country in ("DE", "AT")', "round_robin": ["anna", "ben"]},
        {"name": "big", "weighted": {"carla": 2, "dan": 1}},
        {"name": "rest", "least_loaded": ["eve"], "cap": 3},
        {"name": "boss", "owner": "zed"},
    ],
}


def test_rules_round_trip_through_their_dict_form():
    """from_dict(to_dict()) is the same rules; people keep their order and weights."""
    rules = AssignmentRules.from_dict(GOOD)
    assert AssignmentRules.from_dict(rules.to_dict()) == rules
    assert rules.rules[1].weights == (("carla", 2), ("dan", 1))
    assert rules.rules[0].people == ("anna", "ben")
    assert [r.strategy for r in rules.rules] == ["round_robin", "weighted", "least_loaded", "owner"]


def test_bad_rules_list_every_problem_at_once():
    """Each problem names its place."""
    with pytest.raises(ValidationError) as caught:
        AssignmentRules.from_dict(
            {
                "name": "",
                "applies_to": "order",
                "fallback": None,
                "colour": "red",
                "rules": [
                    {"name": "a", "round_robin": []},
                    {"name": "b", "weighted": {"x": 0, "y": True}},
                    {"name": "c", "round_robin": ["p"], "owner": "q"},
                    {"name": "d", "round_robin": ["p", "p"], "cap": 2},
                    {"name": "e", "when": "contry = 1", "owner": "p"},
                    "not a rule",
                ],
            }
        )
    fields = set(caught.value.fields)
    assert fields == {
        "colour",
        "name",
        "applies_to",
        "fallback",
        "rules[0].round_robin",
        "rules[1].weighted.x",
        "rules[1].weighted.y",
        "rules[2]",
        "rules[3].round_robin",
        "rules[3].cap",
        "rules[5]",
    }


def test_a_condition_that_does_not_fit_the_kind_is_named():
    """The when of a rule is checked against the kind (with a suggestion)."""
    with pytest.raises(ValidationError) as caught:
        AssignmentRules.from_dict(
            {**GOOD, "rules": [{"name": "e", "when": "contry = 'DE'", "owner": "p"}]}
        )
    assert caught.value.fields == ("rules[0].when",)
    assert "country" in str(caught.value)


@pytest.mark.parametrize("bad", [None, "rules", [], {"name": "x"}])
def test_anything_but_a_mapping_of_rules_is_refused(bad):
    """A ValidationError, never anything else."""
    with pytest.raises(ValidationError):
        AssignmentRules.from_dict(bad)  # type: ignore[arg-type]


def test_two_rules_with_one_name_are_refused():
    """Rotations are stored by rule name: names must differ."""
    with pytest.raises(ValidationError) as caught:
        AssignmentRules.from_dict({**GOOD, "rules": [GOOD["rules"][0], GOOD["rules"][0]]})
    assert caught.value.fields == ("rules",)
