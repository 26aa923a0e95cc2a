"""The peers' values and timings for one evaluation: SDMetrics 0.32 and Anonymeter 1.1.

Runs INSIDE the peer venv (benchmarks/peers-requirements.txt); it never imports synthgov.
Input is a JSON spec; output is JSON on stdout (or -o FILE):

    {"versions": {...}, "rows": {...}, "config": {...},
     "metrics": {"KSComplement": {"age": 0.97, ...}, "DCROverfittingProtection": {"score": ..}, ...},
     "seconds": {"KSComplement": 0.02, ...}, "extrapolated": {...}, "errors": {...},
     "warnings": {...}, "peak_rss_mb": ...}

Spec keys: `real`, `holdout`, `synthetic` (CSV paths), `columns` ([{"name", "type"}] with
the card's types: integer | number | date | datetime | categorical | boolean | string),
`target`, `aux_cols` ([[...], [...]] for linkability), `secrets` ([{"column",
"regression"}]), `seed`, `n_attacks`, `n_cols` (singling out), `dcr` ("exact" or
"extrapolate"), `dcr_queries` (the slice for "extrapolate", default 1000), optional `only`
(metric names to run), `detection_seed` (the global seed right before LogisticDetection,
so that its folds are synthgov's), `detection_unseen: "drop"` (LogisticDetection on the
synthetic rows whose categories all occur in the real table: the peer's one-hot encoder,
fit on real, raises on any other; the count goes to `dropped_rows`), `singling_out_seed`
(an int or a list: the seed of SinglingOutEvaluator's Generator; synthgov's stream for the
step is `default_rng([seed, crc32(step)])`, so the two draw from the same stream).

Singling out also reports `generated` (queries anonymeter found, up to `n_attacks`) and
`risk_per_query` with `risk_per_query_ci`: the same successes over the queries generated rather
than over `n_attacks` (anonymeter's denominator underestimates the risk when it finds
fewer queries, LeakPro#182; synthgov divides by the queries generated).

Every metric runs after `np.random.seed(seed)`, so the peers' unseeded draws (detection
folds, anonymeter's target samples, the baseline table's missing values) repeat; the DCR
baseline's random table is seeded through its private `_seed` hook (SDMetrics issue #744).
A failing metric is recorded under `errors` with its message, never fatal.

Exact DCR is O(rows^2) in the peer (about 200 s per metric at 5k rows, hours at 50k).
`dcr: extrapolate` runs each DCR metric on a seeded slice of `dcr_queries` synthetic
rows against the FULL reference tables, reports the slice's value with its confidence
interval (Wilson for the share, order statistics for medians), and scales the measured
time linearly to all synthetic rows; both are marked under `extrapolated`, and the slice's
row numbers are in `dcr_slice_rows` (so the same queries can be checked exactly).

    .venv-peers/bin/python benchmarks/peers.py SPEC.json [-o OUT.json]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import json
import math
import platform
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from importlib import metadata as distributions
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = ("integer", "number")
INSTANTS = ("date", "datetime")
Z = 1.959963984540054
TABLE = "table"


def read(path: str, columns: list[dict[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table as SDMetrics and as Anonymeter would be given it by a careful user.

    Both read only an empty field as missing (as synthgov does). SDMetrics gets real
    datetimes and booleans; Anonymeter types columns by pandas dtype, so it gets dates as
    days (numbers) and booleans as labels, matching synthgov's encoding of the card.
    """
    raw = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    sd, an = {}, {}
    for column in columns:
        name, kind = column["name"], column["type"]
        values = raw[name]
        if kind in NUMERIC:
            numbers = pd.to_numeric(values).astype(np.float64)
            whole = kind == "integer" and not numbers.isna().any()
            sd[name] = numbers.astype(np.int64) if whole else numbers
            an[name] = numbers
        elif kind in INSTANTS:
            instants = pd.to_datetime(values, format="ISO8601")
            sd[name] = instants
            unit = 86_400 if kind == "date" else 1
            an[name] = (instants - pd.Timestamp("1970-01-01")).dt.total_seconds() / unit
        elif kind == "boolean":
            flags = values.str.lower()
            sd[name] = flags.map({"true": True, "false": False}).astype(object)
            an[name] = flags.astype(object)
        else:
            sd[name] = values.astype(object)
            an[name] = values.astype(object)
    return pd.DataFrame(sd), pd.DataFrame(an)


