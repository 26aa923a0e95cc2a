"""Shared fixtures: an isolated environment (no user git config, no writes to ~) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from synthgov.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, a throwaway HOME, fixed identities (as pre-commit's tests do)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "author@example.org")
    monkeypatch.delenv("SYNTHGOV_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def synthgov(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
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


def git(cwd: Path, *args: str) -> str:
    """Run real git in `cwd` and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def commit(repo: Path, message: str) -> None:
    """Commit everything in `repo`, unsigned."""
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", message)


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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty real git repository."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path
