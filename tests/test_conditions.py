import datetime as dt
import json
import operator
import uuid
from decimal import Decimal

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmkit import Deal, FixedClock, Lead, LeadStatus, Money, SegmentError
from crmkit.conditions import (
    And,
    Between,
    ClosureCompiler,
    Compare,
    Condition,
    Contains,
    F,
    HasTag,
    In,
    IsEmpty,
    Not,
    Or,
    PythonSourceCompiler,
    StartsWith,
    compile_predicate,
    condition_from_dict,
    validate_fields,
)
from crmkit.model import FrozenMap

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


@attrs.frozen
class Facts:
    budget: Money | None = None


@attrs.frozen
class Rec:
    n: int | None = None
    text: str | None = None
    amount: Money | None = None
    day: dt.date | None = None
    tags: frozenset[str] = frozenset()
    facts: Facts | None = None
    custom: FrozenMap = attrs.field(factory=FrozenMap)


# -- an independent reference evaluation (deliberately naive) -----------------------------

_MISSING = object()


def lookup(record, path):
    parts = path.split(".")
    if parts[0] == "custom":
        value, rest = record.custom.get(parts[1]), parts[2:]
    else:
        value = getattr(record, parts[0], _MISSING)
        if value is _MISSING:
            value = record.custom.get(parts[0])
        rest = parts[1:]
    for part in rest:
        value = None if value is None else getattr(value, part, None)
    return value


def numeric(v):
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def safe(fn):
    try:
        return bool(fn())
    except (TypeError, ValueError):
        return False


OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text):  # contains / starts with ignore the case of A-Z only (one meaning everywhere)
    return text.translate(ASCII_LOWER)


def empty(v):
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip(" \t\n\r\x0b\x0c") == ""
    if isinstance(v, frozenset | set | tuple | list | dict | FrozenMap):
        return len(v) == 0
    return False


def reference(cond, r):
    if isinstance(cond, And):
        return all(reference(c, r) for c in cond.items)
    if isinstance(cond, Or):
        return any(reference(c, r) for c in cond.items)
    if isinstance(cond, Not):
        return not reference(cond.item, r)
    v = lookup(r, cond.field)
    if isinstance(cond, IsEmpty):
        return empty(v) != cond.negated
    if v is None:
        return False
    if isinstance(cond, Compare):
        if numeric(cond.value) and isinstance(v, Money):
            v = v.amount
        return safe(lambda: OPS[cond.operator](v, cond.value))
    if isinstance(cond, In):
        if any(numeric(x) for x in cond.values) and isinstance(v, Money):
            v = v.amount
        hit = any(safe(lambda x=x: v == x) for x in cond.values)
        return hit != cond.negated
    if isinstance(cond, Between):
        if (numeric(cond.low) or numeric(cond.high)) and isinstance(v, Money):
            v = v.amount
        return safe(lambda: cond.low <= v <= cond.high)
    if isinstance(cond, Contains):
        if isinstance(v, str):
            return isinstance(cond.value, str) and fold(cond.value) in fold(v)
        return safe(lambda: cond.value in v)
    if isinstance(cond, StartsWith):
        return isinstance(v, str) and fold(v).startswith(fold(cond.value))
    if isinstance(cond, HasTag):
        return not isinstance(v, str) and safe(lambda: cond.tag in v)
    raise AssertionError(cond)


# -- strategies ----------------------------------------------------------------------------

texts = st.sampled_from(["", " ", "Acme", "acme gmbh", "ACME", "Straße", "strasse", "b", "Zeta"])
moneys = st.builds(
    Money.of,
    st.integers(-5, 5).map(lambda i: Decimal(i) * 100),
    st.sampled_from(["EUR", "USD"]),
)
days = st.dates(dt.date(2026, 1, 1), dt.date(2026, 1, 10))
tagsets = st.frozensets(st.sampled_from(["vip", "new", "churn"]), max_size=3)

