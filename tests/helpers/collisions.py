"""Rows crafted to share a row hash (`synthgov.metrics.rows`): the hash is a sum of
splitmix64-mixed cells, and splitmix64's finaliser is invertible, so for any first cell
a second cell can be solved for that gives a chosen hash. What an adversary who knows one
real row can do; the tests check that nothing then depends on the file's row order."""

from __future__ import annotations

import hashlib

import numpy as np

_M64 = (1 << 64) - 1
_C1, _C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _mix(z: int) -> int:
    z ^= z >> 30
    z = (z * _C1) & _M64
    z ^= z >> 27
    z = (z * _C2) & _M64
    return z ^ (z >> 31)


def _unshift(z: int, shift: int) -> int:
    x = z
    for _ in range(64 // shift + 1):
        x = z ^ (x >> shift)
    return x


def _unmix(z: int) -> int:
    z = (_unshift(z, 31) * pow(_C2, -1, 1 << 64)) & _M64
    z = (_unshift(z, 27) * pow(_C1, -1, 1 << 64)) & _M64
    return _unshift(z, 30)


def _column_key(name: str) -> int:
    """What `rows.row_hashes` mixes a column's cells with: the column name's digest."""
    raw = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"synthgov-column")
    return int.from_bytes(raw.digest(), "little")


def _bits(value: float) -> int:
    return int(np.float64(value + 0.0).view(np.uint64))


def colliding_rows(x: float, y: float, count: int) -> list[tuple[float, float]]:
    """`count` rows (x', y') of two numeric columns named "x" and "y", each different from
    (x, y) and from each other, whose row hash is that of (x, y)."""
    keys = [_column_key(name) for name in ("x", "y")]
    target = (_mix(_bits(x) ^ keys[0]) + _mix(_bits(y) ^ keys[1])) & _M64
    found: list[tuple[float, float]] = []
    first = x + 1.0
    while len(found) < count:
        bits = _unmix((target - _mix(_bits(first) ^ keys[0])) & _M64) ^ keys[1]
        second = float(np.uint64(bits).view(np.float64))
        if np.isfinite(second) and second != 0.0:
            found.append((first, second))
        first += 1.0
    return found
