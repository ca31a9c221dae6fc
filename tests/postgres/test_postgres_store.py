"""What only the PostgreSQL adapter has: URLs and schemas, the pool, COPY, server-side cursors,
one-line open errors, and failures of connections, processes and concurrent writers.

The storage contract itself runs against PostgreSQL from tests/storage.
"""

from __future__ import annotations

import builtins
import datetime as dt
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

import crmkit
from crmkit import Activity, ConcurrencyError, Contact, FixedClock, Lead
from crmkit.errors import (
    CrmkitError,
    ReferencedError,
    SchemaVersionError,
    StorageError,
    StoreBusyError,
    StoreOpenError,
    ValidationError,
)
from crmkit.storage.postgres import PostgresStore
from crmkit.storage.postgres.dialect import PostgresDialect
from crmkit.storage.postgres.errors import PgCursor, translate_postgres_error
from crmkit.storage.postgres.url import parse_postgres_url
from crmkit.storage.sql.schema import SCHEMA_VERSION

pytestmark = pytest.mark.postgres

START = dt.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=dt.UTC)


# -- fixtures --------------------------------------------------------------------------------


def with_query(dsn: str, **params: object) -> str:
    parts = urlsplit(dsn)
    query = [*parse_qsl(parts.query), *((k, str(v)) for k, v in params.items())]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def new_schema(postgres_dsn):
    """Make fresh schema names; every schema made is dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
        return made[-1]

    yield make
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        for schema in made:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def url(postgres_dsn, new_schema):
    return with_query(postgres_dsn, schema=new_schema())


@pytest.fixture
def store(url):
    with PostgresStore(url, clock=FixedClock(START)) as opened:
        yield opened


def admin(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def contact(name: str, **fields: object) -> Contact:
    return Contact.create(first_name=name, clock=FixedClock(START), **fields)


# -- opening: URL, schema, extra, errors -----------------------------------------------------


def test_open_store_dispatches_and_keeps_values_exact(url):
    with crmkit.open_store(url, clock=FixedClock(START)) as store:
        assert isinstance(store, PostgresStore)
        ada = contact(
            "Ada",
            email="Ada@Acme.de",
            tags={"vip"},
            custom={"budget": Decimal("12000.50"), "seats": 5, "since": dt.date(2020, 2, 29)},
        )
        with store.unit_of_work() as uow:
            stored = uow.contacts.add(ada)
        with store.unit_of_work(readonly=True) as uow:
            back = uow.contacts.get(ada.id)
        assert back == stored
        assert back.created_at.tzinfo is dt.UTC
        assert back.created_at == START
        assert str(back.custom["budget"]) == "12000.50"
        assert type(back.custom["seats"]) is int
        assert list(back.custom) == sorted(back.custom)  # FrozenMap order survives jsonb


def test_the_schema_has_the_promised_types_and_indexes(store, postgres_dsn):
    with admin(postgres_dsn) as conn:
        columns = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = 'contacts'",
                (store.schema,),
            ).fetchall()
        )
        collations = {
            row[0]
            for row in conn.execute(
                "SELECT collation_name FROM information_schema.columns"
                " WHERE table_schema = %s AND data_type = 'text'",
                (store.schema,),
            ).fetchall()
        }
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (store.schema,)
            ).fetchall()
        }
        money = conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = %s"
            " AND table_name = 'deals' AND column_name = 'amount'",
            (store.schema,),
        ).fetchone()
        identity = conn.execute(
            "SELECT is_identity FROM information_schema.columns WHERE table_schema = %s"
            " AND table_name = 'events' AND column_name = 'position'",
            (store.schema,),
        ).fetchone()
    assert columns["id"] == "uuid"
    assert columns["created_at"] == "timestamp with time zone"
    assert columns["custom"] == "jsonb"
    assert columns["version"] == "bigint"
    assert collations == {"C"}
    assert money == ("numeric",)
    assert identity == ("YES",)
    for wanted in (
        "ix_contact_emails_match_key",
        "ix_companies_domain",
        "ix_contacts_company_id",
        "ix_contacts_owner",
        "ix_deals_pipeline_stage",
        "ix_deals_owner",
    ):
        assert wanted in indexes
    assert store.schema_version == SCHEMA_VERSION


def test_each_schema_is_its_own_tenant_even_with_the_same_ids(postgres_dsn, new_schema):
    one, two = new_schema(), new_schema()
    ada = contact("Ada", email="ada@example.org")
    with (
        PostgresStore(with_query(postgres_dsn, schema=one)) as first,
        PostgresStore(with_query(postgres_dsn, schema=two)) as second,
    ):
        with first.unit_of_work() as uow:
            uow.contacts.add(ada)
        with second.unit_of_work() as uow:
            uow.contacts.add(ada.changed(first_name="Other Ada"))
            uow.contacts.add(contact("Bob"))
        with first.unit_of_work(readonly=True) as uow:
            assert [c.first_name for c in uow.contacts.iter()] == ["Ada"]
        with second.unit_of_work(readonly=True) as uow:
            assert uow.contacts.get(ada.id).first_name == "Other Ada"
            assert uow.contacts.count() == 2
        assert len(first.history(ada.id)) == 1
        assert len(second.history(ada.id)) == 1


def test_a_mixed_case_schema_keeps_its_case(postgres_dsn, new_schema):
    schema = "Mixed_" + new_schema()
    with PostgresStore(with_query(postgres_dsn, schema=schema, pool_check=1)) as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(contact("Ada"))
        with admin(postgres_dsn) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchone()
            assert found[0] > 10
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_opening_twice_and_at_once_is_harmless(postgres_dsn, new_schema):
    target = with_query(postgres_dsn, schema=new_schema())
    errors: list[BaseException] = []

    def open_it():
        try:
            PostgresStore(target).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with PostgresStore(target) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_a_newer_schema_is_refused(url, postgres_dsn):
    store = PostgresStore(url)
    store.close()
    with admin(postgres_dsn) as conn:
        conn.execute(
            sql.SQL("UPDATE {}.crmkit_meta SET value = %s WHERE key = 'schema_version'").format(
                sql.Identifier(store.schema)
            ),
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(SchemaVersionError, match="upgrade crmkit"):
        PostgresStore(url)


def test_a_schema_holding_other_tables_is_refused(postgres_dsn, new_schema):
    schema = new_schema()
    with admin(postgres_dsn) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE TABLE {}.invoices (id int)").format(sql.Identifier(schema)))
    with pytest.raises(StoreOpenError, match="not crmkit's"):
        PostgresStore(with_query(postgres_dsn, schema=schema))


@pytest.mark.parametrize(
    "name", ["bad-name", "x; DROP SCHEMA public", "1abc", "pg_mine", "a" * 64, "Ünïcode", ""]
)
def test_bad_schema_names_are_refused_before_any_sql(name):
    with pytest.raises(StoreOpenError, match="bad schema name"):
        PostgresStore(f"postgresql://nobody@127.0.0.1:1/db?schema={name}")


def test_crmkit_options_are_read_and_removed_before_libpq_sees_them():
    parsed = parse_postgres_url(
        "postgres://ada:pw@db.example:6432/crm?schema=acme&pool_min=2&pool_max=20"
        "&pool_timeout=5&sslmode=require&pool_check=1",
        {},
    )
    assert (parsed.schema, parsed.pool_min, parsed.pool_max) == ("acme", 2, 20)
    assert parsed.pool_timeout == 5.0
    assert parsed.pool_check is True
    query = dict(parse_qsl(urlsplit(parsed.conninfo).query))
    assert query == {"sslmode": "require", "connect_timeout": "10"}
    assert parsed.conninfo.startswith("postgres://ada:pw@db.example:6432/crm?")
    defaults = parse_postgres_url("postgresql://ada@h/crm", {"pool_max": 3})
    assert (defaults.schema, defaults.pool_min, defaults.pool_max) == ("public", 1, 3)
    with pytest.raises(StoreOpenError, match="pool"):
        parse_postgres_url("postgresql://ada@h/crm?pool_min=5&pool_max=2", {})
    with pytest.raises(StoreOpenError, match="not a number"):
        parse_postgres_url("postgresql://ada:secret@h/crm?pool_max=many", {})
    with pytest.raises(StoreOpenError, match="unknown PostgreSQL store option"):
        parse_postgres_url("postgresql://ada@h/crm", {"busy_timeout": 3})


def test_pool_sizes_come_from_the_url_and_close_closes_the_pool(postgres_dsn, new_schema):
    target = with_query(postgres_dsn, schema=new_schema(), pool_min=2, pool_max=3, pool_timeout=7)
    store = PostgresStore(target)
    assert (store._pool.min_size, store._pool.max_size, store._pool.timeout) == (2, 3, 7.0)
    store.close()
    assert store._pool.closed
    with pytest.raises(StorageError, match="closed"):
        store.unit_of_work()


def test_without_the_postgres_extra_the_error_names_it(monkeypatch):
    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg" or name.startswith(("psycopg.", "psycopg_pool")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for module in list(sys.modules):
        if module.startswith(("crmkit.storage.postgres", "psycopg")):
            monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(StoreOpenError, match=r"pip install 'crmkit\[postgres\]'"):
        crmkit.open_store("postgresql://ada@127.0.0.1/crm")


def _one_line_open_error(url: str) -> str:
    with pytest.raises(StoreOpenError) as caught:
        crmkit.open_store(url)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cret" not in message
    assert not isinstance(caught.value, psycopg.Error)
    assert isinstance(caught.value.__cause__, psycopg.Error)
    return message


def test_an_unreachable_server_is_one_line_without_the_password():
    message = _one_line_open_error("postgresql://ada:s3cret@127.0.0.1:1/crm?connect_timeout=3")
    assert "unreachable" in message
    assert "connection refused" in message.lower()
    assert "ada:***@127.0.0.1:1" in message


def test_a_missing_database_is_one_line(postgres_dsn):
    parts = urlsplit(postgres_dsn)
    missing = urlunsplit(parts._replace(path="/crmkit_no_such_database"))
    message = _one_line_open_error(missing)
    assert "database does not exist" in message
    assert "crmkit_no_such_database" in message


class _FakeServer:
    """Answers every connection like a server refusing the password (SQLSTATE 28P01).

    The local server trusts every connection, so a wrong password cannot be provoked there.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with client:
                while True:
                    header = client.recv(8)
                    if len(header) < 8:
                        break
                    length, code = struct.unpack("!ii", header)
                    client.recv(length - 8)
                    if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                        client.sendall(b"N")
                        continue
                    fields = b"".join(
                        tag + text.encode() + b"\0"
                        for tag, text in (
                            (b"S", "FATAL"),
                            (b"V", "FATAL"),
                            (b"C", "28P01"),
                            (b"M", 'password authentication failed for user "ada"'),
                        )
                    )
                    body = fields + b"\0"
                    client.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)
                    break

    def close(self) -> None:
        self.sock.close()


