"""`synthgov evaluate --dask`: a worker process killed in the middle of a task, on a real
LocalCluster of two worker processes.

The synthetic table is at first a named pipe (FIFO): the worker whose task opens it blocks
inside that task, so the test knows which process is busy with which task. It then puts
the real Parquet file at that path and kills exactly that worker with SIGKILL (what the
kernel's OOM killer or a pre-empted machine does). No sleep, no race.

What a lost worker means (docs/scale.md): Dask runs the task again on another worker, and
every task is a pure function of a partition's bytes, so the report is the one an
undisturbed run writes. A task whose workers die more often than the scheduler's
`allowed-failures` (3 by default; 0 here) fails the evaluation: exit 2, one line, no report.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthgov.examples import write_release_tables
from tests.helpers.cli import Synthgov
from tests.helpers.tables import write_partitions

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
ROWS = 400
#: how long the CLI may take on a loaded 2-core machine before the test fails instead of hanging
DEADLINE = 600


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train and holdout as CSV files and train also as three Parquet partitions; the
    synthetic table as one Parquet file."""
    folder = tmp_path_factory.mktemp("claims")
    made = write_release_tables(folder, rows=ROWS)
    files = {"real": made["train"], "holdout": made["holdout"]}
    files["real_dataset"] = write_partitions(pacsv.read_csv(files["real"]), folder / "train", 3)
    files["synthetic"] = folder / "synthetic.parquet"
    pq.write_table(pacsv.read_csv(made["honest"]), files["synthetic"])
    return files


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (the CLI's LocalCluster workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier}
        found += frontier
    return found


def _opening(pid: int) -> list[int]:
    """The processes below `pid` with a thread blocked opening a FIFO (no writer yet)."""
    found = []
    for process in _descendants(pid):
        with contextlib.suppress(OSError):
            for thread in Path(f"/proc/{process}/task").iterdir():
                if (thread / "wchan").read_text() == "wait_for_partner":
                    found.append(process)
                    break
    return found


class Trap:
    """A partition that holds the worker reading it: a FIFO, whose opening blocks until a
    writer comes. `run` finds the worker blocked on it (a thread waiting in the kernel's
    `wait_for_partner`), puts the real Parquet file in the FIFO's place (so every later
    read, the task's retry included, reads the file), then kills that worker with SIGKILL."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        path.parent.mkdir()
        os.mkfifo(path)
        self._file = path.with_name(".file")
        self._file.write_bytes(data)
        self.killed: list[int] = []
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def run(self, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """`command` in its own process with the trap set, within the deadline."""
        self.cli = subprocess.Popen(
            command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._thread.start()
        try:
            out, err = self.cli.communicate(timeout=DEADLINE)
        finally:
            if self.cli.poll() is None:  # the deadline passed: end the CLI and its workers
                for pid in [*_descendants(self.cli.pid), self.cli.pid]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.cli.wait()
            self._stop.set()
            self._thread.join(timeout=10)
        if self.failure is not None:
            raise self.failure
        return subprocess.CompletedProcess(command, self.cli.returncode, out, err)

    def _watch(self) -> None:
        try:
            while not self._stop.is_set():
                blocked = _opening(self.cli.pid)
                if blocked:
                    assert len(blocked) == 1, blocked
                    os.replace(self._file, self.path)  # the blocked open keeps the FIFO
                    os.kill(blocked[0], signal.SIGKILL)
                    self.killed.append(blocked[0])
                    return
                time.sleep(0.05)
        except BaseException as exc:  # re-raised by `run`, in the test's thread
            self.failure = exc


def _command(out: Path, real: Path, holdout: Path, synthetic: Path) -> list[str]:
    return [
        sys.executable, "-m", "synthgov", "evaluate", "--card", str(CARD), "--real", str(real),
        "--holdout", str(holdout), "--synthetic", str(synthetic), "-o", str(out), "--quiet",
        "--no-timings", "--dask", "local:2",
    ]  # fmt: skip


def _env(**config: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **config}


def test_a_worker_killed_mid_task_is_replaced_and_the_report_is_the_undisturbed_one(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    alone = synthgov(
        "evaluate", "--card", str(CARD), "--real", str(tables["real"]),
        "--holdout", str(tables["holdout"]), "--synthetic", str(tables["synthetic"]),
        "-o", str(tmp_path / "alone.json"), "--quiet", "--no-timings",
    )  # fmt: skip
    assert alone.code == 0, alone.err
    trap = Trap(tmp_path / "trap" / "synthetic.parquet", tables["synthetic"].read_bytes())
    out = tmp_path / "dask.json"
    result = trap.run(
        _command(out, tables["real_dataset"], tables["holdout"], trap.path),
        _env(),  # Dask's default: a task may lose 3 workers
    )
    assert result.returncode == 0, result.stderr
    assert len(trap.killed) == 1, result.stderr
    expected = json.loads((tmp_path / "alone.json").read_text())
    found = json.loads(out.read_text())
    # the real table is a dataset here: its digest covers its partitions; nothing else differs
    assert found["inputs"]["real"].pop("sha256") != expected["inputs"]["real"].pop("sha256")
    assert found["inputs"]["real"].pop("file") != expected["inputs"]["real"].pop("file")
    assert found == expected  # every metric bit for bit, the synthetic file's digest included


def test_a_worker_lost_beyond_the_allowed_failures_exits_2_and_leaves_the_report_alone(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    trap = Trap(tmp_path / "trap" / "synthetic.parquet", tables["synthetic"].read_bytes())
    result = trap.run(
        _command(out, tables["real_dataset"], tables["holdout"], trap.path),
        _env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0"),
    )
    assert len(trap.killed) == 1, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "synthgov: error: the Dask cluster at local:2 failed during the evaluation: 1 worker "
        "died while reading a partition (distributed.scheduler.allowed-failures is 0); "
        "no report written"
    ]
    assert result.stdout == ""
    assert not out.exists()


def test_a_failed_run_leaves_an_earlier_report_untouched(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    earlier = synthgov(
        "evaluate", "--card", str(CARD), "--real", str(tables["real"]),
        "--holdout", str(tables["holdout"]), "--synthetic", str(tables["synthetic"]),
        "-o", str(out), "--quiet", "--no-timings",
    )  # fmt: skip
    assert earlier.code == 0, earlier.err
    before = out.read_bytes()
    trap = Trap(tmp_path / "trap" / "synthetic.parquet", tables["synthetic"].read_bytes())
    result = trap.run(
        _command(out, tables["real_dataset"], tables["holdout"], trap.path),
        _env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0"),
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before
