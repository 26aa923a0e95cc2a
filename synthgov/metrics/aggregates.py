"""Chart aggregates: the counts the release report draws, and nothing finer (BRIEF §11.7).

The report's `charts` block holds, per column, real-vs-synthetic counts on cells fixed
from the real table; per pair, an association (Pearson's r for two numbers, Cramér's V
otherwise) in each table; per column, the ROC AUC of a one-column detector on those cells;
and the DCR counts of synthetic and holdout rows to train on cells fixed from the holdout.

Three steps, so that an engine that reads the tables in chunks gives the same block:

1. `plan_columns` and `plan_dcr` fix the cells from data the engine already has (the real
   table's category counts and two quantiles; the holdout rows' DCR quantiles).
2. `count_columns` and `count_dcr` turn rows into arrays keyed in a `Counts`. The
   integer ones (`count_cells`, `count_dcr`) of two chunks add up (`add`) to the counts
   of both, exactly: an engine counts them partition by partition (`measurement.Count`).
   The numeric pairs' moments (`count_moments`) are float sums, whose last bits depend on
   how the rows are grouped: they are taken over the whole tables in canonical order.
3. `block` merges every cell under the policy's `charts.min_cell_count` (on any side)
   with others and suppresses what still falls short, then derives the figures.

No row and no count in 1..min-1 ever leaves step 3: a rare category goes into `(other)`
together with enough others that `(other)` reaches the minimum too, since the totals are
in the report and a lone small cell could be recovered by subtraction. A zero is shown.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgov.metrics.cells import MISSING, OTHER, ZERO, merge_adjacent, merge_into_other
from synthgov.metrics.encoding import Encoded, Tables
from synthgov.models.card import ColumnType

if TYPE_CHECKING:
    from synthgov.metrics.measurement import Count

VERSION = 1
#: numeric cells: about this many equal, round-numbered bins between two real quantiles
BINS = 20
#: the real table's quantiles the bins span; values beyond fall into two open cells
QUANTILES = (0.01, 0.99)
#: categories drawn per column, by real count; the rest form `(other)`
MAX_CATEGORIES = 25
#: the columns whose pairs are compared (card order), so the matrix stays readable
MAX_PAIR_COLUMNS = 25
#: DCR cells: the holdout rows' DCR quantiles at these levels, plus an exact-zero cell
DCR_LEVELS = tuple(round(0.05 * k, 2) for k in range(1, 20))
SIDES = ("real", "synthetic")

Counts = dict[tuple[str, ...], np.ndarray]


@dataclass(frozen=True)
class ColumnPlan:
    """The cells of one column: numeric bins (`edges`) or kept category codes (`kept`)."""

    name: str
    type: ColumnType
    numeric: bool
    edges: tuple[float, ...] = ()  # numeric: (-inf, e0), [e0, e1), ..., [ek, inf), missing
    kept: tuple[int, ...] = ()  # categorical: the codes drawn, then (other), then missing
    levels: int = 0  # categorical: how many codes the encoding has
    labels: tuple[str, ...] = ()  # every cell's label, in cell order
    shift: float = 0.0  # numeric: subtracted before the moments, for their precision
    scale: float = 1.0

    @property
    def size(self) -> int:
        return len(self.labels)

    def cells(self, values: np.ndarray) -> np.ndarray:
        """The cell index of every value (`Encoded` layout: floats with NaN, or codes)."""
        if self.numeric:
            index = np.searchsorted(np.asarray(self.edges), values, side="right")
            return np.where(np.isnan(values), self.size - 1, index).astype(np.int64)
        lookup = np.full(self.levels + 1, len(self.kept), dtype=np.int64)  # others: (other)
        lookup[list(self.kept)] = np.arange(len(self.kept))
        lookup[-1] = self.size - 1  # code -1 (missing) reads the last entry
        found: np.ndarray = lookup[values.astype(np.int64)]
        return found


def plan_columns(tables: Tables) -> list[ColumnPlan]:
    """Each column's cells, from the real table alone."""
    return [plan_column(column) for column in tables]