def test_a_wrong_password_is_one_line_without_the_password():
    server = _FakeServer()
    try:
        message = _one_line_open_error(f"postgresql://ada:s3cret@127.0.0.1:{server.port}/crm")
    finally:
        server.close()
    assert "wrong password" in message
    assert "ada:***@" in message


def test_driver_errors_translate_into_the_crmkit_hierarchy():
    url = "postgresql://ada:s3cret@db/crm"
    cases = [
        (pg_errors.SerializationFailure("could not serialize"), StoreBusyError),
        (pg_errors.LockNotAvailable("lock timeout"), StoreBusyError),
        (pg_errors.DeadlockDetected("deadlock detected"), StoreBusyError),
        (pg_errors.UniqueViolation("duplicate key"), ConcurrencyError),
        (psycopg.OperationalError("server closed the connection\nunexpectedly"), StorageError),
        (pg_errors.InvalidPassword("password authentication failed"), StoreOpenError),
        (pg_errors.InvalidCatalogName('database "x" does not exist'), StoreOpenError),
        (pg_errors.UndefinedTable("relation missing"), StorageError),
    ]
    for error, expected in cases:
        translated = translate_postgres_error(error, url)
        assert type(translated) is expected, (error, translated)
        assert isinstance(translated, CrmkitError)
        assert "\n" not in str(translated)
        assert "s3cret" not in str(translated)
    opening = translate_postgres_error(
        psycopg.OperationalError("Connection refused"), url, opening=True
    )
    assert isinstance(opening, StoreOpenError)


