"""One SQL transaction, for any DB-API driver, spelled through a `Dialect`.

No value is ever formatted into SQL: values travel as parameters; table and column names come
only from the model (`crmkit.model.registry`, the row codecs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from decimal import Decimal
from typing import Any

from crmkit.conditions.tree import condition_from_dict
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.deal import StageStay
from crmkit.model.entity import Entity
from crmkit.model.frozen_map import FrozenMap
from crmkit.model.registry import KINDS, SIDE_TABLES, Kind
from crmkit.pipelines.pipeline import Pipeline
from crmkit.storage.backend import (
    ActivitySource,
    ColumnSpec,
    OrderSource,
    PendingEvent,
    RfmRow,
    SegmentQuery,
    keyset_pages,
)
from crmkit.storage.columns import DERIVED_SHAPES, derived_column
from crmkit.storage.protocol import (
    FieldChange,
    HistoryEntry,
    RecordFacts,
    SavedSegment,
    StoredEvent,
    StoredPipeline,
    StoredScore,
)
from crmkit.storage.sql.compile import compile_rfm, compile_segment
from crmkit.storage.sql.dialect import Dialect
from crmkit.storage.sql.rows import RowCodecs

__all__ = ["SqlBackend", "read_events", "read_history"]

_CHUNK = 5000  # ids per IN list: under SQLite's 32,766 parameters; get_many(1000) is one query


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlBackend:
    """The row-moving half of a unit of work over a DB-API connection.

    Subclasses (one per database) provide `begin_write`, `commit` and `rollback`, and may
    override `_cursor` to translate driver errors.

    Args:
        connection: An open DB-API connection, used by this transaction alone.
        dialect: How the database spells types and values.
        codecs: The row codec of each kind for that dialect.
    """

    def __init__(self, connection: Any, dialect: Dialect, codecs: RowCodecs) -> None:
        self.connection = connection
        self.dialect = dialect
        self.codecs = codecs
        self.stays = codecs.stays
        self._p = dialect.param
        self._enc = dialect.encoders
        self._dec = dialect.decoders
        self._select = codecs.select
        self._saved_schema = False  # this transaction stored a schema (adapters cache schemas)

    # -- hooks -----------------------------------------------------------------------------

    def begin_write(self) -> None:
        """Start the writing transaction (see the adapters)."""
        raise NotImplementedError  # pragma: no cover - every adapter overrides it

    def commit(self) -> None:
        """Commit (see the adapters)."""
        raise NotImplementedError  # pragma: no cover - every adapter overrides it

    def rollback(self) -> None:
        """Roll back (see the adapters)."""
        raise NotImplementedError  # pragma: no cover - every adapter overrides it

    def savepoint(self) -> object:
        """Start a savepoint; return its name."""
        self._savepoints = getattr(self, "_savepoints", 0) + 1
        name = f"crmkit_{self._savepoints}"
        self._execute(f"SAVEPOINT {name}")
        return name

    def rollback_to(self, token: object) -> None:
        """Roll back to a savepoint made by `savepoint`, then release it.

        This is the one statement a transaction aborted by an error (PostgreSQL) still runs:
        it takes the transaction back to where the savepoint was made.
        """
        self.connection.cursor(rolling_back=True).execute(f"ROLLBACK TO SAVEPOINT {token}")
        self._execute(f"RELEASE SAVEPOINT {token}")

    def release(self, token: object) -> None:
        """Release a savepoint made by `savepoint`: its changes stay, the database forgets it.

        PostgreSQL keeps a subtransaction per open savepoint; past 64 its cache overflows and
        every statement slows down, so each savepoint is released when its block ends.
        """
        self._execute(f"RELEASE SAVEPOINT {token}")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        return cursor

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.dialect.insert_rows(self.connection.cursor(), table, columns, rows)

    def _marks(self, n: int) -> str:
        return ", ".join([self._p] * n)

    def _uuid(self, value: uuid.UUID | None) -> Any:
        return self._enc["uuid"](value)

    def _uuids(self, values: Sequence[uuid.UUID]) -> list[Any]:
        encode = self._enc["uuid"]
        return [encode(v) for v in values]

    # -- rows ------------------------------------------------------------------------------

    def _decode(self, kind: Kind, rows: Sequence[Sequence[Any]]) -> list[Entity]:
        codec = self.codecs[kind.name]
        if not codec.has_history:
            return [codec.decode(row) for row in rows]
        ids = [self._dec["uuid"](row[0]) for row in rows]
        history = self._stays(ids)
        return [codec.decode(row, history.get(i, ())) for i, row in zip(ids, rows, strict=True)]

    def _stays(self, deal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[StageStay, ...]]:
        found: dict[uuid.UUID, list[StageStay]] = {}
        names = ", ".join(self.stays.names)
        for chunk in _chunks(deal_ids):
            cursor = self._execute(
                f"SELECT {names} FROM deal_stages WHERE deal_id IN ({self._marks(len(chunk))})"
                " ORDER BY deal_id, seq",
                self._uuids(chunk),
            )
            for row in cursor.fetchall():
                deal_id, stay = self.stays.decode(row)
                found.setdefault(deal_id, []).append(stay)
        return {k: tuple(v) for k, v in found.items()}

    def load(self, kind: Kind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entity]:
        """Return the stored entities among `ids`, in one query per 500 ids."""
        result: dict[uuid.UUID, Entity] = {}
        for chunk in _chunks(list(ids)):
            cursor = self._execute(
                f"{self._select[kind.name]} WHERE id IN ({self._marks(len(chunk))})",
                self._uuids(chunk),
            )
            for entity in self._decode(kind, cursor.fetchall()):
                result[entity.id] = entity
        return result

    def insert(self, kind: Kind, entities: Sequence[Entity]) -> None:
        """Insert rows, their ids into ``record_ids``, and their side rows.

        ``record_ids`` has the id as its primary key: the database refuses an id that a
        record of any kind holds already (`kinds_of` lets callers say so politely first).
        """
        codec = self.codecs[kind.name]
        self._register_ids(kind, entities)
        self._insert(kind.table, codec.names, [codec.encode(e) for e in entities])
        self._write_side_rows(kind, entities)

    def _register_ids(self, kind: Kind, entities: Sequence[Entity]) -> None:
        """Write each new record's ``record_ids`` row (its id and kind)."""
        uid, name = self._enc["uuid"], kind.name
        self._insert("record_ids", ("id", "kind"), [(uid(e.id), name) for e in entities])

    def _write_side_rows(
        self, kind: Kind, entities: Sequence[Entity], sides: Collection[str] | None = None
    ) -> None:
        """Write the side rows of `entities` (of the side tables `sides`: all by default)."""
        uid = self._enc["uuid"]
        sides = kind.side_tables if sides is None else sides
        if "emails" in sides:
            self._insert(
                "contact_emails",
                ("contact_id", "position", "match_key"),
                [
                    (uid(e.id), i, email.match_key)
                    for e in entities
                    for i, email in enumerate(e.emails)  # type: ignore[attr-defined]
                ],
            )
        if "tags" in sides:
            self._insert(
                "record_tags",
                ("record_id", "kind", "tag"),
                [(uid(e.id), kind.name, tag) for e in entities for tag in e.tags],  # type: ignore[attr-defined]
            )
        if "deal_contacts" in sides:
            self._insert(
                "deal_contacts",
                ("deal_id", "contact_id"),
                [(uid(e.id), uid(c)) for e in entities for c in e.contact_ids],  # type: ignore[attr-defined]
            )
        if "deal_stages" in sides:
            self._insert(
                "deal_stages",
                self.stays.names,
                [row for e in entities for row in self.stays.encode(e.id, e.stage_history)],  # type: ignore[attr-defined]
            )

    def _delete_side_rows(
        self, kind: Kind, entity_id: uuid.UUID, sides: Collection[str] | None = None
    ) -> None:
        """Delete a record's side rows (of the side tables `sides`: all by default)."""
        key = [self._uuid(entity_id)]
        p = self._p
        sides = kind.side_tables if sides is None else sides
        if "emails" in sides:
            self._execute(f"DELETE FROM contact_emails WHERE contact_id = {p}", key)
        if "tags" in sides:
            self._execute(
                f"DELETE FROM record_tags WHERE record_id = {p} AND kind = {p}", [*key, kind.name]
            )
        if "deal_contacts" in sides:
            self._execute(f"DELETE FROM deal_contacts WHERE deal_id = {p}", key)
        if "deal_stages" in sides:
            self._execute(f"DELETE FROM deal_stages WHERE deal_id = {p}", key)

    def replace(
        self,
        kind: Kind,
        entity: Entity,
        expected_version: int,
        changed: Collection[str] | None = None,
    ) -> bool:
        """Update the row if its version matches, then rewrite its side rows.

        Given `changed` (the fields whose stored form differs from the row replaced, as its
        history entry lists them), only their columns are set, with the version and update
        time, and only the side tables made from them are rewritten.
        """
        codec = self.codecs[kind.name]
        p = self._p
        values = codec.encode(entity)
        names = codec.names
        if changed is None:
            columns: Sequence[int] = range(1, len(names))
            sides: Collection[str] = kind.side_tables
        else:
            where = codec.field_columns
            wanted = {*where["version"], *where["updated_at"]}
            for name in changed:
                wanted.update(where[name])
            columns = sorted(wanted)
            sides = [side for side in kind.side_tables if SIDE_TABLES[side] in changed]
        assignments = ", ".join(f"{names[i]} = {p}" for i in columns)
        cursor = self._execute(
            f"UPDATE {kind.table} SET {assignments} WHERE id = {p} AND version = {p}",
            [*(values[i] for i in columns), self._uuid(entity.id), expected_version],
        )
        if cursor.rowcount != 1:
            return False
        if sides:
            self._delete_side_rows(kind, entity.id, sides)
            self._write_side_rows(kind, [entity], sides)
        return True

    def remove(self, kind: Kind, entity_id: uuid.UUID, expected_version: int) -> bool:
        """Delete the row and its side rows if its version matches."""
        p = self._p
        found = self._execute(
            f"SELECT version FROM {kind.table} WHERE id = {p}", [self._uuid(entity_id)]
        ).fetchone()
        if found is None or found[0] != expected_version:
            return False
        self._delete_side_rows(kind, entity_id)
        cursor = self._execute(
            f"DELETE FROM {kind.table} WHERE id = {p} AND version = {p}",
            [self._uuid(entity_id), expected_version],
        )
        if cursor.rowcount != 1:
            return False
        self._execute(
            f"DELETE FROM record_ids WHERE id = {p} AND kind = {p}",
            [self._uuid(entity_id), kind.name],
        )
        return True

    def scan(
        self, kind: Kind, after: uuid.UUID | None, limit: int, include_archived: bool
    ) -> list[Entity]:
        """Return a page of entities after `after` in id order (keyset paging)."""
        p = self._p
        where = []
        params: list[Any] = []
        if after is not None:
            where.append(f"id > {p}")
            params.append(self._uuid(after))
        if not include_archived:
            where.append("archived_at IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        cursor = self._execute(
            f"{self._select[kind.name]}{clause} ORDER BY id LIMIT {p}", [*params, limit]
        )
        return self._decode(kind, cursor.fetchall())

    def scan_iter(
        self, kind: Kind, after: uuid.UUID | None, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        """Stream entities page by page; memory stays at one page."""
        return keyset_pages(self.scan, kind, after, include_archived, batch_size)

    def count(self, kind: Kind, include_archived: bool) -> int:
        """Count the rows of a kind."""
        clause = "" if include_archived else " WHERE archived_at IS NULL"
        return int(self._execute(f"SELECT count(*) FROM {kind.table}{clause}").fetchone()[0])

    def existing(self, kind: Kind, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Return which of `ids` are stored."""
        found: set[uuid.UUID] = set()
        decode = self._dec["uuid"]
        for chunk in _chunks(list(ids)):
            cursor = self._execute(
                f"SELECT id FROM {kind.table} WHERE id IN ({self._marks(len(chunk))})",
                self._uuids(chunk),
            )
            found.update(decode(row[0]) for row in cursor.fetchall())
        return found

    def kinds_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Return the kind holding each of `ids` that is stored, from ``record_ids``."""
        found: dict[uuid.UUID, str] = {}
        decode = self._dec["uuid"]
        for chunk in _chunks(list(ids)):
            cursor = self._execute(
                f"SELECT id, kind FROM record_ids WHERE id IN ({self._marks(len(chunk))})",
                self._uuids(chunk),
            )
            found.update((decode(row[0]), row[1]) for row in cursor.fetchall())
        return found

    def referrers(self, kind: Kind, entity_id: uuid.UUID, limit: int) -> list[str]:
        """Describe records whose references point at the entity."""
        p = self._p
        key = self._uuid(entity_id)
        decode = self._dec["uuid"]
        found: list[str] = []
        for other in KINDS.values():
            for ref in other.refs:
                if ref.target != kind.name:
                    continue
                if ref.many:
                    sql = f"SELECT deal_id FROM deal_contacts WHERE {ref.target}_id = {p}"
                else:
                    sql = f"SELECT id FROM {other.table} WHERE {ref.field} = {p}"
                rows = self._execute(f"{sql} LIMIT {p}", [key, limit]).fetchall()
                found.extend(
                    f"{other.name} {decode(r[0])}" for r in rows if decode(r[0]) != entity_id
                )
        return found[:limit]

    def related(self, kind: Kind, record_id: uuid.UUID, limit: int) -> list[Entity]:
        """Return live entities of `kind` linked to a record, newest first."""
        p = self._p
        key = self._uuid(record_id)
        select = self._select[kind.name]
        time = kind.time_field
        found: dict[uuid.UUID, Entity] = {}
        for ref in kind.refs:
            if ref.many:
                where = f"id IN (SELECT deal_id FROM deal_contacts WHERE contact_id = {p})"
            else:
                where = f"{ref.field} = {p}"
            cursor = self._execute(
                f"{select} WHERE {where} AND archived_at IS NULL"
                f" ORDER BY {time} DESC, id DESC LIMIT {p}",
                [key, limit],
            )
            for entity in self._decode(kind, cursor.fetchall()):
                found[entity.id] = entity
        ordered = sorted(found.values(), key=lambda e: (getattr(e, time), e.id), reverse=True)
        return ordered[:limit]

    def contacts_by_email(self, match_key: str) -> list[Contact]:
        """Return live contacts with an email of that match key."""
        kind = KINDS["contact"]
        cursor = self._execute(
            f"{self._select['contact']} WHERE id IN (SELECT contact_id FROM contact_emails"
            f" WHERE match_key = {self._p}) AND archived_at IS NULL ORDER BY id",
            [match_key],
        )
        return self._decode(kind, cursor.fetchall())  # type: ignore[return-value]

    def companies_by_domain(self, domain: str) -> list[Company]:
        """Return live companies with that domain."""
        cursor = self._execute(
            f"{self._select['company']} WHERE domain = {self._p} AND archived_at IS NULL"
            " ORDER BY id",
            [domain],
        )
        return self._decode(KINDS["company"], cursor.fetchall())  # type: ignore[return-value]

    # -- facts -----------------------------------------------------------------------------

    def facts(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RecordFacts]:
        """Return the stored facts of the records that have any."""
        decode_id, decode_time = self._dec["uuid"], self._dec["timestamp"]
        decode_decimal = self._dec["decimal"]
        base: dict[uuid.UUID, tuple[Any, ...]] = {}
        counts: dict[uuid.UUID, dict[str, int]] = {}
        totals: dict[uuid.UUID, dict[str, Decimal]] = {}
        for chunk in _chunks(list(ids)):
            marks, keys = self._marks(len(chunk)), self._uuids(chunk)
            for row in self._execute(
                "SELECT record_id, last_activity_at, order_count, last_order_at"
                f" FROM record_facts WHERE record_id IN ({marks})",
                keys,
            ).fetchall():
                base[decode_id(row[0])] = (decode_time(row[1]), row[2], decode_time(row[3]))
            for row in self._execute(
                f"SELECT record_id, kind, count FROM record_activity_counts"
                f" WHERE record_id IN ({marks})",
                keys,
            ).fetchall():
                counts.setdefault(decode_id(row[0]), {})[row[1]] = row[2]
            for row in self._execute(
                f"SELECT record_id, currency, total FROM record_order_totals"
                f" WHERE record_id IN ({marks})",
                keys,
            ).fetchall():
                totals.setdefault(decode_id(row[0]), {})[row[1]] = decode_decimal(row[2])
        return {
            record: RecordFacts(
                record_id=record,
                last_activity_at=last_activity,
                activity_counts=FrozenMap(counts.get(record, {})),
                order_count=order_count,
                order_totals=FrozenMap(totals.get(record, {})),
                last_order_at=last_order,
            )
            for record, (last_activity, order_count, last_order) in base.items()
        }

    def fact_sources(
        self, ids: Sequence[uuid.UUID], order_statuses: Sequence[str]
    ) -> tuple[list[ActivitySource], list[OrderSource]]:
        """Return the live activities and counted orders facts are computed from."""
        decode_id, decode_time = self._dec["uuid"], self._dec["timestamp"]
        decode_decimal = self._dec["decimal"]
        activities: list[ActivitySource] = []
        orders: list[OrderSource] = []
        statuses = list(order_statuses)
        for chunk in _chunks(list(ids)):
            marks, keys = self._marks(len(chunk)), self._uuids(chunk)
            for ref in KINDS["activity"].refs:
                for row in self._execute(
                    f"SELECT {ref.field}, kind, occurred_at FROM activities"
                    f" WHERE {ref.field} IN ({marks}) AND archived_at IS NULL",
                    keys,
                ).fetchall():
                    activities.append((decode_id(row[0]), row[1], decode_time(row[2])))
            for ref in KINDS["order"].refs:
                for row in self._execute(
                    f"SELECT {ref.field}, total_currency, total, placed_at FROM orders"
                    f" WHERE {ref.field} IN ({marks}) AND archived_at IS NULL"
                    f" AND status IN ({self._marks(len(statuses))})",
                    [*keys, *statuses],
                ).fetchall():
                    orders.append(
                        (decode_id(row[0]), row[1], decode_decimal(row[2]), decode_time(row[3]))
                    )
        return activities, orders

    def put_facts(self, ids: Sequence[uuid.UUID], facts: Sequence[RecordFacts]) -> None:
        """Replace the stored facts of `ids`."""
        for chunk in _chunks(list(ids)):
            marks, keys = self._marks(len(chunk)), self._uuids(chunk)
            for table in ("record_facts", "record_activity_counts", "record_order_totals"):
                self._execute(f"DELETE FROM {table} WHERE record_id IN ({marks})", keys)
        uid, time, dec = self._enc["uuid"], self._enc["timestamp"], self._enc["decimal"]
        self._insert(
            "record_facts",
            ("record_id", "last_activity_at", "activity_count", "order_count", "last_order_at"),
            [
                (
                    uid(f.record_id),
                    time(f.last_activity_at),
                    f.activity_count,
                    f.order_count,
                    time(f.last_order_at),
                )
                for f in facts
            ],
        )
        self._insert(
            "record_activity_counts",
            ("record_id", "kind", "count"),
            [(uid(f.record_id), k, n) for f in facts for k, n in f.activity_counts.items()],
        )
        self._insert(
            "record_order_totals",
            ("record_id", "currency", "total"),
            [(uid(f.record_id), c, dec(t)) for f in facts for c, t in f.order_totals.items()],
        )

    # -- history, events, schemas ----------------------------------------------------------

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Write audit entries."""
        uid, time, dump = self._enc["uuid"], self._enc["timestamp"], self._enc["json"]
        self._insert(
            "history",
            ("entity_id", "kind", "version", "action", "actor", "at", "changes"),
            [
                (
                    uid(e.entity_id),
                    e.kind,
                    e.version,
                    e.action,
                    e.actor,
                    time(e.at),
                    dump([[c.field, c.old, c.new] for c in e.changes]) if e.changes else None,
                )
                for e in entries
            ],
        )

    def append_events(self, events: Sequence[PendingEvent]) -> None:
        """Write outbox events; positions come from the table's autoincrement."""
        time, dump = self._enc["timestamp"], self._enc["json"]
        self._insert(
            "events",
            ("event_type", "payload", "actor", "recorded_at"),
            [(e.event_type, dump(e.payload), e.actor, time(e.recorded_at)) for e in events],
        )

    def load_schema(self, kind: str) -> CustomFieldSchema | None:
        """Return the newest stored custom-field schema of a kind."""
        row = self._execute(
            f"SELECT definition FROM custom_field_schemas WHERE kind = {self._p}"
            " ORDER BY version DESC LIMIT 1",
            [kind],
        ).fetchone()
        if row is None:
            return None
        return CustomFieldSchema.from_dict(self._dec["json"](row[0]))

    def put_scores(self, scores: Sequence[StoredScore]) -> None:
        """Replace each (record, scorer) score: delete the old rows, insert the new."""
        uid, time, dump = self._enc["uuid"], self._enc["timestamp"], self._enc["json"]
        by_scorer: dict[str, list[StoredScore]] = {}
        for score in scores:
            by_scorer.setdefault(score.scorer, []).append(score)
        for scorer, group in by_scorer.items():
            for chunk in _chunks([s.record_id for s in group]):
                self._execute(
                    f"DELETE FROM scores WHERE scorer = {self._p}"
                    f" AND record_id IN ({self._marks(len(chunk))})",
                    [scorer, *self._uuids(chunk)],
                )
        latest = {(s.record_id, s.scorer): s for s in scores}
        self._insert(
            "scores",
            ("record_id", "scorer", "value", "grade", "breakdown", "scorer_version", "computed_at"),
            [
                (
                    uid(s.record_id),
                    s.scorer,
                    float(s.value),
                    s.grade,
                    dump(s.breakdown),
                    s.scorer_version,
                    time(s.computed_at),
                )
                for s in latest.values()
            ],
        )

    def scores(self, record_ids: Sequence[uuid.UUID], scorer: str) -> dict[uuid.UUID, StoredScore]:
        """Return the stored scores of `record_ids` by `scorer`."""
        dec = self._dec
        found: dict[uuid.UUID, StoredScore] = {}
        for chunk in _chunks(list(record_ids)):
            for row in self._execute(
                "SELECT record_id, value, grade, breakdown, scorer_version, computed_at"
                f" FROM scores WHERE scorer = {self._p}"
                f" AND record_id IN ({self._marks(len(chunk))})",
                [scorer, *self._uuids(chunk)],
            ).fetchall():
                record = dec["uuid"](row[0])
                found[record] = StoredScore(
                    record_id=record,
                    scorer=scorer,
                    value=row[1],
                    grade=row[2],
                    breakdown=dec["json"](row[3]),
                    scorer_version=row[4],
                    computed_at=dec["timestamp"](row[5]),
                )
        return found

    def scan_grouped(
        self, kind: Kind, link: str, include_archived: bool, batch_size: int
    ) -> Iterator[Entity]:
        """Stream entities ordered by (link, time, id) through keyset pages on the index."""
        p, time = self._p, kind.time_field
        archived = "" if include_archived else " AND archived_at IS NULL"
        select = self._select[kind.name]
        enc_link, enc_time = self._enc["uuid"], self._enc["timestamp"]
        cursor: tuple[Any, Any, Any] | None = None
        while True:
            if cursor is None:
                where, params = f"{link} IS NOT NULL", []
            else:
                # A row-value comparison lets the planner seek the (link, time, id) index;
                # the equivalent OR chain makes SQLite scan the index from the start each page.
                where = f"({link}, {time}, id) > ({p}, {p}, {p})"
                params = [cursor[0], cursor[1], cursor[2]]
            rows = self._execute(
                f"{select} WHERE {where}{archived} ORDER BY {link}, {time}, id LIMIT {p}",
                [*params, batch_size],
            ).fetchall()
            page = self._decode(kind, rows)
            yield from page
            if len(page) < batch_size:
                return
            last = page[-1]
            cursor = (
                enc_link(getattr(last, link)),
                enc_time(getattr(last, time)),
                self._uuid(last.id),
            )

    # -- segments: compiled once to SQL, run inside the database ------------------------------

    def _segment_pages(
        self,
        kind: Kind,
        query: SegmentQuery,
        columns: str,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[list[Any]]:
        """Yield pages of rows matching a segment, by keyset on the id (one compile)."""
        where, params = compile_segment(query.binding, self.dialect, query.now, query.calendar)
        p = self._p
        archived = "" if include_archived else " AND t0.archived_at IS NULL"
        sql = (
            f"SELECT {columns} FROM {kind.table} t0 WHERE {where}{archived}"
            f" AND t0.id > {p} ORDER BY t0.id LIMIT {p}"
        )
        first = sql.replace(f" AND t0.id > {p}", "", 1)
        cursor = after
        while True:
            if cursor is None:
                rows = self._execute(first, [*params, batch_size]).fetchall()
            else:
                rows = self._execute(sql, [*params, self._uuid(cursor), batch_size]).fetchall()
            if rows:
                yield rows
            if len(rows) < batch_size:
                return
            cursor = self._dec["uuid"](rows[-1][0])

    def find_iter(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[Entity]:
        """Stream the entities matching a segment, page by page, in id order."""
        columns = ", ".join(f"t0.{name}" for name in self.codecs[kind.name].names)
        for rows in self._segment_pages(kind, query, columns, after, include_archived, batch_size):
            yield from self._decode(kind, rows)

    def find_ids(
        self,
        kind: Kind,
        query: SegmentQuery,
        after: uuid.UUID | None,
        include_archived: bool,
        batch_size: int,
    ) -> Iterator[uuid.UUID]:
        """Stream the ids matching a segment (the index alone answers when it can)."""
        decode = self._dec["uuid"]
        for rows in self._segment_pages(kind, query, "t0.id", after, include_archived, batch_size):
            yield from (decode(row[0]) for row in rows)

    def count_matching(self, kind: Kind, query: SegmentQuery, include_archived: bool) -> int:
        """Count the rows matching a segment inside the database."""
        where, params = compile_segment(query.binding, self.dialect, query.now, query.calendar)
        archived = "" if include_archived else " AND t0.archived_at IS NULL"
        sql = f"SELECT count(*) FROM {kind.table} t0 WHERE {where}{archived}"
        return int(self._execute(sql, params).fetchone()[0])

    # -- for data scientists: RFM and column fetches, inside the database --------------------

    def rfm(self, kind: Kind, currency: str, as_of: dt.datetime) -> list[RfmRow]:
        """Score the live records of `kind` with counted orders in one windowed query."""
        rows = self._execute(
            compile_rfm(self.dialect, kind.table), [self._enc["timestamp"](as_of), currency]
        ).fetchall()
        decode_id, decode_decimal = self._dec["uuid"], self._dec["decimal"]
        return [
            (
                decode_id(row[0]),
                int(row[1]),
                int(row[2]),
                decode_decimal(row[3]),
                int(row[4]),
                int(row[5]),
                int(row[6]),
            )
            for row in rows
        ]

    def columns(
        self,
        kind: Kind,
        specs: Sequence[ColumnSpec],
        query: SegmentQuery | None,
        include_archived: bool,
        batch_size: int,
    ) -> dict[str, list[Any]]:
        """Select only the asked columns, page by page on the id; decode value by value."""
        p = self._p
        selects = ["t0.id"]
        params: list[Any] = []
        for spec in specs:
            if spec.source == "fact":
                selects.append(f"(SELECT {spec.field} FROM record_facts WHERE record_id = t0.id)")
            elif spec.source == "score":
                selects.append(
                    f"(SELECT value FROM scores WHERE record_id = t0.id AND scorer = {p})"
                )
                params.append(spec.field)
            elif spec.shape == "currency":
                selects.append(f"t0.{spec.field}_currency")
            else:
                selects.append(f"t0.{spec.field}")
        conditions = [] if include_archived else ["t0.archived_at IS NULL"]
        if query is not None:
            where, where_params = compile_segment(
                query.binding, self.dialect, query.now, query.calendar
            )
            conditions.append(where)
            params += where_params
        sql = f"SELECT {', '.join(selects)} FROM {kind.table} t0"
        first = f"{sql} WHERE {' AND '.join(conditions)}" if conditions else sql
        after = f"{sql} WHERE {' AND '.join([*conditions, f't0.id > {p}'])}"
        decoders = [self._column_decoder(spec) for spec in specs]
        out: list[list[Any]] = [[] for _ in specs]
        cursor: Any = None
        while True:
            if cursor is None:
                page = self._execute(f"{first} ORDER BY t0.id LIMIT {p}", [*params, batch_size])
            else:
                page = self._execute(
                    f"{after} ORDER BY t0.id LIMIT {p}", [*params, cursor, batch_size]
                )
            rows = page.fetchall()
            if rows:
                by_column = list(zip(*rows, strict=True))[1:]  # the first is the paging id
                for values, column, decode in zip(by_column, out, decoders, strict=True):
                    column.extend(values if decode is None else map(decode, values))
            if len(rows) < batch_size:
                return {spec.name: column for spec, column in zip(specs, out, strict=True)}
            cursor = rows[-1][0]  # the id as the driver gave it: the next page's key

    def _column_decoder(self, spec: ColumnSpec) -> Callable[[Any], Any] | None:
        """Return how to decode one column's values (None: they come as they are)."""
        shape, empty, dec = spec.shape, spec.empty, self._dec
        if shape in DERIVED_SHAPES:
            load = dec["json"]
            pick = derived_column(spec)
            return lambda v: None if v is None else pick(load(v))
        if shape == "custom":
            load = dec["json"]
            return lambda v: empty if v is None else {k: x for k, (_t, x) in load(v).items()}
        if shape == "json":
            load = dec["json"]
            return lambda v: empty if v is None else load(v)
        if shape == "duration":
            return lambda v: None if v is None else dt.timedelta(microseconds=v)
        if spec.source == "fact" and empty is not None:
            return lambda v: empty if v is None else v
        if shape == "money":
            shape = "decimal"
        if shape in ("currency", "enum", "text", "int", "real"):
            return None
        decode = dec[shape]
        return None if shape in self.dialect.passthrough else decode

    def load_setting(self, key: str) -> str | None:
        """Return a setting from ``crmkit_meta``."""
        row = self._execute(
            f"SELECT value FROM crmkit_meta WHERE key = {self._p}", [f"setting.{key}"]
        ).fetchone()
        return None if row is None else str(row[0])

    def store_setting(self, key: str, value: str) -> None:
        """Write a setting into ``crmkit_meta``."""
        # An upsert changes the row in place: a PostgreSQL unit of work waiting on its lock
        # (`claim_setting`) then reads the new value, where a delete and insert would leave
        # it with no row at all.
        p = self._p
        self._execute(
            f"INSERT INTO crmkit_meta (key, value) VALUES ({p}, {p})"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [f"setting.{key}", value],
        )

    def claim_setting(self, key: str) -> str | None:
        """Read a setting for update; on SQLite the writing transaction already excludes others.

        (BEGIN IMMEDIATE: one writer at a time; PostgreSQL locks the row, see its backend.)
        """
        return self.load_setting(key)

    def load_settings(self, prefix: str) -> dict[str, str]:
        """Return the settings in ``crmkit_meta`` whose key starts with `prefix`."""
        p, full = self._p, f"setting.{prefix}"
        rows = self._execute(
            f"SELECT key, value FROM crmkit_meta WHERE substr(key, 1, {p}) = {p}",
            [len(full), full],
        ).fetchall()
        return {str(key).removeprefix("setting."): str(value) for key, value in rows}

    _SEGMENT_COLUMNS = (
        "name, kind, definition, static, description, version, created_at, updated_at,"
        " evaluated_at, evaluated_by, member_count"
    )

    def load_segments(self, name: str | None) -> list[SavedSegment]:
        """Return one saved segment by name, or all of them by name."""
        dec = self._dec
        sql = f"SELECT {self._SEGMENT_COLUMNS} FROM segments"
        params: list[Any] = []
        if name is not None:
            sql += f" WHERE name = {self._p}"
            params.append(name)
        rows = self._execute(sql + " ORDER BY name", params).fetchall()
        return [
            SavedSegment(
                name=r[0],
                kind=r[1],
                condition=condition_from_dict(dec["json"](r[2])),
                static=bool(dec["bool"](r[3])),
                description=r[4],
                version=r[5],
                created_at=dec["timestamp"](r[6]),
                updated_at=dec["timestamp"](r[7]),
                evaluated_at=dec["timestamp"](r[8]),
                evaluated_by=r[9],
                member_count=r[10],
            )
            for r in rows
        ]

    def store_segment(self, segment: SavedSegment) -> None:
        """Insert or replace a saved segment row."""
        enc = self._enc
        self._execute(f"DELETE FROM segments WHERE name = {self._p}", [segment.name])
        self._insert(
            "segments",
            [c.strip() for c in self._SEGMENT_COLUMNS.split(",")],
            [
                (
                    segment.name,
                    segment.kind,
                    enc["json"](segment.condition.to_dict()),
                    enc["bool"](segment.static),
                    segment.description,
                    segment.version,
                    enc["timestamp"](segment.created_at),
                    enc["timestamp"](segment.updated_at),
                    enc["timestamp"](segment.evaluated_at),
                    segment.evaluated_by,
                    segment.member_count,
                )
            ],
        )

    def delete_segment(self, name: str) -> None:
        """Delete a saved segment and its members."""
        self._execute(f"DELETE FROM segment_members WHERE segment = {self._p}", [name])
        self._execute(f"DELETE FROM segments WHERE name = {self._p}", [name])

    def segment_members(self, name: str) -> list[uuid.UUID]:
        """Return a segment's stored member ids in id order."""
        decode = self._dec["uuid"]
        rows = self._execute(
            f"SELECT record_id FROM segment_members WHERE segment = {self._p} ORDER BY record_id",
            [name],
        ).fetchall()
        return [decode(r[0]) for r in rows]

    def put_segment_members(self, name: str, ids: Sequence[uuid.UUID]) -> None:
        """Replace a segment's stored member ids."""
        self._execute(f"DELETE FROM segment_members WHERE segment = {self._p}", [name])
        encode = self._enc["uuid"]
        self._insert("segment_members", ("segment", "record_id"), [(name, encode(i)) for i in ids])

    def store_schema(self, schema: CustomFieldSchema) -> None:
        """Store a new schema version."""
        self._saved_schema = True
        self._insert(
            "custom_field_schemas",
            ("kind", "version", "definition"),
            [(schema.entity, schema.version, self._enc["json"](schema.to_dict()))],
        )

    def load_pipelines(self) -> dict[str, StoredPipeline]:
        """Return the newest stored version of every saved pipeline, by key."""
        rows = self._execute(
            "SELECT key, version, definition, saved_at FROM pipelines p"
            " WHERE version = (SELECT max(version) FROM pipelines WHERE key = p.key)"
            " ORDER BY key"
        ).fetchall()
        dec = self._dec
        return {
            r[0]: StoredPipeline(
                Pipeline.from_dict(dec["json"](r[2])), r[1], dec["timestamp"](r[3])
            )
            for r in rows
        }

    def store_pipeline(self, stored: StoredPipeline) -> None:
        """Store a new version of a pipeline."""
        pipeline = stored.pipeline
        self._insert(
            "pipelines",
            ("key", "version", "definition", "saved_at"),
            [
                (
                    pipeline.key,
                    stored.version,
                    self._enc["json"](pipeline.to_dict()),
                    self._enc["timestamp"](stored.saved_at),
                )
            ],
        )


def read_history(backend: SqlBackend, entity_id: uuid.UUID) -> list[HistoryEntry]:
    """Return the audit entries of one record, oldest first."""
    dec = backend.dialect.decoders
    rows = backend._execute(
        "SELECT entity_id, kind, version, action, actor, at, changes FROM history"
        f" WHERE entity_id = {backend.dialect.param} ORDER BY seq",
        [backend.dialect.encoders["uuid"](entity_id)],
    ).fetchall()
    return [
        HistoryEntry(
            entity_id=dec["uuid"](r[0]),
            kind=r[1],
            version=r[2],
            action=r[3],
            actor=r[4],
            at=dec["timestamp"](r[5]),
            changes=tuple(FieldChange(*c) for c in (dec["json"](r[6]) or ())),
        )
        for r in rows
    ]


def read_events(backend: SqlBackend, after: int, limit: int | None) -> list[StoredEvent]:
    """Return outbox events after a position, in position order."""
    dec = backend.dialect.decoders
    p = backend.dialect.param
    sql = (
        "SELECT position, event_type, payload, actor, recorded_at FROM events"
        f" WHERE position > {p} ORDER BY position"
    )
    params: list[Any] = [after]
    if limit is not None:
        sql += f" LIMIT {p}"
        params.append(limit)
    return [
        StoredEvent(r[0], r[1], dec["json"](r[2]), r[3], dec["timestamp"](r[4]))
        for r in backend._execute(sql, params).fetchall()
    ]
