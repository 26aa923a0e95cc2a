"""Releases of the claims dataset over time: versions approved, revoked, revalidated,
and the history `synthgov status` and `synthgov catalog` are tested on."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthgov.decision import digests
from synthgov.files.loading import parse_document
from tests.helpers import ledgers, samples, signing
from tests.helpers.git import commit, git
from tests.helpers.repos import make_base, put_approval, release_digest, write
from tests.helpers.samples import PASSING, report_json

#: version -> (created_at, artifact sha256)
VERSIONS = {
    "1.10": ("2026-09-02T10:00:00Z", "b" * 64),
    "1.11": ("2026-09-20T10:00:00Z", "c" * 64),
    "1.12": ("2026-10-01T10:00:00Z", "d" * 64),
}


def add_version(
    repo: Path,
    version: str,
    approved_by: tuple[str, ...] = ("ada", "chen"),
    metrics: list[dict[str, Any]] | None = None,
    location: str | None = None,
) -> None:
    """Release claims@VERSION (its ledger debit included), then embedded-signature approvals;
    `location`: the artifact's location instead of the sample's s3 URL."""
    created, artifact = VERSIONS[version]
    folder = f"datasets/claims/releases/{version}"
    manifest = (
        samples.MANIFEST.replace('version: "1.10"', f'version: "{version}"')
        .replace("2026-09-02T10:00:00Z", created)
        .replace("epsilon: 1.0, delta: 0.000001", "epsilon: 0.5, delta: 0.0000001")
    )
    manifest = samples.manifest_for(artifact, manifest)
    if location is not None:
        manifest = manifest.replace("s3://bucket/claims-1.10.parquet", location)
    card_sha = hashlib.sha256((repo / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(repo, f"{folder}/manifest.yaml", manifest)
    write(repo, f"{folder}/report.json", report_json(metrics or PASSING, card_sha, artifact))
    ledgers.debit(repo, manifest, f"claims@{version}")
    commit(repo, f"release claims@{version}")
    if approved_by:
        people = signing.people()
        for name in approved_by:
            person = people[name]
            path, text = signing.approval(
                person, person.roles[0], release_digest(repo, folder), release=f"claims@{version}"
            )
            write(repo, path, text)
        commit(repo, f"approve claims@{version}")


def revoke(repo: Path, version: str, incident: str = "privacy") -> None:
    write(
        repo,
        f"datasets/claims/releases/{version}/revocation.yaml",
        f"""\
schema_version: 1
release: claims@{version}
incident_class: {incident}
reason: Near-copies of real members found by a consumer.
revoked_at: "2026-09-25T08:00:00Z"
author: author@example.org
artifact_sha256: {VERSIONS[version][1]}
""",
    )
    commit(repo, f"revoke claims@{version}")


def waive(
    repo: Path,
    version: str = "1.10",
    relax_to: float = 0.85,
    days: float = 60,
    span: tuple[datetime, datetime] | None = None,
) -> datetime:
    """Waive claims@VERSION's detection AUC up to `relax_to` with the sample waiver, in force
    at the real clock (status and the catalog judge at it) for `days` more days (expired
    that long ago when negative), or over `span` (created, expires) when given, approved by
    bo; commit, and return when it expires."""
    now = datetime.now(UTC)
    created = min(now, now + timedelta(days=days)) - timedelta(days=1)
    expires = now + timedelta(days=days)
    if span is not None:
        created, expires = span
    text = (
        samples.WAIVER.replace("relax_to: 0.8", f"relax_to: {relax_to}")
        .replace("claims@1.10", f"claims@{version}")
        .replace("2026-10-02T00:00:00Z", f"{expires:%Y-%m-%dT%H:%M:%SZ}")
        .replace("2026-09-02T00:00:00Z", f"{created:%Y-%m-%dT%H:%M:%SZ}")
    )
    write(repo, f"datasets/claims/releases/{version}/waivers/WVR-2026-007.yaml", text)
    digest = digests.waiver_digest(f"claims@{version}", parse_document(text.encode(), "w").data)
    put_approval(repo, "bo", digest=digest, release=f"claims@{version}", waiver="WVR-2026-007")
    commit(repo, f"waive claims@{version}'s detection AUC")
    return expires


def revalidate(repo: Path, version: str, when: str, *failing: str) -> None:
    """Commit a revalidation record of claims@VERSION dated `when`: it passes, or fails
    the `failing` rules."""
    folder = f"datasets/claims/releases/{version}"
    report = json.loads((repo / folder / "report.json").read_text())
    stamp = when.replace("-", "").replace(":", "")
    data = {
        "schema_version": 1,
        "release": f"claims@{version}",
        "revalidated_at": when,
        "fresh": {"sha256": "f" * 64, "rows": 10, "columns": 4},
        "artifact_sha256": VERSIONS[version][1],
        "verdict": "blocked" if failing else "pass",
        "blocking": list(failing),
        "report": report,
    }
    write(repo, f"{folder}/revalidations/{stamp}.json", json.dumps(data, indent=1))
    commit(repo, f"revalidate claims@{version}")


def build_history(repo: Path) -> Path:
    """claims: 1.10 approved, 1.11 approved then revoked, 1.12 waiting for its data owner;
    the card asks for revalidation every 30 days."""
    make_base(repo)
    card = repo / "datasets/claims/card.yaml"
    card.write_text(card.read_text() + "revalidation_days: 30\n")
    commit(repo, "revalidate monthly")
    add_version(repo, "1.10")
    add_version(repo, "1.11")
    revoke(repo, "1.11")
    add_version(repo, "1.12", approved_by=("ada",))
    return repo


def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build_history in a fresh repository, for a module-scoped fixture (which runs before
    isolated_env, so it sets git's identity and config itself)."""
    repo = tmp_path_factory.mktemp("status") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    with pytest.MonkeyPatch.context() as patch:  # the module fixture runs before isolated_env
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Test Author")
            patch.setenv(f"GIT_{role}_EMAIL", "author@example.org")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("GIT_CONFIG_GLOBAL", str(repo.parent / ".gitconfig"))
        return build_history(repo)
