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
from crmkit.values.arguments import as_items, check_flag, check_items, require_instance

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
        ValidationError: Naming the argument that is wrong: a `source` that is none of the
            three (``source.<name>`` for a column that is not a list of values, ``source``
            for columns of different lengths), `columns` that are not a collection of
            names (``columns[i]`` for one that is not text) or are empty for a repository,
            a `segment` that is not a Condition or comes with data already fetched, an
            unknown column.
    """
    if columns is not None:
        columns = check_items(columns, "columns", str, "column names")
    if segment is not None:
        require_instance(segment, Condition, "segment")
    check_flag(include_archived, "include_archived")
    if isinstance(source, ColumnSource):
        if columns is not None and not columns:
            raise ValidationError.single("columns", columns, "name the columns to fetch")
        return source.columns(columns, segment, include_archived=include_archived)
    if segment is not None:
        raise ValidationError.single("segment", str(segment), "applies to a repository only")
    if isinstance(source, Mapping):
        data = _columns(source)
    else:
        scores = as_items(source)  # once: a generator of scores is read only once
        if scores is None:
            raise ValidationError.single(
                "source",
                source,
                "is not a repository (uow.contacts), a mapping of columns or a list of RfmScore",
            )
        data = rfm_columns(check_items(scores, "source", RfmScore, "RFM scores"))
    if columns is None:
        return data
    unknown = [name for name in columns if name not in data]
    if unknown:
        raise ValidationError.single("columns", unknown, f"are not among {', '.join(data)}")
    return {name: data[name] for name in columns}


def _columns(source: Mapping[Any, Any]) -> dict[str, list[Any]]:
    """Return columns given as a mapping as lists, checking each is a list of one length."""
    data = {}
    for name, values in source.items():
        items = as_items(values)
        if items is None:
            raise ValidationError.single(f"source.{name}", values, "is not a list of values")
        data[str(name)] = list(items)
    lengths = {name: len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValidationError.single(
            "source", shown, "holds columns of different lengths (each needs one per record)"
        )
    return data


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
        ValidationError: As `fetch_columns`.
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
        ValidationError: As `fetch_columns`, and naming a column whose values polars cannot
            hold in one typed column (mixed kinds, integers too large, lone surrogates).
    """
    polars = _import("polars")
    data = fetch_columns(source, columns, segment, include_archived=include_archived)
    return polars.DataFrame([_series(polars, name, values) for name, values in data.items()])


def _series(polars: Any, name: str, values: list[Any]) -> Any:
    """Return one column as a polars Series, or name the column polars cannot hold.

    A polars column has one type: values of several kinds (schema-less custom fields may
    hold a number for one record and text for another), integers too large for its integer
    types and text with lone surrogates are refused by polars itself; its refusal is
    reported for the column, with its message (`to_pandas` keeps such values as objects).
    """
    refusals = (TypeError, ValueError, OverflowError, polars.exceptions.PolarsError)
    try:
        return polars.Series(name, _arrow_friendly(values))
    except refusals as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValidationError.single(
            name, values, f"cannot be a polars column ({reason}); to_pandas keeps such values"
        ) from None


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
