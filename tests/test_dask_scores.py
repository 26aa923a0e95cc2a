"""`Dask.score` on a real two-worker LocalCluster: utility's holdout rows scored on the
workers, partition by partition, get the in-process scores bit for bit, kept in arrays on
the client's spill disk; a holdout partition changed after it was read ends the scoring
with one line.

The holdout is spread over four partitions, with duplicate rows (within a partition and
across partitions), missing values, and a region only one partition holds, so that a
partition's own labels differ from the tables' categories.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv
from tests.helpers.cli import fresh_python
from tests.helpers.tables import write_partitions

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
#: the holdout's partitions; the last one alone holds the region "islands"
PARTS = 4

#: run in a child process with a deadline, so that a cluster that never answers fails the
#: tests instead of hanging the suite; prints what the tests judge, as JSON
SCRIPT = """
import json, sys
import numpy as np
import pyarrow.csv as pacsv, pyarrow.parquet as pq
from synthgov.errors import InputError
from synthgov.files.governance import load_bytes
from synthgov.metrics import utility
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.measurement import Context
from synthgov.models import Card

card_path, folder, scheduler = sys.argv[1:4]
card = load_bytes(open(card_path, "rb").read(), card_path, Card).model
roles = ("real", "holdout", "synthetic")
alone = InProcess().load(card, {r: f"{folder}/{r}.csv" for r in roles})
expected = utility.holdout_scores(alone.tables, Context(seed=5, sample=300), card)
out = {}
engine = Dask(scheduler)
try:
    loaded = engine.load(card, {r: f"{folder}/{r}" for r in roles})
    engine.spill.small_bytes = 0  # every array it hands out on its disk, however small
    context = Context(seed=5, sample=300, score=loaded.score, allocate=loaded.allocate)
    found = utility.holdout_scores(loaded.tables, context, card)
    out["equal"] = {
        name: found.scores[name].tobytes() == expected.scores[name].tobytes()
        for name in utility.TRAINED_ON
    }
    out["distinct"] = {name: len(np.unique(s)) for name, s in expected.scores.items()}
    out["mapped"] = {name: isinstance(s, np.memmap) for name, s in found.scores.items()}
    out["aucs_equal"] = bool(np.array_equal(found.aucs()[0], expected.aucs()[0]))
    out["rows"] = int(loaded.tables.rows["holdout"])
    out["distinct_rows"] = int(len(np.unique(loaded.hashes["holdout"])))
    changed = f"{folder}/holdout/part-1.parquet"
    table = pq.read_table(changed)
    pq.write_table(table.slice(1), changed)  # a row fewer: another digest
    try:
        utility.holdout_scores(loaded.tables, Context(seed=5, sample=300, score=loaded.score), card)
        out["changed"] = None
    except InputError as exc:
        out["changed"] = str(exc)
finally:
    engine.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, dask_address: str) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("scores")
    rows = claims_rows(seed=0, rows=2400)
    holdout = [list(row) for row in rows[1200:]]
    for i in range(0, len(holdout), 17):
        holdout[i][8] = ""  # claim_amount missing (age is missing in about 3 % already)
    for row in holdout[-150:-100]:
        row[4] = "islands"  # a region of the last partition alone
    # the same rows twice within a partition and across partitions, one three times
    holdout += [holdout[3], holdout[3], holdout[700], holdout[1199]]
    holdout = holdout[:290] + holdout[-4:] + holdout[290:-4]
    tables = {
        "real": (rows[:1200], CLAIMS_COLUMNS),
        "holdout": (holdout, CLAIMS_COLUMNS),
        "synthetic": ([r[2:] for r in claims_rows(seed=7, rows=1000)], CLAIMS_COLUMNS[2:]),
    }
    for role, (table, columns) in tables.items():
        path = write_csv(folder / f"{role}.csv", table, columns)
        write_partitions(pacsv.read_csv(path), folder / role, PARTS if role == "holdout" else 2)
    result = fresh_python(SCRIPT, folder, str(CARD), str(folder), dask_address, timeout=600)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_holdout_scores_from_the_workers_equal_the_in_process_scores_bit_for_bit(
    scored: dict[str, Any],
) -> None:
    assert scored["equal"] == {"tstr": True, "trtr": True}
    assert scored["aucs_equal"]
    assert all(count > 50 for count in scored["distinct"].values())  # fitted, not constant
    assert scored["rows"] == 1204 and scored["distinct_rows"] < scored["rows"]  # duplicates


def test_holdout_scores_from_the_workers_are_kept_on_the_clients_spill_disk(
    scored: dict[str, Any],
) -> None:
    assert scored["mapped"] == {"tstr": True, "trtr": True}


def test_a_holdout_partition_changed_after_loading_ends_the_scoring_with_one_line(
    scored: dict[str, Any],
) -> None:
    line = scored["changed"]
    assert line is not None and "\n" not in line
    assert line.endswith("holdout/part-1.parquet: the partition changed during the evaluation")
