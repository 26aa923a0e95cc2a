"""anonymeter 1.1.0's three privacy risks, control = holdout (BRIEF §8, research/metrics.md §5).

Each attack runs against real training records and, alike, against holdout records that
the generator never saw. A success rate is the Wilson centre `(k + z²/2) / (n + z²)` with
error `z / (n + z²) · sqrt(k(n − k)/n + z²/4)`, z = 1.96; the risk is the residual
`(attack − control) / (1 − control)` with the error propagated to first order, and value
and interval are clipped to [0, 1] (`PrivacyRisk`). A random-guess baseline is reported as
anonymeter's sanity check: an attack no better than guessing says nothing.

- `privacy.singling_out_risk`: multivariate queries from a random synthetic row and 3
  random columns (`== label`, a number above the column's median `>= value`, else
  `<= value`, a missing cell `is null`) that match exactly one row of the deduplicated
  synthetic table; a success is a query matching exactly one deduplicated real row.
- `privacy.linkability_risk`: a target is linked when its nearest synthetic record on one
  half of the columns is also its nearest on the other half (BRIEF §10.18 split).
- `privacy.inference_risk` (per secret): the guess is the secret of the nearest
  synthetic record on every other column; numeric secrets count within 5 % of the guess.

Where synthgov departs from the peer, on purpose:
- the singling-out denominator is the number of queries generated, not the number
  requested (the peer underestimates the risk when it finds fewer; LeakPro#182), and
  generation stops after 100 attempts per requested query (the peer allows 10 million);
- the inference baseline compares each random guess with its own target (the peer's
  `reindex_like` turns most baseline guesses into NaN);
- a numeric guess `g` succeeds if `|g − t| ≤ 0.05 · |g + 1e-12|`; the peer divides by
  `g + 1e-12` without the absolute value, so every negative guess succeeds there;
- the holdout-size correction of singling out (a fitted singling-out model) is fitted on
  seeded nested subsamples; control counts are capped at the number of queries, and the
  correction is skipped (factor 1) when no control query succeeds or the fit fails;
- control attacks are capped by the holdout size separately, never a crash;
- when no query singles out a synthetic row, the peer has no rate; the gated excess is
  then 0 on both tables with Newcombe's interval (nobody is singled out), not missing.

Cost at 50,000 rows × 15 mixed columns, 2,000 attacks, one core: singling out 1.1 s (the
200,000 attempts find 350 queries on that table), linkability 1.0 s, inference 0.8 s per
secret; anonymeter 1.1.0 took 118 s (same attempt cap), 113 s and 55 s. A cold numba cache
adds about 8 s of compilation once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit
from scipy.optimize import OptimizeWarning, curve_fit

from synthgov.metrics.encoding import ROLES, Tables
from synthgov.metrics.gower import nearest
from synthgov.metrics.intervals import Z95
from synthgov.metrics.measurement import (
    Allocate,
    Context,
    Measurement,
    Pending,
    estimate,
    in_memory,
)
from synthgov.models.card import Card

Z = Z95  # the standard normal 97.5 % quantile, as anonymeter's scipy norm.ppf(0.975)
#: the peer's normalised risk -> the absolute excess over the control that the policy gates
EXCESS = {
    "privacy.linkability_risk": "privacy.linkability_excess",
    "privacy.inference_risk": "privacy.inference_excess",
}
TOLERANCE = 0.05  # a numeric guess within 5 % of itself is right
N_COLS = 3  # columns per singling-out query
_BATCH = 1000  # singling-out queries drawn per round, as the peer does
_ATTEMPTS_PER_QUERY = 100
_REPEATS, _SIZES = 5, 10  # subsamples for the holdout-size correction, as the peer
_TOP = np.iinfo(np.int32).max
_NONE = -2  # no excluded code (codes are >= -1)
_CHUNK = 1 << 20  # values of a numeric column hashed at a time when ranking it
_METHOD = "anonymeter 1.1.0 {}, control = holdout, 95 % Wilson"


@dataclass(frozen=True)
class Rate:
    """A Wilson success rate and its error at 95 %."""

    value: float
    error: float


def wilson(successes: float, n: int) -> Rate:
    """The Wilson score centre and half-width for `successes` out of `n` (n > 0)."""
    z2 = Z * Z
    denominator = n + z2
    centre = (successes + 0.5 * z2) / denominator
    return Rate(centre, (Z / denominator) * math.sqrt(successes * (n - successes) / n + 0.25 * z2))


def residual_risk(attack: Rate, control: Rate) -> tuple[float, tuple[float, float]]:
    """The attack's excess over the control, normalised, with its CI; all clipped to [0, 1]."""
    margin = 1.0 - control.value  # > 0: a Wilson centre is below 1
    value = (attack.value - control.value) / margin
    by_attack, by_control = (
        1 / abs(margin),
        (attack.value - 1) / margin**2,
    )  # the partial derivatives
    error = math.sqrt((attack.error * by_attack) ** 2 + (control.error * by_control) ** 2)
    return _clip(value), (_clip(value - error), _clip(value + error))


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def measure(tables: Tables, context: Context, card: Card) -> list[Measurement]:
    """The three risks; a risk that cannot be attacked is left out (see each function).

    Without columns or with `context.n_attacks` < 1 there is no attack, hence no risk.
    """
    if not tables.columns or context.n_attacks < 1:
        return []
    target = card.target.column if card.target else None
    secrets = card.secret_columns or ([target] if target else [])
    out = singling_out(tables, context)
    out += linkability(tables, context, [name for name in tables.names if name != target])
    for secret in secrets:
        if secret in tables:  # a secret missing from the synthetic table is a schema finding
            out += inference(tables, context, secret)
    return out


