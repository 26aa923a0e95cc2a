"""Judging one policy rule against a metric report (pure).

A metric that is an estimate (it carries an `interval`, or at least a `ci`) is judged on
its interval at the confidence the policy asks for (BRIEF §11.1; `gates.metrics` works
out the level from the policy's family-wise false-block rate). For a rule `metric <=
threshold` with a `margin` m ≥ 0, and the interval [L, U]:

- fail: L > threshold. The data show, at that confidence, that the release is worse than
  the threshold; an honest release fails only by the policy's error rate.
- pass: U ≤ threshold + m. The data rule out a value beyond the margin.
- inconclusive: neither. Too few rows to tell; the tier decides whether that warns or
  blocks, and the finding says about how many rows would decide.

`>=` rules mirror this. A value without an interval (a column's shape, an exact count) is
its own interval: it passes or fails. A metric the rule needs but the report lacks is a
failure, never a pass (fail closed).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from synthgov.metrics.intervals import ALPHA_95, bounds, excess_p_value, rows_needed
from synthgov.metrics.metric_ids import METRICS
from synthgov.models.policy import Condition
from synthgov.models.report import Metric, Report, extra

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}


class Ruling(StrEnum):
    """How one condition of a metric rule is ruled on a report: pass, fail, or
    inconclusive (the interval straddles the threshold). Not the gate's decision on a
    release (`decision.decide.RunResult`), which these rulings feed."""

    PASS = "pass"
    INCONCLUSIVE = "inconclusive"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return {"pass": 0, "inconclusive": 1, "fail": 2}[self.value]


@dataclass(frozen=True)
class Judgement:
    """One condition judged: the decision, the estimate and its interval at the policy's level."""

    decision: Ruling
    value: float | None  # None: the metric is missing from the report
    interval: tuple[float, float] | None  # (lower, upper); None for a value without one
    where: str | None  # the column or pair that decided it, or None for a table metric
    index: int | None  # the index in report.metrics of that entry, for locating it
    n: int | None = None  # rows of the report's smallest table
    needs: int | None = None  # about how many rows would decide an inconclusive figure
    reason: str | None = None  # why the report could not measure it (then `value` is None)
    likely_fails: bool = False  # inconclusive, but beyond the margin: more rows would fail it

    @property
    def holds(self) -> bool:
        return self.decision is Ruling.PASS

    @property
    def observed(self) -> float | None:
        return self.value


def compare(op: str, observed: float, threshold: float) -> bool:
    """Whether `observed op threshold` holds (the policy's comparators, in one place)."""
    return _OPS[op](observed, threshold)


def ruling(
    op: str,
    value: float,
    interval: tuple[float, float] | None,
    threshold: float,
    margin: float = 0.0,
) -> Ruling:
    """The three-way decision of the module docstring for one estimate."""
    lower, upper = interval if interval is not None else (value, value)
    if op == "==":
        return Ruling.PASS if value == threshold else Ruling.FAIL
    if op in ("<=", "<"):
        worst, best, limit = lower, upper, threshold + margin
    else:
        worst, best, limit = upper, lower, threshold - margin
    if not compare(op, worst, threshold):
        return Ruling.FAIL
    return Ruling.PASS if compare(op, best, limit) else Ruling.INCONCLUSIVE


def entry_interval(metric: Metric, alpha: float | None) -> tuple[float, float] | None:
    """The entry's interval at one-sided level `alpha`: from its `interval` when it has one,
    else its `ci` as recorded (a report of another tool), else None.

    Raises:
        ValueError: an `interval` that this version cannot read (fail closed).
    """
    spec = extra(metric, "interval")
    if spec is not None and alpha is not None:
        if not isinstance(spec, dict):
            raise ValueError(f"{metric.id}: `interval` must be an object")
        known = METRICS.get(metric.id)
        low = known.lower if known else float("-inf")
        high = known.upper if known and known.upper is not None else float("inf")
        try:
            return bounds(spec, metric.value, alpha, low, high)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"{metric.id}: malformed `interval` ({exc!r})") from None
    if metric.ci is not None:
        return metric.ci[0], metric.ci[1]
    return None


def _label(metric: Metric) -> str | None:
    if metric.column is not None:
        return metric.column
    if metric.columns is not None:
        return " × ".join(metric.columns)
    rule = extra(metric, "rule")
    return str(rule) if rule is not None else None


