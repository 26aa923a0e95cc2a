"""One real two-worker LocalCluster for the tests of the Dask engine's parts, started in a
process of its own and reached by its scheduler address (a supported `--dask` value,
docs/scale.md): a cluster start (a scheduler, two nannies, two worker processes importing
distributed, pandas, pyarrow, numba and synthgov.metrics) costs more than most of those
tests, and the engine keeps nothing on its workers between engines.

The tests that end workers or send signals start clusters of their own, and
tests/test_evaluate_dask.py still runs `--dask local:2` end to end."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.helpers import ROOT

#: seconds for the cluster to start and print its address before the tests fail
START_TIMEOUT = 180
#: seconds for it to close once told to, before its processes are killed
CLOSE_TIMEOUT = 30

#: the cluster's process: prints the scheduler's address, then runs until its stdin closes
#: (the tests are done, or their process ended however it ended), then closes the cluster
SCRIPT = """
import logging, sys
from distributed import LocalCluster

if __name__ == "__main__":
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, host="127.0.0.1",
        silence_logs=logging.CRITICAL,
    )
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()
    cluster.close(timeout=20)
"""


class ClusterError(RuntimeError):
    """The shared cluster did not start within `START_TIMEOUT` seconds, or ended."""


@contextmanager
def shared_cluster(folder: Path) -> Iterator[str]:
    """A two-worker LocalCluster in its own process group, for as long as the block runs:
    yields its scheduler's `tcp://` address; ends it (and, past `CLOSE_TIMEOUT`, kills its
    process group) however the block ends. `folder` holds its stderr and is its HOME.

    Raises:
        ClusterError: no address within `START_TIMEOUT` seconds, with the cluster's stderr.
    """
    log = folder / "cluster.err"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(folder)},
            start_new_session=True,  # Ctrl-C reaches the tests, which then close its stdin
        )
    assert process.stdin is not None and process.stdout is not None
    started = False
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        address = process.stdout.readline().strip() if ready else ""
        if not address.startswith("tcp://"):
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0 if not ready else 5)
            what = (
                f"gave no address within {START_TIMEOUT} s"
                if process.returncode is None
                else f"ended with exit code {process.returncode} before giving its address"
            )
            raise ClusterError(
                f"the shared Dask LocalCluster {what}: {log.read_text().strip()[-2000:]}"
            )
        started = True
        yield address
    finally:
        _end(process, CLOSE_TIMEOUT if started else 0)


def _end(process: subprocess.Popen[str], timeout: float) -> None:
    """Close the cluster's stdin (it closes the cluster), wait up to `timeout` seconds,
    then kill what is left."""
    assert process.stdin is not None
    with suppress(OSError):
        process.stdin.close()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    # the nannies and workers it may have left, and itself if it hung
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
