"""audit/checkpoints/<UTC time>.yaml: a signed record of what the history was at an audit.

A checkpoint pins a first-parent commit of main (its id and tree), the head of every
ledger at that commit and the time of the audit, signed by a registered `auditor` or
`policy-admin` (SSHSIG, namespace `synthgov-checkpoint`, over the canonical JSON of the
file without `signature`). A later audit verifies that the commit is still in the history
(a force-push that drops or rewrites it is reported) and that no later commit on main
claims a time before the checkpoint's: the signed time is the trusted anchor that commit
dates are not. A checkpoint made by a full audit also records that audit's state (the
findings so far, each release's verdict, every ledger's latest totals), so that `audit
--since` judges only the commits after it and carries the rest forward.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthgov.models.approval import Signature
from synthgov.models.audit import BudgetPoint, FindingKind
from synthgov.models.common import GitCommit, Model, SchemaVersion, Sha256, Slug, Timestamp


class LedgerHead(Model):
    entries: int = Field(ge=0, description="How many debits the ledger holds at the commit.")
    head_sha256: Sha256 = Field(
        description="sha256 of the ledger's last entry (the link a next debit would carry); "
        "the hash of the header for an empty ledger."
    )


class CarriedFinding(Model):
    """A finding of audit.json as the checkpoint stores it (absent fields are null)."""

    commit: str
    kind: FindingKind
    release: str | None = None
    gate: str | None = None
    rule: str | None = None
    file: str | None = None
    message: str


class AuditState(Model):
    """What the audit that made the checkpoint had found, from main's first commit through
    the checkpointed one: what `audit --since` carries forward instead of replaying."""

    commits: int = Field(ge=1, description="First-parent commits walked, the root included.")
    decided: int = Field(ge=0, description="How many of them changed governance files.")
    findings: list[CarriedFinding] = Field(description="Every finding of that audit.")
    releases: dict[str, Literal["pass", "findings"]] = Field(
        description="Release -> pass when every decision on main passed."
    )
    budgets: list[BudgetPoint] = Field(description="Each ledger's totals after its last change.")


class Checkpoint(Model):
    schema_version: SchemaVersion
    commit: GitCommit = Field(description="The first-parent commit of main the audit ended at.")
    tree: GitCommit = Field(description="That commit's tree id.")
    ledgers: dict[str, LedgerHead] = Field(
        default_factory=dict, description="Ledger path -> its head at the commit."
    )
    created_at: Timestamp = Field(description="When the audit ran (the auditor's clock).")
    reviewer: Slug = Field(description="The registered reviewer who signed the checkpoint.")
    state: AuditState | None = Field(
        None,
        description="The audit's state at the commit; absent when the audit that made the "
        "checkpoint did not walk the whole history (`--range A..B`, `--at`).",
    )
    state_sha256: Sha256 | None = Field(
        None, description="sha256 of the canonical JSON of `state`; set with `state`."
    )
    signature: Signature
