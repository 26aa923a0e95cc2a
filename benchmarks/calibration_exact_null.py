"""How often Fisher's exact test blocks an ideal release for exact copies, over many splits.

The calibration evaluates a few seeds per table and size (a minute a run at 20,000 rows);
this script checks one rule's level on many more: it draws the calibration's three parts
(train, holdout, and fresh rows as the synthetic table) exactly as `calibration.py` does,
counts the rows of each part equal to a training row on every column (missing equals
missing, as `privacy.exact_copy_excess` counts them), and judges the pair of counts with
the one-sided exact test at the rule's level.

    .venv/bin/python benchmarks/calibration_exact_null.py --table gss-wages --size 20000
"""

from __future__ import annotations

import argparse

import calibration_tables
import numpy as np
import pandas as pd
from scipy.stats import fisher_exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="gss-wages", choices=sorted(calibration_tables.TABLES))
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--splits", type=int, default=400)
    parser.add_argument("--level", type=float, default=0.012, help="the rule's share of 5 %")
    args = parser.parse_args()
    frame = calibration_tables.load(args.table).frame
    rows = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    size, blocked, excess = args.size, 0, []
    for seed in range(args.splits):
        order = np.random.default_rng([seed, size, 14]).permutation(len(frame))
        train, holdout, fresh = (rows[order[i * size : (i + 1) * size]] for i in range(3))
        synthetic_k = int(np.isin(fresh, train).sum())
        holdout_k = int(np.isin(holdout, train).sum())
        table = [[synthetic_k, size - synthetic_k], [holdout_k, size - holdout_k]]
        blocked += fisher_exact(table, alternative="greater")[1] < args.level
        excess.append(synthetic_k - holdout_k)
    print(
        f"{args.table} at {size:,} rows, {args.splits} splits: blocked {blocked / args.splits:.1%} "
        f"at level {args.level}; excess (rows) mean {np.mean(excess):+.1f}, "
        f"standard deviation {np.std(excess):.1f}"
    )


if __name__ == "__main__":
    main()
