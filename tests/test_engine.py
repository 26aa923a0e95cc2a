"""The gate engine on in-memory releases: every gate blocks what it must, waivers, fail closed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from synthgov.decision import digests, engine
from synthgov.decision.findings import Finding, ReleaseResult, Severity
from synthgov.decision.review import Evidence, Filed
from synthgov.files.loading import Loaded, parse_document, validate
from synthgov.gates import ReleaseContext
from synthgov.metrics.metric_ids import METRICS
from synthgov.models import KINDS
from synthgov.models.common import Classification
from synthgov.signing.signatures import Verifier
from tests.helpers import ledgers, samples, signing
from tests.helpers.samples import PASSING, RELEASE, report_json, with_metric

NOW = datetime(2026, 9, 10, tzinfo=UTC)
SHA = samples.SHA


def _load(kind: str, path: str, text: str) -> Loaded[Any]:
    doc = parse_document(text.encode(), path)
    return Loaded(validate(doc, KINDS[kind]), doc)


def context(
    metrics: list[dict[str, Any]] | None = None,
    card: str = samples.CARD,
    manifest: str = samples.MANIFEST,
    waivers: tuple[str, ...] = (),
    base_classification: Classification = Classification.CONFIDENTIAL,
    artifact: str = SHA,
    card_sha: str | None = None,
    approved: bool = True,
) -> ReleaseContext:
    sha = hashlib.sha256(card.encode()).hexdigest()
    ctx = ReleaseContext(
        release="claims@1.10",
        policy=_load("policy", "policy/policy.yaml", samples.POLICY),
        card=_load("card", "datasets/claims/card.yaml", card),
        card_sha256=sha,
        classification=base_classification,
        manifest=_load("manifest", f"{RELEASE}/manifest.yaml", manifest),
        report=_load(
            "report",
            f"{RELEASE}/report.json",
            report_json(PASSING if metrics is None else metrics, card_sha or sha, artifact),
        ),
        waivers=tuple(
            _load("waiver", f"{RELEASE}/waivers/W{i}.yaml", text) for i, text in enumerate(waivers)
        ),
        now=NOW,
        **ledgers.for_release(manifest),
    )
    return replace(ctx, approvals=evidence(ctx) if approved else evidence(ctx, ()))


def evidence(ctx: ReleaseContext, roles: tuple[str, ...] = ("ada", "chen")) -> Evidence:
    """Real signed approvals of the release by `roles`' people, and of every waiver by ada."""
    people = signing.people()
    registry = _load(
        "reviewers", "policy/reviewers.yaml", signing.registry_yaml(*signing.registered())
    )
    digest = digests.release_digest(ctx.manifest.document.data, ctx.report.document.data)
    files = [signing.approval(people[n], people[n].roles[0], digest) for n in roles]
    files += [
        signing.approval(
            people["ada"],
            "privacy-reviewer",
            digests.waiver_digest(ctx.release, w.document.data),
            waiver=w.model.id,
        )
        for w in ctx.waivers
        if roles
    ]
    filed = tuple(Filed(_load("approval", path, text)) for path, text in files)
    return Evidence(
        registry.model, Verifier(registry.model, NOW), filed, frozenset({ctx.manifest.model.author})
    )


def blocking(result: ReleaseResult) -> list[Finding]:
    return [f for f in result.findings if f.blocks]


def test_a_compliant_release_passes() -> None:
    result = engine.run_gates(context())
    assert result.verdict == "pass", result.findings
    assert result.findings == ()


