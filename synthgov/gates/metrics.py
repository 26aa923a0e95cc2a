"""The metric gates (schema, constraints, fidelity, utility, privacy, subgroup): every
policy rule, with the tier's and the card's overrides, judged against the report.

Estimates are judged on their intervals (`rules`), each bound at a level such that the
levels of all the gated estimates of the release sum to the policy's
`statistics.false_block_rate` (`levels`: weighted Bonferroni, by rule, then within it), so
that an honest release fails some rule with at most that chance, however many rules and
columns there are. A failure blocks by the rule's enforcement; an
inconclusive figure blocks only where the tier says `inconclusive: block`.

A missing metric blocks, except where the card declares nothing the metric could be
measured on (no target: no utility; no subgroup columns: no subgroup gap): that is a
warning, visible in every report. For a dataset that exists on the base, the base's card
must declare nothing either, so that a pull request cannot drop a gate by editing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgov.decision.findings import Finding, Judged, RuleScore, Severity
from synthgov.decision.rules import Judgement, Ruling, entries, judge
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext
from synthgov.gates.coverage import required
from synthgov.metrics.metric_ids import METRICS
from synthgov.models import Policy, Report
from synthgov.models.card import Card
from synthgov.models.common import Classification, Enforcement
from synthgov.models.policy import EffectiveRule
from synthgov.models.report import extra

_UTILITY = ("utility.tstr", "utility.trtr", "utility.tstr_trtr_ratio")


def effective_rules(ctx: ReleaseContext) -> list[tuple[EffectiveRule, str, int | None]]:
    """Each rule after tier and card overrides, with the file and line of its threshold."""
    return rules_for(ctx.policy, ctx.card, ctx.classification)


#: `rules_for`'s answers by the policy and card objects they come from (each loaded once
#: per content, frozen): the releases of a dataset share them, in an audit a thousand
#: times. The objects are kept here, so `is` cannot mistake new ones for them.
_RULES: dict[
    tuple[int, int, Classification],
    tuple[Loaded[Policy], Loaded[Card], list[tuple[EffectiveRule, str, int | None]]],
] = {}


def rules_for(
    policy: Loaded[Policy], card: Loaded[Card], classification: Classification
) -> list[tuple[EffectiveRule, str, int | None]]:
    """`effective_rules` from the policy, the card and the classification alone."""
    key = (id(policy), id(card), classification)
    known = _RULES.get(key)
    if known is not None and known[0] is policy and known[1] is card:
        return list(known[2])
    result = _rules_for(policy, card, classification)
    if len(_RULES) >= 256:
        _RULES.clear()
    _RULES[key] = (policy, card, result)
    return list(result)


def _rules_for(
    policy: Loaded[Policy], card: Loaded[Card], classification: Classification
) -> list[tuple[EffectiveRule, str, int | None]]:
    result = []
    for rule_id in policy.model.rules:
        current = policy.model.effective_rule(rule_id, classification)
        where = policy.document.locate(current.threshold_at)
        file, line = where.path, where.line
        override = card.model.overrides.get(rule_id)
        if override is not None:  # validated as tightening only; applied where stricter
            changes: dict[str, object] = {}
            if override.threshold is not None and current.rule.is_tighter_or_equal(
                override.threshold, current.threshold
            ):
                changes["threshold"] = override.threshold
                spot = card.document.locate(("overrides", rule_id, "threshold"))
                file, line = spot.path, spot.line
            if override.margin is not None and override.margin < current.margin:
                changes["margin"] = override.margin
            if (
                override.enforcement is not None
                and override.enforcement.rank > current.enforcement.rank
            ):
                changes["enforcement"] = override.enforcement
            if changes:
                current = EffectiveRule(**{**current.__dict__, **changes})
        result.append((current, file, line))
    return result


@dataclass(frozen=True)
class Scored:
    """One rule judged on the release: its primary condition, and the alternative if any."""

    rule: EffectiveRule
    file: str
    line: int | None
    primary: Judgement
    alternative: Judgement | None
    alpha: float  # the one-sided level of each bound

    @property
    def decision(self) -> Ruling:
        """Pass when either condition passes, fail when every one fails."""
        judged = [self.primary] + ([self.alternative] if self.alternative else [])
        if any(j.decision is Ruling.PASS for j in judged):
            return Ruling.PASS
        if all(j.decision is Ruling.FAIL for j in judged):
            return Ruling.FAIL
        return Ruling.INCONCLUSIVE

    @property
    def by_alternative(self) -> bool:
        return self.primary.decision is not Ruling.PASS and self.decision is Ruling.PASS


def levels(
    report: Report,
    card: Card,
    rules: list[tuple[EffectiveRule, str, int | None]],
    rate: float,
    min_rows: int = 1,
) -> dict[str, float]:
    """Rule id -> the one-sided level of each of its bounds, so that the levels of every
    gated estimate sum to `rate` (weighted Bonferroni in two steps): first each rule that
    judges an estimate gets its `weight`'s share of the rate, then that share is split
    among the rule's entries (its columns, pairs or groups). A card with many subgroup
    groups thus narrows the subgroup rule's own bounds, not the privacy rules'.

    A report cannot widen the bounds with entries of its own: only the card's columns
    count, groups only for the subgroup metrics of the card's subgroup columns, and at most
    as many groups per column as the holdout rows hold at `subgroups.min_rows` (a gated
    group has that many).
    """
    columns = {c.name for c in card.columns}
    most = max(report.inputs.holdout.rows // max(min_rows, 1), 1)
    groups: dict[str, dict[tuple[str, str | None], set[str]]] = {}
    weights: dict[str, float] = {}
    for current, _, _ in rules:
        if current.enforcement is Enforcement.ADVISORY:
            continue
        conditions = [current.rule] + (
            [current.rule.alternative] if current.rule.alternative else []
        )
        for condition in conditions:
            for _, metric in entries(condition, report):
                has_interval = extra(metric, "interval") is not None or metric.ci is not None
                if has_interval and (metric.column is None or metric.column in columns):
                    grouped = (
                        condition.metric.startswith("subgroup.")
                        and metric.column in card.subgroup_columns
                    )
                    group = str(extra(metric, "group")) if grouped else ""
                    found = groups.setdefault(current.rule_id, {})
                    found.setdefault((condition.metric, metric.column), set()).add(group)
                    weights[current.rule_id] = current.rule.weight
    total = sum(weights.values())
    result = {}
    for rule_id, found in groups.items():
        count = sum(min(len(labels), most) for labels in found.values())
        result[rule_id] = min(rate * weights[rule_id] / total / max(count, 1), 0.5)
    return result


#: The last context scored and its scores: the engine and this gate both score each
#: context, one after the other (an audit scores a thousand; the objects are kept alive
#: here, so `is` cannot mistake a new context for an old one).
_LAST: list[tuple[ReleaseContext, list[Scored]]] = []


def scorecard(ctx: ReleaseContext) -> list[Scored]:
    """Every rule judged as `check` judges it (shared with status and the catalog)."""
    if _LAST and _LAST[0][0] is ctx:
        return list(_LAST[0][1])
    scored = score(ctx.policy, ctx.card, ctx.report.model, ctx.classification)
    _LAST[:] = [(ctx, scored)]
    return list(scored)


def score(
    policy: Loaded[Policy], card: Loaded[Card], report: Report, classification: Classification
) -> list[Scored]:
    """Every rule of `policy` for `card` at `classification`, judged on `report`, each bound
    at its `levels` (they sum to the policy's false-block rate)."""
    rules = rules_for(policy, card, classification)
    rate = policy.model.statistics.false_block_rate
    level = levels(report, card.model, rules, rate, policy.model.subgroups.min_rows)
    scored = []
    for current, file, line in rules:
        rule = current.rule
        alpha = level.get(current.rule_id, rate)
        primary = judge(rule, current.threshold, report, margin=current.margin, alpha=alpha)
        alternative = None
        if rule.alternative is not None and current.alternative is not None:
            alternative = judge(
                rule.alternative,
                current.alternative,
                report,
                margin=rule.alternative.margin,
                alpha=alpha,
            )
        scored.append(Scored(current, file, line, primary, alternative, alpha))
    return scored


def rule_scores(scored: list[Scored]) -> tuple[RuleScore, ...]:
    """The scorecard's figures of every rule judged: value, interval, bound, threshold,
    margin and decision of the primary condition and of the alternative."""
    found = []
    for s in scored:
        current, rule = s.rule, s.rule.rule
        primary = _judged(rule.metric, rule.op, current.threshold, current.margin, s.primary)
        alternative = None
        if (
            s.alternative is not None
            and rule.alternative is not None
            and current.alternative is not None
        ):
            alt = rule.alternative
            alternative = _judged(
                alt.metric, alt.op, current.alternative, alt.margin, s.alternative
            )
        spec = METRICS.get(rule.metric)
        found.append(
            RuleScore(
                current.rule_id,
                current.enforcement.value,
                s.decision.value,
                primary,
                alternative,
                spec.upper if spec else None,
            )
        )
    return tuple(found)


def _judged(metric: str, op: str, threshold: float, margin: float, judged: Judgement) -> Judged:
    return Judged(
        metric,
        op,
        threshold,
        margin,
        judged.value,
        judged.interval,
        judged.decision.value,
        judged.where,
    )


def _severity(enforcement: Enforcement) -> Severity:
    return Severity.WARNING if enforcement is Enforcement.ADVISORY else Severity.ERROR


def _shown(value: float) -> str:
    return f"{value:.4g}"


def _describe(
    metric: str, judged: Judgement, op: str, threshold: float, margin: float, confidence: float
) -> str:
    value = judged.value
    assert value is not None
    scope = f" (worst: {judged.where})" if judged.where else ""
    text = f"{metric} is {_shown(value)}{scope}"
    if judged.interval is not None:
        low, high = judged.interval
        text += f", interval [{_shown(low)}, {_shown(high)}] (each bound {confidence:.4g} %)"
    text += f"; the policy requires {op} {threshold:g}"
    if margin:
        text += f" (interval within {threshold + margin if op in ('<=', '<') else threshold - margin:g})"
    return text


def explain(scored: Scored) -> str:
    """What `check` says of a rule that does not pass, and `evaluate` previews: one text,
    so the preview never reads differently from the gate."""
    current, rule, judged = scored.rule, scored.rule.rule, scored.primary
    if judged.value is None and judged.reason is not None:  # too few rows to measure it at all
        where = f" ({judged.where})" if judged.where else ""
        more = f"; about {judged.needs:,} rows would measure it" if judged.needs else ""
        return f"inconclusive: {rule.metric}{where} could not be measured: {judged.reason}{more}"
    if judged.value is None:
        return f"the report has no {rule.metric} metric; the policy needs it (a missing metric never passes)"
    if judged.reason is not None:  # an entry that cannot be judged as it stands
        return f"{rule.metric} {judged.reason}"
    confidence = 100 * (1 - scored.alpha)
    message = _describe(rule.metric, judged, rule.op, current.threshold, current.margin, confidence)
    if rule.alternative is not None and current.alternative is not None:
        message += f" (or {rule.alternative.metric} {rule.alternative.op} {current.alternative:g})"
    if scored.decision is not Ruling.INCONCLUSIVE:
        return message
    needs = judged.needs if scored.alternative is None else None
    rows = f"n = {judged.n:,}" if judged.n else "this size"
    more = f"; about {needs:,} rows per table would decide it" if needs else ""
    if judged.likely_fails:
        more = "; the estimate is beyond the margin already: more rows would likely make it fail"
    return f"inconclusive at {rows}: {message}{more}"


def _rule_finding(ctx: ReleaseContext, scored: Scored) -> Finding | None:
    decision = scored.decision
    if decision is Ruling.PASS:
        return None
    current, rule, judged = scored.rule, scored.rule.rule, scored.primary
    report = ctx.report.document
    at = report.locate(("metrics", judged.index)) if judged.index is not None else None
    severity = _severity(current.enforcement)
    outcome: str | None = decision.value
    tier = ctx.policy.model.tiers.for_classification(ctx.classification)
    message, fix = explain(scored), rule.fix
    observed: float | str | None = judged.value
    if judged.value is None and judged.reason is not None:
        fix = "Evaluate on more rows, or ask for a waiver."
        if tier.inconclusive == "warn" and severity is Severity.ERROR:
            severity = Severity.WARNING
    elif judged.value is None:
        reason = not_applicable(rule.metric, ctx.card.model)
        if reason is not None and ctx.base_card is not None:
            reason = not_applicable(rule.metric, ctx.base_card)
        if reason is not None:
            message = f"{rule.metric} is not measured: {reason}; the rule does not apply"
            severity = Severity.WARNING
            outcome = None  # no decision: nothing to decide on
    elif judged.reason is not None:
        fix = "Re-run `synthgov evaluate` (or `release new`) with this version of synthgov."
    elif decision is Ruling.INCONCLUSIVE:
        fix = (
            "Evaluate on more rows (a larger synthetic table, and train and holdout tables if they "
            "are small), or ask for a waiver; " + (rule.fix or "")
        ).strip("; ")
        if tier.inconclusive == "warn" and severity is Severity.ERROR:
            severity = Severity.WARNING
    return Finding(
        gate=current.rule_id.split(".", 1)[0],
        rule=current.rule_id,
        severity=severity,
        message=message,
        observed=observed,
        threshold=current.threshold,
        file=report.path,
        line=at.line if at else 1,
        threshold_file=scored.file,
        threshold_line=scored.line,
        enforcement=current.enforcement.value,
        fix=fix,
        outcome=outcome,
        interval=judged.interval,
    )


def not_applicable(metric: str, card: Card) -> str | None:
    """Why the card leaves nothing for `metric` to measure, or None."""
    if metric in _UTILITY and card.target is None:
        return "the card names no target column"
    if (
        metric in ("privacy.inference_risk", "privacy.inference_excess")
        and card.target is None
        and not card.secret_columns
    ):
        return "the card names no secret columns and no target"
    if metric in ("subgroup.worst_gap", "subgroup.shortfall") and not card.subgroup_columns:
        return "the card names no subgroup columns"
    if metric == "schema.values_in_card" and not required(metric, card, None):
        return "the card sets no min, max, allowed_values or pattern on any column"
    if metric == "fidelity.column_pair_trends" and len(card.columns) < 2:
        return "the card has fewer than two columns"
    if metric in ("privacy.linkability_risk", "privacy.linkability_excess"):
        target = card.target.column if card.target else None
        if sum(c.name != target for c in card.columns) < 2:
            return "the card has fewer than two columns besides the target"
    return None


def _subgroup_basis(ctx: ReleaseContext) -> Finding | None:
    """The report must measure subgroup gaps on the metric the base policy names."""
    if not any(r.metric.startswith("subgroup.") for r in ctx.policy.model.rules.values()):
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
        gate="subgroup",
        rule="subgroup.basis",
        severity=Severity.ERROR,
        message=(
            f"the report measured subgroup gaps with {measured or 'no recorded settings'}; the "
            f"policy names metric {wanted.metric} with min_rows {wanted.min_rows}"
        ),
        observed=str(measured.get("metric")),
        threshold=wanted.metric,
        file=report.path,
        line=report.locate(("config",)).line,
        threshold_file=where.path,
        threshold_line=where.line,
        enforcement="hard",
        fix="Re-run synthgov evaluate in this repository so that it reads the policy's subgroups.",
    )


def check(ctx: ReleaseContext) -> list[Finding]:
    found = []
    basis = _subgroup_basis(ctx)
    if basis is not None:
        found.append(basis)
    for scored in scorecard(ctx):
        finding = _rule_finding(ctx, scored)
        if finding is not None:
            found.append(finding)
    return found
