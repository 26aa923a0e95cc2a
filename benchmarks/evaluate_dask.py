"""`synthgov evaluate --dask local:2` on partitioned Parquet tables of 1M, 10M and 20M rows.

Builds the 15-column mixed tables of benchmarks/mixed_tables.py as Parquet datasets under
/tmp (never the repository): each partition of `--partition-rows` rows is one seeded draw
of `mixed_tables.generate` (its own population, holdout and copula synthetic), written
once and reused by later runs. Each size is evaluated in a fresh child process on a
LocalCluster of `--workers` worker processes (one thread each), which reports the wall
time, the `read` seconds (the distributed map and reduce), every worker's peak resident
memory, and the client's own peak (os.wait4). At `--compare-at` rows the same tables are
also written as single Parquet files and evaluated in-process: the two reports must agree
on everything but the inputs' file names and sha256 (a dataset's digest covers its
partitions).

    .venv/bin/python benchmarks/evaluate_dask.py [--rows 1000000 10000000] [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

ROLES = ("real", "holdout", "synthetic")
FOLDER = Path("/tmp/synthgov-evaluate-dask")


def build(rows: int, partition_rows: int, folder: Path) -> Path:
    """The three datasets of `rows` rows under folder/<rows>, and the card; reused if there."""
    import pandas as pd

    base = folder / str(rows)
    done = base / "done"
    if done.exists():
        return base
    parts = -(-rows // partition_rows)
    for i in range(parts):
        size = min(partition_rows, rows - i * partition_rows)
        frames = mixed_tables.generate(size, seed=i)
        for role in ROLES:
            frame = frames[role]
            frame["opened"] = pd.to_datetime(frame["opened"]).dt.date
            for spec in mixed_tables.COLUMNS:
                if spec.type == "integer":
                    frame[spec.name] = frame[spec.name].astype("Int64")
            target = base / role / f"part-{i:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(target, index=False)
    card = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(mixed_tables.card_yaml(rows, 0, False))
    done.write_text("")
    return base


def single_files(base: Path) -> dict[str, Path]:
    """Each dataset of `base` as one Parquet file (for the in-process comparison)."""
    import pyarrow.parquet as pq

    out = {}
    for role in ROLES:
        out[role] = base / f"{role}.parquet"
        if not out[role].exists():
            pq.write_table(pq.read_table(base / role), out[role])
    return out


def child(args: argparse.Namespace) -> None:
    """In the child: one evaluation through the API, so the workers' peaks can be read."""
    from synthgov.files.governance import load_bytes
    from synthgov.metrics.engine import InProcess
    from synthgov.metrics.engines.dask import Dask
    from synthgov.metrics.evaluation import InputPaths, Settings, dumps, evaluate
    from synthgov.models import Card

    base = Path(args.child)
    card_path = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    raw = card_path.read_bytes()
    card = load_bytes(raw, str(card_path), Card).model
    engine: Any = Dask(args.scheduler) if args.scheduler else InProcess()
    started = time.perf_counter()
    try:
        if args.scheduler:
            tables = [str(base / role) for role in ROLES]
        else:
            tables = [str(base / f"{role}.parquet") for role in ROLES]
        report = evaluate(
            card,
            raw,
            InputPaths(card_path, *tables),
            Settings(seed=0, sample=args.sample),
            None,
            engine,
        )
        wall = time.perf_counter() - started
        peaks = engine.peak_memory() if args.scheduler else {}
        cpu = engine.cpu_seconds() if args.scheduler else {}
    finally:
        engine.close()
    out = Path(args.report)
    out.write_bytes(dumps(report))
    found = {"wall": wall, "seconds": report["seconds"], "workers": peaks, "workers_cpu": cpu}
    Path(args.report + ".run.json").write_text(json.dumps(found))
    print(json.dumps(found))


