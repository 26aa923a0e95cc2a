"""Changes that need approval, on real git repositories with real ssh-keygen signatures.

A card change needs its tier's approvals and names what it loosens; a new ledger, a
changed ledger header or a card's new source needs the `budget_changes` approvals; every
approval signs its subject and the repository id. Tests are named after the attacks.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synthgov.decision import digests
from synthgov.files.loading import parse_document
from synthgov.signing import canonical
from tests.helpers import ledgers, samples, signing
from tests.helpers.cli import Synthgov, as_json, audit, check
from tests.helpers.git import commit, git, sha
from tests.helpers.repos import add_release, release_digest, write
from tests.helpers.samples import RELEASE, report_json, with_metric

PEOPLE = signing.people()
CARD = "datasets/claims/card.yaml"


def gate(synthgov: Synthgov, repo: Path, *args: str) -> dict[str, Any]:
    result = check(synthgov, repo, "--format", "json", *args)
    assert result.code in (0, 1), result.err
    data = as_json(result)
    assert (result.code == 1) == (data["verdict"] == "blocked")
    return data


def errors(data: dict[str, Any]) -> list[str]:
    found = [f for f in data["findings"] if f["severity"] == "error"]
    found += [f for r in data["releases"] for f in r["findings"] if f["severity"] == "error"]
    return sorted({f["rule"] for f in found})


def loosened(data: dict[str, Any]) -> list[str]:
    return [
        f["message"].split("loosens the card: ", 1)[1]
        for f in data["findings"]
        if f["rule"] == "policy.card_loosened"
    ]


def approve(synthgov: Synthgov, repo: Path, name: str, *what: str) -> None:
    """`synthgov approve` by `name` in their first role, with their key."""
    person = PEOPLE[name]
    done = synthgov("approve", *what, "--role", person.roles[0], "--key", str(person.key), cwd=repo)
    assert done.code == 0, done.err


def edit_card(repo: Path, old: str, new: str) -> None:
    path = repo / CARD
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


# --- budgets -------------------------------------------------------------------------------


def test_moving_a_dataset_to_a_fresh_budget_of_its_own_choosing_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """The attack: change only the card's source.id and add a ledger with cap epsilon 100;
    the next pull request would spend epsilon 50 of a source whose cap is 3."""
    edit_card(base, "source: {id: claims-db,", "source: {id: fresh,")
    write(base, "budgets/fresh.yaml", ledgers.empty("pure", "{epsilon: 100}", source="fresh"))
    commit(base, "claims now draws on a fresh budget")
    data = gate(synthgov, base)
    assert errors(data) == ["budget.change", "policy.card_change"]
    change = next(f for f in data["findings"] if f["rule"] == "budget.change")
    assert (
        "budgets/fresh.yaml is new (cap {epsilon: 100}); claims's source claims-db -> fresh"
        in (change["message"])
    )
    assert change["threshold_file"] == "policy/policy.yaml"
    assert "source.id 'claims-db' -> 'fresh' (another privacy budget)" in loosened(data)
    # Approved by the roles the base policy names for budgets (and the card's tier): it passes.
    for name in ("dana", "ada"):
        approve(synthgov, base, name, "--budget")
    assert errors(gate(synthgov, base)) == ["policy.card_change"]
    for name in ("ada", "chen"):
        approve(synthgov, base, name, "--card", "claims")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_a_new_ledger_alone_needs_the_budget_approvals(synthgov: Synthgov, base: Path) -> None:
    write(base, "budgets/other.yaml", ledgers.empty("pure", "{epsilon: 100}", source="other"))
    commit(base, "a ledger with a cap chosen by the pull request")
    data = gate(synthgov, base)
    assert errors(data) == ["budget.change"]
    messages = [f["message"] for f in data["findings"] if f["rule"] == "budget.change"]
    assert len(messages) == 2 and "budgets/other.yaml is new" in messages[0]
    assert any("1 policy-admin" in m for m in messages)
    assert any("1 privacy-reviewer" in m for m in messages)


def test_a_budget_approval_by_one_role_only_does_not_suffice(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, "budgets/other.yaml", ledgers.empty("pure", "{epsilon: 100}", source="other"))
    commit(base, "a new ledger")
    approve(synthgov, base, "ada", "--budget")
    data = gate(synthgov, base)
    [missing] = [f for f in data["findings"] if f["rule"] == "budget.change"]
    assert "policy-admin" in missing["message"] and missing["observed"] == 0


def test_raising_the_cap_of_a_ledger_needs_the_budget_approvals(
    synthgov: Synthgov, base: Path
) -> None:
    path = base / ledgers.PATH
    path.write_text(ledgers.empty(cap="{epsilon: 50.0, delta: 0.000001}"))
    commit(base, "raise the cap from 3 to 50")
    assert errors(gate(synthgov, base)) == ["budget.cap_changed", "budget.change"]
    for name in ("dana", "ada"):
        approve(synthgov, base, name, "--budget")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_an_approved_cap_raise_is_judged_against_the_approved_cap(
    synthgov: Synthgov, base: Path
) -> None:
    """With entries on the base, the approved header re-links the chain; entries stay."""
    git(base, "checkout", "-q", "main")
    path = base / ledgers.PATH
    path.write_text(ledgers.append(path.read_text(), "claims@1.0", epsilon="2.5"))
    commit(base, "an earlier debit of 2.5 of the cap 3")
    git(base, "checkout", "-q", "pr")
    git(base, "rebase", "-q", "main")
    done = synthgov("budget", "cap", "claims-db", "--epsilon", "5", "--delta", "0.000001", cwd=base)
    assert done.code == 0, done.err
    assert "1 entry re-linked" in done.err
    text = path.read_text()
    assert text.startswith("# Privacy-budget ledger of claims-db") and "epsilon: 5.0" in text
    assert path.read_text() == ledgers.append(
        ledgers.empty(cap="{epsilon: 5.0, delta: 0.000001}"), "claims@1.0", epsilon="2.5"
    )  # only the cap and the entry's link changed
    commit(base, "raise the cap to 5, re-linking the chain")
    unapproved = errors(gate(synthgov, base))
    assert unapproved == ["budget.cap_changed", "budget.change", "budget.entry_changed"]
    for name in ("dana", "ada"):
        approve(synthgov, base, name, "--budget")
    add_release(base)  # epsilon 1.0: 2.5 + 1.0 fits the approved cap 5, not the base's 3
    data = gate(synthgov, base)
    assert data["verdict"] == "pass", errors(data)
    rules = {f["rule"] for f in data["findings"]}
    rules |= {f["rule"] for r in data["releases"] for f in r["findings"]}
    assert not rules & {
        "budget.cap_changed",
        "budget.chain_broken",
        "budget.header_changed",
        "budget.entry_changed",
        "budget.over_cap",
    }
    # Rewriting the earlier entry under cover of the approved header still blocks.
    path.write_text(path.read_text().replace("epsilon: 2.5", "epsilon: 0.5", 1))
    commit(base, "and shrink the earlier debit")
    assert "budget.entry_changed" in errors(gate(synthgov, base))


def test_a_release_overdrawing_an_approved_cap_is_blocked(synthgov: Synthgov, base: Path) -> None:
    """An approved cap raise (3 -> 3.2) is no blank cheque: the ledger and the release are
    totalled against the approved cap, and 2.5 + 1.0 does not fit it."""
    git(base, "checkout", "-q", "main")
    path = base / ledgers.PATH
    path.write_text(ledgers.append(path.read_text(), "claims@1.0", epsilon="2.5"))
    commit(base, "an earlier debit of 2.5 of the cap 3")
    git(base, "checkout", "-q", "pr")
    git(base, "rebase", "-q", "main")
    done = synthgov(
        "budget", "cap", "claims-db", "--epsilon", "3.2", "--delta", "0.000001", cwd=base
    )
    assert done.code == 0, done.err
    commit(base, "raise the cap to 3.2")
    for name in ("dana", "ada"):
        approve(synthgov, base, name, "--budget")
    add_release(base)  # epsilon 1.0
    data = gate(synthgov, base)
    assert errors(data) == ["budget.over_cap"]
    over = [f for f in data["findings"] if f["rule"] == "budget.over_cap"]
    over += [f for r in data["releases"] for f in r["findings"] if f["rule"] == "budget.over_cap"]
    assert len(over) == 2 and {f["threshold"] for f in over} == {3.2}


def test_a_budget_approval_cannot_be_replayed_for_another_budget_change(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, "budgets/other.yaml", ledgers.empty("pure", "{epsilon: 3}", source="other"))
    commit(base, "a new ledger with cap 3")
    for name in ("dana", "ada"):
        approve(synthgov, base, name, "--budget")
    assert gate(synthgov, base)["verdict"] == "pass"
    write(base, "budgets/other.yaml", ledgers.empty("pure", "{epsilon: 300}", source="other"))
    commit(base, "after the approvals: cap 300")
    data = gate(synthgov, base)
    assert errors(data) == ["budget.change"]
    assert "approvals.stale" in {f["rule"] for f in data["findings"]}


def test_budget_cap_refuses_a_cap_the_entries_already_exceed(
    synthgov: Synthgov, base: Path
) -> None:
    path = base / ledgers.PATH
    path.write_text(ledgers.append(path.read_text(), "claims@1.0", epsilon="2.5"))
    before = path.read_text()
    done = synthgov("budget", "cap", "claims-db", "--epsilon", "2", "--delta", "0.000001", cwd=base)
    assert done.code == 2 and "already spend more than this cap" in done.err
    assert path.read_text() == before


def test_budget_cap_on_a_tab_after_a_colon_that_validate_accepts_is_written(
    synthgov: Synthgov, base: Path
) -> None:
    """`budget cap` edits the text with the loader's own parser (loading.compose), as
    `budget debit` does: what `validate` accepts it edits, keeping the user's tabs."""
    path = base / ledgers.PATH
    text = ledgers.append(path.read_text(), "claims@1.0", epsilon="2.5")
    tabbed = text.replace("notion: approx", "notion:\tapprox")
    path.write_text(tabbed.replace("    mechanism: aim", "    mechanism:\taim"))
    assert synthgov("validate", ledgers.PATH, cwd=base).code == 0
    done = synthgov("budget", "cap", "claims-db", "--epsilon", "5", "--delta", "0.000001", cwd=base)
    assert done.code == 0, done.err
    written = path.read_text()
    assert "notion:\tapprox" in written and "    mechanism:\taim" in written
    assert "cap: {epsilon: 5.0, delta: 0.000001}" in written
    assert synthgov("validate", ledgers.PATH, cwd=base).code == 0


