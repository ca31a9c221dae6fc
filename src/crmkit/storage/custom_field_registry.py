"""The stored custom-field schemas of a unit of work (``uow.custom_fields``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from crmkit.errors import (
    Problem,
    ValidationError,
)
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.registry import KINDS
from crmkit.storage.protocol import (
    FieldChange,
)

if TYPE_CHECKING:
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["CustomFieldRegistry"]

_SCHEMA_NAMESPACE = uuid.UUID("5d1f0c8e-9c3a-4c57-a2a1-6f1f8e0c2b7d")


class CustomFieldRegistry:
    """The stored custom-field schemas of a unit of work's store."""

    def __init__(self, uow: BackendUnitOfWork) -> None:
        self._uow = uow

    def get(self, kind: str) -> CustomFieldSchema:
        """Return the current schema of `kind` (empty, version 0, if none was saved)."""
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValidationError.single("kind", kind, f"is not one of {', '.join(KINDS)}")
        return self._uow._schema(kind) or CustomFieldSchema(kind, (), 0)

    def save(self, schema: CustomFieldSchema) -> CustomFieldSchema:
        """Store the next version of a schema (the stored version + 1)."""
        if not isinstance(schema, CustomFieldSchema):
            raise ValidationError.single(
                "schema", type(schema).__name__, "is not a CustomFieldSchema"
            )
        self._uow._write()
        current = self.get(schema.entity)
        problems = []
        if schema.version != current.version + 1:
            problems.append(
                Problem(
                    "version", schema.version, f"is not the next version ({current.version + 1})"
                )
            )
        for old in current.fields:
            new = schema.field(old.key)
            if new is None:
                problems.append(Problem(f"custom.{old.key}", old.key, "was dropped: retire it"))
            elif new.type != old.type:
                problems.append(
                    Problem(
                        f"custom.{old.key}",
                        new.type.value,
                        f"changes the field's type from {old.type.value}: refused",
                    )
                )
        if problems:
            raise ValidationError(problems)
        self._uow._live_backend().store_schema(schema)
        self._uow._schemas[schema.entity] = schema
        before = {f.key: f.to_dict() for f in current.fields}
        changes = tuple(
            FieldChange(f"custom.{f.key}", before.get(f.key), f.to_dict())
            for f in schema.fields
            if before.get(f.key) != f.to_dict()
        )
        schema_id = uuid.uuid5(_SCHEMA_NAMESPACE, schema.entity)
        self._uow._history_entry(
            schema_id, "custom_field_schema", schema.version, "updated", changes
        )
        return schema
