"""A release's context: everything the gates judge it on, read from both sides.

The base decides what the pull request cannot: the tier of an existing dataset (its
card's classification on the base), the ledger's earlier entries, the releases already
shipped (a new one dated before them would never become current), the strictest tier
another card of the same source has, and every artifact revoked so far. The head gives
the release's own files. `judge_locally` builds the same context for a release not yet
committed, so that `release new` and `revalidate` predict what `check` will say.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from synthgov.decision.evidence import approval_evidence
from synthgov.decision.release_dates import ReleaseDates
from synthgov.decision.sides import Tree, commit_tree, kind_of, parsed, working_tree
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import GitError, InputError
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext
from synthgov.git.history import Repository
from synthgov.models import Card, Ledger, Manifest, Report, Waiver
from synthgov.models.common import Classification


def release_context(release: str, trust: Trust, head: Tree, base: Tree | None) -> ReleaseContext:
    """The context of `release` at head, judged with `trust` (base None: no base side).

    Raises:
        InputError: the release's files, its card, a waiver, a ledger or a revocation do
            not load.
    """
    ref = Release.of(release)
    dataset, folder = ref.dataset, ref.folder
    card_path = layout.card_path(dataset)
    card_bytes = head.read(card_path)
    if card_bytes is None:
        raise InputError.at(card_path, "missing: a release needs its dataset's card")
    card: Loaded[Card] = parsed(card_bytes, card_path, Card)
    base_card_bytes = base.read(card_path) if base else None
    classification = card.model.classification
    base_card: Loaded[Card] | None = None
    if base_card_bytes is not None:  # the base decides the tier of an existing dataset
        loaded: Loaded[Card] = parsed(base_card_bytes, card_path, Card)
        base_card, classification = loaded, loaded.model.classification
    waivers = tuple(
        head.load(p, Waiver) for p in head.list(f"{folder}/waivers") if kind_of(p) == "waiver"
    )
    manifest: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", Manifest)
    report: Loaded[Report] = head.load(f"{folder}/report.json", Report)
    revocation = None
    if head.read(f"{folder}/revocation.yaml") is not None:
        from synthgov.models import Revocation  # built only when the release is revoked

        revocation = head.load(f"{folder}/revocation.yaml", Revocation)
    source = (base_card or card).model.source.id
    return ReleaseContext(
        release=release,
        policy=trust.policy,
        card=card,
        card_sha256=hashlib.sha256(card_bytes).hexdigest(),
        classification=classification,
        manifest=manifest,
        report=report,
        waivers=waivers,
        now=trust.now,
        base_card=base_card.model if base_card else None,
        approvals=approval_evidence(
            folder, head, trust, (folder,), frozenset({manifest.model.author.casefold()})
        ),
        **_ledgers(source, head, base),
        revocation=revocation,
        revoked_artifacts=trust.revocations.revoked(head, base),
        ledger_approved=layout.ledger_path(source) in trust.approved_ledgers,
        source_floor=_source_floor(card.model, base_card.model if base_card else None, base),
        newest_on_base=_newest_on_base(dataset, folder, base, trust.release_dates),
    )


def _ledgers(source: str, head: Tree, base: Tree | None) -> dict[str, Loaded[Ledger] | None]:
    """The source's ledger at head and on the base, for the budget gate (None: no such file)."""
    path = layout.ledger_path(source)
    found: dict[str, Loaded[Ledger] | None] = {}
    for name, tree in (("ledger", head), ("base_ledger", base)):
        raw = tree.read(path) if tree is not None else None
        found[name] = parsed(raw, path, Ledger) if raw is not None else None
    return found


def _newest_on_base(
    dataset: str, folder: str, base: Tree | None, dates: ReleaseDates
) -> tuple[str, datetime] | None:
    """The dataset's newest release on the base that is not revoked, by `created_at`, when
    the release in `folder` is new: a new release dated before it would be superseded on
    arrival, never current and never due for revalidation. Each earlier release's date is
    derived once per run (`dates`), not parsed again for every later release."""
    if base is None or base.read(f"{folder}/manifest.yaml") is not None:
        return None
    newest: tuple[str, datetime] | None = None
    for path in base.find(f"datasets/{dataset}/releases", "manifest.yaml"):
        placed = layout.classify(path)
        if placed is None or placed.kind != "manifest":
            continue
        created = dates.created(base, path.rsplit("/", 1)[0])
        if created is not None and (newest is None or created > newest[1]):
            newest = (str(Release(dataset, placed.ids["version"])), created)
    return newest


def _source_floor(
    card: Card, base_card: Card | None, base: Tree | None
) -> tuple[Classification, str] | None:
    """The strictest classification the base gives another dataset of `card`'s source, and
    that dataset; only for a card that is new or moves to another source (an existing
    card's tier is its base classification). A second card of a restricted source must
    not ship its data as public, with the public tier's approvals and no DP."""
    source = card.source.id
    if base is None or (base_card is not None and base_card.source.id == source):
        return None
    found: tuple[Classification, str] | None = None
    for path in base.find("datasets", "card.yaml"):
        placed = layout.classify(path)
        if placed is None or placed.kind != "card" or placed.ids["dataset"] == card.id:
            continue
        raw = base.read(path)
        if raw is None or source.encode() not in raw:  # most cards: another source
            continue
        try:
            other: Card = parsed(raw, path, Card).model
        except InputError:
            continue  # a base card that does not load classifies nothing
        rank = list(Classification).index
        if other.source.id != source:
            continue
        if found is None or rank(other.classification) > rank(found[0]):
            found = (other.classification, other.id)
    return found


def judge_locally(root: Path, release: str, now: datetime) -> ReleaseContext:
    """The context `check` will judge an uncommitted release in: the working tree as head,
    the default base's policy and registry as the trust root (the working tree's when there
    is no base yet, or it has no policy). For commands that predict the gate.

    Raises:
        InputError: the release or the trust root cannot be loaded.
    """
    head = working_tree(root)
    try:
        with Repository.open(root) as repo:
            sha = repo.resolve(repo.default_base())
            base = commit_tree(repo, sha)
            trust = make_trust(base, f"the base {sha[:12]}'s", now, None, True)
            with trust.verifier:
                return release_context(release, trust, head, base)
    except (GitError, InputError):
        pass  # no repository, no base yet, or a base without a policy
    trust = make_trust(head, "the working tree's", now, None, True)
    with trust.verifier:
        return release_context(release, trust, head, None)
