"""What several test modules build the same way, built once per test run: whichever pytest
process (xdist worker) asks first builds it, under a lock, and the others wait and get the
same folder. For builds that take seconds (a `python -m build`, a pre-commit hook's
environment) and that the tests only read."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT

#: the file a finished build leaves in its folder's parent (a build that failed half way is
#: started over by the next test that asks)
DONE = ".done"
#: the user's pip cache, read before the isolated HOME replaces it (tests/conftest.py): the
#: build's isolated environment installs the wheels `make test` already downloaded
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")


def once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name`, which `make(folder)` filled once in this test run."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, which every xdist worker's holds
    folder, done = root / name, root / f"{name}{DONE}"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


def distributions(factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """This tree's sdist and wheel, built once as a release builds them (`python -m build`,
    with pip's cache of this machine): the folder holding them and the build's process
    (each test judges a failed build: a skip when the registry is unreachable, else a
    failure with its output)."""

    def build(folder: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(folder / "dist"), str(ROOT)],
            env={**os.environ, "PIP_CACHE_DIR": PIP_CACHE},
            capture_output=True,
            text=True,
            timeout=600,
        )
        (folder / "build.json").write_text(json.dumps([done.returncode, done.stdout, done.stderr]))

    folder = once(factory, "distributions", build)
    code, out, err = json.loads((folder / "build.json").read_text())
    return folder / "dist", subprocess.CompletedProcess(["python", "-m", "build"], code, out, err)
