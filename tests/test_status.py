"""`synthgov status`: per dataset, the current release, pending and revoked ones, budget and
revalidation, on real git repositories with real signed approvals."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthgov.audit import merged as merged_judgement
from synthgov.decision import sides
from synthgov.decision.parse_cache import ParseCache
from synthgov.decision.sides import working_tree
from synthgov.decision.status import collect, collect_tree
from synthgov.files import governance
from synthgov.files.layout import Release
from synthgov.git.history import Repository
from synthgov.models import Report
from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov
from tests.helpers.git import commit
from tests.helpers.histories import merged
from tests.helpers.releases import VERSIONS, add_version, revalidate, waive
from tests.helpers.repos import make_base, on_main, write
from tests.helpers.samples import with_metric


def status_json(synthgov: Synthgov, repo: Path, *args: str) -> dict[str, Any]:
    result = synthgov("status", "--format", "json", *args, cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_status_json_per_dataset_shape(synthgov: Synthgov, history: Path) -> None:
    data = status_json(synthgov, history)
    assert set(data) == {"base", "head", "releases", "datasets", "notices"}
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


def _waived(repo: Path, days: float) -> datetime:
    """claims@1.10 failing its detection AUC, waived for `days` more days."""
    make_base(repo)
    detection = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    add_version(repo, "1.10", metrics=detection)
    return waive(repo, days=days)


def test_a_waiver_ending_within_the_warning_window_is_announced_not_enforced(
    synthgov: Synthgov, repo: Path
) -> None:
    expires = _waived(repo, 5)
    data = status_json(synthgov, repo)
    assert data["datasets"][0]["current"] == "claims@1.10"  # a warning changes no state
    [notice] = data["notices"]
    assert notice["kind"] == "waiver" and notice["subject"] == "WVR-2026-007"
    assert notice["release"] == "claims@1.10" and notice["days_left"] in (4, 5)
    assert notice["expires_at"] == f"{expires:%Y-%m-%dT%H:%M:%SZ}"
    text = synthgov("status", cwd=repo).out
    assert f"warning: waiver WVR-2026-007 of claims@1.10 ends on {expires:%Y-%m-%d}" in text


def test_a_waiver_ending_after_the_warning_window_is_not_announced(
    synthgov: Synthgov, repo: Path
) -> None:
    _waived(repo, 30)  # the default window is 14 days
    data = status_json(synthgov, repo)
    assert data["notices"] == []
    assert "warning:" not in synthgov("status", cwd=repo).out


def test_an_expired_waiver_is_not_announced_as_expiring(synthgov: Synthgov, repo: Path) -> None:
    _waived(repo, -3)  # already expired: the gate blocks it (waivers.expired), no warning
    data = status_json(synthgov, repo)
    assert data["notices"] == []
    assert "waivers.expired" in data["releases"][0]["blocking"]


def _key_expiring(repo: Path, days: int) -> datetime:
    """claims@1.10 approved by ada and chen, ada's key valid until `days` from now (on main,
    the trust root)."""
    make_base(repo)
    add_version(repo, "1.10")
    until = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    extra = {"ada": f'valid_before: "{until:%Y-%m-%dT%H:%M:%SZ}"'}
    registry = signing.registry_yaml(*signing.registered(), extra=extra)
    on_main(repo, "policy/reviewers.yaml", registry)
    return until


def test_a_reviewer_key_expiring_soon_is_announced_and_the_release_stays_current(
    synthgov: Synthgov, repo: Path
) -> None:
    until = _key_expiring(repo, 5)
    data = status_json(synthgov, repo)
    assert data["datasets"][0]["current"] == "claims@1.10"
    ada = signing.people()["ada"]
    assert [(n["kind"], n["subject"], n["fingerprint"]) for n in data["notices"]] == [
        ("key", "ada", ada.fingerprint)
    ]
    text = synthgov("status", cwd=repo).out
    assert f"warning: reviewer ada's key {ada.fingerprint} expires on {until:%Y-%m-%d}" in text


def test_a_reviewer_key_expiring_later_is_not_announced(synthgov: Synthgov, repo: Path) -> None:
    _key_expiring(repo, 30)
    assert status_json(synthgov, repo)["notices"] == []


def test_the_warning_window_is_the_policy_setting(synthgov: Synthgov, repo: Path) -> None:
    _key_expiring(repo, 30)
    policy = (repo / "policy/policy.yaml").read_text()
    assert "expiry_warning_days: 14" in policy
    on_main(repo, "policy/policy.yaml", policy.replace("days: 14", "days: 45"))
    assert [n["subject"] for n in status_json(synthgov, repo)["notices"]] == ["ada"]


def test_status_shows_the_current_artifacts_url_and_content_fingerprint(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    artifact = status_json(synthgov, repo)["datasets"][0]["artifact"]
    assert artifact["location"] == "s3://bucket/claims-1.10.parquet"
    assert artifact["fingerprint"] == samples.fingerprint_of(VERSIONS["1.10"][1])
    text = synthgov("status", cwd=repo).out
    assert (
        f"artifact: s3://bucket/claims-1.10.parquet; content fingerprint {artifact['fingerprint']}"
    ) in text


def test_status_never_shows_a_local_artifact_path(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    add_version(repo, "1.10", location="/home/author/private/claims-synthetic.csv")
    [claims] = status_json(synthgov, repo)["datasets"]
    assert claims["artifact"]["location"] is None and claims["artifact"]["fingerprint"]
    text = synthgov("status", cwd=repo).out
    assert "/home/author" not in text and "claims-synthetic.csv" not in text
    assert "artifact: location not published (a local path); content fingerprint" in text


def _release_lookups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: int) -> int:
    """How many times status's view of `datasets` datasets, one release each, splits a
    release id (`Release.of`): the work that grouped releases by dataset."""
    root = tmp_path / f"tree-{datasets}"
    write(root, "policy/policy.yaml", samples.POLICY)
    write(root, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered()))
    for k in range(datasets):
        write(root, f"datasets/ds-{k}/card.yaml", samples.CARD)
        write(root, f"datasets/ds-{k}/releases/1.0/manifest.yaml", "not: a manifest\n")
    calls = 0
    real = Release.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Release], ref: str) -> Release:
        nonlocal calls
        calls += 1
        return real(cls, ref)  # type: ignore[no-any-return]

    with monkeypatch.context() as patched:
        patched.setattr(Release, "of", classmethod(counting))
        view = collect_tree(working_tree(root), datetime.now(UTC))
    assert len(view.datasets) == datasets
    return calls


def test_status_groups_releases_by_dataset_once_not_once_per_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status's work per release stays the same as datasets are added (before: every
    release was looked at again for every dataset, quadratic in the repository)."""
    small = _release_lookups(tmp_path, monkeypatch, 4)
    large = _release_lookups(tmp_path, monkeypatch, 16)
    assert large <= 4 * small + 8, (small, large)


