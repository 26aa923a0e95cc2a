"""Read-only access to a Git repository's objects, for `check` (and later `audit`).

Everything the gate trusts or judges is read from commit objects, never from the working
tree, so uncommitted edits, `.gitattributes` filters and symbolic links in a checkout cannot
change what is checked (signing.md §8, attacks 34–37, 42). One `git cat-file --batch`
process serves every object read: reading a file costs a few pipe round trips (one per
folder on its path and one for the file, each remembered by object id), whatever the
repository's size; a file's size is checked from its header before its bytes are kept.

Every git process runs with replace refs and grafts disabled and without the caller's
`GIT_DIR`-style variables, and a shallow repository is refused: each would change which
objects or which history git reports. Plain `git` rather than GitPython: GitPython cannot
read SHA-256 repositories (signing.md §8) and its object database is no faster here.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import subprocess
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, overload

from pydantic import BaseModel

from synthgov.errors import GitError, InputError, Location, Problem, printable
from synthgov.files import governance, layout
from synthgov.files.loading import Loaded, ModelT
from synthgov.files.paths import MAX_FILE_BYTES

#: Variables that would point git at other objects or another repository than `root`'s.
_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_PREFIX",
)
#: First bytes of a Git LFS pointer (current and pre-release spellings).
_LFS_POINTERS = (
    b"version https://git-lfs.github.com/spec/",
    b"version https://hawser.github.com/spec/",
)
_TREE, _SYMLINK, _GITLINK = "40000", "120000", "160000"
_RAW_TREE = "040000"  # a folder's mode as `git log --raw` prints it
_TREE_CACHE_BYTES = 16 << 20  # small folders, by the size of their tree objects
#: A folder whose tree object is this large (datasets/ and budgets/ hold one entry per
#: dataset) is searched for the one entry a path needs, never parsed whole for it: every
#: merge makes a new version of it, so parsing each would make a replay quadratic.
_LARGE_TREE = 4096
_LARGE_TREES = 64  # kept: a version is read by its commit and the next, rarely later
_NAMED_CACHE = 1 << 16
_BLOB_CACHE_BYTES = 32 << 20
_BATCH = 256  # object ids asked at once: far less than a pipe's 64 KiB
_PREFETCH = 1024  # a commit that changes more objects is read as it is judged
_STATUSES = frozenset("AMDT")
_COLLISION = (
    "differs from {other} only by case or Unicode normalisation; "
    "the two collide on case-insensitive file systems"
)


@dataclass(frozen=True)
class Change:
    """One governance path a pull request changes; `old_path` is set for renames only."""

    path: str
    status: str  # "A" added, "M" modified, "D" deleted, "R" renamed, "T" type change
    old_path: str | None = None


@dataclass(frozen=True)
class FirstParent:
    """A commit of a branch's first-parent history, as `audit` replays it."""

    sha: str
    tree: str
    time: int  # committer timestamp (a claim)
    parents: tuple[str, ...]
    changes: tuple[tuple[str, str], ...]  # governance (path, status) against the first parent
    paths: tuple[str, ...]  # every path changed against the first parent
    objects: tuple[str, ...] = ()  # its tree and the new ids of every folder and file changed


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env.update(
        GIT_NO_REPLACE_OBJECTS="1",  # refs/replace/* must not change what is read
        GIT_GRAFT_FILE=os.devnull,  # GIT_NO_REPLACE_OBJECTS leaves info/grafts in force
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
    )
    return env


def _first_line(stderr: bytes) -> str:
    lines = [
        line
        for line in stderr.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    text = lines[0] if lines else "git failed without a message"
    return printable(text.removeprefix("fatal: ").removeprefix("error: ").strip())


def git_config(root: Path, name: str) -> str | None:
    """A value of the user's git configuration as seen from `root` (None when unset): who
    the author is (`user.email`) and how they sign (`gpg.format`, `user.signingkey`)."""
    done = _run(root, {**os.environ}, ["config", "--get", name])
    value = done.stdout.decode("utf-8", "replace").strip()
    return value if done.returncode == 0 and value else None


def author_email(root: Path) -> str:
    """The author of what a command writes (BRIEF §9: `git config user.email`).

    Raises:
        UsageError: user.email is not set.
    """
    from synthgov.errors import UsageError

    email = git_config(root, "user.email")
    if email is None:
        raise UsageError(
            "the author is git's user.email, which is not set: "
            "git config user.email you@example.org"
        )
    return email


def fold(path: str) -> str:
    """The key under which case-insensitive, normalising file systems see a path as equal."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


_GOVERNANCE_FOLDED = {fold(top): top for top in layout.GOVERNANCE_DIRS}


class _CatFile:
    """A long-running `git cat-file --batch` process: each object's header (its size
    first), then its contents."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self._root, self._env = root, env
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._finalizer = weakref.finalize(self, _stop, self._procs)

    def close(self) -> None:
        self._finalizer()

    def _send(self, mode: str, oids: list[str]) -> IO[bytes]:
        """Ask for every object of `oids` in one write: the answers come in that order."""
        if not self._finalizer.alive:
            raise GitError("the repository was closed; open it again to read from it")
        proc = self._procs.get(mode)
        if proc is None:
            proc = self._procs[mode] = _start(self._root, self._env, mode)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(b"".join(oid.encode("ascii") + b"\n" for oid in oids))
            proc.stdin.flush()
        except OSError:
            raise GitError("git cat-file stopped unexpectedly") from None
        return proc.stdout

    def contents(self, oid: str) -> tuple[str, bytes] | None:
        """(type, bytes) of an object, or None when the repository lacks it."""
        found = self.limited(oid, None)
        return None if found is None or found[2] is None else (found[0], found[2])

    def limited(self, oid: str, limit: int | None) -> tuple[str, int, bytes | None] | None:
        """(type, size, bytes) of an object in one round trip, the bytes None when the size
        is over `limit` (read and dropped, never held); None when the repository lacks it."""
        return self.many([oid], limit)[0]

    def many(
        self, oids: list[str], limit: int | None
    ) -> list[tuple[str, int, bytes | None] | None]:
        """`limited` for several objects, one round trip per `_BATCH` of them (the
        questions of a batch are written before its first answer is read)."""
        found: list[tuple[str, int, bytes | None] | None] = []
        for at in range(0, len(oids), _BATCH):  # never more questions than the pipe holds
            chunk = oids[at : at + _BATCH]
            stream = self._send("--batch", chunk)
            found += [_answer(stream, oid, limit) for oid in chunk]
        return found