def plan_column(column: Encoded) -> ColumnPlan:
    """One column's cells from its real values only (the other tables are not read)."""
    real = column.real
    if not column.is_numeric:
        counts = np.bincount(real[real >= 0], minlength=len(column.categories))
        order = sorted(range(len(counts)), key=lambda code: (-counts[code], code))
        kept = tuple(code for code in order[:MAX_CATEGORIES] if counts[code] > 0)
        labels = (*(column.categories[c] for c in kept), OTHER, MISSING)
        return ColumnPlan(
            column.name,
            column.type,
            False,
            kept=kept,
            levels=len(column.categories),
            labels=labels,
        )
    present = real[~np.isnan(real)]
    if present.size == 0:
        return ColumnPlan(column.name, column.type, True, labels=("all values", MISSING))
    low, high = (float(np.quantile(present, q)) for q in QUANTILES)
    edges = _round_edges(low, high, integral=column.type is not ColumnType.NUMBER)
    shift = float(np.median(present))
    scale = max(float(high - low), 1e-300) if high > low else 1.0
    return ColumnPlan(
        column.name,
        column.type,
        True,
        edges=edges,
        labels=(*_bin_labels(edges, column.type), MISSING),
        shift=shift,
        scale=scale,
    )


def _round_edges(low: float, high: float, *, integral: bool) -> tuple[float, ...]:
    """Equal bins of a round width (1, 2, 2.5 or 5 × 10^k) covering [low, high]."""
    span = high - low
    if not math.isfinite(span):  # beyond float64's range: two cells around the middle
        return (low / 2 + high / 2,)
    if span <= 0:
        return (math.floor(low) if integral else low,)
    raw = span / BINS
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    if integral:
        step = max(1.0, float(math.ceil(step)))
    start, stop = math.floor(low / step) * step, math.ceil(high / step) * step
    count = round((stop - start) / step)
    return tuple(float(start + k * step) for k in range(max(count, 1) + 1))


def _bin_labels(edges: tuple[float, ...], kind: ColumnType) -> list[str]:
    text = [_value_text(e, kind) for e in edges]
    inner = [f"[{a}, {b})" for a, b in itertools.pairwise(text)]
    return [f"< {text[0]}", *inner, f">= {text[-1]}"]


def _value_text(value: float, kind: ColumnType) -> str:
    try:
        if kind is ColumnType.DATE:
            return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=value)).date().isoformat()
        if kind is ColumnType.DATETIME:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value)
            return moment.isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError):  # an edge rounded past year 9999: say the number
        pass
    return f"{value:.6g}"


def count_columns(plans: list[ColumnPlan], tables: Tables) -> Counts:
    """Per column and side, the rows in each cell; per pair, the joint cells or moments
    (`count_cells` and `count_moments` of the same rows)."""
    return {**count_cells(plans, tables), **count_moments(plans, tables)}


def count_cells(plans: list[ColumnPlan], tables: Tables) -> Counts:
    """The integer part of `count_columns`: per column and side, the rows in each cell; per
    pair with a categorical column, the joint cells. Integers, so the counts of a table's
    partitions add up (`add`) to the table's exactly, in any order: an engine counts them
    where the partitions live."""
    counts: Counts = {}
    columns = {column.name: column for column in tables}
    cells: dict[tuple[str, str], np.ndarray] = {}
    for plan in plans:
        for side in SIDES:
            found = plan.cells(columns[plan.name].table(side))
            cells[plan.name, side] = found
            counts["column", plan.name, side] = np.bincount(found, minlength=plan.size)
    for a, b in itertools.combinations(plans[:MAX_PAIR_COLUMNS], 2):
        if a.numeric and b.numeric:
            continue
        for side in SIDES:
            joint = cells[a.name, side] * b.size + cells[b.name, side]
            counts["pair", a.name, b.name, side] = np.bincount(joint, minlength=a.size * b.size)
    return counts


def count_moments(plans: list[ColumnPlan], tables: Tables) -> Counts:
    """The float part of `count_columns`: per pair of numeric columns, the moments of the
    complete rows. A float sum depends on the order and grouping of its terms, so these
    are taken over the whole tables in canonical order, never added up from partitions."""
    counts: Counts = {}
    columns = {column.name: column for column in tables}
    for a, b in itertools.combinations(plans[:MAX_PAIR_COLUMNS], 2):
        if not (a.numeric and b.numeric):
            continue
        for side in SIDES:
            x = (columns[a.name].table(side) - a.shift) / a.scale
            y = (columns[b.name].table(side) - b.shift) / b.scale
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            moments = [x.size, x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()]
            counts["pair", a.name, b.name, side] = np.array(moments, dtype=np.float64)
    return counts


