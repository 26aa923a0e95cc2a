"""How `synthgov evaluate` scales with rows: wall time, peak RSS and the sample sizes used.

Writes the 15-column mixed tables of benchmarks/mixed_tables.py at each size into a
temporary folder, runs the real command in a fresh process per size, and reads the
child's peak resident set size from the kernel (os.wait4). BRIEF §7: 1,000,000 rows in
minutes and under 4 GB.

    .venv/bin/python benchmarks/evaluate_scale.py [--rows 50000 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables


def run(rows: int, seed: int, folder: Path) -> dict[str, object]:
    started = time.perf_counter()
    paths = mixed_tables.write(folder / str(rows), rows, seed)
    written = time.perf_counter() - started
    report = folder / f"report-{rows}.json"
    command = [
        sys.executable,
        "-m",
        "synthgov",
        "evaluate",
        "--quiet",
        "--card",
        str(paths["card"]),
        "--real",
        str(paths["real"]),
        "--holdout",
        str(paths["holdout"]),
        "--synthetic",
        str(paths["synthetic"]),
        "-o",
        str(report),
        "--seed",
        str(seed),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"synthgov evaluate failed at {rows} rows (exit {status})")
    data = json.loads(report.read_text())
    return {
        "rows": rows,
        "tables_written_s": round(written, 1),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "seconds": data["seconds"],
        "sample_sizes": data["config"]["sample_sizes"],
        "metrics": len(data["metrics"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            result = run(rows, args.seed, Path(tmp))
            families = "  ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items())  # type: ignore[union-attr]
            print(
                f"\n{rows:>9,} rows x 15 columns: {result['wall_s']} s wall, "
                f"peak RSS {result['peak_rss_mb']} MB, {result['metrics']} metrics"
            )
            print(f"  per family (s): {families}")
            print(f"  sample sizes: {json.dumps(result['sample_sizes'])}")


if __name__ == "__main__":
    main()
