"""The DCR passes of `evaluate` alone: block search against the plain scan, in CPU time.

Builds the 15-column mixed tables of benchmarks/mixed_tables.py at --rows, reads and
encodes them as `evaluate` does, and runs the five DCR passes of `privacy.measure` at
the default sample (10,000 queries against the full reference): synthetic to train and
to holdout, random to train, holdout to train, MIA records to synthetic. For each it
prints CPU seconds (the machine is shared: wall time says more about the others), the
share of row pairs the block search summed, and row pairs per CPU second. `--plain N`
also times the plain scan on the first N queries and checks that both give the same bits.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/distance_search.py --rows 1000000 --plain 500
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

from synthgov.metrics import distance, privacy, rows
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.metrics.tables import read_table
from synthgov.models import Card


def load(count: int, seed: int) -> Tables:
    with tempfile.TemporaryDirectory() as tmp:
        paths = mixed_tables.write(Path(tmp), count, seed)
        card = Card.model_validate(yaml.safe_load(paths["card"].read_text()))
        frames = {role: read_table(paths[role])[0] for role in ROLES}
    tables, _ = encode(card, frames, {role: role for role in ROLES})
    return rows.canonical(tables)[0]


def passes(tables: Tables, queries: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    numeric = distance.numeric_mask(tables)
    real, holdout, synthetic = (distance.matrix(tables, role) for role in ROLES)
    rng = np.random.default_rng(1)

    def some(table: np.ndarray, size: int) -> np.ndarray:
        return table[np.sort(rng.choice(len(table), min(size, len(table)), replace=False))]

    train = distance.ranges(real, numeric)
    noise = privacy.random_table(tables, queries, np.random.default_rng(2))
    members = np.concatenate([some(real, queries // 2), some(holdout, queries // 2)])
    return {
        "synthetic -> train": (some(synthetic, queries), real, distance.ranges(real, numeric)),
        "synthetic -> holdout": (
            some(synthetic, queries),
            holdout,
            distance.ranges(holdout, numeric),
        ),
        "random -> train": (noise, real, train),
        "holdout -> train": (some(holdout, queries), real, train),
        "MIA records -> synthetic": (members, synthetic, train),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=privacy.DEFAULT_QUERIES)
    parser.add_argument("--plain", type=int, default=0, help="queries to time the plain scan on")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tables = load(args.rows, args.seed)
    numeric = distance.numeric_mask(tables)
    warm = distance.matrix(tables, "real")[: 4 * 1024]
    distance.dcr(warm[:4], warm, numeric)  # load the compiled kernels outside the timings
    distance.dcr(warm[:4], warm[:64], numeric)
    total = 0.0
    for name, (queries, reference, scale) in passes(tables, args.queries).items():
        kinds = np.where(numeric, np.where(scale > 0, 1, 2), 0).astype(np.int64)
        queries = np.ascontiguousarray(queries)
        columns = np.ascontiguousarray(reference.T)
        best = np.full(len(queries), np.inf)
        started, cpu = time.perf_counter(), time.process_time()
        scanned = distance.search(queries, columns, kinds, scale, best)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
        total += cpu
        pairs = len(queries) * len(reference)
        line = (
            f"{name:<26} {cpu:6.2f} s CPU {wall:6.2f} s wall  summed {scanned / pairs:7.3%} of "
            f"{pairs:.2e} pairs  {pairs / cpu:.2e} pairs/CPU-s"
        )
        if args.plain:
            part = queries[: args.plain]
            plain = np.full(len(part), np.inf)
            cpu = time.process_time()
            distance._nearest(part, columns, kinds, scale, plain)
            cpu = time.process_time() - cpu
            assert np.array_equal(plain, best[: len(part)]), name
            line += f"  plain scan {len(part) * len(reference) / cpu:.2e} pairs/CPU-s (same bits)"
        print(line, flush=True)
    print(f"five passes: {total:.2f} s CPU")


if __name__ == "__main__":
    main()
