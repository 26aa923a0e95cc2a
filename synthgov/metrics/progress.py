"""An evaluation for people at a terminal: its steps as they happen, on stderr.

`evaluate`, `release new` and `revalidate` all measure tables, and show it the same way:
rich's live display on a terminal, one line per metric family elsewhere (and on a
`TERM=dumb` terminal, which cannot redraw), nothing when quiet. From the second family
on, each step says the time so far and about how much is left, estimated from the
families done so far (`Estimate`). `evaluate_release` is
the evaluation a release's files get inside a governance repository: the repository's
policy sets the seed rule and the subgroups.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from synthgov.files import governance, layout
from synthgov.metrics.evaluation import FAMILIES
from synthgov.models import Card, Policy


class Estimate:
    """Elapsed and remaining time of an evaluation, from the families done so far: each
    family left is taken to last as long as the mean of those done."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or time.monotonic
        self.started: float | None = None
        self.done = 0

    def label(self, name: str, elapsed: bool = True) -> str:
        """`name` as the step to show: `privacy (6/7; 12 s so far, about 4 s left)`
        (without the time so far where the display shows it)."""
        now = self.clock()
        if self.started is None:
            self.started = now
            return name
        self.done += 1
        if name not in FAMILIES:
            return name
        spent = now - self.started
        position = FAMILIES.index(name) + 1
        left = spent / self.done * (len(FAMILIES) - position + 1)
        so_far = f"{_seconds(spent)} so far, " if elapsed else ""
        return f"{name} ({position}/{len(FAMILIES)}; {so_far}about {_seconds(left)} left)"


def _seconds(value: float) -> str:
    if value < 10:
        return f"{value:.1f} s"
    whole = round(value)
    return f"{whole} s" if whole < 120 else f"{whole // 60} min {whole % 60:02d} s"


class progress:
    """A step callback: rich's live display on a terminal, plain lines elsewhere."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live: Any = None

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda _name: None
        estimate = Estimate()
        if not sys.stderr.isatty() or os.environ.get("TERM", "").lower() == "dumb":
            # a dumb terminal cannot redraw a live display: one plain line per step
            return lambda name: click.echo(f"synthgov evaluate: {estimate.label(name)}", err=True)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.live.start()
        task = self.live.add_task("reading", total=len(FAMILIES))

        def step(name: str) -> None:
            done = FAMILIES.index(name) if name in FAMILIES else 0
            self.live.update(task, description=estimate.label(name, elapsed=False), completed=done)

        return step

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()


def checked_seed(root: Path, seed: int | None) -> None:
    """Refuse an `--eval-seed` the repository's policy does not allow, before anything is
    written or evaluated (`evaluate_release` applies it).

    Raises:
        InputError: the policy cannot be read, or fixes or derives the seed.
    """
    from synthgov.metrics.evaluation import seed_setting

    if seed is not None:
        seed_setting(governance.load(root, layout.POLICY, Policy).model, seed, "--eval-seed")


def evaluate_release(
    root: Path,
    card: Card,
    card_bytes: bytes,
    card_path: str,
    real: Path,
    holdout: Path,
    synthetic: Path,
    seed: int | None,
    quiet: bool,
) -> dict[str, Any]:
    """The report of `synthetic` against `real` and `holdout`, judged by the card at
    `card_path` under the repository's policy (its seed rule and subgroups).

    Raises:
        InputError: the policy, the card or a table cannot be read.
    """
    from synthgov.metrics.evaluation import InputPaths, Settings, evaluate, seed_setting

    policy: Policy = governance.load(root, layout.POLICY, Policy).model
    chosen, rule = seed_setting(policy, seed, "--eval-seed")
    settings = Settings(
        seed=chosen,
        seed_rule=rule,
        subgroups=policy.subgroups,
        min_cell_count=policy.charts.min_cell_count,
    )
    started = time.perf_counter()
    with progress(quiet) as step:
        report = evaluate(
            card, card_bytes, InputPaths(root / card_path, real, holdout, synthetic), settings, step
        )
    if not quiet:
        click.echo(f"evaluated in {time.perf_counter() - started:.1f} s", err=True)
    return report
