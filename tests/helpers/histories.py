"""Histories of claims merged into main with merge commits, dated, and what each command
says of them: the histories `status`, the catalog and `check --scheduled` must agree on
(a policy tightened or a key expired after the merge, a failed revalidation, an expired
waiver, a revocation, the only release withdrawn)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov
from tests.helpers.git import commit, git, merge, sha
from tests.helpers.releases import VERSIONS, add_version, revalidate, revoke, waive
from tests.helpers.repos import make_base, write
from tests.helpers.samples import with_metric

CARD = "datasets/claims/card.yaml"
#: claims@1.11 fails its detection AUC unless a waiver relaxes it to 0.85
DETECTION = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
#: The scheduled run's rule for each withdrawal it reports, by cause.
SCHEDULED_RULES = {
    "revalidation failed": "policy.revalidation_failed",
    "waiver expired": "policy.waiver_expired",
}


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


def tighten_policy(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On 2026-09-15 main raises the column shapes threshold to 0.95 (claims scores 0.91)."""
    dated(monkeypatch, day("2026-09-15T00:00:00Z"))
    tightened = samples.POLICY.replace(
        'op: ">="\n    threshold: 0.8\n    description: Mean KS/TV',
        'op: ">="\n    threshold: 0.95\n    description: Mean KS/TV',
    )
    assert tightened != samples.POLICY
    write(repo, "policy/policy.yaml", tightened)
    commit(repo, "column shapes at 0.95")


def expire_key(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On 2026-09-25 main records that ada's key expired on 2026-09-20."""
    dated(monkeypatch, day("2026-09-25T00:00:00Z"))
    extra = {"ada": 'valid_before: "2026-09-20T00:00:00Z"'}  # after the merge, before now
    write(repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered(), extra=extra))
    commit(repo, "ada's key expired on 2026-09-20")


def fail_revalidation(repo: Path, monkeypatch: pytest.MonkeyPatch, version: str = "1.11") -> None:
    """claims@VERSION revalidated on 2026-10-15 (pass), then on 2026-11-20 (fails its
    detection AUC)."""
    dated(monkeypatch, day("2026-11-21T00:00:00Z"))
    revalidate(repo, version, "2026-10-15T12:00:00Z")
    revalidate(repo, version, "2026-11-20T12:00:00Z", "fidelity.detection_auc")


def revoke_merged(repo: Path, monkeypatch: pytest.MonkeyPatch, version: str = "1.11") -> None:
    """claims@VERSION revoked (from 2026-09-25) by a pull request merged on 2026-09-26."""
    dated(monkeypatch, day("2026-09-26T00:00:00Z"))
    git(repo, "checkout", "-qB", "pr", "main")
    revoke(repo, version)
    merge(repo)


def _tightened(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", cadence=30)
    tighten_policy(repo, monkeypatch)


def _key_expired(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", cadence=30)
    expire_key(repo, monkeypatch)


def _failed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    fail_revalidation(repo, monkeypatch)


def _waiver_expired(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", "1.11", metrics={"1.11": DETECTION}, cadence=30)


def _revoked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", "1.11", cadence=30)
    revoke_merged(repo, monkeypatch)


def _only_release(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merged(repo, monkeypatch, "1.10", cadence=30)
    fail_revalidation(repo, monkeypatch, "1.10")


#: Each history on main, with a 30-day revalidation cadence so that every current release
#: is overdue at the real clock and the scheduled run names it: name -> builder.
HISTORIES: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    "policy tightened": _tightened,
    "key expired": _key_expired,
    "failed revalidation": _failed,
    "expired waiver": _waiver_expired,
    "revocation": _revoked,
    "only release withdrawn": _only_release,
}


def status(synthgov: Synthgov, repo: Path) -> dict[str, Any]:
    """`status --format json`."""
    result = synthgov("status", "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def releases(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The releases of `status --format json` by name."""
    return {r["release"]: r for r in data["releases"]}


def catalog(synthgov: Synthgov, repo: Path, out: Path) -> dict[str, Any]:
    """`catalog --out OUT`'s catalog.json."""
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    data: dict[str, Any] = json.loads((out / "catalog.json").read_text())
    return data


def catalog_states(synthgov: Synthgov, repo: Path, out: Path) -> dict[str, dict[str, Any]]:
    """The catalog's releases by name."""
    data = catalog(synthgov, repo, out)
    return {r["release"]: r for d in data["datasets"] for r in d["releases"]}


_COUNTS = re.compile(r"(?:</a>|</span>)</td><td>(\d+)</td><td>(\d+)</td>")


def index_counts(site: Path) -> dict[str, tuple[int, int]]:
    """The catalog index's (pending, withdrawn) counts, by dataset; checks the column's label."""
    html = (site / "index.html").read_text()
    assert "<th>pending</th><th>withdrawn</th>" in html
    found = {}
    for row in html.split("<tr>")[2:]:
        dataset = re.search(r"<code>([^<]+)</code>", row)
        counts = _COUNTS.search(row)
        assert dataset is not None and counts is not None, row
        found[dataset.group(1)] = (int(counts.group(1)), int(counts.group(2)))
    return found


def scheduled(synthgov: Synthgov, repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`check --scheduled --format json`: exit code and document."""
    result = synthgov("check", "--scheduled", "--format", "json", *args, cwd=repo)
    assert result.code in (0, 1), result.err
    data: dict[str, Any] = json.loads(result.out)
    return result.code, data


_FALLBACK = re.compile(r"; fallback (\S+)$")


def scheduled_standing(data: dict[str, Any]) -> tuple[set[str], set[tuple[str, str, str, str]]]:
    """What the scheduled run names: the releases overdue (each a dataset's current one),
    and (release, cause, date, fallback) of each withdrawal it reports."""
    causes = {rule: cause for cause, rule in SCHEDULED_RULES.items()}
    overdue, taken = set(), set()
    for result in data["releases"]:
        for finding in result["findings"]:
            if finding["rule"] == "policy.revalidation_overdue":
                overdue.add(result["release"])
            elif finding["rule"] in causes:
                found = _FALLBACK.search(finding["message"])
                assert found is not None, finding["message"]
                cause = causes[finding["rule"]]
                taken.add((result["release"], cause, finding["observed"], found.group(1)))
    return overdue, taken