# -- the pool, threads, COPY, streaming, round trips -----------------------------------------


def test_bulk_adds_go_through_copy_and_small_ones_do_not(store, monkeypatch):
    calls: list[tuple[str, str, int]] = []
    dialect = store.dialect
    original_copy, original_values = dialect.copy_rows, dialect.insert_values

    def spy_copy(cursor, table, columns, rows):
        calls.append(("copy", table, len(rows)))
        original_copy(cursor, table, columns, rows)

    def spy_values(cursor, table, columns, rows):
        calls.append(("values", table, len(rows)))
        original_values(cursor, table, columns, rows)

    monkeypatch.setattr(dialect, "copy_rows", spy_copy)
    monkeypatch.setattr(dialect, "insert_values", spy_values)
    people = [contact(f"P{i}", email=f"p{i}@example.org", tags={"a", "b"}) for i in range(500)]
    with store.unit_of_work() as uow:
        assert uow.contacts.add_many(people, batch_size=250).stored == 500
    assert ("copy", "contacts", 250) in calls
    assert ("copy", "contact_emails", 250) in calls
    assert ("copy", "record_tags", 500) in calls
    assert ("copy", "history", 500) in calls
    calls.clear()
    with store.unit_of_work() as uow:
        uow.contacts.add(contact("Single"))
    assert ("values", "contacts", 1) in calls
    assert not [c for c in calls if c[0] == "copy"]
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.count() == 501
        assert len(uow.contacts.find_by_email("p499@example.org")) == 1


