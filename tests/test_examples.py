"""Every example runs as CI runs it: a fresh folder, the venv's python, stdin closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Each example: lines it prints exactly, and the files it leaves in the current folder.
EXPECTED = {
    "quickstart.py": (
        ["Stored in quickstart.db: Acme GmbH, Ada Lovelace, Acme, 50 seats, one order, one call"],
        ["quickstart.db"],
    ),
    "app_developer.py": (
        [
            "Thursday   discovery -> proposal",
            "  Wed 16:00  high    Send Ben the reference customers (Ben Okafor) OVERDUE",
            "  Thu 15:00  medium  Call Ada about the quote (Ada Brandt)",
            "Outbox: 1 deal.stage_changed, 2 deal.stage_changed",
        ],
        ["app_developer.db"],
    ),
    "data_scientist.py": (
        [
            "  84 of them scored by RFM (of 125 buyers in the store)",
            "Saved rfm_groups.png: 11 groups, 84 customers",
        ],
        ["data_scientist.db", "rfm_groups.png"],
    ),
    "own_crm.py": (
        [
            "  RoutenRivale AG    disqualified  no resellers: resellers buy through the partner"
            " programme",
            "Refused: trial -> pilot: needs custom.vehicles >= 10",
            "Contract suite on JournaledStore: passed",
        ],
        ["own_crm.db", "test_journaled_store.py"],
    ),
}


def test_every_example_is_checked_here():
    """A new example gets its expected lines here, or this fails."""
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_runs_in_a_fresh_folder_and_prints_what_it_shows(name, tmp_path):
    """Exit code 0, the lines it promises, and its files written in the current folder."""
    lines, files = EXPECTED[name]
    env = {k: v for k, v in os.environ.items() if k != "CRMKIT_DB"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout.splitlines()
    for line in lines:
        assert line in printed
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    if name == "data_scientist.py":
        assert (tmp_path / "rfm_groups.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
