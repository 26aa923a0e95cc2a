"""Privacy accounting: the composed total of a ledger's losses, and whether it fits the cap.

The canonical rule of research/privacy-accounting.md §2, as pure functions of the recorded
losses (no filter state: a gate asks "what if", BRIEF §4):

- (epsilon, delta) entries compose by basic composition: epsilon and delta add up.
- rho entries add up in rho (with their own delta), and the whole zCDP part is converted
  once to (epsilon, target delta minus every other delta) by OpenDP's Canonne–Kamath–
  Steinke bound (`make_zCDP_to_approxDP` + `make_fix_delta`).
- Pure entries are split: the k largest count as (epsilon, 0), the rest as zCDP with
  rho = epsilon²/2 (Bun–Steinke 2016, Prop. 1.4); the smallest total over every split at a
  boundary between distinct values is reported (each split is a valid bound, chosen from
  public figures only).
- When the delta left for the zCDP part is gone, epsilon is infinite.

Numbers (BRIEF §10.11): every sum, and epsilon²/2, is exact decimal arithmetic of the
values as written, so ten debits of 0.1 fill a cap of 1.0 exactly. The one irrational step,
zCDP to (epsilon, delta), goes through OpenDP, with its inputs rounded against us (rho and
spent delta up, target delta down) and its output (rounded up by OpenDP) taken exactly as
the float it is. Decimal arithmetic that cannot be exact rounds up (`ROUND_CEILING`). So a
composed total is never below the true bound, and comparing it with the cap as an exact
decimal never lets floating-point rounding pass an overdraw.

OpenDP is imported only when a conversion is needed (about 0.3 s; without the `dp` extra
installed, `MissingExtra`), with RUST_BACKTRACE=0 (each OpenDP error costs 0.1-0.2 s
otherwise), from its submodules rather than `opendp.prelude` (which imports scikit-learn).
Totals are cached by their losses.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from functools import lru_cache
from typing import Any

from synthgov import extras
from synthgov.models.common import Notion
from synthgov.models.ledger import Cap
from synthgov.models.loss import Loss

INFINITY = Decimal("Infinity")
ZERO = Decimal(0)
#: Enough digits for any sum of the 15-digit decimals the loader accepts and the exact value
#: of an OpenDP float; what still does not fit rounds up.
_EXACT = Context(prec=80, rounding=ROUND_CEILING, Emin=-999999, Emax=999999)

#: The kind of a loss, as `models.ledger.Loss.kind` names it.
PURE, APPROX, ZCDP, ZCDP_DELTA = "pure", "approx", "zcdp", "zcdp+delta"


@dataclass(frozen=True)
class Total:
    """A composed total at a target delta. `epsilon` is `INFINITY` when delta is exhausted."""

    epsilon: Decimal
    delta: Decimal
    rule: str  # which split of the canonical rule gave the minimum (for the record)
    rho: Decimal = ZERO  # rho of the zCDP part of that split

    @property
    def finite(self) -> bool:
        return self.epsilon.is_finite()


@dataclass(frozen=True)
class Spent:
    """What a ledger has spent, in the figures of its notion (BRIEF §6 `budget status`)."""

    notion: Notion
    total: Total  # (epsilon, delta) at the cap's delta (0 for a pure ledger)
    rho: Decimal | None  # zCDP ledgers: rho entries plus epsilon²/2 of pure ones

    def within(self, cap: Cap) -> bool:
        """Whether this fits the cap: exact decimal comparison, equality passes."""
        if self.notion is Notion.ZCDP:
            assert self.rho is not None and cap.rho is not None
            return self.rho <= cap.rho
        assert cap.epsilon is not None
        return self.total.finite and self.total.epsilon <= cap.epsilon


# --- the canonical rule ------------------------------------------------------------------


def _key(
    losses: Iterable[Loss],
) -> tuple[tuple[str, Decimal | None, Decimal | None, Decimal | None], ...]:
    return tuple((loss.kind or "", loss.epsilon, loss.delta, loss.rho) for loss in losses)


def compose(losses: Sequence[Loss], target_delta: Decimal) -> Total:
    """The canonical total of `losses` at `target_delta` (the cap's delta; 0 for pure DP).

    Raises:
        ValueError: a loss of no known kind (the ledger model never lets one through).
    """
    return _compose(_key(losses), target_delta)


@lru_cache(maxsize=512)
def _compose(
    losses: tuple[tuple[str, Decimal | None, Decimal | None, Decimal | None], ...],
    target: Decimal,
) -> Total:
    if not losses:
        return Total(ZERO, ZERO, "empty")
    with localcontext(_EXACT):
        pure: list[Decimal] = []
        approx_eps = approx_delta = z_rho = z_delta = ZERO
        for kind, epsilon, delta, rho in losses:
            if kind == PURE and epsilon is not None:
                pure.append(epsilon)
            elif kind == APPROX and epsilon is not None and delta is not None:
                approx_eps += epsilon
                approx_delta += delta
            elif kind in (ZCDP, ZCDP_DELTA) and rho is not None:
                z_rho += rho
                z_delta += delta or ZERO
            else:
                raise ValueError(f"a loss of unknown kind: {kind!r}")
        pure.sort(reverse=True)
        used = approx_delta + z_delta  # delta spent outside the conversion
        # splits at boundaries between distinct values: k = n, ..., 0 (ties keep the larger k)
        splits = [len(pure)] + [k for k in range(len(pure) - 1, 0, -1) if pure[k - 1] > pure[k]]
        if pure:
            splits.append(0)
        top = [ZERO]
        for value in pure:
            top.append(top[-1] + value)
        squares = [ZERO]
        for value in reversed(pure):  # squares[j]: rho of the j smallest pure entries
            squares.append(squares[-1] + value * value / 2)
        best: Total | None = None
        for k in splits:
            rho = z_rho + squares[len(pure) - k]
            total = _split(top[k] + approx_eps, rho, used, target, _rule(k, len(pure)))
            if best is None or total.epsilon < best.epsilon:
                best = total
        assert best is not None
        return best


def _rule(k: int, n: int) -> str:
    if n == 0:
        return "no pure entries"
    if k == n:
        return "R1 pure-as-approx"
    if k == 0:
        return "R2 pure-as-zcdp"
    return f"split: the {k} largest pure entries as approx, {n - k} as zCDP"


def _split(epsilon: Decimal, rho: Decimal, used: Decimal, target: Decimal, rule: str) -> Total:
    """One split: `epsilon` of the (epsilon, delta) part, plus the zCDP part converted."""
    if rho == 0:
        if used > target:
            return Total(INFINITY, target, rule)
        return Total(epsilon, used, rule)
    if used >= target:
        return Total(INFINITY, target, rule, rho)
    with localcontext(_EXACT):
        return Total(epsilon + zcdp_epsilon(rho, used, target), target, rule, rho)


# --- the one conversion, through OpenDP ---------------------------------------------------


def _up(value: Decimal) -> float:
    """The smallest float not below `value`."""
    near = float(value)
    return near if Decimal(near) >= value else math.nextafter(near, math.inf)


def _down(value: Decimal) -> float:
    """The largest float not above `value`."""
    near = float(value)
    return near if Decimal(near) <= value else math.nextafter(near, -math.inf)


@lru_cache(maxsize=4096)
def zcdp_epsilon(rho: Decimal, used: Decimal, target: Decimal) -> Decimal:
    """Epsilon of rho-zCDP at delta `target`, of which `used` is already spent (OpenDP).

    `INFINITY` when nothing of `target` is left, or when rho is beyond what OpenDP
    converts (about 70,000: its exponential overflows); any such epsilon is far above
    every cap a ledger can hold (`models.common.PRIVACY_MAX`), so infinity decides the
    same. The result is OpenDP's float, which rounds up, taken exactly; the inputs are
    rounded so that rounding never helps.
    """
    rho_f, used_f, target_f = _up(rho), _up(used), _down(target)
    if used_f >= target_f:  # tested first: an OpenDP error costs more than this
        return INFINITY
    dp = _opendp()
    loss: float | tuple[float, float] = rho_f
    measure = dp.zero_concentrated_divergence()
    if used_f > 0:
        measure, loss = dp.approximate(measure), (rho_f, used_f)
    recorded = dp.make_user_measurement(
        dp.atom_domain(T=int),
        dp.absolute_distance(T=int),
        measure,
        function=_never,
        privacy_map=lambda d_in: loss,
    )
    # make_fix_delta takes the total delta and subtracts the `used` part itself, rounding down
    fixed = dp.make_fix_delta(dp.make_zCDP_to_approxDP(recorded), target_f)
    try:
        epsilon, _ = fixed.map(1)
    except dp.Error as exc:
        if getattr(exc, "variant", None) == "Overflow":
            return INFINITY
        raise
    if not math.isfinite(epsilon) or epsilon < 0:
        raise ArithmeticError(f"OpenDP returned epsilon {epsilon} for rho {rho}")
    return Decimal(epsilon)


def _never(_: Any) -> Any:
    """The recorded-loss measurement is never run on data: only its privacy map is read."""
    raise RuntimeError("a recorded loss is not a mechanism")


class _OpenDP:
    """The OpenDP calls used here, imported on first use (they cost about 0.3 s)."""

    def __init__(self) -> None:
        os.environ.setdefault("RUST_BACKTRACE", "0")  # an OpenDP error costs 0.1 s otherwise
        try:
            import opendp.combinators as combinators
            import opendp.domains as domains
            import opendp.measurements as measurements
            import opendp.measures as measures
            import opendp.metrics as metrics
            from opendp.mod import OpenDPException, enable_features
        except ImportError as exc:  # the dp extra is not installed
            missing = extras.missing(exc)
            if missing is None:
                raise
            raise missing from exc

        # honest-but-curious: OpenDP trusts the recorded loss (the reviewers vouch for it)
        enable_features("contrib", "honest-but-curious")
        self.atom_domain = domains.atom_domain
        self.absolute_distance = metrics.absolute_distance
        self.approximate = measures.approximate
        self.zero_concentrated_divergence = measures.zero_concentrated_divergence
        self.make_user_measurement = measurements.make_user_measurement
        self.make_zCDP_to_approxDP = combinators.make_zCDP_to_approxDP
        self.make_fix_delta = combinators.make_fix_delta
        self.Error = OpenDPException


@lru_cache(maxsize=1)
def _opendp() -> Any:  # OpenDP's Python API is untyped
    return _OpenDP()


# --- one debit of several runs -------------------------------------------------------------


def sequential(parts: Iterable[tuple[int, Mapping[str, Decimal]]]) -> dict[str, Decimal]:
    """The loss of running each of `parts` (count, figures) that many times on the same data,
    as one debit in the same figures: sequential composition, as the ledger composes its
    entries of that kind (research/privacy-accounting.md §2): epsilons and deltas add up
    (basic composition of pure and approximate DP), rhos and their deltas add up (zCDP
    composes additively in rho). Exact decimal arithmetic of the figures as written.

    Raises:
        ValueError: parts of different kinds (figures), or no part at all.
    """
    total: dict[str, Decimal] | None = None
    with localcontext(_EXACT):
        for count, figures in parts:
            if total is None:
                total = {name: ZERO for name in figures}
            if set(figures) != set(total):
                raise ValueError(
                    f"runs of different kinds ({', '.join(sorted(figures))} and "
                    f"{', '.join(sorted(total))}) are not composed into one debit"
                )
            for name, value in figures.items():
                total[name] += count * value
    if total is None:
        raise ValueError("no runs to compose")
    return total


# --- a ledger's figures --------------------------------------------------------------------


def rho_of(losses: Iterable[Loss]) -> Decimal:
    """Rho of zCDP and pure losses (epsilon²/2), exact: what a zCDP ledger compares."""
    with localcontext(_EXACT):
        total = ZERO
        for loss in losses:
            if loss.rho is not None:
                total += loss.rho
            elif loss.epsilon is not None and loss.delta is None:
                total += loss.epsilon * loss.epsilon / 2
            else:
                raise ValueError("an (epsilon, delta) loss has no rho")
        return total


def delta_spent(losses: Iterable[Loss]) -> Decimal:
    """The deltas of the losses, summed exactly (what is left of the cap's is converted)."""
    with localcontext(_EXACT):
        return sum((loss.delta or ZERO for loss in losses), ZERO)


def target_delta(cap: Cap) -> Decimal:
    """The delta a ledger's total is composed at: the cap's (0 for pure DP)."""
    return cap.delta if cap.delta is not None else ZERO


def spent(notion: Notion, cap: Cap, losses: Sequence[Loss]) -> Spent:
    """Everything the ledger has spent: the canonical total, and rho for zCDP ledgers."""
    rho = rho_of(losses) if notion is Notion.ZCDP else None
    return Spent(notion, compose(losses, target_delta(cap)), rho)


def fits(notion: Notion, cap: Cap, losses: Sequence[Loss]) -> bool:
    """Whether `losses` fit the cap; decides without OpenDP whenever exact sums suffice.

    A pure ledger compares the sum of epsilons, a zCDP ledger the sum of rhos (exact
    decimals). An approximate ledger whose entries all count as (epsilon, delta) fits when
    those sums do (the "pure as approx" split is one valid bound; the reported minimum is
    no larger); only otherwise is the full rule, with OpenDP, needed.
    """
    if notion is Notion.ZCDP:
        assert cap.rho is not None
        return rho_of(losses) <= cap.rho
    assert cap.epsilon is not None
    target = target_delta(cap)
    if all(loss.rho is None for loss in losses):
        with localcontext(_EXACT):
            epsilon = sum((loss.epsilon or ZERO for loss in losses), ZERO)
            delta = sum((loss.delta or ZERO for loss in losses), ZERO)
        if delta <= target and epsilon <= cap.epsilon:
            return True
        if notion is Notion.PURE or not any(loss.delta is None for loss in losses):
            return False  # no pure entry to convert: this sum is the canonical total
    return compose(losses, target).epsilon <= cap.epsilon


def cap_epsilon(notion: Notion, cap: Cap) -> Decimal:
    """The cap as epsilon at the cap's delta (for a zCDP ledger, its rho converted)."""
    if notion is Notion.ZCDP:
        assert cap.rho is not None and cap.delta is not None
        return zcdp_epsilon(cap.rho, ZERO, cap.delta)
    assert cap.epsilon is not None
    return cap.epsilon


# --- what `budget status` shows ---------------------------------------------------------


def _number(value: Decimal) -> float | None:
    """A JSON number; None for an infinite epsilon (delta exhausted)."""
    return float(value) if value.is_finite() else None


def summary(source: str, notion: Notion, cap: Cap, losses: Sequence[Loss]) -> dict[str, Any]:
    """BRIEF §6: `{"source", "notion", "cap", "spent", "remaining", "entries"}`, each of
    cap/spent/remaining as `{"epsilon", "delta"}` (plus `"rho"` for a zCDP ledger),
    composed at the cap's delta; `null` stands for an infinite epsilon."""
    used = spent(notion, cap, losses)
    with localcontext(_EXACT):
        cap_figures = {"epsilon": cap_epsilon(notion, cap), "delta": target_delta(cap)}
        spent_figures = {"epsilon": used.total.epsilon, "delta": used.total.delta}
        if notion is Notion.ZCDP:
            assert cap.rho is not None and used.rho is not None
            cap_figures["rho"], spent_figures["rho"] = cap.rho, used.rho
        remaining = {k: cap_figures[k] - spent_figures[k] for k in cap_figures}
    return {
        "source": source,
        "notion": notion.value,
        "cap": {k: _number(v) for k, v in cap_figures.items()},
        "spent": {k: _number(v) for k, v in spent_figures.items()},
        "remaining": {k: _number(v) for k, v in remaining.items()},
        "entries": len(losses),
    }


def figure_text(value: float | None) -> str:
    """A composed figure for people, the same in every command and page: six significant
    digits, `infinite` for no bound (an exhausted delta, or no cap)."""
    return "infinite" if value is None else f"{value:.6g}"
