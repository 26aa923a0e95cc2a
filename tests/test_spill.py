"""The Dask client's tables out of core (`engines.spill`): partitions appended to files as
they arrive, recoded, hashed and reordered a slice at a time, give the arrays, categories
and row hashes of `partitions.combine` followed by `rows.canonical`, bit for bit, as
memory maps of unlinked files that leave nothing on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgov.errors import InputError
from synthgov.metrics import rows
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.engines.spill import Spill, check_folder
from synthgov.metrics.partitions import Part, combine, encode_part
from tests.helpers.tables import card_for

CARD = card_for(
    {"age": "integer", "kind": "categorical", "flag": "boolean", "x": "number", "on": "date"}
)
NAMES = {role: f"{role}/" for role in ROLES}


def _parts(seed: int, rows: int, pieces: int) -> list[Part]:
    """A table of `rows` rows in `pieces` partitions (one empty), each with its own labels."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(10, 90, rows), dtype="Int64"),
            "kind": pd.Series(rng.choice(["a", "b", "c", f"only-{seed}"], rows), dtype=object),
            "flag": pd.Series(rng.choice(["true", "false"], rows), dtype=object),
            "x": rng.normal(size=rows).round(1),  # repeated rows: ties in the hash order
            "on": pd.Series(
                rng.choice(np.array(["2024-01-01", "2025-06-30", None], dtype=object), rows),
                dtype=object,
            ),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "kind"] = None
    frame.loc[rng.random(rows) < 0.1, "age"] = pd.NA
    split = [*np.array_split(np.arange(rows), pieces - 1), np.arange(0)]
    return [encode_part(CARD, frame.iloc[i], f"part-{k}") for k, i in enumerate(split)]


def test_the_spilled_tables_are_the_combined_tables_in_canonical_order_bit_for_bit(
    tmp_path: Path,
) -> None:
    parts = {role: _parts(seed, 300 + 40 * seed, 4) for seed, role in enumerate(ROLES)}
    expected, expected_defects = combine(CARD, parts, NAMES)
    expected, expected_hashes = rows.canonical(expected)
    spill = Spill(tmp_path, slice_rows=37)  # many slices, one partly filled
    for role in ROLES:
        for part in reversed(parts[role]):  # arrival order is not partition order
            spill.keep(role, part)
    tables, defects, hashes = spill.tables(CARD, NAMES)
    assert defects == expected_defects
    assert tables.rows == expected.rows
    for found, column in zip(tables, expected, strict=True):
        assert (found.name, found.categories) == (column.name, column.categories)
        for role in ROLES:
            values = found.table(role)
            assert values.dtype == column.table(role).dtype
            assert values.tobytes() == column.table(role).tobytes(), (column.name, role)
            assert isinstance(values, np.memmap)
            assert values.filename is not None
            assert Path(values.filename).parent == spill.folder
            assert not values.flags.writeable  # a family cannot change the tables
    for role in ROLES:
        assert hashes[role].tobytes() == expected_hashes[role].tobytes()
    assert list(spill.folder.iterdir()) == []  # every file unlinked once mapped
    spill.remove()
    assert list(tmp_path.iterdir()) == []


def test_a_value_the_real_table_cannot_hold_raises_as_combine_does(tmp_path: Path) -> None:
    parts = {role: _parts(seed, 50, 2) for seed, role in enumerate(ROLES)}
    bad = encode_part(CARD, pd.DataFrame({"age": ["x"], "kind": ["a"], "flag": ["true"],
                                          "x": [1.0], "on": ["2024-01-01"]}), "bad")  # fmt: skip
    parts["real"].append(bad)
    with pytest.raises(InputError) as combined:
        combine(CARD, parts, NAMES)
    spill = Spill(tmp_path)
    for role in ROLES:
        for part in parts[role]:
            spill.keep(role, part)
    with pytest.raises(InputError) as spilled:
        spill.tables(CARD, NAMES)
    assert str(spilled.value) == str(combined.value)
    spill.remove()
    assert list(tmp_path.iterdir()) == []


def test_too_little_free_disk_space_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    try:
        with pytest.raises(InputError) as raised:
            spill.require(10**18)
    finally:
        spill.remove()
    line = str(raised.value)
    assert line.startswith(f"{tmp_path}: not enough free disk space to hold the encoded tables")
    assert "1000000000.0 GB needed" in line and "--spill-dir" in line
    assert "\n" not in line


def test_a_spill_dir_that_is_no_writable_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for given in (tmp_path / "file", tmp_path / "absent"):
        with pytest.raises(InputError) as raised:
            check_folder(given)
        assert str(raised.value) == f"--spill-dir: expected a writable directory, not '{given}'"
    check_folder(tmp_path)
