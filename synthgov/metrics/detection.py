"""Detection: how well a classifier tells the real training rows from the synthetic ones.

- `fidelity.logistic_detection` (↑, 1 = indistinguishable) is sdmetrics' LogisticDetection
  (research/metrics.md §2.7) with seeded folds: real = 1, synthetic = 0,
  StratifiedKFold(3, shuffle=True), per fold RobustScaler → LogisticRegression(lbfgs,
  max_iter=100) and its ROC AUC; score = 1 − mean(2·max(AUC, 0.5) − 1). Calling
  `numpy.random.seed(fold_seed)` (recorded in the measurement) right before the peer's
  `compute` on the same rows gives the same folds and the same score. The card plays
  the part of the peer's metadata (`features.peer_design`): boolean columns are left out
  as the peer leaves sdtype boolean out; a table of booleans only has no such metric.
  The peer's SimpleImputer is left out too: no missing value is left to impute.
- `fidelity.detection_auc` (↓, 0.5 = indistinguishable) is the mean ROC AUC over three
  seeded stratified folds of a seeded HistGradientBoostingClassifier, which sees
  interactions that a linear detector misses (§2.8). Both tables are cut to the same size
  by a seeded sample. `ci` is a 95 % normal interval for the mean of the three fold
  AUCs, with one fold's variance taken as its DeLong variance (the noise of the test
  rows) plus the sample variance of the three AUCs (the noise of refitting the model).
  The sum is deliberately generous: DeLong alone held 0.5 for identical distributions in
  80 % (1,500 rows per table) and 88 % (5,000) of 40 seeds, the sum in 90 % and 98 %.

Rows per table are capped at `evaluate --sample N` (default 50,000) by a seeded sample,
recorded in `sample_sizes`; below the cap LogisticDetection uses every row, as the peer
does, unless its one-hot design would exceed `CELL_BUDGET` cells. Fewer than three rows in either table leaves both metrics out (three folds cannot
be stratified).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler

from synthgov.metrics.encoding import Tables
from synthgov.metrics.features import (
    CELL_BUDGET,
    boosting,
    boosting_method,
    normal_ci,
    one_thread,
    peer_design,
    peer_width,
    roc_auc,
    row_limit,
    sample_rows,
    tree_design,
)
from synthgov.metrics.measurement import Context, Measurement

FOLDS = 3
LOGISTIC = "fidelity.logistic_detection"
AUC = "fidelity.detection_auc"


def measure(tables: Tables, context: Context) -> list[Measurement]:
    """Both detection metrics, or those that are defined (see the module docstring)."""
    if not tables.columns or min(tables.rows["real"], tables.rows["synthetic"]) < FOLDS:
        return []
    found = [logistic_detection(tables, context), detection_auc(tables, context)]
    return [m for m in found if m is not None]


def logistic_detection(tables: Tables, context: Context) -> Measurement | None:
    """sdmetrics' LogisticDetection score with seeded folds, or None without features.

    Only boolean columns leave no features: the peer leaves those out (`peer_design`).
    """
    width = peer_width(tables)
    if width == 0:
        return None
    limit = min(row_limit(context), max(CELL_BUDGET // (2 * width), FOLDS))
    sampler = context.rng(f"{LOGISTIC}.sample")
    rows = {role: sample_rows(tables.rows[role], limit, sampler) for role in ("real", "synthetic")}
    for role, index in rows.items():
        context.record(f"{LOGISTIC}.{role}", len(index))
    design = peer_design(tables, rows)
    features = np.vstack([design["real"], design["synthetic"]])
    labels = np.concatenate([np.ones(len(rows["real"])), np.zeros(len(rows["synthetic"]))])
    fold_seed = _seed(context, LOGISTIC)
    aucs = []
    for train, test in _folds(features, labels, fold_seed):
        model = make_pipeline(
            RobustScaler(), LogisticRegression(solver="lbfgs", C=1.0, max_iter=100)
        )
        with one_thread(), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the peer stops at 100 too
            model.fit(features[train], labels[train])
            scores = model.predict_proba(features[test])[:, 1]
        aucs.append(float(roc_auc_score(labels[test], scores)))
    score = 1.0 - float(np.mean([2.0 * max(auc, 0.5) - 1.0 for auc in aucs]))
    return Measurement(
        LOGISTIC,
        score,
        n=len(labels),
        method=f"sdmetrics LogisticDetection: 1 - mean(2*max(AUC, 0.5) - 1) over StratifiedKFold({FOLDS}, "
        f"shuffle=True, random_state={fold_seed}) of RobustScaler -> LogisticRegression(lbfgs, C=1, "
        "max_iter=100); numbers mean-imputed, categories one-hot fit on real, booleans left out",
        extra={"fold_seed": fold_seed, "fold_auc": aucs},
    )


def detection_auc(tables: Tables, context: Context) -> Measurement:
    """Mean ROC AUC of a gradient-boosting detector on balanced, seeded folds."""
    size = context.record(
        AUC, min(tables.rows["real"], tables.rows["synthetic"], row_limit(context))
    )
    sampler = context.rng(f"{AUC}.sample")
    columns = list(tables.columns)
    samples = [sample_rows(tables.rows[role], size, sampler) for role in ("real", "synthetic")]
    features = np.vstack(
        [
            tree_design(columns, role, rows)
            for role, rows in zip(("real", "synthetic"), samples, strict=True)
        ]
    )
    labels = np.repeat([True, False], size)
    fold_seed, model_seed = _seed(context, AUC), _seed(context, f"{AUC}.model")
    aucs, variances = [], []
    for train, test in _folds(features, labels, fold_seed):
        model = boosting(columns, model_seed)
        with one_thread():
            model.fit(features[train], labels[train])
            scores = model.predict_proba(features[test])[:, 1]
        auc, covariance = roc_auc(labels[test], scores)
        aucs.append(float(auc[0]))
        variances.append(np.nan if covariance is None else float(covariance[0, 0]))
    value = float(np.mean(aucs))
    spread = (float(np.mean(variances)) + float(np.var(aucs, ddof=1))) / FOLDS
    return Measurement(
        AUC,
        value,
        n=2 * size,
        ci=None if np.isnan(spread) else normal_ci(value, spread),
        interval=None if np.isnan(spread) else {"kind": "normal", "se": float(np.sqrt(spread))},
        method=f"mean ROC AUC, real vs synthetic ({size} rows each), over StratifiedKFold({FOLDS}, shuffle=True, "
        f"random_state={fold_seed}) of {boosting_method(model_seed)}; ci: 95 % normal, fold variance DeLong + between folds",
        extra={"fold_auc": aucs},
    )


def _folds(
    features: np.ndarray, labels: np.ndarray, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(features, labels))


def _seed(context: Context, step: str) -> int:
    return int(context.rng(step).integers(2**31))
