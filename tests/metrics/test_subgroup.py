"""Subgroup gaps on tiny hand-computed tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from synthgov.metrics import subgroup
from synthgov.metrics.measurement import Context, Measurement
from synthgov.models.card import ColumnType
from synthgov.models.policy import SubgroupPolicy
from tests.helpers.tables import Spec, card_for, make_tables

N, C = ColumnType.NUMBER, ColumnType.CATEGORICAL
COLUMNS: dict[str, Spec] = {
    "g": (C, ["a", "a", "b", "b"], ["a", "b"], ["a", "a", "b", "b"]),
    "x": (N, [1, 2, 3, 4], [1, 3], [1, 2, 10, 11]),
}


def _measure(min_rows: int) -> list[Measurement]:
    tables = make_tables(COLUMNS)
    card = card_for({"g": C, "x": N}, subgroup_columns=["g"])
    return subgroup.measure(tables, Context(), card, SubgroupPolicy(min_rows=min_rows))


def test_per_group_fidelity_and_the_worst_gap() -> None:
    found = _measure(min_rows=1)
    groups = {m.extra["group"]: m for m in found if m.id == "subgroup.fidelity"}
    # x over all rows: F_R and F_S differ most at 4 (1.0 vs 0.5), KS complement 0.5.
    # group a: {1, 2} vs {1, 2} -> 1.0 (gap 0.5); group b: {3, 4} vs {10, 11} -> 0.0 (gap 0.5)
    assert groups["a"].value == 1.0 and groups["b"].value == 0.0
    assert groups["a"].extra["whole"] == 0.5 and groups["b"].extra["gap"] == 0.5
    assert groups["a"].extra["rows"] == {"real": 2, "holdout": 1, "synthetic": 2}
    assert "(missing)" not in groups  # no row has a missing g
    [worst] = [m for m in found if m.id == "subgroup.worst_gap"]
    assert (worst.column, worst.value, worst.n) == ("g", 0.5, 2)
    assert worst.extra["metric"] == "fidelity.column_shapes"
    assert not [m for m in found if m.id == "subgroup.utility"]  # the card has no target


def test_a_group_the_generator_leaves_out_is_the_worst_gap() -> None:
    columns: dict[str, Spec] = {
        "g": (C, ["a", "a", "b", "b"], ["a", "b"], ["a", "a", "a", "a"]),
        "x": (N, [1, 2, 3, 4], [1, 3], [1, 2, 1, 2]),
    }
    card = card_for({"g": C, "x": N}, subgroup_columns=["g"])
    found = subgroup.measure(make_tables(columns), Context(), card, SubgroupPolicy(min_rows=2))
    groups = {m.extra["group"]: m for m in found if m.id == "subgroup.fidelity"}
    assert groups["b"].value == 0.0 and groups["b"].extra["gated"]
    [worst] = [m for m in found if m.id == "subgroup.worst_gap"]
    # whole: real {1,2,3,4} vs synthetic {1,2,1,2}: D = 0.5 at 2, so 0.5; group b: 0 -> gap 0.5
    assert (worst.value, worst.extra["group"]) == (0.5, "b")


def test_small_groups_are_reported_but_not_gated() -> None:
    found = _measure(min_rows=3)
    groups = [m for m in found if m.id == "subgroup.fidelity"]
    assert len(groups) == 2 and not any(m.extra["gated"] for m in groups)
    assert not [m for m in found if m.id == "subgroup.worst_gap"]


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([1.0, 2.0, 2.0, None], ["1", "2", "(missing)"]),
        ([1234567, 1234568, 0.5], ["0.5", "1234567", "1234568"]),
        (
            [float(v) for v in range(40)],
            ["(-inf, 9.75)", "[9.75, 19.5)", "[19.5, 29.25)", "[29.25, inf)"],
        ),
    ],
)
def test_numeric_subgroup_columns_group_by_value_or_quartile(
    values: list[Any], labels: list[str]
) -> None:
    tables = make_tables({"n": (N, values, values[:2], values)})
    assert [g.label for g in subgroup.groups(tables["n"])] == labels


def test_date_groups_are_labelled_as_dates_and_unseen_values_form_other() -> None:
    real, synthetic = ["2024-01-01", "2024-01-02"], ["2024-01-01", "2024-03-01"]
    tables = make_tables({"d": (ColumnType.DATE, real, real, synthetic)})
    found = {g.label: g.rows("synthetic") for g in subgroup.groups(tables["d"])}
    assert found == {"2024-01-01": 1, "2024-01-02": 0, "(other)": 1}


def test_the_shortfall_is_against_the_holdout_group_and_a_dropped_group_falls_short_in_full() -> (
    None
):
    # group a: real {1, 2}, holdout {1, 2}, synthetic {1, 2}: 1.0 - 1.0 = 0
    # group b: real {3, 4}, holdout {3, 4}, synthetic {10, 11}: 1.0 - 0.0 = 1
    columns: dict[str, Spec] = {
        "g": (C, ["a", "a", "b", "b"], ["a", "a", "b", "b"], ["a", "a", "b", "b"]),
        "x": (N, [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 10, 11]),
    }
    card = card_for({"g": C, "x": N}, subgroup_columns=["g"])
    measured = subgroup.measure(make_tables(columns), Context(), card, SubgroupPolicy(min_rows=1))
    found = {m.extra["group"]: m for m in measured if m.id == "subgroup.shortfall"}
    assert (found["a"].value, found["b"].value) == (0.0, 1.0)
    assert found["b"].interval is not None and found["b"].interval["kind"] == "normal"
    assert found["b"].column == "g" and found["b"].extra["metric"] == "fidelity.column_shapes"
    # the generator drops group b altogether: no synthetic row to compare, the whole shape short
    dropped = {
        **columns,
        "g": (C, ["a", "a", "b", "b"], ["a", "a", "b", "b"], ["a", "a", "a", "a"]),
    }
    measured = subgroup.measure(make_tables(dropped), Context(), card, SubgroupPolicy(min_rows=1))
    [b] = [m for m in measured if m.id == "subgroup.shortfall" and m.extra["group"] == "b"]
    assert b.value == 1.0 and b.interval == {"kind": "normal", "se": 0.0}


def test_the_shortfall_compares_equal_numbers_of_synthetic_and_holdout_rows() -> None:
    """A group's shapes fall with its size: 1,000 synthetic rows against 40 holdout rows of
    the same distribution must not look better served than fresh data."""
    rng = np.random.default_rng(1)
    real, holdout, synthetic = (list(rng.normal(size=n)) for n in (200, 40, 1000))
    columns: dict[str, Spec] = {
        "g": (C, ["a"] * 200, ["a"] * 40, ["a"] * 1000),
        "x": (N, real, holdout, synthetic),
    }
    card = card_for({"g": C, "x": N}, subgroup_columns=["g"])
    measured = subgroup.measure(make_tables(columns), Context(), card, SubgroupPolicy(min_rows=30))
    [shortfall] = [m for m in measured if m.id == "subgroup.shortfall"]
    assert shortfall.n == 40
    assert shortfall.ci is not None
    assert shortfall.ci[0] < 0 < shortfall.ci[1]


def test_a_subgroup_column_without_a_group_big_enough_is_inconclusive_with_the_rows_needed() -> (
    None
):
    context = Context()
    tables = make_tables(COLUMNS)
    card = card_for({"g": C, "x": N}, subgroup_columns=["g"])
    found = subgroup.measure(tables, context, card, SubgroupPolicy(min_rows=30))
    assert not [m for m in found if m.id == "subgroup.shortfall"]
    notes = {note["id"]: note for note in context.undecided}
    assert set(notes) == {"subgroup.shortfall", "subgroup.worst_gap"}
    # the largest group has 1 holdout row: 30 of them take about 30 x 2 holdout rows
    assert notes["subgroup.shortfall"]["needs_rows"] == 60
    assert (
        notes["subgroup.shortfall"]["column"] == "g"
        and "30 rows" in notes["subgroup.shortfall"]["reason"]
    )
