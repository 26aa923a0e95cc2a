"""Where an evaluation reads its tables: one interface, an in-process and a Dask engine.

An engine turns the three table locations into the encoded `Tables` in canonical row
order (`rows.canonical`), with what the report records of each input. The in-process
engine reads three files with `tables.read_table`, as `evaluate` always has. A
distributed engine (`synthgov.metrics.engines.dask`) reads a partitioned dataset where it
lives: each partition is parsed, encoded and sorted by row hash by a worker
(`partitions.encode_part`, `partitions.ordered`: a map) and the client combines them
(`partitions.combine`, the reduce, merging the sorted runs; out of core on the client's
disk, `engines.spill`), so the numbers, the row hashes and the fingerprints are those of
the whole files, bit for bit.

The workers also count their partitions (`tallies`, `constraints.satisfied`) and the
engine adds the counts up (`Loaded.totals`, `Loaded.satisfied`): integers, so the metrics
made of them are the same bits however the rows were partitioned.

The quadratic work runs on seeded samples of query rows; a distributed engine may also
offer a `Search` (`Loaded.search`) that scores the queries against every partition of a
reference table where the partition lives and keeps each query's minimum: the minimum of
the partitions' minima is the table's, so the distances are the in-process ones bit for
bit (the ranges that scale them come from the whole table). One search takes several
query sets in one pass over the table, and returns at once with a pending result
(`measurement.Pending`), so that the searches run while this process measures the
other families.
Likewise a `Score` (`Loaded.score`) scores every row of a table with fitted models
partition by partition and puts each score at its row's canonical place (`scoring`): a
row's score is its own.

Only `load` and `close` are asked of an engine, so a Spark or Ray adapter is one module
that implements them with `partitions`; nothing imports Dask unless `--dask` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from synthgov.metrics.constraints import Satisfied
    from synthgov.metrics.encoding import Defects, Tables
    from synthgov.metrics.measurement import (
        Allocate,
        BinCounts,
        Count,
        GroupSides,
        Late,
        Nearest,
        Score,
        Search,
    )
    from synthgov.metrics.tallies import Totals
    from synthgov.models import Card


@dataclass(frozen=True)
class Loaded:
    """The three tables encoded, in canonical row order, and what the report says of them."""

    tables: Tables
    #: role -> the row hashes, sorted (the canonical order)
    hashes: Mapping[str, np.ndarray]
    defects: Defects
    #: role -> the report's `file` (the file's or the dataset's name)
    files: Mapping[str, str]
    #: role -> sha256 of the bytes read (a dataset: of its partitions' names and digests)
    digests: Mapping[str, str]
    #: role -> (rows, columns) as read
    shapes: Mapping[str, tuple[int, int]]
    #: where the DCR searches run: None in this process (on `tables`), else the engine's
    search: Search | None = None
    #: where utility scores every holdout row with its fitted models: None in this
    #: process (on `tables`), else the engine's (each partition on a worker)
    score: Score | None = None
    #: role -> the table's counts (`tallies`), added up from its partitions' counts by a
    #: distributed engine; None: the families count them on `tables`
    totals: Mapping[str, Totals] | None = None
    #: the synthetic rows satisfying each of the card's rules, added up likewise (None:
    #: `constraints` counts them on `tables`)
    satisfied: Satisfied | None = None
    #: where the families make their table-sized arrays (`measurement.Allocate`): None in
    #: this process (`np.empty`), else the engine's (out of core on the client's disk)
    allocate: Allocate | None = None
    #: where the attacks' nearest-neighbour searches run: None in this process (on
    #: `tables`), else the engine's (each synthetic partition on a worker, `neighbours`)
    nearest: Nearest | None = None
    #: where the chart counts are made (`measurement.Count`): None in this process (on
    #: `tables`), else the engine's (each partition on a worker, the counts added up)
    count: Count | None = None
    #: where the subgroup family's order-free sides are made (`measurement.GroupSides`):
    #: None in this process (from `tables`), else the engine's (each partition on a worker)
    group_sides: GroupSides | None = None
    #: where fidelity's numeric x categorical pairs are counted (`measurement.BinCounts`):
    #: None in this process (from `tables`), else the engine's (each partition on a worker)
    bin_counts: BinCounts | None = None
    #: where the late pass starts (`measurement.Late`): None in this process (the families
    #: count on `tables`), else the engine's (one read of each real and synthetic partition
    #: for `count`, `bin_counts` and `group_sides`)
    late: Late | None = None


class Engine(Protocol):
    """Reads and encodes the tables of an evaluation (see the module docstring)."""

    def load(self, card: Card, locations: Mapping[str, Path | str]) -> Loaded:
        """The tables at `locations` (role -> where), encoded by `card`.

        Raises:
            InputError: a table that cannot be read or does not fit the card.
        """
        ...  # pragma: no cover - a protocol

    def close(self) -> None:
        """Release what the engine holds (a cluster, a connection); idempotent."""
        ...  # pragma: no cover - a protocol


class InProcess:
    """The default engine: each table is one CSV or Parquet file, read in this process."""

    def load(self, card: Card, locations: Mapping[str, Path | str]) -> Loaded:
        from concurrent.futures import ThreadPoolExecutor

        from synthgov.metrics import rows
        from synthgov.metrics.encoding import ROLES, encode
        from synthgov.metrics.tables import read_table

        paths = {role: Path(locations[role]) for role in ROLES}
        frames, digests = {}, {}
        # pandas' CSV tokenizer and hashlib release the GIL: two files are read at a time;
        # results come back in role order, and so does the first error
        with ThreadPoolExecutor(max_workers=2) as pool:
            for role, (frame, digest) in zip(
                ROLES, pool.map(read_table, (paths[role] for role in ROLES)), strict=True
            ):
                frames[role], digests[role] = frame, digest
        tables, defects = encode(card, frames, {role: str(paths[role]) for role in ROLES})
        tables, hashes = rows.canonical(tables)
        return Loaded(
            tables,
            hashes,
            defects,
            files={role: paths[role].name for role in ROLES},
            digests=digests,
            shapes={
                role: (int(frames[role].shape[0]), int(frames[role].shape[1])) for role in ROLES
            },
        )

    def close(self) -> None:
        return None
