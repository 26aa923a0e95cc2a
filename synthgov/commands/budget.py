"""`synthgov budget new SOURCE`: create the empty privacy-budget ledger budgets/SOURCE.yaml.

The cap's options fix the accounting notion for the ledger's whole life (BRIEF §10.9):
`--epsilon` alone is pure DP, `--epsilon --delta` approximate DP, `--rho --delta` zCDP.
Figures are kept as the exact decimals typed, because ledger totals are compared with
the cap in exact decimal arithmetic (BRIEF §10.11). Never overwrites a ledger.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from synthgov import layout, options
from synthgov.errors import UsageError
from synthgov.models import Ledger
from synthgov.models.common import Notion
from synthgov.paths import write_new
from synthgov.writing import schema_url, to_yaml

USAGE = "give the cap as --epsilon E [--delta D] or --rho R --delta D"
DESCRIPTIONS = {
    Notion.PURE: "pure epsilon-DP",
    Notion.APPROX: "approximate (epsilon, delta)-DP",
    Notion.ZCDP: "zero-concentrated DP, in rho",
}


def notion_of(epsilon: str | None, delta: str | None, rho: str | None) -> Notion:
    """The accounting notion the given cap options select.

    Raises:
        UsageError: a combination that names no notion (rho without delta, delta alone,
            epsilon with rho, nothing).
    """
    if epsilon is not None and rho is not None:
        raise UsageError(f"--epsilon and --rho cannot be combined; {USAGE}")
    if epsilon is not None:
        return Notion.APPROX if delta is not None else Notion.PURE
    if rho is not None:
        if delta is None:
            raise UsageError(f"--rho needs --delta (a zCDP ledger's cap is rho and delta); {USAGE}")
        return Notion.ZCDP
    if delta is not None:
        raise UsageError(f"--delta needs --epsilon or --rho; {USAGE}")
    raise UsageError(f"no cap given; {USAGE}")


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
    if epsilon is not None:
        cap["epsilon"] = options.positive_decimal(epsilon, "--epsilon")
    if rho is not None:
        cap["rho"] = options.positive_decimal(rho, "--rho")
    if delta is not None:
        cap["delta"] = options.positive_decimal(delta, "--delta", below_one=True)
    data = {"schema_version": 1, "source": source, "privacy_unit": privacy_unit,
            "notion": notion.value, "cap": cap, "entries": []}  # fmt: skip
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
