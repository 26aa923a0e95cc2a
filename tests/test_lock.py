"""The gate's hash-locked requirements (`synthgov init`, `synthgov lock`): what CI installs
is exactly the bytes the lock names, and the lock names only hashes computed from bytes.

synthgov is not on the index yet, so its index here is a folder (pip's --find-links, no
index): the wheel of this tree, built as a release is, and the wheels of its dependencies,
downloaded once from the package registry for this Python (the install test) and for the
runner's (the lock `init` writes). The lock is then made offline from that folder, and
installed by the synthgov action's own install step into a fresh virtual environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from synthgov import __version__
from synthgov.lockfile import RUNNER_PLATFORMS, RUNNER_PYTHON
from tests.helpers import shared
from tests.helpers.action import run_install_step
from tests.helpers.cli import Synthgov

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
#: This machine's wheel platforms (the install tests install here, not on the runner).
HOST = tuple(dict.fromkeys(t.platform for t in sys_tags() if t.platform != "any"))
#: The user's pip cache, read before the isolated HOME replaces it (tests/conftest.py).
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
HOST_OPTIONS = [option for platform in HOST for option in ("--platform", platform)]
LOCK = ".github/synthgov-requirements.txt"
PIN = re.compile(r"^([a-z0-9-]+)==(\S+) \\\n    --hash=sha256:([0-9a-f]{64})  # (\S+)$", re.M)


def run_online(command: list[str]) -> None:
    """`command` with the shared pip cache: skipped when the registry is unreachable,
    failed on any other error."""
    done = subprocess.run(
        command,
        env={**os.environ, "PIP_CACHE_DIR": PIP_CACHE},
        capture_output=True,
        text=True,
        timeout=600,
    )
    skip_if_offline(done)
    assert done.returncode == 0, done.stdout + done.stderr


def skip_if_offline(done: subprocess.CompletedProcess[str]) -> None:
    """Skip (not fail) when pip could not reach the package registry at all."""
    offline = r"NewConnectionError|Network is unreachable|Temporary failure in name resolution"
    if done.returncode != 0 and re.search(offline, done.stdout + done.stderr):
        pytest.skip("the package registry is unreachable")


def pip_download(dest: Path, python: str, platforms: tuple[str, ...], *requirement: str) -> None:
    """Wheels for `python` on `platforms` from the registry (pip's cache)."""
    run_online(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            f"--python-version={python}",
            "--implementation=cp",
            f"--abi=cp{python.replace('.', '')}",
            *(f"--platform={platform}" for platform in platforms),
            f"--find-links={dest}",
            f"--dest={dest}",
            *requirement,
        ]
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links folder: this tree's wheel and its `dp` closure for this machine and for
    the runner; made once for the test run, whichever xdist worker asks first (the tests
    only read it)."""
    built, done = shared.distributions(tmp_path_factory)  # tests/test_packaging.py's too
    skip_if_offline(done)
    assert done.returncode == 0, done.stdout + done.stderr

    def fill(folder: Path) -> None:
        [wheel] = built.glob("synthgov-*.whl")
        shutil.copy2(wheel, folder)
        pip_download(folder, HERE, HOST, f"synthgov[dp]=={__version__}")
        pip_download(folder, RUNNER_PYTHON, RUNNER_PLATFORMS, f"synthgov[dp]=={__version__}")

    return shared.once(tmp_path_factory, "lock-index", fill)


@pytest.fixture
def offline(index: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees the folder and nothing else: no index, no configuration file."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return index


def pins(lock: Path) -> dict[str, tuple[str, str, str]]:
    text = lock.read_text()
    found = {name: (version, digest, file) for name, version, digest, file in PIN.findall(text)}
    requirements = [line for line in text.splitlines() if not line.startswith(("#", "    "))]
    assert len(found) == len(requirements), text  # every requirement is pinned and hashed
    return found


def install_with_the_action(tmp_path: Path, requirements: Path) -> tuple[int, str, Path]:
    """The synthgov action's install step, run as GitHub runs it, on this Python."""
    done, venv = run_install_step(tmp_path, requirements)
    return done.returncode, done.stdout + done.stderr, venv


@pytest.mark.slow
@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_init_writes_the_lock_of_this_release_with_the_hash_of_every_file_it_names(
    tmp_path: Path, synthgov: Synthgov, offline: Path, ci: str
) -> None:
    """Every package of the closure is pinned `==` with the sha256 of the runner's wheel for
    it, and that hash is the file's, computed from its bytes."""
    result = synthgov("init", "--ci", ci, str(tmp_path / "gov"))
    assert result.code == 0, result.err
    assert "not written" not in result.err
    lock = tmp_path / "gov" / f".{ci}/synthgov-requirements.txt"
    assert f"#   synthgov lock .{ci}/synthgov-requirements.in\n" in lock.read_text()
    locked = pins(lock)
    assert locked["synthgov"][0] == __version__
    assert {"pydantic", "pyyaml", "click", "cryptography", "rich", "opendp"} <= set(locked)
    for version, digest, filename in locked.values():
        assert hashlib.sha256((offline / filename).read_bytes()).hexdigest() == digest
        assert f"-{version}-" in filename
        python = f"cp{RUNNER_PYTHON.replace('.', '')}"
        assert "-py3-none-" in filename or "-abi3-" in filename or f"-{python}-" in filename


@pytest.mark.slow
def test_the_lock_installs_exactly_its_bytes_and_the_installed_gate_runs(
    tmp_path: Path, repo: Path, synthgov: Synthgov, offline: Path
) -> None:
    """`synthgov lock` for this Python (the runner's is 3.12), installed into a fresh venv
    by the action's own step (pip --require-hashes, dependencies resolved and checked)."""
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    result = synthgov("lock", "--python-version", HERE, *HOST_OPTIONS, cwd=repo)
    assert result.code == 0, result.err
    locked = pins(repo / LOCK)
    code, output, venv = install_with_the_action(tmp_path, repo / LOCK)
    assert code == 0, output
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {
        re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"]
        for p in json.loads(listed.stdout)
        if p["name"] not in ("pip", "setuptools")
    }
    assert installed == {name: pin[0] for name, pin in locked.items()}
    done = subprocess.run(
        [str(venv / "bin" / "synthgov"), "-V"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, f"synthgov, version {__version__}\n")


@pytest.mark.slow
def test_a_tampered_hash_stops_the_install_before_anything_is_installed(
    tmp_path: Path, repo: Path, synthgov: Synthgov, offline: Path
) -> None:
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    assert synthgov("lock", "--python-version", HERE, *HOST_OPTIONS, cwd=repo).code == 0
    lock = repo / LOCK
    digest = pins(lock)["synthgov"][1]
    lock.write_text(lock.read_text().replace(digest, hashlib.sha256(b"other").hexdigest()))
    code, output, venv = install_with_the_action(tmp_path, lock)
    assert code != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in output
    assert not list(venv.glob("lib/python*/site-packages/synthgov"))
    assert not list(venv.glob("lib/python*/site-packages/pydantic"))


def test_init_without_the_release_on_the_index_writes_no_lock_and_says_how_in_one_line(
    tmp_path: Path, synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline, or before the release is uploaded: no file with hashes it did not compute."""
    empty = tmp_path / "empty-index"
    empty.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    result = synthgov("init", str(tmp_path / "gov"))
    assert result.code == 0, result.err
    assert not (tmp_path / "gov" / LOCK).exists()
    assert (tmp_path / "gov/.github/synthgov-requirements.in").is_file()
    [line] = [line for line in result.err.splitlines() if LOCK in line and "not written" in line]
    assert f"No matching distribution found for synthgov=={__version__}" in line
    assert "`synthgov lock`" in line and "docs/ci.md" in line


def test_a_failed_refresh_keeps_the_previous_lock(
    tmp_path: Path, repo: Path, synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    previous = "# the lock of last week\n"
    (repo / LOCK).write_text(previous)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nothing-here"))
    result = synthgov("lock", cwd=repo)
    assert result.code == 2
    assert result.err.startswith(".github/synthgov-requirements.in: cannot lock it, ")
    assert len(result.err.splitlines()) == 1
    assert (repo / LOCK).read_text() == previous


@pytest.mark.parametrize("version", ["3", "3.10", "2.7", "3.12.1", "py3"])
def test_lock_refuses_a_python_it_cannot_lock_for(
    repo: Path, synthgov: Synthgov, version: str
) -> None:
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    result = synthgov("lock", "--python-version", version, cwd=repo)
    assert result.code == 2 and "3.11 or later as X.Y" in result.err
    assert not (repo / LOCK).exists()


def test_init_never_overwrites_a_lock_and_keeps_it_with_skip_existing(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    lock = tmp_path / LOCK
    lock.parent.mkdir()
    lock.write_text("# ours\n")
    refused = synthgov("init", str(tmp_path))
    assert refused.code == 2 and f"{LOCK}: already exists" in refused.err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [lock.name]
    kept = synthgov("init", "--skip-existing", str(tmp_path))
    assert kept.code == 0 and f"kept {lock} (exists)" in kept.err
    assert "not written" not in kept.err
    assert lock.read_text() == "# ours\n"


def _source_tree_that_runs_code(folder: Path, marker: Path) -> Path:
    """A local project whose in-tree build backend writes `marker` when pip asks it for
    metadata: it needs nothing from an index, so pip runs it offline too."""
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (folder / "backend.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
    )
    return folder


@pytest.mark.parametrize(
    "line",
    [
        "{tree}",
        "-e {tree}",
        "--no-binary=:all:\n{tree}",
        "evil @ file://{tree}",
        "--index-url https://evil.example/simple\nsynthgov",
        "synthgov --config-settings=x=y",
    ],
)
def test_lock_refuses_a_requirements_input_that_is_not_named_packages_and_runs_nothing(
    tmp_path: Path, repo: Path, synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    """`--only-binary=:all:` keeps pip from building what an index offers, not what a line
    points at: a path, an editable or a direct URL is built to learn its metadata, so a
    requirements input changed by a pull request ran its code on the machine of whoever
    refreshed the lock. Options (another index, `--no-binary`) have no place in it either."""
    marker = tmp_path / "marker"
    tree = _source_tree_that_runs_code(tmp_path / "tree", marker)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nothing-here"))
    source = repo / ".github/synthgov-requirements.in"
    source.parent.mkdir(parents=True)
    source.write_text(line.format(tree=tree) + "\n")
    result = synthgov("lock", cwd=repo)
    assert result.code == 2, result.err
    assert "not a named package requirement" in result.err, result.err
    assert len(result.err.splitlines()) == 1
    assert not marker.exists() and not (repo / LOCK).exists()


def test_a_wheel_file_name_that_would_add_a_line_to_the_lock_is_refused(tmp_path: Path) -> None:
    """The lock names each archive in a comment: a name an index chose with a line break
    in it would otherwise start a line of its own (an option, a requirement) in the lock."""
    from synthgov.lockfile import LockUnavailable, pin_of

    wheel = tmp_path / "pkg-1.0\n--index-url=https:evil.example #-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    with pytest.raises(LockUnavailable, match="not a wheel"):
        pin_of(wheel)