def test_a_merged_release_is_kept_as_status_shows_it_with_its_report_parsed_for_the_catalog(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay keeps of each merged release what status, the catalog and `check
    --scheduled` show, not its whole context (before: some 240 KB per release, 1.7 GB at
    7,000 releases): the manifest's model, the report as the bytes merged, parsed only when
    the catalog asks for it."""
    merged_at = merged(repo, monkeypatch, "1.10", "1.11")
    now = datetime.now(UTC)
    path = "datasets/claims/releases/1.10/report.json"
    raw = (repo / path).read_bytes()  # committed as it is on disk
    with Repository.open(repo) as opened:
        [judged] = merged_judgement.judge(opened, "main", ["claims@1.10"], now).values()
    assert {f.name for f in fields(judged)}.isdisjoint({"ctx", "context"})
    assert judged.commit == merged_at["1.10"] and judged.result is not None
    assert judged.report == raw and judged.manifest is not None
    states = {
        reports: {
            r.release: r
            for d in collect(repo, None, now, reports=reports).datasets
            for r in d.releases
        }
        for reports in (False, True)
    }
    assert {s.merge_commit for s in states[True].values()} == set(merged_at.values())
    assert states[False]["claims@1.10"].report is None
    shown = states[True]["claims@1.10"].report
    assert shown is not None and shown == governance.load_bytes(raw, path, Report).model
    # the rest of the view does not depend on whether the reports were parsed
    assert {r: replace(s, report=None) for r, s in states[True].items()} == states[False]


def test_the_replay_parses_an_earlier_release_once_not_again_for_every_later_release(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merged release's manifest is parsed as often as the newest one's, plus once when
    a later release is first dated against it, however many releases follow (before: once
    more for every later release of its dataset, the parse cache thrashing past 5,000
    releases). Counted with no parse cache, so that nothing it keeps hides a re-read."""
    merged(repo, monkeypatch, *VERSIONS)
    parses: dict[str, int] = {}
    real = governance.load_bytes

    def counting(raw: bytes, path: str, kind: Any = None) -> Any:
        if path.endswith("/manifest.yaml"):
            parses[path] = parses.get(path, 0) + 1
        return real(raw, path, kind)

    with monkeypatch.context() as patched:
        patched.setattr(sides, "PARSED", ParseCache(0, 0))
        patched.setattr(governance, "load_bytes", counting)
        view = collect(repo, None, datetime.now(UTC), reports=False)
    assert {r.release for d in view.datasets for r in d.releases} == {
        f"claims@{v}" for v in VERSIONS
    }
    folder = "datasets/claims/releases/{}/manifest.yaml".format
    first, newest = (parses[folder(v)] for v in (min(VERSIONS), max(VERSIONS)))
    assert newest >= 1 and first <= newest + 1, parses
