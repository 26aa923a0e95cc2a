"""`synthgov validate`: every problem of every file, located, exit 0 or 2, and a light import."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from synthgov.files.paths import MAX_FILE_BYTES
from tests.helpers import ROOT, samples
from tests.helpers.cli import Synthgov


@pytest.fixture
def governance(tmp_path: Path) -> Path:
    root = tmp_path / "gov"
    root.mkdir()
    (root / ".git").mkdir()  # marks the repository root
    samples.write_repo(root, *samples.ssh_key(tmp_path))
    return root


def test_a_valid_repository_passes(governance: Path, synthgov: Synthgov) -> None:
    result = synthgov("validate", cwd=governance)
    assert result.code == 0, result.out
    assert result.out == ""
    assert result.err.strip() == "synthgov validate: 10 file(s) valid"  # audit/ is not governed


def test_run_from_a_subdirectory_validates_the_whole_repository(
    governance: Path, synthgov: Synthgov
) -> None:
    assert synthgov("validate", cwd=governance / "datasets" / "claims").code == 0
    assert "10 file(s)" in synthgov("-C", str(governance / "budgets"), "validate").err


def test_every_problem_in_every_file_is_printed_as_file_line_col(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    card.write_text(
        card.read_text().replace("classification: confidential", "classification: secret")
    )
    ledger = governance / "budgets/claims-db.yaml"
    ledger.write_text(ledger.read_text() + "entries: []\n")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert result.out.splitlines() == [
        "budgets/claims-db.yaml:19:1: duplicate key 'entries' (first defined at line 6)",
        "datasets/claims/card.yaml:7:17: classification: input should be 'public', 'internal', "
        "'confidential' or 'restricted', got the string \"secret\"",
    ]
    assert "2 problem(s) in 2 file(s) of 10" in result.err


def test_a_card_that_loosens_the_policy_names_the_policy_line(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("{threshold: 0.7}", "{threshold: 0.9}"))
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    policy = (governance / "policy/policy.yaml").read_text().splitlines()
    line = policy.index("    metric: fidelity.detection_auc") + 3  # its threshold, 1-based
    assert result.out.strip() == (
        "datasets/claims/card.yaml:22:39: overrides.fidelity.detection_auc.threshold: 0.9 loosens "
        f"the confidential policy (<= 0.78, set at policy/policy.yaml:{line}:16); a card may only tighten"
    )


def test_a_card_may_not_lower_enforcement_or_name_an_unknown_rule(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    card.write_text(
        card.read_text().replace(
            "{threshold: 0.7}",
            "{threshold: 0.7, enforcement: advisory}\n  fidelity.made_up: {threshold: 0.1}",
        )
    )
    out = synthgov("validate", cwd=governance).out
    assert (
        "overrides.fidelity.detection_auc.enforcement: advisory loosens the confidential policy (mandatory"
        in out
    )
    assert (
        "datasets/claims/card.yaml:23:3: overrides.fidelity.made_up: no rule with this id in the policy"
        in out
    )


def test_a_card_loosening_a_tier_override_names_the_tier_line(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    text = card.read_text().replace("classification: confidential", "classification: restricted")
    card.write_text(
        text.replace(
            "fidelity.detection_auc: {threshold: 0.7}",
            "privacy.near_copy_excess: {threshold: 0.015}",
        )
    )
    out = synthgov("validate", cwd=governance).out
    assert "0.015 loosens the restricted policy (<= 0.01, set at policy/policy.yaml:" in out


def test_a_file_whose_path_disagrees_with_its_content_is_refused(
    governance: Path, synthgov: Synthgov
) -> None:
    moved = governance / "datasets/other/card.yaml"
    moved.parent.mkdir()
    moved.write_text((governance / "datasets/claims/card.yaml").read_text())
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert (
        "datasets/other/card.yaml:2:5: id: is 'claims' but the file's path says 'other'"
        in result.out
    )


def test_an_unknown_file_under_a_governance_folder_is_an_error(
    governance: Path, synthgov: Synthgov
) -> None:
    (governance / "datasets/claims/notes.yaml").write_text("a: 1\n")
    (governance / "datasets/claims/README.md").write_text("# notes\n")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert (
        result.out.strip()
        == "datasets/claims/notes.yaml:1:1: not a governance file (see docs/files/ for the layout)"
    )


def test_a_symlinked_governance_file_is_refused(
    governance: Path, tmp_path: Path, synthgov: Synthgov
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(samples.LEDGER.replace("claims-db", "other"))
    os.symlink(outside, governance / "budgets/other.yaml")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert "refusing to follow the symbolic link budgets/other.yaml" in result.out


def test_named_paths_only(governance: Path, synthgov: Synthgov) -> None:
    (governance / "budgets/claims-db.yaml").write_text("broken: [\n")
    result = synthgov("validate", "datasets/claims/card.yaml", "policy", cwd=governance)
    assert result.code == 0, result.out
    assert "3 file(s) valid" in result.err


def test_named_card_is_still_checked_against_the_policy(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("{threshold: 0.7}", "{threshold: 0.9}"))
    assert synthgov("validate", "datasets/claims/card.yaml", cwd=governance).code == 2


@pytest.mark.parametrize("path", ["../outside.yaml", "/etc/passwd"])
def test_paths_outside_the_repository_are_refused(
    governance: Path, synthgov: Synthgov, path: str
) -> None:
    result = synthgov("validate", path, cwd=governance)
    assert result.code == 2
    assert path in result.out


def test_nothing_to_validate_is_not_a_pass(tmp_path: Path, synthgov: Synthgov) -> None:
    result = synthgov("validate", cwd=tmp_path)
    assert result.code == 2
    assert "no governance files found" in result.err


def test_validate_leaves_pandas_and_sklearn_unimported(governance: Path) -> None:
    probe = (
        "import sys\n"
        "from synthgov.cli import main\n"
        "code = main(['validate'])\n"
        "heavy = sorted(m for m in ('pandas', 'sklearn', 'scipy', 'opendp', 'numpy', 'git') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=governance,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "0 []", done.stderr


def test_a_card_override_outside_the_metric_range_is_refused(
    governance: Path, synthgov: Synthgov
) -> None:
    card = governance / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("{threshold: 0.7}", "{threshold: -0.5}"))
    out = synthgov("validate", cwd=governance).out
    assert (
        "overrides.fidelity.detection_auc.threshold: -0.5 is outside [0, 1] for fidelity.detection_auc"
        in out
    )


def test_a_tier_override_outside_the_metric_range_is_refused(
    governance: Path, synthgov: Synthgov
) -> None:
    policy = governance / "policy/policy.yaml"
    policy.write_text(
        policy.read_text().replace(
            "privacy.near_copy_excess: {threshold: 0.01}",
            "privacy.near_copy_excess: {threshold: 2}",
        )
    )
    out = synthgov("validate", cwd=governance).out
    assert (
        "tiers.restricted.overrides.privacy.near_copy_excess.threshold: 2 is outside [-1, 1] for "
        "privacy.near_copy_excess" in out
    )


def test_a_waiver_of_a_hard_rule_is_refused(governance: Path, synthgov: Synthgov) -> None:
    waiver = next((governance / "datasets").rglob("WVR-*.yaml"))
    waiver.write_text(
        waiver.read_text().replace("rule: fidelity.detection_auc", "rule: schema.columns_match")
    )
    out = synthgov("validate", cwd=governance).out
    assert "rule: schema.columns_match is hard (set at policy/policy.yaml:" in out
    assert "it cannot be waived" in out


def test_a_waiver_beyond_the_policy_horizon_is_refused(
    governance: Path, synthgov: Synthgov
) -> None:
    waiver = next((governance / "datasets").rglob("WVR-*.yaml"))
    waiver.write_text(
        waiver.read_text().replace('"2026-10-02T00:00:00Z"', '"2027-10-02T00:00:00Z"')
    )
    out = synthgov("validate", cwd=governance).out
    assert "expires_at: more than 90 days after created_at (limit set at policy/policy.yaml:" in out


def test_a_symlinked_top_level_folder_is_reported_not_skipped(
    governance: Path, tmp_path: Path, synthgov: Synthgov
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "y").mkdir(parents=True)
    (elsewhere / "y" / "card.yaml").write_text("x: [\n")
    (governance / "budgets/claims-db.yaml").rename(tmp_path / "ledger.yaml")
    (governance / "budgets").rmdir()
    os.symlink(elsewhere, governance / "budgets")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert "budgets:1:1: refusing to follow the symbolic link budgets" in result.out


def test_a_missing_dash_c_directory_is_a_usage_error(synthgov: Synthgov, tmp_path: Path) -> None:
    result = synthgov("-C", str(tmp_path / "nope"), "validate")
    assert result.code == 2
    assert "does not exist" in result.err


def test_cards_without_a_policy_are_flagged(governance: Path, synthgov: Synthgov) -> None:
    (governance / "policy/policy.yaml").unlink()
    result = synthgov("validate", cwd=governance)
    assert (
        "warning: no valid policy/policy.yaml: card overrides and waivers were not checked"
        in result.err
    )


def test_named_paths_are_relative_to_the_current_directory(
    governance: Path, synthgov: Synthgov
) -> None:
    result = synthgov(
        "validate", "policy.yaml", "../datasets/claims/card.yaml", cwd=governance / "policy"
    )
    assert result.code == 0, result.out
    assert "2 file(s) valid" in result.err


#: What editors, CI problem matchers and ruff's users read: file, line, column, message.
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def test_whole_file_problems_are_located_at_1_1_so_editors_and_matchers_read_them(
    governance: Path, tmp_path: Path, synthgov: Synthgov
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(samples.LEDGER.replace("claims-db", "other"))
    os.symlink(outside, governance / "budgets/other.yaml")
    big = governance / "budgets/big.yaml"
    big.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    (governance / "datasets/claims/notes.yaml").write_text("a: 1\n")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    lines = result.out.splitlines()
    assert [m.group("file", "line", "column") for m in map(PROBLEM_LINE.match, lines) if m] == [
        ("budgets/big.yaml", "1", "1"),
        ("budgets/other.yaml", "1", "1"),
        ("datasets/claims/notes.yaml", "1", "1"),
    ], lines
    assert lines[0].endswith(f"file is larger than the {MAX_FILE_BYTES // 1024} KiB limit")
    assert "refusing to follow the symbolic link budgets/other.yaml" in lines[1]


def test_a_problem_with_a_line_and_no_column_is_at_column_1(
    governance: Path, synthgov: Synthgov
) -> None:
    (governance / "budgets/claims-db.yaml").write_text("a: [\n")
    result = synthgov("validate", cwd=governance)
    assert result.code == 2
    assert all(PROBLEM_LINE.match(line) for line in result.out.splitlines()), result.out


def test_a_registry_without_a_policy_admin_warns_of_the_lockout_and_still_passes(
    governance: Path, synthgov: Synthgov
) -> None:
    registry = governance / "policy/reviewers.yaml"
    registry.write_text(
        registry.read_text().replace("[privacy-reviewer, policy-admin]", "[privacy-reviewer]")
    )
    result = synthgov("validate", cwd=governance)
    assert result.code == 0, result.out
    assert result.out == ""
    [warning] = [line for line in result.err.splitlines() if "warning" in line]
    assert warning.startswith(
        "policy/reviewers.yaml:3:3: warning: no reviewer holds the role policy-admin, whose "
        "approval every change to policy/ needs (policy/policy.yaml:"
    )
    assert "register one in the first commit" in warning
    assert "synthgov validate: 10 file(s) valid" in result.err
    assert "warning" not in synthgov("validate", "datasets", cwd=governance).err  # not named


def test_a_policy_admin_without_a_valid_key_warns_as_fewer_than_needed(
    governance: Path, synthgov: Synthgov
) -> None:
    registry = governance / "policy/reviewers.yaml"
    registry.write_text(
        registry.read_text().replace(
            'valid_after: "2026-01-01T00:00:00Z"',
            'valid_after: "2020-01-01T00:00:00Z"\n        valid_before: "2021-01-01T00:00:00Z"',
        )
    )
    result = synthgov("validate", "policy/reviewers.yaml", cwd=governance)
    assert result.code == 0, result.out
    assert (
        "warning: changes to policy/ need 1 policy-admin approval(s) (policy/policy.yaml:"
        in result.err
    )
    assert "but only 0 policy-admin has a key valid now" in result.err


def test_a_registry_with_a_policy_admin_gives_no_warning(
    governance: Path, synthgov: Synthgov
) -> None:
    result = synthgov("validate", "policy", cwd=governance)
    assert result.code == 0
    assert result.err.strip() == "synthgov validate: 2 file(s) valid"
