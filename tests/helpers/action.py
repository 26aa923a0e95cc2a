"""The root action.yml's bash steps, run as a GitHub runner runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def step_script(needle: str) -> str:
    """The `run` script of the action's one bash step that contains `needle`."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if needle in s.get("run", "")]
    assert step["shell"] == "bash"
    run: str = step["run"]
    return run


def run_install_step(
    tmp_path: Path, requirements: Path, env: Mapping[str, str] = {}, timeout: int = 600
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The action's install step from `requirements`, with this Python first on PATH; the
    finished process and the virtual environment it made."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step_script("pip install")],
        env={
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(runner_temp),
            "REQUIREMENTS": str(requirements),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, runner_temp / "synthgov-venv"
