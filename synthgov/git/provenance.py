"""Who touched what in a pull request, and which commits carry an approval (git adapter).

The approvals gate needs three things from history, all between the merge base `start`
and `head`: the commits that made someone an author (BRIEF §10.2: commits that touch what
is approved outside its approval files, evil merges included), the signed commits that
carry an approval file as it is at head, and the earlier versions of approval files (a
reject removed or overwritten in the pull request still stands). Commits are raw objects,
so signatures are verified over the exact bytes git stored.
"""

from __future__ import annotations

from synthgov.errors import SignatureError
from synthgov.files import layout
from synthgov.git.history import RawChange, Repository
from synthgov.signing import commits

#: Commits examined per approval file when looking for a signed carrier.
MAX_CARRIERS = 20


def _is_approval(path: str) -> bool:
    placed = layout.classify(path)
    return placed is not None and placed.kind == "approval"


class Provenance:
    """The pull request's history between `start` (the merge base) and `head`."""

    def __init__(self, repo: Repository, start: str, head: str) -> None:
        self.repo, self.start, self.head = repo, start, head
        self._range = f"{start}..{head}"
        self._raw: list[tuple[str, list[RawChange]]] | None = None

    def carriers(self, path: str, data: bytes, author_email: str) -> tuple[bytes, ...]:
        """Commits of the pull request (newest first) that set `path` to exactly `data`,
        authored by `author_email` and changing nothing but approval files: a commit
        carrier is the reviewer's own approval commit, never a commit that also edits
        the release or one the reviewer merely re-signed."""
        found = []
        for sha, _ in self.repo.log(self._range, path, limit=MAX_CARRIERS):
            if self.repo.read(sha, path) != data:
                continue
            raw = self.repo.commit_object(sha)
            try:
                author = commits.author_emails(raw)[0]
            except SignatureError:
                continue
            if author.casefold() != author_email.casefold():
                continue
            if all(_is_approval(p) for p in self.repo.paths_changed(sha)):
                found.append(raw)
        return tuple(found)

    def author_commits(self, *prefixes: str) -> tuple[bytes, ...]:
        """Commits of the pull request, evil merges included, that change files under
        `prefixes` other than approval files, and those that wrote what was moved or
        copied there (`moved_in`)."""
        found: dict[str, bytes] = {}
        for prefix in prefixes:
            for sha, paths in self.repo.log(self._range, prefix, merges=True):
                if sha not in found and any(not _is_approval(p) for p in paths):
                    found[sha] = self.repo.commit_object(sha)
        if self._raw is None:  # one `git log` per run, shared by every release
            self._raw = self.repo.raw_changes(self._range)
        for sha in moved_in(self._raw, prefixes):
            if sha not in found:
                found[sha] = self.repo.commit_object(sha)
        return tuple(found.values())

    def past_approvals(self, prefix: str, current: dict[str, bytes]) -> list[tuple[str, bytes]]:
        """(path, bytes) of every version of an approval file under `prefix` on the merge
        base or set by a commit of the pull request, other than the version at head."""
        versions: dict[tuple[str, bytes], None] = {}
        for sha, paths in self.repo.log(self._range, prefix):  # one git process, blobs batched
            for path in sorted(p for p in paths if _is_approval(p)):
                data = self.repo.read(sha, path)
                if data is not None:
                    versions[(path, data)] = None
        versions.update(dict.fromkeys(base_approvals(self.repo, self.start, prefix)))
        return [(p, d) for p, d in versions if current.get(p) != d]


#: Git's id of the empty file: sharing it says nothing about who wrote what.
_EMPTY_BLOBS = frozenset(
    {
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813",
    }
)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def moved_in(history: list[tuple[str, list[RawChange]]], prefixes: tuple[str, ...]) -> list[str]:
    """Commits (of `history`, children first) that touched what ended up under `prefixes`
    outside approval files: directly, or by writing content that a later commit moved or
    copied there. A rename or copy (git's detection, which tolerates small edits) makes its
    source path part of the release for every older commit; content moved verbatim is
    also followed by its blob id, which no rename limit or edit of the old path hides.
    Deleting a source path is not writing it."""
    paths: set[str] = set()
    blobs: set[str] = set()
    found = []
    for sha, changes in history:
        touched = False
        for change in changes:
            direct = _under(change.path, prefixes) and not _is_approval(change.path)
            if change.status == "D":
                touched |= direct
                continue
            if direct or change.path in paths or change.blob in blobs:
                touched = True
                paths.add(change.path)
                if change.old_path is not None:
                    paths.add(change.old_path)
                if change.blob not in _EMPTY_BLOBS:
                    blobs.add(change.blob)
        if touched:
            found.append(sha)
    return found


def base_approvals(repo: Repository, commit: str, prefix: str) -> list[tuple[str, bytes]]:
    """(path, bytes) of every approval file under `prefix` at `commit` (the merge base)."""
    found = []
    for path in repo.list_files(commit, prefix):
        data = repo.read(commit, path) if _is_approval(path) else None
        if data is not None:
            found.append((path, data))
    return found