def test_a_failing_metric_blocks_naming_gate_rule_observed_threshold_and_both_lines() -> None:
    ctx = context(with_metric("fidelity.detection_auc", value=0.9, ci=[0.88, 0.92]))
    [finding] = blocking(engine.run_gates(ctx))
    assert (finding.gate, finding.rule, finding.observed, finding.threshold) == (
        "fidelity",
        "fidelity.detection_auc",
        0.9,
        0.7,
    )
    assert finding.outcome == "fail" and finding.interval is not None and finding.interval[0] > 0.7
    lines = ctx.report.document.text.splitlines()
    entry = next(i for i, text in enumerate(lines, 1) if '"fidelity.detection_auc"' in text)
    assert (finding.file, finding.line) == (f"{RELEASE}/report.json", entry - 1)  # the entry's "{"
    # the card tightened 0.78 to 0.7, so the threshold was set by the card, at its line
    assert (finding.threshold_file, finding.threshold_line) == ("datasets/claims/card.yaml", 22)
    assert finding.fix and "fidelity" in finding.fix


def _linkability(attack: int, control: int, trials: int = 2000) -> list[dict[str, Any]]:
    value = (attack - control) / trials
    interval = {"kind": "newcombe", "successes": [attack, control], "trials": [trials, trials]}
    return with_metric("privacy.linkability_excess", value=value, interval=interval, n=trials)


def test_an_estimate_fails_only_when_its_whole_interval_is_beyond_the_threshold() -> None:
    [finding] = blocking(engine.run_gates(context(_linkability(700, 400))))  # +0.15
    assert (finding.rule, finding.outcome, finding.observed) == (
        "privacy.linkability_excess",
        "fail",
        0.15,
    )
    assert finding.interval is not None and finding.interval[0] > 0  # the threshold is 0
    assert "interval [" in finding.message and "each bound" in finding.message


def test_an_estimate_within_its_margin_passes() -> None:
    # +0.01 with a narrow interval: not significantly above 0, and within 0 + margin 0.06
    assert engine.run_gates(context(_linkability(520, 500))).verdict == "pass"


def test_an_undecidable_estimate_is_inconclusive_and_the_tier_decides() -> None:
    # 30 of 60 against 28 of 60: the interval spans 0 and reaches past the 0.06 margin
    wide = _linkability(30, 28, trials=60)
    [finding] = blocking(engine.run_gates(context(wide)))  # confidential: blocks
    assert finding.outcome == "inconclusive"
    assert (
        finding.message.startswith("inconclusive at n = ") and "would decide it" in finding.message
    )
    card = samples.CARD.replace("classification: confidential", "classification: internal")
    internal = context(wide, card=card, base_classification=Classification.INTERNAL)
    result = engine.run_gates(internal)
    assert result.verdict == "pass"
    assert [f.outcome for f in result.findings] == ["inconclusive"]
    assert result.findings[0].severity is Severity.WARNING


def test_a_missing_metric_blocks_never_passes() -> None:
    metrics = [m for m in PASSING if m["id"] != "privacy.mia_auc"]
    [finding] = blocking(engine.run_gates(context(metrics)))
    assert finding.rule == "privacy.mia_auc"
    assert finding.observed is None
    assert "the report has no privacy.mia_auc metric" in finding.message


def test_the_alternative_condition_passes_a_rule() -> None:
    weak_tstr = with_metric("utility.tstr", value=0.7)
    assert engine.run_gates(context(weak_tstr)).verdict == "pass"
    both_weak = [
        ({**m, "value": 0.5, "ci": [0.48, 0.52]} if m["id"] == "utility.tstr_trtr_ratio" else m)
        for m in weak_tstr
    ]
    [finding] = blocking(engine.run_gates(context(both_weak)))
    assert finding.rule == "utility.tstr"
    assert "(or utility.tstr_trtr_ratio >= 0.9)" in finding.message


def test_per_column_metrics_gate_on_the_worst_column() -> None:
    metrics = [
        *PASSING,
        {
            "id": "privacy.inference_excess",
            "column": "age",
            "value": 0.2,
            "interval": {"kind": "newcombe", "successes": [1000, 600], "trials": [2000, 2000]},
        },
    ]
    [finding] = blocking(engine.run_gates(context(metrics)))
    assert (finding.rule, finding.observed) == ("privacy.inference_excess", 0.2)
    assert "(worst: age)" in finding.message


