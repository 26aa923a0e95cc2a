"""`make demo` runs `python -m synthgov.demo`: it must walk the whole release path and pass."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def test_demo_walks_the_path_and_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "synthgov.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("verdict: PASS - all 18 steps behaved as expected"), last
    assert done.stdout.count("(as expected)") == 18
    assert done.stdout.count("-> exit 1 (as expected)") == 2  # missing approvals, leaky release
    for step in ("release new claims 1.0", "approve claims@1.0", "audit", "catalog --out"):
        assert f"$ synthgov {step}" in done.stdout, step
    assert "blocked by: " in done.stdout and "privacy.exact_copy_excess" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "warning: no reviewer holds the role policy-admin" not in done.stdout + done.stderr
    assert "--role privacy-reviewer --role policy-admin" in done.stdout  # in the first commit
