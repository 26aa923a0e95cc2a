"""policy/policy.yaml: rules as data, tiers per classification, approvals, waivers.

A rule is a threshold on a metric of the report (BRIEF §8): which metric, how to
aggregate it over columns, a comparator and a threshold, an enforcement level, and an
optional alternative condition under which it also passes ("TSTR ≥ 0.84 or ratio ≥ 0.9").
The effective rule for a release is defaults -> tier of the card's classification ->
card overrides, where a card may only tighten (`loosenings`).
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, Strict, StringConstraints, model_validator

from synthgov.metrics.metric_ids import METRIC_GATES, METRICS
from synthgov.models.common import (
    ApprovalCounts,
    Classification,
    Enforcement,
    FieldError,
    FiniteFloat,
    Model,
    RepositoryId,
    SchemaVersion,
    Text,
)

Comparator = Literal["<=", ">=", "<", ">", "=="]
Aggregate = Literal["min", "mean", "max"]
RuleId = Annotated[
    str,
    StringConstraints(pattern=r"^(?:" + "|".join(METRIC_GATES) + r")\.[a-z0-9_]{1,64}$"),
    Field(description="<gate>.<name>, e.g. fidelity.detection_auc; the prefix is the gate."),
]


class Condition(Model):
    """`aggregate(metric) op threshold`; estimates are compared on their pessimistic bound."""

    metric: str = Field(description="A metric id of the report contract (BRIEF §8).")
    op: Comparator
    threshold: FiniteFloat
    margin: FiniteFloat = Field(
        0.0,
        ge=0,
        description="How far beyond the threshold an estimate's interval may reach and still "
        "pass; the rule fails only when the whole interval is beyond the threshold, and is "
        "inconclusive in between (docs/policy.md).",
    )
    aggregate: Aggregate | None = Field(
        None,
        description="How to combine per-column values; default: the worst value for the comparator.",
    )

    @model_validator(mode="after")
    def _known_metric(self) -> "Condition":
        spec = METRICS.get(self.metric)
        if spec is None:
            raise FieldError(
                ("metric",), f"'{self.metric}' is not a metric id of the report contract"
            )
        problem = self.out_of_range(self.threshold)
        if problem:
            raise FieldError(("threshold",), problem)
        if self.op != "==" and (self.op in (">=", ">")) != spec.higher_is_better:
            better = "higher" if spec.higher_is_better else "lower"
            expected = ">=" if spec.higher_is_better else "<="
            raise FieldError(
                ("op",), f"{self.metric} is better when {better}; a limit on it uses {expected}"
            )
        return self

    def out_of_range(self, threshold: float) -> str | None:
        """Why `threshold` cannot apply to this metric (a rule switched off by it), or None."""
        spec = METRICS[self.metric]
        if threshold < spec.lower or (spec.upper is not None and threshold > spec.upper):
            bound = (
                f"[{spec.lower:g}, {spec.upper:g}]"
                if spec.upper is not None
                else f">= {spec.lower:g}"
            )
            return f"{threshold:g} is outside {bound} for {self.metric}"
        return None

    @property
    def effective_aggregate(self) -> "Aggregate":
        if self.aggregate is not None:
            return self.aggregate
        return "min" if self.op in (">=", ">", "==") else "max"

    def is_tighter_or_equal(self, threshold: float, than: float) -> bool:
        """Whether `threshold` is at least as strict as `than` under this comparator."""
        if self.op in ("<=", "<"):
            return threshold <= than
        if self.op in (">=", ">"):
            return threshold >= than
        return threshold == than


class Rule(Condition):
    """A gate rule; its id (the mapping key) names the gate it belongs to."""

    weight: FiniteFloat = Field(
        1.0,
        gt=0,
        le=100,
        description="The rule's share of the policy's false-block rate, relative to the other "
        "rules' (weighted Bonferroni): a heavier rule's estimates are judged at a looser level, "
        "so it finds smaller effects, and the others' at a stricter one.",
    )
    enforcement: Annotated[Enforcement, Strict(False)] = Enforcement.MANDATORY
    description: Text | None = None
    fix: Text | None = Field(None, description="How to fix a release that fails this rule.")
    alternative: Condition | None = Field(
        None, description="The rule also passes when this condition holds."
    )


class RuleOverride(Model):
    """A change to one rule by a tier (any direction) or by a card (tighten only)."""

    threshold: FiniteFloat | None = None
    margin: FiniteFloat | None = Field(None, ge=0, description="New margin of the rule.")
    alternative: FiniteFloat | None = Field(None, description="New threshold of the alternative.")
    enforcement: Annotated[Enforcement, Strict(False)] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "RuleOverride":
        if all(
            getattr(self, k) is None for k in ("threshold", "margin", "alternative", "enforcement")
        ):
            raise ValueError("an override must set threshold, margin, alternative or enforcement")
        return self


class Tier(Model):
    """What a classification requires: approvals, DP, and rule overrides."""

    approvals: ApprovalCounts
    require_dp: bool = Field(False, description="Releases must carry differential-privacy figures.")
    inconclusive: Literal["warn", "block"] = Field(
        "warn",
        description="What an inconclusive figure (too few rows to decide a rule) does: a "
        "warning, or a block like a failure.",
    )
    require_signed_commits: bool = Field(
        False,
        description="Every commit of a pull request that writes a release's files (renames and "
        "copies included) must be signed by a key of the base registry, valid at the check.",
    )
    overrides: dict[str, RuleOverride] = Field(default_factory=dict)


class Tiers(Model):
    public: Tier
    internal: Tier
    confidential: Tier
    restricted: Tier

    def for_classification(self, classification: Classification) -> "Tier":
        tier: Tier = getattr(self, Classification(classification).value)
        return tier


class ChangeControl(Model):
    """Approvals needed for a pull request that changes policy/ itself."""

    approvals: ApprovalCounts


class BudgetChangeControl(Model):
    """Approvals needed for a pull request that sets a privacy budget: a new ledger, a
    change of an existing ledger's header (cap, notion, privacy unit), or a change of an
    existing card's source (which moves its releases to another ledger)."""

    approvals: ApprovalCounts = Field(
        default_factory=lambda: {"policy-admin": 1, "privacy-reviewer": 1}
    )


