"""`make demo` runs `python -m synthgov.demo`: it must walk the whole path and pass."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_demo_walks_the_path_and_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "synthgov.demo"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("verdict: PASS - every governance file is valid")
    assert done.stdout.count("-> exit 0") == 6
    assert "Traceback" not in done.stdout + done.stderr
