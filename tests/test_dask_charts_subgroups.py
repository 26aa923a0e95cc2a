"""The client's work after privacy, made on the Dask workers, gives the in-process
results: the report's chart counts (`Dask.count`) equal the whole tables' counts and the
`charts` block is the in-process block; the subgroup family's groups and order-free
sides (`Dask.group_sides`) give the in-process subgroup measurements, bit for bit.

The tables are partitioned so that the partitions' own labels differ from the tables'
categories: a rare label only one synthetic partition holds, another only one real
partition holds, a column of more categories than a chart draws (the rest go into
`(other)`), missing values in every column, and rows repeated within and across
partitions. The subgroup columns are grouped by category (the rare labels, missing
values), by value (values the real table lacks: `(other)`) and by quartile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthgov.metrics import aggregates, subgroup
from synthgov.metrics.encoding import ROLES, is_numeric
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.measurement import Context
from synthgov.models.policy import SubgroupPolicy
from tests.helpers.tables import card_for

CARD = card_for(
    {
        "age": "integer",
        "kind": "categorical",
        "city": "categorical",
        "flag": "boolean",
        "x": "number",
        "opened": "date",
        "n": "integer",
    },
    subgroup_columns=["kind", "n", "x"],
)
MINIMUM = 10
PARTS = 3
#: more cities than a chart draws (`aggregates.MAX_CATEGORIES`): the rarest go into (other)
CITIES = [f"city-{i:02d}" for i in range(aggregates.MAX_CATEGORIES + 5)]


def _frame(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = np.linspace(1.0, 0.02, len(CITIES))
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(18, 90, rows), dtype="Int64"),
            "kind": pd.Series(rng.choice(["a", "b", "c", "d"], rows), dtype=object),
            "city": pd.Series(rng.choice(CITIES, rows, p=weights / weights.sum()), dtype=object),
            "flag": pd.Series(rng.choice(["true", "false"], rows), dtype=object),
            "x": np.round(rng.normal(size=rows), 2),  # ties
            "opened": pd.Series(
                pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), "D")
            ).dt.strftime("%Y-%m-%d"),
            "n": pd.array(rng.integers(0, 4 + seed, rows), dtype="Int64"),  # synthetic: 4, 5
        }
    )
    for column in frame.columns:
        frame.loc[rng.random(rows) < 0.05, column] = None
    return frame


def _write(frame: pd.DataFrame, folder: Path, file: Path) -> None:
    """`frame` as one Parquet file and as a dataset of `PARTS` partitions."""
    frame.to_parquet(file, index=False)
    folder.mkdir()
    for i, piece in enumerate(np.array_split(np.arange(len(frame)), PARTS)):
        frame.iloc[piece].to_parquet(folder / f"part-{i}.parquet", index=False)


@dataclass(frozen=True)
class Run:
    counted: dict[tuple[str, ...], np.ndarray]
    whole: dict[tuple[str, ...], np.ndarray]
    spread: dict[str, Any]
    alone: dict[str, Any]
    #: the subgroup measurements (JSON) on the cluster and in this process
    subgroups: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    #: subgroup column -> its groups' labels (`subgroup.groups` of the whole tables)
    labels: dict[str, list[str]]
    #: per `group_sides` answer: whether every numeric side is mapped from the spill's disk
    sides_on_disk: list[bool]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> Run:
    """One load on a real two-worker LocalCluster and one in this process, of the same rows."""
    folder = tmp_path_factory.mktemp("charts")
    frames = {role: _frame(seed, 900 + 100 * seed) for seed, role in enumerate(ROLES)}
    real, synthetic = frames["real"], frames["synthetic"]
    real.loc[100:102, "kind"] = "only-real"  # rare, in the first real partition alone
    synthetic.loc[len(synthetic) - 4 :, "kind"] = "only-synthetic"  # the last partition alone
    # rows repeated within a partition and across partitions
    frames["synthetic"] = pd.concat([synthetic, synthetic.iloc[:40], synthetic.iloc[5:8]])
    frames["real"] = pd.concat([real.iloc[:20], real, real.iloc[:20]])
    locations, files = {}, {}
    for role, frame in frames.items():
        files[role] = folder / f"{role}.parquet"
        locations[role] = folder / role
        _write(frame.reset_index(drop=True), locations[role], files[role])
    alone = InProcess().load(CARD, files)
    engine = Dask(dask_address)
    try:
        loaded = engine.load(CARD, {role: str(path) for role, path in locations.items()})
        assert loaded.count is not None and loaded.group_sides is not None and engine.spill
        # as at scale: each partition's run of a group and column, and each group's merged
        # side, is under what `Spill.allocate` keeps in memory, a table's runs are over it
        engine.spill.small_bytes = 4096
        group_sides, sides_on_disk = loaded.group_sides, []

        def recorded(grouping: Any) -> Any:
            made = group_sides(grouping)
            sides_on_disk.append(all(_mapped(v) for side in made for v in _numeric(side)))
            return made

        plans = aggregates.plan_columns(loaded.tables)
        counted = loaded.count(plans)
        whole = aggregates.count_cells(plans, loaded.tables)
        spread = aggregates.measure(loaded.tables, MINIMUM, None, loaded.count)
        context = Context(seed=3, allocate=loaded.allocate, group_sides=recorded)
        subgroups = _subgroups(loaded.tables, context)
    finally:
        engine.close()
    expected = _subgroups(alone.tables, Context(seed=3))
    labels = {
        name: [g.label for g in subgroup.groups(alone.tables[name])]
        for name in CARD.subgroup_columns
    }
    return Run(
        counted,
        whole,
        spread,
        aggregates.measure(alone.tables, MINIMUM),
        subgroups,
        expected,
        labels,
        sides_on_disk,
    )


def _numeric(side: Any) -> list[np.ndarray]:
    types = {c.name: c.type for c in CARD.columns}
    return [v for (_, name), v in side.sides.items() if is_numeric(types[name])]


def _mapped(values: np.ndarray) -> bool:
    """Whether `values` is (a view of) a memory map: on the spill's disk."""
    while values is not None and not isinstance(values, np.memmap):
        values = values.base  # type: ignore[assignment]
    return values is not None


