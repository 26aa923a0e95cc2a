"""The budget gate in `check`, on real git repositories: each DP release has its one debit,
ledgers only grow and stay chained, the cap holds, and racing pull requests collide.

Every tampering blocks with a finding that names the ledger file and the line that shows
it. Releases other than claims@1.10 carry no approvals, so these tests look at the
budget findings (and the verdict where only budget findings can decide it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ledgers, samples
from tests.helpers.cli import Synthgov, as_json, check
from tests.helpers.git import commit, git
from tests.helpers.repos import add_release, write
from tests.helpers.samples import PASSING, report_json

LEDGER = ledgers.PATH
DP = "notion: approx, epsilon: 1.0, delta: 0.000001"


def manifest(version: str, privacy: str = DP) -> str:
    return samples.MANIFEST.replace('version: "1.10"', f'version: "{version}"').replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001", privacy
    )


def release(
    repo: Path,
    version: str,
    privacy: str = DP,
    *,
    debit: dict[str, str] | None = None,
    ledger: bool = True,
) -> None:
    """Commit release claims@VERSION, with its debit appended unless `ledger` is False."""
    card_sha = hashlib.sha256((repo / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    folder = f"datasets/claims/releases/{version}"
    text = manifest(version, privacy)
    write(repo, f"{folder}/manifest.yaml", text)
    write(repo, f"{folder}/report.json", report_json(PASSING, card_sha))
    if ledger:
        loss = ledgers.figures(text) if debit is None else debit
        if loss:
            path = repo / LEDGER
            path.write_text(ledgers.append(path.read_text(), f"claims@{version}", **loss))
    commit(repo, f"release claims@{version}")


def merge(repo: Path, branch: str, new_branch: str) -> None:
    """Merge `branch` into main and start `new_branch` from there."""
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", branch)
    git(repo, "checkout", "-qb", new_branch)


def budget(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every budget finding, top-level and per release, with `scope` added."""
    found = [{**f, "scope": "top"} for f in data["findings"] if f["gate"] == "budget"]
    for result in data["releases"]:
        found += [
            {**f, "scope": result["release"]} for f in result["findings"] if f["gate"] == "budget"
        ]
    return found


def run(synthgov: Synthgov, repo: Path) -> tuple[int, list[dict[str, Any]]]:
    result = check(synthgov, repo, "--format", "json")
    assert result.code in (0, 1), result.err
    return result.code, budget(as_json(result))


def line(repo: Path, needle: str, nth: int = 0, path: str = LEDGER) -> int:
    """1-based line of the `nth` line of `path` that contains `needle`."""
    hits = [i for i, text in enumerate((repo / path).read_text().splitlines(), 1) if needle in text]
    return hits[nth]


def edit(repo: Path, old: str, new: str, count: int = 1) -> None:
    path = repo / LEDGER
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


@pytest.fixture
def debited(base: Path) -> Path:
    """main: claims@1.10 spent (1.0, 1e-7) and claims@1.11 rho 0.05 of the cap (3.0, 1e-6),
    about epsilon 2.48 composed; branch `pr2` starts there."""
    release(base, "1.10", "notion: approx, epsilon: 1.0, delta: 0.0000001")
    release(base, "1.11", "notion: zcdp, rho: 0.05")
    merge(base, "pr", "pr2")
    return base


