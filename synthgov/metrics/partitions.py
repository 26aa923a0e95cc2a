"""A table read in partitions, encoded as `encoding.encode` encodes it whole.

A distributed engine reads each partition of a dataset where it lives (`encode_part`, a
map that needs nothing but the partition and the card) and sends back its card columns
converted: float64 numbers, or the partition's own labels and codes into them. `combine`
is the reduce: it concatenates the partitions of each table, codes every label into the
sorted union of the labels of all three tables, and raises the errors `encode` raises,
so that the `Tables` it returns equal those of the whole files, value for value. Row
order does not matter: every metric works in the canonical order (`rows.canonical`),
which a worker prepares (`ordered`: its partition sorted by row hash) so that the
client only merges sorted runs.

Pure: no I/O and no engine; a Spark or Ray adapter reuses both functions as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthgov.errors import InputError, printable
from synthgov.metrics.constraints import Satisfied, satisfied
from synthgov.metrics.encoding import (
    ROLES,
    Defects,
    Encoded,
    Tables,
    convert,
    failure,
    is_numeric,
    require_card_columns,
)
from synthgov.metrics.tallies import Counts, columns_of, count
from synthgov.models.card import Card

#: distinct values that do not fit kept per column and partition (`encode` shows at most 20)
_KEPT_FAILURES = 20


@dataclass(frozen=True)
class Part:
    """The card columns of one partition, converted (see the module docstring)."""

    #: the partition as errors name it
    name: str
    rows: int
    #: the partition's columns, in its own order
    columns: tuple[str, ...]
    #: numeric column -> float64 values, NaN missing
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    #: categorical column -> (its labels in this partition, int32 codes into them, -1 missing)
    labels: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    #: column -> the distinct values its type cannot hold (sorted text, at most 20)
    failures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: column -> how many values are present (not missing) after conversion
    present: dict[str, int] = field(default_factory=dict)

    def summary(self) -> Part:
        """The partition without its arrays (its labels kept): what `check` and
        `categories` read, for an engine that stores the arrays out of core."""
        empty = np.empty(0, dtype=np.int32)
        labels = {name: (uniques, empty) for name, (uniques, _) in self.labels.items()}
        return Part(self.name, self.rows, self.columns, {}, labels, self.failures, self.present)


def encode_part(card: Card, frame: pd.DataFrame, name: str) -> Part:
    """The card columns of `frame`, one partition of a table, converted by the card."""
    columns = tuple(map(str, frame.columns))
    part = Part(name, int(frame.shape[0]), columns)
    for column in card.columns:
        if column.name not in columns:
            continue
        converted, bad = convert(frame[column.name], column.type)
        if bad:
            part.failures[column.name] = tuple(sorted(set(map(str, bad))))[:_KEPT_FAILURES]
        part.present[column.name] = int(converted.notna().sum())
        if is_numeric(column.type):
            part.numbers[column.name] = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            codes, uniques = pd.factorize(converted, use_na_sentinel=True)
            part.labels[column.name] = (tuple(map(str, uniques)), codes.astype(np.int32))
    return part


def tables_of(card: Card, part: Part, role: str) -> Tables:
    """The partition as table `role` of a `Tables` (the other two empty), in card order and
    its own labels: what a row-wise or counting metric needs to take it as a whole table."""
    columns = []
    for column in card.columns:
        categories: tuple[str, ...] = ()
        if column.name in part.numbers:
            values = part.numbers[column.name]
        elif column.name in part.labels:
            categories, values = part.labels[column.name]
        else:
            continue
        empty = np.empty(0, dtype=values.dtype)
        arrays = {r: values if r == role else empty for r in ROLES}
        columns.append(Encoded(column.name, column.type, **arrays, categories=categories))
    return Tables(tuple(columns), {r: part.rows if r == role else 0 for r in ROLES})


def ordered(
    card: Card, part: Part, hashed: Collection[str] | None = None
) -> tuple[Part, np.ndarray]:
    """The partition with its rows sorted by row hash (stable), and those hashes, ascending:
    the run a worker sends, so that the client only merges the partitions' runs into the
    canonical order (`rows.canonical` of the whole table) and hashes nothing.

    `hashed`: the card columns the hashes cover, those the encoded tables keep (the
    synthetic table's; None: every card column of the partition). A label hashes by its
    text (`rows.row_hashes`), so the partition's own labels give the hash that the
    union's codes give the same row, and a number by its float64 bits."""
    from synthgov.metrics.rows import row_hashes

    tables = tables_of(card, part, "real")
    if hashed is not None:
        tables = Tables(tuple(c for c in tables if c.name in hashed), tables.rows)
    if not tables.columns:  # nothing to hash: every row is alike, as `rows.canonical` says
        return part, np.zeros(part.rows, dtype=np.uint64)
    hashes = row_hashes(tables, "real")
    order = np.argsort(hashes, kind="stable")
    numbers = {name: values[order] for name, values in part.numbers.items()}
    labels = {name: (uniques, codes[order]) for name, (uniques, codes) in part.labels.items()}
    moved = Part(part.name, part.rows, part.columns, numbers, labels, part.failures, part.present)
    return moved, hashes[order]


def counts(card: Card, part: Part, role: str) -> tuple[Counts, Satisfied | None]:
    """The partition's counts (`tallies.count`) and, for the synthetic table, the rows that
    satisfy each of the card's rules (`constraints.satisfied`): the map a worker runs while
    it holds the partition. None: no rules, or not the synthetic table.

    Raises:
        InputError: a rule that does not parse or does not fit the card's columns.
    """
    tables = tables_of(card, part, role)
    found = count(columns_of(tables, role), part.rows)
    rules = satisfied(tables, card) if role == "synthetic" and card.constraints else None
    return found, rules


def combine(
    card: Card, parts: Mapping[str, Sequence[Part]], names: Mapping[str, str]
) -> tuple[Tables, Defects]:
    """The three tables of `parts` (role -> its partitions, at least one each), encoded.

    The partitions of one table have the same columns (the engine checks their schemas
    first); `names` gives each table as errors show it.

    Raises:
        InputError: what `encoding.encode` raises, for the same tables.
    """
    defects = check(card, parts, names)
    encoded: list[Encoded] = []
    for column in card.columns:
        if column.name not in parts["synthetic"][0].columns:
            continue
        if is_numeric(column.type):
            arrays = {r: _concatenate([p.numbers[column.name] for p in parts[r]]) for r in ROLES}
            real, holdout, synthetic = (arrays[r] for r in ROLES)
            encoded.append(Encoded(column.name, column.type, real, holdout, synthetic))
            continue
        found = categories(parts, column.name)
        coded = {}
        for role in ROLES:
            pieces = []
            for p in parts[role]:
                uniques, local = p.labels[column.name]
                pieces.append(recode(found, uniques)[local])  # local -1 picks the trailing -1
            coded[role] = _concatenate(pieces, np.int32)
        encoded.append(Encoded(column.name, column.type, **coded, categories=found))
    rows = {role: sum(p.rows for p in parts[role]) for role in ROLES}
    return Tables(tuple(encoded), rows), defects


def check(card: Card, parts: Mapping[str, Sequence[Part]], names: Mapping[str, str]) -> Defects:
    """The synthetic table's defects, after raising what `encoding.encode` raises for the
    same tables; reads only each partition's columns, failures and counts of values, so a
    partition whose arrays are elsewhere (`Part.summary`) checks alike.

    Raises:
        InputError: see `combine`.
    """
    first = {role: parts[role][0].columns for role in ROLES}
    require_card_columns(card, first, names)
    present = set(first["synthetic"])
    card_names = [c.name for c in card.columns]
    prohibited = set(card.prohibited_columns)
    defects: dict[str, list[str]] = {}
    for column in card.columns:
        if column.name not in present:
            continue
        for role in ROLES:
            bad = sorted({v for p in parts[role] for v in p.failures.get(column.name, ())})
            count = sum(p.present[column.name] for p in parts[role])
            if bad and (count == 0 or role != "synthetic"):
                raise InputError.at(names[role], failure(column.name, column.type, bad))
            if bad:
                defects.setdefault(column.name, []).append(
                    failure(column.name, column.type, bad[:_KEPT_FAILURES])
                )
            if count == 0:
                raise InputError.at(
                    names[role], f"column {printable(column.name)!r} has no values (all missing)"
                )
    judged = first["synthetic"]
    return Defects(
        missing_columns=tuple(n for n in card_names if n not in present),
        extra_columns=tuple(n for n in judged if n not in card_names),
        prohibited_columns=tuple(n for n in judged if n in prohibited),
        problems={name: tuple(lines) for name, lines in defects.items()},
    )


def categories(parts: Mapping[str, Sequence[Part]], name: str) -> tuple[str, ...]:
    """The sorted union of categorical column `name`'s labels in every partition of the
    three tables: the categories `encoding.encode` gives the whole tables."""
    return tuple(sorted({label for r in ROLES for p in parts[r] for label in p.labels[name][0]}))


def recode(categories: tuple[str, ...], uniques: tuple[str, ...]) -> np.ndarray:
    """A partition's codes into `uniques` -> codes into `categories`, as a lookup table
    with a trailing -1, so that a missing code (-1) stays -1."""
    index = {label: code for code, label in enumerate(categories)}
    return np.array([index[u] for u in uniques] + [-1], dtype=np.int32)


#: the columns of `distance.matrix` in order: (name, None for a number or its categories)
Layout = tuple[tuple[str, tuple[str, ...] | None], ...]


def layout(tables: Tables) -> Layout:
    """How `tables` lays out a `distance.matrix`, for a partition to be laid out alike."""
    return tuple((c.name, None if c.is_numeric else c.categories) for c in tables.columns)


def matrix(part: Part, columns: Layout) -> np.ndarray:
    """The partition as `distance.matrix` lays out its table: card columns in `columns`'
    order, codes into the whole tables' categories as floats, column-major."""
    out = np.empty((part.rows, len(columns)), dtype=np.float64, order="F")
    for j, (name, categories) in enumerate(columns):
        if categories is None:
            out[:, j] = part.numbers[name]
            continue
        index = {label: code for code, label in enumerate(categories)}
        uniques, local = part.labels[name]
        lookup = np.array([index[u] for u in uniques] + [-1], dtype=np.float64)
        out[:, j] = lookup[local]
    return out


def _concatenate(pieces: list[np.ndarray], dtype: type = np.float64) -> np.ndarray:
    return np.concatenate(pieces) if pieces else np.empty(0, dtype=dtype)
