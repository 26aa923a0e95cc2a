"""`synthgov check`: the pull-request gate.

Parses nothing but what the command line gave: the decision is `synthgov.decision.run`'s
(trust root on the base, every changed release judged, fail closed), and this module
renders its verdict in the chosen format to stdout or `--output`. Exit 0 when it passes,
1 when a finding blocks; what prevents a decision is exit 2 (BRIEF §10.6).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov.decision import run as decision
from synthgov.reporting import outputs


def run(
    root: Path,
    *,
    base: str | None,
    fmt: str,
    output: Path | None,
    no_git: bool,
    at: datetime | None = None,
    allow_missing_approvals: bool = False,
    scheduled: bool = False,
    pr_author: str | None = None,
) -> int:
    from synthgov.reporting import Format, render

    verdict = decision.check(
        root,
        base=base,
        now=at or datetime.now(UTC),  # the checker's clock, read once (BRIEF §9)
        no_git=no_git,
        enforce=not allow_missing_approvals,
        scheduled=scheduled,
        pr_author=pr_author,
    )
    color = fmt == "text" and output is None and outputs.colour(sys.stdout)
    text = render(verdict, Format(fmt), color=color)
    if output is not None:
        outputs.write_text(output, text)  # once complete: a regular file, folders created
    else:
        click.echo(text, nl=not text.endswith("\n"))
    return verdict.exit_code
