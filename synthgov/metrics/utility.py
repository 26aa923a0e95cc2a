"""Utility: does a model trained on the synthetic table predict the card's target as well
as one trained on the real table?

`utility.tstr` (train synthetic, test real) and `utility.trtr` (train real, test real) are
ROC AUCs on the holdout of the same seeded HistGradientBoostingClassifier, with the card's
`target.positive` label as the positive class; `utility.tstr_trtr_ratio` = tstr / trtr
(left out if trtr is 0). The model handles missing values and categories natively, so a
category or a missing value that only the holdout has is scored, not an error (unlike the
peer's ML-efficacy metrics, research/metrics.md §3). Rows whose target is missing are left
out of training and scoring and counted in `missing_target`. Training rows per table are
capped at `evaluate --sample N` (default 50,000) by a seeded sample; the holdout is scored
in full (by the engine where the holdout lives, if it offers that: `Context.score`). `ci`
is the 95 % normal interval from the DeLong covariance of the two AUCs on the same holdout
rows (the delta method for the ratio); it covers the noise of the holdout, not that of
training.

No metric is returned when it is undefined: the card names no target, the synthetic table
lacks the target column, no other column is left as a feature, or the holdout rows do not
hold both classes. A training table with a single class gives a constant scorer, whose
AUC is 0.5. A numeric target (say an integer 0/1 column) is positive where it equals the
positive label read as a number.

`holdout_scores` fits the two models and keeps every holdout row's scores, so the subgroup
family can take the AUC of any subset of the holdout without refitting; `measure` keeps
them in the run's `Context.memo` under `MEMO` for that.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from synthgov.metrics.encoding import Encoded, Tables, card_label
from synthgov.metrics.features import (
    boosting,
    boosting_method,
    normal_ci,
    one_thread,
    roc_auc,
    row_limit,
    sample_rows,
    tree_design,
)
from synthgov.metrics.measurement import Allocate, Context, Measurement, in_memory
from synthgov.models.card import Card

TSTR, TRTR, RATIO = "utility.tstr", "utility.trtr", "utility.tstr_trtr_ratio"
#: the `Context.memo` key of the run's `holdout_scores`, shared with the subgroup family
MEMO = "utility.scores"
#: model -> the table it is trained on
TRAINED_ON = {"tstr": "synthetic", "trtr": "real"}
#: holdout rows scored at a time (`holdout_scores`): a few MB of design and model temporaries
PREDICT_ROWS = 1 << 16


@dataclass(frozen=True)
class HoldoutScores:
    """Every holdout row's target and the scores the two models give it."""

    #: 1.0 positive, 0.0 negative, NaN where the target is missing; one per holdout row
    target: np.ndarray
    #: "tstr" / "trtr" -> one score per holdout row
    scores: dict[str, np.ndarray]
    #: "tstr" / "trtr" -> rows the model was trained on
    train_rows: dict[str, int]
    #: role -> rows left out because their target is missing
    missing_target: dict[str, int]
    #: the model and its parameters, for `method`
    model: str
    #: the positive label as the encoding writes it
    positive: str
    #: where the AUCs' row-long arrays are made (`Context.allocate`)
    allocate: Allocate = in_memory

    def auc(self, model: str = "tstr", rows: np.ndarray | None = None) -> float | None:
        """ROC AUC of `model` on the holdout `rows` (indices or a mask; default all), the
        bits `aucs` gives it, without the other model or the covariance (a subgroup asks
        for one model's AUC of each group).

        None when the rows with a target do not hold both classes.
        """
        target = self.target if rows is None else self.target[rows]
        kept = ~np.isnan(target)
        labels = target[kept] == 1.0
        if labels.all() or not labels.any():
            return None
        scores = self.scores[model] if rows is None else self.scores[model][rows]
        return float(roc_auc(labels, scores[kept], covariance=False)[0][0])

    def aucs(
        self, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, int] | None:
        """(AUC per model in `scores` order, their DeLong covariance, rows scored) on `rows`."""
        target = self.target if rows is None else self.target[rows]
        kept = ~np.isnan(target)
        labels = target[kept] == 1.0
        if labels.all() or not labels.any():
            return None
        # each model's kept scores, selected one model at a time into the stacked rows
        stacked = self.allocate((len(self.scores), len(labels)), np.float64)
        for row, score in zip(stacked, self.scores.values(), strict=True):
            row[...] = (score if rows is None else score[rows])[kept]
        aucs, covariance = roc_auc(labels, stacked, allocate=self.allocate)
        return aucs, covariance, int(kept.sum())


