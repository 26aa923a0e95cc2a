"""Coverage: a report cannot leave out a column the card names (issue 15, attack 5).

A per-column rule judges the entries the report has; these tests leave one column's entry
out, on real git repositories with real signed approvals, and expect the release blocked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthgov.gates.coverage import COLUMNS, NUMERIC_TYPES
from synthgov.metrics.metric_ids import METRICS, Scope
from synthgov.models.card import ColumnType
from tests.helpers import samples
from tests.helpers.cli import Synthgov, gate
from tests.helpers.git import commit
from tests.helpers.repos import add_release, on_main
from tests.helpers.samples import PASSING, RELEASE

CARD = "datasets/claims/card.yaml"
INFERENCE = {
    "id": "privacy.inference_excess",
    "value": 0.0,
    "ci": [-0.03, 0.03],
    "interval": {"kind": "newcombe", "successes": [1000, 1000], "trials": [2000, 2000]},
}


def card_with(**fields: str) -> str:
    """The sample card with top-level fields added or replaced (one YAML line each)."""
    lines = [
        line
        for line in samples.CARD.splitlines()
        if not any(line.startswith(f"{k}:") for k in fields)
    ]
    return "\n".join([*lines, *(f"{k}: {v}" for k, v in fields.items())]) + "\n"


def rules(data: dict[str, Any]) -> dict[str, str]:
    return {f["rule"]: f["severity"] for r in data["releases"] for f in r["findings"]}


def test_a_report_without_the_second_secret_columns_inference_risk_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, CARD, card_with(secret_columns="[fraud, region]"))
    add_release(base)  # PASSING measures inference on fraud only
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    [finding] = [
        f
        for f in data["releases"][0]["findings"]
        if f["rule"] == "coverage.privacy.inference_excess"
    ]
    assert "no privacy.inference_excess for the secret column region" in finding["message"]
    assert (finding["observed"], finding["threshold"], finding["severity"]) == (1, 2, "error")
    assert finding["threshold_file"] == "policy/policy.yaml"


def test_a_report_measuring_every_secret_column_passes(synthgov: Synthgov, base: Path) -> None:
    on_main(base, CARD, card_with(secret_columns="[fraud, region]"))
    add_release(base, [*PASSING, {**INFERENCE, "column": "region"}])
    assert gate(synthgov, base)["verdict"] == "pass"


def test_a_report_without_one_subgroup_columns_gap_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, CARD, card_with(subgroup_columns="[region, fraud]"))
    add_release(base)  # PASSING has the shortfalls of region's groups only
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert rules(data)["coverage.subgroup.shortfall"] == "error"


def test_a_subgroup_column_too_small_to_measure_is_inconclusive_not_uncovered(
    synthgov: Synthgov, base: Path
) -> None:
    """A column the report notes as unmeasurable at its size (and the size bears that out)
    is the metric gate's inconclusive figure, not a hole in the coverage."""
    import json

    on_main(base, CARD, card_with(subgroup_columns="[region, fraud]"))
    add_release(base)
    report = base / RELEASE / "report.json"
    data = json.loads(report.read_text())
    data["inconclusive"] = [
        {
            "id": "subgroup.shortfall",
            "column": "fraud",
            "needs_rows": 6000,
            "reason": "no group of fraud has 30 rows in the real and holdout tables",
        }
    ]
    report.write_text(json.dumps(data, indent=1))
    commit(base, "the report notes that fraud's groups are too small")
    found = rules(gate(synthgov, base))
    assert "coverage.subgroup.shortfall" not in found
    assert found["subgroup.shortfall"] == "error"  # confidential: an inconclusive figure blocks


def test_dropping_a_secret_column_from_the_card_in_the_pull_request_does_not_drop_its_metric(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, CARD, card_with(secret_columns="[fraud, region]"))
    (base / CARD).write_text(card_with(secret_columns="[fraud]"))  # the PR's own card
    add_release(base)
    data = gate(synthgov, base)
    assert rules(data)["coverage.privacy.inference_excess"] == "error"


def test_a_gated_per_column_metric_must_cover_every_column_of_its_kind(
    synthgov: Synthgov, base: Path
) -> None:
    policy = samples.POLICY.replace(
        "  fidelity.detection_auc:\n",
        '  fidelity.ks_complement:\n    metric: fidelity.ks_complement\n    op: ">="\n'
        "    threshold: 0.8\n  fidelity.detection_auc:\n",
    )
    on_main(base, "policy/policy.yaml", policy)
    age = {"id": "fidelity.ks_complement", "column": "age", "value": 0.97}
    add_release(base, [*PASSING, age])  # and none for amount, numeric too
    data = gate(synthgov, base)
    [finding] = [
        f for f in data["releases"][0]["findings"] if f["rule"] == "coverage.fidelity.ks_complement"
    ]
    assert "numeric column amount" in finding["message"] and finding["severity"] == "error"


def test_a_missing_column_of_an_advisory_rule_warns(synthgov: Synthgov, base: Path) -> None:
    metrics = [
        m for m in PASSING if (m["id"], m.get("column")) != ("fidelity.missing_rate_diff", "age")
    ]
    add_release(base, metrics)  # fidelity.missing_rate_diff is advisory in the default policy
    data = gate(synthgov, base)
    assert data["verdict"] == "pass"
    assert rules(data)["coverage.fidelity.missing_rate_diff"] == "warning"


def test_every_per_column_metric_says_which_columns_it_must_cover() -> None:
    """A new per-column metric id needs its line in `coverage.COLUMNS`, or a report could
    leave out any column of it unnoticed."""
    per_column = {m for m, spec in METRICS.items() if spec.scope is Scope.COLUMN}
    assert per_column == set(COLUMNS)
    assert set(ColumnType) > NUMERIC_TYPES
