"""Evaluating one policy rule against a metric report (pure).

A metric with a confidence interval is compared on its pessimistic bound (the upper
bound against `<=`, the lower against `>=`), so that a lucky estimate cannot pass. A
metric the rule needs but the report lacks is a failure, never a pass (fail closed).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from synthgov.models.policy import Condition
from synthgov.models.report import Metric, Report

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq,
}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """The result of one condition: whether it holds, and the value it was decided on."""

    holds: bool
    observed: float | None  # None: the metric is missing from the report
    where: str | None  # the column or pair that decided it, or None for a table metric
    index: int | None  # the index in report.metrics of that entry, for locating it


def compare(op: str, observed: float, threshold: float) -> bool:
    """Whether `observed op threshold` holds (the policy's comparators, in one place)."""
    return _OPS[op](observed, threshold)


def pessimistic(metric: Metric, op: str) -> float:
    """The value a rule compares: the CI bound that is worst for the comparator."""
    if metric.ci is None or op == "==":
        return metric.value
    return metric.ci[1] if op in ("<=", "<") else metric.ci[0]


def _label(metric: Metric) -> str | None:
    if metric.column is not None:
        return metric.column
    if metric.columns is not None:
        return " × ".join(metric.columns)
    rule = getattr(metric, "rule", None)
    return str(rule) if rule is not None else None


def evaluate(condition: Condition, threshold: float, report: Report) -> Outcome:
    """Aggregate the metric's entries (default: the worst one) and compare with `threshold`."""
    entries = [(i, m) for i, m in enumerate(report.metrics) if m.id == condition.metric]
    if (
        condition.metric == "constraints.validity"
    ):  # per-rule entries carry `rule`; the overall has none
        entries = [(i, m) for i, m in entries if getattr(m, "rule", None) is None] or entries
    if not entries:
        return Outcome(False, None, None, None)
    values = [(pessimistic(m, condition.op), i, m) for i, m in entries]
    aggregate = condition.effective_aggregate
    if aggregate == "mean":
        observed = sum(v for v, _, _ in values) / len(values)
        return Outcome(compare(condition.op, observed, threshold), observed, None, values[0][1])
    pick = min if aggregate == "min" else max
    observed, index, metric = pick(values, key=lambda item: item[0])
    return Outcome(compare(condition.op, observed, threshold), observed, _label(metric), index)
