"""The attacks' nearest synthetic rows searched where the synthetic table's partitions live.

Linkability and inference ask for each target's nearest synthetic row on some columns
(`gower.nearest`). A distributed engine answers those searches without laying out the
whole synthetic table on its client (`measurement.Nearest`):

1. the client scales the targets (`targets`) as `gower.nearest` does: each numeric
   column by its span over the synthetic column and the targets, taken from the column's
   least and greatest value (`extremes`, the same floats as over their union) and the
   targets' own; the categorical codes are into the whole tables' categories;
2. a worker scales its partition by the same spans, codes its labels into the same
   categories (`search_part`), and finds for every target the least distance over its
   rows, how many rows reach it and the row hash of one of them (`gower.least`: the same
   per-row sums, bit for bit);
3. the client keeps each target's least over the partitions and adds up the rows that
   reach it (`Neighbours`). A least reached by one row of the whole table is that row
   under any sort, so the peer's pick; its row hash gives its canonical position. A tie
   (or no finite distance) is settled here on the full row of distances in canonical
   order, as `gower.nearest` settles it (`settle`). Duplicates of a row have equal
   distances, so a row with several canonical positions is always a tie.

So each answer is `gower.nearest`'s, bit for bit, however the rows were partitioned.

Pure: no I/O and no engine; a Spark or Ray adapter reuses these functions as they are.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from synthgov.metrics import gower
from synthgov.metrics.encoding import Tables
from synthgov.metrics.measurement import Allocate, in_memory
from synthgov.metrics.partitions import Layout, Part, recode

#: one partition's answer to one search: each target's least distance over its rows, how
#: many rows reach it, and the row hash of one of them (0 when none does)
Found = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Targets:
    """One search's targets, scaled and coded as `gower.nearest` scales and codes them."""

    #: the numeric columns, by sorted name (the order of the distance's terms)
    numeric: tuple[str, ...]
    #: each numeric column's span (`gower.nearest`'s range)
    spans: tuple[float, ...]
    #: the categorical columns, by sorted name, after the numeric ones
    categorical: tuple[str, ...]
    #: targets x numeric columns: each value divided by its column's span
    queries: np.ndarray
    #: targets x categorical columns: int32 codes into the tables' categories
    asked: np.ndarray


def extremes(tables: Tables, name: str) -> tuple[float, float]:
    """The least and greatest present value of synthetic column `name` (NaN: none)."""
    values = tables[name].synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: NaN
        return float(np.nanmin(values)), float(np.nanmax(values))


def targets(
    tables: Tables,
    columns: Sequence[str],
    role: str,
    rows: np.ndarray,
    synthetic: Mapping[str, tuple[float, float]],
) -> Targets:
    """`rows` of table `role` on `columns`, as `gower.nearest` scales them; `synthetic`:
    each numeric column's `extremes`.

    Raises:
        ValueError: no columns, or an empty synthetic table (as `gower.nearest`).
    """
    chosen = [tables[name] for name in columns]
    numeric = sorted((c for c in chosen if c.is_numeric), key=lambda c: c.name)
    categorical = sorted((c for c in chosen if not c.is_numeric), key=lambda c: c.name)
    if not chosen or not tables.rows["synthetic"]:
        raise ValueError("the nearest-neighbour search needs columns and synthetic rows")
    queries = np.empty((len(rows), len(numeric)), dtype=np.float64)
    spans = []
    for k, column in enumerate(numeric):
        values = column.table(role)[rows]
        span = _span(synthetic[column.name], values)
        queries[:, k] = values / span
        spans.append(span)
    asked = np.array([c.table(role)[rows] for c in categorical], dtype=np.int32).reshape(
        len(categorical), len(rows)
    )
    return Targets(
        tuple(c.name for c in numeric),
        tuple(spans),
        tuple(c.name for c in categorical),
        queries,
        np.ascontiguousarray(asked.T),
    )


def _span(synthetic: tuple[float, float], values: np.ndarray) -> float:
    """`gower`'s span of the synthetic column and `values` together, from the column's
    extremes: the least and greatest of a union are those of its parts, the same floats
    (a zero's sign aside, which no difference of the two can tell)."""
    low, high = synthetic
    present = values[~np.isnan(values)]
    if present.size:
        low = float(present.min()) if np.isnan(low) else min(low, float(present.min()))
        high = float(present.max()) if np.isnan(high) else max(high, float(present.max()))
    span = 0.0 if np.isnan(low) else high - low
    return span if span > 0 and np.isfinite(span) else 1.0


