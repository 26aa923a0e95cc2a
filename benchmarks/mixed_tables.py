"""A seeded mixed table (15 columns) for the peer comparison: real, holdout and synthetic.

The population is a retail-bank customer table: 6 numeric columns (integers with ties and
floats, ~3 % missing in some), a date, 7 categorical columns of 2 to 30 levels (one level is
rare, one column has missing values, one is boolean) and a binary target that depends on
several columns. Real and holdout are disjoint draws from the population. The synthetic
table comes from an honest Gaussian-copula generator fitted on the real table (rank
correlations kept, marginals from the real quantiles plus a little noise, so some values
leave the real range); `leaky=True` instead copies real rows with a small jitter, which the
privacy metrics must flag.

`write` puts the three CSVs and a valid card (datasets/<id>/card.yaml) in a folder. The
bytes depend only on the row count, the seed and `leaky`. Runs with the product venv:

    .venv/bin/python benchmarks/mixed_tables.py DIR --rows 5000 [--seed 0] [--leaky]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

DATASET = "mixed-bench"
ROLES = ("real", "holdout", "synthetic")
EPOCH = np.datetime64("2025-01-01", "D")
MISSING = 0.03


@dataclass(frozen=True)
class Spec:
    """One column: its card type and whether it may be missing."""

    name: str
    type: str  # card type: integer | number | date | categorical | boolean
    nullable: bool = False


#: Card order: linkability splits the non-target columns alternately (BRIEF §10.18).
COLUMNS = (
    Spec("age", "integer", nullable=True),
    Spec("sex", "categorical"),
    Spec("region", "categorical"),
    Spec("education", "categorical", nullable=True),
    Spec("occupation", "categorical"),
    Spec("income", "number", nullable=True),
    Spec("balance", "number"),
    Spec("credit_score", "integer"),
    Spec("n_products", "integer"),
    Spec("tenure_months", "integer"),
    Spec("opened", "date"),
    Spec("plan", "categorical"),
    Spec("channel", "categorical"),
    Spec("has_card", "boolean"),
    Spec("churned", "categorical"),
)
TARGET, POSITIVE = "churned", "yes"
SECRETS = ("churned",)
SUBGROUPS = ("region",)
QUASI_IDENTIFIERS = ("age", "sex", "region")
CONSTRAINTS = (
    ("income-non-negative", "income >= 0"),
    ("tenure-non-negative", "tenure_months >= 0"),
)

REGIONS = ("central", "east", "north", "south", "west")
EDUCATION = ("primary", "secondary", "bachelor", "master", "doctorate")
#: 29 ordinary occupations with Zipf-like shares, and one rare one (~0.15 %).
OCCUPATIONS = (*(f"occ-{i:02d}" for i in range(1, 30)), "astronaut")
PLANS = ("basic", "plus", "premium", "private")
CHANNELS = ("branch", "online", "phone")


def population(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """`rows` independent customers; columns depend on one another like real records do."""
    age = np.clip(np.rint(rng.normal(45, 15, rows)), 18, 90)
    sex = rng.choice(np.array(["F", "M"]), rows, p=[0.52, 0.48])
    region = rng.choice(np.array(REGIONS), rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    schooling = np.clip(np.rint(rng.normal(1.6 - (age - 45) / 60, 1.0, rows)), 0, 4).astype(int)
    weights = 1.0 / np.arange(1, 30) ** 0.8
    shares = np.append(weights / weights.sum() * 0.9985, 0.0015)
    occupation = rng.choice(np.array(OCCUPATIONS), rows, p=shares / shares.sum())
    income = np.round(
        np.exp(rng.normal(10.2 + 0.18 * schooling + 0.004 * (age - 45), 0.45, rows)), 2
    )
    balance = np.round(income * rng.gamma(2.0, 0.08, rows) + rng.normal(0, 800, rows), 2)
    credit_score = np.clip(
        np.rint(560 + 60 * np.log(income / 20_000) + balance / 400 + rng.normal(0, 45, rows)),
        300,
        850,
    )
    n_products = np.clip(rng.poisson(1.2 + schooling * 0.3, rows) + 1, 1, 8)
    tenure = np.clip(np.rint(rng.gamma(2.0, (age - 17) * 1.6, rows)), 0, 360)
    opened = EPOCH - (tenure * 30.44 + rng.integers(0, 30, rows)).astype("timedelta64[D]")
    plan_score = np.log(income) - 10.2 + rng.normal(0, 0.4, rows)
    plan = np.array(PLANS)[np.digitize(plan_score, [0.0, 0.45, 0.9])]
    channel_p = special.softmax(
        np.stack([(age - 45) / 15, -(age - 45) / 15, np.zeros(rows)], 1), axis=1
    )
    channel = np.array(CHANNELS)[(channel_p.cumsum(1) < rng.random((rows, 1))).sum(1)]
    has_card = np.where(
        rng.random(rows) < special.expit(-0.5 + 0.6 * n_products - 0.01 * (age - 45)),
        "true",
        "false",
    )
    logit = (
        -1.3
        - 0.025 * (age - 45)
        + 0.5 * (plan == "basic")
        - 0.004 * (tenure - 60)
        - 0.35 * (n_products - 2)
        + 0.4 * (channel == "online")
        - balance / 20_000
    )
    churned = np.where(rng.random(rows) < special.expit(logit), "yes", "no")
    frame = pd.DataFrame(
        {
            "age": age,
            "sex": sex,
            "region": region,
            "education": np.array(EDUCATION)[schooling],
            "occupation": occupation,
            "income": income,
            "balance": balance,
            "credit_score": credit_score,
            "n_products": n_products.astype(np.float64),
            "tenure_months": tenure,
            "opened": opened,
            "plan": plan,
            "channel": channel,
            "has_card": has_card,
            "churned": churned,
        }
    )
    for name in ("age", "income", "education"):
        frame[name] = frame[name].where(rng.random(rows) >= MISSING)
    return frame


def copula(real: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """An honest generator: Gaussian copula on normal scores, real marginals, a little noise.

    Categorical values (a missing one is a level of its own) map to slices of the normal
    line by their real shares; numeric missing values are redrawn at the real rate, apart
    from the copula.
    """
    kinds = {spec.name: spec.type for spec in COLUMNS}
    scores, decoders = [], []
    for name, kind in kinds.items():
        values = real[name]
        if kind in ("categorical", "boolean"):
            labels = values.astype(object).where(values.notna(), None).to_numpy()
            levels, codes = np.unique(labels.astype(str), return_inverse=True)
            edges = np.concatenate([[0.0], np.cumsum(np.bincount(codes) / len(codes))])
            u = edges[codes] + rng.random(len(codes)) * (edges[codes + 1] - edges[codes])
            scores.append(special.ndtri(np.clip(u, 1e-9, 1 - 1e-9)))
            decoders.append((name, kind, levels, edges))
        else:
            numbers = _numbers(values, kind)
            present = ~np.isnan(numbers)
            ranks = pd.Series(numbers).rank(method="average").to_numpy()
            score = np.where(present, special.ndtri(ranks / (present.sum() + 1)), 0.0)
            scores.append(score)
            decoders.append((name, kind, np.sort(numbers[present]), np.array([1 - present.mean()])))
    correlation = np.corrcoef(np.stack(scores))
    latent = rng.multivariate_normal(
        np.zeros(len(scores)), correlation + 1e-9 * np.eye(len(scores)), rows, method="eigh"
    )
    u = special.ndtr(latent)
    columns: dict[str, object] = {}
    for j, (name, kind, support, extra) in enumerate(decoders):
        if kind in ("categorical", "boolean"):
            picked = support[
                np.clip(np.searchsorted(extra, u[:, j], side="right") - 1, 0, len(support) - 1)
            ]
            columns[name] = pd.Series(picked, dtype=object).where(picked != "None")
            continue
        values = np.quantile(support, u[:, j]) + rng.normal(0, 0.03 * support.std(), rows)
        values = np.where(rng.random(rows) < extra[0], np.nan, values)
        columns[name] = _from_numbers(values, kind, name)
    return pd.DataFrame(columns)


def leak(real: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Memorised rows: real rows (with replacement), half the numeric cells nudged by one unit."""
    picked = real.iloc[rng.integers(0, len(real), rows)].reset_index(drop=True)
    for spec in COLUMNS:
        if spec.type in ("integer", "number", "date"):
            numbers = _numbers(picked[spec.name], spec.type)
            nudge = rng.choice(np.array([-1.0, 1.0]), rows) * (rng.random(rows) < 0.5)
            picked[spec.name] = _from_numbers(numbers + nudge, spec.type, spec.name)
    return picked


