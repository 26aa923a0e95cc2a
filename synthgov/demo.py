"""`make demo`: the whole release path on a fresh governance repository, step by step.

Validates a copy of the worked example (the wheel ships the repository's policy/, datasets/
and budgets/ as `synthgov/example/`, so `python -m synthgov.demo` runs from an installed
synthgov[evaluate] as from a checkout), then in a temporary directory: scaffold, a card
from real data (reviewed), reviewers with generated SSH keys, a privacy budget; a release
with DP figures that the gate blocks until both approvals are signed, then passes; a
leaky release the privacy gate blocks; the audit of main's history; the catalog. Every
step runs the real CLI in process (`synthgov.cli.main`) on real tables, real git and
real ssh-keygen keys, and states the exit code it expects; the verdict is PASS when every
step behaved as expected.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synthgov import extras
from synthgov.cli import main
from synthgov.errors import MissingExtra

ROOT = Path(__file__).resolve().parent.parent
#: Where the wheel puts the worked example (pyproject.toml's force-include); a checkout
#: has it at the repository's root.
PACKAGED = Path(__file__).resolve().parent / "example"
EXAMPLE = ("policy", "datasets", "budgets")
REVIEWER_ROLES = {"ada": "privacy-reviewer", "chen": "data-owner"}
#: Registered in the first commit as well: every later change to policy/ needs one.
POLICY_ADMIN = "ada"


class Walk:
    """Runs steps, prints them as a transcript, and remembers which surprised."""

    def __init__(self) -> None:
        self.surprises: list[str] = []
        self.steps = 0

    def blocked_by(self, check_json: Path, prefix: str) -> None:
        """Print the rules that block, and require one of them to start with `prefix`."""
        data = json.loads(check_json.read_text())
        rules = sorted(
            {f["rule"] for r in data["releases"] for f in r["findings"] if f["severity"] == "error"}
        )
        print(f"  blocked by: {', '.join(rules)}", flush=True)
        if not any(rule.startswith(prefix) for rule in rules):
            self.surprises.append(f"expected a {prefix}* finding, got {', '.join(rules)}")

    def step(self, title: str, *args: str, cwd: Path, expect: int = 0) -> int:
        print(f"\n$ synthgov {shlex.join(args)}    # {title}", flush=True)
        code = main(["-C", str(cwd), *args])
        ok = code == expect
        print(f"  -> exit {code} ({'as expected' if ok else f'expected {expect}'})", flush=True)
        self.steps += 1
        if not ok:
            self.surprises.append(f"{title}: exit {code}, expected {expect}")
        return code


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
    )


@contextmanager
def _as(name: str) -> Iterator[None]:
    """Git identity of one person for the commits made inside (approvals are theirs)."""
    keys = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict(zip(keys, (name, f"{name}@example.org") * 2, strict=True)))
    try:
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _review_card(card: Path) -> None:
    """What a release author does after `dataset new`: name the attack secret, the subgroup
    column and the quasi-identifiers instead of the defaults."""
    text = card.read_text()
    for old, new in (
        ("secret_columns: []", "secret_columns: [plan]"),
        ("subgroup_columns: []", "subgroup_columns: [region]"),
        ("quasi_identifiers: []", "quasi_identifiers: [age, sex, region]"),
    ):
        text = text.replace(old, new)
    card.write_text(text)
    print(
        f"\n# reviewed {card.name}: secret_columns [plan], subgroup_columns [region], "
        "quasi_identifiers [age, sex, region]",
        flush=True,
    )


def _walk(work: Path, walk: Walk) -> None:
    from synthgov import examples

    data = examples.write_release_tables(work / "data")
    repo = work / "governance"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "sam@example.org")  # the release author
    _git(repo, "config", "user.name", "Sam")
    for name in REVIEWER_ROLES:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(work / name)],
            check=True,
        )
    walk.step("scaffold a governance repository", "init", "--no-lock", str(repo), cwd=work)
    walk.step(
        "a card from real data",
        "dataset",
        "new",
        "claims",
        "--owner",
        "claims-team@example.org",
        "--classification",
        "confidential",
        "--source",
        "claims-2024",
        "--from-data",
        str(data["train"]),
        "--target",
        "fraud",
        cwd=repo,
    )
    _review_card(repo / "datasets/claims/card.yaml")
    for name, role in REVIEWER_ROLES.items():
        admin = ("--role", "policy-admin") if name == POLICY_ADMIN else ()
        walk.step(
            f"register {name} ({', '.join((role, *admin[1:]))}) with an SSH key",
            "reviewer",
            "add",
            name,
            "--name",
            name.title(),
            "--email",
            f"{name}@example.org",
            "--role",
            role,
            *admin,
            "--key",
            str(work / f"{name}.pub"),
            cwd=repo,
        )
    walk.step(
        "a privacy budget for the source",
        "budget",
        "new",
        "claims-2024",
        "--epsilon",
        "3",
        "--delta",
        "1e-6",
        cwd=repo,
    )
    walk.step("validate everything", "validate", cwd=repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Bootstrap the governance repository")

    _git(repo, "checkout", "-qb", "release-1.0")
    release = (
        "--real",
        str(data["train"]),
        "--holdout",
        str(data["holdout"]),
        "--generator",
        "aim",
        "--generator-version",
        "0.16.0",
        "--seed",
        "7",
        "-q",
    )
    walk.step(
        "release 1.0: evaluate, manifest, DP debit (with its two tuning runs)",
        "release",
        "new",
        "claims",
        "1.0",
        "--synthetic",
        str(data["honest"]),
        "--epsilon",
        "1",
        "--delta",
        "1e-7",
        "--tuning-runs",  # two runs on the real data chose the settings: debited too
        "2",
        "--tuning-epsilon",
        "0.25",
        "--tuning-delta",
        "1e-8",
        *release,
        cwd=repo,
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Release claims@1.0")
    walk.step("the gate without approvals", "check", "--base", "main", cwd=repo, expect=1)
    for name, role in REVIEWER_ROLES.items():
        with _as(name):
            walk.step(
                f"{name} approves as {role}",
                "approve",
                "claims@1.0",
                "--role",
                role,
                "--key",
                str(work / name),
                "--comment",
                "report reviewed",
                cwd=repo,
            )
    walk.step("the gate with both signed approvals", "check", "--base", "main", cwd=repo)
    walk.step("approvals present and missing", "status", cwd=repo)
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "-m", "Merge release-1.0", "release-1.0")

    _git(repo, "checkout", "-qb", "release-1.1")
    walk.step(
        "release 1.1 of a generator that memorised its training rows",
        "release",
        "new",
        "claims",
        "1.1",
        "--synthetic",
        str(data["leaky"]),
        "--epsilon",
        "0.5",
        "--delta",
        "1e-7",
        "--tuning-runs",
        "0",
        *release,
        cwd=repo,
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Release claims@1.1")
    report = work / "check-1.1.json"
    walk.step(
        "the gate blocks the leaky release",
        "check",
        "--base",
        "main",
        "--format",
        "json",
        "--output",
        str(report),
        cwd=repo,
        expect=1,
    )
    walk.blocked_by(report, "privacy.")
    _git(repo, "checkout", "-q", "main")
    walk.step("budget left after release 1.0", "budget", "status", cwd=repo)
    walk.step("audit main's history", "audit", cwd=repo)
    walk.step("the catalog for consumers", "catalog", "--out", str(work / "catalog"), cwd=repo)


def worked_example(dest: Path) -> Path:
    """A copy of the worked example in `dest`, from the installed package or the checkout.
    A copy, so that no repository around site-packages is taken for its root."""
    source = PACKAGED if PACKAGED.is_dir() else ROOT
    for name in EXAMPLE:
        shutil.copytree(source / name, dest / name)
    return dest


def run() -> int:
    try:
        extras.require("evaluate")  # the release steps measure tables
    except MissingExtra as exc:
        exc.command = "python -m synthgov.demo"
        print(exc, file=sys.stderr)
        return 2
    started = time.perf_counter()
    walk = Walk()
    with tempfile.TemporaryDirectory(prefix="synthgov-demo-") as tmp:
        example = worked_example(Path(tmp) / "worked-example")
        walk.step("the worked example shipped with synthgov", "validate", cwd=example)
        _walk(Path(tmp), walk)
    seconds = time.perf_counter() - started
    if walk.surprises:
        print(f"\nverdict: FAIL - {'; '.join(walk.surprises)}", flush=True)
        return 1
    print(
        f"\nverdict: PASS - all {walk.steps} steps behaved as expected ({seconds:.0f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run())
