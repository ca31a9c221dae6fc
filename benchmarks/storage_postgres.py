"""PostgreSQL storage benchmarks: ``python -m benchmarks storage_postgres [--n 100000] [--scale]``.

Needs a server: the DSN comes from CRMKIT_BENCH_POSTGRES_DSN or CRMKIT_TEST_POSTGRES_DSN
(without one, it prints "skipped: no PostgreSQL DSN" and succeeds). Each measurement runs in
a fresh ``crmkit_bench_<hex>`` schema, dropped afterwards. Every figure is a ratio against a
baseline measured in the same run:

- bulk add: `add_many` of contacts against a hand-written loader that serialises the same
  entities and loads the same tables and rows (record_ids, contacts, contact_emails,
  record_tags, history) with ``COPY`` in one transaction (target: within 1.5x);
- iter: streaming every contact against the bare driver fetching the same rows as tuples
  (target: within 5x); get_many of 1,000 ids, counting its statements;
- ``COPY`` against one multi-row ``INSERT`` by batch size (where `PostgresDialect` switches);
- scaling (``--scale``): cost per contact of `add_many` at 10k, 100k and 1M (target: 1M
  within 2x of 10k).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.data import T0, stored_shape_contacts
from benchmarks.report import best_of, gc_policy, interleaved, print_table
from benchmarks.storage import _MAIN_COLUMNS
from crmkit import Contact, FixedClock

DSN_VARIABLES = ("CRMKIT_BENCH_POSTGRES_DSN", "CRMKIT_TEST_POSTGRES_DSN")


def _dsn() -> str | None:
    for name in DSN_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


class Schemas:
    """Fresh schemas on one server, all dropped by `drop_all`."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.made: list[str] = []

    def url(self, schema: str, **options: object) -> str:
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        parts = urlsplit(self.dsn)
        query = [*parse_qsl(parts.query), ("schema", schema)]
        query += [(k, str(v)) for k, v in options.items()]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def store(self) -> Any:
        from crmkit.storage.postgres import PostgresStore

        self.made.append(f"crmkit_bench_{uuid.uuid4().hex[:12]}")
        return PostgresStore(self.url(self.made[-1]), clock=FixedClock(T0))

    def connect(self, schema: str) -> Any:
        import psycopg
        from psycopg import sql

        connection = psycopg.connect(self.dsn)
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.execute("SET TIME ZONE 'UTC'")
        connection.commit()
        return connection

    def drop_all(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True) as connection:
            for schema in self.made:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
        self.made.clear()


@contextmanager
def _stores(schemas: Schemas) -> Iterator[dict[str, Any]]:
    stores: dict[str, Any] = {}
    try:
        yield stores
    finally:
        for store in stores.values():
            store.close()
        schemas.drop_all()


def crmkit_add(store: Any, contacts: list[Contact]) -> None:
    with store.unit_of_work(actor="bench") as uow:
        uow.contacts.add_many(contacts, batch_size=5000)


def baseline_rows(contacts: list[Contact]) -> tuple[list[tuple[object, ...]], ...]:
    """Serialise by hand: the rows crmkit writes, without its generic machinery."""
    from crmkit.storage.plain import custom_to_plain
    from crmkit.storage.sql.dialect import compact_json

    dumps = compact_json  # the C encoder built once: the fastest stdlib way, as crmkit uses
    ids, main, emails, tags, history = [], [], [], [], []
    for c in contacts:
        key = c.id
        main.append(
            (
                key,
                1,
                c.created_at,
                c.updated_at,
                None,
                None,
                dumps(custom_to_plain(c.custom)) if c.custom else None,
                c.first_name,
                c.last_name,
                dumps([[e.normalized, e.original] for e in c.emails]),
                dumps([p.e164 for p in c.phones]),
                None,
                None,
                None,
                None,
                None,
                None,
                dumps(sorted(c.tags)),
                c.lifecycle_stage.value,
                None,
                None,
            )
        )
        emails.extend((key, i, e.match_key) for i, e in enumerate(c.emails))
        tags.extend((key, "contact", t) for t in c.tags)
        history.append((key, "contact", 1, "added", "bench", T0, None))
        ids.append((key, "contact"))
    return ids, main, emails, tags, history


