"""Fidelity: how closely the synthetic table follows the real one, column by column and pair by pair.

Each value equals the SDMetrics 0.32.0 metric named in BRIEF §8 (research/metrics.md §2),
computed exactly on every row (the peer's QualityReport subsamples above 50,000 rows,
unseeded; the exact value is that sample's expectation). The holdout is not used. `n` is
the number of synthetic values (or rows) a metric was computed on.

Where the peer would return NaN or raise, the metric is left out (a reported value is
always finite) and, for the two averages, named under `skipped`:

- KS and TV need a non-missing value on both sides;
- a correlation needs two complete rows in each table, neither column constant over them
  (the peer raises `ConstantInputError`);
- boundary adherence needs a synthetic value left to judge.

`fidelity.column_pair_trends` is the QualityReport's "Column Pair Trends" with both
thresholds at 0: the mean over all pairs, where a numeric × categorical pair is scored by
contingency after the numeric column is cut into 10 equal-width bins **computed separately
on each table** (the report's way, `mode: per_table_bins`), its maximum and its missing
values sharing the top bin as `np.digitize` puts them.

One deliberate difference: the peer's `|r_real| <= threshold` test, at threshold 0, also
drops a pair whose real correlation comes out as exactly 0.0. For a pair that is
uncorrelated in exact arithmetic (small integer columns) that is decided by rounding
(about half of such pairs in scipy, depending on BLAS summation order), so here every
pair is kept, as BRIEF §8 asks ("all pairs").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgov.metrics.encoding import Encoded, Tables
from synthgov.metrics.measurement import Context, Measurement
from synthgov.metrics.tallies import Totals, of_tables
from synthgov.models.card import ColumnType

if TYPE_CHECKING:
    from synthgov.metrics.binning import Binning

#: values are rounded to sys.float_info.dig - 1 decimals before KS, as the peer does
KS_DECIMALS = 14
#: the peer's regularisation for a category seen only in the synthetic table
PSEUDO_COUNT = 1e-6
#: the report's equal-width bins for a numeric column paired with a categorical one
PAIR_BINS = 10
PAIR_MODE = "per_table_bins"
#: the peer converts dates and datetimes to int64 nanoseconds; the report bins those
_NANOSECONDS = {ColumnType.DATE: 86_400e9, ColumnType.DATETIME: 1e9}
#: above this many cells a pair's contingency table is compacted to its observed cells
_MAX_CELLS = 1 << 22
#: each metric's `method` in the report: the peer definition it reproduces
METHODS = {
    "fidelity.ks_complement": "sdmetrics KSComplement: 1 - KS statistic, NaN dropped per side",
    "fidelity.tv_complement": "sdmetrics TVComplement: 1 - total variation, NaN dropped per side",
    "fidelity.column_shapes": "sdmetrics QualityReport Column Shapes: mean KS/TV complement",
    "fidelity.missing_rate_diff": "|share missing in real - share missing in synthetic|",
    "fidelity.correlation_similarity": "sdmetrics CorrelationSimilarity, Pearson, threshold 0, pairwise-complete rows",
    "fidelity.contingency_similarity": "sdmetrics ContingencySimilarity, NaN a category, no subsampling",
    "fidelity.column_pair_trends": "sdmetrics QualityReport Column Pair Trends, both thresholds 0, per-table bins for mixed pairs",
    "fidelity.boundary_adherence": "sdmetrics BoundaryAdherence: share inside the real [min, max]",
    "fidelity.category_adherence": "sdmetrics CategoryAdherence: share among the real categories",
}


def measure(
    tables: Tables, context: Context, totals: Mapping[str, Totals] | None = None
) -> list[Measurement]:
    """All fidelity metrics of BRIEF §8 but detection, in card order, pairs (i < j) in card order.

    The metrics of counts (missing rates, TV, category adherence, the contingency of two
    categorical columns) come from `totals` (role -> `tallies.Totals`), which a
    distributed engine adds up from its partitions; None: counted here, on `tables`.
    Exact and deterministic (nothing is sampled); each column's shape is kept in
    `context` (`SHAPES`) for the subgroup family's whole-table figure.
    """
    counted = of_tables(tables, ("real", "synthetic")) if totals is None else totals
    real, synthetic = counted["real"], counted["synthetic"]
    rows = tables.rows["synthetic"]
    out: list[Measurement] = []
    shapes: list[float] = []
    skipped: list[str] = []
    by_column: dict[str, float] = context.memo(f"{SHAPES}[{id(tables)}]", dict)
    for column in tables:
        if column.is_numeric:
            score = column_shape(column)
        else:
            score = tv_counts(
                real.labels[column.name].astype(np.float64),
                synthetic.labels[column.name].astype(np.float64),
            )
        by_column[column.name] = score
        if np.isnan(score):
            skipped.append(column.name)
            continue
        shapes.append(score)
        metric = "fidelity.ks_complement" if column.is_numeric else "fidelity.tv_complement"
        n = synthetic.rows - synthetic.missing[column.name]
        out.append(Measurement(metric, score, column=column.name, n=n))
    if shapes:
        extra = {"skipped": skipped} if skipped else {}
        out.append(Measurement("fidelity.column_shapes", _mean(shapes), n=rows, extra=extra))
    for column in tables:
        diff = _missing_rate_diff(real, synthetic, column.name)
        if not np.isnan(diff):
            out.append(Measurement("fidelity.missing_rate_diff", diff, column=column.name, n=rows))
    out += _pairs(tables, real, synthetic, context)
    for column in tables.numeric:
        value, n = boundary_adherence(column.real, column.synthetic)
        if not np.isnan(value):
            out.append(Measurement("fidelity.boundary_adherence", value, column=column.name, n=n))
    for column in tables.categorical:
        value = _category_adherence(real, synthetic, column.name)
        if not np.isnan(value):
            out.append(
                Measurement("fidelity.category_adherence", value, column=column.name, n=rows)
            )
    return [replace(m, method=METHODS[m.id]) for m in out]


def _missing_rate_diff(real: Totals, synthetic: Totals, name: str) -> float:
    """`missing_rate_diff` from counts: a mean of booleans is its count over its size,
    the same float."""
    if real.rows == 0 or synthetic.rows == 0:
        return float("nan")
    shares = (np.float64(t.missing[name]) / t.rows for t in (real, synthetic))
    return abs(float(next(shares)) - float(next(shares)))


def _category_adherence(real: Totals, synthetic: Totals, name: str) -> float:
    """`category_adherence` from counts."""
    if synthetic.rows == 0:
        return float("nan")
    valid = int(synthetic.labels[name][real.labels[name] > 0].sum())
    if real.missing[name] > 0:
        valid += synthetic.missing[name]
    return float(np.float64(valid) / synthetic.rows)


def _contingency_counts(
    real: Totals, synthetic: Totals, pair: tuple[str, str], levels: tuple[int, int]
) -> float:
    """`contingency_similarity` of two categorical columns from their pair counts."""
    if real.rows == 0 or synthetic.rows == 0:
        return float("nan")
    (r_cells, r_times), (s_cells, s_times) = real.pairs[pair], synthetic.pairs[pair]
    cells = (levels[0] + 1) * (levels[1] + 1)
    if cells > _MAX_CELLS:  # compacted to the observed cells, as `contingency_similarity` does
        both = np.sort(np.concatenate((r_cells, s_cells)))  # a sort: np.union1d may hash
        observed = both[np.append(True, both[1:] != both[:-1])]
        r_cells, s_cells = np.searchsorted(observed, r_cells), np.searchsorted(observed, s_cells)
        cells = observed.size
    r, s = np.zeros(cells, dtype=np.int64), np.zeros(cells, dtype=np.int64)
    r[r_cells], s[s_cells] = r_times, s_times
    gap = r / real.rows - s / synthetic.rows
    return max(0.0, 1.0 - 0.5 * float(np.abs(gap).sum()))  # round-off: see tv_complement


#: the `Context.memo` key of each column's shape (column -> `column_shape` of the whole
#: tables), which `measure` finds on its way and `subgroup` reuses; suffixed with the
#: tables' `id`, so that shapes of other tables are never taken for these
SHAPES = "fidelity.column_shape"


def column_shapes(columns: Iterable[Encoded]) -> float:
    """The mean column shape (KS or TV complement) over all columns; NaN if none is defined.

    Meant for row subsets (`tables.select(...)`, or columns selected one at a time),
    where a column may have no value left.
    """
    scores = [score for score in map(column_shape, columns) if not np.isnan(score)]
    return _mean(scores) if scores else float("nan")


def column_shape(column: Encoded) -> float:
    """KSComplement for a numeric column, TVComplement for a categorical one (NaN if undefined)."""
    if column.is_numeric:
        return ks_complement(column.real, column.synthetic, decimals=ks_decimals(column))
    return tv_complement(column.real, column.synthetic, len(column.categories))


def ks_decimals(column: Encoded) -> int | None:
    """The rounding of `ks_complement` for a numeric column: dates are int64 nanoseconds in
    the peer, which rounding leaves alone."""
    return None if column.type in _NANOSECONDS else KS_DECIMALS


def ks_complement(
    real: np.ndarray, synthetic: np.ndarray, *, decimals: int | None = KS_DECIMALS
) -> float:
    """1 − the two-sample Kolmogorov–Smirnov statistic over the non-missing values.

    NaN when either side has no value.
    """
    return ks_sorted(ks_side(real, decimals), ks_side(synthetic, decimals))


def ks_side(values: np.ndarray, decimals: int | None = KS_DECIMALS) -> np.ndarray:
    """One side of `ks_complement`: the non-missing values, rounded, sorted (so a side
    compared many times is sorted once)."""
    values = values[~np.isnan(values)]  # a copy, so rounded and sorted in place
    if decimals is not None:
        with np.errstate(over="ignore"):
            np.round(values, decimals, out=values)
    values.sort()
    return values


def ks_runs(side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs of ties of a `ks_side` result: the position of the last of each run, and
    its value. A side compared with many others (a subgroup's real rows against each
    permutation) has them found once, where each comparison would scan the whole side."""
    last = np.append(side[1:] != side[:-1], True)
    return np.flatnonzero(last), side[last]


