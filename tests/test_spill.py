"""The Dask client's tables out of core (`engines.spill`): partitions appended to files as
they arrive, each sorted by its row hashes (`partitions.ordered`, as a worker sends it),
recoded, merged and reordered a slice at a time, give the arrays, categories and row
hashes of `partitions.combine` followed by `rows.canonical`, bit for bit, as memory maps
of unlinked files that leave nothing on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthgov.errors import InputError
from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv
from synthgov.files.governance import load_bytes
from synthgov.metrics import attacks, blocks, rows, subgroup
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.spill import Spill, check_folder
from synthgov.metrics.measurement import Context
from synthgov.metrics.partitions import Part, combine, encode_part, ordered
from synthgov.models import Card
from synthgov.models.policy import SubgroupPolicy
from tests.helpers.tables import card_for

ROOT = Path(__file__).resolve().parent.parent

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
            spill.keep(role, *ordered(CARD, part))
    # an OOM kill now would leave no table's values behind: each file was unlinked as made
    assert list(spill.folder.iterdir()) == []
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
            spill.keep(role, *ordered(CARD, part))
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


def test_a_spill_folder_that_cannot_be_made_is_one_line_naming_where(tmp_path: Path) -> None:
    """`mkdtemp` failing (no such parent, no permission, a full disk) was an internal
    error with exit 1; it is bad input naming the parent."""
    with pytest.raises(InputError) as raised:
        Spill(tmp_path / "absent")
    assert str(raised.value) == (
        f"{tmp_path / 'absent'}: cannot make the spill directory: No such file or directory "
        "(see --spill-dir)"
    )


def test_a_spill_dir_that_is_no_writable_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for given in (tmp_path / "file", tmp_path / "absent"):
        with pytest.raises(InputError) as raised:
            check_folder(given)
        assert str(raised.value) == f"--spill-dir: expected a writable directory, not '{given}'"
    check_folder(tmp_path)


def test_a_spill_allocates_unlinked_memory_maps_in_its_folder(tmp_path: Path) -> None:
    """`Spill.allocate`, the Dask client's `Context.allocate`: each array a map of a new
    file of the spill folder, unlinked at once, so nothing is left on disk however the
    process ends; an empty or small one (under 1 MiB) needs no file."""
    spill = Spill(tmp_path)
    first = spill.allocate((4, 100_000), np.int32)
    second = spill.allocate((200_000,), np.float64)
    for array in (first, second):
        assert isinstance(array, np.memmap)
        assert array.filename is not None
        assert Path(array.filename).parent == spill.folder
        assert not Path(array.filename).exists()
    assert first.filename != second.filename
    assert (first.shape, first.dtype, second.shape, second.dtype) == (
        (4, 100_000),
        np.int32,
        (200_000,),
        np.float64,
    )
    first[:] = 3
    assert int(first.sum()) == 1_200_000
    empty, small = spill.allocate((0, 5), np.int64), spill.allocate((1000,), np.bool_)
    assert empty.shape == (0, 5) and type(empty) is np.ndarray
    assert small.shape == (1000,) and type(small) is np.ndarray
    assert list(spill.folder.iterdir()) == []
    spill.remove()


def test_thousands_of_small_arrays_hold_no_file_descriptor(tmp_path: Path) -> None:
    """A subgroup column of thousands of categories asks for three masks each: as maps,
    each held a descriptor (Python's mmap keeps one) and the run died at the process's
    limit of open files, an internal error, where in process it ran."""
    spill = Spill(tmp_path)
    descriptors = len(list(Path("/proc/self/fd").iterdir()))
    masks = [spill.allocate((10_000,), np.bool_) for _ in range(30_000)]
    assert len(list(Path("/proc/self/fd").iterdir())) <= descriptors + 2
    assert all(type(mask) is np.ndarray for mask in masks[:10])
    spill.remove()


def test_thousands_of_small_runs_in_an_arena_are_on_the_spill_disk_in_one_map(
    tmp_path: Path,
) -> None:
    """A subgroup's sorted runs arrive as an array per partition, group and column, each
    under `allocate`'s 1 MiB: kept by `allocate` they all stayed in the client's anonymous
    memory (211 MiB at 2M rows per table, about 1 GiB at 10M, until the subgroup family
    at the end of the run). An arena keeps them in one map of the spill folder, aligned,
    and refuses an array past its size."""

    def maps() -> int:
        return Path("/proc/self/maps").read_text().count(str(spill.folder))

    spill = Spill(tmp_path)
    before = maps()
    arena = spill.arena(3000 * 8 * 100 + 8)
    first = arena.allocate((1,), np.int8)
    runs = [arena.allocate((100,), np.float64) for _ in range(3000)]
    assert maps() == before + 1
    for i, run in enumerate(runs):
        run[...] = i
        assert run.ctypes.data % 8 == 0  # aligned after the int8
        assert isinstance(run.base, np.memmap) or isinstance(run, np.memmap)
    first[...] = 7
    assert [float(runs[i][-1]) for i in (0, 1, 2999)] == [0.0, 1.0, 2999.0]
    assert int(first[0]) == 7
    with pytest.raises(ValueError, match="no room"):
        arena.allocate((1,), np.float64)
    assert spill.arena(0).allocate((0,), np.float64).shape == (0,)
    spill.remove()


def test_the_in_process_context_allocates_plain_arrays() -> None:
    """In process the families' arrays stay `np.empty`'s: no file, no slower path."""
    array = Context().allocate((3, 7), np.int32)
    assert type(array) is np.ndarray
    assert (array.shape, array.dtype) == ((3, 7), np.int32)


def test_the_attacks_and_subgroups_give_the_same_bits_on_arrays_from_a_spill(
    tmp_path: Path,
) -> None:
    """The singling-out tables, the Gower layouts (from `blocks.MIN_ROWS` synthetic rows,
    the block search) and the subgroups' masks and rows, made in a spill's files, give
    the in-process measurements bit for bit, under both subgroup metrics."""
    size = blocks.MIN_ROWS + 400
    real = claims_rows(seed=0, rows=2 * size)
    synthetic = [row[2:] for row in claims_rows(seed=7, rows=size)]
    tables = {"real": real[:size], "holdout": real[size + 300 :], "synthetic": synthetic}
    locations = {
        role: write_csv(
            tmp_path / f"{role}.csv",
            table,
            CLAIMS_COLUMNS if role != "synthetic" else CLAIMS_COLUMNS[2:],
        )
        for role, table in tables.items()
    }
    card_file = ROOT / "datasets/claims/card.yaml"
    card = load_bytes(card_file.read_bytes(), str(card_file), Card).model
    assert card.subgroup_columns and card.target  # the target is the inference secret
    loaded = InProcess().load(card, locations)
    spill = Spill(tmp_path, small_bytes=1)  # every array a file, however small
    made: list[tuple[int, ...]] = []

    def spilled(shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> np.ndarray:
        made.append(shape)
        return spill.allocate(shape, dtype)

    reports = []
    for allocate in (None, spilled):
        context = Context(seed=5, n_attacks=300)
        if allocate is not None:
            context.allocate = allocate
        found = attacks.measure(loaded.tables, context, card)
        for metric in ("utility.tstr", "fidelity.column_shapes"):
            policy = SubgroupPolicy(metric=metric)
            found += subgroup.measure(loaded.tables, context, card, policy)
        reports.append(json.dumps([m.as_json() for m in found], sort_keys=True))
    assert {"privacy.singling_out_risk", "privacy.inference_risk", "subgroup.shortfall"} <= {
        entry["id"] for entry in json.loads(reports[0])
    }
    assert reports[0] == reports[1]
    columns = len(loaded.tables.columns)
    assert (columns, size) in made  # the coded real table (and the synthetic one's orders)
    assert any(len(shape) == 3 for shape in made)  # a Gower layout in blocks
    assert (size,) in made  # a subgroup's mask over the real table
    assert list(spill.folder.iterdir()) == []
    spill.remove()
