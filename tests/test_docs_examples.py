"""The README's tour runs as written: its Python blocks, in order, in one namespace."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_the_readme_tour_runs(tmp_path, monkeypatch, capsys):
    blocks = _python_blocks(ROOT / "README.md")
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # the tour writes crm.db in the current folder
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "acme.de" in out
    assert "12500 EUR" in out
    assert "proposal 0.4" in out
    assert (tmp_path / "crm.db").exists()


def test_the_getting_started_guide_runs(tmp_path, monkeypatch, capsys):
    """Every Python block of docs/getting-started.md runs, in order, in one namespace."""
    blocks = _python_blocks(ROOT / "docs" / "getting-started.md")
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "getting-started.md", "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert "1500 EUR" in out  # the order's total: the exact sum of its lines
    assert "12500 EUR" in out


def test_the_business_time_guide_runs():
    """docs/business-time.md: its Python blocks run and their asserts hold."""
    blocks = _python_blocks(ROOT / "docs" / "business-time.md")
    assert len(blocks) >= 1
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "business-time.md", "exec"), namespace)
    assert "work" in namespace
