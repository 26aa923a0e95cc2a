"""Coverage: every column the card names for a gated per-column metric is in the report.

A per-column rule aggregates whatever entries the report holds (default: the worst), so
a report that leaves a column out passes on the others: with two secret columns, dropping
the second one's `privacy.inference_risk` hid its risk. For every rule of the policy (and
its alternative) whose metric is in `COLUMNS`, each card column that metric applies to
must have an entry, or the release is blocked (a warning when the rule is advisory). A
metric the report lacks altogether is left to the metric gate, which blocks it already.

`COLUMNS` is the one place that says which card columns a per-column metric must cover;
a new per-column metric (e.g. `privacy.inference_excess` per secret column) is one line.
Columns the card *declares* for a metric (secrets, subgroups) are taken from the base
card as well when the dataset exists there, so that a pull request cannot drop a column
from the gate by editing the card it is judged by. A missing measurement is never
waivable: a waiver relaxes a threshold, it does not stand in for a value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthgov.decision.findings import Finding, Severity
from synthgov.decision.rules import undecided
from synthgov.gates import ReleaseContext
from synthgov.models.card import Card, Column, ColumnType
from synthgov.models.common import Enforcement

#: Read as numbers by `evaluate` (KS, boundary adherence); every other type is categorical.
NUMERIC_TYPES = frozenset(
    {ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.DATE, ColumnType.DATETIME}
)


@dataclass(frozen=True)
class Needs:
    """Which card columns a per-column metric must cover, in words and as a function."""

    what: str  # "numeric column", "secret column", ...
    columns: Callable[[Card], list[str]]
    declared: bool = False  # named by the card for this metric: the base card's count too


def _where(test: Callable[[Column], bool]) -> Callable[[Card], list[str]]:
    return lambda card: [c.name for c in card.columns if test(c)]


def _secrets(card: Card) -> list[str]:
    """The inference attack's secrets (BRIEF §10.18): those named, else the target."""
    if card.secret_columns:
        return list(card.secret_columns)
    return [card.target.column] if card.target is not None else []


def _limited(column: Column) -> bool:
    """A column whose card entry sets a range, categories or a pattern to stay inside."""
    limits = (column.min, column.max, column.allowed_values, column.pattern)
    return any(limit is not None for limit in limits)


#: metric id -> the card columns it must have an entry for.
COLUMNS: dict[str, Needs] = {
    "fidelity.ks_complement": Needs("numeric column", _where(lambda c: c.type in NUMERIC_TYPES)),
    "fidelity.tv_complement": Needs(
        "categorical column", _where(lambda c: c.type not in NUMERIC_TYPES)
    ),
    "fidelity.missing_rate_diff": Needs("column", _where(lambda c: True)),
    "fidelity.boundary_adherence": Needs(
        "numeric column", _where(lambda c: c.type in NUMERIC_TYPES)
    ),
    "fidelity.category_adherence": Needs(
        "categorical column", _where(lambda c: c.type not in NUMERIC_TYPES)
    ),
    "schema.values_in_card": Needs("column with card limits", _where(_limited)),
    "privacy.inference_risk": Needs("secret column", _secrets, declared=True),
    "privacy.inference_excess": Needs("secret column", _secrets, declared=True),
    "subgroup.worst_gap": Needs("subgroup column", lambda card: list(card.subgroup_columns), True),
    "subgroup.shortfall": Needs("subgroup column", lambda card: list(card.subgroup_columns), True),
}


def required(metric: str, card: Card, base_card: Card | None) -> list[str]:
    """The columns `metric` must cover for a release of `card` (in card order)."""
    needs = COLUMNS[metric]
    names = needs.columns(card)
    if needs.declared and base_card is not None:
        names += [n for n in needs.columns(base_card) if n not in names]
    return names


def _gated(ctx: ReleaseContext) -> dict[str, tuple[Enforcement, str]]:
    """Per-column metric -> (the strictest enforcement of a rule using it, that rule's id)."""
    policy, card = ctx.policy.model, ctx.card.model
    found: dict[str, tuple[Enforcement, str]] = {}
    for rule_id, rule in policy.rules.items():
        enforcement = policy.effective_rule(rule_id, ctx.classification).enforcement
        override = card.overrides.get(rule_id)
        if override is not None and override.enforcement is not None:
            enforcement = max(enforcement, override.enforcement, key=lambda e: e.rank)
        metrics = [rule.metric] + ([rule.alternative.metric] if rule.alternative else [])
        for metric in metrics:
            if metric not in COLUMNS:
                continue
            if metric not in found or enforcement.rank > found[metric][0].rank:
                found[metric] = (enforcement, rule_id)
    return found


def check(ctx: ReleaseContext) -> list[Finding]:
    report = ctx.report
    found = []
    for metric, (enforcement, rule_id) in _gated(ctx).items():
        wanted = required(metric, ctx.card.model, ctx.base_card)
        if not wanted:
            continue
        have = {m.column for m in report.model.metrics if m.id == metric and m.column is not None}
        # a column the tables were too small to measure is the metric gate's inconclusive figure
        have |= {str(note["column"]) for note in undecided(metric, report.model)}
        missing = [name for name in wanted if name not in have]
        if not missing or not have:
            continue  # a metric absent altogether is the metric gate's finding already
        what = COLUMNS[metric].what
        advisory = enforcement is Enforcement.ADVISORY
        rule_at = ctx.policy.document.locate(("rules", rule_id))
        covered = [name for name in wanted if name in have]
        message = (
            f"the report has no {metric} for the {what}{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; every {what} the card names must be measured "
            f"(measured: {', '.join(covered) or 'none'}); otherwise {rule_id} judges the "
            "others only"
        )
        found.append(
            Finding(
                gate="coverage",
                rule=f"coverage.{metric}",
                severity=Severity.WARNING if advisory else Severity.ERROR,
                message=message,
                observed=float(len(covered)),
                threshold=float(len(wanted)),
                file=report.document.path,
                line=report.document.locate(("metrics",)).line,
                threshold_file=rule_at.path,
                threshold_line=rule_at.line,
                enforcement="advisory" if advisory else "hard",
                fix="Re-run `synthgov evaluate` (or `synthgov release new`) against the card: it "
                "measures every column the card names.",
            )
        )
    return found
