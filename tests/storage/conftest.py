"""Every storage test runs against every adapter: memory, SQLite and (when there) PostgreSQL.

The ``adapter`` fixture is parametrised over the adapters; PostgreSQL joins only once
`crmkit.storage.postgres` exists, and then only when CRMKIT_TEST_POSTGRES_DSN is set (each
store gets its own ``crmkit_test_<hex>`` schema, dropped afterwards).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmkit import FixedClock
from crmkit.storage.protocol import Store

from .adapters import HAS_POSTGRES_ADAPTER, T0, Adapter, drop_schemas, sqlite_urls, with_schema

ADAPTER_PARAMS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
]
if HAS_POSTGRES_ADAPTER:
    ADAPTER_PARAMS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=ADAPTER_PARAMS)
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    """One adapter per parameter; PostgreSQL schemas it made are dropped afterwards."""
    if request.param == "memory":
        yield Adapter("memory", lambda: "memory://", keeps_data=False)
    elif request.param == "sqlite":
        yield Adapter("sqlite", sqlite_urls(tmp_path), keeps_data=True)
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        schemas: list[str] = []

        def new_url() -> str:
            schemas.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
            return with_schema(dsn, schemas[-1])

        try:
            yield Adapter("postgres", new_url, keeps_data=True)
        finally:
            drop_schemas(dsn, schemas)


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at `T0` (a test moves it with ``clock.advance``)."""
    return FixedClock(T0)


@pytest.fixture
def store(adapter: Adapter, clock: FixedClock) -> Iterator[Store]:
    """A fresh store of the adapter under test, on `clock`; closed afterwards."""
    with adapter.make(clock) as store:
        yield store
