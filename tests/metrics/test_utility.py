"""Utility metrics: TSTR/TRTR known answers, the positive label, unseen values, reuse by subgroup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from synthgov.metrics import utility
from synthgov.metrics.encoding import Tables
from synthgov.metrics.measurement import Context, Measurement
from synthgov.metrics.utility import MEMO, HoldoutScores, holdout_scores, measure, tstr_auc
from synthgov.models.card import Card
from tests.helpers.tables import card_for, make_tables

TARGET = {"column": "y", "positive": "yes"}


def _case(
    n: int = 300,
    seed: int = 0,
    synthetic_labels: str = "faithful",
    continuous: bool = False,
    **overrides: Any,
) -> tuple[Tables, Card]:
    """x decides y (y = yes iff x > 0) in every table unless `synthetic_labels` says otherwise.

    x takes six values, each its own bin of the model, so one split separates the classes;
    `continuous` x is normal instead (a rare value may then share a bin across 0).
    """
    rng = np.random.default_rng(seed)
    roles = ("real", "holdout", "synthetic")
    six = [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0]
    x = {role: rng.normal(size=n) if continuous else rng.choice(six, n) for role in roles}
    c = {role: rng.choice(["p", "q"], n).tolist() for role in x}
    y = {role: np.where(x[role] > 0, "yes", "no").tolist() for role in x}
    if synthetic_labels == "random":
        y["synthetic"] = rng.choice(["yes", "no"], n).tolist()
    elif synthetic_labels == "single":
        y["synthetic"] = ["no"] * n
    columns: dict[str, Any] = {
        "x": ("number", x["real"].tolist(), x["holdout"].tolist(), x["synthetic"].tolist()),
        "c": ("categorical", c["real"], c["holdout"], c["synthetic"]),
        "y": ("categorical", y["real"], y["holdout"], y["synthetic"]),
    }
    columns.update(overrides)
    types = {name: spec[0] for name, spec in columns.items()}
    return make_tables(columns), card_for(types, target=TARGET)


def _by_id(measurements: list[Measurement]) -> dict[str, Measurement]:
    return {m.id: m for m in measurements}


def test_target_decided_by_a_column_gives_tstr_trtr_one() -> None:
    tables, card = _case()
    found = _by_id(measure(tables, Context(seed=1), card))
    assert found["utility.tstr"].value == 1.0
    assert found["utility.trtr"].value == 1.0
    assert found["utility.tstr_trtr_ratio"].value == 1.0
    assert found["utility.tstr"].n == 300
    assert found["utility.tstr"].extra == {"train_rows": 300}


def test_random_synthetic_labels_give_chance_tstr() -> None:
    tables, card = _case(n=600, synthetic_labels="random", continuous=True)
    found = _by_id(measure(tables, Context(seed=2), card))
    tstr, trtr, ratio = (found[f"utility.{k}"] for k in ("tstr", "trtr", "tstr_trtr_ratio"))
    assert abs(tstr.value - 0.5) < 0.15  # the model fits noise: about ±0.07 over data seeds
    assert trtr.value > 0.99
    for m in (tstr, trtr, ratio):
        assert m.ci is not None and m.ci[0] <= m.value <= m.ci[1]
    assert tstr.ci is not None and tstr.ci[1] - tstr.ci[0] > 0.05  # DeLong: about ±0.046 at n=600


def test_single_class_synthetic_target_is_a_constant_scorer() -> None:
    tables, card = _case(synthetic_labels="single")
    found = _by_id(measure(tables, Context(seed=3), card))
    assert found["utility.tstr"].value == 0.5  # every holdout row gets the same score
    assert found["utility.tstr_trtr_ratio"].value == 0.5 / found["utility.trtr"].value


def test_unseen_holdout_category_and_missing_features_do_not_crash() -> None:
    n = 300
    tables, card = _case(
        n=n,
        c=("categorical", ["p", "q"] * (n // 2), ["new", None] * (n // 2), ["p", "q"] * (n // 2)),
    )
    found = _by_id(measure(tables, Context(seed=4), card))
    assert found["utility.tstr"].value == 1.0  # x still decides y


def test_positive_label_is_pinned_whatever_its_sort_order() -> None:
    # "no" sorts first; with it as the positive class a good model still scores AUC 1.
    tables, _ = _case()
    card = card_for(
        {"x": "number", "c": "categorical", "y": "categorical"},
        target={"column": "y", "positive": "no"},
    )
    assert _by_id(measure(tables, Context(seed=5), card))["utility.tstr"].value == 1.0


def test_numeric_and_boolean_targets() -> None:
    x = [-2.0, -1.0, 1.0, 2.0] * 10
    ints = [0, 0, 1, 1] * 10
    for kind, labels, positive in (("integer", ints, 1), ("boolean", [v == 1 for v in ints], True)):
        tables = make_tables({"x": ("number", x, x, x), "y": (kind, labels, labels, labels)})
        card = card_for({"x": "number", "y": kind}, target={"column": "y", "positive": positive})
        assert _by_id(measure(tables, Context(), card))["utility.trtr"].value == 1.0


def test_missing_targets_are_dropped_and_counted() -> None:
    n = 300
    rng = np.random.default_rng(0)
    x = {role: rng.choice([-2.0, -1.0, 1.0, 2.0], n) for role in ("real", "holdout", "synthetic")}
    y = {
        role: [None if i < 10 else ("yes" if v > 0 else "no") for i, v in enumerate(x[role])]
        for role in x
    }
    tables = make_tables(
        {
            "x": ("number", x["real"].tolist(), x["holdout"].tolist(), x["synthetic"].tolist()),
            "y": ("categorical", y["real"], y["holdout"], y["synthetic"]),
        }
    )
    card = card_for({"x": "number", "y": "categorical"}, target=TARGET)
    context = Context(seed=6)
    found = _by_id(measure(tables, context, card))
    assert found["utility.tstr"].n == n - 10
    assert found["utility.tstr"].extra == {
        "train_rows": n - 10,
        "missing_target": {"synthetic": 10, "holdout": 10},
    }
    assert found["utility.trtr"].extra["missing_target"] == {"real": 10, "holdout": 10}
    assert context.sample_sizes == {
        "utility.tstr": n - 10,
        "utility.trtr": n - 10,
        "utility.holdout": n - 10,
    }


@pytest.mark.parametrize(
    ("card_fields", "holdout_y"),
    [
        ({}, None),
        ({"target": TARGET}, ["no"] * 300),
        ({"target": {"column": "y", "positive": "maybe"}}, None),
    ],
    ids=["no target", "holdout of one class", "positive label never seen"],
)
def test_undefined_utility_gives_no_metric(
    card_fields: dict[str, Any], holdout_y: list[str] | None
) -> None:
    tables, _ = (
        _case()
        if holdout_y is None
        else _case(y=("categorical", ["yes", "no"] * 150, holdout_y, ["yes", "no"] * 150))
    )
    card = card_for({"x": "number", "c": "categorical", "y": "categorical"}, **card_fields)
    assert measure(tables, Context(), card) == []


def test_target_as_the_only_column_gives_no_metric() -> None:
    tables = make_tables({"y": ("categorical", ["yes", "no"], ["yes", "no"], ["yes", "no"])})
    assert measure(tables, Context(), card_for({"y": "categorical"}, target=TARGET)) == []


def test_holdout_scores_serve_any_subset_without_refitting() -> None:
    tables, card = _case(n=400, synthetic_labels="random", seed=7)
    scores = holdout_scores(tables, Context(seed=7), card)
    assert scores is not None
    whole = _by_id(measure(tables, Context(seed=7), card))["utility.tstr"].value
    assert scores.auc("tstr") == whole == tstr_auc(tables, Context(seed=7), card)
    group = np.asarray(tables["c"].holdout) == tables["c"].categories.index("p")
    expected = roc_auc_score(scores.target[group] == 1.0, scores.scores["tstr"][group])
    assert scores.auc("tstr", group) == pytest.approx(expected, abs=1e-12)
    assert tstr_auc(tables, Context(seed=7), card, np.flatnonzero(group)) == scores.auc(
        "tstr", group
    )
    one_class = np.flatnonzero(scores.target == 1.0)
    assert scores.auc("tstr", one_class) is None


def test_sample_caps_training_rows_and_seed_fixes_values() -> None:
    tables, card = _case(n=300, synthetic_labels="random")
    context = Context(seed=8, sample=100)
    first = [m.as_json() for m in measure(tables, context, card)]
    assert first[0]["train_rows"] == first[1]["train_rows"] == 100
    assert context.sample_sizes["utility.tstr"] == 100
    assert first == [m.as_json() for m in measure(tables, Context(seed=8, sample=100), card)]


def test_measure_leaves_the_fitted_scores_for_the_subgroup_family() -> None:
    tables, card = _case()
    context = Context(seed=9)
    tstr = _by_id(measure(tables, context, card))["utility.tstr"].value

    def refit() -> HoldoutScores | None:
        raise AssertionError("the models were fitted again")

    scores = context.memo(MEMO, refit)
    assert scores is not None and scores.auc("tstr") == tstr


def test_the_holdout_scored_in_slices_gets_the_scores_of_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The holdout is scored `PREDICT_ROWS` rows at a time (the design of the whole
    holdout grew with the table on an out-of-core client): each row's score is its own,
    so slices that do not divide the rows give the bits of a single pass."""
    tables, card = _case(n=500, synthetic_labels="random", seed=3, continuous=True)
    one_pass = holdout_scores(tables, Context(seed=3), card)
    monkeypatch.setattr(utility, "PREDICT_ROWS", 37)
    sliced = holdout_scores(tables, Context(seed=3), card)
    assert one_pass is not None and sliced is not None
    for name in ("tstr", "trtr"):
        assert sliced.scores[name].tobytes() == one_pass.scores[name].tobytes()
        assert len(np.unique(sliced.scores[name])) > 2  # scores that could differ


