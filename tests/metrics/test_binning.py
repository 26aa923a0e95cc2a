"""The numeric x categorical pairs' counts (`binning`) add up from any split of the rows,
in any order, to what fidelity measures from the whole columns, bit for bit: the map and
reduce behind `Dask.bin_counts`, without a cluster."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from synthgov.metrics import binning, fidelity
from synthgov.metrics.binning import Binning
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.metrics.measurement import Context
from synthgov.metrics.tallies import Totals
from tests.helpers.tables import card_for

CARD = card_for(
    {"x": "number", "when": "date", "same": "number", "kind": "categorical", "flag": "boolean"}
)


def _tables(rows: int = 600) -> Tables:
    frames = {}
    for seed, role in enumerate(ROLES):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame(
            {
                "x": np.round(rng.normal(size=rows) * (1 + seed), 1),
                "when": pd.Series(
                    pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 400, rows), "D")
                ).dt.strftime("%Y-%m-%d"),
                "same": np.full(rows, -1.0),
                "kind": rng.choice(["a", "b", "c", f"only-{role}"], rows, p=[0.4, 0.3, 0.28, 0.02]),
                "flag": rng.choice(["true", "false"], rows),
            }
        ).astype(object)
        for column in frame.columns:
            frame.loc[rng.random(rows) < 0.07, column] = None
        frames[role] = frame
    tables, _ = encode(CARD, frames, {role: role for role in ROLES})
    return tables


def _split(tables: Tables, parts: int, seed: int) -> Callable[[Binning], dict[str, Totals]]:
    """`Context.bin_counts` over `parts` random pieces of each table, counted in a random order."""
    categories = {c.name: tuple(c.categories) for c in tables.categorical}

    def counted(found: Binning) -> dict[str, Totals]:
        rng = np.random.default_rng(seed)
        out = {}
        for role in ("real", "synthetic"):
            pieces = np.array_split(rng.permutation(tables.rows[role]), parts)
            counts = [binning.count(found, tables.select(role, p), role) for p in pieces]
            out[role] = binning.add(counts[::-1], categories)
        return out

    return counted


@pytest.mark.parametrize(("parts", "seed"), [(1, 0), (3, 1), (7, 2)])
def test_pair_trends_from_added_up_bin_counts_equal_the_whole_columns(
    parts: int, seed: int
) -> None:
    tables = _tables()
    expected = [m.as_json() for m in fidelity.measure(tables, Context(seed=1))]
    found = fidelity.measure(tables, Context(seed=1, bin_counts=_split(tables, parts, seed)))
    assert [m.as_json() for m in found] == expected
    trends = next(m for m in expected if m["id"] == "fidelity.column_pair_trends")
    assert trends["pairs"] >= 6  # the six binned pairs are scored, not skipped
    assert 0.0 < trends["value"] < 1.0


def test_a_partition_bins_its_values_by_the_whole_tables_edges() -> None:
    tables = _tables()
    column = tables["x"]
    edges = fidelity.pair_edges(column.real)
    assert edges is not None
    found = Binning({"real": {"x": edges}, "synthetic": {}}, {"x": 1.0}, (("x", "kind"),))
    # the first rows alone: their own range is narrower, their bins those of the whole table
    counts = binning.count(found, tables.select("real", np.arange(20)), "real")
    bins = np.digitize(column.real[:20], edges)
    assert counts.labels["x"][1].tolist() == np.bincount(bins, minlength=12).tolist()
    assert (
        counts.labels["x"][1][11]
        == np.isnan(column.real[:20]).sum() + (column.real[:20] == np.nanmax(column.real)).sum()
    )
