"""The dates a release's files claim, against the checker's clock (BRIEF §9).

A manifest's `created_at` picks the current release and starts the revalidation clock; a
waiver's `created_at` starts its time in force; a revocation's `revoked_at` is shown to
consumers. Each is a claim, and one later than the checker's clock (beyond `clock.SKEW`)
is refused: a manifest dated 2099 would otherwise stay current and never fall due. Approval
`signed_at` and revalidation dates are judged where those files are (approvals gate,
the revalidation gate) by the same rule. A new release dated before the
dataset's newest on the base is refused too (`time.back_dated`): superseded on arrival,
it would never be current nor due for revalidation while it ships.
"""

from __future__ import annotations

from datetime import datetime

from synthgov import clock
from synthgov.decision.findings import Finding, Severity
from synthgov.files.loading import Document
from synthgov.gates import ReleaseContext
from synthgov.models.common import format_timestamp

RULE = "time.future_dated"


def future_finding(
    document: Document, field: str, claimed: datetime, now: datetime, fix: str
) -> Finding | None:
    """The blocking finding for a date in `document` later than `now`, or None."""
    problem = clock.future_problem(field, claimed, now)
    if problem is None:
        return None
    spot = document.locate((field,))
    return Finding(
        gate="time",
        rule=RULE,
        severity=Severity.ERROR,
        message=f"{document.path}: {problem}; a date in the future would decide "
        "what is current and when it falls due",
        observed=format_timestamp(claimed),
        threshold=format_timestamp(clock.shift(now, clock.SKEW).replace(microsecond=0)),
        file=spot.path,
        line=spot.line,
        enforcement="hard",
        fix=fix,
    )


def revocation(ctx: ReleaseContext) -> list[Finding]:
    """The revocation's own date, for a pull request that only revokes (the release's
    other files were judged when it merged)."""
    if ctx.revocation is None:
        return []
    found = future_finding(
        ctx.revocation.document,
        "revoked_at",
        ctx.revocation.model.revoked_at,
        ctx.now,
        "Write the revocation with `synthgov revoke`.",
    )
    return [found] if found is not None else []


def check(ctx: ReleaseContext) -> list[Finding]:
    now = ctx.now
    claims = [
        (
            ctx.manifest.document,
            "created_at",
            ctx.manifest.model.created_at,
            "Write the release with `synthgov release new`, which records the time it ran.",
        ),
        *(
            (
                w.document,
                "created_at",
                w.model.created_at,
                "Date the waiver when it is written, never in the future.",
            )
            for w in ctx.waivers
        ),
    ]
    if ctx.revocation is not None:
        claims.append(
            (
                ctx.revocation.document,
                "revoked_at",
                ctx.revocation.model.revoked_at,
                "Write the revocation with `synthgov revoke`.",
            )
        )
    found = []
    for document, field, claimed, fix in claims:
        finding = future_finding(document, field, claimed, now, fix)
        if finding is not None:
            found.append(finding)
    earlier = _before_the_current(ctx)
    return found + ([earlier] if earlier is not None else [])


def _before_the_current(ctx: ReleaseContext) -> Finding | None:
    """A new release dated before the dataset's newest on the base: it would be superseded
    on arrival, so never current and never due for revalidation, while it ships."""
    if ctx.newest_on_base is None:
        return None
    newest, at = ctx.newest_on_base
    created = ctx.manifest.model.created_at
    if created >= clock.shift(at, -clock.SKEW):
        return None
    spot = ctx.manifest.document.locate(("created_at",))
    return Finding(
        gate="time",
        rule="time.back_dated",
        severity=Severity.ERROR,
        message=f"{ctx.manifest.document.path}: created_at {format_timestamp(created)} is "
        f"before {newest}'s ({format_timestamp(at)}), which is on the base: the "
        "release would be superseded on arrival, never current and never due "
        "for revalidation",
        observed=format_timestamp(created),
        threshold=format_timestamp(at),
        file=spot.path,
        line=spot.line,
        enforcement="hard",
        fix="Write the release again with `synthgov release new`, which dates it now.",
    )
