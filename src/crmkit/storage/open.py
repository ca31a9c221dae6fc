"""Opening a store by URL: ``memory://``, ``sqlite:///path/crm.db``, ``postgresql://...``."""

from __future__ import annotations

import importlib
import urllib.parse
from typing import Any

from crmkit.clock import Clock
from crmkit.errors import StoreOpenError
from crmkit.storage.arguments import check_clock, check_options
from crmkit.storage.protocol import Store

__all__ = ["open_store", "redact_url"]


def redact_url(url: str) -> str:
    """Return `url` with any password replaced by ``***``, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def open_store(url: str, *, clock: Clock | None = None, **options: Any) -> Store:
    """Open (and create or migrate, if needed) the store a URL names.

    Args:
        url: ``memory://`` for a store in this process's memory; ``sqlite:///relative.db``
            or ``sqlite:////absolute/path.db`` for a SQLite file (the embedded default,
            nothing to install); ``postgresql://user@host/db?schema=name`` for PostgreSQL
            (``pip install 'crmkit[postgres]'``).
        clock: Where history, events and archive times get "now" from.
        **options: Adapter options (e.g. ``busy_timeout`` in seconds).

    Returns:
        The open store; use it as a context manager to close it.

    Raises:
        StoreOpenError: For an unknown scheme, a malformed URL, an option the adapter does
            not read or a bad option value (each named), a `clock` without ``now()``, or a
            database that cannot be opened (the message hides any password).
        SchemaVersionError: For a database written by a newer crmkit.
    """
    check_clock(clock)
    if not isinstance(url, str) or "://" not in url:
        raise StoreOpenError(
            f"not a store URL: {url!r} (use memory://, sqlite:///path.db or postgresql://...)"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        from crmkit.storage.memory import MemoryStore

        if url.split("://", 1)[1] not in ("", "/"):
            raise StoreOpenError(f"memory:// takes no path: {url!r}")
        check_options("memory", options, ("busy_timeout",))
        return MemoryStore(clock, **options)
    if scheme == "sqlite":
        from crmkit.storage.sqlite.store import SqliteStore

        return SqliteStore.from_url(url, clock=clock, **options)
    if scheme in ("postgresql", "postgres"):
        try:
            module = importlib.import_module("crmkit.storage.postgres.store")
        except ImportError as error:
            raise StoreOpenError(
                f"PostgreSQL needs the postgres extra: pip install 'crmkit[postgres]' ({error})"
            ) from None
        store: Store = module.PostgresStore.from_url(url, clock=clock, **options)
        return store
    raise StoreOpenError(
        f"unknown store URL scheme {scheme!r} in {redact_url(url)!r}: "
        "use memory://, sqlite:///path.db or postgresql://..."
    )
