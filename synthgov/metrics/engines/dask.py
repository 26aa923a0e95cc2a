"""The Dask engine of `evaluate --dask SCHEDULER`: tables read as partitioned datasets.

SCHEDULER is `local` or `local:N` (a LocalCluster of N worker processes, one thread each;
N defaults to the CPU count) or a scheduler address (`tcp://host:8786`). A table is a
single CSV or Parquet file, or a Parquet dataset: a folder (every `.parquet`/`.pq` file
below it, names starting with `_` or `.` skipped, as Spark and Hive write them), a glob, or
any fsspec URL (`s3://bucket/table/`, credentials from the usual environment of the client
and of the workers). The workers need synthgov installed, as the client has it.

Two passes over the partitions, each a map on the workers and a reduce here:

1. the Parquet footers: every partition of a table must have the same columns and types
   (else exit 2 naming the first partition that differs), before any data is read;
2. each partition is read, digested (sha256), encoded by the card
   (`partitions.encode_part`), counted (`partitions.counts`: the counts of `tallies`, the
   rows satisfying each rule) and sorted by its row hashes (`partitions.ordered`: the
   hashes and their n log n sort of every row are the workers' work, a partition at a
   time) on a worker, which holds one partition at a time; the synthetic table goes
   first, so that the real and holdout rows are hashed over the card columns it has, as
   `rows.canonical` hashes them. The client gathers the sorted partitions one at a time,
   writes them to its spill directory (`spill.Spill`: memory-mapped files on its own
   disk, not its memory) and builds there the tables `partitions.combine` builds, in
   canonical order, by merging the partitions' sorted runs (no hashing on the client),
   exactly as the in-process engine does from whole files; it adds the counts up
   (`tallies.add`), which the count metrics of fidelity and constraints read instead of
   the columns.

Later passes read a partition again on a worker (`_read_again`, checked against the
first read's digest): the DCR searches (`search`), utility's holdout scores (`score`:
the client fits the models, the workers score their partitions, `scoring.place` puts
each score at its row's canonical place), the attacks' nearest synthetic rows
(`nearest`: the workers find each target's least distance and the rows at it, the
client settles ties, `neighbours`), and the late pass (`late`, started right after
`load` as the searches are): one read of each real and synthetic partition, its labels
coded once into the whole tables' categories (`coded.tables`), for the report's chart
counts (under the client's plans, added up), fidelity's numeric x categorical pairs
(binned by the client's edges, counted, added up) and every subgroup column's
order-free sides (counts added up, sorted runs merged), which `count`, `bin_counts` and
`group_sides` hand out; asked for a plan the late pass did not make, each of them runs
a pass of its own.

A dataset's `sha256` in the report is that of its sorted partition names and digests
(a single file keeps its own bytes' digest); its fingerprint is the content's, so it
equals the fingerprint of the same rows in one file. An unreachable scheduler and a
partition that cannot be read end the evaluation with one line and exit 2, before any
report is written. A worker lost mid-run has its tasks run again on another (they are pure),
so the report is the same; a task whose workers die more often than the scheduler's
`allowed-failures` ends the evaluation the same way (docs/scale.md).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import logging
import os
import re
import resource
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgov.errors import InputError, Problem, SynthgovError

if TYPE_CHECKING:
    import numpy as np
    from distributed import Client, LocalCluster

    from synthgov.metrics.aggregates import ColumnPlan
    from synthgov.metrics.binning import Binning
    from synthgov.metrics.constraints import Satisfied
    from synthgov.metrics.encoding import Tables
    from synthgov.metrics.engine import Loaded
    from synthgov.metrics.engines.spill import Arena, Spill
    from synthgov.metrics.grouping import Grouping, Sides
    from synthgov.metrics.late import Found as LateFound
    from synthgov.metrics.late import Plan
    from synthgov.metrics.measurement import Pending
    from synthgov.metrics.neighbours import Found, Targets
    from synthgov.metrics.partitions import Layout, Part
    from synthgov.metrics.tallies import Counts, Totals
    from synthgov.models import Card

#: what a worker sends back of a partition: its encoded columns, sha256, counts and the
#: rows satisfying each rule (`partitions.counts`)
_Encoded = tuple["Part", str, "Counts", "Satisfied | None"]
_LOCAL = re.compile(r"local(?::([0-9]+))?")
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
#: how long to try an address before saying it cannot be reached, unless the user set
#: DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT
CONNECT_TIMEOUT = "10s"
#: seconds `close` waits for the client and then the LocalCluster to shut down
CLOSE_TIMEOUT = 20
PARQUET = (".parquet", ".pq")
#: encoded bytes per byte of a single Parquet file, for the spill's free-space check: the
#: 15-column tables of benchmarks/evaluate_dask.py take about 6 times their Parquet size
PARQUET_EXPANSION = 8
TABLES = (".csv", *PARQUET)
OPTION = "--dask"
#: the late pass's priority (`Dask.late`): before the DCR searches (0) when fidelity, the
#: first family, waits for it; else after the attacks' searches (-1), for the last family
LATE_FIRST, LATE_LAST = 1, -2


def check_scheduler(scheduler: str) -> None:
    """Raise unless `scheduler` is `local`, `local:N` (N >= 1) or an address with a scheme.

    Raises:
        InputError: anything else, naming the option.
    """
    local = _LOCAL.fullmatch(scheduler)
    if local and int(local.group(1) or 1) >= 1:
        return
    if _ADDRESS.fullmatch(scheduler) and not local:
        return
    raise InputError.at(
        OPTION,
        f"expected local, local:N (N >= 1 worker processes) or a scheduler address such as "
        f"tcp://host:8786, not {scheduler!r}",
    )


class Dask:
    """An engine on a Dask cluster (see the module docstring); `close` ends a LocalCluster."""

    def __init__(self, scheduler: str, spill_dir: str | Path | None = None) -> None:
        """`spill_dir`: where the client's spill directory is made (`spill.Spill`; None:
        tempfile's default, TMPDIR or /tmp)."""
        from synthgov.metrics.engines.spill import check_folder

        check_scheduler(scheduler)
        if spill_dir is not None:
            check_folder(spill_dir)
        self.scheduler = scheduler
        self.spill_dir = spill_dir
        #: the encoded tables on the client's disk, from `load` until `close`
        self.spill: Spill | None = None
        self._cluster: LocalCluster | None = None
        #: what `load` read, for `search` to read it again: role -> (dataset, digests)
        self._read: dict[str, tuple[Dataset, tuple[str, ...]]] = {}
        self._card: Card | None = None
        self._layout: Layout = ()
        #: role -> the table's sorted row hashes, for `score` to place each row's score
        self._hashes: Mapping[str, np.ndarray] = {}
        self._client: Client | None = None
        #: the tables `load` returned, for `nearest` to scale the targets and settle ties
        self._tables: Tables | None = None
        #: numeric column -> the synthetic column's least and greatest value (`nearest`)
        self._extremes: dict[str, tuple[float, float]] = {}
        #: the late pass `late` started, which `count`, `bin_counts` and `group_sides`
        #: answer from when it made the plan asked for
        self._late: _Late | None = None
        #: worker function -> how many partition tasks were submitted to it since this
        #: engine was made (how many times the partitions were read, by what)
        self.submitted: Counter[str] = Counter()

    @property
    def client(self) -> Client:
        """The cluster's client, connected on first use: the tables' locations are
        checked before a cluster starts or a scheduler is dialled."""
        if self._client is None:
            self._client = self._connect(self.scheduler)
        return self._client

    def _connect(self, scheduler: str) -> Client:
        from distributed import Client

        local = _LOCAL.fullmatch(scheduler)
        if local:
            workers = int(local.group(1) or os.cpu_count() or 1)
            self._cluster = _local_cluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # without a dashboard the scheduler still serves its health and metrics
                # routes, by default on port 8787 of every interface (and with a warning on
                # stderr when another run holds it): here on a free port of this machine only
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                # a lost worker is retried, or ends in one line (`_failure`): the
                # scheduler's and nannies' own log lines would be a second account
                silence_logs=logging.CRITICAL,
            )
            return Client(self._cluster)
        timeout = os.environ.get("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", CONNECT_TIMEOUT)
        try:
            return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError.at(
                OPTION, f"cannot reach the Dask scheduler at {scheduler}: {_first_line(exc)}"
            ) from None

    def close(self) -> None:
        """Disconnect, and end a LocalCluster, each within `CLOSE_TIMEOUT` seconds; never
        raises, so that it cannot hide the evaluation's own error or fail a finished one
        (a LocalCluster's worker processes are daemons: they end with this process)."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if self.spill is not None:
            self.spill.remove()
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=CLOSE_TIMEOUT)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=CLOSE_TIMEOUT)

    def peak_memory(self) -> dict[str, int]:
        """Each worker's peak resident memory so far, in bytes (its process's high-water mark)."""
        peaks: dict[str, int] = self.client.run(_peak_rss)
        return peaks

    def cpu_seconds(self) -> dict[str, float]:
        """Each worker's CPU time so far (user + system), which load on a shared machine
        does not inflate as it does wall time."""
        used: dict[str, float] = self.client.run(_cpu_seconds)
        return used

    def load(self, card: Card, locations: Mapping[str, Path | str]) -> Loaded:
        from synthgov.metrics.constraints import Satisfied
        from synthgov.metrics.encoding import ROLES
        from synthgov.metrics.engine import Loaded
        from synthgov.metrics.engines.spill import CELL_BYTES, Spill
        from synthgov.metrics.partitions import layout
        from synthgov.metrics.tallies import add
        from synthgov.signals import held

        if self.spill is not None:  # a second load: the first one's tables go
            self.spill.remove()
        datasets = {role: Dataset.find(str(locations[role])) for role in ROLES}
        # the cluster first: a signal while its worker processes start would end them while
        # they read their start-up data from this process, which they report on stderr
        try:
            self.client  # noqa: B018 - connects
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        with held():  # recorded for `close` before Ctrl-C or SIGTERM can end the run
            self.spill = spill = Spill(self.spill_dir)
        try:
            try:
                sizes = [self._same_schema(datasets[role], len(card.columns)) for role in ROLES]
                longest = max(rows * CELL_BYTES for _, rows in sizes)
                spill.require(sum(size for size, _ in sizes) + longest)
                parts = self._encode_all(datasets, card)
            except _CLUSTER_ERRORS as exc:
                raise _failure(self.scheduler, exc) from None
            tables, defects, hashes = spill.tables(
                card, {role: datasets[role].location for role in ROLES}
            )
        except BaseException:  # Ctrl-C too: nothing is left on the client's disk
            spill.remove()
            raise
        categories = {c.name: c.categories for c in tables.categorical}
        totals = {role: add([c for _, _, c, _ in parts[role]], categories) for role in ROLES}
        rules = [r for _, _, _, r in parts["synthetic"] if r is not None]
        self._read = {
            role: (datasets[role], tuple(d for _, d, _, _ in parts[role])) for role in ROLES
        }
        self._card, self._layout = card, layout(tables)
        self._hashes = hashes
        self._tables, self._extremes, self._late = tables, {}, None
        return Loaded(
            tables,
            hashes,
            defects,
            files={role: datasets[role].file for role in ROLES},
            digests={
                role: datasets[role].digest([d for _, d, _, _ in parts[role]]) for role in ROLES
            },
            shapes={role: (tables.rows[role], len(parts[role][0][0].columns)) for role in ROLES},
            search=self.search,
            score=self.score,
            totals=totals,
            satisfied=functools.reduce(Satisfied.add, rules) if rules else None,
            allocate=spill.allocate,
            nearest=self.nearest,
            count=self.count,
            group_sides=self.group_sides,
            bin_counts=self.bin_counts,
            late=self.late,
        )

    def search(
        self, sets: Sequence[np.ndarray], role: str, numeric: np.ndarray, scale: np.ndarray
    ) -> Pending[list[np.ndarray]]:
        """Each query set's DCR among every row of table `role` (`measurement.Search`),
        started and not waited for: every partition is read again once and searched on a
        worker, which holds one partition and the queries, for all the sets in one kernel
        call (a query's distance does not depend on the others searched with it: the
        kernel prunes per query); the minimum over the partitions is the table's, bit for
        bit. The client gathers the minima when the result is asked for (`_Minima`), and
        meanwhile does other work."""
        import numpy as np

        dataset, digests = self._read[role]
        if self._card is None:  # pragma: no cover - `load` sets it before any search
            raise ValueError("search before load")
        sizes = tuple(len(queries) for queries in sets)
        try:
            # one array under a key of this search's own (`shared`), stored once on the
            # cluster; the sets one after another
            shared = _shared(self.client, np.concatenate(sets) if len(sets) > 1 else sets[0])
            futures = self.client.map(
                _partition_dcr,
                dataset.urls,
                dataset.shown,
                digests,
                queries=shared,
                card=self._card,
                columns=self._layout,
                numeric=numeric,
                scale=scale,
                pure=False,
            )
            self.submitted["_partition_dcr"] += len(futures)
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        return _Minima(self.scheduler, futures, shared, sizes)

    def score(
        self, role: str, models: Mapping[str, Any], features: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Every row of table `role` scored by each fitted model, in canonical order
        (`measurement.Score`): every partition is read again and scored on a worker, which
        sends back its rows' hashes and scores; each score goes to its row's places among
        the table's sorted hashes (`scoring.place`), in arrays on the spill's disk."""
        import numpy as np
        from distributed import as_completed

        from synthgov.metrics.scoring import place

        dataset, digests = self._read[role]
        if self._card is None or self.spill is None:  # pragma: no cover - `load` sets them
            raise ValueError("score before load")
        canonical = self._hashes[role]
        out = {name: self.spill.allocate((len(canonical),), np.float64) for name in models}
        kinds = dict(self._layout)
        scoring = _Scoring(
            tuple(models.values()),
            tuple(name for name, _ in self._layout),
            tuple((f, kinds[f]) for f in features),
        )
        try:
            shared = _shared(self.client, scoring)  # the models, once on the cluster
            futures = self.client.map(
                _partition_scores,
                dataset.urls,
                dataset.shown,
                digests,
                scoring=shared,
                card=self._card,
                pure=False,
            )
            self.submitted["_partition_scores"] += len(futures)
            shown = dict(zip((f.key for f in futures), dataset.shown, strict=True))
            for future in as_completed(futures):
                found = _unwrap(future.result())
                future.release()
                if found is None:  # an empty partition
                    continue
                hashes, scores = found
                if place(canonical, hashes, scores, list(out.values())):
                    raise InputError.at(
                        shown[future.key], "the partition's rows are not those read at first"
                    )
            shared.release()
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        return out

    def nearest(
        self, searches: Sequence[tuple[Sequence[str], str, np.ndarray]]
    ) -> Pending[list[tuple[np.ndarray, np.ndarray]]]:
        """The attacks' nearest-neighbour searches (`measurement.Nearest`), started and not
        waited for: the client scales the targets (`neighbours.targets`), every synthetic
        partition is read again once and searched on a worker for all of them, and the
        client reduces the partitions' answers and settles the ties (`_Nearest`)."""
        from synthgov.metrics.neighbours import extremes, targets

        tables, card, spill = self._tables, self._card, self.spill
        if tables is None or card is None or spill is None:  # pragma: no cover - `load` sets them
            raise ValueError("nearest before load")
        for columns, _, _ in searches:
            for name in columns:
                if name not in self._extremes and tables[name].is_numeric:
                    self._extremes[name] = extremes(tables, name)
        sets = [
            targets(tables, columns, role, rows, self._extremes) for columns, role, rows in searches
        ]
        dataset, digests = self._read["synthetic"]
        try:
            shared = _shared(self.client, _Searches(tuple(sets)))  # once on the cluster
            futures = self.client.map(
                _partition_nearest,
                dataset.urls,
                dataset.shown,
                digests,
                searches=shared,
                card=card,
                columns=self._layout,
                pure=False,
                # after the tasks submitted later at the default priority (utility's
                # scores are needed first): the attacks measure after privacy
                priority=-1,
            )
            self.submitted["_partition_nearest"] += len(futures)
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        return _Nearest(
            self.scheduler, futures, shared, sets, (tables, self._hashes["synthetic"], spill)
        )

    def count(self, plans: list[ColumnPlan]) -> dict[tuple[str, ...], np.ndarray]:
        """The chart counts of the real and synthetic tables under the client's `plans`
        (`measurement.Count`): every partition of both is read again and counted on a
        worker (`aggregates.count_cells` on `coded.tables`: its labels coded into the
        whole tables' categories), and the integer counts are added up here as they come,
        the whole tables' counts exactly, in any order."""
        from synthgov.metrics.aggregates import SIDES, add

        if self._card is None:  # pragma: no cover - `load` sets it before any count
            raise ValueError("count before load")
        if self._late is not None and self._late.plan.charts_are(plans):
            counted = self._late.counts()
            if counted is not None:
                return counted
        total: dict[tuple[str, ...], np.ndarray] = {}
        try:
            # the plans, once on the cluster (in a box: `scatter` spreads a bare list)
            shared = _shared(self.client, _Charting(tuple(plans), self._layout))
            futures, role_of = self._each_partition(_partition_counts, SIDES, charting=shared)
            for _, found in _collected(futures, role_of):
                total = add(total, found)
            shared.release()
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        return total

    def group_sides(self, grouping: Grouping) -> tuple[Sides, Sides]:
        """The real and synthetic tables' rows per group of a subgroup column and each
        group's order-free sides (`measurement.GroupSides`): every partition of both is read
        again and split on a worker (`grouping.sides` on `coded.tables`); the client keeps
        each partition's sorted runs on its spill disk as they come and merges them
        (`grouping.merge`): the integer counts add up exactly, the merged runs are the
        whole group's sorted values."""
        if self._card is None or self.spill is None or self._tables is None:  # pragma: no cover
            raise ValueError("group_sides before load")
        at = None if self._late is None else self._late.plan.sides_of(grouping)
        if self._late is not None and at is not None:
            made = self._late.sides(at, grouping.size)
            if made is not None:
                return made
        roles = ("real", "synthetic")
        numeric = {name: categories is None for name, categories in self._layout}
        found: dict[str, list[Sides]] = {role: [] for role in roles}
        rows = self._tables.rows
        runs = {role: _runs(self.spill, rows[role], grouping, numeric) for role in roles}
        try:
            shared = _shared(self.client, _Grouped(grouping, self._layout))
            futures, role_of = self._each_partition(_partition_groups, roles, grouped=shared)
            for role, part in _collected(futures, role_of):
                found[role].append(_keep_runs(part, numeric, runs[role]))
            shared.release()
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        real, synthetic = (
            _merge_runs(found[role], grouping.size, numeric, self.spill) for role in roles
        )
        return real, synthetic

    def bin_counts(self, binning: Binning) -> dict[str, Totals]:
        """The real and synthetic tables' counts of fidelity's numeric × categorical pairs
        under the client's bin edges (`measurement.BinCounts`): every partition of both is
        read again and counted on a worker (`binning.count` on `coded.tables`), and the
        integer counts are added up here (`binning.add`), exactly, in any order."""
        from synthgov.metrics import binning as binned

        if self._card is None:  # pragma: no cover - `load` sets it before any count
            raise ValueError("bin_counts before load")
        if self._late is not None and self._late.plan.bins_are(binning):
            counted = self._late.bins()
            if counted is not None:
                return counted
        roles = ("real", "synthetic")
        found: dict[str, list[Counts]] = {role: [] for role in roles}
        try:
            shared = _shared(self.client, _Binned(binning, self._layout))
            futures, role_of = self._each_partition(_partition_bins, roles, binned=shared)
            for role, part in _collected(futures, role_of):
                found[role].append(part)
            shared.release()
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        categories = {name: labels for name, labels in self._layout if labels is not None}
        return {role: binned.add(found[role], categories) for role in roles}

    def late(self, plan: Plan) -> None:
        """Start the late pass (`measurement.Late`, `late`): one map over every real and
        synthetic partition, each read again once (`_read_again`), coded once into the
        whole tables' categories (`coded.tables`) and measured for every part of `plan`
        (`late.measure`); not waited for. `count`, `bin_counts` and `group_sides` collect
        it (`_Late`) when asked for what it planned.

        Its priority follows its first reader: with fidelity's mixed pairs in it, fidelity
        (the first family after `load`) waits for it, so it runs before the DCR searches
        and the attacks' (needed later, at privacy); without them the subgroups are its
        first reader, the last family, and it runs after every other pass."""
        if self._card is None or self.spill is None or self._tables is None:  # pragma: no cover
            raise ValueError("late before load")
        roles = ("real", "synthetic")
        try:
            shared = _shared(self.client, _Swept(plan, self._layout))  # once on the cluster
            futures, role_of = self._each_partition(
                _partition_late,
                roles,
                swept=shared,
                priority=LATE_FIRST if plan.bins is not None else LATE_LAST,
            )
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        numeric = {name: categories is None for name, categories in self._layout}
        categories = {name: labels for name, labels in self._layout if labels is not None}
        self._late = _Late(
            self.scheduler,
            futures,
            role_of,
            shared,
            plan,
            self.spill,
            numeric,
            categories,
            self._tables.rows,
        )

    def _each_partition(
        self, function: Any, roles: Sequence[str], **options: Any
    ) -> tuple[list[Any], dict[Any, str]]:
        """`function` submitted for every partition of the tables `roles`, read again
        (its url, name and first digest, the card and the role, and `options`); the
        futures and the role of each, by its key."""
        futures, role_of = [], {}
        for role in roles:
            dataset, digests = self._read[role]
            for future in self.client.map(
                function,
                dataset.urls,
                dataset.shown,
                digests,
                card=self._card,
                role=role,
                pure=False,
                **options,
            ):
                futures.append(future)
                role_of[future.key] = role
        self.submitted[function.__name__] += len(futures)
        return futures, role_of

    def _same_schema(self, dataset: Dataset, columns: int) -> tuple[int, int]:
        """Raise unless every partition of `dataset` has the first one's columns and types;
        the bytes its `columns` card columns take encoded (at 8 bytes a cell, from the rows
        in the footers; one file: guessed from its size) and its rows (0: unknown).

        Raises:
            InputError: a partition whose schema differs, or missing or malformed (one
                file's own error comes later, when it is read).
        """
        from synthgov.metrics.engines.spill import CELL_BYTES

        if len(dataset.urls) == 1:  # one file: nothing to compare (a CSV has no footer)
            return _single_size(dataset.urls[0])
        futures = self.client.map(_schema, dataset.urls, dataset.shown, pure=False)
        footers = [_unwrap(f.result()) for f in futures]
        first = footers[0][0]
        for shown, (schema, _) in zip(dataset.shown, footers, strict=True):
            if schema != first:
                raise InputError.at(shown, _difference(schema, first, dataset.shown[0]))
        rows = sum(count for _, count in footers)
        return rows * columns * CELL_BYTES, rows

    def _encode(
        self, dataset: Dataset, card: Card, role: str, hashed: tuple[str, ...] | None = None
    ) -> list[_Encoded]:
        """Each partition's encoded card columns, sha256 and counts (`partitions.counts`),
        in partition order, gathered one at a time so that the workers release each as soon
        as it is here. Each arrives with its rows sorted by their hashes over the `hashed`
        columns (`partitions.ordered`), which the spill keeps as a run to merge."""
        from distributed import as_completed

        futures = self.client.map(
            _encode_ordered,
            dataset.urls,
            dataset.shown,
            card=card,
            role=role,
            hashed=hashed,
            pure=False,
        )
        position = {f.key: i for i, f in enumerate(futures)}
        done: list[_Encoded | None] = [None] * len(futures)
        assert self.spill is not None  # made by `load` first
        for future in as_completed(futures):
            (part, hashes), *rest = _unwrap(future.result())
            future.release()
            done[position[future.key]] = (self.spill.keep(role, part, hashes), *rest)
        return [item for item in done if item is not None]

    def _encode_all(self, datasets: Mapping[str, Dataset], card: Card) -> dict[str, list[_Encoded]]:
        """`_encode` of the three tables, the synthetic one first: the tables keep the card
        columns the synthetic table has (a synthetic table may lack one), and the workers
        hash the real and holdout rows over those alone, as `rows.canonical` hashes them."""
        from synthgov.metrics.encoding import ROLES

        synthetic = self._encode(datasets["synthetic"], card, "synthetic")
        present = synthetic[0][0].columns
        hashed = tuple(c.name for c in card.columns if c.name in present)
        parts = {"synthetic": synthetic}
        for role in ("real", "holdout"):
            parts[role] = self._encode(datasets[role], card, role, hashed)
        return {role: parts[role] for role in ROLES}


