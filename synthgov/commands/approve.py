"""`synthgov approve DATASET@VERSION --role ROLE`: a reviewer's signed decision, committed.

The approval binds the release as committed at HEAD (never the working tree, which may
hold edits the gate will not see), carries a detached signature over its canonical
payload (SSH `synthgov-approval` namespace, or OpenPGP) so that it survives squash and
rebase merges, and is committed with `git commit -S` as a second carrier. Before writing
anything the command verifies its own output the way `check` will, against the base
registry, and refuses (exit 1) an approval that would not count (BRIEF §10.13).
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import options
from synthgov.decision.review import Check, Evidence, Filed, Subject, review
from synthgov.decision.sides import git_sides
from synthgov.decision.subjects import Approvable, approvable
from synthgov.decision.trust import load_trust_root
from synthgov.errors import GitError, InputError, UsageError
from synthgov.files import governance, layout
from synthgov.files.loading import Loaded
from synthgov.files.paths import read_bytes, replace_file, write_new
from synthgov.git.history import Repository
from synthgov.models import Approval, Policy, Registry
from synthgov.models.common import format_timestamp
from synthgov.signing.signatures import Verifier
from synthgov.signing.signer import SigningKey, UnknownKey, identify, signed_text, signing_key
from synthgov.signing.sshsig import SignatureError

_RELEASE = re.compile(r"(?P<dataset>[a-z0-9][a-z0-9-]*)@(?P<version>[0-9A-Za-z][0-9A-Za-z._+-]*)")


class Refused(Exception):
    """The approval would not count; nothing was written (exit 1)."""


def _refused(exc: Exception) -> int:
    click.echo(f"approval refused: {exc}; nothing was written", err=True)
    return 1


def _would_count(
    subject: Approvable,
    filed: Filed,
    registry: Registry,
    now: datetime,
    history: tuple[bytes, ...],
    repository: str | None,
) -> None:
    """Ask the gate's own review whether the signed approval would count, before anything
    is written (BRIEF §10.13); a reject that would stand counts as a decision too.

    Raises:
        Refused: it fails a check the gate applies (role, authorship, ...).
        InputError: its signature does not verify with the registered key.
    """
    required = {filed.loaded.model.role: 1}
    judged = Subject(
        subject.label,
        subject.digest,
        required,
        layout.POLICY,
        None,
        "synthgov approve",
        subject.kind,
        repository,
    )
    with Verifier(registry, now) as verifier:
        evidence = Evidence(registry, verifier, (filed,), subject.author_emails, history)
        reviewed = review(judged, evidence).files[0]
    if reviewed.failed is Check.SIGNATURE:
        raise InputError.at("--key", reviewed.reason)
    if reviewed.failed is Check.ROLE:
        holder = registry.reviewer(reviewed.approval.reviewer)
        assert holder is not None  # check 1 verified one of their keys
        raise Refused(f"{reviewed.reason} (holds: {', '.join(holder.roles)})")
    if reviewed.failed is not None:
        raise Refused(reviewed.explanation)


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
    release = None if change else _release_ref(target, False)
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
    if revocation and (waiver or release is None):
        raise UsageError("--revocation approves a release's revocation; it takes no --waiver")
    dataset = change[1] if change else None
    path = layout.approval_path(role, reviewer.id, release, waiver, subject.kind, dataset)
    # The subject and the repository are always written: the signature covers them, so the
    # approval counts for nothing else and in no other repository.
    data: dict[str, Any] = {"schema_version": 1, "subject": subject.kind}
    if repository is not None:
        data["repository"] = repository
    if release is not None:
        data |= {"waiver": waiver} if waiver else {}
        data["release"] = release
    if dataset is not None:
        data["dataset"] = dataset
    data |= {
        "reviewer": reviewer.id,
        "role": role,
        "decision": decision,
        "digest": subject.digest,
        "signed_at": format_timestamp(now.replace(microsecond=0)),
    }
    if comment:
        data["comment"] = comment
    placeholder = {"format": signing.format, "armored": "-"}
    options.build(Approval, {**data, "signature": placeholder}, {"comment": "--comment"}, "approve")
    try:
        text = signed_text(data, path, signing.format, signing.sign)
    except SignatureError as exc:
        raise InputError.at("--key", str(exc)) from None
    loaded: Loaded[Approval] = governance.load_bytes(text.encode(), path, Approval)
    try:
        _would_count(subject, Filed(loaded), registry, now, history, repository)
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


def _release_ref(target: str | None, policy: bool) -> str | None:
    if policy:
        if target is not None:
            raise UsageError("--policy approves the change to policy/; it takes no DATASET@VERSION")
        return None
    if target is None:
        raise UsageError(
            "name the release as DATASET@VERSION, or pass --policy, --card or --budget"
        )
    if not _RELEASE.fullmatch(target):
        raise InputError.at(
            "DATASET@VERSION", f"{target!r} is not a release; expected e.g. claims@1.0"
        )
    return target


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
