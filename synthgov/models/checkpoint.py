"""audit/checkpoints/<UTC time>.yaml: a signed record of what the history was at an audit.

A checkpoint pins a first-parent commit of main (its id and tree), the head of every
ledger at that commit and the time of the audit, signed by a registered `auditor` or
`policy-admin` (SSHSIG, namespace `synthgov-checkpoint`, over the canonical JSON of the
file without `signature`). A later audit verifies that the commit is still in the history
(a force-push that drops or rewrites it is reported) and that no later commit on main
claims a time before the checkpoint's: the signed time is the trusted anchor that commit
dates are not.
"""

from __future__ import annotations

from pydantic import Field

from synthgov.models.approval import Signature
from synthgov.models.common import GitCommit, Model, SchemaVersion, Sha256, Slug, Timestamp


class LedgerHead(Model):
    entries: int = Field(ge=0, description="How many debits the ledger holds at the commit.")
    head_sha256: Sha256 = Field(
        description="sha256 of the ledger's last entry (the link a next debit would carry); "
        "the hash of the header for an empty ledger."
    )


class Checkpoint(Model):
    schema_version: SchemaVersion
    commit: GitCommit = Field(description="The first-parent commit of main the audit ended at.")
    tree: GitCommit = Field(description="That commit's tree id.")
    ledgers: dict[str, LedgerHead] = Field(
        default_factory=dict, description="Ledger path -> its head at the commit."
    )
    created_at: Timestamp = Field(description="When the audit ran (the auditor's clock).")
    reviewer: Slug = Field(description="The registered reviewer who signed the checkpoint.")
    signature: Signature
