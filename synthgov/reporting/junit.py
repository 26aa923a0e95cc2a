"""JUnit XML for CI test-report views, valid against the Jenkins/pytest junit-10.xsd.

One suite per release (and one `repository` suite for findings outside any release);
every case's `classname` is its release, so (classname, name) never repeats across
releases. A finding is a case named `rule[subject]` (the role, column or waiver it is
about; the rule alone when it has none): blocking is a <failure>, waived a <skipped>,
advisory a passing case with <system-out>. The policy's rules and the gates judged on a
release that found nothing are passing cases, so counts compare from one run to the
next. Names are ids only, never values (CI systems index and publish test names).

junit-10.xsd allows no `skipped` on <testsuites> and no `file` or `line` on a <testcase>:
a suite's `file` is the release's manifest, and each case's text starts with the
`file:line` it is about. synthgov does not time its rules: every `time` is 0.
ElementTree escapes markup; characters XML 1.0 cannot carry at all are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from synthgov.decision.findings import Finding, ReleaseResult, Verdict
from synthgov.reporting._common import (
    BLOCK,
    WAIVED,
    comparison,
    rule_id,
    source,
    status,
    utc_z,
)

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TIME = "0.000"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(verdict: Verdict) -> str:
    root = ET.Element("testsuites", name="synthgov check")
    stamp = utc_z(verdict.evaluated_at) if verdict.evaluated_at else None
    if verdict.findings:
        _suite(root, "repository", verdict.findings, (), None, stamp)
    for result in verdict.releases:
        _suite(root, result.release, result.findings, result.judged, _manifest(result), stamp)
    if not len(root):
        _suite(root, "synthgov", (), (), None, stamp, passing="no release changed")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    root.set("time", TIME)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _manifest(result: ReleaseResult) -> str | None:
    return next((f for f in result.files if f.endswith("/manifest.yaml")), None)


def names(findings: tuple[Finding, ...]) -> list[str]:
    """`rule[subject]` per finding, unique within its suite: a rule found twice about the
    same thing (or about nothing named) is told apart by file and line, then numbered."""
    first = [rule_id(f) if f.subject is None else f"{rule_id(f)}[{f.subject}]" for f in findings]
    shared = Counter(first)
    placed = [
        name if shared[name] == 1 or not f.file else f"{name}[{f.file}:{f.line or 1}]"
        for name, f in zip(first, findings, strict=True)
    ]
    shared, seen = Counter(placed), Counter[str]()
    unique = []
    for name in placed:
        seen[name] += 1
        unique.append(name if shared[name] == 1 else f"{name}[{seen[name]}]")
    return unique


def _suite(
    root: ET.Element,
    name: str,
    findings: tuple[Finding, ...],
    judged: tuple[str, ...],
    file: str | None,
    stamp: str | None,
    passing: str = "all gates",
) -> None:
    suite = ET.SubElement(root, "testsuite", name=_clean(name))
    cases = [(case, name, finding) for case, finding in zip(names(findings), findings, strict=True)]
    found_rules = {rule_id(f) for f in findings}
    found_gates = {f.gate for f in findings}
    passed = [
        item
        for item in judged
        if item not in found_rules and ("." in item or item not in found_gates)
    ]
    entries = sorted(
        [(case, finding) for case, _, finding in cases] + [(item, None) for item in passed],
        key=lambda entry: entry[0],
    )
    for case, finding in entries:
        if finding is None:
            _pass(suite, name, case)
        else:
            _case(suite, name, case, finding)
    if not len(suite):
        _pass(suite, name, passing)
    kinds = [status(f) for f in findings]
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(kinds.count(BLOCK)))
    suite.set("errors", "0")
    suite.set("skipped", str(kinds.count(WAIVED)))
    suite.set("time", TIME)
    if stamp is not None:
        suite.set("timestamp", stamp)
    if file is not None:
        suite.set("file", _clean(file))


def _pass(suite: ET.Element, release: str, name: str) -> None:
    ET.SubElement(suite, "testcase", classname=_clean(release), name=_clean(name), time=TIME)


def _case(suite: ET.Element, release: str, name: str, finding: Finding) -> None:
    case = ET.SubElement(suite, "testcase", classname=_clean(release), name=_clean(name), time=TIME)
    where = f"{finding.file}:{finding.line or 1}" if finding.file else ""
    details = "\n".join(
        part
        for part in (
            where,
            f"{release}: {finding.message}",
            comparison(finding),
            f"threshold set in {source(finding)}" if source(finding) else "",
            f"fix: {finding.fix}" if finding.fix else "",
        )
        if part
    )
    kind = status(finding)
    if kind == BLOCK:
        failure = ET.SubElement(
            case, "failure", message=_clean(finding.message), type=_clean(rule_id(finding))
        )
        failure.text = _clean(details)
    elif kind == WAIVED and (waiver := finding.waiver) is not None:
        skipped = ET.SubElement(case, "skipped", message=_clean(f"waived by {waiver.id}"))
        skipped.text = _clean(f"{details}\nwaiver {waiver.path}, owner {waiver.owner}")
    else:
        ET.SubElement(case, "system-out").text = _clean(f"advisory: {details}")