def measure(tables: Tables, context: Context, card: Card) -> list[Measurement]:
    """TSTR, TRTR and their ratio; [] without a target or when undefined (module docstring)."""
    scores = context.memo(MEMO, lambda: holdout_scores(tables, context, card))
    found = scores.aucs() if scores is not None else None
    if scores is None or found is None:
        return []
    aucs, covariance, n = found
    where = f"ROC AUC on the holdout (positive {scores.positive!r}) of {scores.model}"
    measurements = []
    for i, (metric, model) in enumerate(((TSTR, "tstr"), (TRTR, "trtr"))):
        value = float(aucs[i])
        measurements.append(
            Measurement(
                metric,
                value,
                n=n,
                method=f"{where}, trained on the {TRAINED_ON[model]} table; ci: DeLong, 95 % normal",
                ci=None if covariance is None else normal_ci(value, float(covariance[i, i])),
                interval=None
                if covariance is None
                else {"kind": "normal", "se": _se(covariance[i, i])},
                extra={
                    "train_rows": scores.train_rows[model],
                    **_missing(scores, TRAINED_ON[model]),
                },
            )
        )
    tstr, trtr = float(aucs[0]), float(aucs[1])
    if trtr > 0:
        ratio = tstr / trtr
        gradient = np.array([1.0 / trtr, -ratio / trtr])  # of tstr / trtr, for the delta method
        measurements.append(
            Measurement(
                RATIO,
                ratio,
                n=n,
                method=f"{TSTR} / {TRTR}; ci: delta method on their DeLong covariance, 95 % normal",
                ci=None
                if covariance is None
                else normal_ci(ratio, float(gradient @ covariance @ gradient), upper=None),
                interval=None
                if covariance is None
                else {"kind": "normal", "se": _se(gradient @ covariance @ gradient)},
            )
        )
    return measurements


def tstr_auc(
    tables: Tables, context: Context, card: Card, holdout_rows: np.ndarray | None = None
) -> float | None:
    """`utility.tstr` on the holdout rows `holdout_rows` only; None where it is undefined.

    This fits both models; for many subsets call `holdout_scores` once and use its `auc`.
    """
    scores = holdout_scores(tables, context, card)
    return None if scores is None else scores.auc("tstr", holdout_rows)