def _numbers(values: pd.Series, kind: str) -> np.ndarray:
    if kind == "date":
        days = pd.to_datetime(values).to_numpy().astype("datetime64[D]")
        return np.where(np.isnat(days), np.nan, days.astype(np.int64).astype(np.float64))
    numbers: np.ndarray = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers


def _from_numbers(values: np.ndarray, kind: str, name: str) -> pd.Series:
    if kind == "date":
        return pd.Series(pd.to_datetime(np.rint(values), unit="D"))
    if kind == "integer":
        return pd.Series(np.rint(values))
    return pd.Series(np.round(values, 2 if name in ("income", "balance") else 6))


def generate(rows: int, seed: int = 0, leaky: bool = False) -> dict[str, pd.DataFrame]:
    """The real, holdout and synthetic tables, `rows` rows each."""
    rng = np.random.default_rng([seed, 20_251_123])
    people = population(2 * rows, rng)
    real = people.iloc[:rows].reset_index(drop=True)
    holdout = people.iloc[rows:].reset_index(drop=True)
    synthetic = leak(real, rows, rng) if leaky else copula(real, rows, rng)
    return {"real": real, "holdout": holdout, "synthetic": synthetic}


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes in the card's types: whole numbers without `.0`, ISO dates, empty = missing."""
    out = pd.DataFrame(index=frame.index)
    for spec in COLUMNS:
        values = frame[spec.name]
        if spec.type == "integer":
            out[spec.name] = values.astype("Int64")
        elif spec.type == "date":
            out[spec.name] = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        else:
            out[spec.name] = values
    text: str = out.to_csv(index=False, lineterminator="\n")
    return text.encode()


