"""`synthgov evaluate` end to end on the worked example's claims table (real files, real metrics)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from synthgov.content import SKETCH_SIZE, derive_seed
from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_csv
from synthgov.metrics.metric_ids import METRICS
from synthgov.models import Report
from tests.helpers.cli import Result, Synthgov

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "datasets/claims/card.yaml"
ROWS = 600


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real train and holdout from one seed; honest synthetic from another; leaky = train copied."""
    folder = tmp_path_factory.mktemp("claims")
    real = claims_rows(seed=0, rows=2 * ROWS)
    honest = [row[2:] for row in claims_rows(seed=7, rows=ROWS)]  # no identifier columns
    synthetic_columns = CLAIMS_COLUMNS[2:]
    return {
        "real": write_csv(folder / "train.csv", real[:ROWS]),
        "holdout": write_csv(folder / "holdout.csv", real[ROWS:]),
        "honest": write_csv(folder / "honest.csv", honest, synthetic_columns),
        "leaky": write_csv(
            folder / "leaky.csv", [row[2:] for row in real[:ROWS]], synthetic_columns
        ),
    }


def _evaluate(
    synthgov: Synthgov, tables: dict[str, Path], out: Path, synthetic: str = "honest", *extra: str
) -> Result:
    return synthgov(
        "evaluate",
        "--card",
        str(CARD),
        "--real",
        str(tables["real"]),
        "--holdout",
        str(tables["holdout"]),
        "--synthetic",
        str(tables[synthetic]),
        "-o",
        str(out),
        "--quiet",
        *extra,
    )


