"""`synthgov lock [INPUT]`: make or refresh the gate's hash-locked requirements.

The lock replaces the previous one only once the new one is complete: a failed resolution
leaves the old lock as it was, and a lock never names a hash that was not computed here
(synthgov.lockfile).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import click

from synthgov import lockfile
from synthgov.errors import InputError
from synthgov.files.paths import read_bytes, relative_to_root, replace_file, write_new

#: The inputs `init` writes, the GitHub one first.
INPUTS = (".github/synthgov-requirements.in", ".gitlab/synthgov-requirements.in")


def default_input(root: Path) -> str:
    for candidate in INPUTS:
        if (root / candidate).is_file():
            return candidate
    raise InputError.at(
        INPUTS[0],
        "no such file (nor .gitlab/synthgov-requirements.in): name the requirements input, "
        "or write it with synthgov init",
    )


def run(
    root: Path,
    start: Path,
    named: Path | None,
    python_version: str,
    platforms: Sequence[str],
) -> int:
    source = relative_to_root(root, start / named).as_posix() if named else default_input(root)
    if not re.fullmatch(r"[\w./+-]+\.in", source):  # the lock's header names it
        raise InputError.at(
            source,
            "expected a requirements input named with letters, digits and ._+-/, ending in .in",
        )
    wanted = lockfile.requirements(read_bytes(root, source).decode("utf-8", "replace"))
    target = lockfile.lock_path(source)
    platforms = tuple(platforms) or lockfile.RUNNER_PLATFORMS
    try:
        pins = lockfile.resolve(wanted, python_version, platforms)
    except lockfile.LockUnavailable as exc:
        raise InputError.at(source, f"cannot lock it, {target} unchanged: {exc}") from None
    text = lockfile.render(pins, source, python_version, platforms).encode()
    if (root / target).exists():
        replace_file(root, target, read_bytes(root, target), text)
    else:
        write_new(root, target, text)
    click.echo(f"synthgov lock: {target}: {len(pins)} package(s), hash-locked", err=True)
    return 0
