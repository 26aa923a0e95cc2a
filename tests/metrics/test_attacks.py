"""anonymeter-style attacks: Wilson rates, residual risk, Gower neighbours, and the three risks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numba import njit

from synthgov.metrics.attacks import Rate, _singled_out, correct, measure, residual_risk, wilson
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.gower import _first_sorted, nearest
from synthgov.metrics.measurement import Context, Measurement
from tests.helpers.tables import Spec, card_for, make_tables

Z2 = 1.959963984540054**2  # 3.841458820694124


def test_wilson_known_answers() -> None:
    # k = 50, n = 100: centre (50 + Z2/2) / (100 + Z2) = 0.5 by symmetry;
    # error 1.96 / 103.841459 · sqrt(50·50/100 + Z2/4) = 0.0188744 · sqrt(25.960365) = 0.0961684
    half = wilson(50, 100)
    assert half.value == pytest.approx(0.5, abs=1e-15)
    assert half.error == pytest.approx(
        1.959963984540054 / (100 + Z2) * math.sqrt(25 + Z2 / 4), rel=1e-15
    )
    assert half.error == pytest.approx(0.0961684, abs=1e-7)
    # k = 0, n = 10: centre = error = (Z2/2) / (10 + Z2) = 1.920729 / 13.841459 = 0.1387664,
    # so the interval starts exactly at 0 (error = z/(n+z²)·z/2)
    none = wilson(0, 10)
    assert none.value == pytest.approx(0.1387664, abs=1e-7)
    assert none.value - none.error == pytest.approx(0.0, abs=1e-15)
    # k = n = 10: the mirror image, centre + error = 1
    every = wilson(10, 10)
    assert every.value == pytest.approx(1 - none.value, abs=1e-15)
    assert every.value + every.error == pytest.approx(1.0, abs=1e-15)
    # k = 3, n = 20: centre (3 + 1.920729) / 23.841459 = 0.2063938;
    # error 1.96 / 23.841459 · sqrt(3·17/20 + 0.960365) = 0.0822082 · sqrt(3.510365) = 0.1540251
    small = wilson(3, 20)
    assert small.value == pytest.approx(0.2063938, abs=1e-7)
    assert small.error == pytest.approx(0.1540251, abs=1e-7)


def test_residual_risk_formula_and_clipping() -> None:
    # (0.6 - 0.2) / 0.8 = 0.5; d/dattack = 1/0.8 = 1.25, d/dcontrol = (0.6 - 1)/0.64 = -0.625;
    # error sqrt((0.05·1.25)² + (0.04·0.625)²) = sqrt(0.00390625 + 0.000625) = 0.0673146
    value, ci = residual_risk(Rate(0.6, 0.05), Rate(0.2, 0.04))
    assert value == pytest.approx(0.5)
    assert ci == pytest.approx((0.5 - 0.0673146, 0.5 + 0.0673146), abs=1e-7)
    # attack below control: (0.1 - 0.3) / 0.7 = -0.286, error ≈ 0.0714·... → all clipped at 0
    assert residual_risk(Rate(0.1, 0.01), Rate(0.3, 0.01)) == (0.0, (0.0, 0.0))
    # the upper bound of a near-certain attack is clipped at 1: 0.99 + 0.05 > 1
    value, (low, high) = residual_risk(Rate(0.99, 0.05), Rate(0.0, 0.0))
    assert value == pytest.approx(0.99) and high == 1.0
    assert low == pytest.approx(0.94)
    # a residual that is negative in the middle but whose interval reaches above 0
    value, (low, high) = residual_risk(Rate(0.2, 0.1), Rate(0.25, 0.0))
    assert value == 0.0 and low == 0.0
    assert high == pytest.approx((0.2 - 0.25) / 0.75 + 0.1 / 0.75)


def test_singling_out_probability_integral() -> None:
    # ∫₀^w n·v(1-v)^(n-1) dv for n = 2, w = 0.5: [v² - 2v³/3]₀^½ = 0.25 - 0.0833 = 1/6
    assert _singled_out(2.0, 0.5, 1.0) == pytest.approx(1 / 6)
    # n = 1, w = 1: ∫₀¹ v dv = 1/2, times the norm 3
    assert _singled_out(1.0, 1.0, 3.0) == pytest.approx(1.5)


def test_gower_sums_scaled_numbers_and_label_mismatches() -> None:
    # a: synthetic 0, 10, - ; targets 4, - ; range over both = 10 -> synthetic 0, 1, -, targets .4, -
    # x: synthetic p, q, p
    # target (4, q): 0.4 + 1 = 1.4 | 0.6 + 0 = 0.6 | NaN (one number missing) -> row 1 at 0.6
    # target (-, p): NaN | NaN | 1 (both missing) + 0 = 1 -> row 2 at 1.0
    tables = make_tables(
        {
            "a": ("number", [4, None], [0], [0, 10, None]),
            "x": ("categorical", ["q", "p"], ["p"], ["p", "q", "p"]),
        }
    )
    index, distance = nearest(tables, ["a", "x"], "real", np.array([0, 1]))
    np.testing.assert_array_equal(index, [1, 2])
    np.testing.assert_allclose(distance, [0.6, 1.0], rtol=0, atol=1e-15)


def test_gower_range_includes_the_targets_and_missing_is_a_label() -> None:
    # the target is real row 0 (the range ignores row 1, which is not attacked)
    # a: synthetic 0, 5; target 20 -> range 20: |1 - 0| = 1 and |1 - 0.25| = 0.75, no cap
    # x: target missing; synthetic missing in row 0, "p" in row 1 -> 0 and 1
    # y: a constant column (range 0 -> 1): no cost
    # row 0: 1 + 0 + 0 = 1.0; row 1: 0.75 + 1 + 0 = 1.75 -> row 0; then on `a` alone row 1 (0.75)
    tables = make_tables(
        {
            "a": ("number", [20, -100], [0], [0, 5]),
            "x": ("categorical", [None, "q"], ["p"], [None, "p"]),
            "y": ("integer", [7, 7], [7], [7, 7]),
        }
    )
    index, distance = nearest(tables, ["y", "x", "a"], "real", np.array([0]))
    assert (index[0], distance[0]) == (0, 1.0)
    index, distance = nearest(tables, ["a"], "real", np.array([0]))
    assert (index[0], distance[0]) == (1, 0.75)


def test_gower_every_candidate_nan_distant_still_picks_one() -> None:
    # target (5, 5): row 0 has b missing, rows 1-2 have a missing -> every distance is NaN;
    # the peer then takes the first index of numba's argsort, which is row 0 here
    tables = make_tables(
        {
            "a": ("number", [5], [1], [1, None, None]),
            "b": ("number", [5], [1], [None, 1, 1]),
        }
    )
    index, distance = nearest(tables, ["a", "b"], "real", np.array([0]))
    assert index[0] == 0 and np.isnan(distance[0])


@njit(cache=True)
def _numba_first(values: np.ndarray) -> int:
    return int(values.argsort()[0])


def test_ties_are_broken_as_numbas_quicksort_argsort() -> None:
    # The peer sorts each distance row with numba's (unstable) quicksort and takes the first.
    rng = np.random.default_rng(5)
    for _ in range(3000):
        values = rng.integers(0, rng.integers(1, 5), int(rng.integers(1, 300))).astype(np.float64)
        values[rng.random(values.size) < rng.random() * 0.5] = np.nan
        assert _first_sorted(values) == _numba_first(values)


def test_correct_guesses() -> None:
    # 104 is within 5 % of the guess 100 (|4| <= 5), 106 is not; relative to the guess's size,
    # so -104 for -100 is right and -200 wrong (the peer would accept every negative guess)
    guesses = np.array([100.0, 100.0, -100.0, -100.0, np.nan, np.nan, 0.0])
    truths = np.array([104.0, 106.0, -104.0, -200.0, np.nan, 1.0, 0.0])
    np.testing.assert_array_equal(correct(guesses, truths, True), [1, 0, 1, 0, 1, 0, 1])
    codes = np.array([0, 1, -1, -1], dtype=np.int32)
    np.testing.assert_array_equal(correct(codes, np.array([0, 2, -1, 0]), False), [1, 0, 1, 0])


def _population(rng: np.random.Generator, n: int) -> dict[str, list[Any]]:
    return {
        "age": list(rng.integers(18, 90, n)),
        "income": list(np.round(rng.lognormal(10, 0.5, n), 2)),
        "score": list(np.round(rng.normal(600, 80, n), 1)),
        "region": list(rng.choice(["n", "s", "e", "w"], n)),
        "plan": list(rng.choice(["a", "b", "c"], n)),
        "active": list(rng.choice([True, False], n)),
    }


TYPES = {
    "age": "integer",
    "income": "number",
    "score": "number",
    "region": "categorical",
    "plan": "categorical",
    "active": "boolean",
}


def _risks(leaky: bool, seed: int = 0, n: int = 300) -> dict[tuple[str, str | None], Measurement]:
    rng = np.random.default_rng(seed)
    real, holdout = _population(rng, n), _population(rng, n)
    synthetic = real if leaky else _population(rng, n)
    fields = {"secret_columns": ["plan", "income"]}
    tables = make_tables(
        {c: (TYPES[c], real[c], holdout[c], synthetic[c]) for c in TYPES}, **fields
    )
    measurements = measure(tables, Context(seed=seed), card_for(TYPES, **fields))
    return {(m.id, m.column): m for m in measurements}


def _peer(measurements: list[Measurement]) -> list[Measurement]:
    """The peer's normalised risks only (each comes with its gated excess)."""
    return [m for m in measurements if m.id.endswith("_risk")]


