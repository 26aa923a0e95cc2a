"""GitLab Code Quality JSON: the merge request's code-quality widget and diff annotations.

A list of issues, each with GitLab's documented fields: `description`, `check_name` (the
rule id), `fingerprint`, `severity` and `location` (`path` and `lines.begin`). GitLab
compares reports of the source and target branches by fingerprint, so an issue's
fingerprint is the SARIF one (release, rule and subject, never its position: see
`sarif.fingerprints`), and it is placed where the SARIF alert is, on a file the merge
request changed where possible. A finding about no file at all is placed on the policy,
the file every verdict is judged by (GitLab requires a path).

Waived findings are left out, as in SARIF: GitLab has no suppressions, a waived issue would
show as new. Blocking findings are `blocker`, advisory ones `minor`.
"""

from __future__ import annotations

import json
from typing import Any

from synthgov.decision.findings import Finding, Verdict
from synthgov.reporting._common import WAIVED, rule_id, status
from synthgov.reporting.sarif import fingerprints, message, primary

#: where a finding about no file is shown
FALLBACK_PATH = "policy/policy.yaml"


def render(verdict: Verdict) -> str:
    changed = {r.release: r.files for r in verdict.releases}
    reported = [(r, f) for r, f in verdict.all_findings() if status(f) != WAIVED]
    issues = [
        _issue(release, finding, changed.get(release or "", ()), key)
        for (release, finding), key in zip(reported, fingerprints(reported), strict=True)
    ]
    return json.dumps(issues, indent=2, allow_nan=False) + "\n"


def _issue(
    release: str | None, finding: Finding, files: tuple[str, ...], fingerprint: str
) -> dict[str, Any]:
    path, line = primary(finding, files) or (FALLBACK_PATH, 1)
    return {
        "description": message(release, finding),
        "check_name": rule_id(finding),
        "fingerprint": fingerprint,
        "severity": "blocker" if finding.blocks else "minor",
        "location": {
            "path": path.replace("\\", "/").removeprefix("./"),
            "lines": {"begin": max(line or 1, 1)},
        },
    }
