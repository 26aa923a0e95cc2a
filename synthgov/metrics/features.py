"""Model inputs and model scores shared by the detection and utility families.

- `peer_design`: the feature matrix of sdmetrics' LogisticDetection (research/metrics.md
  §2.7), typed by the card instead of the pandas dtype.
- `boosting` and `tree_design`: the seeded HistGradientBoostingClassifier of detection and
  utility and its inputs; it handles missing values and categories natively, so nothing is
  imputed and a category unseen in training is harmless.
- `sample_rows`: the seeded row sample that keeps the model work bounded (`--sample`).
- `one_thread`: models fit on one thread (see there why).
- `roc_auc`: ROC AUC of one or several scorers on the same rows, with the DeLong
  covariance (DeLong et al. 1988, in the O(n log n) form of Sun & Xu 2014) for a `ci`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from synthgov.metrics.encoding import Encoded, Tables
from synthgov.metrics.measurement import Allocate, Context, in_memory
from synthgov.models.card import ColumnType

#: rows per table a model sees unless `evaluate --sample N` says otherwise
DEFAULT_ROWS = 50_000
#: float64 cells of one design matrix (256 MiB): wide one-hot designs get fewer rows
CELL_BUDGET = 2**25
#: the most categories a HistGradientBoostingClassifier takes as a native categorical
MAX_NATIVE_CATEGORIES = 255
Z95 = 1.959963984540054
#: scikit-learn's defaults, pinned so that a new release cannot change a metric silently;
#: "auto" early stopping holds out 10 % of the rows above 10,000 and stops after 10 rounds
#: without improvement
BOOSTING = dict(
    learning_rate=0.1,
    max_iter=100,
    max_leaf_nodes=31,
    min_samples_leaf=20,
    l2_regularization=0.0,
    max_bins=255,
    early_stopping="auto",
)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run BLAS and OpenMP on one thread inside the block.

    The models are small (at most 2 x 50,000 rows by default) and OpenMP's spinning
    threads stall when the cores are busy: a HistGradientBoostingClassifier fit on
    66,000 x 15 rows took 34 s on two threads next to other work, 3.3 s on one.
    """
    with threadpool_limits(limits=1):
        yield


def row_limit(context: Context) -> int:
    """Rows per table a model may see: `context.sample`, else `DEFAULT_ROWS`."""
    return context.sample if context.sample is not None else DEFAULT_ROWS