def card_yaml(rows: int, seed: int, leaky: bool, nullable: tuple[str, ...] = ()) -> str:
    """The dataset card: types, nullability, target, secrets, subgroups, constraints.

    `nullable` names columns that may be missing beyond those of `COLUMNS`.
    """
    columns = "".join(
        f"- name: {spec.name}\n  type: {spec.type}\n"
        f"  nullable: {'true' if spec.nullable or spec.name in nullable else 'false'}\n"
        for spec in COLUMNS
    )
    constraints = "".join(f"- name: {name}\n  rule: {rule}\n" for name, rule in CONSTRAINTS)
    return f"""\
# Written by benchmarks/mixed_tables.py ({rows} rows, seed {seed}{", leaky" if leaky else ""}).
schema_version: 1
id: {DATASET}
title: Mixed benchmark table
owner: benchmarks@example.org
description: A seeded retail-bank customer table for comparing synthgov with its peers.
source:
  id: {DATASET}-source
  privacy_unit: one customer
classification: internal
intended_uses:
- benchmarking
columns:
{columns}constraints:
{constraints}quasi_identifiers:
{_listed(QUASI_IDENTIFIERS)}subgroup_columns:
{_listed(SUBGROUPS)}target:
  column: {TARGET}
  positive: "{POSITIVE}"
secret_columns:
{_listed(SECRETS)}"""


def _listed(names: tuple[str, ...]) -> str:
    return "".join(f"- {name}\n" for name in names)


def write(directory: Path, rows: int, seed: int = 0, leaky: bool = False) -> dict[str, Path]:
    """real.csv, holdout.csv, synthetic.csv and datasets/<id>/card.yaml under `directory`."""
    frames = generate(rows, seed, leaky)
    paths = {role: directory / f"{role}.csv" for role in ROLES}
    paths["card"] = directory / "datasets" / DATASET / "card.yaml"
    paths["card"].parent.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        paths[role].write_bytes(to_csv(frames[role]))
    paths["card"].write_text(card_yaml(rows, seed, leaky))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--leaky", action="store_true")
    args = parser.parse_args()
    for name, path in write(args.directory, args.rows, args.seed, args.leaky).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