def test_a_cap_change_during_a_debit_waits_for_the_budgets_lock(
    synthgov: Synthgov, base: Path
) -> None:
    """`budget cap` rewrites every entry's link: written between a debit's write and its
    read-back, it would make the debit report a lost entry (or lose one). It takes the
    same lock on budgets/ as `budget debit`, and waits while another holds it."""
    path = base / ledgers.PATH
    before = path.read_text()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    fd = os.open(base / "budgets", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a debit in progress holds it
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "synthgov",
                "budget",
                "cap",
                "claims-db",
                "--epsilon",
                "5",
                "--delta",
                "0.000001",
            ],
            cwd=base,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        assert process.poll() is None and path.read_text() == before
    finally:
        os.close(fd)  # releases the lock
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "cap: {epsilon: 5.0, delta: 0.000001}" in path.read_text()


# --- cards ---------------------------------------------------------------------------------

LOOSENINGS = {
    "widening_intended_uses": (
        "intended_uses: [model development]",
        "intended_uses: [model development, marketing]",
        "intended_uses widened: + 'marketing'",
    ),
    "removing_a_prohibited_column": (
        "prohibited_columns: [email]",
        "prohibited_columns: []",
        "prohibited_columns: 'email' removed",
    ),
    "dropping_a_tightening_override": (
        "overrides:\n  fidelity.detection_auc: {threshold: 0.7}\n",
        "",
        "override fidelity.detection_auc removed",
    ),
    "dropping_subgroup_columns": (
        "subgroup_columns: [region]",
        "subgroup_columns: []",
        "subgroup_columns: 'region' removed",
    ),
}


