"""`make demo`: validate the shipped worked example, then build a governance repository from
scratch in a temporary directory and validate it, printing each step and a verdict.

Runs the real CLI in process (`synthgov.cli.main`), real tables and a real ssh-keygen
key, so what it shows is what a user gets. Later issues extend it along the release path.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from synthgov.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _step(title: str, *args: str, cwd: Path) -> int:
    print(f"\n$ synthgov {shlex.join(args)}    # {title}", flush=True)
    code = main(["-C", str(cwd), *args])
    print(f"  -> exit {code}", flush=True)
    return code


def _walk(work: Path) -> list[int]:
    from synthgov import examples

    data = work / "data"
    examples.build(data)
    repo = work / "governance"
    key = work / "ada"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada", "-f", str(key)], check=True
    )
    return [
        _step("scaffold a governance repository", "init", str(repo), cwd=work),
        _step("a card from real data", "dataset", "new", "claims", "--owner", "claims-team@example.org",
              "--classification", "confidential", "--source", "claims-2024",
              "--from-data", str(data / "claims.csv"), "--target", "fraud", cwd=repo),
        _step("a privacy reviewer with an SSH key", "reviewer", "add", "ada", "--name", "Ada Lindqvist",
              "--email", "ada@example.org", "--role", "privacy-reviewer", "--key", f"{key}.pub", cwd=repo),
        _step("a privacy-budget ledger", "budget", "new", "claims-2024", "--epsilon", "3", "--delta", "1e-6", cwd=repo),
        _step("validate everything", "validate", cwd=repo),
    ]  # fmt: skip


def run() -> int:
    codes = [_step("the worked example shipped in this repository", "validate", cwd=ROOT)]
    with tempfile.TemporaryDirectory(prefix="synthgov-demo-") as tmp:
        codes += _walk(Path(tmp))
    ok = all(code == 0 for code in codes)
    print(
        "\nverdict: "
        + ("PASS - every governance file is valid" if ok else f"FAIL - exit codes {codes}"),
        flush=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
