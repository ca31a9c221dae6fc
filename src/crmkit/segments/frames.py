"""Handing a segment's members to pandas or polars, column by column.

``to_pandas(uow.contacts, ["first_name", "country", "created_at"], segment)`` fetches only
those columns (`Repository.columns`: SQL stores select them and decode value by value,
building no entity) and builds the DataFrame from plain lists. pandas and polars are
optional: install ``crmkit[pandas]`` or ``crmkit[polars]``; they are imported only here,
only when called.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from crmkit.conditions.tree import Condition
from crmkit.definitions import MissingExtraError
from crmkit.errors import ValidationError
from crmkit.model.rfm import RfmScore
from crmkit.segments.rfm import rfm_columns

__all__ = ["ColumnSource", "fetch_columns", "to_pandas", "to_polars"]


@runtime_checkable
class ColumnSource(Protocol):
    """Anything with `columns` like a repository (``uow.contacts``, ``uow.deals``, ...)."""

    def columns(
        self,
        names: Sequence[str] | None = None,
        segment: Condition | None = None,
        *,
        include_archived: bool = False,
        batch_size: int = 5000,
    ) -> dict[str, list[Any]]:
        """Return the named columns, in id order."""
        ...


Source = ColumnSource | Mapping[str, Sequence[Any]] | Iterable[RfmScore]


def fetch_columns(
    source: Source,
    columns: Sequence[str] | None = None,
    segment: Condition | None = None,
    *,
    include_archived: bool = False,
) -> dict[str, list[Any]]:
    """Return plain columns from a repository, a mapping of columns or RFM scores.

    Args:
        source: A repository (``uow.contacts``), columns already fetched (a mapping of
            names to lists), or `RfmScore` objects (from `crmkit.segments.rfm`).
        columns: The columns to fetch from a repository (its default set when None:
            every field held in one plain column, a contact's primary ``email`` and
            ``phone``); for a mapping or scores, the subset to keep (all when None).
        segment: With a repository: only the records in this segment.
        include_archived: With a repository: archived records too.

    Raises:
        ValidationError: When a repository is given an empty list of columns, a segment
            comes with data already fetched, or a column is unknown.
    """
    if isinstance(source, ColumnSource):
        if columns is not None and not columns:
            raise ValidationError.single("columns", columns, "name the columns to fetch")
        return source.columns(columns, segment, include_archived=include_archived)
    if segment is not None:
        raise ValidationError.single("segment", str(segment), "applies to a repository only")
    if isinstance(source, Mapping):
        data = {str(name): list(values) for name, values in source.items()}
    else:
        data = rfm_columns(source)
    if columns is None:
        return data
    unknown = [name for name in columns if name not in data]
    if unknown:
        raise ValidationError.single("columns", unknown, f"are not among {', '.join(data)}")
    return {name: data[name] for name in columns}


def to_pandas(
    source: Source,
    columns: Sequence[str] | None = None,
    segment: Condition | None = None,
    *,
    include_archived: bool = False,
) -> Any:
    """Return a `pandas.DataFrame` of the columns (see `fetch_columns` for the arguments).

    Values keep their exact types: Decimal amounts stay Decimal (an object column),
    instants become ``datetime64[us, UTC]``, ids stay `uuid.UUID`.

    Raises:
        MissingExtraError: When pandas is not installed (``pip install 'crmkit[pandas]'``).
    """
    pandas = _import("pandas")
    data = fetch_columns(source, columns, segment, include_archived=include_archived)
    return pandas.DataFrame(data)


def to_polars(
    source: Source,
    columns: Sequence[str] | None = None,
    segment: Condition | None = None,
    *,
    include_archived: bool = False,
) -> Any:
    """Return a `polars.DataFrame` of the columns (see `fetch_columns` for the arguments).

    Arrow has no uuid type, so ids become their text (``"0190..."``); Decimal amounts become
    polars decimals, lists and dicts become list and struct columns.

    Raises:
        MissingExtraError: When polars is not installed (``pip install 'crmkit[polars]'``).
    """
    polars = _import("polars")
    data = fetch_columns(source, columns, segment, include_archived=include_archived)
    return polars.DataFrame({name: _arrow_friendly(values) for name, values in data.items()})


def _arrow_friendly(values: list[Any]) -> list[Any]:
    if any(isinstance(v, uuid.UUID) for v in values):
        return [str(v) if isinstance(v, uuid.UUID) else v for v in values]
    return values


def _import(name: str) -> Any:
    """Import an optional DataFrame library, or say which extra brings it."""
    try:
        return importlib.import_module(name)  # the pandas / polars extra, imported when used
    except ImportError:
        raise MissingExtraError(
            f"DataFrames need {name}: install the extra with pip install 'crmkit[{name}]'"
        ) from None
