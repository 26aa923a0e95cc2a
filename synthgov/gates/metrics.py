"""The metric gates (schema, constraints, fidelity, utility, privacy, subgroup): every
policy rule, with the tier's and the card's overrides, evaluated against the report."""

from __future__ import annotations

from synthgov.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.models.common import Enforcement
from synthgov.models.policy import EffectiveRule, Rule
from synthgov.rules import evaluate


def effective_rules(ctx: ReleaseContext) -> list[tuple[EffectiveRule, str, int | None]]:
    """Each rule after tier and card overrides, with the file and line of its threshold."""
    policy, card = ctx.policy.model, ctx.card.model
    result = []
    for rule_id in policy.rules:
        current = policy.effective_rule(rule_id, ctx.classification)
        where = ctx.policy.document.locate(current.threshold_at)
        file, line = where.path, where.line
        override = card.overrides.get(rule_id)
        if override is not None:  # validated as tightening only; applied where stricter
            changes: dict[str, object] = {}
            if override.threshold is not None and current.rule.is_tighter_or_equal(
                override.threshold, current.threshold
            ):
                changes["threshold"] = override.threshold
                spot = ctx.card.document.locate(("overrides", rule_id, "threshold"))
                file, line = spot.path, spot.line
            if (
                override.enforcement is not None
                and override.enforcement.rank > current.enforcement.rank
            ):
                changes["enforcement"] = override.enforcement
            if changes:
                current = EffectiveRule(**{**current.__dict__, **changes})
        result.append((current, file, line))
    return result


def _severity(enforcement: Enforcement) -> Severity:
    return Severity.WARNING if enforcement is Enforcement.ADVISORY else Severity.ERROR


def _rule_finding(ctx: ReleaseContext, rule_id: str, rule: Rule, current: EffectiveRule,
                  file: str, line: int | None) -> Finding | None:  # fmt: skip
    outcome = evaluate(rule, current.threshold, ctx.report.model)
    if outcome.holds:
        return None
    if rule.alternative is not None and current.alternative is not None:
        other = evaluate(rule.alternative, current.alternative, ctx.report.model)
        if other.holds:
            return None
    report = ctx.report.document
    at = report.locate(("metrics", outcome.index)) if outcome.index is not None else None
    if outcome.observed is None:
        message = f"the report has no {rule.metric} metric; the policy needs it (a missing metric never passes)"
        observed: float | str | None = None
    else:
        scope = f" (worst: {outcome.where})" if outcome.where else ""
        message = f"{rule.metric} is {outcome.observed:.4g}{scope}; the policy requires {rule.op} {current.threshold:g}"
        if rule.alternative is not None and current.alternative is not None:
            message += (
                f" (or {rule.alternative.metric} {rule.alternative.op} {current.alternative:g})"
            )
        observed = outcome.observed
    return Finding(
        gate=rule_id.split(".", 1)[0], rule=rule_id, severity=_severity(current.enforcement),
        message=message, observed=observed, threshold=current.threshold,
        file=report.path, line=at.line if at else 1, threshold_file=file, threshold_line=line,
        enforcement=current.enforcement.value, fix=rule.fix,
    )  # fmt: skip


def check(ctx: ReleaseContext) -> list[Finding]:
    found = []
    for current, file, line in effective_rules(ctx):
        finding = _rule_finding(ctx, current.rule_id, current.rule, current, file, line)
        if finding is not None:
            found.append(finding)
    return found
