"""A real generator for the calibration: SDV 2.0's Gaussian copula, fit on one table.

Runs inside .venv-generators (benchmarks/generators-requirements.txt), never in synthgov's
venv, called by benchmarks/calibration.py as a subprocess:

    .venv-generators/bin/python benchmarks/generator.py REAL.parquet OUT.parquet SEED

The synthetic table has as many rows as the real one. SDV's metadata is detected from the
table; min/max and rounding are enforced so that the release fits the card's ranges.
"""

from __future__ import annotations

import random
import sys
import warnings

import numpy as np
import pandas as pd


def main(real_path: str, out_path: str, seed: int) -> None:
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    real = pd.read_parquet(real_path)
    random.seed(seed)
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metadata = Metadata.detect_from_dataframes({"table": real})
        synthesizer = GaussianCopulaSynthesizer(
            metadata, enforce_min_max_values=True, enforce_rounding=True
        )
        synthesizer.fit({"table": real})
        sampled = synthesizer.sample(len(real))
    frame = sampled["table"] if isinstance(sampled, dict) else sampled
    frame.to_parquet(out_path, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
