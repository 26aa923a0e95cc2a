"""`synthgov status`: per dataset, the current release, pending and revoked ones, budget and
revalidation, on real git repositories with real signed approvals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests import ledgers, samples, signing
from tests.test_check import commit, make_base, release_digest, write
from tests.test_engine import PASSING, _report

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
) -> None:
    """Release claims@VERSION (its ledger debit included), then embedded-signature approvals."""
    created, artifact = VERSIONS[version]
    folder = f"datasets/claims/releases/{version}"
    manifest = (
        samples.MANIFEST.replace('version: "1.10"', f'version: "{version}"')
        .replace("2026-09-02T10:00:00Z", created)
        .replace("epsilon: 1.0, delta: 0.000001", "epsilon: 0.5, delta: 0.0000001")
    )
    manifest = samples.manifest_for(artifact, manifest)
    card_sha = hashlib.sha256((repo / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(repo, f"{folder}/manifest.yaml", manifest)
    write(repo, f"{folder}/report.json", _report(metrics or PASSING, card_sha, artifact))
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


def revalidate(repo: Path, version: str, when: str) -> None:
    folder = f"datasets/claims/releases/{version}"
    report = json.loads((repo / folder / "report.json").read_text())
    stamp = when.replace("-", "").replace(":", "")
    data = {
        "schema_version": 1,
        "release": f"claims@{version}",
        "revalidated_at": when,
        "fresh": {"sha256": "f" * 64, "rows": 10, "columns": 4},
        "artifact_sha256": VERSIONS[version][1],
        "verdict": "pass",
        "report": report,
    }
    write(repo, f"{folder}/revalidations/{stamp}.json", json.dumps(data, indent=1))
    commit(repo, f"revalidate claims@{version}")


def build(repo: Path) -> Path:
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


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import git

    repo = tmp_path_factory.mktemp("status") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    with pytest.MonkeyPatch.context() as patch:  # the module fixture runs before isolated_env
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Test Author")
            patch.setenv(f"GIT_{role}_EMAIL", "author@example.org")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("GIT_CONFIG_GLOBAL", str(repo.parent / ".gitconfig"))
        return build(repo)


def status_json(synthgov, repo: Path, *args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = synthgov("status", "--format", "json", *args, cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_status_json_per_dataset_shape(synthgov, history: Path) -> None:  # type: ignore[no-untyped-def]
    data = status_json(synthgov, history)
    assert set(data) == {"base", "head", "releases", "datasets"}
    [claims] = data["datasets"]
    assert set(claims) >= {
        "dataset",
        "title",
        "classification",
        "owner",
        "current",
        "pending",
        "revoked",
        "budget",
        "next_revalidation",
    }
    assert claims["dataset"] == "claims" and claims["title"] == "Insurance claims"
    assert claims["classification"] == "confidential"
    assert claims["owner"] == "claims-team@example.org"
    assert set(claims["budget"]) >= {"source", "notion", "cap", "spent", "remaining"}
    assert claims["budget"]["source"] == "claims-db"
    budget = claims["budget"]
    assert budget["spent"]["epsilon"] == pytest.approx(1.5)  # three debits of 0.5
    assert budget["remaining"]["epsilon"] == pytest.approx(budget["cap"]["epsilon"] - 1.5)
    # the per-release view keeps its keys (test_approve relies on them)
    by_release = {r["release"]: r for r in data["releases"]}
    assert set(by_release) == {"claims@1.10", "claims@1.11", "claims@1.12"}
    assert by_release["claims@1.12"]["approvals"]["data-owner"]["missing"] == 1


def test_a_revoked_release_falls_back_to_the_last_known_good(synthgov, history: Path) -> None:  # type: ignore[no-untyped-def]
    [claims] = status_json(synthgov, history)["datasets"]
    assert claims["current"] == "claims@1.10"  # 1.11 is newer and approved, but revoked
    assert claims["revoked"] == [
        {
            "release": "claims@1.11",
            "incident_class": "privacy",
            "reason": "Near-copies of real members found by a consumer.",
        }
    ]
    assert claims["pending"] == [{"release": "claims@1.12", "blocking": ["approvals.missing"]}]
    assert claims["next_revalidation"] == "2026-10-02"  # 1.10's created_at + 30 days
    text = synthgov("status", "claims", cwd=history).out
    assert "claims@1.11: revoked" in text and "claims@1.10: approved" in text
    assert "current: claims@1.10" in text
    assert "revoked: claims@1.11 (privacy: Near-copies" in text
    assert "pending: claims@1.12 (blocked by approvals.missing)" in text
    assert "next revalidation: 2026-10-02" in text


def test_without_a_revocation_the_newest_approved_release_is_current(synthgov, repo: Path) -> None:  # type: ignore[no-untyped-def]
    make_base(repo)
    add_version(repo, "1.10")
    add_version(repo, "1.11")
    [claims] = status_json(synthgov, repo, "claims")["datasets"]
    assert claims["current"] == "claims@1.11" and claims["revoked"] == []
    assert claims["next_revalidation"] is None  # the sample card sets no cadence
    revalidate_repo = repo / "datasets/claims/card.yaml"
    assert "revalidation_days" not in revalidate_repo.read_text()


def test_a_revalidation_moves_the_next_date(synthgov, repo: Path) -> None:  # type: ignore[no-untyped-def]
    make_base(repo)
    card = repo / "datasets/claims/card.yaml"
    card.write_text(card.read_text() + "revalidation_days: 30\n")
    commit(repo, "monthly")
    add_version(repo, "1.10")
    revalidate(repo, "1.10", "2026-09-30T12:00:00Z")
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["next_revalidation"] == "2026-10-30"


def test_nothing_approved_means_no_current_release(synthgov, repo: Path) -> None:  # type: ignore[no-untyped-def]
    make_base(repo)
    add_version(repo, "1.10", approved_by=())
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["current"] is None and claims["next_revalidation"] is None
    assert "current: none approved" in synthgov("status", cwd=repo).out


def test_a_malformed_revocation_still_withdraws_the_release(synthgov, repo: Path) -> None:  # type: ignore[no-untyped-def]
    make_base(repo)
    add_version(repo, "1.10")
    write(repo, "datasets/claims/releases/1.10/revocation.yaml", "release: [oops\n")
    commit(repo, "broken revocation")
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["current"] is None
    [revoked] = claims["revoked"]
    assert revoked["release"] == "claims@1.10" and revoked["incident_class"] is None
    assert "revocation.yaml" in revoked["reason"]


def test_an_unknown_dataset_is_exit_2_with_one_line(synthgov, repo: Path) -> None:  # type: ignore[no-untyped-def]
    make_base(repo)
    result = synthgov("status", "nope", cwd=repo)
    assert result.code == 2
    assert result.err.strip() == "datasets/nope/card.yaml: no such dataset at HEAD"
    assert synthgov("status", "Bad_Id", cwd=repo).code == 2
