import datetime as dt
import decimal
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import (
    CurrencyMismatchError,
    EmailAddress,
    Money,
    PhoneNumber,
    PhoneType,
    Priority,
    ValidationError,
)
from crmkit.values.arguments import check_items, require_attributes
from crmkit.values.currencies import MINOR_UNITS
from crmkit.values.money import parse_amount, parse_currency
from crmkit.values.temporal import parse_day, parse_instant, parse_time_zone

# -- email ---------------------------------------------------------------------------------


def test_email_keeps_original_and_normalises_domain():
    email = EmailAddress.parse("  Ada@Acme.DE ")
    assert email.original == "  Ada@Acme.DE "
    assert email.normalized == "Ada@acme.de"
    assert email.match_key == "ada@acme.de"
    assert (email.local_part, email.domain) == ("Ada", "acme.de")
    assert str(email) == "Ada@acme.de"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Straße@Example.DE", "strasse@example.de"),
        ("STRASSE@example.de", "strasse@example.de"),
        ("ÖMER@acme.de", "ömer@acme.de"),
        ("Ada@Acme.DE", "ada@acme.de"),
    ],
)
def test_the_email_match_key_is_casefolded_not_just_lower_cased(text, key):
    """``ß`` folds to ``ss``, so ``Straße@`` and ``STRASSE@`` share one match key."""
    assert EmailAddress.parse(text).match_key == key


def test_emails_are_equal_and_hash_alike_when_normalised_forms_are():
    a, b = EmailAddress.parse("ada@ACME.de"), EmailAddress.parse("ada@acme.de")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert EmailAddress.parse("Ada@acme.de") != EmailAddress.parse("ada@acme.de")


@pytest.mark.parametrize("bad", ["bob@@x", "no-at-sign", "a@b", "", "x@-bad-.com", "a b@c.de"])
def test_invalid_emails_raise_naming_the_field(bad):
    with pytest.raises(ValidationError) as info:
        EmailAddress.parse(bad, field="work_email")
    assert info.value.fields == ("work_email",)
    assert "is not a valid email address" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_email_message_reads_well():
    with pytest.raises(ValidationError, match=r"^email 'bob@@x' is not a valid email address: "):
        EmailAddress.parse("bob@@x")


def test_email_refuses_non_text():
    with pytest.raises(ValidationError, match="is not text"):
        EmailAddress.parse(42)


_local = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
    min_size=1,
    max_size=20,
).filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
_domain = st.sampled_from(
    ["Example.COM", "acme.de", "Sub.Domain.Org", "müller.de", "xn--mller-kva.de"]
)


@given(_local, _domain)
def test_normalising_an_email_twice_changes_nothing(local, domain):
    once = EmailAddress.parse(f"{local}@{domain}")
    twice = EmailAddress.parse(once.normalized)
    assert twice.normalized == once.normalized
    assert twice == once
    assert twice.match_key == once.match_key == once.normalized.casefold()


# -- phone ---------------------------------------------------------------------------------


def test_phone_is_stored_as_e164_with_formats_type_and_region():
    phone = PhoneNumber.parse("+49 30 901820")
    assert str(phone) == phone.e164 == "+4930901820"
    assert phone.national == "030 901820"
    assert phone.international == "+49 30 901820"
    assert phone.number_type is PhoneType.FIXED_LINE
    assert phone.region == "DE"


def test_phone_without_country_code_needs_a_region():
    assert PhoneNumber.parse("030 901820", "de").e164 == "+4930901820"
    assert PhoneNumber.parse("(201) 555-0123", "US").region == "US"
    with pytest.raises(ValidationError, match="pass a region"):
        PhoneNumber.parse("030 901820")


def test_mobile_numbers_are_typed():
    assert PhoneNumber.parse("+49 151 23456789").number_type is PhoneType.MOBILE


@pytest.mark.parametrize("bad", ["12", "+49 1", "phone", "", "+999 123456"])
def test_invalid_phones_raise_naming_the_field(bad):
    with pytest.raises(ValidationError) as info:
        PhoneNumber.parse(bad, "DE", field="mobile")
    assert info.value.fields == ("mobile",)


def test_unknown_region_is_refused():
    with pytest.raises(ValidationError, match=r"phone\.region 'XX' is not a known region"):
        PhoneNumber.parse("030 901820", "XX")


