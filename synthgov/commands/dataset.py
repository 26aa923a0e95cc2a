"""`synthgov dataset new ID`: write datasets/ID/card.yaml with a schema inferred from a table.

The card is a draft for a person to review: the schema comes from the table (column
order kept, BRIEF §10.18), likely direct identifiers are moved to `prohibited_columns`,
and the fields a table cannot tell are filled with defaults that let the default policy
pass (BRIEF §10.1) and are listed on stderr for review. Never overwrites a card.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from synthgov import options
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.paths import write_new
from synthgov.files.writing import schema_url, to_yaml
from synthgov.models import Card, Ledger

if TYPE_CHECKING:
    from pandas import DataFrame

    from synthgov.metrics.inference import Schema

DESCRIPTION = "TODO: describe what the dataset holds, where it comes from and who may use it."
INTENDED_USES = ["model development and testing"]
PROHIBITED_USES = ["re-identifying individuals or linking records to other data about them"]
RETENTION_DAYS = 365
REVALIDATION_DAYS = 90
PRIVACY_UNIT = "one record of the source dataset"

_LABELS = {
    "id": "ID",
    "title": "--title",
    "owner": "--owner",
    "source": "--source",
    "classification": "--classification",
    "target": "--target",
}


def run_new(
    root: Path,
    dataset_id: str,
    *,
    owner: str,
    classification: str,
    source: str,
    from_data: Path | None,
    target: str | None,
    title: str | None,
) -> int:
    """Write the card; 0 when written, InputError (exit 2) on any bad input."""
    options.slug(dataset_id, "ID")
    options.slug(source, "--source")
    path = layout.card_path(dataset_id)
    if (root / path).exists() or (root / path).is_symlink():
        raise InputError.at(path, "already exists; refusing to overwrite it")
    if from_data is None:
        raise InputError.at(
            "--from-data",
            "required: a card needs its column schema; pass --from-data TABLE (CSV or "
            "Parquet) to infer it from the real data",
        )
    from synthgov.metrics import inference, tables

    frame, sha256 = tables.read_table(from_data)
    schema = inference.infer_schema(frame)
    if not schema.columns:
        raise InputError.at(str(from_data), "every column looks like a direct identifier")
    data = _card_data(root, dataset_id, owner, classification, source, title, schema)
    notes = []
    if target is not None:
        data["target"], note = _target(frame, schema, target, from_data)
        notes.append(note)
    card = options.build(Card, data, _LABELS, str(from_data))
    comment = (
        f"Dataset card of {dataset_id}, written by `synthgov dataset new` from {from_data.name}\n"
        f"(sha256 {sha256}, {len(frame):,} rows).\n"
        "Review every default before the first release: docs/files/card.md"
    )
    write_new(root, path, to_yaml(card, schema_url("card", path), comment).encode())
    for note in notes:
        click.echo(note, err=True)
    _report(path, card, schema, from_data)
    return 0


def _card_data(
    root: Path,
    dataset_id: str,
    owner: str,
    classification: str,
    source: str,
    title: str | None,
    schema: Schema,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "id": dataset_id,
        "title": title if title is not None else dataset_id.replace("-", " ").capitalize(),
        "owner": owner,
        "description": DESCRIPTION,
        "source": {"id": source, "privacy_unit": _privacy_unit(root, source)},
        "classification": classification,
        "intended_uses": INTENDED_USES,
        "prohibited_uses": PROHIBITED_USES,
        "retention_days": RETENTION_DAYS,
        "revalidation_days": REVALIDATION_DAYS,
        "columns": schema.columns,
        "prohibited_columns": [found.column for found in schema.identifiers],
    }


def _privacy_unit(root: Path, source: str) -> str:
    """The source ledger's privacy unit when the ledger exists and is valid (they must agree)."""
    path = layout.ledger_path(source)
    if not (root / path).is_file():
        return PRIVACY_UNIT
    try:
        ledger = governance.load(root, path).model
    except InputError:
        return PRIVACY_UNIT
    return ledger.privacy_unit if isinstance(ledger, Ledger) else PRIVACY_UNIT


def _target(
    frame: DataFrame, schema: Schema, column: str, table: Path
) -> tuple[dict[str, Any], str]:
    """`{column, positive}` with the minority class positive, and a note saying so.

    The note is printed only once the card is written: a refusal stays one line.
    """
    from synthgov.metrics import inference

    if column not in frame.columns:
        names = ", ".join(map(str, frame.columns[:20])) + (", …" if frame.shape[1] > 20 else "")
        raise InputError.at("--target", f"{column!r} is not a column of {table.name} ({names})")
    excluded = next((found for found in schema.identifiers if found.column == column), None)
    if excluded is not None:
        raise InputError.at(
            "--target", f"{column!r} is excluded as a likely direct identifier: {excluded.reason}"
        )
    try:
        positive, minority, majority = inference.binary_positive(frame[column])
    except ValueError as exc:
        raise InputError.at("--target", f"{column!r} {exc}") from None
    note = (
        f"target {column}: positive class {positive!r} (the minority class, {minority:,} of "
        f"{minority + majority:,} labelled rows); edit target.positive to change it"
    )
    return {"column": column, "positive": positive}, note


def _report(path: str, card: Card, schema: Schema, table: Path) -> None:
    """What was written and what the user must review, on stderr."""
    for found in schema.identifiers:
        click.echo(
            f"excluded column {found.column}: {found.reason}; listed in prohibited_columns "
            "(move it to columns if it is not an identifier)",
            err=True,
        )
    for name in schema.empty_columns:
        click.echo(
            f"column {name} has no values in {table.name}: typed string, review it", err=True
        )
    if card.target is None:
        click.echo(
            "no --target: utility (ROC AUC) and attribute-inference metrics need one; "
            "set target: {column, positive} in the card",
            err=True,
        )
    else:
        click.echo(
            f"secret_columns is empty: the attribute-inference attack uses the target "
            f"({card.target.column}) as its secret; name the columns an attacker would want to "
            "infer. The gate compares the attack's success on training records with its success "
            "on holdout records (privacy.inference_excess), so a secret that is easy to guess "
            "by chance is no obstacle, but each secret column is one more gated figure "
            "(docs/authors.md)",
            err=True,
        )
    click.echo(
        "subgroup_columns and quasi_identifiers are empty: list the columns to compare "
        "subgroups on (each group needs the policy's min_rows in the real and holdout tables "
        "to be judged) and the ones an attacker could know",
        err=True,
    )
    click.echo(
        f"wrote {path} ({len(card.columns)} columns from {table.name}); review the defaults: "
        f"title, description (TODO), intended_uses, prohibited_uses, retention_days "
        f"{card.retention_days}, revalidation_days {card.revalidation_days}, "
        f"source.privacy_unit ({card.source.privacy_unit!r})",
        err=True,
    )
