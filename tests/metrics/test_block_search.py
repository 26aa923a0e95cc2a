"""The block-pruned nearest-neighbour searches (`synthgov.metrics.blocks`) give the plain
scans' answers bit for bit: DCR sums, Gower distances and the peer's pick among ties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.metrics import blocks, distance, fidelity, gower


def _clustered(
    rng: np.random.Generator, rows: int, numeric: list[bool], base: np.ndarray
) -> np.ndarray:
    """Rows near a few prototypes (so blocks prune), with ties, about 10 % missing cells,
    exact copies of earlier rows, and one constant column when there are several."""
    out = base[rng.integers(0, len(base), rows)].copy()
    for j, is_numeric in enumerate(numeric):
        if is_numeric:
            out[:, j] += rng.integers(-2, 3, rows) * rng.choice([0.5, 1.0, 1e4])
            out[rng.random(rows) < 0.1, j] = np.nan
        else:
            flip = rng.random(rows) < 0.2
            out[flip, j] = rng.integers(-1, 6, int(flip.sum()))
    if len(numeric) > 2:
        out[:, -1] = 3.0
    copies = rng.random(rows) < 0.05
    out[copies] = out[rng.integers(0, max(int(np.argmax(copies)), 1), int(copies.sum()))]
    return out


def _prototypes(rng: np.random.Generator, numeric: list[bool]) -> np.ndarray:
    return np.array(
        [[rng.integers(0, 50) if n else rng.integers(0, 6) for n in numeric] for _ in range(8)],
        dtype=np.float64,
    )


def _brute_force_dcr(queries: np.ndarray, reference: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Every pair, every column in column order, as SDMetrics' pandas sum."""
    total = np.zeros((len(queries), len(reference)))
    for j in range(queries.shape[1]):
        a, b = queries[:, j][:, None], reference[:, j][None, :]
        if numeric[j]:
            present = reference[:, j][~np.isnan(reference[:, j])]
            span = present.max() - present.min() if present.size else 0.0
            with np.errstate(invalid="ignore", divide="ignore"):
                term = (
                    (a != b).astype(float) if span == 0 else np.minimum(np.abs(b - a) / span, 1.0)
                )
            term = np.where(np.isnan(a) ^ np.isnan(b), 1.0, term)
            term = np.where(np.isnan(a) & np.isnan(b), 0.0, term)
        else:
            term = (a != b).astype(float)
        total = total + term
    result: np.ndarray = (total / queries.shape[1]).min(axis=1)
    return result


def _dcr_case(numeric: list[bool], seed: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = _prototypes(rng, numeric)
    reference = _clustered(rng, rows, numeric, base)
    queries = np.concatenate([_clustered(rng, 40, numeric, base), reference[:5]])
    far = _clustered(rng, 5, numeric, base + 1000.0 * np.array(numeric))  # prunes little
    return np.concatenate([queries, far]), reference


TABLES = {
    "mixed": [True, False, True, False, False, True, False],
    "all-numeric": [True, True, True],
    "all-categorical": [False, False, False, False],
    "one-numeric": [True],
}


@pytest.mark.parametrize("numeric", TABLES.values(), ids=TABLES.keys())
@pytest.mark.parametrize("seed", [0, 1])
def test_dcr_with_blocks_equals_brute_force_bit_for_bit(numeric: list[bool], seed: int) -> None:
    # above blocks.MIN_ROWS, so `dcr` takes the pruned search over several groups of blocks
    queries, reference = _dcr_case(numeric, seed, blocks.MIN_ROWS + 777)
    mask = np.array(numeric)
    found = distance.dcr(queries, reference, mask)
    np.testing.assert_array_equal(found, _brute_force_dcr(queries, reference, mask))
    assert (found == 0).any()  # the copied rows stop at an exact copy


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.booleans(), min_size=1, max_size=6),
    st.integers(1, 3_000),
    st.integers(0, 2**32 - 1),
)
def test_block_search_equals_the_plain_scan_on_random_tables(
    numeric: list[bool], rows: int, seed: int
) -> None:
    queries, reference = _dcr_case(numeric, seed, rows)
    mask = np.array(numeric)
    scale = distance.ranges(reference, mask)
    kinds = np.where(mask, np.where(scale > 0, 1, 2), 0).astype(np.int64)
    columns = np.ascontiguousarray(reference.T)
    plain, pruned = np.full(len(queries), np.inf), np.full(len(queries), np.inf)
    distance._nearest(queries, columns, kinds, scale, plain)
    scanned = distance.search(queries, columns, kinds, scale, pruned)
    np.testing.assert_array_equal(pruned, plain)
    assert 0 < scanned <= len(queries) * rows


