"""The metric ids of the report contract (BRIEF §8): their scope, range and direction.

Policy rules name these ids; an unknown id in a policy is a typo that would otherwise
gate nothing, so it is refused at load time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    TABLE = "table"
    COLUMN = "column"
    PAIR = "pair"


@dataclass(frozen=True)
class MetricSpec:
    id: str
    scope: Scope
    higher_is_better: bool
    upper: float | None = 1.0  # None: unbounded above (a ratio)
    lower: float = 0.0  # -1 for a difference of two shares (an excess over the control)
    #: an estimate `evaluate` writes with its `interval`; `check` refuses one without
    estimate: bool = False

    @property
    def gate(self) -> str:
        return self.id.split(".", 1)[0]


def _specs(*specs: MetricSpec) -> dict[str, MetricSpec]:
    return {spec.id: spec for spec in specs}


_T, _C, _P = Scope.TABLE, Scope.COLUMN, Scope.PAIR

METRICS: dict[str, MetricSpec] = _specs(
    MetricSpec("schema.columns_match", _T, True),
    MetricSpec("schema.dtypes_match", _T, True),
    MetricSpec("schema.values_in_card", _C, True),
    MetricSpec("constraints.validity", _T, True),
    MetricSpec("fidelity.ks_complement", _C, True),
    MetricSpec("fidelity.tv_complement", _C, True),
    MetricSpec("fidelity.column_shapes", _T, True),
    MetricSpec("fidelity.missing_rate_diff", _C, False),
    MetricSpec("fidelity.correlation_similarity", _P, True),
    MetricSpec("fidelity.contingency_similarity", _P, True),
    MetricSpec("fidelity.column_pair_trends", _T, True),
    MetricSpec("fidelity.boundary_adherence", _C, True),
    MetricSpec("fidelity.category_adherence", _C, True),
    MetricSpec("fidelity.logistic_detection", _T, True),
    MetricSpec("fidelity.detection_auc", _T, False, estimate=True),
    MetricSpec("utility.tstr", _T, True, estimate=True),
    MetricSpec("utility.trtr", _T, True, estimate=True),
    MetricSpec("utility.tstr_trtr_ratio", _T, True, upper=None, estimate=True),
    MetricSpec("privacy.prohibited_columns_absent", _T, True),
    MetricSpec("privacy.exact_match_rate", _T, False),
    MetricSpec("privacy.dcr_overfitting_protection", _T, True),
    MetricSpec("privacy.dcr_share_closer_to_train", _T, False),
    MetricSpec("privacy.dcr_median", _T, True),
    MetricSpec("privacy.dcr_baseline_protection", _T, True),
    MetricSpec("privacy.mia_auc", _T, False, estimate=True),
    MetricSpec("privacy.singling_out_risk", _T, False),
    MetricSpec("privacy.linkability_risk", _T, False),
    MetricSpec("privacy.inference_risk", _C, False),
    # one normalisation (the training table's ranges) and the holdout as the control: the
    # figures the default policy gates (docs/calibration.md)
    MetricSpec("privacy.exact_copy_excess", _T, False, lower=-1.0, estimate=True),
    MetricSpec("privacy.near_copy_excess", _T, False, lower=-1.0, estimate=True),
    MetricSpec("privacy.closer_than_fresh", _T, False, estimate=True),
    MetricSpec("privacy.singling_out_excess", _T, False, lower=-1.0, estimate=True),
    MetricSpec("privacy.linkability_excess", _T, False, lower=-1.0, estimate=True),
    MetricSpec("privacy.inference_excess", _C, False, lower=-1.0, estimate=True),
    MetricSpec("subgroup.worst_gap", _C, False),
    MetricSpec("subgroup.shortfall", _C, False, lower=-1.0, estimate=True),
)

#: The gates whose rules are thresholds on metrics (BRIEF §4); the others are fixed checks.
METRIC_GATES = ("schema", "constraints", "fidelity", "utility", "privacy", "subgroup")
