import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Contact, CustomField, CustomFieldSchema, FieldType, ValidationError


@pytest.fixture
def schema():
    return CustomFieldSchema(
        "contact",
        [
            CustomField("plan", FieldType.CHOICE, choices=("free", "pro"), required=True),
            CustomField("seats", "integer", default=1),
            CustomField("arr", FieldType.DECIMAL),
            CustomField("renewal", FieldType.DATE),
            CustomField("last_login", FieldType.DATETIME),
            CustomField("trial", FieldType.BOOL),
            CustomField("modules", FieldType.MULTI_CHOICE, choices=("crm", "billing")),
            CustomField("notes", FieldType.TEXT),
        ],
    )


def test_values_are_parsed_to_their_types_with_defaults(schema):
    contact = Contact.create(
        first_name="Ada",
        schema=schema,
        custom={
            "plan": "pro",
            "arr": "1200.50",
            "renewal": "2026-05-01",
            "last_login": "2026-01-01T10:00:00+01:00",
            "trial": "yes",
            "modules": ["crm"],
            "notes": "likes tea",
        },
    )
    assert contact.custom == {
        "plan": "pro",
        "seats": 1,
        "arr": Decimal("1200.50"),
        "renewal": dt.date(2026, 5, 1),
        "last_login": dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC),
        "trial": True,
        "modules": frozenset({"crm"}),
        "notes": "likes tea",
    }
    hash(contact)


def test_every_bad_value_is_reported_naming_the_field(schema):
    with pytest.raises(ValidationError) as info:
        Contact.create(
            first_name="Ada",
            schema=schema,
            custom={
                "plan": "platinum",
                "seats": "many",
                "arr": "x",
                "renewal": "tomorrow",
                "last_login": "2026-01-01",
                "trial": "maybe",
                "modules": ["crm", "erp"],
                "notes": 5,
                "colour": "red",
            },
        )
    assert set(info.value.fields) == {
        "custom.plan",
        "custom.seats",
        "custom.arr",
        "custom.renewal",
        "custom.last_login",
        "custom.trial",
        "custom.modules",
        "custom.notes",
        "custom.colour",
    }


def test_required_fields_must_be_given(schema):
    with pytest.raises(ValidationError, match=r"custom\.plan None is required"):
        Contact.create(first_name="Ada", schema=schema)


def test_schema_for_another_entity_is_refused(schema):
    from crmkit import Company

    with pytest.raises(ValidationError, match="schema"):
        Company.create(name="Acme", schema=schema, custom={"plan": "pro"})


def test_schema_versions_adding_and_retiring(schema):
    v2 = schema.adding(CustomField("region", FieldType.TEXT))
    assert v2.version == schema.version + 1
    assert v2.field("region") == CustomField("region", FieldType.TEXT)
    v3 = v2.retiring("notes")
    assert v3.version == v2.version + 1
    assert v3.field("notes").retired
    assert "notes" not in {f.key for f in v3.active}
    with pytest.raises(ValidationError, match="changes the field's type"):
        v3.adding(CustomField("seats", FieldType.TEXT))
    with pytest.raises(ValidationError, match="exists already"):
        v3.adding(CustomField("seats", FieldType.INTEGER))
    revived = v3.adding(CustomField("notes", FieldType.TEXT))
    assert not revived.field("notes").retired
    with pytest.raises(ValidationError, match="not an active field"):
        v3.retiring("notes")


def test_a_retired_field_keeps_old_values_but_takes_no_new_ones(schema):
    contact = Contact.create(first_name="Ada", schema=schema, custom={"plan": "pro", "notes": "x"})
    retired = schema.retiring("notes")
    kept = contact.changed(custom=dict(contact.custom), schema=retired)
    assert kept.custom["notes"] == "x"
    with pytest.raises(ValidationError, match="retired"):
        contact.changed(custom={**contact.custom, "notes": "new"}, schema=retired)


def test_schema_round_trips_through_plain_data(schema):
    assert CustomFieldSchema.from_dict(schema.to_dict()) == schema


def test_bad_declarations_are_refused():
    with pytest.raises(ValidationError, match="is not a field key") as info:
        CustomField("Bad Key", FieldType.TEXT)
    assert info.value.fields == ("key",)
    with pytest.raises(ValidationError, match="choices"):
        CustomField("plan", FieldType.CHOICE)
    with pytest.raises(ValidationError, match="more than once"):
        CustomFieldSchema("contact", [CustomField("a", "text"), CustomField("a", "text")])
    with pytest.raises(ValidationError, match="is not an integer") as info:
        CustomField("seats", FieldType.INTEGER, default="many")
    assert info.value.fields == ("seats.default",)


@given(st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.none(), st.floats()))
def test_invalid_integer_values_raise_naming_the_field(value):
    field = CustomField("seats", FieldType.INTEGER)
    schema = CustomFieldSchema("contact", [field])
    valid = value is None or (
        isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    )  # past 64 bits no store keeps it (crmkit.values.storable)
    # int()'s grammar for base 10: decimal digits (any script), "_" between them; not "¹"
    valid = valid or (
        isinstance(value, str) and re.fullmatch(r"[+-]?\d+(_\d+)*", value.strip()) is not None
    )
    if valid:
        result = schema.validate({"seats": value})
        assert value is None or isinstance(result["seats"], int)
    else:
        with pytest.raises(ValidationError) as info:
            schema.validate({"seats": value})
        assert info.value.fields == ("custom.seats",)


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ((type, "±Ö"), ("entity", "fields")),
        ((None,), ("entity",)),
        (("contact", None, None), ("version", "fields")),
        (("contact", (), -1), ("version",)),
        (("contact", (), True), ("version",)),
        (("contact", [CustomField("seats", "integer"), "plan"]), ("fields[1]",)),
        (("contact", CustomField("seats", "integer")), ("fields",)),
    ],
)
def test_a_schema_refuses_arguments_of_the_wrong_type_naming_each(arguments, fields):
    """``CustomFieldSchema(type, "±Ö")`` was an AttributeError ('str' has no 'key')."""
    with pytest.raises(ValidationError) as caught:
        CustomFieldSchema(*arguments)
    assert caught.value.fields == fields


def test_an_empty_schema_has_version_0():
    assert CustomFieldSchema("contact", (), 0).version == 0
