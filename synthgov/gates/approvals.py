"""The approvals gate: the roles and counts a tier requires, met by valid signed approvals.

An approval counts only when (BRIEF §5, signing.md §11): a carrier verifies, either its
embedded signature over the canonical payload or a signed commit of the pull request
whose tree holds this exact file, with a key the base registry gives its reviewer and
that is valid at the checker's clock; the reviewer holds the role; the reviewer is not an
author of what is approved; its signed payload names this kind of subject and this
repository (the policy's `repository`); and its digest equals what is approved as it is
now. Each reviewer fills at most one slot. A valid `reject` blocks until its reviewer
replaces it. The same rules judge the approvals of a waiver, a revocation, and of the
changes a pull request makes to policy/, to a card or to the privacy budgets.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace

from synthgov import approvals, clock, commits, layout
from synthgov.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.loading import Loaded
from synthgov.models import Approval, Policy, Registry, Waiver
from synthgov.models.common import Classification, format_timestamp
from synthgov.models.reviewers import Reviewer
from synthgov.signatures import Signer, Verifier
from synthgov.sshsig import SignatureError


def _none() -> tuple[bytes, ...]:
    return ()


#: How far ahead of the checker's clock a signer's `signed_at` may be (clock skew).
SKEW = clock.SKEW


@dataclass(frozen=True)
class Filed:
    """An approval file at head, and how to find the signed commits that carry it."""

    loaded: Loaded[Approval]
    #: Raw commits of the pull request that set these exact bytes, authored by the reviewer
    #: and touching nothing but approval files; looked up only when the embedded signature
    #: does not verify.
    commits: Callable[[], tuple[bytes, ...]] = _none


@dataclass(frozen=True)
class Evidence:
    """What the approvals of one subject are judged on, gathered by the command."""

    registry: Registry  # the base branch's: the trust root
    verifier: Verifier
    approvals: tuple[Filed, ...]  # every approval file of the subject at head
    author_emails: frozenset[str]  # case-folded: manifest author, commit authors and committers
    author_commits: tuple[bytes, ...] = ()  # raw commits that made the authors
    enforce: bool = True  # False (pre-push): missing approvals warn instead of block
    #: Earlier versions of the subject's approval files (on the base, or in the pull
    #: request and since deleted or overwritten): a reject among them still stands.
    past: tuple[Loaded[Approval], ...] = ()
    #: Case-folded code-host logins that opened the pull request (`check --pr-author`).
    author_logins: frozenset[str] = frozenset()
    #: Whether the pull request's commits were examined (False with --no-git).
    history: bool = True


@dataclass(frozen=True)
class Subject:
    """What is approved: its label, digest and requirement, and where that was set."""

    label: str  # "claims@1.0", "waiver w1 of claims@1.0", "the change to policy/"
    digest: str
    required: dict[str, int]
    required_file: str
    required_line: int | None
    command: str  # how a reviewer approves it
    type: str  # the approvals' `subject`: release, waiver, revocation, policy, card, budget
    repository: str | None  # the base policy's repository id (None: the policy sets none)


def binding_problem(subject: Subject, loaded: Loaded[Approval]) -> tuple[str, str] | None:
    """(rule, why) when an approval's signed payload is not for this kind of subject in
    this repository: an approval is never replayed across subjects or repositories."""
    data, approval = loaded.document.data, loaded.model
    if subject.repository is None:
        return None  # a policy without an id binds nothing (check warns about it)
    if data.get("subject") != subject.type:
        named = data.get("subject")
        return (
            "approvals.type",
            f"its signed payload names {'no subject' if named is None else f'subject {named}'}, "
            f"not {subject.type}",
        )
    if approval.repository != subject.repository:
        named = approval.repository
        return (
            "approvals.repository",
            f"it was signed for {'no repository' if named is None else f'repository {named}'}, "
            f"not this one ({subject.repository}, the base policy's `repository`)",
        )
    return None


def _signer(filed: Filed, verifier: Verifier) -> tuple[Signer | None, str]:
    """The first carrier that verifies, else None and why the embedded one failed."""
    approval = filed.loaded.model
    payload = approvals.signed_payload(filed.loaded.document.data)
    try:
        signer = verifier.embedded(approval.signature, payload)
    except SignatureError as exc:
        why = f"embedded signature: {exc}"
    else:
        if signer.reviewer == approval.reviewer:
            return signer, ""
        why = f"embedded signature: made with {signer.reviewer}'s key, not {approval.reviewer}'s"
    carriers = filed.commits()
    for raw in carriers:
        try:
            signer = verifier.commit(raw)
        except SignatureError:
            continue
        if signer.reviewer == approval.reviewer:
            return signer, ""
    if carriers:
        why += "; no commit adding it is validly signed by the reviewer"
    return None, why


def author_reasons(evidence: Evidence) -> dict[str, str]:
    """Reviewer id -> why they are an author of the subject (the first reason found): any
    of their registered addresses on it or on a commit that touched it (author, committer
    or `Co-authored-by` trailer: a squash merge keeps only those), their key on such a
    commit, or the pull request opened under their login."""
    registry = evidence.registry
    found: dict[str, str] = {}
    for reviewer in registry.with_address(evidence.author_emails):
        address = sorted(reviewer.addresses & evidence.author_emails)[0]
        found.setdefault(reviewer.id, f"it names {address} as its author")
    for raw in evidence.author_commits:
        sha = commits.object_id(raw)[:12]
        made = frozenset(e.casefold() for e in commits.author_emails(raw))
        credited = frozenset(e.casefold() for e in commits.coauthor_emails(raw)) - made
        for emails, how in ((made, "was made as"), (credited, "names as a co-author")):
            for reviewer in registry.with_address(emails):
                address = sorted(reviewer.addresses & emails)[0]
                found.setdefault(
                    reviewer.id, f"commit {sha}, which wrote part of it, {how} {address}"
                )
        with suppress(SignatureError):  # unsigned or unknown: the addresses still count
            found.setdefault(
                evidence.verifier.commit_signer(raw),
                f"commit {sha}, which wrote part of it, is signed with their key",
            )
    for reviewer in registry.with_login(evidence.author_logins):
        found.setdefault(reviewer.id, f"the pull request was opened by @{reviewer.login}")
    return found


def authors(evidence: Evidence) -> set[str]:
    """Reviewer ids who authored the subject (`author_reasons` says how)."""
    return set(author_reasons(evidence))


def _standing_rejects(
    subject: Subject, evidence: Evidence, decided: dict[str, Approval]
) -> list[Finding]:
    """Rejects that are no longer at head but were never superseded by the same reviewer's
    later signed decision (signing.md attack 27): deleting or overwriting one does not
    erase it."""
    found = []
    for loaded in evidence.past:
        old = loaded.model
        if old.decision != "reject" or binding_problem(subject, loaded) is not None:
            continue
        try:
            signer = evidence.verifier.embedded(
                old.signature, approvals.signed_payload(loaded.document.data)
            )
        except SignatureError:
            continue  # a reject that never verified never blocked
        reviewer = evidence.registry.reviewer(signer.reviewer)
        if signer.reviewer != old.reviewer or reviewer is None or old.role not in reviewer.roles:
            continue
        now = decided.get(old.reviewer)
        if now is not None and now.signed_at > old.signed_at:
            continue  # the reviewer decided again, later
        path = loaded.document.path
        found.append(
            Finding(
                gate="approvals",
                rule="approvals.rejected",
                severity=Severity.ERROR,
                message=f"{path}: {old.reviewer} ({old.role}) rejected {subject.label} "
                f"at {format_timestamp(old.signed_at)}; removing or overwriting the file "
                "does not withdraw it: only the reviewer's later signed decision does",
                file=path,
                line=1,
                enforcement="hard",
            )
        )
    return found


def judge(subject: Subject, evidence: Evidence) -> list[Finding]:
    """Findings for one subject: rejects and missing approvals block; the rest inform."""
    return review(subject, evidence)[0]


def review(subject: Subject, evidence: Evidence) -> tuple[list[Finding], dict[str, list[str]]]:
    """(findings, role -> reviewers whose approval counts) for one subject."""
    found: list[Finding] = []
    authored = author_reasons(evidence)
    offers: dict[str, set[str]] = {}

    def note(filed: Filed, rule: str, message: str, severity: Severity = Severity.WARNING) -> None:
        path = filed.loaded.document.path
        found.append(
            Finding(
                gate="approvals",
                rule=rule,
                severity=severity,
                file=path,
                line=1,
                message=f"{path}: {message}",
                enforcement="hard",
            )
        )

    decided: dict[str, Approval] = {}  # reviewer -> their counted decision at head
    for filed in evidence.approvals:
        approval = filed.loaded.model
        signer, why = _signer(filed, evidence.verifier)
        if signer is None:
            note(filed, "approvals.signature", f"not counted: no valid signature ({why})")
            continue
        if (bound := binding_problem(subject, filed.loaded)) is not None:
            note(filed, bound[0], f"not counted: {bound[1]}")
            continue
        if clock.is_future(approval.signed_at, evidence.verifier.now):
            note(
                filed,
                "approvals.signed_at",
                f"not counted: signed_at {format_timestamp(approval.signed_at)} is in the future",
            )
            continue
        reviewer: Reviewer = evidence.registry.reviewer(approval.reviewer)  # type: ignore[assignment]
        if approval.role not in reviewer.roles:
            note(
                filed,
                "approvals.role",
                f"not counted: {reviewer.id} does not hold the role {approval.role} in the base registry",
            )
            continue
        if reviewer.id in authored:
            note(
                filed,
                "approvals.author",
                f"not counted: {reviewer.id} is an author of {subject.label} and cannot approve it "
                f"({authored[reviewer.id]})",
            )
            continue
        decided[reviewer.id] = approval
        if approval.decision == "reject":
            note(
                filed,
                "approvals.rejected",
                f"{reviewer.id} ({approval.role}) rejected {subject.label}"
                + (f": {approval.comment}" if approval.comment else ""),
                Severity.ERROR,
            )
            continue
        if approval.digest != subject.digest:
            note(
                filed,
                "approvals.stale",
                f"not counted: it approves another version of {subject.label} "
                "(changed since it was signed); the reviewer must approve again",
            )
            continue
        offers.setdefault(reviewer.id, set()).add(approval.role)
    found += _standing_rejects(subject, evidence, decided)
    filled = approvals.fill(subject.required, offers)
    for role, count in sorted(subject.required.items()):
        have = filled[role]
        if len(have) >= count:
            continue
        who = f" ({', '.join(have)})" if have else ""
        severity = Severity.ERROR if evidence.enforce else Severity.WARNING
        found.append(
            Finding(
                gate="approvals",
                rule="approvals.missing",
                severity=severity,
                message=f"{subject.label} needs {count} {role} approval(s) from distinct reviewers "
                f"who are not its authors, has {len(have)}{who}",
                observed=float(len(have)),
                threshold=float(count),
                file=subject.required_file,
                line=subject.required_line,
                threshold_file=subject.required_file,
                threshold_line=subject.required_line,
                enforcement="hard",
                fix=f"A reviewer with the role runs `{subject.command} --role {role}`.",
            )
        )
    return found, filled


def _split(ctx: ReleaseContext) -> tuple[list[Filed], dict[str, list[Filed]]]:
    evidence = ctx.approvals
    assert evidence is not None
    release: list[Filed] = []
    by_waiver: dict[str, list[Filed]] = {}
    for filed in evidence.approvals:
        approval = filed.loaded.model
        if approval.release != ctx.release:
            continue  # misplaced files are `files` findings; never counted here
        if approval.subject == "waiver" and approval.waiver is not None:
            by_waiver.setdefault(approval.waiver, []).append(filed)
        elif approval.subject == "release":
            release.append(filed)
    return release, by_waiver


def _release_subject(ctx: ReleaseContext) -> Subject:
    tier = ctx.classification.value
    where = ctx.policy.document.locate(("tiers", tier, "approvals"))
    digest = approvals.release_digest(ctx.manifest.document.data, ctx.report.document.data)
    return Subject(
        ctx.release,
        digest,
        ctx.policy.model.tiers.for_classification(ctx.classification).approvals,
        where.path,
        where.line,
        f"synthgov approve {ctx.release}",
        "release",
        ctx.policy.model.repository,
    )


def check(ctx: ReleaseContext) -> list[Finding]:
    found = standing(ctx)[0] + unsigned_commits(ctx)
    return found + revocation_findings(ctx) if ctx.revocation is not None else found


def unsigned_commits(ctx: ReleaseContext) -> list[Finding]:
    """With the tier's `require_signed_commits`: every commit that wrote the release must be
    signed by a key of the base registry valid now, so that the signer, never a claimed
    e-mail, says who wrote it (and cannot then approve it)."""
    tier = ctx.policy.model.tiers.for_classification(ctx.classification)
    evidence = ctx.approvals
    if not tier.require_signed_commits or evidence is None:
        return []
    where = ctx.policy.document.locate(
        ("tiers", ctx.classification.value, "require_signed_commits")
    )
    manifest = ctx.manifest.document.path

    def finding(message: str, severity: Severity) -> Finding:
        return Finding(
            gate="approvals",
            rule="approvals.unsigned_commit",
            severity=severity,
            message=message,
            file=manifest,
            line=1,
            threshold_file=where.path,
            threshold_line=where.line,
            enforcement="hard",
            fix="Sign the commits that write the release (git commit -S) with a key "
            "registered in policy/reviewers.yaml, e.g. by rebasing with "
            "`git rebase --exec 'git commit --amend --no-edit -S'`.",
        )

    if not evidence.history:
        return [
            finding(
                f"the {ctx.classification.value} tier requires signed release commits; "
                "they are checked only against git history (not with --no-git)",
                Severity.WARNING,
            )
        ]
    found = []
    for raw in evidence.author_commits:
        try:
            evidence.verifier.commit(raw)
        except SignatureError as exc:
            found.append(
                finding(
                    f"commit {commits.object_id(raw)[:12]} writes {ctx.release} but does not count as "
                    f"signed ({exc}); the {ctx.classification.value} tier requires every commit that "
                    "writes a release to be signed by a key of the base registry",
                    Severity.ERROR,
                )
            )
    return found


def standing(ctx: ReleaseContext) -> tuple[list[Finding], dict[str, list[str]], dict[str, int]]:
    """(findings, role -> counted reviewers, role -> required) of the release's approvals."""
    evidence = ctx.approvals
    if evidence is None:
        raise ValueError("no approval evidence was gathered for this release")
    release, _ = _split(ctx)
    subject = _release_subject(ctx)
    found, filled = review(subject, _with(evidence, release, "release", None))
    return found, filled, subject.required


