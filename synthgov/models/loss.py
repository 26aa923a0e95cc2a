"""A privacy loss in its mechanism's notion, and the tuning runs on the real data before a
release: what a ledger entry and a manifest both record. Its own module so that a run that
reads manifests only does not build the ledger's models (tests/test_startup.py)."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from synthgov.models.common import FieldError, Model, PrivacyAmount, Text


def figures(obj: Model) -> frozenset[str]:
    return frozenset(k for k in ("epsilon", "delta", "rho") if getattr(obj, k) is not None)


class Loss(Model):
    """One debit's privacy loss, in the mechanism's native notion."""

    epsilon: PrivacyAmount | None = None
    delta: PrivacyAmount | None = None
    rho: PrivacyAmount | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Loss":
        if self.kind is None:
            raise ValueError("a loss is epsilon, epsilon and delta, rho, or rho and delta")
        if self.delta is not None and self.delta >= 1:
            raise FieldError(("delta",), "must be below 1")
        return self

    @property
    def kind(self) -> str | None:
        return LOSS_KINDS.get(figures(self))


class TuningRuns(Loss):
    """Runs of a DP generator on the real data before a release (tuning its epsilon or rho,
    its other parameters, its seed), each with the same privacy loss: they spend the
    budget as the release does (docs/privacy-accounting.md, "Tuning runs")."""

    runs: int = Field(ge=1, le=1_000_000, description="How many runs had this loss each.")
    description: Text | None = Field(None, description="What was tuned, e.g. 'epsilon grid'.")


#: The runs on real data that preceded a release: `none`, or groups of runs by loss.
Tuning = Literal["none"] | Annotated[list[TuningRuns], Field(min_length=1, max_length=100)]


def tuning_kind_problem(tuning: Tuning | None, kind: str | None) -> FieldError | None:
    """A group of tuning runs whose loss is of another kind than `kind` (the release's):
    runs and release are composed in one unit, the ledger's."""
    if not isinstance(tuning, list):
        return None
    for index, group in enumerate(tuning):
        if group.kind != kind:
            return FieldError(
                ("tuning", index),
                f"a {group.kind} loss; tuning runs are recorded in the release's own "
                f"figures ({kind}), the ledger's unit",
            )
    return None


LOSS_KINDS = {
    frozenset({"epsilon"}): "pure",
    frozenset({"epsilon", "delta"}): "approx",
    frozenset({"rho"}): "zcdp",
    frozenset({"rho", "delta"}): "zcdp+delta",
}
