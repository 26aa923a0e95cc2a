"""The state of every dataset and release at HEAD, judged exactly as `check` judges a pull
request: what `status` shows and the catalog publishes.

The trust root is the default base (origin/HEAD, else main; HEAD itself when neither
exists) and the release files are read from HEAD's commit, so uncommitted edits are not
counted. One release that cannot be judged is blocked and does not hide the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from synthgov import clock, inventory
from synthgov.budget import accounting
from synthgov.decision import engine, expiry
from synthgov.decision.contexts import release_context
from synthgov.decision.expiry import Notice
from synthgov.decision.review import Review
from synthgov.decision.sides import Sides, git_sides, release_of
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import GitError, InputError, MissingExtra
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.gates import ReleaseContext
from synthgov.git.history import Repository
from synthgov.inventory import CountedApproval, DatasetState, ReleaseState
from synthgov.models import Card, Ledger, Revalidation, Revocation
from synthgov.models.common import format_timestamp


@dataclass(frozen=True)
class StatusView:
    """Everything status and the catalog show, gathered in one pass over HEAD."""

    base: str
    head: str
    now: datetime
    releases: list[dict[str, Any]]  # the per-release view (`status` JSON `releases`)
    datasets: list[DatasetState]
    contexts: dict[str, ReleaseContext]  # release -> what it was judged on (when it loaded)
    #: waivers of approved releases and reviewer keys that expire within the policy's
    #: `expiry_warning_days` (advisory: they change no state)
    notices: list[Notice] = field(default_factory=list)


def _counted(review: Review) -> tuple[CountedApproval, ...]:
    """The approvals the gate counted, with the registered key whose signature verified."""
    found = [
        CountedApproval(
            f.approval.reviewer,
            f.approval.role,
            f.approval.decision,
            f.approval.signed_at,
            f.signer.fingerprint,
            f.signer.carrier,
            f.approval.comment,
        )
        for f in review.counted()
        if f.signer is not None
    ]
    return tuple(sorted(found, key=lambda a: (a.role, a.reviewer)))


def _judge(
    release: str, trust: Trust, sides: Sides
) -> tuple[dict[str, Any], ReleaseState, ReleaseContext | None]:
    """One release as the gate sees it now; one that cannot be judged is blocked."""
    version = Release.of(release).version
    try:
        ctx = release_context(release, trust, sides.head_tree, sides.base_tree)
        result = engine.run_gates(ctx)
        filled, required = ctx.review.filled, ctx.review.required
        counted = _counted(ctx.review)
    except InputError as exc:
        item: dict[str, Any] = {
            "release": release,
            "verdict": "blocked",
            "approvals": {},
            "blocking": ["files.invalid"],
            "waived": [],
            "reason": str(exc.problems[0]),
        }
        return item, ReleaseState(release, version, "blocked", ("files.invalid",)), None
    except MissingExtra:
        raise
    except Exception as exc:  # one release that cannot be judged does not hide the others
        item = {
            "release": release,
            "verdict": "blocked",
            "approvals": {},
            "blocking": ["unchecked"],
            "waived": [],
            "reason": f"{type(exc).__name__}: {exc}",
        }
        return item, ReleaseState(release, version, "blocked", ("unchecked",)), None
    blocking = sorted({f.rule for f in result.findings if f.blocks})
    counts = {
        role: {
            "required": need,
            "present": filled[role],
            "missing": max(0, need - len(filled[role])),
        }
        for role, need in sorted(required.items())
    }
    waived = [
        {"rule": f.rule, "waiver": f.waiver.id, "until": format_timestamp(f.waiver.expires_at)}
        for f in result.findings
        if f.waiver is not None
    ]
    item = {
        "release": release,
        "verdict": result.verdict,
        "approvals": counts,
        "blocking": blocking,
        "waived": waived,
    }
    scores = inventory.scorecard(result)
    state = ReleaseState(
        release,
        version,
        result.verdict,
        tuple(blocking),
        ctx.manifest.model,
        scores=scores,
        approvals=counted,
        required=dict(required),
        report=ctx.report.model,
    )
    return item, state, ctx


def _revocation(state: ReleaseState, sides: Sides) -> ReleaseState:
    path = f"{Release.of(state.release).folder}/revocation.yaml"
    raw = sides.head_tree.read(path) or sides.base_tree.read(path)  # merged on the base counts
    if raw is None:
        return state
    try:
        loaded = governance.load_bytes(raw, path, Revocation)
    except InputError as exc:
        return replace(state, revocation_problem=str(exc.problems[0]))
    return replace(state, revocation=loaded.model)


def _revalidated(
    state: ReleaseState, sides: Sides, problems: list[str], now: datetime
) -> ReleaseState:
    folder = f"{Release.of(state.release).folder}/revalidations"
    latest = None
    for path in sides.head_tree.list(folder):
        placed = layout.classify(path)
        if placed is None or placed.kind != "revalidation":
            continue
        raw = sides.head_tree.read(path)
        assert raw is not None  # listed a moment ago
        try:  # one that does not load is ignored: the release is due sooner, never later
            model = governance.load_bytes(raw, path, Revalidation).model
        except InputError as exc:
            problems.append(str(exc.problems[0]))
            continue
        problem = clock.future_problem("revalidated_at", model.revalidated_at, now)
        if problem:  # a record dated later would push the next revalidation out forever
            problems.append(f"{path}: {problem}; not counted")
            continue
        latest = max(latest or model.revalidated_at, model.revalidated_at)
    return replace(state, revalidated_at=latest) if latest else state


def _card(dataset: str, sides: Sides, problems: list[str]) -> Card | None:
    path = layout.card_path(dataset)
    raw = sides.head_tree.read(path)
    if raw is None:
        problems.append(f"{path}: missing")
        return None
    try:
        model = governance.load_bytes(raw, path, Card).model
    except InputError as exc:
        problems.append(str(exc.problems[0]))
        return None
    return model


def _budget(card: Card | None, sides: Sides, problems: list[str]) -> dict[str, Any] | None:
    """`budget status` JSON of the card's source ledger at HEAD (None: no ledger)."""
    if card is None:
        return None
    path = layout.ledger_path(card.source.id)
    raw = sides.head_tree.read(path)
    if raw is None:
        return None
    try:
        model = governance.load_bytes(raw, path, Ledger).model
        return accounting.summary(
            model.source, model.notion, model.cap, [e.loss for e in model.entries]
        )
    except InputError as exc:
        problems.append(str(exc.problems[0]))
    except MissingExtra:
        raise
    except Exception as exc:  # a ledger that cannot be composed shows no budget, says why
        problems.append(f"{path}: the budget cannot be composed: {type(exc).__name__}: {exc}")
    return None


