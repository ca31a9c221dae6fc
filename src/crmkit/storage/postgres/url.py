"""Reading a ``postgresql://`` store URL: crmkit's own options out, the rest for libpq.

``postgresql://user:password@host:5432/dbname?schema=acme&pool_max=20&sslmode=require``

crmkit's options (removed before the connection string reaches psycopg):

- ``schema``: the PostgreSQL schema holding the store (default ``public``), created if
  missing; one schema per tenant.
- ``pool_min`` / ``pool_max``: connections the pool keeps open / may open (default 1 / 10).
- ``pool_timeout``: seconds a unit of work waits for a free connection (default 30).
- ``pool_check``: ``1`` checks each connection before lending it out (one extra round trip
  per unit of work; replaces connections that died while idle without an error).

Everything else (``sslmode``, ``application_name``, ``connect_timeout``, ...) is libpq's.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import attrs

from crmkit.errors import StoreOpenError
from crmkit.storage.arguments import seconds_option
from crmkit.storage.open import redact_url

__all__ = ["CRMKIT_OPTIONS", "PostgresUrl", "parse_postgres_url", "valid_schema_name"]

CRMKIT_OPTIONS = ("schema", "pool_min", "pool_max", "pool_timeout", "pool_check")
"""Query parameters crmkit reads itself and never passes to libpq."""

DEFAULT_CONNECT_TIMEOUT = 10
"""Seconds libpq may take to connect when the URL sets no ``connect_timeout``."""

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def valid_schema_name(name: str) -> bool:
    """Whether `name` is a plain identifier PostgreSQL accepts for a new schema.

    Letters, digits and underscores, not starting with a digit, at most 63 characters, and
    not ``pg_``-prefixed (reserved for the system).
    """
    return bool(_SCHEMA_NAME.fullmatch(name)) and not name.lower().startswith("pg_")


@attrs.frozen
class PostgresUrl:
    """A parsed store URL.

    Attributes:
        url: The URL as given (for messages: always shown through `redact_url`).
        conninfo: The libpq connection URI, without crmkit's options.
        schema: The schema holding the store.
        pool_min: Connections kept open.
        pool_max: Connections at most.
        pool_timeout: Seconds to wait for a free connection.
        pool_check: Check connections before lending them out.
        connect_timeout: Seconds libpq may take to connect.
    """

    url: str
    conninfo: str
    schema: str
    pool_min: int
    pool_max: int
    pool_timeout: float
    pool_check: bool
    connect_timeout: int


def parse_postgres_url(url: str, options: dict[str, Any]) -> PostgresUrl:
    """Split a store URL into libpq's connection URI and crmkit's options.

    Args:
        url: ``postgresql://`` or ``postgres://`` URL.
        options: Keyword options given to `open_store`; they win over the URL's.

    Raises:
        StoreOpenError: For a malformed URL, an invalid schema name, bad pool sizes or an
            unknown keyword option.
    """
    shown = redact_url(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StoreOpenError(f"not a PostgreSQL URL: {shown!r}")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError as error:
        raise StoreOpenError(f"bad PostgreSQL URL {shown!r}: {error}") from None
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in CRMKIT_OPTIONS}
    theirs = [(k, v) for k, v in query if k not in CRMKIT_OPTIONS]
    unknown = sorted(set(options) - set(CRMKIT_OPTIONS) - {"connect_timeout"})
    if unknown:
        raise StoreOpenError(
            f"unknown PostgreSQL store option(s) {', '.join(unknown)}: "
            f"use {', '.join(CRMKIT_OPTIONS)} or connect_timeout"
        )
    merged: dict[str, Any] = {**ours, **{k: v for k, v in options.items() if v is not None}}

    schema = str(merged.get("schema", "public"))
    if not valid_schema_name(schema):
        raise StoreOpenError(
            f"bad schema name {schema!r} in {shown!r}: use letters, digits and underscores "
            "(not starting with a digit or pg_, at most 63 characters)"
        )
    pool_min = _number(merged, "pool_min", 1, int, shown)
    pool_max = _number(merged, "pool_max", max(10, pool_min), int, shown)
    pool_timeout = seconds_option("pool_timeout", merged.get("pool_timeout", 30.0), positive=True)
    if pool_min < 0 or pool_max < 1 or pool_max < pool_min:
        raise StoreOpenError(
            f"bad pool size in {shown!r}: need 0 <= pool_min <= pool_max and pool_max >= 1 "
            f"(got pool_min={pool_min}, pool_max={pool_max})"
        )
    check = str(merged.get("pool_check", "0")).lower()
    if check not in _TRUE | _FALSE:
        raise StoreOpenError(f"bad pool_check {check!r} in {shown!r}: use 1 or 0")

    libpq = dict(theirs)
    if "connect_timeout" in options:
        libpq["connect_timeout"] = str(options["connect_timeout"])
    connect_timeout = _number(libpq, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, int, shown)
    libpq["connect_timeout"] = str(connect_timeout)
    conninfo = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(libpq)))
    return PostgresUrl(
        url=url,
        conninfo=conninfo,
        schema=schema,
        pool_min=pool_min,
        pool_max=pool_max,
        pool_timeout=pool_timeout,
        pool_check=check in _TRUE,
        connect_timeout=connect_timeout,
    )


def _number(values: dict[str, Any], key: str, default: Any, kind: type, shown: str) -> Any:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise StoreOpenError(f"bad {key} {raw!r} in {shown!r}: not a number") from None
