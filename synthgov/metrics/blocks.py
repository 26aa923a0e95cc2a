"""A reference table cut into blocks of similar rows, each with per-column bounds.

The exact nearest-neighbour searches (`distance`, `gower`) add one non-negative term per
column. Sorting the reference rows by their labels, most discriminating column first, and
cutting them into blocks of `SIZE` consecutive rows gives each block a range per column
(the least and greatest present value or code) and a flag for a missing cell. From those
a query gets, per block, a lower bound on the distance of every row in it, added in the
same column order with the same rounding, so never above the exact sum; a block whose
bound is not below the best distance found so far cannot hold a nearer row and is skipped
without reading it. The order of the rows changes nothing else: every row that is read is
summed exactly as before, and a minimum does not depend on the order it is taken in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numba import njit, prange

#: rows per block: sorted rows agree on most labels over so short a run, so the bounds are tight
SIZE = 32
#: blocks per group: a query bounds every group first, then the blocks of a group whose
#: bound is below its best sum, so it pays columns * rows / (SIZE * GROUP) bounds for the table
GROUP = 32
#: below this many reference rows a plain scan is as fast as building the blocks
MIN_ROWS = 2 * SIZE * GROUP


def order(columns: np.ndarray | Sequence[np.ndarray], keys: list[int]) -> np.ndarray:
    """The row order that sorts the k × m `columns` (or k rows of m) by the rows `keys`,
    the first key first.

    Every key's values are ranked (missing last) and combined into one integer while
    they fit; the rest break ties. Stable, so equal rows keep their order.
    """
    m = columns.shape[1] if isinstance(columns, np.ndarray) else len(columns[0]) if keys else 0
    if not keys:
        return np.arange(m)
    parts: list[np.ndarray] = []
    combined = np.zeros(m, dtype=np.int64)
    levels = 1
    for j in keys:
        rank, count = _rank(columns[j])
        if levels * count >= 2**62:
            parts.append(combined)
            combined, levels = np.zeros(m, dtype=np.int64), 1
        combined = combined * count + rank
        levels *= count
    parts.append(combined)
    if len(parts) == 1:
        return np.argsort(combined, kind="stable")
    return np.lexsort(parts[::-1])


def arrange(
    columns: np.ndarray,
    order: np.ndarray,
    allocate: Callable[[tuple[int, ...], Any], np.ndarray] | None = None,
) -> np.ndarray:
    """The k × m `columns` in row order `order`, cut into blocks: blocks × k × `SIZE`,
    in an array from `allocate` (`measurement.Allocate`; None: `np.empty`).

    A block's cells are contiguous, so reading one is a single stream from memory, where
    column-major slices of it would be k separate fetches. The last block is padded
    (with zeros) past the m rows; readers stop at the row count.
    """
    k, m = columns.shape
    shape = ((m + SIZE - 1) // SIZE, k, SIZE)
    out = (
        np.empty(shape, dtype=columns.dtype) if allocate is None else allocate(shape, columns.dtype)
    )
    if len(out):
        out[-1] = 0  # the padding
    _gather(columns, order, out)
    return out


@njit(parallel=True, cache=True, nogil=True)
def _gather(columns, order, out):  # type: ignore[no-untyped-def]
    k, m = columns.shape
    for j in prange(k):
        for p in range(m):
            out[p // SIZE, j, p % SIZE] = columns[j, order[p]]


def _rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's rank among the distinct values (missing last), and how many there are.

    Codes and other small whole numbers are their own ranks (offset by the least), which
    spares a sort of the column.
    """
    missing = np.isnan(values)
    present = values[~missing]
    if present.size:
        low, high = present.min(), present.max()
        if high - low < 2**20 and np.array_equal(present, np.floor(present)):
            rank = np.where(missing, high - low + 1, values - low).astype(np.int64)
            return rank, int(high - low) + 2
    _, rank = np.unique(values, return_inverse=True)  # NaN sorts (and ranks) last
    return rank.astype(np.int64), int(rank.max()) + 1 if values.size else 1


def sample(columns: np.ndarray, rows: int = 65_536) -> np.ndarray:
    """Evenly spaced columns (rows of k × m) of `columns`, at most `rows`: enough to choose
    the sort keys by, whose choice changes only the speed."""
    step = max(columns.shape[1] // rows, 1)
    return columns[:, ::step]


@njit(cache=True, nogil=True)
def summary(blocked, m):  # type: ignore[no-untyped-def]
    """The bounds of the blocks of `arrange` (m rows) and of their groups of `GROUP`.

    Per column and block: the least and greatest present value (a NaN is missing, a code
    never is) and whether a cell is missing; a block without a present value has the
    range (inf, -inf). Blocks come as groups × k × GROUP (a group's are contiguous; the
    last group is padded with empty ranges), groups as k × groups.
    """
    count, k, size = blocked.shape
    groups = (count + GROUP - 1) // GROUP
    low = np.full((groups, k, GROUP), np.inf)
    high = np.full((groups, k, GROUP), -np.inf)
    missing = np.zeros((groups, k, GROUP), dtype=np.bool_)
    group_low = np.full((k, groups), np.inf)
    group_high = np.full((k, groups), -np.inf)
    group_missing = np.zeros((k, groups), dtype=np.bool_)
    for b in range(count):
        g, s = b // GROUP, b % GROUP
        width = min(size, m - b * size)
        for j in range(k):
            least, greatest, gap = np.inf, -np.inf, False
            for r in range(width):
                value = blocked[b, j, r]
                if value != value:  # NaN
                    gap = True
                else:
                    least = min(least, value)
                    greatest = max(greatest, value)
            low[g, j, s], high[g, j, s], missing[g, j, s] = least, greatest, gap
            group_low[j, g] = min(group_low[j, g], least)
            group_high[j, g] = max(group_high[j, g], greatest)
            group_missing[j, g] = group_missing[j, g] or gap
    return (low, high, missing), (group_low, group_high, group_missing)


def shuffled_tasks(count: int) -> np.ndarray:
    """`count` task numbers in a fixed shuffled order: the threads of a parallel loop each
    take a contiguous share, and neighbouring queries cost alike (sorted, they search the
    same blocks), so a shuffle balances the shares. The order never changes a result."""
    return np.random.default_rng(0).permutation(count)
