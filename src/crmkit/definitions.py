"""Reading and writing definitions (pipelines, qualifier rules) as JSON and TOML text.

Definitions are plain dicts first; these helpers only turn such dicts into text and back.
TOML is read with the standard library's `tomllib` and written with tomli-w, which comes
with the ``toml`` extra (``pip install "crmkit[toml]"``) and is imported only when needed.
TOML has no null, so definitions leave out what is not set instead of writing None.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from crmkit.errors import CrmkitError, Problem, ValidationError

T = TypeVar("T")

__all__ = ["MissingExtraError", "dump_json", "dump_toml", "load_each", "load_json", "load_toml"]


class MissingExtraError(CrmkitError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def load_json(text: str | bytes, what: str) -> dict[str, Any]:
    """Parse JSON text holding one object.

    Args:
        text: The JSON text.
        what: What it defines (``"pipeline"``), for error messages.

    Raises:
        ValidationError: When the text is not JSON or not an object.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValidationError.single(what, _head(text), f"is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValidationError.single(what, _head(text), "is not a JSON object")
    return data


def dump_json(data: Mapping[str, Any]) -> str:
    """Return `data` as indented JSON text."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_toml(text: str, what: str) -> dict[str, Any]:
    """Parse TOML text.

    Args:
        text: The TOML document.
        what: What it defines, for error messages.

    Raises:
        ValidationError: When the text is not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError.single(what, _head(text), f"is not valid TOML: {error}") from None


def dump_toml(data: Mapping[str, Any]) -> str:
    """Return `data` as TOML text (needs tomli-w, from the ``toml`` extra).

    Raises:
        MissingExtraError: When tomli-w is not installed.
    """
    try:
        import tomli_w  # an optional dependency (the toml extra), imported only when used
    except ImportError:
        raise MissingExtraError(
            "writing TOML needs tomli-w: install the extra with pip install 'crmkit[toml]'"
        ) from None
    return tomli_w.dumps(dict(data))


def _head(text: str | bytes) -> str:
    shown = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return shown[:60]


def load_each(
    items: Iterable[Any], where: str, load: Callable[[Any], T], problems: list[Problem]
) -> list[T]:
    """Load every item of a definition list, collecting problems instead of stopping.

    Each item's problems are nested under ``where[i]`` (``"rules[2].points"``) and appended
    to `problems`; the items that loaded are returned in order.
    """
    loaded: list[T] = []
    for i, item in enumerate(items):
        try:
            loaded.append(load(item))
        except ValidationError as error:
            problems.extend(p.within(f"{where}[{i}]") for p in error.problems)
    return loaded
