"""The synthgov composite action (action.yml): it installs only the bytes its lock names,
and its check step hands the workflow the annotations, the job summary and the SARIF.

Its steps are run as GitHub runs them (bash -eo pipefail). The install step runs offline:
pip may only find a wheel built here (PIP_NO_INDEX, PIP_FIND_LINKS), so that a lock
without hashes, with a wrong hash or missing altogether is seen to stop the gate before
anything is installed, and a correct one to install. The check step runs on a real
repository, on GitHub's merge commit of a pull request, with this tree's synthgov where
the install step puts it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import ROOT
from tests.helpers.action import run_install_step, step_script
from tests.helpers.git import git, merge, sha
from tests.helpers.repos import add_release, make_base
from tests.helpers.samples import RELEASE, with_metric


def tiny_wheel(folder: Path) -> Path:
    """A real wheel of a package `tiny` 1.0 (what an index would serve)."""
    folder.mkdir()
    path = folder / "tiny-1.0-py3-none-any.whl"
    info = "tiny-1.0.dist-info"
    files = {
        "tiny/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def install(tmp_path: Path, lock: str | None) -> tuple[subprocess.CompletedProcess[str], Path]:
    wheels = tiny_wheel(tmp_path / "index").parent
    requirements = tmp_path / "synthgov-requirements.txt"
    if lock is not None:
        requirements.write_text(lock)
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    return run_install_step(tmp_path, requirements, offline, timeout=300)


def installed(venv: Path) -> bool:
    return any(venv.glob("lib/python*/site-packages/tiny/__init__.py"))


def test_a_locked_hash_installs(tmp_path: Path) -> None:
    wheel = tiny_wheel(tmp_path / "built")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    done, venv = install(tmp_path, f"tiny==1.0 \\\n    --hash=sha256:{digest}\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(venv)


@pytest.mark.parametrize(
    ("lock", "says"),
    [
        ("tiny==1.0\n", "Hashes are required in --require-hashes mode"),
        (f"tiny==1.0 --hash=sha256:{'0' * 64}\n", "DO NOT MATCH THE HASHES"),
        ("tiny --hash=sha256:" + "0" * 64 + "\n", "must have their versions pinned"),
    ],
    ids=["no hash", "another archive's hash", "no exact version"],
)
def test_the_gate_never_installs_bytes_its_lock_does_not_name(
    tmp_path: Path, lock: str, says: str
) -> None:
    """Whoever controls the index (or the name on it) must not control the gate."""
    done, venv = install(tmp_path, lock)
    assert done.returncode != 0
    assert says in done.stdout + done.stderr
    assert not installed(venv)


def test_without_a_lock_the_gate_stops_and_says_how_to_make_one(tmp_path: Path) -> None:
    done, venv = install(tmp_path, None)
    assert done.returncode == 2
    assert done.stdout.startswith("::error file=")
    assert "synthgov lock" in done.stdout and "docs/ci.md" in done.stdout
    assert not venv.exists()


def test_the_check_step_annotates_summarises_and_writes_sarif_on_a_blocked_pull_request(
    tmp_path: Path, repo: Path
) -> None:
    """On a pull request (GitHub checks out the merge commit: the base is its first
    parent) the step exits 1, its outputs say so, the annotations reach the log, the
    Markdown report is appended to the job summary and the SARIF is valid."""
    make_base(repo)
    add_release(repo, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    merge(repo)  # what actions/checkout fetches for a pull request: refs/pull/N/merge
    runner_temp = tmp_path / "runner-temp"
    venv_bin = runner_temp / "synthgov-venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "synthgov").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m synthgov "$@"\n')
    (venv_bin / "synthgov").chmod(0o755)
    summary, outputs = tmp_path / "step-summary.md", tmp_path / "github-output"
    summary.write_text("## an earlier step\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "EVENT_NAME": "pull_request",
        "MERGE_GROUP_BASE": "",
        "PUSH_BEFORE": "",
        "PR_AUTHOR": "someone-else",
        "SARIF": str(runner_temp / "synthgov.sarif"),
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step_script('synthgov" check')],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"::error file={RELEASE}/report.json," in done.stdout
    assert outputs.read_text().splitlines() == [
        "exit-code=1",
        f"sarif={runner_temp / 'synthgov.sarif'}",
    ]
    text = summary.read_text()
    assert text.startswith("## an earlier step\n") and "blocked (exit 1)" in text
    log = json.loads((runner_temp / "synthgov.sarif").read_text())
    schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    assert any(r["ruleId"] == "privacy.mia_auc" for r in log["runs"][0]["results"])
    assert sha(repo, "HEAD^1") != sha(repo, "pr")  # the base was main, not the branch
    assert git(repo, "status", "--porcelain") == ""  # nothing written into the checkout
