"""`synthgov evaluate`: three tables and a card in, the metric report of BRIEF §8 out.

The adapter around the pure metric families: it reads the tables (hashing the bytes it
parses), encodes them once by the card, runs each family with its own seeded streams,
and assembles the report. Nothing in the report depends on the machine or the clock
except `seconds`, so with the same inputs and seed two reports differ only there
(`timings=False` leaves them out: byte-identical reports).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgov import __version__
from synthgov.errors import InputError
from synthgov.models import Card, Policy, Report
from synthgov.models.policy import SubgroupPolicy

if TYPE_CHECKING:
    from synthgov.metrics.engine import Engine

#: the report's `seconds` keys, in the order the families run
FAMILIES = ("read", "schema", "constraints", "fidelity", "utility", "privacy", "subgroup")
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "numba", "pyarrow")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class InputPaths:
    """Where the card and the three tables of an evaluation are (the report's `inputs`
    block, `models.report.Inputs`, records their hashes)."""

    card: Path
    #: a file, or for a distributed engine a dataset (folder, glob or fsspec URL)
    real: Path | str
    holdout: Path | str
    synthetic: Path | str


@dataclass
class Settings:
    #: None: derived from the three tables' fingerprints (`content.derive_seed`)
    seed: int | None = None
    #: how the seed was set, as the report records it: derived | pinned (by the policy) | chosen
    seed_rule: str = "derived"
    #: cap on sampled work (DCR queries, detection rows, attack targets); None: defaults
    sample: int | None = None
    subgroups: SubgroupPolicy = field(default_factory=SubgroupPolicy)
    timings: bool = True
    #: the policy's `charts.min_cell_count`: no chart cell of the report counts fewer rows
    min_cell_count: int = 10


def evaluate(
    card: Card,
    card_bytes: bytes,
    inputs: InputPaths,
    settings: Settings,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready dict, validated against the report contract.

    `engine` reads the tables (default: `engine.InProcess`, three files in this process).

    Raises:
        InputError: an unreadable or malformed table, a card column missing from the
            real or holdout table, a value the card's type cannot hold there, a column
            without values, or a constraint that does not fit the card.
    """
    from synthgov.content import derive_seed
    from synthgov.metrics import (
        aggregates,
        attacks,
        constraints,
        detection,
        fidelity,
        late,
        privacy,
        rows,
        schema,
        subgroup,
        utility,
    )
    from synthgov.metrics.encoding import ROLES
    from synthgov.metrics.engine import InProcess
    from synthgov.metrics.measurement import Context

    step = progress or (lambda _name: None)
    seconds: dict[str, float] = {}

    @contextmanager
    def family(name: str) -> Iterator[None]:
        step(name)
        started = time.perf_counter()
        yield
        seconds[name] = round(time.perf_counter() - started, 3)

    paths = {"real": inputs.real, "holdout": inputs.holdout, "synthetic": inputs.synthetic}
    with family("read"):
        loaded = (engine or InProcess()).load(card, paths)
    tables, hashes, defects = loaded.tables, loaded.hashes, loaded.defects
    fingerprints = {role: rows.fingerprint(tables, hashes[role]) for role in ROLES}
    seed = settings.seed
    if seed is None:
        seed = derive_seed(fingerprints["real"], fingerprints["holdout"], fingerprints["synthetic"])
    context = Context(
        seed=seed,
        sample=settings.sample,
        search=loaded.search,
        score=loaded.score,
        hashes=hashes,
    )
    if loaded.allocate is not None:
        context.allocate = loaded.allocate
    context.nearest = loaded.nearest
    context.group_sides = loaded.group_sides
    context.bin_counts = loaded.bin_counts
    if settings.sample is not None:
        context.n_attacks = min(context.n_attacks, settings.sample)
    # a distributed engine's workers run privacy's DCR searches while this process measures
    # the families before it (in this process, nothing happens until privacy runs)
    privacy.start(tables, context)
    attacks.start(tables, context, card)  # likewise the attacks' nearest-neighbour searches
    # and the chart counts, fidelity's mixed pairs and the subgroups' sides: one read of
    # each real and synthetic partition for all three (`late`)
    late.start(tables, card, loaded.late)
    measurements = []
    with family("schema"):
        measurements += schema.measure(tables, context, card, defects)
    with family("constraints"):
        measurements += constraints.measure(tables, context, card, loaded.satisfied)
    with family("fidelity"):
        measurements += fidelity.measure(tables, context, loaded.totals)
        measurements += detection.measure(tables, context)
    with family("utility"):
        measurements += utility.measure(tables, context, card)
    with family("privacy"):
        measurements += privacy.measure(tables, context, card)
        measurements += attacks.measure(tables, context, card)
    with family("subgroup"):
        measurements += subgroup.measure(tables, context, card, settings.subgroups)
    # the release report's aggregates: counts over what the families already hold (fast)
    dcr = context.memo("privacy.dcr_to_train", lambda: None)
    charts = aggregates.measure(tables, settings.min_cell_count, dcr, loaded.count)
    report = {
        "schema_version": 1,
        "synthgov_version": __version__,
        "dataset": card.id,
        "card_sha256": hashlib.sha256(card_bytes).hexdigest(),
        "inputs": {
            role: {
                "file": loaded.files[role],
                "sha256": loaded.digests[role],
                "rows": loaded.shapes[role][0],
                "columns": loaded.shapes[role][1],
                "fingerprint": fingerprints[role],
                "distinct_rows": len(rows.distinct(hashes[role])),
                **({"sketch": rows.sketch(hashes[role])} if role == "synthetic" else {}),
            }
            for role in ROLES
        },
        "config": {
            "seed": seed,
            "seed_rule": settings.seed_rule,
            "target": card.target.column if card.target else None,
            "sample": settings.sample,
            "exact_rows": context.exact_rows,
            "n_attacks": context.n_attacks,
            "subgroups": settings.subgroups.model_dump(mode="json"),
            "sample_sizes": dict(sorted(context.sample_sizes.items())),
        },
        "environment": _environment(),
        "metrics": [m.as_json() for m in measurements],
        "inconclusive": context.undecided,
        "charts": charts,
        "seconds": seconds if settings.timings else {},
    }
    Report.model_validate(report)  # the contract check and audit rely on; a failure is a bug
    return report


