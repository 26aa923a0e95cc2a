"""Table content: row hashes, fingerprints, sketches, the canonical order and the derived seed."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from synthgov.content import SKETCH_SIZE, derive_seed, shared_rows
from synthgov.metrics import rows
from tests.helpers.collisions import colliding_rows
from tests.helpers.tables import Spec, make_tables

ROWS: dict[str, Spec] = {
    "age": ("integer", [30, 41, None, 52], [30], [41, 52, 30, None]),
    "plan": (
        "categorical",
        ["gold", "silver", "gold", None],
        ["gold"],
        ["silver", None, "gold", "gold"],
    ),
    "amount": ("number", [1.5, -0.0, 2.25, 3.0], [1.5], [-0.0, 3.0, 1.5, 2.25]),
}


def _print(spec: Mapping[str, Spec], role: str) -> str:
    tables = make_tables(spec)
    return rows.fingerprint(tables, rows.row_hashes(tables, role))


def test_the_same_rows_in_another_order_have_the_same_fingerprint() -> None:
    # the synthetic rows are the real rows shuffled (and -0.0 is 0.0)
    assert _print(ROWS, "real") == _print(ROWS, "synthetic")


def test_column_order_does_not_matter_but_every_cell_does() -> None:
    reordered = {name: ROWS[name] for name in ("amount", "plan", "age")}
    assert _print(reordered, "real") == _print(ROWS, "real")
    changed = {**ROWS, "amount": ("number", [1.5, 0.0, 2.25, 3.0000001], [1.5], [0.0])}
    assert _print(changed, "real") != _print(ROWS, "real")


def test_a_duplicate_row_changes_the_fingerprint() -> None:
    twice = {name: (kind, values + values[:1], h, s) for name, (kind, values, h, s) in ROWS.items()}
    assert _print(twice, "real") != _print(ROWS, "real")


def test_a_label_is_hashed_as_the_encoding_writes_it() -> None:
    # a number read as a label loses its ".0" (as in every format); "01" stays "01"
    whole = {"x": ("categorical", [1.0, 2], [1], [1])}
    text = {"x": ("categorical", ["1", "2"], ["1"], ["1"])}
    padded = {"x": ("categorical", ["01", "2"], ["1"], ["1"])}
    assert _print(whole, "real") == _print(text, "real") != _print(padded, "real")


def test_canonical_order_sorts_every_table_by_row_hash() -> None:
    tables, hashes = rows.canonical(make_tables(ROWS))
    for role, found in hashes.items():
        assert np.all(found[:-1] <= found[1:])
        assert np.array_equal(found, rows.row_hashes(tables, role))
    # the real and synthetic tables hold the same rows, so canonically they are the same table
    for column in tables:
        assert np.array_equal(column.real, column.synthetic, equal_nan=column.is_numeric)


def test_shared_rows_are_exact_for_small_tables_and_close_for_large_ones() -> None:
    rng = np.random.default_rng(0)
    universe = rng.integers(0, 2**63, size=30_000, dtype=np.int64).astype(np.uint64)
    a, b = universe[:20_000], universe[10_000:]  # 10,000 rows in common
    estimate = shared_rows(rows.sketch(a), len(a), rows.sketch(b), len(b))
    assert 8_500 < estimate < 11_500
    small_a, small_b = universe[:60], universe[30:100]  # 30 in common, both under the sketch size
    assert len(rows.sketch(small_a)) == 60 < SKETCH_SIZE
    assert shared_rows(rows.sketch(small_a), 60, rows.sketch(small_b), 70) == 30
    assert shared_rows(rows.sketch(a), len(a), [], 0) == 0.0


def test_the_seed_follows_from_the_three_fingerprints() -> None:
    seed = derive_seed("1" * 64, "2" * 64, "3" * 64)
    assert seed == derive_seed("1" * 64, "2" * 64, "3" * 64)
    assert 0 <= seed < 2**32
    assert seed != derive_seed("1" * 64, "3" * 64, "2" * 64)  # the roles matter


@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.integers(1, 40))
def test_distinct_hashes_and_the_sketch_of_sorted_hashes_are_numpys_unique(
    values: list[int], repeat: int
) -> None:
    """The report's `distinct_rows` and sketch take linear passes over the canonical
    (sorted) hashes instead of `np.unique`: the same values, duplicates and the empty
    table included."""
    hashes = np.repeat(np.array(values, dtype=np.uint64), repeat % 3 + 1)
    assert np.array_equal(rows.distinct(hashes), np.unique(hashes))  # in any order
    hashes = np.sort(hashes)  # as `canonical` gives them
    assert np.array_equal(rows.distinct(hashes), np.unique(hashes))
    size = repeat
    expected = [f"{int(h):016x}" for h in np.unique(hashes)[:size]]
    assert rows.sketch(hashes, size) == expected


def test_rows_crafted_to_share_a_hash_take_one_canonical_order_whatever_the_files_order() -> None:
    """Different rows of one hash (crafted: the hash is invertible) are ordered by their
    cells, so shuffling them cannot re-roll a seeded sample (BRIEF §11.2)."""
    crafted = colliding_rows(1.0, 2.0, 6)
    synthetic = [(1.0, 2.0), *crafted, (1.0, 2.0), (3.0, 4.0)]

    def canonical(order: list[int]) -> tuple[list[float], list[float], np.ndarray]:
        picked = [synthetic[i] for i in order]
        tables = make_tables(
            {
                "x": ("number", [1.0], [1.0], [x for x, _ in picked]),
                "y": ("number", [2.0], [2.0], [y for _, y in picked]),
            }
        )
        ordered, hashes = rows.canonical(tables)
        return ordered["x"].synthetic.tolist(), ordered["y"].synthetic.tolist(), hashes["synthetic"]

    forward = canonical(list(range(len(synthetic))))
    assert len(set(forward[2].tolist())) == 2  # the crafted rows do share (1, 2)'s hash
    for seed in range(5):
        shuffled = np.random.default_rng(seed).permutation(len(synthetic)).tolist()
        again = canonical(shuffled)
        assert again[0] == forward[0] and again[1] == forward[1]
        assert np.array_equal(again[2], forward[2])


def test_labels_of_colliding_rows_are_ordered_by_their_text_and_missing_apart() -> None:
    hashes = np.zeros(4, dtype=np.uint64)  # every row one hash, as if crafted
    codes = np.array([1, -1, 0, 1], dtype=np.int32)  # b, missing, a, b
    order = rows.settle_collisions(np.arange(4), hashes, [(codes, ("a", "b"))])
    assert codes[order].tolist() == [0, 1, 1, -1]  # a, b, b, then missing


def test_equal_rows_keep_the_stable_order_they_had() -> None:
    hashes = np.array([5, 5, 7], dtype=np.uint64)
    values = np.array([2.0, 2.0, 9.0])
    order = np.array([1, 0, 2])
    assert rows.settle_collisions(order, hashes, [(values, None)]) is order