def plan_dcr(fresh_to_train: np.ndarray) -> tuple[float, ...]:
    """The DCR cells' upper edges: the holdout rows' DCR-to-train quantiles, then 1.

    An ideal generator's rows are exchangeable with the holdout's given the training
    table, so its synthetic rows fill each cell about as the holdout does (5 % apiece).
    """
    if fresh_to_train.size == 0:
        return (1.0,)
    found = np.quantile(fresh_to_train, DCR_LEVELS, method="higher")
    return tuple(sorted({float(e) for e in found if e > 0} | {1.0}))


def count_dcr(edges: tuple[float, ...], to_train: np.ndarray, fresh_to_train: np.ndarray) -> Counts:
    """DCR-to-train counts of synthetic and holdout rows: exactly 0, then (0, e1], (e1, e2] …"""
    out: Counts = {}
    for side, values in (("synthetic", to_train), ("holdout", fresh_to_train)):
        index = np.searchsorted(np.asarray(edges), values, side="left") + 1
        index = np.where(values <= 0, 0, np.minimum(index, len(edges)))
        out["dcr", side] = np.bincount(index, minlength=len(edges) + 1)
    return out


def add(*parts: Counts) -> Counts:
    """The counts of several chunks, summed key by key."""
    total: Counts = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total[key] + value if key in total else value.copy()
    return total


