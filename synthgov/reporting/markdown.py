"""GitHub-flavoured Markdown for a PR comment or `$GITHUB_STEP_SUMMARY`.

Verdict and exit code first, then a scorecard per release (every rule judged, passing ones
too: value, the interval bound the decision used, threshold, margin and verdict, blocking
rows first), then what blocks in detail, then waivers.
Every PR-written string is escaped for a table cell (it cannot break the table, open a
link, inject HTML or ping anyone), and the page stops short of GitHub's 1 MiB cap with a
pointer to the JSON output.
"""

from __future__ import annotations

import re

from synthgov import __version__
from synthgov.decision.findings import Finding, Judged, ReleaseResult, RuleScore, Verdict
from synthgov.reporting._common import (
    BLOCK,
    WAIVED,
    WARN,
    Counts,
    expiry,
    rule_id,
    show,
    source,
    status,
)

LIMIT = 1024 * 1024 - 8 * 1024  # bytes; the rest is room for the truncation note
CELL = 500  # characters of one cell, so one huge message cannot eat the page
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\r": "<br>",
        "\n": "<br>",
        "\u2028": "<br>",
        "\u2029": "<br>",
    }
    | {c: "\\" + c for c in "\\`*_[]|~#!"}
)
_MENTION = re.compile(r"(?<!\w)@(?=\w)")  # "@team" would ping in a PR comment
_LABEL = {BLOCK: "❌ blocks", WARN: "⚠️ advisory", WAIVED: "⏸️ waived"}
_SCORE_HEADER = (
    "| | rule | value | bound | threshold | margin | verdict |\n|---|---|---|---|---|---|---|"
)
_ICON = {BLOCK: "❌", WARN: "⚠️", WAIVED: "⏸️"}
_HEADER = "| status | rule | message | observed | threshold | set in | fix |\n|---|---|---|---|---|---|---|"


def cell(value: object) -> str:
    """Text that is safe inside a table cell: escaped, one line, at most CELL characters."""
    text = "" if value is None else show(value)
    if len(text) > CELL:
        text = text[: CELL - 1] + "…"
    text = text.replace("\r\n", "\n").translate(_ESCAPES)
    return _MENTION.sub("@\u200b", text)  # a zero-width space: shown, never a mention


class _Page:
    """Lines up to LIMIT bytes; past it, every further line is dropped and counted."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.full = False
        self.scorecards = 0  # releases whose scorecard is shown in full

    def add(self, line: str) -> None:
        size = len(line.encode()) + 1
        if self.full or self.size + size > LIMIT:
            self.full = True
            return
        self.lines.append(line)
        self.size += size


def render(verdict: Verdict) -> str:
    page, counts = _Page(), Counts.of(verdict)
    icon = "❌" if counts.exit_code else "✅"
    page.add(f"## {icon} synthgov check: {verdict.verdict} (exit {counts.exit_code})\n")
    revs = (
        f"{_rev(verdict.base)} → {_rev(verdict.head)}" if verdict.head else "working tree (no Git)"
    )
    evaluated = f" · {verdict.rules_evaluated} rules evaluated" if verdict.rules_evaluated else ""
    page.add(f"{revs} · synthgov {__version__}{evaluated}")
    page.add("")
    page.add(counts.line() if verdict.releases or verdict.findings else "No release changed.")
    for note in verdict.notes:
        page.add(f"\n> {cell(note)}")
    if verdict.releases:
        page.add("\n| release | verdict | blocking | advisory | waived |\n|---|---|---|---|---|")
        for result in verdict.releases:
            kinds = [status(f) for f in result.findings]
            page.add(
                f"| {cell(result.release)} | {result.verdict} | {kinds.count(BLOCK)} | "
                f"{kinds.count(WARN)} | {kinds.count(WAIVED)} |"
            )
    if verdict.findings:
        _table(page, "Outside any release", verdict.findings)
    ordered = sorted(verdict.releases, key=lambda r: r.verdict != "blocked")
    for result in ordered:
        _scorecard(page, result)
    for result in verdict.releases:
        if result.verdict == "blocked":
            _table(page, f"{cell(result.release)} — what blocks", result.findings)
    _waivers(page, verdict)
    if page.full:
        page.lines.append(
            f"\n**Truncated** to stay under GitHub's 1 MiB limit: the scorecards of "
            f"{page.scorecards} of {len(verdict.releases)} releases shown in full. The full "
            "result is in the JSON output (`synthgov check --format json`)."
        )
    return "\n".join(page.lines) + "\n"


def _rev(sha: str) -> str:
    return f"`{sha[:12]}`" if re.fullmatch(r"[0-9a-f]{4,64}", sha) else cell(sha) or "?"


def _table(page: _Page, title: str, findings: tuple[Finding, ...]) -> None:
    page.add(f"\n### {title}\n")
    page.add(_HEADER)
    for f in findings:
        if page.full:
            return
        page.add(
            f"| {_LABEL[status(f)]} | {cell(rule_id(f))} | {cell(f.message)} | {cell(f.observed)} | "
            f"{cell(f.threshold)} | {cell(source(f))} | {cell(f.fix)} |",
        )


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _figures(judged: Judged) -> str:
    """`value | bound | threshold | margin` cells of one condition."""
    where = f" ({cell(judged.where)})" if judged.where else ""
    bound = "" if judged.interval is None else _number(judged.bound)
    op = {"<=": "≤", ">=": "≥"}.get(judged.op, judged.op)
    margin = f"{judged.margin:g}" if judged.margin else ""
    return f"{_number(judged.value)}{where} | {bound} | {cell(op)} {judged.threshold:g} | {margin}"


def _waived_until(finding: Finding) -> str:
    assert finding.waiver is not None
    return f"waived until {finding.waiver.expires_at:%Y-%m-%d}"


def _rule_verdict(score: RuleScore, finding: Finding | None) -> tuple[str, str]:
    """(icon, verdict text) of one rule: its finding's status when it has one."""
    if finding is not None and status(finding) == WAIVED:
        return _ICON[WAIVED], _waived_until(finding)
    if score.decision == "pass":
        return "✅", "pass via alternative" if score.by_alternative else "pass"
    kind = status(finding) if finding is not None else BLOCK
    advisory = " (advisory)" if kind == WARN else ""
    text = f"{score.decision}{advisory}"
    if finding is not None and score.primary.value is None:  # nothing measured: say why
        text += f": {finding.message}"
    return _ICON[kind], text


