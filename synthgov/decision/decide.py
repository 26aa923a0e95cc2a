"""Decide a pull request: every release and governance change it makes, failing closed.

`decide` is the run `check` makes for a pull request and `audit` for every first-parent
commit of main: each release whose files changed is judged by the engine in its context;
revalidation records, a revocation alone, and the changes outside any release (files,
policy/, cards, budgets, ledgers) by their own gates. Whatever stops the evaluation of a
release blocks that release (BRIEF §5: fail closed).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field, replace

from synthgov.decision import engine
from synthgov.decision.changes import (
    classification_changes,
    governance_changes,
    ledger_changes,
    policy_change,
)
from synthgov.decision.contexts import release_context
from synthgov.decision.findings import Finding, ReleaseResult
from synthgov.decision.sides import Tree, kind_of, release_of
from synthgov.decision.trust import Trust
from synthgov.errors import InputError, MissingExtra
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext, files, policy, report_page, revalidation


@dataclass(frozen=True)
class RunResult:
    """What one run decided: per release, outside any release, and the contexts the
    releases were judged in (for reports that show what a decision rested on)."""

    results: list[ReleaseResult]
    findings: list[Finding]  # outside any release: files, policy, cards, budgets, ledgers
    contexts: dict[str, ReleaseContext] = field(default_factory=dict)


def _only_revocation(paths: tuple[str, ...]) -> bool:
    """A pull request that only revokes a release (and approves the revocation)."""

    def revocation_file(path: str) -> bool:
        placed = layout.classify(path)
        return placed is not None and (
            placed.kind == "revocation" or placed.ids.get("subject") == "revocation"
        )

    return bool(paths) and all(revocation_file(p) for p in paths)


def check_release(
    release: str, paths: tuple[str, ...], trust: Trust, head: Tree, base: Tree | None
) -> tuple[ReleaseResult, ReleaseContext | None]:
    """One release and the context it was judged in (None: it could not be built)."""
    try:
        ctx = release_context(release, trust, head, base)
    except InputError as exc:
        return ReleaseResult(release, tuple(files.invalid(exc)), paths), None
    except MissingExtra:
        raise
    except Exception as exc:  # fail closed
        finding = engine.failed_to_check(
            paths[0] if paths else None, "files", f"{type(exc).__name__}: {exc}"
        )
        return ReleaseResult(release, (finding,), paths), None
    if ctx.revocation is not None and _only_revocation(paths):
        return engine.check_revocation(ctx, paths), ctx
    records = tuple(p for p in paths if kind_of(p) == "revalidation")
    if paths and len(records) == len(paths):
        return _check_records(ctx, paths, head), ctx  # a record, not a new decision
    result = engine.run_gates(ctx, paths)
    if not records:
        return result, ctx
    # records that come with other files of the release are checked all the same: a
    # re-approval must not carry a hand-written one past the gate
    found = (*result.findings, *_check_records(ctx, records, head).findings)
    ordered = sorted(found, key=lambda f: (not f.blocks, f.gate, f.rule))
    return replace(result, findings=tuple(ordered)), ctx


def _check_records(ctx: ReleaseContext, paths: tuple[str, ...], head: Tree) -> ReleaseResult:
    """Revalidation records only, each judged by the revalidation gate."""
    from synthgov.models import Revalidation  # built only for a run that reads records

    found: list[Finding] = []
    seen = _measured(ctx, head, paths)
    for path in paths:
        try:
            if head.read(path) is None:
                continue  # deleted: the files gate says so (`files.record_deleted`)
            loaded: Loaded[Revalidation] = head.load(path, Revalidation)
        except InputError as exc:
            found += files.invalid(exc)
            continue
        found += revalidation.record_findings(ctx, loaded, seen)
    return ReleaseResult(ctx.release, tuple(found), paths)


def _measured(ctx: ReleaseContext, head: Tree, checked: tuple[str, ...]) -> dict[str, str]:
    """The real data the release has been measured on already -> where: its own training
    and holdout tables, and the real table of each revalidation record at head but those
    being `checked`."""
    from synthgov.models import Revalidation  # built only for a run that reads records

    report = ctx.report.model
    seen = {
        revalidation.content(report.inputs.real): ctx.report.document.path,
        revalidation.content(report.inputs.holdout): ctx.report.document.path,
    }
    folder = ctx.manifest.document.path.rsplit("/", 1)[0]
    for path in sorted(head.list(f"{folder}/revalidations")):
        if kind_of(path) != "revalidation" or path in checked:
            continue
        with suppress(InputError):  # a record that does not load is its own finding
            record: Revalidation = head.load(path, Revalidation).model
            seen.setdefault(revalidation.content(record.report.inputs.real), path)
    return seen


def _outside_releases(path: str, status: str, trust: Trust, head: Tree) -> list[Finding]:
    """Findings for a changed file outside any release: invalid files, deletions."""
    placed = layout.classify(path)
    if placed is None:
        return [files.unknown(path)]
    found: list[Finding] = []
    if status != "D":
        try:
            loaded = head.load(path)
            if placed.kind == "card":
                found += files.card_findings(loaded, trust.policy)
        except InputError as exc:
            found += files.invalid(exc)
    elif (gone := files.deleted(path, placed.kind)) is not None:
        found.append(gone)
    return found


def _release_file(path: str, status: str, head: Tree, base: Tree | None) -> list[Finding]:
    """Findings for a changed file of a release: deleted, or rewritten once merged."""
    if status == "D":
        if kind_of(path) == "revalidation":
            return [files.record_deleted(path)]
        return [files.removed_from_release(path)]
    if base is not None and kind_of(path) in files.MERGED_FIXED:
        before = base.read(path)
        if before is not None and before != head.read(path):
            return [files.changed_after_merge(path)]
    return []


def _page_of(path: str) -> str | None:
    """The release whose report page `path` is (None: not a release report page)."""
    folder, _, name = path.rpartition("/")
    return release_of(f"{folder}/report.json") if name == report_page.NAME else None


def _report_page(path: str, release: str, trust: Trust, head: Tree) -> list[Finding]:
    """A committed release report page: the one synthgov draws, or blocked."""
    from synthgov.models import Card, Report

    folder = path.rpartition("/")[0]
    try:
        page = head.read(path)
        report = head.load(f"{folder}/report.json", Report)
        card = head.load(layout.card_path(Release.of(release).dataset), Card)
    except InputError as exc:
        return [report_page.unverifiable(path, str(exc.problems[0]))]
    if page is None:
        return []
    return report_page.check(path, page, report, card, trust.policy)


def _governance(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree
) -> tuple[list[Finding], Trust]:
    """Card and budget changes, decided first (the budget gate reads which ledger
    changes are approved), and the trust that knows it."""
    try:
        found, approved = governance_changes(changes, trust, head, base)
        return found, replace(trust, approved_ledgers=approved)
    except InputError as exc:  # on the base: the change cannot be judged, so it blocks
        first = exc.problems[0]
        reason = f"the base's version does not load: {first}"
        return [engine.failed_to_check(first.location.path, "policy", reason)], trust
    except MissingExtra:
        raise
    except Exception as exc:  # fail closed
        reason = f"{type(exc).__name__}: {exc}"
        return [engine.failed_to_check(None, "policy", reason)], trust


def _trust_root_change(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree
) -> list[Finding]:
    """The approvals a change of policy/ or of an existing dataset's classification needs."""
    try:
        classifications = classification_changes(changes, head, base)
        if classifications or any(kind_of(p) in ("policy", "reviewers") for p, _ in changes):
            return policy_change(trust, head, base, classifications)
    except InputError as exc:
        return files.invalid(exc)
    except Exception as exc:  # fail closed
        reason = f"{type(exc).__name__}: {exc}"
        return [engine.failed_to_check(layout.POLICY, "policy", reason)]
    return []


