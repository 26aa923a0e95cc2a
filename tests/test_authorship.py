"""Who wrote a release, against self-approval by identity (issue 15, attack 4).

On real git repositories with real ssh-keygen keys: a reviewer who writes a release under
another address, opens the pull request under her login, or has someone else's commit
move or copy her files into place, cannot approve it; a tier may require every commit
that writes a release to be signed by a registered key.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import samples, signing
from tests.helpers.cli import Synthgov, gate, messages
from tests.helpers.git import commit, git, signed_commit
from tests.helpers.repos import add_release, approve, on_main, put_approval, write
from tests.helpers.samples import RELEASE

PEOPLE = signing.people()
ADA = PEOPLE["ada"]


def registry_with(**lines: str) -> str:
    """The test registry, with YAML lines added after a reviewer's `email:`."""
    text = signing.registry_yaml(*signing.registered())
    for person, extra in lines.items():
        email = f"    email: {PEOPLE[person].email}\n"
        text = text.replace(email, email + "".join(f"    {line}\n" for line in extra.splitlines()))
    return text


def commit_as(repo: Path, email: str, message: str) -> None:
    """An unsigned commit whose author and committer claim `email`."""
    git(repo, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_EMAIL": email}
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-qm", message],
        cwd=repo,
        check=True,
        env=env,
    )


def release_as(repo: Path, email: str) -> None:
    """claims@1.10 written and committed under `email`, then approved by ada and chen."""
    add_release(repo, approved_by=())
    git(repo, "reset", "-q", "--soft", "HEAD~1")
    commit_as(repo, email, "release claims@1.10")
    approve(repo, "ada", "chen")


def test_self_approval_under_an_alias_address_does_not_count(
    synthgov: Synthgov, base: Path
) -> None:
    release_as(base, "ada.lindqvist@home.example")
    assert gate(synthgov, base)["verdict"] == "pass"  # the alias is nobody's: the attack
    on_main(
        base, "policy/reviewers.yaml", registry_with(ada="emails: [Ada.Lindqvist@HOME.example]")
    )
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10 and cannot approve it" in messages(data)
    assert "was made as ada.lindqvist@home.example" in messages(data)  # matched case-folded


def test_self_approval_by_the_pull_request_author_login_does_not_count(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, "policy/reviewers.yaml", registry_with(ada="login: Ada-L"))
    release_as(base, "sam@example.org")  # committed by someone else, opened by ada
    assert gate(synthgov, base)["verdict"] == "pass"
    data = gate(synthgov, base, "--pr-author", "ada-l")
    assert data["verdict"] == "blocked"
    assert "the pull request was opened by @Ada-L" in messages(data)
    assert gate(synthgov, base, "--pr-author", "chen-w")["verdict"] == "pass"  # no such reviewer


def test_self_approval_of_a_release_she_co_authored_does_not_count(
    synthgov: Synthgov, base: Path
) -> None:
    """sam commits the release that he and ada wrote, crediting her as GitHub does (and as
    its squash merges do for every author of the squashed commits): a `Co-authored-by`
    trailer. Only author and committer lines were read, so ada approved her own work."""
    add_release(base, approved_by=())
    git(base, "reset", "-q", "--soft", "HEAD~1")
    commit_as(
        base,
        "sam@example.org",
        "release claims@1.10\n\nCo-authored-by: Ada Lindqvist <ada@example.org>",
    )
    approve(base, "ada", "chen")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10 and cannot approve it" in messages(data)
    assert "names as a co-author ada@example.org" in messages(data)


def test_a_malformed_pr_author_is_a_one_line_error(synthgov: Synthgov, base: Path) -> None:
    result = synthgov("check", "--base", "main", "--pr-author", "ada; rm -rf /", cwd=base)
    assert result.code == 2
    assert result.err.startswith("--pr-author: 'ada; rm -rf /' is not a code-host login")
    assert len(result.err.strip().splitlines()) == 1


