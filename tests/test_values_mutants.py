"""Tests that pin down behaviour of crmkit.values that mutation testing found unchecked.

Each refusal is checked to the problem it reports: the field, the value and the reason.
"""

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest

from crmkit.clock import FixedClock
from crmkit.errors import CurrencyMismatchError, Problem, ValidationError
from crmkit.values.arguments import (
    as_items,
    check_callable,
    check_clock,
    check_flag,
    check_items,
    check_text,
    check_whole_number,
    item_problems,
    require_attributes,
    require_instance,
)
from crmkit.values.email import EmailAddress
from crmkit.values.money import Money, parse_amount, parse_currency
from crmkit.values.phone import PhoneNumber
from crmkit.values.public_holidays import check_country
from crmkit.values.storable import (
    add_exactly,
    check_decimal,
    check_float,
    storable_problems,
)
from crmkit.values.storable import check_text as check_storable_text
from crmkit.values.temporal import (
    parse_day,
    parse_instant,
    parse_time_zone,
    require_instant,
)
from crmkit.values.working_hours import WorkingHours

NUL = "holds a NUL character, which no store keeps"
RANGE = "is outside the 64-bit range -2**63 to 2**63-1"
EXPONENT = "is written with an exponent (1E+3): PostgreSQL keeps it as 1000; give the digits"
NOT_FINITE = "is not a finite number"
CLOCK_HINT = (
    "is not a clock: pass a Clock (anything with now()), e.g. crmkit.FixedClock(at), "
    "or None for the system clock"
)
BERLIN_NOON = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def tuples(problems: list[Problem]) -> list[tuple[object, object, str]]:
    """Return problems as (field, value, reason) tuples."""
    return [(p.field, p.value, p.reason) for p in problems]


def problems_of(call: Callable[[], object]) -> list[tuple[object, object, str]]:
    """Run `call`, which must raise a ValidationError, and return its problems as tuples."""
    with pytest.raises(ValidationError) as caught:
        call()
    return tuples(list(caught.value.problems))


# --- temporal ---------------------------------------------------------------------------

NAIVE = dt.datetime(2026, 3, 31, 12, 0)
AWARE_DAY = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda: parse_instant(NAIVE, "due"),
            ("due", NAIVE, "is a naive datetime: give a time zone (crmkit stores UTC)"),
        ),
        (
            lambda: parse_instant("yesterday", "due"),
            ("due", "yesterday", "is not an ISO 8601 date-time"),
        ),
        (
            lambda: parse_instant("2026-03-31", "due"),
            ("due", "2026-03-31", "is not a date-time (it has no time)"),
        ),
        (
            lambda: parse_instant("2026-03-31T12:00", "due"),
            ("due", "2026-03-31T12:00", "has no UTC offset: add one, e.g. '+02:00' or 'Z'"),
        ),
        (lambda: parse_instant(12, "due"), ("due", 12, "is not a date-time")),
        (
            lambda: require_instant("2026-03-31T12:00Z", "now"),
            ("now", "2026-03-31T12:00Z", "is not a datetime (give an aware datetime)"),
        ),
        (
            lambda: parse_day(AWARE_DAY, "born"),
            ("born", AWARE_DAY, "is a date-time, not a calendar day"),
        ),
        (
            lambda: parse_day("31.03.2026", "born"),
            ("born", "31.03.2026", "is not an ISO 8601 date (YYYY-MM-DD)"),
        ),
        (lambda: parse_day(20260331, "born"), ("born", 20260331, "is not a calendar day")),
        (lambda: parse_time_zone(5, "zone"), ("zone", 5, "is not a time zone name")),
        (lambda: parse_time_zone("  ", "zone"), ("zone", "  ", "is not a time zone name")),
        (
            lambda: parse_time_zone("Mars/Olympus", "zone"),
            ("zone", "Mars/Olympus", "is not a known IANA time zone (e.g. 'Europe/Berlin')"),
        ),
    ],
)
def test_temporal_parsers_name_the_field_the_value_and_the_reason(call, expected):
    """Every refusal of a temporal parser reports its field, the value given and why."""
    assert problems_of(call) == [expected]


def test_an_aware_datetime_with_an_offset_is_returned_in_utc():
    """A datetime at +02:00 becomes the same instant in UTC."""
    assert parse_instant(BERLIN_NOON, "due") == dt.datetime(2026, 3, 31, 10, 0, tzinfo=dt.UTC)
    assert parse_instant(BERLIN_NOON, "due").tzinfo is dt.UTC


