"""The approvals gate on real git repositories with real ssh-keygen signatures.

Tests are named after the attacks of research/signing.md §11 they defend against; each
asserts the verdict and the finding that names why an approval did not count.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov, as_json, check, gate, messages
from tests.helpers.git import commit, git, signed_commit
from tests.helpers.repos import add_release, approve, put_approval, release_digest, write
from tests.helpers.samples import RELEASE, with_metric

PEOPLE = signing.people()


def findings(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["rule"], f["severity"]) for r in data["releases"] for f in r["findings"]]


def edit_report(repo: Path, seed: int) -> None:
    """Change the release after its approvals: another report, uncommitted."""
    report = repo / RELEASE / "report.json"
    data = json.loads(report.read_text())
    data["seconds"] = {**data.get("seconds", {}), "edited": float(seed)}
    report.write_text(json.dumps(data, indent=2))


def test_a_release_without_approvals_is_blocked_naming_the_roles_and_the_policy_line(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    data = gate(synthgov, base)
    missing = [f for f in data["releases"][0]["findings"] if f["rule"] == "approvals.missing"]
    assert {(f["observed"], f["threshold"]) for f in missing} == {(0, 1)}
    assert {f["threshold_file"] for f in missing} == {"policy/policy.yaml"}
    assert "data-owner" in messages(data) and "privacy-reviewer" in messages(data)
    assert "synthgov approve claims@1.10 --role" in missing[0]["fix"]


def test_allow_missing_approvals_warns_for_the_pre_push_hook(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    data = gate(synthgov, base, "--allow-missing-approvals")
    assert data["verdict"] == "pass"
    assert ("approvals.missing", "warning") in findings(data)


def test_unsigned_approval_file_does_not_count(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada")
    text = (base / path).read_text()
    start = text.index("  armored:")
    write(base, path, text[:start] + "  armored: not a signature\n")
    commit(base, "forged approval")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.signature", "warning") in findings(data)


def test_unregistered_key(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    put_approval(base, "mallory")
    commit(base, "approval by an unregistered reviewer")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "is not in the base registry" in messages(data)


def test_key_added_by_the_pr_itself(synthgov: Synthgov, base: Path) -> None:
    registry = base / "policy/reviewers.yaml"
    registry.write_text(signing.registry_yaml(*signing.registered(), PEOPLE["mallory"]))
    add_release(base, approved_by=("chen",))
    put_approval(base, "mallory")
    commit(base, "mallory registers herself and approves")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "is not in the base registry" in messages(data)
    assert ("policy.change", "error") in [(f["rule"], f["severity"]) for f in data["findings"]]


def _base_registry(repo: Path, **extra: str) -> None:
    git(repo, "checkout", "-q", "main")
    (repo / "policy/reviewers.yaml").write_text(
        signing.registry_yaml(*signing.registered(), extra=extra)
    )
    commit(repo, "registry change on main")
    git(repo, "checkout", "-q", "pr")
    git(repo, "rebase", "-q", "main")


def test_revoked_key(synthgov: Synthgov, base: Path) -> None:
    _base_registry(base, ada='revoked_at: "2026-01-01T00:00:00Z"\nrevocation_reason: laptop stolen')
    add_release(base)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "was revoked at 2026-01-01T00:00:00Z (laptop stolen)" in messages(data)


def test_expired_key_with_back_dated_commit(synthgov: Synthgov, base: Path) -> None:
    _base_registry(base, ada='valid_before: "2026-01-01T00:00:00Z"')

    early = samples.MANIFEST.replace("2026-09-02T10:00:00Z", "2025-05-01T10:00:00Z")
    add_release(base, manifest=early, approved_by=("chen",))  # made while the key was valid
    put_approval(base, "ada")
    dated = {
        "GIT_COMMITTER_DATE": "2025-06-01T00:00:00Z",
        "GIT_AUTHOR_DATE": "2025-06-01T00:00:00Z",
    }
    signed_commit(base, PEOPLE["ada"], "approve, back-dated", **dated)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "expired at 2026-01-01T00:00:00Z" in messages(data)
    # Replaying the check at a time the key was valid passes: validity is the checker's clock.
    assert gate(synthgov, base, "--at", "2025-12-01T00:00:00Z")["verdict"] == "pass"


def test_wrong_role(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("ada",))
    put_approval(base, "chen", "privacy-reviewer")  # chen is a data owner only
    commit(base, "approval in a role chen does not hold")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.role", "warning") in findings(data)


def test_self_approval_by_the_manifest_author(synthgov: Synthgov, base: Path) -> None:

    manifest = samples.MANIFEST.replace("author@example.org", PEOPLE["ada"].email)
    add_release(base, manifest=manifest)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10" in messages(data)


def test_self_approval_by_a_commit_author(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    edit_report(base, seed=1)
    git(base, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_EMAIL": PEOPLE["chen"].email}
    subprocess.run(
        ["git", "commit", "-qm", "chen edits the release"], cwd=base, check=True, env=env
    )
    approve(base, "ada", "chen")  # re-approve the edited release
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "chen is an author of claims@1.10" in messages(data)


def test_digest_after_report_edit(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    edit_report(base, seed=1)
    commit(base, "edit the report after approval")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert {r for r, _ in findings(data)} >= {"approvals.stale", "approvals.missing"}


def test_signature_over_another_payload(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada", decision="reject")
    (base / path).write_text(
        (base / path).read_text().replace("decision: reject", "decision: approve")
    )
    commit(base, "turn a reject into an approve")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.signature", "warning") in findings(data)


def test_wrong_namespace(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    put_approval(base, "ada", namespace="git")
    commit(base, "a git-namespace signature as approval")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "namespace" in messages(data)


def test_replayed_approval_from_another_release(synthgov: Synthgov, base: Path) -> None:
    add_release(base)
    other = RELEASE.replace("1.10", "1.11")
    for name in ("manifest.yaml", "report.json"):
        text = (base / RELEASE / name).read_text().replace('version: "1.10"', 'version: "1.11"')
        write(base, f"{other}/{name}", text)
    for name in ("privacy-reviewer--ada.yaml", "data-owner--chen.yaml"):
        text = (base / RELEASE / "approvals" / name).read_text()
        write(base, f"{other}/approvals/{name}", text.replace("claims@1.10", "claims@1.11"))
    commit(base, "claims@1.11 with approvals copied from 1.10")
    data = gate(synthgov, base)
    replayed = next(r for r in data["releases"] if r["release"] == "claims@1.11")
    assert replayed["verdict"] == "blocked"
    rules = {f["rule"] for f in replayed["findings"]}
    assert {"approvals.signature", "approvals.missing"} <= rules


def test_duplicate_approvals_counted_twice(synthgov: Synthgov, base: Path, tmp_path: Path) -> None:
    fay = signing.make_person(tmp_path, "fay", "privacy-reviewer", "data-owner")
    git(base, "checkout", "-q", "main")
    (base / "policy/reviewers.yaml").write_text(signing.registry_yaml(*signing.registered(), fay))
    commit(base, "fay holds two roles")
    git(base, "checkout", "-q", "pr")
    git(base, "rebase", "-q", "main")
    add_release(base, approved_by=())
    put_approval(base, "fay", "privacy-reviewer", person=fay)
    put_approval(base, "fay", "data-owner", person=fay)
    commit(base, "one person, two roles")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    [missing] = [f for f in data["releases"][0]["findings"] if f["rule"] == "approvals.missing"]
    assert missing["observed"] == 0 and "(fay)" not in missing["message"]
    put_approval(base, "chen")
    commit(base, "a second person")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_a_valid_reject_blocks_until_replaced(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    put_approval(base, "ada", decision="reject")
    put_approval(base, "bo")
    commit(base, "ada rejects, bo approves")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.rejected", "error") in findings(data)


def test_a_commit_carrier_alone_suffices(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada", signer=PEOPLE["bo"])  # embedded signature: wrong key
    signed_commit(base, PEOPLE["ada"], "ada approves by a signed commit")
    data = gate(synthgov, base)
    assert data["verdict"] == "pass", messages(data)
    # The same commit, malleated with an extra gpgsig-sha256 header (git still says Good).
    raw = git(base, "cat-file", "commit", "HEAD")
    header_end = raw.index("\ngpgsig ")
    forged = raw[:header_end] + "\ngpgsig-sha256 junk" + raw[header_end:]
    sha = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
        cwd=base,
        input=forged,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(base, "reset", "-q", "--hard", sha)
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert path.endswith("privacy-reviewer--ada.yaml")


def test_unsigned_squash_merge_with_a_valid_embedded_signature_passes(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--squash", "pr")
    git(base, "-c", "commit.gpgsign=false", "commit", "-qm", "Squashed release (#12)")
    result = synthgov("check", "--base", "main~1", "--format", "json", cwd=base)
    assert result.code == 0, result.out
    assert as_json(result)["releases"][0]["release"] == "claims@1.10"


def test_a_waiver_applies_only_with_its_approvals(synthgov: Synthgov, base: Path) -> None:

    metrics = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    add_release(base, metrics)
    waiver = (
        samples.WAIVER.replace("relax_to: 0.8", "relax_to: 0.85")
        .replace('"2026-10-02T00:00:00Z"', '"2027-01-15T00:00:00Z"')
        .replace('"2026-09-02T00:00:00Z"', '"2026-11-01T00:00:00Z"')
    )
    write(base, f"{RELEASE}/waivers/WVR-2026-007.yaml", waiver)
    commit(base, "waiver")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "approvals.waiver_unapproved" in {r for r, _ in findings(data)}
    from synthgov.decision import digests
    from synthgov.files.loading import parse_document

    doc = parse_document(waiver.encode(), "w.yaml")
    put_approval(
        base, "bo", digest=digests.waiver_digest("claims@1.10", doc.data), waiver="WVR-2026-007"
    )
    commit(base, "bo approves the waiver")
    data = gate(synthgov, base)
    assert data["verdict"] == "pass", messages(data)


@pytest.mark.parametrize("admins", [("dana",), ("dana", "eli")])
def test_a_policy_change_needs_its_admin_approvals(
    synthgov: Synthgov, base: Path, admins: tuple[str, ...]
) -> None:
    policy = base / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), margin=0.04))
    commit(base, "tighten MIA")
    for name in admins:
        key = str(PEOPLE[name].key)
        done = synthgov("approve", "--policy", "--role", "policy-admin", "--key", key, cwd=base)
        assert done.code == 0, done.err
    result = check(synthgov, base, "--format", "json")
    assert result.code in (0, 1), result.err
    rules = [f["rule"] for f in as_json(result)["findings"]]
    assert ("policy.change" in rules) == (len(admins) < 2)
    assert result.code == (1 if len(admins) < 2 else 0)


def test_deleting_the_policy_or_the_registry_blocks(synthgov: Synthgov, base: Path) -> None:
    (base / "policy/reviewers.yaml").unlink()
    commit(base, "drop the registry")
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    assert ("files.deleted", "policy/reviewers.yaml") in [
        (f["rule"], f["file"]) for f in as_json(result)["findings"]
    ]


def test_policy_approvals_cannot_be_replayed_to_roll_back(synthgov: Synthgov, base: Path) -> None:
    """main: S0 -> S1 with admin approvals; a pull request restores S0 with S0's old approvals."""
    git(base, "checkout", "-q", "main")
    git(base, "checkout", "-qb", "tighten")
    policy = base / "policy/policy.yaml"
    loose = policy.read_text()
    policy.write_text(samples.with_mia_rule(loose, margin=0.04))
    commit(base, "S1: tighten MIA")
    for name in ("dana", "eli"):
        key = str(PEOPLE[name].key)
        assert (
            synthgov("approve", "--policy", "--role", "policy-admin", "--key", key, cwd=base).code
            == 0
        )
    assert check(synthgov, base).code == 0
    git(base, "checkout", "-q", "main")
    git(base, "merge", "-q", "--ff-only", "tighten")
    git(base, "checkout", "-qb", "rollback")
    policy.write_text(loose)  # back to S0; S1's approval files are still in place
    commit(base, "restore the loose policy")
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    assert "policy.change" in [f["rule"] for f in as_json(result)["findings"]]
    assert "approvals.stale" in [f["rule"] for f in as_json(result)["findings"]]