def test_a_leaky_synthetic_table_scores_higher_on_every_risk() -> None:
    honest, leaky = _risks(leaky=False), _risks(leaky=True)
    keys = [
        ("privacy.singling_out_risk", None),
        ("privacy.linkability_risk", None),
        ("privacy.inference_risk", "plan"),
        ("privacy.inference_risk", "income"),
    ]
    excesses = [(metric.replace("_risk", "_excess"), column) for metric, column in keys]
    assert set(honest) == set(leaky) == set(keys) | set(excesses)
    for key in excesses:  # the gated figures: absolute excess over the control
        clean, copied = honest[key], leaky[key]
        assert copied.interval is not None and clean.ci is not None and copied.ci is not None
        assert copied.ci[0] > 0.05, key  # a copied table isolates, links and guesses its rows
        assert clean.ci[0] < 0 < clean.ci[1], key  # fresh rows: no excess to speak of
    for key in keys:
        clean, copied = honest[key], leaky[key]
        assert copied.ci is not None and clean.ci is not None
        assert copied.value > 0.3, key  # copies are found, linked and guessed
        assert copied.ci[0] > clean.ci[1], key  # the intervals do not even overlap
        assert copied.extra["attack_rate"] > copied.extra["control_rate"]
        assert clean.value < 0.15, key