def rates(base: Path, queries: int) -> dict[str, float]:
    """CPU seconds of one worker's two tasks on the first real partition, in this process:
    reading and encoding it, and searching it for `queries` DCR queries (load on a shared
    machine stretches wall time, not CPU time)."""
    import numpy as np

    from synthgov.files.governance import load_bytes
    from synthgov.metrics import distance
    from synthgov.metrics.engines.dask import Dataset, _encode_partition, _partition_dcr
    from synthgov.metrics.partitions import combine, layout, matrix
    from synthgov.models import Card

    card_path = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    card = load_bytes(card_path.read_bytes(), str(card_path), Card).model
    found = {role: Dataset.find(str(base / role)) for role in ROLES}
    first = {role: (found[role].urls[0], found[role].shown[0]) for role in ROLES}
    started = time.process_time()
    encoded = _encode_partition(*first["real"], card)
    encode_cpu = time.process_time() - started
    parts = {role: [_encode_partition(*first[role], card)] for role in ROLES}
    tables, _ = combine(
        card, {r: [p for p, _ in parts[r]] for r in ROLES}, dict.fromkeys(ROLES, "")
    )
    numeric = distance.numeric_mask(tables)
    real = matrix(encoded[0], layout(tables))
    queries_ = matrix(parts["synthetic"][0][0], layout(tables))[:queries]
    scale = distance.ranges(real, numeric)
    _partition_dcr(*first["real"], encoded[1], queries_[:10], card, layout(tables), numeric, scale)
    started = time.process_time()
    best = _partition_dcr(
        *first["real"], encoded[1], queries_, card, layout(tables), numeric, scale
    )
    search_cpu = time.process_time() - started
    assert isinstance(best, np.ndarray)
    return {"rows": float(encoded[0].rows), "encode_cpu": encode_cpu, "search_cpu": search_cpu}


def run(base: Path, sample: int, scheduler: str | None, report: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(base), "--sample", str(sample)]
    command += ["--report", str(report)] + (["--scheduler", scheduler] if scheduler else [])
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the evaluation of {base} failed (status {status})")
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    found["process_wall"] = time.perf_counter() - started
    found["client_peak"] = usage.ru_maxrss * 1024
    found["client_cpu"] = usage.ru_utime + usage.ru_stime
    return found


def same(a: Path, b: Path) -> bool:
    """Whether two reports agree on everything but the inputs' file names, digests, timings."""
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    for report in (left, right):
        report["seconds"] = {}
        for entry in report["inputs"].values():
            entry.pop("file"), entry.pop("sha256")
    return bool(left == right)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--partition-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--compare-at", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument(
        "--rates", action="store_true", help="only the per-partition CPU rates (tables built)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"load average at start: {os.getloadavg()}", flush=True)
    if args.rates:
        for rows in args.rows:
            found = rates(build(rows, args.partition_rows, args.folder), args.sample)
            print(
                f"{rows:>11,} rows: one partition of {found['rows']:,.0f} rows: read and encoded "
                f"in {found['encode_cpu']:.2f} CPU s; searched by {args.sample} DCR queries in "
                f"{found['search_cpu']:.2f} CPU s (reading and encoding included)",
                flush=True,
            )
        return
    for rows in args.rows:
        started = time.perf_counter()
        base = build(rows, args.partition_rows, args.folder)
        built = time.perf_counter() - started
        parts = len(list((base / "real").glob("*.parquet")))
        report = args.folder / f"report-dask-{rows}.json"
        found = run(base, args.sample, f"local:{args.workers}", report)
        seconds = found["seconds"]
        workers = sorted(found["workers"].values())
        line = (
            f"{rows:>11,} rows, {parts} partitions per table: built in {built:.0f} s; "
            f"wall {found['wall']:.1f} s (read+encode {seconds['read']:.1f} s, "
            f"{seconds['read'] / (3 * parts) * args.workers:.2f} s per partition per worker); "
            f"worker peaks {', '.join(f'{w / 2**20:.0f}' for w in workers)} MiB; "
            f"client peak {found['client_peak'] / 2**20:.0f} MiB; CPU s: workers "
            f"{', '.join(f'{c:.0f}' for c in sorted(found['workers_cpu'].values()))}, "
            f"client {found['client_cpu']:.0f}; "
            f"families {json.dumps({k: v for k, v in seconds.items() if k != 'read'})}"
        )
        print(line, flush=True)
        if rows == args.compare_at:
            single_files(base)
            alone = args.folder / f"report-inprocess-{rows}.json"
            inproc = run(base, args.sample, None, alone)
            print(
                f"{rows:>11,} rows in-process: wall {inproc['wall']:.1f} s, "
                f"CPU {inproc['client_cpu']:.0f} s, client peak "
                f"{inproc['client_peak'] / 2**20:.0f} MiB; reports equal: {same(report, alone)}",
                flush=True,
            )
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
