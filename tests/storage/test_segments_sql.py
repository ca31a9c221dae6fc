"""The SQL a segment compiles to, per dialect: table-driven, values only as parameters."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crmkit.conditions import BusinessCalendar
from crmkit.conditions.binding import bind
from crmkit.segments import parse
from crmkit.storage.sql.compile import (
    PostgresSegmentCompiler,
    SqliteSegmentCompiler,
    compile_segment,
    compiler_for,
)
from crmkit.storage.sql.dialect import SqliteDialect

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)


class PostgresLike:
    """The PostgreSQL dialect's names, without importing the driver."""

    name = "postgresql"
    param = "%s"
    encoders = {shape: (lambda v: v) for shape in ("timestamp", "date", "uuid", "bool")}


def compiled(text, dialect, kind="contact"):
    return compile_segment(bind(parse(text), kind), dialect, NOW, BusinessCalendar())


CASES = [
    (
        'country = "DE" and not has tag "vip"',
        "contact",
        "((t0.country = ?) AND (NOT (t0.id IN (SELECT t1.record_id FROM record_tags t1"
        " WHERE t1.kind = ? AND t1.tag = ?))))",
        ["DE", "contact", "vip"],
        "((t0.country = %s) AND (NOT (t0.id IN (SELECT t1.record_id FROM record_tags t1"
        " WHERE t1.kind = %s AND t1.tag = %s))))",
        ["DE", "contact", "vip"],
    ),
    (
        'not country = "DE"',
        "contact",
        "(NOT COALESCE((t0.country = ?), FALSE))",
        ["DE"],
        "(NOT COALESCE((t0.country = %s), FALSE))",
        ["DE"],
    ),
    (
        'name contains "Ac"',
        "company",
        "(instr(lower(t0.name), ?) > 0)",
        ["ac"],
        "(strpos(translate(t0.name, %s, %s), %s) > 0)",
        ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "ac"],
    ),
    (
        'custom.plan = "pro"',
        "contact",
        "((CASE WHEN json_extract(t0.custom, ?) = 's' THEN json_extract(t0.custom, ?) END) = ?)",
        ["$.plan[0]", "$.plan[1]", "pro"],
        "(((CASE WHEN (t0.custom -> %s ->> 0) = 's' THEN (t0.custom -> %s ->> 1) END)"
        ' COLLATE "C") = %s)',
        ["plan", "plan", "pro"],
    ),
    (
        'at least 3 activities where (kind = "email")',
        "contact",
        "(t0.id IN (SELECT t1.contact_id FROM activities t1 WHERE t1.contact_id IS NOT NULL"
        " AND t1.archived_at IS NULL AND (t1.kind = ?) GROUP BY t1.contact_id"
        " HAVING count(*) >= ?))",
        ["email", 3],
        None,
        None,
    ),
    (
        "order_count = 0",
        "contact",
        "(t0.id NOT IN (SELECT t1.record_id FROM record_facts t1"
        " WHERE NOT COALESCE((t1.order_count = ?), FALSE)))",
        [0],
        None,
        None,
    ),
    (
        "last_activity_at within 30 days",
        "contact",
        "(t0.id IN (SELECT t1.record_id FROM record_facts t1"
        " WHERE (t1.last_activity_at >= ? AND t1.last_activity_at < ?)))",
        [1776124800000000, 1778754600000001],
        None,
        [dt.datetime(2026, 4, 14, tzinfo=dt.UTC), NOW + dt.timedelta(microseconds=1)],
    ),
    (
        "amount >= 100 EUR",
        "deal",
        "(t0.amount_currency = ? AND CAST(t0.amount AS REAL) >= ?)",
        ["EUR", 100],
        "(t0.amount_currency = %s AND t0.amount >= %s)",
        ["EUR", Decimal("100")],
    ),
    (
        'company.industry = "software"',
        "contact",
        "(t0.company_id IN (SELECT t1.id FROM companies t1 WHERE t1.archived_at IS NULL"
        " AND (t1.industry = ?)))",
        ["software"],
        None,
        None,
    ),
    (
        'industry equals ignoring case "SoftWare"',
        "company",
        "(lower(t0.industry) = ?)",
        ["software"],
        "(translate(t0.industry, %s, %s) = %s)",
        ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "software"],
    ),
    (
        'not custom.plan equals ignoring case "Pro"',
        "contact",
        "(NOT COALESCE((json_extract(t0.custom, ?) = 's' AND lower((CASE WHEN"
        " json_extract(t0.custom, ?) = 's' THEN json_extract(t0.custom, ?) END)) = ?), FALSE))",
        ["$.plan[0]", "$.plan[0]", "$.plan[1]", "pro"],
        "(NOT COALESCE(((t0.custom -> %s ->> 0) = 's' AND translate(((CASE WHEN"
        " (t0.custom -> %s ->> 0) = 's' THEN (t0.custom -> %s ->> 1) END) COLLATE \"C\"),"
        " %s, %s) = %s), FALSE))",
        ["plan", "plan", "plan", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "pro"],
    ),
    (
        'contact_ids contains uuid("019b76da-a800-7190-96de-926870d793e4")',
        "deal",
        "(t0.id IN (SELECT t1.deal_id FROM deal_contacts t1 WHERE t1.contact_id = ?))",
        [uuid.UUID("019b76da-a800-7190-96de-926870d793e4").bytes],
        None,
        [uuid.UUID("019b76da-a800-7190-96de-926870d793e4")],
    ),
    (
        'amount > 5 and not contact_ids contains "019b76da-a800-7190-96de-926870d793e4"',
        "deal",
        "((CAST(t0.amount AS REAL) > ?) AND (NOT (t0.id IN (SELECT t1.deal_id FROM"
        " deal_contacts t1 WHERE t1.contact_id = ?))))",
        [5, uuid.UUID("019b76da-a800-7190-96de-926870d793e4").bytes],
        "((t0.amount > %s) AND (NOT (t0.id IN (SELECT t1.deal_id FROM"
        " deal_contacts t1 WHERE t1.contact_id = %s))))",
        [5, uuid.UUID("019b76da-a800-7190-96de-926870d793e4")],
    ),
    # Beside cheaper conditions, related records are probed per record after them (written
    # last, whatever the order in the text): a count, not a GROUP BY over every activity.
    (
        'at least 2 activities where kind = "email" and country = "DE"',
        "contact",
        "((t0.country = ?) AND ((SELECT count(*) FROM activities t1 WHERE t1.contact_id IS NOT"
        " NULL AND t1.archived_at IS NULL AND (t1.kind = ?) AND t1.contact_id = t0.id) >= ?))",
        ["DE", "email", 2],
        None,
        None,
    ),
    # The cheapest related condition stays a membership; the costlier one probes.
    (
        'no orders and company.industry = "software"',
        "contact",
        "((+t0.company_id IN (SELECT t1.id FROM companies t1 WHERE t1.archived_at IS NULL AND"
        " (t1.industry = ?))) AND (NOT EXISTS (SELECT 1 FROM orders t2 WHERE t2.contact_id IS"
        " NOT NULL AND t2.archived_at IS NULL AND t2.contact_id = t0.id)))",
        ["software"],
        "((t0.company_id IN (SELECT t1.id FROM companies t1 WHERE t1.archived_at IS NULL AND"
        " (t1.industry = %s))) AND (NOT EXISTS (SELECT 1 FROM orders t2 WHERE t2.contact_id IS"
        " NOT NULL AND t2.archived_at IS NULL AND t2.contact_id = t0.id)))",
        ["software"],
    ),
    # A probe inside an OR or a NOT stays a probe; the company probe is a key look-up.
    (
        'country = "DE" and not (score.engagement > 50 or company.industry = "x")',
        "contact",
        "((t0.country = ?) AND (NOT (EXISTS (SELECT 1 FROM scores t1 WHERE t1.scorer = ? AND"
        " (t1.value > ?) AND t1.record_id = t0.id) OR EXISTS (SELECT 1 FROM companies t2 WHERE"
        " t2.archived_at IS NULL AND (t2.industry = ?) AND t2.id = t0.company_id))))",
        ["DE", "engagement", 50.0, "x"],
        None,
        None,
    ),
    # Standing alone, a count is one GROUP BY the planner can drive from.
    (
        "at least 2 orders",
        "contact",
        "(t0.id IN (SELECT t1.contact_id FROM orders t1 WHERE t1.contact_id IS NOT NULL AND"
        " t1.archived_at IS NULL GROUP BY t1.contact_id HAVING count(*) >= ?))",
        [2],
        None,
        None,
    ),
]


