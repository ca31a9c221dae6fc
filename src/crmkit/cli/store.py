"""Which store a command opens: ``--db URL``, else ``CRMKIT_DB``, else the demo's file."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import crmkit
from crmkit.storage.protocol import Store

__all__ = ["DEMO_URL", "open_existing", "store_url"]

DEMO_URL = "sqlite:///crmkit-demo.db"
"""Where `crmkit demo` builds its store by default (in the current folder)."""


def store_url(db: str | None) -> str:
    """Return the store URL a command uses: `db`, else ``$CRMKIT_DB``, else `DEMO_URL`."""
    return db or os.environ.get("CRMKIT_DB") or DEMO_URL


def open_existing(url: str) -> Store:
    """Open a store that must exist already (a SQLite file is never created here).

    Raises:
        StoreOpenError: When a SQLite URL names no file (with what to run instead).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "sqlite":
        raw = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if raw and not Path(raw).exists():
            raise crmkit.StoreOpenError(
                f"no store at {raw}: run `crmkit demo` to build one, or pass --db URL"
            )
    return crmkit.open_store(url)
