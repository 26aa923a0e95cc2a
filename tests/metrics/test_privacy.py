"""Distance-based privacy metrics: hand-computed tables, controls, sampling and seeds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from synthgov.metrics import privacy
from synthgov.metrics.distance import dcr, matrix, numeric_mask
from synthgov.metrics.encoding import ROLES, Tables
from synthgov.metrics.measurement import Context, Measurement
from synthgov.metrics.metric_ids import METRICS
from tests.helpers.tables import card_for, make_tables

CARD = card_for({"x": "number"})  # privacy.measure does not read the card


def by_id(measurements: list[Measurement]) -> dict[str, Measurement]:
    return {m.id: m for m in measurements}


def test_hand_computed_categorical_table() -> None:
    # R = a, b   H = a, c   S = b, b, b, a
    # DCR(S->R) = 0, 0, 0, 0   DCR(S->H) = 1, 1, 1, 0   p = 3/4 (the tie on `a` counts for H)
    # overfitting = min(2 * (1 - 3/4), 1) = 0.5; median DCR(S->R) = 0; every S row copies R
    # MIA: -DCR to S of R records a, b = 0, 0 and of H records a, c = 0, -1
    #      AUC = (0.5 + 1 + 0.5 + 1) / 4 = 0.75
    # baseline: random rows are drawn from R's categories {a, b}, so all at DCR 0 -> skipped
    tables = make_tables({"c": ("categorical", ["a", "b"], ["a", "c"], ["b", "b", "b", "a"])})
    found = by_id(privacy.measure(tables, Context(), CARD))
    assert found["privacy.dcr_share_closer_to_train"].value == 0.75
    assert found["privacy.dcr_overfitting_protection"].value == 0.5
    assert found["privacy.dcr_median"].value == 0.0
    assert found["privacy.exact_match_rate"].value == 1.0
    assert found["privacy.mia_auc"].value == 0.75
    assert "privacy.dcr_baseline_protection" not in found
    peer = (
        "privacy.dcr_share_closer_to_train",
        "privacy.dcr_overfitting_protection",
        "privacy.dcr_median",
        "privacy.exact_match_rate",
    )
    assert all(found[k].ci is None and found[k].n == 4 for k in peer)  # exact: all rows
    assert found["privacy.mia_auc"].n == 4  # 2 records of R, 2 of H, always with an interval
    # the holdout as the control: H = a, c has one row that equals a training row (a), and
    # one at distance 1 (c); every S row is a copy (distance 0)
    # exact copies: 4/4 - 1/2 = 0.5; near copies (radius = H's 1 % quantile = 0): the same
    # closer than fresh: each S row (0) against H's (0, 1): (1/2 + 1) / 2 = 0.75
    assert found["privacy.exact_copy_excess"].value == 0.5
    assert found["privacy.exact_copy_excess"].interval == {
        "kind": "newcombe",
        "successes": [4, 1],
        "trials": [4, 2],
    }
    assert found["privacy.near_copy_excess"].value == 0.5
    assert found["privacy.near_copy_excess"].extra["radius"] == 0.0
    assert found["privacy.closer_than_fresh"].value == 0.75
    for key in (
        "privacy.exact_copy_excess",
        "privacy.near_copy_excess",
        "privacy.closer_than_fresh",
        "privacy.mia_auc",
    ):
        ci = found[key].ci
        assert ci is not None
        low, high = ci
        assert low <= found[key].value <= high


def test_every_train_holdout_comparison_uses_the_training_tables_ranges() -> None:
    # x in R spans 0..100, in H only 0..10: the peer's DCR(S->H) divides by 10, so the
    # synthetic row at 5 is 0.5 from the holdout but 0.05 from train: "closer to train",
    # though in train units it is 0.05 from both (the 14,250 against 20,000)
    tables = make_tables({"x": ("number", [0, 100], [0, 10], [5])})
    found = by_id(privacy.measure(tables, Context(), CARD))
    assert found["privacy.dcr_share_closer_to_train"].value == 1.0  # the peer's bias
    # near copies: H's distances to R are 0 and 0.1 -> radius 0; S's 0.05 is not within it
    assert found["privacy.near_copy_excess"].value == -0.5
    # closer than fresh: S (0.05) against H (0 and 0.1): one closer, one farther -> 0.5
    assert found["privacy.closer_than_fresh"].value == 0.5


def test_near_copies_of_training_rows_raise_the_excess_and_fresh_rows_do_not() -> None:
    rng = np.random.default_rng(3)
    real, holdout, fresh = (rng.normal(size=(400, 3)) for _ in range(3))
    copies = fresh.copy()
    copies[:120] = real[:120] + rng.normal(scale=1e-4, size=(120, 3))  # 30 % nudged copies

    def excess(synthetic: np.ndarray) -> Measurement:
        spec = {
            f"c{j}": ("number", list(real[:, j]), list(holdout[:, j]), list(synthetic[:, j]))
            for j in range(3)
        }
        return by_id(privacy.measure(make_tables(spec), Context(), CARD))[
            "privacy.near_copy_excess"
        ]

    honest, leaky = excess(fresh), excess(copies)
    assert honest.ci is not None and leaky.ci is not None
    assert honest.ci[0] < 0 < honest.ci[1]
    assert leaky.value > 0.25 and leaky.ci[0] > 0.2


def test_exact_matches_compare_numbers_by_value_and_missing_as_equal() -> None:
    # S rows: (1, a) = R row 1; (0.0, "1") = R row 2 (-0.0 == 0.0, label 1 == "1");
    # (-, -) = R row 3; (1.0000001, a) and (1, b) have no copy -> 3 / 5
    tables = make_tables(
        {
            "x": ("number", [1.0, -0.0, None], [0], [1, 0.0, None, 1.0000001, 1]),
            "c": ("categorical", ["a", 1, None], ["a"], ["a", "1", None, "a", "b"]),
        }
    )
    result = privacy.exact_match_rate(tables)
    assert result.value == 0.6
    assert result.n == 5


def test_baseline_protection_is_the_capped_ratio_of_medians() -> None:
    assert privacy.baseline_protection(0.2, np.array([0.1, 0.4, 0.5])) == (0.5, 0.4)
    assert privacy.baseline_protection(0.5, np.array([0.1, 0.2, 0.3])) == (1.0, 0.2)
    assert privacy.baseline_protection(0.1, np.array([0.0, 0.0, 1.0])) is None


def test_random_table_follows_the_train_table() -> None:
    rng = np.random.default_rng(3)
    tables = make_tables(
        {
            "i": ("integer", [3, 7, None, None] * 100, [5], [5]),
            "f": ("number", [1.5, 2.5, 2.0, 2.0] * 100, [5], [5]),
            "c": ("categorical", ["a", "b", "b", None] * 100, ["a"], ["z"]),  # z only in S
        }
    )
    noise = privacy.random_table(tables, 4_000, rng)
    integers, floats, codes = noise[:, 0], noise[:, 1], noise[:, 2]
    present = integers[~np.isnan(integers)]
    assert set(np.unique(present)) == {3.0, 4.0, 5.0, 6.0, 7.0}
    assert abs(np.isnan(integers).mean() - 0.5) < 0.03
    assert floats.min() >= 1.5 and floats.max() <= 2.5 and not np.isnan(floats).any()
    assert len(np.unique(floats)) > 3_000  # continuous, not the train values
    categories = tables["c"].categories
    assert {categories[int(c)] for c in codes if c >= 0} == {"a", "b"}
    assert abs((codes == -1).mean() - 0.25) < 0.03
    again = privacy.random_table(tables, 4_000, np.random.default_rng(3))
    np.testing.assert_array_equal(noise, again)


def test_random_table_of_integers_beyond_int64_is_drawn_not_a_crash() -> None:
    """A uint64 column (or int64's extremes) in the train table: `integers` cannot draw it."""
    tables = make_tables(
        {
            "i": ("integer", [0, 2**64 - 1] * 10, [5], [5]),
            "j": ("integer", [-(2**63), 2**63 - 1] * 10, [5], [5]),
        }
    )
    noise = privacy.random_table(tables, 1_000, np.random.default_rng(3))
    for column in (noise[:, 0], noise[:, 1]):
        assert not np.isnan(column).any() and (column % 1 == 0).all()
    assert noise[:, 0].min() >= 0 and noise[:, 0].max() <= 2.0**64
    assert noise[:, 1].min() >= -(2.0**63) and noise[:, 1].max() <= 2.0**63


def _draw(rng: np.random.Generator, rows: int) -> dict[str, list[Any]]:
    """One mixed population with correlated columns and some missing values."""
    age = rng.integers(18, 90, rows)
    income = np.round(rng.lognormal(10 + (age - 50) / 40, 0.5), 2)
    city = rng.choice(
        ["north", "south", "east", "west", "centre"], rows, p=[0.4, 0.2, 0.2, 0.1, 0.1]
    )
    member = (age + rng.normal(0, 15, rows)) > 50
    table: dict[str, list[Any]] = {
        "age": age.tolist(),
        "income": [
            None if m else float(v) for v, m in zip(income, rng.random(rows) < 0.05, strict=True)
        ],
        "city": [None if m else str(v) for v, m in zip(city, rng.random(rows) < 0.05, strict=True)],
        "member": member.tolist(),
    }
    return table


def _population(rows: int, seed: int, leaked: float) -> Tables:
    """R and H from one population; S copies a `leaked` share of R, the rest fresh draws."""
    rng = np.random.default_rng(seed)
    real, holdout, fresh = _draw(rng, rows), _draw(rng, rows), _draw(rng, rows)
    copies = int(leaked * rows)
    synthetic = {name: real[name][:copies] + fresh[name][copies:] for name in real}
    kinds = {"age": "integer", "income": "number", "city": "categorical", "member": "boolean"}
    return make_tables(
        {name: (kinds[name], real[name], holdout[name], synthetic[name]) for name in kinds}
    )


def test_a_copy_of_the_train_table_scores_worse_than_honest_draws() -> None:
    honest = by_id(privacy.measure(_population(400, 11, leaked=0.0), Context(seed=1), CARD))
    leaky = by_id(privacy.measure(_population(400, 11, leaked=1.0), Context(seed=1), CARD))
    assert leaky["privacy.exact_match_rate"].value == 1.0
    assert honest["privacy.exact_match_rate"].value < 0.05
    assert leaky["privacy.dcr_share_closer_to_train"].value > 0.95
    assert leaky["privacy.dcr_overfitting_protection"].value < 0.1
    assert honest["privacy.dcr_overfitting_protection"].value > 0.8
    assert leaky["privacy.dcr_median"].value == 0.0
    assert honest["privacy.dcr_median"].value > 0.005
    assert leaky["privacy.dcr_baseline_protection"].value == 0.0
    assert honest["privacy.dcr_baseline_protection"].value > 0.1
    assert leaky["privacy.mia_auc"].value > 0.9
    assert abs(honest["privacy.mia_auc"].value - 0.5) < 0.1


def test_every_value_is_finite_and_every_id_is_in_the_contract() -> None:
    found = privacy.measure(_population(300, 5, leaked=0.3), Context(seed=2), CARD)
    assert {m.id for m in found} == {
        "privacy.exact_match_rate",
        "privacy.dcr_share_closer_to_train",
        "privacy.dcr_overfitting_protection",
        "privacy.dcr_median",
        "privacy.dcr_baseline_protection",
        "privacy.mia_auc",
        "privacy.exact_copy_excess",
        "privacy.near_copy_excess",
        "privacy.closer_than_fresh",
    }
    for measurement in found:
        assert measurement.id in METRICS
        assert math.isfinite(measurement.value)
        assert measurement.method is not None and "exact" in measurement.method
        assert measurement.n is not None and measurement.n > 0


def test_sampled_intervals_contain_the_exact_values() -> None:
    tables = _population(3_000, 7, leaked=0.4)
    exact = by_id(privacy.measure(tables, Context(seed=0), CARD))
    context = Context(seed=0, sample=600)
    sampled = by_id(privacy.measure(tables, context, CARD))
    for metric in (
        "privacy.dcr_share_closer_to_train",
        "privacy.dcr_overfitting_protection",
        "privacy.dcr_median",
        "privacy.mia_auc",  # 300 records of each side against all 3,000
    ):
        assert exact[metric].ci is None or metric == "privacy.mia_auc"  # an attack: an estimate
        ci = sampled[metric].ci
        assert ci is not None
        assert ci[0] <= exact[metric].value <= ci[1], (metric, ci, exact[metric].value)
        assert ci[0] <= sampled[metric].value <= ci[1]
        assert sampled[metric].n == 600  # MIA: 300 + 300 records
        assert str(sampled[metric].method).startswith("sampled: ")
        assert sampled[metric].extra["mode"] == "sampled"
    assert str(sampled["privacy.dcr_median"].method).startswith(
        "sampled: 600 of 3000 synthetic rows"
    )
    assert context.sample_sizes == {
        "privacy.dcr": 600,
        "privacy.dcr_holdout": 600,
        "privacy.mia_auc": 300,
    }
    # the exact share sits between 0.5 and 1 here, so the interval is a real one
    assert 0.55 < exact["privacy.dcr_share_closer_to_train"].value < 0.9
    assert sampled["privacy.exact_match_rate"].n == 3_000  # never sampled


def test_too_many_synthetic_rows_switch_to_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy, "DEFAULT_QUERIES", 100)
    context = Context(exact_rows=250)
    found = by_id(privacy.measure(_population(300, 4, leaked=0.0), context, CARD))
    assert found["privacy.dcr_median"].n == 100
    assert context.sample_sizes["privacy.dcr"] == 100
    assert (
        by_id(privacy.measure(_population(200, 4, leaked=0.0), Context(exact_rows=250), CARD))[
            "privacy.dcr_median"
        ].ci
        is None
    )


