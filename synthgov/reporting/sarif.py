"""SARIF 2.1.0 for GitHub code scanning: one run, one rule per `gate/rule`, one result per finding.

Waived findings are left out: GitHub ignores SARIF suppressions, so a waived result would
open an alert. Every result has a level and a location at line ≥ 1, which upload requires,
and a fingerprint from the finding's identity so alerts survive line moves.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from synthgov import __version__
from synthgov.decision.findings import Finding, Verdict
from synthgov.reporting._common import (
    WAIVED,
    comparison,
    finding_id,
    json_value,
    rule_id,
    source,
    status,
)

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/synthgov/synthgov"


def render(verdict: Verdict) -> str:
    files = {r.release: r.files for r in verdict.releases}
    reported = [(r, f) for r, f in verdict.all_findings() if status(f) != WAIVED]
    rules: dict[str, dict[str, Any]] = {}
    for _, finding in reported:
        rules.setdefault(rule_id(finding), _rule(finding))
    order = {rule: index for index, rule in enumerate(sorted(rules))}
    results, seen = [], Counter[str]()
    for release, finding in reported:
        fingerprint = finding_id(release, finding)
        seen[fingerprint] += 1  # the same rule twice on one file: keep the alerts apart
        if seen[fingerprint] > 1:
            fingerprint += f":{seen[fingerprint]}"
        files_ = files.get(release or "", ())
        results.append(_result(release, finding, order[rule_id(finding)], files_, fingerprint))
    run = {
        "tool": {
            "driver": {
                "name": "synthgov",
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rules[rule] for rule in sorted(rules)],
            }
        },
        "automationDetails": {"id": "synthgov/check/"},
        "invocations": [{"executionSuccessful": True, "exitCode": verdict.exit_code}],
        "results": results,
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, allow_nan=False) + "\n"


def _level(finding: Finding) -> str:
    return "error" if finding.blocks else "warning"


def _rule(finding: Finding) -> dict[str, Any]:
    """The rule as first seen; its help is the fix, its level the rule's enforcement."""
    fix = finding.fix or f"See the {finding.gate} gate in the synthgov documentation."
    return {
        "id": rule_id(finding),
        "shortDescription": {"text": f"synthgov {finding.gate} gate: {finding.rule}"},
        "help": {"text": fix},
        "defaultConfiguration": {
            "level": "warning" if finding.enforcement == "advisory" else "error"
        },
        "properties": {"tags": ["synthgov", finding.gate]},
    }


def _location(path: str, line: int | None) -> dict[str, Any]:
    uri = quote(path.replace("\\", "/").removeprefix("./"), safe="/")
    region = {"startLine": max(line or 1, 1), "startColumn": 1}
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}


def _result(
    release: str | None, finding: Finding, index: int, files: tuple[str, ...], fingerprint: str
) -> dict[str, Any]:
    text = f"{release}: {finding.message}" if release else finding.message
    details = [comparison(finding)] if comparison(finding) else []
    if where := source(finding):
        details.append(f"threshold set in {where}")
    if details:
        text += f" ({'; '.join(details)})"
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": _level(finding),
        "message": {"text": text},
    }
    # GitHub needs a location: the file, else where the threshold was set, else the release.
    if finding.file:
        result["locations"] = [_location(finding.file, finding.line)]
    elif finding.threshold_file:
        result["locations"] = [_location(finding.threshold_file, finding.threshold_line)]
    elif files:
        result["locations"] = [_location(files[0], None)]
    if finding.threshold_file:
        related = _location(finding.threshold_file, finding.threshold_line)
        result["relatedLocations"] = [
            {"id": 1, **related, "message": {"text": "threshold set here"}}
        ]
    result["partialFingerprints"] = {"primaryLocationLineHash": fingerprint}
    result["properties"] = {
        "release": release,
        "gate": finding.gate,
        "observed": json_value(finding.observed),
        "threshold": json_value(finding.threshold),
        "enforcement": finding.enforcement,
    }
    return result
