"""Confidence intervals from the sufficient statistics a report records (pure; stdlib only).

`evaluate` stores, beside each estimate that is gated, what its interval is made of (its
`interval`): successes and trials of a share, of two shares whose difference is the
estimate, or a standard error. The report's own `ci` is the 95 % interval; `check` asks
the same numbers for the interval at the confidence its policy needs, which depends on
how many estimates the policy gates (BRIEF §11.1: family-wise error):

- `wilson`: a share k / n, Wilson's score interval (Wilson 1927);
- `newcombe`: a difference of two independent shares k1/n1 − k2/n2, Newcombe's hybrid
  score interval (Newcombe 1998, method 10), which keeps its coverage near 0 and 1 where
  the plain normal interval does not (an excess of copies is such a difference);
- `normal`: value ± z · se (an AUC with its DeLong standard error, a ratio by the delta
  method).

Each bound is one-sided: `bounds(spec, value, alpha)` returns the lower and the upper
bound, each exceeded by the true value with probability at most `alpha`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

#: one-sided 2.5 %: the two bounds of the report's 95 % `ci`
ALPHA_95 = 0.025
#: the standard normal's 97.5 % quantile
Z95 = 1.959963984540054
INTERVAL_KINDS = ("wilson", "newcombe", "normal")


def z_for(alpha: float) -> float:
    """The standard normal quantile exceeded with probability `alpha` (one-sided)."""
    return NormalDist().inv_cdf(1.0 - alpha)


def wilson(successes: float, trials: float, z: float) -> tuple[float, float]:
    """Wilson's score interval of a share; (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(
    successes: tuple[float, float], trials: tuple[float, float], z: float
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 − p2 (independent shares)."""
    (k1, k2), (n1, n2) = successes, trials
    p1 = k1 / n1 if n1 > 0 else 0.0
    p2 = k2 / n2 if n2 > 0 else 0.0
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def normal(value: float, se: float, z: float) -> tuple[float, float]:
    """value ± z·se (a DeLong AUC, a delta-method ratio, a jackknife count)."""
    half = z * max(se, 0.0)
    return value - half, value + half


def bounds(
    spec: Mapping[str, Any],
    value: float,
    alpha: float,
    low: float = -math.inf,
    high: float = math.inf,
) -> tuple[float, float]:
    """The one-sided bounds at level `alpha` of an estimate `value` whose interval is
    `spec`, clipped to [low, high] (the metric's range).

    Raises:
        ValueError: `spec` is not an interval this module knows.
    """
    z = z_for(alpha)
    kind = spec.get("kind")
    if kind == "wilson":
        lower, upper = wilson(float(spec["successes"]), float(spec["trials"]), z)
    elif kind == "newcombe":
        k, n = spec["successes"], spec["trials"]
        lower, upper = newcombe((float(k[0]), float(k[1])), (float(n[0]), float(n[1])), z)
    elif kind == "normal":
        lower, upper = normal(value, float(spec["se"]), z)
    else:
        raise ValueError(
            f"unknown interval kind {kind!r}; expected one of {', '.join(INTERVAL_KINDS)}"
        )
    return max(low, min(lower, value)), min(high, max(upper, value))


def excess_p_value(successes: tuple[float, float], trials: tuple[float, float]) -> float:
    """The one-sided p-value of Fisher's exact test that share 1 is no larger than share 2.

    Given the m successes of both samples, an equal share leaves the first sample's count
    hypergeometric (m successes among n1 + n2, n1 drawn); the p-value is its upper tail at
    k1. Exact where Newcombe's bound is not: 10 copied rows of 1,000 against none of 1,000
    holdout rows give p = 2^-10 (nearly), while the bound of a 25-estimate family is still
    below 0. Returns 1 when k1 is not above its expectation (the tail is then at least
    about 1/2, above any level a policy uses), and sums the tail only until its terms stop
    counting, so it costs a few terms, not m.
    """
    (k1f, k2f), (n1f, n2f) = successes, trials
    k1, k2, n1, n2 = round(k1f), round(k2f), round(n1f), round(n2f)
    total, drawn, hits = n1 + n2, n1, k1 + k2
    if hits == 0 or total <= 0 or k1 <= hits * drawn / total:
        return 1.0

    def log_pmf(k: int) -> float:
        return (
            _log_choose(hits, k) + _log_choose(total - hits, drawn - k) - _log_choose(total, drawn)
        )

    term = math.exp(log_pmf(k1))
    tail, k = term, k1
    while term > 1e-17 * tail and k < min(hits, drawn):
        term *= (hits - k) * (drawn - k) / ((k + 1) * (total - hits - drawn + k + 1))
        tail += term
        k += 1
    return min(1.0, tail)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def rows_needed(n: int, half_width: float, room: float) -> int | None:
    """About how many rows would shrink an interval of `half_width` at `n` rows to `room`
    (intervals narrow as 1/sqrt(n)); None when there is no room (the estimate itself sits
    on the boundary)."""
    if room <= 0 or half_width <= 0 or n <= 0:
        return None
    return math.ceil(n * (half_width / room) ** 2)