def holdout_scores(tables: Tables, context: Context, card: Card) -> HoldoutScores | None:
    """Train the two models and score every holdout row; None when utility is undefined."""
    if card.target is None or card.target.column not in tables:
        return None
    target = tables[card.target.column]
    features = [column for column in tables if column.name != target.name]
    if not features:
        return None
    positive = card_label(card.target.positive)
    labels = {
        role: _binary(target, role, card.target.positive)
        for role in ("real", "holdout", "synthetic")
    }
    holdout = labels["holdout"][~np.isnan(labels["holdout"])]
    if holdout.size == 0 or holdout.min() == holdout.max():
        known = labels["real"][~np.isnan(labels["real"])]
        share = min(float(known.mean()), 1 - float(known.mean())) if known.size else 0.0
        needs = int(np.ceil(10 / share)) if share > 0 else 10 * max(tables.rows["holdout"], 1)
        context.inconclusive(
            (TSTR, TRTR, RATIO), "the holdout rows do not hold both classes of the target", needs
        )
        return None
    seed = int(context.rng("utility.model").integers(2**31))
    size = tables.rows["holdout"]
    train_rows: dict[str, int] = {}
    samples: dict[str, np.ndarray] = {}
    for name, role in TRAINED_ON.items():
        present = np.flatnonzero(~np.isnan(labels[role]))
        samples[name] = present[
            sample_rows(len(present), row_limit(context), context.rng(f"utility.{name}.sample"))
        ]
        train_rows[name] = context.record(f"utility.{name}", len(samples[name]))

    def fit(name: str) -> HistGradientBoostingClassifier | None:
        """The model `name` fitted on its sample; None for a single class."""
        role, rows = TRAINED_ON[name], samples[name]
        y = labels[role][rows] == 1.0
        if y.all() or not y.any():
            return None
        classifier = boosting(features, seed)
        classifier.fit(tree_design(features, role, rows), y)
        return classifier

    def score(name: str) -> np.ndarray:
        classifier = fit(name)
        if classifier is None:
            return _constant(context, size)
        # the holdout scored a slice of rows at a time: each row's score is its own (the
        # trees are walked per row), and the design of the whole holdout, with the
        # model's copies of it, would grow with the table (an out-of-core client's peak)
        found = context.allocate((size,), np.float64)
        for start in range(0, size, PREDICT_ROWS):
            piece = np.arange(start, min(start + PREDICT_ROWS, size))
            found[piece] = classifier.predict_proba(tree_design(features, "holdout", piece))[:, 1]
        return found

    # The two models are independent, each seeded and on one thread: fitted side by side
    # (scikit-learn's loops release the GIL), they give the scores they give one by one.
    with one_thread(), ThreadPoolExecutor(max_workers=len(TRAINED_ON)) as pool:
        if context.score is None:
            scores = dict(zip(TRAINED_ON, pool.map(score, TRAINED_ON), strict=True))
        else:
            fitted = dict(zip(TRAINED_ON, pool.map(fit, TRAINED_ON), strict=True))
    if context.score is not None:  # the engine scores the holdout where it lives
        models = {name: model for name, model in fitted.items() if model is not None}
        found = context.score("holdout", models, [c.name for c in features]) if models else {}
        scores = {
            name: found[name] if name in found else _constant(context, size) for name in TRAINED_ON
        }
    context.record("utility.holdout", len(holdout))
    return HoldoutScores(
        target=labels["holdout"],
        scores=scores,
        train_rows=train_rows,
        missing_target={role: int(np.isnan(values).sum()) for role, values in labels.items()},
        model=boosting_method(seed),
        positive=positive,
        allocate=context.allocate,
    )


def _constant(context: Context, size: int) -> np.ndarray:
    """The scores of a model trained on a single class: 0.5 for every row."""
    found = context.allocate((size,), np.float64)
    found.fill(0.5)
    return found


def _binary(target: Encoded, role: str, positive: str | int | bool) -> np.ndarray:
    """1.0 where the target is the positive label, 0.0 elsewhere, NaN where it is missing."""
    values = target.table(role)
    if target.is_numeric:
        is_positive = values == _number(positive)
        return np.where(np.isnan(values), np.nan, is_positive.astype(np.float64))
    label = card_label(positive)
    code = target.categories.index(label) if label in target.categories else -2
    return np.where(values < 0, np.nan, (values == code).astype(np.float64))


def _number(positive: str | int | bool) -> float:
    if isinstance(positive, bool | int):
        return float(positive)
    try:
        return float(positive)
    except ValueError:
        return np.nan  # never equal: no positive row, so no metric


def _missing(scores: HoldoutScores, role: str) -> dict[str, object]:
    counts = {r: scores.missing_target[r] for r in (role, "holdout") if scores.missing_target[r]}
    return {"missing_target": counts} if counts else {}


def _se(variance: float) -> float:
    return float(np.sqrt(max(float(variance), 0.0)))