def test_the_same_seed_gives_the_same_report() -> None:
    tables = _population(1_000, 3, leaked=0.2)

    def run(seed: int) -> list[dict[str, Any]]:
        return [m.as_json() for m in privacy.measure(tables, Context(seed=seed, sample=300), CARD)]

    first = run(8)
    assert run(8) == first
    assert run(9) != first


def test_the_median_of_a_sample_is_found_by_the_peer_kernel() -> None:
    # the sampled median is a median of exact DCRs of the sampled rows
    tables = _population(500, 6, leaked=0.0)
    found = by_id(privacy.measure(tables, Context(seed=4, sample=101), CARD))
    rows = np.sort(Context(seed=4).rng("privacy.dcr").choice(500, size=101, replace=False))
    numeric = numeric_mask(tables)
    expected = np.median(dcr(matrix(tables, "synthetic", rows), matrix(tables, "real"), numeric))
    assert found["privacy.dcr_median"].value == expected


def test_interval_helpers() -> None:
    # the classic distribution-free 95% interval of the median of 100 values: ranks 40 and 61
    assert privacy._median_ci(np.arange(1.0, 101.0)[::-1].copy()) == (40.0, 61.0)


def test_nothing_to_compare_gives_no_measurement() -> None:
    tables = make_tables({"x": ("number", [1, 2], [1], [1])})
    assert (
        privacy.measure(Tables((), {"real": 2, "holdout": 1, "synthetic": 1}), Context(), CARD)
        == []
    )
    assert (
        privacy.measure(tables.select("synthetic", np.array([], dtype=np.int64)), Context(), CARD)
        == []
    )


