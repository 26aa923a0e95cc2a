"""The three tables of an evaluation, typed by the card and encoded once for every metric.

The card, never the pandas dtype, decides how a column is read (an integer column with
a null reads as float64 from CSV; a categorical column of numbers is still categorical).
Two kinds result, each one numpy array per table, row order kept:

- numeric (integer, number, date, datetime): float64, NaN for a missing value. Dates are
  days and datetimes seconds since 1970-01-01 UTC: every metric here is invariant under
  that affine map, and float64 keeps them exact.
- categorical (categorical, boolean, string): int32 codes into `categories`, the sorted
  union of the labels of all three tables, -1 for a missing value. Labels are text;
  `1`, `1.0` and `"1"` are one label, booleans are `true`/`false`.

The real and holdout tables are the reference: a card column missing from them, or a
value the card's type cannot hold, is bad input (exit 2). The synthetic table is what is
judged: the same defects there are recorded as `Defects` for the schema metrics, and a
value that does not fit the type counts as missing for the other metrics.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from synthgov.errors import InputError, printable
from synthgov.models.card import Card, ColumnType

ROLES = ("real", "holdout", "synthetic")
_DAY_US = 86_400 * 10**6
_SECOND_US = 10**6
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class Kind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Encoded:
    """One card column in the three tables (see the module docstring for the encoding)."""

    name: str
    type: ColumnType
    real: np.ndarray
    holdout: np.ndarray
    synthetic: np.ndarray
    categories: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        return Kind.NUMERIC if _is_numeric(self.type) else Kind.CATEGORICAL

    @property
    def is_numeric(self) -> bool:
        return self.kind is Kind.NUMERIC

    def table(self, role: str) -> np.ndarray:
        values: np.ndarray = getattr(self, role)
        return values

    def missing(self, role: str) -> np.ndarray:
        """A boolean mask of the missing values in the table `role`."""
        values = self.table(role)
        return np.isnan(values) if self.is_numeric else values < 0


@dataclass(frozen=True)
class Defects:
    """Where the synthetic table departs from the card, column by column."""

    missing_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    prohibited_columns: tuple[str, ...] = ()
    #: column -> one-line descriptions ("3 values are not numbers: 'abc', ...")
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Tables:
    """The card's columns, in card order, present in all three tables."""

    columns: tuple[Encoded, ...]
    rows: Mapping[str, int]  # role -> row count

    def __iter__(self) -> Iterator[Encoded]:
        return iter(self.columns)

    def __getitem__(self, name: str) -> Encoded:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(column.name == name for column in self.columns)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def numeric(self) -> list[Encoded]:
        return [column for column in self.columns if column.is_numeric]

    @property
    def categorical(self) -> list[Encoded]:
        return [column for column in self.columns if not column.is_numeric]

    def select(self, role: str, rows: np.ndarray) -> Tables:
        """The same tables with only `rows` (indices or a mask) of the table `role` kept."""
        columns = tuple(
            Encoded(
                c.name,
                c.type,
                **{r: c.table(r)[rows] if r == role else c.table(r) for r in ROLES},
                categories=c.categories,
            )
            for c in self.columns
        )
        counts = dict(self.rows)
        counts[role] = len(columns[0].table(role)) if columns else 0
        return Tables(columns, counts)


def _is_numeric(kind: ColumnType) -> bool:
    return kind in (ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.DATE, ColumnType.DATETIME)


def encode(
    card: Card, frames: Mapping[str, pd.DataFrame], names: Mapping[str, str]
) -> tuple[Tables, Defects]:
    """Type and encode the card's columns of the three `frames` (keyed by role).

    `names` gives each role's file as shown in errors.

    Raises:
        InputError: a card column missing from the real or holdout table, a value there
            that the card's type cannot hold, or a column without any value in any table.
    """
    require_card_columns(card, {role: frames[role].columns for role in ROLES}, names)
    synthetic = frames["synthetic"]
    card_names = [c.name for c in card.columns]
    present = set(map(str, synthetic.columns))
    prohibited = set(card.prohibited_columns)
    defects: dict[str, list[str]] = {}
    encoded: list[Encoded] = []
    for column in card.columns:
        if column.name not in present:
            continue
        values: dict[str, Any] = {}
        for role in ROLES:
            series = frames[role][column.name]
            converted, failures = _convert(series, column.type)
            if failures and converted.notna().sum() == 0:  # nothing fits: say why, not "empty"
                raise InputError.at(names[role], _failure(column.name, column.type, failures))
            if failures:
                if role != "synthetic":
                    raise InputError.at(names[role], _failure(column.name, column.type, failures))
                defects.setdefault(column.name, []).append(
                    _failure(column.name, column.type, failures)
                )
            if converted.notna().sum() == 0:
                raise InputError.at(
                    names[role], f"column {printable(column.name)!r} has no values (all missing)"
                )
            values[role] = converted
        if _is_numeric(column.type):
            arrays = [values[r].to_numpy(dtype=np.float64, na_value=np.nan) for r in ROLES]
            encoded.append(Encoded(column.name, column.type, *arrays))
        else:
            categories, codes = _codes([values[r] for r in ROLES])
            by_role = dict(zip(ROLES, codes, strict=True))
            encoded.append(Encoded(column.name, column.type, **by_role, categories=categories))
    tables = Tables(tuple(encoded), {role: len(frames[role]) for role in ROLES})
    return tables, Defects(
        missing_columns=tuple(n for n in card_names if n not in present),
        extra_columns=tuple(str(n) for n in synthetic.columns if str(n) not in card_names),
        prohibited_columns=tuple(str(n) for n in synthetic.columns if str(n) in prohibited),
        problems={name: tuple(lines) for name, lines in defects.items()},
    )


