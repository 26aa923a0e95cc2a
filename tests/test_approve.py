"""`synthgov approve`: writes a signed approval, commits it signed, refuses what would not count."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from synthgov.files.loading import parse_document
from synthgov.signing import canonical
from tests.helpers import samples, signing
from tests.helpers.cli import Result, Synthgov, as_json, check
from tests.helpers.git import commit, git
from tests.helpers.repos import add_release, write
from tests.helpers.samples import RELEASE

PEOPLE = signing.people()


def approve(synthgov: Synthgov, repo: Path, name: str, *args: str) -> Result:
    person = PEOPLE[name]
    return synthgov(
        "approve",
        "claims@1.10",
        "--role",
        person.roles[0],
        "--key",
        str(person.key),
        *args,
        cwd=repo,
    )


def test_approve_writes_a_signed_file_and_a_signed_commit_and_check_passes(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    for name in ("ada", "chen"):
        result = approve(synthgov, base, name, "--comment", "metrics reviewed")
        assert result.code == 0, result.err
        assert f"approved claims@1.10 as {PEOPLE[name].roles[0]} ({name}" in result.err
    path = base / RELEASE / "approvals/privacy-reviewer--ada.yaml"
    data = parse_document(path.read_bytes(), "a.yaml").data
    assert data["reviewer"] == "ada" and data["signature"]["format"] == "sshsig"
    assert data["comment"] == "metrics reviewed"
    assert git(base, "status", "--porcelain") == ""
    from synthgov.git.history import Repository
    from synthgov.models import Registry
    from synthgov.signing.signatures import Verifier

    registry = Registry.model_validate(
        parse_document((base / "policy/reviewers.yaml").read_bytes(), "r.yaml").data
    )
    with Repository.open(base) as repo, Verifier(registry, datetime.now(UTC)) as verifier:
        signers = [verifier.commit(repo.commit_object(f"HEAD~{n}")).reviewer for n in (0, 1)]
    assert signers == ["chen", "ada"]  # each approval commit signed by its reviewer
    assert check(synthgov, base).code == 0


def test_approve_refuses_an_unregistered_key_and_writes_nothing(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    result = approve(synthgov, base, "mallory")
    assert result.code == 1
    assert "is not in the base registry" in result.err and "nothing was written" in result.err
    assert not (base / RELEASE / "approvals").exists()


def test_a_public_key_given_as_key_says_to_pass_the_private_one(
    synthgov: Synthgov, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_release(base, approved_by=())
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # no agent holds the private half
    public = f"{PEOPLE['ada'].key}.pub"
    result = synthgov(
        "approve", "claims@1.10", "--role", "privacy-reviewer", "--key", public, cwd=base
    )
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith(f"--key: cannot sign with the public key {public}"), line
    assert line.endswith(
        "pass the private key (the same path without .pub), or add it to ssh-agent"
    )
    assert not (base / RELEASE / "approvals").exists()


def test_approve_refuses_a_role_not_held(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=())
    person = PEOPLE["chen"]
    result = synthgov(
        "approve", "claims@1.10", "--role", "privacy-reviewer", "--key", str(person.key), cwd=base
    )
    assert result.code == 1 and "does not hold the role privacy-reviewer" in result.err


def test_a_refused_reviewer_is_refused_before_the_approval_is_built_or_signed(
    synthgov: Synthgov, base: Path
) -> None:
    """The role check comes first: an overlong comment (refused when the approval is
    built) and a key that cannot sign (refused when signing) never mask the refusal, and
    the reviewer is never asked to sign what would not count."""
    add_release(base, approved_by=())
    person = PEOPLE["chen"]
    result = synthgov(
        "approve",
        "claims@1.10",
        "--role",
        "privacy-reviewer",
        "--key",
        str(person.key),
        "--comment",
        "x" * 10_001,
        cwd=base,
    )
    assert result.code == 1, result.err
    assert "does not hold the role privacy-reviewer in the base registry (holds: " in result.err
    assert not (base / RELEASE / "approvals").exists()


def test_approve_refuses_self_approval(synthgov: Synthgov, base: Path) -> None:

    add_release(
        base,
        manifest=samples.MANIFEST.replace("author@example.org", "ada@example.org"),
        approved_by=(),
    )
    result = approve(synthgov, base, "ada")
    assert result.code == 1 and "ada is an author of claims@1.10" in result.err


def test_approve_never_overwrites_without_replace(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=())
    assert approve(synthgov, base, "ada").code == 0
    again = approve(synthgov, base, "ada", "--decision", "reject")
    assert again.code == 2 and "--replace" in again.err
    replaced = approve(synthgov, base, "ada", "--decision", "reject", "--replace")
    assert replaced.code == 0, replaced.err
    assert check(synthgov, base).code == 1


def test_approve_binds_the_committed_release_not_the_working_tree(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=("chen",))
    report = base / RELEASE / "report.json"
    report.write_text(report.read_text().replace('"seed": 0', '"seed": 5'))  # uncommitted
    assert approve(synthgov, base, "ada", "--no-commit").code == 0
    git(base, "checkout", "--", str(report.relative_to(base)))
    commit(base, "ada's approval, committed by hand")
    assert check(synthgov, base).code == 0


def test_approve_bad_usage_is_exit_2(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=())
    assert synthgov("approve", "claims", "--role", "x", cwd=base).code == 2
    assert synthgov("approve", "--role", "x", cwd=base).code == 2
    missing = synthgov(
        "approve",
        "claims@9.9",
        "--role",
        "privacy-reviewer",
        "--key",
        str(PEOPLE["ada"].key),
        cwd=base,
    )
    assert missing.code == 2 and "not committed at HEAD" in missing.err


@pytest.fixture
def gpg_reviewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A reviewer's own gpg home with an ed25519 key; returns (fingerprint, armoured public key)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))

    def gpg(*args: str) -> str:
        return subprocess.run(
            ["gpg", "--batch", "--passphrase", "", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    gpg("--quick-gen-key", "Gus <gus@example.org>", "ed25519", "sign", "never")
    fpr = next(
        line.split(":")[9]
        for line in gpg("--with-colons", "--list-keys").splitlines()
        if line.startswith("fpr:")
    )
    yield fpr, gpg("--armor", "--export", fpr)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_openpgp_happy_path(synthgov: Synthgov, base: Path, gpg_reviewer: tuple[str, str]) -> None:
    fpr, public = gpg_reviewer
    git(base, "checkout", "-q", "main")
    block = "\n".join("        " + line if line else "" for line in public.strip().splitlines())
    registry = signing.registry_yaml(*signing.registered()) + (
        "  - id: gus\n    name: Gus\n    email: gus@example.org\n    roles:\n    - privacy-reviewer\n"
        f"    keys:\n    - type: openpgp\n      public_key: |\n{block}\n      fingerprint: {fpr}\n"
    )
    write(base, "policy/reviewers.yaml", registry)
    commit(base, "register gus")
    git(base, "checkout", "-q", "pr")
    git(base, "rebase", "-q", "main")
    add_release(base, approved_by=("chen",))
    git(base, "config", "user.signingkey", fpr)
    result = synthgov("approve", "claims@1.10", "--role", "privacy-reviewer", cwd=base)
    assert result.code == 0, result.err
    text = (base / RELEASE / "approvals/privacy-reviewer--gus.yaml").read_text()
    assert "format: openpgp" in text and "BEGIN PGP SIGNATURE" in text
    assert check(synthgov, base).code == 0


def test_status_shows_present_and_missing_approvals(synthgov: Synthgov, base: Path) -> None:
    add_release(base, approved_by=("ada",))
    result = synthgov("status", "--format", "json", cwd=base)
    assert result.code == 0, result.err
    [release] = json.loads(result.out)["releases"]
    assert release["release"] == "claims@1.10" and release["verdict"] == "blocked"
    assert release["approvals"]["privacy-reviewer"] == {
        "required": 1,
        "present": ["ada"],
        "missing": 0,
    }
    assert release["approvals"]["data-owner"]["missing"] == 1
    text = synthgov("status", "claims", cwd=base).out
    assert "claims@1.10: pending" in text and "data-owner: 0/1 (none); needs 1 more" in text
    assert approve(synthgov, base, "chen").code == 0
    assert "claims@1.10: approved" in synthgov("status", cwd=base).out


def test_approve_policy_by_two_admins_unblocks_a_policy_change(
    synthgov: Synthgov, base: Path
) -> None:
    policy = base / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), margin=0.04))
    commit(base, "tighten MIA")
    assert check(synthgov, base).code == 1
    for name in ("dana", "eli"):
        person = PEOPLE[name]
        result = synthgov(
            "approve", "--policy", "--role", "policy-admin", "--key", str(person.key), cwd=base
        )
        assert result.code == 0, result.err
    assert (base / "policy/approvals/policy-admin--eli.yaml").is_file()
    result = check(synthgov, base, "--format", "json")
    assert result.code == 0, result.out
    assert "policy.change" not in {f["rule"] for f in as_json(result)["findings"]}


def test_approve_signs_the_subject_and_the_repository_id(synthgov: Synthgov, base: Path) -> None:

    add_release(base, approved_by=())
    assert approve(synthgov, base, "ada").code == 0
    data = parse_document(
        (base / RELEASE / "approvals/privacy-reviewer--ada.yaml").read_bytes(), "a.yaml"
    ).data
    assert (data["subject"], data["repository"]) == ("release", signing.REPOSITORY)
    payload = json.loads(canonical.signed_payload(data))
    assert payload["subject"] == "release" and payload["repository"] == signing.REPOSITORY


def test_approve_card_and_budget_write_where_check_reads(synthgov: Synthgov, base: Path) -> None:
    card = base / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("source: {id: claims-db,", "source: {id: other,"))
    write(
        base,
        "budgets/other.yaml",
        (base / "budgets/claims-db.yaml").read_text().replace("source: claims-db", "source: other"),
    )
    commit(base, "claims moves to the source other")
    for name, what in (
        ("ada", ("--card", "claims")),
        ("chen", ("--card", "claims")),
        ("ada", ("--budget",)),
        ("dana", ("--budget",)),
    ):
        person = PEOPLE[name]
        done = synthgov(
            "approve", *what, "--role", person.roles[0], "--key", str(person.key), cwd=base
        )
        assert done.code == 0, done.err
    assert (base / "datasets/claims/approvals/data-owner--chen.yaml").is_file()
    budget = parse_document(
        (base / "budgets/approvals/policy-admin--dana.yaml").read_bytes(), "b.yaml"
    ).data
    assert budget["subject"] == "budget" and "release" not in budget
    assert check(synthgov, base).code == 0


def test_approve_card_or_budget_without_such_a_change_is_exit_2(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base)
    key = str(PEOPLE["ada"].key)
    card = synthgov(
        "approve", "--card", "claims", "--role", "privacy-reviewer", "--key", key, cwd=base
    )
    assert card.code == 2 and "is not changed on this branch" in card.err
    budget = synthgov("approve", "--budget", "--role", "privacy-reviewer", "--key", key, cwd=base)
    assert budget.code == 2 and "creates no ledger" in budget.err
    both = synthgov("approve", "--budget", "--policy", "--role", "policy-admin", cwd=base)
    assert both.code == 2 and "cannot be combined" in both.err
    assert git(base, "status", "--porcelain") == ""
