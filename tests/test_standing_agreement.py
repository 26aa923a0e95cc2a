"""`check --scheduled`, `status` and the catalog judge the releases of main by one rule (at
their merge; withdrawn only by a revocation, a failed revalidation or an expired waiver), so
they name the same current release and the same withdrawals, on real git histories merged
into main with real signed approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthgov.audit import merged as merged_judgement
from synthgov.git.history import FirstParent
from tests.helpers.cli import Synthgov, audit_verdicts
from tests.helpers.git import git, merge
from tests.helpers.histories import (
    DETECTION,
    HISTORIES,
    SCHEDULED_RULES,
    catalog,
    dated,
    day,
    fail_revalidation,
    index_counts,
    merged,
    revoke_merged,
    scheduled,
    scheduled_standing,
    status,
)
from tests.helpers.releases import VERSIONS, add_version, waive

#: history -> (the current release, the withdrawals (release, cause, since, fallback))
EXPECTED: dict[str, tuple[str | None, set[tuple[str, str, str, str]]]] = {
    "policy tightened": ("claims@1.10", set()),
    "key expired": ("claims@1.10", set()),
    "failed revalidation": (
        "claims@1.10",
        {("claims@1.11", "revalidation failed", "2026-11-20T12:00:00Z", "claims@1.10")},
    ),
    "expired waiver": (
        "claims@1.10",
        {("claims@1.11", "waiver expired", "2026-10-20T00:00:00Z", "claims@1.10")},
    ),
    "revocation": (
        "claims@1.10",
        {("claims@1.11", "revoked", "2026-09-25T08:00:00Z", "claims@1.10")},
    ),
    "only release withdrawn": (
        None,
        {("claims@1.10", "revalidation failed", "2026-11-20T12:00:00Z", "none")},
    ),
}


def _standing(datasets: list[dict[str, Any]]) -> tuple[str | None, set[tuple[str, ...]]]:
    [claims] = datasets
    taken = {
        (w["release"], w["cause"], w["at"], w["fallback"] or "none") for w in claims["withdrawn"]
    }
    return claims["current"], taken


@pytest.mark.parametrize("history", sorted(HISTORIES))
def test_scheduled_status_and_catalog_name_the_same_current_release_and_withdrawals(
    synthgov: Synthgov,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    history: str,
) -> None:
    HISTORIES[history](repo, monkeypatch)
    current, taken = EXPECTED[history]
    assert _standing(status(synthgov, repo)["datasets"]) == (current, taken)
    site = tmp_path / "site"
    assert _standing(catalog(synthgov, repo, site)["datasets"]) == (current, taken)
    # the index counts every withdrawn release, whatever took it away
    assert index_counts(site) == {"claims": (0, len(taken))}
    code, document = scheduled(synthgov, repo)
    overdue, reported = scheduled_standing(document)
    # every current release is overdue here (30-day cadence): the run names exactly it
    assert overdue == ({current} if current else set())
    # a revocation is the owners' own act: the run reports the other withdrawals
    assert reported == {t for t in taken if t[1] != "revoked"}
    assert code == 1  # an overdue current release or a withdrawal to act on


def test_a_withdrawal_blocks_the_scheduled_run_until_a_newer_release_supersedes_it(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """claims@1.11 passed through a waiver that expired on 2026-10-20: the scheduled run
    fails on it, with a fix, until claims@1.12 is merged and current; status still lists
    1.11 as withdrawn, and the run no longer reports it."""
    merged(repo, monkeypatch, "1.10", "1.11", metrics={"1.11": DETECTION})
    code, document = scheduled(synthgov, repo)
    [result] = document["releases"]
    [finding] = result["findings"]
    assert code == 1 and result["release"] == "claims@1.11"
    assert finding["rule"] == SCHEDULED_RULES["waiver expired"] == "policy.waiver_expired"
    assert (finding["severity"], finding["enforcement"]) == ("error", "mandatory")
    assert finding["file"] == "datasets/claims/releases/1.11/waivers"
    assert "synthgov waiver new" in finding["fix"]
    assert finding["message"] == (
        "claims@1.11 is withdrawn (waiver expired: it passed fidelity.detection_auc only "
        "through waiver WVR-2026-007, which expired on 2026-10-20) on 2026-10-20; "
        "fallback claims@1.10"
    )
    dated(monkeypatch, day("2026-10-02T10:00:00Z"))
    git(repo, "checkout", "-qB", "pr", "main")
    add_version(repo, "1.12")
    merge(repo)
    assert _standing(status(synthgov, repo)["datasets"]) == (
        "claims@1.12",
        {("claims@1.11", "waiver expired", "2026-10-20T00:00:00Z", "claims@1.10")},
    )
    code, document = scheduled(synthgov, repo)
    assert (code, document["releases"]) == (0, [])  # no cadence: nothing else is due


def test_the_scheduled_run_without_git_reports_a_failed_revalidation_as_status_would(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a history, each release is judged as the gate judges it now; the same rule
    then picks the current release and the withdrawals."""
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    fail_revalidation(repo, monkeypatch)
    code, document = scheduled(synthgov, repo, "--no-git")
    overdue, reported = scheduled_standing(document)
    assert code == 1 and overdue == {"claims@1.10"}
    assert reported == {
        ("claims@1.11", "revalidation failed", "2026-11-20T12:00:00Z", "claims@1.10")
    }


