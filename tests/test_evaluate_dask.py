"""`synthgov evaluate --dask`: partitioned Parquet datasets read on a real Dask LocalCluster
give the in-process report, and bad clusters or datasets end in one line, exit 2.

The worked example's claims table, 600 rows per table, split into Parquet partitions that
share one Arrow schema (as Spark and Dask write them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv, write_release_tables
from tests.helpers.cli import Synthgov
from tests.helpers.tables import write_partitions

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
ROWS = 600


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three tables as CSV files, and real and holdout also as partitioned datasets."""
    folder = tmp_path_factory.mktemp("claims")
    made = write_release_tables(folder, rows=ROWS)
    files = {"real": made["train"], "holdout": made["holdout"], "synthetic": made["honest"]}
    files["real_dataset"] = write_partitions(pacsv.read_csv(files["real"]), folder / "train", 3)
    files["holdout_dataset"] = write_partitions(
        pacsv.read_csv(files["holdout"]), folder / "holdout", 2
    )
    synthetic_table = pacsv.read_csv(files["synthetic"])
    files["synthetic_dataset"] = write_partitions(synthetic_table, folder / "synthetic", 4)
    pq.write_table(synthetic_table.slice(0, 0), folder / "synthetic" / "part-9.parquet")  # empty
    return files


def _evaluate(
    synthgov: Synthgov,
    out: Path,
    real: Path | str,
    holdout: Path | str,
    synthetic: Path | str,
    *extra: str,
) -> Any:
    return synthgov(
        "evaluate", "--card", str(CARD), "--real", str(real), "--holdout", str(holdout),
        "--synthetic", str(synthetic), "-o", str(out), "--quiet", "--no-timings",
        *extra,
    )  # fmt: skip


