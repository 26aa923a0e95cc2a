"""A card's column schema inferred from a real table.

Pure: a DataFrame in, card `Column` models and `Identifier` findings out, no I/O. The
rules are deliberately simple and written down (docs/schema-inference.md), because the
card they produce is reviewed by a person and then enforced by the schema gate:

- types: integer, number, boolean, categorical (text with at most 50 distinct values that
  repeat: at most half as many as rows), string (other text), date and datetime (ISO 8601
  text or typed columns). A float column holding only whole numbers and some nulls is an
  integer column (CSV readers widen integers with missing values to floats).
- `nullable` when any value is missing; `unique` for integer and string columns whose
  values are all distinct; `min`/`max` for numbers; `allowed_values` for categories.
- Likely direct identifiers (`synthgov.metrics.identifiers`) are left out of `columns`; the
  caller lists them in `prohibited_columns`.

Column order is the table's (BRIEF §10.18: the attack column sets depend on it).
pandas is imported at module level: only commands that read tables import this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_float_dtype,
    is_integer_dtype,
)
from pydantic import ValidationError

from synthgov.errors import InputError, printable
from synthgov.metrics.identifiers import Identifier, identifier_reason, name_reason
from synthgov.models.card import Column, ColumnType

#: A text column is categorical with at most this many distinct values ...
MAX_CATEGORIES = 50
#: ... and at most this share of distinct values among its non-null rows.
MAX_CATEGORY_SHARE = 0.5
MAX_VALUE_LENGTH = 1000  # a card's allowed value is at most this long

_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = _DATE + r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"


@dataclass(frozen=True)
class Schema:
    """The inferred card columns (table order) and the excluded identifiers."""

    columns: list[Column]
    identifiers: list[Identifier]
    empty_columns: list[str]


# --- types --------------------------------------------------------------------------------


def _is_whole(values: pd.Series) -> bool:
    """Finite whole numbers that a float represents exactly (|x| < 2**53)."""
    return bool(((values % 1) == 0).all() and (values.abs() < 2**53).all())


def _text_type(values: pd.Series, rows: int) -> ColumnType:
    text = values.astype(str)
    if bool(text.str.fullmatch(_DATE).all()) and _parses(text):
        return ColumnType.DATE
    if bool(text.str.fullmatch(rf"{_DATETIME}|{_DATE}").all()) and _parses(text):
        return ColumnType.DATETIME
    distinct = values.nunique()
    short = bool(text.str.len().max() <= MAX_VALUE_LENGTH)
    if short and distinct <= MAX_CATEGORIES and distinct <= MAX_CATEGORY_SHARE * rows:
        return ColumnType.CATEGORICAL
    return ColumnType.STRING


def _parses(text: pd.Series) -> bool:
    try:
        parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    except (ValueError, TypeError, OverflowError):
        return False
    return not bool(parsed.isna().any())


def _datetime_type(values: pd.Series) -> ColumnType:
    if getattr(values.dt, "tz", None) is None and bool((values == values.dt.normalize()).all()):
        return ColumnType.DATE
    return ColumnType.DATETIME


def _plain(series: pd.Series) -> pd.Series:
    """A pandas categorical is judged by its values, like the same column read from CSV."""
    return series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series


def column_type(series: pd.Series) -> ColumnType:
    """The card type of one column with at least one value (rules: module docstring)."""
    series = _plain(series)
    values = series.dropna()
    dtype = series.dtype
    if is_bool_dtype(dtype):
        return ColumnType.BOOLEAN
    if is_datetime64_any_dtype(dtype):
        return _datetime_type(values)
    if is_integer_dtype(dtype):
        return ColumnType.INTEGER
    if is_float_dtype(dtype):
        has_nulls = len(values) < len(series)
        return ColumnType.INTEGER if has_nulls and _is_whole(values) else ColumnType.NUMBER
    kind = infer_dtype(values, skipna=True)
    if kind == "boolean":
        return ColumnType.BOOLEAN
    if kind == "date":
        return ColumnType.DATE
    if kind in ("datetime", "datetime64"):
        return ColumnType.DATETIME
    if kind == "string":
        return _text_type(values, len(values))
    if kind in ("integer", "mixed-integer-float", "floating", "decimal"):
        numbers = values.astype(float)
        return ColumnType.INTEGER if kind == "integer" and _is_whole(numbers) else ColumnType.NUMBER
    return ColumnType.STRING


def scalar(value: Any) -> str | int | bool:
    """A value as a card scalar (allowed values, the target's positive label).

    Raises:
        ValueError: the value is not a boolean, a whole number or text.
    """
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"holds {value!r}, which is not a boolean, a whole number or text")


def _order(value: str | int | bool) -> tuple[str, str | int | bool]:
    """A total order over mixed scalars: by type, then by value."""
    return (type(value).__name__, value)


def _sorted_values(values: pd.Series) -> list[str | int | bool]:
    return sorted({scalar(v) for v in values.unique()}, key=_order)


def _column(name: str, series: pd.Series, kind: ColumnType) -> Column:
    values = series.dropna()
    spec: dict[str, Any] = {"name": name, "type": kind, "nullable": len(values) < len(series)}
    if kind in (ColumnType.INTEGER, ColumnType.STRING) and len(values) >= 2:
        spec["unique"] = bool(values.is_unique)
    if kind.is_numeric:
        numbers = values.astype(float)
        if bool(numbers.abs().lt(math.inf).all()):  # no range from a column holding inf
            bound = int if kind is ColumnType.INTEGER else float
            spec["min"], spec["max"] = bound(numbers.min()), bound(numbers.max())
    if kind is ColumnType.CATEGORICAL:
        spec["allowed_values"] = _sorted_values(values)
    try:
        return Column.model_validate(spec)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InputError.at(
            f"column {printable(name[:60])!r}", f"{field}: {error['msg']}"
        ) from None


def infer_schema(frame: pd.DataFrame) -> Schema:
    """Card columns for every column of `frame`, in order, minus likely direct identifiers.

    A column without any value is typed `string`, nullable, and listed in `empty_columns`
    so that the caller can ask for a review.
    """
    columns: list[Column] = []
    identifiers: list[Identifier] = []
    empty: list[str] = []
    for label in frame.columns:
        name, series = str(label), _plain(frame[label])
        values = series.dropna()
        kind = column_type(series) if len(values) else ColumnType.STRING
        reason = identifier_reason(name, values, kind) if len(values) else name_reason(name, kind)
        if reason is not None:
            identifiers.append(Identifier(name, reason))
        elif not len(values):
            empty.append(name)
            columns.append(Column(name=name, type=ColumnType.STRING, nullable=True))
        else:
            columns.append(_column(name, series, kind))
    return Schema(columns, identifiers, empty)


def binary_positive(series: pd.Series) -> tuple[str | int | bool, int, int]:
    """The minority class of a binary column, with its count and the other class's count.

    ROC AUC, the utility metric of BRIEF §8, scores one class against the other; on a
    tie the larger label is positive (1 over 0, True over False, "yes" over "no").

    Raises:
        ValueError: the column does not hold exactly two distinct values, or holds
            values that are not booleans, whole numbers or text.
    """
    counts = _plain(series).dropna().value_counts()
    if len(counts) != 2:
        raise ValueError(
            f"has {len(counts)} distinct value(s); ROC AUC needs a binary target (exactly two)"
        )
    low, high = sorted(
        ((scalar(label), int(count)) for label, count in counts.items()),
        key=lambda pair: _order(pair[0]),
    )
    if low[1] < high[1]:
        return low[0], low[1], high[1]
    return high[0], high[1], low[1]