class _Minima:
    """A `Dask.search` under way (`measurement.Pending`): `result` gathers each partition's
    minima as they come, keeps each query's least, and splits them into the sets."""

    def __init__(
        self, scheduler: str, futures: list[Any], shared: Any, sizes: tuple[int, ...]
    ) -> None:
        self.scheduler, self.sizes = scheduler, sizes
        self._futures, self._shared = futures, shared
        self._found: list[np.ndarray] | None = None

    def result(self) -> list[np.ndarray]:
        """The sets' distances, waited for once.

        Raises:
            SynthgovError: the cluster failed (the one line of `_failure`).
            InputError: a partition changed since `load` read it, or cannot be read.
        """
        import numpy as np
        from distributed import as_completed

        if self._found is None:
            best = np.full(sum(self.sizes), np.inf)
            try:
                for future in as_completed(self._futures):
                    found = _unwrap(future.result())
                    if found is not None:  # an empty partition has no nearest row
                        np.minimum(best, found, out=best)
                    future.release()
                self._shared.release()
            except _CLUSTER_ERRORS as exc:
                raise _failure(self.scheduler, exc) from None
            self._futures = []
            self._found = np.split(best, np.cumsum(self.sizes)[:-1])
        return self._found


class _Nearest:
    """A `Dask.nearest` under way (`measurement.Pending`): `result` reduces each
    partition's answers as they come (`neighbours.Neighbours`), then finds each target's
    row among the synthetic table's sorted hashes or settles it on the spilled table."""

    def __init__(
        self,
        scheduler: str,
        futures: list[Any],
        shared: Any,
        sets: list[Targets],
        synthetic: tuple[Tables, np.ndarray, Spill],
    ) -> None:
        """`synthetic`: the tables, the synthetic table's sorted row hashes, and the spill
        that lays out the table for a tie."""
        self.scheduler, self._futures, self._shared, self._sets = scheduler, futures, shared, sets
        self._synthetic = synthetic
        self._found: list[tuple[np.ndarray, np.ndarray]] | None = None
        #: each search's targets settled on the client (`neighbours.Neighbours.settled`)
        self.settled: list[int] = []

    def result(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each search's nearest rows and distances, waited for once.

        Raises:
            SynthgovError: the cluster failed (the one line of `_failure`).
            InputError: a partition changed since `load` read it, or cannot be read.
        """
        from distributed import as_completed

        from synthgov.metrics.neighbours import Neighbours

        if self._found is None:
            reduced = Neighbours(self._sets)
            try:
                for future in as_completed(self._futures):
                    found = _unwrap(future.result())
                    if found is not None:  # an empty partition has no nearest row
                        reduced.add(found)
                    future.release()
                self._shared.release()
            except _CLUSTER_ERRORS as exc:
                raise _failure(self.scheduler, exc) from None
            self._futures = []
            tables, canonical, spill = self._synthetic
            self._found = reduced.answers(tables, canonical, spill.allocate)
            self.settled = reduced.settled
        return self._found


class _Late:
    """A `Dask.late` pass under way: the first request for one of its parts gathers every
    partition's answers as they come (`_gather`: the futures and the shared plan released,
    a numeric side's sorted run kept on the spill's disk as `group_sides` keeps it), and
    each part is handed out once (`counts`, `bins`, `sides`) and then dropped; None: that
    part was taken already (the caller runs its own pass)."""

    def __init__(
        self,
        scheduler: str,
        futures: list[Any],
        role_of: Mapping[Any, str],
        shared: Any,
        plan: Plan,
        spill: Spill,
        numeric: dict[str, bool],
        categories: dict[str, tuple[str, ...]],
        rows: Mapping[str, int],
    ) -> None:
        self.scheduler, self.plan = scheduler, plan
        self._futures: list[Any] | None = futures
        self._role_of, self._shared, self._spill = role_of, shared, spill
        self._numeric, self._categories, self._rows = numeric, categories, rows
        self._counts: dict[tuple[str, ...], np.ndarray] | None = None
        self._bins: dict[str, list[Counts]] | None = None
        self._sides: list[dict[str, list[Sides]] | None] = []

    def counts(self) -> dict[tuple[str, ...], np.ndarray] | None:
        """The real and synthetic tables' chart counts under the plan's `charts`."""
        self._gather()
        counted, self._counts = self._counts, None
        return counted

    def bins(self) -> dict[str, Totals] | None:
        """role -> the counts of the plan's mixed pairs (`binning.add`)."""
        from synthgov.metrics import binning

        self._gather()
        found, self._bins = self._bins, None
        if found is None:
            return None
        return {role: binning.add(parts, self._categories) for role, parts in found.items()}

    def sides(self, at: int, size: int) -> tuple[Sides, Sides] | None:
        """The real and synthetic sides of the plan's grouping `at` (of `size` groups),
        merged (`grouping.merge`)."""
        self._gather()
        found, self._sides[at] = self._sides[at], None
        if found is None:
            return None
        real, synthetic = (
            _merge_runs(found[role], size, self._numeric, self._spill)
            for role in ("real", "synthetic")
        )
        return real, synthetic

    def _gather(self) -> None:
        """Every partition's answers, waited for once.

        Raises:
            SynthgovError: the cluster failed (the one line of `_failure`).
            InputError: a partition changed since `load` read it, or cannot be read.
        """
        from synthgov.metrics.aggregates import add

        if self._futures is None:
            return
        roles = ("real", "synthetic")
        counts: dict[tuple[str, ...], np.ndarray] = {}
        bins: dict[str, list[Counts]] = {role: [] for role in roles}
        sides: list[dict[str, list[Sides]]] = [
            {role: [] for role in roles} for _ in self.plan.groupings
        ]
        runs = [
            {role: _runs(self._spill, self._rows[role], g, self._numeric) for role in roles}
            for g in self.plan.groupings
        ]
        try:
            part: LateFound
            for role, part in _collected(self._futures, self._role_of):
                counts = add(counts, part.counts)
                if part.bins is not None:
                    bins[role].append(part.bins)
                for at, side in enumerate(part.sides):
                    sides[at][role].append(_keep_runs(side, self._numeric, runs[at][role]))
            self._shared.release()
        except _CLUSTER_ERRORS as exc:
            raise _failure(self.scheduler, exc) from None
        self._futures = None
        self._counts = counts
        self._bins = bins if self.plan.bins is not None else None
        self._sides = list(sides)