def test_measurements_carry_the_contract() -> None:
    risks = {key: m for key, m in _risks(leaky=False).items() if key[0].endswith("_risk")}
    link = risks[("privacy.linkability_risk", None)]
    # card order, target-less card: all six columns, alternately
    assert link.extra["aux_cols"] == [["age", "score", "plan"], ["income", "region", "active"]]
    assert (link.n, link.extra["n_control"], link.extra["n_attacks_requested"]) == (300, 300, 2000)
    # linkability's random baseline links with probability 1/300
    assert link.extra["baseline_rate"] < 0.02
    secret = risks[("privacy.inference_risk", "income")]
    assert (
        secret.extra["regression"] is True
        and risks[("privacy.inference_risk", "plan")].extra["regression"] is False
    )
    singling = risks[("privacy.singling_out_risk", None)]
    assert singling.n == singling.extra["n_queries"] <= singling.extra["n_attacks_requested"]
    for m in risks.values():
        assert m.ci is not None and 0 <= m.ci[0] <= m.value <= m.ci[1] <= 1
        assert m.extra["step"].startswith(m.id)
        assert all(
            math.isfinite(m.extra[k]) for k in ("attack_rate", "control_rate", "baseline_rate")
        )


def test_the_inference_baseline_guesses_a_constant_secret_right() -> None:
    # The peer's reindex_like misaligns random guesses with targets (most become NaN); done
    # right, random guesses of a constant secret are all correct: Wilson centre of 40/40.
    tables = make_tables(
        {
            "a": ("integer", list(range(40)), list(range(40)), list(range(40))),
            "s": ("categorical", ["k"] * 40, ["k"] * 40, ["k"] * 40),
        }
    )
    [risk] = _peer(
        measure(
            tables, Context(), card_for({"a": "integer", "s": "categorical"}, secret_columns=["s"])
        )
    )[2:]
    assert risk.extra["baseline_rate"] == pytest.approx(wilson(40, 40).value)