def test_iter_streams_through_a_server_side_cursor(store):
    with store.unit_of_work() as uow:
        uow.contacts.add_many(contact(f"P{i:03}") for i in range(250))
    with store.unit_of_work(readonly=True) as uow:
        raw = uow._backend.connection.raw
        stream = uow.contacts.iter(batch_size=100)
        first = next(stream)
        cursors = raw.execute("SELECT name, statement FROM pg_cursors").fetchall()
        assert len(cursors) == 1
        name, statement = cursors[0]
        assert name.startswith("crmkit_iter_")
        assert "ORDER BY id" in statement
        rest = list(stream)
        assert [first, *rest] == sorted([first, *rest], key=lambda c: c.id)
        assert len(rest) == 249
        assert raw.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)


def test_iter_outside_its_unit_of_work_is_refused(store):
    with store.unit_of_work() as uow:
        uow.contacts.add_many(contact(f"P{i}") for i in range(5))
    with store.unit_of_work(readonly=True) as uow:
        stream = uow.contacts.iter(batch_size=2)
        next(stream)
    with pytest.raises(StorageError, match="ended"):
        list(stream)


def test_get_many_is_one_round_trip(store, monkeypatch):
    people = [contact(f"P{i}") for i in range(1000)]
    with store.unit_of_work() as uow:
        uow.contacts.add_many(people)
    statements: list[str] = []
    original = PgCursor.execute

    def counting(self, query, params=()):
        statements.append(query)
        return original(self, query, params)

    monkeypatch.setattr(PgCursor, "execute", counting)
    with store.unit_of_work(readonly=True) as uow:
        found = uow.contacts.get_many([p.id for p in people])
    assert len(found) == 1000
    assert len(statements) == 1, statements


