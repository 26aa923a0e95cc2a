"""datasets/<id>/releases/<version>/manifest.yaml: enough to reproduce one release."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from synthgov.files.layout import Release
from synthgov.models.common import (
    Email,
    FieldError,
    GitCommit,
    Model,
    Name,
    ParamValue,
    PrivacyAmount,
    RowHash,
    SchemaVersion,
    Sha256,
    Slug,
    Text,
    Timestamp,
    Version,
)
from synthgov.models.loss import Loss, Tuning, tuning_kind_problem


class Snapshot(Model):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    sha256: Sha256


class ReleaseSource(Model):
    id: Slug
    snapshot: Snapshot


class Generator(Model):
    name: Name = Field(description="Generator family, e.g. 'ctgan' or 'aim'.")
    version: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    parameters: dict[Annotated[str, StringConstraints(max_length=100)], ParamValue] = Field(
        default_factory=dict
    )
    seed: int
    code_commit: GitCommit | None = None


class Artifact(Model):
    location: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Where the synthetic table lives (it does not belong in Git)."
    )
    sha256: Sha256
    rows: int = Field(ge=0)
    columns: int = Field(ge=1)
    schema_sha256: Sha256
    fingerprint: Sha256 | None = Field(
        None,
        description="The content's sha256: the same rows in any order or format give the same "
        "one (BRIEF §11.3); a revoked fingerprint never ships again.",
    )
    distinct_rows: int | None = Field(None, ge=0)
    sketch: Annotated[list[RowHash], Field(max_length=4096)] | None = Field(
        None,
        description="The smallest distinct row hashes: a table sharing half its rows with a "
        "revoked one is refused.",
    )


#: notion -> (figures required, figures optional)
_FIGURES = {
    "pure": ({"epsilon"}, set[str]()),
    "approx": ({"epsilon", "delta"}, set[str]()),
    "zcdp": ({"rho"}, {"delta"}),
}


class Privacy(Model):
    """The release's differential-privacy figures, or `none` for an empirical audit only."""

    mechanism: Name
    notion: Literal["pure", "approx", "zcdp", "none"] = Field(
        description="How the loss is accounted; none: empirical privacy audit only, no DP."
    )
    epsilon: PrivacyAmount | None = None
    delta: PrivacyAmount | None = None
    rho: PrivacyAmount | None = None
    tuning: Tuning | None = Field(
        None,
        description="The runs of the generator on the real data that preceded this release "
        "(tuning epsilon or rho settings, parameters, seeds), each group with its count and "
        "its loss per run in the release's own figures; `none` when there were none. The "
        "debit pays for them too. Required for DP releases where the policy's "
        "`tuning_record` is `required`.",
    )

    @model_validator(mode="after")
    def _figures_match_notion(self) -> "Privacy":
        given = {k for k in ("epsilon", "delta", "rho") if getattr(self, k) is not None}
        if self.notion == "none":
            if given:
                raise ValueError(
                    "notion 'none' (empirical audit only) carries no epsilon/delta/rho"
                )
            if isinstance(self.tuning, list):
                raise FieldError(
                    ("tuning",),
                    "a release without DP (notion none) has no loss to add tuning runs to; "
                    "write none or leave it out",
                )
            return self
        required, optional = _FIGURES[self.notion]
        if not required <= given or not given <= required | optional:
            expected = " and ".join(sorted(required))
            if optional:
                expected += f" (optionally {' and '.join(sorted(optional))})"
            raise ValueError(
                f"notion '{self.notion}' needs {expected}, got {', '.join(sorted(given)) or 'nothing'}"
            )
        if self.delta is not None and not Decimal(0) < self.delta < Decimal(1):
            raise FieldError(("delta",), "must be in (0, 1)")
        own = Loss(epsilon=self.epsilon, delta=self.delta, rho=self.rho)
        if (problem := tuning_kind_problem(self.tuning, own.kind)) is not None:
            raise problem
        return self

    @property
    def is_dp(self) -> bool:
        return self.notion != "none"


class Manifest(Model):
    schema_version: SchemaVersion
    dataset: Slug
    version: Version
    created_at: Timestamp
    author: Email = Field(description="The release author (git config user.email).")
    source: ReleaseSource
    generator: Generator
    artifact: Artifact
    privacy: Privacy
    intended_uses: list[Text] = Field(min_length=1)
    description: Text | None = None

    @property
    def release(self) -> str:
        return str(Release(self.dataset, self.version))
