"""Reading and writing files inside the governance repository, and nowhere else.

Every path the user or a file names is resolved against the repository root: no absolute
paths outside it, no `..`, no symbolic link anywhere on the way (BRIEF: "no paths out of
the repository, no following symlinks"). Size limits are enforced while reading, so a file
that grows between the check and the read cannot slip past them.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path, PurePosixPath

from synthgov.errors import InputError

#: Governance files are small; anything larger is refused before parsing (BRIEF §5).
MAX_FILE_BYTES = 1024 * 1024


def find_root(start: Path) -> Path:
    """The repository root: the nearest ancestor of `start` holding `.git`, else `start`."""
    start = start.absolute()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def relative_to_root(root: Path, path: str | Path) -> PurePosixPath:
    """The repository-relative form of `path`, refusing anything that could leave the root.

    Raises:
        InputError: the path is absolute outside the root, contains `..`, or is empty.
    """
    text = str(path)
    shown = text or "(empty path)"
    if not text or "\0" in text:
        raise InputError.at(shown, "expected a file path")
    candidate = Path(text)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(root.absolute())
        except ValueError:
            raise InputError.at(text, f"path is outside the repository {root}") from None
    parts = PurePosixPath(candidate.as_posix()).parts
    if any(part == ".." for part in parts):
        raise InputError.at(text, "path must not contain '..'")
    clean = PurePosixPath(*[p for p in parts if p != "."]) if parts else PurePosixPath()
    return clean


def _check_no_symlinks(root: Path, rel: PurePosixPath) -> Path:
    """Walk `rel` from the root with lstat so that no component may be a symlink."""
    current = root
    for part in rel.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return root / Path(*rel.parts)
        if stat.S_ISLNK(mode):
            raise InputError.at(
                rel.as_posix(), f"refusing to follow the symbolic link {current.relative_to(root)}"
            )
    return current


def read_bytes(root: Path, path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file inside `root`, refusing symlinks and files over `max_bytes`.

    Raises:
        InputError: outside the root, a symlink, not a regular file, missing, or too large.
    """
    rel = relative_to_root(root, path)
    shown = rel.as_posix()
    full = _check_no_symlinks(root, rel)
    try:
        if not stat.S_ISREG(os.lstat(full).st_mode):  # a FIFO would block open() forever
            raise InputError.at(shown, "not a regular file")
        fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise InputError.at(shown, "no such file") from None
    except OSError as exc:
        raise InputError.at(shown, f"cannot open: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError.at(shown, "not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError.at(shown, f"file is larger than the {max_bytes // 1024} KiB limit")
    return data


def read_user_file(path: Path, expected: str, max_bytes: int | None = None) -> bytes:
    """Read a file the user named on the command line (a table, a key), outside the repository.

    Raises:
        InputError: missing, not a regular file (`expected` says what it should be), or larger
            than `max_bytes`.
    """
    shown = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError.at(shown, f"not a regular file; expected {expected}")
        with open(path, "rb") as handle:
            raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError.at(shown, "no such file") from None
    except OSError as exc:
        raise InputError.at(shown, f"cannot read: {exc.strerror}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise InputError.at(shown, f"larger than {max_bytes // 1024} KiB; not {expected}")
    return raw


def write_new(root: Path, path: str | Path, data: bytes) -> Path:
    """Create a file inside `root` atomically; never overwrite what the user wrote.

    Raises:
        InputError: the path leaves the root, crosses a symlink, or the file already exists.
    """
    rel = relative_to_root(root, path)
    try:
        return _write_new(root, rel, data)
    except OSError as exc:  # a folder that is a file, no permission, read-only file system
        raise InputError.at(rel.as_posix(), f"cannot write: {exc.strerror or exc}") from None


def _write_new(root: Path, rel: PurePosixPath, data: bytes) -> Path:
    full = _check_no_symlinks(root, rel)
    if os.path.lexists(full):
        raise InputError.at(rel.as_posix(), "already exists; refusing to overwrite it")
    full.parent.mkdir(parents=True, exist_ok=True)
    _check_no_symlinks(root, rel)  # parents may have been created just now
    fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=".synthgov-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; a new file gets the usual mode
        os.link(tmp, full)  # fails if `full` appeared meanwhile, unlike os.replace
    except FileExistsError:
        raise InputError.at(rel.as_posix(), "already exists; refusing to overwrite it") from None
    finally:
        os.unlink(tmp)
    return full


def remove_file(root: Path, path: str | Path) -> bool:
    """Remove the regular file `path` of the repository, never through a symbolic link;
    False when there is none.

    Raises:
        InputError: the path leaves the repository or passes through a symbolic link.
    """
    full = _check_no_symlinks(root, relative_to_root(root, path))
    if not full.is_file():
        return False
    full.unlink()
    return True


def replace_file(root: Path, path: str | Path, old: bytes, new: bytes) -> None:
    """Atomically replace a file that must still hold `old`, keeping its mode (no lost edits).

    Raises:
        InputError: the path leaves the root, crosses a symlink, the file changed meanwhile,
            or it cannot be written (no permission, a read-only file system, a full disk).
    """
    shown = relative_to_root(root, path).as_posix()
    if read_bytes(root, path) != old:
        raise InputError.at(shown, "changed while synthgov was editing it; nothing was written")
    try:
        _replace(root / relative_to_root(root, path), new)
    except OSError as exc:
        raise InputError.at(
            shown, f"cannot write: {exc.strerror or exc}; nothing was written"
        ) from None


def _replace(full: Path, new: bytes) -> None:
    mode = stat.S_IMODE(os.stat(full, follow_symlinks=False).st_mode)
    fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=".synthgov-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, full)  # never follows a symlink at `full`
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    current = os.umask(0)
    os.umask(current)
    return current


def iter_files(root: Path, top: str) -> list[PurePosixPath]:
    """Every regular file under `root/top`, sorted, without descending into symlinks.

    Symlinks are returned too (so that callers report them) but never followed.
    """
    base = root / top
    if base.is_symlink():
        return [PurePosixPath(top)]  # reported by the reader, never followed
    if not base.is_dir():
        return []
    found: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for name in filenames:
            if not name.startswith("."):
                found.append(PurePosixPath((here / name).relative_to(root).as_posix()))
        for name in dirnames:
            if (here / name).is_symlink():
                found.append(PurePosixPath((here / name).relative_to(root).as_posix()))
    return sorted(found)
