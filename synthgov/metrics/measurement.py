"""What a metric family returns, and the seeded context it runs in.

A `Measurement` becomes one entry of the report's `metrics` list (BRIEF §8). Random
streams are derived from the run's seed and the name of the step that draws, never from
the order in which steps run, so adding a metric never changes another one's value.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:
    from synthgov.metrics.aggregates import ColumnPlan
    from synthgov.metrics.binning import Binning
    from synthgov.metrics.grouping import Grouping, Sides
    from synthgov.metrics.late import Plan
    from synthgov.metrics.tallies import Totals

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A result that may still be computed elsewhere (on a cluster's workers): `result`
    waits for it, and raises what computing it raised."""

    def result(self) -> T_co: ...  # pragma: no cover - a protocol


@dataclass(frozen=True)
class Done(Generic[T]):
    """A `Pending` already computed: what a search in this process returns."""

    value: T

    def result(self) -> T:
        return self.value


#: (query sets, role, numeric mask, ranges) -> pending: each set's DCR among every row of
#: table `role`, as `distance.dcr(queries, matrix(tables, role), numeric, ranges)` gives it
#: for each set alone; one pass over the table for all the sets
Search = Callable[[Sequence[np.ndarray], str, np.ndarray, np.ndarray], Pending[list[np.ndarray]]]
#: (role, models, features) -> model name -> every row of table `role` scored by that fitted
#: classifier, in canonical order, as `model.predict_proba(tree_design(features, role))[:, 1]`
#: gives it (`features` the names of the design's columns, in order): a distributed engine
#: scores each partition where it lives (`scoring`)
Score = Callable[[str, Mapping[str, Any], Sequence[str]], dict[str, np.ndarray]]
#: (searches) -> pending: for each search (columns, role, rows), the nearest synthetic row
#: to each of `rows` of table `role` on `columns` and its distance, as
#: `gower.nearest(tables, columns, role, rows)` gives them; a distributed engine searches
#: every partition of the synthetic table where it lives, once for all the searches
#: (`neighbours`)
Nearest = Callable[
    [Sequence[tuple[Sequence[str], str, np.ndarray]]], Pending[list[tuple[np.ndarray, np.ndarray]]]
]
#: (shape, dtype) -> an uninitialised array, for the families' arrays that grow with a
#: table: `in_memory` in this process; a distributed engine's client hands out arrays
#: mapped from files on its disk (`engines.spill.Spill.allocate`), so that its anonymous
#: memory does not grow with the table
Allocate = Callable[[tuple[int, ...], "np.dtype[Any] | type"], np.ndarray]


#: (plans) -> the integer chart counts of the real and synthetic tables under `plans`, as
#: `aggregates.count_cells(plans, tables)` gives them: a distributed engine counts each
#: partition where it lives and adds the counts up (integers: the same, exactly)
Count = Callable[[list["ColumnPlan"]], dict[tuple[str, ...], np.ndarray]]

#: (grouping) -> the real and synthetic tables' rows per group of a subgroup column and
#: each group's order-free sides (`grouping.sides` of the whole tables): a distributed
#: engine makes them partition by partition and merges them (`grouping.merge`)
GroupSides = Callable[["Grouping"], tuple["Sides", "Sides"]]

#: (binning) -> role ("real", "synthetic") -> the counts of fidelity's numeric x
#: categorical pairs binned by `binning` (`binning.count` of the whole table): a
#: distributed engine counts each partition where it lives and adds the counts up
BinCounts = Callable[["Binning"], dict[str, "Totals"]]

#: (plan) -> None: start the late pass (`late`): one read of each real and synthetic
#: partition for the chart counts, the mixed pairs' bins and the subgroups' sides of
#: `plan`; the engine's `Count`, `BinCounts` and `GroupSides` then answer a request for
#: a planned part from it, and any other with a pass of their own
Late = Callable[["Plan"], None]