def revocation_findings(ctx: ReleaseContext) -> list[Finding]:
    """The approvals a revocation needs: the tier's, by reviewers who are not its author."""
    evidence, revocation = ctx.approvals, ctx.revocation
    if evidence is None or revocation is None:
        raise ValueError("no revocation or no approval evidence for this release")
    filed = [f for f in evidence.approvals if f.loaded.model.subject == "revocation"]
    tier = ctx.policy.model.tiers.for_classification(ctx.classification)
    where = ctx.policy.document.locate(("tiers", ctx.classification.value, "approvals"))
    subject = Subject(
        f"the revocation of {ctx.release}",
        approvals.revocation_digest(ctx.release, revocation.document.data),
        tier.approvals,
        where.path,
        where.line,
        f"synthgov approve {ctx.release} --revocation",
        "revocation",
        ctx.policy.model.repository,
    )
    narrowed = _with(evidence, filed, "revocation", None)
    emails = evidence.author_emails | {revocation.model.author.casefold()}
    return judge(subject, replace(narrowed, author_emails=emails))


def _with(evidence: Evidence, filed: list[Filed], subject: str, waiver: str | None) -> Evidence:
    """The evidence narrowed to one subject's approval files, current and past."""
    past = tuple(a for a in evidence.past if (a.model.subject, a.model.waiver) == (subject, waiver))
    return replace(evidence, approvals=tuple(filed), past=past)


