"""The PostgreSQL store: ``crmkit.open_store("postgresql://user@host/db?schema=acme")``.

Needs the ``postgres`` extra (psycopg 3 and psycopg_pool): this module imports both, so
`crmkit.open_store` can tell a user who lacks them which extra to install.

How it keeps the storage contract (see docs/postgres.md for the long form):

- **One schema per tenant.** ``?schema=`` names it; it is created if missing and every pooled
  connection runs with ``search_path`` set to it alone, so tenants never mix.
- **Units of work** borrow a connection from a `psycopg_pool.ConnectionPool` and give it back
  when they commit or roll back; a store is safe to share between threads.
- **Isolation** is PostgreSQL's READ COMMITTED: each statement sees what was committed
  before it, plus the transaction's own writes. Read-only units run ``BEGIN READ ONLY``.
- **Optimistic concurrency** is ``UPDATE ... WHERE id = %s AND version = %s`` plus the row
  count: a concurrent updater waits for the row lock, re-checks the version, and loses.
- **What SQLite's ``BEGIN IMMEDIATE`` gave for free is made explicit**, without making every
  writer wait for every other one:

  - *outbox order*: an identity column hands out numbers in insert order, not commit order,
    so a reader could see position 8 committed while 7 is still in flight and then skip 7
    for good. Event-writing transactions therefore take one transaction-scoped advisory lock
    (per schema) right before inserting their events, at commit time, and hold it until the
    commit: positions are handed out in commit order and nothing is skipped. The lock is
    taken last and nothing is waited for while holding it, so it cannot deadlock.
  - *references*: checking that a referenced record exists locks it ``FOR KEY SHARE`` (as a
    foreign key does), and ``delete`` locks its row ``FOR UPDATE`` before looking for
    referrers, so a delete and an add that refers to the deleted record cannot both succeed.
  - *facts*: recomputing a record's facts first locks the record's row, so two units of
    work logging activities for one contact queue instead of losing a count.
  - *scores* are upserted (``INSERT ... ON CONFLICT DO UPDATE``): the last writer wins.

- **Custom-field schemas are cached** by the store between units of work (a look-up would
  cost every write a round trip). Every pooled connection ``LISTEN``s on the schema's
  channel, and saving a schema ``NOTIFY``s it in the same transaction: every store on the
  schema, in any process, drops its cache when that commits, as soon as one of its
  connections next talks to the server (every write reads before it checks a schema).

- **JIT compilation is off** on crmkit's connections (`PostgresStore._configure`): its
  cost-based trigger fires on correlated segment probes and costs more than the query.

- **Driver errors** become crmkit errors in one place (`crmkit.storage.postgres.errors`).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import SchemaVersionError, StorageError, StoreOpenError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.registry import KINDS, Kind, derived
from crmkit.storage.backend import ActivitySource, OrderSource, PendingEvent
from crmkit.storage.open import redact_url
from crmkit.storage.postgres.dialect import PostgresDialect, load_json
from crmkit.storage.postgres.errors import (
    PgConnection,
    translate_postgres_error,
    translated,
)
from crmkit.storage.postgres.url import PostgresUrl, parse_postgres_url
from crmkit.storage.protocol import StoredScore
from crmkit.storage.sql.backend import SqlBackend
from crmkit.storage.sql.schema import apply_migrations, codecs, newest_version
from crmkit.storage.sql.store import SqlStore

__all__ = ["PostgresStore"]

# Advisory locks, two-int form ``(schema key, purpose)``: one per schema and purpose, so
# the server's lock table never fills up however much a unit of work does.
_MIGRATION_LOCK = 0
_OUTBOX_LOCK = 1

_cursor_names = itertools.count(1)


def _fact_lock_statement() -> dict[str, tuple[str, int]]:
    """The statement locking the records facts belong to, and how many id arrays it takes.

    Facts belong to every kind that a kind feeding facts refers to; `_FACT_LOCK` rebuilds it
    when the registry changes, so a kind registered after import is locked too.
    """
    feeding = [kind for kind in KINDS.values() if kind.feeds_facts]
    tables = sorted({KINDS[ref.target].table for kind in feeding for ref in kind.refs})
    ctes = ", ".join(
        f"locked_{table} AS (SELECT id FROM {table} WHERE id = ANY(%s) FOR NO KEY UPDATE)"
        for table in tables
    )
    counts = " + ".join(f"(SELECT count(*) FROM locked_{table})" for table in tables)
    return {"lock": (f"WITH {ctes} SELECT {counts}", len(tables))}


_FACT_LOCK: Mapping[str, tuple[str, int]] = derived(_fact_lock_statement)


_UPSERT_SCORES = (
    "INSERT INTO scores"
    " (record_id, scorer, value, grade, breakdown, scorer_version, computed_at)"
    " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::float8[], %s::text[], %s::jsonb[],"
    " %s::text[], %s::timestamptz[])"
    " ON CONFLICT (record_id, scorer) DO UPDATE SET value = excluded.value,"
    " grade = excluded.grade, breakdown = excluded.breakdown,"
    " scorer_version = excluded.scorer_version, computed_at = excluded.computed_at"
)


def _schema_key(schema: str) -> int:
    """A stable signed 32-bit number for a schema (advisory locks are per database)."""
    value = zlib.crc32(f"crmkit:{schema}".encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class _SchemaCache:
    """A store's custom-field schemas by kind, dropped whenever any session saves one.

    A generation number keeps a look-up that raced with a drop from caching what it read.
    """

    _MISSING: Any = object()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[str, CustomFieldSchema | None] = {}
        self.generation = 0

    def get(self, kind: str) -> Any:
        """The cached schema (None: the kind has none), or `_SchemaCache._MISSING`."""
        with self._lock:
            return self._by_kind.get(kind, self._MISSING)

    def put(self, kind: str, schema: CustomFieldSchema | None, generation: int) -> None:
        """Keep what was read at `generation`, unless the cache was dropped since."""
        with self._lock:
            if generation == self.generation:
                self._by_kind[kind] = schema

    def drop(self, *_notice: object) -> None:
        """Forget every schema (a notification handler: its argument is ignored)."""
        with self._lock:
            self._by_kind.clear()
            self.generation += 1


class _PostgresBackend(SqlBackend):
    """One PostgreSQL transaction on a connection borrowed from the store's pool."""

    def __init__(self, store: PostgresStore, readonly: bool) -> None:
        self._store = store
        self._url = store._options.url
        raw = store._borrow()
        try:
            raw.read_only = readonly
        except psycopg.Error as error:  # pragma: no cover - the pool lends idle connections
            store._give_back(raw)
            raise translate_postgres_error(error, self._url) from error
        self._connection = PgConnection(raw, self._url)
        super().__init__(self._connection, store.dialect, store._codecs)
        self._raw: psycopg.Connection[Any] | None = raw
        self._writing = False

    # -- the transaction -------------------------------------------------------------------

    def begin_write(self) -> None:
        """Note that this unit of work writes; PostgreSQL began the transaction already.

        No lock is taken up front: row locks serialise writers of the same records, and the
        outbox, reference and fact locks are taken where they are needed (see the module).
        """
        self._writing = True

    def commit(self) -> None:
        """Commit and give the connection back to the pool.

        If the commit fails, the connection stays here until `rollback` cleans up.
        """
        raw = self._live()
        self._connection.live()  # an aborted transaction must not "commit" into a rollback
        with translated(self._url):
            raw.commit()
        if self._saved_schema:
            self._store._schemas.drop()  # the NOTIFY reaches other stores; this one now
        self._release()

    def load_schema(self, kind: str) -> CustomFieldSchema | None:
        """Return the newest schema of a kind, from the store's cache when it has it."""
        cache = self._store._schemas
        found = cache.get(kind)
        if found is not _SchemaCache._MISSING:
            return found  # type: ignore[no-any-return]
        generation = cache.generation
        schema = super().load_schema(kind)
        if not self._saved_schema:  # not what this transaction has written, uncommitted
            cache.put(kind, schema, generation)
        return schema

    def store_schema(self, schema: CustomFieldSchema) -> None:
        """Store a new schema version and tell every listening store when it commits."""
        super().store_schema(schema)
        self._execute(sql.SQL("NOTIFY {}").format(self._store._channel).as_string(None))

    def rollback(self) -> None:
        """Roll back (if the connection still lives) and give the connection back."""
        raw = self._raw
        if raw is None:
            return
        try:
            if not raw.closed:
                raw.rollback()
        except psycopg.Error:
            pass  # a broken connection: the server rolled the transaction back itself
        finally:
            self._release()

    def _release(self) -> None:
        self._connection.detach()
        raw, self._raw = self._raw, None
        if raw is not None:
            self._store._give_back(raw)

    def _live(self) -> psycopg.Connection[Any]:
        if self._raw is None:
            raise StorageError("the unit of work has ended: its connection went back")
        return self._raw

    # -- what BEGIN IMMEDIATE used to give ---------------------------------------------------

    def existing(self, kind: Kind, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Return which of `ids` are stored; in a writing unit, lock them ``FOR KEY SHARE``.

        The lock is what a foreign key takes: the records cannot be deleted until this unit
        of work ends, so a reference checked here stays valid until the commit.
        """
        if not ids:
            return set()
        lock = " FOR KEY SHARE" if self._writing else ""
        rows = self._execute(
            f"SELECT id FROM {kind.table} WHERE id = ANY(%s){lock}", [list(ids)]
        ).fetchall()
        return {row[0] for row in rows}

    def _register_ids(self, kind: Kind, entities: Sequence[Entity]) -> None:
        """Write the ``record_ids`` rows in one statement, the ids as one array parameter.

        Cheaper than COPY here: two values a row, and no Python work per row.
        """
        if entities:
            self._execute(
                "INSERT INTO record_ids (id, kind) SELECT unnest(%s::uuid[]), %s",
                [[e.id for e in entities], kind.name],
            )

    def kinds_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Return the kind holding each of `ids` that is stored, in one query.

        The ids go as one array parameter: a statement with a thousand placeholders costs
        psycopg ~9 ms to parse per batch, more than the look-up itself.
        """
        if not ids:
            return {}
        rows = self._execute(
            "SELECT r.id, r.kind FROM unnest(%s::uuid[]) AS wanted (id)"
            " JOIN record_ids r ON r.id = wanted.id",
            [list(ids)],
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def claim_setting(self, key: str) -> str | None:
        """Lock the setting's row ``FOR UPDATE`` (made empty first when missing) and read it.

        Two units of work claiming a missing key both insert; ``ON CONFLICT DO NOTHING`` makes
        the second wait for the first and then do nothing, and its lock then waits too.
        """
        stored = f"setting.{key}"
        self._execute(
            "INSERT INTO crmkit_meta (key, value) VALUES (%s, '') ON CONFLICT (key) DO NOTHING",
            [stored],
        )
        row = self._execute(
            "SELECT value FROM crmkit_meta WHERE key = %s FOR UPDATE", [stored]
        ).fetchone()
        return str(row[0]) or None

    def referrers(self, kind: Kind, entity_id: uuid.UUID, limit: int) -> list[str]:
        """Lock the record ``FOR UPDATE``, then describe the records referring to it.

        Taking the lock first waits for units of work that checked a reference to it; the
        look-up then sees what they committed.
        """
        self._execute(f"SELECT 1 FROM {kind.table} WHERE id = %s FOR UPDATE", [entity_id])
        return super().referrers(kind, entity_id, limit)

    def fact_sources(
        self, ids: Sequence[uuid.UUID], order_statuses: Sequence[str]
    ) -> tuple[list[ActivitySource], list[OrderSource]]:
        """Lock the records whose facts are recomputed, then read what the facts come from.

        The records' rows are locked ``FOR NO KEY UPDATE`` (row locks live in the rows, so a
        bulk import may lock any number without filling the server's lock table): a second
        unit of work recomputing the same facts waits, then reads what the first committed.
        """
        if ids:
            statement, arrays = _FACT_LOCK["lock"]
            self._execute(statement, [list(ids)] * arrays)
        return super().fact_sources(ids, order_statuses)

    def put_scores(self, scores: Sequence[StoredScore]) -> None:
        """Insert or replace scores in one upsert, so concurrent scorers never collide."""
        latest = {(s.record_id, s.scorer): s for s in scores}
        if not latest:
            return
        dump = self._enc["json"]
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for s in latest.values():
            values = (
                s.record_id,
                s.scorer,
                float(s.value),
                s.grade,
                dump(s.breakdown),
                s.scorer_version,
                s.computed_at,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        self._execute(_UPSERT_SCORES, columns)

    def append_events(self, events: Sequence[PendingEvent]) -> None:
        """Take the outbox lock, then write the events: positions follow commit order."""
        if not events:
            return
        self._execute(
            "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)",
            [self._store._schema_key, _OUTBOX_LOCK],
        )
        super().append_events(events)

    # -- streaming -------------------------------------------------------------------------

    def scan_iter(
        self, kind: Kind, after: uuid.UUID | None, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        """Stream entities in id order through a server-side cursor, `batch_size` at a time.

        Memory stays at one batch; a deal's stage history is fetched per batch.
        """
        where: list[str] = []
        params: list[Any] = []
        if after is not None:
            where.append("id > %s")
            params.append(after)
        if not include_archived:
            where.append("archived_at IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"{self._select[kind.name]}{clause} ORDER BY id"
        return self._stream(kind, query, params, batch_size)

    def _stream(
        self, kind: Kind, query: str, params: list[Any], batch_size: int
    ) -> Iterator[Entity]:
        raw = self._connection.live()
        cursor = raw.cursor(name=f"crmkit_iter_{next(_cursor_names)}")
        cursor.itersize = batch_size
        try:
            with self._connection.translated():
                cursor.execute(query, params or None)
            while True:
                if self._raw is not raw:
                    raise StorageError("the unit of work has ended: iterate inside it")
                with self._connection.translated():
                    rows = cursor.fetchmany(batch_size)
                if not rows:
                    return
                yield from self._decode(kind, rows)
                if len(rows) < batch_size:
                    return
        finally:
            if self._raw is raw and not raw.closed:  # still our transaction: free the cursor
                with contextlib.suppress(psycopg.Error):
                    cursor.close()


class PostgresStore(SqlStore):
    """A store in one PostgreSQL schema, created and migrated on open.

    Args:
        url: ``postgresql://user:password@host:port/dbname?schema=name&pool_max=10``; see
            `crmkit.storage.postgres.url` for every option.
        clock: Where history, events and archive times get "now" from.
        **options: The URL's crmkit options given as keywords instead (``schema``,
            ``pool_min``, ``pool_max``, ``pool_timeout``, ``pool_check``,
            ``connect_timeout``); they win over the URL's.

    Raises:
        StoreOpenError: When the server cannot be reached, the password is wrong, the
            database does not exist, the schema holds tables that are not crmkit's, or the URL
            is malformed (the message is one line and hides the password).
        SchemaVersionError: When the schema was written by a newer crmkit.
    """

    def __init__(self, url: str, *, clock: Clock | None = None, **options: Any) -> None:
        self._options: PostgresUrl = parse_postgres_url(url, options)
        self.url = redact_url(url)
        self.schema = self._options.schema
        self.clock = resolve_clock(clock)
        self.dialect = PostgresDialect()
        self._codecs = codecs(self.dialect)
        self._schema_key = _schema_key(self.schema)
        self._schemas = _SchemaCache()
        self._channel = sql.Identifier(f"crmkit_schemas:{self.schema}")
        self._closed = False
        self._lock = threading.Lock()
        self._migrate()
        opts = self._options
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            opts.conninfo,
            min_size=opts.pool_min,
            max_size=opts.pool_max,
            timeout=opts.pool_timeout,
            configure=self._configure,
            check=ConnectionPool.check_connection if opts.pool_check else None,
            name=f"crmkit:{self.schema}",
            open=False,
        )
        with translated(url, opening=True):
            self._pool.open()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **options: Any) -> PostgresStore:
        """Open ``postgresql://...`` or ``postgres://...`` (what `crmkit.open_store` calls)."""
        return cls(url, clock=clock, **options)

    # -- connections -----------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        """Open one connection outside the pool (opening, migrating)."""
        with translated(self._options.url, opening=True):
            return psycopg.connect(self._options.conninfo)

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        """Set up a new pooled connection: this store's schema alone, UTC, READ COMMITTED.

        JIT compilation is off: it starts on the planner's cost estimate, and a segment's
        correlated probes (``(SELECT count(*) ... WHERE contact_id = t0.id) >= 2``) are
        estimated at a full index scan per row, so a 40 ms query would spend 100-150 ms
        compiling itself. crmkit's queries are index-driven and short; JIT pays off only on
        long analytical scans.
        """
        connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        set_json_loads(load_json, connection)
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        connection.execute("SET TIME ZONE 'UTC'")
        connection.execute("SET jit = off")
        connection.execute(sql.SQL("LISTEN {}").format(self._channel))
        connection.add_notify_handler(self._schemas.drop)
        connection.commit()

    def _borrow(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StorageError("the store is closed")
        with translated(self._options.url):
            return self._pool.getconn()

    def _give_back(self, connection: psycopg.Connection[Any]) -> None:
        # A broken connection is discarded by the pool, which opens a fresh one.
        with contextlib.suppress(psycopg.Error):
            self._pool.putconn(connection)

    # -- schema ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Create the schema and its tables, or bring them up to date, once, under a lock.

        An advisory lock per schema makes two processes opening a new schema at once take
        turns: the second finds it made.
        """
        connection = self._connect()
        schema = sql.Identifier(self.schema)
        try:
            with translated(self._options.url, opening=True):
                connection.execute(
                    "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)",
                    (self._schema_key, _MIGRATION_LOCK),
                )
                found = connection.execute(
                    "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (self.schema,)
                ).fetchone()
                if found is None:
                    connection.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
                connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema))
                version = self._schema_version(connection)
                if version > newest_version():
                    connection.rollback()
                    raise SchemaVersionError(
                        f"{self.url}: schema {self.schema} has version {version}, newer than "
                        f"this crmkit's {newest_version()}: upgrade crmkit to open it"
                    )
                apply_migrations(connection.execute, self.dialect, version)
                connection.commit()
        finally:
            connection.close()

    def _schema_version(self, connection: psycopg.Connection[Any]) -> int:
        tables = connection.execute(
            "SELECT c.relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            (self.schema,),
        ).fetchall()
        names = {row[0] for row in tables}
        if "crmkit_meta" not in names:
            if names:
                raise StoreOpenError(
                    f"cannot open {self.url}: schema {self.schema} holds tables that are not "
                    "crmkit's (choose another with ?schema=)"
                )
            return 0
        row = connection.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0]) if row else 0

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the store's schema."""
        backend = self._backend(readonly=True)
        try:
            row = backend._execute(
                "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
            ).fetchone()
            return int(row[0]) if row else 0
        finally:
            backend.rollback()

    # -- the Store protocol ----------------------------------------------------------------

    def _backend(self, readonly: bool) -> _PostgresBackend:
        """Start a transaction on a connection of its own."""
        return _PostgresBackend(self, readonly)

    def close(self) -> None:
        """Close the pool; units of work cannot be started afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r}, schema={self.schema!r})"