def only(found: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    [match] = [f for f in found if f["rule"] == rule]
    assert match["file"] == LEDGER and match["severity"] == "error"
    return match


def overdrawn(found: list[dict[str, Any]], release: str) -> dict[str, Any]:
    """The release's over_cap finding, after checking the ledger's own (top-level) one:
    a changed ledger is totalled whoever its entries name, and the release cannot pay."""
    top = only([f for f in found if f["scope"] == "top"], "budget.over_cap")
    mine = only([f for f in found if f["scope"] == release], "budget.over_cap")
    assert (top["observed"], top["threshold"]) == (mine["observed"], mine["threshold"])
    return mine


# --- per release -----------------------------------------------------------------------------


def test_a_release_with_its_debit_passes_the_whole_gate(synthgov: Synthgov, base: Path) -> None:
    add_release(base)  # debits claims-db with the manifest's (1.0, 1e-6) and is approved
    result = check(synthgov, base, "--format", "json")
    assert result.code == 0, result.out
    assert budget(as_json(result)) == []


def test_a_missing_debit_blocks_at_the_ledgers_entries(synthgov: Synthgov, base: Path) -> None:
    release(base, "1.10", ledger=False)
    code, found = run(synthgov, base)
    finding = only(found, "budget.missing_debit")
    assert code == 1 and finding["scope"] == "claims@1.10"
    assert finding["line"] == line(base, "entries:")
    assert (
        "synthgov budget debit claims-db --release claims@1.10 --epsilon 1.0 --delta 0.000001"
        in (finding["fix"])
    )


def test_a_debit_differing_from_the_manifest_blocks_at_its_loss(
    synthgov: Synthgov, base: Path
) -> None:
    release(base, "1.10", debit={"epsilon": "0.5", "delta": "0.000001"})
    code, found = run(synthgov, base)
    finding = only(found, "budget.debit_mismatch")
    assert code == 1 and finding["line"] == line(base, "loss:")
    assert finding["message"] == (
        "entry seq 1 records epsilon 0.5, delta 0.000001 for claims@1.10, but its manifest "
        "declares epsilon 1.0, delta 0.000001"
    )
    assert (finding["observed"], finding["threshold"]) == (
        "epsilon 0.5, delta 0.000001",
        "epsilon 1.0, delta 0.000001",
    )


def test_an_overdraw_blocks_naming_the_total_and_the_cap(synthgov: Synthgov, base: Path) -> None:
    release(base, "1.10", "notion: approx, epsilon: 3.5, delta: 0.000001")
    code, found = run(synthgov, base)
    finding = overdrawn(found, "claims@1.10")
    assert code == 1
    assert finding["line"] == line(base, "- seq: 1")
    assert (finding["observed"], finding["threshold"]) == (3.5, 3.0)
    assert "epsilon 3.5 above the cap epsilon 3.0" in finding["message"]


def test_a_zcdp_debit_is_composed_through_opendp(synthgov: Synthgov, debited: Path) -> None:
    release(debited, "1.12", "notion: zcdp, rho: 0.3")  # rho 0.35 at delta 9e-7: 4.29
    code, found = run(synthgov, debited)
    finding = overdrawn(found, "claims@1.12")
    assert code == 1 and finding["observed"] == pytest.approx(5.2904, abs=1e-4)
    assert "epsilon 5.2904 above the cap epsilon 3.0" in finding["message"]


def test_a_debit_that_exhausts_delta_blocks(synthgov: Synthgov, debited: Path) -> None:
    """(0.1, 9e-7) is small, but leaves no delta to convert the rho already spent."""
    release(debited, "1.12", "notion: approx, epsilon: 0.1, delta: 0.0000009")
    code, found = run(synthgov, debited)
    finding = overdrawn(found, "claims@1.12")
    assert code == 1 and finding["observed"] == "infinite"
    assert "delta 0.000001 exhausted, so epsilon is infinite" in finding["message"]


def test_an_empirical_audit_release_needs_no_debit_and_must_not_have_one(
    synthgov: Synthgov, base: Path
) -> None:
    release(base, "1.10", "notion: none")
    code, found = run(synthgov, base)
    assert found == []
    release(base, "1.11", "notion: none", debit={"epsilon": "0.5"})
    code, found = run(synthgov, base)
    finding = only(found, "budget.debit_without_dp")
    assert code == 1 and finding["scope"] == "claims@1.11"
    assert finding["line"] == line(base, "release: claims@1.11")


def test_the_restricted_tier_without_dp_is_a_policy_finding(synthgov: Synthgov, repo: Path) -> None:
    write(repo, "policy/policy.yaml", samples.POLICY)
    write(repo, "policy/reviewers.yaml", "schema_version: 1\nreviewers: []\n")
    write(
        repo,
        "datasets/claims/card.yaml",
        samples.CARD.replace("classification: confidential", "classification: restricted"),
    )
    write(repo, LEDGER, ledgers.empty())
    commit(repo, "base")
    git(repo, "checkout", "-qb", "pr")
    release(repo, "1.10", "notion: none")
    result = check(synthgov, repo, "--format", "json")
    rules = [f["rule"] for r in as_json(result)["releases"] for f in r["findings"]]
    assert "policy.dp_required" in rules and budget(as_json(result)) == []


def test_a_card_moved_to_a_fresh_source_still_debits_the_base_ledger(
    synthgov: Synthgov, base: Path
) -> None:
    card = base / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("id: claims-db", "id: fresh"))
    write(base, "budgets/fresh.yaml", ledgers.empty(source="fresh"))
    release(base, "1.10", ledger=False)
    fresh = base / "budgets/fresh.yaml"
    fresh.write_text(
        ledgers.append(fresh.read_text(), "claims@1.10", epsilon="1.0", delta="0.000001")
    )
    commit(base, "move to a fresh ledger")
    _, found = run(synthgov, base)
    rules = {f["rule"] for f in found if f["scope"] == "claims@1.10"}
    assert {"budget.source_changed", "budget.missing_debit"} <= rules
    [moved] = [f for f in found if f["rule"] == "budget.source_changed"]
    assert moved["file"] == "datasets/claims/card.yaml" and moved["line"] == 6


