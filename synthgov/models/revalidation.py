"""datasets/<id>/releases/<version>/revalidations/<time>.json: a release re-measured.

`synthgov revalidate` re-runs `evaluate` on the release's artifact against fresh real
data and records the drift of every metric against the release's own report, so that a
release that was fine when it shipped is seen ageing (release operations: scheduled
revalidation, monitoring drift).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthgov.models.common import FiniteFloat, Model, ReleaseRef, SchemaVersion, Sha256, Timestamp
from synthgov.models.report import Input, Report


class Drift(Model):
    id: str = Field(description="A metric id of the report contract.")
    column: str | None = None
    columns: list[str] | None = None
    group: str | None = None
    before: FiniteFloat
    after: FiniteFloat
    change: FiniteFloat = Field(description="after - before.")


class Revalidation(Model):
    schema_version: SchemaVersion
    release: ReleaseRef
    revalidated_at: Timestamp
    fresh: Input = Field(description="The fresh real table: sha256, rows, columns.")
    artifact_sha256: Sha256 = Field(description="The synthetic table re-measured (the release's).")
    verdict: Literal["pass", "blocked"] = Field(
        description="The release's metric rules applied to the new report."
    )
    blocking: list[str] = Field(default_factory=list, description="Rules the new report fails.")
    drift: list[Drift] = Field(default_factory=list)
    report: Report = Field(description="The full metric report of the re-run.")
