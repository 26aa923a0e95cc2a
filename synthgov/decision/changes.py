"""The changes a pull request makes outside its releases: to policy/, to existing cards,
to the privacy budgets and to the ledgers.

Each is judged under the base policy (BRIEF §5): a change of the trust root (policy/, or
an existing dataset's classification) needs the policy admins' approvals, a card change
its tier's, a budget change (a new ledger, a ledger's header, a card's source) the
`budget_changes` approvers', and every ledger entry the pull request appends is checked
against the base's ledger. `approve` computes the same digests, so that what a reviewer
signs is what the gate compares.
"""

from __future__ import annotations

from typing import Any

from synthgov.budget import ledgers
from synthgov.decision import digests, engine
from synthgov.decision.evidence import approval_evidence
from synthgov.decision.findings import Finding
from synthgov.decision.sides import Tree, kind_of, loads, parsed
from synthgov.decision.trust import Trust
from synthgov.errors import InputError, MissingExtra
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import budget
from synthgov.gates.approvals import budget_subject, card_subject, findings_for, policy_subject
from synthgov.gates.changes import (
    BudgetChange,
    approved,
    as_change_findings,
    budget_findings,
    card_changes,
    card_findings,
    same_data,
)
from synthgov.models import Card, Ledger, Manifest


def _named(release: str, changes: list[tuple[str, str]], head: Tree, base: Tree) -> budget.Named:
    """What the budget gate needs about a release a ledger entry names: its dataset's
    source (the base's card decides an existing dataset), its manifest at head, and
    whether this pull request adds it."""
    ref = Release.of(release)
    card_path = layout.card_path(ref.dataset)
    card_raw = base.read(card_path)
    card_raw = head.read(card_path) if card_raw is None else card_raw
    card: Card | None = parsed(card_raw, card_path, Card).model if card_raw is not None else None
    where = f"{ref.folder}/manifest.yaml"
    manifest = head.load(where, Manifest) if head.read(where) is not None else None
    added = any(path == where and status != "D" for path, status in changes)
    return budget.Named(
        card.source.id if card else None, manifest, added and base.read(where) is None
    )


