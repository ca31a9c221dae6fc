"""The schema history is fixed: golden files pin each step's DDL, the codecs match the newest.

The golden files under ``tests/storage/golden/`` hold every migration step's statements as
each database spells them. Refresh them on purpose only, after *adding* a step (a changed
past step means databases created before and after the change differ)::

    .venv/bin/python tests/storage/test_schema_golden.py

then read the diff: only the new version's block may change.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from crmkit.model.registry import KINDS
from crmkit.storage.postgres.dialect import PostgresDialect
from crmkit.storage.sql import schema
from crmkit.storage.sql.dialect import Dialect, SqliteDialect
from crmkit.storage.sql.schema import MIGRATIONS, SCHEMA_VERSION, Refusal, codecs
from crmkit.storage.sqlite.store import SqliteStore

GOLDEN = Path(__file__).parent / "golden"
DIALECTS: dict[str, Dialect] = {"sqlite": SqliteDialect(), "postgresql": PostgresDialect()}
REFRESH = "python tests/storage/test_schema_golden.py"


def render(dialect: Dialect) -> str:
    """Return every migration step's statements for a dialect, one per line, by version."""
    lines = [
        f"-- crmkit schema history on {dialect.name}: the statements of each migration step.",
        f"-- Generated: refresh with `{REFRESH}` after adding a step; never edit a past one.",
    ]
    for version, step in enumerate(MIGRATIONS, 1):
        lines += ["", f"-- version {version}"]
        lines += [str(s) if isinstance(s, Refusal) else f"{s};" for s in step(dialect)]
    return "\n".join(lines) + "\n"


def refresh() -> None:
    """Rewrite the golden files from today's migration steps."""
    GOLDEN.mkdir(exist_ok=True)
    for name, dialect in DIALECTS.items():
        (GOLDEN / f"{name}.sql").write_text(render(dialect), encoding="utf-8")


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_migration_step_writes_the_ddl_its_golden_file_pins(name: str) -> None:
    """Each step's statements on each database equal the golden file, version by version."""
    golden = (GOLDEN / f"{name}.sql").read_text(encoding="utf-8")
    assert render(DIALECTS[name]) == golden, (
        f"the migration steps no longer write tests/storage/golden/{name}.sql: a past step "
        f"changed (put the change in a new step instead), or a new step was added and the "
        f"golden files need refreshing on purpose: {REFRESH}"
    )


def test_the_golden_files_hold_one_block_per_schema_version() -> None:
    """Each golden file has a block for every version from 1 to the newest."""
    for name in DIALECTS:
        golden = (GOLDEN / f"{name}.sql").read_text(encoding="utf-8")
        blocks = [line for line in golden.splitlines() if line.startswith("-- version ")]
        assert blocks == [f"-- version {v}" for v in range(1, SCHEMA_VERSION + 1)]


def _table_columns(path: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f"PRAGMA table_info({table})").fetchall()
    return {row[1]: row[2] for row in rows}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_newest_schema_holds_exactly_the_columns_the_row_codec_reads_and_writes(
    kind: str, tmp_path: Path
) -> None:
    """A fresh database's table of each kind has the codec's columns, names and types."""
    path = tmp_path / "fresh.db"
    SqliteStore(path).close()
    dialect = SqliteDialect()
    codec = codecs(dialect)[kind]
    wanted = {c.name: dialect.column_types[c.shape] for c in codec.columns}
    table = KINDS[kind].table
    found = _table_columns(path, table)
    assert found == wanted, (
        f"the {kind} row codec reads and writes {sorted(set(wanted) - set(found))} which "
        f"table {table} lacks; the table has {sorted(set(found) - set(wanted))} which the "
        f"codec does not know; differing types: "
        f"{sorted(n for n in set(found) & set(wanted) if found[n] != wanted[n])}. "
        "A field added to a model needs a migration step: append "
        f'_add_columns("{table}", (("<field>", "<shape>"),)) to MIGRATIONS in '
        f"src/crmkit/storage/sql/schema.py, then refresh the golden files: {REFRESH}"
    )


def test_an_added_field_reaches_an_existing_database_through_a_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `_add_columns` step adds the columns to a newest-version database and to a new one."""
    old = tmp_path / "old.db"
    SqliteStore(old).close()
    step = schema._add_columns("contacts", (("nickname", "text"), ("met_at", "timestamp")))
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, step))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    dialect = SqliteDialect()
    new = tmp_path / "new.db"
    for path, version in ((old, SCHEMA_VERSION), (new, 0)):
        with sqlite3.connect(path) as connection:
            schema.apply_migrations(connection.execute, dialect, version)
    for path in (old, new):
        columns = _table_columns(path, "contacts")
        assert list(columns.items())[-2:] == [("nickname", "TEXT"), ("met_at", "INTEGER")]
        with sqlite3.connect(path) as connection:
            stored = connection.execute(
                "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
            ).fetchone()
        assert stored == (str(SCHEMA_VERSION + 1),)


if __name__ == "__main__":
    refresh()
    print(f"refreshed {', '.join(sorted(str(GOLDEN / f'{n}.sql') for n in DIALECTS))}")
    sys.exit(0)