def _answer(stream: IO[bytes], oid: str, limit: int | None) -> tuple[str, int, bytes | None] | None:
    header = stream.readline()
    if not header.endswith(b"\n"):
        raise GitError("git cat-file stopped unexpectedly")
    found = _header(oid, header.split())
    if found is None:
        return None
    kind, size = found
    if limit is not None and size > limit:
        left = size + 1
        while left:
            chunk = stream.read(min(left, 1 << 20))
            if not chunk:
                raise GitError("git cat-file stopped unexpectedly")
            left -= len(chunk)
        return kind, size, None
    data = stream.read(size + 1)
    if len(data) != size + 1:
        raise GitError("git cat-file stopped unexpectedly")
    return kind, size, data[:-1]


def _start(root: Path, env: dict[str, str], mode: str) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", "-C", str(root), "cat-file", mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    procs.clear()


def _header(oid: str, fields: list[bytes]) -> tuple[str, int] | None:
    if len(fields) == 2 and fields[1] == b"missing":
        return None
    if len(fields) != 3 or not fields[2].isdigit():
        raise GitError(f"git cat-file gave an unexpected answer for {oid}")
    return fields[1].decode("ascii"), int(fields[2])


TreeEntries = dict[str, tuple[str, str]]  # entry name -> (mode, object id)


def _parse_tree(data: bytes, oid_bytes: int) -> TreeEntries:
    """Git's binary tree format: `<mode> <name>\\0<raw id>` repeated."""
    entries: TreeEntries = {}
    at = 0
    try:
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            end = nul + 1 + oid_bytes
            if end > len(data):
                raise ValueError
            name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
            if name in entries:  # git reads it two ways (show: the first; checkout: the last)
                raise GitError(f"corrupt tree object in the repository: two entries named {name!r}")
            entries[name] = (data[at:space].decode("ascii"), data[nul + 1 : end].hex())
            at = end
    except (ValueError, UnicodeDecodeError):
        raise GitError("corrupt tree object in the repository") from None
    return entries


@functools.lru_cache(maxsize=2)
def _entries(oid_bytes: int) -> re.Pattern[bytes]:
    """Whole tree entries, `<mode> <name>\\0<raw id>` repeated, as `_parse_tree` reads
    them: a mode has no space and a name no NUL, so bytes split into entries one way only."""
    return re.compile(rb"(?:[0-7]+ [^\0]+\0.{%d})*+" % oid_bytes, re.DOTALL)


class _LargeTree:
    """A large tree object kept as its bytes, an entry found where its name occurs.

    A name can also occur inside another entry (a file named `1 ds-0001` holds
    ` ds-0001\\0`), so an occurrence counts only where an entry starts: where the bytes
    before it are whole entries (`_entries`, a regular expression: C, no object per entry),
    found from the nearest position already known to start one. A lookup scans at most
    the tree once, in C; parsing it whole in Python costs ten to twenty times more.
    """

    def __init__(self, data: bytes, oid_bytes: int) -> None:
        self.data, self.oid_bytes = data, oid_bytes
        self.pattern = _entries(oid_bytes)
        if self.pattern.fullmatch(data) is None:
            raise GitError("corrupt tree object in the repository")
        self.starts = [0]  # positions known to start an entry, sorted
        self.found: dict[str, tuple[str, str] | None] = {}

    def get(self, name: str) -> tuple[str, str] | None:
        """(mode, id) of the entry `name`, the first of that name as git resolves a path."""
        if name not in self.found:
            self.found[name] = self._find(name.encode("utf-8", "surrogateescape"))
        return self.found[name]

    def _find(self, name: bytes) -> tuple[str, str] | None:
        """The entry `name`; a second entry of that name is a corrupt tree, which git reads
        two ways (`git show` the first, a checkout the last), so the rest is searched too."""
        data, needle = self.data, b" " + name + b"\0"
        found: tuple[str, str] | None = None
        at = data.find(needle) if name else -1
        while at != -1:
            start = self._last_start(at)  # the entry `at` is in, if it is in its mode
            end = at + len(needle) + self.oid_bytes
            if start < at and data[start:at].isdigit() and end <= len(data):
                if found is not None:
                    shown = name.decode("utf-8", "replace")
                    raise GitError(
                        f"corrupt tree object in the repository: two entries named {shown!r}"
                    )
                found = data[start:at].decode("ascii"), data[end - self.oid_bytes : end].hex()
            at = data.find(needle, at + 1)
        return found

    def _last_start(self, at: int) -> int:
        """The last position at or before `at` that starts an entry."""
        known = self.starts[bisect.bisect_right(self.starts, at) - 1]
        match = self.pattern.match(self.data, known, at)  # whole entries only, up to `at`
        start = known if match is None else match.end()
        if start != known:
            bisect.insort(self.starts, start)
        return start


