"""`synthgov status`: per dataset, the current release, pending and revoked ones, budget and
revalidation, on real git repositories with real signed approvals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import Synthgov
from tests.helpers.git import commit
from tests.helpers.releases import add_version, revalidate, waive
from tests.helpers.repos import make_base, write
from tests.helpers.samples import with_metric


def status_json(synthgov: Synthgov, repo: Path, *args: str) -> dict[str, Any]:
    result = synthgov("status", "--format", "json", *args, cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_status_json_per_dataset_shape(synthgov: Synthgov, history: Path) -> None:
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


def test_a_revoked_release_falls_back_to_the_last_known_good(
    synthgov: Synthgov, history: Path
) -> None:
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


def test_without_a_revocation_the_newest_approved_release_is_current(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    add_version(repo, "1.11")
    [claims] = status_json(synthgov, repo, "claims")["datasets"]
    assert claims["current"] == "claims@1.11" and claims["revoked"] == []
    assert claims["next_revalidation"] is None  # the sample card sets no cadence
    revalidate_repo = repo / "datasets/claims/card.yaml"
    assert "revalidation_days" not in revalidate_repo.read_text()


def test_a_revalidation_moves_the_next_date(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    card = repo / "datasets/claims/card.yaml"
    card.write_text(card.read_text() + "revalidation_days: 30\n")
    commit(repo, "monthly")
    add_version(repo, "1.10")
    revalidate(repo, "1.10", "2026-09-30T12:00:00Z")
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["next_revalidation"] == "2026-10-30"


def test_nothing_approved_means_no_current_release(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    add_version(repo, "1.10", approved_by=())
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["current"] is None and claims["next_revalidation"] is None
    assert "current: none approved" in synthgov("status", cwd=repo).out


def test_a_malformed_revocation_still_withdraws_the_release(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    write(repo, "datasets/claims/releases/1.10/revocation.yaml", "release: [oops\n")
    commit(repo, "broken revocation")
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["current"] is None
    [revoked] = claims["revoked"]
    assert revoked["release"] == "claims@1.10" and revoked["incident_class"] is None
    assert "revocation.yaml" in revoked["reason"]


def test_an_unknown_dataset_is_exit_2_with_one_line(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    result = synthgov("status", "nope", cwd=repo)
    assert result.code == 2
    assert result.err.strip() == "datasets/nope/card.yaml: no such dataset at HEAD"
    assert synthgov("status", "Bad_Id", cwd=repo).code == 2


def test_a_waived_release_is_approved_and_says_until_when_never_fail(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(
        repo, "1.10", metrics=with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    )
    expires = waive(repo)
    data = status_json(synthgov, repo)
    [release] = data["releases"]
    assert release["verdict"] == "pass" and release["blocking"] == []
    assert release["waived"] == [
        {
            "rule": "fidelity.detection_auc",
            "waiver": "WVR-2026-007",
            "until": f"{expires:%Y-%m-%dT%H:%M:%SZ}",
        }
    ]
    assert data["datasets"][0]["current"] == "claims@1.10"
    text = synthgov("status", cwd=repo).out
    assert "claims@1.10: approved" in text
    assert f"waived: fidelity.detection_auc until {expires:%Y-%m-%d} (WVR-2026-007)" in text
    assert "fail" not in text
