"""The CLI in process, through its real error boundary: the `synthgov` fixture's type and
the commands the tests run through it (check, audit, approve as a reviewer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from synthgov.cli import main
from tests.helpers import ROOT, signing


@dataclass
class Result:
    code: int
    out: str
    err: str


class Synthgov(Protocol):
    """The `synthgov` fixture: synthgov(*args, cwd=dir) runs the CLI in `cwd`."""

    def __call__(self, *args: str, cwd: Path | None = None) -> Result: ...


def in_process(capsys: pytest.CaptureFixture[str]) -> Synthgov:
    """Run the CLI in process through its real error boundary: synthgov(*args, cwd=dir)."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        capsys.readouterr()
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(list(args))
        finally:
            os.chdir(old)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_in(repo: Path, *args: str, identity: str | None = None) -> int:
    """The CLI in process in `repo` (`-C`), as `identity`@example.org when given (git's
    author and committer for the commits it makes)."""
    env = (
        {}
        if not identity
        else {
            f"GIT_{role}_{key}": value
            for role in ("AUTHOR", "COMMITTER")
            for key, value in (("NAME", identity), ("EMAIL", f"{identity}@example.org"))
        }
    )
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return main(["-C", str(repo), *args])
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def approve_as(repo: Path, name: str, *extra: str, target: str = "claims@1.0") -> int:
    """`synthgov approve` of `target` by `name` with their key, in their role, as them."""
    person = signing.people()[name]
    return run_in(
        repo,
        "approve",
        target,
        "--role",
        person.roles[0],
        "--key",
        str(person.key),
        *extra,
        identity=name,
    )


def check(synthgov: Synthgov, repo: Path, *args: str) -> Result:
    return synthgov("check", "--base", "main", *args, cwd=repo)


def as_json(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.out)
    return data


def gate(synthgov: Synthgov, repo: Path, *args: str) -> dict[str, Any]:
    """`check --format json`: its document, asserting the exit code matches the verdict."""
    result = check(synthgov, repo, "--format", "json", *args)
    assert result.code in (0, 1), result.err
    data = as_json(result)
    assert (result.code == 1) == (data["verdict"] == "blocked")
    return data


def messages(data: dict[str, Any]) -> str:
    """Every release finding's message in a `check` document, one a line."""
    return "\n".join(f["message"] for r in data["releases"] for f in r["findings"])


def audit(synthgov: Synthgov, repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`synthgov audit`'s exit code and JSON document (asserting it ran: 0 or 1)."""
    result = synthgov("audit", *args, cwd=repo)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def audit_verdicts(synthgov: Synthgov, repo: Path) -> dict[tuple[str, str], str]:
    """(release, commit) -> the verdict `synthgov audit` decided for it there."""
    _, document = audit(synthgov, repo)
    return {
        (r["release"], d["commit"]): d["verdict"]
        for r in document["releases"]
        for d in r["decisions"]
    }


def release_new_args(
    dataset: str, version: str, synthetic: str, data: Mapping[str, Path]
) -> list[str]:
    """`release new` of the worked example's tables (`examples.claims_tables`): the
    synthetic table named, the real and holdout ones and the generator as every test
    releases them."""
    return [
        "release",
        "new",
        dataset,
        version,
        "--synthetic",
        synthetic,
        "--real",
        str(data["train"]),
        "--holdout",
        str(data["holdout"]),
        "--generator",
        "aim",
        "--generator-version",
        "0.16.0",
        "--seed",
        "7",
    ]


def fresh_python(
    script: str,
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT ARGS` in a fresh interpreter that imports this tree's synthgov:
    for what a run imports or sets up before its first line, which a test's own process
    has long done, and for a Dask cluster under a deadline (`timeout`), so that one that
    never answers fails the test instead of hanging the suite."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
    )
