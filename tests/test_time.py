"""Time: dates in files are claims, the checker's clock decides (issue 15, attack 6).

A manifest dated 2099 passed, stayed current and never fell due; `--at` at the end of
time overflowed. On real git repositories: future-dated manifests, waivers and records are
refused and say why, `status` and the schedule ignore them, `--at` stays in a replayable
range, and `audit` marks the decisions whose committer date no signed checkpoint anchors.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from synthgov import clock
from tests.helpers import ROOT, samples, signing
from tests.helpers.cli import Synthgov, audit, gate
from tests.helpers.git import commit, git, merge, sha
from tests.helpers.repos import add_release, on_main, release_digest, write
from tests.helpers.samples import RELEASE

FUTURE = samples.MANIFEST.replace("2026-09-02T10:00:00Z", "2099-01-01T00:00:00Z")


def findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for r in data["releases"] for f in r["findings"]]


def test_a_manifest_dated_2099_is_blocked(synthgov: Synthgov, base: Path) -> None:
    add_release(base, manifest=FUTURE)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    [late] = [f for f in findings(data) if f["rule"] == "time.future_dated"]
    assert late["file"] == f"{RELEASE}/manifest.yaml" and late["line"] == 4  # created_at
    assert late["observed"] == "2099-01-01T00:00:00Z" and late["severity"] == "error"
    assert "created_at 2099-01-01T00:00:00Z is after the checker's clock" in late["message"]
    # replayed at an instant after the claimed date, the same manifest is fine
    assert gate(synthgov, base, "--at", "2099-01-01T00:04:00Z")["verdict"] == "pass"


def test_a_manifest_dated_2099_on_main_is_never_current_nor_switches_the_schedule_off(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, "datasets/claims/card.yaml", samples.CARD + "revalidation_days: 30\n")
    add_release(base)  # claims@1.10, created 2026-09-02
    merge(base)
    later = RELEASE.replace("1.10", "1.11")
    write(base, f"{later}/manifest.yaml", FUTURE.replace('version: "1.10"', 'version: "1.11"'))
    report = json.loads((base / RELEASE / "report.json").read_text())
    write(base, f"{later}/report.json", json.dumps(report))
    commit(base, "claims@1.11, dated 2099, pushed straight to main")
    status = synthgov("status", "--format", "json", cwd=base)
    [dataset] = json.loads(status.out)["datasets"]
    assert dataset["current"] == "claims@1.10"
    assert {"release": "claims@1.11", "blocking": ["time.future_dated"]} in [
        {**p, "blocking": [r for r in p["blocking"] if r == "time.future_dated"]}
        for p in dataset["pending"]
    ]
    result = synthgov("check", "--scheduled", "--format", "json", cwd=base)
    assert result.code == 1
    rules = {
        (r["release"], f["rule"]) for r in json.loads(result.out)["releases"] for f in r["findings"]
    }
    assert ("claims@1.11", "time.future_dated") in rules
    assert ("claims@1.10", "policy.revalidation_overdue") in rules  # still due


def test_a_new_release_dated_before_the_current_one_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """claims@1.10 (created 2026-09-02) is merged. claims@1.11, dated 2026-08-01, passed:
    older than the current release, it was superseded on arrival, so `status` never made
    it current and the revalidation schedule never looked at it, while it shipped."""
    add_release(base)
    merge(base)
    git(base, "checkout", "-qb", "next")
    later, people = RELEASE.replace("1.10", "1.11"), signing.people()
    back_dated: dict[str, Any] = {}
    for created, blocked in (("2026-08-01T00:00:00Z", True), ("2026-09-03T00:00:00Z", False)):
        manifest = samples.MANIFEST.replace('version: "1.10"', 'version: "1.11"').replace(
            "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: none"
        )
        write(base, f"{later}/manifest.yaml", manifest.replace("2026-09-02T10:00:00Z", created))
        write(base, f"{later}/report.json", (base / RELEASE / "report.json").read_text())
        for name in ("ada", "chen"):
            person = people[name]
            path, text = signing.approval(
                person, person.roles[0], release_digest(base, later), release="claims@1.11"
            )
            write(base, path, text)
        commit(base, f"claims@1.11, created {created}")
        data = gate(synthgov, base)
        back = [f for f in findings(data) if f["rule"] == "time.back_dated"]
        back_dated = back[0] if back else back_dated
        assert bool(back) == blocked
        assert data["verdict"] == ("blocked" if blocked else "pass")
    expected = "created_at 2026-08-01T00:00:00Z is before claims@1.10's (2026-09-02T10:00:00Z)"
    assert expected in back_dated["message"]


def test_a_waiver_dated_in_the_future_is_refused(synthgov: Synthgov, base: Path) -> None:
    waiver = samples.WAIVER.replace(
        'created_at: "2026-09-02T00:00:00Z"', 'created_at: "2099-01-01T00:00:00Z"'
    )
    waiver = waiver.replace(
        'expires_at: "2026-10-02T00:00:00Z"', 'expires_at: "2099-02-01T00:00:00Z"'
    )
    write(base, f"{RELEASE}/waivers/WVR-2026-007.yaml", waiver)
    add_release(base)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    late = [f for f in findings(data) if f["rule"] == "time.future_dated"]
    assert [f["file"] for f in late] == [f"{RELEASE}/waivers/WVR-2026-007.yaml"]


def test_check_at_the_end_of_time_on_a_revalidation_only_pr_is_a_one_line_error(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    merge(base)
    git(base, "checkout", "-qb", "reval")
    write(base, f"{RELEASE}/revalidations/20261201T060000Z.json", samples.REVALIDATION)
    commit(base, "a revalidation record")
    result = synthgov("check", "--base", "main", "--at", "9999-12-31T23:59:59Z", cwd=base)
    assert result.code == 2
    assert result.err.strip() == (
        "--at: '9999-12-31T23:59:59Z' is outside the range a clock can replay; expected a "
        "time from 1970-01-01T00:00:00Z to before 9000-01-01T00:00:00Z"
    )
    latest = synthgov("check", "--base", "main", "--at", "8999-12-31T23:59:59Z", cwd=base)
    assert latest.code in (0, 1) and "internal error" not in latest.err


def test_a_manifest_dated_at_the_end_of_time_is_no_internal_error(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, "datasets/claims/card.yaml", samples.CARD + "revalidation_days: 3650\n")
    end = samples.MANIFEST.replace("2026-09-02T10:00:00Z", "9999-12-31T23:59:59Z")
    add_release(base, manifest=end)
    merge(base)
    result = synthgov("check", "--scheduled", "--at", "8999-12-31T23:59:59Z", cwd=base)
    assert result.code == 1 and "time.future_dated" in result.out, result.err
    assert clock.shift(clock.LATEST, clock.LATEST - clock.EARLIEST).year == 9999  # saturated


def test_audit_marks_decisions_whose_committer_date_no_checkpoint_anchors(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    merge(base)
    code, data = audit(synthgov, base)
    assert code == 0 and data["unanchored"] == 1
    [decision] = data["releases"][0]["decisions"]
    assert (decision["clock"], decision["anchored_by"]) == ("committer", None)
    dana = signing.people()["dana"]  # a policy admin: may sign checkpoints
    assert synthgov("audit", "--checkpoint", "--key", str(dana.key), cwd=base).code == 0
    code, data = audit(synthgov, base)
    assert code == 0 and data["unanchored"] == 0
    [decision] = data["releases"][0]["decisions"]
    assert decision["anchored_by"].startswith("audit/checkpoints/")
    code, data = audit(synthgov, base, "--at", "2026-10-01T00:00:00Z")
    assert data["unanchored"] == 0 and data["releases"][0]["decisions"][0]["clock"] == "at"
    pack = base / "pack"
    assert synthgov("audit", "--out", str(pack), cwd=base).code == 0
    assert "Decisions on unanchored dates | 0" in (pack / "audit.md").read_text()


@pytest.mark.parametrize(
    "date", ["2099-01-01T00:00:00Z", "@99999999999999 +0000"], ids=["2099", "beyond-9999"]
)
def test_a_commit_dated_after_the_auditors_clock_is_found_and_judged_at_that_clock(
    synthgov: Synthgov, base: Path, date: str
) -> None:
    add_release(base)
    git(base, "checkout", "-q", "main")
    env = {**os.environ, "GIT_COMMITTER_DATE": date}  # git accepts dates past the year 9999
    subprocess.run(
        [
            "git",
            "-c",
            "commit.gpgsign=false",
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "merge, dated 2099",
            "pr",
        ],
        cwd=base,
        env=env,
        check=True,
    )
    code, data = audit(synthgov, base)
    assert code == 1
    assert [(f["commit"], f["kind"]) for f in data["findings"]] == [
        (sha(base), "history.future_dated")
    ]
    [decision] = data["releases"][0]["decisions"]
    assert decision["clock"] == "auditor" and decision["time"] < "2099"
    assert synthgov("audit", "--format", "html", cwd=base).code == 1  # renders, no overflow


def test_the_scheduled_workflow_signs_a_checkpoint_with_a_key_from_a_secret(
    synthgov: Synthgov, tmp_path: Path
) -> None:
    assert synthgov("init", str(tmp_path / "gov")).code == 0
    path = tmp_path / "gov/.github/workflows/synthgov-revalidation.yml"
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["checkpoint"]
    assert job["permissions"] == {"contents": "write"}  # only the job that pushes
    [step] = [s for s in job["steps"] if "synthgov audit" in s.get("run", "")]
    assert step["env"]["CHECKPOINT_KEY"] == "${{ secrets.SYNTHGOV_CHECKPOINT_KEY }}"
    assert "${{" not in step["run"]
    assert 'synthgov audit --out "$RUNNER_TEMP/audit" --checkpoint --key "$KEY"' in step["run"]
    assert "refs/heads/synthgov-checkpoints" in step["run"]
    gate_action = (ROOT / "synthgov/templates/action.yml").read_text()  # the gate workflow's
    assert "PR_AUTHOR: ${{ github.event.pull_request.user.login }}" in gate_action
    assert 'set -- "$@" --pr-author "$PR_AUTHOR"' in gate_action


def test_a_revocation_dated_in_the_future_is_refused(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    merge(base)
    git(base, "checkout", "-qb", "revoke")
    late = samples.REVOCATION.replace("2026-10-14T08:30:00Z", "2099-10-14T08:30:00Z")
    write(base, f"{RELEASE}/revocation.yaml", late)
    commit(base, "a revocation dated 2099")
    data = gate(synthgov, base)
    late_findings = [f for f in findings(data) if f["rule"] == "time.future_dated"]
    assert [f["file"] for f in late_findings] == [f"{RELEASE}/revocation.yaml"]


def test_a_checkpoint_dated_2099_is_not_trusted(synthgov: Synthgov, base: Path) -> None:
    from datetime import UTC, datetime

    from synthgov.audit import checkpoints
    from synthgov.files.writing import to_yaml
    from synthgov.models import Checkpoint

    add_release(base)
    merge(base)
    dana = signing.people()["dana"]
    tip, tree = git(base, "log", "-1", "--format=%H %T").split()
    data: dict[str, Any] = checkpoints.unsigned(
        tip, tree, {}, datetime(2099, 1, 1, tzinfo=UTC), "dana"
    )
    heads = checkpoints.ledger_heads(lambda p: (base / p).read_bytes(), ["budgets/claims-db.yaml"])
    data["ledgers"] = heads
    data["signature"] = {
        "format": "sshsig",
        "armored": dana.sign(checkpoints.payload(data), checkpoints.NAMESPACE),
    }
    write(
        base,
        checkpoints.path_for(datetime(2099, 1, 1, tzinfo=UTC)),
        to_yaml(Checkpoint.model_validate(data)),
    )
    code, result = audit(synthgov, base)
    assert code == 1
    [finding] = result["findings"]
    assert finding["kind"] == "checkpoint.invalid"
    assert "created_at 2099-01-01T00:00:00Z is after the checker's clock" in finding["message"]
    assert result["unanchored"] == 1  # an untrusted checkpoint anchors nothing