def test_the_target_is_the_default_secret_and_left_out_of_linkability() -> None:
    columns = {"a": "integer", "b": "number", "c": "categorical", "y": "categorical"}
    rng = np.random.default_rng(1)

    def values(column: str, n: int) -> list[Any]:
        if column == "a":
            return list(rng.integers(0, 50, n))
        if column == "b":
            return list(rng.normal(size=n))
        return list(rng.choice(["u", "v"] if column == "c" else ["yes", "no"], n))

    fields = {"target": {"column": "y", "positive": "yes"}}
    tables = make_tables(
        {c: (t, values(c, 60), values(c, 50), values(c, 70)) for c, t in columns.items()}, **fields
    )
    out = _peer(measure(tables, Context(), card_for(columns, **fields)))
    assert [(m.id, m.column) for m in out] == [
        ("privacy.singling_out_risk", None),
        ("privacy.linkability_risk", None),
        ("privacy.inference_risk", "y"),
    ]
    assert out[1].extra["aux_cols"] == [["a", "c"], ["b"]]
    # fewer rows than attacks: every real and holdout row is attacked once
    assert (out[1].n, out[1].extra["n_control"], out[2].n, out[2].extra["n_baseline"]) == (
        60,
        50,
        60,
        60,
    )


def test_the_same_seed_gives_the_same_report_and_records_the_samples() -> None:
    first, second = Context(seed=3, n_attacks=200), Context(seed=3, n_attacks=200)
    rng = np.random.default_rng(2)
    spec: dict[str, Spec] = {}
    for c in TYPES:
        real, holdout, synthetic = (_population(rng, 80)[c] for _ in range(3))
        spec[c] = (TYPES[c], real, holdout, synthetic)
    tables = make_tables(spec, secret_columns=["plan"])
    card = card_for(TYPES, secret_columns=["plan"])
    one = [m.as_json() for m in measure(tables, first, card)]
    two = [m.as_json() for m in measure(tables, second, card)]
    assert one == two
    assert first.sample_sizes == second.sample_sizes
    assert set(first.sample_sizes) == {
        "privacy.singling_out_risk",
        "privacy.linkability_risk",
        "privacy.inference_risk[plan]",
    }
    other = [m.as_json() for m in measure(tables, Context(seed=4, n_attacks=200), card)]
    assert other != one