# --- tampering with what the base holds -----------------------------------------------------


def test_an_edited_earlier_entry_blocks(synthgov: Synthgov, debited: Path) -> None:
    edit(debited, "epsilon: 1.0", "epsilon: 0.5")
    release(debited, "1.12", "notion: approx, epsilon: 1.5, delta: 0.0000001")
    code, found = run(synthgov, debited)
    changed = only([f for f in found if f["scope"] == "top"], "budget.entry_changed")
    assert code == 1 and changed["line"] == line(debited, "epsilon: 0.5")
    assert changed["message"].startswith(
        "entry seq 1 (claims@1.10) differs from the base in loss.epsilon: entries are append-only"
    )
    chain = only([f for f in found if f["scope"] == "top"], "budget.chain_broken")
    assert chain["line"] == line(debited, "prev_sha256", 1)  # entry 2's link to entry 1
    invalid = only(found, "budget.ledger_invalid")
    assert invalid["scope"] == "claims@1.12" and invalid["line"] == changed["line"]


def test_a_deleted_entry_blocks(synthgov: Synthgov, debited: Path) -> None:
    text = (debited / LEDGER).read_text()
    (debited / LEDGER).write_text(text[: text.index("  - seq: 2")])
    commit(debited, "drop the second debit")
    code, found = run(synthgov, debited)
    deleted = only(found, "budget.entry_deleted")
    assert code == 1 and deleted["scope"] == "top"
    assert deleted["message"] == (
        "entry seq 2 (claims@1.11) of the base is missing: entries are append-only, never removed"
    )
    assert deleted["line"] == line(debited, "- seq: 1")


def test_reordered_entries_block(synthgov: Synthgov, debited: Path) -> None:
    text = (debited / LEDGER).read_text()
    head, first, second = (
        text[: text.index("  - seq: 1")],
        text[text.index("  - seq: 1") : text.index("  - seq: 2")],
        text[text.index("  - seq: 2") :],
    )
    swapped = second.replace("seq: 2", "seq: 1") + first.replace("seq: 1", "seq: 2")
    (debited / LEDGER).write_text(head + swapped)
    commit(debited, "reorder")
    code, found = run(synthgov, debited)
    moved = [f for f in found if f["rule"] == "budget.entry_moved"]
    assert code == 1 and len(moved) == 2
    assert {f["line"] for f in moved} == {line(debited, "seq: 1"), line(debited, "seq: 2")}
    assert moved[0]["message"] == (
        "the debit of claims@1.10 is entry seq 1 on the base but seq 2 here: entries keep "
        "their order and numbers"
    )


def test_reordered_entries_keeping_their_numbers_are_invalid(
    synthgov: Synthgov, debited: Path
) -> None:
    text = (debited / LEDGER).read_text()
    at1, at2 = text.index("  - seq: 1"), text.index("  - seq: 2")
    (debited / LEDGER).write_text(text[:at1] + text[at2:] + text[at1:at2])
    commit(debited, "reorder")
    result = check(synthgov, debited, "--format", "json")
    [finding] = [f for f in as_json(result)["findings"] if f["file"] == LEDGER]
    assert result.code == 1 and finding["rule"] == "files.invalid"
    assert finding["line"] == line(debited, "seq: 2") and "is 2, expected 1" in finding["message"]