def test_an_offset_that_pushes_the_utc_time_before_year_one_is_refused():
    """0001-01-01 00:59 at +01:00 is before year 1 in UTC; 01:00 at +01:00 is exactly its start."""
    plus_one = dt.timezone(dt.timedelta(hours=1))
    too_early = dt.datetime(1, 1, 1, 0, 59, tzinfo=plus_one)
    earliest = dt.datetime(1, 1, 1, 1, 0, tzinfo=plus_one)
    assert problems_of(lambda: parse_instant(too_early, "due")) == [
        ("due", too_early, "is out of range: in UTC it falls before year 1 or after year 9999")
    ]
    assert parse_instant(earliest, "due") == dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def test_an_offset_that_pushes_the_utc_time_after_year_9999_is_refused():
    """9999-12-31 23:00 at -01:00 is the last UTC hour; a minute later is past year 9999."""
    minus_one = dt.timezone(dt.timedelta(hours=-1))
    latest = dt.datetime(9999, 12, 31, 22, 59, 59, 999999, tzinfo=minus_one)
    too_late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=minus_one)
    assert parse_instant(latest, "due") == dt.datetime(9999, 12, 31, 23, 59, 59, 999999, dt.UTC)
    assert problems_of(lambda: parse_instant(too_late, "due")) == [
        ("due", too_late, "is out of range: in UTC it falls before year 1 or after year 9999")
    ]


def test_text_with_an_out_of_range_offset_names_the_field():
    """ISO text whose UTC time falls before year 1 is refused naming the field."""
    text = "0001-01-01T00:30:00+01:00"
    [(field, _value, reason)] = problems_of(lambda: parse_instant(text, "due"))
    assert (field, reason) == (
        "due",
        "is out of range: in UTC it falls before year 1 or after year 9999",
    )


def test_the_earliest_and_latest_utc_instants_are_accepted():
    """Year 1 and year 9999 in UTC itself are always in range."""
    first = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    last = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert parse_instant(first, "due") == first
    assert parse_instant(last, "due") == last


def test_a_zero_offset_zone_other_than_utc_is_accepted_at_the_edges():
    """An explicit +00:00 zone (not dt.UTC) at year 1 and year 9999 is in range."""
    zero = dt.timezone(dt.timedelta(0), "GMT")
    first = dt.datetime(1, 1, 1, tzinfo=zero)
    last = dt.datetime(9999, 12, 31, 23, 59, tzinfo=zero)
    assert parse_instant(first, "due") == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert parse_instant(last, "due") == dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC)


def test_a_one_second_offset_near_year_one_is_judged_by_its_utc_time():
    """A tiny positive offset at the very first second is refused; just after it is fine."""
    zone = dt.timezone(dt.timedelta(seconds=1))
    assert problems_of(lambda: parse_instant(dt.datetime(1, 1, 1, tzinfo=zone), "due"))
    later = dt.datetime(1, 1, 1, 0, 0, 1, tzinfo=zone)
    assert parse_instant(later, "due") == dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def test_an_offset_written_right_after_the_date_counts_as_explicit():
    """Text whose offset starts at position 10 ('2026-03-31Z' style time) is read as UTC."""
    assert parse_instant("2026-03-31T12Z", "due") == dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)


def test_time_zone_names_are_stripped_and_canonical():
    """A known zone name with spaces around it gives the IANA name."""
    assert parse_time_zone(" Europe/Berlin ", "zone") == "Europe/Berlin"


# --- arguments ----------------------------------------------------------------------------


class _Tick:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: check_text(3, "label"), ("label", 3, "is not text")),
        (lambda: check_text("  ", "label"), ("label", "  ", "must be non-blank text")),
        (lambda: check_flag(1, "active"), ("active", 1, "is not True or False")),
        (lambda: check_whole_number(True, "limit"), ("limit", True, "is not a whole number")),
        (lambda: check_whole_number(2.0, "limit"), ("limit", 2.0, "is not a whole number")),
        (
            lambda: check_whole_number(2, "limit", minimum=3),
            ("limit", 2, "must be at least 3"),
        ),
        (
            lambda: check_callable(3, "key"),
            ("key", 3, "is not a function (nothing to call)"),
        ),
        (
            lambda: check_clock(FixedClock),
            (
                "clock",
                FixedClock,
                "is a class, not a clock: pass an instance, e.g. crmkit.FixedClock(at)",
            ),
        ),
        (lambda: check_clock("now", "timer"), ("timer", "now", CLOCK_HINT)),
        (lambda: require_instance(1, str, "name"), ("name", 1, "is not a str")),
        (lambda: require_instance("x", int, "n"), ("n", "x", "is not an int")),
        (
            lambda: check_items("abc", "stages", str, "stages"),
            ("stages", "abc", "is not a collection of stages"),
        ),
    ],
)
def test_argument_checks_name_the_argument_the_value_and_the_reason(call, expected):
    """Every argument check reports the argument's name, what was given and why it is refused."""
    assert problems_of(call) == [expected]


