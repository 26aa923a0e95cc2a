"""An approval: a reviewer's signed decision on a release, a waiver, a revocation, a
change to policy/, to a dataset card, or to the privacy budgets.

Paths (BRIEF §10.13): release approvals are
datasets/<id>/releases/<version>/approvals/<role>--<reviewer>.yaml; a waiver's are under
its release's waivers/<waiver>/; a revocation's under revocation/; a change to policy/ is
approved under policy/approvals/, a card change under datasets/<id>/approvals/, a budget
change under budgets/approvals/. The signed payload is the canonical JSON of the file
without `signature`, so the signature survives squash and rebase merges that drop commit
signatures; it carries the subject and the repository id, so an approval signed for one
kind of change, or in another repository, never counts for another.
"""

from typing import Literal

from pydantic import Field, model_validator

from synthgov.models.common import (
    FieldError,
    Model,
    ReleaseRef,
    RepositoryId,
    SchemaVersion,
    Sha256,
    Slug,
    Text,
    Timestamp,
)
from synthgov.models.waiver import WaiverId

SubjectType = Literal["release", "waiver", "revocation", "policy", "card", "budget"]
#: Subjects that belong to one release (the others are changes of the pull request).
RELEASE_SUBJECTS = ("release", "waiver", "revocation")


class Signature(Model):
    format: Literal["sshsig", "openpgp"]
    armored: str = Field(min_length=1, max_length=65_536)


class Approval(Model):
    schema_version: SchemaVersion
    subject: SubjectType = Field(
        "release",
        description="What is approved: a release (default), one of its waivers, its "
        "revocation, the change to policy/ of the pull request, the change to a dataset's "
        "card, or the change to the privacy budgets.",
    )
    repository: RepositoryId | None = Field(
        None,
        description="The repository id of the policy (`repository`); required when the "
        "policy sets one.",
    )
    release: ReleaseRef | None = Field(
        None, description="dataset@version; for release, waiver and revocation approvals."
    )
    dataset: Slug | None = Field(None, description="The dataset id, for subject card.")
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
    def _subject_fields(self) -> "Approval":
        of_release = self.subject in RELEASE_SUBJECTS
        if of_release and self.release is None:
            raise FieldError(("release",), f"a {self.subject} approval names its release")
        if not of_release and self.release is not None:
            raise FieldError(("release",), f"a {self.subject} approval names no release")
        if (self.subject == "card") != (self.dataset is not None):
            raise FieldError(("dataset",), "a card approval names its dataset, others none")
        if (self.subject == "waiver") != (self.waiver is not None):
            raise FieldError(("waiver",), "a waiver approval names its waiver, others none")
        return self
