"""What a table holds, whatever its row order or file format: row hashes, the table's
fingerprint and sketch, and the canonical row order every metric works in.

A row's hash depends on its values only, as the card types them (`encoding`): a number
by its float64 value (-0.0 is 0.0), a label by its text as the encoding writes it (a
number read as a label is written without a trailing ".0": 1, 1.0 and "1" are one label,
while "01" and "1" stay two), a missing cell by one constant. Each
cell is mixed with its column's name and the cells are summed, so the hash does not
depend on the order of the columns, nor the table's on the order of its rows:

- `fingerprint`: sha256 over the column names and the sorted row hashes (duplicates kept),
  the identity of a table's content (BRIEF §11.3). The same rows shuffled, or written as
  Parquet instead of CSV, give the same fingerprint; any changed cell gives another.
- `sketch`: the `content.SKETCH_SIZE` smallest distinct row hashes (a bottom-k sketch),
  from which `content.shared_rows` estimates how many rows two tables have in common.
- `canonical`: every table's rows sorted by hash, so that each seeded sample, fold and
  attack target is drawn from the same positions however the file was ordered: no metric
  can be re-rolled by shuffling rows (BRIEF §11.2).

The hashes are 64-bit (two different rows collide with a chance of 2^-64 per pair); they
are built from numpy's wrapping uint64 arithmetic and blake2b, both fixed, so a
fingerprint never changes with a library version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from synthgov.content import FINGERPRINT_TAG, SKETCH_SIZE
from synthgov.metrics.encoding import ROLES, Encoded, Tables

_MISSING = np.uint64(0x9E3779B97F4A7C15)  # a missing cell, in every column


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise: every input bit moves every output bit."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64, copy=True)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def _digest(text: str, person: bytes) -> np.uint64:
    raw = hashlib.blake2b(text.encode("utf-8"), digest_size=8, person=person).digest()
    return np.uint64(int.from_bytes(raw, "little"))


def _number_bits(values: np.ndarray) -> np.ndarray:
    """Each float's bits, -0.0 as 0.0 and a missing value as `_MISSING`."""
    bits = (values + 0.0).view(np.uint64)
    return np.where(np.isnan(values), _MISSING, bits)


def _cells(column: Encoded, role: str) -> np.ndarray:
    values = column.table(role)
    if column.is_numeric:
        return _number_bits(values)
    lookup = np.array(
        [_digest(label, b"synthgov-label") for label in column.categories] + [_MISSING],
        dtype=np.uint64,
    )
    cells: np.ndarray = lookup[values]  # a missing code (-1) takes the trailing `_MISSING`
    return cells


def row_hashes(tables: Tables, role: str) -> np.ndarray:
    """One uint64 per row of table `role`, over the columns of `tables`."""
    total = np.zeros(tables.rows[role], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in tables:
            key = _digest(column.name, b"synthgov-column")
            total += _mix(_cells(column, role) ^ key)
    return _mix(total)


def fingerprint(tables: Tables, hashes: np.ndarray) -> str:
    """The sha256 hex digest of the table's content (see the module docstring)."""
    digest = hashlib.sha256(FINGERPRINT_TAG)
    for name in sorted(tables.names):
        digest.update(name.encode("utf-8") + b"\0")
    digest.update(b"\0")
    if len(hashes) > 1 and not np.all(hashes[1:] >= hashes[:-1]):  # canonical: sorted already
        hashes = np.sort(hashes)
    digest.update(hashes.astype(">u8").tobytes())
    return digest.hexdigest()


def distinct(hashes: np.ndarray) -> np.ndarray:
    """The distinct row hashes, ascending. `canonical`'s hashes are sorted already: two
    linear passes then, where `np.unique` would hash them again (2 s at 3 x 1M rows)."""
    if len(hashes) == 0:
        return hashes
    if not np.all(hashes[1:] >= hashes[:-1]):
        hashes = np.sort(hashes)
    first = np.empty(len(hashes), dtype=bool)
    first[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=first[1:])
    return hashes[first]


def sketch(hashes: np.ndarray, size: int = SKETCH_SIZE) -> list[str]:
    """The `size` smallest distinct row hashes, as 16-digit hex, ascending."""
    return [f"{int(h):016x}" for h in distinct(hashes)[:size]]


def canonical(tables: Tables) -> tuple[Tables, dict[str, np.ndarray]]:
    """`tables` with each table's rows sorted by row hash, and those hashes (sorted);
    different rows that share a hash by their cells (`settle_collisions`)."""
    hashes = {}
    for role in ROLES:
        if not tables.columns:  # nothing to hash: every row is alike
            hashes[role] = np.zeros(tables.rows[role], dtype=np.uint64)
            continue
        row = row_hashes(tables, role)
        order = np.argsort(row, kind="stable")
        hashes[role] = row[order]
        cells = [(c.table(role), None if c.is_numeric else c.categories) for c in tables]
        order = settle_collisions(order, hashes[role], cells)
        tables = tables.select(role, order)
    return tables, hashes


def settle_collisions(
    order: np.ndarray,
    hashes: np.ndarray,
    columns: Sequence[tuple[np.ndarray, Sequence[str] | None]],
) -> np.ndarray:
    """`order` (rows by ascending `hashes`, the sorted hashes) with the rows of a hash
    that different rows share sorted by their cells, so that the canonical order never
    depends on the order of the file's rows.

    Equal rows have equal hashes, and their order among each other changes no metric; but
    the hash is invertible, so a table can be crafted to hold different rows of one hash,
    which a stable sort would leave in file order: shuffled, they would re-roll every
    seeded sample (BRIEF §11.2). `columns`: each column's values in the table's row order
    (what `order` indexes) and its categories (None for a number): a label is ordered by
    its text, a number by its bits (-0.0 as 0.0, every NaN alike). Honest tables pay one
    comparison per pair of neighbours that share a hash, and nothing else."""
    same = np.flatnonzero(hashes[1:] == hashes[:-1])  # position i and i + 1 share a hash
    if not len(same):
        return order
    first, second = order[same], order[same + 1]
    differ = np.zeros(len(same), dtype=np.bool_)
    for values, categories in columns:
        a, b = values[first], values[second]
        equal = a == b
        if categories is None:
            equal |= np.isnan(a) & np.isnan(b)
        differ |= ~equal
    if not differ.any():
        return order
    run = np.cumsum(np.r_[True, hashes[1:] != hashes[:-1]])  # each sorted row's hash run
    members = np.flatnonzero(np.isin(run, run[same[differ]]))
    chosen = order[members]
    keys: list[np.ndarray] = []
    for values, categories in reversed(columns):  # np.lexsort: the last key first
        picked = values[chosen]
        if categories is None:
            keys.append(np.where(np.isnan(picked), np.nan, picked + 0.0).view(np.int64))
        else:
            keys.append(np.array([*categories, ""], dtype=str)[picked])  # -1: missing
            keys.append(picked < 0)
    keys.append(run[members])
    settled = order.copy()
    settled[members] = chosen[np.lexsort(keys)]
    return settled