def approved_waivers(ctx: ReleaseContext) -> tuple[tuple[Loaded[Waiver], ...], list[Finding]]:
    """The waivers with the approvals the policy's `waivers.approvals` requires.

    A waiver without them is not in force: the finding it would relax keeps blocking, and
    a warning says why. Its authors are the release's: nobody waives their own gate. A
    waiver whose owner is not a reviewer of the base registry is refused outright.
    """
    evidence = ctx.approvals
    if evidence is None:
        raise ValueError("no approval evidence was gathered for this release")
    _, by_waiver = _split(ctx)
    where = ctx.policy.document.locate(("waivers", "approvals"))
    kept, found = [], []
    for loaded in ctx.waivers:
        waiver = loaded.model
        if evidence.registry.reviewer(waiver.owner) is None:
            spot = loaded.document.locate(("owner",))
            found.append(
                Finding(
                    gate="policy",
                    rule="waivers.owner",
                    severity=Severity.ERROR,
                    message=f"waiver {waiver.id} does not apply: its owner {waiver.owner} is not a "
                    "reviewer of the base registry; an exception has an accountable owner",
                    observed=waiver.owner,
                    file=spot.path,
                    line=spot.line,
                    enforcement="hard",
                    fix="Name a reviewer id of policy/reviewers.yaml (on the base branch) as owner.",
                )
            )
            continue
        subject = Subject(
            f"waiver {waiver.id} of {ctx.release}",
            approvals.waiver_digest(ctx.release, loaded.document.data),
            ctx.policy.model.waivers.approvals,
            where.path,
            where.line,
            f"synthgov approve {ctx.release} --waiver {waiver.id}",
            "waiver",
            ctx.policy.model.repository,
        )
        problems = judge(
            subject, _with(evidence, by_waiver.get(waiver.id, []), "waiver", waiver.id)
        )
        missing = [f for f in problems if f.rule == "approvals.missing"]
        found += [f for f in problems if f.rule != "approvals.missing"]
        if not missing and not any(f.blocks for f in problems):
            kept.append(loaded)
            continue
        found += [
            Finding(
                gate="approvals",
                rule="approvals.waiver_unapproved",
                severity=Severity.WARNING,
                message=f"waiver {waiver.id} is not in force: {f.message}",
                observed=f.observed,
                threshold=f.threshold,
                file=loaded.document.path,
                line=1,
                threshold_file=f.threshold_file,
                threshold_line=f.threshold_line,
                enforcement="hard",
                fix=f.fix,
            )
            for f in missing
        ]
    return tuple(kept), found


