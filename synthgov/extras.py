"""The optional parts of synthgov: which extra brings which module.

`pip install synthgov` is the governance core (validate, check, approve, budget, audit,
status, catalog). Measuring tables needs the `evaluate` extra (pandas, scikit-learn, SciPy,
pyarrow, numba); composing a ledger's zCDP or pure entries under a delta cap needs the
`dp` extra (OpenDP, about 265 MB installed, so the validate hook stays small without it);
`evaluate --dask` needs the `dask` extra (Dask and distributed) besides `evaluate`. A command that reaches a module of an extra that is
not installed ends with one line naming the extra (`MissingExtra`, exit 2), never a
traceback.
"""

from __future__ import annotations

import importlib.util

from synthgov.errors import MissingExtra

#: Top-level module -> the extra whose distributions provide it (tests/test_extras.py checks
#: this against pyproject.toml).
EXTRA_OF_MODULE: dict[str, str] = {
    "numpy": "evaluate",
    "pandas": "evaluate",
    "sklearn": "evaluate",
    "scipy": "evaluate",
    "threadpoolctl": "evaluate",
    "pyarrow": "evaluate",
    "numba": "evaluate",
    "opendp": "dp",
    "dask": "dask",
    "distributed": "dask",
}


def missing(exc: ImportError) -> MissingExtra | None:
    """The extra to install when `exc` is a module of an extra not being installed."""
    name = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    return MissingExtra(extra) if extra else None


def require(extra: str) -> None:
    """Raise `MissingExtra` unless every module of `extra` can be imported (without importing
    it): a command that always needs the extra says so before it reads any input."""
    for name, of in EXTRA_OF_MODULE.items():
        if of != extra:
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            raise MissingExtra(extra)