@pytest.mark.parametrize("attack", LOOSENINGS)
def test_a_card_loosening_needs_the_tiers_approvals_and_is_named(
    synthgov: Synthgov, base: Path, attack: str
) -> None:
    old, new, named = LOOSENINGS[attack]
    edit_card(base, old, new)
    commit(base, attack.replace("_", " "))
    data = gate(synthgov, base)
    assert errors(data) == ["policy.card_change"]
    assert loosened(data) == [named]
    blocking = [f for f in data["findings"] if f["rule"] == "policy.card_change"]
    assert {f["threshold_line"] for f in blocking} == {
        samples.POLICY.splitlines().index("  confidential:") + 2
    }  # the base tier's approvals
    assert all(named in f["message"] for f in blocking)
    for name in ("ada", "chen"):  # confidential: a privacy reviewer and a data owner
        approve(synthgov, base, name, "--card", "claims")
    data = gate(synthgov, base)
    assert data["verdict"] == "pass"
    assert loosened(data) == [named]  # an approved loosening stays visible


def test_dropping_subgroup_columns_then_shipping_without_subgroup_metrics_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """The two-step attack: drop the subgroup column in one pull request, then release
    without the subgroup metric; the first step is what needs approval."""
    edit_card(base, "subgroup_columns: [region]", "subgroup_columns: []")
    commit(base, "no subgroups")
    assert errors(gate(synthgov, base)) == ["policy.card_change"]
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--ff-only", "pr")  # merged anyway (a bypassed check)

    code, report = audit(synthgov, base)
    assert code == 1
    assert ("card.unapproved", "policy.card_change") in {
        (f["kind"], f["rule"]) for f in report["findings"]
    }


