"""datasets/<id>/releases/<version>/revocation.yaml: a release withdrawn, and why.

A revocation is approved like a release (approvals with `subject: revocation`). Once
merged, `status` and the catalog fall back to the last known good release, and `check`
blocks any new release that ships the revoked artifact again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthgov.models.common import Email, Model, ReleaseRef, SchemaVersion, Sha256, Text, Timestamp

IncidentClass = Literal["schema", "privacy", "utility", "other"]


class Revocation(Model):
    schema_version: SchemaVersion
    release: ReleaseRef
    incident_class: IncidentClass = Field(
        description="What went wrong: schema, privacy, utility or other (release operations' incident classes)."
    )
    reason: Text
    revoked_at: Timestamp = Field(description="When `synthgov revoke` wrote it (a claim).")
    author: Email = Field(description="Who revoked it (git config user.email).")
    artifact_sha256: Sha256 = Field(
        description="The revoked artifact's hash; a new release may not ship it again."
    )