class WaiverPolicy(Model):
    max_days: int = Field(90, ge=1, le=366, description="Longest allowed waiver horizon.")
    approvals: ApprovalCounts = Field(default_factory=lambda: {"privacy-reviewer": 1})
    max_relax: dict[str, FiniteFloat] = Field(
        default_factory=dict,
        description="Rule id -> the loosest threshold a waiver's relax_to may set; a rule "
        "without a bound here cannot be waived.",
    )


class SubgroupPolicy(Model):
    """What the subgroup metrics measure; `evaluate` records it and `check` compares."""

    metric: Literal["fidelity.column_shapes", "utility.tstr"] = Field(
        "fidelity.column_shapes",
        description="The metric on which each subgroup is compared: its shortfall against the "
        "holdout (`subgroup.shortfall`) and its gap to the whole table (`subgroup.worst_gap`).",
    )
    min_rows: int = Field(
        30,
        ge=1,
        le=1_000_000,
        description="Smaller subgroups (in the real or holdout table) are reported but not gated.",
    )


class ChartsPolicy(Model):
    """What the release report may draw (BRIEF §11.7): aggregates only, no small cell."""

    min_cell_count: int = Field(
        10,
        ge=1,
        le=1_000_000,
        description="The smallest count a chart aggregate in report.json (and so the release "
        "report page) may show: smaller cells are merged with others or suppressed.",
    )


class Statistics(Model):
    """How estimates are judged (BRIEF §11.1-2; docs/calibration.md)."""

    false_block_rate: FiniteFloat = Field(
        0.05,
        gt=0,
        le=0.5,
        description="The chance that a release as good as fresh real data fails some rule, "
        "for the whole policy: shared among the rules by their weights, then among each "
        "rule's entries (weighted Bonferroni).",
    )
    seed: Literal["derived", "any"] | Annotated[int, Field(ge=0, lt=2**32)] = Field(
        "derived",
        description="The evaluation seed: derived from the tables' content (no re-rolls), a "
        "fixed number, or any (the author's --seed; re-rolls possible).",
    )