def search_part(
    part: Part, hashes: np.ndarray, sets: Sequence[Targets], columns: Layout
) -> list[Found]:
    """On a worker: each set's answer over the partition's rows (`Found`), `hashes` being
    its rows' hashes; `columns` gives each categorical column's categories."""
    categories = dict(columns)
    found = []
    for one in sets:
        candidates = np.empty((len(one.numeric), part.rows), dtype=np.float64)
        for k, (name, span) in enumerate(zip(one.numeric, one.spans, strict=True)):
            np.divide(part.numbers[name], span, out=candidates[k])
        labels = np.empty((len(one.categorical), part.rows), dtype=np.int32)
        for k, name in enumerate(one.categorical):
            uniques, local = part.labels[name]
            labels[k] = recode(categories[name] or (), uniques)[local]  # -1 stays -1
        least, reached, index = gower.least(candidates, labels, one.queries, one.asked)
        picked = np.where(index >= 0, hashes[np.maximum(index, 0)], np.uint64(0))
        found.append((least, reached, picked.astype(np.uint64)))
    return found


class Neighbours:
    """The partitions' answers to some searches, reduced as they come, in any order."""

    def __init__(self, sets: Sequence[Targets]) -> None:
        self.sets = tuple(sets)
        self.least = [np.full(len(s.queries), np.inf) for s in sets]
        self.reached = [np.zeros(len(s.queries), dtype=np.int64) for s in sets]
        self.hashes = [np.zeros(len(s.queries), dtype=np.uint64) for s in sets]
        #: each set's targets settled on the client by `answers` (ties, no finite distance)
        self.settled: list[int] = []

    def add(self, found: Sequence[Found]) -> None:
        """One partition's answers: a lower least replaces the count, an equal one adds to it."""
        for k, (least, reached, hashes) in enumerate(found):
            best, count, pick = self.least[k], self.reached[k], self.hashes[k]
            equal = least == best
            count[equal] += reached[equal]
            lower = least < best
            best[lower], count[lower], pick[lower] = least[lower], reached[lower], hashes[lower]

    def unsettled(self, canonical: np.ndarray) -> list[np.ndarray]:
        """Each set's canonical row of each target's nearest, -1 where the partitions cannot
        tell (a tie in the whole table, no finite distance): `canonical` is the synthetic
        table's sorted row hashes."""
        out = []
        for best, count, pick in zip(self.least, self.reached, self.hashes, strict=True):
            index = np.full(len(best), -1, dtype=np.int64)
            one = np.flatnonzero((count == 1) & np.isfinite(best))
            if len(one) and len(canonical):
                at = np.minimum(np.searchsorted(canonical, pick[one]), len(canonical) - 1)
                after = np.minimum(at + 1, len(canonical) - 1)
                alone = canonical[at] == pick[one]  # the row's hash at `at`, and only there
                alone &= (at + 1 >= len(canonical)) | (canonical[after] != pick[one])
                index[one[alone]] = at[alone]
            out.append(index)
        return out

    def answers(
        self, tables: Tables, canonical: np.ndarray, allocate: Allocate = in_memory
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each set's nearest synthetic rows and distances, `gower.nearest`'s, the
        unsettled targets settled on `tables` (`settle`)."""
        out = []
        for one, best, index in zip(self.sets, self.least, self.unsettled(canonical), strict=True):
            distance = best.copy()
            rest = np.flatnonzero(index < 0)
            self.settled.append(len(rest))
            if len(rest):
                index[rest], distance[rest] = settle(tables, one, rest, allocate)
            out.append((index, distance))
        return out


def settle(
    tables: Tables, one: Targets, rest: np.ndarray, allocate: Allocate = in_memory
) -> tuple[np.ndarray, np.ndarray]:
    """`gower.nearest`'s answer for targets `rest` of `one`, from the full rows of
    distances to the synthetic table (laid out in arrays from `allocate`)."""
    size = tables.rows["synthetic"]
    candidates = allocate((len(one.numeric), size), np.float64)
    for k, (name, span) in enumerate(zip(one.numeric, one.spans, strict=True)):
        np.divide(tables[name].synthetic, span, out=candidates[k])
    labels = allocate((len(one.categorical), size), np.int32)
    for k, name in enumerate(one.categorical):
        labels[k] = tables[name].synthetic
    return gower.scan(
        candidates,
        labels,
        np.ascontiguousarray(one.queries[rest]),
        np.ascontiguousarray(one.asked[rest]),
    )