def ledger_changes(
    changes: list[tuple[str, str]],
    head: Tree,
    base: Tree | None,
    approved_ledgers: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Top-level budget findings for every ledger the pull request changes (BRIEF §10.5)."""
    found: list[Finding] = []
    for path, status in changes:
        if kind_of(path) != "ledger" or status == "D" or base is None:
            continue
        try:
            loaded: Loaded[Ledger] = head.load(path, Ledger)
        except InputError:
            continue  # already a files finding
        try:
            raw = base.read(path)
            on_base: Loaded[Ledger] | None = parsed(raw, path, Ledger) if raw is not None else None
            base_data = on_base.document.data if on_base else None
            named = {
                release: _named(release, changes, head, base)
                for index in ledgers.new_entries(loaded.document.data, base_data)
                if (release := loaded.model.entries[index].release)
            }
            found += budget.ledger_findings(
                loaded, on_base, named, header_approved=path in approved_ledgers
            )
        except MissingExtra:
            raise
        except Exception as exc:  # fail closed
            found.append(engine.failed_to_check(path, "budget", f"{type(exc).__name__}: {exc}"))
    return found


def changed_cards(
    changes: list[tuple[str, str]], head: Tree, base: Tree
) -> dict[str, tuple[Loaded[Card], Loaded[Card]]]:
    """dataset -> (base, head) card, for existing cards whose content the changes alter
    (a new dataset's card is reviewed with its first release). A card that does not load
    at head is skipped: its `files` finding blocks already.

    Raises:
        InputError: a changed card that does not load on the base.
    """
    found = {}
    for path, status in changes:
        if kind_of(path) != "card" or status == "D":
            continue
        old_raw, new_raw = base.read(path), head.read(path)
        if old_raw is None or new_raw is None or (new := loads(new_raw, path, Card)) is None:
            continue
        old: Loaded[Card] = parsed(old_raw, path, Card)
        if old.model != new.model:
            found[new.model.id] = (old, new)
    return found


def classification_changes(
    changes: list[tuple[str, str]], head: Tree, base: Tree
) -> dict[str, tuple[str, str]]:
    """dataset -> (base, head) classification, for existing cards the changes reclassify."""
    return {
        dataset: (old.model.classification.value, new.model.classification.value)
        for dataset, (old, new) in changed_cards(changes, head, base).items()
        if old.model.classification != new.model.classification
    }


def budget_change(changes: list[tuple[str, str]], head: Tree, base: Tree) -> BudgetChange:
    """The ledgers the changes create or whose header they change, and the existing cards
    whose source they change: what `budget_changes` approvers approve."""
    headers: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]] = {}
    for path, status in changes:
        if kind_of(path) != "ledger" or status == "D" or (new_raw := head.read(path)) is None:
            continue
        if (loaded := loads(new_raw, path, Ledger)) is None:
            continue
        new = ledgers.header(loaded.document.data)
        old_raw = base.read(path)
        old = ledgers.header(parsed(old_raw, path, Ledger).document.data) if old_raw else None
        if old is None or not same_data(old, new):
            headers[path] = (old, new)
    sources = {
        dataset: (old.model.source.id, new.model.source.id)
        for dataset, (old, new) in changed_cards(changes, head, base).items()
        if old.model.source.id != new.model.source.id
    }
    return BudgetChange(headers, sources)


def budget_change_digest(change: BudgetChange) -> str:
    return digests.budget_digest(change.ledgers, change.sources)


def card_change_digest(old: Loaded[Card], new: Loaded[Card]) -> str:
    return digests.card_digest(new.model.id, old.document.data, new.document.data)


def governance_changes(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree
) -> tuple[list[Finding], frozenset[str]]:
    """Findings for the card and budget changes of the pull request (gates/changes.py),
    and the ledgers whose change is approved.

    Raises:
        InputError: a changed card or ledger that does not load on the base.
    """
    found: list[Finding] = []
    for dataset, (old, new) in changed_cards(changes, head, base).items():
        subject = card_subject(
            trust.policy, old.model.classification, dataset, card_change_digest(old, new)
        )
        evidence = approval_evidence(
            layout.approval_folder("card", dataset), head, trust, (layout.card_path(dataset),)
        )
        described = card_changes(old.model, new.model, trust.policy.model)
        found += card_findings(subject, evidence, new, described)
    change = budget_change(changes, head, base)
    if not change:
        return found, frozenset()
    subject = budget_subject(trust.policy, trust.registry, budget_change_digest(change))
    touched = (*change.ledgers, *(layout.card_path(d) for d in change.sources))
    evidence = approval_evidence(layout.approval_folder("budget"), head, trust, touched)
    problems = budget_findings(subject, evidence, change)
    return found + problems, frozenset(change.ledgers) if approved(problems) else frozenset()


def trust_root_digest(head: Tree, base: Tree, classifications: dict[str, tuple[str, str]]) -> str:
    """What policy admins approve: base and proposed policy/registry, and reclassifications.

    Raises:
        InputError: a policy or registry file that does not load (at head: a `files`
            finding already blocks the pull request).
    """
    sides = {}
    for name, tree in (("base", base), ("proposed", head)):
        sides[name] = {
            key: tree.load(path).document.data
            for key, path in (("policy", layout.POLICY), ("reviewers", layout.REVIEWERS))
        }
    return digests.policy_digest(sides["base"], sides["proposed"], classifications)


def policy_change(
    trust: Trust, head: Tree, base: Tree, classifications: dict[str, tuple[str, str]]
) -> list[Finding]:
    """The approvals a change to the trust root needs under the base policy (BRIEF §5):
    policy/ itself, or an existing dataset's classification (signing.md attack 13)."""
    try:
        digest = trust_root_digest(head, base, classifications)
    except InputError:
        return []  # the invalid or deleted file is a `files` finding already, and blocks
    evidence = approval_evidence(
        layout.approval_folder("policy"), head, trust, ("policy", "datasets")
    )
    found = findings_for(policy_subject(trust.policy, trust.registry, digest), evidence)
    return as_change_findings(found, "policy.change", "policy")