def block(
    plans: list[ColumnPlan],
    counts: Counts,
    min_cell_count: int,
    dcr_edges: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """The report's `charts` block from summed counts; no count in 1..min-1 is kept."""
    columns = []
    detection = []
    for plan in plans:
        raw = {side: counts["column", plan.name, side] for side in SIDES}
        cells = [
            {
                "label": plan.labels[i],
                **_bounds(plan, i),
                **{side: int(raw[side][i]) for side in SIDES},
            }
            for i in range(plan.size)
        ]
        if not plan.numeric:  # a category neither table holds says nothing
            cells = [c for c in cells if c["real"] or c["synthetic"]]
        elif not (cells[-1]["real"] or cells[-1]["synthetic"]):
            cells = cells[:-1]  # no missing value on either side
        merged = (
            merge_adjacent(cells, SIDES, min_cell_count)
            if plan.numeric
            else merge_into_other(cells, SIDES, min_cell_count)
        )
        columns.append(
            {
                "column": plan.name,
                "type": plan.type.value,
                "kind": "numeric" if plan.numeric else "categorical",
                "cells": merged if merged is not None else [],
                "suppressed": merged is None,
            }
        )
        auc = cell_auc(raw["real"], raw["synthetic"])
        if auc is not None:
            detection.append({"column": plan.name, "auc": auc})
    charts: dict[str, Any] = {
        "version": VERSION,
        "min_cell_count": min_cell_count,
        "columns": columns,
        "associations": _associations(plans, counts, min_cell_count),
        "detection": {
            "method": "ROC AUC of a one-column detector (real train vs synthetic) that ranks "
            "the column's chart cells by their real/synthetic share; in-sample, on all rows",
            "columns": sorted(detection, key=lambda d: -d["auc"]),
        },
    }
    if dcr_edges is not None and ("dcr", "synthetic") in counts:
        charts["dcr"] = _dcr_block(dcr_edges, counts, min_cell_count)
    return charts


def _bounds(plan: ColumnPlan, i: int) -> dict[str, Any]:
    if not plan.numeric or i == plan.size - 1 or not plan.edges:
        return {}
    edges = plan.edges
    low = edges[i - 1] if i > 0 else None
    high = edges[i] if i < len(edges) else None
    return {"low": low, "high": high}


def cell_auc(real: np.ndarray, synthetic: np.ndarray) -> float | None:
    """ROC AUC of the detector that scores a row by its cell's real share / (real + synthetic)
    share: 0.5 when the cells hold both tables alike. None for an empty side."""
    r, s = real.astype(np.float64), synthetic.astype(np.float64)
    if r.sum() == 0 or s.sum() == 0:
        return None
    p, q = r / r.sum(), s / s.sum()
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    score = p / (p + q)
    auc = 0.0
    below = 0.0
    for value in np.unique(score):
        at = score == value
        pp, qq = float(p[at].sum()), float(q[at].sum())
        auc += pp * (below + qq / 2)
        below += qq
    return round(min(max(auc, 0.0), 1.0), 6)


def _associations(plans: list[ColumnPlan], counts: Counts, minimum: int) -> dict[str, Any]:
    names = [p.name for p in plans[:MAX_PAIR_COLUMNS]]
    pairs = []
    for a, b in itertools.combinations(plans[:MAX_PAIR_COLUMNS], 2):
        values: dict[str, float | None] = {}
        measure = "pearson" if a.numeric and b.numeric else "cramers_v"
        for side in SIDES:
            found = counts["pair", a.name, b.name, side]
            if measure == "pearson":
                values[side] = _pearson(found, minimum)
            else:
                table = found.reshape(a.size, b.size)[:-1, :-1]  # missing values left out
                values[side] = _cramers_v(table, minimum)
        real, synthetic = values["real"], values["synthetic"]
        pairs.append(
            {
                "columns": [a.name, b.name],
                "measure": measure,
                "real": real,
                "synthetic": synthetic,
                "difference": None
                if real is None or synthetic is None
                else round(synthetic - real, 6),
            }
        )
    return {
        "method": "pearson: Pearson's r over complete rows (two numeric columns); cramers_v: "
        "Cramér's V over the chart cells, missing values left out (any other pair); "
        "difference = synthetic - real; null under the minimum count of complete rows",
        "columns": names,
        "pairs": pairs,
    }


def _pearson(moments: np.ndarray, minimum: int) -> float | None:
    n, sx, sy, sxx, syy, sxy = (float(v) for v in moments)
    if n < max(minimum, 2):
        return None
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    if vx <= 1e-12 * max(sxx, 1e-300) or vy <= 1e-12 * max(syy, 1e-300):
        return None
    r = (sxy - sx * sy / n) / math.sqrt(vx * vy)
    return round(min(max(r, -1.0), 1.0), 6)


def _cramers_v(table: np.ndarray, minimum: int) -> float | None:
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(np.float64)
    n = float(table.sum())
    if n < minimum or min(table.shape) < 2:
        return None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return round(min(math.sqrt(chi2 / (n * (min(table.shape) - 1))), 1.0), 6)


def _dcr_block(edges: tuple[float, ...], counts: Counts, minimum: int) -> dict[str, Any]:
    sides = ("synthetic", "holdout")
    bounds = [(0.0, 0.0), *zip((0.0, *edges[:-1]), edges, strict=True)]
    cells = [
        {
            "label": ZERO if i == 0 else f"({low:.4g}, {high:.4g}]",
            "low": low,
            "high": high,
            **{side: int(counts["dcr", side][i]) for side in sides},
        }
        for i, (low, high) in enumerate(bounds)
    ]
    merged = merge_adjacent(cells, sides, minimum)
    return {
        "method": "DCR to the training table (train ranges), synthetic rows against holdout "
        "rows; cells: exactly 0, then up to the holdout's 5 %, 10 %, … 95 % quantiles and 1",
        "cells": merged if merged is not None else [],
        "suppressed": merged is None,
        "n": {side: int(counts["dcr", side].sum()) for side in sides},
    }


def measure(
    tables: Tables,
    min_cell_count: int,
    dcr: tuple[np.ndarray, np.ndarray] | None = None,
    count: Count | None = None,
) -> dict[str, Any]:
    """The `charts` block: plan, count, finish.

    `dcr`: the synthetic and holdout rows' DCR to train, as the privacy family measured.
    `count`: where the cells are counted (`measurement.Count`): None, on `tables` here,
    all rows at once; a distributed engine counts each partition where it lives and adds
    the counts up. The moments of the numeric pairs are always taken here
    (`count_moments`).
    """
    plans = plan_columns(tables)
    if count is None:
        counts = count_columns(plans, tables)
    else:
        counts = {**count(plans), **count_moments(plans, tables)}
    edges = None
    if dcr is not None:
        edges = plan_dcr(dcr[1])
        counts = add(counts, count_dcr(edges, *dcr))
    return block(plans, counts, min_cell_count, edges)
