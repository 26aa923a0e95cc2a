"""`synthgov check`: the pull-request gate.

The trust root is the base commit: its policy (and, for an existing dataset, its card's
classification) decides; nothing the pull request changes under policy/ applies to it
(BRIEF §5). The changed files are `git diff merge-base(base, head)..head`; every release
they touch is evaluated by the engine. A malformed governance file in the pull request is a
`files` finding (exit 1: it is what is under review); what prevents a decision, such as an
unknown base or a base policy that cannot be loaded, is exit 2 (BRIEF §10.6).
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from synthgov import approvals, clock, engine, governance, layout, ledgers, outputs
from synthgov.consistency import card_problems, constraint_problems
from synthgov.decision.contexts import release_context
from synthgov.decision.evidence import approval_evidence
from synthgov.decision.sides import (
    Tree,
    commit_tree,
    git_sides,
    kind_of,
    loads,
    parsed,
    release_of,
    working_tree,
)
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import InputError
from synthgov.findings import Finding, ReleaseResult, Severity, Verdict
from synthgov.gates import ReleaseContext, budget, dates, metrics
from synthgov.gates.approvals import (
    budget_subject,
    card_subject,
    judge,
    policy_subject,
)
from synthgov.gates.changes import (
    BudgetChange,
    approved,
    as_change_findings,
    budget_findings,
    card_changes,
    card_findings,
    same_data,
)
from synthgov.history import Repository
from synthgov.loading import Document, Loaded, validate
from synthgov.models import (
    Card,
    Ledger,
    Manifest,
    Policy,
    Report,
    Revalidation,
)

#: A release's files that never change once on the base: what was approved and shipped,
#: its revocation (rewritten, it would stop naming the revoked table) and its
#: revalidation records (re-dated, one would postpone the schedule).
MERGED_FIXED = ("manifest", "report", "revocation", "revalidation")


def _files_findings(exc: InputError, rule: str = "files.invalid") -> list[Finding]:
    return [
        Finding(
            gate="files",
            rule=rule,
            severity=Severity.ERROR,
            message=p.message,
            file=p.location.path,
            line=p.location.line or 1,
            enforcement="hard",
            fix="Fix the file so that `synthgov validate` passes.",
        )
        for p in exc.problems
    ]


def _only_revocation(files: tuple[str, ...]) -> bool:
    """A pull request that only revokes a release (and approves the revocation)."""

    def revocation_file(path: str) -> bool:
        placed = layout.classify(path)
        return placed is not None and (
            placed.kind == "revocation" or placed.ids.get("subject") == "revocation"
        )

    return bool(files) and all(revocation_file(p) for p in files)


def _check_release(
    release: str, files: tuple[str, ...], trust: Trust, head: Tree, base: Tree | None
) -> ReleaseResult:
    """One release, failing closed: whatever stops the evaluation blocks the release."""
    try:
        ctx = release_context(release, trust, head, base)
    except InputError as exc:
        return ReleaseResult(release, tuple(_files_findings(exc)), files)
    except Exception as exc:  # fail closed
        finding = engine.failed_to_check(
            files[0] if files else None, "files", f"{type(exc).__name__}: {exc}"
        )
        return ReleaseResult(release, (finding,), files)
    if ctx.revocation is not None and _only_revocation(files):
        return engine.check_revocation(ctx, files)
    records = tuple(p for p in files if kind_of(p) == "revalidation")
    if files and len(records) == len(files):
        return _check_records(ctx, files, head)  # a record, not a new decision
    result = engine.check_release(ctx, files)
    if not records:
        return result
    # records that come with other files of the release are checked all the same: a
    # re-approval must not carry a hand-written one past the gate
    found = (*result.findings, *_check_records(ctx, records, head).findings)
    ordered = sorted(found, key=lambda f: (not f.blocks, f.gate, f.rule))
    return replace(result, findings=tuple(ordered))


def failing_rules(ctx: ReleaseContext, report: dict[str, Any]) -> list[str]:
    """The blocking metric rules of the release (as `check` judges it) on another report."""
    document = Document(ctx.report.document.path, report)
    fresh = replace(ctx, report=Loaded(validate(document, Report), document))
    return sorted(
        {f.rule for f in metrics.check(fresh) if f.blocks and f.enforcement != "advisory"}
    )


def _check_records(ctx: ReleaseContext, files: tuple[str, ...], head: Tree) -> ReleaseResult:
    """Revalidation records only: each must be about this release's artifact, dated no
    later than now, and say what its own report says (a hand-written `pass` or a date in
    2099 would switch the schedule off)."""
    found: list[Finding] = []
    artifact = ctx.manifest.model.artifact.sha256
    seen = _measured(ctx, head, files)
    for path in files:
        try:
            loaded = head.load(path, "revalidation")
        except InputError as exc:
            found += _files_findings(exc)
            continue
        record: Revalidation = loaded.model
        problems = []
        if record.artifact_sha256 != artifact or record.report.inputs.synthetic.sha256 != artifact:
            problems.append(("artifact_sha256", "is not the release's artifact"))
        if clock.is_future(record.revalidated_at, ctx.now):
            problems.append(("revalidated_at", "is in the future"))  # after the clock + skew
        measured = _content(record.report.inputs.real)
        if measured in seen:  # an earlier record copied under a new date postpones the schedule
            problems.append(
                (
                    "report",
                    f"measures real data already used by {seen[measured]}: "
                    "a revalidation measures fresh data",
                )
            )
        seen.setdefault(measured, path)
        rules = failing_rules(ctx, loaded.document.data["report"])
        if rules != sorted(record.blocking) or record.verdict != ("blocked" if rules else "pass"):
            problems.append(
                (
                    "verdict",
                    f"does not match its report (the report fails: {', '.join(rules) or 'nothing'})",
                )
            )
        for field_name, message in problems:
            spot = loaded.document.locate((field_name,))
            found.append(
                Finding(
                    gate="files",
                    rule="files.revalidation",
                    severity=Severity.ERROR,
                    message=f"{field_name} {message}",
                    file=spot.path,
                    line=spot.line,
                    enforcement="hard",
                    fix="Write records with `synthgov revalidate`; never edit them.",
                )
            )
    return ReleaseResult(ctx.release, tuple(found), files)


def _content(table: Any) -> str:
    """A report input's identity: its content fingerprint, else its bytes' sha256."""
    return str(table.fingerprint or table.sha256)


def _measured(ctx: ReleaseContext, head: Tree, checked: tuple[str, ...]) -> dict[str, str]:
    """The real data the release has been measured on already -> where: its own training
    and holdout tables, and the real table of each revalidation record at head but those
    being `checked`."""
    report = ctx.report.model
    seen = {
        _content(report.inputs.real): ctx.report.document.path,
        _content(report.inputs.holdout): ctx.report.document.path,
    }
    folder = ctx.manifest.document.path.rsplit("/", 1)[0]
    for path in sorted(head.list(f"{folder}/revalidations")):
        if kind_of(path) != "revalidation" or path in checked:
            continue
        with suppress(InputError):  # a record that does not load is its own finding
            record: Revalidation = head.load(path, "revalidation").model
            seen.setdefault(_content(record.report.inputs.real), path)
    return seen


def _named(release: str, changes: list[tuple[str, str]], head: Tree, base: Tree) -> budget.Named:
    """What the budget gate needs about a release a ledger entry names: its dataset's
    source (the base's card decides an existing dataset), its manifest at head, and
    whether this pull request adds it."""
    dataset, version = release.split("@", 1)
    card_path = layout.card_path(dataset)
    card_raw = base.read(card_path)
    card_raw = head.read(card_path) if card_raw is None else card_raw
    card: Card | None = parsed(card_raw, card_path, "card").model if card_raw is not None else None
    where = f"{layout.release_dir(dataset, version)}/manifest.yaml"
    manifest = head.load(where, "manifest") if head.read(where) is not None else None
    added = any(path == where and status != "D" for path, status in changes)
    return budget.Named(
        card.source.id if card else None, manifest, added and base.read(where) is None
    )


def _ledger_changes(
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
            loaded: Loaded[Ledger] = head.load(path, "ledger")
        except InputError:
            continue  # already a files finding
        try:
            raw = base.read(path)
            on_base: Loaded[Ledger] | None = (
                governance.load_bytes(raw, path, "ledger") if raw is not None else None  # type: ignore[assignment]
            )
            base_data = on_base.document.data if on_base else None
            named = {
                release: _named(release, changes, head, base)
                for index in ledgers.new_entries(loaded.document.data, base_data)
                if (release := loaded.model.entries[index].release)
            }
            found += budget.ledger_findings(
                loaded, on_base, named, header_approved=path in approved_ledgers
            )
        except Exception as exc:  # fail closed
            found.append(engine.failed_to_check(path, "budget", f"{type(exc).__name__}: {exc}"))
    return found


def _top_level(path: str, status: str, policy: Loaded[Policy], head: Tree) -> list[Finding]:
    """Findings for a changed file outside any release: invalid files, policy changes."""
    placed = layout.classify(path)
    if placed is None:
        return [
            Finding(
                gate="files",
                rule="files.unknown",
                severity=Severity.ERROR,
                message="not a governance file (see docs/files/ for the layout)",
                file=path,
                line=1,
                enforcement="hard",
            )
        ]
    found: list[Finding] = []
    if status != "D":
        try:
            loaded = head.load(path)
            if placed.kind == "card":
                for rule, problems in (
                    ("files.card_constraint", constraint_problems(loaded)),
                    ("files.card_override", card_problems(loaded, policy)),
                ):
                    if problems:
                        found += _files_findings(InputError(problems), rule)
        except InputError as exc:
            found += _files_findings(exc)
    if status == "D" and placed.kind in ("card", "ledger", "policy", "reviewers"):
        found.append(
            Finding(
                gate="files",
                rule="files.deleted",
                severity=Severity.ERROR,
                message=f"{path} is deleted; governance history is append-only",
                file=path,
                line=1,
                enforcement="hard",
            )
        )
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
        if old_raw is None or new_raw is None or (new := loads(new_raw, path, "card")) is None:
            continue
        old: Loaded[Card] = parsed(old_raw, path, "card")
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
        if (loaded := loads(new_raw, path, "ledger")) is None:
            continue
        new = ledgers.header(loaded.document.data)
        old_raw = base.read(path)
        old = ledgers.header(parsed(old_raw, path, "ledger").document.data) if old_raw else None
        if old is None or not same_data(old, new):
            headers[path] = (old, new)
    sources = {
        dataset: (old.model.source.id, new.model.source.id)
        for dataset, (old, new) in changed_cards(changes, head, base).items()
        if old.model.source.id != new.model.source.id
    }
    return BudgetChange(headers, sources)


def budget_change_digest(change: BudgetChange) -> str:
    return approvals.budget_digest(change.ledgers, change.sources)


def card_change_digest(old: Loaded[Card], new: Loaded[Card]) -> str:
    return approvals.card_digest(new.model.id, old.document.data, new.document.data)


def _governance_changes(
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
    return approvals.policy_digest(sides["base"], sides["proposed"], classifications)


def _policy_change(
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
    found = judge(policy_subject(trust.policy, trust.registry, digest), evidence)
    return as_change_findings(found, "policy.change", "policy")


def policy_impact(proposed: Loaded[Policy], trust: Trust, base: Tree) -> list[Finding]:
    """Releases on the base that pass today but the proposed policy would block (advisory).

    Approvals are judged by their embedded signatures, and missing ones only warn: the
    question is what the new rules and thresholds would change.
    """
    current = replace(trust, provenance=None, enforce_approvals=False)
    after_policy = replace(current, policy=proposed)
    releases = sorted({r for p in base.list("datasets") if (r := release_of(p))})
    found = []
    for release in releases:
        after = _check_release(release, (), after_policy, base, base)
        if after.verdict != "blocked":
            continue
        if _check_release(release, (), current, base, base).verdict == "blocked":
            continue  # already blocked today: not this change's doing
        rules = sorted({f.rule for f in after.findings if f.blocks})
        found.append(
            Finding(
                gate="policy",
                rule="policy.impact",
                severity=Severity.WARNING,
                message=f"under the proposed policy, {release} (on the base, passing today) would be blocked by {', '.join(rules)}",
                file=layout.POLICY,
                line=1,
                enforcement="advisory",
            )
        )
    return found


def decide(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree | None
) -> tuple[list[ReleaseResult], list[Finding]]:
    releases: dict[str, list[str]] = {}
    top: list[Finding] = []
    governed: list[Finding] = []  # card and budget changes: decided first, reported after
    if base is not None:
        try:
            governed, ledgers_approved = _governance_changes(changes, trust, head, base)
            trust = replace(trust, approved_ledgers=ledgers_approved)
        except InputError as exc:  # on the base: the change cannot be judged, so it blocks
            first = exc.problems[0]
            governed = [
                engine.failed_to_check(
                    first.location.path, "policy", f"the base's version does not load: {first}"
                )
            ]
        except Exception as exc:  # fail closed
            governed = [engine.failed_to_check(None, "policy", f"{type(exc).__name__}: {exc}")]
    for path, status in changes:
        if not layout.is_governed(path):  # a README or .gitkeep beside governance files
            continue
        release = release_of(path)
        if release is None:
            top += _top_level(path, status, trust.policy, head)
            continue
        releases.setdefault(release, []).append(path)
        if status != "D" and base is not None and kind_of(path) in MERGED_FIXED:
            before = base.read(path)
            if before is not None and before != head.read(path):
                top.append(
                    Finding(
                        gate="files",
                        rule="files.changed",
                        severity=Severity.ERROR,
                        message=f"{path} is changed, but its release is on the base already: "
                        "what was approved and shipped is never rewritten",
                        file=path,
                        line=1,
                        enforcement="hard",
                        fix="Restore the base's file; release a new version, or revoke this one.",
                    )
                )
        if status == "D":
            top.append(
                Finding(
                    gate="files",
                    rule="files.deleted",
                    severity=Severity.ERROR,
                    message=f"{path} is deleted; a merged release is revoked, never removed",
                    file=path,
                    line=1,
                    enforcement="hard",
                )
            )
    results = []
    for release, files in sorted(releases.items()):
        if head.read(f"{layout.release_dir(*release.split('@', 1))}/manifest.yaml") is None and all(
            status == "D" for path, status in changes if path in files
        ):
            continue  # a deleted release: reported above
        results.append(_check_release(release, tuple(sorted(files)), trust, head, base))
    if base is not None:
        try:
            classifications = classification_changes(changes, head, base)
            if classifications or any(kind_of(p) in ("policy", "reviewers") for p, _ in changes):
                top += _policy_change(trust, head, base, classifications)
        except InputError as exc:
            top += _files_findings(exc)
        except Exception as exc:  # fail closed
            reason = f"{type(exc).__name__}: {exc}"
            top.append(engine.failed_to_check(layout.POLICY, "policy", reason))
    top += governed + _unbound_approvals(trust, changes)
    top += _ledger_changes(changes, head, base, trust.approved_ledgers)
    return results, top


def _unbound_approvals(trust: Trust, changes: list[tuple[str, str]]) -> list[Finding]:
    """A warning while the base policy names no repository id: its approvals could be
    replayed from another repository whose registry holds the same keys."""
    if trust.policy.model.repository is not None or not any(
        layout.is_governed(path) for path, _ in changes
    ):
        return []
    return [
        Finding(
            gate="policy",
            rule="policy.repository_missing",
            severity=Severity.WARNING,
            message="the base policy names no `repository` id, so approvals are not "
            "bound to this repository and could be replayed from another",
            file=layout.POLICY,
            line=1,
            enforcement="advisory",
            fix="Add `repository: <a fresh UUID>` to policy/policy.yaml in an approved "
            "policy change (python -c 'import uuid; print(uuid.uuid4())').",
        )
    ]


def _head_tree(root: Path) -> Tree:
    """HEAD's committed files (the scheduled job's view of main)."""
    repo = Repository.open(root)
    return commit_tree(repo, repo.head())


def _current(
    head: Tree, releases: list[str], now: datetime
) -> tuple[dict[str, tuple[str, Manifest]], list[ReleaseResult]]:
    """dataset -> its newest non-revoked release (by manifest created_at) and manifest; and
    a blocking result for each manifest dated after `now`, which never becomes current."""
    newest: dict[str, tuple[str, Manifest]] = {}
    future = []
    for release in releases:
        dataset, version = release.split("@", 1)
        folder = layout.release_dir(dataset, version)
        if head.read(f"{folder}/revocation.yaml") is not None:
            continue
        loaded: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", "manifest")
        manifest = loaded.model
        late = dates.future_finding(
            loaded.document,
            "created_at",
            manifest.created_at,
            now,
            f"Revoke {release} and release it again with `synthgov release new`.",
        )
        if late is not None:
            future.append(ReleaseResult(release, (late,)))
            continue
        if dataset not in newest or manifest.created_at > newest[dataset][1].created_at:
            newest[dataset] = (release, manifest)
    return newest, future


def overdue(head: Tree, now: datetime) -> list[ReleaseResult]:
    """Each dataset's current release (its newest that is not revoked; older versions are
    superseded) when past its card's `revalidation_days`, counted from the latest
    revalidation record or else the release's creation, or when that record failed.
    Dates after `now` count for nothing and block (a manifest or record dated 2099 would
    switch the schedule off)."""
    releases = sorted({r for p in head.list("datasets") if (r := release_of(p))})
    try:
        current, results = _current(head, releases, now)
    except InputError as exc:
        return [ReleaseResult("(releases)", tuple(_files_findings(exc)))]
    for dataset, (release, manifest) in sorted(current.items()):
        folder = layout.release_dir(*release.split("@", 1))
        found: list[Finding] = []
        try:
            card: Card = head.load(layout.card_path(dataset), "card").model
            loaded = [
                head.load(p, "revalidation")
                for p in head.list(f"{folder}/revalidations")
                if kind_of(p) == "revalidation"
            ]
        except InputError as exc:
            results.append(ReleaseResult(release, tuple(_files_findings(exc))))
            continue
        records = []
        for item in loaded:
            late = dates.future_finding(
                item.document,
                "revalidated_at",
                item.model.revalidated_at,
                now,
                "Write records with `synthgov revalidate`; never edit them.",
            )
            if late is not None:
                found.append(late)
            else:
                records.append(item.model)
        records.sort(key=lambda r: r.revalidated_at)
        if records and records[-1].verdict == "blocked":
            found.append(
                Finding(
                    gate="policy",
                    rule="policy.revalidation_failed",
                    severity=Severity.ERROR,
                    message=f"{release}'s latest revalidation ({records[-1].revalidated_at:%Y-%m-%d}) "
                    f"fails {', '.join(records[-1].blocking)} on fresh data",
                    file=f"{folder}/revalidations",
                    line=1,
                    enforcement="mandatory",
                    fix="Regenerate and release a new version, or revoke this one.",
                )
            )
        last = max([manifest.created_at, *(r.revalidated_at for r in records)])
        due = clock.shift(last, timedelta(days=card.revalidation_days or 0))
        if card.revalidation_days is not None and now >= due:
            found.append(
                Finding(
                    gate="policy",
                    rule="policy.revalidation_overdue",
                    severity=Severity.ERROR,
                    message=f"{release} was due for revalidation on {due:%Y-%m-%d} "
                    f"({(now - due).days} days ago; every {card.revalidation_days} days per its card)",
                    observed=float((now - last).days),
                    threshold=float(card.revalidation_days),
                    file=layout.card_path(dataset),
                    line=1,
                    enforcement="mandatory",
                    fix=f"synthgov revalidate {release} --real FRESH, then merge the record.",
                )
            )
        if found:
            results.append(ReleaseResult(release, tuple(found)))
    return results


def run(
    root: Path,
    *,
    base: str | None,
    fmt: str,
    output: Path | None,
    no_git: bool,
    at: datetime | None = None,
    allow_missing_approvals: bool = False,
    scheduled: bool = False,
    pr_author: str | None = None,
) -> int:
    from synthgov.reporting import Format, render

    now = at or datetime.now(UTC)  # the checker's clock, read once (BRIEF §9)
    enforce = not allow_missing_approvals
    if scheduled:
        tree = working_tree(root) if no_git else _head_tree(root)
        trust = make_trust(tree, "the checked-out", now, None, enforce)
        changes, base_sha, head_sha = [], "", ""
        results, top = overdue(tree, now), list[Finding]()
    elif no_git:
        tree = working_tree(root)
        trust = make_trust(tree, "the working tree's", now, None, enforce)
        trust = replace(trust, pr_author=pr_author)
        changes = [(p, "M") for p in tree.list("datasets") if release_of(p)]
        base_sha = head_sha = ""
        with trust.verifier:
            results, top = decide(changes, trust, tree, None)
    else:
        with Repository.open(root) as repo:
            sides = git_sides(repo, base)
            base_sha, head_sha, changes = sides.base, sides.head, sides.changes
            where = f"the base commit {base_sha[:12]}'s"
            trust = make_trust(sides.base_tree, where, now, sides.provenance, enforce)
            trust = replace(trust, pr_author=pr_author)
            with trust.verifier:
                results, top = decide(changes, trust, sides.head_tree, sides.base_tree)
                if any(path == layout.POLICY and status != "D" for path, status in changes):
                    try:
                        proposed = sides.head_tree.load(layout.POLICY, "policy")
                    except InputError:
                        pass  # already a files finding
                    else:
                        top += policy_impact(proposed, trust, sides.base_tree)
    policy = trust.policy
    governed = [path for path, _ in changes if layout.is_governed(path)]
    notes = () if governed or scheduled else ("no governance file changed: nothing to check",)
    verdict = Verdict(
        base=base_sha,
        head=head_sha,
        releases=tuple(results),
        findings=tuple(top),
        rules_evaluated=len(policy.model.rules) * len(results),
        evaluated_at=now,
        notes=notes,
    )
    color = (
        fmt == "text" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    text = render(verdict, Format(fmt), color=color)
    if output is not None:
        outputs.write_text(output, text)  # once complete: a regular file, folders created
    else:
        click.echo(text, nl=not text.endswith("\n"))
    return verdict.exit_code
