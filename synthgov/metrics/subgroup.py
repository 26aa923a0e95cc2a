"""The subgroup family: does the synthetic table serve every group as well as the whole?

For each subgroup column of the card, the rows split into groups: one per category (a
missing value is a group of its own), or, for a numeric column, one per value when it
has at most `MAX_VALUE_GROUPS` values in the real table (values the real table lacks
form one group, `(other)`), else four groups by the real table's quartiles. Per group:

- `subgroup.fidelity`: `fidelity.column_shapes` over the other columns, real group
  against synthetic group;
- `subgroup.utility`: `utility.tstr` on the holdout rows of the group (the models are
  fitted once, on the whole tables).

`subgroup.worst_gap` (per subgroup column) is the largest |group − whole| of the metric
the policy names (`policy.subgroups.metric`). A group with fewer than `min_rows` rows in
the real or (for utility) holdout table is reported with `gated: false` and left out of
the worst gap: its value is noise, not evidence. The synthetic row count never decides
that: a group the generator leaves out scores fidelity 0, the worst gap there is.
When no group of a column qualifies, the column gets no worst gap, and the gate reports
the metric as missing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from synthgov.metrics import fidelity, utility
from synthgov.metrics.encoding import ROLES, Encoded, Tables
from synthgov.metrics.measurement import Allocate, Context, Measurement, estimate, in_memory
from synthgov.models.card import Card, ColumnType
from synthgov.models.policy import SubgroupPolicy

MAX_VALUE_GROUPS = 20
MISSING = "(missing)"
OTHER = "(other)"  # values of a value-grouped column that the real table never has
_METRIC = {"fidelity.column_shapes": "subgroup.fidelity", "utility.tstr": "subgroup.utility"}


@dataclass(frozen=True)
class Group:
    label: str
    masks: dict[str, np.ndarray]  # role -> boolean mask over that table's rows

    def rows(self, role: str) -> int:
        return int(self.masks[role].sum())


def measure(
    tables: Tables, context: Context, card: Card, policy: SubgroupPolicy
) -> list[Measurement]:
    scores = context.memo("utility.scores", lambda: utility.holdout_scores(tables, context, card))
    measurements: list[Measurement] = []
    for name in card.subgroup_columns:
        if name not in tables:
            continue  # the synthetic table lacks it: the schema gate blocks the release
        column = tables[name]
        others = Tables(tuple(c for c in tables if c.name != name), tables.rows)
        whole = {"subgroup.fidelity": _whole_shapes(tables, others, context)}
        if scores is not None:
            whole["subgroup.utility"] = _or_nan(scores.auc("tstr"))
        gaps: list[tuple[float, str]] = []
        found_groups = groups(column, context.allocate)
        split = _split(context, column, found_groups, others)
        for i, group in enumerate(found_groups):
            values = {
                "subgroup.fidelity": _fidelity(others, group)
                if split is None
                else _fidelity_of_sides(others, group, split[i])
            }
            if scores is not None:
                values["subgroup.utility"] = _or_nan(scores.auc("tstr", group.masks["holdout"]))
            for metric, value in values.items():
                if not np.isfinite(value) or not np.isfinite(whole[metric]):
                    continue
                # the synthetic rows never decide the gating: a group the generator drops
                # is the very failure this metric is for
                roles = ("real", "holdout") if metric == "subgroup.utility" else ("real",)
                gated = all(group.rows(r) >= policy.min_rows for r in roles)
                gap = abs(value - whole[metric])
                measurements.append(
                    Measurement(
                        metric,
                        value,
                        column=name,
                        n=group.rows("holdout" if metric == "subgroup.utility" else "synthetic"),
                        method=f"{'column shapes' if metric == 'subgroup.fidelity' else 'TSTR ROC AUC'} within the group",
                        extra={
                            "group": group.label,
                            "whole": whole[metric],
                            "gap": gap,
                            "gated": gated,
                            "rows": {r: group.rows(r) for r in ROLES},
                        },
                    )
                )
                if gated and metric == _METRIC[policy.metric]:
                    gaps.append((gap, group.label))
        if gaps:
            worst, label = max(gaps)
            measurements.append(
                Measurement(
                    "subgroup.worst_gap",
                    worst,
                    column=name,
                    n=len(gaps),
                    method=f"largest |group - whole| of {policy.metric} over groups with at least {policy.min_rows} rows",
                    extra={"metric": policy.metric, "group": label},
                )
            )
        found = shortfalls(
            name,
            others,
            column,
            scores,
            context,
            policy,
            found_groups,
            None if split is None else [real for real, _ in split],
        )
        if not found:
            largest = max(
                (min(g.rows("real"), g.rows("holdout")) for g in found_groups),
                default=0,
            )
            needs = int(np.ceil(policy.min_rows * tables.rows["holdout"] / max(largest, 1)))
            context.inconclusive(
                ("subgroup.shortfall", "subgroup.worst_gap"),
                f"no group of {name} has {policy.min_rows} rows in the real and holdout tables",
                needs,
                column=name,
            )
        measurements += found
    return measurements


def shortfalls(
    name: str,
    others: Tables,
    column: Encoded,
    scores: utility.HoldoutScores | None,
    context: Context,
    policy: SubgroupPolicy,
    found_groups: list[Group] | None = None,
    real_sides: list[dict[str, np.ndarray]] | None = None,
) -> list[Measurement]:
    """`subgroup.shortfall` of every gated group: how much worse the synthetic table serves
    the group than fresh real rows (the holdout) do, on the policy's metric.

    - fidelity: column shapes of the real group against the holdout group, less against
      the synthetic group, both cut to the same number of rows. Small groups have low
      shapes by chance, for the holdout as for an ideal generator: the difference removes
      that, where |group − whole| does not. Its standard error comes from `PERMUTATIONS`
      seeded random splits of the pooled synthetic and holdout group rows (exchangeable
      for an ideal generator).
    - utility: TRTR less TSTR on the group's holdout rows (the same rows score both
      models), with the DeLong standard error of the difference.

    `found_groups`: `groups(column)`, if at hand; `real_sides`: each group's real sides
    (`grouping.sides`), if an engine made them.
    """
    found = []
    rng = context.rng(f"subgroup.shortfall[{name}]")
    if found_groups is None:
        found_groups = groups(column, context.allocate)
    for i, group in enumerate(found_groups):
        if policy.metric == "utility.tstr":
            if scores is None or group.rows("holdout") < policy.min_rows:
                continue
            aucs = scores.aucs(group.masks["holdout"])
            if aucs is None:
                continue
            values, covariance, n = aucs
            if covariance is None:
                continue
            order = list(scores.scores)
            trtr, tstr = order.index("trtr"), order.index("tstr")
            value = float(values[trtr] - values[tstr])
            variance = covariance[trtr, trtr] + covariance[tstr, tstr] - 2 * covariance[trtr, tstr]
            method = "TRTR - TSTR ROC AUC on the group's holdout rows; ci: DeLong, normal"
        else:
            if min(group.rows("real"), group.rows("holdout")) < policy.min_rows:
                continue
            value, variance, n = _fidelity_shortfall(
                others,
                group,
                rng,
                context.allocate,
                None if real_sides is None else real_sides[i],
            )
            method = (
                f"column shapes of the real group against its holdout rows less against its synthetic "
                f"rows; ci: normal, variance from {PERMUTATIONS} seeded splits of the pooled synthetic "
                "and holdout group rows"
            )
        if not np.isfinite(value):
            continue
        found.append(
            estimate(
                "subgroup.shortfall",
                value,
                {"kind": "normal", "se": float(np.sqrt(max(variance, 0.0)))},
                low=-1.0,
                column=name,
                n=n,
                method=method,
                extra={
                    "group": group.label,
                    "metric": policy.metric,
                    "rows": {r: group.rows(r) for r in ROLES},
                },
            )
        )
    return found


#: random splits behind a fidelity shortfall's standard error, and the most pooled rows
#: they use (beyond, the variance is measured on a sample and scaled by its size)
PERMUTATIONS, PERMUTED_ROWS = 40, 4_000


def _fidelity_shortfall(
    others: Tables,
    group: Group,
    rng: np.random.Generator,
    allocate: Allocate = in_memory,
    sides: dict[str, np.ndarray] | None = None,
) -> tuple[float, float, int]:
    """(shapes(real, holdout) − shapes(real, synthetic), its permutation variance, rows).

    Column shapes fall as the compared sample shrinks, so the larger of the group's
    synthetic and holdout rows is cut to the smaller's size by a seeded sample first: a
    large synthetic table would otherwise hide a shortfall and a small one invent one.
    The group's rows are kept in arrays from `allocate` (out of core on a Dask client).
    `sides`: the real group's sides (`grouping.sides`), if an engine made them: its rows
    are then not selected here.
    """
    real = (
        {c.name: _kept(c.real[group.masks["real"]], allocate) for c in others}
        if sides is None
        else {}
    )
    synthetic = {c.name: _kept(c.synthetic[group.masks["synthetic"]], allocate) for c in others}
    holdout = {c.name: _kept(c.holdout[group.masks["holdout"]], allocate) for c in others}
    n_synthetic, n_holdout = group.rows("synthetic"), group.rows("holdout")
    if not n_synthetic:  # the group is missing: shortfall certain
        if sides is not None:
            return _Shapes(others, sides, allocate, sides=True).against(holdout), 0.0, 0
        return _shapes(others, real, holdout), 0.0, 0
    size = min(n_synthetic, n_holdout)
    synthetic = _cut(synthetic, size, rng, allocate)
    holdout = _cut(holdout, size, rng, allocate)
    reference = _Shapes(others, sides or real, allocate, sides=sides is not None)
    del real
    value = reference.against(holdout) - reference.against(synthetic)
    pooled = {k: _kept(np.concatenate([synthetic[k], holdout[k]]), allocate) for k in synthetic}
    del synthetic, holdout
    total = 2 * size
    used = min(total, PERMUTED_ROWS)
    scale = used / total  # a difference of shapes varies as 1/rows
    differences = []
    for _ in range(PERMUTATIONS):
        order = rng.permutation(total)[:used]
        first = {k: v[order[: used // 2]] for k, v in pooled.items()}
        second = {k: v[order[used // 2 :]] for k, v in pooled.items()}
        differences.append(reference.against(second) - reference.against(first))
    variance = float(np.var(differences, ddof=1)) * scale
    return value, variance, size


def _cut(
    values: dict[str, np.ndarray],
    size: int,
    rng: np.random.Generator,
    allocate: Allocate = in_memory,
) -> dict[str, np.ndarray]:
    """`size` seeded rows of a group's columns (all of them when there are no more)."""
    count = len(next(iter(values.values()), []))
    if count <= size:
        return values
    keep = np.sort(rng.choice(count, size=size, replace=False))
    return {k: _kept(v[keep], allocate) for k, v in values.items()}


