"""The state of every dataset and release at HEAD: what `status` shows and the catalog
publishes.

The base is the default base (origin/HEAD, else main; HEAD itself when neither exists)
and the release files are read from HEAD's commit, so uncommitted edits are not counted.
The evidence that takes a release away or restarts its clock (revocations, revalidation
records) counts as the base holds it, plus what HEAD adds: a branch that deletes or
rewrites a merged record is blocked by `check`, and changes nothing here.
A release the base holds as HEAD does (merged) is judged as the audit judges it: at the
first-parent commit that merged it, with that commit's base policy, registry and clock
(`audit/merged.py`). A release HEAD adds or changes is judged exactly as `check` judges a
pull request, against the base, now. After that only a revocation, a failed revalidation
or an expired waiver takes a release away (`decision/withdrawals.py`). One release that
cannot be judged is blocked and does not hide the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from synthgov import clock, inventory
from synthgov.audit import merged
from synthgov.budget import accounting
from synthgov.decision import engine, expiry, withdrawals
from synthgov.decision.contexts import release_context
from synthgov.decision.expiry import Notice
from synthgov.decision.findings import ReleaseResult, WaiverRef
from synthgov.decision.review import Review
from synthgov.decision.sides import Sides, Tree, git_sides, parsed, release_of
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import GitError, InputError, MissingExtra
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.git.history import Repository
from synthgov.inventory import CountedApproval, DatasetState, ReleaseState
from synthgov.models import Card, Ledger, Manifest, Report, Revalidation, Revocation, Waiver
from synthgov.models.common import format_timestamp

Waived = tuple[tuple[str, WaiverRef], ...]  # (rule, waiver) of each finding a waiver relaxed
Waivers = tuple[Loaded[Waiver], ...]


@dataclass(frozen=True)
class StatusView:
    """Everything status and the catalog show, gathered in one pass over HEAD."""

    base: str
    head: str
    now: datetime
    releases: list[dict[str, Any]]  # the per-release view (`status` JSON `releases`)
    datasets: list[DatasetState]
    #: release -> its waivers, when it loaded (the notices of those that end soon)
    waivers: dict[str, Waivers]
    #: waivers of approved releases and reviewer keys that expire within the policy's
    #: `expiry_warning_days` (advisory: they change no state)
    notices: list[Notice] = field(default_factory=list)
    #: the base policy's `charts.min_cell_count`: the catalog's release pages never show a
    #: smaller cell, whatever minimum a report declares for itself
    min_cell_count: int = 10


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


def _unjudged(release: str, rule: str, reason: str) -> tuple[dict[str, Any], ReleaseState]:
    item: dict[str, Any] = {
        "release": release,
        "verdict": "blocked",
        "approvals": {},
        "blocking": [rule],
        "waived": [],
        "reason": reason,
    }
    return item, ReleaseState(release, Release.of(release).version, "blocked", (rule,))


def _judge(
    release: str, trust: Trust, head: Tree, base: Tree
) -> tuple[dict[str, Any], ReleaseState, Waivers | None]:
    """One release as the gate sees it now; one that cannot be judged is blocked."""
    try:
        ctx = release_context(release, trust, head, base)
        result = engine.run_gates(ctx)
        review = ctx.review
    except InputError as exc:
        return (*_unjudged(release, "files.invalid", str(exc.problems[0])), None)
    except MissingExtra:
        raise
    except Exception as exc:  # one release that cannot be judged does not hide the others
        return (*_unjudged(release, "unchecked", f"{type(exc).__name__}: {exc}"), None)
    item, state = _view(release, result, ctx.manifest.model, ctx.report.model, review)
    return item, state, ctx.waivers


def _view(
    release: str,
    result: ReleaseResult,
    manifest: Manifest | None,
    report: Report | None,
    review: Review | None,
) -> tuple[dict[str, Any], ReleaseState]:
    """The status entry and the state of a release from its decision."""
    blocking = sorted({f.rule for f in result.findings if f.blocks})
    filled = review.filled if review is not None else {}
    required = review.required if review is not None else {}
    counts = {
        role: {
            "required": need,
            "present": filled.get(role, []),
            "missing": max(0, need - len(filled.get(role, []))),
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
    state = ReleaseState(
        release,
        Release.of(release).version,
        result.verdict,
        tuple(blocking),
        manifest,
        scores=inventory.scorecard(result),
        approvals=_counted(review) if review is not None else (),
        required=dict(required),
        report=report,
    )
    return item, state


def _report(release: str, raw: bytes | None) -> Report | None:
    """The report a merged release was decided on (it loaded then: the same bytes load;
    parsed by content, so a report the replay's parse cache still holds is not parsed again)."""
    if raw is None:
        return None
    try:
        return parsed(raw, f"{Release.of(release).folder}/report.json", Report).model
    except InputError:
        return None


def _at_merge(
    judged: merged.Judgement, reports: bool
) -> tuple[dict[str, Any], ReleaseState, Waivers | None]:
    """A merged release as the audit decided it at its merge commit (with its report's
    model only when `reports`: only the catalog draws it)."""
    if judged.result is None:
        kind, message = judged.problem or ("audit.error", "no decision")
        item, state = _unjudged(judged.release, kind, message)
        return item, state, None
    report = _report(judged.release, judged.report) if reports else None
    item, state = _view(judged.release, judged.result, judged.manifest, report, judged.review)
    return item, state, judged.waivers if judged.manifest is not None else None


def _waived(result: ReleaseResult) -> Waived:
    return tuple((f.rule, f.waiver) for f in result.findings if f.waiver is not None)


def _decided_files(tree: Tree, folder: str) -> dict[str, bytes | None]:
    """The files of a release a decision rests on (not its records, not its revocation)."""
    return {p: tree.read(p) for p in tree.list(folder) if merged.decides([p])}


def _is_merged(release: str, sides: Sides) -> bool:
    """Whether the base holds the release as HEAD does (HEAD does not add or change it)."""
    if sides.base == sides.head:
        return True
    folder = Release.of(release).folder
    here = _decided_files(sides.head_tree, folder)
    return bool(here) and here == _decided_files(sides.base_tree, folder)


def _revocation(state: ReleaseState, head: Tree, base: Tree) -> ReleaseState:
    path = f"{Release.of(state.release).folder}/revocation.yaml"
    raw = base.read(path)  # merged evidence: as the base holds it (empty bytes too)
    if raw is None:
        raw = head.read(path)
    if raw is None:
        return state
    try:
        loaded = governance.load_bytes(raw, path, Revocation)
    except InputError as exc:
        return replace(state, revocation_problem=str(exc.problems[0]))
    return replace(state, revocation=loaded.model)


def _records(folder: str, head: Tree, base: Tree) -> dict[str, bytes]:
    """path -> bytes of each revalidation record: those the base holds, as it holds them
    (merged evidence: a branch that deletes or rewrites one is blocked by `check` and
    takes nothing away here), and those HEAD adds."""
    found: dict[str, bytes] = {}
    for side in (base, head) if base is not head else (head,):
        for path in side.list(folder):
            placed = layout.classify(path)
            if path in found or placed is None or placed.kind != "revalidation":
                continue
            raw = side.read(path)
            assert raw is not None  # listed a moment ago
            found[path] = raw
    return found


def _revalidated(
    state: ReleaseState,
    head: Tree,
    base: Tree,
    problems: list[str],
    now: datetime,
    waived: Waived,
) -> ReleaseState:
    """The latest passing revalidation (the clock restarts only there) and what withdrew
    the release: its revocation, its first failed revalidation, an expired waiver."""
    folder = f"{Release.of(state.release).folder}/revalidations"
    records = []
    for path, raw in sorted(_records(folder, head, base).items()):
        try:  # one that does not load is ignored: the release is due sooner, never later
            model = governance.load_bytes(raw, path, Revalidation).model
        except InputError as exc:
            problems.append(str(exc.problems[0]))
            continue
        problem = clock.future_problem("revalidated_at", model.revalidated_at, now)
        if problem:  # a record dated later would push the next revalidation out forever
            problems.append(f"{path}: {problem}; not counted")
            continue
        records.append(model)
    passed = [r.revalidated_at for r in records if r.verdict == "pass"]
    if state.verdict == "pass":  # only what passed can be taken away
        taken = withdrawals.withdrawal(
            state.revocation, state.revocation_problem, records, waived, now
        )
    else:
        taken = withdrawals.revoked(state.revocation, state.revocation_problem)
    return replace(state, revalidated_at=max(passed, default=None), withdrawal=taken)


def _card(dataset: str, head: Tree, problems: list[str]) -> Card | None:
    path = layout.card_path(dataset)
    raw = head.read(path)
    if raw is None:
        problems.append(f"{path}: missing")
        return None
    try:
        model = governance.load_bytes(raw, path, Card).model
    except InputError as exc:
        problems.append(str(exc.problems[0]))
        return None
    return model


def _budget(card: Card | None, head: Tree, problems: list[str]) -> dict[str, Any] | None:
    """`budget status` JSON of the card's source ledger at HEAD (None: no ledger)."""
    if card is None:
        return None
    path = layout.ledger_path(card.source.id)
    raw = head.read(path)
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


def _listing(head: Tree, dataset: str | None) -> tuple[list[str], set[str]]:
    """The releases and the datasets at HEAD (of one dataset when given).

    Raises:
        InputError: the dataset is not at HEAD.
    """
    prefix = layout.card_path(dataset).rsplit("/", 1)[0] if dataset else "datasets"
    paths = head.list(prefix)
    releases = sorted({r for p in paths if (r := release_of(p))})
    names = {Release.of(r).dataset for r in releases}
    names |= {p.ids["dataset"] for p in map(layout.classify, paths) if p and p.kind == "card"}
    if dataset is not None and not names:
        raise InputError.at(layout.card_path(dataset), "no such dataset at HEAD")
    return releases, names


def collect(
    root: Path, dataset: str | None, now: datetime, *, enforce: bool = True, reports: bool = True
) -> StatusView:
    """Every dataset (or one) and its releases at HEAD: merged ones as the audit judged
    them at their merge, the others as the gate judges them now against the default base
    (`enforce`: whether missing approvals block those, as `check` without
    `--allow-missing-approvals`; `reports`: whether the merged releases' states carry
    their report, which only the catalog draws)."""
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
            enforce_approvals=enforce,
        )
        releases, names = _listing(sides.head_tree, dataset)
        at_merge = merged.judge(
            repo, sides.base, [r for r in releases if _is_merged(r, sides)], now
        )
        return _gather(
            (sides.base, sides.head),
            sides.head_tree,
            sides.base_tree,
            trust,
            releases,
            names,
            at_merge,
            now,
            reports,
        )


