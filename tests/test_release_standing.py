"""What `status` and the catalog tell a consumer about merged releases, on real git
histories merged into main with real signed approvals: each release as the audit judged it
at its merge commit (not as the gate would judge it today), withdrawn only by a
revocation, a failed revalidation or an expired waiver, each dated with its fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from synthgov.decision import withdrawals
from synthgov.decision.findings import WaiverRef
from synthgov.files import governance
from synthgov.models import Revalidation, Revocation
from tests.helpers import samples
from tests.helpers.cli import Synthgov, as_json, audit_verdicts, check
from tests.helpers.git import commit, git
from tests.helpers.histories import (
    DETECTION,
    catalog_states,
    dated,
    day,
    expire_key,
    fail_revalidation,
    merged,
    releases,
    revoke_merged,
    scheduled,
    status,
    tighten_policy,
)
from tests.helpers.releases import add_version, revalidate


def agree_with_the_audit(synthgov: Synthgov, repo: Path, data: dict[str, Any]) -> None:
    """Each merged release's verdict in `status` is the audit's decision at its merge."""
    decided = audit_verdicts(synthgov, repo)
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
    tighten_policy(repo, monkeypatch)
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
    expire_key(repo, monkeypatch)
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
    fail_revalidation(repo, monkeypatch)
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
    # the scheduled run: the withdrawal to act on, and the fallback (now current) overdue
    code, document = scheduled(synthgov, repo)
    by_release = {
        r["release"]: {f["rule"]: f["message"] for f in r["findings"]} for r in document["releases"]
    }
    assert code == 1 and set(by_release) == {"claims@1.10", "claims@1.11"}
    assert by_release["claims@1.11"] == {
        "policy.revalidation_failed": "claims@1.11 is withdrawn (revalidation failed: the "
        "revalidation of 2026-11-20 fails fidelity.detection_auc on fresh data) on "
        "2026-11-20; fallback claims@1.10"
    }
    assert (
        "claims@1.10 was due for revalidation on 2026-10-02"
        in by_release["claims@1.10"]["policy.revalidation_overdue"]
    )
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
    code, document = scheduled(synthgov, repo)
    rules = {r["release"]: {f["rule"] for f in r["findings"]} for r in document["releases"]}
    assert code == 1 and rules["claims@1.11"] == {"policy.revalidation_failed"}


FAILED_RECORD = "datasets/claims/releases/1.11/revalidations/20261120T120000Z.json"


def _forget_the_failed_record(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main: claims@1.11 withdrawn by its failed revalidation; branch `hide` deletes it."""
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    fail_revalidation(repo, monkeypatch)
    git(repo, "checkout", "-qb", "hide", "main")
    git(repo, "rm", "-q", FAILED_RECORD)
    commit(repo, "forget the failed revalidation")


def test_deleting_a_merged_failed_revalidation_is_blocked_as_deleted_history_not_as_an_invalid_file(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One finding that says why (before: also `files.invalid`, "no such file at commit",
    and a message about removing a release)."""
    _forget_the_failed_record(repo, monkeypatch)
    result = check(synthgov, repo, "--format", "json")
    document = as_json(result)
    findings = document["findings"] + [f for r in document["releases"] for f in r["findings"]]
    blocking = [(f["rule"], f["file"], f["message"]) for f in findings if f["severity"] == "error"]
    assert result.code == 1 and blocking == [
        (
            "files.deleted",
            FAILED_RECORD,
            f"{FAILED_RECORD} is deleted; a revalidation record is part of the governance "
            "history and is never deleted",
        )
    ]


def test_status_on_a_branch_that_deletes_a_failed_revalidation_still_shows_the_release_withdrawn(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Status, the catalog and the scheduled run count merged evidence as the base holds
    it (before: as HEAD left it, so claims@1.11 was current again on the branch)."""
    _forget_the_failed_record(repo, monkeypatch)
    data = status(synthgov, repo)
    assert data["datasets"][0]["current"] == "claims@1.10"
    assert [w["release"] for w in data["datasets"][0]["withdrawn"]] == ["claims@1.11"]
    assert releases(data)["claims@1.11"]["state"] == "withdrawn"
    assert catalog_states(synthgov, repo, tmp_path / "site")["claims@1.11"]["state"] == "withdrawn"
    code, scheduled_run = scheduled(synthgov, repo)
    rules = {r["release"]: {f["rule"] for f in r["findings"]} for r in scheduled_run["releases"]}
    assert code == 1 and rules["claims@1.11"] == {"policy.revalidation_failed"}


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
    revoke_merged(repo, monkeypatch)
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


def test_status_on_a_branch_that_deletes_an_empty_merged_revocation_still_shows_the_release_revoked(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revocation.yaml that does not load withdraws the release (fail closed). An empty
    one is no bytes, which read as "none on the base" (`base.read(p) or head.read(p)`), so
    a branch that deleted it showed the release current again."""
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    revocation = "datasets/claims/releases/1.11/revocation.yaml"
    (repo / revocation).write_text("")
    commit(repo, "an empty revocation, forced onto main")
    assert releases(status(synthgov, repo))["claims@1.11"]["state"] == "revoked"
    git(repo, "checkout", "-qb", "hide", "main")
    git(repo, "rm", "-q", revocation)
    commit(repo, "forget the revocation")
    data = status(synthgov, repo)
    assert releases(data)["claims@1.11"]["state"] == "revoked"
    assert data["datasets"][0]["current"] == "claims@1.10"