def test_threads_share_one_store(url):
    with PostgresStore(url, pool_max=4) as store:
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(20):
                    with store.unit_of_work(actor=f"t{n}") as uow:
                        added = uow.contacts.add(contact(f"T{n}-{i}", email=f"t{n}.{i}@x.org"))
                    with store.unit_of_work(readonly=True) as uow:
                        assert uow.contacts.get(added.id) == added
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        with store.unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == 160


# -- failures --------------------------------------------------------------------------------


def test_a_killed_connection_rolls_back_raises_a_crmkit_error_and_the_store_goes_on(
    url, postgres_dsn
):
    with PostgresStore(url, pool_min=1, pool_max=1) as store:
        with store.unit_of_work() as uow:
            uow.contacts.add(contact("Before"))

        def doomed() -> None:
            with store.unit_of_work() as uow:
                uow.contacts.add(contact("Doomed", email="doomed@example.org"))
                pid = uow._backend.connection.raw.info.backend_pid
                with admin(postgres_dsn) as other:
                    killed = other.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
                    assert killed == (True,)
                uow.contacts.add(contact("After the kill"))

        with pytest.raises(StorageError) as caught:
            doomed()
        assert not isinstance(caught.value, psycopg.Error)
        assert isinstance(caught.value.__cause__, psycopg.Error)
        assert "\n" not in str(caught.value)
        # The only pooled connection died; the pool replaces it.
        with store.unit_of_work() as uow:
            uow.contacts.add(contact("Later"))
        with store.unit_of_work(readonly=True) as uow:
            assert sorted(c.first_name for c in uow.contacts.iter()) == ["Before", "Later"]
            assert uow.contacts.find_by_email("doomed@example.org") == []


class InterruptedWorkError(Exception):
    pass


def test_an_interrupted_unit_of_work_leaves_nothing(store, postgres_dsn):
    def interrupted() -> None:
        with store.unit_of_work(actor="x") as uow:
            uow.contacts.add_many(
                contact(f"P{i}", email=f"p{i}@example.org", tags={"t"}) for i in range(300)
            )
            uow.record(_Event("contact.imported", {"n": 300}))
            raise InterruptedWorkError

    with pytest.raises(InterruptedWorkError):
        interrupted()
    with admin(postgres_dsn) as conn:
        for table in ("contacts", "contact_emails", "record_tags", "history", "events"):
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(store.schema), sql.Identifier(table)
                )
            ).fetchone()
            assert count == (0,), table


class _Event:
    def __init__(self, event_type: str, payload: dict[str, object]) -> None:
        self.event_type = event_type
        self.payload = payload

    def to_dict(self) -> dict[str, object]:
        return self.payload


def test_events_of_concurrent_writers_come_out_in_commit_order_and_none_is_skipped(
    store, monkeypatch
):
    """A writer that got its position first but commits late must not be skipped.

    The slow writer stalls between inserting its events and committing; meanwhile the fast
    writers commit. A reader following the outbox by position must still see every event.
    """
    from crmkit.storage.postgres import store as module

    original = module._PostgresBackend.append_events

    def stalling(self, events):
        original(self, events)
        if threading.current_thread().name == "slow":
            time.sleep(0.5)

    monkeypatch.setattr(module._PostgresBackend, "append_events", stalling)
    seen: list[int] = []
    stop = threading.Event()

    def follow() -> None:
        after = 0
        while not stop.is_set():
            for event in store.events(after=after):
                seen.append(event.position)
                after = event.position
            time.sleep(0.005)
        seen.extend(e.position for e in store.events(after=after))

    def write(tag: str, count: int) -> None:
        for i in range(count):
            with store.unit_of_work(actor=tag) as uow:
                uow.record(_Event("tick", {"writer": tag, "i": i}))

    follower = threading.Thread(target=follow)
    follower.start()
    slow = threading.Thread(target=write, args=("slow", 2), name="slow")
    fast = [threading.Thread(target=write, args=(f"fast{n}", 15)) for n in range(3)]
    slow.start()
    time.sleep(0.1)  # the slow writer holds a position now
    for thread in fast:
        thread.start()
    for thread in [slow, *fast]:
        thread.join(timeout=60)
    stop.set()
    follower.join(timeout=30)
    everything = store.events()
    assert len(everything) == 47
    assert seen == [e.position for e in everything]
    assert seen == sorted(seen)