def _order(kind: str) -> int:
    return {BLOCK: 0, WAIVED: 1, WARN: 2}.get(kind, 3)


def _scorecard(page: _Page, result: ReleaseResult) -> None:
    """Every rule judged on the release, one row each (an alternative on its own row
    under its rule), blocking rows first; then the fixed gates that passed."""
    icon = "❌" if result.verdict == "blocked" else "✅"
    page.add(f"\n### {icon} {cell(result.release)} — {result.verdict}\n")
    for line in result.tuning:  # one list item per group of tuning runs, then the table
        page.add(f"- tuning: {cell(line)}")
    if result.tuning:
        page.add("")
    page.add(_SCORE_HEADER)
    by_rule = {f.rule: f for f in result.findings}
    rows: list[tuple[int, str, list[str]]] = []
    scored = set()
    for score in result.scores:
        scored.add(score.rule)
        finding = by_rule.get(score.rule)
        mark, text = _rule_verdict(score, finding)
        kind = status(finding) if finding is not None and score.decision != "pass" else "pass"
        lines = [f"| {mark} | {cell(score.rule)} | {_figures(score.primary)} | {cell(text)} |"]
        if score.alternative is not None:
            alt = score.alternative
            said = f"{alt.decision} (decided)" if score.by_alternative else alt.decision
            lines.append(f"| | ↳ or {cell(alt.metric)} | {_figures(alt)} | {cell(said)} |")
        rows.append((_order(kind), score.rule, lines))
    for f in result.findings:
        if f.rule in scored:
            continue
        kind = status(f)
        text = _waived_until(f) if kind == WAIVED else f.message
        rows.append(
            (
                _order(kind),
                rule_id(f),
                [
                    f"| {_ICON[kind]} | {cell(rule_id(f))} | {cell(f.observed)} | | "
                    f"{cell(f.threshold)} | | {cell(text)} |"
                ],
            )
        )
    found = {rule_id(f) for f in result.findings} | {f.gate for f in result.findings}
    for item in result.judged:
        if item in scored or item in found:
            continue
        if "." in item:  # a policy rule without figures: its gate could not score it
            rows.append((2, item, [f"| ❔ | {cell(item)} | | | | | not scored |"]))
        else:
            rows.append((3, item, [f"| ✅ | {cell(item)} | | | | | pass |"]))
    for _, _, lines in sorted(rows, key=lambda row: (row[0], row[1])):
        for line in lines:
            page.add(line)
    if not rows:
        page.add("| ✅ | every gate | | | | | pass |")
    page.scorecards += not page.full


def _all_waived(verdict: Verdict) -> list[tuple[str | None, Finding]]:
    return [(r, f) for r, f in verdict.all_findings() if status(f) == WAIVED]


def _waivers(page: _Page, verdict: Verdict) -> None:
    waived = _all_waived(verdict)
    if not waived:
        return
    page.add("\n### Waivers in effect\n")
    page.add(
        "| waiver | release | rule | owner | expires | relaxed to |\n|---|---|---|---|---|---|"
    )
    for release, f in waived:
        if page.full:
            return
        w = f.waiver
        assert w is not None
        expires = expiry(w.expires_at, verdict.evaluated_at)
        page.add(
            f"| {cell(w.id)} | {cell(release or '-')} | {cell(rule_id(f))} | {cell(w.owner)} | "
            f"{expires} | {cell(w.relax_to)} |"
        )
