"""Singling out alone on a `--dask local:2` client: its CPU and its anonymous memory.

Loads the Parquet datasets that `benchmarks/evaluate_dask.py` built for `--rows` (under
/tmp/synthgov-evaluate-dask-arrow, run it first), then runs `attacks._coded` and
`attacks.singling_out` in this process, the Dask client, as `evaluate --dask` does, and
prints each one's CPU seconds and how far the client's RssAnon rose above its level
after `load` (sampled from /proc/self/status every 20 ms by a thread). `--json FILE`
writes the measurements, so that two versions can be compared bit for bit. The whole
evaluation's figures come from evaluate_dask.py; this isolates the attack.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/singling_out_client.py --rows 2000000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

from synthgov.files.governance import load_bytes
from synthgov.metrics import attacks
from synthgov.metrics.encoding import ROLES
from synthgov.metrics.engines.dask import Dask
from synthgov.metrics.measurement import Context
from synthgov.models import Card

FOLDER = Path("/tmp/synthgov-evaluate-dask-arrow")


def anonymous_mib() -> int:
    """This process's RssAnon in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon"):
                return int(line.split()[1]) // 1024
    return 0


class Peak:
    """The highest RssAnon seen by a sampling thread since the last `reset`."""

    def __init__(self) -> None:
        self.value, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.value = max(self.value, anonymous_mib())
            time.sleep(0.02)

    def reset(self) -> None:
        self.value = anonymous_mib()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--attacks", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base = args.folder / str(args.rows)
    card_path = base / "datasets" / mixed_tables.DATASET / "card.yaml"
    card = load_bytes(card_path.read_bytes(), str(card_path), Card).model
    engine = Dask("local:2")
    try:
        loaded = engine.load(card, {role: str(base / role) for role in ROLES})
        context = Context(seed=1, n_attacks=args.attacks, allocate=loaded.allocate)
        gc.collect()
        before = anonymous_mib()
        peak = Peak()
        started = time.process_time()
        coded = attacks._coded(loaded.tables, context.allocate)
        middle = time.process_time()
        print(f"_coded: {middle - started:.2f} CPU s, RssAnon +{peak.value - before} MiB")
        del coded
        gc.collect()
        peak.reset()
        found = attacks.singling_out(loaded.tables, context)
        ended = time.process_time()
        peak.stop()
        print(
            f"singling_out (its _coded included): {ended - middle:.2f} CPU s, RssAnon "
            f"+{peak.value - before} MiB over {before} MiB after load"
        )
        if args.json:
            args.json.write_text(json.dumps([m.as_json() for m in found], indent=1))
    finally:
        engine.close()


if __name__ == "__main__":
    main()
