"""`synthgov check` on real git repositories: the base decides, every gate blocks, every format."""

from __future__ import annotations

import hashlib
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from synthgov.decision import run as decision_run
from synthgov.decision.findings import Verdict
from tests.helpers import ROOT, samples, signing
from tests.helpers.cli import Synthgov, as_json, check
from tests.helpers.git import commit, git
from tests.helpers.repos import add_release, approve, make_base, write
from tests.helpers.samples import PASSING, RELEASE, report_json, with_metric

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def test_a_compliant_pull_request_passes(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    result = check(synthgov, base, "--format", "json")
    assert result.code == 0, result.out
    data = as_json(result)
    assert data["verdict"] == "pass"
    assert data["base"] == git(base, "rev-parse", "main").strip()
    assert data["head"] == git(base, "rev-parse", "HEAD").strip()
    assert [r["release"] for r in data["releases"]] == ["claims@1.10"]


def test_a_failing_gate_blocks_with_gate_rule_observed_threshold_file_and_line(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    [finding] = as_json(result)["releases"][0]["findings"]
    assert finding["gate"] == "privacy" and finding["rule"] == "privacy.mia_auc"
    assert (finding["observed"], finding["threshold"], finding["severity"]) == (0.7, 0.5, "error")
    assert finding["outcome"] == "fail" and finding["interval"][0] > 0.5
    assert finding["file"] == f"{RELEASE}/report.json" and finding["line"] > 1
    policy_lines = samples.POLICY.splitlines()
    rule_at = policy_lines.index("  privacy.mia_auc:")
    threshold_at = (
        next(i for i in range(rule_at, len(policy_lines)) if "threshold:" in policy_lines[i]) + 1
    )
    assert (finding["threshold_file"], finding["threshold_line"]) == (
        "policy/policy.yaml",
        threshold_at,
    )


def test_loosening_the_policy_in_the_same_pull_request_still_blocks(
    synthgov: Synthgov, base: Path
) -> None:
    policy = base / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), threshold=0.99))
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    data = as_json(check(synthgov, base, "--format", "json"))
    assert data["verdict"] == "blocked"
    assert data["releases"][0]["findings"][0]["threshold"] == 0.5  # the base's threshold
    assert [f["rule"] for f in data["findings"]] == ["policy.change"]


def test_a_removed_metric_blocks(synthgov: Synthgov, base: Path) -> None:
    add_release(base, [m for m in PASSING if m["id"] != "fidelity.detection_auc"])
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    assert "the report has no fidelity.detection_auc metric" in result.out


def test_a_tampered_artifact_hash_blocks(synthgov: Synthgov, base: Path) -> None:
    add_release(base, artifact="e" * 64)
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    rules = {f["rule"] for f in as_json(result)["releases"][0]["findings"]}
    assert "integrity.artifact_sha256" in rules


def test_a_malformed_file_in_the_pull_request_is_a_files_finding_not_exit_2(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    manifest = base / f"{RELEASE}/manifest.yaml"
    manifest.write_text(manifest.read_text() + "author: someone@else.org\n")
    commit(base, "duplicate key")
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    [finding] = as_json(result)["releases"][0]["findings"]
    last = len(manifest.read_text().splitlines())
    assert (finding["gate"], finding["file"], finding["line"]) == (
        "files",
        f"{RELEASE}/manifest.yaml",
        last,
    )
    assert "duplicate key 'author'" in finding["message"]


def test_only_the_pull_requests_releases_are_checked(synthgov: Synthgov, base: Path) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--no-edit", "pr")  # the failing release is now on main
    git(base, "checkout", "-qb", "pr2")
    write(base, "datasets/claims/README.md", "notes\n")
    commit(base, "docs only")
    result = check(synthgov, base)
    assert result.code == 0
    assert "nothing to check" in result.out


def test_a_classification_downgrade_in_the_pull_request_does_not_apply(
    synthgov: Synthgov, base: Path
) -> None:
    card = base / "datasets/claims/card.yaml"
    card.write_text(
        card.read_text().replace("classification: confidential", "classification: public")
    )
    add_release(base)
    rules = {
        f["rule"]
        for f in as_json(check(synthgov, base, "--format", "json"))["releases"][0]["findings"]
    }
    assert "policy.classification_change" in rules


def test_garbage_base_is_exit_2_with_one_line(synthgov: Synthgov, base: Path) -> None:
    result = synthgov("check", "--base", "no-such-ref", cwd=base)
    assert result.code == 2
    assert (
        result.err.strip()
        == "synthgov: error: unknown base ref 'no-such-ref': no commit by that name"
    )


def test_a_base_without_a_loadable_policy_is_exit_2(synthgov: Synthgov, repo: Path) -> None:
    write(repo, "README.md", "x\n")
    commit(repo, "no policy")
    git(repo, "checkout", "-qb", "pr")
    result = synthgov("check", "--base", "main", cwd=repo)
    assert result.code == 2
    assert "policy/policy.yaml" in result.err and "policy cannot be loaded" in result.err


def test_a_shallow_clone_is_exit_2(synthgov: Synthgov, base: Path, tmp_path: Path) -> None:
    add_release(base)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{base}", str(clone)],
        check=True,
    )
    result = synthgov("check", "--base", "origin/pr", cwd=clone)
    assert result.code == 2
    assert "shallow" in result.err


