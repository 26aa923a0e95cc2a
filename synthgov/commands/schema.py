"""`synthgov schema [KIND]`: the JSON Schemas generated from the models."""

from __future__ import annotations

import json

import click

from synthgov.errors import UsageError
from synthgov.models import KINDS


def run(kind: str | None) -> int:
    if kind is None:
        click.echo("\n".join(KINDS))
        return 0
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    from synthgov.files.schemas import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2))
    return 0
