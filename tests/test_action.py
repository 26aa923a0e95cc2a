"""The synthgov composite action (action.yml) installs only the bytes its lock names.

Its install step is run as GitHub runs it (bash -eo pipefail), offline: pip may only find
a wheel built here (PIP_NO_INDEX, PIP_FIND_LINKS), so that a lock without hashes, with a
wrong hash or missing altogether is seen to stop the gate before anything is installed,
and a correct one to install.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def install_step() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if "pip install" in s.get("run", "")]
    assert step["shell"] == "bash"
    run: str = step["run"]
    return run


def tiny_wheel(folder: Path) -> Path:
    """A real wheel of a package `tiny` 1.0 (what an index would serve)."""
    folder.mkdir()
    path = folder / "tiny-1.0-py3-none-any.whl"
    info = "tiny-1.0.dist-info"
    files = {
        "tiny/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def install(tmp_path: Path, lock: str | None) -> tuple[subprocess.CompletedProcess[str], Path]:
    wheels = tiny_wheel(tmp_path / "index").parent
    requirements = tmp_path / "synthgov-requirements.txt"
    if lock is not None:
        requirements.write_text(lock)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner_temp),
        "REQUIREMENTS": str(requirements),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", install_step()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, runner_temp / "synthgov-venv"


def installed(venv: Path) -> bool:
    return any(venv.glob("lib/python*/site-packages/tiny/__init__.py"))


def test_a_locked_hash_installs(tmp_path: Path) -> None:
    wheel = tiny_wheel(tmp_path / "built")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    done, venv = install(tmp_path, f"tiny==1.0 \\\n    --hash=sha256:{digest}\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(venv)


@pytest.mark.parametrize(
    ("lock", "says"),
    [
        ("tiny==1.0\n", "Hashes are required in --require-hashes mode"),
        (f"tiny==1.0 --hash=sha256:{'0' * 64}\n", "DO NOT MATCH THE HASHES"),
        ("tiny --hash=sha256:" + "0" * 64 + "\n", "must have their versions pinned"),
    ],
    ids=["no hash", "another archive's hash", "no exact version"],
)
def test_the_gate_never_installs_bytes_its_lock_does_not_name(
    tmp_path: Path, lock: str, says: str
) -> None:
    """Whoever controls the index (or the name on it) must not control the gate."""
    done, venv = install(tmp_path, lock)
    assert done.returncode != 0
    assert says in done.stdout + done.stderr
    assert not installed(venv)


def test_without_a_lock_the_gate_stops_and_says_how_to_make_one(tmp_path: Path) -> None:
    done, venv = install(tmp_path, None)
    assert done.returncode == 2
    assert done.stdout.startswith("::error file=")
    assert "pip-compile --generate-hashes" in done.stdout and "docs/ci.md" in done.stdout
    assert not venv.exists()