def decide(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree | None
) -> RunResult:
    """Every release the changes touch, and every change outside a release (base None:
    no base side, as with --no-git: nothing is compared)."""
    releases: dict[str, list[str]] = {}
    top: list[Finding] = []
    governed: list[Finding] = []  # card and budget changes: decided first, reported after
    if base is not None:
        governed, trust = _governance(changes, trust, head, base)
    for path, status in changes:
        if not layout.is_governed(path):  # a README, .gitkeep or report page
            page_of = _page_of(path) if base is not None and status != "D" else None
            if page_of is not None and trust.check_pages:
                top += _report_page(path, page_of, trust, head)
            continue
        release = release_of(path)
        if release is None:
            top += _outside_releases(path, status, trust, head)
            continue
        releases.setdefault(release, []).append(path)
        top += _release_file(path, status, head, base)
    results, contexts = [], {}
    for release, paths in sorted(releases.items()):
        if head.read(f"{Release.of(release).folder}/manifest.yaml") is None and all(
            status == "D" for path, status in changes if path in paths
        ):
            continue  # a deleted release: reported above
        result, ctx = check_release(release, tuple(sorted(paths)), trust, head, base)
        results.append(result)
        if ctx is not None:
            contexts[release] = ctx
    if base is not None:
        top += _trust_root_change(changes, trust, head, base)
    top += governed
    if trust.policy.model.repository is None and any(layout.is_governed(p) for p, _ in changes):
        top.append(policy.repository_missing(layout.POLICY))
    top += ledger_changes(changes, head, base, trust.approved_ledgers)
    return RunResult(results, top, contexts)