def _risk(
    metric: str,
    step: str,
    attack: tuple[float, int],
    control: tuple[float, int],
    baseline: tuple[int, int],
    method: str,
    column: str | None = None,
    **extra: object,
) -> list[Measurement]:
    """The peer's normalised risk, and the excess success over the control that is gated."""
    rates = wilson(*attack), wilson(*control), wilson(*baseline)
    value, ci = residual_risk(rates[0], rates[1])
    details = {
        "attack_rate": rates[0].value,
        "control_rate": rates[1].value,
        "baseline_rate": rates[2].value,
        "baseline_warning": rates[2].value >= rates[0].value,
        "n_control": control[1],
        "n_baseline": baseline[1],
        "step": step,
        **extra,
    }
    risk = Measurement(
        metric,
        value,
        column=column,
        n=attack[1],
        method=_METHOD.format(method),
        ci=ci,
        extra=details,
    )
    if metric not in EXCESS:  # singling out counts its excess per record (_singling_out_excess)
        return [risk]
    shares = attack[0] / attack[1], control[0] / control[1]
    excess = estimate(
        EXCESS[metric],
        shares[0] - shares[1],
        {
            "kind": "newcombe",
            "successes": [attack[0], control[0]],
            "trials": [attack[1], control[1]],
        },
        low=-1.0,
        column=column,
        n=attack[1],
        method=f"anonymeter 1.1.0 {method}, control = holdout: attack success share on train targets less "
        "the same share on holdout targets (absolute, not normalised by 1 - control); ci: Newcombe's "
        "hybrid score interval",
        extra={
            "attack_share": shares[0],
            "control_share": shares[1],
            "n_control": control[1],
            "step": step,
        },
    )
    return [risk, excess]