def test_a_detached_head_works(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    git(base, "checkout", "-q", "--detach", "HEAD")
    assert check(synthgov, base).code == 0


def test_not_a_git_repository_is_exit_2(synthgov: Synthgov, tmp_path: Path) -> None:
    result = synthgov("check", cwd=tmp_path)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1


def test_no_git_checks_the_working_tree(synthgov: Synthgov, base: Path) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    result = synthgov("check", "--no-git", "--format", "json", cwd=base)
    assert result.code == 1
    assert as_json(result)["base"] == ""


def test_every_format_renders_a_blocked_release(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    sarif = tmp_path / "out.sarif"
    assert check(synthgov, base, "--format", "sarif", "--output", str(sarif)).code == 1
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(
        json.loads(sarif.read_text())
    )
    junit = ET.fromstring(check(synthgov, base, "--format", "junit").out)
    assert junit.iter("failure").__next__() is not None
    github = check(synthgov, base, "--format", "github").out
    assert github.startswith("::error file=datasets/claims/releases/1.10/report.json,line=")
    markdown = check(synthgov, base, "--format", "markdown").out
    assert "privacy.mia\\_auc" in markdown and "blocked (exit 1)" in markdown
    text = check(synthgov, base).out
    assert "BLOCK" in text and "exit 1" in text


def test_check_leaves_pandas_and_sklearn_unimported(base: Path) -> None:
    import os
    import sys

    add_release(base)
    probe = "import sys; from synthgov.cli import main; c = main(['check', '--base', 'main']); print(c, sorted(m for m in ('pandas', 'sklearn', 'opendp') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=base,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_policy_change_lists_the_base_releases_it_would_newly_block(
    synthgov: Synthgov, base: Path
) -> None:
    mia = {"interval": {"kind": "normal", "se": 0.01}}
    add_release(base, with_metric("privacy.mia_auc", value=0.52, **mia))  # within 0.5 + 0.07
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--no-edit", "pr")
    git(base, "checkout", "-qb", "tighten")
    policy = base / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), margin=0.02))
    commit(base, "tighten MIA")
    data = as_json(check(synthgov, base, "--format", "json"))
    rules = [(f["rule"], f["severity"]) for f in data["findings"]]
    assert ("policy.impact", "warning") in rules and ("policy.change", "error") in rules
    impact = next(f for f in data["findings"] if f["rule"] == "policy.impact")
    assert (
        "claims@1.10 (on the base, passing today) would be blocked by privacy.mia_auc"
        in impact["message"]
    )


def _merge_and_branch(repo: Path, branch: str, new: str) -> None:
    """Merge `branch` into main, as the platform would, and start `new` from main."""
    git(repo, "checkout", "-q", "main")
    git(repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "--no-edit", branch)
    git(repo, "checkout", "-qb", new)


def _approve_revocation(synthgov: Synthgov, repo: Path, *names: str) -> None:
    for name in names:
        person = signing.people()[name]
        done = synthgov(
            "approve",
            "claims@1.10",
            "--revocation",
            "--replace",
            "--role",
            person.roles[0],
            "--key",
            str(person.key),
            cwd=repo,
        )
        assert done.code == 0, done.err