def sdtype(kind: str) -> str:
    if kind in NUMERIC:
        return "numerical"
    if kind in INSTANTS:
        return "datetime"
    return "boolean" if kind == "boolean" else "categorical"


class Run:
    """Collects values, timings, errors and warnings, one metric at a time."""

    def __init__(self, seed: int, only: list[str] | None) -> None:
        self.seed = seed
        self.only = set(only) if only else None
        self.metrics: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self.warnings: dict[str, list[str]] = {}
        self.extrapolated: dict[str, Any] = {}
        self.slice_rows: list[int] = []  # the synthetic rows of an extrapolated DCR slice

    def wanted(self, name: str) -> bool:
        return self.only is None or name in self.only

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[dict[str, Any]]:
        values: dict[str, Any] = {}
        np.random.seed(self.seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                yield values
            except Exception as exc:  # a peer failure is a finding, not a crash
                self.errors[name] = f"{type(exc).__name__}: {exc}"[:500]
            self.seconds[name] = time.perf_counter() - start
        if values:
            self.metrics[name] = values
        messages = sorted({str(w.message).splitlines()[0][:200] for w in caught})
        if messages:
            self.warnings[name] = messages[:10]

    def per_column(self, name: str, columns: list[str], compute: Callable[[str], float]) -> None:
        if not self.wanted(name) or not columns:
            return
        with self.timed(name) as values:
            for column in columns:
                values[column] = _number(compute(column))


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _peer(module: str) -> Any:
    """A peer module (imported by name: this file is type-checked where the peers are absent)."""
    return importlib.import_module(module)


def _pair(a: str, b: str) -> str:
    return f"{a}|{b}"


def fidelity(run: Run, spec: dict[str, Any], sd: dict[str, pd.DataFrame]) -> None:
    pairs, columns = _peer("sdmetrics.column_pairs"), _peer("sdmetrics.single_column")
    KSComplement, TVComplement = columns.KSComplement, columns.TVComplement
    BoundaryAdherence, CategoryAdherence = columns.BoundaryAdherence, columns.CategoryAdherence
    MissingValueSimilarity = columns.MissingValueSimilarity
    CorrelationSimilarity, ContingencySimilarity = (
        pairs.CorrelationSimilarity,
        pairs.ContingencySimilarity,
    )
    QualityReport = _peer("sdmetrics.reports").QualityReport
    LogisticDetection = _peer("sdmetrics.single_table").LogisticDetection

    R, S = sd["real"], sd["synthetic"]
    kinds = {c["name"]: c["type"] for c in spec["columns"]}
    numeric = [n for n, k in kinds.items() if k in NUMERIC + INSTANTS]
    categorical = [n for n in kinds if n not in numeric]
    meta = {"columns": {n: {"sdtype": sdtype(k)} for n, k in kinds.items()}}
    tables = {"tables": {TABLE: meta}}

    run.per_column("KSComplement", numeric, lambda c: KSComplement.compute(R[c], S[c]))
    run.per_column("TVComplement", categorical, lambda c: TVComplement.compute(R[c], S[c]))
    run.per_column("BoundaryAdherence", numeric, lambda c: BoundaryAdherence.compute(R[c], S[c]))
    run.per_column(
        "CategoryAdherence", categorical, lambda c: CategoryAdherence.compute(R[c], S[c])
    )
    run.per_column(
        "MissingValueSimilarity", list(kinds), lambda c: MissingValueSimilarity.compute(R[c], S[c])
    )
    if run.wanted("CorrelationSimilarity"):
        with run.timed("CorrelationSimilarity") as values:
            for a, b in itertools.combinations(numeric, 2):
                score = CorrelationSimilarity.compute(R[[a, b]], S[[a, b]], coefficient="Pearson")
                values[_pair(a, b)] = _number(score)
    if run.wanted("ContingencySimilarity"):
        with run.timed("ContingencySimilarity") as values:
            for a, b in itertools.combinations(categorical, 2):
                values[_pair(a, b)] = _number(ContingencySimilarity.compute(R[[a, b]], S[[a, b]]))
    if run.wanted("QualityReport"):
        with run.timed("QualityReport") as values:
            report = QualityReport()
            report.real_correlation_threshold = 0
            report.real_association_threshold = 0
            report.generate({TABLE: R}, {TABLE: S}, tables, verbose=False)
            for prop in ("Column Shapes", "Column Pair Trends"):
                values[prop] = _number(
                    report.get_properties().set_index("Property").loc[prop, "Score"]
                )
            details = report.get_details("Column Pair Trends")
            values["pairs"] = {
                _pair(a, b): _number(s)
                for a, b, s in zip(
                    details["Column 1"], details["Column 2"], details["Score"], strict=True
                )
            }
            values["num_rows_subsample"] = report.num_rows_subsample
    if run.wanted("LogisticDetection"):
        with run.timed("LogisticDetection") as values:
            rows = S
            if spec.get("detection_unseen") == "drop":  # the peer raises on them
                seen = np.logical_and.reduce([S[c].isin(R[c]).to_numpy() for c in categorical])
                rows = S[seen].reset_index(drop=True)
                values["dropped_rows"] = int(len(S) - len(rows))
            if "detection_seed" in spec:  # synthgov's recorded fold seed: the same folds
                np.random.seed(int(spec["detection_seed"]))
            values["score"] = _number(LogisticDetection.compute(R, rows, meta))


def _wilson(successes: float, n: int) -> tuple[float, float]:
    centre = (successes + Z**2 / 2) / (n + Z**2)
    half = Z / (n + Z**2) * math.sqrt(successes * (n - successes) / n + Z**2 / 4)
    return centre - half, centre + half


def _median_ci(values: np.ndarray) -> tuple[float, float]:
    """The distribution-free 95 % interval of a median: binomial order statistics."""
    ordered, n = np.sort(values), len(values)
    low = max(math.floor(n / 2 - Z * math.sqrt(n) / 2), 0)
    high = min(math.ceil(n / 2 + Z * math.sqrt(n) / 2), n - 1)
    return float(ordered[low]), float(ordered[high])


def distance(run: Run, spec: dict[str, Any], sd: dict[str, pd.DataFrame]) -> None:
    single_table = _peer("sdmetrics.single_table")
    DCRBaselineProtection = single_table.DCRBaselineProtection
    DCROverfittingProtection = single_table.DCROverfittingProtection
    calculate_dcr = _peer("sdmetrics.single_table.privacy.dcr_utils").calculate_dcr

    R, H, S = sd["real"], sd["holdout"], sd["synthetic"]
    meta = {"columns": {c["name"]: {"sdtype": sdtype(c["type"])} for c in spec["columns"]}}
    tables = {"tables": {TABLE: meta}}
    queries = len(S)
    if spec.get("dcr", "exact") == "extrapolate" and len(S) > spec.get("dcr_queries", 1000):
        queries = int(spec.get("dcr_queries", 1000))
        picked = np.sort(np.random.default_rng(run.seed).choice(len(S), queries, replace=False))
        S = S.iloc[picked].reset_index(drop=True)
        run.slice_rows = [int(i) for i in picked]
    sliced = queries < len(sd["synthetic"])
    DCRBaselineProtection._seed = run.seed

    def mark(name: str, values: dict[str, Any], intervals: dict[str, tuple[float, float]]) -> None:
        if not sliced or name not in run.seconds:
            return
        measured = run.seconds[name]
        factor = len(sd["synthetic"]) / queries
        run.seconds[name] = measured * factor
        run.extrapolated[name] = {
            "queries": queries,
            "measured_seconds": measured,
            "factor": factor,
        }
        values["extrapolated"] = True
        values["n"] = queries
        for key, (low, high) in intervals.items():
            values[f"{key}_ci"] = [low, high]

    if run.wanted("DCROverfittingProtection"):
        with run.timed("DCROverfittingProtection") as values:
            out = DCROverfittingProtection.compute_breakdown(R, S, H, tables, TABLE)
            values["score"] = _number(out["score"])
            values["closer_to_training"] = _number(
                out["synthetic_data_percentages"]["closer_to_training"]
            )
        if values:
            low, high = _wilson(values["closer_to_training"] * queries, queries)
            mark(
                "DCROverfittingProtection",
                values,
                {
                    "closer_to_training": (low, high),
                    "score": (min(2 * (1 - high), 1), min(2 * (1 - low), 1)),
                },
            )
    if run.wanted("calculate_dcr"):
        with run.timed("calculate_dcr") as values:
            distances = calculate_dcr(S, R, meta).to_numpy(dtype=np.float64)
            values["median"] = _number(np.median(distances))
        if values:
            mark("calculate_dcr", values, {"median": _median_ci(distances)})
    if run.wanted("DCRBaselineProtection"):
        dcr_baseline_protection = _peer("sdmetrics.single_table.privacy.dcr_baseline_protection")
        with (
            run.timed("DCRBaselineProtection") as values,
            _recording(dcr_baseline_protection, "calculate_dcr") as passes,
        ):
            out = DCRBaselineProtection.compute_breakdown(R, S, tables, TABLE)
            values["score"] = _number(out["score"])
            values["synthetic_median"] = _number(out["median_DCR_to_real_data"]["synthetic_data"])
            values["random_median"] = _number(
                out["median_DCR_to_real_data"]["random_data_baseline"]
            )
        if values and len(passes) == 2:
            # the random table is one draw: its median's interval bounds the score's
            synthetic, noise = (p.to_numpy(dtype=np.float64) for p in passes)
            low, high = _median_ci(synthetic) if sliced else (values["synthetic_median"],) * 2
            floor, ceiling = _median_ci(noise)
            values["score_ci"] = [
                min(low / ceiling, 1.0),
                min(high / floor, 1.0) if floor > 0 else 1.0,
            ]
            mark("DCRBaselineProtection", values, {})


def _risk(evaluator: Any, **kwargs: Any) -> dict[str, Any]:
    risk = evaluator.risk(**kwargs)
    return {"risk": _number(risk.value), "ci": [float(risk.ci[0]), float(risk.ci[1])]}


@contextlib.contextmanager
def _recording(module: Any, name: str) -> Iterator[list[Any]]:
    """Record what the peer's own `module.name` returns, without changing what it does.

    The peers compute figures they do not return (the per-row distances behind a median,
    the number of singling-out queries generated); this keeps them for an interval.
    """
    original = getattr(module, name)
    outputs: list[Any] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        outputs.append(original(*args, **kwargs))
        return outputs[-1]

    setattr(module, name, recorded)
    try:
        yield outputs
    finally:
        setattr(module, name, original)


def attacks(run: Run, spec: dict[str, Any], an: dict[str, pd.DataFrame]) -> None:
    evaluators = _peer("anonymeter.evaluators")  # before anonymeter.neighbors (circular import)
    EvaluationResults = _peer("anonymeter.stats.confidence").EvaluationResults

    R, H, S = an["real"], an["holdout"], an["synthetic"]
    n_attacks = int(spec.get("n_attacks", 2000))
    targets = min(n_attacks, len(R), len(H))  # linkability samples targets without replacement
    run.metrics["anonymeter_config"] = {
        "n_attacks": n_attacks,
        "linkability_targets": targets,
        "n_cols": spec.get("n_cols", 3),
    }
    if run.wanted("SinglingOut"):
        singling_out_evaluator = _peer("anonymeter.evaluators.singling_out_evaluator")
        with (
            run.timed("SinglingOut") as values,
            _recording(singling_out_evaluator, "_generate_singling_out_queries") as generations,
        ):
            seed = spec.get("singling_out_seed", run.seed)
            evaluator = evaluators.SinglingOutEvaluator(
                ori=R,
                syn=S,
                control=H,
                n_attacks=n_attacks,
                n_cols=int(spec.get("n_cols", 3)),
                seed=seed,
            ).evaluate(mode="multivariate")
            values.update(_risk(evaluator))
            values["successes"] = len(evaluator.queries())
            generated = values["generated"] = len(generations[0])
            if generated:  # the same counts over the queries generated (LeakPro#182)
                results = evaluator.results()
                per_query = EvaluationResults(
                    n_attacks=(generated, n_attacks, generated),
                    n_success=results.n_success,
                    n_baseline=results.n_baseline,
                    n_control=results.n_control,
                ).risk()
                values["risk_per_query"] = _number(per_query.value)
                values["risk_per_query_ci"] = [float(per_query.ci[0]), float(per_query.ci[1])]
    if run.wanted("Linkability") and spec.get("aux_cols"):
        with run.timed("Linkability") as values:
            first, second = spec["aux_cols"]
            evaluator = evaluators.LinkabilityEvaluator(
                ori=R, syn=S, control=H, aux_cols=(first, second), n_attacks=targets, n_neighbors=1
            ).evaluate()
            values.update(_risk(evaluator))
    for secret in spec.get("secrets", []):
        name = f"Inference[{secret['column']}]"
        if not run.wanted("Inference") and not run.wanted(name):
            continue
        with run.timed(name) as values:
            aux = [c["name"] for c in spec["columns"] if c["name"] != secret["column"]]
            evaluator = evaluators.InferenceEvaluator(
                ori=R,
                syn=S,
                control=H,
                aux_cols=aux,
                secret=secret["column"],
                regression=bool(secret.get("regression", False)),
                n_attacks=n_attacks,
            ).evaluate()
            values.update(_risk(evaluator))
            values["regression"] = bool(secret.get("regression", False))


def versions() -> dict[str, str]:
    found = {
        name: distributions.version(name)
        for name in (
            "sdmetrics",
            "anonymeter",
            "numpy",
            "pandas",
            "scipy",
            "scikit-learn",
            "polars",
            "numba",
        )
    }
    found["python"] = platform.python_version()
    return found


def evaluate(spec: dict[str, Any]) -> dict[str, Any]:
    """Every comparable peer metric on the spec's three tables (see the module docstring)."""
    run = Run(int(spec.get("seed", 0)), spec.get("only"))
    start = time.perf_counter()
    for module in ("anonymeter.evaluators", "sdmetrics.reports", "sdmetrics.single_table"):
        _peer(module)  # the import cost a user pays, timed apart

    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    frames = {role: read(spec[role], spec["columns"]) for role in ("real", "holdout", "synthetic")}
    load_seconds = time.perf_counter() - start
    sd = {role: pair[0] for role, pair in frames.items()}
    an = {role: pair[1] for role, pair in frames.items()}
    fidelity(run, spec, sd)
    distance(run, spec, sd)
    attacks(run, spec, an)
    return {
        "versions": versions(),
        "rows": {role: len(frame) for role, frame in sd.items()},
        "config": {
            key: spec.get(key)
            for key in ("seed", "n_attacks", "n_cols", "dcr", "dcr_queries", "aux_cols", "secrets")
        },
        "metrics": run.metrics,
        "seconds": run.seconds,
        "import_seconds": import_seconds,
        "load_seconds": load_seconds,
        "extrapolated": run.extrapolated,
        "dcr_slice_rows": run.slice_rows,
        "errors": run.errors,
        "warnings": run.warnings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="the JSON spec (see the module docstring)")
    parser.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # import-time deprecations of the peers' dependencies
        result = evaluate(spec)
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
