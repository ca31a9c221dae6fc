"""The demo's report in the README and the command-line guide is what `crmkit demo` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _block_after(path: Path, marker: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(marker) + len(marker)
    return text[start : text.index("\n```", start)]


@pytest.mark.slow
def test_the_readme_and_the_guide_show_the_demo_as_it_prints(tmp_path):
    """Run the README's first command's demo (default size, seed 7) and compare, line by line."""
    script = Path(sys.executable).parent / "crmkit"
    env = {k: v for k, v in os.environ.items() if k != "CRMKIT_DB"}
    env.update(COLUMNS="100", NO_COLOR="1")
    done = subprocess.run(
        [str(script), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = [line.rstrip() for line in done.stdout.rstrip().splitlines()]
    readme = _block_after(ROOT / "README.md", "`--db URL`, `--json`):\n\n```text\n")
    guide = _block_after(ROOT / "docs" / "cli.md", "$ crmkit demo\n")
    assert [line.rstrip() for line in readme.splitlines()] == printed
    assert [line.rstrip() for line in guide.splitlines()] == printed