def test_an_advisory_rule_warns_and_does_not_block() -> None:
    result = engine.run_gates(context(with_metric("fidelity.column_pair_trends", value=0.5)))
    assert result.verdict == "pass"
    [finding] = result.findings
    assert (finding.severity, finding.enforcement) == (Severity.WARNING, "advisory")


def test_a_tampered_artifact_hash_blocks() -> None:
    # a report about another table: another file, and other rows
    found = {f.rule: f for f in blocking(engine.run_gates(context(artifact="b" * 64)))}
    assert set(found) == {
        "integrity.artifact_sha256",
        "integrity.artifact_fingerprint",
        "integrity.artifact_sketch",
    }
    finding = found["integrity.artifact_sha256"]
    assert (finding.observed, finding.threshold) == ("b" * 64, SHA)


def test_a_manifest_without_a_content_fingerprint_blocks() -> None:
    manifest = samples.MANIFEST.replace(f', fingerprint: "{samples.FINGERPRINTS["synthetic"]}"', "")
    assert manifest != samples.MANIFEST
    rules = {f.rule for f in blocking(engine.run_gates(context(manifest=manifest)))}
    assert "integrity.fingerprint" in rules


def test_a_report_evaluated_with_a_hand_picked_seed_blocks() -> None:
    """No re-rolls (BRIEF §11.2): the seed is the one the tables' fingerprints derive."""
    report = json.loads(report_json(PASSING, hashlib.sha256(samples.CARD.encode()).hexdigest()))
    report["config"]["seed"] = 3
    ctx = replace(context(), report=_load("report", f"{RELEASE}/report.json", json.dumps(report)))
    [finding] = blocking(engine.run_gates(replace(ctx, approvals=evidence(ctx))))
    assert (finding.rule, finding.observed, finding.threshold) == (
        "integrity.seed",
        3,
        samples.SEED,
    )
    assert "could re-roll the verdict" in finding.message


def test_a_seed_pinned_or_left_to_the_author_by_the_policy() -> None:
    report = json.loads(report_json(PASSING, hashlib.sha256(samples.CARD.encode()).hexdigest()))
    report["config"]["seed"] = 42
    text = json.dumps(report)
    for rule, blocked in (("42", False), ("41", True), ("any", False)):
        policy = samples.POLICY.replace("  seed: derived", f"  seed: {rule}")
        ctx = replace(
            context(),
            policy=_load("policy", "policy/policy.yaml", policy),
            report=_load("report", f"{RELEASE}/report.json", text),
        )
        rules = {f.rule for f in blocking(engine.run_gates(replace(ctx, approvals=evidence(ctx))))}
        assert ("integrity.seed" in rules) is blocked, rule


def test_a_report_computed_against_another_card_blocks() -> None:
    [finding] = blocking(engine.run_gates(context(card_sha="c" * 64)))
    assert finding.rule == "integrity.card_sha256"


def test_intended_use_outside_the_cards_blocks() -> None:
    manifest = samples.MANIFEST.replace(
        "intended_uses: [model development]", "intended_uses: [marketing]"
    )
    [finding] = blocking(engine.run_gates(context(manifest=manifest)))
    assert (finding.gate, finding.rule, finding.observed) == (
        "policy",
        "policy.intended_use",
        "marketing",
    )
    assert finding.file == f"{RELEASE}/manifest.yaml"


def test_the_restricted_tier_requires_dp() -> None:
    card = samples.CARD.replace("classification: confidential", "classification: restricted")
    manifest = samples.MANIFEST.replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: none"
    )
    result = engine.run_gates(
        context(card=card, manifest=manifest, base_classification=Classification.RESTRICTED)
    )
    rules = {f.rule for f in blocking(result)}
    assert "policy.dp_required" in rules


def test_a_classification_downgrade_in_the_pull_request_does_not_apply() -> None:
    card = samples.CARD.replace("classification: confidential", "classification: public")
    manifest = samples.MANIFEST.replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: none"
    )
    result = engine.run_gates(
        context(card=card, manifest=manifest, base_classification=Classification.RESTRICTED)
    )
    rules = {f.rule for f in blocking(result)}
    assert {
        "policy.classification_change",
        "policy.dp_required",
    } <= rules  # restricted still applies


