"""datasets/<id>/releases/<version>/approvals/<role>--<reviewer>.yaml (BRIEF §10.13).

The signed payload is the canonical JSON of the file without `signature`, so the
signature survives squash and rebase merges that drop commit signatures.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthgov.models.common import Model, ReleaseRef, SchemaVersion, Sha256, Slug, Text, Timestamp


class Signature(Model):
    format: Literal["sshsig", "openpgp"]
    armored: str = Field(min_length=1, max_length=65_536)


class Approval(Model):
    schema_version: SchemaVersion
    release: ReleaseRef
    reviewer: Slug
    role: Slug
    decision: Literal["approve", "reject"]
    digest: Sha256 = Field(
        description="sha256 over the canonical manifest, report and artifact hash."
    )
    signed_at: Timestamp = Field(description="The signer's claim; never trusted for validity.")
    comment: Text | None = None
    signature: Signature
