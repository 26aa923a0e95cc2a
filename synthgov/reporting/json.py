"""The machine-readable verdict: BRIEF §6's shape first, then extra keys, in a fixed order.

Each release carries `scores`, every policy rule judged on it with its figures
(`reporting.scores`), passing ones too. Keys are built in one fixed order (never sorted, never from a set) so that golden files and
diffs between two runs stay stable; numbers stay numbers (BRIEF §10.16).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from synthgov import __version__
from synthgov.decision.findings import Finding, Verdict
from synthgov.reporting._common import Counts, finding_id, json_value, utc_z
from synthgov.reporting.scores import scores

SCHEMA_VERSION = 1


def render(verdict: Verdict) -> str:
    document = {
        "verdict": verdict.verdict,
        "base": verdict.base,
        "head": verdict.head,
        "releases": [
            {
                "release": result.release,
                "verdict": result.verdict,
                "findings": [finding_dict(result.release, f) for f in result.findings],
                "files": list(result.files),
                "scores": scores(result),
            }
            for result in verdict.releases
        ],
        "findings": [finding_dict(None, f) for f in verdict.findings],
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "synthgov", "version": __version__},
        "exit_code": verdict.exit_code,
        "summary": summary(verdict),
        "rules_evaluated": verdict.rules_evaluated,
        "evaluated_at": utc_z(verdict.evaluated_at) if verdict.evaluated_at else None,
        "notes": list(verdict.notes),
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def summary(verdict: Verdict) -> dict[str, int]:
    counts = asdict(Counts.of(verdict))
    del counts["exit_code"]
    return counts


def finding_dict(release: str | None, finding: Finding) -> dict[str, Any]:
    """One finding: BRIEF §6's eight keys, then enforcement, fix, source, waiver and id."""
    waiver = finding.waiver
    return {
        "gate": finding.gate,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "observed": json_value(finding.observed),
        "threshold": json_value(finding.threshold),
        "message": finding.message,
        "file": finding.file,
        "line": finding.line,
        "enforcement": finding.enforcement,
        "fix": finding.fix,
        "threshold_file": finding.threshold_file,
        "threshold_line": finding.threshold_line,
        "outcome": finding.outcome,
        "interval": None if finding.interval is None else [json_value(b) for b in finding.interval],
        "waiver": None
        if waiver is None
        else {
            "id": waiver.id,
            "path": waiver.path,
            "owner": waiver.owner,
            "expires_at": utc_z(waiver.expires_at),
            "relax_to": json_value(waiver.relax_to),
        },
        "id": finding_id(release, finding),
    }