WAIVER = samples.WAIVER.replace("relax_to: 0.8", "relax_to: 0.85")


def test_a_waiver_relaxes_within_its_bound_and_stays_visible() -> None:
    result = engine.run_gates(
        context(
            with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82]), waivers=(WAIVER,)
        )
    )
    assert result.verdict == "pass"
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert finding.waiver is not None and finding.waiver.id == "WVR-2026-007"
    assert "waived by WVR-2026-007 up to 0.85" in finding.message


def test_a_waiver_does_not_relax_beyond_its_bound() -> None:
    result = engine.run_gates(
        context(
            with_metric("fidelity.detection_auc", value=0.9, ci=[0.88, 0.92]), waivers=(WAIVER,)
        )
    )
    [finding] = blocking(result)
    assert "beyond waiver WVR-2026-007's bound 0.85" in finding.message


def test_an_expired_waiver_is_itself_a_finding_and_relaxes_nothing() -> None:
    expired = WAIVER.replace('"2026-09-02T00:00:00Z"', '"2026-08-01T00:00:00Z"').replace(
        '"2026-10-02T00:00:00Z"', '"2026-09-01T00:00:00Z"'
    )
    result = engine.run_gates(
        context(
            with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82]), waivers=(expired,)
        )
    )
    rules = sorted(f.rule for f in blocking(result))
    assert rules == ["fidelity.detection_auc", "waivers.expired"]


def test_a_hard_rule_cannot_be_waived() -> None:
    waiver = WAIVER.replace(
        "rule: fidelity.detection_auc", "rule: privacy.prohibited_columns_absent"
    ).replace("relax_to: 0.85", "relax_to: 0")
    result = engine.run_gates(
        context(with_metric("privacy.prohibited_columns_absent", value=0.0), waivers=(waiver,))
    )
    rules = sorted(f.rule for f in blocking(result))
    assert rules == ["privacy.prohibited_columns_absent", "waivers.invalid"]


def test_an_exception_inside_a_gate_blocks_the_release(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: ReleaseContext) -> list[Finding]:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(engine, "GATES", (*engine.GATES, ("broken", broken)))
    result = engine.run_gates(context())
    [finding] = blocking(result)
    assert finding.rule == "broken.unchecked"
    assert "could not be checked, so it is blocked: ZeroDivisionError: boom" in finding.message


def test_results_are_ordered_blocking_first() -> None:
    metrics = with_metric("fidelity.column_pair_trends", value=0.5)
    metrics = [({**m, "value": 0.5} if m["id"] == "fidelity.column_shapes" else m) for m in metrics]
    result = engine.run_gates(context(metrics))
    assert [f.blocks for f in result.findings] == [True, False]
    assert replace(result.findings[0]).rule == "fidelity.column_shapes"


def _failing_value(rule_id: str) -> float:
    from synthgov.metrics.metric_ids import METRICS
    from synthgov.models import Policy

    policy = _load("policy", "policy/policy.yaml", samples.POLICY).model
    assert isinstance(policy, Policy)
    spec = METRICS[policy.rules[rule_id].metric]
    return 0.0 if spec.higher_is_better else 1.0


DEFAULT_RULES = sorted(_load("policy", "policy/policy.yaml", samples.POLICY).model.rules)