def policy_subject(policy: Loaded[Policy], registry: Registry, digest: str) -> Subject:
    """A change to the trust root (policy/, or a dataset's classification): the base
    policy's `policy_changes` counts, each capped at the number of holders the base
    registry has but at least one (BRIEF §10.1: one approval when the registry holds a
    single policy admin)."""
    return change_subject(
        policy,
        registry,
        "policy_changes",
        digest,
        "policy",
        "the change to policy/ and classifications",
    )


def budget_subject(policy: Loaded[Policy], registry: Registry, digest: str) -> Subject:
    """A change of the privacy budgets (a new ledger, a ledger's header, a card's source):
    the base policy's `budget_changes`, capped like `policy_changes`."""
    return change_subject(
        policy, registry, "budget_changes", digest, "budget", "the change to the privacy budgets"
    )


def change_subject(
    policy: Loaded[Policy], registry: Registry, section: str, digest: str, kind: str, label: str
) -> Subject:
    """A change of the pull request approved by the roles under `section.approvals`, each
    count capped at the holders the base registry has but at least one."""
    counts: dict[str, int] = getattr(policy.model, section).approvals
    required = {
        role: min(count, max(1, len(registry.holders(role)))) for role, count in counts.items()
    }
    where = policy.document.locate((section, "approvals"))
    return Subject(
        label,
        digest,
        required,
        where.path,
        where.line,
        f"synthgov approve --{kind}",
        kind,
        policy.model.repository,
    )


def card_subject(
    policy: Loaded[Policy], classification: Classification, dataset: str, digest: str
) -> Subject:
    """A change of an existing card: the approvals of its tier (the base classification's),
    as a release of the dataset would need them."""
    where = policy.document.locate(("tiers", classification.value, "approvals"))
    return Subject(
        f"the change to {layout.card_path(dataset)}",
        digest,
        policy.model.tiers.for_classification(classification).approvals,
        where.path,
        where.line,
        f"synthgov approve --card {dataset}",
        "card",
        policy.model.repository,
    )