@pytest.fixture(scope="module")
def written(tables: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The honest and the leaky release evaluated once for the module (`--no-timings`):
    name -> its report file, which the tests read and never change."""
    from synthgov.cli import main

    folder = tmp_path_factory.mktemp("reports")
    found = {}
    for name in ("honest", "leaky"):
        out = folder / f"{name}.json"
        code = main(
            [
                "evaluate",
                "--card",
                str(CARD),
                "--real",
                str(tables["real"]),
                "--holdout",
                str(tables["holdout"]),
                "--synthetic",
                str(tables[name]),
                "-o",
                str(out),
                "--quiet",
                "--no-timings",
            ]
        )
        assert code == 0
        found[name] = out
    return found


@pytest.fixture(scope="module")
def reports(written: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {name: json.loads(path.read_text()) for name, path in written.items()}


def _value(report: dict[str, Any], metric: str, column: str | None = None) -> float:
    [entry] = [
        m
        for m in report["metrics"]
        if m["id"] == metric and m.get("column") == column and "rule" not in m
    ]
    return float(entry["value"])


def test_the_report_holds_every_metric_of_the_contract(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["honest"]
    Report.model_validate(report)
    assert set(METRICS) <= {m["id"] for m in report["metrics"]}
    assert report["dataset"] == "claims"
    assert report["inputs"]["real"]["rows"] == ROWS
    assert report["inputs"]["synthetic"]["columns"] == 8
    assert report["config"]["subgroups"] == {"metric": "fidelity.column_shapes", "min_rows": 30}
    assert report["config"]["sample_sizes"], "every sample size is recorded"
    assert {"numpy", "pandas", "scikit-learn"} <= report["environment"].keys()
    rules = {m.get("rule") for m in report["metrics"] if m["id"] == "constraints.validity"}
    assert rules == {None, "non-negative-amount", "discharge-after-admission"}
    assert _value(report, "schema.columns_match") == 1.0
    assert _value(report, "privacy.prohibited_columns_absent") == 1.0


def test_a_leaky_release_scores_worse_on_every_privacy_metric(
    reports: dict[str, dict[str, Any]],
) -> None:
    honest, leaky = reports["honest"], reports["leaky"]
    assert _value(leaky, "privacy.exact_match_rate") == 1.0
    assert _value(honest, "privacy.exact_match_rate") < 0.05
    assert _value(leaky, "privacy.dcr_median") == 0.0 < _value(honest, "privacy.dcr_median")
    for metric in ("privacy.dcr_overfitting_protection", "privacy.dcr_baseline_protection"):
        assert _value(leaky, metric) < _value(honest, metric) - 0.1, metric
    for metric in (
        "privacy.dcr_share_closer_to_train",
        "privacy.mia_auc",
        "privacy.singling_out_risk",
        "privacy.linkability_risk",
    ):
        assert _value(leaky, metric) > _value(honest, metric) + 0.1, metric
    assert _value(leaky, "privacy.inference_risk", "fraud") > _value(
        honest, "privacy.inference_risk", "fraud"
    )


def test_the_same_tables_give_byte_identical_reports_with_the_derived_seed(
    synthgov: Synthgov, tables: dict[str, Path], written: dict[str, Path], tmp_path: Path
) -> None:
    first, second, timed = written["honest"], tmp_path / "b.json", tmp_path / "c.json"
    assert _evaluate(synthgov, tables, second, "honest", "--no-timings").code == 0
    assert first.read_bytes() == second.read_bytes()
    result = _evaluate(synthgov, tables, timed, "honest")
    assert result.code == 0 and "wrote" in result.out
    with_times = json.loads(timed.read_text())
    assert set(with_times["seconds"]) == {
        "read",
        "schema",
        "constraints",
        "fidelity",
        "utility",
        "privacy",
        "subgroup",
    }
    assert {**with_times, "seconds": {}} == json.loads(first.read_text())
    inputs, config = with_times["inputs"], with_times["config"]
    prints = [inputs[role]["fingerprint"] for role in ("real", "holdout", "synthetic")]
    assert config["seed"] == derive_seed(*prints) and config["seed_rule"] == "derived"
    assert len(inputs["synthetic"]["sketch"]) == min(
        SKETCH_SIZE, inputs["synthetic"]["distinct_rows"]
    )


def test_the_same_rows_shuffled_or_as_parquet_give_the_same_report(
    synthgov: Synthgov, tables: dict[str, Path], written: dict[str, Path], tmp_path: Path
) -> None:
    """No re-rolls (BRIEF §11.2): row order, column order and file format change no value."""
    import pandas as pd

    frame = pd.read_csv(tables["honest"])
    shuffled = frame.sample(frac=1.0, random_state=11)[list(reversed(frame.columns))]
    variants = {"shuffled": tmp_path / "shuffled.csv", "parquet": tmp_path / "honest.parquet"}
    shuffled.to_csv(variants["shuffled"], index=False)
    frame.to_parquet(variants["parquet"], index=False)
    reports = {}
    for name, path in [("honest", tables["honest"]), *variants.items()]:
        out = written["honest"] if name == "honest" else tmp_path / f"{name}.json"
        if name != "honest":
            assert _evaluate(synthgov, {**tables, "x": path}, out, "x", "--no-timings").code == 0
        report = json.loads(out.read_text())
        assert report["inputs"]["synthetic"].pop("file") != ""
        report["inputs"]["synthetic"].pop("sha256")  # the bytes differ; nothing else does
        reports[name] = report
    assert reports["shuffled"] == reports["honest"]
    assert reports["parquet"] == reports["honest"]


def test_a_chosen_seed_is_refused_where_the_policy_derives_it(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    result = _evaluate(synthgov, tables, out, "honest", "--seed", "3")
    assert result.code == 2 and not out.exists()
    assert result.err.startswith("--seed: the policy derives the evaluation seed")


def test_an_existing_file_is_replaced_only_when_it_is_a_report(
    synthgov: Synthgov, tables: dict[str, Path], written: dict[str, Path], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}\n')
    result = _evaluate(synthgov, tables, notes)
    assert result.code == 2 and "not a synthgov metric report; not overwritten" in result.err
    assert notes.read_text() == '{"mine": true}\n'
    report = tmp_path / "report.json"
    shutil.copy(written["honest"], report)  # an honest release's report
    assert _evaluate(synthgov, tables, report, "leaky").code == 0
    assert _value(json.loads(report.read_text()), "privacy.exact_match_rate") == 1.0


def test_report_to_stdout(synthgov: Synthgov, tables: dict[str, Path]) -> None:
    result = _evaluate(synthgov, tables, Path("-"), "honest", "--sample", "200")
    assert result.code == 0 and result.err == ""
    report = json.loads(result.out)
    assert report["config"]["sample"] == 200
    sizes = report["config"]["sample_sizes"]
    assert sizes["privacy.dcr"] == sizes["fidelity.detection_auc"] == 200


def _one_line_error(result: Result, *needles: str) -> None:
    assert result.code == 2, result
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_inputs_are_one_line_errors(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    missing = dict(tables, honest=tmp_path / "nope.csv")
    _one_line_error(_evaluate(synthgov, missing, out), "nope.csv", "no such file")

    rows = claims_rows(seed=3, rows=50)
    no_plan = [[v for i, v in enumerate(row) if CLAIMS_COLUMNS[i] != "plan"] for row in rows]
    columns = [c for c in CLAIMS_COLUMNS if c != "plan"]
    holdout = write_csv(tmp_path / "holdout-no-plan.csv", no_plan, columns)
    _one_line_error(
        _evaluate(synthgov, dict(tables, holdout=holdout), out),
        "holdout-no-plan.csv",
        "'plan'",
        "missing",
    )

    empty_age = [[*row[:2], "", *row[3:]] for row in rows]
    real = write_csv(tmp_path / "no-ages.csv", empty_age)
    _one_line_error(
        _evaluate(synthgov, dict(tables, real=real), out), "no-ages.csv", "'age'", "no values"
    )

    header_only = write_csv(tmp_path / "empty.csv", [])
    _one_line_error(
        _evaluate(synthgov, dict(tables, honest=header_only), out), "empty.csv", "no rows"
    )

    every_amount_bad = [[*row[:8], "abc", row[9]] for row in rows]
    synthetic = write_csv(tmp_path / "abc.csv", every_amount_bad)
    _one_line_error(
        _evaluate(synthgov, dict(tables, honest=synthetic), out),
        "abc.csv",
        "'claim_amount'",
        "not numbers",
    )

    (tmp_path / "a-file").write_text("in the way\n")
    _one_line_error(
        _evaluate(synthgov, tables, tmp_path / "a-file" / "r.json"),
        "a-file",
        "a file is in the way",
    )

    wrong = [[*row[:2], "old", *row[3:]] for row in rows]
    real = write_csv(tmp_path / "text-age.csv", wrong)
    _one_line_error(
        _evaluate(synthgov, dict(tables, real=real), out), "text-age.csv", "'age'", "'old'"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("rule", "needle"),
    [("claim_amont >= 0", "unknown column 'claim_amont'"), ("claim_amount >= (0", "')'")],
)
def test_a_bad_constraint_is_a_one_line_error(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path, rule: str, needle: str
) -> None:
    card = tmp_path / "card.yaml"
    card.write_text(CARD.read_text().replace("rule: claim_amount >= 0", f"rule: {rule}"))
    result = synthgov(
        "evaluate",
        "--card",
        str(card),
        "--real",
        str(tables["real"]),
        "--holdout",
        str(tables["holdout"]),
        "--synthetic",
        str(tables["honest"]),
        "-o",
        str(tmp_path / "r.json"),
    )
    _one_line_error(result, "card.yaml", needle)


def test_the_synthetic_table_is_judged_not_refused(
    synthgov: Synthgov, tables: dict[str, Path], tmp_path: Path
) -> None:
    """Card defects in the synthetic table are findings for the schema gate, not bad input."""
    rows = claims_rows(seed=5, rows=200)
    synthetic = write_csv(
        tmp_path / "defects.csv",
        [
            [*row[:7], "2500-01-01" if i == 1 else row[7], "x" if i == 0 else row[8], row[9]]
            for i, row in enumerate(rows)
        ],
    )
    out = tmp_path / "r.json"
    assert _evaluate(synthgov, dict(tables, honest=synthetic), out).code == 0
    report = json.loads(out.read_text())
    assert _value(report, "schema.columns_match") == 0.0  # member_id and email are extra
    assert _value(report, "privacy.prohibited_columns_absent") == 0.0
    assert _value(report, "schema.dtypes_match") == 0.0  # an amount of 'x'
    [dtypes] = [m for m in report["metrics"] if m["id"] == "schema.dtypes_match"]
    assert any("'claim_amount'" in line and "'x'" in line for line in dtypes["problems"])
