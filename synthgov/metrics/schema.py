"""The schema family: the synthetic table against the card, not against the real table.

`schema.columns_match` and `schema.dtypes_match` are 1.0 or 0.0 (BRIEF §8); the reasons
travel in `problems` so that a blocked release says which column is wrong and how.
`schema.values_in_card` is the share of a column's values inside the card's range,
allowed values and pattern. A prohibited column (a direct identifier) in the synthetic
table is a privacy fact as well: `privacy.prohibited_columns_absent`.
"""

from __future__ import annotations

import re

import numpy as np

from synthgov.errors import printable
from synthgov.metrics.encoding import Defects, Encoded, Tables, card_label
from synthgov.metrics.measurement import Context, Measurement
from synthgov.models.card import Card, Column

MAX_PROBLEMS = 20  # listed in the report; the count is always complete


def measure(tables: Tables, context: Context, card: Card, defects: Defects) -> list[Measurement]:
    del context  # deterministic
    rows = tables.rows["synthetic"]
    structure = [f"missing column {printable(n)!r}" for n in defects.missing_columns]
    structure += [f"column {printable(n)!r} is not in the card" for n in defects.extra_columns]
    typing = [line for name in tables.names for line in defects.problems.get(name, ())]
    for column in tables:
        typing += _shape_problems(column, card.column(column.name))
    measurements = [
        _flag(
            "schema.columns_match",
            structure,
            rows,
            "synthetic column names equal the card's (any order)",
        ),
        _flag(
            "schema.dtypes_match",
            typing,
            rows,
            "card type, nullability and uniqueness of every column",
        ),
    ]
    for column in tables:
        spec = card.column(column.name)
        share = _in_card(column, spec) if spec is not None else None
        if share is not None:
            value, n = share
            measurements.append(
                Measurement(
                    "schema.values_in_card",
                    value,
                    column=column.name,
                    n=n,
                    method="share of non-null synthetic values inside the card's min/max, allowed_values and pattern",
                )
            )
    prohibited = [printable(n) for n in defects.prohibited_columns]
    measurements.append(
        Measurement(
            "privacy.prohibited_columns_absent",
            0.0 if prohibited else 1.0,
            n=rows,
            method="no column of the card's prohibited_columns in the synthetic table",
            extra={"present": prohibited} if prohibited else {},
        )
    )
    return measurements


def _flag(metric: str, problems: list[str], rows: int, method: str) -> Measurement:
    extra: dict[str, object] = {}
    if problems:
        extra = {"problems": problems[:MAX_PROBLEMS], "problem_count": len(problems)}
    return Measurement(metric, 0.0 if problems else 1.0, n=rows, method=method, extra=extra)


def _shape_problems(column: Encoded, spec: Column | None) -> list[str]:
    if spec is None:
        return []
    name = printable(column.name)
    found = []
    missing = int(column.missing("synthetic").sum())
    if missing and not spec.nullable:
        found.append(f"column {name!r}: {missing} missing value(s); the card says nullable: false")
    if spec.unique:
        values = column.synthetic[~column.missing("synthetic")]
        repeated = len(values) - len(np.unique(values))
        if repeated:
            found.append(
                f"column {name!r}: {repeated} repeated value(s); the card says unique: true"
            )
    return found


def _in_card(column: Encoded, spec: Column) -> tuple[float, int] | None:
    """(share inside the card's limits, non-null count), or None when the card sets none."""
    present = ~column.missing("synthetic")
    n = int(present.sum())
    if column.is_numeric:
        if spec.min is None and spec.max is None:
            return None
        values = column.synthetic[present]
        inside = np.ones(len(values), dtype=bool)
        if spec.min is not None:
            inside &= values >= spec.min
        if spec.max is not None:
            inside &= values <= spec.max
        return (float(inside.mean()) if n else 1.0), n
    if spec.allowed_values is None and spec.pattern is None:
        return None
    valid = np.ones(len(column.categories), dtype=bool)
    if spec.allowed_values is not None:
        allowed = {card_label(v) for v in spec.allowed_values}
        valid &= np.array([label in allowed for label in column.categories], dtype=bool)
    if spec.pattern is not None:
        pattern = re.compile(spec.pattern)
        valid &= np.array(
            [pattern.fullmatch(label) is not None for label in column.categories], dtype=bool
        )
    codes = column.synthetic[present]
    return (float(valid[codes].mean()) if n else 1.0), n
