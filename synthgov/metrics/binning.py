"""The numeric × categorical pairs' contingency counts of fidelity's column pair trends,
as a map and a reduce, for an engine that reads the tables in partitions.

`fidelity` scores such a pair by contingency after cutting the number into the report's
equal-width bins, **computed separately on each table** (`fidelity.pair_edges`): a bin
code is a function of the value and its table's edges alone. So once the client has the
edges (the least and greatest value of each numeric column per table), the pairs' joint
counts are integers a partition can count (`count`: each number binned as
`fidelity._binned` bins it, `np.digitize` with the same edges, then counted as
`tallies.count` counts a pair of labels) and the client can add up (`add`:
`tallies.add`), exactly, in any order. `fidelity` scores them from the totals with the
same float operations as from the whole columns (`fidelity._contingency_counts`).

Pure: no I/O and no engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from synthgov.metrics import tallies
from synthgov.metrics.encoding import Tables

#: the bin codes `np.digitize` gives against 11 edges (0 .. 11, a missing value 11), as
#: the labels of a categorical column for `tallies`
BIN_LABELS = tuple(str(code) for code in range(12))


@dataclass(frozen=True)
class Binning:
    """What a partition needs to count the pairs: per table the edges of each numeric
    column, the factor its values are scaled by before binning, and the pairs (number,
    category) to count."""

    #: role -> numeric column -> its edges in that whole table
    edges: Mapping[str, Mapping[str, np.ndarray]]
    #: numeric column -> the factor of `fidelity._binned` (nanoseconds for dates)
    factors: Mapping[str, float]
    pairs: tuple[tuple[str, str], ...]


def count(binning: Binning, tables: Tables, role: str) -> tallies.Counts:
    """The pairs' counts of table `role` of `tables` (a partition whose labels are coded
    into the whole tables' categories, or a whole table)."""
    rows = tables.rows[role]
    missing: dict[str, int] = {}
    labels: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    binned: dict[str, np.ndarray] = {}
    for number, category in binning.pairs:
        if number not in binning.edges[role]:
            continue
        if number not in binned:
            values = tables[number].table(role) * binning.factors[number]
            binned[number] = np.digitize(values, binning.edges[role][number])
        column = tables[category]
        found = tallies.count(
            [
                tallies.Column(number, binned[number], BIN_LABELS),
                tallies.Column(category, column.table(role), tuple(column.categories)),
            ],
            rows,
        )
        missing.update(found.missing)
        labels.update(found.labels)
        pairs.update(found.pairs)
    return tallies.Counts(rows, missing, labels, pairs)


def add(parts: Sequence[tallies.Counts], categories: Mapping[str, Sequence[str]]) -> tallies.Totals:
    """The whole table's pair counts from its partitions' (`tallies.add`); `categories`:
    each categorical column's categories in the tables."""
    known = {name: tuple(labels) for name, labels in categories.items()}
    for part in parts:
        for name in part.labels:
            known.setdefault(name, BIN_LABELS)
    return tallies.add(parts, known)