def test_a_broken_hash_blocks_at_its_prev_sha256(synthgov: Synthgov, debited: Path) -> None:
    release(debited, "1.12")
    text = (debited / LEDGER).read_text()
    last = text.rindex("prev_sha256: ") + len("prev_sha256: ")
    (debited / LEDGER).write_text(text[:last] + "0" * 64 + text[last + 64 :])
    commit(debited, "forge a link")
    code, found = run(synthgov, debited)
    chain = only([f for f in found if f["scope"] == "top"], "budget.chain_broken")
    assert code == 1 and chain["line"] == line(debited, "prev_sha256", 2)
    assert chain["message"].startswith("entry seq 3's prev_sha256 is not the sha256 of entry seq 2")
    assert only(found, "budget.ledger_invalid")["scope"] == "claims@1.12"


def test_raising_the_cap_alongside_a_debit_blocks(synthgov: Synthgov, debited: Path) -> None:
    """signing.md attack 14: a bigger cap smuggled in with the debit that needs it. The
    change is reported, and the debit is still totalled against the base's cap."""
    release(debited, "1.12", "notion: approx, epsilon: 2.5, delta: 0.000001")
    edit(debited, "cap: {epsilon: 3.0,", "cap: {epsilon: 30.0,")
    commit(debited, "raise the cap")
    code, found = run(synthgov, debited)
    changed = only([f for f in found if f["scope"] == "top"], "budget.cap_changed")
    assert code == 1 and changed["line"] == line(debited, "cap:")
    assert changed["message"].startswith(
        "the cap of budgets/claims-db.yaml changes (epsilon 3.0 -> 30.0)"
    )
    assert overdrawn(found, "claims@1.12")["threshold"] == 3.0
    assert not {"budget.header_changed", "budget.rewritten"} & {f["rule"] for f in found}


def test_raising_the_cap_alone_is_blocked(synthgov: Synthgov, debited: Path) -> None:
    """A cap is fixed once merged: a pull request that only raises it is blocked (with
    `budget.change`, which the policy's budget_changes approvals answer: one finding per
    missing role)."""
    edit(
        debited,
        "cap: {epsilon: 3.0, delta: 0.000001}",
        "cap:  # raised\n  epsilon: 4.0\n  delta: 0.000001",
    )
    commit(debited, "raise the cap")
    code, found = run(synthgov, debited)
    assert code == 1 and {f["rule"] for f in found if f["rule"] == "budget.change"}
    found = [f for f in found if f["rule"] != "budget.change"]
    # entry 1 is chained to the header, cap included
    assert [f["rule"] for f in found] == ["budget.cap_changed", "budget.chain_broken"]
    assert found[0]["observed"] == "epsilon 3.0 -> 4.0"


def test_rewriting_the_caps_text_with_the_same_figures_blocks(
    synthgov: Synthgov, debited: Path
) -> None:
    edit(debited, "cap: {epsilon: 3.0, delta: 0.000001}", "cap:\n  epsilon: 3.0\n  delta: 0.000001")
    commit(debited, "reformat the cap")
    code, found = run(synthgov, debited)
    assert code == 1 and [f["rule"] for f in found] == ["budget.rewritten"]
    assert found[0]["line"] == line(debited, "cap:")


def test_rewriting_the_text_of_earlier_entries_blocks(synthgov: Synthgov, debited: Path) -> None:
    edit(debited, "    mechanism: aim\n", "    mechanism: aim  # the first AIM run\n")
    commit(debited, "annotate")
    code, found = run(synthgov, debited)
    rewritten = only(found, "budget.rewritten")
    assert code == 1 and rewritten["line"] == line(debited, "# the first AIM run")


def test_appending_after_the_base_passes(synthgov: Synthgov, debited: Path) -> None:
    release(debited, "1.12", "notion: approx, epsilon: 0.5, delta: 0.0000001")  # 2.987 of 3
    assert run(synthgov, debited) == (1, [])  # blocked by missing approvals only


# --- two pull requests, one ledger ------------------------------------------------------------


