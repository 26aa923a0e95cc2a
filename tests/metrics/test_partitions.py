"""A table encoded partition by partition (`partitions`) equals the table encoded whole
(`encoding.encode`): the map and reduce a distributed engine runs give the same numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from synthgov.errors import InputError
from synthgov.metrics import distance, rows
from synthgov.metrics.encoding import ROLES, encode
from synthgov.metrics.partitions import combine, encode_part, layout, matrix, ordered, tables_of
from tests.helpers.tables import card_for

CARD = card_for(
    {"age": "integer", "when": "date", "kind": "categorical", "flag": "boolean", "x": "number"}
)
FRAMES = {
    "real": pd.DataFrame(
        {
            "age": [30, None, 41, 52, 30, 18],
            "when": ["2024-01-01", "2024-02-03", None, "2023-12-31", "2024-01-01", "2024-05-05"],
            "kind": ["a", "b", "a", None, "c", "a"],
            "flag": ["true", "no", "1", "false", None, "yes"],
            "x": [0.5, -0.0, 2.25, None, 1e9, 3.0],
        }
    ),
    "holdout": pd.DataFrame(
        {
            "age": [22, 33, 44],
            "when": ["2024-03-03", "2024-03-04", "2024-03-05"],
            "kind": ["d", "a", "b"],
            "flag": ["t", "f", "t"],
            "x": [1.0, 2.0, None],
        }
    ),
    "synthetic": pd.DataFrame(
        {
            "age": [30, 41, 99, None],
            "when": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "kind": ["e", "a", "a", "b"],
            "flag": ["true", "false", "true", "true"],
            "x": [0.5, 7.0, 8.0, 9.0],
            "extra": [1, 2, 3, 4],
        }
    ),
}


def _split(frame: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    edges = [0, *cuts, len(frame)]
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(edges)]


def _parts(cuts: dict[str, list[int]]) -> dict[str, list]:  # type: ignore[type-arg]
    return {
        role: [
            encode_part(CARD, piece, f"{role}/{i}")
            for i, piece in enumerate(_split(FRAMES[role], cuts[role]))
        ]
        for role in ROLES
    }


def test_partitions_encode_to_the_whole_tables_values_hashes_and_fingerprints() -> None:
    whole, whole_defects = encode(CARD, FRAMES, {r: r for r in ROLES})
    # uneven partitions, one of them empty, labels that only some partitions hold
    split, defects = combine(
        CARD, _parts({"real": [2, 2, 5], "holdout": [1], "synthetic": [3]}), {r: r for r in ROLES}
    )
    assert defects == whole_defects
    assert split.rows == whole.rows
    for a, b in zip(whole, split, strict=True):
        assert (a.name, a.type, a.categories) == (b.name, b.type, b.categories)
        for role in ROLES:
            np.testing.assert_array_equal(a.table(role), b.table(role))
            assert a.table(role).dtype == b.table(role).dtype
    for role in ROLES:
        assert rows.fingerprint(whole, rows.row_hashes(whole, role)) == rows.fingerprint(
            split, rows.row_hashes(split, role)
        )


@pytest.mark.parametrize("lacking", [None, "kind", "x"])
def test_a_partition_hashes_its_rows_by_its_own_labels_as_the_whole_tables_do(
    lacking: str | None,
) -> None:
    # a synthetic table may lack a card column: every table is then hashed without it
    frames = {**FRAMES, "synthetic": FRAMES["synthetic"].drop(columns=lacking or [])}
    parts = {
        role: [
            encode_part(CARD, piece, f"{role}/{i}")
            for i, piece in enumerate(_split(frames[role], cuts))
        ]
        for role, cuts in (("real", [2, 2, 5]), ("holdout", [1]), ("synthetic", [3]))
    }
    whole, _ = combine(CARD, parts, {r: r for r in ROLES})
    assert len(whole.names) == len(CARD.columns) - (lacking is not None)
    hashed = tuple(whole.names)
    for role in ROLES:
        expected = rows.row_hashes(whole, role)  # the union's codes
        start = 0
        for part in parts[role]:
            moved, hashes = ordered(CARD, part, None if role == "synthetic" else hashed)
            own = np.sort(expected[start : start + part.rows], kind="stable")
            assert hashes.tobytes() == own.tobytes(), (role, part.name)
            # each row moved with its hash, every column alike
            kept = tables_of(CARD, moved, role)
            kept = type(kept)(tuple(c for c in kept if c.name in hashed), kept.rows)
            assert rows.row_hashes(kept, role).tobytes() == hashes.tobytes()
            assert moved.present == part.present and moved.failures == part.failures
            start += part.rows


def test_a_partition_laid_out_as_a_matrix_equals_those_rows_of_the_whole_matrix() -> None:
    whole, _ = encode(CARD, FRAMES, {r: r for r in ROLES})
    part = encode_part(CARD, FRAMES["real"].iloc[3:], "real/1")
    found = matrix(part, layout(whole))
    np.testing.assert_array_equal(found, distance.matrix(whole, "real")[3:])
    assert found.flags.f_contiguous


def test_a_real_value_the_type_cannot_hold_in_one_partition_is_bad_input() -> None:
    bad = FRAMES["real"].astype({"age": object})
    bad.loc[4, "age"] = "old"
    parts = _parts({"real": [3], "holdout": [], "synthetic": []})
    parts["real"][1] = encode_part(CARD, bad.iloc[3:].reset_index(drop=True), "real/1")
    with pytest.raises(InputError) as raised:
        combine(CARD, parts, {r: f"{r}-dataset" for r in ROLES})
    assert str(raised.value) == (
        "real-dataset: column 'age': 1 distinct value(s) are not whole numbers as the card says: 'old'"
    )