def _kept(values: np.ndarray, allocate: Allocate) -> np.ndarray:
    """`values` copied into an array from `allocate`: the temporary goes, the copy stays
    out of core where the engine spills."""
    if allocate is in_memory:
        return values
    out = allocate(values.shape, values.dtype)
    out[...] = values
    return out


def _shapes(others: Tables, real: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> float:
    """Column shapes of `real` against `other` (column name -> values), as synthetic."""
    columns = tuple(
        Encoded(c.name, c.type, real[c.name], c.holdout[:0], other[c.name], c.categories)
        for c in others
    )
    rows = {
        "real": len(next(iter(real.values()), [])),
        "holdout": 0,
        "synthetic": len(next(iter(other.values()), [])),
    }
    return fidelity.column_shapes(Tables(columns, rows))


class _Shapes:
    """`_shapes` against one real group, many times: its sorted numeric columns, their
    runs of ties and its category counts are computed once, which 2 + 2 × `PERMUTATIONS`
    comparisons share."""

    def __init__(
        self,
        others: Tables,
        real: dict[str, np.ndarray],
        allocate: Allocate = in_memory,
        *,
        sides: bool = False,
    ) -> None:
        """`sides`: `real` holds the group's sides already (`grouping.sides`), not its rows."""
        self.columns = list(others)
        self.real = {
            c.name: real[c.name]
            if sides
            else _kept(fidelity.ks_side(real[c.name], fidelity.ks_decimals(c)), allocate)
            if c.is_numeric
            else fidelity.category_counts(real[c.name], len(c.categories))
            for c in self.columns
        }
        self.runs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for c in self.columns:
            if c.is_numeric:
                ends, values = fidelity.ks_runs(self.real[c.name])
                self.runs[c.name] = _kept(ends, allocate), _kept(values, allocate)

    def against(self, other: dict[str, np.ndarray]) -> float:
        """`_shapes(others, real, other)`, bit for bit (`fidelity.column_shapes`)."""
        scores = []
        for c in self.columns:
            if c.is_numeric:
                score = fidelity.ks_sorted(
                    self.real[c.name],
                    fidelity.ks_side(other[c.name], fidelity.ks_decimals(c)),
                    self.runs[c.name],
                )
            else:
                score = fidelity.tv_counts(
                    self.real[c.name], fidelity.category_counts(other[c.name], len(c.categories))
                )
            if not np.isnan(score):
                scores.append(score)
        return float(np.mean(scores)) if scores else float("nan")


def groups(column: Encoded, allocate: Allocate = in_memory) -> list[Group]:
    """The groups of a subgroup column, in a stable order (module docstring); the masks
    (a byte per row of each table, per group) in arrays from `allocate`."""
    if not column.is_numeric:
        found = [
            Group(label, {r: _kept(column.table(r) == code, allocate) for r in ROLES})
            for code, label in enumerate(column.categories)
        ]
    else:
        found = _numeric_groups(column, allocate)
    found.append(Group(MISSING, {r: _kept(column.missing(r), allocate) for r in ROLES}))
    return [g for g in found if g.rows("real") or g.rows("synthetic")]


def _numeric_groups(column: Encoded, allocate: Allocate) -> list[Group]:
    real = column.real[~np.isnan(column.real)]
    values = np.unique(real)
    if len(values) <= MAX_VALUE_GROUPS:
        found = [
            Group(_text(v, column.type), {r: _kept(column.table(r) == v, allocate) for r in ROLES})
            for v in values
        ]
        found.append(
            Group(
                OTHER,
                {
                    r: _kept(~np.isin(column.table(r), values) & ~column.missing(r), allocate)
                    for r in ROLES
                },
            )
        )
        return found
    edges = np.unique(np.quantile(real, [0.25, 0.5, 0.75]))
    bounds = [-np.inf, *edges, np.inf]
    return [
        Group(
            _interval(low, high, column.type),
            {
                r: _kept((column.table(r) >= low) & (column.table(r) < high), allocate)
                for r in ROLES
            },
        )
        for low, high in itertools.pairwise(bounds)
    ]


def _text(value: float, kind: ColumnType) -> str:
    """A numeric value as the user wrote it: an ISO date or time, a whole number, a float."""
    if kind is ColumnType.DATE:
        return str(np.datetime64(int(value), "D"))
    if kind is ColumnType.DATETIME:
        return str(np.datetime64(round(value * 1e6), "us")) + "Z"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _interval(low: float, high: float, kind: ColumnType) -> str:
    left = "(-inf" if np.isinf(low) else f"[{_text(low, kind)}"
    right = "inf)" if np.isinf(high) else f"{_text(high, kind)})"
    return f"{left}, {right}"


def _fidelity(others: Tables, group: Group) -> float:
    """Column shapes within the group; 0 when the synthetic table has none of its rows.

    The group's rows are selected one column at a time (`fidelity.column_shapes` scores
    each column alone), so no copy of the group's tables is made."""
    if not others.columns or not group.rows("real"):
        return float("nan")
    if not group.rows("synthetic"):
        return 0.0
    return fidelity.column_shapes(
        Encoded(
            c.name,
            c.type,
            c.real[group.masks["real"]],
            c.holdout,
            c.synthetic[group.masks["synthetic"]],
            c.categories,
        )
        for c in others
    )


def _whole_shapes(tables: Tables, others: Tables, context: Context) -> float:
    """`fidelity.column_shapes(others)`, bit for bit: the mean of the columns' shapes that
    the fidelity family found (`fidelity.SHAPES`, the same `column_shape` of each column,
    in the same order), else measured here (a sort of every numeric column of two
    tables)."""
    found: dict[str, float] = context.memo(f"{fidelity.SHAPES}[{id(tables)}]", dict)
    if not all(c.name in found for c in others):
        return fidelity.column_shapes(others)
    scores = [found[c.name] for c in others if not np.isnan(found[c.name])]
    return float(np.mean(scores)) if scores else float("nan")


def _split(
    context: Context, column: Encoded, found: list[Group], others: Tables
) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] | None:
    """Each group's real and synthetic sides (column name -> `grouping.sides`), made by the
    engine (`Context.group_sides`) where the partitions live; None: no engine does."""
    if context.group_sides is None or not others.columns:
        return None
    from synthgov.metrics.grouping import Sides, grouping

    real, synthetic = context.group_sides(grouping(column, MAX_VALUE_GROUPS))
    kept = [g for g in range(len(real.rows)) if real.rows[g] or synthetic.rows[g]]
    counted = [(int(real.rows[g]), int(synthetic.rows[g])) for g in kept]
    if counted != [(group.rows("real"), group.rows("synthetic")) for group in found]:
        raise ValueError(f"the engine's groups of {column.name} are not the tables' groups")

    def of(side: Sides, g: int) -> dict[str, np.ndarray]:
        return {c.name: side.sides[g, c.name] for c in others if (g, c.name) in side.sides}

    return [(of(real, g), of(synthetic, g)) for g in kept]


def _fidelity_of_sides(
    others: Tables, group: Group, sides: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
) -> float:
    """`_fidelity(others, group)` from the group's sides, bit for bit: the same KS and TV
    complements (`fidelity.column_shape`) of the same sorted values and counts."""
    if not group.rows("real"):
        return float("nan")
    if not group.rows("synthetic"):
        return 0.0
    real, synthetic = sides
    scores = []
    for c in others:
        r, s = real[c.name], synthetic[c.name]
        score = fidelity.ks_sorted(r, s) if c.is_numeric else fidelity.tv_counts(r, s)
        if not np.isnan(score):
            scores.append(score)
    return float(np.mean(scores)) if scores else float("nan")


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