def test_argument_checks_return_what_they_accept():
    """Accepted arguments come back unchanged, including blank text when allowed."""
    assert check_text("Ada", "label") == "Ada"
    assert check_text("  ", "label", blank=True) == "  "
    assert check_flag(False, "active") is False
    assert check_flag(True, "active") is True
    assert check_whole_number(3, "limit", minimum=3) == 3
    assert check_whole_number(-5, "limit") == -5
    assert check_callable(len, "key") is len
    assert check_items(["a", "b"], "names", str, "names") == ("a", "b")


def test_item_problems_name_every_wrong_item_with_a_tuple_of_kinds():
    """A tuple of accepted classes is spelled out with articles, one problem per wrong item."""
    reasons = [
        (p.field, p.value, p.reason)
        for p in item_problems([1, "x", 2.5, None], "weights", (int, float))
    ]
    assert reasons == [
        ("weights[1]", "x", "is not an int or a float"),
        ("weights[3]", None, "is not an int or a float"),
    ]


def test_as_items_refuses_text_mappings_and_none_but_takes_sets():
    """Text, a mapping and None are not collections of items; a set is."""
    assert as_items("abc") is None
    assert as_items({"a": 1}) is None
    assert as_items(None) is None
    assert as_items({7}) == (7,)


def test_a_checked_clock_is_returned_as_itself_every_time():
    """A clock instance comes back unchanged on the first and every later check."""
    clock = _Tick()
    assert check_clock(clock) is clock
    assert check_clock(clock) is clock
    assert check_clock(None) is None


def test_an_instance_of_a_fresh_clock_class_is_accepted():
    """An object of a never-seen class that has now() passes as a clock."""
    fresh = type("FreshClock", (), {"now": lambda self: dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    clock = fresh()
    assert check_clock(clock) is clock


class _Store:
    def unit_of_work(self) -> None:
        return None


class _Forwarding:
    def __init__(self) -> None:
        self.inner = _Store()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_require_attributes_finds_attributes_set_on_the_instance():
    """An attribute only in the instance's __dict__ counts as present."""
    value = _Store()
    value.orders = []  # type: ignore[attr-defined]
    require_attributes(value, "store", ["orders", "unit_of_work"], "a store")


def test_require_attributes_checks_every_attribute_after_a_present_one():
    """The first attribute being there does not excuse a missing second one."""
    store = _Store()
    assert problems_of(
        lambda: require_attributes(store, "store", ["unit_of_work", "close"], "a store")
    ) == [("store", store, "is not a store: it has no close attribute")]


def test_require_attributes_asks_a_forwarding_wrapper_for_each_attribute():
    """A __getattr__ wrapper passes for what it forwards and fails for what it cannot."""
    wrapper = _Forwarding()
    require_attributes(wrapper, "store", ["unit_of_work"], "a store")
    [(field, _value, reason)] = problems_of(
        lambda: require_attributes(wrapper, "store", ["unit_of_work", "close"], "a store")
    )
    assert (field, reason) == ("store", "is not a store: it has no close attribute")


# --- money --------------------------------------------------------------------------------


def test_parse_amount_writes_exponents_out_and_drops_negative_zero():
    """'1E+1' is 10 and '1E+3' is 1000 in plain digits; '-0.00' is 0.00."""
    assert str(parse_amount("1E+1")) == "10"
    assert str(parse_amount("1E+3")) == "1000"
    assert str(parse_amount("-0.00")) == "0.00"
    assert str(parse_amount("12")) == "12"


def test_parse_amount_keeps_an_exponent_it_cannot_write_out():
    """27 digits after the first are written out; 28 would overflow and are left as given."""
    assert str(parse_amount("1E+27")) == "1" + "0" * 27
    assert str(parse_amount("1E+28")) == "1E+28"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: parse_amount(True, "price"), [("price", True, "is a bool, not an amount")]),
        (
            lambda: parse_amount(1.5, "price"),
            [("price", 1.5, "is a float: give the amount as text or Decimal to keep it exact")],
        ),
        (lambda: parse_amount("abc", "price"), [("price", "abc", "is not a decimal number")]),
        (
            lambda: parse_amount([1], "price"),
            [("price", [1], "is not an amount (text, int or Decimal)")],
        ),
        (lambda: parse_amount("NaN", "price"), [("price", "NaN", "is not a finite number")]),
        (
            lambda: parse_currency(978, "cur"),
            [("cur", 978, "is not an ISO 4217 currency code")],
        ),
        (
            lambda: parse_currency("EURO", "cur"),
            [("cur", "EURO", "is not an ISO 4217 currency code (e.g. 'EUR', 'USD')")],
        ),
        (
            lambda: Money.of("x", "ZZZ", field="price"),
            [
                ("price", "x", "is not a decimal number"),
                ("price.currency", "ZZZ", "is not an ISO 4217 currency code (e.g. 'EUR', 'USD')"),
            ],
        ),
        (
            lambda: Money.of("x", "ZZZ"),
            [
                ("amount", "x", "is not a decimal number"),
                ("currency", "ZZZ", "is not an ISO 4217 currency code (e.g. 'EUR', 'USD')"),
            ],
        ),
    ],
)
def test_money_refusals_name_field_value_and_reason(call, expected):
    """Amount and currency refusals report where, what and why, all at once."""
    assert problems_of(call) == expected