def test_rewriting_a_merged_release_with_fresh_approvals_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """claims@1.10 is merged; a later pull request points its manifest at another file and
    has it approved again. What consumers pinned as claims@1.10 would change under them,
    the gate judging only the new approvals."""
    add_release(base)
    _merge_and_branch(base, "pr", "moved")
    manifest = samples.MANIFEST.replace(
        "s3://bucket/claims-1.10.parquet", "https://elsewhere.example/c.parquet"
    )
    write(base, f"{RELEASE}/manifest.yaml", manifest)
    commit(base, "claims@1.10 ships from elsewhere")
    approve(base, "ada", "chen")
    result = check(synthgov, base, "--format", "json")
    data = as_json(result)
    assert result.code == 1
    assert [f["rule"] for f in data["releases"][0]["findings"] if f["severity"] == "error"] == []
    [changed] = [f for f in data["findings"] if f["severity"] == "error"]
    assert (changed["rule"], changed["file"]) == ("files.changed", f"{RELEASE}/manifest.yaml")
    assert changed["message"] == (
        f"{RELEASE}/manifest.yaml is changed, but its release is on the base already: what was "
        "approved and shipped is never rewritten"
    )


def test_unrevoking_by_rewriting_a_merged_revocation_and_its_release_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """claims@1.10 is merged, then revoked. A pull request moves the release and its
    revocation to another artifact hash, all of it approved again: the revoked table's
    hash is no longer revoked anywhere, and can ship in the next pull request."""
    add_release(base)
    _merge_and_branch(base, "pr", "revoke")
    git(base, "config", "user.email", "sam@example.org")
    assert (
        synthgov("revoke", "claims@1.10", "--reason", "copies", "--class", "privacy", cwd=base).code
        == 0
    )
    commit(base, "revoke claims@1.10")
    _approve_revocation(synthgov, base, "ada", "chen")
    assert check(synthgov, base).code == 0
    _merge_and_branch(base, "revoke", "unrevoke")
    other = "c" * 64
    write(base, f"{RELEASE}/manifest.yaml", samples.manifest_for(other))
    card_sha = hashlib.sha256((base / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(base, f"{RELEASE}/report.json", report_json(PASSING, card_sha, other))
    revocation = base / f"{RELEASE}/revocation.yaml"
    revocation.write_text(revocation.read_text().replace(samples.SHA, other))
    commit(base, "claims@1.10 and its revocation name another artifact")
    approve(base, "ada", "chen")
    _approve_revocation(synthgov, base, "ada", "chen")
    result = check(synthgov, base, "--format", "json")
    data = as_json(result)
    assert result.code == 1
    changed = sorted(f["file"] for f in data["findings"] if f["rule"] == "files.changed")
    assert changed == [
        f"{RELEASE}/{name}" for name in ("manifest.yaml", "report.json", "revocation.yaml")
    ]


def _alerts(synthgov: Synthgov, base: Path, out: Path) -> dict[str, dict[str, Any]]:
    """The SARIF results of `check`, schema-checked, by the role each is about."""
    check(synthgov, base, "--format", "sarif", "--output", str(out))
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "approvals.missing"]
    return {r["properties"]["subject"]: r for r in results}


def test_sarif_alert_of_one_role_keeps_its_identity_when_another_role_approves(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    add_release(base, approved_by=())
    before = _alerts(synthgov, base, tmp_path / "before.sarif")
    assert len(before) == 2  # both roles of the tier are missing
    first, second = sorted(before)
    approver = next(n for n, p in signing.people().items() if p.roles[0] == first)
    approve(base, approver)
    after = _alerts(synthgov, base, tmp_path / "after.sarif")
    assert list(after) == [second]
    assert after[second]["partialFingerprints"] == before[second]["partialFingerprints"]
    assert before[first]["partialFingerprints"] != before[second]["partialFingerprints"]
    # inline in "Files changed": on the manifest the pull request adds, the policy related
    where = after[second]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert where == f"{RELEASE}/manifest.yaml"
    (related,) = after[second]["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "policy/policy.yaml"


JUNIT_XSD = Path(__file__).parent / "data" / "junit-10.xsd"


def _junit(synthgov: Synthgov, repo: Path) -> ET.Element:
    text = check(synthgov, repo, "--format", "junit").out
    errors = [e.reason for e in xmlschema.XMLSchema(JUNIT_XSD).iter_errors(text)]
    assert not errors, errors
    return ET.fromstring(text)


def test_junit_cases_are_the_same_whether_a_release_passes_or_is_blocked(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    blocked = _junit(synthgov, base)
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    make_base(other)
    add_release(other)
    passed = _junit(synthgov, other)

    def cases(root: ET.Element) -> list[tuple[str | None, str | None]]:
        return [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]

    assert cases(blocked) == cases(passed)
    assert ("claims@1.10", "privacy.mia_auc") in cases(passed)
    assert (blocked.get("tests"), blocked.get("failures")) == (passed.get("tests"), "1")
    assert passed.get("failures") == "0"
    (suite,) = blocked.iter("testsuite")
    assert suite.get("file") == f"{RELEASE}/manifest.yaml"
    assert suite.get("name") == "claims@1.10"


def test_one_decision_is_written_in_several_formats_and_the_job_summary(
    synthgov: Synthgov, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_release(base, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    decisions = []
    real = decision_run.check

    def counted(*args: Any, **kwargs: Any) -> Verdict:
        decisions.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(decision_run, "check", counted)
    step = tmp_path / "step_summary"
    step.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    out = tmp_path / "out"
    result = check(
        synthgov,
        base,
        "--format",
        "github",
        "--format",
        f"sarif={out / 'check.sarif'}",
        "--format",
        f"junit={out / 'check.xml'}",
        "--format",
        f"json={out / 'check.json'}",
    )
    assert result.code == 1 and len(decisions) == 1  # one decision, rendered four times
    assert result.out.startswith("::error file=datasets/claims/releases/1.10/report.json,")
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(
        json.loads((out / "check.sarif").read_text())
    )
    assert not list(xmlschema.XMLSchema(JUNIT_XSD).iter_errors((out / "check.xml").read_text()))
    assert json.loads((out / "check.json").read_text())["verdict"] == "blocked"
    summary = step.read_text()
    assert summary.startswith("## an earlier step\n")  # appended, never replaced
    assert "privacy.mia\\_auc" in summary and "blocked (exit 1)" in summary


def test_the_job_summary_is_written_for_github_only_and_once(
    synthgov: Synthgov, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_release(base)
    step = tmp_path / "step_summary"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    assert check(synthgov, base, "--format", "sarif").code == 0
    assert not step.exists()  # not asked for github
    assert check(synthgov, base, "--format", "github", "--format", f"markdown={step}").code == 0
    once = step.read_text()
    assert once.count("synthgov check") == 1  # the explicit markdown, not a second copy
    assert check(synthgov, base, "--format", "github").code == 0
    assert step.read_text() == once + once


def test_where_outputs_go_is_checked_before_deciding(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    add_release(base)
    report = tmp_path / "report"
    for args, says in (
        (["--format", "json", "--format", "text"], "only one format can go to stdout"),
        (["--format", "json", "--format", "sarif=x", "--output", str(report)], "--output"),
        ([f"--format=sarif={report}", f"--format=junit={report}"], "the same file"),
        (["--format", "sarif="], "names no file"),
        (["--format", "yaml"], "'yaml' is not one of"),
    ):
        result = check(synthgov, base, *args)
        assert result.code == 2 and says in result.err, (args, result.err)
    assert not report.exists()
    single = check(synthgov, base, "--format", "junit", "--output", str(report))
    assert single.code == 0 and single.out == "" and report.read_text().startswith("<?xml")


def test_a_passing_pull_request_shows_its_numbers_in_markdown(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    page = check(synthgov, base, "--format", "markdown").out
    assert "pass (exit 0)" in page
    header = "| | rule | value | bound | threshold | margin | verdict |"
    assert header in page
    rows = [line for line in page.splitlines() if line.startswith("| ✅ | privacy.")]
    assert rows and all(line.endswith("| pass |") for line in rows)
    assert any(any(c.isdigit() for c in line.split("|")[3]) for line in rows)  # a value


def test_a_rule_passing_via_its_alternative_says_so_in_markdown(
    synthgov: Synthgov, base: Path
) -> None:
    # TSTR 0.65 fails ">= 0.84" outright; the ratio to TRTR (0.95) is the rule's alternative
    add_release(base, with_metric("utility.tstr", value=0.65, ci=[0.63, 0.67]))
    page = check(synthgov, base, "--format", "markdown").out
    assert "pass (exit 0)" in page
    row = next(line for line in page.splitlines() if line.startswith("| ✅ | utility.tstr |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "0.65" and cells[3] not in ("", "0.65")  # value and bound apart
    assert cells[-1] == "pass via alternative"
    assert "| ↳ or utility.tstr\\_trtr\\_ratio | 0.95 |" in page and "pass (decided)" in page
