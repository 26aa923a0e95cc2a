"""Benchmark: `synthgov catalog` on a repository with many releases, each with a release page.

Builds the repository of benchmarks/check_scale.py (N releases over N/10 datasets), but
every release's report.json also carries a real `charts` block: the chart aggregates of
benchmarks/mixed_tables.py's 15-column table (--rows rows, minimum cell count 10), so each
release page draws 15 distribution charts, the 15 × 15 association heatmap and the DCR
chart. Then it times, in process CPU time (best of --runs; the first, untimed run pays
the lazy imports): `synthgov.cli.main(["catalog", ...])` in this process (it draws pages
only for the releases it could judge: here the pull request's, since check_scale commits
the others straight on `main`, not through merges), the catalog's `report_pages` for all N
releases as if each had been judged, and one release page alone (best of 20).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/catalog_scale.py [--releases 1000] [--runs 3]

No pytest, no network; needs git. Results are recorded in docs/benchmarks.md ("catalog").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_scale
import mixed_tables

from synthgov.cli import main as synthgov_main
from synthgov.files.loading import parse_yaml
from synthgov.inventory import DatasetState, ReleaseState
from synthgov.metrics import aggregates
from synthgov.metrics.encoding import ROLES, encode
from synthgov.models import Report
from synthgov.models.card import Card
from synthgov.reporting.catalog import report_pages
from synthgov.reporting.release_report import render

MINIMUM = 10


def charts(rows: int) -> dict[str, Any]:
    """The chart aggregates of the mixed table at `rows` rows, as `evaluate` writes them."""
    frames = mixed_tables.generate(rows)
    card = Card.model_validate(
        parse_yaml(mixed_tables.card_yaml(rows, 0, False).encode(), "card.yaml").data
    )
    tables, _ = encode(card, frames, {role: role for role in ROLES})
    rng = np.random.default_rng(0)
    return aggregates.measure(tables, MINIMUM, (rng.random(rows), rng.random(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    block = charts(args.rows)
    plain = check_scale.report

    def with_charts(dataset: str, card_sha: str, artifact: str) -> str:
        data = json.loads(plain(dataset, card_sha, artifact))
        return json.dumps({**data, "charts": block}, indent=1)

    check_scale.report = with_charts  # every release's report.json carries the block
    tmp = Path(tempfile.mkdtemp(prefix="synthgov-catalog-bench-"))
    try:
        env = check_scale.git_env(tmp / "home")
        (tmp / "home").mkdir()
        repo = tmp / "repo"
        datasets, files, _ = check_scale.build(repo, args.releases, env)
        out = tmp / "site"
        cpu, wall = [], []
        for run in range(args.runs + 1):
            with check_scale.inside(repo, env):
                started, used = time.perf_counter(), time.process_time()
                code = synthgov_main(["catalog", "--out", str(out)])
                seconds, used = time.perf_counter() - started, time.process_time() - used
            if code != 0:
                sys.exit(f"catalog exited {code}")
            if run:  # the first run pays the lazy imports
                cpu.append(used)
                wall.append(seconds)
        pages = sorted((out / "datasets").glob("*@*.html"))
        figures = pages[0].read_text().count('class="chart"')
        report = Report.model_validate(json.loads(with_charts("ds-0000", "a" * 64, "b" * 64)))
        page = []
        for _ in range(20):
            used = time.process_time()
            render(report)
            page.append(time.process_time() - used)
        size = sum(p.stat().st_size for p in pages) / len(pages)
        states = [  # every release judged and holding its report: all get a page
            DatasetState(
                f"ds-{d:04d}",
                None,
                tuple(
                    ReleaseState(f"ds-{d:04d}@1.{v}", f"1.{v}", "pass", report=report)
                    for v in range(check_scale.RELEASES_PER_DATASET)
                ),
            )
            for d in range(datasets)
        ]
        every = []
        for _ in range(args.runs):
            used = time.process_time()
            drawn = report_pages(states)
            every.append(time.process_time() - used)
        print(
            json.dumps(
                {
                    "releases": args.releases,
                    "datasets": datasets,
                    "repo_files": files,
                    "release_pages": len(pages),
                    "figures_per_page": figures,
                    "page_kib_mean": round(size / 1024, 1),
                    "catalog_cpu_best_s": round(min(cpu), 2),
                    "catalog_wall_best_s": round(min(wall), 2),
                    "page_cpu_best_ms": round(1000 * min(page), 2),
                    "report_pages": len(drawn),
                    "report_pages_cpu_best_s": round(min(every), 2),
                    "load_average": round(os.getloadavg()[0], 2),
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