def collect_tree(tree: Tree, now: datetime, *, enforce: bool = True) -> StatusView:
    """The same view of files without a history (`check --scheduled --no-git`): no merge
    to judge a release at, so each is judged as the gate judges it now, the files being
    their own trust root."""
    trust = make_trust(tree, "the checked-out", now, None, enforce_approvals=enforce)
    releases, names = _listing(tree, None)
    return _gather(("", ""), tree, tree, trust, releases, names, {}, now)


def _gather(
    refs: tuple[str, str],  # (base, head) commits; empty without a history
    head: Tree,
    base: Tree,
    trust: Trust,
    releases: list[str],
    names: set[str],
    at_merge: dict[str, merged.Judgement],
    now: datetime,
    reports: bool = True,
) -> StatusView:
    """The view from each release's judgement: at its merge when `at_merge` holds it,
    else now."""
    found, states, loaded, waived = [], {}, {}, {}
    with trust.verifier:
        for release in releases:
            judged = at_merge.get(release)
            if judged is not None:
                item, state, waivers = _at_merge(judged, reports)
                item["judged"] = {
                    "as": "merged",
                    "commit": judged.commit,
                    "at": format_timestamp(judged.at),
                }
                state = replace(state, merge_commit=judged.commit, judged_at=judged.at)
                waived[release] = _waived(judged.result) if judged.result else ()
            else:
                item, state, waivers = _judge(release, trust, head, base)
                item["judged"] = {"as": "now", "commit": None, "at": format_timestamp(now)}
                state = replace(state, judged_at=now)
                waived[release] = ()  # judged now: an expired waiver already blocks
            found.append(item)
            states[release] = state
            if waivers is not None:
                loaded[release] = waivers
    of_dataset: dict[str, list[str]] = {}  # grouped once: not every release per dataset
    for release in releases:
        of_dataset.setdefault(Release.of(release).dataset, []).append(release)
    datasets = []
    for name in sorted(names):
        problems: list[str] = []
        card = _card(name, head, problems)
        mine = []
        for release in of_dataset.get(name, []):
            state = _revocation(states[release], head, base)
            mine.append(_revalidated(state, head, base, problems, now, waived[release]))
        datasets.append(
            DatasetState(name, card, tuple(mine), _budget(card, head, problems), tuple(problems))
        )
    by_release = {r.release: (d, r) for d in datasets for r in d.releases}
    for item in found:
        state_of, release_state = by_release[item["release"]]
        item["state"] = inventory.state_of(state_of, release_state)
        item["withdrawn"] = (
            inventory.withdrawal_summary(state_of, release_state)
            if release_state.is_withdrawn
            else None
        )
        due = inventory.revalidation_due(state_of, release_state)
        item["revalidation_due"] = due.isoformat() if due else None
    days = trust.policy.model.expiry_warning_days
    notices = [
        notice
        for state in datasets
        for release in state.releases
        if release.is_approved and release.release in loaded
        for notice in expiry.waivers(release.release, loaded[release.release], now, days)
    ]
    notices += expiry.keys(trust.registry, now, days, layout.REVIEWERS)
    minimum = trust.policy.model.charts.min_cell_count
    return StatusView(refs[0], refs[1], now, found, datasets, loaded, notices, minimum)
