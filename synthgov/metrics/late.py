"""The late pass: one read of each real and synthetic partition for the integer work that
`fidelity`, `subgroup` and the report's charts ask of an engine that reads the tables in
partitions.

Three families count the real and synthetic rows under a plan the client fixes from its
whole columns: the chart cells (`aggregates.plan_columns`, counted by
`aggregates.count_cells`), fidelity's numeric x categorical pairs (each table's bin
edges, `fidelity.binning`, counted by `binning.count`) and each subgroup column's groups
(`grouping.grouping`, split by `grouping.sides`). Every plan depends only on the loaded
tables, so `start` makes all of them right after `load` and the engine reads and codes
each partition once for all three (`measure`), instead of once per family and subgroup
column. A family then asks the engine for its plan as before (`measurement.Count`,
`BinCounts`, `GroupSides`); the engine answers from the late pass when the pass made
that very plan (`Plan.charts_are`, `bins_are`, `sides_of`), else with a pass of its own:
the same numbers either way.

Pure: no I/O and no engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synthgov.metrics import aggregates, binning, grouping
from synthgov.metrics.encoding import Tables

if TYPE_CHECKING:
    from synthgov.metrics.measurement import Late
    from synthgov.metrics.tallies import Counts
    from synthgov.models import Card


@dataclass(frozen=True)
class Plan:
    """What the late pass counts: the chart cells of every column, the mixed pairs' bins
    (None: no such pair), and each subgroup column's groups."""

    charts: tuple[aggregates.ColumnPlan, ...]
    bins: binning.Binning | None
    groupings: tuple[grouping.Grouping, ...]

    def charts_are(self, plans: list[aggregates.ColumnPlan]) -> bool:
        return tuple(plans) == self.charts

    def bins_are(self, other: binning.Binning) -> bool:
        mine = self.bins
        if mine is None or mine.pairs != other.pairs or dict(mine.factors) != dict(other.factors):
            return False
        if mine.edges.keys() != other.edges.keys():
            return False
        for role, edges in other.edges.items():
            if mine.edges[role].keys() != edges.keys():
                return False
            if not all(np.array_equal(mine.edges[role][n], e) for n, e in edges.items()):
                return False
        return True

    def sides_of(self, wanted: grouping.Grouping) -> int | None:
        """The position of `wanted` among the planned groupings; None: not planned."""
        for i, planned in enumerate(self.groupings):
            if planned == wanted:
                return i
        return None


@dataclass(frozen=True)
class Found:
    """One partition's answers to a `Plan`: its chart counts, its pairs' counts, and its
    sides per planned grouping (in the plan's order)."""

    counts: aggregates.Counts
    bins: Counts | None
    sides: tuple[grouping.Sides, ...]


def plan(tables: Tables, card: Card) -> Plan:
    """The plans the families will ask for, made as they make them (from the whole tables)."""
    from synthgov.metrics import fidelity, subgroup

    groupings = tuple(
        grouping.grouping(tables[name], subgroup.MAX_VALUE_GROUPS)
        for name in card.subgroup_columns
        if name in tables and len(tables.columns) > 1  # as `subgroup._split` asks
    )
    return Plan(tuple(aggregates.plan_columns(tables)), fidelity.binning(tables), groupings)


def start(tables: Tables, card: Card, late: Late | None) -> None:
    """Plan and start the late pass on the engine that offers one (`late`; None in this
    process, where the families count on the whole tables as before)."""
    if late is not None and tables.columns:
        late(plan(tables, card))


def measure(planned: Plan, tables: Tables, role: str) -> Found:
    """The answers of table `role` of `tables` (a partition whose labels are coded into the
    whole tables' categories, `coded.tables`): what `aggregates.count_cells`,
    `binning.count` and `grouping.sides` give for the plan's parts."""
    return Found(
        aggregates.count_cells(list(planned.charts), tables),
        None if planned.bins is None else binning.count(planned.bins, tables, role),
        tuple(grouping.sides(g, tables, role) for g in planned.groupings),
    )
