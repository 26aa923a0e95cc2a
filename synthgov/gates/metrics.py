"""The metric gates (schema, constraints, fidelity, utility, privacy, subgroup): every
policy rule, with the tier's and the card's overrides, evaluated against the report.

A missing metric blocks, except where the card declares nothing the metric could be
measured on (no target: no utility; no subgroup columns: no subgroup gap): that is a
warning, visible in every report. For a dataset that exists on the base, the base's card
must declare nothing either, so that a pull request cannot drop a gate by editing it.
"""

from __future__ import annotations

from synthgov.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.models.card import Card
from synthgov.models.common import Enforcement
from synthgov.models.policy import EffectiveRule, Rule
from synthgov.rules import evaluate

_UTILITY = ("utility.tstr", "utility.trtr", "utility.tstr_trtr_ratio")


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
    severity = _severity(current.enforcement)
    if outcome.observed is None:
        message = f"the report has no {rule.metric} metric; the policy needs it (a missing metric never passes)"
        observed: float | str | None = None
        reason = not_applicable(rule.metric, ctx.card.model)
        if reason is not None and ctx.base_card is not None:
            reason = not_applicable(rule.metric, ctx.base_card)
        if reason is not None:
            message = f"{rule.metric} is not measured: {reason}; the rule does not apply"
            severity = Severity.WARNING
    else:
        scope = f" (worst: {outcome.where})" if outcome.where else ""
        message = f"{rule.metric} is {outcome.observed:.4g}{scope}; the policy requires {rule.op} {current.threshold:g}"
        if rule.alternative is not None and current.alternative is not None:
            message += (
                f" (or {rule.alternative.metric} {rule.alternative.op} {current.alternative:g})"
            )
        observed = outcome.observed
    return Finding(
        gate=rule_id.split(".", 1)[0], rule=rule_id, severity=severity,
        message=message, observed=observed, threshold=current.threshold,
        file=report.path, line=at.line if at else 1, threshold_file=file, threshold_line=line,
        enforcement=current.enforcement.value, fix=rule.fix,
    )  # fmt: skip


def not_applicable(metric: str, card: Card) -> str | None:
    """Why the card leaves nothing for `metric` to measure, or None."""
    if metric in _UTILITY and card.target is None:
        return "the card names no target column"
    if metric == "privacy.inference_risk" and card.target is None and not card.secret_columns:
        return "the card names no secret columns and no target"
    if metric == "subgroup.worst_gap" and not card.subgroup_columns:
        return "the card names no subgroup columns"
    return None


def _subgroup_basis(ctx: ReleaseContext) -> Finding | None:
    """The report must measure subgroup gaps on the metric the base policy names."""
    if not any(r.metric == "subgroup.worst_gap" for r in ctx.policy.model.rules.values()):
        return None
    cards = [ctx.card.model] + ([ctx.base_card] if ctx.base_card else [])
    if not any(card.subgroup_columns for card in cards):
        return None
    wanted = ctx.policy.model.subgroups
    config = ctx.report.model.config
    measured = getattr(config, "subgroups", None)
    measured = measured if isinstance(measured, dict) else {}
    if measured.get("metric") == wanted.metric and measured.get("min_rows") == wanted.min_rows:
        return None
    where = ctx.policy.document.locate(("subgroups",))
    report = ctx.report.document
    return Finding(
        gate="subgroup", rule="subgroup.basis", severity=Severity.ERROR,
        message=(
            f"the report measured subgroup gaps with {measured or 'no recorded settings'}; the "
            f"policy names metric {wanted.metric} with min_rows {wanted.min_rows}"
        ),
        observed=str(measured.get("metric")), threshold=wanted.metric,
        file=report.path, line=report.locate(("config",)).line,
        threshold_file=where.path, threshold_line=where.line, enforcement="hard",
        fix="Re-run synthgov evaluate in this repository so that it reads the policy's subgroups.",
    )  # fmt: skip


def check(ctx: ReleaseContext) -> list[Finding]:
    found = []
    basis = _subgroup_basis(ctx)
    if basis is not None:
        found.append(basis)
    for current, file, line in effective_rules(ctx):
        finding = _rule_finding(ctx, current.rule_id, current.rule, current, file, line)
        if finding is not None:
            found.append(finding)
    return found