def _subgroups(tables: Any, context: Context) -> list[dict[str, Any]]:
    found = subgroup.measure(tables, context, CARD, SubgroupPolicy(min_rows=30))
    return [m.as_json() for m in found]


def test_chart_counts_added_up_from_the_workers_equal_the_whole_tables_counts(run: Run) -> None:
    assert run.counted.keys() == run.whole.keys()
    for key, expected in run.whole.items():
        np.testing.assert_array_equal(run.counted[key], expected)
    for side in aggregates.SIDES:  # the last cell of a column is its missing values
        assert all(run.counted["column", name, side][-1] > 0 for name in ("age", "kind", "x"))
    assert not any(key[1:3] == ("age", "x") for key in run.counted)  # moments: client


def test_the_charts_block_from_the_workers_counts_is_the_in_process_block(run: Run) -> None:
    assert json.dumps(run.spread, sort_keys=True) == json.dumps(run.alone, sort_keys=True)
    columns = {c["column"]: c for c in run.alone["columns"]}
    kind = [cell["label"] for cell in columns["kind"]["cells"]]
    assert "(other)" in kind and "only-real" not in kind and "only-synthetic" not in kind
    other = columns["kind"]["cells"][-1]
    assert other["merged"] >= 3  # the two rare labels and (missing): short of (other)'s minimum
    assert any(cell["label"] == "(other)" for cell in columns["city"]["cells"])
    pearson = [p for p in run.alone["associations"]["pairs"] if p["measure"] == "pearson"]
    assert pearson and all(p["real"] is not None for p in pearson)


def test_subgroups_split_on_the_workers_give_the_in_process_measurements(run: Run) -> None:
    assert json.dumps(run.subgroups) == json.dumps(run.expected)
    # the workers' sorted runs, and their merge, stay on the client's disk (`Spill.arena`)
    assert run.sides_on_disk == [True] * len(CARD.subgroup_columns)
    assert {"only-real", "only-synthetic", "(missing)"} <= set(run.labels["kind"])
    assert run.labels["n"][-2:] == ["(other)", "(missing)"]  # synthetic 4 and 5: no real row
    assert len(run.labels["x"]) == 5  # four quartiles and (missing)
    groups = {(m["column"], m["group"]) for m in run.expected if "group" in m}
    assert ("kind", "only-real") in groups and ("x", "(missing)") in groups
    shortfalls = [m for m in run.expected if m["id"] == "subgroup.shortfall"]
    assert len(shortfalls) >= 8
