"""Fidelity metrics: hand-computed answers, edge cases, and values taken from the peer."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from synthgov.metrics import fidelity
from synthgov.metrics.encoding import Tables
from synthgov.metrics.measurement import Context, Measurement
from tests.helpers.tables import make_tables

# A small mixed table: NaN in every column, ties, a synthetic-only category ("d"),
# a synthetic value outside the real range in each numeric column.
FIXTURE: dict[str, tuple[str, list[Any], list[Any]]] = {
    "age": (
        "integer",
        [23, 35, 35, 41, None, 52, 60, 35, 29, 47, 38, 55],
        [25, 35, 36, 41, 41, None, None, 70, 30, 44],
    ),
    "income": (
        "number",
        [
            1200.5,
            3400.25,
            None,
            2800.0,
            5100.75,
            4100.0,
            3900.5,
            2700.0,
            3100.0,
            4500.0,
            3300.0,
            5000.0,
        ],
        [1500.0, 3300.0, 2900.0, None, 5000.0, 4000.0, 3950.0, 2600.0, 9000.0, 3000.0],
    ),
    "joined": (
        "date",
        [
            "2020-01-05",
            "2020-03-01",
            "2021-07-19",
            None,
            "2020-01-05",
            "2022-02-28",
            "2021-11-30",
            "2020-06-15",
            "2023-01-01",
            "2022-08-08",
            "2021-01-01",
            "2020-12-31",
        ],
        [
            "2020-02-01",
            "2020-03-01",
            "2021-07-19",
            "2021-07-20",
            "2019-12-31",
            "2022-02-28",
            None,
            "2020-06-15",
            "2024-05-05",
            "2022-08-08",
        ],
    ),
    "city": (
        "categorical",
        ["a", "b", "a", "c", None, "b", "a", "a", "c", "b", "a", "b"],
        ["a", "b", "b", "c", "d", None, "a", "a", "c", "b"],
    ),
    "member": (
        "boolean",
        [True, False, True, True, None, False, False, True, True, False, True, True],
        [True, True, True, False, None, None, False, True, True, True],
    ),
}

# Computed from FIXTURE with sdmetrics 0.32.0 (numpy 1.26.4, pandas 2.3.3, scipy 1.17.1):
# the single-column and column-pair metrics, and QualityReport with
# real_correlation_threshold = real_association_threshold = 0 (legacy and unified reports
# agree). Mixed pairs appear only inside column_pair_trends.
PEER = {
    ("fidelity.ks_complement", "age"): 0.7613636363636364,
    ("fidelity.ks_complement", "income"): 0.8282828282828283,
    ("fidelity.ks_complement", "joined"): 0.8888888888888888,
    ("fidelity.tv_complement", "city"): 0.848484922865007,
    ("fidelity.tv_complement", "member"): 0.8863636363636364,
    ("fidelity.column_shapes", None): 0.8426767825527994,
    ("fidelity.missing_rate_diff", "age"): 0.1166666666666667,  # 1 - MissingValueSimilarity
    ("fidelity.missing_rate_diff", "income"): 0.01666666666666672,
    ("fidelity.missing_rate_diff", "joined"): 0.01666666666666672,
    ("fidelity.missing_rate_diff", "city"): 0.01666666666666672,
    ("fidelity.missing_rate_diff", "member"): 0.1166666666666667,
    ("fidelity.correlation_similarity", ("age", "income")): 0.4740790475557667,
    ("fidelity.correlation_similarity", ("age", "joined")): 0.7254610052826421,
    ("fidelity.correlation_similarity", ("income", "joined")): 0.7679777197541569,
    ("fidelity.contingency_similarity", ("city", "member")): 0.55,
    ("fidelity.column_pair_trends", None): 0.46675177725925654,
    ("fidelity.boundary_adherence", "age"): 0.875,
    ("fidelity.boundary_adherence", "income"): 0.8888888888888888,
    ("fidelity.boundary_adherence", "joined"): 0.7777777777777778,
    ("fidelity.category_adherence", "city"): 0.9,
    ("fidelity.category_adherence", "member"): 1.0,
}


def fixture_tables() -> Tables:
    return make_tables(
        {name: (kind, real, real, synthetic) for name, (kind, real, synthetic) in FIXTURE.items()}
    )


def by_key(measurements: list[Measurement]) -> dict[tuple[str, object], Measurement]:
    return {(m.id, m.column or m.columns): m for m in measurements}


def one(measurements: list[Measurement], metric: str) -> Measurement:
    (found,) = [m for m in measurements if m.id == metric]
    return found


def test_every_value_equals_the_peer() -> None:
    got = by_key(fidelity.measure(fixture_tables(), Context()))
    assert set(got) == set(PEER)
    for key, expected in PEER.items():
        assert got[key].value == pytest.approx(expected, abs=1e-12), key


def test_order_is_by_metric_then_card_order_and_stable() -> None:
    first = fidelity.measure(fixture_tables(), Context(seed=1))
    second = fidelity.measure(fixture_tables(), Context(seed=2))
    assert [m.as_json() for m in first] == [m.as_json() for m in second]
    assert [(m.id, m.column or m.columns) for m in first] == list(PEER)


def test_n_counts_the_synthetic_values_used() -> None:
    got = by_key(fidelity.measure(fixture_tables(), Context()))
    assert got["fidelity.ks_complement", "age"].n == 8  # two of ten synthetic ages missing
    assert got["fidelity.correlation_similarity", ("age", "income")].n == 7  # complete rows
    assert (
        got["fidelity.boundary_adherence", "age"].n == 8
    )  # real has NaN: synthetic NaN not judged
    assert got["fidelity.column_pair_trends", None].extra == {"mode": "per_table_bins", "pairs": 10}


def test_ks_known_answer_ignores_missing_values() -> None:
    # F_real - F_synthetic at 2 is 2/4 - 0, at 4 is 4/4 - 2/4: D = 0.5
    tables = make_tables({"x": ("number", [1, 2, 3, 4, None], [0] * 5, [3, 4, 5, 6, None, None])})
    assert fidelity.column_shape(tables["x"]) == 0.5


def test_ks_rounds_numbers_to_14_decimals_like_the_peer() -> None:
    # 1 + 1e-15 and 1 are distinct floats but equal at 14 decimals: identical distributions
    tables = make_tables({"x": ("number", [1.000000000000001], [0], [1.0])})
    assert fidelity.column_shape(tables["x"]) == 1.0
    assert fidelity.ks_complement(tables["x"].real, tables["x"].synthetic, decimals=None) == 0.0


def test_ks_on_dates_uses_the_calendar_order() -> None:
    # real 2020-01-01, 2020-01-03; synthetic 2020-01-02, 2020-01-03: D = 1/2 at Jan 1
    dates = make_tables(
        {"d": ("date", ["2020-01-01", "2020-01-03"], ["2020-01-01"], ["2020-01-02", "2020-01-03"])}
    )
    assert fidelity.column_shape(dates["d"]) == 0.5


def test_tv_gives_a_synthetic_only_category_a_pseudo_count() -> None:
    # real a:2 b:1 (NaN dropped); synthetic a:1 b:2 c:1; c gets 1e-6 in real
    tables = make_tables({"c": ("categorical", ["a", "a", "b", None], ["a"], ["a", "b", "b", "c"])})
    real_total = 3 + 1e-6
    distance = (
        abs(1 / 4 - 2 / real_total) + abs(2 / 4 - 1 / real_total) + abs(1 / 4 - 1e-6 / real_total)
    )
    assert fidelity.column_shape(tables["c"]) == pytest.approx(1 - distance / 2, abs=1e-15)


def test_missing_rate_diff_covers_categorical_columns() -> None:
    # real 1 of 4 missing, synthetic 0 of 2: |0.25 - 0|
    tables = make_tables({"c": ("categorical", ["a", "b", None, "a"], ["a"], ["a", "b"])})
    assert one(fidelity.measure(tables, Context()), "fidelity.missing_rate_diff").value == 0.25


def test_correlation_known_answer_drops_incomplete_rows_per_table() -> None:
    # complete rows: real y = 2x (r = 1), synthetic y = 10 - 2x (r = -1): 1 - |1 - -1| / 2 = 0
    tables = make_tables(
        {
            "x": ("number", [1, 2, 3, 4, None, 9], [0], [1, 2, 3, 4, 7]),
            "y": ("number", [2, 4, 6, 8, 5, None], [0], [8, 6, 4, 2, None]),
        }
    )
    measured = one(fidelity.measure(tables, Context()), "fidelity.correlation_similarity")
    assert measured.value == pytest.approx(0.0, abs=1e-15)
    assert measured.columns == ("x", "y")
    assert measured.n == 4


def test_two_complete_rows_give_an_exact_correlation() -> None:
    assert fidelity.pearson(np.array([1.0, 2.0]), np.array([3.0, 1.0])) == -1.0


def test_constant_column_pair_is_skipped_and_recorded() -> None:
    # the peer raises ConstantInputError for y; the mixed pairs are still scored
    tables = make_tables(
        {
            "x": ("number", [1, 2, 3, None], [0], [1, 2, 3, 4]),
            "y": ("number", [7, 7, 7, 7], [0], [1, 3, 2, 4]),
            "c": ("categorical", ["a", "b", "a", "b"], ["a"], ["a", "b", "b", "b"]),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        measured = fidelity.measure(tables, Context())
    assert not [m for m in measured if m.id == "fidelity.correlation_similarity"]
    trends = one(measured, "fidelity.column_pair_trends")
    assert trends.extra["skipped"] == [["x", "y"]]
    assert trends.extra["pairs"] == 2
    assert all(np.isfinite(m.value) for m in measured)


def test_exactly_uncorrelated_real_pair_is_kept() -> None:
    # complete real rows x = 1, 2, 3 and y = 1, 0, 1: centred dot (-1)(1/3) + 0 + (1)(1/3) = 0
    # synthetic y = x: r = 1, score 1 - |0 - 1| / 2. (The peer scores this pair NaN, as its
    # threshold test |r| <= 0 holds; see the module docstring.)
    tables = make_tables(
        {
            "x": ("number", [1, 2, 3, None], [0], [1, 2, 3]),
            "y": ("number", [1, 0, 1, 5], [0], [1, 2, 3]),
        }
    )
    measured = one(fidelity.measure(tables, Context()), "fidelity.correlation_similarity")
    assert measured.value == pytest.approx(0.5, abs=1e-15)


def test_contingency_keeps_missing_as_a_category() -> None:
    # real cells (x,p) (x,q) (y,p) (NaN,p) 1/4 each; synthetic (x,p) 1/4, (y,p) 2/4, (y,NaN) 1/4
    # |differences| 0 + 1/4 + 1/4 + 1/4 + 1/4 = 1: 1 - 1/2
    tables = make_tables(
        {
            "a": ("categorical", ["x", "x", "y", None], ["x"], ["x", "y", "y", "y"]),
            "b": ("categorical", ["p", "q", "p", "p"], ["p"], ["p", "p", "p", None]),
        }
    )
    measured = fidelity.measure(tables, Context())
    assert one(measured, "fidelity.contingency_similarity").value == 0.5
    assert one(measured, "fidelity.column_pair_trends").value == 0.5


def test_high_cardinality_contingency_is_compacted_to_the_same_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    codes = [rng.integers(-1, 30, 200).astype(np.int32) for _ in range(4)]
    direct = fidelity.contingency_similarity((codes[0], codes[1]), (codes[2], codes[3]), (30, 30))
    monkeypatch.setattr(fidelity, "_MAX_CELLS", 0)
    compacted = fidelity.contingency_similarity(
        (codes[0], codes[1]), (codes[2], codes[3]), (30, 30)
    )
    assert compacted == pytest.approx(direct, abs=1e-15)
    assert 0.0 < direct < 1.0


def test_mixed_pair_uses_each_tables_own_bins_like_the_report() -> None:
    # synthetic x = 2 * real x: different values (KS < 1) but the same bin of each row once
    # each table is binned on its own range, so the report scores the pair 1.0
    real_x = list(range(10))
    tables = make_tables(
        {
            "x": ("integer", real_x, [0], [2 * v for v in real_x]),
            "c": ("categorical", ["a"] * 5 + ["b"] * 5, ["a"], ["a"] * 5 + ["b"] * 5),
        }
    )
    measured = fidelity.measure(tables, Context())
    assert one(measured, "fidelity.column_pair_trends").value == 1.0
    assert one(measured, "fidelity.ks_complement").value < 1.0


def test_mixed_pair_puts_the_maximum_and_missing_in_one_bin() -> None:
    # real edges 0..10 step 1: 0 -> bin 1, 10 -> bin 11, NaN -> bin 11 (np.digitize)
    # real cells (1,a) 1/3, (11,b) 2/3; synthetic 5 -> bin 6: (1,a) (11,b) (6,b) 1/3 each
    # |differences| 0 + 1/3 + 1/3: score 1 - 1/3
    tables = make_tables(
        {
            "x": ("number", [0, 10, None], [0], [0, 10, 5]),
            "c": ("categorical", ["a", "b", "b"], ["a"], ["a", "b", "b"]),
        }
    )
    trends = one(fidelity.measure(tables, Context()), "fidelity.column_pair_trends")
    assert trends.value == pytest.approx(2 / 3, abs=1e-15)


def test_constant_date_still_bins_like_the_peers_numpy() -> None:
    # one date in nanoseconds +- 0.5 gives 11 equal edges: numpy 2 would refuse them,
    # the report's numpy 1.26 puts every row in the top bin
    tables = make_tables(
        {
            "d": ("date", ["2020-01-01", "2020-01-02"], ["2020-01-01"], ["2020-01-05", None]),
            "c": ("categorical", ["a", "b"], ["a"], ["a", "b"]),
        }
    )
    # real bins 1 and 11; synthetic both in bin 11: cells (1,a) vs (11,a) differ, (11,b) equal
    trends = one(fidelity.measure(tables, Context()), "fidelity.column_pair_trends")
    assert trends.value == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize(
    ("real", "expected", "n"),
    [
        ([1, 5, None], 3 / 5, 5),  # real has NaN: synthetic NaN not judged; 1, 3, 5 inside
        ([1, 5], 3 / 6, 6),
    ],  # real has none: synthetic NaN is out of bounds
)
def test_boundary_adherence(real: list[int | None], expected: float, n: int) -> None:
    tables = make_tables({"x": ("number", real, [0], [0, 1, 3, 5, 6, None])})
    measured = one(fidelity.measure(tables, Context()), "fidelity.boundary_adherence")
    assert (measured.value, measured.n) == (expected, n)


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (["a", "b", None], 3 / 4),  # real has NaN: a, NaN, b valid, c not
        (["a", "b"], 2 / 4),
    ],  # NaN in synthetic now invalid as well
)
def test_category_adherence(real: list[str | None], expected: float) -> None:
    tables = make_tables({"c": ("categorical", real, ["a"], ["a", "c", None, "b"])})
    assert one(fidelity.measure(tables, Context()), "fidelity.category_adherence").value == expected


def test_column_shapes_on_a_row_subset_matches_the_subset_table() -> None:
    tables = fixture_tables()
    rows = np.array([0, 2, 3, 7, 8])
    subset = tables.select("synthetic", rows)
    by_hand = make_tables(
        {
            name: (kind, real, real, [synthetic[i] for i in rows])
            for name, (kind, real, synthetic) in FIXTURE.items()
        }
    )
    assert fidelity.column_shapes(subset) == pytest.approx(
        fidelity.column_shapes(by_hand), abs=1e-15
    )
    assert fidelity.column_shapes(tables) == pytest.approx(
        PEER["fidelity.column_shapes", None], abs=1e-12
    )


def test_empty_subset_leaves_every_metric_undefined_without_warnings() -> None:
    empty = fixture_tables().select("synthetic", np.array([], dtype=np.intp))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(fidelity.column_shapes(empty))
        assert fidelity.measure(empty, Context()) == []


def test_single_column_has_no_pair_metrics() -> None:
    tables = make_tables({"x": ("number", [1, 2, 3], [1], [1, 2, 2])})
    ids = [m.id for m in fidelity.measure(tables, Context())]
    assert ids == [
        "fidelity.ks_complement",
        "fidelity.column_shapes",
        "fidelity.missing_rate_diff",
        "fidelity.boundary_adherence",
    ]
