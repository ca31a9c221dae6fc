"""The `crmkit` command: the demo, every command on its store, and every bad-input path."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crmkit
from crmkit.cli.app import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def run_main(*args: str, capsys) -> tuple[int, str, str]:
    """Run `crmkit.cli.app.main` as the console script does (crmkit errors → exit 1)."""
    from crmkit.cli.app import main

    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    return int(stopped.value.code or 0), out, err


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """The small demo, built once for this module."""
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    result = run("demo", "--db", f"sqlite:///{path}", "--size", "small", "--json")
    assert result.exit_code == 0, result.output
    return f"sqlite:///{path}"


def test_the_demo_reports_what_it_built_and_found_as_json(demo_db, tmp_path):
    """Same seed, same report: two runs in two files print identical JSON."""
    again = tmp_path / "again.db"
    first = run("demo", "--db", f"sqlite:///{again}", "--size", "small", "--json")
    second = run("demo", "--db", f"sqlite:///{again}", "--size", "small", "--json")
    assert first.exit_code == second.exit_code == 0
    report = json.loads(first.output)
    assert json.loads(second.output) == report  # replaced, rebuilt, the same
    assert report["stored"] == {
        "companies": 150,
        "contacts": 500,
        "leads": 120,
        "deals": 400,
        "activities": report["stored"]["activities"],
        "orders": 400,
    }
    assert report["stored"]["activities"] > 1000
    assert report["leads"]["qualified"] == report["leads"]["converted"] > 0
    assert sum(report["leads"][k] for k in ("qualified", "nurture", "disqualified")) == 120
    assert len(report["top_deals"]) == 10
    assert [s[0] for s in report["segments"]][:2] == ["Engaged decision makers", "VIPs gone quiet"]
    assigned = {owner: count for owner, _rule, count in report["assigned"]}
    assert sum(assigned.values()) == 120
    assert abs(assigned["anna"] - assigned["jonas"]) <= 1  # round robin
    assert max(assigned[p] for p in ("emma", "noah", "lucas")) <= 90  # the cap
    assert sum(report["follow_ups"].values()) > 0
    touch = report["first_touch"]
    assert (
        touch["met"] + touch["breached"] + touch["ok"] + touch["warning"] + touch["paused"] == 120
    )
    assert 0 < touch["never touched"] <= touch["breached"]
    assert report["model"]["held_out"] > 0
    assert 0.5 < report["model"]["roc_auc"] <= 1.0


def test_another_seed_tells_another_story(tmp_path):
    a = run("demo", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--size", "small", "--json")
    b = run(
        "demo", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--size", "small", "--seed", "8",
        "--json",
    )  # fmt: skip
    assert json.loads(a.output)["top_deals"] != json.loads(b.output)["top_deals"]


def test_the_demo_prints_a_readable_report(tmp_path):
    result = run("demo", "--db", f"sqlite:///{tmp_path / 'r.db'}", "--size", "small")
    assert result.exit_code == 0
    for heading in ("Open pipeline (EUR)", "Ten highest-priority open deals", "ROC AUC",
                    "Segments (contacts)", "RFM groups of customers"):  # fmt: skip
        assert heading in result.output


def test_segment_counts_and_lists_members_in_every_format(demo_db):
    count = run("segment", 'country = "DE"', "--db", demo_db)
    assert count.exit_code == 0
    total = int(count.output.strip())
    assert total > 0
    listed = run("segment", 'country = "DE"', "--db", demo_db, "--list", "--format", "json",
                 "--limit", "1000")  # fmt: skip
    rows = json.loads(listed.output)
    assert len(rows) == total
    assert {r["country"] for r in rows} == {"DE"}
    as_csv = run("segment", 'country = "DE"', "--db", demo_db, "--columns", "first_name,title",
                 "--format", "csv", "--limit", "3")  # fmt: skip
    lines = as_csv.output.strip().splitlines()
    assert lines[0] == "id,first_name,title"
    assert len(lines) == 4


def test_pipeline_rfm_info_and_score_run_on_the_demo_store(demo_db):
    stages = json.loads(run("pipeline", "--db", demo_db, "--json").output)
    # the store's pipelines in key order (renewals, sales), each in its stage order
    assert [s["pipeline"] for s in stages] == sorted(
        (s["pipeline"] for s in stages), key=["Renewals", "New business"].index
    )
    assert next(s for s in stages if s["pipeline"] == "New business")["stage"] == "Prospecting"
    groups = json.loads(run("rfm", "--db", demo_db, "--json").output)
    assert {g["group"] for g in groups} >= {"champions", "lost"}
    info = json.loads(run("info", "--db", demo_db, "--json").output)
    assert info["records"]["contact"]["all"] >= 500
    assert info["schema_version"] >= 5
    scored = json.loads(run("score", "--db", demo_db, "--json").output)
    assert scored["engagement"] == scored["fit"] == info["records"]["contact"]["live"]


def test_show_and_history_find_a_record_by_id(demo_db):
    rows = json.loads(run("segment", "created_at within 10000 days", "--db", demo_db, "--list",
                          "--json", "--limit", "1").output)  # fmt: skip
    ident = rows[0]["id"]
    shown = json.loads(run("show", ident, "--db", demo_db, "--json").output)
    assert (shown["kind"], shown["id"]) == ("contact", ident)
    history = json.loads(run("history", ident, "--db", demo_db, "--json").output)
    assert history[0]["action"] == "added"
    assert history[0]["actor"] == "demo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("segment", "contry = 'DE'"), "did you mean"),
        (
            ("segment", 'country = "DE"', "--format", "xml"),
            "format 'xml' is not table, csv or json",
        ),
        (("show", "not-an-id"), "is not a record id"),
        (("show", "01900000-0000-7000-8000-000000000000"), "no record"),
        (("history", "01900000-0000-7000-8000-000000000000"), "no record history"),
        (("rfm", "--currency", "XYZ"), "XYZ"),
        (("segment", 'country = "DE"', "--kind", "planet"), "is not a kind of record"),
        (("sla", "--target", "4x"), 'is not business time like "4h"'),
        (("sla", "--policy", "/no/such/policy.toml"), "cannot be read"),
        (("sla", "--at", "yesterday"), "--at"),
        (("tasks", "--due", "soon"), "is not one of open, today, overdue"),
        (("tasks", "--record", "x"), "is not a record id"),
        (("tasks", "--since", "yesterday", "--due", "reminders"), "--since"),
        (("sla", "--by", "region"), "is not owner or team"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_1(demo_db, capsys, args, message):
    code, out, err = run_main(*args, "--db", demo_db, capsys=capsys)
    assert code == 1
    assert err.startswith("crmkit: error: ")
    assert message in err
    assert "Traceback" not in err + out


def test_a_missing_store_says_to_run_the_demo(tmp_path, capsys):
    code, _out, err = run_main("info", "--db", f"sqlite:///{tmp_path / 'none.db'}", capsys=capsys)
    assert code == 1
    assert "run `crmkit demo`" in err
    assert not (tmp_path / "none.db").exists()


def test_a_bad_store_url_is_one_line(capsys):
    code, _out, err = run_main("info", "--db", "mysql://x", capsys=capsys)
    assert code == 1
    assert err.count("\n") <= 2
    assert "mysql" in err


def test_crmkit_db_names_the_store(demo_db):
    result = runner.invoke(app, ["info", "--json"], env={"CRMKIT_DB": demo_db})
    assert json.loads(result.output)["store"] == demo_db


@pytest.mark.parametrize("command", ["demo", "segment", "score", "pipeline", "show", "history",
                                     "rfm", "info", "sla", "tasks"])  # fmt: skip
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "--db" in result.output


@pytest.mark.slow
def test_the_console_script_runs_the_demo_in_a_fresh_folder(tmp_path):
    """As a new user types it: `crmkit demo` builds crmkit-demo.db in the current folder."""
    script = Path(sys.executable).parent / "crmkit"
    env = {k: v for k, v in os.environ.items() if k != "CRMKIT_DB"}
    done = subprocess.run(
        [str(script), "demo", "--size", "small"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Ten highest-priority open deals" in done.stdout
    assert (tmp_path / "crmkit-demo.db").exists()
    bad = subprocess.run(
        [str(script), "segment", "nope ="], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.startswith("crmkit: error: ")
    assert "Traceback" not in bad.stderr


def test_pipeline_save_stores_a_definition_and_the_report_shows_it(demo_db, tmp_path, capsys):
    """`crmkit pipeline --save FILE` stores a pipeline (version 1, then 2 when changed)."""
    import shutil

    from crmkit import Pipeline, Stage

    db = tmp_path / "copy.db"
    shutil.copy(demo_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    stages = [
        Stage(key="new", label="New", probability=0.3, forecast_category="pipeline"),
        Stage(key="won", label="Won", probability=1.0, forecast_category="closed", won=True),
        Stage(key="lost", label="Lost", probability=0.0, forecast_category="omitted", lost=True),
    ]
    definition = tmp_path / "support.json"
    definition.write_text(Pipeline(key="support", label="Support", stages=stages).to_json())
    code, out, err = run_main("pipeline", "--save", str(definition), "--db", url, capsys=capsys)
    assert (code, err) == (0, "")
    assert out.strip() == "pipeline 'support' is stored at version 1"
    definition.write_text(Pipeline(key="support", label="Support desk", stages=stages).to_json())
    code, out, _ = run_main("pipeline", "--save", str(definition), "--db", url, capsys=capsys)
    assert out.strip() == "pipeline 'support' is stored at version 2"
    definition.write_text("{not json")
    code, out, err = run_main("pipeline", "--save", str(definition), "--db", url, capsys=capsys)
    assert code == 1
    assert err.startswith("crmkit: error: ")
    code, _, err = run_main("pipeline", "--save", str(tmp_path / "none.json"), "--db", url,
                            capsys=capsys)  # fmt: skip
    assert code == 1
    assert "cannot be read" in err


def test_sla_lists_the_demo_leads_first_touch_clocks(demo_db, tmp_path):
    """As of the demo's instant: the JSON rows agree with the demo's own counts."""
    report = json.loads(run("demo", "--db", f"sqlite:///{tmp_path / 's.db'}", "--size", "small",
                            "--json").output)  # fmt: skip
    at = "2026-06-30T17:00:00Z"
    rows = json.loads(run("sla", "--db", demo_db, "--at", at, "--all", "--json").output)
    states = [row["state"] for row in rows]
    assert len(rows) == 120
    assert states.count("met") == report["first_touch"]["met"]
    assert states.count("breached") == report["first_touch"]["breached"]
    assert states == sorted(states, key=["breached", "warning", "ok", "paused", "met"].index)
    unmet = json.loads(run("sla", "--db", demo_db, "--at", at, "--json").output)
    assert [row["state"] for row in unmet] == [s for s in states if s != "met"]
    policy = tmp_path / "slow.toml"
    policy.write_text(
        'name = "first_touch_slow"\napplies_to = "lead"\ntarget = "200h"\n'
        '[start]\non = "created"\n[stop]\non = "activity"\n'
        'where = "direction = \\"outbound\\""\n',
        encoding="utf-8",
    )
    slow = json.loads(run("sla", "--db", demo_db, "--at", at, "--all", "--json",
                          "--policy", str(policy)).output)  # fmt: skip
    assert [row["state"] for row in slow].count("met") > states.count("met")
    by_owner = json.loads(run("sla", "--db", demo_db, "--at", at, "--by", "owner", "--json").output)
    assert sum(row["breached"] for row in by_owner) == report["first_touch"]["breached"]
    assert sum(row["met"] for row in by_owner) == report["first_touch"]["met"]
    assert [row["owner"] for row in by_owner] == sorted(row["owner"] for row in by_owner)
    table = run("sla", "--db", demo_db, "--at", at)
    assert table.exit_code == 0
    assert "SLA first_touch (leads)" in table.output
    assert f"{report['first_touch']['breached']} breached" in table.output


def test_tasks_lists_the_demo_follow_ups_by_due_time(demo_db):
    """The demo's first calls: open for their assignees, due tomorrow, overdue the day after."""
    every = json.loads(run("tasks", "--db", demo_db, "--json").output)
    assert {t["title"] for t in every} == {"First call", "Weekly check-in"}
    report_calls = [t for t in every if t["title"] == "First call"]
    assert report_calls
    assert all(t["status"] == "open" and t["priority"] == "high" for t in report_calls)
    dues = [t["due"] for t in report_calls]
    assert dues == sorted(dues)
    one = report_calls[0]["assignee"]
    mine = json.loads(run("tasks", "--db", demo_db, "--assignee", one, "--json").output)
    assert {t["assignee"] for t in mine} == {one}
    assert len(mine) == sum(1 for t in every if t["assignee"] == one)
    as_of = "2026-06-30T17:00:00Z"  # the demo's instant: due tomorrow, nothing today
    assert json.loads(run("tasks", "--db", demo_db, "--due", "today", "--at", as_of,
                          "--json").output) == []  # fmt: skip
    late = json.loads(run("tasks", "--db", demo_db, "--due", "overdue", "--at",
                          "2026-07-03T09:00:00Z", "--json").output)  # fmt: skip
    assert len(late) == len(every)