def test_one_models_auc_of_a_subset_is_the_bits_of_both_models_aucs() -> None:
    """A subgroup asks `HoldoutScores.auc` for the TSTR AUC of each group, which ranks one
    model's scores and skips DeLong's covariance; it must give the bits `aucs` gives,
    ties, missing targets and subsets included."""
    rng = np.random.default_rng(4)
    for size in (3, 50, 4_000):
        target = (rng.random(size) < 0.3).astype(np.float64)
        target[rng.random(size) < 0.1] = np.nan
        scores = {
            "tstr": np.round(rng.random(size), 2),  # rounded: many ties
            "trtr": rng.random(size),
        }
        found = HoldoutScores(target, scores, {}, {}, "model", "yes")
        for rows in (None, rng.random(size) < 0.5, np.flatnonzero(rng.random(size) < 0.3)):
            both = found.aucs(rows)
            for i, model in enumerate(scores):
                one = found.auc(model, rows)
                assert (one is None) == (both is None)
                if both is not None:
                    assert one == float(both[0][i])


def test_the_aucs_row_long_arrays_come_from_the_contexts_allocate() -> None:
    """The stacked scores and the placements of every holdout row (24 bytes per row for
    two models) are made by `Context.allocate`, so that a Dask client makes them on its
    spill's disk (at 10M rows they were the client's largest peak); the same bits."""
    rng = np.random.default_rng(8)
    target = np.where(rng.random(3000) < 0.05, np.nan, (rng.random(3000) < 0.3) * 1.0)
    scores = {"tstr": rng.random(3000), "trtr": np.round(rng.random(3000), 2)}  # ties
    asked: list[tuple[int, ...]] = []

    def allocate(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        asked.append(shape)
        return np.full(shape, np.nan, dtype=dtype)  # nothing may rely on zeros

    made = [
        HoldoutScores(target, scores, {}, {}, "m", "p", **extra).aucs()
        for extra in ({}, {"allocate": allocate})
    ]
    (aucs, covariance, n), (aucs_here, covariance_here, n_here) = made  # type: ignore[misc]
    assert aucs.tobytes() == aucs_here.tobytes() and n == n_here
    assert covariance.tobytes() == covariance_here.tobytes()
    kept = ~np.isnan(target)
    positives = int(np.sum(target[kept] == 1.0))
    assert asked == [(2, n), (2, positives), (2, n - positives)]
    expected = [roc_auc_score(target[kept], scores[name][kept]) for name in ("tstr", "trtr")]
    assert aucs.tolist() == pytest.approx(expected, abs=1e-12)
