"""A kind declared only here: its model, its registry entry and its migration step.

Nothing else in crmkit changes, and the kind is stored, versioned, audited, referenced,
searched and fetched on memory, SQLite and PostgreSQL (`crmkit.testing.KindContract`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs
import pytest

from crmkit.clock import Clock, FixedClock
from crmkit.model.contact import Contact
from crmkit.model.entity import Entity
from crmkit.model.fields import parse_ref, required_text
from crmkit.model.registry import KINDS, Kind, Ref, register, unregister
from crmkit.storage.sql import schema
from crmkit.storage.sql.dialect import Dialect
from crmkit.testing import KindContract


@attrs.frozen(kw_only=True)
class Note(Entity):
    """A note someone wrote about a contact."""

    KIND: ClassVar[str] = "note"
    body: str
    contact_id: uuid.UUID | None = None
    _PARSERS: ClassVar[Mapping[str, Any]] = {"body": required_text, "contact_id": parse_ref}
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"body"})

    @classmethod
    def create(
        cls, *, body: str, contact_id: uuid.UUID | None = None, clock: Clock | None = None
    ) -> Note:
        return cls._build(
            {"body": body, "contact_id": contact_id},
            clock=clock,
            id=None,
            created_at=None,
            external_ids=None,
            custom=None,
            schema=None,
        )


NOTES = Kind(
    "note",
    Note,
    "notes",
    (Ref("contact_id", "contact", relation="contact", counted_as="notes"),),
)


def _create_notes(dialect: Dialect) -> list[str]:
    """The note kind's migration step: its table and the index `related` walks."""
    t = dialect.column_types
    return [
        f"CREATE TABLE notes (id {t['uuid']} PRIMARY KEY, version {t['int']} NOT NULL,"
        f" created_at {t['timestamp']} NOT NULL, updated_at {t['timestamp']} NOT NULL,"
        f" archived_at {t['timestamp']}, external_ids {t['json']}, custom {t['json']},"
        f" body {t['text']}, contact_id {t['uuid']} REFERENCES contacts (id))",
        "CREATE INDEX ix_notes_contact_id_created_at_id ON notes (contact_id, created_at, id)",
    ]


@pytest.fixture(autouse=True)
def note_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kind]:
    """Register the kind and append its migration step for the test, then take both back."""
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, _create_notes))
    register(NOTES)
    try:
        yield NOTES
    finally:
        unregister("note")


class TestNotes(KindContract):
    kind = "note"
    text_field = "body"

    @pytest.fixture(autouse=True)
    def _use_adapter(self, adapter):
        self._adapter = adapter

    def make_store(self, clock: FixedClock):
        return self._adapter.make(clock)

    def make_record(self, uow, number: int, clock: FixedClock) -> Entity:
        author = uow.contacts.add(Contact.create(first_name=f"Author {number}", clock=clock))
        return Note.create(body=f"Note {number}: ünïcode", contact_id=author.id, clock=clock)

    def change(self, record: Entity, clock: FixedClock) -> Entity:
        return record.changed(body="Edited", clock=clock)  # type: ignore[attr-defined]


def test_the_registry_lists_the_new_kind_only_while_registered():
    """Registering adds it (with its counted relation); unregistering removes it again."""
    from crmkit.conditions.binding import COUNTED, RECORD_TYPES
    from crmkit.conditions.related import COUNTED_RELATIONS

    assert KINDS["note"] is NOTES
    assert RECORD_TYPES["note"] is Note
    assert COUNTED["contact"]["notes"].target == "note"
    assert COUNTED_RELATIONS["note"] == "notes"
    unregister("note")
    try:
        assert "note" not in KINDS
        assert "notes" not in COUNTED["contact"]
        assert "note" not in COUNTED_RELATIONS
    finally:
        register(NOTES)


def test_a_kind_that_does_not_fit_its_class_is_refused_with_every_problem():
    """A taken name, a wrong KIND, a bad table, an unknown field and target: all listed."""
    from crmkit.errors import ValidationError

    bad = Kind(
        "note",
        Contact,
        "contacts",
        (Ref("author_id", "author"),),
        time_field="written_at",
        side_tables=frozenset({"attachments"}),
    )
    with pytest.raises(ValidationError) as caught:
        register(bad)
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("name", "note"),
        ("cls", "Contact"),
        ("table", "contacts"),
        ("refs", "author_id"),
        ("refs", "author"),
        ("time_field", "written_at"),
        ("side_tables", "attachments"),
    ]


def test_a_note_is_created_with_its_clock():
    """The test's model works like a built-in one (the clock gives id and time)."""
    clock = FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    note = Note.create(body="hi", clock=clock)
    assert note.created_at == clock.now()