def test_tiny_tables_and_lone_columns() -> None:
    # 3 real, 2 holdout, 4 synthetic rows: everything is attacked, nothing crashes
    tables = make_tables(
        {
            "a": ("number", [1.0, 2.0, None], [1.5, 3.0], [1.0, 2.5, None, 9.0]),
            "b": ("categorical", ["x", "y", "x"], ["y", None], ["x", "x", "y", None]),
        }
    )
    card = card_for({"a": "number", "b": "categorical"}, secret_columns=["a", "b"])
    everything = measure(tables, Context(n_attacks=5), card)
    out = _peer(everything)
    assert [m.id for m in out] == [
        "privacy.singling_out_risk",
        "privacy.linkability_risk",
        "privacy.inference_risk",
        "privacy.inference_risk",
    ]
    assert out[1].n == 3 and out[1].extra["n_control"] == 2
    for m in everything:
        low = -1.0 if m.id.endswith("_excess") else 0.0
        assert m.ci is not None and all(math.isfinite(x) for x in (m.value, *m.ci))
        assert low <= m.ci[0] <= m.value <= m.ci[1] <= 1
    # one column: no split for linkability, no auxiliary column for inference
    alone = make_tables({"a": ("number", [1, 2, 3], [4, 5], [1, 2])}, secret_columns=["a"])
    out = measure(alone, Context(), card_for({"a": "number"}, secret_columns=["a"]))
    assert [m.id for m in out] == ["privacy.singling_out_risk", "privacy.singling_out_excess"]
    assert out[0].extra["n_cols"] == 1
    assert measure(alone, Context(n_attacks=0), card_for({"a": "number"})) == []


def test_singling_out_reports_the_queries_it_found_not_those_it_asked_for() -> None:
    # 4 distinct synthetic rows over 2 binary columns cannot give 2000 distinct queries
    tables = make_tables(
        {
            "p": ("categorical", ["a", "b"] * 10, ["a", "b"] * 5, ["a", "a", "b", "b"] * 5),
            "q": ("categorical", ["c", "d"] * 10, ["d", "c"] * 5, ["c", "d", "c", "d"] * 5),
        }
    )
    [singling] = measure(tables, Context(), card_for({"p": "categorical", "q": "categorical"}))[:1]
    assert singling.id == "privacy.singling_out_risk"
    assert singling.n == singling.extra["n_queries"] == 4  # p == x & q == y for the 4 rows
    assert singling.extra["n_attacks_requested"] == 2000
    # real holds 2 of the 4 combinations once each after deduplication: 2 successes of 4
    assert singling.extra["attack_rate"] == pytest.approx(wilson(2, 4).value)


def test_a_smaller_holdout_gets_the_size_correction() -> None:
    rng = np.random.default_rng(9)
    real, holdout, synthetic = _population(rng, 600), _population(rng, 200), _population(rng, 600)
    tables = make_tables({c: (TYPES[c], real[c], holdout[c], synthetic[c]) for c in TYPES})
    [singling] = measure(tables, Context(), card_for(TYPES))[:1]
    assert singling.extra["control_correction"] != 1.0
    assert (
        math.isfinite(singling.extra["control_correction"])
        and singling.extra["control_correction"] > 0
    )


def _singled_by_brute_force(
    codes: np.ndarray, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray
) -> int:
    """Distinct records of `rows` that some query matches alone, by checking every pair."""
    found = set()
    for q in range(len(cols)):
        match = [
            r
            for r in rows
            if all(lo[q, s] <= codes[cols[q, s], r] <= hi[q, s] for s in range(cols.shape[1]))
        ]
        if len(match) == 1:
            found.add(match[0])
    return len(found)


