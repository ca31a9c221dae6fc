"""How conditions treat text, defined so that Python and every SQL database agree exactly.

- **Case**: `contains` and `starts_with` ignore the case of the ASCII letters A-Z only
  (`fold_ascii`); every other character must match exactly. Python's ``casefold`` and a
  database's ``lower`` disagree beyond ASCII (``ß``, ``İ``, locale rules), so crmkit does not
  use them: SQLite's built-in ``lower`` and PostgreSQL's ``translate`` give the same answer.
- **Blank**: text is blank when it holds nothing but ASCII whitespace (space, tab, line feed,
  carriage return, form feed, vertical tab), see `is_blank`.
- **Order**: text compares by code point (SQLite's BINARY collation, ``COLLATE "C"`` on
  PostgreSQL).
"""

from __future__ import annotations

from crmkit.errors import SegmentError

__all__ = ["ASCII_WHITESPACE", "fold_ascii", "fold_text", "is_blank"]

ASCII_WHITESPACE = " \t\n\r\x0b\x0c"
"""The characters blank text may consist of."""

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_ascii(text: str) -> str:
    """Return `text` with A-Z lowered and every other character unchanged.

    Raises:
        SegmentError: When `text` is not text.
    """
    if not isinstance(text, str):
        raise SegmentError(f"fold_ascii needs text, not {type(text).__name__}")
    return fold_text(text)


def fold_text(text: str) -> str:
    """`fold_ascii` without the check that `text` is text: for compiled predicates."""
    return text.lower() if text.isascii() else text.translate(_LOWER)


def is_blank(text: str) -> bool:
    """Whether `text` holds nothing but ASCII whitespace.

    Raises:
        SegmentError: When `text` is not text.
    """
    if not isinstance(text, str):
        raise SegmentError(f"is_blank needs text, not {type(text).__name__}")
    return not text.strip(ASCII_WHITESPACE)
