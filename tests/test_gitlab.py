"""`synthgov init --ci gitlab` and the job it writes, run on a real repository.

The scaffolded .gitlab-ci.yml is validated with check-jsonschema's GitLab CI schema; its
check job's script runs as GitLab would run it (bash, the merge request's predefined
variables), with this tree's synthgov on PATH in place of the hash-locked install, and
the reports it hands GitLab are read back: the Code Quality report against GitLab's
documented fields (tests/data/gitlab-codequality.schema.json), the JUnit report against
junit-10.xsd.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import xmlschema
import yaml
from jsonschema import Draft7Validator

from synthgov import __version__
from synthgov.commands.init import GITLAB_TEMPLATES
from tests.helpers import ROOT
from tests.helpers.cli import Synthgov
from tests.helpers.git import commit, git
from tests.helpers.repos import add_release, make_base
from tests.helpers.samples import RELEASE, with_metric

BIN = Path(sys.executable).parent
DATA = Path(__file__).parent / "data"


def scaffold(synthgov: Synthgov, target: Path, *extra: str) -> dict[str, object]:
    result = synthgov("init", "--ci", "gitlab", *extra, str(target))
    assert result.code == 0, result.err
    config: dict[str, object] = yaml.safe_load((target / ".gitlab-ci.yml").read_text())
    return config


def test_init_for_gitlab_writes_gitlab_files_and_no_github_ones(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    target = tmp_path / "gov"
    result = synthgov("init", "--ci", "gitlab", str(target))
    assert result.code == 0, result.err
    written = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert set(GITLAB_TEMPLATES) <= written
    assert not (target / ".github").exists()
    assert ".gitlab/synthgov-requirements.in" in result.err  # the lock, in the next steps
    locked = (target / ".gitlab/synthgov-requirements.in").read_text().splitlines()
    assert [line for line in locked if not line.startswith("#")] == [f"synthgov[dp]=={__version__}"]
    assert synthgov("validate", cwd=target).code == 0


def test_the_gitlab_job_validates_against_gitlab_ci_schema(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    scaffold(synthgov, tmp_path / "gov")
    done = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.gitlab-ci",
            str(tmp_path / "gov" / ".gitlab-ci.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gitlab_job_hands_gitlab_its_reports_even_when_the_gate_blocks(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    """Never skipped, reports kept when the job fails, installs only hash-checked bytes."""
    config = scaffold(synthgov, tmp_path / "gov")
    job = config["synthgov-check"]
    assert isinstance(job, dict)
    assert job["artifacts"]["when"] == "always"
    reports = job["artifacts"]["reports"]
    assert reports == {
        "codequality": "gl-code-quality-report.json",
        "junit": "synthgov-junit.xml",
    }
    assert "changes" not in str(job["rules"])
    base = config[".synthgov"]
    assert isinstance(base, dict)
    [install] = [line for line in base["before_script"] if "pip install" in line]
    assert "--require-hashes" in install and "-r .gitlab/synthgov-requirements.txt" in install
    assert config["variables"] == {"GIT_DEPTH": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run_job(
    repo: Path, config: dict[str, object], **variables: str
) -> subprocess.CompletedProcess[str]:
    """The check job's script as a GitLab runner runs it, with `synthgov` this tree's."""
    job = config["synthgov-check"]
    assert isinstance(job, dict)
    shims = repo.parent / "shims"
    shims.mkdir(exist_ok=True)
    shim = shims / "synthgov"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m synthgov "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        **variables,
    }
    return subprocess.run(
        ["bash", "-e", "-c", "\n".join(job["script"])],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_blocked_merge_request_gets_code_quality_issues_on_its_own_files(
    tmp_path: Path, repo: Path, synthgov: Synthgov
) -> None:
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    config = scaffold(synthgov, repo, "--skip-existing")  # beside the policy on main
    git(repo, "add", "-A")
    commit(repo, "synthgov init --ci gitlab")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")
    add_release(repo, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    main = git(repo, "rev-parse", "main").strip()

    done = run_job(repo, config, CI_MERGE_REQUEST_DIFF_BASE_SHA=main)

    assert done.returncode == 1, done.stdout + done.stderr  # blocked: the job fails
    assert "privacy.mia_auc" in done.stdout  # the text report, in the job log
    issues = json.loads((repo / "gl-code-quality-report.json").read_text())
    schema = json.loads((DATA / "gitlab-codequality.schema.json").read_text())
    assert not [e.message for e in Draft7Validator(schema).iter_errors(issues)]
    [mia] = [i for i in issues if i["check_name"] == "privacy.mia_auc"]
    assert mia["severity"] == "blocker"
    assert mia["location"]["path"] == f"{RELEASE}/report.json"  # changed by the request
    for issue in issues:
        assert (repo / issue["location"]["path"]).is_file(), issue
    junit = (repo / "synthgov-junit.xml").read_text()
    assert not list(xmlschema.XMLSchema(DATA / "junit-10.xsd").iter_errors(junit))

    again = run_job(repo, config, CI_MERGE_REQUEST_DIFF_BASE_SHA=main)
    assert again.returncode == 1
    assert json.loads((repo / "gl-code-quality-report.json").read_text()) == issues


def test_a_github_action_pin_for_a_gitlab_scaffold_is_refused_and_writes_nothing(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    result = synthgov("init", "--ci", "gitlab", "--action-sha", sha, str(tmp_path / "gov"))
    assert result.code == 2 and "--ci github only" in result.err
    assert not (tmp_path / "gov").exists()
