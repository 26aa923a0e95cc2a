"""`synthgov evaluate --dask local:2` on partitioned Parquet tables of 1M, 10M and 20M rows.

Builds 15-column mixed tables (the population and card of benchmarks/mixed_tables.py) as
Parquet datasets under /tmp (never the repository): each partition of `--partition-rows`
rows is a seeded numpy draw per role, built as Arrow columns and written with pyarrow one
partition at a time (about 0.4 CPU s per 250,000 rows; memory stays at one partition's),
and reused by later runs. Each size is evaluated in a fresh child process on a
LocalCluster of `--workers` worker processes (one thread each), which reports the wall
time, the `read` seconds (the distributed map and reduce), every worker's peak resident
memory, and the client's own peak and CPU time (getrusage in the child) and its peak
anonymous memory (RssAnon, sampled from /proc every 0.1 s by this process: ru_maxrss also
counts the pages of the tables the client memory-maps from its spill directory, which the
kernel drops under pressure); a run whose client's RssAnon passes `--client-limit-gib` is
stopped. The client's spill directory is made under TMPDIR (else /tmp): 20M rows per table
need about 1.2 GB of Parquet under `--folder` and 7.3 GB free there for the spill
(3 tables x 20M rows x 15 columns x 8 bytes, at most). At `--compare-at` rows the same tables are
also written as single Parquet files and evaluated in-process: the two reports must agree
on everything but the inputs' file names and sha256 (a dataset's digest covers its
partitions).

    .venv/bin/python benchmarks/evaluate_dask.py [--rows 1000000 10000000] [--sample 1000]
    .venv/bin/python benchmarks/evaluate_dask.py --rows 20000000 --distributed-part
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

ROLES = ("real", "holdout", "synthetic")
FOLDER = Path("/tmp/synthgov-evaluate-dask-arrow")
#: how often the parent samples the client's memory (/proc/<pid>/status)
SAMPLE_SECONDS = 0.1


#: the population's categorical levels (those of benchmarks/mixed_tables.py)
REGIONS = ("central", "east", "north", "south", "west")
EDUCATION = ("primary", "secondary", "bachelor", "master", "doctorate")
OCCUPATIONS = (*(f"occ-{i:02d}" for i in range(1, 30)), "astronaut")
PLANS = ("basic", "plus", "premium", "private")
CHANNELS = ("branch", "online", "phone")
EPOCH = np.datetime64("2025-01-01", "D")


def _labels(levels: Sequence[str], codes: np.ndarray, missing: Any = None) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=missing)
    return pc.take(pa.array(levels, pa.large_string()), indices)


def draw(rows: int, rng: np.random.Generator, noise: float = 0.0) -> pa.Table:
    """`rows` customers of the mixed_tables population in the card's 15 columns, drawn with
    numpy and built as Arrow columns (no pandas, no copula fit): about 0.4 CPU s for
    250,000 rows. `noise` jitters income and balance (the synthetic table's draw)."""
    age = np.clip(np.rint(rng.normal(45, 15, rows)), 18, 90)
    school = np.clip(np.rint(rng.normal(1.6 - (age - 45) / 60, 1.0, rows)), 0, 4)
    weights = 1.0 / np.arange(1, 30) ** 0.8
    shares = np.append(weights / weights.sum() * 0.9985, 0.0015)  # one rare occupation
    occupation = np.minimum(np.searchsorted(np.cumsum(shares), rng.random(rows)), 29)
    income = np.round(np.exp(rng.normal(10.2 + 0.18 * school + 0.004 * (age - 45), 0.45, rows)), 2)
    balance = np.round(income * rng.gamma(2.0, 0.08, rows) + rng.normal(0, 800, rows), 2)
    score = np.clip(
        np.rint(560 + 60 * np.log(income / 20_000) + balance / 400 + rng.normal(0, 45, rows)),
        300,
        850,
    )
    products = np.clip(rng.poisson(1.2 + school * 0.3, rows) + 1, 1, 8)
    tenure = np.clip(np.rint(rng.gamma(2.0, (age - 17) * 1.6, rows)), 0, 360)
    opened = EPOCH - (tenure * 30.44 + rng.integers(0, 30, rows)).astype("timedelta64[D]")
    plan = np.digitize(np.log(income) - 10.2 + rng.normal(0, 0.4, rows), [0.0, 0.45, 0.9])
    channel = np.digitize(rng.random(rows) + (age - 45) / 150, [0.35, 0.8])
    card = rng.random(rows) < 1 / (1 + np.exp(0.5 - 0.6 * products + 0.01 * (age - 45)))
    logit = (
        -1.3
        - 0.025 * (age - 45)
        + 0.5 * (plan == 0)
        - 0.004 * (tenure - 60)
        - 0.35 * (products - 2)
        + 0.4 * (channel == 1)
        - balance / 20_000
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    if noise:
        income = np.round(income * np.exp(rng.normal(0, noise, rows)), 2)
        balance = np.round(balance + rng.normal(0, 8_000 * noise, rows), 2)
    gone = {name: rng.random(rows) < mixed_tables.MISSING for name in ("age", "income", "edu")}
    region = np.searchsorted([0.3, 0.55, 0.75, 0.9], rng.random(rows), side="right")
    return pa.table(
        {
            "age": pa.array(age.astype(np.int64), mask=gone["age"]),
            "sex": _labels(["F", "M"], rng.random(rows) >= 0.52),
            "region": _labels(REGIONS, region),
            "education": _labels(EDUCATION, school, gone["edu"]),
            "occupation": _labels(OCCUPATIONS, occupation),
            "income": pa.array(income, mask=gone["income"]),
            "balance": pa.array(balance),
            "credit_score": pa.array(score.astype(np.int64)),
            "n_products": pa.array(products.astype(np.int64)),
            "tenure_months": pa.array(tenure.astype(np.int64)),
            "opened": pa.array(opened),
            "plan": _labels(PLANS, plan),
            "channel": _labels(CHANNELS, channel),
            "has_card": _labels(["false", "true"], card),
            "churned": _labels(["no", "yes"], churned),
        }
    )


def build(rows: int, partition_rows: int, folder: Path) -> Path:
    """The three datasets of `rows` rows under folder/<rows>, and the card; reused if there.

    Partition by partition (memory stays at one partition's), each role its own seeded
    draw: real and holdout from the population, synthetic from it with jitter."""
    base = folder / str(rows)
    done = base / "done"
    if done.exists():
        return base
    for i in range(-(-rows // partition_rows)):
        size = min(partition_rows, rows - i * partition_rows)
        for j, role in enumerate(ROLES):
            table = draw(size, np.random.default_rng([i, j, 20_251_206]), 0.05 * (j == 2))
            target = base / role / f"part-{i:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, target)
    card = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(mixed_tables.card_yaml(rows, 0, False))
    done.write_text("")
    return base


def single_files(base: Path) -> dict[str, Path]:
    """Each dataset of `base` as one Parquet file (for the in-process comparison)."""
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

    def step(name: str) -> None:  # on stderr, so a log shows how far a run got
        # the CPU seconds so far of the client and of the workers (after `read`: the
        # cluster is up), so that a step's CPU is the difference to the next line's
        own = resource.getrusage(resource.RUSAGE_SELF)
        workers = sum(engine.cpu_seconds().values()) if args.scheduler and name != "read" else 0
        print(
            f"  {time.perf_counter() - started:7.1f} s  {name:<11} client RSS "
            f"{_rss(os.getpid()) / 2**20:,.0f} MiB, load {os.getloadavg()[0]:.1f}, CPU s so "
            f"far: client {own.ru_utime + own.ru_stime:.1f}, workers {workers:.1f}",
            file=sys.stderr,
            flush=True,
        )

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
            step,
            engine,
        )
        wall = time.perf_counter() - started
        peaks = engine.peak_memory() if args.scheduler else {}
        cpu = engine.cpu_seconds() if args.scheduler else {}
    finally:
        engine.close()
    out = Path(args.report)
    out.write_bytes(dumps(report))
    own = resource.getrusage(resource.RUSAGE_SELF)
    found = {
        "wall": wall,
        "seconds": report["seconds"],
        "workers": peaks,
        "workers_cpu": cpu,
        "client_self_peak": own.ru_maxrss * 1024,  # this process alone (Linux: KiB)
        "client_self_cpu": own.ru_utime + own.ru_stime,
    }
    Path(args.report + ".run.json").write_text(json.dumps(found))
    print(json.dumps(found))


def distributed_part(args: argparse.Namespace) -> None:
    """In the child: only what runs on the workers today, `load` (footers, read and encode,
    gathered, combined, in canonical order) and one DCR pass of `--sample` synthetic rows
    against every real partition, so that its growth can be measured at sizes whose
    client-side families would take hours on a shared machine."""
    from synthgov.files.governance import load_bytes
    from synthgov.metrics import distance
    from synthgov.metrics.engines.dask import Dask
    from synthgov.models import Card

    base = Path(args.child)
    card_path = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    card = load_bytes(card_path.read_bytes(), str(card_path), Card).model
    engine = Dask(args.scheduler)
    try:
        assert engine.client is not None  # started first: not the table's cost
        started, cpu = time.perf_counter(), time.process_time()
        loaded = engine.load(card, {role: str(base / role) for role in ROLES})
        load = (time.perf_counter() - started, time.process_time() - cpu)
        load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        numeric = distance.numeric_mask(loaded.tables)
        # the real table's ranges column by column (`distance.ranges` of its matrix, without
        # building the whole matrix in memory)
        scale = np.array(
            [
                distance.ranges(c.real.reshape(-1, 1), numeric[j : j + 1])[0]
                for j, c in enumerate(loaded.tables.columns)
            ]
        )
        rows = np.arange(min(args.sample, loaded.tables.rows["synthetic"]))
        queries = distance.matrix(loaded.tables, "synthetic", rows)
        started, cpu = time.perf_counter(), time.process_time()
        assert loaded.search is not None
        loaded.search([queries], "real", numeric, scale).result()
        search = (time.perf_counter() - started, time.process_time() - cpu)
        workers_cpu = engine.cpu_seconds()
        peaks = engine.peak_memory()
    finally:
        engine.close()
    own = resource.getrusage(resource.RUSAGE_SELF)
    found = {
        "load_wall": load[0],
        "load_client_cpu": load[1],
        "load_client_peak": load_peak,
        "search_wall": search[0],
        "search_client_cpu": search[1],
        "workers": peaks,
        "workers_cpu": workers_cpu,
        "client_self_peak": own.ru_maxrss * 1024,
        "client_self_cpu": own.ru_utime + own.ru_stime,
    }
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
    encoded = _encode_partition(*first["real"], card, "real")
    encode_cpu = time.process_time() - started
    parts = {role: [_encode_partition(*first[role], card, role)] for role in ROLES}
    tables, _ = combine(
        card, {r: [p[0] for p in parts[r]] for r in ROLES}, dict.fromkeys(ROLES, "")
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


def _rss(pid: int, field: str = "VmRSS") -> int:
    """The resident memory of process `pid` now, in bytes (Linux /proc): all of it (VmRSS),
    or its anonymous memory alone (RssAnon: not the pages of mapped files, such as the
    spilled tables, which the kernel can write back and drop)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (its LocalCluster's nannies and workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [p for p, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def run(
    base: Path,
    sample: int,
    scheduler: str | None,
    report: Path,
    limit: int,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One evaluation in a child process; killed (with its workers) if the client's anonymous
    memory (RssAnon) passes `limit` bytes, so that a run too big for a shared machine ends
    cleanly. The client's RssAnon and VmRSS are sampled every `SAMPLE_SECONDS`: its
    ru_maxrss counts the pages of the memory-mapped tables too, which the kernel drops
    under pressure, so it overstates what the client needs."""
    command = [sys.executable, __file__, "--child", str(base), "--sample", str(sample)]
    command += ["--report", str(report)] + (["--scheduler", scheduler] if scheduler else [])
    command += list(extra)
    started = time.perf_counter()
    output = report.with_suffix(".stdout")
    with open(output, "w") as handle:
        process = subprocess.Popen(command, stdout=handle, text=True)
    peak_anon = peak_rss = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        try:
            rss, anon = _rss(process.pid), _rss(process.pid, "RssAnon")
        except OSError:
            rss = anon = 0
        peak_anon, peak_rss = max(peak_anon, anon), max(peak_rss, rss)
        if anon > limit:
            below = _descendants(process.pid)
            for victim in [process.pid, *below]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
            os.wait4(process.pid, 0)
            raise SystemExit(
                f"the evaluation of {base} passed the client memory limit: RssAnon "
                f"{anon / 2**30:.1f} GiB after {time.perf_counter() - started:.0f} s; stopped"
            )
        time.sleep(SAMPLE_SECONDS)
    if status != 0:
        raise SystemExit(f"the evaluation of {base} failed (status {status})")
    found: dict[str, Any] = json.loads(output.read_text().strip().splitlines()[-1])
    found["process_wall"] = time.perf_counter() - started
    found["client_peak"] = usage.ru_maxrss * 1024
    found["client_peak_anon"] = peak_anon  # sampled
    found["client_peak_rss"] = peak_rss  # sampled
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
    parser.add_argument(
        "--client-limit-gib",
        type=float,
        default=10.0,
        help="stop a run whose client passes this anonymous memory (RssAnon; a shared machine)",
    )
    parser.add_argument("--compare-at", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument(
        "--rates", action="store_true", help="only the per-partition CPU rates (tables built)"
    )
    parser.add_argument(
        "--distributed-part",
        action="store_true",
        help="only load and one DCR pass (the work on the workers today), no metric families",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        (distributed_part if args.distributed_part else child)(args)
        return
    limit = int(args.client_limit_gib * 2**30)
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
        if args.distributed_part:
            found = run(
                base, args.sample, f"local:{args.workers}", report, limit, ("--distributed-part",)
            )
            print(
                f"{rows:>11,} rows, {parts} partitions per table: built in {built:.0f} s; "
                f"load: wall {found['load_wall']:.1f} s, client CPU {found['load_client_cpu']:.1f}"
                f" s, client peak {found['load_client_peak'] / 2**20:,.0f} MiB; one DCR pass of "
                f"{args.sample} queries: wall {found['search_wall']:.1f} s; worker CPU s "
                f"{', '.join(f'{c:.1f}' for c in sorted(found['workers_cpu'].values()))}; "
                f"worker peaks {', '.join(f'{w / 2**20:.0f}' for w in sorted(found['workers'].values()))}"
                f" MiB; client in all: CPU {found['client_self_cpu']:.1f} s, peak "
                f"{found['client_self_peak'] / 2**20:,.0f} MiB (ru_maxrss), client peak RssAnon "
                f"{found['client_peak_anon'] / 2**20:,.0f} MiB, VmRSS "
                f"{found['client_peak_rss'] / 2**20:,.0f} MiB (sampled)",
                flush=True,
            )
            continue
        found = run(base, args.sample, f"local:{args.workers}", report, limit)
        seconds = found["seconds"]
        workers = sorted(found["workers"].values())
        line = (
            f"{rows:>11,} rows, {parts} partitions per table: built in {built:.0f} s; "
            f"wall {found['wall']:.1f} s (read+encode {seconds['read']:.1f} s, "
            f"{seconds['read'] / (3 * parts) * args.workers:.2f} s per partition per worker); "
            f"worker peaks {', '.join(f'{w / 2**20:.0f}' for w in workers)} MiB; "
            f"client peak {found['client_self_peak'] / 2**20:.0f} MiB (ru_maxrss), RssAnon "
            f"{found['client_peak_anon'] / 2**20:.0f} MiB (sampled); CPU s: workers "
            f"{', '.join(f'{c:.0f}' for c in sorted(found['workers_cpu'].values()))}, "
            f"client {found['client_self_cpu']:.0f}, process tree {found['client_cpu']:.0f}; "
            f"families {json.dumps({k: v for k, v in seconds.items() if k != 'read'})}"
        )
        print(line, flush=True)
        if rows == args.compare_at:
            single_files(base)
            alone = args.folder / f"report-inprocess-{rows}.json"
            inproc = run(base, args.sample, None, alone, limit)
            print(
                f"{rows:>11,} rows in-process: wall {inproc['wall']:.1f} s, "
                f"CPU {inproc['client_self_cpu']:.0f} s, peak "
                f"{inproc['client_self_peak'] / 2**20:.0f} MiB; reports equal: {same(report, alone)}",
                flush=True,
            )
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
