"""Every row of a table scored by fitted models where its partitions live.

`utility` fits its two models on seeded samples and scores every holdout row with them,
work that grows with the holdout. A distributed engine scores the rows partition by
partition instead (`measurement.Score`): a worker lays its partition out as
`features.tree_design` lays out the whole table (`design`: the same columns in the same
order, float64, categorical codes into the whole tables' categories, NaN where missing),
scores it (`predict`) and sends the scores back with the partition's row hashes (its
rows sorted by hash first, `partitions.ordered`, as `load` has them); the client puts
each score at its row's place in the canonical order (`place`). A row's score is its own (each tree is walked by that row alone), and equal
hashes are equal rows with equal scores, so the scores are the in-process ones, bit for
bit, however the rows were partitioned.

Pure: no I/O and no engine; a Spark or Ray adapter reuses these functions as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from synthgov.metrics.partitions import Layout, Part, recode
from synthgov.metrics.utility import PREDICT_ROWS

#: the most places `place` writes with one index array (8 bytes each, and the rows')
PLACE_ROWS = 1 << 18


def design(part: Part, features: Layout) -> np.ndarray:
    """The partition's rows as `features.tree_design` gives a table's: the `features`
    columns in their order (a number's categories None; a label's the whole tables'),
    float64, a label by its code into those categories, NaN where missing."""
    out = np.empty((part.rows, len(features)), dtype=np.float64)
    for j, (name, categories) in enumerate(features):
        if categories is None:
            out[:, j] = part.numbers[name]
            continue
        uniques, local = part.labels[name]
        codes = recode(categories, uniques)[local]  # a local -1 picks the trailing -1
        out[:, j] = np.where(codes < 0, np.nan, codes)
    return out


def predict(models: Sequence[Any], rows: np.ndarray) -> np.ndarray:
    """Each model's probability of the positive class for each of `rows` (a design), one
    row per model: `predict_proba(rows)[:, 1]`, `PREDICT_ROWS` rows at a time."""
    from synthgov.metrics.features import one_thread

    out = np.empty((len(models), len(rows)), dtype=np.float64)
    with one_thread():  # a worker's task: its process's other cores are other tasks'
        for start in range(0, len(rows), PREDICT_ROWS):
            piece = slice(start, start + PREDICT_ROWS)
            for i, model in enumerate(models):
                out[i, piece] = model.predict_proba(rows[piece])[:, 1]
    return out


def place(
    canonical: np.ndarray, found: np.ndarray, scores: np.ndarray, into: Sequence[np.ndarray]
) -> int:
    """Each row's `scores` (one row per model, one column per row of a partition whose row
    hashes are `found`, best sorted: a search for sorted keys walks the table's hashes in
    turn, eight times faster at 10M rows) written into `into` (one array per model,
    in canonical order) at every position of the table's sorted hashes `canonical` that
    holds the row's hash: equal hashes are equal rows, whose scores are equal. Returns
    how many of the rows' hashes are not in the table (0, unless the partition is not the
    one read).

    A partition's rows of one hash are placed once, and the places written
    `PLACE_ROWS` at a time: a table of few distinct rows has each of them many times, and
    every row at every place of its hash would make (partition rows) x (table rows)."""
    if not len(canonical):
        return len(found)
    if len(found) > 1 and not np.all(found[1:] >= found[:-1]):
        order = np.argsort(found, kind="stable")
        found, scores = found[order], scores[:, order]
    left = np.searchsorted(canonical, found, side="left")
    after = np.minimum(left + 1, len(canonical) - 1)
    alone = canonical[np.minimum(left, len(canonical) - 1)] == found  # found at `left`...
    alone &= (left + 1 >= len(canonical)) | (canonical[after] != found)  # ...and only there
    if alone.all():  # every row's hash once in the table: one place each
        for target, values in zip(into, scores, strict=True):
            target[left] = values
        return 0
    first = np.ones(len(found), dtype=bool)  # the first row of each hash
    np.not_equal(found[1:], found[:-1], out=first[1:])
    rows_of = np.diff(np.append(np.flatnonzero(first), len(found)))  # rows per distinct hash
    found, scores, left = found[first], scores[:, first], left[first]
    runs = np.searchsorted(canonical, found, side="right") - left
    ends = np.cumsum(runs)
    start = 0
    while start < len(found):  # distinct hashes whose places number about PLACE_ROWS
        stop = int(np.searchsorted(ends, ends[start] - runs[start] + PLACE_ROWS, side="right"))
        stop = max(stop, start + 1)
        piece = slice(start, stop)
        if stop == start + 1:  # one hash: its places are one slice
            for target, values in zip(into, scores, strict=True):
                target[left[start] : left[start] + runs[start]] = values[start]
        else:
            counts = runs[piece]
            offsets = np.cumsum(counts) - counts  # each run's start among the piece's places
            positions = np.repeat(left[piece] - offsets, counts) + np.arange(int(counts.sum()))
            rows = np.repeat(np.arange(start, stop), counts)
            for target, values in zip(into, scores, strict=True):
                target[positions] = values[rows]
        start = stop
    return int(rows_of[runs == 0].sum())
