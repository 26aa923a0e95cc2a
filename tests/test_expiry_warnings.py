"""`check --scheduled` warns before a current release's waiver or a reviewer's key expires,
on real git repositories with real keys: advisory findings that never change the exit code
(`status` and the catalog are tested in test_status.py and test_catalog.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthgov.decision import expiry
from synthgov.files import governance
from synthgov.models import Waiver
from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov
from tests.helpers.releases import add_version, waive
from tests.helpers.repos import make_base, on_main
from tests.helpers.samples import with_metric

#: claims@1.10 is created on 2026-09-02 and due for revalidation 30 days later.
AT = "2026-09-05T00:00:00Z"


def scheduled(synthgov: Synthgov, repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = synthgov("check", "--scheduled", "--format", "json", *args, cwd=repo)
    assert result.code in (0, 1), result.err
    data: dict[str, Any] = json.loads(result.out)
    return result.code, data


def _warnings(data: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    found = [*data["findings"], *(f for r in data["releases"] for f in r["findings"])]
    return [f for f in found if f["rule"] == rule]


def _ada_valid_before(repo: Path, until: str) -> None:
    extra = {"ada": f'valid_before: "{until}"'}
    on_main(
        repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered(), extra=extra)
    )


def test_a_key_expiring_in_five_days_warns_without_failing_the_scheduled_run(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    _ada_valid_before(repo, "2026-09-10T00:00:00Z")
    code, data = scheduled(synthgov, repo, "--at", AT)
    assert code == 0 and data["verdict"] == "pass"  # a warning never blocks
    [warning] = _warnings(data, "policy.key_expiring")
    ada = signing.people()["ada"]
    assert warning["severity"] == "warning" and warning["enforcement"] == "advisory"
    assert (
        f"reviewer ada's key {ada.fingerprint} expires on 2026-09-10 (in 5 days)"
        in (warning["message"])
    )
    assert warning["file"] == "policy/reviewers.yaml"


def test_a_key_expiring_in_thirty_days_or_already_expired_does_not_warn(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    _ada_valid_before(repo, "2026-10-05T00:00:00Z")
    code, data = scheduled(synthgov, repo, "--at", AT)
    assert code == 0 and _warnings(data, "policy.key_expiring") == []
    code, data = scheduled(synthgov, repo, "--at", "2026-09-01T00:00:00Z")
    assert _warnings(data, "policy.key_expiring") == []  # 34 days: outside the window
    _ada_valid_before(repo, "2026-09-04T00:00:00Z")  # expired a day before the run
    code, data = scheduled(synthgov, repo, "--at", AT)
    assert code == 0 and _warnings(data, "policy.key_expiring") == []


def test_a_current_releases_waiver_ending_soon_warns_and_the_exit_code_is_unchanged(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(
        repo, "1.10", metrics=with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    )
    waive(repo, days=60)  # at the real clock, long after claims@1.10 fell due
    code, quiet = scheduled(synthgov, repo)
    assert _warnings(quiet, "policy.waiver_expiring") == []
    waive(repo, days=5)
    later, data = scheduled(synthgov, repo)
    assert later == code  # the overdue revalidation decides, the warning does not
    [warning] = _warnings(data, "policy.waiver_expiring")
    assert warning["severity"] == "warning" and warning["enforcement"] == "advisory"
    assert "waiver WVR-2026-007 of claims@1.10 ends on" in warning["message"]
    assert warning["file"] == "datasets/claims/releases/1.10/waivers/WVR-2026-007.yaml"
    waive(repo, days=-3)  # expired: the gate judges that (waivers.expired), no warning here
    _, data = scheduled(synthgov, repo)
    assert _warnings(data, "policy.waiver_expiring") == []


@pytest.mark.parametrize(
    ("now", "said"),
    [
        ("2026-09-18T00:00:00Z", "in 14 days"),  # the first day of the default window
        ("2026-10-01T12:00:00Z", "tomorrow"),
        ("2026-10-01T23:59:59Z", "tomorrow"),
    ],
)
def test_the_window_counts_calendar_days_so_a_whole_day_reads_the_same(now: str, said: str) -> None:
    waiver = governance.load_bytes(samples.WAIVER.encode(), "w.yaml", Waiver)  # ends 2026-10-02
    at = datetime.fromisoformat(now)
    [notice] = expiry.waivers("claims@1.10", [waiver], at, 14)
    assert notice.message == f"waiver WVR-2026-007 of claims@1.10 ends on 2026-10-02 ({said})"


def test_a_waiver_outside_the_window_before_it_starts_or_at_its_end_does_not_warn() -> None:
    waiver = governance.load_bytes(samples.WAIVER.encode(), "w.yaml", Waiver)
    for now in ("2026-09-17T23:59:59Z", "2026-10-02T00:00:00Z", "2026-09-01T00:00:00Z"):
        assert expiry.waivers("claims@1.10", [waiver], datetime.fromisoformat(now), 14) == []
    late = datetime(2026, 10, 1, tzinfo=UTC)
    assert expiry.waivers("claims@1.10", [waiver], late, 0) == []  # 0: no warning at all


def _ada_revoked_at(repo: Path, when: str, valid_before: str | None = None) -> None:
    lines = f'revoked_at: "{when}"\nrevocation_reason: rotated to a hardware key'
    if valid_before:
        lines += f'\nvalid_before: "{valid_before}"'
    on_main(
        repo,
        "policy/reviewers.yaml",
        signing.registry_yaml(*signing.registered(), extra={"ada": lines}),
    )


def test_a_key_revoked_from_a_future_date_is_not_revoked_yet_and_warns_of_that_end(
    synthgov: Synthgov, repo: Path
) -> None:
    """A `revoked_at` after the clock is not a revocation yet (the key verifies until then,
    so the release keeps its approval) but ends the key then: warned of like an expiry."""
    make_base(repo)
    add_version(repo, "1.10")
    _ada_revoked_at(repo, "2026-09-09T00:00:00Z", valid_before="2027-01-01T00:00:00Z")
    code, data = scheduled(synthgov, repo, "--at", AT)
    assert code == 0
    [warning] = _warnings(data, "policy.key_expiring")
    ada = signing.people()["ada"]
    assert (
        f"reviewer ada's key {ada.fingerprint} is revoked from 2026-09-09 (in 4 days)"
        in (warning["message"])
    )
    # at the real clock, after that date, the key is revoked: no warning, it is judged
    _, later = scheduled(synthgov, repo)
    assert _warnings(later, "policy.key_expiring") == []


def test_status_warns_of_a_key_revoked_from_a_date_within_the_window(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    soon = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    _ada_revoked_at(repo, f"{soon:%Y-%m-%dT%H:%M:%SZ}")
    data = json.loads(synthgov("status", "--format", "json", cwd=repo).out)
    assert data["datasets"][0]["current"] == "claims@1.10"  # ada's approval still counts
    [notice] = data["notices"]
    assert (notice["kind"], notice["subject"], notice["ends_by"]) == ("key", "ada", "revocation")
    assert notice["expires_at"] == f"{soon:%Y-%m-%dT%H:%M:%SZ}"
    assert f"is revoked from {soon:%Y-%m-%d}" in synthgov("status", cwd=repo).out


def test_a_key_revocation_later_than_the_window_or_after_its_expiry_is_not_what_is_warned(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")
    _ada_revoked_at(repo, "2026-10-20T00:00:00Z")  # 45 days on: outside the window
    assert _warnings(scheduled(synthgov, repo, "--at", AT)[1], "policy.key_expiring") == []
    # an expiry before the revocation is the end that is warned of
    _ada_revoked_at(repo, "2026-10-20T00:00:00Z", valid_before="2026-09-08T00:00:00Z")
    [warning] = _warnings(scheduled(synthgov, repo, "--at", AT)[1], "policy.key_expiring")
    assert "expires on 2026-09-08 (in 3 days)" in warning["message"]
