"""Privacy's DCR searches: one pass per reference table, every query set against it in one
search, started right after the tables are loaded; the distances the same bits as a search
of each set alone.

The evaluation runs through an engine of our own (the in-process engine, whose `Search`
records each call and runs the real kernel on the real tables), so the number of passes
is counted where a distributed engine would be asked for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthgov.examples import write_release_tables
from synthgov.files.governance import load_bytes
from synthgov.metrics import blocks, distance, privacy
from synthgov.metrics.encoding import ROLES, Tables
from synthgov.metrics.engine import InProcess, Loaded
from synthgov.metrics.evaluation import InputPaths, Settings, evaluate
from synthgov.metrics.measurement import Context, Done, Pending
from synthgov.models import Card
from tests.helpers.tables import make_tables

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
#: rows per table: enough for the kernel's block search (`blocks.MIN_ROWS`) on train
ROWS = 2500


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = write_release_tables(tmp_path_factory.mktemp("claims"), rows=ROWS)
    return {"real": made["train"], "holdout": made["holdout"], "synthetic": made["honest"]}


@pytest.fixture(scope="module")
def card() -> Card:
    return load_bytes(CARD.read_bytes(), str(CARD), Card).model


@pytest.fixture(scope="module")
def tables(card: Card, claims: dict[str, Path]) -> Tables:
    return InProcess().load(card, claims).tables


@dataclass
class Recording:
    """An in-process engine whose `Search` records what it is asked, and the evaluation's
    step at that moment, and runs the real kernel on each set."""

    steps: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def load(self, card: Card, locations: Mapping[str, Path | str]) -> Loaded:
        loaded = InProcess().load(card, locations)
        tables = loaded.tables

        def search(
            sets: Sequence[np.ndarray], role: str, numeric: np.ndarray, scale: np.ndarray
        ) -> Pending[list[np.ndarray]]:
            self.calls.append({"role": role, "sets": len(sets), "step": self.steps[-1]})
            reference = distance.matrix(tables, role)
            return Done([distance.dcr(q, reference, numeric, scale) for q in sets])

        return replace(loaded, search=search)

    def close(self) -> None:
        return None


def test_privacy_searches_each_reference_table_once_started_before_the_other_families(
    card: Card, claims: dict[str, Path]
) -> None:
    """Five query sets, three passes (train: the synthetic queries, the random baseline
    and the holdout rows; holdout; synthetic: the attack's records), all asked for before
    the first family runs, and the report the in-process one bit for bit."""
    raw = CARD.read_bytes()
    paths = InputPaths(CARD, claims["real"], claims["holdout"], claims["synthetic"])
    settings = Settings(sample=400, timings=False)
    alone = evaluate(card, raw, paths, settings)
    engine = Recording()
    recorded = evaluate(card, raw, paths, settings, engine.steps.append, engine)
    assert [(c["role"], c["sets"]) for c in engine.calls] == [
        ("real", 3),
        ("holdout", 1),
        ("synthetic", 1),
    ]
    assert {c["step"] for c in engine.calls} == {"read"}  # before schema, fidelity, …
    assert recorded == alone
    found = {m["id"]: m for m in recorded["metrics"]}
    assert "privacy.dcr_baseline_protection" in found  # the baseline set was searched
    assert recorded["config"]["sample_sizes"]["privacy.dcr"] == 400


def test_a_batched_search_equals_each_set_searched_alone_bit_for_bit(tables: Tables) -> None:
    """The kernel on the sets one after another gives each query the distance it gets in
    its own search: its pruning is per query, whatever the other queries are. The sets
    mix what prunes well (synthetic rows) and what prunes badly (the random baseline, far
    rows), copies of train rows (ties at 0, and the same row twice), and missing cells."""
    assert tables.rows["real"] >= blocks.MIN_ROWS  # the block search, not the plain scan
    numeric = distance.numeric_mask(tables)
    reference = distance.matrix(tables, "real")
    scale = distance.ranges(reference, numeric)
    rng = np.random.default_rng(5)
    honest = distance.matrix(tables, "synthetic", np.sort(rng.choice(ROWS, 700, replace=False)))
    noise = privacy.random_table(tables, 700, rng)
    copies = reference[np.concatenate([np.arange(0, 300), np.arange(0, 50)])]
    fresh = distance.matrix(tables, "holdout", np.arange(400))
    holed = fresh.copy()
    holed[::3, numeric] = np.nan  # missing numbers ...
    holed[1::3, ~numeric] = -1.0  # ... and missing labels
    blank = honest[:300].copy()
    blank[:, ~numeric] = -1.0  # every label missing: no block can be ruled out
    sets = [honest, noise, copies, fresh, holed, blank]
    assert np.isnan(np.concatenate(sets)).any()
    alone = [distance.dcr(q, reference, numeric, scale) for q in sets]
    together = np.split(
        distance.dcr(np.concatenate(sets), reference, numeric, scale),
        np.cumsum([len(q) for q in sets])[:-1],
    )
    for one, batched in zip(alone, together, strict=True):
        assert one.tobytes() == batched.tobytes()
    assert np.count_nonzero(alone[2] == 0.0) == len(copies)  # the copies tie at 0
    # alone, the blank rows make the kernel scan plainly (its probe sums most pairs); in
    # the batch they are searched block by block with the others: other paths, same bits
    assert _share_summed(blank, reference, numeric, scale) > distance.PLAIN_SHARE
    assert _share_summed(np.concatenate(sets), reference, numeric, scale) < distance.PLAIN_SHARE


def _share_summed(
    queries: np.ndarray, reference: np.ndarray, numeric: np.ndarray, scale: np.ndarray
) -> float:
    """The share of (query, reference row) pairs the kernel's search sums."""
    kinds = np.where(numeric, np.where(scale > 0, 1, 2), 0).astype(np.int64)
    best = np.full(len(queries), np.inf)
    columns = np.ascontiguousarray(reference.T)
    summed = distance.search(np.ascontiguousarray(queries), columns, kinds, scale, best)
    return summed / (len(queries) * len(reference))


def test_the_train_ranges_of_every_search_are_the_kernels_own() -> None:
    """The two train searches that leave the ranges to the kernel (`dcr(..., None)` in
    process) and the one given `Matrix.ranges` share one pass: the same bits, with missing
    values and a constant column (range 0)."""
    tables = make_tables(
        {
            "x": ("number", [0.1, None, 7.3, -2.25], [1.0, 2.0], [0.5, None]),
            "same": ("number", [4.0, 4.0, None, 4.0], [4.0, 1.0], [4.0, 4.0]),
            "label": ("categorical", ["a", "b", None, "a"], ["b", "c"], ["a", None]),
        }
    )
    numeric = distance.numeric_mask(tables)
    reference = distance.matrix(tables, "real")
    kernel = distance.ranges(reference, numeric)
    assert distance.Matrix(tables, "real").ranges(numeric).tobytes() == kernel.tobytes()
    queries = distance.matrix(tables, "synthetic")
    given = distance.dcr(
        queries, reference, numeric, distance.Matrix(tables, "real").ranges(numeric)
    )
    assert given.tobytes() == distance.dcr(queries, reference, numeric, None).tobytes()


def test_start_without_an_engine_search_draws_and_searches_nothing(tables: Tables) -> None:
    """In this process `start` leaves everything to `measure`, as before: nothing is drawn,
    recorded or searched ahead of the privacy family."""
    context = Context(seed=3, sample=200)
    privacy.start(tables, context)
    assert context.sample_sizes == {}
    assert context.memo("privacy.dcr_passes", lambda: None) is None
    for role in ROLES:
        assert tables.rows[role] == ROWS