def test_the_singling_out_jackknife_equals_leaving_each_record_out() -> None:
    """`_Table.singled_out` derives the count's leave-one-out changes from each query's
    first two matches; recounting with every record left out in turn must agree."""
    from synthgov.metrics.attacks import _Table

    rng = np.random.default_rng(5)
    for _ in range(20):
        codes = rng.integers(0, 4, size=(3, 25)).astype(np.int32)
        cols = np.sort(np.argsort(rng.random((30, 3)), axis=1)[:, :2], axis=1)
        lo = rng.integers(0, 3, size=(30, 2)).astype(np.int32)
        hi = (lo + rng.integers(0, 2, size=(30, 2))).astype(np.int32)
        everyone = np.arange(25)
        left_out = np.array(
            [
                _singled_by_brute_force(codes, cols, lo, hi, np.delete(everyone, i))
                for i in range(25)
            ],
            dtype=float,
        )
        count, variance = _Table(codes, deduplicate=False).singled_out(cols, lo, hi)
        assert count == _singled_by_brute_force(codes, cols, lo, hi, everyone)
        assert variance == pytest.approx(24 / 25 * np.sum((left_out - left_out.mean()) ** 2))


def test_singling_out_tables_sort_as_a_stable_argsort_and_deduplicate_exactly() -> None:
    """The counting sort must give np.argsort(kind="stable")'s order (ties in table order),
    and the mixed-radix row keys must keep exactly the first of each set of equal rows,
    also when the key overflows into a factorisation (wide numeric ranks)."""
    from synthgov.metrics.attacks import _Table

    rng = np.random.default_rng(11)
    for n, wide in ((1, 3), (40, 3), (3000, 2_000_000)):
        codes = np.vstack(
            [rng.integers(-1, 3, n), rng.integers(-1, wide, n)]
            + [rng.integers(-1, 2, n) for _ in range(4)]
            + [rng.integers(-1, wide, n) for _ in range(4)]
        ).astype(np.int32)
        codes[:, n // 2 :] = codes[:, : n - n // 2]  # half of the rows repeat the first half
        table = _Table(codes)
        rows = [tuple(column) for column in codes.T]
        first = sorted({row: i for i, row in reversed(list(enumerate(rows)))}.values())
        assert table.rows.tolist() == first
        for k, column in enumerate(table.codes):
            expected = np.argsort(column, kind="stable")
            assert table.order[k].tolist() == expected.tolist()
            assert table.sorted[k].tolist() == column[expected].tolist()


def test_neighbours_in_canonical_order_deduplicate_as_exact_row_keys_do() -> None:
    """With the row hashes in canonical order, equal rows are neighbours: a row repeats
    when it has its predecessor's hash and codes. Checked against the exact keys on rows
    that collide by construction (a weak hash: different rows share it, ordered by their
    codes as `rows.settle_collisions` orders cells), with duplicates within each hash."""
    from synthgov.metrics.attacks import _first_rows

    rng = np.random.default_rng(5)
    for n in (1, 2, 50, 4000):
        codes = np.vstack([rng.integers(-1, 3, n) for _ in range(3)]).astype(np.int32)
        weak = (codes.sum(axis=0) % 5).astype(np.uint64)  # many different rows per hash
        order = np.lexsort([*codes[::-1], weak])  # by hash, then by the row's codes
        codes, weak = np.ascontiguousarray(codes[:, order]), weak[order]
        expected = _first_rows(codes)
        assert _first_rows(codes, weak).tolist() == expected.tolist()
        assert n < 50 or len(expected) < n  # duplicates
        assert n < 50 or len(np.unique(weak)) < len(expected)  # and collisions
    with pytest.raises(ValueError, match="2 row hashes for 3 rows"):
        _first_rows(np.zeros((1, 3), dtype=np.int32), np.zeros(2, dtype=np.uint64))


def test_singling_out_with_the_canonical_hashes_is_singling_out_by_exact_keys() -> None:
    """The evaluation passes the row hashes (`Context.hashes`); rows crafted to share a
    real row's hash, and duplicates, give the same measurements as the exact keys."""
    from synthgov.metrics import rows
    from synthgov.metrics.attacks import singling_out
    from tests.helpers.collisions import colliding_rows

    crafted = [(1.5, 2.5), *colliding_rows(1.5, 2.5, 40)]
    made = crafted * 3 + [(float(i % 97), float(i % 13)) for i in range(600)]
    x, y = [r[0] for r in made], [r[1] for r in made]
    tables, hashes = rows.canonical(
        make_tables({"x": ("number", x, x[:500], x[::-1]), "y": ("number", y, y[:500], y[::-1])})
    )
    assert len(np.unique(hashes["real"])) < len({*made})  # the crafted rows collide
    found = [
        [m.as_json() for m in singling_out(tables, context)]
        for context in (Context(seed=5, hashes=hashes), Context(seed=5))
    ]
    assert found[0] == found[1]
    assert any(m["id"] == "privacy.singling_out_excess" for m in found[0])


def test_a_table_where_nobody_is_singled_out_still_gets_an_interval_of_some_width() -> None:
    """Every training and holdout record has a twin, so no query singles anyone out and
    the jackknife's variance is 0: a zero-width interval at 0 would pass a strict gate on
    certainty it does not have. Newcombe's interval of the two shares (0 of n each) is
    as wide as n rows allow."""
    twice = ["a", "b", "c", "d", "e"] * 2
    tables = make_tables(
        {
            "p": ("categorical", twice * 20, twice * 20, twice * 20),
            "q": ("categorical", ["x", "y"] * 100, ["x", "y"] * 100, ["x", "y"] * 100),
        }
    )
    out = measure(tables, Context(), card_for({"p": "categorical", "q": "categorical"}))
    [excess] = [m for m in out if m.id == "privacy.singling_out_excess"]
    assert excess.value == 0.0 and excess.extra["attack_share"] == 0.0
    assert excess.interval == {"kind": "newcombe", "successes": [0, 0], "trials": [200, 200]}
    lower, upper = excess.ci
    assert lower < 0 < upper
    assert upper == pytest.approx(wilson(0, 200).value + wilson(0, 200).error, rel=1e-9)


def test_a_synthetic_table_where_no_query_singles_out_a_row_still_gets_the_gated_excess() -> None:
    """Every combination of four binary columns once: any three columns' values match two
    distinct synthetic rows, so no query of three `==` singles out a synthetic row (a 10M-row
    table of coarse columns is the same case). The peer's rate has no denominator, but the
    gated excess must be measured (0: the attack isolates no record of either table), not
    left out: a missing metric blocks the release in `check` whatever its privacy."""
    combinations = [[(i >> k) & 1 for k in range(4)] for i in range(16)]
    columns = {
        f"c{k}": (
            "categorical",
            [str((i + k) % 2) for i in range(300)],
            [str((i * 3 + k) % 2) for i in range(200)],
            [str(row[k]) for row in combinations] * 5,
        )
        for k in range(4)
    }
    tables = make_tables(columns)
    card = card_for(dict.fromkeys(columns, "categorical"))
    out = [m for m in measure(tables, Context(n_attacks=50), card) if "singling" in m.id]
    assert [m.id for m in out] == ["privacy.singling_out_excess"]
    [excess] = out
    assert excess.value == 0.0 and excess.n == 200 and excess.extra["queries"] == 0
    assert excess.interval == {"kind": "newcombe", "successes": [0, 0], "trials": [200, 200]}
    assert excess.ci is not None and excess.method is not None
    lower, upper = excess.ci
    assert lower < 0 < upper
    assert "none of 5000 queries" in excess.method


def test_singling_out_ranks_are_numpys_unique_inverse_with_missing_apart() -> None:
    """`_ranks` hashes the values and sorts only the distinct ones; the codes of every
    attack query depend on it giving np.unique's levels exactly: -0.0 and 0.0 one level,
    infinities in order, every NaN missing (-1)."""
    from synthgov.metrics.attacks import _ranks

    rng = np.random.default_rng(3)
    for levels in (1, 3, 40, 5_000):
        values = rng.integers(-levels, levels + 1, 20_000) * 0.5
        values[rng.random(20_000) < 0.1] = np.nan
        values[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300]
        _, inverse = np.unique(values, return_inverse=True)
        expected = np.where(np.isnan(values), -1, inverse)
        assert _ranks(values).tolist() == expected.tolist()
    assert _ranks(np.array([np.nan, np.nan])).tolist() == [-1, -1]
    assert _ranks(np.array([], dtype=np.float64)).tolist() == []


def test_singling_out_ranks_gathered_a_chunk_at_a_time_equal_np_unique_over_the_three_tables() -> (
    None
):
    """`_coded` ranks a numeric column without concatenating the three tables: the sorted
    distinct values are gathered a chunk at a time (`_levels`) and each table ranked a
    chunk at a time (`_rank`). Whatever the chunk, the ranks must be np.unique's inverse
    over the concatenated tables: -0.0 in one table and 0.0 in another one level, values
    only one table holds, a table with every value missing, an empty table."""
    from synthgov.metrics.attacks import _levels, _rank

    rng = np.random.default_rng(5)
    real = rng.integers(-4, 5, 50) * 0.5
    real[rng.random(50) < 0.2] = np.nan
    real[:3] = [-0.0, np.inf, 7.25]  # 7.25: only the real table holds it
    holdout = np.append(rng.integers(-4, 5, 30) * 0.5, [0.0, -np.inf, np.nan])
    cases = {
        "mixed": (real, holdout, rng.random(20) * 3),
        "synthetic all missing": (real, holdout, np.full(9, np.nan)),
        "empty holdout": (real, np.empty(0), np.array([-0.0, 2.0])),
        "every value missing": (np.full(4, np.nan), np.full(2, np.nan), np.empty(0)),
    }
    for name, tables in cases.items():
        values = np.concatenate(tables)
        _, inverse = np.unique(values, return_inverse=True)
        expected = np.where(np.isnan(values), -1, inverse)
        for chunk in (1, 2, 3, 7, 1 << 20):
            levels = _levels(list(tables), chunk)
            ranks = [np.full(len(table), -9, dtype=np.int32) for table in tables]
            for table, out in zip(tables, ranks, strict=True):
                _rank(table, levels, out, chunk)
            assert np.concatenate(ranks).tolist() == expected.tolist(), (name, chunk)


def test_singling_out_codes_are_the_same_whatever_the_chunk_and_ranks_span_the_three_tables() -> (
    None
):
    """`_coded` of encoded tables: labels keep their codes, and a number's code is its rank
    among the distinct values of all three tables (-0.0 and 0.0 one, missing -1), the
    same bits whether each column is ranked in chunks of 2 rows or in one."""
    from synthgov.metrics.attacks import _coded

    tables = make_tables(
        {
            "amount": (
                "number",
                [1.5, -0.0, None, 3.0, 1.5, 9.0],
                [0.0, 2.0, None, 1.5],
                [7.0, 1.5, 3.0, None, -2.0],
            ),
            "count": ("integer", [1, 2, 2, 3, None, 1], [2, 2, 5, 1], [3, 3, 1, 2, 2]),
            "plan": ("categorical", ["a", "b", "a", None, "c", "a"], list("bbca"), list("abcab")),
        }
    )
    whole = _coded(tables)
    for chunk in (1, 2, 5):
        chunked = _coded(tables, chunk=chunk)
        for role in ROLES:
            assert chunked[role].tolist() == whole[role].tolist(), (role, chunk)
    for k, column in enumerate(tables.columns):
        if not column.is_numeric:
            assert whole["real"][k].tolist() == column.real.tolist()
            continue
        values = np.concatenate([column.table(role) for role in ROLES])
        _, inverse = np.unique(values, return_inverse=True)
        expected = np.where(np.isnan(values), -1, inverse)
        assert np.concatenate([whole[role][k] for role in ROLES]).tolist() == expected.tolist()