def test_concurrent_activities_for_one_contact_keep_exact_facts(store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(contact("Ada"))
    errors: list[BaseException] = []

    def log(n: int) -> None:
        try:
            for i in range(10):
                with store.unit_of_work() as uow:
                    uow.activities.add(
                        Activity.create(
                            kind="call",
                            contact_id=ada.id,
                            occurred_at=START + dt.timedelta(minutes=n * 10 + i),
                            clock=FixedClock(START),
                        )
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=log, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with store.unit_of_work(readonly=True) as uow:
        facts = uow.contacts.facts(ada.id)
    assert facts.activity_count == 40
    assert facts.last_activity_at == START + dt.timedelta(minutes=39)


def test_a_bulk_import_of_activities_does_not_fill_the_lock_table(store, postgres_dsn):
    """Fact locks are row locks: 20,000 records in one unit of work need no lock-table slot."""
    people = [contact(f"P{i}") for i in range(20_000)]
    with store.unit_of_work() as uow:
        uow.contacts.add_many(people, batch_size=5000)
    with store.unit_of_work() as uow:
        uow.activities.add_many(
            (
                Activity.create(kind="email", contact_id=p.id, clock=FixedClock(START))
                for p in people
            ),
            batch_size=5000,
        )
        pid = uow._backend.connection.raw.info.backend_pid
        with admin(postgres_dsn) as conn:
            held = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s", (pid,)).fetchone()
        assert held[0] < 200
    with store.unit_of_work(readonly=True) as uow:
        assert uow.contacts.facts(people[-1].id).activity_count == 1


def test_concurrent_scorers_of_one_record_do_not_collide(store):
    from crmkit.storage.protocol import StoredScore

    with store.unit_of_work() as uow:
        ada = uow.contacts.add(contact("Ada"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(4, timeout=30)

    def score(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with store.unit_of_work() as uow:
                    uow.scores.put_many(
                        [
                            StoredScore(
                                record_id=ada.id,
                                scorer="fit",
                                value=float(n * 10 + i),
                                grade="A",
                                breakdown={"n": n},
                                scorer_version="1",
                                computed_at=START,
                            )
                        ]
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=score, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.scores.get(ada.id, "fit")
    assert stored is not None
    assert stored.breakdown == {"n": int(stored.value) // 10}


def test_a_delete_waits_for_a_unit_of_work_that_refers_to_the_record(store):
    """No foreign key guards activities.lead_id: the reference check's row lock does."""
    with store.unit_of_work() as uow:
        lead = uow.leads.add(Lead.create(first_name="Lou", clock=FixedClock(START)))
    referred = threading.Event()
    release = threading.Event()
    outcome: dict[str, object] = {}

    def refer() -> None:
        with store.unit_of_work() as uow:
            uow.activities.add(
                Activity.create(kind="note", lead_id=lead.id, clock=FixedClock(START))
            )
            referred.set()
            release.wait(10)

    def delete() -> None:
        try:
            with store.unit_of_work() as uow:
                uow.leads.delete(lead)
            outcome["delete"] = "deleted"
        except BaseException as error:
            outcome["delete"] = error

    referrer = threading.Thread(target=refer)
    referrer.start()
    assert referred.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(0.3)
    assert "delete" not in outcome  # waiting for the referrer's lock
    release.set()
    referrer.join(timeout=10)
    deleter.join(timeout=10)
    assert isinstance(outcome["delete"], ReferencedError), outcome
    with store.unit_of_work(readonly=True) as uow:
        assert uow.leads.get(lead.id) == lead


def test_a_reference_to_a_record_deleted_meanwhile_is_refused(store):
    with store.unit_of_work() as uow:
        lead = uow.leads.add(Lead.create(first_name="Lou", clock=FixedClock(START)))
    deleted = threading.Event()
    release = threading.Event()

    def delete() -> None:
        with store.unit_of_work() as uow:
            uow.leads.delete(lead)
            deleted.set()
            release.wait(10)

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert deleted.wait(10)
    threading.Timer(0.3, release.set).start()

    def refer() -> None:
        with store.unit_of_work() as uow:
            uow.activities.add(
                Activity.create(kind="note", lead_id=lead.id, clock=FixedClock(START))
            )

    with pytest.raises(ValidationError, match="refers to no stored lead"):
        refer()
    deleter.join(timeout=10)


RIVAL = textwrap.dedent(
    """
    import sys
    import crmkit
    from crmkit import ConcurrencyError

    store = crmkit.open_store(sys.argv[1])
    with store.unit_of_work(readonly=True) as uow:
        read = uow.contacts.get(__import__("uuid").UUID(sys.argv[2]))
    print("READ", read.version, flush=True)
    assert sys.stdin.readline().strip() == "GO"
    try:
        with store.unit_of_work(actor=sys.argv[3]) as uow:
            uow.contacts.update(read.changed(title=sys.argv[3]))
            print("UPDATED", flush=True)
            assert sys.stdin.readline().strip() == "COMMIT"
    except ConcurrencyError as error:
        print("CONFLICT", type(error).__name__, flush=True)
    else:
        print("WON", flush=True)
    store.close()
    """
)


@pytest.mark.slow
def test_two_processes_updating_one_contact_one_wins_the_other_gets_a_conflict(store, url):
    with store.unit_of_work() as uow:
        shared = uow.contacts.add(contact("Shared"))

    def start(actor: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", RIVAL, url, str(shared.id), actor],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first, second = start("first"), start("second")
    try:
        for process in (first, second):
            assert process.stdout.readline().split() == ["READ", "1"]
        first.stdin.write("GO\n")
        first.stdin.flush()
        assert first.stdout.readline().strip() == "UPDATED"  # holds the row lock now
        second.stdin.write("GO\n")
        second.stdin.flush()
        time.sleep(0.5)  # the second one is waiting for the lock
        assert second.poll() is None
        first.stdin.write("COMMIT\n")
        first.stdin.flush()
        assert first.stdout.readline().strip() == "WON"
        out, err = second.communicate(timeout=30)
        assert out.split() == ["CONFLICT", "ConcurrencyError"], err
        assert first.wait(timeout=30) == 0
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.communicate()
    with store.unit_of_work(readonly=True) as uow:
        got = uow.contacts.get(shared.id)
    assert (got.version, got.title) == (2, "first")


def test_the_dialect_switches_to_copy_at_its_threshold():
    dialect = PostgresDialect(copy_threshold=3)
    used: list[str] = []

    class Cursor:
        def execute(self, sql, params):
            used.append(sql.count("(%s, %s)"))

        def copy(self, statement):
            used.append("copy")
            assert statement == "COPY t (a, b) FROM STDIN"

            class Copy:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return None

                def write_row(self, row):
                    pass

            return Copy()

    for n in (0, 1, 2, 3):
        dialect.insert_rows(Cursor(), "t", ["a", "b"], [(1, 2)] * n)
    assert used == [1, 2, "copy"]
