"""audit.json: what `synthgov audit` found over main's first-parent history (BRIEF §10.15).

Not a file of the governance repository: the machine-readable part of the evidence pack,
with an exported schema so that auditors' tooling can validate it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthgov.models.common import Model

FindingKind = Literal[
    "release.blocked",
    "release.ungated",
    "approval.missing",
    "approval.invalid",
    "policy.unapproved",
    "card.unapproved",
    "budget.unapproved",
    "budget.overdrawn",
    "budget.invalid",
    "ledger.rewrite",
    "waiver.expired",
    "revocation.ignored",
    "files.invalid",
    "history.date_regression",
    "history.future_dated",
    "history.backdated",
    "history.rewritten",
    "checkpoint.invalid",
    "audit.error",
]


class AuditFinding(Model):
    commit: str = Field(description="Full id of the first-parent commit the finding is at.")
    kind: FindingKind
    release: str | None = Field(description="dataset@version, or null outside a release.")
    gate: str | None = Field(description="The gate that decided, or null (history findings).")
    rule: str | None = Field(None, description="The gate's rule, when a gate decided.")
    file: str | None = None
    message: str


class GateFinding(Model):
    gate: str
    rule: str
    severity: Literal["error", "warning"]
    message: str


class Decision(Model):
    commit: str
    time: str = Field(description="The clock of the decision (see `clock`).")
    verdict: Literal["pass", "blocked"]
    findings: list[GateFinding]
    clock: Literal["committer", "auditor", "at"] = Field(
        "committer",
        description="committer: the commit's committer date (a claim); auditor: that date "
        "was after the auditor's clock, which replaced it; at: the --at time.",
    )
    anchored_by: str | None = Field(
        None,
        description="The verified checkpoint that bounds the committer date from above; null "
        "when none does (the decision rests on a claimed date) or the clock is --at.",
    )


class SignedApproval(Model):
    path: str
    reviewer: str
    role: str
    decision: Literal["approve", "reject"]
    signed_at: str = Field(description="The signer's claim, shown, never trusted.")
    fingerprint: str | None = Field(description="The key that verified; null when none did.")
    carrier: str | None = Field(description="embedded | commit, or null when none verified.")
    problem: str | None = Field(None, description="Why no signature verified.")


class ReleaseEntry(Model):
    release: str
    verdict: Literal["pass", "findings"] = Field(
        description="pass when every decision on main passed."
    )
    first_commit: str
    last_commit: str
    author: str | None
    inputs: dict[str, str] = Field(description="Input (file or table) -> sha256 at last_commit.")
    approvals: list[SignedApproval]
    decisions: list[Decision]


class Amount(Model):
    epsilon: float | None = None
    delta: float | None = None
    rho: float | None = None


class BudgetPoint(Model):
    source: str
    commit: str
    time: str
    entries: int
    notion: str
    cap: Amount
    spent: Amount


class CheckpointEntry(Model):
    path: str
    commit: str
    created_at: str | None
    reviewer: str | None
    status: Literal["verified", "findings"]


class Since(Model):
    """The checkpoint an incremental audit (`--since`) started from, and what it carried."""

    checkpoint: str = Field(description="The checkpoint file the audit started from.")
    commit: str = Field(description="Its commit: the walk starts after it.")
    created_at: str
    reviewer: str = Field(description="Who signed it (an auditor or policy admin).")
    state_sha256: str = Field(description="The digest of the state it carried forward.")
    commits: int = Field(description="First-parent commits judged before, carried.")
    decided: int = Field(description="How many of them changed governance files.")
    findings: int = Field(description="Findings carried (listed in `findings`).")
    releases: dict[str, Literal["pass", "findings"]] = Field(
        description="Each release decided before, with its verdict then."
    )


class Audit(Model):
    schema_version: Literal[1] = 1
    verdict: Literal["clean", "findings"]
    range: str = Field(description="The revision range walked, e.g. `main` or `A..main`.")
    head: str = Field(description="The last first-parent commit walked.")
    commits: int = Field(description="How many first-parent commits were walked.")
    decided: int = Field(description="How many of them changed governance files.")
    at: str | None = Field(None, description="The --at clock, or null: each commit's own time.")
    unanchored: int = Field(
        0,
        description="Decisions judged at a committer date that no verified checkpoint anchors.",
    )
    generated_at: str
    releases: list[ReleaseEntry]
    findings: list[AuditFinding]
    budgets: list[BudgetPoint] = Field(description="Ledger totals after each commit changing one.")
    checkpoints: list[CheckpointEntry]
    since: Since | None = Field(
        None,
        description="Set when the audit is incremental (`--since`): the verified checkpoint "
        "it started after. `commits`, `decided` and `releases` then cover the commits after "
        "it only; `findings` and `budgets` include those carried.",
    )
