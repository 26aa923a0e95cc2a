"""The two sides a decision compares: the trust root's files and the head's.

A `Tree` reads a file and lists a folder, from a commit or from the working tree, so that
`check`, `audit`, `status` and the predictions of `release new` judge the same way
whatever they read from. `Sides` is a comparison in Git: the base, the head and what
changed between them (BRIEF §10.4).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

from pydantic import BaseModel

from synthgov.decision.parse_cache import ParseCache
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded, ModelT
from synthgov.files.paths import iter_files, read_bytes
from synthgov.git.history import Repository
from synthgov.git.provenance import Provenance
from synthgov.models import KINDS

#: The kinds of file that belong to one release (and make it part of a decision).
RELEASE_KINDS = ("manifest", "report", "approval", "waiver", "revocation", "revalidation")


#: Every document parsed in this process, by its bytes, path and kind: 6 MiB of small
#: documents (a replay of 1,000 datasets reads its cards, ledgers and manifests again
#: within some 4.5 MiB of them) and 1 MiB of large ones (a replay parses each report
#: once). A parsed document takes some 20 times its bytes: 1 MiB costs about 23 MiB.
PARSED: ParseCache[tuple[bytes, str, type[BaseModel] | None], Loaded[BaseModel]] = ParseCache(
    6 << 20, 1 << 20
)


@overload
def parsed(raw: bytes, path: str, kind: None) -> Loaded[BaseModel]: ...
@overload
def parsed(raw: bytes, path: str, kind: type[ModelT]) -> Loaded[ModelT]: ...
def parsed(raw: bytes, path: str, kind: type[BaseModel] | None) -> Loaded[Any]:
    """Parse and validate once per content: `policy_impact` judges every release twice and
    the releases of one dataset share their card and ledger. Loaded models are frozen, and
    the answer depends on the bytes alone, so the cache holds no state of a run.

    Raises:
        InputError: the file does not load (see `governance.load_bytes`).
    """
    if kind is None:  # the kind the path names: one cache entry whoever asks
        placed = layout.classify(path)
        kind = KINDS[placed.kind] if placed is not None else None
    return PARSED.get((raw, path, kind), len(raw), lambda: governance.load_bytes(raw, path, kind))


def loads(raw: bytes, path: str, kind: type[ModelT]) -> Loaded[ModelT] | None:
    """The file, or None when it does not load (a `files` finding blocks then)."""
    try:
        return parsed(raw, path, kind)
    except InputError:
        return None


def kind_of(path: str) -> str | None:
    placed = layout.classify(path)
    return placed.kind if placed else None


def release_of(path: str) -> str | None:
    """`dataset@version` of a release's file, None for any other path."""
    placed = layout.classify(path)
    if placed is None or placed.kind not in RELEASE_KINDS or "version" not in placed.ids:
        return None  # not a release's file (a policy, card or budget approval)
    return str(Release(placed.ids["dataset"], placed.ids["version"]))


@dataclass(frozen=True)
class Tree:
    """One side of the comparison: how to read a file and list a folder."""

    read: Callable[[str], bytes | None]
    list: Callable[[str], list[str]]
    #: Paths under a folder with a given file name, in one go (git: one `ls-tree`).
    named: Callable[[str, str], builtins.list[str]] | None = None
    #: A content id of a folder (git: its tree id), to cache what is derived from it.
    folder_id: Callable[[str], str | None] | None = None

    def find(self, prefix: str, name: str) -> builtins.list[str]:
        if self.named is not None:
            return self.named(prefix, name)
        return [p for p in self.list(prefix) if p.rsplit("/", 1)[-1] == name]

    @overload
    def load(self, path: str, kind: None = None) -> Loaded[BaseModel]: ...
    @overload
    def load(self, path: str, kind: type[ModelT]) -> Loaded[ModelT]: ...
    def load(self, path: str, kind: type[BaseModel] | None = None) -> Loaded[Any]:
        raw = self.read(path)
        if raw is None:
            raise InputError.at(
                path,
                "missing"
                + (
                    ": a release needs its manifest.yaml, report.json and card"
                    if path.startswith("datasets/")
                    else ""
                ),
            )
        return parsed(raw, path, kind)


