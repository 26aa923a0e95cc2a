"""`synthgov check`: the pull-request gate.

Parses nothing but what the command line gave: the decision is `synthgov.decision.run`'s
(trust root on the base, every changed release judged, fail closed), and this module
renders its one verdict in every format asked for: one to stdout (or `--output`), the
others to their files (`--format sarif=check.sarif`). With the github format and
`$GITHUB_STEP_SUMMARY` set, the Markdown summary is appended to the job summary. Exit 0
when it passes, 1 when a finding blocks; what prevents a decision is exit 2 (BRIEF §10.6).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov.decision import run as decision
from synthgov.reporting import outputs

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

Target = tuple[str, Path | None]  # a format and its file (None: stdout)


def targets(formats: Sequence[Target], output: Path | None) -> list[Target]:
    """Where each format goes: at most one to stdout (or `--output`), no file twice.

    Raises:
        click.UsageError: two formats for stdout, `--output` beside several formats or a
            FORMAT=PATH, or two formats for one file.
    """
    chosen = list(formats) or [("text", None)]
    if output is not None:
        if len(chosen) != 1 or chosen[0][1] is not None:
            raise click.UsageError(
                "--output names the file of a single --format; with several, write each "
                "as FORMAT=PATH"
            )
        chosen = [(chosen[0][0], output)]
    shown = [fmt for fmt, path in chosen if path is None]
    if len(shown) > 1:
        raise click.UsageError(
            f"only one format can go to stdout, not {' and '.join(shown)}; "
            "write the others as FORMAT=PATH"
        )
    files = [path.absolute() for _, path in chosen if path is not None]
    twice = next((path for path in files if files.count(path) > 1), None)
    if twice is not None:
        raise click.UsageError(f"two formats would be written to the same file {twice}")
    return chosen


def summary_file(chosen: Sequence[Target], environ: Mapping[str, str]) -> Path | None:
    """The job summary the Markdown report is appended to: `$GITHUB_STEP_SUMMARY` when the
    github format is asked for, unless Markdown is already written there."""
    where = environ.get(STEP_SUMMARY, "")
    if not where or not any(fmt == "github" for fmt, _ in chosen):
        return None
    path = Path(where)
    if any(fmt == "markdown" and p is not None and _same(p, path) for fmt, p in chosen):
        return None
    return path


def _same(one: Path, other: Path) -> bool:
    return os.path.abspath(one) == os.path.abspath(other)


def run(
    root: Path,
    *,
    base: str | None,
    formats: Sequence[Target] = (),
    output: Path | None = None,
    no_git: bool,
    at: datetime | None = None,
    allow_missing_approvals: bool = False,
    scheduled: bool = False,
    pr_author: str | None = None,
) -> int:
    from synthgov.reporting import Format, render

    chosen = targets(formats, output)  # usage errors before any work
    summary = summary_file(chosen, os.environ)
    for file in [p for _, p in chosen if p is not None] + ([summary] if summary else []):
        outputs.file_target(file)  # a FIFO or a folder in the way: refused before deciding
    verdict = decision.check(
        root,
        base=base,
        now=at or datetime.now(UTC),  # the checker's clock, read once (BRIEF §9)
        no_git=no_git,
        enforce=not allow_missing_approvals,
        scheduled=scheduled,
        pr_author=pr_author,
    )
    color = outputs.colour(sys.stdout)
    shown = None
    for fmt, path in chosen:  # one verdict, rendered once per output
        if path is not None:
            outputs.write_text(path, render(verdict, Format(fmt)))  # complete, then renamed
        else:
            shown = render(verdict, Format(fmt), color=color and fmt == "text")
    if summary is not None:
        outputs.append_text(summary, render(verdict, Format.MARKDOWN))
    if shown is not None:
        click.echo(shown, nl=not shown.endswith("\n"))
    return verdict.exit_code