def test_money_comparisons_hold_on_both_sides_of_equality():
    """<, <=, > and >= treat equal amounts (of any scale) and one cent apart correctly."""
    ten = Money.of("10", "EUR")
    ten_00 = Money.of("10.00", "EUR")
    ten_01 = Money.of("10.01", "EUR")
    assert not ten < ten_00
    assert ten <= ten_00
    assert not ten > ten_00
    assert ten >= ten_00
    assert ten < ten_01
    assert ten <= ten_01
    assert not ten_01 <= ten
    assert ten_01 > ten
    assert not ten > ten_01
    assert not ten >= ten_01


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m < Money.of(1, "USD"), "cannot compare EUR and USD: convert first"),
        (lambda m: m <= Money.of(1, "USD"), "cannot compare EUR and USD: convert first"),
        (lambda m: m > Money.of(1, "USD"), "cannot compare EUR and USD: convert first"),
        (lambda m: m >= Money.of(1, "USD"), "cannot compare EUR and USD: convert first"),
        (lambda m: m + Money.of(1, "USD"), "cannot add EUR and USD: convert first"),
        (lambda m: m - Money.of(1, "USD"), "cannot subtract EUR and USD: convert first"),
    ],
)
def test_money_of_two_currencies_is_refused_with_the_operation_named(call, message):
    """Mixing currencies raises CurrencyMismatchError saying which operation and currencies."""
    with pytest.raises(CurrencyMismatchError) as caught:
        call(Money.of(1, "EUR"))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m <= 5, "cannot compare Money and int"),
        (lambda m: m + 5, "cannot add Money and int"),
        (lambda m: Decimal(5) + m, "cannot add Money and Decimal"),
        (lambda m: m - 5, "cannot subtract Money and int"),
    ],
)
def test_money_and_a_plain_number_are_refused_with_a_type_error_naming_both(call, message):
    """Adding, subtracting or comparing Money and a number raises TypeError naming the types."""
    with pytest.raises(TypeError) as caught:
        call(Money.of(1, "EUR"))
    assert str(caught.value) == message


def test_reflected_addition_of_money_adds():
    """Money's reflected add gives the sum, as sum() and Decimal(0) + money rely on."""
    two = Money.of(2, "EUR")
    five = Money.of(5, "EUR")
    assert two.__radd__(five) == Money.of(7, "EUR")
    assert Decimal(0) + five is five
    assert sum([two, five]) == Money.of(7, "EUR")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m * "2", "Money can only be multiplied by an int or a Decimal"),
        (lambda m: m * True, "Money can only be multiplied by an int or a Decimal"),
        (lambda m: m / "2", "Money can only be divided by an int or a Decimal"),
        (lambda m: m / True, "Money can only be divided by an int or a Decimal"),
    ],
)
def test_money_is_only_scaled_by_whole_numbers_and_decimals(call, message):
    """Multiplying or dividing Money by text or a bool raises TypeError saying what works."""
    with pytest.raises(TypeError) as caught:
        call(Money.of(1, "EUR"))
    assert str(caught.value) == message


def test_money_rounds_to_its_minor_unit():
    """EUR rounds to cents (half to even), JPY to whole yen, KWD to three digits."""
    assert str(Money.of("2.345", "EUR").rounded().amount) == "2.34"
    assert str(Money.of("2.355", "EUR").rounded().amount) == "2.36"
    assert str(Money.of("2.5", "JPY").rounded().amount) == "2"
    assert str(Money.of("1.23456", "KWD").rounded().amount) == "1.235"


# --- phone and email ------------------------------------------------------------------------


