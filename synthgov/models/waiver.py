"""datasets/<id>/releases/<version>/waivers/<id>.yaml: a named, bounded, expiring exception."""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from synthgov.models.common import (
    FieldError,
    FiniteFloat,
    Model,
    ReleaseRef,
    SchemaVersion,
    Slug,
    Text,
    Timestamp,
)

WaiverId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")]


class Waiver(Model):
    schema_version: SchemaVersion
    id: WaiverId
    release: ReleaseRef
    rule: str = Field(description="The rule id it relaxes, e.g. fidelity.detection_auc.")
    relax_to: FiniteFloat = Field(
        description="The threshold in force while the waiver is; no looser than the "
        "policy's `waivers.max_relax` bound for the rule."
    )
    justification: Text
    owner: Slug = Field(description="A reviewer id from the base-branch registry.")
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    created_at: Timestamp
    expires_at: Timestamp

    @model_validator(mode="after")
    def _expires_after_creation(self) -> "Waiver":
        if self.expires_at <= self.created_at:
            raise FieldError(("expires_at",), "must be after created_at")
        return self
