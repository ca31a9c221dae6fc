"""The one definition of storable values (`crmkit.values.storable`), both sides of each limit."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal

import pytest

from crmkit import Contact, CustomField, CustomFieldSchema, FieldType, ValidationError
from crmkit.errors import Problem
from crmkit.storage.facts import compute_facts
from crmkit.values.money import Money
from crmkit.values.storable import (
    MAX_INTEGER,
    MIN_INTEGER,
    add_exactly,
    check_decimal,
    check_float,
    check_integer,
    check_text,
    storable_problems,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_the_integer_limits_are_those_of_64_bits():
    """-2**63 and 2**63-1 are kept; one past either end is refused naming the field."""
    assert (MIN_INTEGER, MAX_INTEGER) == (-(2**63), 2**63 - 1)
    assert check_integer(2**63 - 1, "n") == 2**63 - 1
    assert check_integer(-(2**63), "n") == -(2**63)
    for value in (2**63, -(2**63) - 1):
        with pytest.raises(ValidationError) as info:
            check_integer(value, "n")
        assert info.value.problems == (
            Problem("n", value, "is outside the 64-bit range -2**63 to 2**63-1"),
        )


def test_decimals_have_at_most_18_digits_before_and_10_after_the_point():
    """999999999999999999.9999999999 is kept; 10**18 and an 11th decimal are refused."""
    for value in ("999999999999999999.9999999999", "-999999999999999999", "0.0000000001", "0"):
        assert check_decimal(Decimal(value), "d") == Decimal(value)
    refused = {
        "1000000000000000000": "has more than 18 digits before the decimal point",
        "-1E+18": "has more than 18 digits before the decimal point",
        "0.00000000001": "has more than 10 digits after the decimal point",
        "1.00000000000": "has more than 10 digits after the decimal point",
        "1" * 40: "has more than 18 digits before the decimal point",
        "NaN": "is not a finite number",
        "-Infinity": "is not a finite number",
    }
    for text, reason in refused.items():
        with pytest.raises(ValidationError) as info:
            check_decimal(Decimal(text), "d")
        assert [(p.field, p.reason) for p in info.value.problems] == [("d", reason)]


def test_text_without_nul_or_surrogates_is_storable():
    """Any other text is kept: control characters, emoji, a surrogate pair's character."""
    for text in ("", "plain", "\x01\x7f", "Zoë 🙂", "\u2028", "\U0010ffff"):
        assert check_text(text, "t") == text
    reasons = {
        "a\x00b": "holds a NUL character, which no store keeps",
        "Zoë\x00": "holds a NUL character, which no store keeps",
        "\ud800": "holds the surrogate U+D800, which is not UTF-8 text",
        "ok \udfff": "holds the surrogate U+DFFF, which is not UTF-8 text",
    }
    for text, reason in reasons.items():
        with pytest.raises(ValidationError) as info:
            check_text(text, "t")
        assert [(p.field, p.reason) for p in info.value.problems] == [("t", reason)]


def test_floats_must_be_finite():
    """1e308 is kept; NaN and both infinities are refused."""
    assert check_float(1e308, "f") == 1e308
    assert check_float(-0.0, "f") == 0.0
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValidationError, match="is not a finite number"):
            check_float(value, "f")


def test_problems_name_the_part_that_holds_the_value():
    """Keys, positions and attrs parts name where the value sits; value objects name the field."""
    value = {
        "ok": [1, "x", Decimal("1.5"), dt.date(2026, 1, 1), uuid.UUID(int=1), True],
        "deep": [{"n": 2**64}],
        "money": Money(Decimal(10**18), "EUR"),
        "gap": dt.timedelta(days=999_999_999),
        "set": frozenset({"a\x00"}),
    }
    assert [(p.field, p.reason) for p in storable_problems(value, "custom")] == [
        ("custom.deep[0].n", "is outside the 64-bit range -2**63 to 2**63-1"),
        ("custom.money", "has more than 18 digits before the decimal point"),
        ("custom.gap", "is outside the 64-bit range -2**63 to 2**63-1"),
        ("custom.set", "holds a NUL character, which no store keeps"),
    ]
    assert storable_problems(value["ok"], "custom") == []


def test_create_and_changed_refuse_unstorable_values_naming_the_field():
    """Entity validation uses the same definition: `create` and `changed` refuse alike."""
    cases = {
        "first_name": {"first_name": "a\x00b"},
        "last_name": {"last_name": "\ud800"},
        "custom.seats": {"custom": {"seats": 2**63}},
        "custom.ratio": {"custom": {"ratio": Decimal("1" * 40)}},
        "tags": {"tags": ["a\x00"]},
        "external_ids.crm": {"external_ids": {"crm": "a\x00"}},
    }
    ada = Contact.create(first_name="Ada")
    for field, given in cases.items():
        with pytest.raises(ValidationError) as info:
            Contact.create(**{"first_name": "Ada", **given})
        assert info.value.fields == (field,), given
        with pytest.raises(ValidationError) as info:
            ada.changed(**given)
        assert info.value.fields == (field,), given
    kept = Contact.create(first_name="Ada", custom={"big": 2**63 - 1, "small": -(2**63)})
    assert dict(kept.custom) == {"big": 2**63 - 1, "small": -(2**63)}


def test_custom_schemas_refuse_unstorable_values_and_defaults():
    """Schema validation converts, then holds the result to the same limits."""
    schema = CustomFieldSchema(
        "contact",
        [CustomField("seats", FieldType.INTEGER), CustomField("note", FieldType.TEXT)],
    )
    assert dict(schema.validate({"seats": str(2**63 - 1)})) == {"seats": 2**63 - 1}
    with pytest.raises(ValidationError) as info:
        schema.validate({"seats": str(2**63), "note": "a\x00"})
    assert info.value.fields == ("custom.seats", "custom.note")
    with pytest.raises(ValidationError) as info:
        CustomField("ratio", FieldType.DECIMAL, default="0.00000000001")
    assert info.value.fields == ("ratio.default",)


def test_custom_keys_with_a_trailing_newline_are_refused():
    """A key is matched whole: ``"plan\\n"`` is not the key ``"plan"``."""
    assert CustomField("plan", FieldType.TEXT).key == "plan"
    with pytest.raises(ValidationError) as info:
        CustomField("plan\n", FieldType.TEXT)
    assert info.value.fields == ("key",)
    with pytest.raises(ValidationError) as info:
        Contact.create(first_name="Ada", custom={"plan\n": "pro"})
    assert info.value.fields == ("custom.plan\n",)
    assert dict(Contact.create(first_name="Ada", custom={"plan": "pro"}).custom) == {"plan": "pro"}


def test_order_totals_sum_exactly_where_the_default_context_rounds():
    """compute_facts keeps every digit: three of the largest amounts need 29 digits."""
    largest = Decimal("999999999999999999.9999999999")
    record = uuid.UUID(int=7)
    [facts] = compute_facts([], [(record, "EUR", largest, T0)] * 3)
    assert facts.order_totals == {"EUR": Decimal("2999999999999999999.9999999997")}
    assert largest * 3 == Decimal("3000000000000000000.000000000")  # the default context
    cents_above_10_27 = Decimal("1000000000000000000000000000.01")
    assert add_exactly(Decimal("0.01"), Decimal(10**27)) == cents_above_10_27
    with pytest.raises(ValidationError, match="more than 47 digits"):
        add_exactly(Decimal("0.01"), Decimal(10**46))
