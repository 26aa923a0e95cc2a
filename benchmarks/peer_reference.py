"""Store the peers' values on small tables, for tests/metrics/test_peer_agreement.py.

The tests must not need the peers installed, so their values are computed once here and
kept in tests/data/peers/: the three CSV tables (400 rows each, from
benchmarks/mixed_tables.py), the card, and peer_values.json (the output of
benchmarks/peers.py with exact DCR, plus the spec it ran with). The tables are edited to
hold the cases where implementations tend to part:

- numeric missing values (age, income, and a few dates), a categorical one (education),
  and missing values in the synthetic table of a column that has none in the real table
  (plan);
- ties: integer columns, and rows shared exactly by real, holdout and synthetic (DCR ties,
  which count as closer to the holdout), plus synthetic rows copied from real only;
- a rare category (one `astronaut` in real, none in synthetic) and a category only in the
  synthetic table (`occ-novel`);
- a synthetic value outside the real range (credit_score 900);
- a synthetic balance inflated by 40 %, so that the detectors' AUCs are above 0.5 and
  LogisticDetection is not trivially 1.

LogisticDetection raises on a category only in the synthetic table, so it is computed on
the synthetic rows without one (`detection_unseen: drop` in peers.py); the test drops the
same rows.

Run with the product venv; the peers run in the peer venv:

    .venv/bin/python benchmarks/peer_reference.py [--peer-python /work/peers-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import mixed_tables
import numpy as np
import pandas as pd
from evaluate_vs_peers import PEERS, peer_spec

ROWS, SEED = 400, 3
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "peers"


def tables() -> dict[str, pd.DataFrame]:
    """The 400-row real, holdout and synthetic tables with the edge cases of the docstring."""
    frames = mixed_tables.generate(ROWS, SEED)
    real, holdout, synthetic = frames["real"], frames["holdout"], frames["synthetic"]
    shared, copied = np.arange(0, 5), np.arange(5, 10)
    for name in real.columns:
        holdout.loc[shared, name] = real.loc[shared, name].to_numpy()
        synthetic.loc[np.concatenate([shared, copied]), name] = real.loc[
            np.concatenate([shared, copied]), name
        ].to_numpy()
    real["occupation"] = real["occupation"].replace("astronaut", "occ-01")
    real.loc[17, "occupation"] = "astronaut"
    synthetic["occupation"] = synthetic["occupation"].replace("astronaut", "occ-02")
    synthetic.loc[[30, 31, 32, 33], "occupation"] = "occ-novel"
    real.loc[[10, 11, 12, 13], "opened"] = pd.NaT
    synthetic.loc[[10, 11, 12], "opened"] = pd.NaT
    synthetic.loc[[40, 41], "plan"] = np.nan
    synthetic.loc[20, "credit_score"] = 900.0
    synthetic.loc[50:, "balance"] = (synthetic.loc[50:, "balance"] * 1.4).round(2)  # detectable
    return frames


def main() -> None:
    from synthgov.files.governance import load_bytes
    from synthgov.metrics import detection
    from synthgov.metrics.encoding import ROLES, encode
    from synthgov.metrics.measurement import Context
    from synthgov.metrics.tables import read_table
    from synthgov.models.card import Card

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--peer-python", default=os.environ.get("SYNTHGOV_PEER_PYTHON", ".venv-peers/bin/python")
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    frames = tables()
    paths = {role: OUT / f"{role}.csv" for role in ROLES}
    for role in ROLES:
        paths[role].write_bytes(mixed_tables.to_csv(frames[role]))
    card_path = OUT / "card.yaml"
    card_path.write_text(
        mixed_tables.card_yaml(ROWS, SEED, False, nullable=("opened",)).replace(
            "# Written by benchmarks/mixed_tables.py",
            "# Written by benchmarks/peer_reference.py from mixed_tables.py",
        )
    )
    card = load_bytes(card_path.read_bytes(), "datasets/mixed-bench/card.yaml", Card).model
    encoded, _ = encode(card, {r: read_table(paths[r])[0] for r in ROLES}, {r: r for r in ROLES})
    ours = [m.as_json() for m in detection.measure(encoded, Context(seed=0))]
    spec = peer_spec(card, paths, 0, ours)
    spec["dcr"] = "exact"
    spec["detection_unseen"] = "drop"
    with tempfile.TemporaryDirectory() as scratch:
        spec_path, out_path = Path(scratch) / "spec.json", Path(scratch) / "peers.json"
        spec_path.write_text(json.dumps(spec))
        subprocess.run(
            [args.peer_python, str(PEERS), str(spec_path), "-o", str(out_path)], check=True
        )
        values = json.loads(out_path.read_text())
    for role in ROLES:  # the files sit next to peer_values.json
        spec[role] = paths[role].name
    values["spec"] = spec
    for timing in ("seconds", "import_seconds", "load_seconds", "peak_rss_mb"):
        values.pop(timing, None)  # machine-dependent: the stored file changes only with the values
    (OUT / "peer_values.json").write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
    for path in sorted(OUT.iterdir()):
        print(f"{path}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