def _targets(
    tables: Tables, context: Context, rng: np.random.Generator, step: str
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded real and holdout targets, `context.n_attacks` of each or the whole table."""
    real = rng.choice(
        tables.rows["real"], size=min(context.n_attacks, tables.rows["real"]), replace=False
    )
    holdout = rng.choice(
        tables.rows["holdout"], size=min(context.n_attacks, tables.rows["holdout"]), replace=False
    )
    context.record(step, len(real))
    return real, holdout


def start(tables: Tables, context: Context, card: Card) -> None:
    """Draw linkability's and inference's targets and start all their nearest-neighbour
    searches, in one pass over the synthetic table, on the engine that offers them
    (`context.nearest`), which then run while this process measures the other families:
    the targets depend only on the tables and the seed, each from its attack's own
    stream. In this process (no `context.nearest`) nothing happens here."""
    if context.nearest is None or not tables.columns or context.n_attacks < 1:
        return
    target = card.target.column if card.target else None
    secrets = card.secret_columns or ([target] if target else [])
    columns = [name for name in tables.names if name != target]
    planned: list[tuple[str, list[_Search]]] = []
    if len(columns) >= 2:
        step = _LINKABILITY
        _, real, holdout = _drawn(tables, context, step, keep=True)
        planned.append((step, _link_searches(_halves(columns), real, holdout)))
    for secret in secrets:
        aux = [name for name in tables.names if name != secret]
        if secret in tables and aux:
            step = _inference_step(secret)
            _, real, holdout = _drawn(tables, context, step, keep=True)
            planned.append((step, _guess_searches(aux, real, holdout)))
    if not planned:
        return
    pending = context.nearest([search for _, searches in planned for search in searches])
    started: dict[str, _Started] = context.memo(_STARTED, dict)
    offset = 0
    for step, searches in planned:
        started[step] = (pending, offset, searches)
        offset += len(searches)


#: one nearest-neighbour search: (columns, role of the targets, their rows)
_Search = tuple[list[str], str, np.ndarray]
_LINKABILITY = "privacy.linkability_risk"
_DRAWN, _STARTED = "attacks.drawn", "attacks.started"
#: a pass `start` began: its pending answers, where a step's searches begin, and them
_Started = tuple[Pending[list[tuple[np.ndarray, np.ndarray]]], int, list[_Search]]


def _inference_step(secret: str) -> str:
    return f"privacy.inference_risk[{secret}]"


def _halves(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    return list(columns[0::2]), list(columns[1::2])


def _link_searches(
    aux: tuple[list[str], list[str]], real: np.ndarray, holdout: np.ndarray
) -> list[_Search]:
    return [
        (half, role, rows) for role, rows in (("real", real), ("holdout", holdout)) for half in aux
    ]


def _guess_searches(aux: list[str], real: np.ndarray, holdout: np.ndarray) -> list[_Search]:
    return [(aux, "real", real), (aux, "holdout", holdout)]


def _drawn(
    tables: Tables, context: Context, step: str, keep: bool = False
) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """The attack's stream and its targets (`_targets`), drawn by `start` (`keep`) for the
    attack to take, else now: the same draws either way."""
    kept: dict[str, tuple[np.random.Generator, np.ndarray, np.ndarray]]
    kept = context.memo(_DRAWN, dict)
    drawn = kept.pop(step, None)
    if drawn is None:
        rng = context.rng(step)
        drawn = (rng, *_targets(tables, context, rng, step))
    if keep:
        kept[step] = drawn
    return drawn


def _nearest_rows(
    tables: Tables, context: Context, step: str, searches: list[_Search]
) -> list[np.ndarray]:
    """Each search's nearest synthetic rows (`gower.nearest`): in this process, one search
    after another; on an engine that offers them (`context.nearest`), from the pass that
    `start` began when it planned the same searches, else from a pass of their own."""
    if context.nearest is None:
        return [nearest(tables, c, role, rows, context.allocate)[0] for c, role, rows in searches]
    begun: dict[str, _Started] = context.memo(_STARTED, dict)
    started = begun.pop(step, None)
    if started is not None:
        pending, offset, planned = started
        if _same(planned, searches):
            return [index for index, _ in pending.result()[offset : offset + len(searches)]]
    return [index for index, _ in context.nearest(searches).result()]


def _same(planned: list[_Search], searches: list[_Search]) -> bool:
    return len(planned) == len(searches) and all(
        a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])
        for a, b in zip(planned, searches, strict=True)
    )


def linkability(tables: Tables, context: Context, columns: Sequence[str]) -> list[Measurement]:
    """Linkability over `columns` split alternately in two; none with fewer than two columns."""
    if len(columns) < 2:
        return []
    aux = _halves(columns)
    step = _LINKABILITY
    rng, real, holdout = _drawn(tables, context, step)
    found = _nearest_rows(tables, context, step, _link_searches(aux, real, holdout))
    links = [int(np.sum(found[0] == found[1])), int(np.sum(found[2] == found[3]))]

    size = tables.rows["synthetic"]
    guessed = int(np.sum(rng.integers(0, size, len(real)) == rng.integers(0, size, len(real))))
    return _risk(
        "privacy.linkability_risk",
        step,
        (links[0], len(real)),
        (links[1], len(holdout)),
        (guessed, len(real)),
        "linkability",
        aux_cols=[aux[0], aux[1]],
        n_neighbors=1,
        n_attacks_requested=context.n_attacks,
    )


def inference(tables: Tables, context: Context, secret: str) -> list[Measurement]:
    """Inference of `secret` from every other column; none when it is the only column."""
    aux = [name for name in tables.names if name != secret]
    if not aux:
        return []
    step = _inference_step(secret)
    rng, real, holdout = _drawn(tables, context, step)
    column = tables[secret]
    searches = _guess_searches(aux, real, holdout)
    found = dict(
        zip(("real", "holdout"), _nearest_rows(tables, context, step, searches), strict=True)
    )

    def hits(role: str, rows: np.ndarray) -> int:
        guesses = column.synthetic[found[role]]
        return int(np.sum(correct(guesses, column.table(role)[rows], column.is_numeric)))

    n_guesses = min(tables.rows["synthetic"], len(real))
    guesses = column.synthetic[rng.choice(tables.rows["synthetic"], size=n_guesses, replace=False)]
    guessed = int(np.sum(correct(guesses, column.real[real[:n_guesses]], column.is_numeric)))
    return _risk(
        "privacy.inference_risk",
        step,
        (hits("real", real), len(real)),
        (hits("holdout", holdout), len(holdout)),
        (guessed, n_guesses),
        "inference",
        column=secret,
        regression=column.is_numeric,
        n_attacks_requested=context.n_attacks,
    )


def correct(guesses: np.ndarray, secrets: np.ndarray, numeric: bool) -> np.ndarray:
    """Which guesses are right: equal codes, or within 5 % of a numeric guess; missing = missing."""
    if not numeric:
        same: np.ndarray = guesses == secrets
        return same
    close = np.abs(guesses - secrets) <= TOLERANCE * np.abs(guesses + 1e-12)
    right: np.ndarray = close | (np.isnan(guesses) & np.isnan(secrets))
    return right


def singling_out(tables: Tables, context: Context) -> list[Measurement]:
    """Multivariate singling out: the peer's risk and the gated excess; the excess alone
    (0, nobody singled out) when no query singles out a synthetic row."""
    step = "privacy.singling_out_risk"
    rng = context.rng(step)
    coded = _coded(tables, context.allocate)
    # Each table is dropped after its last use: at 1M rows a deduplicated table with its
    # sorted columns holds 180 MB. In process the real table is built on a second thread
    # while the queries are drawn (numpy, pandas and the kernels release the GIL), once
    # the synthetic one is built, so that their row keys' temporaries never add up; the
    # holdout table only once the synthetic one is dropped, which bounds the memory.
    # Out of core (a Dask client, where the tables' arrays come from `context.allocate`)
    # every table is built on this thread, one after the other: what a deduplication
    # frees stays in the heap of the thread that freed it, out of the next one's reach.
    # Every random draw stays on this thread, in the same order.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return _singling_out(tables, context, coded, pool, rng, step)


def _singling_out(
    tables: Tables,
    context: Context,
    coded: dict[str, np.ndarray],
    pool: ThreadPoolExecutor,
    rng: np.random.Generator,
    step: str,
) -> list[Measurement]:
    hashes = context.hashes or {}
    synthetic = _Table(coded["synthetic"], True, context.allocate, hashes.get("synthetic"))
    later: Future[_Table] | None = None
    if context.allocate is in_memory:
        later = pool.submit(_Table, coded["real"], True, context.allocate, hashes.get("real"))
    n_cols = min(N_COLS, len(tables.columns))
    low, high = _bounds(tables, synthetic, context.allocate)
    cols, lo, hi = _queries(synthetic, low, high, context.n_attacks, n_cols, rng)
    seen = synthetic.codes
    del synthetic, low, high
    n = context.record(step, len(cols))
    if not n:
        # no query singles out a synthetic row (a large table of coarse columns): the
        # peer's rate has no denominator, but the attack isolates no record of either
        # table, so the gated excess is measured, not missing (which would block)
        return _nobody_singled_out(coded, context.n_attacks, step)
    none = np.full(cols.shape, _NONE, dtype=np.int32)
    if later is None:
        real = _Table(coded["real"], True, context.allocate, hashes.get("real"))
    else:
        real = later.result()
    attack = int(np.sum(real.count(cols, lo, hi, none, 2) == 1))
    holdout = _Table(coded["holdout"], True, context.allocate, hashes.get("holdout"))
    control = float(np.sum(holdout.count(cols, lo, hi, none, 2) == 1))
    correction = 1.0
    if holdout.size != real.size and control > 0:
        correction = _size_correction(holdout, cols, lo, hi, real.size, rng, context.allocate)
    del holdout
    numeric = np.array([c.is_numeric for c in tables.columns])
    random_cols, random_lo, random_hi, excluded = _random_queries(seen, numeric, n, n_cols, rng)
    guessed = int(np.sum(real.count(random_cols, random_lo, random_hi, excluded, 2) == 1))
    del real
    risk = _risk(
        "privacy.singling_out_risk",
        step,
        (attack, n),
        (min(control * correction, n), n),
        (guessed, n),
        "multivariate singling out",
        n_cols=n_cols,
        n_attacks_requested=context.n_attacks,
        n_queries=n,
        control_correction=correction,
    )
    return [*risk, _singling_out_excess(coded, cols, lo, hi, rng, step, context.allocate)]


def _singling_out_excess(
    coded: dict[str, np.ndarray],
    cols: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rng: np.random.Generator,
    step: str,
    allocate: Allocate = in_memory,
) -> Measurement:
    """The share of training records that the queries single out, less the share of
    holdout records, on tables of equal size (the larger cut by a seeded sample) and
    without deduplication: train and holdout are then exchangeable for an ideal generator
    and no size correction is needed (a record with a twin is not singled out).

    Counted per record, not per query as the peer's rate is: the gated question is how
    much of the training table an attacker can isolate beyond chance, and a table where
    few queries single anyone out (most rows have twins) has little to isolate, where a
    per-query share of a handful of queries would be noise. The standard error is the
    jackknife's over the rows of both tables (`_Table.singled_out`)."""
    size = min(coded["real"].shape[1], coded["holdout"].shape[1])
    cut = []
    for role in ("real", "holdout"):
        codes = coded[role]
        if codes.shape[1] > size:
            codes = _columns(
                codes, np.sort(rng.choice(codes.shape[1], size=size, replace=False)), allocate
            )
        cut.append(codes)

    def singled_out(codes: np.ndarray) -> tuple[int, float]:
        return _Table(codes, False, allocate).singled_out(cols, lo, hi)

    if allocate is in_memory:  # two independent tables, no random draw
        with ThreadPoolExecutor(max_workers=2) as pool:
            (attack, var_attack), (control, var_control) = pool.map(singled_out, cut)
    else:  # out of core one after the other: their temporaries never add up
        (attack, var_attack), (control, var_control) = map(singled_out, cut)
    interval: dict[str, object] = {
        "kind": "normal",
        "se": math.sqrt(var_attack + var_control) / size,
    }
    if var_attack + var_control == 0:
        # the jackknife collapses when no leave-one-out changes the counts (nobody singled
        # out, or everybody): a zero-width interval would claim certainty from one table,
        # so the two shares get Newcombe's interval, which is wide at 0 and at 1
        interval = {"kind": "newcombe", "successes": [attack, control], "trials": [size, size]}
    return estimate(
        "privacy.singling_out_excess",
        (attack - control) / size,
        interval,
        low=-1.0,
        n=size,
        method=f"anonymeter 1.1.0 multivariate singling out, control = holdout: share of {size} train records "
        f"that one of the {len(cols)} queries singles out (matches it and no other) less the same share "
        "of as many holdout records (no deduplication, no size correction); ci: jackknife over the "
        "records of both tables, normal (Newcombe's when the jackknife's variance is 0)",
        extra={
            "attack_share": attack / size,
            "control_share": control / size,
            "queries": len(cols),
            "step": step,
        },
    )


def _nobody_singled_out(coded: dict[str, np.ndarray], wanted: int, step: str) -> list[Measurement]:
    """`privacy.singling_out_excess` when no query was found: both shares are 0 on
    min(real, holdout) records each, with Newcombe's interval (the jackknife's variance
    is 0), so the verdict rests on the attack's outcome, and on the records' count."""
    size = min(coded["real"].shape[1], coded["holdout"].shape[1])
    if not size:
        return []
    return [
        estimate(
            "privacy.singling_out_excess",
            0.0,
            {"kind": "newcombe", "successes": [0, 0], "trials": [size, size]},
            low=-1.0,
            n=size,
            method=f"anonymeter 1.1.0 multivariate singling out, control = holdout: none of "
            f"{_attempts(wanted)} queries drawn from synthetic rows singled out a "
            f"synthetic row, so no query isolates any of {size} train records or as many "
            "holdout records; ci: Newcombe's for the two shares",
            extra={"attack_share": 0.0, "control_share": 0.0, "queries": 0, "step": step},
        )
    ]


def _coded(
    tables: Tables, allocate: Allocate = in_memory, chunk: int = _CHUNK
) -> dict[str, np.ndarray]:
    """Every column as int32 codes (columns × rows), -1 missing; numbers as ranks over all
    tables, `chunk` values at a time."""
    out = {role: allocate((len(tables.columns), tables.rows[role]), np.int32) for role in ROLES}

    def fill(k: int) -> None:
        column = tables.columns[k]
        if not column.is_numeric:
            for role in ROLES:
                out[role][k] = column.table(role)
            return
        levels = _levels([column.table(role) for role in ROLES], chunk)
        for role in ROLES:
            _rank(column.table(role), levels, out[role][k], chunk)

    # columns are independent (hashing and sorting free the GIL); out of core, one at a
    # time on this thread: a numeric column holds its sorted distinct values and one
    # chunk's temporaries, and what it frees goes back to this thread's heap, where the
    # next steps allocate (a second thread's heap would keep it out of their reach)
    if allocate is not in_memory:
        for k in range(len(tables.columns)):
            fill(k)
        return out
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(fill, range(len(tables.columns))))
    return out


