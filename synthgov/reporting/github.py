"""GitHub Actions workflow commands: annotations on the files a pull request changed.

PR-written text is escaped as actions/toolkit does, so a message can never end its
command and start another (`::add-mask::`, `::stop-commands::`). GitHub shows only 10
errors and 10 warnings per step, so the most severe come first and one final notice
counts the rest and states the verdict (BRIEF §10.16).
"""

from __future__ import annotations

from synthgov.decision.findings import Finding, Verdict
from synthgov.reporting._common import (
    BLOCK,
    WAIVED,
    WARN,
    Counts,
    comparison,
    expiry,
    rule_id,
    source,
    status,
)

SHOWN = {BLOCK: 10, WARN: 10, WAIVED: 9}  # notices: 9 waived + the summary line
_COMMAND = {BLOCK: "error", WARN: "warning", WAIVED: "notice"}
_RANK = {"hard": 0, "mandatory": 1, "advisory": 2}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(verdict: Verdict) -> str:
    found = verdict.all_findings()
    lines: list[str] = []
    hidden = 0
    for kind in (BLOCK, WARN, WAIVED):
        of_kind = [(r, f) for r, f in found if status(f) == kind]
        of_kind.sort(key=lambda item: _RANK.get(item[1].enforcement, 1))  # stable
        lines.extend(_annotation(kind, r, f, verdict) for r, f in of_kind[: SHOWN[kind]])
        hidden += max(0, len(of_kind) - SHOWN[kind])
    counts = Counts.of(verdict)
    summary = f"synthgov check: {verdict.verdict} (exit {counts.exit_code}) · {counts.line()}"
    if not verdict.releases and not verdict.findings:
        summary = f"synthgov check: no release changed → exit {counts.exit_code}"
    if hidden:
        summary += (
            f" · {hidden} more finding(s) not annotated (GitHub shows 10 errors and 10 "
            "warnings per step); see the job summary or --format json"
        )
    lines.append(f"::notice title={escape_property('synthgov check')}::{escape_data(summary)}")
    return "\n".join(lines) + "\n"


def _annotation(kind: str, release: str | None, finding: Finding, verdict: Verdict) -> str:
    props = []
    if finding.file:
        props += [f"file={escape_property(finding.file)}", f"line={max(finding.line or 1, 1)}"]
    props.append(f"title={escape_property(f'synthgov {rule_id(finding)}')}")
    text = f"{release}: {finding.message}" if release else finding.message
    details = [part for part in (comparison(finding), source(finding)) if part]
    if source(finding):
        details[-1] = f"set in {details[-1]}"
    if details:
        text += f" ({'; '.join(details)})"
    if finding.fix:
        text += f". Fix: {finding.fix}"
    if (waiver := finding.waiver) is not None and kind == WAIVED:
        text += (
            f". Waived by {waiver.id} (owner {waiver.owner}, relaxed to {waiver.relax_to:g}, "
            f"expires {expiry(waiver.expires_at, verdict.evaluated_at)})"
        )
    return f"::{_COMMAND[kind]} {','.join(props)}::{escape_data(text)}"
