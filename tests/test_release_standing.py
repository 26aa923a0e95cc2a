"""What `status` and the catalog tell a consumer about merged releases, on real git
histories merged into main with real signed approvals: each release as the audit judged it
at its merge commit (not as the gate would judge it today), withdrawn only by a
revocation, a failed revalidation or an expired waiver, each dated with its fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthgov.decision import withdrawals
from synthgov.decision.findings import WaiverRef
from synthgov.files import governance
from synthgov.models import Revalidation, Revocation
from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov, audit
from tests.helpers.git import commit, git, merge, sha
from tests.helpers.releases import VERSIONS, add_version, revalidate, revoke, waive
from tests.helpers.repos import make_base, write
from tests.helpers.samples import with_metric

CARD = "datasets/claims/card.yaml"
#: claims@1.11 fails its detection AUC unless a waiver relaxes it to 0.85
DETECTION = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])


def dated(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """Commits made from now on claim `when` (the audit judges a merge at its commit's time)."""
    stamp = f"@{int(when.timestamp())} +0000"
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def merged(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    *versions: str,
    metrics: dict[str, list[dict[str, Any]]] | None = None,
    cadence: int | None = None,
) -> dict[str, str]:
    """main: the base (with a revalidation cadence when given), then each version released
    and approved on `pr` and merged with a merge commit a day after its creation; returns
    version -> its merge commit."""
    dated(monkeypatch, day("2026-09-01T00:00:00Z"))
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    if cadence is not None:
        write(repo, CARD, samples.CARD + f"revalidation_days: {cadence}\n")
        commit(repo, "revalidation cadence")
    merges = {}
    for version in versions:
        dated(monkeypatch, day(VERSIONS[version][0]) + timedelta(days=1))
        git(repo, "checkout", "-qB", "pr", "main")
        add_version(repo, version, metrics=(metrics or {}).get(version))
        if version in (metrics or {}):
            waive(repo, version, span=(day("2026-09-20T00:00:00Z"), day("2026-10-20T00:00:00Z")))
        merge(repo)
        merges[version] = sha(repo)
    return merges


def status(synthgov: Synthgov, repo: Path) -> dict[str, Any]:
    result = synthgov("status", "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def releases(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["release"]: r for r in data["releases"]}


def catalog_states(synthgov: Synthgov, repo: Path, out: Path) -> dict[str, dict[str, Any]]:
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    data = json.loads((out / "catalog.json").read_text())
    return {r["release"]: r for d in data["datasets"] for r in d["releases"]}


def agree_with_the_audit(synthgov: Synthgov, repo: Path, data: dict[str, Any]) -> None:
    """Each merged release's verdict in `status` is the audit's decision at its merge."""
    _, document = audit(synthgov, repo)
    decided = {
        (r["release"], d["commit"]): d["verdict"]
        for r in document["releases"]
        for d in r["decisions"]
    }
    for item in data["releases"]:
        assert item["judged"]["as"] == "merged"
        assert decided[(item["release"], item["judged"]["commit"])] == item["verdict"]


def gate_today(synthgov: Synthgov, repo: Path) -> dict[str, str]:
    """release -> the verdict the gate gives it now, against main's own policy."""
    result = synthgov("check", "--no-git", "--format", "json", cwd=repo)
    return {r["release"]: r["verdict"] for r in json.loads(result.out)["releases"]}


def test_a_policy_tightened_after_the_merge_leaves_the_release_current(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    merges = merged(repo, monkeypatch, "1.10")
    dated(monkeypatch, day("2026-09-15T00:00:00Z"))
    tightened = samples.POLICY.replace(
        'op: ">="\n    threshold: 0.8\n    description: Mean KS/TV',
        'op: ">="\n    threshold: 0.95\n    description: Mean KS/TV',
    )
    assert tightened != samples.POLICY
    write(repo, "policy/policy.yaml", tightened)
    commit(repo, "column shapes at 0.95")
    assert gate_today(synthgov, repo) == {"claims@1.10": "blocked"}  # 0.91 < 0.95 now
    data = status(synthgov, repo)
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10" and claims["withdrawn"] == []
    item = releases(data)["claims@1.10"]
    assert item["verdict"] == "pass" and item["state"] == "current"
    assert item["judged"] == {
        "as": "merged",
        "commit": merges["1.10"],
        "at": "2026-09-03T10:00:00Z",
    }
    agree_with_the_audit(synthgov, repo, data)
    assert catalog_states(synthgov, repo, tmp_path / "site")["claims@1.10"]["state"] == "current"
    text = synthgov("status", cwd=repo).out
    assert f"judged at its merge: {merges['1.10'][:12]}, 2026-09-03" in text


def test_a_key_expired_after_the_merge_leaves_the_release_current(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    merged(repo, monkeypatch, "1.10")
    dated(monkeypatch, day("2026-09-25T00:00:00Z"))
    extra = {"ada": 'valid_before: "2026-09-20T00:00:00Z"'}  # after the merge, before now
    write(repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered(), extra=extra))
    commit(repo, "ada's key expired on 2026-09-20")
    assert gate_today(synthgov, repo) == {"claims@1.10": "blocked"}  # ada's approval is void now
    data = status(synthgov, repo)
    assert data["datasets"][0]["current"] == "claims@1.10"
    item = releases(data)["claims@1.10"]
    assert item["verdict"] == "pass" and item["blocking"] == []
    assert item["approvals"]["privacy-reviewer"]["present"] == ["ada"]
    assert data["notices"] == []  # an expired key is no longer "expiring soon"
    agree_with_the_audit(synthgov, repo, data)
    assert catalog_states(synthgov, repo, tmp_path / "site")["claims@1.10"]["state"] == "current"


def test_a_failed_revalidation_withdraws_the_release_dated_with_its_fallback_and_keeps_the_clock(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    dated(monkeypatch, day("2026-11-21T00:00:00Z"))
    revalidate(repo, "1.11", "2026-10-15T12:00:00Z")
    revalidate(repo, "1.11", "2026-11-20T12:00:00Z", "fidelity.detection_auc")
    data = status(synthgov, repo)
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10"  # the fallback
    assert claims["withdrawn"] == [
        {
            "release": "claims@1.11",
            "cause": "revalidation failed",
            "at": "2026-11-20T12:00:00Z",
            "reason": "the revalidation of 2026-11-20 fails fidelity.detection_auc on fresh data",
            "fallback": "claims@1.10",
        }
    ]
    item = releases(data)["claims@1.11"]
    assert item["verdict"] == "pass" and item["state"] == "withdrawn"  # passed at its merge
    # the failed record does not restart the clock: due 30 days after the passing one
    assert item["revalidation_due"] == "2026-11-14"
    result = synthgov("check", "--scheduled", "--format", "json", cwd=repo)
    assert result.code == 1
    [scheduled] = json.loads(result.out)["releases"]
    by_rule = {f["rule"]: f["message"] for f in scheduled["findings"]}
    assert scheduled["release"] == "claims@1.11"
    assert (
        "revalidation of 2026-11-20 fails fidelity.detection_auc"
        in (by_rule["policy.revalidation_failed"])
    )
    assert "was due for revalidation on 2026-11-14" in by_rule["policy.revalidation_overdue"]
    agree_with_the_audit(synthgov, repo, data)
    text = synthgov("status", cwd=repo).out
    assert "claims@1.11: withdrawn" in text
    assert (
        "withdrawn: claims@1.11 (revalidation failed: the revalidation of 2026-11-20 fails "
        "fidelity.detection_auc on fresh data) on 2026-11-20; fallback claims@1.10"
    ) in text
    shown = catalog_states(synthgov, repo, tmp_path / "site")
    assert shown["claims@1.11"]["state"] == "withdrawn"
    assert shown["claims@1.11"]["withdrawal"]["at"] == "2026-11-20T12:00:00Z"
    assert shown["claims@1.10"]["state"] == "current"
    page = (tmp_path / "site/datasets/claims.html").read_text()
    assert "Withdrawn on 2026-11-20 (revalidation failed)" in page
    assert 'Fallback: <a href="#release-1.10">claims@1.10</a>' in page
    # measuring again until a run passes does not bring the release back (no re-rolls)
    dated(monkeypatch, day("2026-11-26T00:00:00Z"))
    revalidate(repo, "1.11", "2026-11-25T12:00:00Z")
    again = status(synthgov, repo)
    assert again["datasets"][0]["current"] == "claims@1.10"
    assert releases(again)["claims@1.11"]["revalidation_due"] == "2026-12-25"
    result = synthgov("check", "--scheduled", "--format", "json", cwd=repo)
    [scheduled] = json.loads(result.out)["releases"]
    rules = {f["rule"] for f in scheduled["findings"]}
    assert result.code == 1 and "policy.revalidation_failed" in rules
    if datetime.now(UTC) < day("2026-12-25T12:00:00Z"):  # the passing record moved the date
        assert "policy.revalidation_overdue" not in rules


def test_an_expired_waiver_withdraws_the_release_at_its_expiry_with_its_fallback(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """claims@1.11 passed at its merge (2026-09-21) only through a waiver that ended on
    2026-10-20: from then on it is withdrawn and 1.10 is current again."""
    merged(repo, monkeypatch, "1.10", "1.11", metrics={"1.11": DETECTION})
    assert datetime.now(UTC) > day("2026-10-20T00:00:00Z")
    assert gate_today(synthgov, repo)["claims@1.11"] == "blocked"  # waivers.expired now
    data = status(synthgov, repo)
    item = releases(data)["claims@1.11"]
    assert item["verdict"] == "pass" and item["state"] == "withdrawn"
    assert [w["waiver"] for w in item["waived"]] == ["WVR-2026-007"]
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10"
    assert claims["withdrawn"] == [
        {
            "release": "claims@1.11",
            "cause": "waiver expired",
            "at": "2026-10-20T00:00:00Z",
            "reason": "it passed fidelity.detection_auc only through waiver WVR-2026-007, "
            "which expired on 2026-10-20",
            "fallback": "claims@1.10",
        }
    ]
    agree_with_the_audit(synthgov, repo, data)
    shown = catalog_states(synthgov, repo, tmp_path / "site")
    assert shown["claims@1.11"]["state"] == "withdrawn"
    assert shown["claims@1.11"]["withdrawal"]["cause"] == "waiver expired"
    assert (
        "Withdrawn on 2026-10-20 (waiver expired)"
        in (tmp_path / "site/datasets/claims.html").read_text()
    )


def test_a_revocation_withdraws_the_release_dated_with_its_fallback(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    merged(repo, monkeypatch, "1.10", "1.11")
    dated(monkeypatch, day("2026-09-26T00:00:00Z"))
    git(repo, "checkout", "-qB", "pr", "main")
    revoke(repo, "1.11")
    merge(repo)
    data = status(synthgov, repo)
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10"
    [taken] = claims["withdrawn"]
    assert (taken["release"], taken["cause"], taken["at"], taken["fallback"]) == (
        "claims@1.11",
        "revoked",
        "2026-09-25T08:00:00Z",
        "claims@1.10",
    )
    assert releases(data)["claims@1.11"]["state"] == "revoked"
    agree_with_the_audit(synthgov, repo, data)
    text = synthgov("status", cwd=repo).out
    assert (
        "revoked: claims@1.11 (privacy: Near-copies of real members found by a consumer.) "
        "on 2026-09-25; fallback claims@1.10"
    ) in text
    assert catalog_states(synthgov, repo, tmp_path / "site")["claims@1.11"]["state"] == "revoked"


def test_the_only_release_withdrawn_leaves_no_fallback(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged(repo, monkeypatch, "1.10", cadence=30)
    dated(monkeypatch, day("2026-09-30T00:00:00Z"))
    revalidate(repo, "1.10", "2026-09-29T12:00:00Z", "privacy.mia_auc")
    [claims] = status(synthgov, repo)["datasets"]
    assert claims["current"] is None and claims["next_revalidation"] is None
    assert [(w["release"], w["fallback"]) for w in claims["withdrawn"]] == [("claims@1.10", None)]
    assert "fallback none" in synthgov("status", cwd=repo).out


def test_a_release_not_merged_yet_is_judged_as_the_gate_judges_it_now(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged(repo, monkeypatch, "1.10")
    git(repo, "checkout", "-qB", "pr", "main")
    add_version(repo, "1.11", approved_by=("ada",))  # on the branch, not merged
    data = status(synthgov, repo)
    by_release = releases(data)
    assert by_release["claims@1.10"]["judged"]["as"] == "merged"
    assert by_release["claims@1.11"]["judged"]["as"] == "now"
    assert by_release["claims@1.11"]["state"] == "pending"
    assert by_release["claims@1.11"]["blocking"] == ["approvals.missing"]


def test_a_revocation_is_the_withdrawal_shown_else_the_earliest_cause() -> None:
    record = {
        "schema_version": 1,
        "release": "claims@1.10",
        "revalidated_at": "2026-11-20T00:00:00Z",
        "fresh": {"sha256": "f" * 64, "rows": 10, "columns": 4},
        "artifact_sha256": "b" * 64,
        "verdict": "blocked",
        "blocking": ["privacy.mia_auc"],
        "report": json.loads(samples.report_json(samples.PASSING, "c" * 64)),
    }
    failed = governance.load_bytes(json.dumps(record).encode(), "r.json", Revalidation).model
    waiver = WaiverRef("WVR-1", "w.yaml", "ada", day("2026-10-20T00:00:00Z"), 0.85)
    now = day("2026-12-01T00:00:00Z")
    earliest = withdrawals.withdrawal(None, None, [failed], [("rule", waiver)], now)
    assert earliest is not None and earliest.cause == "waiver expired"
    assert earliest.at == day("2026-10-20T00:00:00Z")
    text = f"""\
schema_version: 1
release: claims@1.10
incident_class: utility
reason: Drifted.
revoked_at: "2026-12-01T00:00:00Z"
author: author@example.org
artifact_sha256: {"b" * 64}
"""
    revocation = governance.load_bytes(text.encode(), "v.yaml", Revocation).model
    shown = withdrawals.withdrawal(revocation, None, [failed], [("rule", waiver)], now)
    assert shown is not None and (shown.cause, shown.reason) == ("revoked", "utility: Drifted.")
    assert (
        withdrawals.withdrawal(None, None, [], [("rule", waiver)], day("2026-10-19T00:00:00Z"))
        is None
    )
