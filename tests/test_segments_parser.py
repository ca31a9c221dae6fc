"""The text form of segments: parsing, printing, round trips and errors with positions."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Money, SegmentError
from crmkit.conditions import (
    After,
    And,
    Before,
    Between,
    Compare,
    Contains,
    DealOutcome,
    EqualsIgnoringCase,
    F,
    HasTag,
    In,
    InPeriod,
    IsEmpty,
    MoreThanAgo,
    Not,
    Or,
    Related,
    RelatedCount,
    StartsWith,
    WithinLast,
    condition_from_dict,
)
from crmkit.segments import parse
from crmkit.segments.parser import tokenize


def test_the_issue_example_parses_to_the_tree_built_in_python():
    text = 'country in ("DE", "FR") and score >= 50 and last_activity_at within 30 days'
    expected = (
        F("country").is_in(["DE", "FR"])
        & (F("score") >= 50)
        & WithinLast("last_activity_at", 30, "days")
    )
    assert parse(text) == expected
    assert parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('a = "x"', F("a") == "x"),
        ('a == "x"', F("a") == "x"),
        ("a != 1", F("a") != 1),
        ("a <> 1", F("a") != 1),
        ("a < 1.50", F("a") < Decimal("1.50")),
        ("a <= -2", F("a") <= -2),
        ("a > 2026-03-01", F("a") > dt.date(2026, 3, 1)),
        ("a >= 2026-03-01T09:00:00Z", F("a") >= dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)),
        ("a >= 2026-03-01T10:00+01:00", F("a") >= dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)),
        ("amount >= 1000 EUR", F("amount") >= Money.of("1000", "EUR")),
        ("a between 1 and 5", F("a").between(1, 5)),
        ("a in [1, 2]", F("a").is_in([1, 2])),
        ("a not in ('x', 'y')", F("a").not_in(["x", "y"])),
        ('a contains "Ac"', F("a").contains("Ac")),
        ('a starts with "Ac"', F("a").starts_with("Ac")),
        ('a equals ignoring case "Software"', F("a").equals_ignoring_case("Software")),
        ("a EQUALS Ignoring CASE 'x'", EqualsIgnoringCase("a", "x")),
        ('a equals ignoring case ""', EqualsIgnoringCase("a", "")),
        (
            'contact_ids contains uuid("019b76da-a800-7190-96de-926870d793e4")',
            F("contact_ids").contains(uuid.UUID("019b76da-a800-7190-96de-926870d793e4")),
        ),
        ("is open", DealOutcome("open")),
        ("IS WON", DealOutcome("won")),
        ("is lost and amount > 5", DealOutcome("lost") & (F("amount") > 5)),
        ("not is won", ~DealOutcome("won")),
        ("no deals where is won", RelatedCount("deals", DealOutcome("won"), "==", 0)),
        ("a is empty", F("a").is_empty()),
        ("a IS NOT EMPTY", F("a").is_not_empty()),
        ('has tag "VIP"', F("tags").has_tag("vip")),
        ('custom.flags has tag "x"', F("custom.flags").has_tag("x")),
        ("a = true AND b = FALSE", (F("a") == True) & (F("b") == False)),  # noqa: E712
        (
            'id = uuid("019b76da-a800-7190-96de-926870d793e4")',
            F("id") == uuid.UUID("019b76da-a800-7190-96de-926870d793e4"),
        ),
        ("a within 1 day", WithinLast("a", 1, "day")),
        ("a within the last 2 weeks", WithinLast("a", 2, "week")),
        ("a more than 3 months ago", MoreThanAgo("a", 3, "month")),
        ("a this quarter", InPeriod("a", "this", "quarter")),
        ("a last year", InPeriod("a", "last", "year")),
        ("a before 2026-01-01", Before("a", dt.date(2026, 1, 1))),
        ("a after 2026-01-01T00:00:00Z", After("a", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))),
        (
            'company matches (industry = "software")',
            Related("company", F("industry") == "software"),
        ),
        ("at least 3 activities", RelatedCount("activities", None, ">=", 3)),
        (
            'at most 1 order where (status = "paid")',
            RelatedCount("orders", F("status") == "paid", "<=", 1),
        ),
        ("no deals", RelatedCount("deals", None, "==", 0)),
        ("exactly 2 contacts", RelatedCount("contacts", None, "==", 2)),
        (
            'count(activities where kind = "email" or kind = "call") > 4',
            RelatedCount("activities", (F("kind") == "email") | (F("kind") == "call"), ">", 4),
        ),
        ("not a = 1", ~(F("a") == 1)),
        ("not not a = 1", Not(Not(F("a") == 1))),
        ("a = 1 or b = 2 and c = 3", Or([F("a") == 1, And([F("b") == 2, F("c") == 3])])),
        ("(a = 1 or b = 2) and c = 3", And([Or([F("a") == 1, F("b") == 2]), F("c") == 3])),
    ],
)
def test_examples_parse_to_their_trees_and_print_back(text, tree):
    assert parse(text) == tree
    assert parse(str(tree)) == tree


def test_str_prints_the_grammar():
    seg = RelatedCount(
        "activities",
        (F("kind") == "email") & WithinLast("occurred_at", 30, "day"),
        ">=",
        3,
    ) & F("country").is_in(["DE"])
    assert str(seg) == (
        'at least 3 activities where (kind == "email" and occurred_at within 30 days)'
        ' and country in ["DE"]'
    )
    assert str(Or([Or([F("a") == 1, F("b") == 2]), F("c") == 3])) == "(a == 1 or b == 2) or c == 3"
    assert str(And([And([F("a") == 1, F("b") == 2]), F("c") == 3])) == (
        "(a == 1 and b == 2) and c == 3"
    )


# -- round trips -----------------------------------------------------------------------------

# Conditions hold days from 0001-01-02 to 9999-12-30 only (a day's margin for every time zone).
placeable_days = st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30))

fields = st.sampled_from(["country", "custom.plan", "company.industry", "score.engagement", "no"])
strings = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
constants = st.one_of(
    strings,
    st.integers(-(10**6), 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.booleans(),
    st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)),
    st.builds(Money.of, st.integers(-999, 999).map(str), st.sampled_from(["EUR", "JPY"])),
    st.uuids(),
)
units = st.sampled_from(["day", "week", "month", "quarter", "year"])
leaves = st.one_of(
    st.builds(Compare, fields, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), constants),
    st.builds(In, fields, st.lists(constants, min_size=1, max_size=3), st.booleans()),
    st.builds(Between, fields, constants, constants),
    st.builds(Contains, fields, constants),
    st.builds(StartsWith, fields, strings),
    st.builds(EqualsIgnoringCase, fields, strings),
    st.builds(DealOutcome, st.sampled_from(["open", "won", "lost"])),
    st.builds(HasTag, fields | st.just("tags"), strings.filter(str.strip)),
    st.builds(IsEmpty, fields, st.booleans()),
    st.builds(WithinLast, fields, st.integers(0, 99), units),
    st.builds(MoreThanAgo, fields, st.integers(0, 99), units),
    st.builds(InPeriod, fields, st.sampled_from(["this", "last"]), units),
    st.builds(Before, fields, placeable_days),
    st.builds(After, fields, placeable_days),
)


def trees(inner):
    return st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(And),
        st.lists(inner, min_size=2, max_size=3).map(Or),
        inner.map(Not),
        st.builds(Related, st.just("company"), inner),
        st.builds(
            RelatedCount,
            st.sampled_from(["activities", "orders", "deals"]),
            st.none() | inner,
            st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
            st.integers(0, 5),
        ),
    )


conditions = st.recursive(leaves, trees, max_leaves=8)


@given(conditions)
def test_parse_of_str_is_the_same_tree(condition):
    assert parse(str(condition)) == condition


@given(conditions)
def test_dict_form_of_new_nodes_round_trips_through_json(condition):
    assert condition_from_dict(json.loads(json.dumps(condition.to_dict()))) == condition


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ('country equals "DE"', 8, "expected an operator"),
        ('country equals "DE"', 8, "'equals ignoring case' to ignore the case"),
        ('country equals ignoring "DE"', 24, "expected 'case' after 'equals ignoring'"),
        ("country equals ignoring case 5", 29, "expected quoted text"),
        ("is winning", 3, "expected an operator after 'is'"),
        ('country = "DE" adn x = 1', 15, "did you mean 'and'"),
        ("x within 3 dayz", 11, "did you mean 'days'"),
        ("(a = 1", 6, "expected ')'"),
        ("a = ", 4, "expected a value"),
        ("a = 1 ~ 2", 6, "unexpected character"),
        ("at least x activities", 9, "whole number"),
        ("at least 2 emails", 11, "related records"),
        ("a contians 'x'", 2, "did you mean 'contains'"),
        ("", 0, "expected a condition"),
        ('a = "unterminated', 4, "unexpected character"),
    ],
)
def test_errors_carry_position_and_suggestion(text, position, words):
    with pytest.raises(SegmentError) as caught:
        parse(text)
    assert caught.value.position == position
    assert words in str(caught.value)
    assert "line 1, column" in str(caught.value)


def test_errors_on_later_lines_name_line_and_column():
    with pytest.raises(SegmentError, match="line 2, column 7") as caught:
        parse('country = "DE"\nand x ?? 1')
    assert caught.value.position == 21


def test_unknown_fields_are_reported_at_their_position_when_a_kind_is_given():
    text = 'country = "DE" and contry = "FR"'
    assert parse(text) == (F("country") == "DE") & (F("contry") == "FR")  # no kind: no check
    with pytest.raises(SegmentError, match="did you mean 'country'") as caught:
        parse(text, kind="contact")
    assert caught.value.position == 19
    with pytest.raises(SegmentError, match="did you mean 'industry'") as caught:
        parse('company.industy = "x"', kind="contact")
    assert caught.value.position == 0


def test_tokens_and_quotes():
    tokens = tokenize("a.b >= 'it\\'s' and c in [1,2]")
    assert [t.type for t in tokens][:3] == ["name", "op", "string"]
    assert parse("a = 'it\\'s'") == (F("a") == "it's")
    assert parse('a = "tab\\there \\u00e9"') == (F("a") == "tab\there é")
    assert parse('a = "ünïcödé ✓"') == (F("a") == "ünïcödé ✓")


def test_nothing_typed_becomes_a_field_name_or_sql():
    with pytest.raises(SegmentError):
        parse("a; DROP TABLE contacts = 1")
    with pytest.raises(SegmentError):
        parse("__class__ = 1")
    assert parse('name = "x\'); DROP TABLE contacts; --"').value == "x'); DROP TABLE contacts; --"
