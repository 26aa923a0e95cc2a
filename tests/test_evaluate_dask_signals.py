"""`synthgov evaluate --dask`: Ctrl-C and SIGTERM on a real LocalCluster, the CLI in its own
process. Either ends with one line and no traceback, no report, and the spill directory
empty again: exit 130 for Ctrl-C, 143 for SIGTERM (what a CI runner sends to cancel a job).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import pyarrow.csv as pacsv
import pytest

from synthgov.examples import write_release_tables
from tests.helpers.cli import Synthgov
from tests.helpers.tables import write_partitions

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
ROWS = 300
#: how long the CLI may take on a loaded 2-core machine before the test fails instead of hanging
DEADLINE = 300


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train as three Parquet partitions, holdout and synthetic as CSV files."""
    folder = tmp_path_factory.mktemp("claims")
    made = write_release_tables(folder, rows=ROWS)
    return {
        "real_dataset": write_partitions(pacsv.read_csv(made["train"]), folder / "train", 3),
        "holdout": made["holdout"],
        "synthetic": made["honest"],
    }


def _start(tables: dict[str, Path], out: Path, spill: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "synthgov", "evaluate", "--card", str(CARD),
         "--real", str(tables["real_dataset"]), "--holdout", str(tables["holdout"]),
         "--synthetic", str(tables["synthetic"]), "-o", str(out), "--quiet",
         "--dask", "local:1", "--spill-dir", str(spill)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _listening(pids: list[int]) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that the processes `pids` hold,
    from /proc: their descriptors' socket inodes, found in /proc/net/tcp and tcp6."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):  # a process gone meanwhile
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    found = []
    for table, size in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                raw = bytes.fromhex(address)
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, size, 4))
                found.append(
                    (
                        socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, words),
                        int(port, 16),
                    )
                )
    return found


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the LocalCluster's worker processes), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _wait_for(ready: Any, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready() and process.poll() is None:
        assert time.monotonic() < deadline, f"no {what} appeared"
        time.sleep(0.01)
    assert process.poll() is None, f"the run ended before {what} appeared"


def test_ctrl_c_while_the_local_cluster_starts_prints_one_line_and_no_traceback(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """SIGINT as soon as the LocalCluster's worker process exists, which is long before it
    is ready (a new interpreter importing distributed): distributed's exit hook used to
    close the half-started cluster and print the traceback of its failed assertion."""
    spill = tmp_path / "spill"
    spill.mkdir()
    process = _start(tables, tmp_path / "r.json", spill)
    try:
        _wait_for(lambda: _children(process.pid), process, "worker process")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=DEADLINE)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["synthgov: interrupted"], err
    assert "Traceback" not in err
    assert list(spill.iterdir()) == []
    assert not (tmp_path / "r.json").exists()


def test_sigterm_during_a_run_exits_143_and_leaves_nothing_in_the_spill_dir(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """SIGTERM (a CI runner cancelling the job) once the spill directory exists takes
    Ctrl-C's path: its default action would end the process with no clean-up, leaving the
    spill folder behind. The scheduler's HTTP routes no longer take port 8787, which
    another Dask run may hold (distributed then warned on stderr, a second line)."""
    spill = tmp_path / "spill"
    spill.mkdir()
    process = _start(tables, tmp_path / "r.json", spill)
    try:
        _wait_for(lambda: any(spill.iterdir()), process, "spill directory")
        made = list(spill.iterdir())
        listening = _listening([process.pid, *_children(process.pid)])
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=DEADLINE)
    finally:
        process.kill()
    assert [p.name[:15] for p in made] == ["synthgov-spill-"]
    # the scheduler, the nannies and the workers: loopback only, and never port 8787
    assert all(host in ("127.0.0.1", "::1") for host, _ in listening), listening
    assert all(port != 8787 for _, port in listening), listening
    assert process.returncode == 143, err
    assert err.splitlines() == ["synthgov: terminated"], err
    assert list(spill.iterdir()) == []
    assert not (tmp_path / "r.json").exists()


def test_evaluate_gives_the_sigterm_handler_back(synthgov: Synthgov, tmp_path: Path) -> None:
    """A caller's own SIGTERM handler is in place again after `evaluate` (here one that
    fails on its scheduler before any table is read)."""

    def own(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("never called")

    previous = signal.signal(signal.SIGTERM, own)
    try:
        result = synthgov(
            "evaluate", "--card", str(CARD), "--real", "r.csv", "--holdout", "h.csv",
            "--synthetic", "s.csv", "-o", str(tmp_path / "r.json"), "--dask", "nowhere",
        )  # fmt: skip
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.code == 2