@given(
    st.sampled_from(["+49 30 901820", "+1 201-555-0123", "+44 20 7946 0958", "+33 1 23 45 67 89"])
)
def test_normalising_a_phone_twice_changes_nothing(text):
    once = PhoneNumber.parse(text)
    assert PhoneNumber.parse(once.e164) == once
    assert PhoneNumber.parse(once.international) == once


# -- money ---------------------------------------------------------------------------------


def test_money_from_text_int_and_decimal():
    assert Money.of("12000.50", "eur") == Money(Decimal("12000.50"), "EUR")
    assert Money.of(5, "USD").amount == Decimal(5)
    assert Money.of(Decimal("1.1"), "JPY").currency == "JPY"
    assert Money.of("10", "EUR") == Money.of("10.00", "EUR")
    assert hash(Money.of("10", "EUR")) == hash(Money.of("10.00", "EUR"))


def test_money_refuses_floats_bools_and_bad_currencies_all_at_once():
    with pytest.raises(ValidationError) as info:
        Money.of(0.1, "EURO")  # type: ignore[arg-type]
    assert info.value.fields == ("amount", "currency")
    assert "float" in str(info.value)
    for bad, reason in [
        (True, "is a bool, not an amount"),
        ("NaN", "is not a finite number"),
        ("12,5", "is not a decimal number"),
    ]:
        with pytest.raises(ValidationError) as info:
            Money.of(bad, "EUR")  # type: ignore[arg-type]
        assert info.value.fields == ("amount",)
        assert [p.reason for p in info.value.problems] == [reason]


def test_money_constructor_validates_too():
    with pytest.raises(ValidationError, match="must be a finite Decimal") as info:
        Money(1.5, "EUR")  # type: ignore[arg-type]
    assert info.value.fields == ("amount",)
    with pytest.raises(ValidationError, match="is not an ISO 4217 currency code") as info:
        Money(Decimal(1), "eur")
    assert info.value.fields == ("currency",)


def test_money_arithmetic_and_ordering_within_one_currency():
    a, b = Money.of("10.10", "EUR"), Money.of("0.20", "EUR")
    assert a + b == Money.of("10.30", "EUR")
    assert a - b == Money.of("9.90", "EUR")
    assert -b == Money.of("-0.20", "EUR")
    assert a * 3 == Money.of("30.30", "EUR")
    assert 2 * b == Money.of("0.40", "EUR")
    assert b < a
    assert a >= b
    assert sum([a, b]) == Money.of("10.30", "EUR")
    assert max([a, b]) == a


def test_money_division_is_exact_not_floored():
    """Division keeps the Decimal quotient: no flooring, negatives included."""
    assert Money.of("10", "EUR") / 4 == Money.of("2.5", "EUR")
    assert Money.of("-7", "EUR") / 2 == Money.of("-3.5", "EUR")
    assert Money.of("1", "EUR") / Decimal(3) == Money(Decimal(1) / Decimal(3), "EUR")
    assert Money.of("9", "JPY") / 3 == Money.of("3", "JPY")


def test_money_division_refuses_floats_and_bools():
    """Only an int or a Decimal divides Money."""
    with pytest.raises(TypeError, match="divided by an int or a Decimal"):
        Money.of("1", "EUR") / 2.0  # type: ignore[operator]
    with pytest.raises(TypeError, match="divided by an int or a Decimal"):
        Money.of("1", "EUR") / True


def test_mixing_currencies_raises():
    eur, usd = Money.of(1, "EUR"), Money.of(1, "USD")
    with pytest.raises(CurrencyMismatchError):
        eur + usd
    with pytest.raises(CurrencyMismatchError):
        eur < usd  # noqa: B015
    assert eur != usd
    with pytest.raises(TypeError):
        eur * 1.5  # type: ignore[operator]


def test_rounding_to_the_minor_unit():
    assert Money.of("2.345", "EUR").rounded() == Money.of("2.34", "EUR")
    assert Money.of("2.345", "EUR").rounded(decimal.ROUND_HALF_UP) == Money.of("2.35", "EUR")
    assert Money.of("1234.5", "JPY").rounded().amount == Decimal("1234")
    assert Money.of("1.23456", "KWD").rounded().amount == Decimal("1.235")
    assert str(Money.of("7", "EUR").rounded()) == "7.00 EUR"


