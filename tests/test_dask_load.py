"""`Dask.load` on a real LocalCluster: the workers hash their partitions' rows and send
them sorted, the client only merges the runs, and the tables and row hashes are the
in-process engine's bit for bit.

The tables have what could tell the two apart: rows repeated across partitions (equal
hashes in different runs), missing values, labels that only some partitions hold (hashed
by each partition's own labels on a worker, by the union's codes in process), an empty
partition, and a synthetic table that lacks a card column (every table is then hashed
without it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthgov.metrics.encoding import ROLES
from tests.helpers.cli import fresh_python
from tests.helpers.collisions import colliding_rows
from tests.helpers.tables import write_partitions

CARD = """\
schema_version: 1
id: t
title: T
owner: o
description: d
source: {id: s, privacy_unit: one row}
classification: internal
intended_uses: [tests]
columns:
  - {name: age, type: integer, nullable: true}
  - {name: kind, type: categorical, nullable: true}
  - {name: flag, type: boolean, nullable: true}
  - {name: x, type: number, nullable: true}
  - {name: note, type: categorical, nullable: true}
"""


def _script(checks: str) -> str:
    """A script run in a child process with a deadline, so that a cluster that never
    answers fails the test instead of hanging the suite: the card (argv[1]) and the tables
    of a folder (argv[2]) loaded in process (`ROLE.parquet`) and on the cluster at argv[3]
    (the partitioned `ROLE/`), then `checks` (indented: `loaded` against `alone`), then
    "equal" printed."""
    return (
        """
import sys
import numpy as np
from synthgov.files.governance import load_bytes
from synthgov.metrics import rows
from synthgov.metrics.engine import InProcess
from synthgov.metrics.engines.dask import Dask
from synthgov.models import Card

card_path, folder, scheduler = sys.argv[1:4]
card = load_bytes(open(card_path, "rb").read(), card_path, Card).model
roles = ("real", "holdout", "synthetic")
alone = InProcess().load(card, {r: f"{folder}/{r}.parquet" for r in roles})
engine = Dask(scheduler)
try:
    loaded = engine.load(card, {r: f"{folder}/{r}" for r in roles})
"""
        + checks
        + """
finally:
    engine.close()
print("equal")
"""
    )


SCRIPT = _script("""
    assert loaded.tables.rows == alone.tables.rows, (loaded.tables.rows, alone.tables.rows)
    assert loaded.tables.names == alone.tables.names == ["age", "kind", "flag", "x"]
    assert loaded.defects == alone.defects
    for role in roles:
        found, expected = loaded.hashes[role], alone.hashes[role]
        assert found.dtype == expected.dtype and found.tobytes() == expected.tobytes(), role
        assert len(rows.distinct(found)) < len(found), role  # equal rows in several runs
        assert rows.fingerprint(loaded.tables, found) == rows.fingerprint(alone.tables, expected)
    for mine, theirs in zip(loaded.tables, alone.tables, strict=True):
        assert (mine.name, mine.type, mine.categories) == (theirs.name, theirs.type, theirs.categories)
        for role in roles:
            a, b = mine.table(role), theirs.table(role)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (mine.name, role)
""")


def _table(seed: int, rows: int, labels: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(20, 30, rows), dtype="Int64"),
            "kind": pd.Series(rng.choice(labels, rows), dtype=object),
            "flag": pd.Series(rng.choice(["true", "false"], rows), dtype=object),
            "x": rng.integers(0, 3, rows) / 2,  # few values: many equal rows
            "note": pd.Series(rng.choice(["n1", "n2"], rows), dtype=object),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "kind"] = None
    frame.loc[rng.random(rows) < 0.1, "age"] = pd.NA
    frame.loc[rng.random(rows) < 0.1, "x"] = np.nan
    return frame


def test_dask_load_sorts_on_the_workers_and_gives_the_in_process_tables_and_hashes(
    tmp_path: Path, dask_address: str
) -> None:
    frames = {
        # labels that only the later partitions hold: "late" in the last third of the rows
        "real": pd.concat([_table(0, 400, ["a", "b"]), _table(1, 200, ["b", "late"])]),
        "holdout": _table(2, 300, ["a", "c"]),
        "synthetic": _table(3, 500, ["a", "b", "synthetic-only"]).drop(columns="note"),
    }
    card = tmp_path / "card.yaml"
    card.write_text(CARD, encoding="utf-8")
    for role, frame in frames.items():
        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        pq.write_table(table, tmp_path / f"{role}.parquet")
        write_partitions(table, tmp_path / role, {"real": 3, "holdout": 2, "synthetic": 4}[role])
    pq.write_table(table.slice(0, 0), tmp_path / "synthetic" / "part-9.parquet")  # empty
    assert set(frames) == set(ROLES)
    result = fresh_python(SCRIPT, tmp_path, str(card), str(tmp_path), dask_address, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "equal"


PAIR_CARD = CARD.split("columns:")[0] + (
    "columns:\n  - {name: x, type: number, nullable: true}\n"
    "  - {name: y, type: number, nullable: true}\n"
)

PAIR_SCRIPT = _script("""
    for role in roles:
        assert loaded.hashes[role].tobytes() == alone.hashes[role].tobytes(), role
        for name in ("x", "y"):
            mine, theirs = loaded.tables[name].table(role), alone.tables[name].table(role)
            assert mine.tobytes() == theirs.tobytes(), (name, role)
""")


def test_rows_crafted_to_share_a_hash_load_in_one_order_on_dask_and_in_process(
    tmp_path: Path, dask_address: str
) -> None:
    """Different rows of one row hash (crafted) in four partitions on Dask, and in the
    reverse order in one file in process: both engines order them by their cells."""
    crafted = colliding_rows(1.0, 2.0, 12)
    rows = [(1.0, 2.0), *crafted, (1.0, 2.0), (3.0, 4.0), (5.0, np.nan)]
    frames = {
        "real": pd.DataFrame({"x": [1.0, 3.0, 6.0], "y": [2.0, 4.0, 7.0]}),
        "holdout": pd.DataFrame({"x": [1.0, 8.0], "y": [2.0, 9.0]}),
        "synthetic": pd.DataFrame(rows, columns=["x", "y"]),
    }
    card = tmp_path / "card.yaml"
    card.write_text(PAIR_CARD, encoding="utf-8")
    for role, frame in frames.items():
        table = pa.Table.from_pandas(frame, preserve_index=False)
        write_partitions(table, tmp_path / role, 4 if role == "synthetic" else 1)
        reverse = pa.Table.from_pandas(frame.iloc[::-1], preserve_index=False)
        pq.write_table(reverse, tmp_path / f"{role}.parquet")
    result = fresh_python(
        PAIR_SCRIPT, tmp_path, str(card), str(tmp_path), dask_address, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "equal"
