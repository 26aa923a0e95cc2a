"""Plain text for people at a terminal: one line per finding, the verdicts with one line
per rule judged (its figures, `reporting.scores`), one summary line.

Colour only when the caller asks (it knows about TTYs and NO_COLOR); PR-written text is
escaped so that a message can neither start a new line nor smuggle terminal escapes.
"""

from __future__ import annotations

from datetime import datetime

import click

from synthgov.decision.findings import Finding, Verdict
from synthgov.errors import printable
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
from synthgov.reporting.scores import score_lines

_LABEL = {BLOCK: "BLOCK", WARN: "WARN", WAIVED: "WAIVED"}
_COLOUR = {BLOCK: "red", WARN: "yellow", WAIVED: "cyan"}
NOTHING = "no release changed"


def render(verdict: Verdict, *, color: bool = False) -> str:
    def paint(text: str, fg: str, *, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    lines = []
    for release, finding in verdict.all_findings():
        kind = status(finding)
        label = paint(f"{_LABEL[kind]:<6}", _COLOUR[kind], bold=kind == BLOCK)
        lines.append(
            f"{label}  {printable(release or '-')}  {_describe(finding, verdict.evaluated_at)}"
        )
    if lines:
        lines.append("")
    for result in verdict.releases:
        kinds = [status(f) for f in result.findings]
        tally = ", ".join(
            f"{kinds.count(kind)} {name}"
            for kind, name in ((BLOCK, "blocking"), (WARN, "advisory"), (WAIVED, "waived"))
            if kind in kinds
        )
        shown = paint(result.verdict, "red" if result.verdict == "blocked" else "green")
        lines.append(f"{printable(result.release)}: {shown}" + (f" ({tally})" if tally else ""))
        lines.extend(f"  {line}" for line in score_lines(result))
    lines.extend(printable(note) for note in verdict.notes if note != NOTHING)
    counts = Counts.of(verdict)
    outcome = "red" if counts.exit_code else "green"
    if not verdict.releases and not verdict.findings:
        lines.append(paint(f"{NOTHING} → exit {counts.exit_code}", outcome, bold=True))
    else:
        lines.append(paint(counts.line(), outcome, bold=True))
    return "\n".join(lines) + "\n"


def _describe(finding: Finding, now: datetime | None) -> str:
    """`gate/rule: message  observed X vs threshold Y  (policy.yaml:42)  fix: …  waived by …`."""
    parts = [f"{rule_id(finding)}: {finding.message}"]
    if compared := comparison(finding):
        parts.append(compared)
    if where := source(finding):
        parts.append(f"({where})")
    if finding.fix:
        parts.append(f"fix: {finding.fix}")
    if (waiver := finding.waiver) is not None and status(finding) == WAIVED:
        parts.append(
            f"waived by {waiver.id} (owner {waiver.owner}, relaxed to {waiver.relax_to:g}, "
            f"expires {expiry(waiver.expires_at, now)})"
        )
    return printable("  ".join(parts))