def in_memory(shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> np.ndarray:
    """`np.empty`: the in-process `Allocate`."""
    return np.empty(shape, dtype=dtype)


@dataclass(frozen=True)
class Measurement:
    """One metric value; `extra` holds contract extensions such as `rule` or `group`."""

    id: str
    value: float
    column: str | None = None
    columns: tuple[str, str] | None = None
    n: int | None = None
    method: str | None = None
    ci: tuple[float, float] | None = None
    #: what `ci` is made of (`synthgov.metrics.intervals`), so `check` can widen it to its policy's level
    interval: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id}
        if self.column is not None:
            entry["column"] = self.column
        if self.columns is not None:
            entry["columns"] = list(self.columns)
        entry["value"] = float(self.value)
        if self.n is not None:
            entry["n"] = int(self.n)
        if self.method is not None:
            entry["method"] = self.method
        if self.ci is not None:
            entry["ci"] = [float(self.ci[0]), float(self.ci[1])]
        if self.interval is not None:
            entry["interval"] = self.interval
        entry.update(self.extra)
        return entry


def estimate(
    id: str,
    value: float,
    interval: dict[str, Any],
    *,
    low: float = 0.0,
    high: float = 1.0,
    **fields: Any,
) -> Measurement:
    """A measurement whose 95 % `ci` comes from its `interval` (clipped to [low, high])."""
    from synthgov.metrics.intervals import ALPHA_95, bounds

    ci = bounds(interval, value, ALPHA_95, low, high)
    return Measurement(id, value, ci=ci, interval=interval, **fields)


@dataclass
class Context:
    """The run's seed, the sample sizes drawn so far, and the limits that bound the work."""

    seed: int = 0
    #: DCR is exact up to this many synthetic rows; above, a seeded sample of queries.
    exact_rows: int = 100_000
    #: an explicit cap on sampled work (`evaluate --sample N`), or None for the defaults
    sample: int | None = None
    #: anonymeter-style attacks per risk
    n_attacks: int = 2_000
    sample_sizes: dict[str, int] = field(default_factory=dict)
    #: metrics that could not be measured at these table sizes, for the report's
    #: `inconclusive` list: {"id", "column"?, "reason", "needs_rows"}
    undecided: list[dict[str, Any]] = field(default_factory=list)
    #: the tables' row hashes by role, ascending (the canonical order: `rows.canonical`),
    #: which exact copies are matched by; None: the families hash the rows themselves
    hashes: Mapping[str, np.ndarray] | None = None
    #: where the DCR searches run (`engine.Search`): None in this process, on the encoded
    #: tables; a distributed engine scores the queries against every partition of a table
    search: Search | None = None
    #: where every row of a table is scored by fitted models (`Score`): None in this
    #: process, on the encoded tables; a distributed engine scores each partition
    score: Score | None = None
    #: where the arrays that grow with a table are made (`Allocate`)
    allocate: Allocate = in_memory
    #: where the attacks' nearest-neighbour searches run (`Nearest`): None in this
    #: process, on the encoded tables; a distributed engine searches each partition
    nearest: Nearest | None = None
    #: where the subgroup family's order-free sides are made (`GroupSides`): None in this
    #: process, from the tables' rows; a distributed engine makes them on its workers
    group_sides: GroupSides | None = None
    #: where fidelity's numeric x categorical pairs are binned and counted (`BinCounts`):
    #: None in this process, from the tables' rows; a distributed engine counts on its workers
    bin_counts: BinCounts | None = None
    #: results shared between families (the fitted utility models, used by subgroups too)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def rng(self, step: str) -> np.random.Generator:
        """An independent stream for `step`, the same for the same seed in every run."""
        return np.random.default_rng([self.seed, zlib.crc32(step.encode())])

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per run; later calls with `key` get the same result."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    def inconclusive(
        self, ids: tuple[str, ...], reason: str, needs_rows: int, column: str | None = None
    ) -> None:
        """Say that `ids` could not be measured (too few rows) and about how many would do."""
        for metric in ids:
            entry: dict[str, Any] = {"id": metric}
            if column is not None:
                entry["column"] = column
            self.undecided.append({**entry, "reason": reason, "needs_rows": int(needs_rows)})

    def record(self, step: str, n: int) -> int:
        self.sample_sizes[step] = int(n)
        return int(n)
