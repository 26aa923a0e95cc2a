"""Exact counts of a table, taken one partition at a time and added up: a map and a reduce.

Some metrics are functions of counts only: how many values of a column are missing, how
often each label occurs, how often each pair of labels of two categorical columns occurs.
`count` (the map) takes those counts over one partition of one table, in the partition's
own labels, so that it needs nothing but the partition; `add` (the reduce) recodes each
partition's labels into the tables' categories and adds the counts up. Integer counts add
up exactly in any order, so the totals, and every metric computed from them
(`fidelity.tv_complement`, `fidelity.missing_rate_diff`, `fidelity.category_adherence`,
`fidelity.contingency_similarity`), are the same bits however the rows were partitioned.

The in-process engine takes the same path with each whole table as its only partition
(`of_tables`), so there is one code path for both engines: a Dask worker counts its
partition while it encodes it and the client adds the counts, without the columns.

Pure: no I/O and no engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from synthgov.metrics.encoding import ROLES, Tables

#: a pair's local contingency table is counted densely (`np.bincount`) up to this many cells
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True)
class Column:
    """One card column of one partition: float64 values (NaN missing) for a number, or
    int32 codes into `labels` (-1 missing) for a label."""

    name: str
    values: np.ndarray
    #: None for a number; the partition's own labels for a categorical column
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Counts:
    """The counts of one partition of one table, in the partition's own labels (the map)."""

    rows: int
    #: column -> how many values are missing
    missing: dict[str, int]
    #: categorical column -> (its labels here, how often each occurs)
    labels: dict[str, tuple[tuple[str, ...], np.ndarray]]
    #: (a, b) categorical pair, card order -> (local code of a, of b, -1 missing; how often)
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]


def count(columns: Sequence[Column], rows: int) -> Counts:
    """The counts of one partition (`rows` rows) whose card columns are `columns`."""
    missing: dict[str, int] = {}
    labels: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    for column in columns:
        if column.labels is None:
            missing[column.name] = int(np.count_nonzero(np.isnan(column.values)))
            continue
        codes = column.values
        missing[column.name] = int(np.count_nonzero(codes < 0))
        tally = np.bincount(codes[codes >= 0], minlength=len(column.labels)).astype(np.int64)
        labels[column.name] = (column.labels, tally)
    pairs = {}
    categorical = [c for c in columns if c.labels is not None]
    for a, b in itertools.combinations(categorical, 2):
        pairs[(a.name, b.name)] = _pair(a, b)
    return Counts(rows, missing, labels, pairs)


def _pair(a: Column, b: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How often each (code of a, code of b) occurs, missing (-1) a code of its own."""
    assert a.labels is not None and b.labels is not None
    width = len(b.labels) + 1
    cells = (a.values.astype(np.int64) + 1) * width + (b.values.astype(np.int64) + 1)
    if (len(a.labels) + 1) * width <= _DENSE_CELLS:
        dense = np.bincount(cells, minlength=(len(a.labels) + 1) * width)
        seen = np.flatnonzero(dense)
        found, times = seen, dense[seen].astype(np.int64)
    else:
        found, counted = np.unique(cells, return_counts=True)
        times = counted.astype(np.int64)
    return found // width - 1, found % width - 1, times


@dataclass(frozen=True)
class Totals:
    """The counts of one whole table, in the tables' categories (the reduce)."""

    rows: int
    missing: dict[str, int]
    #: categorical column -> how often each of its categories occurs (int64)
    labels: dict[str, np.ndarray]
    #: (a, b) -> (cell codes (code a + 1) * (categories of b + 1) + code b + 1, sorted;
    #: how often each occurs)
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]


def add(parts: Sequence[Counts], categories: Mapping[str, tuple[str, ...]]) -> Totals:
    """The counts of a table from those of its partitions; `categories` gives each
    categorical column's categories in the tables (the sorted union of all labels).
    A column without categories there (not in the synthetic table) is left out."""
    names = [n for n in parts[0].labels if n in categories]
    # per partition and column: local code -> the tables' code, the last entry for -1
    lookups = [{n: _recode(p.labels[n][0], categories[n]) for n in names} for p in parts]
    labels = {}
    for name in names:
        total = np.zeros(len(categories[name]), dtype=np.int64)
        for p, lookup in zip(parts, lookups, strict=True):
            total[lookup[name][:-1]] += p.labels[name][1]  # distinct labels: no index twice
        labels[name] = total
    pairs = {}
    for a, b in (p for p in parts[0].pairs if p[0] in categories and p[1] in categories):
        width = len(categories[b]) + 1
        cells, weights = [], []
        for p, lookup in zip(parts, lookups, strict=True):
            code_a, code_b, times = p.pairs[(a, b)]
            global_a = lookup[a][code_a].astype(np.int64)
            global_b = lookup[b][code_b].astype(np.int64)
            cells.append((global_a + 1) * width + (global_b + 1))
            weights.append(times)
        if len(cells) == 1 and np.all(cells[0][1:] > cells[0][:-1]):  # one table, in order
            pairs[(a, b)] = (cells[0], weights[0])
            continue
        found, inverse = np.unique(np.concatenate(cells), return_inverse=True)
        # float64 weights add integers below 2^53 exactly
        summed = np.bincount(inverse.reshape(-1), np.concatenate(weights), minlength=found.size)
        pairs[(a, b)] = (found, summed.astype(np.int64))
    return Totals(
        sum(p.rows for p in parts),
        {name: sum(p.missing[name] for p in parts) for name in parts[0].missing},
        labels,
        pairs,
    )


def _recode(local: tuple[str, ...], categories: tuple[str, ...]) -> np.ndarray:
    """Local code -> the tables' code; the trailing entry maps a missing code (-1) to -1."""
    if local == categories:  # a whole table, or a partition that holds every label in order
        return np.append(np.arange(len(local), dtype=np.int32), np.int32(-1))
    index = {label: code for code, label in enumerate(categories)}
    return np.array([index[label] for label in local] + [-1], dtype=np.int32)


def columns_of(tables: Tables, role: str) -> list[Column]:
    """The card columns of table `role` of `tables`, as one partition (`count`)."""
    return [Column(c.name, c.table(role), None if c.is_numeric else c.categories) for c in tables]


def of_tables(tables: Tables, roles: Sequence[str] = ROLES) -> dict[str, Totals]:
    """role -> the counts of that whole table, for each of `roles`: the in-process engine's
    map (one partition per table) and reduce."""
    categories = {c.name: c.categories for c in tables.categorical}
    return {
        role: add([count(columns_of(tables, role), tables.rows[role])], categories)
        for role in roles
    }