def test_block_search_lowers_best_in_place_as_a_min_reduce_over_parts() -> None:
    # the reference searched in two parts, `best` carried over, equals one search of all
    queries, reference = _dcr_case(TABLES["mixed"], 3, 3_000)
    mask = np.array(TABLES["mixed"])
    scale = distance.ranges(reference, mask)
    kinds = np.where(mask, np.where(scale > 0, 1, 2), 0).astype(np.int64)
    whole, parts = np.full(len(queries), np.inf), np.full(len(queries), np.inf)
    distance.search(queries, np.ascontiguousarray(reference.T), kinds, scale, whole)
    for part in (reference[:1_234], reference[1_234:]):
        distance.search(queries, np.ascontiguousarray(part.T), kinds, scale, parts)
    np.testing.assert_array_equal(parts, whole)


def test_block_search_prunes_most_pairs_on_clustered_rows() -> None:
    queries, reference = _dcr_case(TABLES["mixed"], 4, 20_000)
    mask = np.array(TABLES["mixed"])
    scale = distance.ranges(reference, mask)
    kinds = np.where(mask, np.where(scale > 0, 1, 2), 0).astype(np.int64)
    best = np.full(len(queries), np.inf)
    scanned = distance.search(queries, np.ascontiguousarray(reference.T), kinds, scale, best)
    assert scanned < 0.5 * len(queries) * len(reference)


