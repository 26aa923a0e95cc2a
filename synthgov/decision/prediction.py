"""What `check` will say of a release not yet committed, and what its author does next.

`release new` prints it once the files are written: the predicted verdict first; then,
when rules block, each with its figures and its fix, and the `synthgov waiver new` that
would relax it where the policy lets a waiver do so (a mandatory rule with a
`waivers.max_relax` bound); the approvals to ask for only when nothing else blocks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from synthgov.decision import engine
from synthgov.decision.contexts import judge_locally
from synthgov.decision.findings import Finding
from synthgov.errors import InputError
from synthgov.models import Policy
from synthgov.models.common import Enforcement

APPROVALS = "approvals.missing"


def predict(root: Path, release: str, now: datetime) -> list[str]:
    """The lines `release new` prints after writing `release` (judged as `check` would on
    the working tree, with the base branch's policy and registry)."""
    try:
        ctx = judge_locally(root, release, now)
    except InputError as exc:
        return [f"no prediction: {exc.problems[0]}"]
    findings = engine.run_gates(ctx).findings
    blocking = [f for f in findings if f.blocks and f.rule != APPROVALS]
    policy = ctx.policy.model
    if blocking:
        rules = ", ".join(sorted({f.rule for f in blocking}))
        lines = [f"predicted verdict for {release}: blocked by {rules}"]
        for finding in blocking:
            lines += _blocking(finding, release, policy)
    else:
        needed = _approvals(ctx.review.filled, ctx.review.required, release)
        verdict = "blocked only by missing approvals" if needed else "passes"
        lines = [f"predicted verdict for {release}: {verdict}"]
    for finding in findings:  # a rule that warns: its figures, not a next step
        if not finding.blocks and finding.outcome is not None:
            lines.append(f"  {finding.rule} ({finding.outcome}, warns): {finding.message}")
    if blocking:
        waivable = all(
            _waivable(f.rule, policy) and _covers(f, policy, policy.waivers.max_relax[f.rule])
            for f in blocking
        )
        lines.append(
            "next: fix what blocks and re-run with `synthgov release new … --replace`"
            + (", or write the waivers above and have them approved" if waivable else "")
            + "; ask for approvals once nothing else blocks"
        )
        return lines
    lines += needed
    lines.append(
        "next: commit the release files, open a pull request, and ask the reviewers to approve"
        if needed
        else "next: commit the release files and open a pull request"
    )
    return lines


def _blocking(finding: Finding, release: str, policy: Policy) -> list[str]:
    """A blocking finding: its figures, its fix, and the waiver that would relax it."""
    state = f"{finding.outcome}, blocks" if finding.outcome else "blocks"
    lines = [f"  {finding.rule} ({state}): {finding.message}"]
    if finding.fix:
        lines.append(f"    fix: {finding.fix}")
    if not _waivable(finding.rule, policy):
        if finding.rule in policy.rules:
            lines.append("    it cannot be waived: " + _why_not(finding.rule, policy))
        return lines
    bound, days = policy.waivers.max_relax[finding.rule], policy.waivers.max_days
    if not _covers(finding, policy, bound):
        lines.append(
            f"    a waiver would not help: the policy allows relaxing it to {bound:g} at most, "
            "and the figure is beyond that"
        )
        return lines
    lines.append(
        f"    or waive it (the policy allows relaxing it to {bound:g} for at most {days} "
        f"days): synthgov waiver new {release} --rule {finding.rule} --relax-to {bound:g} "
        f'--days {days} --reason "..." --owner REVIEWER --ticket TICKET'
    )
    return lines


def _waivable(rule: str, policy: Policy) -> bool:
    found = policy.rules.get(rule)
    return (
        found is not None
        and found.enforcement is not Enforcement.HARD
        and rule in policy.waivers.max_relax
    )


def _covers(finding: Finding, policy: Policy, bound: float) -> bool:
    """Whether the figure would pass with the rule relaxed to `bound` (its pessimistic end
    of the interval within the bound and the rule's margin)."""
    rule = policy.rules[finding.rule]
    lower = rule.op in ("<=", "<")
    figure = finding.interval[1 if lower else 0] if finding.interval else finding.observed
    if not isinstance(figure, int | float):
        return True  # no figure to compare: the waiver may help
    return rule.is_tighter_or_equal(figure, bound + rule.margin if lower else bound - rule.margin)


def _why_not(rule: str, policy: Policy) -> str:
    if policy.rules[rule].enforcement is Enforcement.HARD:
        return "the rule is hard"
    return "the policy sets no waivers.max_relax bound for it"


def _approvals(filled: dict[str, list[str]], required: dict[str, int], release: str) -> list[str]:
    return [
        f"  needs {count - len(filled.get(role, []))} {role} approval(s): "
        f"synthgov approve {release} --role {role}"
        for role, count in sorted(required.items())
        if len(filled.get(role, [])) < count
    ]
