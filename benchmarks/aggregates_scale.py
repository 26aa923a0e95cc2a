"""CPU time of the chart aggregates (synthgov.metrics.aggregates) on a mixed table.

Builds the 15-column table of benchmarks/mixed_tables.py at --rows rows, encodes it as
`evaluate` does, then times `aggregates.measure` (best of --repeat, process CPU time, so a
loaded machine distorts it less) and prints the figures and a digest of the block:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/aggregates_scale.py --rows 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

from synthgov.files.loading import parse_yaml
from synthgov.metrics import aggregates
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.models.card import Card


def tables(rows: int, cache: Path | None) -> Tables:
    """The encoded tables, from `cache` when it holds them (encoding 1M rows takes a while)."""
    if cache is not None and cache.exists():
        found: Tables = pickle.loads(cache.read_bytes())
        return found
    frames = mixed_tables.generate(rows)
    text = mixed_tables.card_yaml(rows, 0, False)
    card = Card.model_validate(parse_yaml(text.encode(), "card.yaml").data)
    encoded, _ = encode(card, frames, {role: role for role in ROLES})
    if cache is not None:
        cache.write_bytes(pickle.dumps(encoded))
    return encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    data = tables(args.rows, args.cache)
    rng = np.random.default_rng(0)
    dcr = (rng.random(args.rows), rng.random(args.rows))
    best = {"plan": float("inf"), "count": float("inf"), "block": float("inf")}
    result: dict[str, object] = {}
    for _ in range(args.repeat):
        started = time.process_time()
        plans = aggregates.plan_columns(data)
        planned = time.process_time()
        counts = aggregates.count_columns(plans, data)
        edges = aggregates.plan_dcr(dcr[1])
        counts = aggregates.add(counts, aggregates.count_dcr(edges, *dcr))
        counted = time.process_time()
        result = aggregates.block(plans, counts, 10, edges)
        done = time.process_time()
        for name, seconds in (
            ("plan", planned - started),
            ("count", counted - planned),
            ("block", done - counted),
        ):
            best[name] = min(best[name], seconds)
    digest = hashlib.sha256(json.dumps(result, sort_keys=True).encode()).hexdigest()[:16]
    figures = {k: round(v, 3) for k, v in best.items()}
    print(json.dumps({"rows": args.rows, "cpu_seconds_best": figures, "digest": digest}))


if __name__ == "__main__":
    main()
