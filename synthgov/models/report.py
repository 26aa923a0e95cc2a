"""report.json: the metric report contract that check, audit and outside tools read (BRIEF §8).

Extra keys are allowed here and only here: the report is a contract other tools extend.
"""

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from synthgov.metrics.metric_ids import METRICS, Scope
from synthgov.models.common import (
    FieldError,
    FiniteFloat,
    Model,
    RowHash,
    SchemaVersion,
    Sha256,
    Slug,
)


class Open(Model):
    model_config = ConfigDict(extra="allow")


class Input(Open):
    sha256: Sha256
    rows: int = Field(ge=0)
    columns: int = Field(ge=1)
    fingerprint: Sha256 | None = Field(
        None, description="The content's sha256, whatever the row order or format (BRIEF §11.3)."
    )
    distinct_rows: int | None = Field(None, ge=0)
    sketch: Annotated[list[RowHash], Field(max_length=4096)] | None = Field(
        None, description="The smallest distinct row hashes (a bottom-k sketch)."
    )


class Inputs(Open):
    real: Input
    holdout: Input
    synthetic: Input


class Config(Open):
    seed: int
    seed_rule: Literal["derived", "pinned", "chosen"] | None = Field(
        None,
        description="How the seed was set: derived from the tables, pinned by the policy, or chosen.",
    )
    target: str | None = None
    sample_sizes: dict[str, int] = Field(default_factory=dict)


class Metric(Open):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z0-9_]+$")]
    value: FiniteFloat
    column: str | None = None
    columns: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None
    n: int | None = Field(None, ge=0)
    method: str | None = None
    ci: Annotated[list[FiniteFloat], Field(min_length=2, max_length=2)] | None = None

    @model_validator(mode="after")
    def _well_formed(self) -> "Metric":
        if self.column is not None and self.columns is not None:
            raise ValueError("a metric has `column` or `columns`, not both")
        if self.ci is not None and not self.ci[0] <= self.value <= self.ci[1]:
            raise FieldError(("ci",), f"must be [lower, upper] around the value {self.value:g}")
        spec = METRICS.get(self.id)
        if spec is None:
            return self  # a metric of another tool: the contract allows extra metrics
        for field, number in [("value", self.value), *(("ci", c) for c in self.ci or ())]:
            if number < spec.lower or (spec.upper is not None and number > spec.upper):
                bound = (
                    f"[{spec.lower:g}, {spec.upper:g}]"
                    if spec.upper is not None
                    else f">= {spec.lower:g}"
                )
                raise FieldError((field,), f"{number:g} is outside {bound} for {self.id}")
        problem = _interval_problem(self)
        if problem:
            raise FieldError(("interval",), problem)
        if spec.scope is Scope.COLUMN and self.column is None:
            raise FieldError(("column",), f"{self.id} is a per-column metric; name its column")
        if spec.scope is Scope.PAIR and self.columns is None:
            raise FieldError(("columns",), f"{self.id} is a per-pair metric; name its two columns")
        if spec.scope is Scope.TABLE and (self.column is not None or self.columns is not None):
            raise FieldError(("column",), f"{self.id} is a table-level metric; it has no column")
        return self


def _interval_problem(metric: Metric) -> str | None:
    """Why the metric's `interval` does not describe its value, or None (check widens it)."""
    spec = extra(metric, "interval")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return "must be an object with a `kind`"
    kind = spec.get("kind")
    try:
        if kind == "normal":
            se = spec["se"]
            ok = (
                isinstance(se, int | float | Decimal)
                and not isinstance(se, bool)
                and math.isfinite(se)
                and se >= 0
            )
            return None if ok else "se must be a finite number >= 0"
        if kind == "wilson":
            pairs = [(spec["successes"], spec["trials"])]
        elif kind == "newcombe":
            (k1, k2), (n1, n2) = spec["successes"], spec["trials"]
            pairs = [(k1, n1), (k2, n2)]
        else:
            return "kind must be normal, wilson or newcombe"
        if not all(_counts(k, n) for k, n in pairs):
            # a negative, fractional or tiny count would widen the interval at will
            return (
                f"{kind} successes and trials must be whole numbers, "
                "0 <= successes <= trials, trials >= 1"
            )
        shares = [float(k) / float(n) for k, n in pairs]
        expected = shares[0] - (shares[1] if len(shares) > 1 else 0.0)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return f"malformed {kind} interval: successes and trials (> 0) are needed"
    if not math.isclose(expected, metric.value, rel_tol=1e-9, abs_tol=1e-12):
        return f"its counts give {expected:g}, not the value {metric.value:g}"
    return None


