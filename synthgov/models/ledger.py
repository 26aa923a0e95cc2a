"""budgets/<source>.yaml: the privacy-budget ledger of one source dataset.

The notion is fixed by the cap (BRIEF §10.9): `pure` (epsilon cap, pure entries only),
`approx` (epsilon and delta cap, entries of every kind) or `zcdp` (rho and delta cap,
rho or pure entries, compared in rho). Composition is `synthgov.budget.accounting`'s, the hash
chain and append-only `synthgov.budget.ledgers`'; this model checks shape, numbers and sequence.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, Strict, StringConstraints, model_validator

from synthgov.models.common import (
    FieldError,
    Model,
    Name,
    Notion,
    ParamValue,
    PrivacyAmount,
    ReleaseRef,
    SchemaVersion,
    Sha256,
    Slug,
    Text,
    Timestamp,
)
from synthgov.models.loss import LOSS_KINDS, Loss, Tuning, figures, tuning_kind_problem

#: notion -> (the cap's figures, the loss kinds its entries may have)
NOTION_RULES: dict[Notion, tuple[frozenset[str], frozenset[str]]] = {
    Notion.PURE: (frozenset({"epsilon"}), frozenset({"pure"})),
    Notion.APPROX: (frozenset({"epsilon", "delta"}), frozenset(LOSS_KINDS.values())),
    Notion.ZCDP: (frozenset({"rho", "delta"}), frozenset({"zcdp", "pure"})),
}


class Cap(Model):
    epsilon: PrivacyAmount | None = None
    delta: PrivacyAmount | None = None
    rho: PrivacyAmount | None = None


class Entry(Model):
    seq: int = Field(ge=1, description="1, 2, 3, … in order; a gap or repeat is tampering.")
    release: ReleaseRef
    mechanism: Name
    parameters: dict[Annotated[str, StringConstraints(max_length=100)], ParamValue] = Field(
        default_factory=dict
    )
    loss: Loss = Field(
        description="The privacy loss debited: the release's own, composed with its tuning "
        "runs' when there were any (`tuning`)."
    )
    tuning: Tuning | None = Field(
        None,
        description="The runs on the real data that preceded the release, included in `loss` "
        "(`none`: there were none; absent: debits written before synthgov recorded them).",
    )
    recorded_at: Timestamp
    prev_sha256: Sha256 = Field(
        description="sha256 of the previous entry's canonical bytes (RFC 8785 JSON of it as "
        "read), or of the header's (every key but entries) for the first entry."
    )


class Ledger(Model):
    schema_version: SchemaVersion
    source: Slug
    privacy_unit: Text
    notion: Annotated[Notion, Strict(False)]
    cap: Cap
    description: Text | None = None
    owner: Name | None = None
    entries: list[Entry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "Ledger":
        cap_figures, entry_kinds = NOTION_RULES[self.notion]
        if figures(self.cap) != cap_figures:
            raise FieldError(
                ("cap",),
                f"a {self.notion.value} ledger's cap is {' and '.join(sorted(cap_figures))}",
            )
        if self.cap.delta is not None and not Decimal(0) < self.cap.delta < Decimal(1):
            raise FieldError(("cap", "delta"), "must be in (0, 1)")
        if any(getattr(self.cap, k) == 0 for k in cap_figures - {"delta"}):
            raise FieldError(("cap",), "the cap must be positive")
        for index, entry in enumerate(self.entries):
            if (problem := tuning_kind_problem(entry.tuning, entry.loss.kind)) is not None:
                raise FieldError(("entries", index, *problem.loc), str(problem))
            if entry.seq != index + 1:
                raise FieldError(("entries", index, "seq"), f"is {entry.seq}, expected {index + 1}")
            if entry.loss.kind not in entry_kinds:
                raise FieldError(
                    ("entries", index, "loss"),
                    f"{'an' if entry.loss.kind == 'approx' else 'a'} {entry.loss.kind} loss cannot be recorded in a {self.notion.value} ledger",
                )
        return self
