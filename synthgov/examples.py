"""The real tables behind the worked example in policy/, datasets/ and budgets/.

Tables are never committed (the repository holds governance files, not data); this
module rebuilds them, byte for byte, wherever they are needed:

    python -m synthgov.examples OUTDIR [--seed N] [--rows N]

- `claims.csv`: seeded health-insurance claims, one per member, with direct identifiers
  (member_id, email) that `dataset new` must exclude, a nullable integer (age), dates
  with a row rule (discharged >= admitted) and a binary target (fraud) that depends on
  the other columns, so that utility metrics have something to find.
- `breast-cancer.parquet`: the Wisconsin diagnostic breast-cancer table that
  scikit-learn ships (569 rows, 30 measurements), column names in snake_case and the
  target as text (`diagnosis`: malignant | benign).

numpy, pandas and scikit-learn are imported inside the functions that use them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

CLAIMS_COLUMNS = [
    "member_id",
    "email",
    "age",
    "sex",
    "region",
    "plan",
    "admitted",
    "discharged",
    "claim_amount",
    "fraud",
]
_FIRST = [
    "ana",
    "ben",
    "carla",
    "deniz",
    "emil",
    "fatima",
    "george",
    "hana",
    "ivan",
    "julia",
    "kofi",
    "lena",
    "mateo",
    "nora",
    "omar",
    "paula",
    "quinn",
    "rosa",
    "sven",
    "tariq",
]
_LAST = [
    "alvarez",
    "berg",
    "chen",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "haddad",
    "ito",
    "jansen",
    "kowalski",
    "lopez",
    "moreau",
    "novak",
    "okafor",
    "petrov",
]
_REGIONS = (["north", "south", "east", "west", "central"], [0.22, 0.20, 0.18, 0.25, 0.15])
_PLANS = (["bronze", "silver", "gold", "platinum"], [0.35, 0.35, 0.20, 0.10])
_YEAR_START = date(2024, 1, 1)


def claims_rows(seed: int = 0, rows: int = 2000) -> list[list[Any]]:
    """The claims table as rows of CSV fields (strings; "" for a missing age)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    member = rng.choice(900_000, size=rows, replace=False) + 100_000
    first = rng.choice(_FIRST, size=rows)
    last = rng.choice(_LAST, size=rows)
    age = np.clip(np.rint(rng.normal(48, 16, rows)), 18, 90).astype(int)
    age_missing = rng.random(rows) < 0.03
    sex = rng.choice(["F", "M"], size=rows, p=[0.52, 0.48])
    region = rng.choice(_REGIONS[0], size=rows, p=_REGIONS[1])
    plan_index = rng.choice(len(_PLANS[0]), size=rows, p=_PLANS[1])
    stay = np.clip(rng.poisson(1.0 + (age - 18) / 20.0), 0, 30)
    admitted = rng.integers(0, 366, size=rows)
    log_amount = 6.5 + 0.012 * (age - 48) + 0.22 * stay + 0.25 * plan_index
    amount = np.round(np.exp(log_amount + rng.normal(0, 0.6, rows)), 2)
    score = -3.3 + 1.1 * (np.log(amount) - 7.2) + 0.9 * (plan_index == 3) + 0.7 * (stay == 0)
    fraud = (rng.random(rows) < 1 / (1 + np.exp(-score))).astype(int)
    table = []
    for i in range(rows):
        start = _YEAR_START + timedelta(days=int(admitted[i]))
        table.append(
            [
                f"M{member[i]:06d}",
                f"{first[i]}.{last[i]}.{member[i] % 1000}@example.org",
                "" if age_missing[i] else str(age[i]),
                sex[i],
                region[i],
                _PLANS[0][plan_index[i]],
                start.isoformat(),
                (start + timedelta(days=int(stay[i]))).isoformat(),
                f"{amount[i]:.2f}",
                str(fraud[i]),
            ]
        )
    return table


def write_csv(path: Path, rows: list[list[Any]], columns: list[str] = CLAIMS_COLUMNS) -> Path:
    """`rows` under the header `columns` (the claims table's by default) as CSV at `path`,
    with LF line ends, so the bytes are the same everywhere; the path."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_claims(path: Path, seed: int = 0, rows: int = 2000) -> None:
    """Write the claims table as CSV."""
    write_csv(path, claims_rows(seed, rows), CLAIMS_COLUMNS)


def write_release_tables(outdir: Path, rows: int = 1000) -> dict[str, Path]:
    """A release's inputs from one claims table: train and holdout halves of the real table,
    an honest synthetic table (an independent draw of the same process, no identifiers)
    and a leaky one (the training rows copied) — what the demo and the tests release."""
    outdir.mkdir(parents=True, exist_ok=True)
    real = claims_rows(seed=0, rows=2 * rows)
    tables = {
        "train": (real[:rows], CLAIMS_COLUMNS),
        "holdout": (real[rows:], CLAIMS_COLUMNS),
        "honest": ([row[2:] for row in claims_rows(seed=7, rows=rows)], CLAIMS_COLUMNS[2:]),
        "leaky": ([row[2:] for row in real[:rows]], CLAIMS_COLUMNS[2:]),
    }
    return {
        name: write_csv(outdir / f"{name}.csv", table, columns)
        for name, (table, columns) in tables.items()
    }


def breast_cancer_frame() -> Any:
    """scikit-learn's copy of the Wisconsin diagnostic table, names in snake_case."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    labels = dict(enumerate(bunch.target_names))  # 0: malignant, 1: benign
    frame["diagnosis"] = frame.pop("target").map(labels).astype(object)
    frame.columns = [str(name).replace(" ", "_") for name in frame.columns]
    return frame


def write_breast_cancer(path: Path) -> None:
    """Write the breast-cancer table as Parquet (no index: the file's columns are the data)."""
    breast_cancer_frame().to_parquet(path, index=False)


def build(outdir: Path, seed: int = 0, rows: int = 2000) -> dict[str, str]:
    """Write both tables into `outdir`; their sha256 digests by file name."""
    outdir.mkdir(parents=True, exist_ok=True)
    write_claims(outdir / "claims.csv", seed, rows)
    write_breast_cancer(outdir / "breast-cancer.parquet")
    return {
        name: hashlib.sha256((outdir / name).read_bytes()).hexdigest()
        for name in ("claims.csv", "breast-cancer.parquet")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synthgov.examples", description="Write the worked example's tables."
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--seed", type=int, default=0, help="claims generator seed (default 0)")
    parser.add_argument("--rows", type=int, default=2000, help="claims rows (default 2000)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    for name, digest in build(args.outdir, args.seed, args.rows).items():
        print(f"{digest}  {args.outdir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
