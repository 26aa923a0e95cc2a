"""`synthgov catalog --out DIR`: write the static HTML catalog and catalog.json.

The pages are rendered in full into a temporary folder beside DIR, then swapped in, so a
reader never sees half a catalog. DIR must be new, empty, or an earlier catalog: one whose
catalog.json names this generator and lists every file in the folder. Anything else, such
as a folder holding a user's own files, is refused (exit 2) rather than overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov.decision.status import collect
from synthgov.errors import InputError
from synthgov.files.paths import umask
from synthgov.reporting import catalog


def _is_earlier_catalog(out: Path) -> bool:
    """Whether every entry under `out` is a file an earlier catalog says it wrote."""
    index = out / "catalog.json"
    try:
        if not stat.S_ISREG(os.lstat(index).st_mode):  # reading a FIFO would block forever
            return False
        meta = json.loads(index.read_bytes())
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict) or meta.get("generator") != catalog.GENERATOR:
        return False
    listed = meta.get("files")
    if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
        return False
    known = set(listed)
    folders = {str(Path(f).parent) for f in known} - {"."}
    for dirpath, dirnames, filenames in os.walk(out, followlinks=False):
        here = Path(dirpath).relative_to(out)
        for name in dirnames:
            if (here / name).as_posix() not in folders or (Path(dirpath) / name).is_symlink():
                return False
        for name in filenames:
            full = Path(dirpath) / name
            if (here / name).as_posix() not in known or full.is_symlink():
                return False
    return True


def write_tree(out: Path, files: dict[str, bytes]) -> None:
    """Replace `out` with exactly `files`, atomically; refuse to clobber anything else."""
    out = out.absolute()
    shown = str(out)
    try:
        linked, present, is_folder = out.is_symlink(), out.exists(), out.is_dir()
        occupied = present and is_folder and not linked and any(out.iterdir())
    except OSError as exc:  # a name too long, a folder that cannot be read
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    if linked:
        raise InputError.at(shown, "is a symlink; refusing to write the catalog through it")
    if present and not is_folder:
        raise InputError.at(shown, "exists and is not a folder")
    if occupied and not _is_earlier_catalog(out):
        raise InputError.at(
            shown,
            "is not empty and is not an earlier synthgov catalog; "
            "refusing to overwrite it (choose a new or empty folder)",
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    except OSError as exc:
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    old: Path | None = None
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
            os.chmod(folder, 0o777 & ~umask())  # mkdtemp makes 0700; a catalog is for readers
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            os.rmdir(old)
            os.rename(out, old)
        os.rename(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not out.exists():
            os.rename(old, out)  # put the earlier catalog back
        raise InputError.at(shown, f"cannot write: {exc.strerror or exc}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run(root: Path, out: Path) -> int:
    now = datetime.now(UTC)  # the checker's clock, read once (BRIEF §9)
    found = collect(root, None, now)
    files = catalog.render(
        found.datasets, found.base, found.head, now, found.notices, found.min_cell_count
    )
    write_tree(out, files)
    count = len(found.datasets)
    click.echo(
        f"wrote the catalog of {count} dataset{'s' if count != 1 else ''} to {out / 'index.html'}",
        err=True,
    )
    return 0
