"""`synthgov revalidate DATASET@VERSION --real FRESH`: re-measure a release on fresh data.

Re-runs `evaluate` with the release's synthetic table (whose sha256 must still be the
manifest's: an artifact overwritten after approval is refused) against fresh real data,
records the drift of every metric against the release's own report, and applies the
release's metric rules (base-branch thresholds as `check` would) to the new report. The
record is datasets/<id>/releases/<v>/revalidations/<UTC time>.json; nothing is
committed. Without `--holdout`, FRESH's rows are split alternately into train and holdout.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import options
from synthgov.decision.contexts import judge_locally
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.files.paths import write_new
from synthgov.gates.revalidation import failing_rules
from synthgov.metrics.progress import evaluate_release
from synthgov.models import Card, Manifest, Report, Revalidation
from synthgov.models.common import format_timestamp


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _split(fresh: Path, folder: Path) -> tuple[Path, Path]:
    """Alternate rows of FRESH as train and holdout (deterministic; same file format)."""
    from synthgov.metrics.tables import read_table

    frame, _ = read_table(fresh)
    paths = folder / "fresh-train.csv", folder / "fresh-holdout.csv"
    frame.iloc[0::2].to_csv(paths[0], index=False)
    frame.iloc[1::2].to_csv(paths[1], index=False)
    return paths


def drift(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every metric in both reports (same id, column, pair and group), before and after."""

    def key(m: dict[str, Any]) -> tuple[Any, ...]:
        return (m["id"], m.get("column"), tuple(m.get("columns") or ()), m.get("group"))

    old = {key(m): m for m in before}
    found = []
    for metric in after:
        previous = old.get(key(metric))
        if previous is None:
            continue
        was, now = float(previous["value"]), float(metric["value"])
        item = {"id": metric["id"], "before": was, "after": now, "change": now - was}
        for field in ("column", "columns", "group"):
            if metric.get(field) is not None:
                item[field] = metric[field]
        found.append(item)
    return found


def run(
    root: Path,
    target: str,
    *,
    real: Path,
    holdout: Path | None,
    synthetic: Path | None,
    quiet: bool,
) -> int:
    """0 when the record is written (whatever the verdict: drift is information), 2 on bad
    input."""
    release = Release.parse(target)
    dataset, folder = release.dataset, release.folder
    if not (root / folder / "manifest.yaml").exists():
        raise InputError.at(f"{folder}/manifest.yaml", f"no such release {target}")
    manifest: Manifest = governance.load(root, f"{folder}/manifest.yaml", Manifest).model
    old_report: Loaded[Report] = governance.load(root, f"{folder}/report.json", Report)
    artifact = synthetic or Path(manifest.artifact.location)
    if not artifact.is_file():
        raise InputError.at(
            "--synthetic", f"the release's table is not at {artifact}; pass --synthetic PATH"
        )
    if _sha256(artifact) != manifest.artifact.sha256:
        raise InputError.at(
            str(artifact),
            "its sha256 is not the release's artifact sha256: the "
            "table changed since the release; revalidate the released table",
        )
    if not real.is_file():
        raise InputError.at(str(real), "no such file; expected a table (CSV or Parquet)")
    card_path = layout.card_path(dataset)
    card_bytes = (root / card_path).read_bytes()
    card: Card = governance.load_bytes(card_bytes, card_path, Card).model
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="synthgov-revalidate-") as tmp:
        train, held = (real, holdout) if holdout else _split(real, Path(tmp))
        report = evaluate_release(
            root, card, card_bytes, card_path, train, held, artifact, None, quiet
        )
    blocking = _blocking(root, target, report)
    changes = drift(old_report.document.data["metrics"], report["metrics"])
    record = {
        "schema_version": 1,
        "release": target,
        "revalidated_at": format_timestamp(now),
        "fresh": {
            "sha256": _sha256(real),
            "rows": report["inputs"]["real"]["rows"]
            + (0 if holdout else report["inputs"]["holdout"]["rows"]),
            "columns": report["inputs"]["real"]["columns"],
        },
        "artifact_sha256": manifest.artifact.sha256,
        "verdict": "blocked" if blocking else "pass",
        "blocking": blocking,
        "drift": changes,
        "report": report,
    }
    model = options.build(Revalidation, record, {}, "revalidate")
    path = f"{folder}/revalidations/{now:%Y%m%dT%H%M%SZ}.json"
    write_new(root, path, (model.model_dump_json(indent=1, exclude_none=True) + "\n").encode())
    worst = sorted(changes, key=lambda d: -abs(d["change"]))[:5]
    click.echo(
        f"wrote {path}: {record['verdict']}"
        + (f" (fails {', '.join(blocking)})" if blocking else ""),
        err=True,
    )
    for item in worst:
        where = item.get("column") or "/".join(item.get("columns") or []) or "table"
        click.echo(
            f"  drift {item['id']} [{where}]: {item['before']:.4g} -> {item['after']:.4g}", err=True
        )
    return 0


def _blocking(root: Path, release: str, report: dict[str, Any]) -> list[str]:
    """The metric rules the new report fails, as `check` will judge the record."""
    return failing_rules(judge_locally(root, release, datetime.now(UTC)), report)
