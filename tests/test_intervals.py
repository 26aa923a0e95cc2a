"""Interval arithmetic of `synthgov.metrics.intervals` and the three-way decisions of `synthgov.decision.rules`,
on published values."""

from __future__ import annotations

import math

import pytest

from synthgov.decision.rules import Ruling, ruling
from synthgov.metrics.intervals import (
    ALPHA_95,
    bounds,
    excess_p_value,
    newcombe,
    rows_needed,
    wilson,
    z_for,
)

Z = z_for(ALPHA_95)


def test_z_for_the_usual_levels() -> None:
    assert pytest.approx(1.959964, abs=1e-6) == Z
    assert z_for(0.005) == pytest.approx(2.575829, abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        ((56, 48), (70, 80), (0.0524, 0.3339)),
        ((9, 3), (10, 10), (0.1705, 0.8090)),
        ((5, 0), (56, 29), (-0.0381, 0.1926)),
        ((0, 0), (10, 20), (-0.1611, 0.2775)),
    ],
)
def test_newcombe_matches_his_1998_table_ii(
    successes: tuple[int, int], trials: tuple[int, int], expected: tuple[float, float]
) -> None:
    lower, upper = newcombe(successes, trials, Z)
    assert (round(lower, 4), round(upper, 4)) == expected


def test_wilson_of_a_share_and_of_nothing() -> None:
    lower, upper = wilson(81, 263, Z)
    assert (round(lower, 4), round(upper, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10, Z)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson(3, 0, Z) == (0.0, 1.0)


def test_bounds_widen_with_the_level_and_stay_in_the_metric_range() -> None:
    spec = {"kind": "newcombe", "successes": [30, 10], "trials": [1000, 1000]}
    at_95 = bounds(spec, 0.02, ALPHA_95, -1.0, 1.0)
    at_999 = bounds(spec, 0.02, 0.0005, -1.0, 1.0)
    assert at_999[0] < at_95[0] < 0.02 < at_95[1] < at_999[1]
    low, high = bounds({"kind": "normal", "se": 0.3}, 0.9, ALPHA_95, 0.0, 1.0)
    assert low == pytest.approx(0.9 - Z * 0.3) and high == 1.0
    with pytest.raises(ValueError, match="unknown interval kind"):
        bounds({"kind": "bootstrap"}, 0.5, ALPHA_95)


def test_rows_needed_shrinks_an_interval_as_one_over_the_root_of_n() -> None:
    assert rows_needed(1000, 0.04, 0.02) == 4000
    assert rows_needed(1000, 0.04, 0.0) is None


@pytest.mark.parametrize(
    ("op", "value", "interval", "threshold", "margin", "expected"),
    [
        ("<=", 0.10, (0.07, 0.13), 0.02, 0.03, Ruling.FAIL),  # all of it beyond 0.02
        ("<=", 0.01, (-0.01, 0.04), 0.02, 0.03, Ruling.PASS),  # within 0.02 + 0.03
        ("<=", 0.01, (-0.05, 0.07), 0.02, 0.03, Ruling.INCONCLUSIVE),
        ("<=", 0.01, (-0.01, 0.04), 0.02, 0.0, Ruling.INCONCLUSIVE),  # no margin: within 0.02
        (">=", 0.95, (0.90, 1.00), 0.9, 0.05, Ruling.PASS),
        (">=", 0.80, (0.70, 0.88), 0.9, 0.05, Ruling.FAIL),
        (">=", 0.90, (0.82, 0.98), 0.9, 0.05, Ruling.INCONCLUSIVE),
        ("<=", 0.50, None, 0.5, 0.0, Ruling.PASS),
        ("<", 0.50, None, 0.5, 0.0, Ruling.FAIL),
        ("==", 1.0, None, 1.0, 0.0, Ruling.PASS),
        ("==", 0.0, None, 1.0, 0.0, Ruling.FAIL),
    ],
)
def test_three_way_decisions(
    op: str,
    value: float,
    interval: tuple[float, float] | None,
    threshold: float,
    margin: float,
    expected: Ruling,
) -> None:
    assert ruling(op, value, interval, threshold, margin) is expected


def test_a_value_without_an_interval_is_its_own_interval() -> None:
    assert ruling("<=", math.nextafter(0.05, 1), None, 0.05) is Ruling.FAIL


@pytest.mark.parametrize(
    ("successes", "trials"),
    [
        ((10, 0), (1000, 1000)),
        ((10, 1), (1000, 1000)),
        ((1000, 890), (1000, 1000)),
        ((60, 40), (1000, 1200)),
        ((3, 0), (5, 7)),
        ((400, 400), (1000, 1000)),
    ],
)
def test_the_excess_test_is_fishers_one_sided_exact_test(
    successes: tuple[int, int], trials: tuple[int, int]
) -> None:
    from scipy.stats import fisher_exact

    (a, b), (n1, n2) = successes, trials
    expected = fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="greater").pvalue
    found = excess_p_value(successes, trials)
    assert found == pytest.approx(expected, rel=1e-9) or (found == 1.0 and expected > 0.4)


def test_the_exact_excess_test_finds_ten_copies_that_newcombes_bound_misses() -> None:
    z = z_for(0.05 / 25)  # a 25-estimate family: each bound at 0.2 %
    assert newcombe((10, 0), (1000, 1000), z)[0] < 0  # not significant by the interval
    assert excess_p_value((10, 0), (1000, 1000)) == pytest.approx(0.000955, rel=1e-3)  # exactly
    assert 0.000955 < 0.05 / 25
    assert excess_p_value((0, 0), (1000, 1000)) == 1.0
    assert excess_p_value((400, 400), (1000, 1000)) > 0.4
    assert excess_p_value((500, 400), (1000, 1000)) < 1e-3