records = st.builds(
    Rec,
    n=st.none() | st.integers(-3, 3),
    text=st.none() | texts,
    amount=st.none() | moneys,
    day=st.none() | days,
    tags=tagsets,
    facts=st.none() | st.builds(Facts, budget=st.none() | moneys),
    custom=st.dictionaries(
        st.sampled_from(["plan", "seats"]), st.integers(0, 3) | texts, max_size=2
    ).map(FrozenMap),
)

FIELDS = {
    "n": st.integers(-3, 3),
    "text": texts,
    "amount": moneys | st.integers(-500, 500) | st.decimals(-500, 500, places=1),
    "day": days,
    "tags": st.sampled_from(["vip", "new"]),
    "facts.budget": moneys | st.integers(-500, 500),
    "custom.plan": st.integers(0, 3) | texts,
    "seats": st.integers(0, 3) | texts,
}
any_value = st.one_of(*FIELDS.values())


@st.composite
def leaves(draw):
    field = draw(st.sampled_from(sorted(FIELDS)))
    value = FIELDS[field] if draw(st.booleans()) else any_value
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return Compare(field, draw(st.sampled_from(list(OPS))), draw(value))
    if kind == 1:
        return In(field, draw(st.lists(value, min_size=1, max_size=3)), negated=draw(st.booleans()))
    if kind == 2:
        low, high = draw(value), draw(value)
        return Between(field, low, high)
    if kind == 3:
        return Contains(field, draw(value))
    if kind == 4:
        return StartsWith(field, draw(texts))
    if kind == 5:
        return HasTag(field, draw(st.sampled_from(["vip", "new", "VIP "])))
    return IsEmpty(field, negated=draw(st.booleans()))


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(And),
        st.lists(inner, min_size=1, max_size=3).map(Or),
        inner.map(Not),
    ),
    max_leaves=8,
)


def pred(c):
    return compile_predicate(c)


# -- properties ------------------------------------------------------------------------------


@given(conditions, records)
def test_compiled_predicate_matches_reference_and_closures(cond, record):
    expected = reference(cond, record)
    assert compile_predicate(cond)(record) is expected
    assert compile_predicate(cond, Rec)(record) is expected
    assert ClosureCompiler().compile(cond)(record) is expected


@given(conditions, records)
def test_not_is_exactly_the_complement(cond, record):
    assert pred(~cond)(record) == (not pred(cond)(record))
    assert pred(Not(Not(cond)))(record) == pred(cond)(record)
    assert pred(~~cond)(record) == pred(cond)(record)


@given(conditions, conditions, records)
def test_de_morgan_and_commutativity(a, b, record):
    assert pred(~(a & b))(record) == pred(~a | ~b)(record)
    assert pred(~(a | b))(record) == pred(~a & ~b)(record)
    assert pred(a & b)(record) == pred(b & a)(record)
    assert pred(a | b)(record) == pred(b | a)(record)


@given(conditions)
def test_dict_form_round_trips_exactly_also_through_json(cond):
    assert condition_from_dict(cond.to_dict()) == cond
    assert condition_from_dict(json.loads(json.dumps(cond.to_dict()))) == cond


@given(leaves())
@example(Compare("text", "!=", "a"))
@example(Compare("n", "!=", 1))
@example(Compare("amount", "!=", 5))
@example(Compare("custom.plan", "!=", "pro"))
@example(Compare("seats", "!=", 2))
@example(Compare("facts.budget", "!=", Money.of(5, "EUR")))
@example(In("text", ["a"], negated=True))
def test_ne_and_comparisons_are_false_on_missing_values(leaf):
    blank = Rec(tags=None)
    if isinstance(leaf, IsEmpty):
        assert pred(leaf)(blank) is not leaf.negated
    else:
        assert pred(leaf)(blank) is False
        assert pred(~leaf)(blank) is True


_COMPILERS = {
    "source": lambda c: compile_predicate(c),
    "source, typed": lambda c: compile_predicate(c, Rec),
    "closures": lambda c: ClosureCompiler().compile(c),
}


