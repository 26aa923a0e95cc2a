"""Waivers: whether one is in force at a time, and how it relaxes a finding (pure).

One function decides "in force at T" for check, status and audit alike (ci-conventions
§7: one expiry check for every code path). A waiver relaxes a blocking finding of a
mandatory rule to its bounded `relax_to`, never a hard rule, and stays visible: the
finding becomes a warning that carries the waiver.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from synthgov.decision.findings import Finding, Severity, WaiverRef
from synthgov.decision.rules import Ruling, ruling
from synthgov.files.consistency import waiver_problems
from synthgov.files.loading import Loaded
from synthgov.models import Policy, Waiver


def in_force(waiver: Waiver, now: datetime) -> bool:
    return waiver.created_at <= now < waiver.expires_at


def _ref(loaded: Loaded[Waiver]) -> WaiverRef:
    w = loaded.model
    return WaiverRef(w.id, loaded.document.path, w.owner, w.expires_at, w.relax_to)


def _waiver_finding(loaded: Loaded[Waiver], rule: str, message: str, severity: Severity) -> Finding:
    return Finding(
        gate="policy",
        rule=rule,
        severity=severity,
        message=message,
        file=loaded.document.path,
        line=loaded.document.locate(("expires_at",)).line,
        enforcement="mandatory",
        subject=loaded.model.id,
    )


def apply(
    findings: list[Finding],
    waivers: tuple[Loaded[Waiver], ...],
    policy: Loaded[Policy],
    now: datetime,
) -> list[Finding]:
    """The findings with every valid waiver in force applied, plus findings about waivers."""
    result = list(findings)
    for loaded in waivers:
        waiver = loaded.model
        problems = waiver_problems(loaded, policy)
        if problems:
            result.append(
                _waiver_finding(
                    loaded,
                    "waivers.invalid",
                    f"waiver {waiver.id} does not apply: {problems[0].message}",
                    Severity.ERROR,
                )
            )
            continue
        if now >= waiver.expires_at:
            result.append(
                _waiver_finding(
                    loaded,
                    "waivers.expired",
                    f"waiver {waiver.id} expired at {waiver.expires_at:%Y-%m-%d %H:%M}Z; remove it or renew it",
                    Severity.ERROR,
                )
            )
            continue
        if not in_force(waiver, now):
            continue
        rule = policy.model.rules[waiver.rule]
        used = False
        for index, finding in enumerate(result):
            if (
                finding.rule != waiver.rule
                or not finding.blocks
                or finding.enforcement != "mandatory"
            ):
                continue
            used = True
            observed = finding.observed
            if (
                isinstance(observed, float)
                and ruling(rule.op, observed, finding.interval, waiver.relax_to) is Ruling.PASS
            ):
                result[index] = replace(
                    finding,
                    severity=Severity.WARNING,
                    waiver=_ref(loaded),
                    message=f"{finding.message}; waived by {waiver.id} up to {waiver.relax_to:g}",
                )
            else:
                result[index] = replace(
                    finding,
                    message=f"{finding.message}; beyond waiver {waiver.id}'s bound {waiver.relax_to:g}",
                )
        if not used:
            result.append(
                _waiver_finding(
                    loaded,
                    "waivers.unused",
                    f"waiver {waiver.id} matches no failing {waiver.rule} finding",
                    Severity.WARNING,
                )
            )
    return result