def _copy(cursor: Any, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def baseline_write(
    schemas: Schemas, schema: str, rows: tuple[list[tuple[object, ...]], ...]
) -> None:
    ids, main, emails, tags, history = rows
    connection = schemas.connect(schema)
    with connection.cursor() as cursor:
        _copy(cursor, "record_ids", "id, kind", ids)
        _copy(cursor, "contacts", _MAIN_COLUMNS, main)
        _copy(cursor, "contact_emails", "contact_id, position, match_key", emails)
        _copy(cursor, "record_tags", "record_id, kind, tag", tags)
        _copy(cursor, "history", "entity_id, kind, version, action, actor, at, changes", history)
    connection.commit()
    connection.close()


def bench_bulk_add(schemas: Schemas, n: int, repeat: int) -> list[list[object]]:
    contacts = list(stored_shape_contacts(n))
    with _stores(schemas) as stores:

        def reset(name: str) -> None:
            if name in stores:
                stores[name].close()
            stores[name] = schemas.store()

        prepared = baseline_rows(contacts)
        times = interleaved(
            {
                "crmkit": lambda: crmkit_add(stores["a"], contacts),
                "baseline": lambda: baseline_write(
                    schemas, stores["b"].schema, baseline_rows(contacts)
                ),
                "prepared": lambda: baseline_write(schemas, stores["c"].schema, prepared),
            },
            repeat,
            {
                "crmkit": lambda: reset("a"),
                "baseline": lambda: reset("b"),
                "prepared": lambda: reset("c"),
            },
        )
        t_crmkit, t_baseline, t_prepared = times["crmkit"], times["baseline"], times["prepared"]
        with stores["a"].unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == n, "crmkit stored the wrong number of contacts"
        with stores["b"].unit_of_work(readonly=True) as uow:
            assert uow.contacts.count() == n, "the baseline stored the wrong number of contacts"
    per = 1e6 / n
    return [
        ["crmkit add_many", t_crmkit * per, n / t_crmkit, 1.0],
        ["baseline: serialise + COPY", t_baseline * per, n / t_baseline, t_crmkit / t_baseline],
        ["prepared tuples + COPY", t_prepared * per, n / t_prepared, t_crmkit / t_prepared],
    ]


def bench_reads(schemas: Schemas, n: int, repeat: int) -> list[list[object]]:
    from crmkit.storage.postgres.errors import PgCursor

    with _stores(schemas) as stores:
        store = stores["reads"] = schemas.store()
        crmkit_add(store, list(stored_shape_contacts(n)))

        def crmkit_iter() -> None:
            with store.unit_of_work(readonly=True) as uow:
                for _ in uow.contacts.iter(batch_size=1000):
                    pass

        def bare_iter() -> None:
            connection = schemas.connect(store.schema)
            with connection.cursor() as cursor:
                for _ in cursor.execute(f"SELECT {_MAIN_COLUMNS} FROM contacts ORDER BY id"):
                    pass
            connection.close()

        def bare_streaming() -> None:
            connection = schemas.connect(store.schema)
            with connection.cursor(name="bench") as cursor:
                cursor.itersize = 1000
                cursor.execute(f"SELECT {_MAIN_COLUMNS} FROM contacts ORDER BY id")
                for _ in cursor:
                    pass
            connection.close()

        times = interleaved(
            {"crmkit": crmkit_iter, "bare": bare_iter, "streaming": bare_streaming}, repeat
        )
        t_crmkit, t_bare, t_stream = times["crmkit"], times["bare"], times["streaming"]

        with store.unit_of_work(readonly=True) as uow:
            ids = [c.id for c in uow.contacts.iter(limit=1000)]
        statements: list[str] = []
        original = PgCursor.execute

        def counting(self: PgCursor, query: str, params: Any = ()) -> PgCursor:
            statements.append(query)
            return original(self, query, params)

        def get_many() -> None:
            with store.unit_of_work(readonly=True) as uow:
                found = uow.contacts.get_many(ids)
            assert len(found) == len(ids)

        t_get_many = best_of(get_many, repeat)
        PgCursor.execute = counting  # type: ignore[method-assign]
        try:
            get_many()
        finally:
            PgCursor.execute = original  # type: ignore[method-assign]
    per = 1e6 / n
    return [
        ["crmkit iter (server-side cursor)", t_crmkit * per, t_crmkit / t_bare],
        ["bare driver, tuples, one fetch (jsonb parsed)", t_bare * per, 1.0],
        ["bare driver, server-side cursor", t_stream * per, t_stream / t_bare],
        [f"get_many({len(ids)}): µs per id", t_get_many * 1e6 / len(ids), "-"],
        [f"get_many({len(ids)}): statements", float(len(statements)), "-"],
    ]


def bench_copy_threshold(schemas: Schemas, repeat: int) -> list[list[object]]:
    from crmkit.storage.postgres.dialect import PostgresDialect

    dialect = PostgresDialect()
    with _stores(schemas) as stores:
        store = stores["copy"] = schemas.store()
        connection = schemas.connect(store.schema)
        connection.execute("CREATE TABLE rows_bench (id uuid, n bigint, label text)")
        connection.commit()
        rows_out: list[list[object]] = []
        for size in (1, 8, 16, 24, 32, 64, 512):
            rows = [(uuid.uuid4(), i, f"label {i}") for i in range(size)]

            def run(method: Any, rows: list[tuple[object, ...]] = rows) -> None:
                with connection.cursor() as cursor:
                    for _ in range(20):
                        method(cursor, "rows_bench", ("id", "n", "label"), rows)
                connection.rollback()

            t_copy = best_of(lambda: run(dialect.copy_rows), repeat) / 20
            t_values = best_of(lambda: run(dialect.insert_values), repeat) / 20
            rows_out.append([size, t_copy * 1e6, t_values * 1e6, t_values / t_copy])
        connection.close()
    return rows_out


def bench_scale(schemas: Schemas, sizes: list[int]) -> list[list[object]]:
    rows: list[list[object]] = []
    first = None
    for n in sizes:
        with _stores(schemas) as stores:
            store = stores["scale"] = schemas.store()
            contacts = stored_shape_contacts(n)

            def add(store: Any = store, contacts: Iterator[Contact] = contacts) -> None:
                with store.unit_of_work(actor="bench") as uow:
                    uow.contacts.add_many(contacts, batch_size=5000)

            elapsed = best_of(add, 1)
        per_row = elapsed / n * 1e6
        first = first or per_row
        rows.append([f"{n:,}", per_row, per_row / first])
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks storage_postgres", description=__doc__
    )
    parser.add_argument("--n", type=int, default=100_000, help="contacts (default 100000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also 10k → 100k → 1M")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to prove it runs")
    args = parser.parse_args(argv)
    dsn = _dsn()
    if dsn is None:
        print("skipped: no PostgreSQL DSN")
        return 0
    import psycopg

    from crmkit.storage.open import redact_url
    from crmkit.storage.postgres.dialect import COPY_THRESHOLD

    n = 500 if args.smoke else args.n
    repeat = 1 if args.smoke else args.repeat
    schemas = Schemas(dsn)
    with psycopg.connect(dsn) as connection:
        version = connection.info.server_version
    print(
        f"PostgreSQL {version // 10000}.{version % 10000} at {redact_url(dsn)}; "
        f"psycopg {psycopg.__version__}; {n:,} contacts; median of {repeat}, interleaved; "
        f"{gc_policy()}"
    )
    try:
        print_table(
            "bulk add (ratio = crmkit / this; target: baseline within 1.5x)",
            ["path", "µs/contact", "contacts/s", "crmkit ÷ this"],
            bench_bulk_add(schemas, n, repeat),
        )
        print_table(
            "reads (target: iter within 5x of the bare driver)",
            ["path", "µs/contact", "ratio to bare"],
            bench_reads(schemas, n, repeat),
        )
        print_table(
            f"COPY vs one multi-row INSERT per call (COPY from {COPY_THRESHOLD} rows on)",
            ["rows", "COPY µs", "INSERT VALUES µs", "INSERT ÷ COPY"],
            bench_copy_threshold(schemas, repeat),
        )
        if args.scale or args.smoke:
            sizes = [200, 2_000] if args.smoke else [10_000, 100_000, 1_000_000]
            print_table(
                "add_many cost per contact as the store grows (target: 1M within 2x of 10k)",
                ["contacts", "µs/contact", "ratio to smallest"],
                bench_scale(schemas, sizes),
            )
    finally:
        schemas.drop_all()
    return 0