def test_a_commit_of_someone_else_moving_a_reviewers_files_into_place_makes_her_an_author(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    git(base, "reset", "-q", "--soft", "HEAD~1")
    git(base, "reset", "-q")
    (base / "drafts").mkdir()
    (base / RELEASE).rename(base / "drafts/1.10")
    commit_as(base, ADA.email, "ada drafts a release outside datasets/")
    (base / RELEASE).parent.mkdir(parents=True, exist_ok=True)
    git(base, "mv", "drafts/1.10", RELEASE)
    commit_as(base, "sam@example.org", "sam moves it into place")
    approve(base, "ada", "chen")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10" in messages(data)
    assert f"was made as {ADA.email}" in messages(data)


def test_a_copy_of_a_reviewers_file_committed_by_someone_else_makes_her_an_author(
    synthgov: Synthgov, base: Path
) -> None:
    add_release(base, approved_by=())
    report = (base / RELEASE / "report.json").read_text()
    git(base, "rm", "-q", "--cached", f"{RELEASE}/report.json")
    (base / RELEASE / "report.json").unlink()
    commit(base, "the release without its report")
    write(base, "scratch/report.json", report)
    commit_as(base, ADA.email, "ada computes the report in a scratch folder")
    write(base, "scratch/notes.txt", "unrelated\n")
    commit_as(base, "sam@example.org", "an unrelated commit")
    write(base, f"{RELEASE}/report.json", report)  # copied, and the scratch copy kept
    commit_as(base, "sam@example.org", "sam copies the report into the release")
    approve(base, "ada", "chen")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "ada is an author of claims@1.10" in messages(data)


def signed_tier(repo: Path) -> None:

    policy = samples.POLICY.replace(
        "    approvals: {privacy-reviewer: 1, data-owner: 1}\n",
        "    approvals: {privacy-reviewer: 1, data-owner: 1}\n    require_signed_commits: true\n",
    )
    assert policy != samples.POLICY
    on_main(repo, "policy/policy.yaml", policy)


def test_an_unsigned_release_commit_is_blocked_when_the_tier_requires_signed_commits(
    synthgov: Synthgov, base: Path
) -> None:
    signed_tier(base)
    add_release(base)  # an unsigned commit claiming author@example.org
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    [unsigned] = [
        f for f in data["releases"][0]["findings"] if f["rule"] == "approvals.unsigned_commit"
    ]
    assert "does not count as signed (the commit is not signed" in unsigned["message"]
    assert unsigned["threshold_file"] == "policy/policy.yaml" and unsigned["severity"] == "error"


def test_a_signed_release_commit_names_its_signer_as_author_whatever_address_it_claims(
    synthgov: Synthgov, base: Path
) -> None:
    signed_tier(base)
    bo = PEOPLE["bo"]
    add_release(base, approved_by=())
    git(base, "reset", "-q", "--soft", "HEAD~1")
    signed_commit(
        base,
        bo,
        "bo writes the release, claiming another address",
        GIT_AUTHOR_EMAIL="nobody@else.example",
        GIT_COMMITTER_EMAIL="nobody@else.example",
    )
    put_approval(base, "bo")
    put_approval(base, "chen")
    commit(base, "bo and chen approve")
    data = gate(synthgov, base)
    assert data["verdict"] == "blocked"
    assert "bo is an author of claims@1.10" in messages(data)
    assert "is signed with their key" in messages(data)
    assert "approvals.unsigned_commit" not in {f["rule"] for f in data["releases"][0]["findings"]}
    put_approval(base, "ada")  # a reviewer who wrote nothing of it
    commit(base, "ada approves")
    assert gate(synthgov, base)["verdict"] == "pass"


def test_approve_refuses_a_reviewer_who_wrote_the_release_under_an_alias(
    synthgov: Synthgov, base: Path
) -> None:
    on_main(base, "policy/reviewers.yaml", registry_with(ada="emails: [ada@home.example]"))
    release_as(base, "ada@home.example")
    result = synthgov(
        "approve",
        "claims@1.10",
        "--role",
        "privacy-reviewer",
        "--key",
        str(ADA.key),
        "--replace",
        "--no-commit",
        cwd=base,
    )
    assert result.code == 1
    assert "ada is an author of claims@1.10 and cannot approve it" in result.err