def test_closer_than_fresh_counts_ties_one_half() -> None:
    # DCR to train: synthetic 0, 0.5, 1; holdout 0.5, 0.5. Pairs (s, h): 0 < 0.5 twice (1
    # each), 0.5 = 0.5 twice (1/2 each), 1 > 0.5 twice (0): (2 + 1 + 0) / 6 = 0.5
    found = privacy.closer_than_fresh(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.5]), "exact")
    assert found.value == 0.5
    assert found.interval is not None and found.interval["kind"] == "normal"


def test_near_copies_at_the_radius_count_on_both_sides() -> None:
    # holdout DCRs 0.1 x 3, 0.4 x 97: the 1 % quantile (lower) is 0.1, and all three
    # holdout rows at 0.1 are within it, as are the two synthetic rows at exactly 0.1
    fresh = np.array([0.1] * 3 + [0.4] * 97)
    synthetic = np.array([0.0, 0.1, 0.1] + [0.5] * 97)
    found = privacy.near_copy_excess(synthetic, fresh, "exact")
    assert found.extra["radius"] == 0.1
    assert found.interval == {"kind": "newcombe", "successes": [3, 3], "trials": [100, 100]}
    assert found.value == 0.0


def test_exact_matches_keep_wide_rows_apart_when_the_key_is_refactorised() -> None:
    """Many distinct numbers per column overflow the mixed-radix key, which is then
    factorised; rows differing only in the last column must still not match, and a
    category code is a digit of the key as it is."""
    rng = np.random.default_rng(2)
    n = 2000
    columns: dict[str, tuple[str, list[object], list[object], list[object]]] = {}
    for k in range(8):
        real = (rng.permutation(n) * 1.5).tolist()
        synthetic = [v + 0.25 if k == 7 and i % 2 == 0 else v for i, v in enumerate(real)]
        columns[f"x{k}"] = ("number", real, real[:10], synthetic)
    labels = [["a", "b", None][i % 3] for i in range(n)]
    columns["c"] = ("categorical", labels, labels[:10], labels)
    matched = privacy.exact_matches(make_tables(columns), "synthetic")
    assert matched.tolist() == [i % 2 == 1 for i in range(n)]