def test_a_tightening_card_change_needs_approval_too(synthgov: Synthgov, base: Path) -> None:
    """Documented choice: the card is a contract, every change of it is reviewed; only
    loosenings are warned about."""
    edit_card(base, "prohibited_columns: [email]", "prohibited_columns: [email, ssn]")
    commit(base, "one more prohibited column")
    data = gate(synthgov, base)
    assert errors(data) == ["policy.card_change"] and loosened(data) == []
    assert "prohibited_columns extended: + 'ssn'" in data["findings"][0]["message"]


def test_a_comment_only_card_edit_needs_no_approval(synthgov: Synthgov, base: Path) -> None:
    (base / CARD).write_text("# reviewed again in October\n" + (base / CARD).read_text())
    commit(base, "a comment")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_card_approvals_by_the_wrong_tier_do_not_count(synthgov: Synthgov, base: Path) -> None:
    """The tier is the base card's: downgrading to public in the same pull request does
    not make one data owner enough."""
    edit_card(base, "classification: confidential", "classification: public")
    edit_card(base, "prohibited_columns: [email]", "prohibited_columns: []")
    commit(base, "public now, and email may ship")
    approve(synthgov, base, "chen", "--card", "claims")
    data = gate(synthgov, base)
    assert "policy.card_change" in errors(data)
    assert any(
        "privacy-reviewer" in f["message"]
        for f in data["findings"]
        if f["rule"] == "policy.card_change"
    )
    assert "classification confidential -> public" in loosened(data)


def test_a_card_approval_cannot_be_replayed_to_roll_the_card_back(
    synthgov: Synthgov, base: Path
) -> None:
    """main: A -> B approved; a pull request restores A with B's approval files in place."""
    original = (base / CARD).read_text()
    edit_card(base, "retention_days: 365", "retention_days: 30")
    commit(base, "B: keep data 30 days")
    for name in ("ada", "chen"):
        approve(synthgov, base, name, "--card", "claims")
    assert gate(synthgov, base)["verdict"] == "pass"
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--ff-only", "pr")
    git(base, "checkout", "-qb", "rollback")
    (base / CARD).write_text(original)
    commit(base, "back to A")
    data = gate(synthgov, base)
    assert errors(data) == ["policy.card_change"]
    assert "approvals.stale" in {f["rule"] for f in data["findings"]}
    assert loosened(data) == ["retention_days: 30 -> 365"]


def test_a_card_changed_again_after_its_approvals_needs_them_again(
    synthgov: Synthgov, base: Path
) -> None:
    edit_card(base, "retention_days: 365", "retention_days: 180")
    commit(base, "shorter retention")
    for name in ("ada", "chen"):
        approve(synthgov, base, name, "--card", "claims")
    edit_card(base, "prohibited_columns: [email]", "prohibited_columns: []")
    commit(base, "and, after the approvals, email may ship")
    data = gate(synthgov, base)
    assert errors(data) == ["policy.card_change"]
    assert "approvals.stale" in {f["rule"] for f in data["findings"]}


