"""The policy gate: intended use within the card's, retention present, DP where the tier
requires it, and no change of classification smuggled into a release pull request."""

from __future__ import annotations

from synthgov.content import Table
from synthgov.decision.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.models import Manifest
from synthgov.models.common import Classification


def check(ctx: ReleaseContext) -> list[Finding]:
    card, manifest = ctx.card.model, ctx.manifest.model
    mpath, cpath = ctx.manifest.document.path, ctx.card.document.path
    found = []

    def block(
        rule: str,
        message: str,
        file: str,
        loc: tuple[str | int, ...],
        observed: str | None = None,
        threshold: str | None = None,
        fix: str | None = None,
        threshold_file: str | None = None,
        threshold_line: int | None = None,
    ) -> None:
        spot = (ctx.manifest if file == mpath else ctx.card).document.locate(loc)
        found.append(
            Finding(
                gate="policy",
                rule=rule,
                severity=Severity.ERROR,
                message=message,
                file=file,
                line=spot.line,
                enforcement="hard",
                observed=observed,
                threshold=threshold,
                fix=fix,
                threshold_file=threshold_file,
                threshold_line=threshold_line,
            )
        )

    allowed = set(card.intended_uses)
    for index, use in enumerate(manifest.intended_uses):
        if use not in allowed:
            block(
                "policy.intended_use",
                f"intended use '{use}' is not among the card's intended uses",
                mpath,
                ("intended_uses", index),
                observed=use,
                fix="Use one of the card's intended_uses, or extend the card in a reviewed change.",
            )
    if card.retention_days is None:
        block(
            "policy.retention",
            "the card sets no retention_days",
            cpath,
            ("id",),
            fix="Set retention_days in the card.",
        )
    tier = ctx.policy.model.tiers.for_classification(ctx.classification)
    if tier.require_dp and not manifest.privacy.is_dp:
        where = ctx.policy.document.locate(("tiers", ctx.classification.value, "require_dp"))
        block(
            "policy.dp_required",
            f"the {ctx.classification.value} tier requires differential privacy; the manifest declares none",
            mpath,
            ("privacy", "notion"),
            observed="none",
            threshold="dp required",
            threshold_file=where.path,
            threshold_line=where.line,
            fix="Generate with a DP mechanism and record epsilon/delta or rho.",
        )
    shipped = artifact_table(manifest)
    for revoked in ctx.revoked_artifacts:
        why = revoked.shipped_again(shipped) if revoked.release != ctx.release else None
        if why is not None:
            block(
                "policy.revoked_artifact",
                f"the artifact {why}, and that release is revoked; a revoked table is never "
                "released again",
                mpath,
                ("artifact", "sha256"),
                observed=manifest.artifact.sha256,
                threshold="not revoked",
                fix="Generate a new synthetic table; fix what caused the revocation first.",
            )
            break
    floor = ctx.source_floor
    order = list(Classification)
    if floor is not None and order.index(card.classification) < order.index(floor[0]):
        block(
            "policy.source_classification",
            f"{cpath} classifies {card.id} as {card.classification.value}, but its source "
            f"{card.source.id} is the source of {floor[1]}, classified {floor[0].value} on the "
            "base: a card may not classify its source's data lower, with a lesser tier's "
            "approvals and rules",
            cpath,
            ("classification",),
            observed=card.classification.value,
            threshold=floor[0].value,
            fix=f"Classify {card.id} {floor[0].value} (or stricter), or name its own source.",
        )
    if card.classification is not ctx.classification:
        block(
            "policy.classification_change",
            f"this pull request changes the classification from {ctx.classification.value} to "
            f"{card.classification.value}; the base classification applies until that change is "
            "approved on its own",
            cpath,
            ("classification",),
            observed=card.classification.value,
            threshold=ctx.classification.value,
        )
    return found


def artifact_table(manifest: Manifest) -> Table:
    """The content a manifest records of its artifact."""
    artifact = manifest.artifact
    return Table(
        artifact.sha256, artifact.fingerprint, tuple(artifact.sketch or ()), artifact.distinct_rows
    )


def repository_missing(path: str) -> Finding:
    """While the base policy names no repository id, approvals are not bound to this
    repository: they could be replayed from another whose registry holds the same keys."""
    return Finding(
        gate="policy",
        rule="policy.repository_missing",
        severity=Severity.WARNING,
        message="the base policy names no `repository` id, so approvals are not "
        "bound to this repository and could be replayed from another",
        file=path,
        line=1,
        enforcement="advisory",
        fix="Add `repository: <a fresh UUID>` to policy/policy.yaml in an approved "
        "policy change (python -c 'import uuid; print(uuid.uuid4())').",
    )


def impact(release: str, rules: list[str], path: str) -> Finding:
    """A release on the base that passes today but the proposed policy would block: advice
    for the policy admins who approve the change, never a block."""
    return Finding(
        gate="policy",
        rule="policy.impact",
        severity=Severity.WARNING,
        message=f"under the proposed policy, {release} (on the base, passing today) would be "
        f"blocked by {', '.join(rules)}",
        file=path,
        line=1,
        enforcement="advisory",
    )
