"""Per-rule figures of one release for the JSON and text verdicts: what the Markdown
scorecard shows (value, the bound the decision used, threshold, margin, whether it passed
through its alternative, waived until when), as data and as one compact line.

The value and the bound are kept apart: the bound is the interval end the decision
compared, never the value (issue 18). Pure: a `ReleaseResult` in, dicts and strings out.
"""

from __future__ import annotations

from typing import Any

from synthgov.decision.findings import Finding, Judged, ReleaseResult, RuleScore
from synthgov.errors import printable
from synthgov.reporting._common import BLOCK, WAIVED, WARN, json_value, status, utc_z

#: A rule's outcome in the outputs: pass, pass via its alternative, or its finding's.
PASS, PASS_VIA_ALTERNATIVE = "pass", "pass via alternative"
_OUTCOME = {BLOCK: "block", WARN: "advisory", WAIVED: "waived"}


def findings_by_rule(result: ReleaseResult) -> dict[str, Finding]:
    return {f.rule: f for f in result.findings}


def outcome(score: RuleScore, finding: Finding | None) -> str:
    """`pass`, `pass via alternative`, `block`, `advisory` or `waived`."""
    if finding is not None and status(finding) == WAIVED:
        return _OUTCOME[WAIVED]
    if score.decision == "pass":
        return PASS_VIA_ALTERNATIVE if score.by_alternative else PASS
    return _OUTCOME[status(finding)] if finding is not None else _OUTCOME[BLOCK]


def condition_dict(judged: Judged) -> dict[str, Any]:
    """One condition's figures: value and bound apart, the comparison, where it was decided
    (the column or pair), without its own decision."""
    return {
        "metric": judged.metric,
        "value": json_value(judged.value),
        "bound": json_value(judged.bound) if judged.interval is not None else None,
        "interval": None if judged.interval is None else [json_value(b) for b in judged.interval],
        "op": judged.op,
        "threshold": json_value(judged.threshold),
        "margin": json_value(judged.margin),
        "column": judged.where,
    }


def score_dict(score: RuleScore, finding: Finding | None) -> dict[str, Any]:
    """One rule judged on a release, for `check --format json` (`releases[].scores[]`):
    `decision` is the rule's (its alternative included), the figures its primary
    condition's; the alternative's figures and decision under `alternative`."""
    waiver = finding.waiver if finding is not None and status(finding) == WAIVED else None
    return {
        "rule": score.rule,
        "outcome": outcome(score, finding),
        "decision": score.decision,
        "enforcement": score.enforcement,
        **condition_dict(score.primary),
        "via_alternative": score.by_alternative,
        "alternative": None
        if score.alternative is None
        else {**condition_dict(score.alternative), "decision": score.alternative.decision},
        "waived_until": None if waiver is None else utc_z(waiver.expires_at),
    }


def scores(result: ReleaseResult) -> list[dict[str, Any]]:
    by_rule = findings_by_rule(result)
    return [score_dict(score, by_rule.get(score.rule)) for score in result.scores]


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _condition(judged: Judged) -> str:
    """`0.61 (bound 0.58) >= 0.84 margin 0.02 [age]`."""
    text = _number(judged.value)
    if judged.interval is not None:
        text += f" (bound {_number(judged.bound)})"
    text += f" {judged.op} {judged.threshold:g}"
    if judged.margin:
        text += f" margin {judged.margin:g}"
    if judged.where:
        text += f" [{judged.where}]"
    return text


def score_line(score: RuleScore, finding: Finding | None) -> str:
    """`pass via alternative  utility.tstr 0.61 (bound 0.58) >= 0.84; via
    utility.tstr_trtr_ratio 0.95 (bound 0.9) >= 0.85`: one rule, one line."""
    said = outcome(score, finding)
    parts = [f"{score.rule} {_condition(score.primary)}"]
    if score.alternative is not None:
        how = "via" if score.by_alternative else "or"
        parts.append(f"{how} {score.alternative.metric} {_condition(score.alternative)}")
    if finding is not None and finding.waiver is not None and said == _OUTCOME[WAIVED]:
        parts.append(f"waived until {finding.waiver.expires_at:%Y-%m-%d}")
    return printable(f"{said:<20} " + "; ".join(parts))


def score_lines(result: ReleaseResult) -> list[str]:
    by_rule = findings_by_rule(result)
    return [score_line(score, by_rule.get(score.rule)) for score in result.scores]