@pytest.mark.parametrize("rule_id", DEFAULT_RULES)
def test_every_rule_of_the_default_policy_fires_when_its_metric_fails(rule_id: str) -> None:
    policy = _load("policy", "policy/policy.yaml", samples.POLICY).model
    rule = policy.rules[rule_id]
    bad = _failing_value(rule_id)
    narrow = {"interval": {"kind": "normal", "se": 0.001}} if METRICS[rule.metric].estimate else {}
    metrics = [
        (
            {
                "id": m["id"],
                **({"column": m["column"]} if "column" in m else {}),
                **({"group": m["group"]} if "group" in m else {}),
                "value": bad,
                **narrow,
            }
            if m["id"] == rule.metric and "rule" not in m
            else m
        )
        for m in PASSING
    ]
    if rule.alternative is not None:  # both conditions must fail
        metrics = [
            ({**m, "value": 0.0, "ci": [0.0, 0.0]} if m["id"] == rule.alternative.metric else m)
            for m in metrics
        ]
    result = engine.run_gates(context(metrics))
    fired = [f for f in result.findings if f.rule == rule_id]
    assert len(fired) == 1, result.findings
    assert "has no `interval`" not in fired[0].message
    assert fired[0].gate == rule_id.split(".")[0]
    assert fired[0].blocks == (rule.enforcement.value != "advisory")


def test_a_metric_the_card_leaves_nothing_to_measure_on_is_a_warning_not_a_block() -> None:
    card = samples.CARD.replace("subgroup_columns: [region]\n", "")
    assert card != samples.CARD
    metrics = [m for m in PASSING if not m["id"].startswith("subgroup.")]
    result = engine.run_gates(context(metrics, card=card))
    assert result.verdict == "pass", result.findings
    [finding] = result.findings
    assert finding.severity is Severity.WARNING and finding.rule == "subgroup.shortfall"
    assert "the card names no subgroup columns" in finding.message
    # with subgroup columns declared, the same missing metric blocks
    [blocked] = blocking(engine.run_gates(context(metrics)))
    assert blocked.rule == "subgroup.shortfall" and "never passes" in blocked.message


def test_a_pull_request_cannot_drop_a_gate_by_editing_an_existing_card() -> None:
    card = samples.CARD.replace("subgroup_columns: [region]\n", "")
    metrics = [m for m in PASSING if not m["id"].startswith("subgroup.")]
    base = _load("card", "datasets/claims/card.yaml", samples.CARD).model
    ctx = replace(context(metrics, card=card), base_card=base)
    [blocked] = blocking(engine.run_gates(ctx))
    assert blocked.rule == "subgroup.shortfall" and "never passes" in blocked.message


def test_subgroup_gaps_measured_on_another_metric_block() -> None:
    report = json.loads(samples.REPORT)
    report["config"]["subgroups"] = {"metric": "utility.tstr", "min_rows": 30}
    ctx = context()
    ctx = replace(
        ctx, report=_load("report", f"{RELEASE}/report.json", json.dumps(report, indent=1))
    )
    findings = blocking(engine.run_gates(ctx))
    basis = [f for f in findings if f.rule == "subgroup.basis"]
    assert len(basis) == 1
    assert "utility.tstr" in basis[0].message and "fidelity.column_shapes" in basis[0].message
    assert basis[0].threshold_file == "policy/policy.yaml"


def _without_subgroups(notes: list[dict[str, Any]]) -> ReleaseContext:
    data = json.loads(
        report_json(
            [m for m in PASSING if not m["id"].startswith("subgroup.")],
            hashlib.sha256(samples.CARD.encode()).hexdigest(),
        )
    )
    data["inconclusive"] = notes
    ctx = replace(context(), report=_load("report", f"{RELEASE}/report.json", json.dumps(data)))
    return replace(ctx, approvals=evidence(ctx))


def test_a_table_too_small_to_measure_a_rule_is_inconclusive_and_says_how_many_rows() -> None:
    # the sample report's tables have 2,000 rows; no region group reaches 30 of them
    note = {
        "id": "subgroup.shortfall",
        "column": "region",
        "needs_rows": 6000,
        "reason": "no group of region has 30 rows in the real and holdout tables",
    }
    [finding] = blocking(engine.run_gates(_without_subgroups([note])))  # confidential: blocks
    assert (finding.rule, finding.outcome) == ("subgroup.shortfall", "inconclusive")
    assert finding.message == (
        "inconclusive: subgroup.shortfall (region) could not be measured: no group of region "
        "has 30 rows in the real and holdout tables; about 6,000 rows would measure it"
    )