def test_a_renewed_waiver_ends_the_withdrawal_for_status_and_the_scheduled_run(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owners act on an expired waiver by merging a new one, approved in time: the
    merge re-decides claims@1.11, which is current again for all three."""
    merged(repo, monkeypatch, "1.10", "1.11", metrics={"1.11": DETECTION})
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    git(repo, "checkout", "-qB", "pr", "main")
    waive(repo, "1.11", days=60)  # in force at the real clock
    merge(repo)
    assert _standing(status(synthgov, repo)["datasets"]) == ("claims@1.11", set())
    code, document = scheduled(synthgov, repo)
    assert (code, document["releases"]) == (0, [])


def _commit(sha: str, *paths: str) -> FirstParent:
    return FirstParent(sha, "t", 0, (), tuple((p, "A") for p in paths), tuple(paths))


def test_revoked_artifacts_are_looked_up_again_only_when_a_revocation_or_its_manifest_changes() -> (
    None
):
    folder = "datasets/claims/releases"
    epochs = merged_judgement.revocation_epochs(
        [
            _commit("a", f"{folder}/1.10/manifest.yaml"),
            _commit("b", f"{folder}/1.11/manifest.yaml"),
            _commit("c", f"{folder}/1.11/revocation.yaml"),
            _commit("d", f"{folder}/1.12/manifest.yaml"),
            _commit("e", f"{folder}/1.11/manifest.yaml"),  # the revoked release's manifest
            _commit("f", f"{folder}/1.12/approvals/ada.yaml"),
        ]
    )
    assert epochs == {"a": "", "b": "", "c": "c", "d": "c", "e": "e", "f": "e"}


def test_a_revoked_artifact_shipped_again_is_blocked_at_its_merge_as_the_audit_says(
    synthgov: Synthgov, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """claims@1.11 is revoked, then claims@1.12 ships the same table and is merged: the
    replay looks the revoked artifacts up by epoch, and still finds it."""
    monkeypatch.setitem(VERSIONS, "1.12", (VERSIONS["1.12"][0], VERSIONS["1.11"][1]))
    merged(repo, monkeypatch, "1.10", "1.11")
    revoke_merged(repo, monkeypatch)
    dated(monkeypatch, day("2026-10-02T10:00:00Z"))
    git(repo, "checkout", "-qB", "pr", "main")
    add_version(repo, "1.12")
    merge(repo)
    data = status(synthgov, repo)
    shown = {r["release"]: (r["verdict"], r["blocking"]) for r in data["releases"]}
    assert shown["claims@1.12"][0] == "blocked"
    assert "policy.revoked_artifact" in shown["claims@1.12"][1]
    assert data["datasets"][0]["current"] == "claims@1.10"
    decided = audit_verdicts(synthgov, repo)
    for item in data["releases"]:
        assert decided[(item["release"], item["judged"]["commit"])] == item["verdict"]
