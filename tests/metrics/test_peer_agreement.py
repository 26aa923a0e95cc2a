"""synthgov's metric families against SDMetrics 0.32.0 and Anonymeter 1.1.0 on stored tables.

The peers are not needed here: benchmarks/peer_reference.py ran them once on the 400-row
tables of tests/data/peers/ (missing values of every kind, ties, DCR ties between train
and holdout, a rare category, a category only in the synthetic table, a value out of
range) and stored their values in peer_values.json. Deterministic metrics and the exact
DCR metrics must agree within 1e-9; estimates (the DCR baseline's random table, the
attack risks) within their confidence intervals.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthgov.files.governance import load_bytes
from synthgov.metrics import attacks, detection, distance, fidelity, privacy
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.metrics.measurement import Context, Measurement
from synthgov.metrics.tables import read_table
from synthgov.models.card import Card

DATA = Path(__file__).resolve().parent.parent / "data" / "peers"
EXACT = 1e-9

#: synthgov id -> (peer metric, whether ours is 1 - the peer's value)
PER_KEY = {
    "fidelity.ks_complement": ("KSComplement", False),
    "fidelity.tv_complement": ("TVComplement", False),
    "fidelity.boundary_adherence": ("BoundaryAdherence", False),
    "fidelity.category_adherence": ("CategoryAdherence", False),
    "fidelity.missing_rate_diff": ("MissingValueSimilarity", True),
    "fidelity.correlation_similarity": ("CorrelationSimilarity", False),
    "fidelity.contingency_similarity": ("ContingencySimilarity", False),
}


@cache
def peer() -> dict[str, Any]:
    values: dict[str, Any] = json.loads((DATA / "peer_values.json").read_text())
    return values


@cache
def card() -> Card:
    model = load_bytes(
        (DATA / "card.yaml").read_bytes(), "datasets/mixed-bench/card.yaml", Card
    ).model
    return model


@cache
def tables() -> Tables:
    frames = {role: read_table(DATA / peer()["spec"][role])[0] for role in ROLES}
    encoded, _ = encode(card(), frames, {role: role for role in ROLES})
    return encoded


def context() -> Context:
    return Context(seed=peer()["spec"]["seed"], n_attacks=peer()["spec"]["n_attacks"])


def by_key(measurements: list[Measurement], metric: str) -> dict[str, Measurement]:
    """The measurements of `metric` keyed as the peer file keys them: column, `a|b` or ``."""
    out = {}
    for m in measurements:
        if m.id == metric:
            out["|".join(m.columns) if m.columns else (m.column or "")] = m
    return out


@cache
def ours_fidelity() -> list[Measurement]:
    return fidelity.measure(tables(), context())


@cache
def ours_privacy() -> list[Measurement]:
    return privacy.measure(tables(), context(), card()) + attacks.measure(
        tables(), context(), card()
    )


def test_the_reference_is_the_pinned_peers() -> None:
    assert peer()["versions"]["sdmetrics"] == "0.32.0"
    assert peer()["versions"]["anonymeter"] == "1.1.0"
    assert peer()["errors"] == {}
    # the edge cases the reference tables were built to hold
    occupation = tables()["occupation"]
    novel = occupation.categories.index("occ-novel")
    assert novel not in occupation.real and novel in occupation.synthetic
    assert np.count_nonzero(occupation.real == occupation.categories.index("astronaut")) == 1
    assert np.isnan(tables()["opened"].real).any() and (tables()["education"].real < 0).any()


@pytest.mark.parametrize("metric", sorted(PER_KEY))
def test_column_and_pair_metrics_equal_the_peer(metric: str) -> None:
    name, complement = PER_KEY[metric]
    theirs = {key: 1.0 - v if complement else v for key, v in peer()["metrics"][name].items()}
    ours = by_key(ours_fidelity(), metric)
    assert set(ours) == set(theirs), f"{metric}: columns or pairs differ from the peer's"
    gaps = {key: abs(m.value - theirs[key]) for key, m in ours.items()}
    assert max(gaps.values()) <= EXACT, gaps


@pytest.mark.parametrize(
    ("metric", "prop"),
    [
        ("fidelity.column_shapes", "Column Shapes"),
        ("fidelity.column_pair_trends", "Column Pair Trends"),
    ],
)
def test_quality_report_properties_equal_the_peer(metric: str, prop: str) -> None:
    (ours,) = by_key(ours_fidelity(), metric).values()
    assert abs(ours.value - peer()["metrics"]["QualityReport"][prop]) <= EXACT


def test_logistic_detection_equals_the_peer_on_the_same_folds() -> None:
    # The peer's one-hot encoder raises on `occ-novel`, so the reference dropped the
    # synthetic rows with a category the real table lacks; drop the same rows here.
    encoded = tables()
    seen = np.logical_and.reduce([np.isin(c.synthetic, c.real) for c in encoded.categorical])
    assert np.count_nonzero(~seen) == peer()["metrics"]["LogisticDetection"]["dropped_rows"]
    ours = detection.logistic_detection(encoded.select("synthetic", seen), context())
    assert ours is not None
    assert ours.extra["fold_seed"] == peer()["spec"]["detection_seed"]
    # the folds are the peer's (same seed); 1e-6 leaves room for an iterative fit's last digits
    assert abs(ours.value - peer()["metrics"]["LogisticDetection"]["score"]) <= 1e-6
    assert ours.value < 1.0  # the reference synthetic table is detectable: not a trivial 1 = 1


@pytest.mark.parametrize(
    ("metric", "name", "key"),
    [
        ("privacy.dcr_overfitting_protection", "DCROverfittingProtection", "score"),
        ("privacy.dcr_share_closer_to_train", "DCROverfittingProtection", "closer_to_training"),
        ("privacy.dcr_median", "calculate_dcr", "median"),
    ],
)
def test_exact_dcr_metrics_equal_the_peer(metric: str, name: str, key: str) -> None:
    (ours,) = by_key(ours_privacy(), metric).values()
    assert ours.n == tables().rows["synthetic"]  # exact: every synthetic row
    assert abs(ours.value - peer()["metrics"][name][key]) <= EXACT


def test_dcr_ties_count_for_the_holdout() -> None:
    # rows 0-4 are in all three tables: both DCRs are 0, a tie, which the peer (strict <)
    # does not count as closer to train; a non-strict comparison would give another share
    encoded = tables()
    numeric = distance.numeric_mask(encoded)
    queries = distance.matrix(encoded, "synthetic")
    to_train = distance.dcr(queries, distance.matrix(encoded, "real"), numeric)
    to_holdout = distance.dcr(queries, distance.matrix(encoded, "holdout"), numeric)
    assert np.all(to_train[:5] == 0) and np.all(to_holdout[:5] == 0)
    peer_share = peer()["metrics"]["DCROverfittingProtection"]["closer_to_training"]
    assert np.mean(to_train < to_holdout) == pytest.approx(peer_share, abs=EXACT)
    assert np.mean(to_train <= to_holdout) > peer_share + 4 / len(queries)


def test_dcr_baseline_within_the_peer_interval() -> None:
    # Each side draws its own random table: the peer's interval for its random median
    # (order statistics of its random DCRs) bounds the score.
    (ours,) = by_key(ours_privacy(), "privacy.dcr_baseline_protection").values()
    low, high = peer()["metrics"]["DCRBaselineProtection"]["score_ci"]
    assert low <= ours.value <= high
    assert ours.extra["median_dcr"] == pytest.approx(
        peer()["metrics"]["DCRBaselineProtection"]["synthetic_median"], abs=EXACT
    )


def _facing(value: float, ci: tuple[float, float] | list[float], other: float) -> float:
    return (ci[1] - value) if other > value else (value - ci[0])


@pytest.mark.parametrize(
    ("metric", "name", "key"),
    [
        ("privacy.singling_out_risk", "SinglingOut", "risk_per_query"),
        ("privacy.linkability_risk", "Linkability", "risk"),
        ("privacy.inference_risk", "Inference[churned]", "risk"),
    ],
)
def test_attack_risks_agree_within_their_intervals(metric: str, name: str, key: str) -> None:
    # Two estimates of one risk agree when their gap is within the combined half-widths
    # of their 95 % intervals on the sides that face each other. Singling out is compared
    # per query generated (synthgov's denominator; the peer's is n_attacks, LeakPro#182).
    (ours,) = by_key(ours_privacy(), metric).values()
    theirs = peer()["metrics"][name]
    value, ci = theirs[key], theirs.get(f"{key}_ci", theirs["ci"])
    assert ours.ci is not None
    allowed = math.hypot(_facing(ours.value, ours.ci, value), _facing(value, ci, ours.value))
    assert abs(ours.value - value) <= allowed, (ours.value, ours.ci, value, ci)


@pytest.mark.parametrize(
    ("metric", "name"),
    [("privacy.linkability_risk", "Linkability"), ("privacy.inference_risk", "Inference[churned]")],
)
def test_attacks_on_every_record_equal_the_peer(metric: str, name: str) -> None:
    # With n_attacks >= the table size both sides attack every train and holdout record,
    # so nothing is sampled: the nearest neighbours, the counts, the risk and its interval
    # are the peer's (the random-guess baseline, not part of the risk, still differs).
    assert peer()["spec"]["n_attacks"] >= max(tables().rows.values())
    (ours,) = by_key(ours_privacy(), metric).values()
    theirs = peer()["metrics"][name]
    assert ours.ci is not None
    assert abs(ours.value - theirs["risk"]) <= EXACT
    assert max(abs(a - b) for a, b in zip(ours.ci, theirs["ci"], strict=True)) <= EXACT