def _ranks(values: np.ndarray, chunk: int = _CHUNK) -> np.ndarray:
    """Each value's rank among the distinct values of `values` (-0.0 and 0.0 one value),
    -1 where missing: np.unique's inverse, computed as `_coded` does, `chunk` values at a time."""
    ranks = np.empty(len(values), dtype=np.int32)
    _rank(values, _levels([values], chunk), ranks, chunk)
    return ranks


def _levels(tables: Sequence[np.ndarray], chunk: int = _CHUNK) -> np.ndarray:
    """The sorted distinct values (-0.0 as 0.0, no NaN) of a numeric column over `tables`.

    Gathered `chunk` values at a time: each chunk's distinct values are hashed
    (`pd.unique`), sorted, and those not seen yet inserted in place, so the memory is the
    distinct values' and one chunk's, never the concatenated tables' (at 2M rows a
    continuous column of three tables sorted at once held 240 MB)."""
    levels = np.empty(0, dtype=np.float64)
    for values in tables:
        for start in range(0, len(values), chunk):
            new = np.sort(pd.unique(values[start : start + chunk] + 0.0))  # NaN sorts last
            new = new[: len(new) - int(np.isnan(new[-1:]).sum())]
            at = np.searchsorted(levels, new)
            seen = at < len(levels)
            seen[seen] = levels[at[seen]] == new[seen]
            levels = np.insert(levels, at[~seen], new[~seen])
    return levels


