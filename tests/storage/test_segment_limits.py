"""Segment text at the edges: limits, bad values and long lists, the same on every adapter."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit import Contact, Deal, FixedClock, SegmentError
from crmkit.conditions import BusinessCalendar, F, Not
from crmkit.conditions.limits import MAX_NESTING, MAX_RELATED_NESTING
from crmkit.segments import parse
from crmkit.values.money import Money

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(adapter):
    clock = FixedClock(NOW)
    store = adapter.make(clock)
    with store.unit_of_work() as uow:
        uow.contacts.add_many(
            [
                Contact.create(first_name=f"P{i}", country=c, created_at=NOW, clock=clock)
                for i, c in enumerate(["DE", "FR", "AT", None])
            ]
        )
        uow.deals.add_many(
            [
                Deal.create(
                    name=name,
                    pipeline="sales",
                    stage="prospecting",
                    amount=amount,
                    currency=currency,
                    clock=clock,
                )
                for name, amount, currency in [
                    ("eur100", "100", "EUR"),
                    ("usd100", "100.00", "USD"),
                    ("eur200", "200", "EUR"),
                    ("none", None, None),
                ]
            ]
        )
    yield store
    store.close()


def names(store, text, kind="contacts"):
    with store.unit_of_work(readonly=True) as uow:
        repository = getattr(uow, kind)
        found = repository.find(parse(text) if isinstance(text, str) else text)
        return sorted(getattr(r, "first_name", None) or r.name for r in found)


def error_at(text):
    with pytest.raises(SegmentError) as caught:
        parse(text)
    return caught.value.position, str(caught.value)


def nested_nots(pairs):
    text = 'country = "DE"'
    for _ in range(pairs):
        text = f'not (country = "XX" or {text})'
    return text


def test_thirty_two_levels_of_nesting_give_the_same_members_on_every_adapter(store):
    """16 pairs of 'not (' are 32 levels: allowed, and evaluated alike everywhere."""
    assert names(store, nested_nots(16)) == ["P0"]


def test_a_thirty_third_level_is_a_segment_error_at_the_token_that_opens_it():
    """The 17th 'not' opens level 33: the error points at it."""
    text = nested_nots(17)
    position, message = error_at(text)
    assert position == text.index("not", 16 * len('not (country = "XX" or '))
    assert f"nesting deeper than {MAX_NESTING} levels" in message


def test_deep_parentheses_are_refused_at_the_thirty_third_and_not_a_recursion_error():
    """Three hundred '(' stop at the 33rd, at offset 32."""
    assert parse("(" * 32 + 'country = "DE"' + ")" * 32) == (F("country") == "DE")
    assert error_at("(" * 300 + 'country = "DE"' + ")" * 300)[0] == 32


def test_three_hundred_nots_are_a_segment_error_not_a_syntax_error():
    """The memory store used to fail compiling the generated predicate."""
    assert error_at("not " * 300 + 'country = "DE"')[0] == 4 * 32


def test_a_tree_built_with_f_deeper_than_the_limit_is_refused_on_every_adapter(store):
    """No position in a tree: the same SegmentError from memory, SQLite and PostgreSQL."""
    deep = F("country") == "DE"
    for _ in range((MAX_NESTING + 2) // 2):
        deep = Not(deep | (F("country") == "XX"))
    with store.unit_of_work(readonly=True) as uow, pytest.raises(SegmentError, match="32 levels"):
        uow.contacts.count(deep)


def test_related_records_nest_four_deep_and_a_fifth_is_refused_at_its_start(store):
    """Four relations inside one another work everywhere; five are an error at offset 0."""
    four = 'company matches (parent matches (parent matches (parent matches (name = "x"))))'
    assert names(store, four) == []
    five = four.replace('(name = "x")', '(parent matches (name = "x"))')
    position, message = error_at(five)
    assert position == 0
    assert f"nested deeper than {MAX_RELATED_NESTING} levels" in message


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("created_at < 2026-02-30", 13, "day is out of range for month"),
        ("created_at < 2026-13-45", 13, "month must be in 1..12"),
        ("created_at < 0000-01-01", 13, "year 0 is out of range"),
        ("created_at < 0001-01-01", 13, "outside 0001-01-02 .. 9999-12-30"),
        ("created_at = 9999-12-31", 13, "outside 0001-01-02 .. 9999-12-30"),
        ("created_at after 2026-02-29T10:00:00Z", 17, "day is out of range for month"),
    ],
)
def test_an_invalid_or_unplaceable_date_is_a_segment_error_at_the_date(text, position, words):
    """Dates Python cannot hold, or some time zone cannot place, are refused where written."""
    found, message = error_at(text)
    assert found == position
    assert words in message


def test_the_first_and_last_placeable_days_work_in_a_berlin_calendar(store):
    """0001-01-02 and 9999-12-30 are inside the range on every adapter."""
    with store.unit_of_work() as uow:
        uow.set_business_calendar(BusinessCalendar("Europe/Berlin", 1))
    assert names(store, "created_at > 0001-01-02 and created_at < 9999-12-30") == [
        "P0",
        "P1",
        "P2",
        "P3",
    ]
    assert names(store, "created_at = 9999-12-30") == []


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        (r'country = "\q"', 11, "invalid escape"),
        (r'country = "\u12"', 11, r"invalid \u escape"),
        (r'country = "ok\u12"', 13, r"invalid \u escape"),
        (r'country = "\ud800"', 10, "lone surrogate"),
        ('country = "\ud800"', 10, "lone surrogate"),
        (r'has tag "\udfff"', 8, "lone surrogate"),
    ],
)
def test_bad_escapes_and_lone_surrogates_are_segment_errors_at_the_text(text, position, words):
    """JSON escapes are checked where written; text that UTF-8 cannot hold is refused."""
    found, message = error_at(text)
    assert found == position
    assert words in message


def test_a_surrogate_pair_written_as_escapes_is_one_character():
    r"""``"\ud83d\ude00"`` is the emoji, not two lone surrogates."""
    assert parse(r'country = "\ud83d\ude00"') == (F("country") == "\U0001f600")


def test_a_lone_surrogate_in_a_tree_built_with_f_is_refused():
    """The same check guards trees built in Python."""
    with pytest.raises(SegmentError, match="lone surrogate"):
        F("country") == "\udc80"  # noqa: B015


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("created_at within 366000 days", True),
        ("created_at within 366001 days", False),
        ("created_at within 52200 weeks", True),
        ("created_at within 52201 weeks", False),
        ("created_at more than 1000 years ago", True),
        ("created_at more than 1001 years ago", False),
        ("created_at more than 12000 months ago", True),
        ("created_at more than 4001 quarters ago", False),
        ("created_at within 1000000000 days", False),
        ("created_at more than 5000 years ago", False),
    ],
)
def test_relative_dates_reach_back_at_most_about_a_thousand_years(store, text, ok):
    """Within the reach every adapter answers; beyond it the amount is the error position."""
    if ok:
        assert names(store, text) in (["P0", "P1", "P2", "P3"], [])
    else:
        position, message = error_at(text)
        assert position == text.index(text.split()[2 if "within" in text else 3])
        assert "reaches back at most" in message


def test_a_relative_date_from_a_clock_near_year_one_is_a_segment_error_not_an_overflow():
    """Bounds that leave years 1-9999 are refused when resolved."""
    early = dt.datetime(5, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(SegmentError, match="leaves the representable dates"):
        parse("created_at more than 10 years ago").bounds(early, BusinessCalendar())


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("custom.n = 9223372036854775807", None),
        ("custom.n = 9223372036854775808", 11),
        ("custom.n = -9223372036854775808", None),
        ("custom.n = -9223372036854775809", 11),
        ("at least 9223372036854775808 activities", 9),
    ],
)
def test_integers_are_held_to_64_bits_everywhere(store, text, position):
    """Beyond 64 bits is a SegmentError at the number, not an OverflowError in a driver."""
    if position is None:
        assert names(store, text) == []
    else:
        found, message = error_at(text)
        assert found == position
        assert "beyond" in message


def test_an_unknown_currency_after_an_amount_is_named():
    """``10 XYZ`` says XYZ is not a currency, at its position."""
    position, message = error_at("total_spent >= 10 XYZ")
    assert position == 18
    assert "unknown currency 'XYZ'" in message


def test_and_in_capitals_after_a_number_is_still_the_keyword():
    """``AND`` looks like a currency code but is a keyword."""
    assert parse("custom.n = 1 AND custom.m = 2") == (F("custom.n") == 1) & (F("custom.m") == 2)


def test_a_thousand_term_or_chain_works_on_every_adapter(store):
    """SQLite's expression depth limit of 1000 is not reached."""
    text = (
        " or ".join(f'country = "X{i}"' for i in range(998))
        + ' or country = "DE" or country = "AT"'
    )
    assert names(store, text) == ["P0", "P2"]