def _counts(successes: Any, trials: Any) -> bool:
    """Whether two numbers are the whole counts of a share: 0 <= successes <= trials, trials >= 1."""
    numbers = (successes, trials)
    if not all(isinstance(x, int | float | Decimal) and not isinstance(x, bool) for x in numbers):
        return False
    if not all(math.isfinite(x) and float(x).is_integer() for x in numbers):
        return False
    return bool(0 <= successes <= trials and trials >= 1)


Count = Annotated[int, Field(ge=0)]
Association = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]


class ChartCell(Open):
    """One bar: a category, a bin [low, high) or a DCR cell (low, high], and its row counts."""

    label: str
    low: FiniteFloat | None = None
    high: FiniteFloat | None = None
    real: Count | None = None
    synthetic: Count | None = None
    holdout: Count | None = None
    merged: int | None = Field(None, ge=1, description="How many cells `(other)` holds.")

    def counts(self) -> list[int]:
        return [c for c in (self.real, self.synthetic, self.holdout) if c is not None]


class ColumnChart(Open):
    column: str
    type: str
    kind: Literal["numeric", "categorical"]
    cells: list[ChartCell]
    suppressed: bool = Field(
        False, description="The column's rows, all together, fall under the minimum count."
    )


class PairAssociation(Open):
    columns: Annotated[list[str], Field(min_length=2, max_length=2)]
    measure: Literal["pearson", "cramers_v"]
    real: Association | None
    synthetic: Association | None
    difference: Annotated[float, Field(ge=-2, le=2, allow_inf_nan=False)] | None


class Associations(Open):
    method: str
    columns: list[str]
    pairs: list[PairAssociation]


class ColumnDetection(Open):
    column: str
    auc: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Detection(Open):
    method: str
    columns: list[ColumnDetection]


class DcrChart(Open):
    method: str
    cells: list[ChartCell]
    suppressed: bool = False
    n: dict[str, Count] = Field(default_factory=dict)


class Charts(Open):
    """What the release report draws (BRIEF §11.7): aggregates only, written by `evaluate`
    (synthgov/metrics/aggregates.py); no count in 1..min_cell_count-1 anywhere."""

    version: Literal[1]
    min_cell_count: int = Field(ge=1, description="The policy's `charts.min_cell_count`.")
    columns: list[ColumnChart] = Field(default_factory=list)
    associations: Associations | None = None
    detection: Detection | None = None
    dcr: DcrChart | None = None

    @model_validator(mode="after")
    def _no_small_cell(self) -> "Charts":
        tables: list[tuple[tuple[str | int, ...], list[ChartCell]]] = [
            (("columns", i, "cells"), c.cells) for i, c in enumerate(self.columns)
        ]
        if self.dcr is not None:
            tables.append((("dcr", "cells"), self.dcr.cells))
        for where, cells in tables:
            for j, cell in enumerate(cells):
                if any(0 < count < self.min_cell_count for count in cell.counts()):
                    raise FieldError(
                        (*where, j),
                        f"counts fewer than min_cell_count ({self.min_cell_count}) rows; "
                        "a chart cell is 0 or at least that",
                    )
        return self


class Report(Open):
    schema_version: SchemaVersion
    synthgov_version: str
    dataset: Slug
    card_sha256: Sha256
    inputs: Inputs
    config: Config
    metrics: list[Metric]
    seconds: dict[str, FiniteFloat] = Field(default_factory=dict)
    charts: Charts | None = Field(
        None,
        description="The release report's chart aggregates; absent in reports before it.",
    )

    @model_validator(mode="after")
    def _no_duplicate_metrics(self) -> "Report":
        seen: set[tuple[Any, ...]] = set()
        for index, metric in enumerate(self.metrics):
            key = metric_key(metric)
            if key in seen:
                raise FieldError(("metrics", index), f"repeats {metric.id} for the same column(s)")
            seen.add(key)
        return self

    def values(self, metric_id: str) -> list[Metric]:
        return [m for m in self.metrics if m.id == metric_id]


def metric_key(metric: Metric) -> tuple[Any, ...]:
    """Identity of a metric entry: the same id may appear once per column, pair, rule or group."""
    return (
        metric.id,
        metric.column,
        tuple(metric.columns or ()),
        extra(metric, "rule"),
        extra(metric, "group"),
    )


def extra(metric: Metric, name: str) -> Any:
    """A member the contract allows beyond a metric's fields (`interval`, `rule`, `group`),
    or None: what `getattr(metric, name, None)` answers, without the two exceptions a miss
    costs in pydantic (an audit asks a quarter of a million times)."""
    found = metric.__pydantic_extra__
    return found.get(name) if found else None