def test_two_branches_racing_for_the_same_sequence_number(
    synthgov: Synthgov, debited: Path
) -> None:
    """Both append seq 3 to the same base; each passes alone. Once one is merged, the other,
    re-checked against the new base (the merge queue), is blocked and told to rebase."""
    release(debited, "1.12", "notion: approx, epsilon: 0.1, delta: 0.00000001")
    git(debited, "checkout", "-q", "main")
    git(debited, "checkout", "-qb", "other")
    release(debited, "1.13", "notion: approx, epsilon: 0.2, delta: 0.00000001")
    assert run(synthgov, debited) == (1, [])  # approvals aside, each is fine alone
    git(debited, "checkout", "-q", "pr2")
    assert run(synthgov, debited) == (1, [])
    merge(debited, "pr2", "unused")
    git(debited, "checkout", "-q", "other")
    code, found = run(synthgov, debited)
    taken = only([f for f in found if f["scope"] == "top"], "budget.sequence_taken")
    assert code == 1 and taken["line"] == line(debited, "- seq: 3")
    assert taken["message"].startswith(
        "sequence number 3 is already taken on the base by claims@1.12: another pull request "
        "debited this ledger after this branch was made. Rebase onto the base and debit again"
    )
    assert taken["fix"].startswith("Rebase onto the base, keep the base's ledger, debit again")
    assert only(found, "budget.ledger_invalid")["scope"] == "claims@1.13"


def test_a_rebased_branch_that_debits_again_passes(synthgov: Synthgov, debited: Path) -> None:
    release(debited, "1.12", "notion: approx, epsilon: 0.1, delta: 0.00000001")
    merge(debited, "pr2", "rebased")
    release(debited, "1.13", "notion: approx, epsilon: 0.2, delta: 0.00000001")
    _, found = run(synthgov, debited)
    assert found == [] and "- seq: 4" in (debited / LEDGER).read_text()


# --- pull requests that change only a ledger -------------------------------------------------


def test_a_debit_ahead_of_its_release_is_blocked_until_the_release_comes_with_it(
    synthgov: Synthgov, base: Path
) -> None:
    """A debit comes with its release, in one pull request (issue 15): reserving budget
    for a release that is not there would let any entry spend a source's budget."""
    path = base / LEDGER  # main's, empty
    path.write_text(
        ledgers.append(path.read_text(), "claims@1.10", epsilon="1.0", delta="0.000001")
    )
    commit(base, "reserve budget for claims@1.10")
    code, found = run(synthgov, base)
    alone = only(found, "budget.debit_without_release")
    assert code == 1 and alone["scope"] == "top"
    assert alone["line"] == line(base, "release: claims@1.10")
    release(base, "1.10", ledger=False)  # the same pull request now adds the release
    assert run(synthgov, base) == (1, [])  # approvals aside


def test_a_ledger_only_overdraw_blocks_at_the_entry_that_tips_it(
    synthgov: Synthgov, debited: Path
) -> None:
    path = debited / LEDGER
    path.write_text(ledgers.append(path.read_text(), "claims@2.0", epsilon="0.4"))
    path.write_text(ledgers.append(path.read_text(), "claims@2.1", epsilon="0.4"))
    commit(debited, "reserve")
    code, found = run(synthgov, debited)
    over = only(found, "budget.over_cap")
    assert code == 1 and over["scope"] == "top"
    assert over["line"] == line(debited, "- seq: 4")  # 2.48 + 0.4 fits; + 0.4 more does not
    assert over["message"].startswith("entry seq 4 overdraws budgets/claims-db.yaml")


def test_a_ledger_only_debit_must_match_an_existing_manifest(
    synthgov: Synthgov, debited: Path
) -> None:
    merge(debited, "pr2", "pr3")  # main: 1.10 and 1.11
    release(debited, "1.12", "notion: none", ledger=False)
    merge(debited, "pr3", "pr4")
    path = debited / LEDGER
    path.write_text(ledgers.append(path.read_text(), "claims@1.12", epsilon="0.1"))
    commit(debited, "debit a release that declares no DP")
    code, found = run(synthgov, debited)
    finding = only(found, "budget.debit_without_dp")
    assert code == 1 and finding["scope"] == "top"


