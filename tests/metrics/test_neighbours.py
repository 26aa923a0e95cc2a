"""The attacks' nearest neighbours reduced from parts of the synthetic table
(`synthgov.metrics.neighbours`) are `gower.nearest`'s bit for bit, however the rows are
split and in whatever order the parts come: a least of leasts, the rows at it added up,
ties and targets without a finite distance settled on the whole table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from synthgov.metrics import gower, neighbours, rows
from synthgov.metrics.encoding import Tables
from tests.helpers.tables import make_tables

SYNTHETIC = 5_000


def _tables() -> tuple[Tables, np.ndarray]:
    """Integers and labels with many ties, a float column, a column of zeros of both signs
    at its extremes, missing values (a target missing `b`, which no synthetic row misses),
    duplicate synthetic rows, and targets that copy synthetic rows; canonical order."""
    rng = np.random.default_rng(4)

    def column(kind: str, n: int) -> list[Any]:
        if kind == "a":
            return [None if rng.random() < 0.05 else int(v) for v in rng.integers(0, 40, n)]
        if kind == "b":
            return [round(float(v), 2) for v in rng.normal(0, 10, n)]
        if kind == "z":
            return [float(v) for v in rng.choice([-0.0, 0.0, 0.25, -0.5], n)]
        return [str(v) for v in rng.choice(["p", "q", "r", "s"], n)]

    names = ("a", "b", "z", "x", "y")
    synthetic = {name: column(name, SYNTHETIC) for name in names}
    real = {name: column(name, 400) for name in names}
    for name in names:
        synthetic[name][100:110] = synthetic[name][0:10]  # duplicates
        real[name][0:30] = synthetic[name][0:30]  # copies of (duplicated) rows
    real["b"][30:40] = [None] * 10
    kinds = {"a": "integer", "b": "number", "z": "number", "x": "categorical", "y": "categorical"}
    made = make_tables(
        {name: (kinds[name], real[name], real[name][:5], synthetic[name]) for name in names}
    )
    canonical, hashes = rows.canonical(made)
    return canonical, hashes["synthetic"]


@pytest.mark.parametrize(
    "columns",
    [["a", "b", "z", "x", "y"], ["a", "x"], ["x", "y"], ["b"], ["z", "y"]],
    ids=["all", "half", "labels", "missing-b", "signed-zeros"],
)
def test_the_reduced_parts_answer_as_gower_nearest_does_however_the_rows_are_split(
    columns: list[str],
) -> None:
    tables, hashes = _tables()
    targets = np.arange(tables.rows["real"])
    expected = gower.nearest(tables, columns, "real", targets)
    extremes = {n: neighbours.extremes(tables, n) for n in columns if tables[n].is_numeric}
    one = neighbours.targets(tables, columns, "real", targets, extremes)
    candidates = np.array(
        [tables[n].synthetic / s for n, s in zip(one.numeric, one.spans, strict=True)]
    )
    candidates = candidates.reshape(len(one.numeric), SYNTHETIC)
    labels = np.array([tables[n].synthetic for n in one.categorical], dtype=np.int32)
    labels = labels.reshape(len(one.categorical), SYNTHETIC)
    settled = []
    for seed in range(3):
        shuffled = np.random.default_rng(seed).permutation(SYNTHETIC)
        parts = np.split(shuffled, [2_100, 2_150, 4_400])  # blocks, scan, blocks, scan
        reduced = neighbours.Neighbours([one])
        for part in parts[:: 1 if seed % 2 else -1]:
            least, reached, index = gower.least(
                np.ascontiguousarray(candidates[:, part]),
                np.ascontiguousarray(labels[:, part]),
                one.queries,
                one.asked,
            )
            picked = np.where(index >= 0, hashes[part][np.maximum(index, 0)], np.uint64(0))
            reduced.add([(least, reached, picked)])
        ((index, distance),) = reduced.answers(tables, hashes)
        assert index.tobytes() == expected[0].tobytes()
        assert distance.tobytes() == expected[1].tobytes()
        settled.append(reduced.settled[0])
    assert settled[0] >= 20  # the copies of duplicated rows tie, whatever the columns
    if columns == ["b"]:
        assert np.isnan(expected[1]).sum() == 10  # no finite distance, settled too


def test_the_targets_spans_are_those_of_gower_over_the_union() -> None:
    tables, _ = _tables()
    targets = np.arange(tables.rows["real"])
    extremes = {n: neighbours.extremes(tables, n) for n in ("a", "b", "z")}
    one = neighbours.targets(tables, ["z", "b", "a"], "real", targets, extremes)
    for name, span in zip(one.numeric, one.spans, strict=True):
        union = np.concatenate([tables[name].synthetic, tables[name].real])
        present = union[~np.isnan(union)]
        assert span == float(present.max() - present.min())
    assert one.numeric == ("a", "b", "z")