def test_a_second_card_of_a_confidential_source_classified_public_is_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """A new dataset whose card names the confidential claims' source (claims-db) and
    classifies itself public: its release needed one data-owner approval, no privacy
    reviewer, and no DP where the source's tier requires it. The card must classify its
    source's data at least as strictly as the base does."""
    card = samples.CARD.replace("id: claims\n", "id: claims-open\n").replace(
        "classification: confidential", "classification: public"
    )
    write(base, "datasets/claims-open/card.yaml", card)
    folder = "datasets/claims-open/releases/1.0"
    manifest = samples.MANIFEST.replace("dataset: claims\n", "dataset: claims-open\n")
    manifest = manifest.replace('version: "1.10"', 'version: "1.0"').replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: none"
    )
    write(base, f"{folder}/manifest.yaml", manifest)
    report = json.loads(report_json(samples.PASSING, hashlib.sha256(card.encode()).hexdigest()))
    write(base, f"{folder}/report.json", json.dumps({**report, "dataset": "claims-open"}))
    commit(base, "a public card for claims-db's data, and its release")
    chen = PEOPLE["chen"]
    path, text = signing.approval(
        chen, "data-owner", release_digest(base, folder), release="claims-open@1.0"
    )
    write(base, path, text)
    commit(base, "approved by the data owner")
    data = gate(synthgov, base)
    assert errors(data) == ["policy.source_classification"]
    [finding] = [
        f for f in data["releases"][0]["findings"] if f["rule"] == "policy.source_classification"
    ]
    assert finding["message"] == (
        "datasets/claims-open/card.yaml classifies claims-open as public, but its source "
        "claims-db is the source of claims, classified confidential on the base: a card may "
        "not classify its source's data lower, with a lesser tier's approvals and rules"
    )
    assert (finding["observed"], finding["threshold"]) == ("public", "confidential")


def test_a_card_change_inside_a_release_pull_request_needs_its_own_approvals(
    synthgov: Synthgov, base: Path
) -> None:
    edit_card(base, "prohibited_columns: [email]", "prohibited_columns: []")
    add_release(base)  # the release's approvals do not approve the card change
    data = gate(synthgov, base)
    assert data["releases"][0]["verdict"] == "pass"
    assert errors(data) == ["policy.card_change"]


def test_the_card_authors_approval_does_not_count(synthgov: Synthgov, base: Path) -> None:
    import os
    import subprocess

    edit_card(base, "retention_days: 365", "retention_days: 3650")
    git(base, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_EMAIL": PEOPLE["chen"].email}
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-qm", "chen keeps it longer"],
        cwd=base,
        check=True,
        env=env,
    )
    path, text = signing.approval(
        PEOPLE["chen"], "data-owner", _card_digest(base), dataset="claims"
    )
    write(base, path, text)
    approve(synthgov, base, "ada", "--card", "claims")
    commit(base, "chen approves her own change")
    data = gate(synthgov, base)
    assert "policy.card_change" in errors(data)
    assert any(
        "chen is an author of the change to datasets/claims/card.yaml" in f["message"]
        for f in data["findings"]
    )


def _card_digest(repo: Path) -> str:
    old = parse_document(git(repo, "show", f"main:{CARD}").encode(), CARD).data
    new = parse_document((repo / CARD).read_bytes(), CARD).data
    return digests.card_digest("claims", old, new)


# --- approvals bound to their subject and repository -----------------------------------------


def test_an_approval_replayed_from_another_repository_does_not_count(
    synthgov: Synthgov, base: Path
) -> None:
    """The same reviewers' keys are registered in another repository, whose approval of
    an identical release is copied here: it names that repository's id."""
    add_release(base, approved_by=("chen",))
    other = "5f0c2a52-3b1e-4c8e-9a43-0d5e7c1b2a9f"

    path, text = signing.approval(
        PEOPLE["ada"], "privacy-reviewer", release_digest(base), repository=other
    )
    write(base, path, text)
    commit(base, "ada's approval from the other repository")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    [replayed] = [f for f in data["releases"][0]["findings"] if f["rule"] == "approvals.repository"]
    assert f"signed for repository {other}" in replayed["message"]