@pytest.mark.parametrize("compiler", sorted(_COMPILERS))
@pytest.mark.parametrize(
    "condition",
    [
        Compare("text", "!=", "a"),
        Compare("n", "!=", 1),
        Compare("amount", "!=", 5),
        Compare("custom.plan", "!=", "pro"),
        Compare("facts.budget", "!=", 5),
    ],
    ids=str,
)
def test_not_equal_is_false_on_a_missing_value_and_its_negation_true(compiler, condition):
    """``x != v`` is false when x is missing (missing is false), and ``not (x != v)`` true."""
    compile_ = _COMPILERS[compiler]
    blank = Rec()
    assert compile_(condition)(blank) is False
    assert compile_(Not(condition))(blank) is True


@pytest.mark.parametrize("compiler", sorted(_COMPILERS))
def test_not_equal_on_present_values_is_plain_inequality(compiler):
    """``!=`` holds for a different value and not for the same one, text and numbers alike."""
    compile_ = _COMPILERS[compiler]
    assert compile_(Compare("text", "!=", "a"))(Rec(text="b")) is True
    assert compile_(Compare("text", "!=", "a"))(Rec(text="a")) is False
    assert compile_(Compare("n", "!=", 1))(Rec(n=0)) is True
    assert compile_(Compare("n", "!=", 1))(Rec(n=1)) is False
    assert compile_(Compare("amount", "!=", 5))(Rec(amount=Money.of(5, "EUR"))) is False
    assert compile_(Compare("amount", "!=", 5))(Rec(amount=Money.of(6, "EUR"))) is True


# -- examples --------------------------------------------------------------------------------


@pytest.fixture
def deal():
    return Deal.create(
        name="Acme, 50 seats",
        pipeline="sales",
        stage="proposal",
        amount="12000",
        currency="EUR",
        tags={"VIP"},
        custom={"plan": "pro", "seats": 50},
        clock=FixedClock(T0),
    )


def test_operators_on_a_deal(deal):
    assert pred(F("amount") >= 12000)(deal)
    assert pred(F("amount") == Decimal("12000.00"))(deal)
    assert not pred(F("amount") > 12000)(deal)
    assert pred(F("amount") >= Money.of("100", "EUR"))(deal)
    assert not pred(F("amount") >= Money.of("100", "USD"))(deal)  # other currency: not comparable
    assert pred(F("amount").between(10000, 15000))(deal)
    assert pred(F("stage").is_in(["proposal", "negotiation"]))(deal)
    assert pred(F("stage").not_in(["closed_won"]))(deal)
    assert pred(F("stage") != "closed_won")(deal)
    assert pred(F("name").contains("ACME"))(deal)
    assert pred(F("name").starts_with("acme,"))(deal)
    assert pred(F("tags").has_tag(" Vip "))(deal)
    assert pred(F("tags").contains("vip"))(deal)
    assert pred(F("custom.plan") == "pro")(deal)
    assert pred(F("seats") >= 50)(deal)  # a bare custom key
    assert compile_predicate(F("seats") >= 50, Deal)(deal)
    assert pred(F("lost_reason").is_empty())(deal)
    assert pred(F("amount").is_not_empty())(deal)
    assert pred(F("custom.missing").is_empty())(deal)
    assert not pred(F("custom.missing") == 1)(deal)
    assert pred(~(F("custom.missing") == 1))(deal)
    assert not pred(F("custom.missing") != 1)(deal)


def test_enums_compare_by_value_and_dotted_paths_read_nested_values():
    lead = Lead.create(
        first_name="Ada",
        status=LeadStatus.WORKING,
        bant={"budget": "5000", "currency": "EUR", "need": "a CRM"},
        clock=FixedClock(T0),
    )
    assert pred(F("status") == "working")(lead)
    assert pred(F("status") == LeadStatus.WORKING)(lead)
    assert (F("status") == LeadStatus.WORKING) == (F("status") == "working")
    assert pred(F("status").is_in([LeadStatus.NEW, LeadStatus.WORKING]))(lead)
    assert pred(F("bant.budget") >= 5000)(lead)
    assert pred(F("bant.budget.currency") == "EUR")(lead)
    assert not pred(F("bant.timeline") <= dt.date(2030, 1, 1))(lead)
    assert pred(F("created_at") < T0 + dt.timedelta(seconds=1))(lead)