def test_tasks_lists_reminders_due_and_one_records_tasks_with_its_call_status(demo_db):
    """Each demo follow-up reminds an hour before it is due, inside [--since, --at)."""
    every = json.loads(run("tasks", "--db", demo_db, "--json").output)
    reminders = json.loads(run("tasks", "--db", demo_db, "--due", "reminders", "--since",
                               "2026-06-30T17:00:00Z", "--at", "2026-07-03T09:00:00Z",
                               "--json").output)  # fmt: skip
    assert sorted(r["task"] for r in reminders) == sorted(t["task"] for t in every)
    first = min(reminders, key=lambda r: r["remind at"])
    remind_at = dt.datetime.fromisoformat(first["remind at"])
    assert dt.datetime.fromisoformat(first["due"]) - remind_at == dt.timedelta(hours=1)
    window = ("--since", first["remind at"], "--at", first["remind at"], "--json")
    assert json.loads(run("tasks", "--db", demo_db, "--due", "reminders", *window).output) == []
    check_in = next(t for t in every if t["title"] == "Weekly check-in")
    with crmkit.open_store(demo_db) as store, store.unit_of_work(readonly=True) as uow:
        deal_id = str(uow.tasks.get(uuid.UUID(check_in["task"])).deal_id)
    as_of = ("--at", "2026-06-30T17:00:00Z")  # the demo's instant: the check-in is scheduled
    listed = json.loads(run("tasks", "--db", demo_db, "--record", deal_id, "--json").output)
    assert [t["title"] for t in listed] == ["Weekly check-in"]
    shown = run("tasks", "--db", demo_db, "--record", deal_id, *as_of)
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())
    assert f"1 open tasks of deal {deal_id} (call status: " in said
    assert "follow_up_needed" not in said
    late = run("tasks", "--db", demo_db, "--record", deal_id, "--at", "2026-07-03T09:00:00Z")
    assert "(call status: follow_up_needed)" in " ".join(late.output.split())  # overdue
