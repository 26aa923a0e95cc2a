"""The late pass (`late`, `Dask.late`): a full `evaluate --dask` reads each real and
synthetic partition once for the chart counts, fidelity's mixed pairs and every subgroup
column's sides together, not once per family and subgroup column, and gives the
in-process report; a family that asks the engine for a plan the pass did not make (or
asks twice) gets its own pass, and the in-process answer.

The worked example's claims tables on a real two-worker LocalCluster: the real and
synthetic tables in three Parquet partitions each, rows repeated within and across
partitions, missing amounts, a region only the last partition of each table holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthgov.errors import InputError
from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv
from synthgov.files.governance import load_bytes
from synthgov.metrics import aggregates, binning, grouping, late
from synthgov.metrics.binning import Binning
from synthgov.metrics.encoding import Tables
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.evaluation import InputPaths, Settings, evaluate
from synthgov.metrics.grouping import Sides
from synthgov.metrics.tallies import Totals
from synthgov.models import Card
from tests.helpers.tables import write_partitions

ROOT = Path(__file__).resolve().parent.parent
CARD_PATH = ROOT / "datasets/claims/card.yaml"
ROWS = 600
PARTS = 3
SIDES = ("real", "synthetic")
LATE_TASKS = ("_partition_counts", "_partition_groups", "_partition_bins", "_partition_late")


@dataclass(frozen=True)
class Run:
    card: Card
    #: the reports of the cluster and of this process
    spread: dict[str, Any]
    alone: dict[str, Any]
    #: the engine's tasks per worker function during the evaluation
    submitted: Counter[str]
    #: what the checks after the evaluation found (name -> bool)
    checks: dict[str, bool]
    #: the engine's tasks per worker function during those checks
    asked: Counter[str]
    #: the error's line when fidelity gathers a late pass after a partition changed
    changed: str | None


def _tables(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    rows = claims_rows(seed=0, rows=2 * ROWS)
    real = [list(row) for row in rows[:ROWS]]
    synthetic = [row[2:] for row in claims_rows(seed=7, rows=ROWS)]
    for table in (real, synthetic):
        amount = len(table[0]) - 2  # claim_amount, before fraud
        for row in table[::11]:
            row[amount] = ""
        region = len(table[0]) - 6
        for row in table[-5:]:
            row[region] = "islands"  # the last partition alone
    real = real[:9] + real + real[300:303]  # the first rows in two partitions
    synthetic = synthetic + synthetic[:4]
    files = {
        "real": write_csv(folder / "real.csv", real, CLAIMS_COLUMNS),
        "holdout": write_csv(folder / "holdout.csv", rows[ROWS:], CLAIMS_COLUMNS),
        "synthetic": write_csv(folder / "synthetic.csv", synthetic, CLAIMS_COLUMNS[2:]),
    }
    folders = {
        role: write_partitions(pacsv.read_csv(files[role]), folder / role, PARTS) for role in SIDES
    }
    return files, folders


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> Run:
    folder = tmp_path_factory.mktemp("late")
    files, folders = _tables(folder)
    card_bytes = CARD_PATH.read_bytes()
    card = load_bytes(card_bytes, str(CARD_PATH), Card).model
    settings = Settings(timings=False)
    alone = evaluate(
        card,
        card_bytes,
        InputPaths(CARD_PATH, files["real"], files["holdout"], files["synthetic"]),
        settings,
    )
    engine = Dask(dask_address)
    try:
        spread = evaluate(
            card,
            card_bytes,
            InputPaths(CARD_PATH, folders["real"], files["holdout"], folders["synthetic"]),
            settings,
            engine=engine,
        )
        submitted = Counter(engine.submitted)
        locations = {"real": folders["real"], "holdout": files["holdout"], **folders}
        before = Counter(engine.submitted)
        checks = _other_plans(engine, card, {role: str(path) for role, path in locations.items()})
        asked = Counter(engine.submitted)
        asked.subtract(before)
        changed = _changed(engine, card, locations, folders["synthetic"] / "part-2.parquet")
    finally:
        engine.close()
    return Run(card, spread, alone, submitted, checks, asked, changed)


def _changed(engine: Dask, card: Card, locations: dict[str, Path], partition: Path) -> str | None:
    """The line of the error that gathering a late pass raises after `partition` changed."""
    loaded = engine.load(card, {role: str(path) for role, path in locations.items()})
    assert loaded.late is not None and loaded.bin_counts is not None
    planned = late.plan(loaded.tables, card)
    assert planned.bins is not None
    table = pq.read_table(partition)
    pq.write_table(table.slice(1), partition)  # a row fewer
    loaded.late(planned)
    try:
        loaded.bin_counts(planned.bins)
    except InputError as exc:
        return str(exc)
    return None


def _other_plans(engine: Dask, card: Card, locations: dict[str, str]) -> dict[str, bool]:
    """A late pass started, then each family's request: another plan, the planned one, the
    planned one again (taken already); each answer against the whole tables'."""
    loaded = engine.load(card, locations)
    assert loaded.late is not None and loaded.count is not None
    assert loaded.bin_counts is not None and loaded.group_sides is not None
    tables = loaded.tables
    planned = late.plan(tables, card)
    assert planned.bins is not None and len(planned.groupings) == 2
    loaded.late(planned)
    fewer = list(planned.charts[:3])
    pairs = planned.bins.pairs[::2]
    other_bins = Binning(planned.bins.edges, planned.bins.factors, pairs)
    other_grouping = grouping.grouping(tables["plan"], 20)  # not a subgroup column
    checks: dict[str, bool] = {}
    for name, plans in (("charts other", fewer), ("charts", list(planned.charts))):
        checks[name] = _same_counts(loaded.count(plans), aggregates.count_cells(plans, tables))
    checks["charts again"] = _same_counts(
        loaded.count(list(planned.charts)), aggregates.count_cells(list(planned.charts), tables)
    )
    for name, bins in (("bins other", other_bins), ("bins", planned.bins)):
        checks[name] = _same_bins(loaded.bin_counts(bins), bins, tables)
    for name, wanted in (
        ("sides other", other_grouping),
        ("sides", planned.groupings[1]),
        ("sides again", planned.groupings[1]),
    ):
        checks[name] = _same_sides(loaded.group_sides(wanted), wanted, tables)
    return checks


