"""`Dask.search` on a real LocalCluster: successive DCR searches, each with query rows over
the 100 kB above which `Client.map` would store an argument under its name, each get their
own queries' distances, equal to the in-process kernel's; so do several query sets searched
in one pass, with a pass over another table in flight at the same time.

Before the fix the second such search failed on the scheduler (an assertion on a task named
"queries"), which ended every `evaluate --dask` of a million rows at `--sample 1000`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows
from tests.helpers.cli import fresh_python

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"

#: run in a child process with a deadline, so that a cluster that never answers fails the
#: test instead of hanging the suite
SCRIPT = """
import sys
import numpy as np
from synthgov.files.governance import load_bytes
from synthgov.metrics import distance
from synthgov.metrics.engines.dask import Dask
from synthgov.models import Card

card_path, folder, scheduler = sys.argv[1:4]
card = load_bytes(open(card_path, "rb").read(), card_path, Card).model
engine = Dask(scheduler)
try:
    loaded = engine.load(card, {r: f"{folder}/{r}" for r in ("real", "holdout", "synthetic")})
    tables = loaded.tables
    numeric = distance.numeric_mask(tables)
    reference = distance.matrix(tables, "real")
    scale = distance.ranges(reference, numeric)
    queries = distance.matrix(tables, "synthetic")
    assert queries.nbytes > 100_000, queries.nbytes
    for shift in (0.0, 0.0, 1.5):  # the same queries twice in a row, then others
        moved = queries + shift * numeric
        (found,) = loaded.search([moved], "real", numeric, scale).result()
        expected = distance.dcr(moved, reference, numeric, scale)
        assert np.array_equal(found, expected), (shift, found[:5], expected[:5])
    # several sets in one pass, and passes over two tables in flight at once, as privacy
    # starts them: each set gets what its own search gives
    sets = [queries, queries + 1.5 * numeric, queries[:100]]
    holdout = distance.matrix(tables, "holdout")
    on_holdout = distance.ranges(holdout, numeric)
    batched = loaded.search(sets, "real", numeric, scale)
    other = loaded.search([queries], "holdout", numeric, on_holdout)
    for one, found in zip(sets, batched.result(), strict=True):
        assert found.tobytes() == distance.dcr(one, reference, numeric, scale).tobytes()
    (found,) = other.result()
    assert found.tobytes() == distance.dcr(queries, holdout, numeric, on_holdout).tobytes()
finally:
    engine.close()
print("searched")
"""


#: searches started and never waited for, the engine closed: the process must end
LEFT_PENDING = """
import sys
from synthgov.files.governance import load_bytes
from synthgov.metrics import distance
from synthgov.metrics.engines.dask import Dask
from synthgov.models import Card

card_path, folder = sys.argv[1], sys.argv[2]
card = load_bytes(open(card_path, "rb").read(), card_path, Card).model
engine = Dask("local:2")
try:
    loaded = engine.load(card, {r: f"{folder}/{r}" for r in ("real", "holdout", "synthetic")})
    numeric = distance.numeric_mask(loaded.tables)
    queries = distance.matrix(loaded.tables, "synthetic")
    for role in ("real", "holdout"):
        ranges = distance.Matrix(loaded.tables, role).ranges(numeric)
        loaded.search([queries, queries], role, numeric, ranges)
finally:
    engine.close()
print("closed")
"""


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The claims tables as Parquet datasets: real and holdout in two partitions each."""
    folder = tmp_path_factory.mktemp("search")

    def table(rows: list[list[Any]], columns: list[str]) -> pa.Table:
        text = "\n".join(",".join(map(str, row)) for row in [columns, *rows]) + "\n"
        (folder / "t.csv").write_text(text, encoding="utf-8")
        return pacsv.read_csv(folder / "t.csv")

    real = table(claims_rows(seed=0, rows=3000), CLAIMS_COLUMNS)
    synthetic = table([r[2:] for r in claims_rows(seed=7, rows=2000)], CLAIMS_COLUMNS[2:])
    parts = {
        "real": (real.slice(0, 700), real.slice(700, 800)),
        "holdout": (real.slice(1500, 700), real.slice(2200)),
        "synthetic": (synthetic,),
    }
    for role, pieces in parts.items():
        (folder / role).mkdir()
        for i, piece in enumerate(pieces):
            pq.write_table(piece, folder / role / f"part-{i}.parquet")
    return folder


def _child(script: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fresh_python(script, folder, str(CARD), str(folder), *args, timeout=600)


def test_successive_large_searches_each_get_their_own_queries(
    datasets: Path, dask_address: str
) -> None:
    result = _child(SCRIPT, datasets, dask_address)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "searched"


def test_searches_still_running_when_the_engine_closes_do_not_keep_the_process_alive(
    datasets: Path,
) -> None:
    """An evaluation that fails or is interrupted before privacy collects its searches
    closes the engine with them in flight: the run still ends (within the deadline), with
    nothing printed on stderr by the cluster."""
    result = _child(LEFT_PENDING, datasets)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "closed"
    assert "Traceback" not in result.stderr
