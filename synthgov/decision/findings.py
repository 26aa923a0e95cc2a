"""What `check` decides: findings, per-release results and the overall verdict (pure data).

A verdict is data; an error is an exception. Every finding names its gate and rule, the
observed value and the threshold, and where the threshold was set, so that each output
format can render it without knowing how it was computed. Findings carry metric values
only, never values from the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    """error: blocks the release; warning: reported only (advisory, or waived)."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class WaiverRef:
    """The waiver that relaxed a finding, shown in every output."""

    id: str
    path: str
    owner: str
    expires_at: datetime
    relax_to: float


@dataclass(frozen=True)
class Finding:
    gate: str  # files | schema | constraints | fidelity | utility | privacy | subgroup | policy | integrity | budget | approvals
    rule: str  # e.g. "fidelity.detection_auc" or "policy.intended_use"
    severity: Severity
    message: str
    observed: float | str | None = None
    threshold: float | str | None = None
    file: str | None = None  # the file to annotate: the release file (or the one that failed)
    line: int | None = None
    threshold_file: str | None = None  # where the threshold was set (policy or card), with line
    threshold_line: int | None = None
    enforcement: str = "mandatory"  # advisory | mandatory | hard
    fix: str | None = None
    waiver: WaiverRef | None = None
    #: a metric rule's decision: fail | inconclusive (None for fixed checks)
    outcome: str | None = None
    #: the estimate's interval at the policy's confidence, (lower, upper); None for a value
    interval: tuple[float, float] | None = None
    #: what the finding is about when its rule can find several things in one release: a
    #: role, a column, a waiver id, an input (never a value, so it names the same thing
    #: from one run to the next; SARIF fingerprints and JUnit test names use it)
    subject: str | None = None

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class RuleInfo:
    """A rule of the base policy, as the outputs describe it (the same for every release)."""

    id: str  # e.g. "fidelity.detection_auc"
    description: str | None = None
    fix: str | None = None
    file: str | None = None  # where the rule is set (the policy), with its line
    line: int | None = None


@dataclass(frozen=True)
class Judged:
    """One condition of a metric rule judged on a release: the estimate, its interval at
    the policy's level, and the bound the decision compared (never shown as the value)."""

    metric: str
    op: str
    threshold: float
    margin: float
    value: float | None  # None: the report lacks the metric
    interval: tuple[float, float] | None  # (lower, upper); None for a value without one
    decision: str  # pass | inconclusive | fail
    where: str | None = None  # the column or pair that decided it

    @property
    def bound(self) -> float | None:
        """The interval bound the decision used: for a `<=` rule the lower bound when it
        fails (it exceeds the threshold), else the upper (within threshold + margin);
        `>=` mirrors it. A value without an interval is its own bound."""
        if self.interval is None or self.op == "==":
            return self.value
        low, high = self.interval
        if self.op in ("<=", "<"):
            return low if self.decision == "fail" else high
        return high if self.decision == "fail" else low


@dataclass(frozen=True)
class RuleScore:
    """One policy rule judged on a release (passing or not): what the scorecards show."""

    rule: str  # e.g. "utility.tstr"
    enforcement: str
    decision: str  # pass | inconclusive | fail: the rule's, alternative included
    primary: Judged
    alternative: Judged | None = None
    upper: float | None = None  # the metric's range, for drawing a bar (None: unbounded)

    @property
    def by_alternative(self) -> bool:
        """Passed through the rule's alternative (the primary condition did not pass)."""
        return self.decision == "pass" and self.primary.decision != "pass"

    @property
    def decided(self) -> Judged:
        """The condition that decided the rule."""
        return self.alternative if self.by_alternative and self.alternative else self.primary


@dataclass(frozen=True)
class ReleaseResult:
    release: str  # dataset@version
    findings: tuple[Finding, ...]
    files: tuple[str, ...] = ()  # the release's files the pull request added or changed
    #: the policy's rules and the fixed gates judged on it (empty when its gates did not
    #: run, e.g. a release that cannot be read): those without a finding passed
    judged: tuple[str, ...] = ()
    #: every policy rule judged on it, with its figures (passing ones too)
    scores: tuple[RuleScore, ...] = ()
    #: its tuning runs (the manifest's `privacy.tuning`), one line per group, for reviewers
    tuning: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return "blocked" if any(f.blocks for f in self.findings) else "pass"


@dataclass(frozen=True)
class Verdict:
    base: str  # the base tip's commit sha ("" with --no-git)
    head: str  # HEAD's commit sha ("" with --no-git)
    releases: tuple[ReleaseResult, ...]
    findings: tuple[Finding, ...] = ()  # outside any release: policy, registry, ledgers, cards
    rules_evaluated: int = 0
    evaluated_at: datetime | None = None
    notes: tuple[str, ...] = field(default=())  # e.g. "no release changed"
    #: the base policy's rules, judged on every release (what passed is shown as passing)
    rules: tuple[RuleInfo, ...] = ()

    @property
    def verdict(self) -> str:
        blocked = any(r.verdict == "blocked" for r in self.releases)
        return "blocked" if blocked or any(f.blocks for f in self.findings) else "pass"

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "blocked" else 0

    def all_findings(self) -> list[tuple[str | None, Finding]]:
        """(release or None, finding) in a stable order: top-level first, then by release."""
        found: list[tuple[str | None, Finding]] = [(None, f) for f in self.findings]
        for result in self.releases:
            found.extend((result.release, f) for f in result.findings)
        return found