@dataclass(frozen=True)
class Dataset:
    """A table's partitions: the URLs the workers open and the names errors show."""

    location: str
    urls: tuple[str, ...]
    shown: tuple[str, ...]
    #: the partitions' names within the dataset (what its digest covers)
    relative: tuple[str, ...]
    #: whether the location is one file (its digest is then that file's)
    single: bool

    @classmethod
    def find(cls, location: str) -> Dataset:
        """The partitions at `location` (a file, a folder, a glob or an fsspec URL).

        Raises:
            InputError: nothing there, no Parquet file in it, or an unknown file type.
        """
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(location)
            if glob.has_magic(root):
                found = sorted(p for p in fs.glob(root) if p.lower().endswith(PARQUET))
                single = False
            elif fs.isdir(root):
                found = sorted(
                    p
                    for p in fs.find(root)
                    if p.lower().endswith(PARQUET) and not _hidden(p[len(root) :])
                )
                single = False
            elif fs.exists(root):
                if not root.lower().endswith(TABLES):
                    raise InputError.at(
                        location, "expected a table ending in .csv, .parquet or .pq"
                    )
                found, single = [root], True
            else:
                raise InputError.at(location, "no such file, folder or Parquet dataset")
        except (OSError, ValueError, ImportError) as exc:
            raise InputError.at(location, f"cannot list the dataset: {_first_line(exc)}") from None
        if not found:
            raise InputError.at(
                location, "no partitions: no file ending in .parquet or .pq matches"
            )
        if single:
            relative = (root.rsplit("/", 1)[-1],)
            shown: tuple[str, ...] = (location,)
        elif glob.has_magic(root):
            relative = tuple(p.rsplit("/", 1)[-1] for p in found)
            shown = tuple(fs.unstrip_protocol(p) if "://" in location else p for p in found)
        else:
            relative = tuple(p[len(root) :].lstrip("/") for p in found)
            shown = tuple(location.rstrip("/") + "/" + r for r in relative)
        urls = tuple(fs.unstrip_protocol(p) for p in found)
        return cls(location, urls, shown, relative, single)

    @property
    def file(self) -> str:
        """The report's `file`: the file's or the dataset's own name."""
        return self.location.rstrip("/").rsplit("/", 1)[-1] or self.location

    def digest(self, digests: Sequence[str]) -> str:
        """One file's sha256, or a dataset's: of its partitions' names (relative, sorted)
        and digests, so a changed, added or removed partition changes it."""
        if self.single:
            return digests[0]
        lines = sorted(f"{r}\0{d}\n" for r, d in zip(self.relative, digests, strict=True))
        return hashlib.sha256("".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class _Failed:
    """What a worker found wrong with a partition: returned, not raised, so that it reaches
    the client as the one line it is rather than as a remote traceback."""

    problems: list[Problem]


def _unwrap(result: Any) -> Any:
    if isinstance(result, _Failed):
        raise InputError(result.problems)
    return result


def _runs(spill: Spill, rows: int, grouping: Grouping, numeric: Mapping[str, bool]) -> Arena:
    """Room on the spill's disk for one table's sorted runs of `grouping`'s sides: each
    non-missing number of every other numeric column is in one group's run at most."""
    from synthgov.metrics.engines.spill import CELL_BYTES

    columns = sum(1 for name, number in numeric.items() if number and name != grouping.name)
    return spill.arena(rows * columns * CELL_BYTES)


def _keep_runs(part: Sides, numeric: Mapping[str, bool], runs: Arena) -> Sides:
    """`part` with its numeric sides copied into `runs`, out of this process's memory."""
    for key, values in part.sides.items():
        if numeric[key[1]]:
            part.sides[key] = kept = runs.allocate(values.shape, values.dtype)
            kept[...] = values
    return part


def _merge_runs(parts: list[Sides], size: int, numeric: Mapping[str, bool], spill: Spill) -> Sides:
    """`grouping.merge` of one table's partitions into an arena as large as their runs."""
    from synthgov.metrics.engines.spill import CELL_BYTES
    from synthgov.metrics.grouping import merge

    room = sum(len(v) for part in parts for (_, name), v in part.sides.items() if numeric[name])
    return merge(parts, size, numeric, spill.arena(room * CELL_BYTES).allocate)


def _collected(futures: Sequence[Any], role_of: Mapping[Any, str]) -> Iterator[tuple[str, Any]]:
    """Each partition's answer as it comes, with its table's role, its future released
    (a worker's `_Failed` raised as one line, `_unwrap`); an empty partition's None
    skipped."""
    from distributed import as_completed

    for future in as_completed(futures):
        part = _unwrap(future.result())
        future.release()
        if part is not None:
            yield role_of[future.key], part


def _single_size(url: str) -> tuple[int, int]:
    """What one file takes encoded, guessed on the client from its size alone (the file is
    not opened here: a worker reads it): a CSV file twice its size (a cell of text is a
    few bytes), a Parquet file `PARQUET_EXPANSION` times (compressed); and 0 rows
    (unknown). (0, 0) if it cannot be listed (reading it will say why)."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
        size = int(fs.size(path) or 0)
    except Exception:  # any: the read on a worker gives the one line
        return 0, 0
    return size * (PARQUET_EXPANSION if url.lower().endswith(PARQUET) else 2), 0


def _schema(url: str, shown: str) -> tuple[tuple[tuple[str, str], ...], int] | _Failed:
    """On a worker: the partition's data columns and their Arrow types, and its rows,
    from its footer."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthgov.metrics.tables import is_index_column

    try:
        with fsspec.open(url, "rb") as handle:
            footer = pq.ParquetFile(handle)
            schema, rows = footer.schema_arrow, footer.metadata.num_rows
    except FileNotFoundError:
        return _Failed([_problem(shown, "the partition is missing (listed, but not found)")])
    except (OSError, pa.ArrowException, ValueError) as exc:
        return _Failed([_problem(shown, f"malformed Parquet partition: {_first_line(exc)}")])
    columns = tuple((f.name, str(f.type)) for f in schema if not is_index_column(f.name))
    return columns, int(rows)


def _encode_partition(url: str, shown: str, card: Card, role: str) -> _Encoded | _Failed:
    """On a worker: the partition of table `role` read, its sha256, its card columns
    encoded and counted."""
    import fsspec

    from synthgov.metrics.partitions import counts, encode_part
    from synthgov.metrics.tables import parse_table

    try:
        with fsspec.open(url, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return _Failed([_problem(shown, "the partition is missing (listed, but not found)")])
    except OSError as exc:
        return _Failed([_problem(shown, f"cannot read the partition: {_first_line(exc)}")])
    try:
        frame = parse_table(raw, shown, "." + url.rsplit(".", 1)[-1].lower())
        part = encode_part(card, frame, shown)
        return part, hashlib.sha256(raw).hexdigest(), *counts(card, part, role)
    except InputError as exc:
        return _Failed(exc.problems)


def _encode_ordered(
    url: str, shown: str, card: Card, role: str, hashed: tuple[str, ...] | None
) -> tuple[tuple[Part, np.ndarray], str, Counts, Satisfied | None] | _Failed:
    """On a worker: `_encode_partition`, with the partition's rows sorted by their hashes
    over the `hashed` columns (None: all its card columns), and those hashes
    (`partitions.ordered`): the hashing and the n log n sort of every row happen here, a
    partition at a time, and the client only merges the runs."""
    from synthgov.metrics.partitions import ordered

    found = _encode_partition(url, shown, card, role)
    if isinstance(found, _Failed):
        return found
    part, digest, tallied, rules = found
    return ordered(card, part, hashed), digest, tallied, rules


def _shared(client: Client, value: Any) -> Any:
    """`value` stored on the cluster under a key of its own, as a future for `Client.map`.

    Never pass a large value to `map` itself: distributed (2026.8) stores a keyword
    argument over 100 kB under the argument's *name* as key ("queries"), so the next map
    with another value of that name collides with it (the scheduler fails an assertion,
    or would serve the first value). Nor `scatter` with its default content hash: the
    same queries searched twice in a row (train, then holdout) get the same key while
    the first search's future is still being released, the race suspected of a hang
    seen once (docs/scale.md)."""
    return client.scatter(value, hash=False)


def _partition_dcr(
    url: str,
    shown: str,
    digest: str,
    queries: np.ndarray,
    card: Card,
    columns: Layout,
    numeric: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray | _Failed | None:
    """On a worker: the DCR of each query among the partition's rows (None: no rows)."""
    from synthgov.metrics.distance import dcr
    from synthgov.metrics.partitions import matrix

    part = _read_again(url, shown, digest, card)
    if isinstance(part, _Failed) or not part.rows:
        return part if isinstance(part, _Failed) else None
    distances: np.ndarray = dcr(queries, matrix(part, columns), numeric, scale)
    return distances


@dataclass(frozen=True)
class _Searches:
    """What `Dask.nearest` stores once on the cluster for its partition tasks: the targets
    of every search (one object: `scatter` would store a list's items apart)."""

    sets: tuple[Targets, ...]


def _partition_nearest(
    url: str, shown: str, digest: str, searches: _Searches, card: Card, columns: Layout
) -> list[Found] | _Failed | None:
    """On a worker: each search's answer over the partition's rows (`neighbours.search_part`:
    each target's least distance, how many rows reach it, one such row's hash; None: no
    rows)."""
    from synthgov.metrics.neighbours import search_part
    from synthgov.metrics.partitions import ordered

    part = _read_again(url, shown, digest, card)
    if isinstance(part, _Failed) or not part.rows:
        return part if isinstance(part, _Failed) else None
    part, hashes = ordered(card, part, tuple(name for name, _ in columns))  # as `load` hashed
    return search_part(part, hashes, searches.sets, columns)


@dataclass(frozen=True)
class _Scoring:
    """What `Dask.score` stores once on the cluster for its partition tasks: the fitted
    models, the tables' columns (which the row hashes cover) and the design's (in its
    order)."""

    models: tuple[Any, ...]
    columns: tuple[str, ...]
    features: Layout


def _partition_scores(
    url: str, shown: str, digest: str, scoring: _Scoring, card: Card
) -> tuple[np.ndarray, np.ndarray] | _Failed | None:
    """On a worker: the partition's row hashes, sorted, and each model's score of each of
    its rows in that order, one row per model (None: no rows)."""
    from synthgov.metrics.partitions import ordered
    from synthgov.metrics.scoring import design, predict

    part = _read_again(url, shown, digest, card)
    if isinstance(part, _Failed) or not part.rows:
        return part if isinstance(part, _Failed) else None
    part, hashes = ordered(card, part, scoring.columns)  # sorted, for the client's search
    return hashes, predict(scoring.models, design(part, scoring.features))


@dataclass(frozen=True)
class _Charting:
    """What `Dask.count` stores once on the cluster for its partition tasks: the client's
    chart plans and the tables' columns (with their categories, in order)."""

    plans: tuple[ColumnPlan, ...]
    columns: Layout


def _partition_counts(
    url: str, shown: str, digest: str, charting: _Charting, card: Card, role: str
) -> dict[tuple[str, ...], np.ndarray] | _Failed | None:
    """On a worker: the partition's chart counts under the client's plans, as table
    `role` (`aggregates.count_cells`; None: no rows)."""
    from synthgov.metrics.aggregates import count_cells

    tables = _coded_again(url, shown, digest, card, charting.columns, role)
    if tables is None or isinstance(tables, _Failed):
        return tables
    return count_cells(list(charting.plans), tables)


@dataclass(frozen=True)
class _Grouped:
    """What `Dask.group_sides` stores once on the cluster for its partition tasks: the
    subgroup column's grouping and the tables' columns (with their categories, in order)."""

    grouping: Grouping
    columns: Layout


def _partition_groups(
    url: str, shown: str, digest: str, grouped: _Grouped, card: Card, role: str
) -> Sides | _Failed | None:
    """On a worker: the partition's rows per group and each group's sides, as table
    `role` (`grouping.sides`; None: no rows)."""
    from synthgov.metrics.grouping import sides

    tables = _coded_again(url, shown, digest, card, grouped.columns, role)
    if tables is None or isinstance(tables, _Failed):
        return tables
    return sides(grouped.grouping, tables, role)


@dataclass(frozen=True)
class _Binned:
    """What `Dask.bin_counts` stores once on the cluster for its partition tasks: the
    client's bin edges and pairs, and the tables' columns (with their categories, in order)."""

    binning: Binning
    columns: Layout


def _partition_bins(
    url: str, shown: str, digest: str, binned: _Binned, card: Card, role: str
) -> Counts | _Failed | None:
    """On a worker: the partition's counts of the binned pairs, as table `role`
    (`binning.count`; None: no rows)."""
    from synthgov.metrics.binning import count

    tables = _coded_again(url, shown, digest, card, binned.columns, role)
    if tables is None or isinstance(tables, _Failed):
        return tables
    return count(binned.binning, tables, role)


@dataclass(frozen=True)
class _Swept:
    """What `Dask.late` stores once on the cluster for its partition tasks: the client's
    late plan and the tables' columns (with their categories, in order)."""

    plan: Plan
    columns: Layout


def _partition_late(
    url: str, shown: str, digest: str, swept: _Swept, card: Card, role: str
) -> LateFound | _Failed | None:
    """On a worker: the partition's answers to the late plan, as table `role`
    (`late.measure` on `coded.tables`: read and coded once for the chart counts, the
    mixed pairs' bins and every subgroup column's sides; None: no rows)."""
    from synthgov.metrics.late import measure

    tables = _coded_again(url, shown, digest, card, swept.columns, role)
    if tables is None or isinstance(tables, _Failed):
        return tables
    return measure(swept.plan, tables, role)


def _coded_again(
    url: str, shown: str, digest: str, card: Card, columns: Layout, role: str
) -> Tables | _Failed | None:
    """On a worker: the partition read again (`_read_again`) as table `role`, its labels
    coded into the whole tables' categories (`coded.tables`); None: no rows."""
    from synthgov.metrics import coded

    part = _read_again(url, shown, digest, card)
    if isinstance(part, _Failed) or not part.rows:
        return part if isinstance(part, _Failed) else None
    return coded.tables(card, part, columns, role)


def _read_again(url: str, shown: str, digest: str, card: Card) -> Part | _Failed:
    """On a worker: a partition `load` read, read and encoded again for a later pass, if
    its bytes are still those of the first read (`digest`): every pass then sees the
    same rows, and a task run again after a lost worker gives the same result."""
    import fsspec

    from synthgov.metrics.partitions import encode_part
    from synthgov.metrics.tables import parse_table

    try:
        with fsspec.open(url, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return _Failed([_problem(shown, f"cannot read the partition again: {_first_line(exc)}")])
    if hashlib.sha256(raw).hexdigest() != digest:
        return _Failed([_problem(shown, "the partition changed during the evaluation")])
    return encode_part(card, parse_table(raw, shown, "." + url.rsplit(".", 1)[-1].lower()), shown)


def _problem(shown: str, message: str) -> Problem:
    return InputError.at(shown, message).problems[0]


def _difference(
    schema: tuple[tuple[str, str], ...], first: tuple[tuple[str, str], ...], other: str
) -> str:
    mine, theirs = dict(schema), dict(first)
    missing = [n for n in theirs if n not in mine]
    extra = [n for n in mine if n not in theirs]
    if missing or extra:
        said = [f"lacks {', '.join(map(repr, missing))}"] if missing else []
        said += [f"adds {', '.join(map(repr, extra))}"] if extra else []
        return f"the partition's columns differ from {other}'s: it {' and '.join(said)}"
    typed = [n for n in mine if mine[n] != theirs[n]]
    if typed:
        name = typed[0]
        return (
            f"the partition's schema differs from {other}'s: column {name!r} is "
            f"{mine[name]} here and {theirs[name]} there"
        )
    return f"the partition's columns are in another order than {other}'s"


def _hidden(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/") if part)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


#: what each task of this module does, for the line that says which one lost its workers
_TASKS = {
    "_schema": "reading a partition's footer",
    "_encode_ordered": "reading a partition",
    "_partition_dcr": "searching a partition",
    "_partition_scores": "scoring a partition",
    "_partition_nearest": "searching a synthetic partition for the attacks' nearest rows",
    "_partition_counts": "counting a partition's chart cells",
    "_partition_groups": "splitting a partition into subgroups",
    "_partition_bins": "counting a partition's binned pairs",
    "_partition_late": "counting a partition's chart cells, binned pairs and subgroups",
}


def _failure(scheduler: str, exc: BaseException) -> SynthgovError:
    """The one line for a cluster that failed: for a task whose workers all died
    (`KilledWorker`: more deaths than `distributed.scheduler.allowed-failures` allows),
    how many and during what; else the error's own first line."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        name = str(exc.task[0] if isinstance(exc.task, tuple) else exc.task)
        function = name.split("-", 1)[0]
        lost = exc.allowed_failures + 1
        what = (
            f"{lost} worker{'s' if lost > 1 else ''} died while "
            f"{_TASKS.get(function, f'running {function}')} "
            f"(distributed.scheduler.allowed-failures is {exc.allowed_failures})"
        )
    else:
        what = f"{type(exc).__name__}: {_first_line(exc)}"
    return SynthgovError(
        f"the Dask cluster at {scheduler} failed during the evaluation: {what}; no report written"
    )


def _local_cluster(**options: Any) -> LocalCluster:
    """A LocalCluster that, interrupted while it starts (Ctrl-C, SIGTERM), is left to end
    with this process: distributed's exit hook would close it, fail on a worker still
    starting, and print that traceback after synthgov's one line. Its worker processes are
    daemons, which end with this process; a started cluster is closed by `Dask.close`."""
    from distributed import LocalCluster

    class Interruptible(LocalCluster):
        def __init__(self, **options: Any) -> None:
            try:
                super().__init__(**options)
            except BaseException:
                self.shutdown_on_close = False  # what distributed's exit hook reads
                # a nanny still starting fails after this, in a task nobody awaits, which
                # asyncio would log as a traceback after synthgov's one line
                logging.getLogger("asyncio").setLevel(logging.CRITICAL)
                raise

    return Interruptible(**options)


def _cluster_errors() -> tuple[type[BaseException], ...]:
    """What a lost worker, scheduler or connection raises in the client (a cancelled
    future: the scheduler dropped it)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return (KilledWorker, CommClosedError, CancelledError, OSError, TimeoutError)


_CLUSTER_ERRORS = _cluster_errors()