_amounts = st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=4)
_currencies = st.sampled_from(sorted(MINOR_UNITS))


@given(_amounts, _amounts, _currencies, _currencies)
def test_money_never_mixes_currencies_and_stays_decimal(x, y, c1, c2):
    a, b = Money.of(x, c1), Money.of(y, c2)
    if c1 == c2:
        total = a + b
        assert isinstance(total.amount, Decimal)
        assert total.amount == x + y
        assert total.currency == c1
    else:
        with pytest.raises(CurrencyMismatchError):
            a + b


@given(_amounts, _currencies)
def test_rounding_is_idempotent_and_on_the_minor_unit(x, currency):
    once = Money.of(x, currency).rounded()
    assert once.rounded() == once
    assert -once.amount.as_tuple().exponent <= MINOR_UNITS[currency]


@given(st.floats(allow_nan=False))
def test_money_never_touches_a_float(value):
    with pytest.raises(ValidationError, match="float"):
        Money.of(value, "EUR")  # type: ignore[arg-type]


# -- enums ---------------------------------------------------------------------------------


def test_priority_is_ordered():
    assert Priority.HIGH > Priority.MEDIUM > Priority.LOW
    assert sorted([Priority.MEDIUM, Priority.HIGH, Priority.LOW]) == [
        Priority.LOW,
        Priority.MEDIUM,
        Priority.HIGH,
    ]
    assert max(Priority) is Priority.HIGH
    assert Priority("high") is Priority.HIGH


def test_activity_outcomes_cover_what_scoring_reads():
    from crmkit import ActivityOutcome

    wanted = {
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "unsubscribed",
        "connected",
        "no_answer",
        "voicemail",
        "held",
        "no_show",
        "submitted",
        "visited",
    }
    assert wanted <= {o.value for o in ActivityOutcome}


# -- found by mutation testing (mutmut over values/) ------------------------------------------


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: parse_currency(5), ("currency", 5, "is not an ISO 4217 currency code")),
        (
            lambda: parse_currency("EURO"),
            ("currency", "EURO", "is not an ISO 4217 currency code (e.g. 'EUR', 'USD')"),
        ),
        (lambda: parse_amount(True), ("amount", True, "is a bool, not an amount")),
        (
            lambda: parse_amount(0.5),
            ("amount", 0.5, "is a float: give the amount as text or Decimal to keep it exact"),
        ),
        (lambda: parse_amount("12,5"), ("amount", "12,5", "is not a decimal number")),
        (lambda: parse_amount([1]), ("amount", [1], "is not an amount (text, int or Decimal)")),
        (lambda: parse_amount("Infinity"), ("amount", "Infinity", "is not a finite number")),
        (lambda: Money(1.5, "EUR"), ("amount", 1.5, "must be a finite Decimal")),
        (lambda: Money(Decimal(1), "eur"), ("currency", "eur", "is not an ISO 4217 currency code")),
        (lambda: Money.of("x", "EUR", field="price"), ("price", "x", "is not a decimal number")),
    ],
    ids=[
        "currency not text",
        "unknown currency",
        "bool",
        "float",
        "comma",
        "list",
        "infinite",
        "constructor float",
        "constructor lower-case currency",
        "field named by caller",
    ],
)
def test_money_errors_name_the_field_the_value_and_the_reason(make, problem):
    """Each refusal is one problem with the field, the value as given and the exact reason."""
    with pytest.raises(ValidationError) as info:
        make()
    assert [(p.field, p.value, p.reason) for p in info.value.problems] == [problem]


def test_money_abs_and_truth():
    """`abs` drops the sign and keeps the currency; only a zero amount is falsy."""
    assert abs(Money.of("-2.50", "EUR")) == Money.of("2.5", "EUR")
    assert abs(Money.of("3", "JPY")) == Money.of("3", "JPY")
    assert bool(Money.zero("EUR")) is False
    assert bool(Money.of("0.01", "EUR")) is True


