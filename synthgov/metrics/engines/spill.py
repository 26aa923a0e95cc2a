"""The encoded tables held out of core by the client of `evaluate --dask`.

The Dask engine's client receives every partition's encoded columns. Concatenated in
RAM they would cost about 8 bytes per cell of the three tables (8.2 GiB at 10M rows ×
15 columns), so instead each column of each table is a file in a fresh spill directory
on the client's disk (`--spill-dir`, else under TMPDIR), memory-mapped:

1. `keep` appends each partition's columns to its table's files as the partition
   arrives, its rows already sorted by row hash on a worker (`partitions.ordered`), and
   its hashes, ascending, to a file of the table's runs (float64 numbers; int32 codes
   into the partition's own labels; uint64 hashes), and keeps only the partition's
   summary in RAM (`Part.summary`: labels, counts, failures);
2. `tables` checks them as `partitions.combine` does, recodes each categorical column
   into the union categories in place (one partition at a time), merges each table's
   runs into the canonical order (a stable sort of the runs, which finds them: no hashing
   here, and no n log n sort), and writes each column again in that order, a slice at a
   time, into a file of its own, dropping the unordered one.

The values, hashes and order are those of `combine` followed by `rows.canonical` (a label
hashes by its text, so a partition's own labels give the union's hashes; equal hashes
are equal rows, whose order among each other no metric can see), so the metric families,
which read the `np.memmap` columns as they read arrays, give the same bits. What stays in
RAM grows with the rows only by the sorted hashes (8 bytes per row per table, kept for the
fingerprint and sketch) and, while one table is merged, its order (8 bytes per row); the
runs are mapped, and the rest is one slice's temporaries.

The metric families' own arrays that grow with a table (the attacks' coded tables, the
nearest-neighbour layouts, the subgroups' rows) come from `allocate`, the client's
`measurement.Allocate`: each a new file of the same directory, mapped and unlinked.

Every file is unlinked the moment it is made, and only its open handle or its mapping
keeps it: whatever ends the process (an OOM kill included), no value of a table stays on
the disk and the space returns to the system. `remove` deletes the (then empty)
directory, and the engine calls it on success, failure, Ctrl-C and SIGTERM alike.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np

from synthgov.errors import InputError
from synthgov.metrics.encoding import ROLES, Encoded, Tables, is_numeric
from synthgov.metrics.rows import settle_collisions

if TYPE_CHECKING:
    from synthgov.metrics.encoding import Defects
    from synthgov.metrics.partitions import Part
    from synthgov.models import Card
    from synthgov.models.card import Column

OPTION = "--spill-dir"
#: rows hashed or permuted at a time: the size of the temporaries (a few arrays of 8 MB)
SLICE_ROWS = 1 << 20
#: bytes per cell on disk: float64 numbers (int32 codes take half)
CELL_BYTES = 8
PREFIX = "synthgov-spill-"
#: arrays below this many bytes are allocated in memory (`Spill.allocate`)
SMALL_BYTES = 1 << 20


def check_folder(folder: str | Path) -> None:
    """Raise unless `folder` is an existing directory this process may write in.

    Raises:
        InputError: naming the option.
    """
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError.at(OPTION, f"expected a writable directory, not {str(folder)!r}")


class Spill:
    """A fresh spill directory and the columns written into it (see the module docstring)."""

    def __init__(
        self,
        parent: str | Path | None = None,
        slice_rows: int = SLICE_ROWS,
        small_bytes: int = SMALL_BYTES,
    ) -> None:
        """Raises:
        InputError: the spill directory cannot be made (naming where)."""
        try:
            self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        except OSError as exc:
            where = str(parent) if parent is not None else tempfile.gettempdir()
            raise InputError.at(
                where, f"cannot make the spill directory: {exc.strerror or exc} (see {OPTION})"
            ) from None
        _more_open_files()
        self.slice_rows = slice_rows
        self.small_bytes = small_bytes
        #: (role, column) -> the (unlinked) file the partitions are appended to, in arrival order
        self._files: dict[tuple[str, str], BinaryIO] = {}
        #: role -> the (unlinked) file of its partitions' sorted row hashes, in arrival order
        self._runs: dict[str, BinaryIO] = {}
        #: role -> the summaries of its partitions, in the order their rows were appended
        self._arrived: dict[str, list[Part]] = {role: [] for role in ROLES}
        self._count = itertools.count(1)  # atomic: families allocate from two threads

    def require(self, needed: int) -> None:
        """Raise unless the spill directory's file system has `needed` bytes free.

        Raises:
            InputError: naming the directory, the bytes needed and free.
        """
        free = shutil.disk_usage(self.folder).free
        if free < needed:
            raise InputError.at(
                str(self.folder.parent),
                f"not enough free disk space to hold the encoded tables: about "
                f"{_size(needed)} needed, {_size(free)} free (choose another with {OPTION})",
            )

    def keep(self, role: str, part: Part, hashes: np.ndarray) -> Part:
        """Append the partition's columns to table `role`'s files, and its row hashes,
        ascending, its rows in their order (`partitions.ordered`, on a worker); its summary."""
        if len(hashes) != part.rows:
            raise ValueError(f"{part.name}: {len(hashes)} row hashes for {part.rows} rows")
        arrays = {**part.numbers, **{n: codes for n, (_, codes) in part.labels.items()}}
        for name, values in arrays.items():
            handle = self._files.get((role, name))
            if handle is None:
                handle = self._files[(role, name)] = self._file()
            self._append(handle, values)
        if role not in self._runs:
            self._runs[role] = self._file()
        self._append(self._runs[role], hashes.astype(np.uint64, copy=False))
        summary = part.summary()
        self._arrived[role].append(summary)
        return summary

    def tables(
        self, card: Card, names: Mapping[str, str]
    ) -> tuple[Tables, Defects, dict[str, np.ndarray]]:
        """The three tables kept, checked and encoded as `partitions.combine` encodes them,
        in canonical row order as `rows.canonical` orders them, and the sorted row hashes.

        Raises:
            InputError: what `combine` raises; a spill directory out of space.
        """
        from synthgov.metrics.partitions import categories, check, recode

        parts = self._arrived
        defects = check(card, parts, names)
        rows = {role: sum(p.rows for p in parts[role]) for role in ROLES}
        kept = [c for c in card.columns if c.name in parts["synthetic"][0].columns]
        found = {c.name: categories(parts, c.name) for c in kept if not is_numeric(c.type)}
        #: column -> role -> its values, in arrival order until `_canonical` reorders them
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for column in kept:
            numeric = is_numeric(column.type)
            arrays[column.name] = {}
            for role in ROLES:
                values = self._map(role, column.name, rows[role], numeric)
                start = 0
                for p in parts[role] if not numeric else ():  # into the union's codes
                    piece = values[start : start + p.rows]
                    piece[:] = recode(found[column.name], p.labels[column.name][0])[piece]
                    start += p.rows
                arrays[column.name][role] = values
        hashes = self._canonical(kept, arrays, rows, found)
        columns = tuple(
            Encoded(c.name, c.type, **arrays[c.name], categories=found.get(c.name, ()))
            for c in kept
        )
        return Tables(columns, rows), defects, hashes

    def allocate(self, shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> np.ndarray:
        """An uninitialised array (`measurement.Allocate`): from `small_bytes` on, in a
        new file of the spill directory, its blocks reserved, mapped and unlinked: its
        pages are the page cache's, written back and dropped under pressure, never the
        client's anonymous memory, and the disk space returns when the array goes. A
        smaller one is `np.empty`'s: each mapping holds a file descriptor and a map of the
        process's limited count, and a subgroup column of thousands of categories asks
        for three masks each.

        Raises:
            InputError: a spill directory out of space; a process out of files or maps.
        """
        kind = np.dtype(dtype)
        size = math.prod(shape) * kind.itemsize
        if size < self.small_bytes or not size:
            return np.empty(shape, dtype=kind)
        with self._file(size) as handle, self._writing():
            return np.memmap(handle, dtype=kind, mode="r+", shape=shape)

    def arena(self, size: int) -> Arena:
        """Room for `size` bytes of arrays in one allocation (`allocate`): many small arrays
        on the disk where `allocate` would keep each in memory, with one map for all.

        Raises:
            InputError: a spill directory out of space; a process out of files or maps.
        """
        return Arena(self.allocate((size,), np.uint8))

    def remove(self) -> None:
        """Close the files not mapped yet (a failed run) and delete the spill directory
        with whatever is left in it; never raises."""
        for handle in [*self._files.values(), *self._runs.values()]:
            handle.close()
        self._files.clear()
        self._runs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _canonical(
        self,
        kept: Sequence[Column],
        arrays: dict[str, dict[str, np.ndarray]],
        rows: Mapping[str, int],
        categories: Mapping[str, tuple[str, ...]],
    ) -> dict[str, np.ndarray]:
        """`rows.canonical` on `arrays`, in place, with no hashing here: each table's row
        hashes are its partitions' sorted runs (`partitions.ordered`, on the workers),
        merged by a stable sort that finds the runs (`np.argsort(kind="stable")` on the
        runs in arrival order: linear per run and merge, not n log n; different rows that
        share a hash are then ordered by their cells, `rows.settle_collisions`). Each column
        is written again in that order (new files; the old ones are dropped as each table
        is done, so the disk holds one table's extra columns at most); the hashes."""
        hashes = {}
        for role in ROLES:
            runs = np.asarray(self._map_runs(role, rows[role]))
            order = np.argsort(runs, kind="stable")
            hashes[role] = runs[order]
            del runs
            cells = [(arrays[c.name][role], categories.get(c.name)) for c in kept]
            order = settle_collisions(order, hashes[role], cells)  # crafted equal hashes
            for column in kept:
                arrays[column.name][role] = self._permuted(arrays[column.name][role], order)
        return hashes

    def _permuted(self, values: np.ndarray, order: np.ndarray) -> np.ndarray:
        """`values[order]` in a new file, a slice at a time, mapped read-only."""
        rows = len(order)
        if rows == 0:
            return np.empty(0, dtype=values.dtype)
        with self._file(rows * values.dtype.itemsize) as handle:
            out = np.memmap(handle, dtype=values.dtype, mode="r+", shape=(rows,))
            for start in range(0, rows, self.slice_rows):
                stop = start + self.slice_rows
                out[start:stop] = values[order[start:stop]]
            out.flush()
            del out
            return np.memmap(handle, dtype=values.dtype, mode="r", shape=(rows,))

    def _append(self, handle: BinaryIO, values: np.ndarray) -> None:
        with self._writing():
            handle.write(np.ascontiguousarray(values).data)
            handle.flush()  # a full disk fails here, as one line, not at the mapping

    def _map_runs(self, role: str, rows: int) -> np.ndarray:
        """Table `role`'s row hashes as appended (each partition's run ascending), read-only."""
        with self._runs.pop(role) as handle:
            if rows == 0:
                return np.empty(0, dtype=np.uint64)
            return np.memmap(handle, dtype=np.uint64, mode="r", shape=(rows,))

    def _map(self, role: str, name: str, rows: int, numeric: bool) -> np.ndarray:
        """The column's file as appended, its handle closed (the mapping keeps it);
        writable codes, to be recoded in place."""
        dtype = np.dtype(np.float64 if numeric else np.int32)
        with self._files.pop((role, name)) as handle:
            if rows == 0:
                return np.empty(0, dtype=dtype)
            mode: Literal["r+", "r"] = "r" if numeric else "r+"
            return np.memmap(handle, dtype=dtype, mode=mode, shape=(rows,))

    def _file(self, size: int = 0) -> BinaryIO:
        """A new file in the spill directory, unlinked at once (its handle, and later its
        mapping, keep it), with `size` bytes reserved: `posix_fallocate` makes a full disk
        an error here rather than a SIGBUS when the mapping is written (where the system
        has no such call, the file is only extended).

        Raises:
            InputError: the spill directory cannot hold it.
        """
        path = self.folder / f"{next(self._count):05d}.bin"
        with self._writing():
            handle = open(path, "w+b")  # noqa: SIM115 - the caller closes it
            try:
                path.unlink()
                if size and hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(handle.fileno(), 0, size)
                elif size:  # pragma: no cover - macOS and Windows
                    handle.truncate(size)
            except BaseException:
                handle.close()
                raise
        return handle

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write that fails (a full disk) as the one line of bad input; a process out of
        files or memory maps says so, since another directory would not help."""
        try:
            yield
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOMEM):
                raise InputError.at(
                    str(self.folder.parent),
                    f"cannot keep the encoded tables on disk: {exc.strerror or exc} (raise the "
                    "limit of open files, `ulimit -n`, or of memory maps, vm.max_map_count)",
                ) from None
            raise InputError.at(
                str(self.folder.parent),
                f"cannot write the encoded tables to the spill directory: "
                f"{exc.strerror or exc} (choose another with {OPTION})",
            ) from None


def _more_open_files() -> None:
    """Raise this process's soft limit of open files to its hard limit: every column of
    every table is a file held open or mapped (Python's mmap keeps a descriptor), so a
    card of 400 columns passes the usual soft limit of 1,024."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard
        if hard == resource.RLIM_INFINITY:  # macOS says so, and refuses more than OPEN_MAX
            wanted = 10_240 if sys.platform == "darwin" else 1 << 20
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, OSError, ValueError):  # pragma: no cover - no such limit here
        pass


def _size(count: int) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 1e8 else f"{count / 1e6:.1f} MB"


class Arena:
    """Arrays carved one after another out of one buffer (`Spill.arena`), an `Allocate`:
    a subgroup's sorted runs arrive as thousands of small arrays, one per partition, group
    and column, which `Spill.allocate` would keep in the client's anonymous memory (a map
    each would exhaust the process's maps); together they are as large as the table's
    numeric columns."""

    def __init__(self, buffer: np.ndarray) -> None:
        self._buffer = buffer
        self._used = 0

    def allocate(self, shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> np.ndarray:
        """The next `shape` array of `dtype`, aligned, uninitialised.

        Raises:
            ValueError: the arena is full (its size was reckoned too small).
        """
        kind = np.dtype(dtype)
        start = -(-self._used // kind.alignment) * kind.alignment
        stop = start + math.prod(shape) * kind.itemsize
        if stop > len(self._buffer):
            raise ValueError(f"an arena of {len(self._buffer)} bytes has no room for {stop}")
        self._used = stop
        return self._buffer[start:stop].view(kind).reshape(shape)