def test_a_note_that_a_large_enough_table_could_not_be_measured_is_no_excuse() -> None:
    note = {
        "id": "subgroup.shortfall",
        "column": "region",
        "needs_rows": 400,  # the tables have more
        "reason": "no group of region has 30 rows",
    }
    [finding] = blocking(engine.run_gates(_without_subgroups([note])))
    assert (finding.rule, finding.outcome) == ("subgroup.shortfall", "fail")
    assert "a missing metric never passes" in finding.message


def test_a_card_without_limits_is_not_blocked_for_the_share_of_values_within_them() -> None:
    """A card that sets no min, max, allowed_values or pattern leaves `schema.values_in_card`
    nothing to measure, so `evaluate` writes none: the default policy blocked every release
    of such a card for a missing metric (the benchmark's 15-column card was one)."""
    card = (
        samples.CARD.replace(", min: 18, max: 99", "")
        .replace(", allowed_values: [north, south]", "")
        .replace(", min: 0", "")
    )
    assert "min:" not in card and "allowed_values" not in card
    metrics = [m for m in PASSING if m["id"] != "schema.values_in_card"]
    result = engine.run_gates(context(metrics, card=card))
    assert result.verdict == "pass", result.findings
    [finding] = [f for f in result.findings if f.rule == "schema.values_in_card"]
    assert finding.severity is Severity.WARNING and "the rule does not apply" in finding.message
    assert "sets no min, max, allowed_values or pattern" in finding.message
    # the base card sets limits: a pull request that drops them cannot drop the gate
    base = _load("card", "datasets/claims/card.yaml", samples.CARD).model
    ctx = replace(context(metrics, card=card), base_card=base)
    [blocked] = blocking(engine.run_gates(ctx))
    assert blocked.rule == "schema.values_in_card" and "never passes" in blocked.message


def test_pair_and_linkage_rules_do_not_apply_to_a_card_too_narrow_to_measure_them() -> None:
    """`evaluate` writes no pair trend for one column, and no linkability for fewer than
    two columns besides the target (the attack splits them in two)."""
    from synthgov.gates.metrics import not_applicable

    two = _load("card", "datasets/claims/card.yaml", samples.CARD).model
    one = two.model_copy(update={"columns": two.columns[:1], "target": None})
    assert not_applicable("fidelity.column_pair_trends", one) is not None
    assert not_applicable("privacy.linkability_excess", one) is not None
    assert not_applicable("fidelity.column_pair_trends", two) is None
    assert not_applicable("privacy.linkability_excess", two) is None


def test_values_in_card_applies_exactly_where_coverage_asks_for_a_column_of_it() -> None:
    """The metric gate's "does not apply" and the coverage gate's columns are one rule
    (`coverage.required`): were they two, a limit one of them forgot would let a report
    omit the metric altogether as "not applicable" while coverage asked for its column."""
    from synthgov.gates.coverage import required
    from synthgov.gates.metrics import not_applicable
    from synthgov.models.card import ColumnType

    card = _load("card", "datasets/claims/card.yaml", samples.CARD).model
    free = {"min": None, "max": None, "allowed_values": None, "pattern": None}
    bare = [c.model_copy(update=free) for c in card.columns]
    none = card.model_copy(update={"columns": bare})
    assert not required("schema.values_in_card", none, None)
    assert not_applicable("schema.values_in_card", none) is not None
    string = bare[0].model_copy(
        update={"name": "code", "type": ColumnType.STRING, "pattern": "[a-z]+"}
    )
    limits = [(i, c) for i, c in enumerate(card.columns) if c != bare[i]] + [(len(bare), string)]
    assert len(limits) == 4  # min and max, allowed_values, min alone, pattern
    for index, column in limits:
        columns = [*bare[:index], column, *bare[index + 1 :]]
        one = card.model_copy(update={"columns": columns})
        assert required("schema.values_in_card", one, None) == [column.name]
        assert not_applicable("schema.values_in_card", one) is None, column.name
