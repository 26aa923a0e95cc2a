"""The git processes `check` starts for a one-release pull request, counted from git's own
trace (`GIT_TRACE`: every git process writes one `built-in:` line), on a real repository.

Each process costs a fork and git's start-up (about 1.5 ms here): the base and the head
are resolved in one `rev-parse`, and `datasets/` is listed once for the folders below it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthgov.errors import GitError
from synthgov.git.history import Repository
from tests.helpers.cli import Synthgov, check
from tests.helpers.git import git, sha
from tests.helpers.repos import add_release, make_base, write

#: the processes of `check --base main` for one release (docs/benchmarks.md, "check")
GIT_PROCESSES = 9


def _git_processes(trace: Path) -> list[str]:
    lines = trace.read_text(encoding="utf-8").splitlines()
    return [line.split("built-in: ", 1)[1] for line in lines if "trace: built-in: git " in line]


def test_a_one_release_check_starts_9_git_processes(
    synthgov: Synthgov, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What stops a look-up that could share a process from growing back: base and head
    in two `rev-parse --verify`, and a second `ls-tree` of a folder inside the first's."""
    make_base(repo)
    add_release(repo)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    result = check(synthgov, repo)
    assert result.code == 0, result.err
    processes = _git_processes(trace)
    assert len(processes) == GIT_PROCESSES, "\n".join(processes)
    assert [p for p in processes if p.startswith("git rev-parse '")] == [
        "git rev-parse 'main^{commit}' 'HEAD^{commit}' --"
    ]
    assert len([p for p in processes if p.startswith("git ls-tree")]) == 1


def test_a_folder_served_from_a_listing_above_it_holds_only_its_own_paths(repo: Path) -> None:
    """`named` of `datasets/claims/` after `datasets/` (one `ls-tree`) gives what its own
    `ls-tree` gives: not `datasets/claims2/`, whose name starts the same."""
    for path in ("datasets/claims/card.yaml", "datasets/claims2/card.yaml", "x/card.yaml"):
        write(repo, path, "card\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "cards")
    head = sha(repo)
    with Repository.open(repo) as repository:
        assert repository.named(head, "datasets/", "card.yaml") == [
            "datasets/claims/card.yaml",
            "datasets/claims2/card.yaml",
        ]
        served = repository.named(head, "datasets/claims", "card.yaml")
        elsewhere = repository.named(head, "x/", "card.yaml")
    with Repository.open(repo) as alone:
        assert served == alone.named(head, "datasets/claims", "card.yaml")
    assert served == ["datasets/claims/card.yaml"]
    assert elsewhere == ["x/card.yaml"]


def test_refs_resolved_together_keep_their_own_errors(repo: Path) -> None:
    """A pair that does not resolve cleanly in one `rev-parse` (an ambiguous name, an
    unknown one) is resolved alone, with the message each has alone."""
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    git(repo, "tag", "main")
    with Repository.open(repo) as repository:
        repository.resolve_ahead("main", "HEAD")
        with pytest.raises(GitError, match="'main' is ambiguous"):
            repository.resolve("main")
        repository.resolve_ahead("nowhere", "HEAD")
        with pytest.raises(GitError, match="unknown base ref 'nowhere'"):
            repository.resolve("nowhere")
        assert repository.head() == sha(repo)
