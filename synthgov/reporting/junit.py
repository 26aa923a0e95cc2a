"""JUnit XML for CI test-report views: a suite per release, a test case per `gate/rule`.

Names are ids only, never values (CI systems index and publish test names); blocking is a
<failure>, waived a <skipped>, advisory a passing case with <system-out>. ElementTree
escapes markup; characters XML 1.0 cannot carry at all are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from synthgov.decision.findings import Finding, Verdict
from synthgov.reporting._common import BLOCK, WAIVED, comparison, rule_id, source, status

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(verdict: Verdict) -> str:
    root = ET.Element("testsuites", name="synthgov check")
    if verdict.findings:
        _suite(root, "repository", verdict.findings)
    for result in verdict.releases:
        _suite(root, result.release, result.findings)
    if not len(root):
        _suite(root, "synthgov", (), passing="no release changed")
    for key in ("tests", "failures", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(
    root: ET.Element, name: str, findings: tuple[Finding, ...], passing: str = "all gates"
) -> None:
    suite = ET.SubElement(root, "testsuite", name=_clean(name))
    for finding in findings:
        _case(suite, name, finding)
    if not findings:
        ET.SubElement(suite, "testcase", classname="synthgov", name=passing)
    kinds = [status(f) for f in findings]
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(kinds.count(BLOCK)))
    suite.set("errors", "0")
    suite.set("skipped", str(kinds.count(WAIVED)))


def _case(suite: ET.Element, release: str, finding: Finding) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=_clean(finding.gate), name=_clean(rule_id(finding))
    )
    details = "\n".join(
        part
        for part in (
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