def test_a_thousand_term_and_chain_works_on_every_adapter(store):
    """Every record but the missing country and the one excluded."""
    text = " and ".join(f'country != "X{i}"' for i in range(999)) + ' and country != "FR"'
    assert names(store, text) == ["P0", "P2"]


def test_a_hundred_thousand_value_in_list_works_on_every_adapter(store):
    """PostgreSQL gets the list as one array parameter, not 100,000 placeholders."""
    values = ", ".join(f'"X{i}"' for i in range(100_000))
    assert names(store, f'country in ({values}, "FR")') == ["P1"]
    assert names(store, f'country not in ({values}, "FR")') == ["P0", "P2"]


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ("amount in (100 EUR, 100)", ["eur100", "usd100"]),
        ("amount in (100, 100 EUR)", ["eur100", "usd100"]),
        ("amount in (100 EUR, 200)", ["eur100", "eur200"]),
        ("amount in (200, 100 EUR)", ["eur100", "eur200"]),
        ("amount in (100 USD, 200 EUR)", ["eur200", "usd100"]),
        ("amount not in (100 EUR, 100)", ["eur200"]),
        ("amount not in (100 EUR, 200)", ["usd100"]),
        ("amount not in (200, 100 EUR)", ["usd100"]),
    ],
)
def test_money_in_a_list_with_numbers_gives_the_same_members_on_every_adapter(store, text, members):
    """Money equals Money of its currency; a number equals the amount in any currency."""
    assert names(store, text, "deals") == members


def test_money_in_a_list_built_with_f_agrees_with_the_text_form(store):
    """The tree and the text are one condition."""
    tree = F("amount").is_in([Money.of("100", "EUR"), 200])
    assert names(store, tree, "deals") == ["eur100", "eur200"]
