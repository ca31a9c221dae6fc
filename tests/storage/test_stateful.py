"""The store state machine (crmkit.testing.store_state_machine) against every adapter."""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid

import pytest
from hypothesis import settings

import crmkit
from crmkit.testing import store_state_machine

from .adapters import HAS_POSTGRES_ADAPTER, drop_schemas, with_schema

STEPS = settings(settings.default, stateful_step_count=30)

_sqlite_dir = tempfile.TemporaryDirectory(prefix="crmkit-stateful-")
_sqlite_files = itertools.count()
_pg_schemas: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _sqlite_dir.cleanup()
    dsn = os.environ.get("CRMKIT_TEST_POSTGRES_DSN")
    if dsn:
        drop_schemas(dsn, _pg_schemas)


def _memory(clock):
    return crmkit.open_store("memory://", clock=clock)


def _sqlite(clock):
    path = os.path.join(_sqlite_dir.name, f"machine{next(_sqlite_files)}.db")
    return crmkit.open_store(f"sqlite:///{path}", clock=clock)


def _postgres(clock):
    dsn = os.environ.get("CRMKIT_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("CRMKIT_TEST_POSTGRES_DSN is not set: PostgreSQL tests skipped")
    _pg_schemas.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
    return crmkit.open_store(with_schema(dsn, _pg_schemas[-1]), clock=clock)


TestMemoryMachine = store_state_machine(_memory).TestCase
TestMemoryMachine.settings = STEPS

TestSqliteMachine = store_state_machine(_sqlite).TestCase
TestSqliteMachine.settings = STEPS

if HAS_POSTGRES_ADAPTER:
    TestPostgresMachine = pytest.mark.postgres(store_state_machine(_postgres).TestCase)
    TestPostgresMachine.settings = STEPS
