"""The gate's hash-locked requirements: every package CI installs, pinned `==` with the
sha256 of the one archive the runner's pip picks, hashed here from bytes pip downloaded.

pip resolves the input (`synthgov[dp]==X.Y.Z`) for the CI runner, not for this machine:
CPython 3.12 (the action's default) on Linux x86_64 (ubuntu-latest), wheels only, from the
index pip is configured with. No hash is taken from an index's listing: a lock names only
hashes computed from the files just downloaded, so what it names is what pip installed
here, byte for byte. When the input cannot be resolved (no network, a release not yet on
the index), `LockUnavailable` says why in one line and nothing is written.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The Python the synthgov action sets up by default (action.yml, `python-version`).
RUNNER_PYTHON = "3.12"

#: ubuntu-latest (24.04: glibc 2.39) on x86_64: every manylinux tag its pip accepts
#: (manylinux2014 brings manylinux2010 and manylinux1 with it).
RUNNER_PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(39, 4, -1)),
    "manylinux2014_x86_64",
)

#: What a lock's header says to run to make it again (docs/ci.md).
REFRESH = "synthgov lock"

_PYTHON_VERSION = re.compile(r"3\.(\d{1,2})")
_PLATFORM = re.compile(r"[a-z0-9]+(_[a-z0-9]+)+")
_ERROR = re.compile(r"^ERROR: (.+)$", re.M)
#: A named requirement (PEP 508 without a URL): name, extras, version specifiers and a
#: marker. Nothing else: pip builds a path, an editable or a direct URL to read its
#: metadata whatever `--only-binary` says (running its code), and an option line could
#: name another index or allow source builds.
_SPECIFIER = r"(?:===?|~=|!=|<=?|>=?)\s*[A-Za-z0-9.*+!_]+"
_REQUIREMENT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
    r"(?:\s*\[\s*[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*\s*\])?"
    rf"\s*(?:\(?\s*{_SPECIFIER}(?:\s*,\s*{_SPECIFIER})*\s*\)?)?"
    r"(?:\s*;[\w\s.'\"<>=!~()]*)?"
)
#: A wheel file name as the lock may name it: one line, no spaces (PEP 427 parts).
_WHEEL = re.compile(r"[A-Za-z0-9._+!]+(?:-[A-Za-z0-9._+!]+){4,5}\.whl")


class LockUnavailable(Exception):
    """The lock cannot be made now; str(exc) is one line saying why."""


@dataclass(frozen=True)
class Pin:
    """One package of the lock: the archive pip downloaded for it and that archive's hash."""

    name: str  # normalised (PEP 503)
    version: str
    filename: str
    sha256: str


def requirements(text: str) -> list[str]:
    """The requirement lines of a requirements input (comments and blank lines dropped)."""
    found = []
    for line in text.splitlines():
        requirement = re.sub(r"(^|\s)#.*$", "", line).strip()
        if requirement:
            found.append(requirement)
    return found


def check_python_version(version: str) -> str:
    """A CPython version as `X.Y` (3.11 or later: what synthgov runs on), else ValueError."""
    match = _PYTHON_VERSION.fullmatch(version)
    if not match or int(match.group(1)) < 11:
        raise ValueError(f"expected a Python version 3.11 or later as X.Y, got {version!r}")
    return version


def check_platform(tag: str) -> str:
    """A wheel platform tag (`manylinux_2_28_x86_64`, `macosx_14_0_arm64`), else ValueError:
    the lock's header names it, so nothing else may reach the file."""
    if not _PLATFORM.fullmatch(tag):
        raise ValueError(
            f"expected a wheel platform tag such as manylinux_2_28_x86_64, got {tag!r}"
        )
    return tag


def pin_of(wheel: Path) -> Pin:
    """The pin of a downloaded wheel: its name and version from the file name (PEP 427),
    its sha256 from its bytes."""
    parts = wheel.name.removesuffix(".whl").split("-")
    if not _WHEEL.fullmatch(wheel.name):
        raise LockUnavailable(f"pip downloaded {wheel.name}, which is not a wheel")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    name = re.sub(r"[-_.]+", "-", parts[0]).lower()
    return Pin(name, parts[1], wheel.name, digest)


def resolve(
    wanted: Sequence[str],
    python_version: str = RUNNER_PYTHON,
    platforms: Sequence[str] = RUNNER_PLATFORMS,
) -> list[Pin]:
    """Download the closure of `wanted` for the runner with pip, and hash every file.

    Raises:
        LockUnavailable: pip is missing, or cannot resolve or download (its error line).
    """
    if not wanted:
        raise LockUnavailable("the requirements input names no package")
    for line in wanted:
        if not _REQUIREMENT.fullmatch(line):
            raise LockUnavailable(
                f"{line!r} is not a named package requirement (a name, [extras], version "
                "specifiers): no path, URL, editable or option"
            )
    abi = "cp" + python_version.replace(".", "")
    with tempfile.TemporaryDirectory(prefix="synthgov-lock-") as tmp:
        listed = Path(tmp) / "requirements.in"
        listed.write_text("".join(f"{line}\n" for line in wanted), encoding="utf-8")
        dest = Path(tmp) / "wheels"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-input",
            "--disable-pip-version-check",
            "--retries=1",  # offline: fail in seconds, not after pip's five retries
            "--only-binary=:all:",  # a source build would run code and hash other bytes
            f"--python-version={python_version}",
            "--implementation=cp",
            f"--abi={abi}",
            *(f"--platform={platform}" for platform in platforms),
            f"--dest={dest}",
            "--requirement",
            str(listed),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LockUnavailable(f"pip did not run: {exc}") from None
        if done.returncode != 0:
            raise LockUnavailable(_pip_error(done.stdout + done.stderr))
        pins = [pin_of(path) for path in sorted(dest.iterdir())]
    names = [pin.name for pin in pins]
    if len(set(names)) != len(names):
        raise LockUnavailable(f"pip downloaded two archives of one package: {names}")
    return sorted(pins, key=lambda pin: pin.name)


def _pip_error(output: str) -> str:
    """pip's last error line (the one that says what failed), else its last line."""
    errors = _ERROR.findall(output)
    if "No module named pip" in output:
        return f"pip is not installed for {sys.executable}"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = errors[-1] if errors else (lines[-1] if lines else "pip failed without a word")
    return f"pip: {last}"


def render(
    pins: Sequence[Pin],
    source: str,
    python_version: str = RUNNER_PYTHON,
    platforms: Sequence[str] = RUNNER_PLATFORMS,
) -> str:
    """The lock file's text, in pip's requirements format (`--require-hashes`), with the
    command that makes it again."""
    command = [REFRESH, source]
    if python_version != RUNNER_PYTHON:
        command.append(f"--python-version {python_version}")
    if tuple(platforms) != RUNNER_PLATFORMS:
        command += [f"--platform {platform}" for platform in platforms]
        where = " ".join(platforms)
    else:
        where = "Linux x86_64 (ubuntu-latest)"
    header = [
        "# The hash-locked install of the synthgov gate (docs/ci.md): do not edit by hand.",
        f"# For CPython {python_version} on {where}; each hash is the sha256 of the",
        "# file pip downloaded for it. Made, and refreshed, with:",
        f"#   {' '.join(command)}",
    ]
    body = [
        f"{pin.name}=={pin.version} \\\n    --hash=sha256:{pin.sha256}  # {pin.filename}"
        for pin in pins
    ]
    return "\n".join([*header, *body]) + "\n"


def lock_path(source: str) -> str:
    """Where the lock of a requirements input goes: beside it, `.in` replaced by `.txt`."""
    return source.removesuffix(".in") + ".txt"
