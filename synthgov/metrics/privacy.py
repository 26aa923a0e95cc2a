"""Distance-based privacy: exact copies, SDMetrics' DCR metrics, and the figures the
default policy gates, each against the holdout as the control.

Every card column present in all three tables takes part. Distances use the SDMetrics
kernel of `synthgov.metrics.distance` (research/metrics.md §4).

The peer's figures, each DCR pass scaled by the ranges of its own reference table as the
peer does (kept for parity; docs/metrics.md lists why they are not gated):

- `privacy.exact_match_rate`: share of synthetic rows equal on every column to some
  real-train row (numbers by exact value, missing equal to missing); never sampled.
- `privacy.dcr_share_closer_to_train`: p = share of synthetic rows with DCR(S→R) <
  DCR(S→H), strict, so ties count for the holdout as in the peer.
- `privacy.dcr_overfitting_protection`: SDMetrics DCROverfittingProtection, min(2(1 − p), 1).
- `privacy.dcr_median`: median DCR(S→R).
- `privacy.dcr_baseline_protection`: SDMetrics DCRBaselineProtection, min(median DCR(S→R) /
  median DCR(Rand→R), 1), Rand drawn from a seeded stream by the peer's scheme. Skipped
  when the random median is 0 (random rows already copy the train table: the ratio is
  undefined, and the peer returns NaN).

The gated figures, every distance in the training table's units, so that given the
training table an ideal generator's rows and the holdout rows are exchangeable and each
figure has a known null and a valid interval whatever the table:

- `privacy.exact_copy_excess`: synthetic rows that copy a training row, less holdout rows
  that equal one (Newcombe's interval; Fisher's exact test decides a rule at 0).
- `privacy.near_copy_excess`: synthetic rows within the near-copy radius of a training row
  (the 1 % quantile of the holdout rows' DCR to train), less the holdout's share.
- `privacy.closer_than_fresh`: P(a synthetic row is closer to train than a holdout row),
  ties one half (Mann-Whitney, DeLong's interval).
- `privacy.mia_auc`: no peer. Records of R (label 1) and H (label 0), equal-size seeded
  samples, scored by −DCR(record → S); the ROC AUC, ties averaged, with DeLong's interval.
  0.5 means the attack learns nothing.

Exact up to `context.exact_rows` synthetic rows. Above that, or when `context.sample` is
smaller than the synthetic table, seeded samples of synthetic (and holdout) query rows are
searched against the *full* reference tables, so they estimate the exact shares and median
(the peer's subsampling also shrinks the reference, which biases both, research §7.3); the
peer's p, overfitting score and median then carry a 95% `ci`; the baseline, a ratio of two
sampled medians, has none.

The five query sets take one pass per reference table (`Passes`): a distributed engine
reads each table's partitions once for all the sets searched against it, and `start`
submits the passes right after the tables are loaded, so they run on its workers while
this process measures the other families (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from synthgov.metrics.distance import Matrix, dcr, numeric_mask
from synthgov.metrics.encoding import ROLES, Tables
from synthgov.metrics.features import roc_auc
from synthgov.metrics.intervals import Z95, wilson
from synthgov.metrics.measurement import Context, Done, Measurement, Pending, Search, estimate
from synthgov.metrics.rows import row_hashes
from synthgov.models.card import Card, ColumnType

#: synthetic query rows searched in sampled mode unless `context.sample` says otherwise
DEFAULT_QUERIES = 10_000
#: the near-copy radius: this quantile of the holdout rows' DCR to train
NEAR_COPY_QUANTILE = 0.01
KERNEL = "SDMetrics DCR kernel: min(|s-r|/range, 1) numeric, 0/1 categorical, missing == missing, mean over columns"


def measure(tables: Tables, context: Context, card: Card) -> list[Measurement]:
    """The distance-based privacy metrics; none when a table has no rows or no column."""
    del card  # every card column present in the three tables is compared, and nothing else
    passes = _passes(tables, context)
    if passes is None:
        return []
    n, sampled = len(passes.queries), passes.sampled
    mode = "sampled" if sampled else "exact"
    if sampled:
        rows = f"sampled: {n} of {tables.rows['synthetic']} synthetic rows (seeded), against all reference rows"
    else:
        rows = f"exact: all {n} synthetic rows"

    to_train, to_random, fresh_to_train = passes.to_real.result()
    (to_holdout,) = passes.to_holdout.result()
    copies = exact_copies(tables, context.hashes)
    closer = int(np.count_nonzero(to_train < to_holdout))
    p = closer / n
    p_ci = wilson(closer, n, Z95) if sampled else None
    median = float(np.median(to_train))
    found = [
        exact_match_rate(tables, copies[0]),
        Measurement(
            "privacy.dcr_share_closer_to_train",
            p,
            n=n,
            ci=p_ci,
            extra={"mode": mode},
            method=f"{rows}; share with DCR to train < DCR to holdout (strict), ranges of each reference; {KERNEL}",
        ),
        Measurement(
            "privacy.dcr_overfitting_protection",
            _protection(p),
            n=n,
            extra={"mode": mode},
            ci=None if p_ci is None else (_protection(p_ci[1]), _protection(p_ci[0])),
            method=f"{rows}; SDMetrics DCROverfittingProtection min(2(1-p), 1); {KERNEL}",
        ),
        Measurement(
            "privacy.dcr_median",
            median,
            n=n,
            ci=_median_ci(to_train) if sampled else None,
            extra={"mode": mode},
            method=f"{rows}; median DCR to train, train ranges; {KERNEL}",
        ),
    ]
    baseline = baseline_protection(median, to_random)
    if baseline is not None:
        value, random_median = baseline
        found.append(
            Measurement(
                "privacy.dcr_baseline_protection",
                value,
                n=n,
                extra={"mode": mode, "median_dcr": median, "median_dcr_random": random_median},
                method=(
                    f"{rows}; SDMetrics DCRBaselineProtection min(median DCR(S->R) / median DCR(random->R), 1), "
                    f"{len(to_random)} random rows from the seeded stream 'privacy.dcr_baseline' (uniform per column, "
                    f"train's missing rates); {KERNEL}"
                ),
            )
        )
    # the release report's DCR chart counts these (metrics/aggregates.py), never recomputes them
    context.memo("privacy.dcr_to_train", lambda: (to_train, fresh_to_train))
    (to_synthetic,) = passes.to_synthetic.result()
    found += [
        exact_copy_excess(*copies),
        near_copy_excess(to_train, fresh_to_train, mode),
        closer_than_fresh(to_train, fresh_to_train, mode),
        mia_auc(passes.members, to_synthetic, max(tables.rows["real"], tables.rows["holdout"])),
    ]
    return found


def start(tables: Tables, context: Context) -> None:
    """Draw the DCR query sets and start their searches on the engine that offers them
    (`context.search`), which then run while this process measures the other families:
    the queries depend only on the tables, the seed and the sample settings, so
    `evaluation` calls this right after the tables are loaded. In this process (no
    `context.search`) nothing happens here: `measure` draws and searches as it did."""
    if context.search is not None:
        _passes(tables, context)


@dataclass(frozen=True)
class Passes:
    """The query sets of the DCR searches, drawn by seed, and the searches' pending
    results: one pass over each reference table, every set against it in one search.

    All three sets searched against train use the train table's ranges: the synthetic
    queries and the random baseline as the peer does (the ranges of the reference, which
    is train), the holdout rows because every train-vs-holdout comparison is in train's
    units; `Matrix.ranges` and `distance.dcr`'s own `ranges` are the same bits."""

    #: the synthetic query rows (all of them in exact mode)
    queries: np.ndarray
    sampled: bool
    #: (synthetic queries, random baseline rows, holdout rows) -> their DCR to train
    to_real: Pending[list[np.ndarray]]
    #: (synthetic queries,) -> their DCR to holdout, holdout's ranges
    to_holdout: Pending[list[np.ndarray]]
    #: the membership attack's records per side (train, then holdout)
    members: int
    #: (the attack's records,) -> their DCR to synthetic, train's ranges
    to_synthetic: Pending[list[np.ndarray]]


