"""Opening fresh stores of each adapter for the storage tests (used by conftest and modules)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import crmkit
from crmkit.clock import FixedClock
from crmkit.storage.protocol import Store

HAS_POSTGRES_ADAPTER = importlib.util.find_spec("crmkit.storage.postgres") is not None


T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
"""When the shared ``clock`` fixture (conftest.py) starts; a module may define its own clock."""


def with_schema(dsn: str, schema: str) -> str:
    """Return the DSN with ``schema=`` added to its query (as a store URL)."""
    parts = urlsplit(dsn)
    query = [*parse_qsl(parts.query), ("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def sqlite_urls(directory: Path) -> Callable[[], str]:
    """Return a function making a new SQLite file URL in `directory` on each call."""
    counter = itertools.count()
    return lambda: f"sqlite:///{directory / f'store{next(counter)}.db'}"


def drop_schemas(dsn: str, schemas: list[str]) -> None:
    """Drop the PostgreSQL schemas the tests made."""
    if not schemas:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class Adapter:
    """Opens fresh, empty stores of one adapter, remembers their URLs, and can reopen them."""

    def __init__(self, name: str, new_url: Callable[[], str], keeps_data: bool) -> None:
        self.name = name
        self.new_url = new_url
        self.keeps_data = keeps_data
        self.urls: dict[int, str] = {}

    def make(self, clock: FixedClock | None = None) -> Store:
        url = self.new_url()
        store = crmkit.open_store(url, clock=clock)
        self.urls[id(store)] = url
        return store

    def url_of(self, store: Store) -> str:
        return self.urls[id(store)]

    def reopen(self, store: Store, clock: FixedClock) -> Store | None:
        if not self.keeps_data:
            return None
        url = self.urls.pop(id(store))
        store.close()
        reopened = crmkit.open_store(url, clock=clock)
        self.urls[id(reopened)] = url
        return reopened

    def __repr__(self) -> str:
        return f"Adapter({self.name})"
