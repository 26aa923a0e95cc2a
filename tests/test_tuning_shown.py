"""A release's tuning runs (manifest `privacy.tuning`) are shown where its privacy is: one
line per group of runs in the catalog's lineage and in `status`."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from synthgov.budget import tuning
from synthgov.commands.status import render_dataset
from synthgov.files.loading import parse_yaml
from synthgov.inventory import DatasetState, ReleaseState
from synthgov.models import Manifest
from synthgov.reporting import catalog
from tests.helpers import ledgers, samples
from tests.helpers.cli import Synthgov, check
from tests.helpers.git import commit
from tests.helpers.repos import write

DP = "notion: approx, epsilon: 1.0, delta: 0.000001"
TUNED = (
    f"{DP}, tuning: [{{runs: 4, epsilon: 0.5, delta: 0.000001, description: epsilon grid}}, "
    "{runs: 1, epsilon: 0.25, delta: 0.000001}]"
)


def _state(privacy: str) -> DatasetState:
    text = samples.MANIFEST.replace(f"{DP}, tuning: none", privacy)
    manifest = Manifest.model_validate(parse_yaml(text.encode(), "manifest.yaml").data)
    release = ReleaseState("claims@1.10", "1.10", "pass", manifest=manifest)
    return DatasetState("claims", None, (release,))


def test_each_group_of_tuning_runs_is_one_line_with_what_was_tuned() -> None:
    state = _state(TUNED)
    assert state.releases[0].manifest is not None
    assert tuning.lines(state.releases[0].manifest.privacy.tuning) == [
        "4 tuning runs at epsilon 0.5, delta 0.000001 each (epsilon grid)",
        "1 tuning run at epsilon 0.25, delta 0.000001 each",
    ]
    assert tuning.lines("none") == ["no tuning runs"] and tuning.lines(None) == ["no tuning record"]


def test_the_catalog_lineage_lists_the_tuning_runs_one_per_line() -> None:
    html = catalog.dataset_page(_state(TUNED), date(2026, 9, 20)).decode()
    row = html[html.index("<th>tuning runs</th>") :]
    row = row[: row.index("</tr>")]
    assert row.count("<br>") == 1 and "(epsilon grid)" in row and "1 tuning run at" in row
    assert (
        "no tuning runs"
        in catalog.dataset_page(_state(f"{DP}, tuning: none"), date(2026, 9, 20)).decode()
    )


def test_status_lists_the_current_releases_tuning_runs_one_per_line() -> None:
    lines = render_dataset(_state(TUNED), date(2026, 9, 20))
    tuned = [line for line in lines if line.startswith("  tuning: ")]
    assert tuned == [
        "  tuning: 4 tuning runs at epsilon 0.5, delta 0.000001 each (epsilon grid)",
        "  tuning: 1 tuning run at epsilon 0.25, delta 0.000001 each",
    ]


def test_the_markdown_scorecard_lists_the_tuning_runs_one_per_line(
    synthgov: Synthgov, base: Path
) -> None:
    tuned = (
        "notion: approx, epsilon: 1.0, delta: 0.0000001, tuning: "
        "[{runs: 4, epsilon: 0.5, delta: 0.0000001, description: epsilon grid}]"
    )
    card_sha = hashlib.sha256((base / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(
        base,
        f"{samples.RELEASE}/manifest.yaml",
        samples.MANIFEST.replace(f"{DP}, tuning: none", tuned),
    )
    write(base, f"{samples.RELEASE}/report.json", samples.report_json(samples.PASSING, card_sha))
    path = base / ledgers.PATH
    path.write_text(
        ledgers.append(path.read_text(), "claims@1.10", epsilon="3.0", delta="0.0000005")
    )
    commit(base, "release claims@1.10")
    result = check(synthgov, base, "--format", "markdown")
    assert result.code in (0, 1), result.err
    section = result.out[result.out.index("claims@1.10") :]
    assert section.count("- tuning: ") == 1
    assert (
        "- tuning: 4 tuning runs at epsilon 0.5, delta 0.0000001 each (epsilon grid)\n\n|"
        in section
    )
