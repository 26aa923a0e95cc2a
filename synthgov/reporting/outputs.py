"""Writing what a user asked for where they asked: `check --output` and `--format
FORMAT=PATH`, the job summary `check` appends to, `evaluate -o`, `audit --out`,
`catalog --out`.

Outputs may live outside the repository (unlike `paths`), but they are only ever regular
files: an existing FIFO, device, socket, folder or symbolic link at the path is refused
with one line, never replaced (replacing `/dev/stdout` or a named pipe with a file is data
lost for whoever reads it). Missing folders on the way are created, as `mkdir -p` does.
A file is written to a temporary sibling and renamed into place, so a reader never sees
half a report; an existing file keeps its permissions. `colour` says whether a stream
is a terminal that wants colour.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import TextIO

from synthgov.errors import InputError
from synthgov.files.paths import umask

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _mode(path: Path, shown: str) -> int | None:
    """The lstat mode of `path`, None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a file on the way: mkdir says so
        return None
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None


def _make_folder(folder: Path, shown: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError.at(
            shown, f"cannot create the folder {folder}: a file is in the way"
        ) from None
    except OSError as exc:
        raise InputError.at(
            shown, f"cannot create the folder {folder}: {exc.strerror or exc}"
        ) from None


def file_target(path: Path) -> Path:
    """The absolute path to write a regular file at, its missing folders created.

    Raises:
        InputError: something other than a regular file is at `path`, or a folder on the
            way cannot be created.
    """
    target, shown = path.absolute(), str(path)
    mode = _mode(target, shown)
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError.at(
            shown,
            f"is {_kind(mode)}; synthgov writes only regular files "
            "and replaces nothing else (choose a file path)",
        )
    _make_folder(target.parent, shown)
    return target


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to a regular file at `path`, atomically (see the module docstring).

    Raises:
        InputError: as `file_target`, or the file cannot be written.
    """
    target, shown = file_target(path), str(path)
    existing = _mode(target, shown)
    mode = stat.S_IMODE(existing) if existing is not None else 0o666 & ~umask()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        now = _mode(target, shown)  # something else may have appeared meanwhile
        if now is not None and not stat.S_ISREG(now):
            raise InputError.at(
                shown, f"became {_kind(now)} while synthgov was writing; nothing was replaced"
            )
        os.replace(tmp, target)  # replaces the entry itself, never through a link
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    write_file(path, text.encode("utf-8"))


def append_text(path: Path, text: str) -> None:
    """Append `text` to a regular file at `path`, created if missing (the job summary
    `$GITHUB_STEP_SUMMARY`, which other steps write to as well: it is added to, never
    replaced). What is not a regular file is refused as by `file_target`, also when it
    appears between the check and the opening.

    Raises:
        InputError: as `file_target`, or the file cannot be written.
    """
    target, shown = file_target(path), str(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(target, flags, 0o666)
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError.at(
                shown, f"became {_kind(mode)} while synthgov was writing; nothing was written"
            )
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def folder(path: Path) -> Path:
    """The absolute path of a folder to write several outputs into, created if missing.

    Raises:
        InputError: something other than a folder (a file, a symbolic link, a device) is
            at `path`, or it cannot be created.
    """
    target, shown = path.absolute(), str(path)
    mode = _mode(target, shown)
    if mode is not None and not stat.S_ISDIR(mode):
        raise InputError.at(
            shown,
            f"is {_kind(mode) if not stat.S_ISREG(mode) else 'a file'}; "
            "expected a folder to write into",
        )
    _make_folder(target, shown)
    return target


def colour(stream: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (no-color.org) or the terminal is
    dumb (`TERM=dumb`: Emacs shells, editors' task output), which shows escapes raw."""
    return (
        stream.isatty()
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM", "").lower() != "dumb"
    )