def test_text_compares_by_code_point_and_contains_ignores_case():
    assert pred(F("text") < "a")(Rec(text="Z"))  # "Z" (90) < "a" (97)
    assert pred(F("text").contains("HAUPTSTR"))(Rec(text="Hauptstraße"))  # A-Z ignore case
    assert not pred(F("text").contains("STRASSE"))(Rec(text="Hauptstraße"))  # no casefold
    assert not pred(F("text").starts_with("ärger"))(Rec(text="Ärger"))  # only A-Z fold
    assert not pred(F("text") == "acme")(Rec(text="ACME"))


def test_incomparable_values_are_false_not_errors():
    assert not pred(F("n") > "x")(Rec(n=3))
    assert pred(~(F("n") > "x"))(Rec(n=3))
    assert not pred(F("day") < T0)(Rec(day=dt.date(2026, 1, 1)))
    assert not pred(F("facts.budget") > 1)(Rec(facts=None))


def test_str_prints_canonical_text():
    cond = (
        (F("industry") == "software")
        & (F("employees") >= 50)
        & (F("country").is_in(["DE", "AT"]) | F("tags").has_tag("vip"))
        & ~F("email").is_empty()
    )
    assert str(cond) == (
        'industry == "software" and employees >= 50 and (country in ["DE", "AT"] or '
        'has tag "vip") and email is not empty'
    )
    assert str(F("amount").between(Money.of("1", "EUR"), Decimal("2.50"))) == (
        "amount between 1 EUR and 2.50"
    )
    assert str(~(F("x") == 1)) == "not (x == 1)"
    assert str(F("d") >= dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == "d >= 2026-01-01T00:00:00Z"


def test_typed_values_round_trip_exactly():
    values = [
        Decimal("12.50"),
        dt.date(2026, 3, 31),
        dt.datetime(2026, 3, 31, 9, 30, 0, 123, tzinfo=dt.UTC),
        Money.of("12000.00", "EUR"),
        uuid.UUID("019b76da-a800-7190-96de-926870d793e4"),
        1.5,
        True,
        "text",
    ]
    for value in values:
        cond = F("x") == value
        loaded = condition_from_dict(json.loads(json.dumps(cond.to_dict())))
        assert loaded == cond
        assert type(loaded.value) is type(cond.value)
        assert str(loaded.value) == str(cond.value)  # Decimal keeps its exponent


def test_dict_form_examples_and_errors():
    assert condition_from_dict({"field": "employees", "op": ">=", "value": 50}) == (
        F("employees") >= 50
    )
    data = {
        "not": {"or": [{"field": "a", "op": "is empty"}, {"field": "b", "op": "in", "value": [1]}]}
    }
    assert condition_from_dict(data) == ~(F("a").is_empty() | F("b").is_in([1]))
    with pytest.raises(SegmentError, match="not an operator"):
        condition_from_dict({"field": "a", "op": "~=", "value": 1})
    with pytest.raises(SegmentError, match="needs value"):
        condition_from_dict({"field": "a", "op": "=="})
    with pytest.raises(SegmentError):
        condition_from_dict({"and": []})
    with pytest.raises(SegmentError):
        condition_from_dict({"field": "a", "op": "==", "value": {"$money": ["x", "EUR"]}})


@pytest.mark.parametrize(
    "name", ["", "a b", "a;import os", "__class__", "a.__dict__", "1a", "custom", "custom.A", "for"]
)
def test_field_names_are_validated(name):
    with pytest.raises(SegmentError):
        F(name)


def test_values_never_enter_the_generated_source():
    nasty = '"); import os; ("'
    compiler = PythonSourceCompiler()
    source = compiler.compile((F("name") == nasty) & F("country").is_in(["DE"]))
    assert nasty not in source
    assert "DE" not in source
    assert nasty in compiler.namespace.values()
    assert pred(F("name") == nasty)(Rec(text=None, custom=FrozenMap({"name": nasty})))


def test_compiled_predicate_is_cached_on_the_node():
    cond = F("n") == 1
    assert compile_predicate(cond) is compile_predicate(cond)
    assert compile_predicate(cond, Rec) is compile_predicate(cond, Rec)


def test_conditions_refuse_truth_testing_and_bad_values():
    with pytest.raises(TypeError, match="truth value"):
        bool(F("a") == 1)
    with pytest.raises(TypeError):
        _ = (F("a") == 1) and (F("b") == 2)
    with pytest.raises(SegmentError, match="is_empty"):
        _ = F("a") == None  # noqa: E711
    with pytest.raises(SegmentError, match="naive"):
        _ = F("a") > dt.datetime(2026, 1, 1)
    with pytest.raises(SegmentError):
        _ = F("a") == float("nan")


def test_fields_and_validate_fields_with_suggestions():
    cond = (F("industy") == "x") & (F("employees") > 1) & (F("custom.plan") == "pro")
    assert cond.fields() == ("industy", "employees", "custom.plan")
    known = {"industry", "employees", "country", "custom.*"}
    with pytest.raises(SegmentError, match="did you mean 'industry'"):
        validate_fields(cond, known)
    validate_fields((F("industry") == "x") & (F("custom.plan") == "pro"), known)


def test_combining_flattens_and_requires_conditions():
    a, b, c = F("a") == 1, F("b") == 2, F("c") == 3
    assert (a & b & c) == And([a, b, c])
    assert (a | b | c) == Or([a, b, c])
    assert isinstance(~a, Not)
    assert ~F("a").is_empty() == F("a").is_not_empty()
    assert isinstance(a, Condition)


def test_not_in_a_list_of_money_and_numbers_holds_for_a_present_value_of_another_type():
    """``x not in (0, 0 EUR)`` is true for an empty set or text: present and none of them."""

    @attrs.frozen
    class Held:
        tags: frozenset[str] = frozenset()
        plan: str | None = "pro"

    condition = In("tags", [0, Money.of(Decimal(0), "EUR")], negated=True)
    assert compile_predicate(condition)(Held()) is True
    assert compile_predicate(In("plan", [0, Money.of(Decimal(0), "EUR")], negated=True))(Held())
    assert compile_predicate(In("plan", [1, Money.of(Decimal(0), "EUR"), "pro"]))(Held())
    assert not compile_predicate(In("plan", [1, Money.of(Decimal(0), "EUR")]))(Held(plan=None))


def test_a_related_count_beyond_64_bits_is_a_segment_error_and_the_largest_is_accepted():
    """2**63 - 1 is the largest count a condition holds (the stores' integers); 2**63 is not."""
    from crmkit.conditions import RelatedCount
    from crmkit.errors import SegmentError

    assert RelatedCount("activities", None, ">=", 2**63 - 1).value == 2**63 - 1
    with pytest.raises(SegmentError, match="beyond the largest whole number"):
        RelatedCount("activities", None, ">=", 2**63)


def test_validate_fields_and_bind_refuse_wrong_arguments_with_a_segment_error():
    """A wrong type is a SegmentError naming it, never a TypeError from inside."""
    from crmkit.conditions import validate_fields
    from crmkit.errors import SegmentError
    from crmkit.segments import bind, parse

    segment = parse('country = "DE"')
    with pytest.raises(SegmentError, match="known_fields is a collection of field names"):
        validate_fields(segment, None)
    with pytest.raises(SegmentError, match="is not a condition"):
        validate_fields(None, ["country"])
    validate_fields(segment, iter(["country"]))  # an iterator is read once, and is enough
    with pytest.raises(SegmentError, match="unknown field 'country'"):
        validate_fields(segment, iter(["county"]))
    with pytest.raises(SegmentError, match="calendar is a BusinessCalendar, not list"):
        bind(segment, "contact", calendar=[])
    with pytest.raises(SegmentError, match="schemas looks up"):
        bind(segment, "contact", schemas={})
    with pytest.raises(SegmentError, match="is not a kind of record"):
        bind(segment, [])
