"""Deterministic generated CRM data for benchmarks."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator

from crmkit import Contact, EmailAddress, FixedClock, PhoneNumber
from crmkit.ids import IdGenerator
from crmkit.model.frozen_map import FrozenMap

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TAGS = ("vip", "newsletter", "partner", "churn-risk", "trial", "enterprise")
PLANS = ("free", "pro", "team", "enterprise")


def contact_texts(n: int, seed: int = 7) -> list[dict[str, object]]:
    """Plain input for `n` contacts, as a CSV import would give it."""
    rnd = random.Random(seed)
    return [
        {
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "email": f"person{i}@example{i % 97}.com",
            "phone": f"+49 30 {1000000 + i:07d}",
            "tags": rnd.sample(TAGS, 2),
            "custom": {"plan": rnd.choice(PLANS), "seats": rnd.randint(1, 500)},
        }
        for i in range(n)
    ]


def contacts_from_text(rows: list[dict[str, object]]) -> list[Contact]:
    """Validate plain rows into contacts (the end-to-end import path)."""
    clock = FixedClock(T0)
    return [Contact.create(clock=clock, **row) for row in rows]  # type: ignore[arg-type]


def stored_shape_contacts(n: int, seed: int = 7) -> Iterator[Contact]:
    """Yield `n` valid contacts built directly (no re-validation), cheaply, in id order."""
    rnd = random.Random(seed)
    ids = IdGenerator()
    clock = FixedClock(T0)
    for i in range(n):
        email = f"person{i}@example{i % 97}.com"
        yield Contact(
            id=ids.next(clock),
            created_at=T0,
            updated_at=T0,
            first_name=f"First{i}",
            last_name=f"Last{i}",
            emails=(EmailAddress(normalized=email, original=email),),
            phones=(PhoneNumber(e164=f"+4930{1000000 + i:07d}"),),
            tags=frozenset(rnd.sample(TAGS, 2)),
            custom=FrozenMap({"plan": rnd.choice(PLANS), "seats": rnd.randint(1, 500)}),
        )


def new_uuid() -> uuid.UUID:
    """A random id for look-ups that miss."""
    return uuid.uuid4()
