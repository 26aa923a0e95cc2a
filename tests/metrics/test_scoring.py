"""Scoring a table partition by partition (`scoring`, what a Dask worker and the client do)
gives every row the score, the design and the hash the whole table gives it, and the
client puts each at the row's canonical place: the map cannot move a utility score."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthgov.metrics import rows, scoring, utility
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.metrics.features import boosting, tree_design
from synthgov.metrics.measurement import Context, Score
from synthgov.metrics.partitions import Part, encode_part, layout, ordered
from tests.helpers.tables import card_for

CARD = card_for(
    {
        "age": "integer",
        "kind": "categorical",
        "flag": "boolean",
        "x": "number",
        "day": "date",
        "churn": "categorical",
    },
    target={"column": "churn", "positive": "yes"},
)
#: the holdout's partitions: where each one ends
CUTS = [90, 91, 200, 260]


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)

    def frame(n: int, kinds: list[str | None]) -> pd.DataFrame:
        age = rng.integers(18, 90, n)
        return pd.DataFrame(
            {
                "age": pd.Series(age, dtype=object).where(rng.random(n) > 0.1, None),
                "kind": pd.Series(rng.choice(np.array(kinds, dtype=object), n), dtype=object),
                "flag": pd.Series(rng.choice(["true", "false", None], n), dtype=object),
                "x": pd.Series(rng.normal(size=n), dtype=object).where(rng.random(n) > 0.1, None),
                "day": pd.Series([f"2024-03-{d:02d}" for d in rng.integers(1, 29, n)]),
                "churn": pd.Series(np.where(rng.random(n) < age / 120, "yes", "no"), dtype=object),
            }
        )

    holdout = frame(300, ["a", "b", None])
    holdout.loc[210:230, "kind"] = "only-here"  # a category of one partition alone
    # duplicate rows: within a partition, across partitions, and a row three times
    holdout = pd.concat([holdout, holdout.iloc[[5, 5, 120, 250, 95]]], ignore_index=True)
    holdout = holdout.iloc[[*range(0, 95), 300, 301, *range(95, 300), 302, 303, 304]]
    return {
        "real": frame(400, ["a", "b", "c", None]),
        "holdout": holdout.reset_index(drop=True),
        "synthetic": frame(350, ["a", "b", None]),
    }


def _parts(frame: pd.DataFrame) -> list[Part]:
    edges = [0, *CUTS, len(frame)]
    return [
        encode_part(CARD, frame.iloc[a:b].reset_index(drop=True), f"holdout/{i}")
        for i, (a, b) in enumerate(itertools.pairwise(edges))
    ]


def _whole() -> tuple[Tables, dict[str, np.ndarray], list[Part]]:
    frames = _frames()
    tables, _ = encode(CARD, frames, {r: r for r in ROLES})
    canonical, hashes = rows.canonical(tables)
    return canonical, hashes, _parts(frames["holdout"])


def _scored_by_partition(tables: Tables, hashes: np.ndarray, parts: Sequence[Part]) -> Score:
    """A `measurement.Score` that scores each partition alone and places the scores, as
    the Dask engine does, without a cluster."""
    columns = layout(tables)

    def score(role: str, models: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
        assert role == "holdout"
        features = tuple((n, dict(columns)[n]) for n in names)
        out = {name: np.full(len(hashes), np.nan) for name in models}
        for part in parts:
            part, found = ordered(CARD, part, [name for name, _ in columns])
            scores = scoring.predict(list(models.values()), scoring.design(part, features))
            assert scoring.place(hashes, found, scores, list(out.values())) == 0
        return out

    return score


def test_a_partitions_row_hashes_are_its_rows_hashes_in_the_whole_table() -> None:
    tables, hashes, parts = _whole()
    found = [ordered(CARD, part, tables.names)[1] for part in parts]
    assert sum(len(f) for f in found) == tables.rows["holdout"] == 305
    np.testing.assert_array_equal(np.sort(np.concatenate(found)), hashes["holdout"])
    assert len(np.unique(hashes["holdout"])) < len(hashes["holdout"])  # duplicates there


def test_a_partitions_design_placed_by_its_hashes_is_the_whole_tables_tree_design() -> None:
    tables, hashes, parts = _whole()
    features = [c for c in tables if c.name != "churn"]
    kinds = dict(layout(tables))
    expected = tree_design(features, "holdout")
    placed = [np.full(len(expected), -7.0) for _ in features]  # no row unplaced
    for part in parts:
        part, found = ordered(CARD, part, tables.names)
        design = scoring.design(part, tuple((c.name, kinds[c.name]) for c in features))
        assert design.dtype == np.float64 and design.shape[1] == len(features)
        assert scoring.place(hashes["holdout"], found, design.T, placed) == 0
    np.testing.assert_array_equal(np.column_stack(placed), expected)  # NaN where NaN
    kind = features[[c.name for c in features].index("kind")]
    assert "only-here" in kind.categories and np.isnan(expected).any()


def test_utility_scored_partition_by_partition_is_the_whole_holdouts_bit_for_bit() -> None:
    tables, hashes, parts = _whole()
    alone = utility.holdout_scores(tables, Context(seed=4, sample=200), CARD)
    mapped = utility.holdout_scores(
        tables,
        Context(seed=4, sample=200, score=_scored_by_partition(tables, hashes["holdout"], parts)),
        CARD,
    )
    assert alone is not None and mapped is not None
    for name in utility.TRAINED_ON:
        assert alone.scores[name].tobytes() == mapped.scores[name].tobytes(), name
        assert len(np.unique(alone.scores[name])) > 10  # fitted, not constant
    assert alone.aucs() is not None
    assert utility.measure(tables, Context(seed=4, sample=200), CARD) == utility.measure(
        tables,
        Context(seed=4, sample=200, score=_scored_by_partition(tables, hashes["holdout"], parts)),
        CARD,
    )


def test_rows_are_placed_at_every_place_of_their_hash_and_strangers_counted() -> None:
    canonical = np.array([3, 5, 5, 9], dtype=np.uint64)

    def placed(found: list[int], scores: list[float]) -> tuple[int, list[float]]:
        into = [np.zeros(4)]
        missing = scoring.place(
            canonical, np.array(found, dtype=np.uint64), np.array([scores]), into
        )
        return missing, into[0].tolist()

    assert placed([9, 3], [1.0, 2.0]) == (0, [2.0, 0.0, 0.0, 1.0])  # one place each
    assert placed([5, 4, 9], [1.0, 2.0, 3.0]) == (1, [0.0, 1.0, 1.0, 3.0])  # a run of two
    assert placed([10, 1, 3], [1.0, 2.0, 3.0]) == (2, [3.0, 0.0, 0.0, 0.0])  # past both ends
    assert scoring.place(np.empty(0, np.uint64), canonical, np.zeros((1, 4)), [np.empty(0)]) == 4


def test_a_model_fitted_once_scores_any_slicing_of_the_rows_alike() -> None:
    tables, _, _ = _whole()
    features = [c for c in tables if c.name != "churn"]
    y = tables["churn"].real == tables["churn"].categories.index("yes")
    model = boosting(features, 1).fit(tree_design(features, "real"), y)
    design = tree_design(features, "holdout")
    whole = scoring.predict([model], design)[0]
    pieces = np.concatenate(
        [
            scoring.predict([model], design[a:b])[0]
            for a, b in itertools.pairwise([0, 1, 77, 78, 305])
        ]
    )
    assert whole.tobytes() == pieces.tobytes()


def test_many_equal_rows_are_placed_without_a_temporary_per_pair_of_twins() -> None:
    """A table of coarse columns holds few distinct rows, each many times: a partition's
    rows of one hash are one row to place (equal rows, equal scores), written at each of
    the hash's places once, a bounded piece at a time. Placing each of them at each of the
    hash's places made temporaries of (rows of the partition) x (rows of the table): at 1M
    holdout rows of 32 distinct rows in 10 partitions, 3e9 positions, 25 GB on the client."""
    import tracemalloc

    twins = 3_000
    canonical = np.repeat(np.array([4, 7], dtype=np.uint64), [twins, 1])
    found = np.repeat(np.array([4, 7, 8], dtype=np.uint64), [twins, 1, 2])
    scores = np.vstack([np.repeat([0.25, 0.5, 0.75], [twins, 1, 2])] * 2)
    into = [np.zeros(len(canonical)), np.zeros(len(canonical))]
    tracemalloc.start()
    try:
        strangers = scoring.place(canonical, found, scores, into)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert strangers == 2  # the two rows of hash 8, which the table does not hold
    for placed in into:
        assert placed.tolist() == [0.25] * twins + [0.5]
    assert peak < 40 * twins * 8  # a few arrays of the partition's size; not twins**2