def test_phone_refusals_name_the_field_and_the_text():
    """Non-text, an unknown region, unparsable and invalid numbers are reported exactly."""
    assert problems_of(lambda: PhoneNumber.parse(30, field="tel")) == [("tel", 30, "is not text")]
    assert problems_of(lambda: PhoneNumber.parse("030 901820", "XX", field="tel")) == [
        ("tel.region", "XX", "is not a known region")
    ]
    assert problems_of(lambda: PhoneNumber.parse("+49 123", field="tel")) == [
        ("tel", "+49 123", "is not a valid phone number")
    ]


def test_a_phone_number_without_country_code_gets_a_region_hint_only_when_it_needs_one():
    """Text without '+' and without a region is told to pass a region; with a region it is not."""
    [(field, value, reason)] = problems_of(lambda: PhoneNumber.parse("abc", field="tel"))
    assert (field, value) == ("tel", "abc")
    assert reason.startswith("is not a phone number: ")
    assert reason.endswith(" (no country code: pass a region, e.g. region='DE')")
    [(_f, _v, with_region)] = problems_of(lambda: PhoneNumber.parse("abc", "DE", field="tel"))
    assert not with_region.endswith("region='DE')")
    [(_f, _v, with_plus)] = problems_of(lambda: PhoneNumber.parse("+abc", field="tel"))
    assert not with_plus.endswith("region='DE')")


def test_email_refusals_name_the_field_and_the_text():
    """Non-text and an invalid address are reported with the field and the text given."""
    assert problems_of(lambda: EmailAddress.parse(5, field="mail")) == [("mail", 5, "is not text")]
    [(field, value, reason)] = problems_of(lambda: EmailAddress.parse("no-at", field="mail"))
    assert (field, value) == ("mail", "no-at")
    assert reason.startswith("is not a valid email address: ")


# --- public holidays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        (49, None, ("holiday_country", 49, "is not a country code")),
        ("DE", 7, ("holiday_subdivision", 7, "is not a subdivision code")),
        (
            "XY",
            None,
            ("holiday_country", "XY", "is not a country the holidays package knows (ISO code)"),
        ),
    ],
)
def test_unknown_holiday_countries_and_subdivisions_are_reported_exactly(
    country, subdivision, expected
):
    """A wrong country or subdivision names which one, the value, and why."""
    assert problems_of(lambda: check_country(country, subdivision)) == [expected]


def test_an_unknown_subdivision_lists_the_known_ones():
    """A subdivision not of the country is refused, listing the country's subdivisions."""
    [(field, value, reason)] = problems_of(lambda: check_country("DE", "ZZ"))
    assert (field, value) == ("holiday_subdivision", "ZZ")
    assert reason.startswith("is not a subdivision of DE (one of BB, BE, BW, BY, ")
    check_country("DE", "BY")
    check_country("DE", None)


# --- working hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("09:60-17:00", "is not a time of day from 00:00 to 24:00"),
        ("25:00-26:00", "is not a time of day from 00:00 to 24:00"),
        ("24:00-24:00", "is not a time of day from 00:00 to 24:00"),
        ("09:00-24:01", "is not a time of day from 00:00 to 24:00"),
        ("09:00-09:00", "ends before it starts (a night shift is two)"),
        ("17:00-09:00", "ends before it starts (a night shift is two)"),
        ("9-17", "is not a shift like 09:00-17:00"),
    ],
)
def test_bad_shifts_are_refused_with_their_reason(text, reason):
    """Times past 24:00 or a minute past 59, empty or reversed shifts are each refused."""
    assert problems_of(lambda: WorkingHours.parse({"mon": text, "tue": "09:00-17:00"})) == [
        ("working_hours.mon", text, reason)
    ]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("09:59-24:00", (599, 1440)), ("00:00-00:01", (0, 1)), ("23:59-24:00", (1439, 1440))],
)
def test_shifts_at_the_edges_of_the_day_are_accepted(text, minutes):
    """A minute of 59, an end at 24:00 and a one-minute shift are valid."""
    assert WorkingHours.parse({"wed": text}).days[2] == (minutes,)


def test_working_hours_refusals_list_every_problem():
    """A non-mapping, a non-list day and overlapping shifts are reported with their fields."""
    assert problems_of(lambda: WorkingHours.parse(["mon"])) == [  # type: ignore[arg-type]
        ("working_hours", ["mon"], "is not a mapping of weekdays to shifts")
    ]
    assert problems_of(
        lambda: WorkingHours.parse(
            {"mon": 9, "tue": ["09:00-12:00", "11:00-13:00"], "wed": "09:00-17:00"}
        )
    ) == [
        ("working_hours.mon", 9, "is not a shift or a list of shifts"),
        ("working_hours.tue", "09:00-12:00, 11:00-13:00", "are overlapping shifts"),
    ]


