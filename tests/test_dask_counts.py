"""The Dask engine's counts come from its workers and equal the whole tables' counts: the
report test cannot see this, since the families would count the tables themselves if the
engine gave no counts (`Loaded.totals`, `Loaded.satisfied`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgov.metrics import constraints, tallies
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.engine import Loaded
from synthgov.metrics.engines.dask import Dask
from tests.helpers.tables import card_for

CARD = card_for(
    {"age": "integer", "kind": "categorical", "flag": "boolean", "x": "number"},
    constraints=[
        {"name": "adult", "rule": "age >= 18"},
        {"name": "kinds", "rule": "kind != 'c' or flag"},
    ],
)


def _dataset(folder: Path, seed: int, rows: int, parts: int) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(10, 90, rows), dtype="Int64"),
            "kind": pd.Series(rng.choice(["a", "b", "c", "d"], rows), dtype=object),
            "flag": pd.Series(rng.choice(["true", "false"], rows), dtype=object),
            "x": rng.normal(size=rows),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "age"] = pd.NA
    frame.loc[rng.random(rows) < 0.1, "kind"] = None
    folder.mkdir()
    for i, piece in enumerate(np.array_split(np.arange(rows), parts)):
        frame.iloc[piece].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@dataclass(frozen=True)
class Run:
    """One load on the shared two-worker LocalCluster, with what its spill directory held."""

    loaded: Loaded
    spill_dir: Path
    #: the engine's spill directory, and what was in `spill_dir` while the engine was open
    folder: Path
    while_open: list[Path]
    #: an array from `loaded.allocate` while the engine was open, and what the engine's
    #: folder held then (its files are unlinked once mapped)
    allocated: np.ndarray
    in_folder: list[Path]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> Run:
    """One load for the tests of this module: the counts and the spill."""
    tmp_path = tmp_path_factory.mktemp("counts")
    locations = {
        role: str(_dataset(tmp_path / role, seed, 200 + 50 * seed, 3))
        for seed, role in enumerate(ROLES)
    }
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    engine = Dask(dask_address, spill_dir)
    try:
        loaded = engine.load(CARD, locations)
        assert engine.spill is not None
        folder, while_open = engine.spill.folder, sorted(spill_dir.iterdir())
        assert loaded.allocate is not None
        allocated = loaded.allocate((3, 100_000), np.int32)  # 1.2 MB: over Spill.small_bytes
        allocated[:] = 7  # writable
        in_folder = sorted(folder.iterdir())
    finally:
        engine.close()
    return Run(loaded, spill_dir, folder, while_open, allocated, in_folder)


def test_the_dask_engine_adds_up_its_workers_counts_to_the_whole_tables_counts(run: Run) -> None:
    loaded = run.loaded
    assert loaded.totals is not None and loaded.satisfied is not None
    whole = tallies.of_tables(loaded.tables)
    for role in ROLES:
        found, expected = loaded.totals[role], whole[role]
        assert (found.rows, found.missing) == (expected.rows, expected.missing)
        for name in expected.labels:
            np.testing.assert_array_equal(found.labels[name], expected.labels[name])
        for pair in expected.pairs:
            for a, b in zip(found.pairs[pair], expected.pairs[pair], strict=True):
                np.testing.assert_array_equal(a, b)
    assert loaded.totals["holdout"].rows == 250
    assert loaded.satisfied == constraints.satisfied(loaded.tables, CARD)
    assert 0 < loaded.satisfied.every < loaded.tables.rows["synthetic"]


def test_the_dask_clients_tables_are_memory_maps_in_its_spill_dir_removed_at_close(
    run: Run,
) -> None:
    """The client holds the encoded columns as maps of files in a fresh folder of
    `--spill-dir` (unlinked once mapped), not as arrays in its memory; `close` removes it."""
    assert run.while_open == [run.folder]  # a fresh folder, in the directory given
    assert run.folder.name.startswith("synthgov-spill-")
    for column in run.loaded.tables:
        for role in ROLES:
            values = column.table(role)
            assert isinstance(values, np.memmap), (column.name, role)
            assert values.filename is not None
            assert Path(values.filename).parent == run.folder
    assert sorted(run.loaded.tables.names) == sorted(c.name for c in CARD.columns)
    assert list(run.spill_dir.iterdir()) == []  # closed: nothing left


def test_the_dask_engine_gives_the_families_arrays_mapped_from_its_spill_dir(run: Run) -> None:
    """`Loaded.allocate`, where the families make their table-sized arrays (the attacks'
    coded tables, the Gower layouts, the subgroups' rows), hands out maps of unlinked
    files of the spill folder, so they stay out of the client's anonymous memory."""
    allocated = run.allocated
    assert isinstance(allocated, np.memmap)
    assert allocated.filename is not None
    assert Path(allocated.filename).parent == run.folder
    assert run.in_folder == []  # unlinked once mapped, as the tables' files
    assert allocated.shape == (3, 100_000) and allocated.dtype == np.int32
    assert int(allocated.sum()) == 7 * 300_000  # still readable after close: the map holds it
