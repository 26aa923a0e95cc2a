"""The trust root a decision judges with: the base's policy and registry, and one clock.

Nothing a pull request changes under policy/ applies to it (BRIEF §5): the policy and the
reviewer registry are read from the base side, and a base whose own policy or registry
cannot be loaded prevents any decision (exit 2, BRIEF §10.6). The clock is read once per
run by the caller and travels with the trust root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from synthgov.decision.release_dates import ReleaseDates
from synthgov.decision.revocations import Revocations
from synthgov.decision.sides import Tree
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.loading import Loaded, ModelT
from synthgov.git.provenance import Provenance
from synthgov.models import Policy, Registry
from synthgov.signing.signatures import Verifier


@dataclass(frozen=True)
class Trust:
    """What a run judges with: the base's policy and registry, its clock, the pull
    request's history (None with --no-git: embedded signatures only)."""

    policy: Loaded[Policy]
    registry: Registry
    verifier: Verifier
    now: datetime
    provenance: Provenance | None = None
    enforce_approvals: bool = True
    pr_author: str | None = None  # the code-host login that opened the pull request
    #: Ledgers whose creation or header change the pull request's approvals cover: the
    #: budget gate judges them by their proposed header.
    approved_ledgers: frozenset[str] = frozenset()
    #: Whether a committed release report page must be the one synthgov draws
    #: (`gates/report_page`): the gate's question; the replays of status and audit skip it.
    check_pages: bool = True
    #: The revoked artifacts of each tree read in this run (shared by its decisions).
    revocations: Revocations = field(default_factory=Revocations, compare=False)
    #: The created_at of each release folder read in this run (shared by its decisions).
    release_dates: ReleaseDates = field(default_factory=ReleaseDates, compare=False)


def load_trust_root(tree: Tree, path: str, kind: type[ModelT], where: str) -> Loaded[ModelT]:
    """The base's policy or registry; one that cannot be loaded prevents a decision (exit 2).

    Raises:
        InputError: the file is missing or does not load, named as `where`'s.
    """
    try:
        return tree.load(path, kind)
    except InputError as exc:
        first = exc.problems[0]
        raise InputError.at(
            first.location.path,
            f"{where} {'policy' if kind is Policy else 'reviewer registry'} cannot be loaded: "
            f"{first.message}",
            first.location.line,
            first.location.column,
        ) from None


def make_trust(
    tree: Tree, where: str, now: datetime, provenance: Provenance | None, enforce_approvals: bool
) -> Trust:
    """The trust root of `tree` (the base side), with a verifier of its registry's keys at
    `now`; the caller closes the verifier (`with trust.verifier:`).

    Raises:
        InputError: the policy or the registry cannot be loaded.
    """
    policy = load_trust_root(tree, layout.POLICY, Policy, where)
    registry = load_trust_root(tree, layout.REVIEWERS, Registry, where)
    verifier = Verifier(registry.model, now)
    return Trust(policy, registry.model, verifier, now, provenance, enforce_approvals)
