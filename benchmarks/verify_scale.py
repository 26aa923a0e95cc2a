"""Benchmark: verifying SSH commit signatures, by git per commit and by synthgov in process.

`synthgov audit` and the approvals gate check commit signatures; BRIEF §7 wants an audit
of 10,000 commits in under a minute, and signing.md §4.4 measured 10–16 ms a commit when
git shells out to ssh-keygen. This builds a real repository of N ed25519-signed commits
(`git commit -S` with gpg.format ssh) in a temporary folder, then times, round-robin over
--runs runs:

- `git verify-commit SHA` for every commit (gpg.ssh.allowedSignersFile set up; git runs
  ssh-keygen twice per commit: find-principals, then verify);
- `git log --format=%G?` over the whole range (one git, still ssh-keygen per commit);
- in process: ONE `git cat-file --batch` process reads every raw commit, then
  `commits.split_signed` + `sshsig.verify` (namespace `git`, the registered key blob),
  process start included; read and verify time are also reported apart.

Every method must call every commit good, or the script fails. Prints best and median
totals, per-commit figures, the ratio to in-process and the extrapolation to 10,000.

    .venv/bin/python benchmarks/verify_scale.py [--commits 300] [--runs 3]

No pytest, no network; needs git and ssh-keygen. Results: docs/benchmarks.md
("Signature verification").
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import synthgov
from synthgov.signing import commits, sshsig


def git_env(home: Path) -> dict[str, str]:
    """No user or system git config, fixed identities, no replace refs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_NO_REPLACE_OBJECTS="1",
    )
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = "Bench Author"
        env[f"GIT_{role}_EMAIL"] = "bench@example.org"
    return env


def build(root: Path, count: int, env: dict[str, str]) -> tuple[Path, bytes, list[str]]:
    """(repository, registered key blob, commit ids) of `count` SSH-signed commits."""
    key = root / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    line = (root / "id_ed25519.pub").read_text()
    (root / "allowed_signers").write_text(f"bench@example.org {line}")
    repo = root / "repo"
    repo.mkdir()
    run = {"cwd": repo, "env": env, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)  # type: ignore[call-overload]
    for name, value in (
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
        ("gpg.ssh.allowedSignersFile", str(root / "allowed_signers")),
        ("commit.gpgsign", "true"),
        ("gc.auto", "0"),
    ):
        subprocess.run(["git", "config", name, value], **run)  # type: ignore[call-overload]
    for n in range(count):
        (repo / "file.txt").write_text(f"change {n}\n")
        subprocess.run(["git", "add", "file.txt"], **run)  # type: ignore[call-overload]
        subprocess.run(["git", "commit", "-q", "-m", f"change {n}"], **run)  # type: ignore[call-overload]
    shas = subprocess.run(["git", "rev-list", "HEAD"], **run, text=True).stdout.split()  # type: ignore[call-overload]
    return repo, base64.b64decode(line.split()[1]), shas


def by_verify_commit(repo: Path, env: dict[str, str], shas: list[str], _: bytes) -> None:
    for sha in shas:
        done = subprocess.run(["git", "verify-commit", sha], cwd=repo, env=env, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"git verify-commit {sha} failed: {done.stderr.decode()}")


def by_git_log(repo: Path, env: dict[str, str], shas: list[str], _: bytes) -> None:
    out = subprocess.run(
        ["git", "log", "--format=%G?", "HEAD"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if out != ["G"] * len(shas):
        raise SystemExit(f"git log %G? is not all G: {sorted(set(out))}")


def read_raw(repo: Path, env: dict[str, str], shas: list[str]) -> list[bytes]:
    """Every commit's raw bytes through one `git cat-file --batch` process."""
    with subprocess.Popen(
        ["git", "cat-file", "--batch"],
        cwd=repo,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as cat:
        assert cat.stdin is not None and cat.stdout is not None
        raws = []
        for sha in shas:
            cat.stdin.write(f"{sha}\n".encode())
            cat.stdin.flush()
            _, kind, size = cat.stdout.readline().split()
            if kind != b"commit":
                raise SystemExit(f"{sha} is a {kind.decode()}")
            raws.append(cat.stdout.read(int(size) + 1)[:-1])
        cat.stdin.close()
    return raws


def by_synthgov(repo: Path, env: dict[str, str], shas: list[str], blob: bytes) -> None:
    for raw in read_raw(repo, env, shas):
        signed = commits.split_signed(raw)
        sshsig.verify(signed.signature, signed.payload, namespace="git", public_key=blob)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="synthgov-verify-bench-") as tmp:
        root = Path(tmp)
        env = git_env(root)
        started = time.perf_counter()
        repo, blob, shas = build(root, args.commits, env)
        built = time.perf_counter() - started
        methods: dict[str, Callable[[Path, dict[str, str], list[str], bytes], None]] = {
            "git verify-commit, per commit": by_verify_commit,
            "git log --format=%G?": by_git_log,
            "synthgov in process": by_synthgov,
        }
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args.runs):  # round-robin: outside load falls on every method alike
            for name, method in methods.items():
                started = time.perf_counter()
                method(repo, env, shas, blob)
                times[name].append(time.perf_counter() - started)
        # where in-process time goes: reading objects vs splitting and verifying
        started = time.perf_counter()
        raws = read_raw(repo, env, shas)
        read = time.perf_counter() - started
        started = time.perf_counter()
        for raw in raws:
            signed = commits.split_signed(raw)
            sshsig.verify(signed.signature, signed.payload, namespace="git", public_key=blob)
        check = time.perf_counter() - started

    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    print(
        f"synthgov {synthgov.__version__} · Python {platform.python_version()} · "
        f"{git_version.strip()} · {ssh_version.strip()} · {os.cpu_count()} CPUs · "
        f"{platform.platform()} · load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{len(shas)} ed25519-signed commits, built in {built:.1f} s; {args.runs} runs each; "
        "every method called every commit good\n"
    )
    fastest = min(times["synthgov in process"])
    print(
        f"{'method':32} {'best (s)':>9} {'median (s)':>11} {'ms/commit':>10} "
        f"{'x slower':>9} {'10,000 commits (s)':>19}"
    )
    for name, runs in times.items():
        best = min(runs)
        per = best / len(shas)
        print(
            f"{name:32} {best:9.3f} {statistics.median(runs):11.3f} {per * 1e3:10.3f} "
            f"{best / fastest:9.1f} {per * 10_000:19.1f}"
        )
    print(
        f"\nin process, apart: read (one cat-file --batch) {read * 1e3 / len(shas):.3f} ms/commit, "
        f"split_signed + verify {check * 1e3 / len(shas):.3f} ms/commit"
    )
    ratio = min(times["git verify-commit, per commit"]) / fastest
    print(f"in process vs git verify-commit: {ratio:.0f}x (target >= 20x)")
    return 0 if ratio >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