@pytest.mark.parametrize(("text", "kind", "sqlite", "sqlite_params", "pg", "pg_params"), CASES)
def test_expected_sql_per_dialect(text, kind, sqlite, sqlite_params, pg, pg_params):
    assert compiled(text, SqliteDialect(), kind) == (sqlite, sqlite_params)
    sql, params = compiled(text, PostgresLike(), kind)
    assert sql == (pg or sqlite.replace("?", "%s"))
    assert params == (pg_params if pg_params is not None else sqlite_params)


def test_values_and_custom_keys_travel_as_parameters():
    nasty = "x'); DROP TABLE contacts; --"
    for dialect in (SqliteDialect(), PostgresLike()):
        sql, params = compiled(
            f'country = {nasty!r} or custom.plan contains {nasty!r} or title starts with "%_"',
            dialect,
        )
        assert "DROP" not in sql
        assert "%_" not in sql
        assert nasty in params


def test_one_compiler_class_per_dialect_family():
    assert compiler_for(SqliteDialect()) is SqliteSegmentCompiler
    assert compiler_for(PostgresLike()) is PostgresSegmentCompiler


def test_is_won_compiles_to_conditions_on_pipeline_and_stage():
    """``is won`` reaches SQL already expanded with the pipelines: plain column tests."""
    from crmkit.pipelines import default_renewal_pipeline, default_sales_pipeline

    pipelines = {p.key: p for p in (default_sales_pipeline(), default_renewal_pipeline())}
    binding = bind(parse("not is won"), "deal", pipelines=pipelines)
    assert compile_segment(binding, SqliteDialect(), NOW, BusinessCalendar()) == (
        "(NOT COALESCE((((t0.pipeline = ?) AND (t0.stage = ?)) OR ((t0.pipeline = ?)"
        " AND (t0.stage = ?))), FALSE))",
        ["renewals", "renewed", "sales", "closed_won"],
    )
    binding = bind(parse("is open"), "deal", pipelines={"sales": pipelines["sales"]})
    assert compile_segment(binding, PostgresLike(), NOW, BusinessCalendar()) == (
        "((t0.pipeline = %s) AND (t0.stage = ANY(%s)))",
        ["sales", ["prospecting", "discovery", "proposal", "negotiation", "decision"]],
    )