def _evaluate_on_a_cluster(
    out: Path, real: Path, holdout: str, synthetic: Path, scheduler: str = "local:2"
) -> Any:
    """The CLI in its own process with a deadline, so a cluster that never answers fails the
    test instead of hanging the suite: `--dask local:2` (a cluster of its own, end to end),
    or the shared cluster's address."""
    return subprocess.run(
        [sys.executable, "-m", "synthgov", "evaluate", "--card", str(CARD), "--real", str(real),
         "--holdout", holdout, "--synthetic", str(synthetic), "-o", str(out), "--quiet",
         "--no-timings", "--dask", scheduler],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_dask_on_two_worker_processes_gives_the_in_process_report(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    alone = _evaluate(
        synthgov, tmp_path / "alone.json", tables["real"], tables["holdout"], tables["synthetic"]
    )
    assert alone.code == 0, alone.err
    spread = _evaluate_on_a_cluster(
        tmp_path / "dask.json",
        tables["real_dataset"],
        f"{tables['holdout_dataset']}/part-*.parquet",  # a glob
        tables["synthetic"],  # one CSV file: read by a worker too
    )
    assert spread.returncode == 0, spread.stderr
    expected = json.loads((tmp_path / "alone.json").read_text())
    found = json.loads((tmp_path / "dask.json").read_text())
    # a dataset's digest covers its partitions, not the bytes of one file; nothing else differs
    for role in ("real", "holdout"):
        assert found["inputs"][role].pop("sha256") != expected["inputs"][role].pop("sha256")
        assert found["inputs"][role].pop("file") != expected["inputs"][role].pop("file")
    assert found["inputs"]["real"]["fingerprint"] == expected["inputs"]["real"]["fingerprint"]
    assert found == expected  # every metric bit for bit, the synthetic file's digest included
    assert len(found["metrics"]) > 50


def test_a_partitioned_synthetic_table_counted_on_the_workers_gives_the_in_process_report(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, dask_address: str
) -> None:
    """The synthetic table's partitions (one empty) are counted and judged by the card's
    rules on the workers; the client adds the counts (`tallies`, `constraints.satisfied`)."""
    alone = _evaluate(
        synthgov, tmp_path / "alone.json", tables["real"], tables["holdout"], tables["synthetic"]
    )
    assert alone.code == 0, alone.err
    spread = _evaluate_on_a_cluster(
        tmp_path / "dask.json",
        tables["real"],
        str(tables["holdout"]),
        tables["synthetic_dataset"],
        dask_address,
    )
    assert spread.returncode == 0, spread.stderr
    expected = json.loads((tmp_path / "alone.json").read_text())
    found = json.loads((tmp_path / "dask.json").read_text())
    mine, theirs = found["inputs"]["synthetic"], expected["inputs"]["synthetic"]
    assert mine.pop("sha256") != theirs.pop("sha256")
    assert mine.pop("file") != theirs.pop("file")
    assert found == expected
    counted = {m["id"] for m in found["metrics"]}
    assert {"constraints.validity", "fidelity.tv_complement", "fidelity.category_adherence"} <= (
        counted
    )


def test_charts_and_subgroups_made_on_the_workers_give_the_in_process_report(
    synthgov: Synthgov, tmp_path: Path, dask_address: str
) -> None:
    """The chart counts (`Dask.count`) and the subgroups' sides (`Dask.group_sides`) come
    from the workers: a rare region only one partition of each table holds (merged into
    `(other)`), missing amounts, rows repeated within and across partitions."""
    rows = claims_rows(seed=0, rows=2 * ROWS)
    real = [list(row) for row in rows[:ROWS]]
    synthetic = [row[2:] for row in claims_rows(seed=7, rows=ROWS)]
    for table in (real, synthetic):
        amount = len(table[0]) - 2  # claim_amount, before fraud
        for row in table[::13]:
            row[amount] = ""
        region = len(table[0]) - 6
        for row in table[-5:]:
            row[region] = "islands"  # the last partition alone, too few to be drawn
    real = real[:7] + real[:7] + real + real[400:404]  # the first rows in two partitions
    synthetic = synthetic + synthetic[:3] + synthetic[5:6]
    paths = {
        "real": write_csv(tmp_path / "real.csv", real, CLAIMS_COLUMNS),
        "holdout": write_csv(tmp_path / "holdout.csv", rows[ROWS:], CLAIMS_COLUMNS),
        "synthetic": write_csv(tmp_path / "synthetic.csv", synthetic, CLAIMS_COLUMNS[2:]),
    }
    folders = {
        role: write_partitions(pacsv.read_csv(paths[role]), tmp_path / role, 3)
        for role in ("real", "synthetic")
    }
    alone = _evaluate(
        synthgov, tmp_path / "alone.json", paths["real"], paths["holdout"], paths["synthetic"]
    )
    assert alone.code == 0, alone.err
    spread = _evaluate_on_a_cluster(
        tmp_path / "dask.json",
        folders["real"],
        str(paths["holdout"]),
        folders["synthetic"],
        dask_address,
    )
    assert spread.returncode == 0, spread.stderr
    expected = json.loads((tmp_path / "alone.json").read_text())
    found = json.loads((tmp_path / "dask.json").read_text())
    for role in ("real", "synthetic"):
        assert found["inputs"][role].pop("sha256") != expected["inputs"][role].pop("sha256")
        assert found["inputs"][role].pop("file") != expected["inputs"][role].pop("file")
    assert found == expected
    assert found["inputs"]["real"]["distinct_rows"] < found["inputs"]["real"]["rows"]
    region = next(c for c in found["charts"]["columns"] if c["column"] == "region")
    assert region["cells"][-1]["label"] == "(other)"
    assert "islands" not in {c["label"] for c in region["cells"]}
    groups = {m.get("group") for m in found["metrics"] if m["id"] == "subgroup.fidelity"}
    assert {"islands", "north", "F", "M"} <= groups


def test_partitions_with_different_schemas_exit_2_naming_the_partition(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, dask_address: str
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    table = pacsv.read_csv(tables["real"])
    pq.write_table(table.slice(0, 300), folder / "part-0.parquet")
    column = table.schema.get_field_index("claim_amount")
    changed = table.set_column(
        column, "claim_amount", table["claim_amount"].cast(pa.string())
    ).slice(300)
    pq.write_table(changed, folder / "part-1.parquet")
    result = _evaluate(
        synthgov,
        tmp_path / "r.json",
        folder,
        tables["holdout"],
        tables["synthetic"],
        "--dask",
        dask_address,
    )
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"{folder}/part-1.parquet: the partition's schema differs from {folder}/part-0.parquet's: "
        "column 'claim_amount' is string here and double there"
    ]
    assert not (tmp_path / "r.json").exists()


def test_an_unreachable_scheduler_exits_2_and_writes_no_report(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")
    result = _evaluate(
        synthgov,
        tmp_path / "r.json",
        tables["real"],
        tables["holdout"],
        tables["synthetic"],
        "--dask",
        f"tcp://127.0.0.1:{port}",
    )
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"--dask: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("scheduler", ["local:0", "spark", "127.0.0.1:8786"])
def test_a_malformed_scheduler_exits_2_before_any_cluster_starts(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, scheduler: str
) -> None:
    result = _evaluate(
        synthgov,
        tmp_path / "r.json",
        tables["real"],
        tables["holdout"],
        tables["synthetic"],
        "--dask",
        scheduler,
    )
    assert result.code == 2
    assert result.err.strip() == (
        "--dask: expected local, local:N (N >= 1 worker processes) or a scheduler address "
        f"such as tcp://host:8786, not {scheduler!r}"
    )


def test_a_dataset_without_partitions_exits_2_naming_it(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").write_text("")  # what Spark leaves: not a partition
    result = _evaluate(
        synthgov,
        tmp_path / "r.json",
        tables["real"],
        empty,
        tables["synthetic"],
        "--dask",
        "local:1",
    )
    assert result.code == 2
    assert result.err.strip() == (
        f"{empty}: no partitions: no file ending in .parquet or .pq matches"
    )
    assert not (tmp_path / "r.json").exists()


def test_a_run_that_fails_after_spilling_leaves_nothing_in_the_spill_dir(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, dask_address: str
) -> None:
    """The real table's partitions are read and spilled to the client's disk before the
    client finds a date that is no date (the same Arrow type in every partition, so the
    footers agree): exit 2 with the one line, and the spill directory is empty again."""
    table = pacsv.read_csv(tables["real"])
    column = table.schema.get_field_index("admitted")
    dates = table["admitted"].cast(pa.string()).to_pylist()
    dates[-1] = "yesterday"
    real = write_partitions(
        table.set_column(column, "admitted", pa.array(dates)), tmp_path / "r", 2
    )
    spill = tmp_path / "spill"
    spill.mkdir()
    result = _evaluate(
        synthgov, tmp_path / "r.json", real, tables["holdout"], tables["synthetic"],
        "--dask", dask_address, "--spill-dir", str(spill),
    )  # fmt: skip
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"{real}: column 'admitted': 1 distinct value(s) are not ISO 8601 dates as the card "
        "says: 'yesterday'"
    ]
    assert list(spill.iterdir()) == []
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("given", ["file", "absent"])
def test_a_spill_dir_that_is_not_a_writable_directory_exits_2_before_any_cluster_starts(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, given: str
) -> None:
    (tmp_path / "file").write_text("")
    result = _evaluate(
        synthgov, tmp_path / "r.json", tables["real"], tables["holdout"], tables["synthetic"],
        "--dask", "local:1", "--spill-dir", str(tmp_path / given),
    )  # fmt: skip
    assert result.code == 2
    assert result.err.strip() == (
        f"--spill-dir: expected a writable directory, not '{tmp_path / given}'"
    )


def test_a_spill_dir_without_dask_exits_2(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    result = _evaluate(
        synthgov, tmp_path / "r.json", tables["real"], tables["holdout"], tables["synthetic"],
        "--spill-dir", str(tmp_path),
    )  # fmt: skip
    assert result.code == 2
    assert result.err.strip() == (
        "--spill-dir: only with --dask (without it the tables are held in memory)"
    )


def test_ctrl_c_during_a_run_leaves_nothing_in_the_spill_dir(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """SIGINT once the client's spill directory exists (the cluster starting or the
    partitions being read): exit 130, no report, and the spill directory empty again."""
    spill = tmp_path / "spill"
    spill.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "synthgov", "evaluate", "--card", str(CARD),
         "--real", str(tables["real_dataset"]), "--holdout", str(tables["holdout"]),
         "--synthetic", str(tables["synthetic"]), "-o", str(tmp_path / "r.json"), "--quiet",
         "--dask", "local:1", "--spill-dir", str(spill)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not any(spill.iterdir()) and process.poll() is None:
            assert time.monotonic() < deadline, "no spill directory appeared"
            time.sleep(0.02)
        made = list(spill.iterdir())
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert [p.name[:15] for p in made] == ["synthgov-spill-"]
    assert process.returncode == 130, err
    assert "synthgov: interrupted" in err
    assert list(spill.iterdir()) == []
    assert not (tmp_path / "r.json").exists()