def test_a_week_without_open_hours_is_refused_only_when_nothing_else_is_wrong():
    """An all-closed week is refused as such, but not on top of another problem."""
    assert problems_of(lambda: WorkingHours.parse({})) == [
        ("working_hours", {}, "has no open hour in the week")
    ]
    assert problems_of(lambda: WorkingHours.parse({"mon": "x"})) == [
        ("working_hours.mon", "x", "is not a shift like 09:00-17:00")
    ]


def test_a_day_that_is_not_a_list_leaves_the_other_days_read():
    """A bad Monday does not stop Tuesday from being checked too."""
    assert problems_of(lambda: WorkingHours.parse({"mon": 9, "tue": "x"})) == [
        ("working_hours.mon", 9, "is not a shift or a list of shifts"),
        ("working_hours.tue", "x", "is not a shift like 09:00-17:00"),
    ]


OFFICE_DAY = ((540, 1020),)
BAD_DAYS = "is not seven tuples of (start, end) minutes (use WorkingHours.parse)"


@pytest.mark.parametrize(
    "days",
    [
        (OFFICE_DAY, (), (), (), (), (), [(540, 1020)]),
        (OFFICE_DAY, (), (), (), (), (), ((540,),)),
        (OFFICE_DAY, (), (), (), (), (), ([540, 1020],)),
        (OFFICE_DAY, (), (), (), (), (), ((540.0, 1020),)),
        (OFFICE_DAY, (), (), (), (), (), ((600, 600),)),
        (OFFICE_DAY, (), (), (), (), (), ((600, 1441),)),
        (OFFICE_DAY, (), (), (), (), (), ((600, 700), (650, 800))),
        (((600, 1441), (0, 10)), (), (), (), (), (), ()),
        (([540, 1020], (0, 10)), (), (), (), (), (), ()),
        ((), (), (), (), (), ()),
    ],
)
def test_working_hours_built_directly_refuse_malformed_days(days):
    """The constructor refuses a day that is not a tuple of ordered int shifts within the day."""
    assert problems_of(lambda: WorkingHours(days)) == [("working_hours", days, BAD_DAYS)]


def test_working_hours_built_directly_accept_a_shift_ending_at_midnight():
    """A shift ending at 1440 and touching shifts are valid."""
    days = (((0, 600), (600, 1440)), (), (), (), (), (), ())
    assert WorkingHours(days).days == days


def test_working_hours_to_dict_lists_open_days_only():
    """to_dict writes the open days back in HH:MM form."""
    hours = WorkingHours.parse({"mon": "09:00-17:00", "sun": ["00:00-06:00", "22:00-24:00"]})
    assert hours.to_dict() == {"mon": ["09:00-17:00"], "sun": ["00:00-06:00", "22:00-24:00"]}


# --- storable -------------------------------------------------------------------------------


def test_storable_checks_report_the_value_refused():
    """check_text, check_decimal, check_float and add_exactly name field and value."""
    assert problems_of(lambda: check_storable_text("a\x00", "note")) == [("note", "a\x00", NUL)]
    nan = Decimal("NaN")
    assert problems_of(lambda: check_decimal(nan, "price")) == [("price", nan, NOT_FINITE)]
    assert problems_of(lambda: check_float(math.inf, "score")) == [("score", math.inf, NOT_FINITE)]
    assert check_float(0.5, "score") == 0.5
    huge = Decimal("9" * 47)
    assert problems_of(lambda: add_exactly(huge, Decimal("0.1"), "total")) == [
        ("total", Decimal("0.1"), "makes a sum of more than 47 digits: not exact")
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("1E+1"), EXPONENT),
        (Decimal("-0"), "is a negative zero, which PostgreSQL keeps as 0"),
        (Decimal("0.00000000001"), "has more than 10 digits after the decimal point"),
        (Decimal("1000000000000000000"), "has more than 18 digits before the decimal point"),
        (math.inf, NOT_FINITE),
        (2**63, RANGE),
        (-(2**63) - 1, RANGE),
        (dt.timedelta(microseconds=2**63), RANGE),
        (dt.timedelta(microseconds=-(2**63) - 1), RANGE),
        ("\ud800", "holds the surrogate U+D800, which is not UTF-8 text"),
        ("é\x00", NUL),
    ],
)
def test_unstorable_values_are_named_with_their_reason(value, reason):
    """Each kind of value no store keeps exactly is refused with its own reason."""
    assert tuples(storable_problems(value, "f")) == [("f", value, reason)]


