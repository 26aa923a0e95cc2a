"""SARIF 2.1.0 for GitHub code scanning: one run, one rule per `gate/rule`, one result per finding.

Waived findings are left out: GitHub ignores SARIF suppressions, so a waived result would
open an alert. Every result has a level and a location at line ≥ 1, which upload requires.

An alert's identity is its fingerprint: the release, the rule and the finding's subject
(a role, a column, a waiver; else its file), never its place in the output, so that
approving one role never hands another role's alert the closed one's identity. A rule
says what it checks (the policy's description) and how to fix it (the policy's fix, or
the gate's page of the docs); each result carries its own fix. The primary location is a
file the pull request changed (the report entry, or the release's manifest when the
finding is about an unchanged file such as the policy), so that alerts show in "Files
changed"; where the threshold or requirement was set is a related location.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from synthgov import __version__
from synthgov.decision.findings import Finding, RuleInfo, Verdict
from synthgov.reporting._common import WAIVED, comparison, json_value, rule_id, source, status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/synthgov/synthgov"
#: the documentation as published with the source (helpUri must be absolute in SARIF)
DOCS_URI = f"{INFORMATION_URI}/blob/main/docs/"
FINGERPRINT = "synthgov/v1"

_METRIC_GATES = ("schema", "constraints", "fidelity", "utility", "privacy", "subgroup")
#: the page (and section) of the docs that explains each gate's rules and their fixes
_DOCS = {
    **dict.fromkeys(_METRIC_GATES, "metrics.md#the-metrics"),
    "approvals": "reviewers.md#3-what-makes-an-approval-count",
    "budget": "privacy-accounting.md",
}
_GATES = {
    "files": "changed governance files are well-formed, safe and valid, and what shipped is "
    "never rewritten",
    "integrity": "the report was computed on the manifest's artifact, card and dataset",
    "policy": "the release, the card and the waivers keep to the base policy, and changes to "
    "what releases are judged by are approved",
    "budget": "privacy-budget ledgers are append-only, hash-chained and within the base's cap",
    "approvals": "the roles and counts the tier requires are met by valid signed approvals of "
    "reviewers who are not authors",
    "coverage": "every column the card names for a gated per-column metric is measured",
    "time": "no governance date lies in the future, and a new release is not back-dated",
}


def render(verdict: Verdict) -> str:
    changed = {r.release: r.files for r in verdict.releases}
    reported = [(r, f) for r, f in verdict.all_findings() if status(f) != WAIVED]
    policy = {rule.id: rule for rule in verdict.rules}
    rules: dict[str, dict[str, Any]] = {}
    for _, finding in reported:
        rules.setdefault(rule_id(finding), _rule(finding, policy.get(rule_id(finding))))
    order = {rule: index for index, rule in enumerate(sorted(rules))}
    prints = fingerprints(reported)
    results = [
        _result(release, finding, order[rule_id(finding)], changed.get(release or "", ()), key)
        for (release, finding), key in zip(reported, prints, strict=True)
    ]
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


def fingerprints(found: list[tuple[str | None, Finding]]) -> list[str]:
    """One identity per finding, from what it is about and never from its position.

    The subject is the finding's own (a role, a column, a waiver); a finding without one is
    about its file. Findings of one rule that still share a subject are told apart by their
    line, then by their message; only findings identical in every one of these (which no
    reader could tell apart either) are numbered.
    """
    keys: list[tuple[str, ...]] = []
    for release, finding in found:
        subject = finding.subject if finding.subject is not None else finding.file or ""
        keys.append((release or "", rule_id(finding), subject))
    shared = Counter(keys)
    detailed = [
        key if shared[key] == 1 else (*key, str(finding.line or ""))
        for key, (_, finding) in zip(keys, found, strict=True)
    ]
    shared = Counter(detailed)
    full = [
        key if shared[key] == 1 else (*key, finding.message)
        for key, (_, finding) in zip(detailed, found, strict=True)
    ]
    seen = Counter[tuple[str, ...]]()
    prints = []
    for key in full:
        seen[key] += 1
        identical = (*key, str(seen[key])) if seen[key] > 1 else key
        prints.append(hashlib.sha256("|".join(identical).encode()).hexdigest())
    return prints


def _level(finding: Finding) -> str:
    return "error" if finding.blocks else "warning"


def _name(rule: str) -> str:
    """`fidelity.detection_auc` -> `FidelityDetectionAuc` (SARIF's friendly rule name)."""
    return "".join(word.capitalize() for word in re.split(r"[^A-Za-z0-9]+", rule) if word)


def _rule(finding: Finding, info: RuleInfo | None) -> dict[str, Any]:
    """The rule: what it checks and how to fix it, the same text for every result."""
    gate, rule = finding.gate, rule_id(finding)
    described = info.description if info is not None and info.description else None
    what = _GATES.get(gate, f"the {gate} gate of synthgov")
    full = described or f"The {gate} gate checks that {what} ({rule})."
    help_uri = DOCS_URI + _DOCS.get(gate, "check.md#what-blocks")
    fix = info.fix if info is not None and info.fix else None
    help_text = (
        f"{fix} Each result names its own observed value, threshold and fix; see {help_uri}."
        if fix
        else f"Each result says what to fix for its release; the {gate} gate is explained "
        f"at {help_uri}."
    )
    return {
        "id": rule,
        "name": _name(rule),
        "shortDescription": {"text": f"synthgov {gate} gate: {rule}"},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "helpUri": help_uri,
        "defaultConfiguration": {
            "level": "warning" if finding.enforcement == "advisory" else "error"
        },
        "properties": {"tags": ["synthgov", gate]},
    }


def _location(path: str, line: int | None) -> dict[str, Any]:
    uri = quote(path.replace("\\", "/").removeprefix("./"), safe="/")
    region = {"startLine": max(line or 1, 1), "startColumn": 1}
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}


