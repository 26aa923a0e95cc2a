"""`check --format json` and `--format text` carry every rule's figures, as the Markdown
scorecard does: value and bound apart, threshold, margin, whether the rule passed through
its alternative, and until when a waiver holds. A passing release shows its numbers too."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from synthgov.decision.findings import (
    Finding,
    ReleaseResult,
    RuleScore,
    Severity,
    Verdict,
    WaiverRef,
)
from synthgov.reporting import Format, render
from tests.helpers.cli import Synthgov, as_json, check
from tests.helpers.repos import add_release
from tests.helpers.samples import TSTR_VIA_ALTERNATIVE, judged

NOW = datetime(2026, 9, 20, tzinfo=UTC)
DETECTION = RuleScore(
    "fidelity.detection_auc",
    "mandatory",
    "fail",
    judged("fidelity.detection_auc", "<=", 0.85, 0.91, (0.8871, 0.9329), "fail", 0.02),
)
MIA = RuleScore(
    "privacy.mia_auc",
    "mandatory",
    "fail",
    judged("privacy.mia_auc", "<=", 0.6, 0.64, (0.62, 0.66), "fail"),
)
BLOCKING = Finding(
    "fidelity", "fidelity.detection_auc", Severity.ERROR, "a classifier tells them apart"
)
WAIVED = Finding(
    "privacy",
    "privacy.mia_auc",
    Severity.WARNING,
    "membership inference",
    waiver=WaiverRef("w-1", "w.yaml", "rev-alice", datetime(2026, 10, 2, tzinfo=UTC), 0.7),
)


def verdict() -> Verdict:
    result = ReleaseResult(
        "claims@1.0",
        (BLOCKING, WAIVED),
        (),
        ("utility.tstr", "fidelity.detection_auc", "privacy.mia_auc"),
        (TSTR_VIA_ALTERNATIVE, DETECTION, MIA),
    )
    return Verdict("a" * 40, "b" * 40, (result,), evaluated_at=NOW)


def scores() -> dict[str, dict[str, object]]:
    [release] = json.loads(render(verdict(), Format.JSON))["releases"]
    return {score["rule"]: score for score in release["scores"]}


def test_json_keeps_the_value_apart_from_the_bound_the_decision_used() -> None:
    detection = scores()["fidelity.detection_auc"]
    assert detection == {
        "rule": "fidelity.detection_auc",
        "outcome": "block",
        "decision": "fail",
        "enforcement": "mandatory",
        "metric": "fidelity.detection_auc",
        "value": 0.91,
        "bound": 0.8871,  # the lower bound: it already exceeds 0.85 + 0.02
        "interval": [0.8871, 0.9329],
        "op": "<=",
        "threshold": 0.85,
        "margin": 0.02,
        "column": None,
        "via_alternative": False,
        "alternative": None,
        "waived_until": None,
    }


def test_json_says_a_rule_passed_through_its_alternative_with_both_conditions() -> None:
    tstr = scores()["utility.tstr"]
    assert (tstr["outcome"], tstr["decision"], tstr["via_alternative"]) == (
        "pass via alternative",
        "pass",
        True,
    )
    assert (tstr["value"], tstr["bound"], tstr["threshold"]) == (0.6512, 0.6905, 0.84)
    alternative = tstr["alternative"]
    assert isinstance(alternative, dict)
    assert (alternative["metric"], alternative["value"], alternative["bound"]) == (
        "utility.tstr_trtr_ratio",
        0.9312,
        0.9011,
    )
    assert (alternative["margin"], alternative["decision"]) == (0.02, "pass")


def test_json_a_waived_rule_says_until_when_not_fail() -> None:
    mia = scores()["privacy.mia_auc"]
    assert (mia["outcome"], mia["waived_until"]) == ("waived", "2026-10-02T00:00:00Z")


def test_json_keeps_the_brief_shape_and_adds_scores_after_it() -> None:
    [release] = json.loads(render(verdict(), Format.JSON))["releases"]
    assert list(release) == ["release", "verdict", "findings", "files", "scores"]


def test_text_gives_each_rule_one_line_with_its_figures() -> None:
    text = render(verdict(), Format.TEXT)
    lines = text.splitlines()
    start = lines.index("claims@1.0: blocked (1 blocking, 1 waived)")
    assert lines[start + 1 : start + 4] == [
        "  pass via alternative utility.tstr 0.6512 (bound 0.6905) >= 0.84; via "
        "utility.tstr_trtr_ratio 0.9312 (bound 0.9011) >= 0.8 margin 0.02",
        "  block                fidelity.detection_auc 0.91 (bound 0.8871) <= 0.85 margin 0.02",
        "  waived               privacy.mia_auc 0.64 (bound 0.62) <= 0.6; waived until 2026-10-02",
    ]


def test_a_passing_release_shows_its_numbers_in_check_json_and_text(
    synthgov: Synthgov, base: Path
) -> None:
    """A passing pull request showed no numbers at all."""
    add_release(base)
    result = check(synthgov, base, "--format", "json")
    assert result.code == 0, result.out
    [release] = as_json(result)["releases"]
    assert release["scores"] and all(s["outcome"].startswith("pass") for s in release["scores"])
    assert all(isinstance(s["value"], float | int) for s in release["scores"])
    text = check(synthgov, base, "--format", "text").out.splitlines()
    rules = [line for line in text if line.startswith("  pass ")]
    assert len(rules) == len(release["scores"])