def sample_rows(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """All `n` row indices if `n <= limit`, else a seeded sample of `limit`, in row order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(rng.choice(n, size=limit, replace=False))


def peer_width(tables: Tables) -> int:
    """Columns of `peer_design`: one per numeric column, one per one-hot level of the others."""
    return sum(_width(column) for column in tables)


def peer_design(tables: Tables, rows: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """LogisticDetection's features of `rows` (role -> indices), fit on the real rows.

    The card plays the part of the peer's metadata: boolean columns are left out, as the
    peer drops every column whose sdtype is not numerical, datetime or categorical (a
    pandas bool column without metadata included). Then as its HyperTransformer does:
    numeric columns (dates as days, datetimes as seconds) with missing values set to the
    real mean; categorical and string columns one-hot encoded over the categories of the
    real rows, missing a level of its own if the real rows have it, appended after the
    numeric columns in card order. Where the peer raises (a category or a missing value
    absent from the real rows), the row gets no level (all zeros). The peer types by pandas
    dtype instead, so it reads a categorical column of numbers as a number.
    """
    real = rows["real"]
    blocks: dict[str, list[np.ndarray]] = {role: [] for role in rows}
    one_hot: dict[str, list[np.ndarray]] = {role: [] for role in rows}
    for column in tables:
        if column.is_numeric:
            observed = column.real[real][~np.isnan(column.real[real])]
            fill = float(observed.mean()) if observed.size else 0.0  # peer: NaN, column dropped
            for role, index in rows.items():
                values = column.table(role)[index]
                blocks[role].append(np.where(np.isnan(values), fill, values))
        elif column.type is ColumnType.BOOLEAN:
            continue  # sdtype boolean: the peer leaves it out
        else:
            levels = _levels(column, real)  # sorted codes, -1 (missing) last
            for role, index in rows.items():
                codes = column.table(role)[index]
                one_hot[role].append((codes[:, None] == levels[None, :]).astype(np.float64))
    return {
        role: np.column_stack(blocks[role] + one_hot[role])
        if blocks[role] or one_hot[role]
        else np.empty((len(index), 0))
        for role, index in rows.items()
    }


def boosting(columns: Sequence[Encoded], seed: int) -> HistGradientBoostingClassifier:
    """The seeded classifier for `tree_design(columns, ...)` (see `boosting_method`).

    Categorical codes index the categories of all three tables, so a column with at most
    255 of them fits the model's bins as a native categorical; a wider one is given as its
    ordinal codes (a number).
    """
    native = [not c.is_numeric and len(c.categories) <= MAX_NATIVE_CATEGORIES for c in columns]
    return HistGradientBoostingClassifier(
        **BOOSTING, categorical_features=np.array(native, dtype=bool), random_state=seed
    )


def boosting_method(seed: int) -> str:
    """`boosting`'s model and parameters, as a report's `method` names them."""
    parameters = ", ".join(f"{key}={value!r}" for key, value in BOOSTING.items())
    return (
        f"HistGradientBoostingClassifier({parameters}, random_state={seed}); missing values native, "
        f"categories native up to {MAX_NATIVE_CATEGORIES} levels, else ordinal codes"
    )


def tree_design(
    columns: Sequence[Encoded], role: str, rows: np.ndarray | None = None
) -> np.ndarray:
    """`columns` of the table `role` (optionally only `rows`) as float64, NaN where missing."""
    n = len(columns[0].table(role)) if rows is None else len(rows)
    design = np.empty((n, len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        values = column.table(role) if rows is None else column.table(role)[rows]
        design[:, j] = values if column.is_numeric else np.where(values < 0, np.nan, values)
    return design


def roc_auc(
    labels: np.ndarray,
    scores: np.ndarray,
    covariance: bool = True,
    allocate: Allocate = in_memory,
) -> tuple[np.ndarray, np.ndarray | None]:
    """ROC AUC of each row of `scores` (k x n) against boolean `labels`, and their covariance.

    The AUC is the Mann-Whitney statistic (ties count one half), equal to scikit-learn's
    `roc_auc_score`. The covariance is DeLong's; it is None when either class has fewer
    than two rows, or when not asked for (`covariance=False`: a third of the ranking
    saved, the AUCs the same bits). Both classes must be present. The placements, a row
    per score row, are made by `allocate` (on a Dask client's disk: 16 bytes per row).
    """
    scores = np.atleast_2d(scores)
    m = int(np.count_nonzero(labels))
    n = scores.shape[1] - m
    covariance = covariance and m >= 2 and n >= 2
    # one score row at a time, so that a row's ranks and their temporaries are freed
    # before the next (a 10M-row holdout's two rows at once held about 1.5 GB)
    placement_positive = allocate((len(scores), m), np.float64)  # share of negatives below
    placement_negative = allocate((len(scores), n if covariance else 0), np.float64)  # above
    for i, row in enumerate(scores):
        positive, negative = row[labels], row[~labels]
        pooled = _midrank(np.concatenate([positive, negative]))
        placement_positive[i] = (pooled[:m] - _midrank(positive)) / n
        if covariance:
            placement_negative[i] = 1.0 - (pooled[m:] - _midrank(negative)) / m
        del positive, negative, pooled
    aucs = placement_positive.mean(axis=1)
    if not covariance:
        return aucs, None
    delong = (
        np.atleast_2d(np.cov(placement_positive)) / m
        + np.atleast_2d(np.cov(placement_negative)) / n
    )
    return aucs, delong


def normal_ci(
    value: float, variance: float, lower: float = 0.0, upper: float | None = 1.0
) -> tuple[float, float]:
    """The 95 % normal interval around `value`, clipped to [lower, upper]."""
    half = Z95 * float(np.sqrt(max(variance, 0.0)))
    high = value + half if upper is None else min(value + half, upper)
    return max(value - half, lower), high


def _midrank(values: np.ndarray) -> np.ndarray:
    """Ranks from 1 of a 1-D array, ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    del ordered
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _levels(column: Encoded, real: np.ndarray) -> np.ndarray:
    present = np.bincount(column.real[real] + 1, minlength=len(column.categories) + 1) > 0
    codes = np.flatnonzero(present[1:]).astype(np.int32)
    return np.append(codes, np.int32(-1)) if present[0] else codes


def _width(column: Encoded) -> int:
    if column.type is ColumnType.BOOLEAN:
        return 0
    return 1 if column.is_numeric else int(np.unique(column.real).size)
