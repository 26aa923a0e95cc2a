"""Detection metrics: known answers, the peer's feature preparation, sampling and seeds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from synthgov.metrics.detection import detection_auc, logistic_detection, measure
from synthgov.metrics.encoding import Tables
from synthgov.metrics.features import peer_design, roc_auc
from synthgov.metrics.measurement import Context, Measurement
from tests.helpers.tables import make_tables


def _normal_tables(n: int, shift: float, seed: int = 0) -> Tables:
    rng = np.random.default_rng(seed)
    real, synthetic = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    labels = ["a", "b", "c"]
    return make_tables(
        {
            "x": ("number", real.tolist(), real[:5].tolist(), synthetic.tolist()),
            "c": (
                "categorical",
                rng.choice(labels, n).tolist(),
                labels,
                rng.choice(labels, n).tolist(),
            ),
        }
    )


def _by_id(measurements: list[Measurement]) -> dict[str, Measurement]:
    return {m.id: m for m in measurements}


def test_indistinguishable_constant_tables_score_exactly_one_and_half() -> None:
    # One categorical column with a single value in both tables: every model scores every
    # row alike, so each fold's AUC is exactly 0.5: logistic 1 - (2*0.5 - 1) = 1.
    tables = make_tables({"c": ("categorical", ["a"] * 30, ["a"] * 3, ["a"] * 24)})
    found = _by_id(measure(tables, Context(seed=1)))
    assert found["fidelity.logistic_detection"].value == 1.0
    assert found["fidelity.detection_auc"].value == 0.5
    assert found["fidelity.detection_auc"].ci == (0.5, 0.5)


def test_same_distribution_is_near_chance() -> None:
    found = _by_id(measure(_normal_tables(600, 0.0), Context(seed=2)))
    assert found["fidelity.logistic_detection"].value > 0.85
    auc = found["fidelity.detection_auc"]
    assert abs(auc.value - 0.5) < 0.1
    assert auc.ci is not None and auc.ci[0] <= auc.value <= auc.ci[1]


def test_disjoint_tables_are_detected_perfectly() -> None:
    # Real rows are all "a", synthetic all "b" (unseen by the one-hot, so all zeros), and x
    # is shifted by 100: a single split and a linear model both separate every fold.
    rng = np.random.default_rng(3)
    tables = make_tables(
        {
            "x": (
                "number",
                rng.normal(0, 1, 300).tolist(),
                [0.0],
                rng.normal(100, 1, 300).tolist(),
            ),
            "c": ("categorical", ["a"] * 300, ["a"], ["b"] * 300),
        }
    )
    found = _by_id(measure(tables, Context(seed=3)))
    assert found["fidelity.logistic_detection"].value == 0.0
    assert found["fidelity.detection_auc"].value == 1.0
    assert found["fidelity.detection_auc"].n == 600


def test_far_shifted_number_is_detected() -> None:
    found = _by_id(measure(_normal_tables(300, 100.0), Context(seed=3)))
    assert found["fidelity.logistic_detection"].value == 0.0
    assert found["fidelity.detection_auc"].value > 0.98  # binning can blur a rare tail value


def test_logistic_detection_equals_the_peer_at_its_fold_seed() -> None:
    # sdmetrics 0.32.0 in the peer venv, on the same frames (x float64 with NaN, k int64,
    # c object with NaN, flag bool), with and without metadata:
    #   np.random.seed(197508931); LogisticDetection.compute(real, synthetic)
    #   -> 0.8177777777777778
    rng = np.random.default_rng(7)
    data: dict[str, dict[str, list[Any]]] = {}
    for role, n, shift in (("real", 120, 0.0), ("synthetic", 90, 0.6)):
        x = np.round(rng.normal(shift, 1.0, n), 3)
        k, c, flag = (
            rng.integers(0, 4, n),
            rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            rng.random(n) < 0.5,
        )
        data[role] = {
            "x": [None if i % 7 == 0 else float(v) for i, v in enumerate(x)],
            "k": [int(v) for v in k],
            "c": [None if i % 11 == 0 else str(v) for i, v in enumerate(c)],
            "flag": [bool(v) for v in flag],
        }
    types = {"x": "number", "k": "integer", "c": "categorical", "flag": "boolean"}
    tables = make_tables(
        {
            c: (t, data["real"][c], data["real"][c][:5], data["synthetic"][c])
            for c, t in types.items()
        }
    )
    found = logistic_detection(tables, Context(seed=3))
    assert found is not None
    assert found.extra["fold_seed"] == 197508931
    assert found.value == 0.8177777777777778


def test_peer_design_imputes_one_hot_encodes_and_ignores_unseen() -> None:
    tables = make_tables(
        {
            "x": ("number", [1.0, None, 5.0], [0.0], [None, 7.0]),
            "flag": ("boolean", [True, False, True], [True], [False, False]),
            "c": ("categorical", ["b", None, "a"], ["a"], ["z", None]),
            "d": ("categorical", ["u", "v", "u"], ["u"], [None, "v"]),
        }
    )
    design = peer_design(tables, {"real": np.arange(3), "synthetic": np.arange(2)})
    # x: missing -> real mean (1 + 5) / 2 = 3; flag: left out (sdtype boolean);
    # c: levels a, b, missing (the real rows have one); "z" is unseen -> no level;
    # d: levels u, v; missing is absent from the real rows -> no level.
    #                      x    c=a  c=b  c=NA d=u  d=v
    expected_real = [
        [1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        [3.0, 0.0, 0.0, 1.0, 0.0, 1.0],
        [5.0, 1.0, 0.0, 0.0, 1.0, 0.0],
    ]
    expected_synthetic = [[3.0, 0.0, 0.0, 0.0, 0.0, 0.0], [7.0, 0.0, 0.0, 1.0, 0.0, 1.0]]
    np.testing.assert_array_equal(design["real"], expected_real)
    np.testing.assert_array_equal(design["synthetic"], expected_synthetic)


def test_unseen_synthetic_categories_do_not_crash() -> None:
    n = 60
    tables = make_tables(
        {
            "c": ("categorical", ["a", "b"] * (n // 2), ["a"], ["new", None] * (n // 2)),
            "x": ("number", list(range(n)), [1], [None] * (n - 1) + [1]),
        }
    )
    found = _by_id(measure(tables, Context(seed=4)))
    assert (
        found["fidelity.logistic_detection"].value < 0.1
    )  # the synthetic rows are all-zero one-hots
    assert found["fidelity.detection_auc"].value > 0.9


def test_only_boolean_columns_leave_only_detection_auc() -> None:
    tables = make_tables({"flag": ("boolean", [True, False] * 10, [True], [True] * 20)})
    assert [m.id for m in measure(tables, Context())] == ["fidelity.detection_auc"]


def test_fewer_than_three_rows_in_a_table_gives_nothing() -> None:
    tables = make_tables({"x": ("number", [1, 2, 3, 4], [1], [1, 2])})
    assert measure(tables, Context()) == []


def test_sample_caps_rows_and_is_recorded() -> None:
    tables = _normal_tables(200, 0.5)
    context = Context(seed=5, sample=50)
    found = _by_id(measure(tables, context))
    assert found["fidelity.logistic_detection"].n == 100
    assert found["fidelity.detection_auc"].n == 100
    assert context.sample_sizes == {
        "fidelity.logistic_detection.real": 50,
        "fidelity.logistic_detection.synthetic": 50,
        "fidelity.detection_auc": 50,
    }


def test_detection_auc_balances_unequal_tables() -> None:
    rng = np.random.default_rng(6)
    tables = make_tables(
        {"x": ("number", rng.normal(size=90).tolist(), [0.0], rng.normal(size=40).tolist())}
    )
    found = detection_auc(tables, Context(seed=6))
    assert found.n == 80  # 40 of each


def test_same_seed_same_values_other_seed_other_folds() -> None:
    tables = _normal_tables(300, 0.3)
    first = [m.as_json() for m in measure(tables, Context(seed=8))]
    again = [m.as_json() for m in measure(tables, Context(seed=8))]
    other = _by_id(measure(tables, Context(seed=9)))
    assert first == again
    assert other["fidelity.logistic_detection"].extra["fold_seed"] != first[0]["fold_seed"]


def test_roc_auc_and_delong_covariance_by_hand() -> None:
    # positives 0.9, 0.4; negatives 0.4, 0.1. Pairs: 1, 1, 0.5 (tie), 1 -> AUC 3.5 / 4.
    # Placements: positives [1, 0.75], negatives [0.75, 1]; each sample variance 0.03125,
    # so DeLong's variance is 0.03125 / 2 + 0.03125 / 2.
    labels = np.array([True, True, False, False])
    aucs, covariance = roc_auc(labels, np.array([0.9, 0.4, 0.4, 0.1]))
    assert aucs.tolist() == [0.875]
    assert covariance is not None
    assert covariance[0, 0] == pytest.approx(0.03125)
    _, none = roc_auc(np.array([True, False, False]), np.array([0.5, 0.2, 0.3]))
    assert none is None  # one positive: no sample variance


def test_roc_auc_of_several_score_rows_equals_each_rows_own_with_the_sklearn_value() -> None:
    """The rows are ranked one at a time (bounded memory): each row's AUC and variance
    are those of the row alone (the AUCs bit for bit), and the AUC is scikit-learn's."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    labels = rng.random(3000) < 0.3
    scores = np.round(rng.random((3, 3000)), 2)  # many ties
    aucs, covariance = roc_auc(labels, scores)
    assert covariance is not None and covariance.shape == (3, 3)
    for i, row in enumerate(scores):
        alone, variance = roc_auc(labels, row)
        assert variance is not None
        assert aucs[i] == alone[0] == pytest.approx(roc_auc_score(labels, row), abs=1e-15)
        assert covariance[i, i] == pytest.approx(variance[0, 0], rel=1e-12)  # np.cov rounds
    without, none = roc_auc(labels, scores, covariance=False)
    assert none is None and np.array_equal(without, aucs)


def test_more_than_255_categories_are_ordinal_codes() -> None:
    labels = [f"v{i:03d}" for i in range(300)]
    tables = make_tables({"c": ("categorical", labels, labels[:3], labels[::-1])})
    found = detection_auc(tables, Context(seed=10))
    assert 0.0 <= found.value <= 1.0
    assert "else ordinal codes" in (found.method or "")


def test_wide_one_hot_designs_get_fewer_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import synthgov.metrics.detection as detection

    tables = _normal_tables(200, 0.0)  # width 1 + 3 levels = 4
    monkeypatch.setattr(detection, "CELL_BUDGET", 2 * 4 * 30)
    found = logistic_detection(tables, Context(seed=11))
    assert found is not None and found.n == 60
