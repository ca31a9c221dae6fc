"""The command-line guide documents every command the `crmkit` app has."""

from __future__ import annotations

from pathlib import Path

from crmkit.cli.app import app

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_every_command_has_a_section_in_the_guide_and_none_is_stale():
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    text = GUIDE.read_text(encoding="utf-8")
    documented = {line.split()[2].rstrip(":") for line in text.splitlines()
                  if line.startswith("## crmkit ")}  # fmt: skip
    assert documented == commands