def _gower_case(
    numbers: int, codes: int, rows: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic rows (numbers × rows, codes × rows) and targets, as `gower.nearest` builds
    them: numbers on few levels (ties), NaN in about a tenth, codes with -1 (missing)."""
    rng = np.random.default_rng(seed)
    candidates = rng.integers(0, 5, (numbers, rows)) * 0.25
    candidates[rng.random(candidates.shape) < 0.1] = np.nan
    labels = rng.integers(-1, 3, (codes, rows)).astype(np.int32)
    picked = rng.integers(0, rows, 30)
    queries = (
        np.ascontiguousarray(candidates[:, picked].T) + rng.integers(0, 2, (30, numbers)) * 0.25
    )
    asked = np.ascontiguousarray(labels[:, picked].T)
    queries[rng.random(queries.shape) < 0.1] = np.nan
    return candidates, labels, queries, asked


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(1, 2_500), st.integers(0, 2**32 - 1))
def test_gower_block_search_picks_the_peers_neighbour(
    numbers: int, codes: int, rows: int, seed: int
) -> None:
    if numbers + codes == 0:
        numbers = 1
    candidates, labels, queries, asked = _gower_case(numbers, codes, rows, seed)
    index, found = gower._nearest(candidates, labels, queries, asked, rows)
    pruned_index, pruned = gower.search(candidates, labels, queries, asked)
    np.testing.assert_array_equal(pruned_index, index)  # ties settled by the peer's sort
    np.testing.assert_array_equal(pruned, found)


def test_gower_block_search_distances_equal_brute_force_with_ties_and_nan() -> None:
    candidates, labels, queries, asked = _gower_case(3, 2, 5_000, 7)
    # a missing value against a missing one costs 1; added in the kernel's column order
    every = np.zeros((len(queries), candidates.shape[1]))
    for c in range(candidates.shape[0]):
        a, b = queries[:, c][:, None], candidates[c][None, :]
        with np.errstate(invalid="ignore"):
            every = every + np.where(np.isnan(a) & np.isnan(b), 1.0, np.abs(a - b))
    for c in range(labels.shape[0]):
        every = every + (asked[:, c][:, None] != labels[c][None, :])
    index, distances = gower.search(candidates, labels, queries, asked)
    least = np.nanmin(np.where(np.isnan(every), np.inf, every), axis=1)
    np.testing.assert_array_equal(distances, least)
    np.testing.assert_array_equal(every[np.arange(len(queries)), index], least)
    assert (np.sum(every == least[:, None], axis=1) > 1).any()  # ties were exercised


def _ks_every_point(r: np.ndarray, s: np.ndarray) -> float:
    """`fidelity.ks_sorted` with the gap taken at every distinct value of both sides."""
    gaps = []
    for own, other in ((r, s), (s, r)):
        last = np.append(own[1:] != own[:-1], True)
        gaps.append(
            (np.flatnonzero(last) + 1) / own.size
            - np.searchsorted(other, own[last], side="right") / other.size
        )
    return 1.0 - max(float(np.abs(gap).max()) for gap in gaps)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3_000), st.integers(1, 60), st.integers(1, 400), st.integers(0, 2**32 - 1))
def test_ks_on_run_ends_equals_ks_on_every_point(
    big: int, small: int, levels: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    r = np.sort(rng.integers(0, levels, big) * 0.1)
    s = np.sort(rng.integers(0, levels, small) * 0.1 + rng.choice([0.0, 0.05], small))
    assert fidelity.ks_sorted(r, s) == _ks_every_point(r, s)
    assert fidelity.ks_sorted(s, r) == _ks_every_point(s, r)


@pytest.mark.parametrize("far", [True, False], ids=["shapeless", "clustered"])
def test_the_probe_hands_hopeless_searches_to_the_plain_scan_with_the_same_bits(
    far: bool,
) -> None:
    # 600 queries: a probe of every second one (256 of them, spread), then the rest
    rng = np.random.default_rng(5)
    if far:  # 12 labels of 50 uniform levels: rows share a few labels, so bounds stay low
        numeric = [False] * 12
        reference = rng.integers(0, 50, (3_000, 12)).astype(np.float64)
        queries = rng.integers(0, 50, (600, 12)).astype(np.float64)
    else:
        numeric = TABLES["mixed"]
        base = _prototypes(rng, numeric)
        reference = _clustered(rng, 3_000, numeric, base)
        queries = _clustered(rng, 600, numeric, base)
    mask = np.array(numeric)
    scale = distance.ranges(reference, mask)
    kinds = np.where(mask, np.where(scale > 0, 1, 2), 0).astype(np.int64)
    columns = np.ascontiguousarray(reference.T)
    plain, pruned = np.full(len(queries), np.inf), np.full(len(queries), np.inf)
    distance._nearest(queries, columns, kinds, scale, plain)
    scanned = distance.search(queries, columns, kinds, scale, pruned)
    np.testing.assert_array_equal(pruned, plain)
    assert (scanned > distance.PLAIN_SHARE * len(queries) * len(reference)) == far


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3_000), st.integers(1, 60), st.integers(1, 400), st.integers(0, 2**32 - 1))
def test_ks_with_the_runs_found_once_equals_ks_finding_them_each_time(
    big: int, small: int, levels: int, seed: int
) -> None:
    """A subgroup's real side is compared with 82 others; its runs of ties found once
    must give the very bits of finding them in every comparison."""
    rng = np.random.default_rng(seed)
    r = np.sort(rng.integers(0, levels, big) * 0.1)
    s = np.sort(rng.integers(0, levels, small) * 0.1 + rng.choice([0.0, 0.05], small))
    assert fidelity.ks_sorted(r, s, fidelity.ks_runs(r)) == fidelity.ks_sorted(r, s)
    assert fidelity.ks_sorted(s, r, fidelity.ks_runs(s)) == fidelity.ks_sorted(s, r)
