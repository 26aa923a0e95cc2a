"""The compiled DCR kernel: hand-computed answers and a brute-force numpy twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.metrics.distance import dcr, matrix, numeric_mask, ranges
from tests.helpers.tables import make_tables


def brute_force(queries: np.ndarray, reference: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Every pair, every column, added in column order as SDMetrics' pandas sum does."""
    total = np.zeros((len(queries), len(reference)))
    for j in range(queries.shape[1]):
        a, b = queries[:, j][:, None], reference[:, j][None, :]
        if numeric[j]:
            present = reference[:, j][~np.isnan(reference[:, j])]
            span = present.max() - present.min() if present.size else 0.0
            with np.errstate(invalid="ignore", divide="ignore"):
                term = (
                    (np.abs(b - a) > 0).astype(float)
                    if span == 0
                    else np.minimum(np.abs(b - a) / span, 1.0)
                )
            term = np.where(np.isnan(a) ^ np.isnan(b), 1.0, term)
            term = np.where(np.isnan(a) & np.isnan(b), 0.0, term)
        else:
            term = (a != b).astype(float)
        total = total + term
    result: np.ndarray = (total / queries.shape[1]).min(axis=1)
    return result


def test_hand_computed_three_by_three() -> None:
    # reference (real): x = 0, 10, -  (range 10) | k = 5, 5, 5 (range 0) | c = a, b, -
    # q1 = (5, 5, a):   r1 .5+0+0   r2 .5+0+1   r3 1+0+1 (one NaN, a vs missing)  -> 0.5/3
    # q2 = (30, 6, -):  r1 1(capped 3)+1(range 0, differs)+1   r2 1+1+1   r3 1+1+0 (missing == missing) -> 2/3
    # q3 = (-, -, z):   r1 1+1+1   r2 1+1+1   r3 0 (both NaN)+1+1 -> 2/3
    tables = make_tables(
        {
            "x": ("number", [0, 10, None], [1], [5, 30, None]),
            "k": ("integer", [5, 5, 5], [1], [5, 6, None]),
            "c": ("categorical", ["a", "b", None], ["a"], ["a", None, "z"]),
        }
    )
    distances = dcr(matrix(tables, "synthetic"), matrix(tables, "real"), numeric_mask(tables))
    np.testing.assert_array_equal(distances, [0.5 / 3, 2 / 3, 2 / 3])


def test_a_row_is_at_distance_zero_from_its_copy_and_the_cap_is_one() -> None:
    # x: |100 - 0| / range 1 = 100 -> capped at 1; the copy (1, b) is at 0
    tables = make_tables(
        {
            "x": ("number", [0, 1], [0], [1, 100]),
            "c": ("categorical", ["a", "b"], ["a"], ["b", "b"]),
        }
    )
    distances = dcr(matrix(tables, "synthetic"), matrix(tables, "real"), numeric_mask(tables))
    np.testing.assert_array_equal(distances, [0.0, 0.5])  # (1 capped + 0 for b) / 2


def test_ranges_come_from_the_reference_only() -> None:
    tables = make_tables({"x": ("number", [0, 4, None], [0, 40], [2, 3])})
    numeric = numeric_mask(tables)
    queries = matrix(tables, "synthetic")
    # |2 - 0| / 4 = 0.5 against real; |2 - 0| / 40 = 0.05 against holdout
    assert dcr(queries[:1], matrix(tables, "real"), numeric)[0] == 0.5
    assert dcr(queries[:1], matrix(tables, "holdout"), numeric)[0] == 2 / 40


def test_ranges_ignore_missing_values_and_are_zero_without_any() -> None:
    reference = np.array([[1.0, np.nan, 3.0], [5.0, np.nan, 0.0], [np.nan, np.nan, 1.0]])
    np.testing.assert_array_equal(ranges(reference, np.array([True, True, False])), [4.0, 0.0, 0.0])


def test_matrix_keeps_codes_and_selected_rows() -> None:
    tables = make_tables(
        {
            "x": ("number", [1.5, None, 3], [0], [0]),
            "c": ("categorical", ["b", "a", None], ["a"], ["a"]),
        }
    )
    np.testing.assert_array_equal(matrix(tables, "real"), [[1.5, 1.0], [np.nan, 0.0], [3.0, -1.0]])
    np.testing.assert_array_equal(
        matrix(tables, "real", np.array([2, 0])), [[3.0, -1.0], [1.5, 1.0]]
    )
    np.testing.assert_array_equal(numeric_mask(tables), [True, False])


def _random(rng: np.random.Generator, rows: int, numeric: np.ndarray) -> np.ndarray:
    """Few distinct values (ties), NaN or code -1 in about a tenth, one constant column."""
    out = np.empty((rows, len(numeric)))
    for j, is_numeric in enumerate(numeric):
        if is_numeric:
            out[:, j] = rng.integers(0, 6, rows) * rng.choice([1.0, 0.37, 1e5])
            out[rng.random(rows) < 0.1, j] = np.nan
        else:
            out[:, j] = rng.integers(-1, 4, rows)
    out[:, 0] = 2.0 if numeric[0] else 1.0
    return out


@pytest.mark.parametrize(
    "numeric",
    [
        [True, False, True, True, False, False, True],
        [True, True, True],
        [False, False, False, False],
        [False],
    ],
    ids=["mixed", "numeric", "categorical", "one-column"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_equals_brute_force_bit_for_bit(numeric: list[bool], seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = np.array(numeric)
    # more than one query block (32) and one reference block (1024) of the kernel
    queries, reference = _random(rng, 70, mask), _random(rng, 2_500, mask)
    np.testing.assert_array_equal(
        dcr(queries, reference, mask), brute_force(queries, reference, mask)
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda k: st.tuples(
            st.lists(st.booleans(), min_size=k, max_size=k),
            st.integers(1, 8),
            st.integers(1, 8),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_kernel_equals_brute_force_on_small_tables(case: tuple[list[bool], int, int, int]) -> None:
    numeric, rows, references, seed = case
    mask = np.array(numeric)
    rng = np.random.default_rng(seed)
    queries, reference = _random(rng, rows, mask), _random(rng, references, mask)
    np.testing.assert_array_equal(
        dcr(queries, reference, mask), brute_force(queries, reference, mask)
    )


def test_mismatched_or_empty_inputs_are_refused() -> None:
    mask = np.array([True, False])
    with pytest.raises(ValueError, match="same columns"):
        dcr(np.zeros((2, 2)), np.zeros((2, 3)), mask)
    with pytest.raises(ValueError, match="no rows"):
        dcr(np.zeros((2, 2)), np.zeros((0, 2)), mask)
    with pytest.raises(ValueError, match="no columns"):
        dcr(np.zeros((2, 0)), np.zeros((2, 0)), np.array([], dtype=bool))


def test_no_queries_give_no_distances() -> None:
    assert dcr(np.zeros((0, 2)), np.ones((3, 2)), np.array([True, False])).shape == (0,)
