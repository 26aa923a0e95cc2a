"""A subgroup column's groups as a rule a partition can apply, and each group's order-free
sides, for an engine that reads the tables in partitions.

`subgroup.groups` splits whole tables by boolean masks. The part of the subgroup family
that does not depend on the rows' order, each group's real and synthetic rows as
`fidelity.column_shapes` sees them (a numeric column's non-missing values rounded and
sorted, `fidelity.ks_side`; a categorical column's category counts,
`fidelity.category_counts`), can be made where the partitions live instead:

1. `grouping` fixes the groups from the whole tables (the real table's values or
   quartiles), as `subgroup.groups` does, before it drops the groups no real or synthetic
   row falls in;
2. `sides` gives a partition's rows per group and each group's sides in the partition;
3. `merge` adds the partitions' counts up (integers, exact) and merges their sorted runs
   into the group's sorted values (the same values in the same order as one sort of all
   of them: a sorted array of numbers is unique, up to the sign of a zero, which no
   comparison sees).

Pure: no I/O and no engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from synthgov.metrics import fidelity
from synthgov.metrics.encoding import Encoded, Tables
from synthgov.metrics.measurement import Allocate, in_memory


@dataclass(frozen=True)
class Grouping:
    """How the rows of subgroup column `name` fall into its groups (see the module
    docstring): by category code, by one of the real table's `values`, or by the quartile
    `edges`; a missing value in the last group."""

    name: str
    numeric: bool
    #: categorical: how many categories the encoding has
    categories: int = 0
    #: numeric, grouped by value: the real table's distinct values, ascending
    values: tuple[float, ...] | None = None
    #: numeric, grouped by quartile: the distinct quartiles, ascending
    edges: tuple[float, ...] = ()

    @property
    def size(self) -> int:
        """The groups before those without rows are dropped."""
        if not self.numeric:
            return self.categories + 1
        if self.values is not None:
            return len(self.values) + 2  # each value, (other), (missing)
        return len(self.edges) + 2  # the quartile intervals, (missing)

    def index(self, values: np.ndarray) -> np.ndarray:
        """The group of each value (`Encoded` layout); -1: none (an infinite value past the
        last quartile interval, which `subgroup.groups` leaves out too)."""
        missing = self.size - 1
        if not self.numeric:
            return np.where(values < 0, missing, values).astype(np.int64)
        nan = np.isnan(values)
        if self.values is not None:
            known = np.asarray(self.values, dtype=np.float64)
            at = np.minimum(np.searchsorted(known, values), max(len(known) - 1, 0))
            equal = known[at] == values if len(known) else np.zeros(len(values), dtype=bool)
            found = np.where(equal, at, len(known))  # not a real value: (other)
        else:
            found = np.searchsorted(np.asarray(self.edges), values, side="right")
            found = np.where(values == np.inf, -1, found)  # in no interval [low, inf)
        return np.where(nan, missing, found).astype(np.int64)


def grouping(column: Encoded, max_value_groups: int) -> Grouping:
    """`column`'s groups as `subgroup.groups` makes them from the whole tables."""
    if not column.is_numeric:
        return Grouping(column.name, False, categories=len(column.categories))
    real = column.real[~np.isnan(column.real)]
    values = np.unique(real)
    if len(values) <= max_value_groups:
        return Grouping(column.name, True, values=tuple(float(v) for v in values))
    edges = np.unique(np.quantile(real, [0.25, 0.5, 0.75]))
    return Grouping(column.name, True, edges=tuple(float(e) for e in edges))


@dataclass
class Sides:
    """One table's rows per group, and per group and other column its side."""

    #: rows per group (`Grouping.size` of them)
    rows: np.ndarray
    #: (group, column) -> sorted rounded values (numeric) or category counts (float64)
    sides: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)


def sides(group: Grouping, tables: Tables, role: str) -> Sides:
    """The groups' sides of table `role` of `tables` (a partition, or a whole table)."""
    index = group.index(tables[group.name].table(role))
    rows = np.bincount(index[index >= 0], minlength=group.size)
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(group.size + 1))
    found = Sides(rows)
    for column in tables:
        if column.name == group.name:
            continue
        values = column.table(role)[order]
        for g in range(group.size):
            if not rows[g]:
                continue
            own = values[bounds[g] : bounds[g + 1]]
            found.sides[g, column.name] = (
                fidelity.ks_side(own, fidelity.ks_decimals(column))
                if column.is_numeric
                else fidelity.category_counts(own, len(column.categories))
            )
    return found


def merge(
    parts: Sequence[Sides], size: int, numeric: Mapping[str, bool], allocate: Allocate = in_memory
) -> Sides:
    """The sides of the table whose partitions' sides are `parts` (`size` groups): counts
    added up, sorted runs merged (a stable sort of runs merges them); the merged values in
    arrays from `allocate`."""
    rows = np.zeros(size, dtype=np.int64)
    for part in parts:
        rows += part.rows
    out = Sides(rows)
    keys = sorted({key for p in parts for key in p.sides})
    for key in keys:
        pieces = [p.sides[key] for p in parts if key in p.sides]
        if not numeric[key[1]]:
            total = pieces[0].copy()
            for piece in pieces[1:]:
                total += piece
            out.sides[key] = total
            continue
        merged = allocate((sum(len(p) for p in pieces),), np.float64)
        np.concatenate(pieces, out=merged)
        merged.sort(kind="stable")
        out.sides[key] = merged
    return out