def collect(root: Path, dataset: str | None, now: datetime) -> StatusView:
    """Every dataset (or one) and its releases at HEAD, judged against the default base."""
    with Repository.open(root) as repo:
        try:
            base = repo.default_base()
        except GitError:
            base = "HEAD"
        sides = git_sides(repo, base)
        trust = make_trust(
            sides.base_tree,
            f"the base {sides.base[:12]}'s",
            now,
            sides.provenance,
            enforce_approvals=True,
        )
        prefix = layout.card_path(dataset).rsplit("/", 1)[0] if dataset else "datasets"
        paths = sides.head_tree.list(prefix)
        releases = sorted({r for p in paths if (r := release_of(p))})
        names = {Release.of(r).dataset for r in releases}
        names |= {p.ids["dataset"] for p in map(layout.classify, paths) if p and p.kind == "card"}
        if dataset is not None and not names:
            raise InputError.at(layout.card_path(dataset), "no such dataset at HEAD")
        found, states, contexts = [], {}, {}
        with trust.verifier:
            for release in releases:
                item, state, ctx = _judge(release, trust, sides)
                found.append(item)
                states[release] = state
                if ctx is not None:
                    contexts[release] = ctx
        datasets = []
        for name in sorted(names):
            problems: list[str] = []
            card = _card(name, sides, problems)
            mine = []
            for release in releases:
                if Release.of(release).dataset == name:
                    state = _revocation(states[release], sides)
                    mine.append(_revalidated(state, sides, problems, now))
            datasets.append(
                DatasetState(
                    name, card, tuple(mine), _budget(card, sides, problems), tuple(problems)
                )
            )
    days = trust.policy.model.expiry_warning_days
    notices = [
        notice
        for state in datasets
        for release in state.releases
        if release.is_approved and release.release in contexts
        for notice in expiry.waivers(release.release, contexts[release.release].waivers, now, days)
    ]
    notices += expiry.keys(trust.registry, now, days, layout.REVIEWERS)
    return StatusView(sides.base, sides.head, now, found, datasets, contexts, notices)
