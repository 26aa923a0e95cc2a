"""The Dask engine's counts come from its workers and equal the whole tables' counts: the
report test cannot see this, since the families would count the tables themselves if the
engine gave no counts (`Loaded.totals`, `Loaded.satisfied`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthgov.metrics import constraints, tallies
from synthgov.metrics.encoding import ROLES
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


def test_the_dask_engine_adds_up_its_workers_counts_to_the_whole_tables_counts(
    tmp_path: Path,
) -> None:
    locations = {
        role: str(_dataset(tmp_path / role, seed, 200 + 50 * seed, 3))
        for seed, role in enumerate(ROLES)
    }
    engine = Dask("local:1")
    try:
        loaded = engine.load(CARD, locations)
    finally:
        engine.close()
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
