"""Tuning runs: what a release's debit owes for the runs on the real data that preceded it.

Tuning a DP generator on the real data (several epsilon or rho settings, parameters and
seeds) spends budget as the release does. The manifest records those runs in
`privacy.tuning` (`none` when there were none), in the release's own figures, and the
release's one debit pays for the release and its runs together, composed as the ledger
composes entries of that kind (`accounting.sequential`). Pure: models in, figures out.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from synthgov.budget import accounting
from synthgov.models.loss import Tuning, TuningRuns
from synthgov.models.manifest import Privacy

FIGURES = ("epsilon", "delta", "rho")


def _figures(obj: object) -> dict[str, Decimal]:
    return {name: value for name in FIGURES if (value := getattr(obj, name)) is not None}


def owed(own: Mapping[str, Decimal], tuning: Tuning | None) -> dict[str, Decimal]:
    """The debit of a release whose own loss is `own`: with its tuning runs', composed.

    Raises:
        ValueError: a run of another kind than the release (the models refuse those).
    """
    if not isinstance(tuning, list):
        return dict(own)
    return accounting.sequential([(1, own), *((group.runs, _figures(group)) for group in tuning)])


def owed_by(privacy: Privacy) -> dict[str, Decimal]:
    """What the debit of a release with these privacy figures records."""
    return owed(_figures(privacy), privacy.tuning)


def runs(tuning: Tuning | None) -> int:
    """How many tuning runs the record counts (0 for none or no record)."""
    return sum(group.runs for group in tuning) if isinstance(tuning, list) else 0


def describe(tuning: Tuning | None) -> str:
    """`4 tuning runs at epsilon 0.5 each`, `no tuning runs`, `no tuning record`."""
    if tuning is None:
        return "no tuning record"
    if tuning == "none":
        return "no tuning runs"
    return " and ".join(_group(group) for group in tuning)


def lines(tuning: Tuning | None) -> list[str]:
    """One line per group of runs, with what was tuned (the catalog and `status` list them)."""
    if not isinstance(tuning, list):
        return [describe(tuning)]
    return [
        _group(group) + (f" ({group.description})" if group.description else "") for group in tuning
    ]


def _group(group: TuningRuns) -> str:
    shown = ", ".join(f"{k} {format(v, 'f')}" for k, v in _figures(group).items())
    return f"{group.runs} tuning run{'s' if group.runs != 1 else ''} at {shown} each"


def same(a: Tuning | None, b: Tuning | None) -> bool:
    """Whether two records name the same runs (descriptions aside, in any order)."""
    return _key(a) == _key(b)


def _key(tuning: Tuning | None) -> object:
    if not isinstance(tuning, list):
        return tuning
    return sorted(
        (group.runs, tuple(sorted((k, str(v.normalize())) for k, v in _figures(group).items())))
        for group in tuning
    )
