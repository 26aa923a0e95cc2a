"""What a reviewer approves, as committed at HEAD, computed exactly as `check` computes it.

A release (its manifest and report), one of its waivers, its revocation, or a change of
the pull request: to policy/ and classifications, to an existing card, or to the privacy
budgets. `approve` signs the digest named here; the gate compares it with the same digest
of the subject as it is when checked, so an approval of anything else never counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgov.decision import approvals
from synthgov.decision.changes import (
    budget_change,
    budget_change_digest,
    card_change_digest,
    changed_cards,
    classification_changes,
    trust_root_digest,
)
from synthgov.decision.sides import Sides
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded, ModelT
from synthgov.models import Manifest, Report, Revocation, Waiver


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
        digest = approvals.revocation_digest(release, loaded.document.data)
        revoker = frozenset({loaded.model.author.casefold()})
        return Approvable(
            f"the revocation of {release}", digest, (folder,), authors | revoker, "revocation"
        )
    if waiver is not None:
        waived = load(f"{folder}/waivers/{waiver}.yaml", Waiver)
        digest = approvals.waiver_digest(release, waived.document.data)
        return Approvable(f"waiver {waiver} of {release}", digest, (folder,), authors, "waiver")
    report = load(f"{folder}/report.json", Report)
    digest = approvals.release_digest(manifest.document.data, report.document.data)
    return Approvable(release, digest, (folder,), authors)