def convert(series: pd.Series, kind: ColumnType) -> tuple[pd.Series, list[Any]]:
    """One column of one table (or of one partition of it) in the card type's representation
    (float64 numbers, text labels, NaN missing) and the distinct values that do not fit, as
    `encode` converts it: a partitioned table converted part by part encodes alike."""
    return _convert(series, kind)


def failure(name: str, kind: ColumnType, bad: list[Any]) -> str:
    """The line `encode` gives for the values `bad` of column `name` that its type cannot hold."""
    return _failure(name, kind, bad)


def is_numeric(kind: ColumnType) -> bool:
    """Whether columns of card type `kind` are encoded as float64 numbers (else as codes)."""
    return _is_numeric(kind)


def require_card_columns(
    card: Card, columns: Mapping[str, Container[str]], names: Mapping[str, str]
) -> None:
    """Raise unless the real and holdout tables (role -> their column names) hold every
    card column; a synthetic table may lack one, which the schema family reports.

    Raises:
        InputError: the first of those tables that lacks one, naming the columns.
    """
    for role in ("real", "holdout"):
        absent = [c.name for c in card.columns if c.name not in columns[role]]
        if absent:
            raise InputError.at(
                names[role],
                f"the card's column(s) {_listing(absent)} are missing from the {role} table",
            )


def _listing(names: list[str]) -> str:
    shown = ", ".join(repr(printable(n)) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _failure(name: str, kind: ColumnType, bad: list[Any]) -> str:
    examples = ", ".join(repr(printable(str(v))[:40]) for v in bad[:3])
    what = {
        "integer": "whole numbers",
        "number": "numbers",
        "date": "ISO 8601 dates",
        "datetime": "ISO 8601 date-times",
        "boolean": "booleans",
    }.get(kind.value, str(kind))
    return f"column {printable(name)!r}: {len(bad)} distinct value(s) are not {what} as the card says: {examples}"


def _convert(series: pd.Series, kind: ColumnType) -> tuple[pd.Series, list[Any]]:
    """`series` in the card type's representation, and the distinct values that do not fit."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if kind in (ColumnType.INTEGER, ColumnType.NUMBER):
        return _numbers(series, whole=kind is ColumnType.INTEGER)
    if kind in (ColumnType.DATE, ColumnType.DATETIME):
        return _instants(series, kind)
    if kind is ColumnType.BOOLEAN:
        return _booleans(series)
    return _labels(series), []


def _bad(original: pd.Series, converted: pd.Series) -> list[Any]:
    lost = original.notna() & converted.isna()
    return sorted(map(str, original[lost].unique()))[:20] if bool(lost.any()) else []


def _numbers(series: pd.Series, whole: bool) -> tuple[pd.Series, list[Any]]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(np.float64).where(series.notna()), sorted(
            map(str, series.dropna().unique())
        )[:20]
    numbers = pd.to_numeric(series, errors="coerce").astype(np.float64)
    numbers = numbers.where(np.isfinite(numbers))
    bad = _bad(series, numbers)
    if whole:
        fractional = numbers.notna() & (numbers % 1 != 0)
        if bool(fractional.any()):
            bad += sorted(map(str, series[fractional].unique()))[:20]
    return numbers, bad


def _instants(series: pd.Series, kind: ColumnType) -> tuple[pd.Series, list[Any]]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        instants = series
    else:
        text = series.where(series.isna(), series.astype(str))
        instants = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if getattr(instants.dt, "tz", None) is not None:
        instants = instants.dt.tz_convert("UTC").dt.tz_localize(None)
    # microseconds: exact, and years 1 to 9999 fit (nanoseconds overflow past 2262)
    micros = instants.astype("datetime64[us]").to_numpy().astype(np.int64)
    unit = _DAY_US if kind is ColumnType.DATE else _SECOND_US
    values = pd.Series(
        np.where(instants.isna().to_numpy(), np.nan, micros / unit), index=series.index
    )
    bad = _bad(series, values)
    if kind is ColumnType.DATE:
        partial = values.notna() & (values % 1 != 0)
        if bool(partial.any()):
            bad += sorted(map(str, series[partial].unique()))[:20]
    return values, bad


def _booleans(series: pd.Series) -> tuple[pd.Series, list[Any]]:
    def flag(value: Any) -> Any:
        if isinstance(value, bool | np.bool_):
            return "true" if value else "false"
        text = _label(value).lower()
        return "true" if text in _TRUE else "false" if text in _FALSE else None

    uniques = series.dropna().unique()
    mapping = {value: flag(value) for value in uniques}
    labels = series.map(mapping)
    return labels, sorted(str(v) for v, f in mapping.items() if f is None)[:20]


def _label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _labels(series: pd.Series) -> pd.Series:
    """`series.map({value: _label(value)})` over its distinct values, by one factorisation
    (a hash per cell, not two): the same labels, NaN where missing."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return series.map({})
    labels = np.array([_label(value) for value in uniques] + [np.nan], dtype=object)
    return pd.Series(labels[codes], index=series.index, name=series.name)


def _codes(tables: list[pd.Series]) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Codes into the sorted union of the labels of all tables; -1 where missing."""
    factorized = [pd.factorize(series, use_na_sentinel=True) for series in tables]
    categories = tuple(sorted(set().union(*(map(str, uniques) for _, uniques in factorized))))
    index = {label: code for code, label in enumerate(categories)}
    codes = []
    for local, uniques in factorized:
        lookup = np.array([index[str(u)] for u in uniques] + [-1], dtype=np.int32)
        codes.append(lookup[local])  # local -1 picks the trailing -1
    return categories, codes


def card_label(value: str | int | bool) -> str:
    """A card scalar (allowed value, positive label) as the label the encoding gives it."""
    return _label(value)
