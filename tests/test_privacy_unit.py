"""A card and its source's ledger name the same privacy unit: the budget protects the
ledger's unit, so a card that promises another (one claim against one member) would ship
DP figures that do not hold for what it says. `check` blocks such a DP release and
`validate` names the card's line."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import ledgers, samples
from tests.helpers.cli import Synthgov, as_json, check
from tests.helpers.git import commit, git
from tests.helpers.repos import add_release, write


def other_unit(repo: Path) -> None:
    """main's ledger protects one claim, not one member (as the card says)."""
    git(repo, "checkout", "-q", "main")
    write(repo, ledgers.PATH, ledgers.empty().replace("one member", "one claim"))
    commit(repo, "a ledger of another unit")
    git(repo, "checkout", "-q", "pr")
    git(repo, "merge", "-q", "--ff-only", "main")


def test_a_dp_release_whose_card_and_ledger_differ_in_privacy_unit_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    other_unit(base)
    add_release(base)  # otherwise passing: approved, debited
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1, result.out
    [release] = as_json(result)["releases"]
    [finding] = release["findings"]
    assert finding["rule"] == "budget.unit_mismatch" and finding["severity"] == "error"
    assert finding["file"] == "datasets/claims/card.yaml"
    assert (finding["observed"], finding["threshold"]) == ("one member", "one claim")
    assert (
        "budgets/claims-db.yaml:4, the ledger of its source, protects 'one claim'"
        in (finding["message"])
    )


def test_a_release_without_dp_is_warned_of_a_privacy_unit_mismatch(
    synthgov: Synthgov, base: Path
) -> None:
    other_unit(base)
    manifest = samples.MANIFEST.replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001, tuning: none", "notion: none"
    )
    add_release(base, manifest=manifest)
    result = check(synthgov, base, "--format", "json")
    [release] = as_json(result)["releases"]
    found = [f for f in release["findings"] if f["rule"] == "budget.unit_mismatch"]
    assert [f["severity"] for f in found] == ["warning"]
    assert result.code == 0, result.out


def test_validate_names_the_card_line_whose_privacy_unit_is_not_its_ledgers(
    synthgov: Synthgov, base: Path
) -> None:
    other_unit(base)
    result = synthgov("validate", cwd=base)
    assert result.code == 2
    [(line, text)] = [
        (i, t) for i, t in enumerate(samples.CARD.splitlines(), 1) if "privacy_unit" in t
    ]
    column = text.index("one member") + 1  # the flow mapping's value
    assert result.out.splitlines() == [
        f"datasets/claims/card.yaml:{line}:{column}: source.privacy_unit: 'one member' is not the "
        "privacy unit of budgets/claims-db.yaml ('one claim', line 4); the budget protects the "
        "ledger's unit, so the card must name the same one"
    ]


def test_validate_accepts_units_that_differ_only_in_case_and_spacing(
    synthgov: Synthgov, base: Path
) -> None:
    card = (base / "datasets/claims/card.yaml").read_text()
    write(base, "datasets/claims/card.yaml", card.replace("one member", "One  member"))
    assert synthgov("validate", cwd=base).code == 0
