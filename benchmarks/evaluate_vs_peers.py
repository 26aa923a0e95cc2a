"""Benchmark: `synthgov evaluate` against SDMetrics 0.32 and Anonymeter 1.1 on the same tables.

BRIEF §7: on 50,000 rows x 15 mixed columns, `synthgov evaluate` is at least 5x faster
than the same metrics from the peers, with values that agree. For each row count this
writes a seeded mixed table (benchmarks/mixed_tables.py: real, holdout, synthetic and the
card), runs `synthgov evaluate` end to end (a subprocess of this venv), then the peers
(benchmarks/peers.py in the peer venv, a subprocess), and prints:

- every comparable metric side by side with |difference| and whether it agrees:
  deterministic metrics within 1e-6, DCR within 1e-4, estimates (Anonymeter's risks, the
  DCR baseline's random table, DCR values that the peer could only afford on a slice)
  within their confidence intervals: |ours - peer| <= sqrt(a^2 + b^2), a and b the
  half-widths of the two intervals on the sides that face each other;
- seconds per family and end to end, and the ratio peer / synthgov;
- peak RSS of both processes.

The peer's exact DCR is quadratic (≈ 200 s per metric at 5k rows, hours at 50k): above
`--exact-dcr-rows` its DCR metrics run on a 1,000-row synthetic slice against the full
reference tables, their time scaled linearly to all rows, marked `extrapolated`.

    .venv/bin/python benchmarks/evaluate_vs_peers.py [--rows 5000,50000] [--seed 0]
        [--peer-python .venv-peers/bin/python] [--workdir DIR] [--json OUT]

The peer interpreter also comes from $SYNTHGOV_PEER_PYTHON. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mixed_tables

HERE = Path(__file__).resolve().parent
SYNTHGOV = Path(sys.executable).parent / "synthgov"
PEERS = HERE / "peers.py"
DETERMINISTIC, DCR = 1e-6, 1e-4

#: synthgov id -> (peer metric, peer key or None for the measurement's column/pair, how)
COLUMN_MAP: dict[str, tuple[str, str | None, str]] = {
    "fidelity.ks_complement": ("KSComplement", None, "exact"),
    "fidelity.tv_complement": ("TVComplement", None, "exact"),
    "fidelity.boundary_adherence": ("BoundaryAdherence", None, "exact"),
    "fidelity.category_adherence": ("CategoryAdherence", None, "exact"),
    "fidelity.missing_rate_diff": ("MissingValueSimilarity", None, "complement"),
    "fidelity.correlation_similarity": ("CorrelationSimilarity", None, "exact"),
    "fidelity.contingency_similarity": ("ContingencySimilarity", None, "exact"),
    "fidelity.column_shapes": ("QualityReport", "Column Shapes", "exact"),
    "fidelity.column_pair_trends": ("QualityReport", "Column Pair Trends", "exact"),
    "fidelity.logistic_detection": ("LogisticDetection", "score", "exact"),
    "privacy.dcr_overfitting_protection": ("DCROverfittingProtection", "score", "dcr"),
    "privacy.dcr_share_closer_to_train": ("DCROverfittingProtection", "closer_to_training", "dcr"),
    "privacy.dcr_median": ("calculate_dcr", "median", "dcr"),
    "privacy.dcr_baseline_protection": ("DCRBaselineProtection", "score", "estimate"),
    "privacy.singling_out_risk": ("SinglingOut", "risk_per_query", "estimate"),
    "privacy.linkability_risk": ("Linkability", "risk", "estimate"),
    "privacy.inference_risk": ("Inference", None, "estimate"),
}
#: the peer calls that give every value synthgov's families report (the QualityReport's
#: details hold the per-column KS/TV and per-pair scores, so the standalone calls are extra)
FAMILY_PEERS = {
    "fidelity": (
        "QualityReport",
        "BoundaryAdherence",
        "CategoryAdherence",
        "MissingValueSimilarity",
        "LogisticDetection",
    ),
    "privacy": (
        "DCROverfittingProtection",
        "calculate_dcr",
        "DCRBaselineProtection",
        "SinglingOut",
        "Linkability",
        "Inference",
    ),
}


def peer_spec(
    card: Any, paths: dict[str, Path], seed: int, metrics: list[dict[str, Any]]
) -> dict[str, Any]:
    """The peers' spec for the tables at `paths`, with synthgov's seeds and attack sizes.

    Linkability's auxiliary sets split the non-target columns alternately in card order,
    inference uses every other column against each secret (BRIEF §10.18); `metrics` (the
    report's) supply the detection fold seed and the number of attacks, so both sides draw
    alike where the peer lets them.
    """
    columns = [{"name": c.name, "type": str(c.type.value)} for c in card.columns]
    target = card.target.column if card.target else None
    features = [c["name"] for c in columns if c["name"] != target]
    by_id = {m["id"]: m for m in metrics}
    secrets = list(card.secret_columns) or ([target] if target else [])
    numeric = {c["name"] for c in columns if c["type"] in ("integer", "number", "date", "datetime")}
    requested = [m["n_attacks_requested"] for m in metrics if "n_attacks_requested" in m]
    spec: dict[str, Any] = {
        **{role: str(paths[role]) for role in mixed_tables.ROLES},
        "columns": columns,
        "target": target,
        "aux_cols": [features[0::2], features[1::2]],
        "secrets": [{"column": s, "regression": s in numeric} for s in secrets],
        "seed": seed,
        "n_attacks": int(max(requested, default=2000)),
        "n_cols": 3,
    }
    # synthgov's stream for a step is default_rng([seed, crc32(step)]) (Context.rng)
    spec["singling_out_seed"] = [seed, zlib.crc32(b"privacy.singling_out_risk")]
    fold_seed = by_id.get("fidelity.logistic_detection", {}).get("fold_seed")
    if fold_seed is not None:
        spec["detection_seed"] = int(fold_seed)
    return spec


@dataclass(frozen=True)
class Row:
    id: str
    where: str
    ours: float
    peer: float | None
    tolerance: float | None  # None: no peer value
    kind: str
    note: str = ""

    @property
    def diff(self) -> float | None:
        return None if self.peer is None else abs(self.ours - self.peer)

    @property
    def agrees(self) -> bool:
        return self.diff is not None and self.tolerance is not None and self.diff <= self.tolerance


def _where(metric: dict[str, Any]) -> str:
    if "columns" in metric:
        return "|".join(metric["columns"])
    return str(metric.get("column", ""))


def _peer_entry(peer: dict[str, Any], name: str, metric: dict[str, Any]) -> dict[str, Any] | None:
    values = peer["metrics"]
    if name == "Inference":
        found: dict[str, Any] | None = values.get(f"Inference[{metric.get('column')}]")
        return found
    entry: dict[str, Any] | None = values.get(name)
    if entry is not None and "columns" in metric:
        a, b = metric["columns"]
        if f"{a}|{b}" not in entry and f"{b}|{a}" in entry:
            entry = {**entry, f"{a}|{b}": entry[f"{b}|{a}"]}
    return entry


def _facing(value: float, ci: list[float] | None, other: float) -> float:
    """The half-width of `ci` on the side of `value` that faces `other` (0 without a ci)."""
    if not ci:
        return 0.0
    return (ci[1] - value) if other > value else (value - ci[0])


def compare(metrics: list[dict[str, Any]], peer: dict[str, Any]) -> list[Row]:
    """One row per synthgov metric that has a peer counterpart (see COLUMN_MAP)."""
    rows = []
    for metric in metrics:
        if metric["id"] not in COLUMN_MAP or "rule" in metric or "group" in metric:
            continue
        name, key, how = COLUMN_MAP[metric["id"]]
        entry = _peer_entry(peer, name, metric)
        where = _where(metric)
        ours = float(metric["value"])
        raw = (
            None if entry is None else entry.get(key or ("risk" if name == "Inference" else where))
        )
        if raw is None:
            error = peer.get("errors", {}).get(name, "no peer value")
            rows.append(Row(metric["id"], where, ours, None, None, how, error[:60]))
            continue
        value = 1.0 - float(raw) if how == "complement" else float(raw)
        note = ""
        assert entry is not None
        if entry.get("extrapolated"):
            how, note = "estimate", f"peer on {entry['n']} queries"
        peer_ci = entry.get(f"{key}_ci", entry.get("ci"))
        if how == "estimate":
            a = _facing(ours, metric.get("ci"), value)
            b = _facing(value, peer_ci, ours)
            tolerance = math.hypot(a, b)
            if not metric.get("ci") and not peer_ci:
                tolerance, note = 0.02, note or "no ci: fixed 0.02"
        else:
            tolerance = DCR if how == "dcr" else DETERMINISTIC
        rows.append(Row(metric["id"], where, ours, value, tolerance, how, note))
    return rows


def slice_rows(card: Any, paths: dict[str, Path], peer: dict[str, Any]) -> list[Row]:
    """synthgov's DCR kernel on the peer's extrapolation slice: the same queries, exactly.

    Where the peer could only afford a slice, its values estimate ours; on its own slice
    they must equal ours (1e-4), which checks the kernel itself at full reference size.
    """
    import numpy as np

    from synthgov.metrics import distance
    from synthgov.metrics.encoding import ROLES, encode
    from synthgov.metrics.tables import read_table

    picked = np.array(peer.get("dcr_slice_rows", []), dtype=np.int64)
    values = peer["metrics"]
    if not picked.size or "DCROverfittingProtection" not in values or "calculate_dcr" not in values:
        return []
    frames = {role: read_table(paths[role])[0] for role in ROLES}
    tables, _ = encode(card, frames, {role: str(paths[role]) for role in ROLES})
    numeric = distance.numeric_mask(tables)
    queries = distance.matrix(tables, "synthetic")[picked]
    to_train = distance.dcr(queries, distance.matrix(tables, "real"), numeric)
    to_holdout = distance.dcr(queries, distance.matrix(tables, "holdout"), numeric)
    p = float(np.mean(to_train < to_holdout))
    where, note = "peer's slice", f"synthgov's kernel on the peer's {len(picked)} queries"
    ours = {
        "privacy.dcr_share_closer_to_train": (
            p,
            values["DCROverfittingProtection"]["closer_to_training"],
        ),
        "privacy.dcr_overfitting_protection": (
            min(2 * (1 - p), 1.0),
            values["DCROverfittingProtection"]["score"],
        ),
        "privacy.dcr_median": (float(np.median(to_train)), values["calculate_dcr"]["median"]),
    }
    return [Row(id, where, mine, theirs, DCR, "dcr", note) for id, (mine, theirs) in ours.items()]


def run_measured(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Wall seconds, peak RSS (MB) of the child, and its result."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace"))
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024, result


def canonical_order(paths: dict[str, Path]) -> None:
    """Rewrite the three CSVs in synthgov's canonical row order (`metrics.rows`), so that the
    peers' row-order-dependent draws (LogisticDetection's folds) see the rows synthgov sees;
    `evaluate` itself would put them in that order whatever order the files had."""
    import numpy as np

    from synthgov.files.governance import load_bytes
    from synthgov.metrics import rows
    from synthgov.metrics.encoding import ROLES as ENCODED
    from synthgov.metrics.encoding import encode
    from synthgov.metrics.tables import read_table
    from synthgov.models import Card

    card = load_bytes(paths["card"].read_bytes(), str(paths["card"]), Card).model
    frames = {role: read_table(paths[role])[0] for role in ENCODED}
    tables, _ = encode(card, frames, {role: str(paths[role]) for role in ENCODED})  # type: ignore[arg-type]
    for role in ENCODED:
        order = np.argsort(rows.row_hashes(tables, role), kind="stable")
        paths[role].write_bytes(mixed_tables.to_csv(frames[role].iloc[order]))


def evaluate_once(
    rows: int, seed: int, folder: Path, peer_python: str, exact_dcr_rows: int, leaky: bool
) -> dict[str, Any]:
    from synthgov.files.governance import load_bytes
    from synthgov.models import Card

    paths = mixed_tables.write(folder, rows, seed, leaky)
    canonical_order(paths)
    report_path = folder / "report.json"
    report_path.unlink(missing_ok=True)
    ours_seconds, ours_rss, _ = run_measured(
        [
            str(SYNTHGOV),
            "evaluate",
            "--card",
            str(paths["card"]),
            "--real",
            str(paths["real"]),
            "--holdout",
            str(paths["holdout"]),
            "--synthetic",
            str(paths["synthetic"]),
            "-o",
            str(report_path),
            "--seed",
            str(seed),
            "--quiet",
        ]
    )
    report = json.loads(report_path.read_text())
    card = load_bytes(paths["card"].read_bytes(), str(paths["card"]), Card).model
    spec = peer_spec(card, paths, seed, report["metrics"])
    spec["dcr"] = "exact" if rows <= exact_dcr_rows else "extrapolate"
    spec["dcr_queries"] = 1000
    spec_path, peer_path = folder / "peer-spec.json", folder / "peers.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    peer_seconds, peer_rss, _ = run_measured(
        [peer_python, str(PEERS), str(spec_path), "-o", str(peer_path)]
    )
    peer = json.loads(peer_path.read_text())
    return {
        "rows": rows,
        "report": report,
        "peer": peer,
        "ours": {"wall_seconds": ours_seconds, "peak_rss_mb": ours_rss},
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "peer_process": {"wall_seconds": peer_seconds, "peak_rss_mb": peer_rss},
        "comparison": [
            row.__dict__ | {"diff": row.diff, "agrees": row.agrees}
            for row in compare(report["metrics"], peer) + slice_rows(card, paths, peer)
        ],
    }


def _family_seconds(peer: dict[str, Any], names: tuple[str, ...]) -> float:
    return float(sum(s for metric, s in peer["seconds"].items() if metric.split("[")[0] in names))


def render(result: dict[str, Any]) -> str:
    """The side-by-side table, the timing ratios and the memory of one row count."""
    peer, report = result["peer"], result["report"]
    lines = [
        f"== {result['rows']:,} rows x {report['inputs']['real']['columns']} columns "
        f"(peers: {', '.join(f'{k} {v}' for k, v in peer['versions'].items() if k in ('sdmetrics', 'anonymeter'))})"
    ]
    lines.append(
        f"{'metric':38} {'column(s)':28} {'synthgov':>12} {'peer':>12} {'|diff|':>10} {'tol':>9}  agree"
    )
    rows = [
        Row(**{k: v for k, v in r.items() if k not in ("diff", "agrees")})
        for r in result["comparison"]
    ]
    for row in rows:
        peer_text = "-" if row.peer is None else f"{row.peer:12.6f}"
        diff = "-" if row.diff is None else f"{row.diff:10.2e}"
        tol = "-" if row.tolerance is None else f"{row.tolerance:9.1e}"
        verdict = "yes" if row.agrees else "NO"
        lines.append(
            f"{row.id:38} {row.where[:28]:28} {row.ours:12.6f} {peer_text:>12} {diff:>10} {tol:>9}  "
            f"{verdict} {row.kind}{' (' + row.note + ')' if row.note else ''}"
        )
    agreeing = sum(row.agrees for row in rows)
    lines.append(f"agreement: {agreeing}/{len(rows)} metrics")
    ours = report["seconds"]
    lines.append(f"{'family':12} {'synthgov s':>11} {'peer s':>11} {'ratio':>8}")
    total_peer = peer.get("import_seconds", 0.0) + peer.get("load_seconds", 0.0)
    for family, names in FAMILY_PEERS.items():
        theirs = _family_seconds(peer, names)
        total_peer += theirs
        lines.append(
            f"{family:12} {ours.get(family, 0.0):11.2f} {theirs:11.2f} {theirs / max(ours.get(family, 0.0), 1e-9):8.1f}x"
        )
    for name, info in peer.get("extrapolated", {}).items():
        lines.append(
            f"  peer {name}: {info['measured_seconds']:.1f} s on {info['queries']} queries, "
            f"x{info['factor']:.0f} -> {peer['seconds'][name]:.0f} s (extrapolated)"
        )
    extra = sum(
        s
        for m, s in peer["seconds"].items()
        if m.split("[")[0] not in sum(FAMILY_PEERS.values(), ())
    )
    lines.append("synthgov seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in ours.items()))
    wall = result["ours"]["wall_seconds"]
    lines.append(
        f"end to end: synthgov {wall:.2f} s (whole `synthgov evaluate` process, all families), "
        f"peer {total_peer:.1f} s (import + read + the calls above; standalone duplicates "
        f"{extra:.1f} s not counted) -> {total_peer / wall:.1f}x"
    )
    lines.append(
        f"peak RSS: synthgov {result['ours']['peak_rss_mb']:.0f} MB, "
        f"peer process {result['peer_process']['peak_rss_mb']:.0f} MB"
    )
    lines.append(
        f"machine: {result['cpus']} CPUs, load average after the run {result['load_average'][0]:.1f}"
    )
    errors = peer.get("errors", {})
    if errors:
        lines.append("peer errors: " + "; ".join(f"{k}: {v[:80]}" for k, v in errors.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5000,50000", help="comma-separated row counts per table")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--peer-python", default=os.environ.get("SYNTHGOV_PEER_PYTHON", ".venv-peers/bin/python")
    )
    parser.add_argument(
        "--exact-dcr-rows",
        type=int,
        default=10_000,
        help="above this, the peer's DCR runs on a 1,000-row slice, extrapolated",
    )
    parser.add_argument(
        "--leaky", action="store_true", help="synthetic rows copied from the real ones"
    )
    parser.add_argument("--workdir", type=Path, help="keep the tables and outputs here")
    parser.add_argument("--json", type=Path, help="also write every number here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="synthgov-peers-") as scratch:
        for rows in (int(r) for r in args.rows.split(",")):
            folder = (args.workdir or Path(scratch)) / f"rows-{rows}"
            folder.mkdir(parents=True, exist_ok=True)
            result = evaluate_once(
                rows, args.seed, folder, args.peer_python, args.exact_dcr_rows, args.leaky
            )
            print(render(result), flush=True)
            results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