def _same_counts(found: aggregates.Counts, expected: aggregates.Counts) -> bool:
    return found.keys() == expected.keys() and all(
        np.array_equal(found[key], value) for key, value in expected.items()
    )


def _same_bins(found: dict[str, Totals], bins: Binning, tables: Tables) -> bool:
    categories = {c.name: c.categories for c in tables.categorical}
    for role in SIDES:
        expected = binning.add([binning.count(bins, tables, role)], categories)
        mine = found[role]
        if mine.rows != expected.rows or mine.pairs.keys() != expected.pairs.keys():
            return False
        for pair, (cells, times) in expected.pairs.items():
            if not (
                np.array_equal(mine.pairs[pair][0], cells)
                and np.array_equal(mine.pairs[pair][1], times)
            ):
                return False
    return True


def _same_sides(found: tuple[Sides, Sides], wanted: grouping.Grouping, tables: Tables) -> bool:
    for role, mine in zip(SIDES, found, strict=True):
        expected = grouping.sides(wanted, tables, role)
        if (
            not np.array_equal(mine.rows, expected.rows)
            or mine.sides.keys() != expected.sides.keys()
        ):
            return False
        if not all(np.array_equal(mine.sides[k], v) for k, v in expected.sides.items()):
            return False
    return True


def test_a_dask_evaluation_reads_each_real_and_synthetic_partition_once_for_the_late_work(
    run: Run,
) -> None:
    """One late task per real and synthetic partition, for the charts, fidelity's mixed
    pairs and both subgroup columns (sex, region): before, three passes and one more per
    subgroup column (four times as many reads here)."""
    assert run.submitted["_partition_late"] == 2 * PARTS
    assert all(run.submitted[name] == 0 for name in LATE_TASKS[:3])
    assert len(run.card.subgroup_columns) == 2
    spread, alone = dict(run.spread), dict(run.alone)
    for role in SIDES:
        mine, theirs = dict(spread["inputs"][role]), dict(alone["inputs"][role])
        assert mine.pop("sha256") != theirs.pop("sha256")
        assert mine.pop("file") != theirs.pop("file")
        assert mine == theirs
    spread.pop("inputs")
    alone.pop("inputs")
    assert spread == alone  # every metric, the charts and the subgroups, bit for bit
    groups = {m.get("group") for m in run.spread["metrics"] if m["id"] == "subgroup.fidelity"}
    assert {"islands", "north", "F", "M"} <= groups
    trends = [m for m in run.spread["metrics"] if m["id"] == "fidelity.column_pair_trends"]
    assert len(trends) == 1 and trends[0]["mode"] == "per_table_bins"


def test_a_plan_the_late_pass_did_not_make_gets_its_own_pass_and_the_whole_tables_answer(
    run: Run,
) -> None:
    assert run.checks == dict.fromkeys(run.checks, True)
    assert len(run.checks) == 8
    # the planned parts came from the late pass; another plan, or a part taken already,
    # from a pass of its own over the real and synthetic partitions
    assert run.asked["_partition_late"] == 2 * PARTS
    assert run.asked["_partition_counts"] == 2 * 2 * PARTS  # fewer columns; again
    assert run.asked["_partition_bins"] == 2 * PARTS  # other pairs
    assert run.asked["_partition_groups"] == 2 * 2 * PARTS  # another column; again


def test_a_partition_changed_after_loading_ends_the_late_pass_with_one_line(run: Run) -> None:
    assert run.changed is not None and "\n" not in run.changed
    assert run.changed.endswith(
        "synthetic/part-2.parquet: the partition changed during the evaluation"
    )
