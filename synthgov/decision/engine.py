"""Run every gate on a release and decide: enforcement levels, waivers, fail closed (pure).

Any exception inside a gate blocks the release with a finding that says so: a gate that
could not decide never passes (BRIEF §5).
"""

from __future__ import annotations

from collections.abc import Callable

from synthgov.budget import tuning
from synthgov.decision import waivers
from synthgov.decision.findings import Finding, ReleaseResult, Severity
from synthgov.errors import MissingExtra
from synthgov.gates import (
    ReleaseContext,
    approvals,
    budget,
    coverage,
    dates,
    integrity,
    metrics,
    policy,
)

Gate = Callable[[ReleaseContext], list[Finding]]

GATES: tuple[tuple[str, Gate], ...] = (
    ("integrity", integrity.check),
    ("policy", policy.check),
    ("metrics", metrics.check),
    ("coverage", coverage.check),
    ("time", dates.check),
    ("budget", budget.check),
    ("approvals", approvals.check),
)


def failed_to_check(release_file: str | None, gate: str, reason: str) -> Finding:
    """The blocking finding for anything that prevented a decision (fail closed)."""
    return Finding(
        gate=gate,
        rule=f"{gate}.unchecked",
        severity=Severity.ERROR,
        message=f"could not be checked, so it is blocked: {reason}",
        file=release_file,
        line=1,
        enforcement="hard",
    )


def _order(finding: Finding) -> tuple[int, str, str]:
    return (0 if finding.blocks else 1, finding.gate, finding.rule)


def run_gates(ctx: ReleaseContext, files: tuple[str, ...] = ()) -> ReleaseResult:
    found: list[Finding] = []
    for name, gate in GATES:
        try:
            found.extend(gate(ctx))
        except MissingExtra:  # not the release's fault: the command says what to install
            raise
        except Exception as exc:  # fail closed, whatever went wrong
            found.append(
                failed_to_check(ctx.manifest.document.path, name, f"{type(exc).__name__}: {exc}")
            )
    try:
        approved, unapproved = approvals.approved_waivers(ctx)
        found = waivers.apply(found + unapproved, approved, ctx.policy, ctx.now)
    except Exception as exc:  # fail closed
        found.append(failed_to_check(ctx.manifest.document.path, "policy", f"waivers: {exc}"))
    judged = (*ctx.policy.model.rules, *(name for name, _ in GATES if name != "metrics"))
    try:
        scores = metrics.rule_scores(metrics.scorecard(ctx))
    except MissingExtra:
        raise
    except Exception:  # the figures are a view: the metrics gate has blocked already
        scores = ()
    privacy = ctx.manifest.model.privacy
    runs = () if privacy.notion == "none" else tuple(tuning.lines(privacy.tuning))
    return ReleaseResult(ctx.release, tuple(sorted(found, key=_order)), files, judged, scores, runs)


def check_revocation(ctx: ReleaseContext, files: tuple[str, ...] = ()) -> ReleaseResult:
    """A pull request that only revokes a release: the revocation needs the approvals of
    the tier; the release's own gates are not judged again (a release revoked because
    today's policy would fail it must still be revocable)."""
    try:
        found = approvals.revocation_findings(ctx) + _revocation_binding(ctx)
        found += dates.revocation(ctx)
    except Exception as exc:  # fail closed
        found = [
            failed_to_check(ctx.manifest.document.path, "approvals", f"{type(exc).__name__}: {exc}")
        ]
    return ReleaseResult(ctx.release, tuple(sorted(found, key=_order)), files)


def _revocation_binding(ctx: ReleaseContext) -> list[Finding]:
    """The revocation names the artifact the release shipped: the hash that `check` will
    refuse from then on must be the real one."""
    revocation = ctx.revocation
    assert revocation is not None
    shipped = ctx.manifest.model.artifact.sha256
    if revocation.model.artifact_sha256 == shipped:
        return []
    spot = revocation.document.locate(("artifact_sha256",))
    return [
        Finding(
            gate="policy",
            rule="policy.revocation_artifact",
            severity=Severity.ERROR,
            message=f"the revocation names artifact {revocation.model.artifact_sha256[:12]}…, "
            f"but {ctx.release} shipped {shipped[:12]}…",
            observed=revocation.model.artifact_sha256,
            threshold=shipped,
            file=spot.path,
            line=spot.line,
            enforcement="hard",
            fix="Write the revocation with `synthgov revoke`, which copies the manifest's hash.",
        )
    ]