def test_a_deleted_reject_still_blocks(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada", decision="reject")
    commit(base, "ada rejects")
    (base / path).unlink()
    put_approval(base, "bo")
    commit(base, "the author deletes the reject and finds another reviewer")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "removing or overwriting the file does not withdraw it" in messages(data)


def test_a_reject_overwritten_with_an_older_approve_still_blocks(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada")
    old_approve = (base / path).read_text()
    later = signing.approval(
        PEOPLE["ada"],
        "privacy-reviewer",
        release_digest(base),
        decision="reject",
        signed_at="2025-07-01T00:00:00Z",
    )[1]
    write(base, path, later)
    commit(base, "ada rejects")
    write(base, path, old_approve)
    commit(base, "the author restores ada's earlier approve")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.rejected", "error") in findings(data)


def test_a_reject_superseded_by_the_reviewers_later_approve_passes(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=("chen",))
    path = put_approval(base, "ada", decision="reject")
    commit(base, "ada rejects")
    later = signing.approval(
        PEOPLE["ada"], "privacy-reviewer", release_digest(base), signed_at="2025-08-01T00:00:00Z"
    )[1]
    write(base, path, later)
    commit(base, "ada changes her mind")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_a_classification_downgrade_alone_needs_admin_approvals(
    synthgov: Synthgov, base: Path
) -> None:
    card = base / "datasets/claims/card.yaml"
    card.write_text(
        card.read_text().replace("classification: confidential", "classification: public")
    )
    commit(base, "downgrade claims to public")
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1
    assert "policy.change" in [f["rule"] for f in as_json(result)["findings"]]
    for name in ("dana", "eli"):
        key = str(PEOPLE[name].key)
        assert (
            synthgov("approve", "--policy", "--role", "policy-admin", "--key", key, cwd=base).code
            == 0
        )
    # The card is changed too: its (base) tier's reviewers approve that change as well.
    result = check(synthgov, base, "--format", "json")
    assert [f["rule"] for f in as_json(result)["findings"] if f["severity"] == "error"] == [
        "policy.card_change",
        "policy.card_change",
    ]
    for name in ("ada", "chen"):
        person = PEOPLE[name]
        done = synthgov(
            "approve",
            "--card",
            "claims",
            "--role",
            person.roles[0],
            "--key",
            str(person.key),
            cwd=base,
        )
        assert done.code == 0, done.err
    assert check(synthgov, base).code == 0


def test_an_evil_merge_makes_its_author_an_author(synthgov: Synthgov, base: Path) -> None:
    git(base, "checkout", "-qb", "side")
    write(base, "datasets/claims/README.md", "notes\n")
    commit(base, "side work")
    git(base, "checkout", "-q", "pr")
    git(base, "merge", "-q", "--no-ff", "--no-commit", "side")
    add_release(base, approved_by=())  # commits the merge, with the release inside it
    git(base, "commit", "-q", "--amend", "--no-edit", f"--author=Ada <{PEOPLE['ada'].email}>")
    approve(base, "ada", "chen")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10" in messages(data)


def test_a_key_that_signed_a_release_commit_marks_its_owner_even_when_expired(
    synthgov: Synthgov, base: Path
) -> None:
    _base_registry(base, ada='valid_before: "2026-01-01T00:00:00Z"')
    add_release(base, approved_by=())
    edit_report(base, seed=2)
    git(base, "add", "-A")
    subprocess.run(
        [
            "git",
            "-c",
            "gpg.format=ssh",
            "-c",
            f"user.signingkey={PEOPLE['ada'].key}",
            "commit",
            "-S",
            "-qm",
            "edit under another email",
        ],
        cwd=base,
        check=True,
    )
    approve(base, "ada", "chen")
    data = gate(synthgov, base, "--at", "2025-12-01T00:00:00Z")
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10" in messages(data)


def test_a_commit_the_reviewer_only_re_signed_is_no_carrier(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("chen",))
    put_approval(base, "ada", signer=PEOPLE["bo"])  # forged: the embedded signature is bo's
    git(base, "add", "-A")
    subprocess.run(
        [
            "git",
            "-c",
            "gpg.format=ssh",
            "-c",
            f"user.signingkey={PEOPLE['ada'].key}",
            "commit",
            "-S",
            "-qm",
            "cherry-picked and re-signed by ada",
        ],
        cwd=base,
        check=True,
    )  # authored by the release author, signed by ada
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert ("approvals.signature", "warning") in findings(data)


def test_a_gitkeep_under_policy_approvals_is_fine(synthgov: Synthgov, base: Path) -> None:
    write(base, "policy/approvals/.gitkeep", "")
    policy = base / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), margin=0.04))
    commit(base, "tighten, with a placeholder file")
    result = check(synthgov, base, "--format", "json")
    assert result.code == 1, result.err
    assert "policy.change" in [f["rule"] for f in as_json(result)["findings"]]
