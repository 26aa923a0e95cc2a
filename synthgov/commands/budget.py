"""`synthgov budget new|debit|status`: the privacy-budget ledgers budgets/SOURCE.yaml.

`new`: the cap's options fix the accounting notion for the ledger's whole life (BRIEF
§10.9): `--epsilon` alone is pure DP, `--epsilon --delta` approximate DP, `--rho --delta`
zCDP. Figures are kept as the exact decimals typed, because ledger totals are compared
with the cap in exact decimal arithmetic (BRIEF §10.11). Never overwrites a ledger.

`debit`: appends one hash-chained entry by editing the text (comments and layout stay),
after checking the card, the release's manifest when it exists, the chain, and the cap;
an overdraw is refused with exit 1 and the ledger untouched (BRIEF §10.10); the debit
itself is `synthgov.budget.debits.record_debit`, which `release new` calls too.

`status`: per ledger, cap, spent and remaining composed at the cap's delta
(`accounting.summary`), as text with a bar or as the JSON of BRIEF §6.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from synthgov import options
from synthgov.budget import accounting, ledgers
from synthgov.budget.accounting import figure_text
from synthgov.budget.debits import (
    binding,
    figure,
    notion_at,
    notion_of,
    parse_loss,
    parse_parameters,
    parse_tuning,
    record_debit,
    release_ref,
)
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.loading import Loaded
from synthgov.files.paths import iter_files, write_new
from synthgov.files.writing import schema_url, to_yaml
from synthgov.models import Ledger
from synthgov.models.common import (
    Notion,
)
from synthgov.reporting import outputs

DESCRIPTIONS = {
    Notion.PURE: "pure epsilon-DP",
    Notion.APPROX: "approximate (epsilon, delta)-DP",
    Notion.ZCDP: "zero-concentrated DP, in rho",
}


def run_new(
    root: Path,
    source: str,
    *,
    epsilon: str | None,
    delta: str | None,
    rho: str | None,
    privacy_unit: str,
) -> int:
    """Write the empty ledger; 0 when written, exit 2 on a bad or existing one."""
    options.slug(source, "SOURCE")
    notion = notion_of(epsilon, delta, rho)
    cap: dict[str, Decimal] = {}
    for name, text in (("epsilon", epsilon), ("rho", rho), ("delta", delta)):
        if text is not None:
            cap[name] = figure(text, f"--{name}", below_one=name == "delta")
    data = {
        "schema_version": 1,
        "source": source,
        "privacy_unit": privacy_unit,
        "notion": notion.value,
        "cap": cap,
        "entries": [],
    }
    ledger = options.build(Ledger, data, {"privacy_unit": "--privacy-unit", "cap": "cap"}, "SOURCE")
    path = layout.ledger_path(source)
    comment = (
        f"Privacy-budget ledger of the source dataset {source}: {DESCRIPTIONS[notion]}.\n"
        "Append-only: entries are added by `synthgov budget debit` or `release new`; never edit them."
    )
    write_new(root, path, to_yaml(ledger, schema_url("ledger", path), comment).encode())
    typed = {"epsilon": epsilon, "rho": rho, "delta": delta}
    figures = ", ".join(f"{name} {typed[name]}" for name in cap)
    click.echo(
        f"created {path}: {notion.value} ledger, cap {figures}, privacy unit: {privacy_unit}",
        err=True,
    )
    return 0


# --- budget debit -------------------------------------------------------------------------


def run_debit(
    root: Path,
    source: str,
    *,
    release: str,
    epsilon: str | None,
    delta: str | None,
    rho: str | None,
    mechanism: str | None,
    params: tuple[str, ...],
    tuning_runs: int | None = None,
    tuning_epsilon: str | None = None,
    tuning_delta: str | None = None,
    tuning_rho: str | None = None,
) -> int:
    """`budget debit`: 0 when written, 1 when refused as an overdraw, 2 on bad input. The
    loss typed is the release's own; its tuning runs (`--tuning-*`, else those its
    manifest records) are debited with it."""
    path = layout.ledger_path(options.slug(source, "SOURCE"))
    release_ref(release)
    notion = notion_at(root, path)
    loss = parse_loss({"epsilon": epsilon, "delta": delta, "rho": rho}, notion, path)
    runs = parse_tuning(
        tuning_runs, {"epsilon": tuning_epsilon, "delta": tuning_delta, "rho": tuning_rho}, loss
    )
    debit = record_debit(
        root,
        source,
        release,
        loss,
        mechanism=mechanism,
        parameters=parse_parameters(params),
        now=datetime.now(UTC),
        runs=runs,
    )
    click.echo(debit.message(), err=True)
    return 0 if debit.written else 1


# --- budget status ------------------------------------------------------------------------


def run_status(root: Path, source: str | None, *, fmt: str) -> int:
    """`budget status`: per ledger, cap, spent, remaining and entries; 2 on bad input."""
    if source is not None:
        path = layout.ledger_path(options.slug(source, "SOURCE"))
        if not (root / path).exists():
            raise InputError.at(
                path, f"no such ledger; create it with `synthgov budget new {source}`"
            )
        paths = [path]
    else:
        paths = [p.as_posix() for p in iter_files(root, "budgets") if layout.classify(p)]
    summaries = []
    for path in paths:
        loaded: Loaded[Ledger] = governance.load(root, path, Ledger)
        for issue in ledgers.chain_issues(loaded.document.data):
            where = loaded.document.locate(issue.loc)
            click.echo(f"{where.path}:{where.line}: warning: {issue.message}", err=True)
        model = loaded.model
        summaries.append(
            accounting.summary(
                model.source, model.notion, model.cap, [e.loss for e in model.entries]
            )
        )
    if fmt == "json":
        click.echo(json.dumps(summaries[0] if source is not None else summaries, indent=2))
        return 0
    if not summaries:
        click.echo("no ledgers under budgets/ (create one with `synthgov budget new`)", err=True)
        return 0
    color = outputs.colour(sys.stdout)
    click.echo("\n".join(render_status(s, color=color) for s in summaries))
    return 0


BAR = 24


def render_status(summary: dict[str, Any], *, color: bool = False) -> str:
    """One ledger as a few lines of text with a bar of the binding figure (no I/O)."""
    figure = binding(summary)
    cap, spent = summary["cap"][figure], summary["spent"][figure]
    share = 1.0 if spent is None or not cap else min(max(spent / cap, 0.0), 1.0)
    filled = round(share * BAR)
    bar = "█" * filled + "░" * (BAR - filled)
    if color:
        bar = click.style(bar, fg="red" if share >= 1 else "yellow" if share >= 0.8 else "green")
    count = summary["entries"]
    lines = [
        f"{summary['source']}  ({summary['notion']}, {count} entr{'y' if count == 1 else 'ies'})",
        f"  {bar} {share:>4.0%}  {figure} {figure_text(spent)} of {figure_text(cap)} spent, "
        f"{figure_text(summary['remaining'][figure])} left",
    ]
    delta = (
        f"delta {figure_text(summary['spent']['delta'])} of {figure_text(summary['cap']['delta'])}"
    )
    if figure == "rho":
        lines.append(
            f"  as epsilon at the cap's delta: {figure_text(summary['spent']['epsilon'])} of "
            f"{figure_text(summary['cap']['epsilon'])}; {delta}"
        )
    elif summary["notion"] == "approx":
        lines.append(f"  {delta}")
    return "\n".join(lines)