def _rank(values: np.ndarray, levels: np.ndarray, out: np.ndarray, chunk: int = _CHUNK) -> None:
    """`out` = each value's index in `levels` (-1 where missing), `chunk` values at a time:
    a chunk's values are hashed (`pd.factorize`) and only its distinct ones looked up,
    20 times faster than sorting for a column of few distinct values (an age, a count);
    sorted first, since a search for sorted keys stays in the cache (20 times faster)."""
    for start in range(0, len(values), chunk):
        codes, uniques = pd.factorize(values[start : start + chunk] + 0.0, sort=True)  # NaN: -1
        lookup = np.append(np.searchsorted(levels, uniques), -1)  # code -1: the last, -1
        out[start : start + len(codes)] = lookup[codes]


class _Table:
    """A deduplicated coded table (the peer deduplicates) with each column's rows sorted by code.

    A query is a conjunction of code ranges; its matches are found by walking the rows of
    its narrowest range in the sorted order and checking the other ranges, so a selective
    query costs its selectivity, not the table's length.
    """

    def __init__(
        self,
        codes: np.ndarray,
        deduplicate: bool = True,
        allocate: Allocate = in_memory,
        hashes: np.ndarray | None = None,
    ) -> None:
        """`hashes`: the rows' hashes in canonical order (`rows.canonical`), if at hand."""
        if deduplicate:  # the first of each set of equal rows, in table order
            self.rows = _first_rows(codes, hashes)
            self.codes = _columns(codes, self.rows, allocate)
        else:  # every row, in table order: no copy needed
            self.rows = np.arange(codes.shape[1])
            self.codes = np.ascontiguousarray(codes)
        self.size = self.codes.shape[1]
        # int32 positions: at 1M rows a table's orders take 60 MB, not 120; a counting sort
        # per column gives np.argsort(kind="stable")'s order (codes are small integers)
        self.order = allocate(self.codes.shape, np.int32)
        self.sorted = allocate(self.codes.shape, self.codes.dtype)
        _sort_columns(self.codes, self.order, self.sorted)

    def count(
        self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray, excluded: np.ndarray, cap: int
    ) -> np.ndarray:
        """Rows matching each query, counted up to `cap`."""
        return _count(self.codes, self.sorted, self.order, cols, lo, hi, excluded, cap)  # type: ignore[no-any-return]

    def singled_out(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[int, float]:
        """How many distinct rows some query singles out (it matches that row and no other),
        and the jackknife variance of that count over this table's rows (queries fixed).

        Leaving row i out loses i if it was singled out, and gains every row j not singled
        out yet that a query matched together with i only. The count's jackknife variance
        is (n − 1)/n · Σ (d_i − mean d)² over those changes d_i. Queries share rows, so a
        binomial variance would be too small.
        """
        matches = _two_matches(self.codes, self.sorted, self.order, cols, lo, hi)
        count, first, second = matches[:, 0], matches[:, 1], matches[:, 2]
        singled = np.zeros(self.size, dtype=np.bool_)
        singled[first[count == 1]] = True
        pairs = np.concatenate(
            [
                np.column_stack([first[count == 2], second[count == 2]]),
                np.column_stack([second[count == 2], first[count == 2]]),
            ]
        )
        pairs = np.unique(pairs[~singled[pairs[:, 1]]], axis=0)  # (i, j): j gained without i
        change = np.zeros(self.size)  # rows gained without each row, less the row itself
        np.add.at(change, pairs[:, 0], 1.0)
        change -= singled
        n = self.size
        change -= change.mean()  # in place: the same numbers, no row-long temporaries
        np.square(change, out=change)
        variance = (n - 1) / n * float(np.sum(change)) if n > 1 else 0.0
        return int(singled.sum()), variance


def _columns(codes: np.ndarray, rows: np.ndarray, allocate: Allocate) -> np.ndarray:
    """`codes[:, rows]` in an array from `allocate`, a column at a time."""
    out = allocate((codes.shape[0], len(rows)), codes.dtype)
    for k, column in enumerate(codes):
        out[k] = column[rows]
    return out


def _first_rows(codes: np.ndarray, hashes: np.ndarray | None = None) -> np.ndarray:
    """The position of the first of each set of equal rows of `codes` (columns x rows).

    With the rows' hashes in canonical order (`rows.canonical`: ascending, and different
    rows of one hash ordered by their cells), equal rows are neighbours: a row repeats
    when it has its predecessor's hash and codes, one comparison per such pair and no
    hash table (a factorisation of the row keys took 95 MiB of the client at 2M rows).
    Without them, by exact row keys (`_row_keys`)."""
    if hashes is None:
        repeated = pd.Series(_row_keys(codes), copy=False).duplicated(keep="first").to_numpy()
        return np.flatnonzero(~repeated)
    if len(hashes) != codes.shape[1]:
        raise ValueError(f"{len(hashes)} row hashes for {codes.shape[1]} rows")
    same = np.flatnonzero(hashes[1:] == hashes[:-1]) + 1  # rows with their predecessor's hash
    for column in codes:  # those whose codes differ are different rows (a collision)
        same = same[column[same] == column[same - 1]]
    first = np.ones(codes.shape[1], dtype=np.bool_)
    first[same] = False
    return np.flatnonzero(first)


def _row_keys(codes: np.ndarray) -> np.ndarray:
    """One int64 per column of `codes` (columns × rows), equal exactly when the rows are.

    Each column's codes (>= -1) are a digit of a mixed-radix key; when the next digit
    would overflow, the key is first factorised into dense codes, so no hash can collide;
    far faster than sorting the rows as tuples. The digits are added in place: the key
    and, while it is factorised, its codes and their hash table are the only temporaries.
    """
    key = np.zeros(codes.shape[1], dtype=np.int64)
    bound = 1  # every key is below it
    for column in codes:
        radix = int(column.max(initial=-1)) + 2
        if bound * radix >= 2**62:
            dense, uniques = pd.factorize(key)
            key, bound = dense.astype(np.int64, copy=False), len(uniques)
            del dense, uniques
        key *= radix
        key += column
        key += 1
        bound *= radix
    return key


def _bounds(
    tables: Tables, synthetic: _Table, allocate: Allocate = in_memory
) -> tuple[np.ndarray, np.ndarray]:
    """The predicate each synthetic cell yields, as inclusive code bounds (columns × rows).

    A label gives `== label`; a number above its column's median `>= value`, otherwise
    `<= value` (the more extreme side singles out more often); a missing cell `is null`.
    """
    codes = synthetic.codes
    low, high = allocate(codes.shape, codes.dtype), allocate(codes.shape, codes.dtype)
    low[...], high[...] = codes, codes
    for k, column in enumerate(tables.columns):
        if column.is_numeric:
            values = column.synthetic[synthetic.rows]
            above = values > np.nanmedian(values)
            present = codes[k] >= 0
            low[k] = np.where(present & ~above, 0, codes[k])
            high[k] = np.where(present & above, _TOP, codes[k])
    return low, high


def _queries(
    synthetic: _Table,
    low: np.ndarray,
    high: np.ndarray,
    wanted: int,
    n_cols: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct queries, from random synthetic rows and columns, that single out one synthetic row."""
    n_columns, n_rows = synthetic.codes.shape
    found = np.empty((0, 3 * n_cols), dtype=np.int64)  # columns, lows, highs
    attempts = 0
    while len(found) < wanted and attempts < _attempts(wanted):
        rows = rng.integers(0, n_rows, size=_BATCH)
        cols = np.sort(np.argsort(rng.random((_BATCH, n_columns)), axis=1)[:, :n_cols], axis=1)
        lo, hi = low[cols, rows[:, None]], high[cols, rows[:, None]]
        single = synthetic.count(cols, lo, hi, np.full(cols.shape, _NONE, dtype=np.int32), 2) == 1
        both = np.concatenate([found, np.hstack([cols, lo, hi])[single]])
        _, first = np.unique(both, axis=0, return_index=True)
        fresh = np.sort(first[first >= len(found)])[: wanted - len(found)]
        found = np.concatenate([found, both[fresh]])
        attempts += _BATCH
    cols, lo, hi = np.split(found, 3, axis=1)
    return np.ascontiguousarray(cols), lo.astype(np.int32), hi.astype(np.int32)


def _attempts(wanted: int) -> int:
    """The most queries `_queries` draws for `wanted` ones (whole batches)."""
    return -(-_ATTEMPTS_PER_QUERY * wanted // _BATCH) * _BATCH


def _random_queries(
    codes: np.ndarray, numeric: np.ndarray, n: int, n_cols: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The baseline: random columns, values seen in the synthetic table and operators.

    Operators are `==`/`!=` for labels and also `>`, `<`, `>=`, `<=` for numbers; a missing
    value gives `is null` for `==` and `is not null` otherwise, as in the peer.
    """
    cols = np.ascontiguousarray(np.argsort(rng.random((n, codes.shape[0])), axis=1)[:, :n_cols])
    # the codes seen (>= -1), ascending, as np.unique gives them
    levels = [np.flatnonzero(np.bincount(column + 1)) - 1 for column in codes]
    pick = (rng.random(cols.shape) * np.array([len(v) for v in levels])[cols]).astype(np.int64)
    values = np.empty(cols.shape, dtype=np.int32)
    for k, level in enumerate(levels):
        values[cols == k] = level[pick[cols == k]]
    op = (rng.random(cols.shape) * np.where(numeric[cols], 6, 2)).astype(
        np.int64
    )  # == != > < >= <=
    lo = np.select([op == 0, op == 2, op == 4], [values, values + 1, values], 0)
    hi = np.select([op == 0, op == 3, op == 5], [values, values - 1, values], _TOP)
    excluded = np.where(op == 1, values, _NONE)
    missing = values < 0
    lo = np.where(missing, np.where(op == 0, -1, 0), lo).astype(np.int32)
    hi = np.where(missing, np.where(op == 0, -1, _TOP), hi).astype(np.int32)
    return cols, lo, hi, np.where(missing, _NONE, excluded).astype(np.int32)


def _size_correction(
    holdout: _Table,
    cols: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    size: int,
    rng: np.random.Generator,
    allocate: Allocate = in_memory,
) -> float:
    """anonymeter's rescaling of control successes from the holdout's size to the real one's.

    The peer fits `norm · ∫₀^w n·v(1 − v)^(n−1) dv` to the successes on random subsamples
    of the holdout (10 sizes × 5 repeats) and scales by the model's ratio at the two sizes.
    Here each repeat is one seeded permutation whose prefixes are the subsamples: a query
    singles out a prefix when exactly one of its matches lies in it.
    """
    n = holdout.size
    sizes = np.linspace(min(1000, n), n, _SIZES).astype(np.int64)
    positions = allocate((_REPEATS, n), np.int64)
    for repeat in positions:
        repeat[:] = rng.permutation(n)
    first, second = _first_two(
        holdout.codes, holdout.sorted, holdout.order, cols, lo, hi, positions
    )
    singled = (first[:, :, None] < sizes) & (second[:, :, None] >= sizes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            top = float(sizes[-1])
            guess = (1 / top, 1 / _singled_out(top, 1 / top, 1.0))
            fitted, _ = curve_fit(
                _singled_out,
                np.tile(sizes, _REPEATS).astype(np.float64),
                singled.sum(axis=0).ravel().astype(np.float64),
                p0=guess,
                bounds=(0, (1, np.inf)),
            )
        ratio = float(_singled_out(size, *fitted) / _singled_out(n, *fitted))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return 1.0
    return ratio if math.isfinite(ratio) and ratio > 0 else 1.0


def _singled_out(n: float | np.ndarray, weight: float, norm: float) -> float | np.ndarray:
    """`norm` times the chance, integrated over query weights up to `weight`, of singling out among n."""
    return norm * (1 - (n * weight + 1) * (1 - weight) ** n) / (n + 1)


@njit(cache=True, nogil=True)
def _narrowest(ordered, cols, lo, hi, q):  # type: ignore[no-untyped-def]
    """The predicate of query q with the fewest candidate rows, and their span in sorted order."""
    best, start, stop = 0, 0, ordered.shape[1] + 1
    for s in range(cols.shape[1]):
        column = ordered[cols[q, s]]
        a, b = _below(column, np.int64(lo[q, s])), _below(column, np.int64(hi[q, s]) + 1)
        if b - a < stop - start:
            best, start, stop = s, a, b
    return best, start, stop


@njit(cache=True, nogil=True)
def _below(ordered, value):  # type: ignore[no-untyped-def]
    """How many of the sorted `ordered` are below `value` (np.searchsorted compiles slowly)."""
    low, high = 0, ordered.size
    while low < high:
        mid = (low + high) >> 1
        if ordered[mid] < value:
            low = mid + 1
        else:
            high = mid
    return low


@njit(cache=True, nogil=True)
def _matches(codes, cols, lo, hi, excluded, q, j):  # type: ignore[no-untyped-def]
    for s in range(cols.shape[1]):
        code = codes[cols[q, s], j]
        if code < lo[q, s] or code > hi[q, s] or code == excluded[q, s]:
            return False
    return True


@njit(cache=True, nogil=True)
def _count(codes, ordered, order, cols, lo, hi, excluded, cap):  # type: ignore[no-untyped-def]
    """Rows matching each query (every `lo <= code <= hi` and `code != excluded`), up to `cap`."""
    out = np.zeros(cols.shape[0], dtype=np.int64)
    for q in range(cols.shape[0]):
        s, start, stop = _narrowest(ordered, cols, lo, hi, q)
        rows = order[cols[q, s]]
        count = 0
        for p in range(start, stop):
            if _matches(codes, cols, lo, hi, excluded, q, rows[p]):
                count += 1
                if count >= cap:
                    break
        out[q] = count
    return out


@njit(cache=True, nogil=True)
def _two_matches(codes, ordered, order, cols, lo, hi):  # type: ignore[no-untyped-def]
    """Per query: its matches counted up to 3, and the first two matching rows (-1: none)."""
    out = np.full((cols.shape[0], 3), -1, dtype=np.int64)
    excluded = np.full(cols.shape, _NONE, dtype=np.int32)
    for q in range(cols.shape[0]):
        s, start, stop = _narrowest(ordered, cols, lo, hi, q)
        rows = order[cols[q, s]]
        count = 0
        for p in range(start, stop):
            j = rows[p]
            if _matches(codes, cols, lo, hi, excluded, q, j):
                if count < 2:
                    out[q, 1 + count] = j
                count += 1
                if count >= 3:
                    break
        out[q, 0] = count
    return out


@njit(cache=True, nogil=True)
def _first_two(codes, ordered, order, cols, lo, hi, positions):  # type: ignore[no-untyped-def]
    """The two smallest `positions` (per repeat) among the rows each query matches; n if none."""
    n_queries, repeats = cols.shape[0], positions.shape[0]
    excluded = np.full(cols.shape, _NONE, dtype=np.int32)
    first = np.full((n_queries, repeats), codes.shape[1], dtype=np.int64)
    second = first.copy()
    for q in range(n_queries):
        s, start, stop = _narrowest(ordered, cols, lo, hi, q)
        rows = order[cols[q, s]]
        for p in range(start, stop):
            j = rows[p]
            if _matches(codes, cols, lo, hi, excluded, q, j):
                for r in range(repeats):
                    at = positions[r, j]
                    if at < first[q, r]:
                        first[q, r], second[q, r] = at, first[q, r]
                    elif at < second[q, r]:
                        second[q, r] = at
    return first, second


@njit(cache=True, nogil=True)
def _sort_columns(codes, order, ordered):  # type: ignore[no-untyped-def]
    """Each row of `codes` (integers >= -1) stably sorted by a counting sort: the positions
    into `order`, the sorted codes into `ordered` (as np.argsort(kind="stable") would)."""
    for k in range(codes.shape[0]):
        column = codes[k]
        if column.size == 0:
            continue
        counts = np.zeros(column.max() + 3, dtype=np.int64)
        for v in column:
            counts[v + 2] += 1
        for c in range(1, counts.size):
            counts[c] += counts[c - 1]
        for i in range(column.size):
            at = counts[column[i] + 1]
            counts[column[i] + 1] = at + 1
            order[k, at] = i
            ordered[k, at] = column[i]
