"""`check` lists the base's datasets/ once: the head's names are the base's plus the diff.

A pull request whose merge base is the base's tip (a branch up to date, or the merge commit
a CI service checks out) has exactly the base's files plus what `diff-tree` reports. The
head's `named` is derived from that instead of a second `git ls-tree -r` of every release
folder (docs/benchmarks.md, "check"). These tests compare the derived answer with git's own
listing of the head, on real repositories, for every kind of change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthgov.decision.sides import git_sides
from synthgov.git.history import Repository
from tests.helpers.git import commit, git
from tests.helpers.repos import write

ONE = "datasets/a/releases/1.0"
TWO = "datasets/b/releases/2.0"


def _listed(repo: Path, ref: str, prefix: str, name: str) -> list[str]:
    with Repository.open(repo) as opened:
        return opened.named(opened.resolve(ref), prefix, name)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    for path in (
        f"{ONE}/manifest.yaml",
        f"{ONE}/revocation.yaml",
        f"{TWO}/manifest.yaml",
        "datasets/c/releases/3.0/revocation.yaml",
        "datasets/a/card.yaml",
        "audit/checkpoints/x.yaml",
    ):
        write(tmp_path, path, f"{path}\n")
    commit(tmp_path, "base")
    git(tmp_path, "checkout", "-qb", "pr")
    return tmp_path


def test_the_heads_names_are_the_bases_plus_the_diff_as_git_lists_them(repo: Path) -> None:
    write(repo, f"{TWO}/revocation.yaml", "added\n")  # added
    (repo / f"{ONE}/revocation.yaml").unlink()  # deleted
    git(repo, "mv", "datasets/c/releases/3.0", "datasets/c/releases/3.1")  # renamed
    write(repo, f"{ONE}/manifest.yaml", "changed\n")  # modified
    write(repo, "audit/checkpoints/y.yaml", "outside the governance folders\n")
    commit(repo, "changes")
    with Repository.open(repo) as opened:
        sides = git_sides(opened, "main")
        for prefix, name in (
            ("datasets", "revocation.yaml"),
            ("datasets", "manifest.yaml"),
            ("datasets/a/releases", "manifest.yaml"),
            ("audit", "y.yaml"),
        ):
            expected = _listed(repo, "HEAD", prefix, name)
            assert sides.head_tree.find(prefix, name) == expected, (prefix, name)
            assert sides.base_tree.find(prefix, name) == _listed(repo, "main", prefix, name)
    assert expected == ["audit/checkpoints/y.yaml"]  # the last one: listed by git itself


def test_a_head_behind_a_moved_base_is_listed_by_git(repo: Path) -> None:
    write(repo, f"{TWO}/revocation.yaml", "on the pull request\n")
    commit(repo, "pr")
    git(repo, "checkout", "-q", "main")
    write(repo, "datasets/d/releases/1.0/revocation.yaml", "on main after the branch\n")
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "pr")
    with Repository.open(repo) as opened:
        sides = git_sides(opened, "main")
        found = sides.head_tree.find("datasets", "revocation.yaml")
    assert found == _listed(repo, "HEAD", "datasets", "revocation.yaml")
    assert "datasets/d/releases/1.0/revocation.yaml" not in found  # not on the head
    assert f"{TWO}/revocation.yaml" in found


def test_named_finds_whole_file_names_only_as_git_lists_them(repo: Path) -> None:
    """`named` answers "none" from one scan of the listing, and splits it only when a name
    is there: what it finds is what a filter of git's own listing finds."""
    listing = git(repo, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", "datasets/")
    names = [n for n in listing.split("\0") if n]
    with Repository.open(repo) as opened:
        head = opened.head()
        for name in ("revocation.yaml", "ation.yaml", "manifest.yaml", "releases", "a", "x"):
            expected = sorted(n for n in names if n.rsplit("/", 1)[-1] == name)
            assert opened.named(head, "datasets", name) == expected, name
        assert opened.named(head, "datasets", "revocation.yaml")  # found: the split path
        assert opened.named(head, "datasets", "ation.yaml") == []  # a suffix, not a name
