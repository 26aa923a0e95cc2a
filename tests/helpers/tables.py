"""Tiny typed tables for the metric tests, built through the real encoding; partitioned
Parquet datasets for the Dask tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.models.card import Card, ColumnType

if TYPE_CHECKING:
    import pyarrow as pa

Spec = tuple[ColumnType | str, list[Any], list[Any], list[Any]]


def card_for(columns: dict[str, ColumnType | str], **fields: Any) -> Card:
    """A minimal valid card with `columns` (name -> type), nullable, plus `fields`."""
    return Card.model_validate(
        {
            "schema_version": 1,
            "id": "t",
            "title": "T",
            "owner": "o",
            "description": "d",
            "source": {"id": "s", "privacy_unit": "one row"},
            "classification": "internal",
            "intended_uses": ["tests"],
            "columns": [
                {"name": name, "type": str(kind), "nullable": True}
                for name, kind in columns.items()
            ],
            **fields,
        }
    )


def make_tables(columns: Mapping[str, Spec], **card_fields: Any) -> Tables:
    """Encode `columns` (name -> (type, real, holdout, synthetic) value lists); None is missing."""
    card = card_for({name: spec[0] for name, spec in columns.items()}, **card_fields)
    frames = {
        role: pd.DataFrame(
            {name: pd.Series(spec[i + 1], dtype=object) for name, spec in columns.items()}
        )
        for i, role in enumerate(ROLES)
    }
    tables, _ = encode(card, frames, {role: role for role in ROLES})
    return tables


def write_partitions(table: pa.Table, folder: Path, parts: int) -> Path:
    """`table` as a Parquet dataset: `parts` files of equal size (the last the rest) in a
    new `folder`; the folder."""
    import pyarrow.parquet as pq

    folder.mkdir()
    step = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i}.parquet")
    return folder
