"""What a reviewer approves, as committed at HEAD, computed exactly as `check` computes it.

A release (its manifest and report), one of its waivers, its revocation, or a change of
the pull request: to policy/ and classifications, to an existing card, or to the privacy
budgets. `approve` signs the digest named here; the gate compares it with the same digest
of the subject as it is when checked, so an approval of anything else never counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from synthgov.decision import digests
from synthgov.decision.changes import (
    budget_change,
    budget_change_digest,
    card_change_digest,
    changed_cards,
    classification_changes,
    trust_root_digest,
)
from synthgov.decision.review import (
    Check,
    Evidence,
    Filed,
    Subject,
    author_reasons,
    review,
    standing,
)
from synthgov.decision.sides import Sides
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded, ModelT
from synthgov.models import Manifest, Registry, Report, Revocation, Waiver
from synthgov.models.common import format_timestamp
from synthgov.models.reviewers import Reviewer
from synthgov.signing.signatures import Verifier


@dataclass(frozen=True)
class Approvable:
    """A subject to approve: its label and digest, and who authored it."""

    label: str
    digest: str
    folders: tuple[str, ...]  # whose commits in the pull request make authors
    author_emails: frozenset[str]
    kind: str = "release"  # the approval's `subject`


def _change(sides: Sides, kind: str, dataset: str | None) -> Approvable:
    """A change of the pull request: to policy/, to a card, or to the privacy budgets."""
    head, base = sides.head_tree, sides.base_tree
    if kind == "card":
        assert dataset is not None
        cards = changed_cards(sides.changes, head, base)
        if dataset not in cards:
            raise InputError.at(
                layout.card_path(dataset),
                "is not changed on this branch "
                "against the base (a new card is approved with its release)",
            )
        digest = card_change_digest(*cards[dataset])
        return Approvable(
            f"the change to {layout.card_path(dataset)}",
            digest,
            (layout.card_path(dataset),),
            frozenset(),
            "card",
        )
    if kind == "budget":
        change = budget_change(sides.changes, head, base)
        if not change:
            raise InputError.at(
                "--budget",
                "this branch creates no ledger and changes no "
                "ledger header or card source against the base",
            )
        touched = (*change.ledgers, *(layout.card_path(d) for d in change.sources))
        return Approvable(
            f"the change to the privacy budgets ({change.describe()})",
            budget_change_digest(change),
            touched,
            frozenset(),
            "budget",
        )
    classifications = classification_changes(sides.changes, head, base)
    digest = trust_root_digest(head, base, classifications)
    return Approvable(
        "the change to policy/ and classifications",
        digest,
        ("policy", "datasets"),
        frozenset(),
        "policy",
    )


def approvable(
    sides: Sides,
    release: str | None,
    waiver: str | None,
    revocation: bool,
    change: tuple[str, str | None] | None = None,
) -> Approvable:
    """What is approved: the release (or its waiver or revocation), else the `change`
    (kind, dataset) of the pull request, policy/ by default.

    Raises:
        InputError: a file it needs is not committed at HEAD or does not load, or the
            branch makes no such change.
    """
    head = sides.head_tree

    def load(path: str, kind: type[ModelT]) -> Loaded[ModelT]:
        if head.read(path) is None:
            raise InputError.at(path, "is not committed at HEAD; commit it before approving")
        return head.load(path, kind)

    if release is None:
        return _change(sides, *(change or ("policy", None)))
    folder = Release.of(release).folder
    manifest = load(f"{folder}/manifest.yaml", Manifest)
    authors = frozenset({manifest.model.author.casefold()})
    if revocation:
        loaded = load(f"{folder}/revocation.yaml", Revocation)
        digest = digests.revocation_digest(release, loaded.document.data)
        revoker = frozenset({loaded.model.author.casefold()})
        return Approvable(
            f"the revocation of {release}", digest, (folder,), authors | revoker, "revocation"
        )
    if waiver is not None:
        waived = load(f"{folder}/waivers/{waiver}.yaml", Waiver)
        digest = digests.waiver_digest(release, waived.document.data)
        return Approvable(f"waiver {waiver} of {release}", digest, (folder,), authors, "waiver")
    report = load(f"{folder}/report.json", Report)
    digest = digests.release_digest(manifest.document.data, report.document.data)
    return Approvable(release, digest, (folder,), authors)


def approval_data(
    subject: Approvable,
    *,
    repository: str | None,
    release: str | None,
    waiver: str | None,
    dataset: str | None,
    reviewer: str,
    role: str,
    decision: str,
    signed_at: datetime,
    comment: str | None,
) -> dict[str, Any]:
    """An approval's fields before its signature. The subject and the repository are
    always written: the signature covers them, so the approval counts for nothing else
    and in no other repository."""
    data: dict[str, Any] = {"schema_version": 1, "subject": subject.kind}
    if repository is not None:
        data["repository"] = repository
    if release is not None:
        data |= {"waiver": waiver} if waiver else {}
        data["release"] = release
    if dataset is not None:
        data["dataset"] = dataset
    data |= {
        "reviewer": reviewer,
        "role": role,
        "decision": decision,
        "digest": subject.digest,
        "signed_at": format_timestamp(signed_at.replace(microsecond=0)),
    }
    if comment:
        data["comment"] = comment
    return data


class Refused(Exception):
    """The approval would not count; nothing was written (exit 1)."""


def _judged(subject: Approvable, role: str, repository: str | None) -> Subject:
    """The subject as the gate reviews it, requiring one approval of `role`."""
    return Subject(
        subject.label,
        subject.digest,
        {role: 1},
        layout.POLICY,
        None,
        "synthgov approve",
        subject.kind,
        repository,
    )


def may_approve(
    subject: Approvable,
    reviewer: Reviewer,
    role: str,
    registry: Registry,
    now: datetime,
    history: tuple[bytes, ...],
) -> None:
    """The gate's checks 4 and 5 (role, authorship), asked before the reviewer signs, so
    that one who would be refused is never asked for a passphrase or a key touch.

    Raises:
        Refused: the reviewer does not hold the role, or is an author of the subject.
    """
    with Verifier(registry, now) as verifier:
        evidence = Evidence(registry, verifier, (), subject.author_emails, history)
        failed = standing(_judged(subject, role, None), reviewer, role, author_reasons(evidence))
    if failed is None:
        return
    check, _, why = failed
    raise Refused(f"{why} (holds: {', '.join(reviewer.roles)})" if check is Check.ROLE else why)


def would_count(
    subject: Approvable,
    filed: Filed,
    registry: Registry,
    now: datetime,
    history: tuple[bytes, ...],
    repository: str | None,
) -> None:
    """Ask the gate's own review whether a signed approval would count, before anything
    is written (BRIEF §10.13); a reject that would stand counts as a decision too.

    Raises:
        Refused: it fails a check the gate applies (role, authorship, ...).
        InputError: its signature does not verify with the registered key.
    """
    judged = _judged(subject, filed.loaded.model.role, repository)
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