class Policy(Model):
    """The whole policy; on the base branch it is the trust root of every check."""

    schema_version: SchemaVersion
    repository: RepositoryId | None = Field(
        None,
        description="This repository's id (`synthgov init` draws one): every approval signs "
        "it, so that an approval from another repository never counts here.",
    )
    rules: dict[RuleId, Rule] = Field(min_length=1)
    tiers: Tiers
    policy_changes: ChangeControl
    budget_changes: BudgetChangeControl = Field(default_factory=BudgetChangeControl)
    waivers: WaiverPolicy = Field(default_factory=WaiverPolicy)
    subgroups: SubgroupPolicy = Field(default_factory=SubgroupPolicy)
    statistics: Statistics = Field(default_factory=Statistics)
    tuning_record: Literal["required", "advisory"] = Field(
        "advisory",
        description="Whether a DP release's manifest must record the runs on the real data "
        "that preceded it (`privacy.tuning`, `none` allowed): required blocks a release "
        "without the record, advisory warns. `synthgov init` writes required; a policy "
        "without the key (written before synthgov recorded tuning) is advisory.",
    )
    charts: ChartsPolicy = Field(default_factory=ChartsPolicy)
    expiry_warning_days: int = Field(
        14,
        ge=0,
        le=366,
        description="How many days before a waiver or a reviewer's key expires `status`, the "
        "catalog and `check --scheduled` warn of it (0: no warning); a warning never blocks.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Policy":
        for rule_id, rule in self.rules.items():
            if (
                rule.alternative is not None
                and METRICS[rule.alternative.metric].gate != METRICS[rule.metric].gate
            ):
                raise FieldError(
                    ("rules", rule_id, "alternative", "metric"),
                    f"an alternative stays within its rule's gate ({METRICS[rule.metric].gate})",
                )
            if rule_id.split(".", 1)[0] != METRICS[rule.metric].gate:
                raise FieldError(
                    ("rules", rule_id),
                    f"gates metric {rule.metric} of another gate; name it "
                    f"{METRICS[rule.metric].gate}.<name>",
                )
        for name in Classification:
            for rule_id, override in self.tiers.for_classification(name).overrides.items():
                where = ("tiers", name.value, "overrides", rule_id)
                known = self.rules.get(rule_id)
                if known is None:
                    raise FieldError(where, "no rule with this id in `rules`")
                if override.alternative is not None and known.alternative is None:
                    raise FieldError((*where, "alternative"), "the rule has no alternative")
                for field, problem in override_range_problems(known, override):
                    raise FieldError((*where, field), problem)
        for rule_id, bound in self.waivers.max_relax.items():
            unbound = waiver_bound_problem(self.rules.get(rule_id), bound)
            if unbound:
                raise FieldError(("waivers", "max_relax", rule_id), unbound)
        return self

    def effective_rule(self, rule_id: str, classification: Classification) -> "EffectiveRule":
        """The rule after the tier's overrides, with the key path that set each value."""
        classification = Classification(classification)
        rule = self.rules[rule_id]
        base = ("rules", rule_id)
        threshold_at: tuple[str, ...]
        alternative_at: tuple[str, ...] | None
        enforcement_at: tuple[str, ...]
        threshold, threshold_at = rule.threshold, (*base, "threshold")
        margin = rule.margin
        alternative = rule.alternative.threshold if rule.alternative else None
        alternative_at = (*base, "alternative", "threshold") if rule.alternative else None
        enforcement, enforcement_at = rule.enforcement, (*base, "enforcement")
        tier_at = ("tiers", classification.value, "overrides", rule_id)
        override = self.tiers.for_classification(classification).overrides.get(rule_id)
        if override is not None:
            if override.threshold is not None:
                threshold, threshold_at = override.threshold, (*tier_at, "threshold")
            if override.margin is not None:
                margin = override.margin
            if override.alternative is not None:
                alternative, alternative_at = override.alternative, (*tier_at, "alternative")
            if override.enforcement is not None:
                enforcement, enforcement_at = override.enforcement, (*tier_at, "enforcement")
        return EffectiveRule(
            rule_id,
            rule,
            threshold,
            threshold_at,
            alternative,
            alternative_at,
            enforcement,
            enforcement_at,
            margin,
        )


def waiver_bound_problem(rule: Rule | None, bound: float) -> str | None:
    """Why `bound` cannot limit waivers of `rule`, or None."""
    if rule is None:
        return "no rule with this id in `rules`"
    if rule.enforcement is Enforcement.HARD:
        return "the rule is hard: it cannot be waived, so it takes no bound"
    return rule.out_of_range(bound)


def override_range_problems(rule: Rule, override: RuleOverride) -> list[tuple[str, str]]:
    """(field, why) for override thresholds outside their metric's range."""
    found = []
    if override.threshold is not None and (problem := rule.out_of_range(override.threshold)):
        found.append(("threshold", problem))
    alternative = rule.alternative
    if override.alternative is not None and alternative is not None:
        problem = alternative.out_of_range(override.alternative)
        if problem:
            found.append(("alternative", problem))
    return found


@dataclass(frozen=True)
class EffectiveRule:
    """A rule's values for one classification, each with the policy key path that set it."""

    rule_id: str
    rule: Rule
    threshold: float
    threshold_at: tuple[str, ...]
    alternative: float | None
    alternative_at: tuple[str, ...] | None
    enforcement: Enforcement
    enforcement_at: tuple[str, ...]
    margin: float = 0.0


@dataclass(frozen=True)
class OverrideProblem:
    """Why a card override is invalid; `policy_at` is the policy key path it would relax."""

    rule_id: str
    field: str | None
    message: str
    policy_at: tuple[str, ...] | None = None


def card_override_problems(
    policy: Policy, classification: Classification, overrides: dict[str, RuleOverride]
) -> list[OverrideProblem]:
    """Card overrides that name no rule, leave the metric's range, or loosen the policy."""
    found: list[OverrideProblem] = []
    for rule_id, override in overrides.items():
        if rule_id not in policy.rules:
            found.append(OverrideProblem(rule_id, None, "no rule with this id in the policy"))
            continue
        current = policy.effective_rule(rule_id, classification)
        rule = current.rule
        found.extend(
            OverrideProblem(rule_id, field, why)
            for field, why in override_range_problems(rule, override)
        )
        tier = f"the {Classification(classification).value} policy"
        if override.threshold is not None and not rule.is_tighter_or_equal(
            override.threshold, current.threshold
        ):
            found.append(
                OverrideProblem(
                    rule_id,
                    "threshold",
                    f"{override.threshold:g} loosens {tier} ({rule.op} {current.threshold:g})",
                    current.threshold_at,
                )
            )
        if override.margin is not None and override.margin > current.margin:
            found.append(
                OverrideProblem(
                    rule_id,
                    "margin",
                    f"{override.margin:g} loosens {tier} (margin {current.margin:g})",
                    ("rules", rule_id, "margin"),
                )
            )
        if override.alternative is not None:
            if rule.alternative is None or current.alternative is None:
                found.append(OverrideProblem(rule_id, "alternative", "the rule has no alternative"))
            elif not rule.alternative.is_tighter_or_equal(
                override.alternative, current.alternative
            ):
                found.append(
                    OverrideProblem(
                        rule_id,
                        "alternative",
                        f"{override.alternative:g} loosens {tier} "
                        f"({rule.alternative.op} {current.alternative:g})",
                        current.alternative_at,
                    )
                )
        if (
            override.enforcement is not None
            and override.enforcement.rank < current.enforcement.rank
        ):
            found.append(
                OverrideProblem(
                    rule_id,
                    "enforcement",
                    f"{override.enforcement.value} loosens {tier} ({current.enforcement.value})",
                    current.enforcement_at,
                )
            )
    return found
