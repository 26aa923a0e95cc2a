"""A partition as its rows in the whole tables' codes, for the counts a worker makes of it.

`partitions.tables_of` keeps a partition's own labels (what the load's counts need, before
the categories of the three tables are known); a later pass, once `load` fixed them, codes
each label into the whole tables' categories (`partitions.recode`), as `scoring.design`
does, so that a cell or group of the partition is that of the whole tables: the counts of
the partitions then add up to the whole tables' exactly (`aggregates.count_cells`).

Pure: no I/O and no engine.
"""

from __future__ import annotations

import numpy as np

from synthgov.metrics.encoding import ROLES, Encoded, Tables
from synthgov.metrics.partitions import Layout, Part, recode
from synthgov.models.card import Card


def tables(card: Card, part: Part, columns: Layout, role: str) -> Tables:
    """The partition as table `role` of a `Tables` (the other two empty): the `columns`
    of the whole tables in their order, typed by the card, a label by its code into the
    whole tables' categories (-1 missing), a number as float64 (NaN missing)."""
    types = {column.name: column.type for column in card.columns}
    encoded = []
    for name, categories in columns:
        values: np.ndarray
        if categories is None:
            values = part.numbers[name]
        else:
            uniques, local = part.labels[name]
            values = recode(categories, uniques)[local]  # a local -1 picks the trailing -1
        empty = np.empty(0, dtype=values.dtype)
        arrays = {r: values if r == role else empty for r in ROLES}
        encoded.append(Encoded(name, types[name], **arrays, categories=categories or ()))
    return Tables(tuple(encoded), {r: part.rows if r == role else 0 for r in ROLES})
