"""The root package imports each public name on first use, and agrees with itself about them."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import crmkit


def _loaded_after(code: str) -> set[str]:
    """The crmkit modules a fresh interpreter has loaded after running `code`."""
    listing = "print(' '.join(m for m in sys.modules if m.startswith('crmkit')))"
    script = f"{code}\nimport sys\n{listing}"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(out.stdout.split())


def test_importing_crmkit_loads_no_other_crmkit_module():
    assert _loaded_after("import crmkit") == {"crmkit"}


def test_a_name_loads_its_own_module_and_not_the_others():
    loaded = _loaded_after("from crmkit import Contact")
    assert "crmkit.model.contact" in loaded
    assert not {m for m in loaded if m.startswith(("crmkit.scoring", "crmkit.storage"))}


def test_every_public_name_is_the_object_of_its_home_module():
    for name in crmkit.__all__:
        if name in ("__version__", "UserRef"):
            continue
        home = importlib.import_module(crmkit._HOMES[name])
        assert getattr(crmkit, name) is getattr(home, name), name
    assert isinstance(crmkit.__version__, str)
    assert crmkit.UserRef is str


def test_the_table_the_type_checking_imports_and_all_agree():
    tree = ast.parse(Path(crmkit.__file__).read_text())
    guarded = next(n for n in tree.body if isinstance(n, ast.If))
    imported = {
        alias.asname or alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == crmkit._HOMES
    assert set(crmkit.__all__) == {*crmkit._HOMES, "__version__", "UserRef"}
    assert len(set(crmkit.__all__)) == len(crmkit.__all__)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = crmkit.Nope  # type: ignore[attr-defined]
    assert "Contact" in dir(crmkit)
