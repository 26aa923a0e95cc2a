"""What every format shares: a finding's status, rule id, values, sources and the counts.

Kept in one place so that text, Markdown, annotations, SARIF and JUnit can never disagree
on what counts as blocking, advisory or waived, or on how a value is written.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from synthgov.decision.findings import Finding, Verdict

BLOCK, WARN, WAIVED = "block", "warn", "waived"


def status(finding: Finding) -> str:
    """block (fails the release), waived (relaxed by a waiver) or warn (advisory)."""
    if finding.blocks:
        return BLOCK
    return WAIVED if finding.waiver is not None else WARN


def rule_id(finding: Finding) -> str:
    """The stable id that names a rule in every format (never a value).

    Rule ids already start with their gate (`fidelity.detection_auc`), as in the policy
    and in waivers; other ids get the gate in front.
    """
    if finding.rule.startswith(f"{finding.gate}."):
        return finding.rule
    return f"{finding.gate}.{finding.rule}"


def finding_id(release: str | None, finding: Finding) -> str:
    """A fingerprint that survives line moves and value changes: release, rule and file."""
    key = "|".join((release or "", rule_id(finding), finding.file or ""))
    return hashlib.sha256(key.encode()).hexdigest()


def json_value(value: object) -> float | int | str | None:
    """A number stays a number (BRIEF §10.16); NaN and infinities, not JSON, become text."""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def show(value: object) -> str:
    """A value for people: six significant digits, integers without a point."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float | Decimal):
        return f"{float(value):.6g}"
    return str(value)


def comparison(finding: Finding) -> str:
    """`observed X vs threshold Y`, with whichever half is known (the rule knows the direction)."""
    parts = []
    if finding.observed is not None:
        parts.append(f"observed {show(finding.observed)}")
    if finding.threshold is not None:
        parts.append(f"threshold {show(finding.threshold)}")
    return " vs ".join(parts)


def source(finding: Finding) -> str | None:
    """Where the threshold was set, `file:line`, or None."""
    if finding.threshold_file is None:
        return None
    if finding.threshold_line is None:
        return finding.threshold_file
    return f"{finding.threshold_file}:{finding.threshold_line}"


def _utc(moment: datetime) -> datetime:
    """A naive time is taken as UTC, so naive and aware times can be compared."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry(expires_at: datetime, now: datetime | None) -> str:
    """`2026-10-02T00:00:00Z (12 days left)`; the days only when the check's time is known."""
    if now is None:
        return utc_z(expires_at)
    return f"{utc_z(expires_at)} ({(_utc(expires_at) - _utc(now)).days} days left)"


@dataclass(frozen=True)
class Counts:
    releases: int
    passed: int
    blocked: int
    blocking: int
    advisory: int
    waived: int
    exit_code: int

    @classmethod
    def of(cls, verdict: Verdict) -> Counts:
        kinds = [status(f) for _, f in verdict.all_findings()]
        blocked = sum(r.verdict == "blocked" for r in verdict.releases)
        return cls(
            releases=len(verdict.releases),
            passed=len(verdict.releases) - blocked,
            blocked=blocked,
            blocking=kinds.count(BLOCK),
            advisory=kinds.count(WARN),
            waived=kinds.count(WAIVED),
            exit_code=verdict.exit_code,
        )

    def line(self) -> str:
        """`2 releases: 1 passed, 1 blocked · 2 blocking, 1 advisory, 1 waived → exit 1`."""
        noun = "release" if self.releases == 1 else "releases"
        return (
            f"{self.releases} {noun}: {self.passed} passed, {self.blocked} blocked · "
            f"{self.blocking} blocking, {self.advisory} advisory, {self.waived} waived "
            f"→ exit {self.exit_code}"
        )