def _passes(tables: Tables, context: Context) -> Passes | None:
    return context.memo("privacy.dcr_passes", lambda: _begin(tables, context))


def _begin(tables: Tables, context: Context) -> Passes | None:
    """The seeded query sets, each from its own named stream (so drawing them earlier
    changes no other metric), and their three searches started; None: nothing to search."""
    if not tables.columns or min(tables.rows[role] for role in ROLES) == 0:
        return None
    numeric = numeric_mask(tables)
    # each table's matrix only as far as needed: the rows searched for, and the whole
    # reference only for a search in this process (`_here`)
    real, holdout, synthetic = (Matrix(tables, role) for role in ROLES)
    picked = _query_rows(len(synthetic), context)
    queries = synthetic.whole if picked is None else synthetic.rows(picked)
    noise = random_table(tables, len(queries), context.rng("privacy.dcr_baseline"))
    h_picked = _query_rows(len(holdout), context, "privacy.dcr_holdout")
    fresh = holdout.whole if h_picked is None else holdout.rows(h_picked)
    size = min(len(real), len(holdout), max(_budget(context) // 2, 1))
    context.record("privacy.mia_auc", size)
    rng = context.rng("privacy.mia_auc")
    records = np.concatenate(
        [
            real.rows(np.sort(rng.choice(len(real), size=size, replace=False))),
            holdout.rows(np.sort(rng.choice(len(holdout), size=size, replace=False))),
        ]
    )
    search = context.search or _here({"real": real, "holdout": holdout, "synthetic": synthetic})
    scale = real.ranges(numeric)  # the one normalisation of every search against train
    return Passes(
        queries=queries,
        sampled=picked is not None,
        to_real=search([queries, noise, fresh], "real", numeric, scale),
        to_holdout=search([queries], "holdout", numeric, holdout.ranges(numeric)),
        members=size,
        to_synthetic=search([records], "synthetic", numeric, scale),
    )


def _here(matrices: dict[str, Matrix]) -> Search:
    """The `Search` of this process: the kernel on each set, run before it returns (with
    no workers to run it meanwhile, privacy asks for it only when it measures)."""

    def search(
        sets: Sequence[np.ndarray], role: str, numeric: np.ndarray, scale: np.ndarray
    ) -> Pending[list[np.ndarray]]:
        return Done([dcr(queries, matrices[role].whole, numeric, scale) for queries in sets])

    return search


def exact_matches(
    tables: Tables, role: str, hashes: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """Which rows of table `role` equal some real-train row on every column: a number by
    its value (-0.0 is 0.0, every NaN alike), a category by its code.

    Equal rows have equal row hashes (`rows.row_hashes` hashes the same values), so each
    row is compared, cell by cell, with the first real row of its hash: no table-sized
    key is built (the factorised keys this replaced held about 100 bytes per row of two
    tables at once). A row that differs from it while sharing its hash (a collision,
    which a table can be crafted to make: the hash is invertible) is settled by exact
    keys over those rows and every real row of their hashes (`_keyed_matches`), so no
    collision makes two rows equal and crafted ones cost linear time, not a comparison
    per pair. `hashes`: the engine's row hashes of these tables by role (`Loaded.hashes`,
    over the same columns); computed when absent.

    Raises:
        ValueError: `hashes` that do not have one hash per row of each table.
    """
    if hashes is None:
        hashes = {name: row_hashes(tables, name) for name in {"real", role}}
    real, asked = hashes["real"], hashes[role]
    if len(real) != tables.rows["real"] or len(asked) != tables.rows[role]:
        raise ValueError("exact matches need one row hash per row of each table")
    order = None  # the canonical hashes are sorted already
    if len(real) > 1 and not np.all(real[1:] >= real[:-1]):
        order = np.argsort(real, kind="stable")
        real = real[order]
    matched = np.zeros(len(asked), dtype=np.bool_)
    collided: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for begin in range(0, len(asked), _MATCH_CHUNK):  # bounded temporaries
        piece = asked[begin : begin + _MATCH_CHUNK]
        first = np.searchsorted(real, piece, side="left")
        stop = np.searchsorted(real, piece, side="right")
        pending = np.flatnonzero(first < stop)
        at = first[pending]
        same = _same_rows(tables, role, pending + begin, at if order is None else order[at])
        matched[pending[same] + begin] = True
        rest = pending[~same]
        if len(rest):
            collided.append((rest + begin, first[rest], stop[rest]))
    if collided:
        rows, starts, stops = (np.concatenate(parts) for parts in zip(*collided, strict=True))
        starts, at = np.unique(starts, return_index=True)  # each hash's real rows once
        sizes = stops[at] - starts
        group = np.repeat(starts - np.cumsum(sizes) + sizes, sizes)
        others = group + np.arange(int(sizes.sum()))  # positions in the sorted hashes
        matched[rows] = _keyed_matches(
            tables, role, rows, others if order is None else order[others]
        )
    return matched


#: rows of the asked table matched at a time (`exact_matches`): about 40 MB of temporaries
_MATCH_CHUNK = 1 << 20


def _same_rows(tables: Tables, role: str, rows: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Whether row `rows[i]` of table `role` equals real row `real[i]` on every column."""
    same = np.ones(len(rows), dtype=np.bool_)
    for column in tables:
        mine, theirs = column.table(role)[rows], column.real[real]
        equal = mine == theirs  # -0.0 == 0.0; category codes, -1 missing
        if column.is_numeric:
            equal |= np.isnan(mine) & np.isnan(theirs)
        same &= equal
    return same


def _keyed_matches(tables: Tables, role: str, rows: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Whether each of `rows` of table `role` equals one of the `real` rows, by exact keys:
    each column's values factorised (a float by its bits, -0.0 as 0.0, every NaN alike; a
    category by its code) as the digits of a mixed-radix key, itself factorised before a
    digit would overflow it. Linear in the rows, however many share a hash."""
    import pandas as pd

    key = np.zeros(len(real) + len(rows), dtype=np.int64)
    bound = 1  # every key is below it
    for column in tables:
        values = np.concatenate([column.real[real], column.table(role)[rows]])
        if column.is_numeric:
            values = np.where(np.isnan(values), np.nan, values + 0.0).view(np.int64)
            codes, uniques = pd.factorize(values)
            radix = len(uniques)
        else:  # category codes are small already: -1 (missing) and up
            codes = values.astype(np.int64) + 1
            radix = int(codes.max(initial=0)) + 1
        if bound * radix >= 2**62:
            key, uniques = pd.factorize(key)
            bound = len(uniques)
        key = key * radix + codes
        bound *= radix
    key, _ = pd.factorize(key)
    seen = np.zeros(int(key.max(initial=-1)) + 1, dtype=np.bool_)
    seen[key[: len(real)]] = True
    found: np.ndarray = seen[key[len(real) :]]
    return found


def exact_copies(
    tables: Tables, hashes: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`exact_matches` of the synthetic and of the holdout rows, computed once for the
    match rate and the copy excess."""
    return exact_matches(tables, "synthetic", hashes), exact_matches(tables, "holdout", hashes)


def exact_copy_excess(synthetic: np.ndarray, holdout: np.ndarray) -> Measurement:
    """The share of synthetic rows that copy a training row, less the share of holdout
    rows that happen to equal one: a fresh sample of the population copies as often
    (`synthetic`, `holdout`: `exact_copies`)."""
    k = [int(synthetic.sum()), int(holdout.sum())]
    n = [len(synthetic), len(holdout)]
    return estimate(
        "privacy.exact_copy_excess",
        k[0] / n[0] - k[1] / n[1],
        {"kind": "newcombe", "successes": k, "trials": n},
        low=-1.0,
        n=n[0],
        extra={"synthetic_share": k[0] / n[0], "holdout_share": k[1] / n[1]},
        method="exact: share of all synthetic rows equal to a train row on every column, less the same share "
        "of all holdout rows; ci: Newcombe's hybrid score interval of the difference",
    )


def near_copy_excess(to_train: np.ndarray, fresh_to_train: np.ndarray, mode: str) -> Measurement:
    """The share of synthetic rows within the near-copy radius of a training row, less
    the holdout's share; the radius is the `NEAR_COPY_QUANTILE` quantile of the holdout
    rows' DCR to train, so a fresh sample has about that share within it."""
    radius = float(np.quantile(fresh_to_train, NEAR_COPY_QUANTILE, method="lower"))
    k = [int(np.count_nonzero(to_train <= radius)), int(np.count_nonzero(fresh_to_train <= radius))]
    n = [len(to_train), len(fresh_to_train)]
    return estimate(
        "privacy.near_copy_excess",
        k[0] / n[0] - k[1] / n[1],
        {"kind": "newcombe", "successes": k, "trials": n},
        low=-1.0,
        n=n[0],
        extra={
            "mode": mode,
            "radius": radius,
            "quantile": NEAR_COPY_QUANTILE,
            "synthetic_share": k[0] / n[0],
            "holdout_share": k[1] / n[1],
        },
        method=f"{mode}: share of synthetic rows whose DCR to train is at most the radius, less the share of "
        f"holdout rows; radius = the {NEAR_COPY_QUANTILE:g} quantile of the holdout rows' DCR to train; "
        f"train ranges for both; ci: Newcombe's hybrid score interval; {KERNEL}",
    )


def closer_than_fresh(to_train: np.ndarray, fresh_to_train: np.ndarray, mode: str) -> Measurement:
    """P(a synthetic row is closer to train than a holdout row is), ties counted one half.

    The Mann-Whitney form of "are synthetic rows closer to the training data than fresh
    rows?": given the training table, an ideal generator's rows and the holdout rows are
    exchangeable, so this is 1/2 whatever the table; `ci` from DeLong's variance.
    """
    labels = np.concatenate([np.ones(len(to_train), bool), np.zeros(len(fresh_to_train), bool)])
    auc, covariance = roc_auc(labels, -np.concatenate([to_train, fresh_to_train]))
    value = float(auc[0])
    se = 0.0 if covariance is None else float(np.sqrt(max(covariance[0, 0], 0.0)))
    return estimate(
        "privacy.closer_than_fresh",
        value,
        {"kind": "normal", "se": se},
        n=len(to_train),
        extra={"mode": mode, "n_holdout": len(fresh_to_train)},
        method=f"{mode}: P(DCR(synthetic row -> train) < DCR(holdout row -> train)), ties one half "
        f"(Mann-Whitney), train ranges for both; ci: DeLong, normal; {KERNEL}",
    )


def exact_match_rate(tables: Tables, matched: np.ndarray | None = None) -> Measurement:
    """Share of synthetic rows equal to some real-train row on every column;
    `matched`: `exact_matches(tables, "synthetic")`, if at hand."""
    if matched is None:
        matched = exact_matches(tables, "synthetic")
    return Measurement(
        "privacy.exact_match_rate",
        float(matched.mean()),
        n=len(matched),
        method=f"exact: share of all synthetic rows equal to a train row on all {len(tables.columns)} columns "
        "(numbers by exact value, missing equals missing)",
    )


def random_table(tables: Tables, rows: int, rng: np.random.Generator) -> np.ndarray:
    """`rows` random rows in `matrix` layout by the peer's scheme, from the train table.

    Integers uniform on min..max, other numbers (dates included, as the peer's datetimes)
    uniform on [min, max], categories uniform over the train table's observed ones; then
    each column missing at the train table's rate. The card's type decides, where the peer
    reads the pandas dtype (and so draws floats for an integer column with a missing value).
    A column with no train value stays missing.
    """
    out = np.empty((rows, len(tables.columns)), dtype=np.float64)
    for j, column in enumerate(tables.columns):
        missing = column.missing("real")
        present = column.real[~missing]
        if not present.size:
            out[:, j] = np.nan if column.is_numeric else -1.0
            continue
        if column.type is ColumnType.INTEGER:
            low, high = int(present.min()), int(present.max())
            if low >= -(2**63) and high < 2**63 - 1:
                out[:, j] = rng.integers(low, high + 1, size=rows)
            else:  # beyond int64, which `integers` cannot draw: whole floats on the range
                out[:, j] = np.floor(rng.uniform(low, high, size=rows))
        elif column.is_numeric:
            out[:, j] = rng.uniform(present.min(), present.max(), size=rows)
        else:
            out[:, j] = rng.choice(np.unique(present), size=rows)
        out[rng.random(rows) < missing.mean(), j] = np.nan if column.is_numeric else -1.0
    return out


def baseline_protection(median: float, to_random: np.ndarray) -> tuple[float, float] | None:
    """The DCRBaselineProtection score and the random median, or None if that median is 0."""
    random_median = float(np.median(to_random))
    if random_median == 0.0:
        return None
    return min(median / random_median, 1.0), random_median


def mia_auc(size: int, to_synthetic: np.ndarray, largest: int) -> Measurement:
    """ROC AUC of the distance attack: the closer a record is to S, the likelier a member.

    Each side contributes the same number of seeded records (`size`), min(|R|, |H|, half
    the query budget), so the attack costs at most one DCR pass; `to_synthetic` is their
    DCR to S, train's `size` first. Distances are in the training table's units, as every
    train-vs-holdout comparison here: given S, train and holdout records are then
    exchangeable for an ideal generator, and the AUC is 1/2. `ci` from DeLong's variance:
    the attack's AUC is an estimate even on every record; it is exact (`mode`) when no
    record of the larger table (`largest` rows) was left out.
    """
    labels = np.repeat([True, False], size)
    auc, covariance = roc_auc(labels, -to_synthetic)
    se = 0.0 if covariance is None else float(np.sqrt(max(covariance[0, 0], 0.0)))
    sampled = size < largest
    mode = "sampled" if sampled else "exact"
    return estimate(
        "privacy.mia_auc",
        float(auc[0]),
        {"kind": "normal", "se": se},
        n=2 * size,
        extra={"mode": mode},
        method=f"{mode}: distance attack, {size} seeded train records (member) and {size} holdout records scored by "
        f"-DCR(record -> synthetic) with the training table's ranges, ROC AUC with ties averaged; "
        f"ci: DeLong, normal; {KERNEL}",
    )


def _budget(context: Context) -> int:
    return max(context.sample if context.sample is not None else DEFAULT_QUERIES, 1)


def _query_rows(rows: int, context: Context, step: str = "privacy.dcr") -> np.ndarray | None:
    """The seeded rows to search from, or None for all of them (exact mode)."""
    budget = _budget(context)
    if (rows <= context.exact_rows and context.sample is None) or budget >= rows:
        return None
    context.record(step, budget)
    return np.sort(context.rng(step).choice(rows, size=budget, replace=False))


def _protection(p: float) -> float:
    return min(2.0 * (1.0 - p), 1.0)


def _median_ci(values: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95% interval of the median: order statistics l and n − l + 1.

    l is the largest rank with P(Binomial(n, ½) < l) < 2.5%, so the interval covers the
    population median with probability at least 95% (n ≥ 6; the full range below).
    """
    n = len(values)
    # log P(B = k) from 0.5**n and the ratio (n - k) / (k + 1) between neighbours
    steps = np.log(np.arange(n, 0, -1) / np.arange(1, n + 1))
    cdf = np.cumsum(np.exp(n * np.log(0.5) + np.concatenate([[0.0], np.cumsum(steps)])))
    low = max(int(np.searchsorted(cdf, 0.025, side="left")), 1)  # first k with P(B <= k) >= 2.5%
    ordered = np.sort(values)
    return float(ordered[low - 1]), float(ordered[n - low])