#: The last report indexed and its index: a scorecard asks for the entries of each of its
#: conditions twice (levels, then judging). The report is kept alive here, so `is` cannot
#: mistake a new one for it.
_INDEXED: list[tuple[Report, dict[str, list[tuple[int, Metric]]]]] = []


def _by_id(report: Report) -> dict[str, list[tuple[int, Metric]]]:
    """The report's entries by metric id, in report order."""
    if _INDEXED and _INDEXED[0][0] is report:
        return _INDEXED[0][1]
    index: dict[str, list[tuple[int, Metric]]] = {}
    for i, metric in enumerate(report.metrics):
        index.setdefault(metric.id, []).append((i, metric))
    _INDEXED[:] = [(report, index)]
    return index


def entries(condition: Condition, report: Report) -> list[tuple[int, Metric]]:
    """The report entries a condition judges: for `constraints.validity` the overall share
    only (every row rule at once), never each constraint's, which is never lower: a
    report without the overall entry lacks the metric."""
    found = list(_by_id(report).get(condition.metric, ()))
    if condition.metric == "constraints.validity":
        found = [(i, m) for i, m in found if extra(m, "rule") is None]
    return found


#: The metrics `evaluate` may be unable to measure at a table's size, and whether per
#: column: utility when the holdout lacks a class of the target, subgroup figures when no
#: group of a subgroup column is large enough. Every other metric is always measured, so a
#: note for it is not one `evaluate` wrote, and never excuses its absence.
UNMEASURABLE: dict[str, bool] = {
    "utility.tstr": False,
    "utility.trtr": False,
    "utility.tstr_trtr_ratio": False,
    "subgroup.shortfall": True,
    "subgroup.worst_gap": True,
}


def undecided(metric: str, report: Report) -> list[dict[str, Any]]:
    """The report's notes that `metric` could not be measured (for a column, or at all) at
    its tables' sizes, where a note is plausible: the metric is one that can be
    unmeasurable (`UNMEASURABLE`, for a column where it is per column), and the note asks
    for more rows than the smallest input has (a note on a large table cannot turn a
    missing metric into a mere warning)."""
    notes = getattr(report, "inconclusive", None)
    if not isinstance(notes, list) or metric not in UNMEASURABLE:
        return []
    per_column = UNMEASURABLE[metric]
    notes = [
        n for n in notes if isinstance(n, dict) and isinstance(n.get("column"), str) == per_column
    ]
    smallest = min(
        report.inputs.real.rows, report.inputs.holdout.rows, report.inputs.synthetic.rows
    )
    return [
        note
        for note in notes
        if isinstance(note, dict)
        and note.get("id") == metric
        and isinstance(note.get("needs_rows"), int)
        and not isinstance(note["needs_rows"], bool)
        and isinstance(note.get("reason"), str)
        and note["needs_rows"] > smallest
    ]


def _needs(
    op: str,
    value: float,
    interval: tuple[float, float],
    threshold: float,
    margin: float,
    rows: int | None,
) -> tuple[int | None, bool]:
    """(About how many rows would let the interval pass, whether more rows would rather
    make it fail). Intervals narrow as 1/sqrt(rows); the room is the margin (what an
    honest release has, whatever its noisy estimate), or without one the distance from
    the estimate to the threshold. An estimate already beyond threshold + margin would
    not pass with more rows: more rows would likely make it fail."""
    lower, upper = interval
    beyond = value > threshold + margin if op in ("<=", "<") else value < threshold - margin
    if beyond:
        return None, True
    half = upper - value if op in ("<=", "<") else value - lower
    room = margin if margin > 0 else abs(threshold - value)
    if rows is None:
        return None, False
    return rows_needed(rows, half, room), False