def test_a_new_ledger_in_the_pull_request_is_reported(synthgov: Synthgov, repo: Path) -> None:
    write(repo, "policy/policy.yaml", samples.POLICY)
    write(repo, "policy/reviewers.yaml", "schema_version: 1\nreviewers: []\n")
    write(repo, "datasets/claims/card.yaml", samples.CARD)
    commit(repo, "base without a ledger")
    git(repo, "checkout", "-qb", "pr")
    release(repo, "1.10", ledger=False)
    code, found = run(synthgov, repo)
    assert code == 1 and [f["rule"] for f in found] == ["budget.no_ledger"]
    assert (found[0]["file"], found[0]["line"]) == (LEDGER, 1)
    write(
        repo,
        LEDGER,
        ledgers.append(ledgers.empty(), "claims@1.10", epsilon="1.0", delta="0.000001"),
    )
    commit(repo, "the ledger")
    _, found = run(synthgov, repo)
    [new] = [f for f in found if f["rule"] != "budget.change"]
    assert (new["rule"], new["severity"], new["line"]) == (
        "budget.new_ledger",
        "warning",
        line(repo, "cap:"),
    )
    # The new ledger sets a budget: it needs the `budget_changes` approvals.
    assert {f["rule"] for f in found if f["severity"] == "error"} == {"budget.change"}


def test_a_new_ledger_is_totalled_against_its_own_cap(synthgov: Synthgov, repo: Path) -> None:
    write(repo, "policy/policy.yaml", samples.POLICY)
    write(repo, "policy/reviewers.yaml", "schema_version: 1\nreviewers: []\n")
    write(repo, "datasets/claims/card.yaml", samples.CARD)
    commit(repo, "base without a ledger")
    git(repo, "checkout", "-qb", "pr")
    write(repo, LEDGER, ledgers.empty())
    release(repo, "1.10", "notion: approx, epsilon: 3.5, delta: 0.000001")
    code, found = run(synthgov, repo)
    assert code == 1 and overdrawn(found, "claims@1.10")["threshold"] == 3.0
    assert [f["severity"] for f in found if f["rule"] == "budget.new_ledger"] == ["warning"]


def test_a_debit_naming_a_dataset_without_a_card_is_blocked(synthgov: Synthgov, base: Path) -> None:
    """Within the cap, and still blocked: the entry is not a debit of this source's release."""
    path = base / LEDGER
    path.write_text(ledgers.append(path.read_text(), "ghost@1.0", epsilon="0.1"))
    commit(base, "debit a release of no dataset")
    code, found = run(synthgov, base)
    other = only(found, "budget.debit_other_source")
    assert code == 1 and other["line"] == line(base, "release: ghost@1.0")
    assert other["message"] == (
        "entry seq 1 debits ghost@1.0, a release of ghost, which has no card "
        "datasets/ghost/card.yaml: budgets/claims-db.yaml pays only for releases of its "
        "source claims-db"
    )
    assert {f["rule"] for f in found} == {
        "budget.debit_other_source",
        "budget.debit_without_release",
    }


def test_a_release_debited_in_its_ledger_and_another_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, "budgets/other-db.yaml", ledgers.empty(source="other-db"))
    commit(base, "a second source's ledger")
    merge(base, "pr", "pr2")
    release(base, "1.10")  # its honest debit in claims-db
    other = base / "budgets/other-db.yaml"
    other.write_text(
        ledgers.append(other.read_text(), "claims@1.10", epsilon="1.0", delta="0.000001")
    )
    commit(base, "and the same debit in other-db")
    code, found = run(synthgov, base)
    assert code == 1 and [(f["rule"], f["file"]) for f in found] == [
        ("budget.debit_other_source", "budgets/other-db.yaml")
    ]


def test_a_debit_naming_a_release_the_base_deleted_is_not_new(
    synthgov: Synthgov, base: Path
) -> None:
    """The branch still holds a release that main has since deleted: the pull request does
    not add it, so it cannot carry its debit."""
    release(base, "1.10", "notion: none")
    merge(base, "pr", "side")
    git(base, "checkout", "-q", "main")
    git(base, "rm", "-rq", "datasets/claims/releases/1.10")
    commit(base, "delete claims@1.10 on main")
    git(base, "checkout", "-q", "side")
    path = base / LEDGER
    path.write_text(ledgers.append(path.read_text(), "claims@1.10", epsilon="0.5"))
    commit(base, "debit it")
    code, found = run(synthgov, base)
    assert code == 1 and only(found, "budget.debit_not_new")["scope"] == "top"