def test_money_multiplication_refuses_bools_and_floats_with_its_own_message():
    """`Money * True` and `Money * 1.5` raise the Money TypeError, not Decimal's."""
    for factor in (True, 1.5):
        with pytest.raises(TypeError, match="multiplied by an int or a Decimal"):
            Money.of("1", "EUR") * factor


def test_priorities_compare_strictly_and_refuse_other_types():
    """`<` and `>` are strict, `<=` and `>=` are not; comparing with a number raises TypeError."""
    low, high = Priority.LOW, Priority.HIGH
    assert (low < low, low <= low, low > low, low >= low) == (False, True, False, True)
    assert (low < high, high > low, high <= low, low >= high) == (True, True, False, False)
    for compare in (
        lambda: low < 1,
        lambda: low <= 1,
        lambda: low > 1,
        lambda: low >= 1,
    ):
        with pytest.raises(TypeError):
            compare()


def test_different_email_addresses_hash_apart():
    """Hashes follow the normalised form, so different addresses spread over a set's buckets."""
    hashes = {hash(EmailAddress.parse(f"user{i}@example.org")) for i in range(20)}
    assert len(hashes) == 20


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-01T09:00-05:00", dt.datetime(2026, 3, 1, 14, tzinfo=dt.UTC)),
        ("2026-03-01T09:00+02:00", dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC)),
        ("2026-03-01T09:00Z", dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)),
    ],
)
def test_an_instant_with_an_offset_is_converted_to_utc(text, utc):
    """A negative offset counts as explicit as a positive one or ``Z``."""
    assert parse_instant(text, "at") == utc


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-03-01T09:00", "has no UTC offset: add one, e.g. '+02:00' or 'Z'"),
        ("2026-03-01", "is not a date-time (it has no time)"),
        (dt.datetime(2026, 3, 1), "is a naive datetime: give a time zone (crmkit stores UTC)"),
    ],
    ids=["text without offset", "a date", "naive datetime"],
)
def test_instants_without_a_time_zone_are_refused_naming_field_and_value(value, reason):
    """Naive times are refused, with the field, the value as given and why."""
    with pytest.raises(ValidationError) as info:
        parse_instant(value, "at")
    assert [(p.field, p.value, p.reason) for p in info.value.problems] == [("at", value, reason)]


def test_time_zones_are_exact_iana_names():
    """``Europe/Berlin`` is kept; a lower-cased name is refused naming the field and value."""
    assert parse_time_zone("Europe/Berlin", "tz") == "Europe/Berlin"
    with pytest.raises(ValidationError) as info:
        parse_time_zone("europe/berlin", "tz")
    assert [(p.field, p.value) for p in info.value.problems] == [("tz", "europe/berlin")]


def test_a_pendulum_date_becomes_a_plain_date():
    """A `date` subclass (pendulum's) comes back as the same day, as a plain `dt.date`."""
    day = parse_day(pendulum.date(2026, 3, 1), "d")
    assert (type(day), day) == (dt.date, dt.date(2026, 3, 1))


# -- crmkit.values.arguments: the checks public entry points share (issue 11) ---------------


def test_require_attributes_asks_a_delegating_wrapper_but_never_evaluates_a_property():
    class Store:
        evaluated = 0

        @property
        def orders(self):
            Store.evaluated += 1
            return []

    class Wrapper:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

    require_attributes(Store(), "uow", ["orders"], "a UnitOfWork")
    assert Store.evaluated == 0  # found on the class
    require_attributes(Wrapper(Store()), "uow", ["orders"], "a UnitOfWork")
    with pytest.raises(ValidationError) as caught:
        require_attributes(Wrapper(object()), "uow", ["orders"], "a UnitOfWork")
    assert caught.value.fields == ("uow",)
    assert "it has no orders attribute" in str(caught.value)


def test_check_items_names_the_collection_and_each_wrong_item():
    assert check_items(iter([1, 2]), "counts", int, "counts") == (1, 2)
    for value in (None, "12", b"12", {1: 2}, 3):
        with pytest.raises(ValidationError) as caught:
            check_items(value, "counts", int, "counts")
        assert caught.value.fields == ("counts",)
    with pytest.raises(ValidationError) as caught:
        check_items([1, "2", None], "counts", int, "counts")
    assert caught.value.fields == ("counts[1]", "counts[2]")
    assert "is not an int" in str(caught.value)