@pytest.mark.parametrize(
    "value",
    [
        Decimal("10"),
        Decimal("0.0000000001"),
        Decimal("999999999999999999"),
        2**63 - 1,
        -(2**63),
        dt.timedelta(microseconds=2**63 - 1),
        dt.timedelta(microseconds=-(2**63)),
        dt.timedelta(days=1, seconds=1, microseconds=1),
        0.5,
        "é",
    ],
)
def test_storable_values_at_the_limits_are_accepted(value):
    """Values just inside each limit give no problem."""
    assert tuples(storable_problems(value, "f")) == []


def test_problems_inside_collections_name_the_key_or_position():
    """Mappings name the key (or the field for a bad key), sequences the position."""
    assert tuples(storable_problems({"a": "x\x00"}, "")) == [("a", "x\x00", NUL)]
    assert tuples(storable_problems({"a": "x\x00"}, "custom")) == [("custom.a", "x\x00", NUL)]
    assert tuples(storable_problems({"k\x00": 1}, "custom")) == [("custom", "k\x00", NUL)]
    assert tuples(storable_problems(["ok", "x\x00"], "emails")) == [("emails[1]", "x\x00", NUL)]
    assert tuples(storable_problems({"x\x00"}, "tags")) == [("tags", "x\x00", NUL)]


def test_a_problem_inside_a_value_object_names_the_field_holding_it():
    """Money's amount and an email's original text are reported under the holding field."""
    money = Money(Decimal("1E+1"), "EUR")
    assert tuples(storable_problems(money, "price")) == [("price", Decimal("1E+1"), EXPONENT)]
    email = EmailAddress(normalized="a@b.example", original="a\x00")
    assert tuples(storable_problems(email, "email")) == [("email", "a\x00", NUL)]


def _record_classes() -> tuple[type, type]:
    """Make a fresh pair of attrs classes, so their storable checks are generated anew."""

    @attrs.frozen
    class Inner:
        note: str

    @attrs.frozen
    class Record:
        name: str
        count: int
        tags: tuple[str, ...]
        labels: frozenset[str]
        parts: tuple[Inner, ...]
        extra: dict[str, object]
        day: dt.date
        maybe: str | None
        anything: object
        amount: Decimal
        score: float
        pair: tuple[int, int]

    Record.__annotations__["parts"] = tuple[Inner, ...]
    return Inner, Record


def _record(**changes: object) -> object:
    inner, record = _record_classes()
    fields = {
        "name": "Ada",
        "count": 3,
        "tags": ("a", "é"),
        "labels": frozenset({"b"}),
        "parts": (inner("ok"),),
        "extra": {"k": "v", "n": 1},
        "day": dt.date(2026, 3, 31),
        "maybe": None,
        "anything": 0.5,
        "amount": Decimal("1.50"),
        "score": 0.25,
        "pair": (1, 2),
    }
    fields.update(changes)
    if "parts" in changes:
        fields["parts"] = tuple(inner(note) for note in changes["parts"])  # type: ignore[union-attr]
    return record(**fields)