def _parts(path: str) -> list[str]:
    parts = path.split("/")
    if not path or any(part in ("", ".", "..") for part in parts) or "\0" in path:
        raise InputError.at(path or "(empty path)", "not a repository-relative file path")
    return parts


def _check_mode(path: str, mode: str) -> None:
    """Refuse an entry that is not a regular file: links are never followed, folders not read."""
    if mode == _SYMLINK:
        raise InputError.at(path, "is a symbolic link; governance files must be regular files")
    if mode == _GITLINK:
        raise InputError.at(
            path, "is a submodule (gitlink); governance files must be regular files"
        )
    if mode == _TREE:
        raise InputError.at(path, "is a folder, not a file")
    if not mode.startswith("100"):
        raise InputError.at(path, f"has the unsupported Git file mode {mode}")


class Repository:
    """Read-only view of a git repository: commits, blobs, diffs. All reads come from git
    objects, never the working tree. Use as a context manager, or call `close()`."""

    def __init__(self, root: Path, env: dict[str, str], hex_length: int) -> None:
        self.root = root
        self._env = env
        self._hex = re.compile(rf"[0-9a-f]{{{hex_length}}}")
        self._oid_bytes = hex_length // 2
        self._cat = _CatFile(root, env)
        self._trees: OrderedDict[str, tuple[TreeEntries, int]] = OrderedDict()  # and size
        self._tree_bytes = 0
        self._large: OrderedDict[str, _LargeTree] = OrderedDict()
        self._commit_trees: dict[str, str] = {}
        self._named_in: dict[tuple[str, str], tuple[str, ...]] = {}
        self._merge_bases: dict[tuple[str, str], str] = {}  # commits never change
        #: refs resolved ahead by `resolve_ahead`, each taken once by the next look-up
        self._ahead: dict[str, str] = {}
        #: the last `ls-tree` of `named`: (commit, folder) and its output, which serves a
        #: folder below it too (`check` lists `datasets/`, then one dataset's releases)
        self._listed: tuple[tuple[str, str], bytes] | None = None
        self._blobs: OrderedDict[str, bytes] = OrderedDict()  # checked blobs, by id
        self._blob_bytes = 0
        #: trees and files looked at, from git or from memory: the work of a run, which
        #: `audit` keeps proportional to what each commit changed (tests count it)
        self.visits = 0

    # --- opening and refs ---------------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Repository:
        """Open the repository at `root`.

        Raises:
            GitError: not a Git repository, git missing or too old, or a shallow clone (its
                history is incomplete, so merge bases and authors cannot be trusted).
        """
        env = _environment()
        if not root.is_dir():
            raise GitError(f"cannot read the Git repository at {root}: no such folder")
        args = ["rev-parse", "--is-shallow-repository", "--show-object-format"]
        done = _run(root, env, args)
        if done.returncode != 0:
            raise GitError(f"cannot read the Git repository at {root}: {_first_line(done.stderr)}")
        lines = done.stdout.decode("utf-8", "replace").split()
        if not lines or lines[0] not in ("true", "false"):
            raise GitError(
                "cannot tell whether the repository is shallow; synthgov needs git 2.15 or newer"
            )
        if lines[0] == "true":
            raise GitError(
                f"{root} is a shallow clone: its history is incomplete, so changes cannot be "
                "checked; fetch the full history (actions/checkout: fetch-depth: 0)"
            )
        hex_length = 64 if lines[1:2] == ["sha256"] else 40
        return cls(root, env, hex_length)

    def close(self) -> None:
        self._cat.close()
        self._blobs.clear()  # a closed repository reads nothing, not even from memory
        self._blob_bytes = 0

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return _run(self.root, self._env, list(args))

    def _commit_or_none(self, ref: str) -> str | None:
        """The commit `ref` names, None when none does; GitError when it is ambiguous."""
        if not ref or ref.startswith("-") or any(ord(c) < 32 or c == "\x7f" for c in ref):
            return None  # never an option, never a second line of input
        if ref in self._ahead:
            return self._ahead.pop(ref)
        done = self._git("rev-parse", "--verify", f"{ref}^{{commit}}")
        if b"is ambiguous" in done.stderr:  # git would silently prefer a tag over a branch
            raise GitError(
                f"ref '{printable(ref)}' is ambiguous (a branch and a tag?); "
                "name it in full, e.g. refs/heads/main"
            )
        sha = done.stdout.decode("ascii", "replace").strip()
        return sha if done.returncode == 0 and self._hex.fullmatch(sha) else None

    def resolve_ahead(self, *refs: str) -> None:
        """Resolve `refs` in ONE `git rev-parse` for the `resolve` and `head` calls that
        follow (`check` names a base and a head: one process less). Only a clean answer is
        kept, a commit id for each ref and no warning: a ref that does not name exactly one
        commit, or is ambiguous, is left to its own look-up and its own message."""
        if not refs or any(
            not r or r.startswith("-") or any(ord(c) < 32 or c == "\x7f" for c in r) for r in refs
        ):
            return
        done = self._git("rev-parse", *(f"{r}^{{commit}}" for r in refs), "--")
        lines = done.stdout.decode("ascii", "replace").splitlines()
        said = [n for n in done.stderr.splitlines() if n.strip() and not n.startswith(b"hint:")]
        if done.returncode != 0 or said or lines[len(refs) :] != ["--"]:
            return  # a warning ("refname 'main' is ambiguous"), an error, a range
        if all(self._hex.fullmatch(sha) for sha in lines[: len(refs)]):
            self._ahead.update(zip(refs, lines, strict=False))

    def resolve(self, ref: str, what: str = "base ref") -> str:
        """The full commit id `ref` names (a branch, tag, sha, `HEAD~2`...).

        Raises:
            GitError: no commit by that name.
        """
        sha = self._commit_or_none(ref)
        if sha is None:
            raise GitError(f"unknown {what} '{printable(ref)}': no commit by that name")
        return sha

    def head(self) -> str:
        """HEAD's commit id (a detached HEAD works).

        Raises:
            GitError: HEAD has no commit yet.
        """
        sha = self._commit_or_none("HEAD")
        if sha is None:
            raise GitError("HEAD has no commit yet; commit the changes to check first")
        return sha

    def default_base(self) -> str:
        """The ref `check` uses without `--base`: `origin/HEAD` if it exists, else `main`.

        Fully qualified, so that a tag or a file named `main` cannot stand in for the branch.
        The trust root is this ref's tip; `changed` diffs from its merge base with HEAD.

        Raises:
            GitError: neither exists.
        """
        for ref in ("refs/remotes/origin/HEAD", "refs/heads/main"):
            if self._commit_or_none(ref) is not None:
                return ref
        raise GitError(
            "no base to check against: neither origin/HEAD nor main exists; pass --base REF"
        )

    def _commit(self, commit: str) -> str:
        return commit if self._hex.fullmatch(commit) else self.resolve(commit, "ref")

    def merge_base(self, a: str, b: str) -> str:
        """The best common ancestor of two commits.

        Raises:
            GitError: the histories are unrelated, or a commit is unknown.
        """
        a, b = self._commit(a), self._commit(b)
        if (a, b) in self._merge_bases:  # `check` asks twice: for the diff and the history
            return self._merge_bases[a, b]
        done = self._git("merge-base", a, b)
        sha = done.stdout.decode("ascii", "replace").strip()
        if done.returncode == 1 and not sha:
            raise GitError(f"{a[:12]} and {b[:12]} share no history (unrelated histories)")
        if done.returncode != 0 or not self._hex.fullmatch(sha):
            raise GitError(
                f"cannot find the merge base of {a[:12]} and {b[:12]}: {_first_line(done.stderr)}"
            )
        self._merge_bases[a, b] = sha
        return sha

    # --- changes ------------------------------------------------------------------------

    def changed(self, base: str, head: str) -> list[Change]:
        """Governance paths changed by `merge-base(base, head)..head` (BRIEF §10.4), sorted.

        A rename across the edge of the governance folders is reported as the add or the
        delete it is from the gate's side.

        Raises:
            GitError: unknown commits or unrelated histories.
            InputError: a path present at head collides with another under case folding and
                Unicode normalisation (also a top folder such as `Datasets/`), one problem each.
        """
        head = self._commit(head)
        start = self.merge_base(base, head)
        done = self._git(
            "diff-tree", "-r", "-z", "--name-status", "-M", "--ignore-submodules=none", start, head
        )
        if done.returncode != 0:
            raise GitError(f"cannot diff {start[:12]}..{head[:12]}: {_first_line(done.stderr)}")
        changes = _governed(_parse_name_status(done.stdout))
        problems = self._collisions(head, sorted(c.path for c in changes if c.status != "D"))
        if problems:
            raise InputError(problems)
        return sorted(changes, key=lambda c: c.path)

    def _collisions(self, head: str, paths: list[str]) -> list[Problem]:
        """Entries on the way to `paths` at `head` that a case-insensitive or normalising
        checkout would merge with a sibling: one problem per colliding pair."""
        problems: list[Problem] = []
        seen: set[frozenset[str]] = set()
        folded: dict[str, dict[str, list[str]]] = {}  # shared by the paths: see `_folded`
        for path in paths:
            top = path.split("/", 1)[0]
            pairs = [] if top in layout.GOVERNANCE_DIRS else [(top, _GOVERNANCE_FOLDED[fold(top)])]
            for entry, other in [*pairs, *self._sibling_collisions(head, path, folded)]:
                if frozenset((entry, other)) not in seen:
                    seen.add(frozenset((entry, other)))
                    problems.append(Problem(Location(entry), _COLLISION.format(other=other)))
        return problems

    def _sibling_collisions(
        self, commit: str, path: str, folded: dict[str, dict[str, list[str]]]
    ) -> list[tuple[str, str]]:
        """(entry, sibling) for each prefix of `path` at `commit` whose folder holds another
        name that folds equal to it. `folded`: each folder's names by their folded key, by
        the folder's id, kept across the paths of one change (`_folded`)."""
        found: list[tuple[str, str]] = []
        oid: str | None = self._root_tree(commit)
        prefix = ""
        for part in path.split("/"):
            if oid is None:
                break
            names = self._folded(oid, folded).get(fold(part), [])
            found += [(prefix + part, prefix + n) for n in names if n != part]
            mode, child = self._child(oid, part) or ("", "")
            oid = child if mode == _TREE else None
            prefix += part + "/"
        return found

    def _folded(self, oid: str, folded: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
        """The names of the folder `oid` by their folded key, sorted, made once per run:
        `datasets/` and `budgets/` hold 1,000 names each, a large tree that `_tree` would
        parse whole again for every path a pull request changes below them."""
        if oid not in folded:
            by_key: dict[str, list[str]] = {}
            for name in sorted(self._tree(oid)):
                by_key.setdefault(fold(name), []).append(name)
            folded[oid] = by_key
        return folded[oid]

    def log(
        self, revisions: str, prefix: str, *, merges: bool = False, limit: int | None = None
    ) -> list[tuple[str, list[str]]]:
        """(commit, paths it changes under `prefix`) for the commits of `revisions` (e.g.
        `start..head`), newest first. Merges are left out unless `merges`, and then listed
        with the paths where they differ from every parent (an "evil merge" adds content
        no parent had; a clean merge lists nothing).

        Raises:
            GitError: unknown revisions.
        """
        shape = ["--diff-merges=dense-combined"] if merges else ["--no-merges"]
        count = [f"--max-count={limit}"] if limit else []
        done = self._git(
            "log",
            "-z",
            *shape,
            *count,
            "--no-renames",
            "--format=%x01%H",
            "--name-only",
            revisions,
            "--",
            prefix,
        )
        if done.returncode != 0:
            raise GitError(f"cannot read the history of {prefix}: {_first_line(done.stderr)}")
        found = []
        for record in done.stdout.split(b"\x01")[1:]:
            sha, _, names = record.partition(b"\0")
            paths = [
                _utf8(n.decode("utf-8", "surrogateescape"))
                for n in names.strip(b"\n").split(b"\0")
                if n
            ]
            found.append((sha.decode("ascii"), paths))
        return found

    def raw_changes(self, revisions: str) -> list[tuple[str, list[RawChange]]]:
        """(commit, its changes with blob ids, renames and copies detected) for the
        non-merge commits of `revisions`, children before parents (`--topo-order`, which
        no commit date can reorder): one `git log` for the whole range, every path.

        Raises:
            GitError: unknown revisions.
        """
        done = self._git(
            "log",
            "-z",
            "--raw",
            "--no-abbrev",
            "-M",
            "-C",
            "--no-merges",
            "--topo-order",
            "--format=%x01%H",
            revisions,
            "--",
        )
        if done.returncode != 0:
            raise GitError(f"cannot read the history of {revisions}: {_first_line(done.stderr)}")
        found = []
        for record in done.stdout.split(b"\x01")[1:]:
            sha, _, rest = record.partition(b"\0")
            found.append((sha.decode("ascii"), _parse_raw(rest.lstrip(b"\n"))))
        return found

    def first_parent(self, revisions: str) -> list[FirstParent]:
        """The first-parent commits of `revisions` (e.g. `main` or `A..main`), oldest first,
        each with the governance paths it changes against its first parent (all of them
        for a root): one `git log` for the whole history, for `audit`.

        Raises:
            GitError: unknown revisions.
        """
        if revisions.startswith("-") or any(ord(c) < 32 for c in revisions):
            raise GitError(f"unknown range '{printable(revisions)}'")
        done = self._git(
            "log",
            "-z",
            "--first-parent",
            "--diff-merges=first-parent",
            "--no-renames",
            "--raw",
            "-t",  # the folders too: their new ids, for `prefetch`
            "--no-abbrev",
            "--reverse",
            "--format=%x01%H %T %ct %P",
            revisions,
            "--",
        )
        if done.returncode != 0:
            raise GitError(f"unknown range '{printable(revisions)}': {_first_line(done.stderr)}")
        found = []
        for record in done.stdout.split(b"\x01")[1:]:
            header, _, rest = record.partition(b"\0")
            sha, tree, time, *parents = header.decode("ascii").split()
            if self._hex.fullmatch(sha) and self._hex.fullmatch(tree):
                self._commit_trees[sha] = tree  # no commit object to read for its tree
            raw = _parse_raw(rest.lstrip(b"\n"))
            entries: list[tuple[str, str, str | None]] = [
                (c.status, c.path, None) for c in raw if _RAW_TREE not in c.modes
            ]
            changes = tuple((c.path, c.status) for c in _governed(entries))
            new = (c.blob for c in raw if self._hex.fullmatch(c.blob) and c.blob.strip("0"))
            found.append(
                FirstParent(
                    sha,
                    tree,
                    int(time),
                    tuple(parents),
                    changes,
                    tuple(path for _, path, _ in entries),
                    (tree, *new),
                )
            )
        return found

    def first_parent_ids(self, revision: str) -> set[str]:
        """The ids of `revision`'s first-parent history, from one `git rev-list`: whether a
        commit is still on main without listing what every commit changed.

        Raises:
            GitError: unknown revision.
        """
        done = self._git("rev-list", "--first-parent", self._commit(revision), "--")
        if done.returncode != 0:
            raise GitError(f"cannot list the history of {revision}: {_first_line(done.stderr)}")
        return set(done.stdout.decode("ascii", "replace").split())

    def paths_changed(self, commit: str) -> list[str]:
        """Every path a non-merge commit changes against its parent (all of them for a root)."""
        done = self._git(
            "diff-tree",
            "-z",
            "-r",
            "--root",
            "--no-commit-id",
            "--name-only",
            "--no-renames",
            self._commit(commit),
        )
        if done.returncode != 0:
            raise GitError(f"cannot list the changes of {commit[:12]}: {_first_line(done.stderr)}")
        return [_utf8(n.decode("utf-8", "surrogateescape")) for n in done.stdout.split(b"\0") if n]

    def commit_object(self, commit: str) -> bytes:
        """The exact bytes of a commit object, as signed (never a re-serialisation)."""
        return self._object(self._commit(commit), "commit")

    # --- reading objects ----------------------------------------------------------------

    def read(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at `path` in `commit`, or None when there is no such path.

        The size is checked from the object header before the content is read.

        Raises:
            InputError: the path is (or passes through) a symbolic link or a submodule, is a
                folder, is larger than MAX_FILE_BYTES, or is a Git LFS pointer.
        """
        self.visits += 1
        entry = self._entry(commit, path)
        if entry is None:
            return None
        mode, oid = entry
        _check_mode(path, mode)
        cached = self._blobs.get(oid)
        if cached is not None:  # an unchanged file of an earlier commit: no git round trip
            self._blobs.move_to_end(oid)
            return cached
        found = self._cat.limited(oid, MAX_FILE_BYTES)  # one round trip, size checked first
        if found is None:
            raise GitError(f"object {oid} is missing from the repository")
        kind, size, content = found
        if kind != "blob":
            raise InputError.at(path, f"is a Git {kind} object, not a file")
        if content is None:
            raise InputError.at(
                path, f"file is larger than the {MAX_FILE_BYTES // 1024} KiB limit ({size} bytes)"
            )
        data = content
        if data.startswith(_LFS_POINTERS):
            raise InputError.at(
                path, "is a Git LFS pointer, not the file; commit governance files without LFS"
            )
        self._remember_blob(oid, data)
        return data

    def _remember_blob(self, oid: str, data: bytes) -> None:
        self._blobs[oid] = data
        self._blob_bytes += len(data)
        while self._blob_bytes > _BLOB_CACHE_BYTES:
            self._blob_bytes -= len(self._blobs.popitem(last=False)[1])

    def folder_id(self, commit: str, prefix: str) -> str | None:
        """The object id of the folder `prefix` at `commit` (None when absent): equal ids,
        equal contents, so what is derived from a folder can be cached across commits."""
        entry = self._entry(commit, prefix.strip("/"))
        return entry[1] if entry is not None and entry[0] == _TREE else None

    def named(self, commit: str, prefix: str, name: str) -> list[str]:
        """Paths under `prefix` at `commit` whose file name is `name`, from ONE `git ls-tree`
        (listing a large tree folder by folder would cost a round trip per folder).

        Raises:
            GitError: unknown commit.
        """
        commit, folder = self._commit(commit), prefix.strip("/") + "/"
        output = self._listing(commit, folder)
        # matched as bytes, decoded when matched: a large tree lists 20,000 names for a few
        wanted = name.encode("utf-8", "surrogateescape")
        suffix = b"/" + wanted
        listed = b"\0" + output.rstrip(b"\0") + b"\0"  # every name between two NULs
        if wanted and suffix + b"\0" not in listed and b"\0" + wanted + b"\0" not in listed:
            return []  # none (a repository's revocations, mostly): one scan, no split
        within = folder.encode("utf-8", "surrogateescape")
        found = (
            n
            for n in output.split(b"\0")
            if (n == wanted or n.endswith(suffix)) and n.startswith(within)
        )
        return sorted(_utf8(n.decode("utf-8", "surrogateescape")) for n in found)

    def _listing(self, commit: str, folder: str) -> bytes:
        """`git ls-tree -r -z --name-only commit -- folder`, or the part of the last one
        (of `commit` and a folder above `folder`) that lies under `folder`: the paths that
        start with it, which is what git lists for it. They are one run of the listing
        (git lists depth first), cut out between the first and the last (`named` still
        checks each), so that a 22,000-name listing is not split for a dozen names."""
        if self._listed is not None:
            (at, above), output = self._listed
            if at == commit and folder.startswith(above):
                listed, within = b"\0" + output, b"\0" + folder.encode("utf-8", "surrogateescape")
                first = listed.find(within)
                if first < 0:
                    return b""
                end = listed.find(b"\0", listed.rfind(within) + 1)
                return listed[first + 1 : end if end >= 0 else len(listed)] + b"\0"
        done = self._git("ls-tree", "-r", "-z", "--name-only", commit, "--", folder)
        if done.returncode != 0:
            raise GitError(f"cannot list {folder} at {commit[:12]}: {_first_line(done.stderr)}")
        self._listed = (commit, folder), done.stdout
        return done.stdout

    def prefetch(self, objects: Iterable[str]) -> None:
        """Read the folders and files of `objects` not yet remembered in one round trip
        (a commit's new objects, `FirstParent.objects`): what deciding a commit reads of
        what it changed (`audit`). Nothing is judged here: a file that `read` would refuse
        is left for `read` to refuse, and a commit that changes a great many is read as
        it is judged.
        """
        known = (self._trees, self._large, self._blobs)
        wanted = [o for o in dict.fromkeys(objects) if not any(o in k for k in known)]
        if len(wanted) > _PREFETCH:
            return
        for oid, found in zip(wanted, self._cat.many(wanted, MAX_FILE_BYTES), strict=True):
            kind, data = (found[0], found[2]) if found is not None else ("", None)
            if data is None:
                continue
            if kind == "tree":
                with suppress(GitError):  # a corrupt tree is refused when it is read
                    self._remember_tree_object(oid, data)
            elif kind == "blob" and not data.startswith(_LFS_POINTERS):
                self._remember_blob(oid, data)

    def find_named(self, commit: str, prefix: str, name: str) -> list[str]:
        """Paths under `prefix` at `commit` whose file name is `name`, as `named` gives
        them, from the object reader, remembered per folder id: across the commits of a
        history only the folders a commit changed are read again (what `audit` needs;
        `named`'s one `ls-tree` is cheaper for a single commit).

        Raises:
            InputError: the folder or one on the way is a symbolic link or a submodule.
        """
        folder = prefix.strip("/")
        tree = self._folder_tree(commit, folder)
        if tree is None:
            return []
        return sorted(_utf8(f"{folder}/{p}") for p in self._named_under(tree, name))

    def _named_under(self, oid: str, name: str) -> tuple[str, ...]:
        key = (oid, name)
        found = self._named_in.get(key)
        if found is None:
            paths: list[str] = []
            for entry, (mode, child) in self._tree(oid).items():
                if mode == _TREE:
                    paths += (f"{entry}/{p}" for p in self._named_under(child, name))
                elif entry == name:
                    paths.append(entry)
            if len(self._named_in) >= _NAMED_CACHE:
                self._named_in.clear()
            found = self._named_in[key] = tuple(paths)
        return found

    def list_files(self, commit: str, prefix: str) -> list[str]:
        """Paths of every non-folder entry under the folder `prefix` at `commit`, sorted.

        Symbolic links and submodules are listed too (reading them then refuses them), so
        that nothing under a governance folder is silently skipped. A missing folder is [].

        Raises:
            InputError: the folder or one on the way is a symbolic link or a submodule.
        """
        folder = prefix.strip("/")
        oid = self._folder_tree(commit, folder)
        if oid is None:
            return []
        tree = self._tree(oid)
        found: list[str] = []
        stack = [(f"{folder}/" if folder else "", tree)]
        while stack:
            here, current = stack.pop()
            for name, (mode, oid) in current.items():
                if mode == _TREE:
                    stack.append((f"{here}{name}/", self._tree(oid)))
                else:
                    found.append(_utf8(here + name))
        return sorted(found)

    def _folder_tree(self, commit: str, folder: str) -> str | None:
        """The tree id of `folder` at `commit` (the root's for ""); None when it is absent
        or not a folder.

        Raises:
            InputError: the folder or one on the way is a symbolic link or a submodule.
        """
        if not folder:
            return self._root_tree(commit)
        entry = self._entry(commit, folder)
        if entry is None:
            return None
        if entry[0] in (_SYMLINK, _GITLINK):
            _check_mode(folder, entry[0])
        return entry[1] if entry[0] == _TREE else None

    def _entry(self, commit: str, path: str) -> tuple[str, str] | None:
        """(mode, id) of `path` in `commit`, walking one folder at a time; None when absent."""
        parts = _parts(path)
        tree = self._root_tree(commit)
        for depth, part in enumerate(parts[:-1]):
            mode, oid = self._child(tree, part) or ("", "")
            if mode in (_SYMLINK, _GITLINK):
                _check_mode("/".join(parts[: depth + 1]), mode)
            if mode != _TREE:
                return None
            tree = oid
        return self._child(tree, parts[-1])

    def _root_tree(self, commit: str) -> str:
        if commit not in self._commit_trees:
            if not self._hex.fullmatch(commit):
                raise GitError(f"'{printable(commit)}' is not a full commit id")
            data = self._object(commit, "commit")
            match = re.match(rb"tree ([0-9a-f]+)\n", data)
            if match is None or not self._hex.fullmatch(match.group(1).decode("ascii")):
                raise GitError(f"corrupt commit object {commit}")
            self._commit_trees[commit] = match.group(1).decode("ascii")
        return self._commit_trees[commit]

    def _tree(self, oid: str) -> TreeEntries:
        """Every entry of a tree (a large one is parsed whole here, and not kept so)."""
        self.visits += 1
        kept = self._trees.get(oid)
        if kept is not None:
            self._trees.move_to_end(oid)
            return kept[0]
        large = self._large.get(oid)
        if large is not None:
            return _parse_tree(large.data, self._oid_bytes)
        found = self._remember_tree_object(oid, self._object(oid, "tree"))
        return found if isinstance(found, dict) else _parse_tree(found.data, self._oid_bytes)

    def _child(self, oid: str, name: str) -> tuple[str, str] | None:
        """(mode, id) of the entry `name` of a tree, None when it has none."""
        self.visits += 1
        kept = self._trees.get(oid)
        if kept is not None:
            self._trees.move_to_end(oid)
            return kept[0].get(name)
        large = self._large.get(oid)
        if large is not None:
            self._large.move_to_end(oid)
            return large.get(name)
        return self._remember_tree_object(oid, self._object(oid, "tree")).get(name)

    def _remember_tree_object(self, oid: str, data: bytes) -> TreeEntries | _LargeTree:
        """Keep a tree object read from git: a small one parsed, a large one as it is."""
        if len(data) >= _LARGE_TREE:
            large = self._large[oid] = _LargeTree(data, self._oid_bytes)
            if len(self._large) > _LARGE_TREES:
                self._large.popitem(last=False)
            return large
        tree = _parse_tree(data, self._oid_bytes)
        self._trees[oid] = (tree, len(data))
        self._tree_bytes += len(data)
        while self._tree_bytes > _TREE_CACHE_BYTES:
            self._tree_bytes -= self._trees.popitem(last=False)[1][1]
        return tree

    def _object(self, oid: str, kind: str) -> bytes:
        found = self._cat.contents(oid)
        if found is None:
            raise GitError(f"object {oid} is missing from the repository")
        if found[0] != kind:
            raise GitError(f"object {oid} is a {found[0]}, expected a {kind}")
        return found[1]


def _run(root: Path, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None


def _parse_name_status(out: bytes) -> list[tuple[str, str, str | None]]:
    """(status letter, path, old path) from `diff-tree -z --name-status -M` output."""
    fields = out.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    entries: list[tuple[str, str, str | None]] = []
    at = 0
    while at < len(fields):
        status = fields[at].decode("ascii", "replace")[:1]
        if status == "R" and at + 2 < len(fields):
            old, new = (f.decode("utf-8", "surrogateescape") for f in fields[at + 1 : at + 3])
            entries.append(("R", new, old))
            at += 3
        elif status in _STATUSES and at + 1 < len(fields):
            entries.append((status, fields[at + 1].decode("utf-8", "surrogateescape"), None))
            at += 2
        else:
            raise GitError(f"unexpected git diff-tree output: {fields[at]!r}")
    return entries


@dataclass(frozen=True)
class RawChange:
    """One entry of `git log --raw`: `old_path` for renames (R) and copies (C) only."""

    status: str  # A, M, D, T, R or C
    path: str  # the path after the change (before it, for a deletion)
    old_path: str | None
    blob: str  # the new content's object id (all zeros for a deletion)
    modes: tuple[str, str] = ("", "")  # (before, after); a folder's is 040000 (`-t`)


def _parse_raw(out: bytes) -> list[RawChange]:
    """`:<mode> <mode> <old id> <new id> <status>\\0<path>\\0[<new path>\\0]` entries."""
    fields = out.split(b"\0")
    entries: list[RawChange] = []
    at = 0
    while at < len(fields):
        header = fields[at]
        if not header.strip():
            at += 1
            continue
        parts = header.decode("ascii", "replace").split()
        if not header.startswith(b":") or len(parts) != 5:
            raise GitError(f"unexpected git log output: {header[:80]!r}")
        status, blob, modes = parts[4][:1], parts[3], (parts[0].lstrip(":"), parts[1])
        names = [f.decode("utf-8", "surrogateescape") for f in fields[at + 1 : at + 3]]
        if status in "RC" and len(names) == 2:
            entries.append(RawChange(status, names[1], names[0], blob, modes))
            at += 3
        elif names:
            entries.append(RawChange(status, names[0], None, blob, modes))
            at += 2
        else:
            raise GitError(f"unexpected git log output: {header[:80]!r}")
    return entries


def _in_governance(path: str) -> bool:
    """Under policy/, datasets/ or budgets/, or a case/normalisation variant of one."""
    return fold(path.split("/", 1)[0]) in _GOVERNANCE_FOLDED


def _governed(entries: list[tuple[str, str, str | None]]) -> list[Change]:
    changes: list[Change] = []
    for status, path, old in entries:
        new_in, old_in = _in_governance(path), old is not None and _in_governance(old)
        if status == "R" and old is not None:
            if new_in and old_in:
                changes.append(Change(_utf8(path), "R", _utf8(old)))
            elif new_in:
                changes.append(Change(_utf8(path), "A"))
            elif old_in:
                changes.append(Change(_utf8(old), "D"))
        elif new_in:
            changes.append(Change(_utf8(path), status))
    return changes


def _utf8(path: str) -> str:
    """Refuse a governance path that is not UTF-8 (git paths are bytes; ours are text)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise InputError.at(printable(shown), "path is not valid UTF-8") from None
    return path


# --- governance files from commits --------------------------------------------------------


@overload
def load_at(
    repository: Repository, commit: str, path: str, kind: None = None
) -> Loaded[BaseModel]: ...
@overload
def load_at(
    repository: Repository, commit: str, path: str, kind: type[ModelT]
) -> Loaded[ModelT]: ...
def load_at(
    repository: Repository, commit: str, path: str, kind: type[BaseModel] | None = None
) -> Loaded[Any]:
    """Load a governance file from a commit's objects, with the rules of `governance.load`.

    Raises:
        InputError: missing at that commit, unsafe, malformed, invalid, or misplaced.
    """
    raw = repository.read(commit, path)
    if raw is None:
        raise InputError.at(path, f"no such file at commit {commit[:12]}")
    return governance.load_bytes(raw, path, kind)
