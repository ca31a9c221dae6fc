"""Generated code (row codecs, record builders, compiled conditions) shows in tracebacks."""

from __future__ import annotations

import inspect
import linecache
import traceback

import pytest

from crmkit import Contact
from crmkit.codegen import generate
from crmkit.conditions import F
from crmkit.conditions.predicate import compile_predicate
from crmkit.model.fast_records import builder, evolver
from crmkit.model.registry import KINDS
from crmkit.storage.sql.dialect import SqliteDialect
from crmkit.storage.sql.rows import RowCodec


def test_generated_source_is_registered_under_a_readable_file_name():
    """The function's file name says what it is, and linecache holds its source."""
    function = generate("def twice(x):\n    return 2 * x\n", {}, "twice", what="test: twice")
    filename = function.__code__.co_filename
    assert filename == "<crmkit test: twice>"
    assert linecache.getline(filename, 2) == "    return 2 * x\n"
    assert inspect.getsource(function) == "def twice(x):\n    return 2 * x\n"


def test_a_traceback_through_generated_code_shows_the_failing_line():
    function = generate("def boom(x):\n    return 1 / x\n", {}, "boom", what="test: boom")
    with pytest.raises(ZeroDivisionError) as caught:
        function(0)
    text = "".join(traceback.format_exception(caught.value))
    assert 'File "<crmkit test: boom>", line 2, in boom' in text
    assert "return 1 / x" in text


def test_two_sources_under_one_name_both_stay_readable():
    first = generate("def f():\n    return 1\n", {}, "f", what="test: same name")
    second = generate("def f():\n    return 2\n", {}, "f", what="test: same name")
    assert first.__code__.co_filename == "<crmkit test: same name>"
    assert second.__code__.co_filename == "<crmkit test: same name #1>"
    assert "return 1" in inspect.getsource(first)
    assert "return 2" in inspect.getsource(second)
    again = generate("def f():\n    return 2\n", {}, "f", what="test: same name")
    assert again.__code__.co_filename == "<crmkit test: same name #1>"


def test_row_codecs_builders_and_conditions_are_generated_readably():
    codec = RowCodec(KINDS["contact"], SqliteDialect())
    assert codec.encode.__code__.co_filename == "<crmkit row codec: contact (sqlite)>"
    assert "def encode(e):" in inspect.getsource(codec.encode)
    build = builder(Contact)
    assert build.__code__.co_filename == "<crmkit record builder: Contact>"
    copy = evolver(Contact, ["title"])
    assert copy.__code__.co_filename == "<crmkit record copier: Contact(title)>"
    test = compile_predicate(F("country") == "DE")
    assert test.__code__.co_filename.startswith("<crmkit condition: ")
    assert "def _predicate(r):" in inspect.getsource(test)