def _copy_heavy_tables(seed: int) -> Tables:
    """Few distinct values, so that rows repeat and copy each other: -0.0 and 0.0, NaN,
    missing labels, duplicates within a table and rows only one table has."""
    rng = np.random.default_rng(seed)

    def numbers(n: int) -> list[object]:
        return [[0.0, -0.0, 1.5, None][k] for k in rng.integers(0, 4, n)]

    def labels(n: int) -> list[object]:
        return [["a", "b", None][k] for k in rng.integers(0, 3, n)]

    return make_tables(
        {
            "x": ("number", numbers(40), numbers(200), numbers(400)),
            "y": ("number", numbers(40), numbers(200), numbers(400)),
            "c": ("categorical", labels(40), labels(200), labels(400)),
        }
    )


def _cell_by_cell(tables: Tables, role: str) -> list[bool]:
    """The definition, row by row: a number by value (NaN equal to NaN), a label by code."""

    def key(name: str, i: int) -> tuple[object, ...]:
        cells: list[object] = []
        for column in tables:
            value = column.table(name)[i]
            cells.append("nan" if column.is_numeric and np.isnan(value) else value + 0)
        return tuple(cells)

    train = {key("real", i) for i in range(tables.rows["real"])}
    return [key(role, i) in train for i in range(tables.rows[role])]