def judge(
    condition: Condition,
    threshold: float,
    report: Report,
    *,
    margin: float = 0.0,
    alpha: float | None = None,
) -> Judgement:
    """Aggregate the metric's entries (default: the worst one) and decide.

    `alpha` is the one-sided level of each bound (None: the report's own 95 % `ci`).
    """
    found = entries(condition, report)
    measured = {metric.column for _, metric in found}
    notes = [n for n in undecided(condition.metric, report) if n.get("column") not in measured]
    unmeasured = None
    if notes:  # columns the tables were too small to measure at all
        note = notes[0]
        unmeasured = Judgement(
            Ruling.INCONCLUSIVE,
            None,
            None,
            note.get("column"),
            None,
            None,
            note["needs_rows"],
            note["reason"],
        )
    if not found:
        return unmeasured or Judgement(Ruling.FAIL, None, None, None, None)
    rows = min(report.inputs.real.rows, report.inputs.holdout.rows, report.inputs.synthetic.rows)
    judged_entries = _judge_entries(condition, threshold, found, margin, alpha, rows)
    if unmeasured is not None and judged_entries.decision is Ruling.PASS:
        return unmeasured
    return judged_entries


def _judge_entries(
    condition: Condition,
    threshold: float,
    found: list[tuple[int, Metric]],
    margin: float,
    alpha: float | None,
    rows: int,
) -> Judgement:
    judged = []
    for index, metric in found:
        known = METRICS.get(metric.id)
        if known is not None and known.estimate and extra(metric, "interval") is None:
            # a gated estimate must say what its interval is made of, or a widened `ci`
            # (or none) would pass for the real one
            return Judgement(
                Ruling.FAIL,
                metric.value,
                None,
                _label(metric),
                index,
                metric.n,
                reason="has no `interval` (what its ci is made of), so it cannot be "
                "judged at the policy's confidence",
            )
        interval = entry_interval(metric, alpha)
        decision = ruling(condition.op, metric.value, interval, threshold, margin)
        if _no_excess_rule(condition.op, threshold, metric):
            decision = _exact_decision(metric, interval, margin, alpha)
        judged.append((decision, metric.value, interval, index, metric))
    if condition.effective_aggregate == "mean":
        count = len(judged)
        value = sum(v for _, v, _, _, _ in judged) / count
        lows = [iv[0] if iv else v for _, v, iv, _, _ in judged]
        highs = [iv[1] if iv else v for _, v, iv, _, _ in judged]
        interval = (sum(lows) / count, sum(highs) / count)
        decision = ruling(condition.op, value, interval, threshold, margin)
        return _judgement(
            condition.op, decision, value, interval, None, judged[0][3], rows, threshold, margin
        )
    lower_is_worse = condition.effective_aggregate == "min"

    def badness(
        item: tuple[Ruling, float, tuple[float, float] | None, int, Metric],
    ) -> tuple[int, float]:
        return item[0].rank, -item[1] if lower_is_worse else item[1]

    decision, value, interval, index, metric = max(judged, key=badness)
    return _judgement(
        condition.op, decision, value, interval, _label(metric), index, rows, threshold, margin
    )


def _no_excess_rule(op: str, threshold: float, metric: Metric) -> bool:
    """A rule "no excess at all" (`<= 0`) on a difference of two counted shares."""
    spec = extra(metric, "interval")
    return (
        op in ("<=", "<")
        and threshold == 0
        and isinstance(spec, dict)
        and spec.get("kind") == "newcombe"
    )


def _exact_decision(
    metric: Metric, interval: tuple[float, float] | None, margin: float, alpha: float | None
) -> Ruling:
    """Fail when Fisher's exact test finds an excess at the bound's level; else pass when
    the interval lies within the margin. Counts are decided exactly, rare (copies, when
    fresh rows never copy) or common (attack successes), instead of by an interval's
    normal-theory bound."""
    spec = metric.interval  # type: ignore[attr-defined]
    k, n = spec["successes"], spec["trials"]
    p = excess_p_value((float(k[0]), float(k[1])), (float(n[0]), float(n[1])))
    if p <= (alpha if alpha is not None else ALPHA_95):
        return Ruling.FAIL
    upper = interval[1] if interval is not None else metric.value
    return Ruling.PASS if upper <= margin else Ruling.INCONCLUSIVE


def _judgement(
    op: str,
    decision: Ruling,
    value: float,
    interval: tuple[float, float] | None,
    where: str | None,
    index: int,
    rows: int,
    threshold: float,
    margin: float,
) -> Judgement:
    needs, likely_fails = None, False
    if decision is Ruling.INCONCLUSIVE and interval is not None:
        needs, likely_fails = _needs(op, value, interval, threshold, margin, rows)
    return Judgement(
        decision, value, interval, where, index, rows, needs, likely_fails=likely_fails
    )
