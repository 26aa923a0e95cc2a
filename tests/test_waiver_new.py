"""`synthgov waiver new` on real git repositories: a waiver within the policy's bounds, or
nothing written; each test is named after the mistake or overreach it stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthgov.decision import digests
from synthgov.files import governance
from synthgov.files.loading import parse_document
from synthgov.models import Waiver
from tests.helpers.cli import Result, Synthgov, gate, messages
from tests.helpers.git import commit
from tests.helpers.repos import add_release, put_approval
from tests.helpers.samples import RELEASE, with_metric

WAIVERS = f"{RELEASE}/waivers"


def waiver_new(synthgov: Synthgov, repo: Path, *args: str, **change: str) -> Result:
    given = {
        "--rule": "fidelity.detection_auc",
        "--relax-to": "0.85",
        "--days": "30",
        "--reason": "Rounded dates; release limited to QA fixtures.",
        "--owner": "ada",
        "--ticket": "GRC-1432",
        "--id": "WVR-1",
    }
    given.update({f"--{k.replace('_', '-')}": v for k, v in change.items()})
    flat = [part for pair in given.items() for part in pair]
    return synthgov("waiver", "new", "claims@1.10", *flat, *args, cwd=repo)


def written(repo: Path) -> list[str]:
    folder = repo / WAIVERS
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_waiver_written_validates_and_check_accepts_it_once_approved(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82]))
    result = waiver_new(synthgov, base)
    assert result.code == 0, result.err
    path = f"{WAIVERS}/WVR-1.yaml"
    assert (base / path).read_text().startswith("# yaml-language-server: $schema=")
    waiver = governance.load(base, path, Waiver).model
    assert (waiver.rule, waiver.relax_to, waiver.owner) == ("fidelity.detection_auc", 0.85, "ada")
    assert (waiver.expires_at - waiver.created_at).days == 30
    assert "synthgov approve claims@1.10 --waiver WVR-1 --role privacy-reviewer" in result.err
    assert synthgov("validate", cwd=base).code == 0
    commit(base, "waiver")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "approvals.waiver_unapproved" in {
        f["rule"] for r in data["releases"] for f in r["findings"]
    }
    doc = parse_document((base / path).read_bytes(), "w.yaml")
    put_approval(base, "bo", digest=digests.waiver_digest("claims@1.10", doc.data), waiver="WVR-1")
    commit(base, "bo approves the waiver")
    data = gate(synthgov, base)
    assert data["verdict"] == "pass", messages(data)
    assert "waived by WVR-1 up to 0.85" in messages(data)


def test_a_waiver_longer_than_max_days_is_refused_naming_the_bound(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    result = waiver_new(synthgov, base, days="91")
    assert result.code == 1
    assert "waivers.max_days 90 (set at policy/policy.yaml:" in result.err
    assert "nothing was written" in result.err and written(base) == []


def test_relaxing_beyond_the_max_relax_bound_is_refused_naming_the_bound(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    result = waiver_new(synthgov, base, relax_to="0.95")
    assert result.code == 1
    assert "bound for fidelity.detection_auc (<= 0.9, set at policy/policy.yaml:" in result.err
    assert written(base) == []


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("fidelity.missing_rate_diff", "sets no waivers.max_relax bound"),
        ("schema.columns_match", "a hard rule cannot be waived"),
    ],
)
def test_a_rule_the_policy_gives_no_bound_cannot_be_waived(
    synthgov: Synthgov, base: Path, rule: str, says: str
) -> None:
    add_release(base)
    result = waiver_new(synthgov, base, rule=rule, relax_to="0.1")
    assert result.code == 1, result.err
    assert says in result.err and "policy/policy.yaml:" in result.err
    assert written(base) == []


def test_an_existing_waiver_is_never_overwritten(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    assert waiver_new(synthgov, base).code == 0
    before = (base / WAIVERS / "WVR-1.yaml").read_bytes()
    result = waiver_new(synthgov, base, relax_to="0.88", reason="another")
    assert result.code == 1 and "already exists" in result.err
    assert (base / WAIVERS / "WVR-1.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"rule": "fidelity.no_such_rule"}, "--rule"),
        ({"relax_to": "1.5"}, "--relax-to"),
        ({"days": "0"}, "--days"),
        ({"id": "../escape"}, "--id"),
        ({"owner": "nobody"}, "--owner"),
        ({"reason": " "}, "--reason"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_option(
    synthgov: Synthgov, base: Path, change: dict[str, str], option: str
) -> None:
    add_release(base)
    result = waiver_new(synthgov, base, **change)
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1 and option in result.err, result.err
    assert written(base) == []


def test_an_unknown_release_is_bad_input(synthgov: Synthgov, base: Path) -> None:
    result = synthgov(
        "waiver", "new", "claims@9.9", "--rule", "fidelity.detection_auc", "--relax-to", "0.85",
        "--days", "3", "--reason", "r", "--owner", "ada", "--ticket", "T-1", cwd=base,
    )  # fmt: skip
    assert result.code == 2 and "no such release claims@9.9" in result.err