@pytest.mark.parametrize("seed", range(5))
def test_exact_matches_by_row_hash_equal_a_cell_by_cell_comparison(seed: int) -> None:
    tables = _copy_heavy_tables(seed)
    for role in ("synthetic", "holdout"):
        matched = privacy.exact_matches(tables, role)
        assert matched.tolist() == _cell_by_cell(tables, role)
        assert 0 < matched.sum() < len(matched)  # the tables copy some rows, not all


def test_exact_matches_stay_exact_when_every_row_hash_collides() -> None:
    """A row is compared cell by cell with every real row of its hash, so rows that share
    a hash without being equal (a 64-bit collision, forced here) never match."""
    tables = _copy_heavy_tables(7)
    collided = {role: np.zeros(tables.rows[role], dtype=np.uint64) for role in ROLES}
    for role in ("synthetic", "holdout"):
        assert privacy.exact_matches(tables, role, collided).tolist() == _cell_by_cell(tables, role)


def test_rows_crafted_to_share_a_repeated_real_rows_hash_are_settled_by_keys_not_pairs() -> None:
    """The row hash can be inverted, so a synthetic table can hold many rows with the hash
    of a real row that the real table repeats. Comparing each with every real row of its
    hash would cost their product (20,000 x 20,000 here); they are settled by exact keys
    over those rows instead, and still only true copies match."""
    n = 20_000
    real = [7.0] * n  # one real row, n times
    synthetic = [float(i) for i in range(n)]  # n different rows, one of them a copy
    tables = make_tables({"x": ("number", real, [1.0], synthetic)})
    collided = {role: np.zeros(tables.rows[role], dtype=np.uint64) for role in ROLES}
    matched = privacy.exact_matches(tables, "synthetic", collided)
    assert np.flatnonzero(matched).tolist() == [7]


def test_row_hashes_of_other_tables_are_refused() -> None:
    tables = _copy_heavy_tables(1)
    hashes = {role: np.zeros(tables.rows[role] - 1, dtype=np.uint64) for role in ROLES}
    with pytest.raises(ValueError, match="one row hash per row"):
        privacy.exact_matches(tables, "synthetic", hashes)


def test_the_match_rate_and_the_copy_excess_share_one_pass_over_the_synthetic_rows() -> None:
    """`measure` finds the synthetic rows that copy a training row once (`exact_copies`),
    for both metrics: they must say the same share as the rate finding them itself."""
    columns: dict[str, tuple[str, list[object], list[object], list[object]]] = {
        "x": ("number", [1.0, 2.0, 3.0, None], [2.0, 9.0], [1.0, 5.0, None, 3.0, 7.0]),
        "c": ("categorical", ["a", "b", "a", "b"], ["b", "b"], ["a", "a", "b", "a", "b"]),
    }
    tables = make_tables(columns)
    synthetic, holdout = privacy.exact_copies(tables)
    assert synthetic.tolist() == [True, False, True, True, False]
    assert holdout.tolist() == [True, False]
    rate = privacy.exact_match_rate(tables, synthetic)
    assert rate == privacy.exact_match_rate(tables)
    excess = privacy.exact_copy_excess(synthetic, holdout)
    assert excess.extra["synthetic_share"] == rate.value == 0.6
    assert excess.value == 0.6 - 0.5
