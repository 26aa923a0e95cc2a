"""`synthgov approve DATASET@VERSION --role ROLE`: a reviewer's signed decision, committed.

The approval binds the release as committed at HEAD (never the working tree, which may
hold edits the gate will not see), carries a detached signature over its canonical
payload (SSH `synthgov-approval` namespace, or OpenPGP) so that it survives squash and
rebase merges, and is committed with `git commit -S` as a second carrier. Before writing
anything the command verifies its own output the way `check` will, against the base
registry, and refuses (exit 1) an approval that would not count (BRIEF §10.13).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov import options
from synthgov.decision.review import Filed
from synthgov.decision.sides import git_sides
from synthgov.decision.subjects import (
    Refused,
    approvable,
    approval_data,
    may_approve,
    would_count,
)
from synthgov.decision.trust import load_trust_root
from synthgov.errors import GitError, InputError, SignatureError, UsageError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.files.paths import read_bytes, replace_file, write_new
from synthgov.git.history import Repository
from synthgov.models import Approval, Policy, Registry
from synthgov.signing.signer import SigningKey, UnknownKey, identify, signed_text, signing_key


def _refused(exc: Exception) -> int:
    click.echo(f"approval refused: {exc}; nothing was written", err=True)
    return 1


def run(
    root: Path,
    target: str | None,
    *,
    role: str,
    key: Path | None,
    decision: str,
    comment: str | None,
    waiver: str | None,
    policy: bool,
    replace: bool,
    commit: bool,
    revocation: bool = False,
    card: str | None = None,
    budget: bool = False,
) -> int:
    """Write and commit the approval; 0 when done, 1 when refused, 2 on bad input."""
    change = _change(target, policy, card, budget)
    release = None if change else _release(target)
    options.slug(role, "--role")
    if waiver is not None:
        options.slug(waiver.lower(), "--waiver")
    if comment is not None and not comment.strip():
        raise InputError.at("--comment", "is empty")
    now = datetime.now(UTC)
    with Repository.open(root) as repo:
        try:
            base_ref = repo.default_base()
        except GitError:
            base_ref = "HEAD"  # no base yet: HEAD is the trust root
        sides = git_sides(repo, base_ref)
        where = f"the base {sides.base[:12]}'s"
        registry: Registry = load_trust_root(
            sides.base_tree, layout.REVIEWERS, Registry, where
        ).model
        repository = load_trust_root(sides.base_tree, layout.POLICY, Policy, where).model.repository
        subject = approvable(sides, release, waiver, revocation, change)
        signing = signing_key(root, key)
        try:
            signer = identify(signing, registry, now)
        except SignatureError as exc:
            raise InputError.at("--key", str(exc)) from None
        except UnknownKey as exc:
            return _refused(exc)
        reviewer = registry.reviewer(signer.reviewer)
        assert reviewer is not None
        history = sides.provenance.author_commits(*subject.folders)
    try:
        may_approve(subject, reviewer, role, registry, now, history)
    except Refused as exc:
        return _refused(exc)
    if revocation and (waiver or release is None):
        raise UsageError("--revocation approves a release's revocation; it takes no --waiver")
    path = layout.approval_path(
        role, reviewer.id, release, waiver, subject.kind, change[1] if change else None
    )
    data = approval_data(
        subject,
        repository=repository,
        release=release,
        waiver=waiver,
        dataset=change[1] if change else None,
        reviewer=reviewer.id,
        role=role,
        decision=decision,
        signed_at=now,
        comment=comment,
    )
    placeholder = {"format": signing.format, "armored": "-"}
    options.build(Approval, {**data, "signature": placeholder}, {"comment": "--comment"}, "approve")
    try:
        text = signed_text(data, path, signing.format, signing.sign)
    except SignatureError as exc:
        raise InputError.at("--key", str(exc)) from None
    loaded: Loaded[Approval] = governance.load_bytes(text.encode(), path, Approval)
    try:
        would_count(subject, Filed(loaded), registry, now, history, repository)
    except Refused as exc:
        return _refused(exc)
    _write(root, path, text.encode(), replace)
    if commit:
        _commit(
            root,
            path,
            signing,
            f"{'Approve' if decision == 'approve' else 'Reject'} {subject.label} as {role}",
        )
    click.echo(
        f"{decision}d {subject.label} as {role} ({reviewer.id}, key {signer.fingerprint}): {path}"
        + ("" if commit else " (not committed)"),
        err=True,
    )
    return 0


def _change(
    target: str | None, policy: bool, card: str | None, budget: bool
) -> tuple[str, str | None] | None:
    """(kind, dataset) of the change of the pull request to approve, or None for a release."""
    chosen = [
        name
        for name, on in (("--policy", policy), ("--card", card is not None), ("--budget", budget))
        if on
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be combined; approve each on its own")
    if not chosen:
        return None
    if target is not None:
        raise UsageError(
            f"{chosen[0]} approves a change of this branch; it takes no DATASET@VERSION"
        )
    if card is not None:
        options.slug(card, "--card")
        return "card", card
    return ("policy", None) if policy else ("budget", None)


def _release(target: str | None) -> str:
    if target is None:
        raise UsageError(
            "name the release as DATASET@VERSION, or pass --policy, --card or --budget"
        )
    return str(Release.parse(target))


def _write(root: Path, path: str, data: bytes, replace: bool) -> None:
    full = root / path
    if full.exists() or full.is_symlink():
        if not replace:
            raise InputError.at(path, "already exists; pass --replace to supersede your approval")
        replace_file(root, path, read_bytes(root, path), data)
    else:
        write_new(root, path, data)


def _commit(root: Path, path: str, key: SigningKey, message: str) -> None:
    git = ["git", "-C", str(root), *key.git_config()]
    for args in (["add", "--", path], ["commit", "-q", "-S", "-m", message, "--", path]):
        done = subprocess.run([*git, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["unknown error"])[0]
            raise GitError(f"{path} was written but `git {args[0]}` failed: {first}")