def test_an_approval_whose_signed_payload_names_no_subject_does_not_count(
    synthgov: Synthgov, base: Path
) -> None:
    """An approval as synthgov wrote them before subjects were signed (the model's
    default `release` is then not in the payload)."""
    add_release(base, approved_by=("chen",))

    path = f"{RELEASE}/approvals/privacy-reviewer--ada.yaml"
    text = (
        f"schema_version: 1\nrepository: {signing.REPOSITORY}\nrelease: claims@1.10\n"
        f"reviewer: ada\nrole: privacy-reviewer\ndecision: approve\n"
        f"digest: {release_digest(base)}\nsigned_at: '2025-06-01T10:00:00Z'\n"
    )
    payload = canonical.signed_payload(parse_document(text.encode(), path).data)
    armored = PEOPLE["ada"].sign(payload)
    signature = "".join(f"    {line}\n" for line in armored.strip().splitlines())
    write(base, path, text + f"signature:\n  format: sshsig\n  armored: |\n{signature}")
    commit(base, "an approval without its type")
    found = gate(synthgov, base)
    assert found["verdict"] == "blocked"
    assert "approvals.type" in {f["rule"] for f in found["releases"][0]["findings"]}


def test_a_policy_without_a_repository_id_is_warned_about(synthgov: Synthgov, repo: Path) -> None:
    policy = samples.POLICY.replace(f"repository: {signing.REPOSITORY}\n", "")
    write(repo, "policy/policy.yaml", policy)
    write(repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered()))
    write(repo, CARD, samples.CARD)
    write(repo, ledgers.PATH, ledgers.empty())
    commit(repo, "base, from before repository ids")
    git(repo, "checkout", "-qb", "pr")
    add_release(repo)
    data = gate(synthgov, repo)
    assert data["verdict"] == "pass"
    assert "policy.repository_missing" in {f["rule"] for f in data["findings"]}


def test_audit_reports_a_ledger_created_without_the_budget_approvals(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, "budgets/other.yaml", ledgers.empty("pure", "{epsilon: 100}", source="other"))
    commit(base, "a new ledger, pushed past the gate")
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--ff-only", "pr")

    code, report = audit(synthgov, base)
    assert code == 1
    assert (sha(base), "budget.unapproved") in {
        (f["commit"], f["kind"]) for f in report["findings"]
    }


# --- waivers ---------------------------------------------------------------------------------


def _waived_release(repo: Path, policy: str | None = None, **edits: str) -> str:
    """main (with `policy`, if given): a release failing fidelity.detection_auc at 0.82 on
    the pull request branch, a waiver of it, and the waiver's approval by bo."""

    if policy is not None:
        git(repo, "checkout", "-q", "main")
        write(repo, "policy/policy.yaml", policy)
        commit(repo, "base policy")
        git(repo, "checkout", "-q", "pr")
        git(repo, "rebase", "-q", "main")
    add_release(repo, with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82]))
    waiver = (
        samples.WAIVER.replace("relax_to: 0.8", "relax_to: 0.85")
        .replace('"2026-10-02T00:00:00Z"', '"2027-01-15T00:00:00Z"')
        .replace('"2026-09-02T00:00:00Z"', '"2026-11-01T00:00:00Z"')
    )
    for old, new in edits.items():
        waiver = waiver.replace(old, new)
    write(repo, f"{RELEASE}/waivers/WVR-2026-007.yaml", waiver)
    doc = parse_document(waiver.encode(), "w.yaml")
    path, text = signing.approval(
        PEOPLE["bo"],
        "privacy-reviewer",
        digests.waiver_digest("claims@1.10", doc.data),
        waiver="WVR-2026-007",
    )
    write(repo, path, text)
    commit(repo, "a waiver, approved by bo")
    return waiver


def test_a_waiver_within_the_policy_bound_owned_by_a_reviewer_applies(
    synthgov: Synthgov, base: Path
) -> None:
    _waived_release(base)
    assert gate(synthgov, base)["verdict"] == "pass"


def test_a_waiver_owned_by_someone_outside_the_base_registry_is_refused(
    synthgov: Synthgov, base: Path
) -> None:
    """Mallory registers herself in the same pull request and owns the exception."""
    (base / "policy/reviewers.yaml").write_text(
        signing.registry_yaml(*signing.registered(), PEOPLE["mallory"])
    )
    _waived_release(base, **{"owner: ada": "owner: mallory"})
    data = gate(synthgov, base)
    [release] = data["releases"]
    rules = {f["rule"] for f in release["findings"] if f["severity"] == "error"}
    assert rules == {"waivers.owner", "fidelity.detection_auc"}
    [owner] = [f for f in release["findings"] if f["rule"] == "waivers.owner"]
    assert "mallory is not a reviewer of the base registry" in owner["message"]
    assert owner["file"].endswith("waivers/WVR-2026-007.yaml") and owner["line"] > 1


