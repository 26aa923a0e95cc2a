"""`synthgov evaluate`: measure a synthetic table against the real one; write report.json.

The subgroup metric comes from the policy of the card's repository (policy/policy.yaml),
the defaults when the card lives outside one. Progress goes to stderr (a live display
on a terminal, one line per family otherwise, nothing with `--quiet`); the report goes
to the output file, or to stdout with `-o -`. An existing output is replaced only when
it is itself a synthgov metric report; `--html FILE` also writes the release report page
(synthgov/reporting/release_report.py), replacing only an earlier such page.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.consistency import constraint_problems
from synthgov.files.governance import load, load_bytes
from synthgov.files.loading import Loaded
from synthgov.files.paths import MAX_FILE_BYTES, find_root, read_user_file, replace_file, write_new
from synthgov.metrics.evaluation import (
    InputPaths,
    Settings,
    dumps,
    evaluate,
    load_report_target,
    seed_setting,
)
from synthgov.metrics.progress import progress
from synthgov.models import Card, Policy
from synthgov.models.policy import SubgroupPolicy
from synthgov.reporting import outputs

if TYPE_CHECKING:
    from synthgov.metrics.engine import Engine


def run(
    card: Path,
    real: Path | str,
    holdout: Path | str,
    synthetic: Path | str,
    output: str,
    *,
    seed: int | None,
    sample: int | None,
    quiet: bool,
    timings: bool,
    html: Path | None = None,
    scheduler: str | None = None,
    spill_dir: Path | None = None,
) -> int:
    card_bytes = read_user_file(card, "a dataset card (card.yaml)", MAX_FILE_BYTES)
    document = load_bytes(card_bytes, str(card), Card)
    problems = constraint_problems(document)
    if problems:  # before reading any table: a bad rule is a typo, found in a second
        raise InputError(problems)
    loaded = document.model
    target = None if output == "-" else Path(output)
    previous = None
    if target is not None:  # refuse before the work, not after minutes of it
        outputs.file_target(target)  # a regular file or nothing; missing folders created
        previous = load_report_target(target)
    if html is not None:
        _page_target(html)
    policy_document = _policy(card)
    policy = policy_document.model if policy_document is not None else None
    chosen, rule = seed_setting(policy, seed, "--seed")
    subgroups = policy.subgroups if policy is not None else SubgroupPolicy()
    settings = Settings(
        seed=chosen,
        seed_rule=rule,
        sample=sample,
        subgroups=subgroups,
        timings=timings,
        min_cell_count=policy.charts.min_cell_count if policy is not None else 10,
    )
    engine = _engine(scheduler, spill_dir)
    started = time.perf_counter()
    try:
        with progress(quiet) as step:
            report = evaluate(
                loaded,
                card_bytes,
                InputPaths(card, real, holdout, synthetic),
                settings,
                step,
                engine,
            )
    finally:
        if engine is not None:
            engine.close()
    data = dumps(report)
    if target is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write(target, previous, data)
        click.echo(
            f"wrote {target}: {len(report['metrics'])} metrics for {loaded.id} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    if html is not None:
        from synthgov.reporting.release_report import page

        outputs.write_file(html, page(report, policy_document, document))
        if target is not None:
            click.echo(f"wrote {html}: the release report page")
    if policy_document is not None and not quiet:
        _summary(policy_document, document, report)
    return 0


def _page_target(path: Path) -> None:
    """Refuse, before the work, a --html path that holds anything but an earlier page."""
    from synthgov.reporting.release_report import is_page

    outputs.file_target(path)
    if path.is_file() and not is_page(
        read_user_file(path, "a release report page", MAX_FILE_BYTES)
    ):
        raise InputError.at(
            str(path), "exists and is not a synthgov release report page; not overwritten"
        )


def _summary(policy: Loaded[Policy], card: Loaded[Card], report: dict[str, Any]) -> None:
    """On stderr: the metric rules the repository's policy would fail or find inconclusive
    for this card's classification (what `check` will say of them)."""
    from synthgov.decision.rules import Ruling
    from synthgov.gates.metrics import explain, not_applicable, score
    from synthgov.models import Report

    scored = score(policy, card, Report.model_validate(report), card.model.classification)
    shown = [
        s
        for s in scored
        if s.decision is not Ruling.PASS
        and not (s.primary.value is None and not_applicable(s.rule.rule.metric, card.model))
    ]
    tier = card.model.classification.value
    if not shown:
        click.echo(f"every metric rule of the policy passes for a {tier} card", err=True)
        return
    for item in shown:
        click.echo(
            f"{item.decision.value}: {item.rule.rule_id} ({tier}): {explain(item)}", err=True
        )


def _engine(scheduler: str | None, spill_dir: Path | None = None) -> Engine | None:
    """The Dask engine on `scheduler`, None for the in-process default (Dask not imported).

    Raises:
        InputError: a malformed scheduler, a spill directory that is not a writable
            directory, or one without --dask (the in-process engine spills nothing).
    """
    if scheduler is None:
        if spill_dir is not None:
            raise InputError.at(
                "--spill-dir", "only with --dask (without it the tables are held in memory)"
            )
        return None
    from synthgov.metrics.engines.dask import Dask

    return Dask(scheduler, spill_dir)  # checks both before a cluster starts


def _policy(card: Path) -> Loaded[Policy] | None:
    """The policy of the card's repository, None when the card lives outside one."""
    root = find_root(card.resolve().parent)
    if not (root / layout.POLICY).is_file():
        return None
    policy: Loaded[Policy] = load(root, layout.POLICY, Policy)
    return policy


def _write(target: Path, previous: bytes | None, data: bytes) -> None:
    folder = target.parent
    if previous is None:
        write_new(folder, target.name, data)
    else:
        replace_file(folder, target.name, previous, data)
