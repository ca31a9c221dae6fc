"""Reading the definition files commands take (``--save``, ``--policy``)."""

from __future__ import annotations

from pathlib import Path

from crmkit.errors import ValidationError

__all__ = ["read_definition"]


def read_definition(path: Path, option: str) -> str:
    """Return the text of a definition file named by a command's `option`.

    Raises:
        ValidationError: Naming `option` when the file cannot be read.
    """
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValidationError.single(
            option, str(path), f"cannot be read: {error.strerror}"
        ) from None