def test_a_waiver_relaxing_beyond_the_policy_bound_is_refused(
    synthgov: Synthgov, base: Path
) -> None:
    """relax_to 0.99 would switch the detection rule off; the policy allows up to 0.9."""
    _waived_release(base, **{"relax_to: 0.85": "relax_to: 0.99"})
    data = gate(synthgov, base)
    [invalid] = [f for f in data["releases"][0]["findings"] if f["rule"] == "waivers.invalid"]
    assert (
        "relax_to: 0.99 goes beyond the policy's bound for fidelity.detection_auc (<= 0.9"
        in (invalid["message"])
    )
    assert data["verdict"] == "blocked"


def test_a_waiver_of_a_rule_the_policy_gives_no_bound_is_refused(
    synthgov: Synthgov, base: Path
) -> None:
    policy = samples.POLICY.replace("    fidelity.detection_auc: 0.9\n", "")
    assert policy != samples.POLICY
    _waived_release(base, policy)
    data = gate(synthgov, base)
    [invalid] = [f for f in data["releases"][0]["findings"] if f["rule"] == "waivers.invalid"]
    assert "sets no waivers.max_relax bound for fidelity.detection_auc" in invalid["message"]
    assert data["verdict"] == "blocked"


# --- what a card change loosens (pure) -------------------------------------------------------

CARD_EDITS = {
    "nullable": (
        "{name: age, type: integer, min: 18, max: 99}",
        "{name: age, type: integer, min: 18, max: 99, nullable: true}",
        [("column 'age': nullable false -> true", True)],
    ),
    "range": (
        "{name: age, type: integer, min: 18, max: 99}",
        "{name: age, type: integer, min: 0, max: 99}",
        [("column 'age': min 18 -> 0", True)],
    ),
    "narrower range": (
        "{name: age, type: integer, min: 18, max: 99}",
        "{name: age, type: integer, min: 21, max: 99}",
        [("column 'age': min 18 -> 21", False)],
    ),
    "category": (
        "allowed_values: [north, south]",
        "allowed_values: [north, south, west]",
        [("column 'region': allowed_values + 'west'", True)],
    ),
    "constraint": (
        'rule: "amount >= 0"',
        'rule: "amount >= -100"',
        [("constraints: 'positive-amount' rule 'amount >= 0' -> 'amount >= -100'", True)],
    ),
    "override relaxed": (
        "fidelity.detection_auc: {threshold: 0.7}",
        "fidelity.detection_auc: {threshold: 0.75}",
        [("override fidelity.detection_auc changed (threshold 0.7 -> threshold 0.75)", True)],
    ),
    "override tightened": (
        "fidelity.detection_auc: {threshold: 0.7}",
        "fidelity.detection_auc: {threshold: 0.65}",
        [("override fidelity.detection_auc changed (threshold 0.7 -> threshold 0.65)", False)],
    ),
    "retention": (
        "retention_days: 365",
        "retention_days: 3650",
        [("retention_days: 365 -> 3650", True)],
    ),
    "column order": (
        "  - {name: age, type: integer, min: 18, max: 99}\n  - {name: region, type: categorical, allowed_values: [north, south]}\n",
        "  - {name: region, type: categorical, allowed_values: [north, south]}\n  - {name: age, type: integer, min: 18, max: 99}\n",
        [("columns: order changed", False)],
    ),
    "owner": (
        "owner: claims-team@example.org",
        "owner: someone-else@example.org",
        [("owner changed", False)],
    ),
}


@pytest.mark.parametrize("edit", CARD_EDITS)
def test_every_card_change_is_named_and_loosenings_are_marked(edit: str) -> None:
    from synthgov.files.loading import validate
    from synthgov.gates.changes import card_changes
    from synthgov.models import Card, Policy

    old_text, new_text, expected = CARD_EDITS[edit]
    assert old_text in samples.CARD
    cards = [
        validate(parse_document(text.encode(), CARD), Card)
        for text in (samples.CARD, samples.CARD.replace(old_text, new_text))
    ]
    policy = validate(parse_document(samples.POLICY.encode(), "policy/policy.yaml"), Policy)
    old, new = cards
    found = [(c.text, c.loosens) for c in card_changes(old, new, policy)]
    assert found == expected
