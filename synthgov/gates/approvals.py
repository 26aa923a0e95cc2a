"""The approvals gate: the roles and counts a tier requires, met by valid signed approvals.

Which approval counts is decided by `synthgov.decision.review` (its checks are numbered there):
a carrier verifies with a key the base registry gives its reviewer, valid at the
checker's clock; the signed payload names this kind of subject and this repository; the
reviewer holds the role and is not an author of what is approved; the digest equals what
is approved as it is now. Each reviewer fills at most one slot. A valid `reject` blocks
until its reviewer replaces it. This module names the subjects: a release, its waivers,
its revocation, and the changes a pull request makes to policy/, to a card or to the
privacy budgets.
"""

from __future__ import annotations

from dataclasses import replace

from synthgov.decision import digests
from synthgov.decision.findings import Finding, Severity
from synthgov.decision.review import Evidence, Filed, Review, Subject, review
from synthgov.errors import SignatureError
from synthgov.files import layout
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext
from synthgov.models import Policy, Registry, Waiver
from synthgov.models.common import Classification
from synthgov.signing import commits

__all__ = [
    "approved_waivers",
    "budget_subject",
    "card_subject",
    "change_subject",
    "check",
    "findings_for",
    "policy_subject",
    "release_review",
    "revocation_findings",
    "unsigned_commits",
]


def findings_for(subject: Subject, evidence: Evidence) -> list[Finding]:
    """Findings for one subject: rejects and missing approvals block; the rest inform."""
    return list(review(subject, evidence).findings)


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
    digest = digests.release_digest(ctx.manifest.document.data, ctx.report.document.data)
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
    found = list(ctx.review.findings) + unsigned_commits(ctx)
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


def release_review(ctx: ReleaseContext) -> Review:
    """The review of the release's own approvals; read it as `ctx.review`, which computes
    it once per context for the gate, `status`, `release new` and `audit` alike."""
    evidence = ctx.approvals
    if evidence is None:
        raise ValueError("no approval evidence was gathered for this release")
    release, _ = _split(ctx)
    return review(_release_subject(ctx), _with(evidence, release, "release", None))


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
        digests.revocation_digest(ctx.release, revocation.document.data),
        tier.approvals,
        where.path,
        where.line,
        f"synthgov approve {ctx.release} --revocation",
        "revocation",
        ctx.policy.model.repository,
    )
    narrowed = _with(evidence, filed, "revocation", None)
    emails = evidence.author_emails | {revocation.model.author.casefold()}
    return findings_for(subject, replace(narrowed, author_emails=emails))


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
            digests.waiver_digest(ctx.release, loaded.document.data),
            ctx.policy.model.waivers.approvals,
            where.path,
            where.line,
            f"synthgov approve {ctx.release} --waiver {waiver.id}",
            "waiver",
            ctx.policy.model.repository,
        )
        problems = findings_for(
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
                subject=f"{waiver.id}:{f.subject}",
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
