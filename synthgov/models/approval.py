"""An approval: a reviewer's signed decision on a release, a waiver or a policy change.

Paths (BRIEF §10.13): release approvals are
datasets/<id>/releases/<version>/approvals/<role>--<reviewer>.yaml; a waiver's are under
its release's waivers/<waiver>/; a change to policy/ is approved under policy/approvals/.
The signed payload is the canonical JSON of the file without `signature`, so the
signature survives squash and rebase merges that drop commit signatures.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from synthgov.models.common import (
    FieldError,
    Model,
    ReleaseRef,
    SchemaVersion,
    Sha256,
    Slug,
    Text,
    Timestamp,
)
from synthgov.models.waiver import WaiverId


class Signature(Model):
    format: Literal["sshsig", "openpgp"]
    armored: str = Field(min_length=1, max_length=65_536)


class Approval(Model):
    schema_version: SchemaVersion
    subject: Literal["release", "waiver", "revocation", "policy"] = Field(
        "release",
        description="What is approved: a release (default), one of its waivers, its "
        "revocation, or the change to policy/ of the pull request.",
    )
    release: ReleaseRef | None = Field(None, description="dataset@version; absent for policy.")
    waiver: WaiverId | None = Field(None, description="The waiver id, for subject waiver.")
    reviewer: Slug
    role: Slug
    decision: Literal["approve", "reject"]
    digest: Sha256 = Field(
        description="sha256 of what is approved: for a release, over the canonical "
        "manifest, report and artifact hash (docs/reviewers.md)."
    )
    signed_at: Timestamp = Field(description="The signer's claim; never trusted for validity.")
    comment: Text | None = None
    signature: Signature

    @model_validator(mode="after")
    def _subject_fields(self) -> Approval:
        if self.subject != "policy" and self.release is None:
            raise FieldError(("release",), f"a {self.subject} approval names its release")
        if self.subject == "policy" and self.release is not None:
            raise FieldError(("release",), "a policy approval names no release")
        if (self.subject == "waiver") != (self.waiver is not None):
            raise FieldError(("waiver",), "a waiver approval names its waiver, others none")
        return self