def test_a_storable_record_of_a_fresh_class_has_no_problems():
    """A record whose every field is storable passes its generated check."""
    assert tuples(storable_problems(_record(), "")) == []
    assert (
        tuples(storable_problems(_record(maybe="é", count=-(2**63), extra={"é": 2**63 - 1}), ""))
        == []
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "a\x00"}, [("name", "a\x00", NUL)]),
        (
            {"name": "\ud800"},
            [("name", "\ud800", "holds the surrogate U+D800, which is not UTF-8 text")],
        ),
        ({"name": 2**64}, [("name", 2**64, RANGE)]),
        ({"count": 2**63}, [("count", 2**63, RANGE)]),
        ({"count": -(2**63) - 1}, [("count", -(2**63) - 1, RANGE)]),
        ({"count": "c\x00"}, [("count", "c\x00", NUL)]),
        ({"tags": ("ok", "b\x00")}, [("tags[1]", "b\x00", NUL)]),
        (
            {"tags": ("é", "\ud800")},
            [("tags[1]", "\ud800", "holds the surrogate U+D800, which is not UTF-8 text")],
        ),
        ({"tags": ("a", 2**64)}, [("tags[1]", 2**64, RANGE)]),
        ({"tags": ["a\x00"]}, [("tags[0]", "a\x00", NUL)]),
        ({"labels": frozenset({"x\x00"})}, [("labels", "x\x00", NUL)]),
        ({"parts": ("ok", "n\x00")}, [("parts[1].note", "n\x00", NUL)]),
        ({"extra": {"k\x00": 1}}, [("extra", "k\x00", NUL)]),
        ({"extra": {"k": "v\x00"}}, [("extra.k", "v\x00", NUL)]),
        ({"extra": {"k": 2**64}}, [("extra.k", 2**64, RANGE)]),
        ({"extra": {"k": -(2**63) - 1}}, [("extra.k", -(2**63) - 1, RANGE)]),
        ({"extra": {"k": math.inf}}, [("extra.k", math.inf, NOT_FINITE)]),
        ({"extra": {1.5: "v", math.inf: "w"}}, [("extra", math.inf, NOT_FINITE)]),
        (
            {"extra": {"é": "\ud800"}},
            [("extra.é", "\ud800", "holds the surrogate U+D800, which is not UTF-8 text")],
        ),
        ({"day": "d\x00"}, [("day", "d\x00", NUL)]),
        ({"maybe": "m\x00"}, [("maybe", "m\x00", NUL)]),
        ({"anything": math.inf}, [("anything", math.inf, NOT_FINITE)]),
        ({"amount": Decimal("-Infinity")}, [("amount", Decimal("-Infinity"), NOT_FINITE)]),
        ({"amount": Decimal("1E+1")}, [("amount", Decimal("1E+1"), EXPONENT)]),
        ({"score": math.inf}, [("score", math.inf, NOT_FINITE)]),
        ({"pair": (1, 2**63)}, [("pair[1]", 2**63, RANGE)]),
    ],
)
def test_an_unstorable_field_of_a_fresh_record_class_is_found(changes, expected):
    """The generated check of a new attrs class finds an unstorable value in any field."""
    assert tuples(storable_problems(_record(**changes), "")) == expected
    assert tuples(storable_problems(_record(**changes), "row")) == [
        (f"row.{field}", value, reason) for field, value, reason in expected
    ]


def test_fields_holding_a_list_instead_of_their_declared_type_are_still_checked():
    """A list where parts or entries were declared is walked like any other value."""
    inner, _ = _record_classes()
    value = attrs.evolve(_record(), parts=[inner("n\x00")], extra=["e\x00"])
    assert tuples(storable_problems(value, "")) == [
        ("parts[0].note", "n\x00", NUL),
        ("extra[0]", "e\x00", NUL),
    ]
    fine = attrs.evolve(_record(), parts=[inner("ok")], extra=["e"])
    assert tuples(storable_problems(fine, "")) == []


def test_a_class_whose_annotations_cannot_be_resolved_is_checked_generically():
    """Unresolvable type hints do not stop the check: every field is walked."""

    @attrs.frozen
    class Odd:
        note: str

    Odd.__annotations__["note"] = "NoSuchType"
    assert tuples(storable_problems(Odd("a\x00"), "")) == [("note", "a\x00", NUL)]
    assert tuples(storable_problems(Odd("a"), "")) == []


def test_parse_amount_reads_underscores_between_digits():
    """'1_000' is read as 1000, as Python writes long numbers."""
    assert parse_amount("1_000") == Decimal(1000)


def test_an_hour_past_24_is_refused_as_a_time_of_day():
    """'09:00-25:00' is refused when parsed, not later by the constructor."""
    assert problems_of(lambda: WorkingHours.parse({"mon": "09:00-25:00"})) == [
        ("working_hours.mon", "09:00-25:00", "is not a time of day from 00:00 to 24:00")
    ]


def test_an_unknown_weekday_is_named_with_the_known_ones():
    """A key that is not a weekday is refused, listing mon to sun."""
    assert problems_of(lambda: WorkingHours.parse({"mon": "09:00-17:00", "monday": "x"})) == [
        ("working_hours.monday", "monday", "is not one of mon, tue, wed, thu, fri, sat, sun")
    ]


def test_working_hours_built_directly_with_no_open_hour_are_refused():
    """Seven empty days make a week with no open hour."""
    closed = ((),) * 7
    assert problems_of(lambda: WorkingHours(closed)) == [
        ("working_hours", closed, "has no open hour in the week")
    ]


def test_add_exactly_names_amount_by_default():
    """Without a field name, an inexact sum is reported against 'amount'."""
    assert problems_of(lambda: add_exactly(Decimal("9" * 47), Decimal("0.1"))) == [
        ("amount", Decimal("0.1"), "makes a sum of more than 47 digits: not exact")
    ]


def test_a_foreign_item_among_declared_parts_is_still_checked():
    """An item of another class inside a tuple of parts is walked like any other value."""
    value = attrs.evolve(_record(), parts=("p\x00",))
    assert tuples(storable_problems(value, "")) == [("parts[0]", "p\x00", NUL)]
