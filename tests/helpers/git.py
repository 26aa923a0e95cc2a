"""Real git in a folder: run it, commit (unsigned, or signed by a reviewer's key), merge."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.signing import Person


def git(cwd: Path, *args: str) -> str:
    """Run real git in `cwd` and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def commit(repo: Path, message: str) -> None:
    """Commit everything in `repo`, unsigned."""
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", message)


def sha(repo: Path, ref: str = "HEAD") -> str:
    return git(repo, "rev-parse", ref).strip()


def merge(repo: Path) -> None:
    """Merge the pull request branch `pr` into main with a merge commit."""
    git(repo, "checkout", "-q", "main")
    git(repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "pr", "-m", "merge pr")


def signed_commit(repo: Path, person: Person, message: str, **env: str) -> None:
    """A commit by `person` (author and committer), signed with their key."""
    git(repo, "add", "-A")
    who = {"GIT_AUTHOR_EMAIL": person.email, "GIT_COMMITTER_EMAIL": person.email}
    subprocess.run(
        [
            "git",
            "-c",
            "gpg.format=ssh",
            "-c",
            f"user.signingkey={person.key}",
            "commit",
            "-S",
            "-qm",
            message,
        ],
        cwd=repo,
        check=True,
        env={**os.environ, **who, **env},
    )