def _manifest(files: tuple[str, ...]) -> str | None:
    """The release's manifest if the pull request changed it, else its first changed file."""
    return next((f for f in files if f.endswith("/manifest.yaml")), files[0] if files else None)


def primary(finding: Finding, files: tuple[str, ...]) -> tuple[str, int | None] | None:
    """Where a finding is shown: a file the pull request changed (`files`, the release's)
    where possible: the finding's own, else the manifest; None when nothing is known."""
    if finding.file and (not files or finding.file in files):
        return finding.file, finding.line
    if (manifest := _manifest(files)) is not None:
        return manifest, 1
    if finding.file:
        return finding.file, finding.line
    if finding.threshold_file:
        return finding.threshold_file, finding.threshold_line
    return None


def message(release: str | None, finding: Finding) -> str:
    """One line: the release, the message, observed vs threshold, where the threshold was
    set, and the finding's own fix."""
    text = f"{release}: {finding.message}" if release else finding.message
    details = [comparison(finding)] if comparison(finding) else []
    if where := source(finding):
        details.append(f"threshold set in {where}")
    if details:
        text += f" ({'; '.join(details)})"
    if finding.fix:
        text += f". Fix: {finding.fix}"
    return text


def _result(
    release: str | None, finding: Finding, index: int, files: tuple[str, ...], fingerprint: str
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": _level(finding),
        "message": {"text": message(release, finding)},
    }
    shown = primary(finding, files)
    if shown is not None:  # GitHub needs a location
        result["locations"] = [_location(*shown)]
    related = []
    if finding.threshold_file and shown != (finding.threshold_file, finding.threshold_line):
        related.append((finding.threshold_file, finding.threshold_line, "threshold set here"))
    if finding.file and shown is not None and shown[0] != finding.file:
        related.append((finding.file, finding.line, "the finding is about this file"))
    seen: set[tuple[str, int | None]] = set()
    for path, line, why in related:
        if (path, line) in seen:
            continue
        seen.add((path, line))
        result.setdefault("relatedLocations", []).append(
            {"id": len(seen), **_location(path, line), "message": {"text": why}}
        )
    result["partialFingerprints"] = {
        "primaryLocationLineHash": fingerprint,
        FINGERPRINT: fingerprint,
    }
    result["properties"] = {
        "release": release,
        "gate": finding.gate,
        "subject": finding.subject,
        "observed": json_value(finding.observed),
        "threshold": json_value(finding.threshold),
        "enforcement": finding.enforcement,
    }
    return result