def working_tree(root: Path) -> Tree:
    """The files as they are on disk (`--no-git`, and a release not yet committed)."""

    def read(path: str) -> bytes | None:
        full = root / path
        return read_bytes(root, path) if full.exists() or full.is_symlink() else None

    return Tree(read, lambda prefix: [p.as_posix() for p in iter_files(root, prefix)])


def commit_tree(repo: Repository, commit: str, *, named: bool = False) -> Tree:
    """The files of one commit; `named` lists file names in one `git ls-tree`."""
    return Tree(
        lambda p: repo.read(commit, p),
        lambda prefix: repo.list_files(commit, prefix),
        (lambda prefix, name: repo.named(commit, prefix, name)) if named else None,
        lambda prefix: repo.folder_id(commit, prefix),
    )


@dataclass(frozen=True)
class Sides:
    """A comparison in Git: the trust root's commit, the head, what changed between them."""

    base: str
    head: str
    changes: list[tuple[str, str]]  # (path, status) of `merge-base(base, head)..head`
    base_tree: Tree
    head_tree: Tree
    provenance: Provenance


def git_sides(repo: Repository, base_ref: str | None, head_ref: str | None = None) -> Sides:
    """`base_ref` (default: origin/HEAD, else main) against `head_ref` (default: HEAD)."""
    base_ref = base_ref or repo.default_base()
    repo.resolve_ahead(base_ref, head_ref or "HEAD")
    base = repo.resolve(base_ref)
    head = repo.resolve(head_ref, "ref") if head_ref else repo.head()
    changed = repo.changed(base, head)
    changes = [(c.path, c.status) for c in changed]
    changes += [(c.old_path, "D") for c in changed if c.status == "R" and c.old_path]
    start = repo.merge_base(base, head)
    provenance = Provenance(repo, start, head)
    base_tree = commit_tree(repo, base, named=True)
    head_tree = commit_tree(repo, head, named=True)
    if start == base:
        # The head is the base plus `changes`: its names are derived from the base's, not
        # listed again (listing datasets/ reads every release's folder: 22,000 names at
        # 10,000 releases), and the base's are listed once for both.
        listed = _remembered(lambda prefix, name: repo.named(base, prefix, name))
        base_tree = replace(base_tree, named=listed)
        own = _named_after(listed, changes, lambda prefix, name: repo.named(head, prefix, name))
        head_tree = replace(head_tree, named=own)
    return Sides(base, head, changes, base_tree, head_tree, provenance)


def _remembered(
    named: Callable[[str, str], builtins.list[str]],
) -> Callable[[str, str], builtins.list[str]]:
    found: dict[tuple[str, str], builtins.list[str]] = {}

    def remembered(prefix: str, name: str) -> builtins.list[str]:
        if (prefix, name) not in found:
            found[prefix, name] = named(prefix, name)
        return list(found[prefix, name])

    return remembered


def _named_after(
    named: Callable[[str, str], builtins.list[str]],
    changes: builtins.list[tuple[str, str]],
    listing: Callable[[str, str], builtins.list[str]],
) -> Callable[[str, str], builtins.list[str]]:
    """`named` of a commit that is the base's commit plus `changes` (every governance path
    that `diff-tree -r` reports between them, renames as a delete and an add); `listing`
    lists the commit itself, for a folder outside the governance folders."""

    def after(prefix: str, name: str) -> builtins.list[str]:
        folder = prefix.strip("/") + "/"
        if folder.split("/", 1)[0] not in layout.GOVERNANCE_DIRS:
            return listing(prefix, name)  # `changes` holds governance paths only
        mine = {p for p, _ in changes if p.startswith(folder) and p.rsplit("/", 1)[-1] == name}
        gone = {p for p, status in changes if status == "D"}
        kept = {p for p, status in changes if status != "D"}
        return sorted((set(named(prefix, name)) - gone) | (mine & kept))

    return after
