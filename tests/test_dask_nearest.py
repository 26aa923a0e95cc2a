"""`Dask.nearest` on a real two-worker LocalCluster: the attacks' nearest synthetic rows,
searched partition by partition on the workers, are `gower.nearest`'s in this process bit
for bit, ties and targets without a finite distance included, and so are the attacks'
measurements; a synthetic partition changed after it was read ends the search with one
line.

The synthetic table is spread over three partitions, two long enough for the block search
and one short (a plain scan), with duplicate rows within a partition and across
partitions, missing ages, a region only one partition holds (its own labels differ from
the tables' categories), and real targets that copy duplicated synthetic rows (ties by
construction) or miss a claim amount that no synthetic row misses (no finite distance).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv
from tests.helpers.cli import fresh_python

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
#: rows of the synthetic table's partitions: two searched by blocks, one scanned
PARTS = (2600, 2500, 300)

#: run in a child process with a deadline, so that a cluster that never answers fails the
#: tests instead of hanging the suite; prints what the tests judge, as JSON
SCRIPT = """
import json, sys
import numpy as np
import pyarrow.parquet as pq
from synthgov.errors import InputError
from synthgov.files.governance import load_bytes
from synthgov.metrics import attacks, gower, neighbours
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.measurement import Context
from synthgov.models import Card

card_path, folder, scheduler = sys.argv[1:4]
card = load_bytes(open(card_path, "rb").read(), card_path, Card).model
roles = ("real", "holdout", "synthetic")
alone = InProcess().load(card, {r: f"{folder}/{r}.csv" for r in roles})
tables = alone.tables
names = [n for n in tables.names if n != "fraud"]
searches = [
    (names[0::2], "real", np.arange(tables.rows["real"])),
    (names[1::2], "real", np.arange(tables.rows["real"])),
    ([n for n in tables.names if n != "region"], "holdout", np.arange(tables.rows["holdout"])),
    (["region", "sex"], "holdout", np.arange(50)),  # categorical only: ties everywhere
    (["claim_amount"], "real", np.arange(tables.rows["real"])),  # numeric only
]
expected = [gower.nearest(tables, c, role, rows) for c, role, rows in searches]


def settled_here(columns, role, rows):
    # the targets whose least distance is not reached by one row alone, or not finite
    found = neighbours.targets(
        tables, columns, role, rows,
        {n: neighbours.extremes(tables, n) for n in columns if tables[n].is_numeric},
    )
    size = tables.rows["synthetic"]
    candidates = np.empty((len(found.numeric), size))
    for k, (n, s) in enumerate(zip(found.numeric, found.spans)):
        candidates[k] = tables[n].synthetic / s
    labels = np.empty((len(found.categorical), size), dtype=np.int32)
    for k, n in enumerate(found.categorical):
        labels[k] = tables[n].synthetic
    least, reached, _ = gower.least(candidates, labels, found.queries, found.asked)
    return int(np.sum(reached > 1)), int(np.sum(~np.isfinite(least)))


out = {"settled": [settled_here(*s) for s in searches]}
engine = Dask(scheduler)
try:
    loaded = engine.load(card, {r: f"{folder}/{r}" for r in roles})
    engine.spill.small_bytes = 0  # every array it hands out on its disk, however small
    found = loaded.nearest(searches).result()
    out["equal"] = [
        [a.tobytes() == b.tobytes() for a, b in zip(got, want)]
        for got, want in zip(found, expected)
    ]
    out["rows"] = int(loaded.tables.rows["synthetic"])
    out["distinct_rows"] = int(len(np.unique(loaded.hashes["synthetic"])))
    measured = {}
    for name, context, started in (
        ("here", Context(seed=3), False),
        ("workers", Context(seed=3, nearest=loaded.nearest, allocate=loaded.allocate), True),
        ("on demand", Context(seed=3, nearest=loaded.nearest), False),
    ):
        use = tables if name == "here" else loaded.tables
        if started:
            attacks.start(use, context, card)
        measured[name] = [
            m.as_json() for m in attacks.measure(use, context, card)
            if "linkability" in m.id or "inference" in m.id
        ] + [context.sample_sizes]
    out["measured"] = {k: json.dumps(v, sort_keys=True) for k, v in measured.items()}
    out["ids"] = sorted({m["id"] for m in measured["here"][:-1]})
    changed = f"{folder}/synthetic/part-2.parquet"
    table = pq.read_table(changed)
    pq.write_table(table.slice(1), changed)  # a row fewer: another digest
    try:
        loaded.nearest(searches[:1]).result()
        out["changed"] = None
    except InputError as exc:
        out["changed"] = str(exc)
finally:
    engine.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("nearest")
    rows = claims_rows(seed=0, rows=2400)
    synthetic = [list(r[2:]) for r in claims_rows(seed=7, rows=sum(PARTS))]
    for row in synthetic[2600:2650]:
        row[2] = "islands"  # a region of the second partition alone
    # the same rows twice within a partition and across partitions, one three times
    for at, source in ((10, 3), (2700, 3), (5200, 2800), (11, 5300)):
        synthetic[at] = list(synthetic[source])
    real = [list(row) for row in rows[:1200]]
    for i, source in enumerate((3, 2800, 5300)):  # targets copying duplicated rows
        real[i][2:] = synthetic[source]
    for row in real[20:40]:
        row[8] = ""  # a claim amount missing, which no synthetic row misses
    tables = {
        "real": (real, CLAIMS_COLUMNS),
        "holdout": (rows[1200:], CLAIMS_COLUMNS),
        "synthetic": (synthetic, CLAIMS_COLUMNS[2:]),
    }
    for role, (table, columns) in tables.items():
        path = write_csv(folder / f"{role}.csv", table, columns)
        (folder / role).mkdir()
        whole, start = pacsv.read_csv(path), 0
        sizes = PARTS if role == "synthetic" else (len(table) // 2, len(table) - len(table) // 2)
        for i, size in enumerate(sizes):
            part: pa.Table = whole.slice(start, size)
            pq.write_table(part, folder / role / f"part-{i}.parquet")
            start += size
    result = fresh_python(SCRIPT, folder, str(CARD), str(folder), dask_address, timeout=900)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_nearest_rows_from_the_workers_equal_gower_nearest_bit_for_bit(
    searched: dict[str, Any],
) -> None:
    assert searched["equal"] == [[True, True]] * 5
    assert searched["rows"] == sum(PARTS) and searched["distinct_rows"] < searched["rows"]


def test_ties_and_targets_without_a_finite_distance_are_among_those_compared(
    searched: dict[str, Any],
) -> None:
    tied = [count for count, _ in searched["settled"]]
    unreachable = [count for _, count in searched["settled"]]
    assert tied[0] >= 1 and tied[1] >= 1 and tied[3] == 50  # duplicates; labels alone
    assert unreachable[4] == 20  # the missing claim amounts, on that column alone


def test_linkability_and_inference_on_the_workers_equal_the_in_process_measurements(
    searched: dict[str, Any],
) -> None:
    measured = searched["measured"]
    assert measured["workers"] == measured["here"]
    assert measured["on demand"] == measured["here"]
    assert searched["ids"] == [
        "privacy.inference_excess",
        "privacy.inference_risk",
        "privacy.linkability_excess",
        "privacy.linkability_risk",
    ]


def test_a_synthetic_partition_changed_after_loading_ends_the_search_with_one_line(
    searched: dict[str, Any],
) -> None:
    line = searched["changed"]
    assert line is not None and "\n" not in line
    assert line.endswith("synthetic/part-2.parquet: the partition changed during the evaluation")