def seed_setting(policy: Policy | None, chosen: int | None, option: str) -> tuple[int | None, str]:
    """The evaluation seed (None: derive it from the tables) and how it was set, from the
    policy's `statistics.seed` and a seed the user asked for (BRIEF §11.2).

    Raises:
        InputError: a chosen seed where the policy fixes or derives it.
    """
    rule = policy.statistics.seed if policy is not None else "any"
    if isinstance(rule, int):
        if chosen is not None and chosen != rule:
            raise InputError.at(
                option,
                f"the policy pins the evaluation seed to {rule} "
                "(statistics.seed in policy/policy.yaml)",
            )
        return rule, "pinned"
    if chosen is None:
        return None, "derived"
    if rule == "derived":
        raise InputError.at(
            option,
            "the policy derives the evaluation seed from the tables' content (statistics.seed: "
            "derived in policy/policy.yaml), so that no verdict can be re-rolled; leave it out",
        )
    return chosen, "chosen"


def dumps(report: dict[str, Any]) -> bytes:
    """The report's bytes: stable key order, shortest round-trip floats, no NaN."""
    return (json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _environment() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - every one is a dependency
            versions[name] = "absent"
    return versions


def load_report_target(path: Path) -> bytes | None:
    """The bytes of an existing report at `path` that may be replaced, None if absent.

    Raises:
        InputError: `path` holds something that is not a synthgov metric report (never
            overwritten), or is not a regular file.
    """
    from synthgov.files.paths import read_user_file

    if not path.exists() and not path.is_symlink():
        return None
    raw = read_user_file(path, "a metric report to replace", max_bytes=64 * 1024 * 1024)
    try:
        existing = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        existing = None
    if not (isinstance(existing, dict) and {"synthgov_version", "metrics"} <= existing.keys()):
        raise InputError.at(
            str(path), "exists and is not a synthgov metric report; not overwritten"
        )
    return raw
