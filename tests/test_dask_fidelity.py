"""Fidelity's numeric x categorical pairs, binned and counted on the Dask workers, give
the in-process measurements bit for bit: the client fixes each table's bin edges from its
whole columns (`fidelity.pair_edges`), each worker bins and counts its partitions by them
(`binning.count`, `Dask.bin_counts`), and the client adds the integer counts up.

The tables are partitioned so that the counts have something to get wrong: missing values
in every column (a missing number shares the top bin), a constant number and a constant
date (edges widened by 0.5), dates binned in nanoseconds, many ties, rows repeated within
and across partitions, and labels only one partition holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthgov.metrics import fidelity
from synthgov.metrics.binning import Binning
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.measurement import Context
from synthgov.metrics.tallies import Totals
from tests.helpers.tables import card_for

CARD = card_for(
    {
        "age": "integer",
        "kind": "categorical",
        "x": "number",
        "opened": "date",
        "constant": "number",
        "day": "date",
        "flag": "boolean",
    }
)
PARTS = 3


def _frame(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(18, 90, rows), dtype="Int64"),
            "kind": pd.Series(rng.choice(["a", "b", "c"], rows), dtype=object),
            "x": np.round(rng.normal(size=rows), 1) * 1e-3,  # ties, and values to round
            "opened": pd.Series(
                pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), "D")
            ).dt.strftime("%Y-%m-%d"),
            "constant": np.full(rows, 2.5),
            "day": pd.Series(["2021-05-05"] * rows, dtype=object),
            "flag": pd.Series(rng.choice(["true", "false"], rows), dtype=object),
        }
    )
    for column in frame.columns:
        frame.loc[rng.random(rows) < 0.05, column] = None
    return frame


@dataclass(frozen=True)
class Run:
    #: the fidelity measurements (JSON) on the cluster and in this process
    spread: list[dict[str, Any]]
    alone: list[dict[str, Any]]
    #: the binnings `Context.bin_counts` was asked for on the cluster
    binnings: list[Binning]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> Run:
    """One load on a real two-worker LocalCluster and one in this process, of the same rows."""
    folder = tmp_path_factory.mktemp("fidelity")
    frames = {role: _frame(seed, 700 + 150 * seed) for seed, role in enumerate(ROLES)}
    frames["synthetic"].loc[len(frames["synthetic"]) - 3 :, "kind"] = "only-synthetic"
    frames["real"].loc[10:12, "kind"] = "only-real"  # the first real partition alone
    frames["synthetic"] = pd.concat([frames["synthetic"], frames["synthetic"].iloc[:50]])
    frames["real"] = pd.concat([frames["real"].iloc[:30], frames["real"]])
    locations, files = {}, {}
    for role, frame in frames.items():
        frame = frame.reset_index(drop=True)
        files[role] = folder / f"{role}.parquet"
        frame.to_parquet(files[role], index=False)
        locations[role] = folder / role
        locations[role].mkdir()
        for i, piece in enumerate(np.array_split(np.arange(len(frame)), PARTS)):
            frame.iloc[piece].to_parquet(locations[role] / f"part-{i}.parquet", index=False)
    alone = InProcess().load(CARD, files)
    expected = fidelity.measure(alone.tables, Context(seed=3), alone.totals)
    binnings: list[Binning] = []
    engine = Dask(dask_address)
    try:
        loaded = engine.load(CARD, {role: str(path) for role, path in locations.items()})
        assert loaded.bin_counts is not None
        bin_counts = loaded.bin_counts

        def counted(found: Binning) -> dict[str, Totals]:
            binnings.append(found)
            return bin_counts(found)

        assert loaded.allocate is not None
        context = Context(seed=3, allocate=loaded.allocate, bin_counts=counted)
        spread = fidelity.measure(loaded.tables, context, loaded.totals)
    finally:
        engine.close()
    return Run([m.as_json() for m in spread], [m.as_json() for m in expected], binnings)


def test_mixed_pairs_counted_on_the_workers_give_the_in_process_pair_trends(run: Run) -> None:
    assert len(run.binnings) == 1  # one pass over the partitions
    numbers = {"age", "x", "opened", "constant", "day"}
    assert {number for number, _ in run.binnings[0].pairs} == numbers
    assert {category for _, category in run.binnings[0].pairs} == {"kind", "flag"}
    trends = [m for m in run.spread if m["id"] == "fidelity.column_pair_trends"]
    expected = [m for m in run.alone if m["id"] == "fidelity.column_pair_trends"]
    assert trends == expected
    # of 21 pairs, the 7 correlations with a constant column are skipped, not the binned ones
    assert trends[0]["pairs"] == 14 and len(trends[0]["skipped"]) == 7
    assert not any({"kind", "flag"} & set(pair) for pair in trends[0]["skipped"])
    assert 0.0 < trends[0]["value"] < 1.0
    # and so is everything else fidelity measures there
    assert json.dumps(run.spread) == json.dumps(run.alone)
    binned = [m for m in run.alone if m["id"] == "fidelity.ks_complement"]
    assert {m["column"] for m in binned} == numbers
