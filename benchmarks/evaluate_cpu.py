"""Where `synthgov evaluate`'s time goes on a busy machine: CPU per family, all threads and main thread.

On a machine shared with other jobs wall times say little; CPU times say more. Per family
this runs `evaluate` in this process on the 15-column mixed tables of
benchmarks/mixed_tables.py and reads, at each family's start and end, the CPU time of the
whole process (every thread) and of the main thread. On two idle cores a family takes at
least max(main thread, all threads / 2): the estimate printed is that sum, a lower bound
(it assumes the other threads fill the second core whenever they have work).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/evaluate_cpu.py --rows 1000000 [--tables DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_tables

from synthgov.cli import main as cli
from synthgov.metrics import evaluation


class _Clock:
    """`time` for evaluation.py, whose `seconds` clock is read at each family's edges."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def perf_counter(self) -> float:
        self.marks.append((time.process_time(), time.thread_time()))
        return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tables", type=Path, help="tables written by mixed_tables.py earlier")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.tables or Path(tmp)
        if args.tables is None:
            mixed_tables.write(folder, args.rows, args.seed)
        clock = _Clock()
        evaluation.time = clock  # type: ignore[assignment]
        started = time.process_time(), time.thread_time(), time.perf_counter()
        code = cli(
            ["evaluate", "--quiet", "--card", str(folder / "datasets/mixed-bench/card.yaml")]
            + [f"--{role}={folder / f'{role}.csv'}" for role in mixed_tables.ROLES]
            + ["-o", str(Path(tmp) / "report.json"), "--seed", str(args.seed)]
        )
        if code != 0:
            raise SystemExit(f"synthgov evaluate failed (exit {code})")
        ended = time.process_time(), time.thread_time(), time.perf_counter()
    total = [ended[i] - started[i] for i in range(3)]
    estimate, rest = 0.0, list(total[:2])
    print(f"{'family':12} {'CPU s':>7} {'main':>7} {'idle 2 cores':>13}")
    for i, name in enumerate(evaluation.FAMILIES):
        (cpu0, main0), (cpu1, main1) = clock.marks[2 * i], clock.marks[2 * i + 1]
        cpu, thread = cpu1 - cpu0, main1 - main0
        rest = [rest[0] - cpu, rest[1] - thread]
        estimate += max(thread, cpu / 2)
        print(f"{name:12} {cpu:7.1f} {thread:7.1f} {max(thread, cpu / 2):13.1f}")
    estimate += max(rest[1], rest[0] / 2)
    print(f"{'other':12} {rest[0]:7.1f} {rest[1]:7.1f} {max(rest[1], rest[0] / 2):13.1f}")
    print(
        f"in process: {total[0]:.1f} s CPU, {total[2]:.1f} s wall; "
        f"on two idle cores at least {estimate:.1f} s (interpreter start-up not included)"
    )


if __name__ == "__main__":
    main()