def ks_sorted(
    r: np.ndarray, s: np.ndarray, r_runs: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    """`ks_complement` of two `ks_side` results; `r_runs`: `ks_runs(r)`, if at hand."""
    if r.size == 0 or s.size == 0:
        return float("nan")
    # both empirical CDFs at each distinct value of either side, the same ratios as scipy's
    gaps = []
    for own, other in ((r, s), (s, r)):
        ends, values = r_runs if own is r and r_runs is not None else ks_runs(own)
        if ends.size > 4 * other.size:
            # Between two values of `other` its CDF is constant and this side's rises, so
            # the largest |gap| of such a run is at its first or last value: only those.
            edges = np.searchsorted(values, other, side="left")
            keep = np.unique(np.clip(np.concatenate([edges - 1, edges, [0]]), 0, ends.size - 1))
            ends, values = ends[keep], values[keep]
        gaps.append(
            (ends + 1) / own.size - np.searchsorted(other, values, side="right") / other.size
        )
    return 1.0 - max(float(np.abs(gap).max()) for gap in gaps)


def tv_complement(real: np.ndarray, synthetic: np.ndarray, categories: int) -> float:
    """1 − the total variation distance between the category shares, missing values dropped.

    `real` and `synthetic` are codes in [0, categories), -1 for missing. A category seen
    only in the synthetic table gets the peer's pseudo-count in the real one. NaN when
    either side has no value.
    """
    return tv_counts(category_counts(real, categories), category_counts(synthetic, categories))


def category_counts(codes: np.ndarray, categories: int) -> np.ndarray:
    """How often each category occurs (missing dropped): one side of `tv_complement`."""
    counts: np.ndarray = np.bincount(codes[codes >= 0], minlength=categories).astype(np.float64)
    return counts


def tv_counts(r: np.ndarray, s: np.ndarray) -> float:
    """`tv_complement` of two `category_counts` results."""
    if not r.any() or not s.any():
        return float("nan")
    r = r + PSEUDO_COUNT * ((s > 0) & (r == 0))
    # round-off can take a total variation of 1 a hair above it; the score stays in [0, 1]
    return max(0.0, 1.0 - 0.5 * float(np.abs(s / s.sum() - r / r.sum()).sum()))


def missing_rate_diff(real_missing: np.ndarray, synthetic_missing: np.ndarray) -> float:
    """|share missing in real − share missing in synthetic|; NaN for an empty table."""
    if real_missing.size == 0 or synthetic_missing.size == 0:
        return float("nan")
    return abs(float(real_missing.mean()) - float(synthetic_missing.mean()))


def boundary_adherence(real: np.ndarray, synthetic: np.ndarray) -> tuple[float, int]:
    """The share of synthetic values inside [min, max] of the real ones, and how many were judged.

    A missing synthetic value is out of bounds unless the real column has missing values
    too, in which case it is not judged. NaN when nothing is left to judge.
    """
    present = real[~np.isnan(real)]
    if present.size < real.size:
        synthetic = synthetic[~np.isnan(synthetic)]
    if present.size == 0 or synthetic.size == 0:
        return float("nan"), 0
    inside = (synthetic >= present.min()) & (synthetic <= present.max())
    return float(np.count_nonzero(inside) / synthetic.size), int(synthetic.size)


def category_adherence(real: np.ndarray, synthetic: np.ndarray, categories: int) -> float:
    """The share of synthetic rows whose category occurs in the real table (missing counts
    as a category when the real table has missing values); NaN for an empty table."""
    if synthetic.size == 0:
        return float("nan")
    seen = np.bincount(real[real >= 0], minlength=categories) > 0
    valid = np.append(seen, bool((real < 0).any()))  # code -1 reads the last entry
    return float(valid[synthetic].mean())


def correlation_similarity(
    real: tuple[np.ndarray, np.ndarray], synthetic: tuple[np.ndarray, np.ndarray]
) -> float:
    """1 − |r_real − r_synthetic| / 2 with Pearson's r over each table's complete rows.

    NaN where either r is undefined (see the module docstring).
    """
    return 1.0 - abs(pearson(*real) - pearson(*synthetic)) / 2  # NaN propagates


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """`scipy.stats.pearsonr` over the rows where both values are present; NaN if undefined."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2 or x.min() == x.max() or y.min() == y.max():
        return float("nan")
    # two-pass like scipy; scaled by the range only where the squares could leave float64's
    # range; elementwise products, as a BLAS dot can stall on threads when the cores are busy
    spreads = x.max() - x.min(), y.max() - y.min()
    xm, ym = x, y  # centred in place: the selections above are copies already
    xm -= x.mean()
    ym -= y.mean()
    for centred, spread in ((xm, spreads[0]), (ym, spreads[1])):
        if not 1e-100 < spread < 1e100:
            centred /= spread
    r = float(
        np.clip((xm * ym).sum() / np.sqrt((xm * xm).sum()) / np.sqrt((ym * ym).sum()), -1.0, 1.0)
    )
    return float(round(r)) if x.size == 2 else r  # scipy returns exactly ±1 for two points


def contingency_similarity(
    real: tuple[np.ndarray, np.ndarray],
    synthetic: tuple[np.ndarray, np.ndarray],
    levels: tuple[int, int],
) -> float:
    """1 − the total variation distance between the two joint distributions of a pair.

    Each column holds codes in [-1, levels); -1 (missing) is a category of its own. NaN
    for an empty table.
    """
    if real[0].size == 0 or synthetic[0].size == 0:
        return float("nan")
    width = levels[1] + 1
    cells = (levels[0] + 1) * width
    r = (real[0].astype(np.int64) + 1) * width + (real[1] + 1)
    s = (synthetic[0].astype(np.int64) + 1) * width + (synthetic[1] + 1)
    if cells > _MAX_CELLS:
        observed, inverse = np.unique(np.concatenate((r, s)), return_inverse=True)
        cells = observed.size
        r, s = inverse[: r.size], inverse[r.size :]
    gap = np.bincount(r, minlength=cells) / r.size - np.bincount(s, minlength=cells) / s.size
    return max(0.0, 1.0 - 0.5 * float(np.abs(gap).sum()))  # round-off: see tv_complement


def _pairs(
    tables: Tables, real_counts: Totals, synthetic_counts: Totals, context: Context
) -> list[Measurement]:
    """Correlation and contingency per pair, then their mean with the mixed pairs binned
    (here, or by the engine where the partitions live: `_binned_counts`)."""
    columns = tables.columns
    counted = _binned_counts(tables, context)
    bins = (
        {c.name: (_binned(c, "real"), _binned(c, "synthetic")) for c in tables.numeric}
        if counted is None
        else {}
    )
    rows = tables.rows["synthetic"]
    correlations: list[Measurement] = []
    contingencies: list[Measurement] = []
    trends: list[float] = []
    skipped: list[list[str]] = []
    for a, b in itertools.combinations(columns, 2):
        names = (a.name, b.name)
        if a.is_numeric and b.is_numeric:
            score = correlation_similarity((a.real, b.real), (a.synthetic, b.synthetic))
            if not np.isnan(score):
                n = int(np.count_nonzero(~(a.missing("synthetic") | b.missing("synthetic"))))
                correlations.append(
                    Measurement("fidelity.correlation_similarity", score, columns=names, n=n)
                )
        elif a.is_numeric or b.is_numeric:
            number, category = (a, b) if a.is_numeric else (b, a)
            real, synthetic = bins.get(number.name, (None, None))
            score = float("nan")
            if counted is not None and (number.name, category.name) in counted[0].pairs:
                levels = (PAIR_BINS + 2, len(category.categories))
                score = _contingency_counts(*counted, (number.name, category.name), levels)
            elif real is not None and synthetic is not None:
                levels = (PAIR_BINS + 2, len(category.categories))  # bins 0 .. PAIR_BINS + 1
                pair = ((real, category.real), (synthetic, category.synthetic))
                score = contingency_similarity(*pair, levels)
        else:
            levels = (len(a.categories), len(b.categories))
            score = _contingency_counts(real_counts, synthetic_counts, names, levels)
            if not np.isnan(score):
                contingencies.append(
                    Measurement("fidelity.contingency_similarity", score, columns=names, n=rows)
                )
        if np.isnan(score):
            skipped.append(list(names))
        else:
            trends.append(score)
    out = correlations + contingencies
    if trends:
        extra: dict[str, Any] = {"mode": PAIR_MODE, "pairs": len(trends)}
        if skipped:
            extra["skipped"] = skipped
        out.append(Measurement("fidelity.column_pair_trends", _mean(trends), n=rows, extra=extra))
    return out


def _binned(column: Encoded, role: str) -> np.ndarray | None:
    """The report's bin codes of a numeric column, edges from this table's own values.

    The edges are `np.histogram_bin_edges(values, 10)` as numpy 1.26 computes them: numpy
    2 refuses a range too narrow for 10 distinct edges (a constant date in nanoseconds),
    which the report's numpy accepts. None where the edges are not monotonic, as the
    report then fails the pair.
    """
    values = column.table(role) * pair_factor(column)
    edges = pair_edges(values)
    if edges is None:
        return None
    # a missing value sorts past the last edge; 0 .. PAIR_BINS + 1 in one byte a row, as
    # every numeric column's codes of both tables are kept for the pairs (eight bytes a
    # row would be 1.1 GB at 10M rows and 7 numeric columns)
    return np.digitize(values, edges).astype(np.int8)


def pair_factor(column: Encoded) -> float:
    """What a numeric column's values are multiplied by before they are binned (the peer's
    int64 nanoseconds for dates)."""
    return _NANOSECONDS.get(column.type, 1.0)


def pair_edges(values: np.ndarray) -> np.ndarray | None:
    """The report's 10 equal-width bins of one table's (scaled) values, as `_binned` cuts
    them; None where `np.digitize` refuses them (not monotonic), whatever the values."""
    present = values[~np.isnan(values)]
    low, high = (float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, PAIR_BINS + 1)
    try:
        np.digitize(values[:0], edges)  # checks the edges alone
    except ValueError:
        return None
    return edges


def _binned_counts(tables: Tables, context: Context) -> tuple[Totals, Totals] | None:
    """The real and synthetic tables' counts of each numeric × categorical pair whose
    bins both tables have, counted by the engine where the partitions live
    (`Context.bin_counts`, `binning`): the edges are fixed here, from the whole columns,
    and each partition bins and counts its rows by them; None in this process."""
    if context.bin_counts is None:
        return None
    found = binning(tables)
    if found is None:
        return None
    counted = context.bin_counts(found)
    return counted["real"], counted["synthetic"]


def binning(tables: Tables) -> Binning | None:
    """The bins of the numeric x categorical pairs whose edges both tables have
    (`binning.Binning`: each table's edges from its whole columns), as `_binned_counts`
    asks the engine for them and the late pass plans them (`late`); None: no such pair
    (no numeric or no categorical column)."""
    from synthgov.metrics.binning import Binning

    if not tables.numeric or not tables.categorical:
        return None
    edges: dict[str, dict[str, np.ndarray]] = {"real": {}, "synthetic": {}}
    for column in tables.numeric:
        real = pair_edges(column.real * pair_factor(column))
        synthetic = pair_edges(column.synthetic * pair_factor(column))
        if real is not None and synthetic is not None:
            edges["real"][column.name], edges["synthetic"][column.name] = real, synthetic
    pairs = tuple(
        (number.name, category.name)
        for number in tables.numeric
        if number.name in edges["real"]
        for category in tables.categorical
    )
    factors = {c.name: pair_factor(c) for c in tables.numeric}
    return Binning(edges, factors, pairs)


def _mean(values: list[float]) -> float:
    return float(np.mean(values))
