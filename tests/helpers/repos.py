"""Governance repositories on real git: the base on main, a release with its approvals on `pr`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from synthgov.decision import digests
from synthgov.files.loading import parse_document
from tests.helpers import ledgers, samples, signing
from tests.helpers.git import commit, git
from tests.helpers.samples import PASSING, RELEASE, report_json


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def make_base(repo: Path) -> Path:
    """main: the default policy and the claims card; the pull request branch `pr` starts here."""
    write(repo, "policy/policy.yaml", samples.POLICY)
    write(repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered()))
    write(repo, "datasets/claims/card.yaml", samples.CARD)
    write(repo, ledgers.PATH, ledgers.empty())
    commit(repo, "base")
    git(repo, "checkout", "-qb", "pr")
    return repo


def add_release(
    repo: Path,
    metrics: list[dict[str, Any]] | None = None,
    manifest: str = samples.MANIFEST,
    approved_by: tuple[str, ...] = ("ada", "chen"),
    **report: Any,
) -> None:
    card_sha = hashlib.sha256((repo / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(repo, f"{RELEASE}/manifest.yaml", manifest)
    write(
        repo,
        f"{RELEASE}/report.json",
        report_json(PASSING if metrics is None else metrics, card_sha, **report),
    )
    ledgers.debit(repo, manifest)
    commit(repo, "release claims@1.10")
    approve(repo, *approved_by)


def release_digest(repo: Path, release_dir: str = RELEASE) -> str:
    manifest = parse_document((repo / release_dir / "manifest.yaml").read_bytes(), "m.yaml")
    report = parse_document((repo / release_dir / "report.json").read_bytes(), "r.json")
    return digests.release_digest(manifest.data, report.data)


def approve(repo: Path, *names: str) -> None:
    """Embedded-signature approvals of the release as it is now, in one unsigned commit."""
    if not names:
        return
    people = signing.people()
    for name in names:
        person = people[name]
        path, text = signing.approval(person, person.roles[0], release_digest(repo))
        write(repo, path, text)
    commit(repo, f"approvals by {', '.join(names)}")


def put_approval(
    repo: Path,
    name: str,
    role: str | None = None,
    *,
    person: signing.Person | None = None,
    digest: str | None = None,
    **kw: Any,
) -> str:
    """Write (uncommitted) `name`'s signed approval of the release as it is now, unless
    `person` or `digest` say otherwise; `kw` goes to signing.approval."""
    person = person or signing.people()[name]
    path, text = signing.approval(
        person, role or person.roles[0], digest or release_digest(repo), **kw
    )
    write(repo, path, text)
    return path


def on_main(repo: Path, path: str, text: str) -> None:
    """Change a file on main (the trust root) and rebase the pull request onto it."""
    git(repo, "checkout", "-q", "main")
    write(repo, path, text)
    commit(repo, f"main: {path}")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")
