"""Minimal valid governance documents of every kind, as the files a user would write."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from synthgov.content import derive_seed
from synthgov.decision.findings import Judged, RuleScore
from tests.helpers import ROOT

SHA = "a" * 64

#: The folder of release claims@1.10, the release the samples describe.
RELEASE = "datasets/claims/releases/1.10"

#: A metric report body that passes every rule of the default policy (BRIEF §8 ids).
PASSING: list[dict[str, Any]] = [
    {"id": "schema.columns_match", "value": 1.0},
    {"id": "schema.dtypes_match", "value": 1.0},
    {"id": "schema.values_in_card", "column": "age", "value": 1.0},
    {"id": "schema.values_in_card", "column": "region", "value": 1.0},
    {"id": "schema.values_in_card", "column": "amount", "value": 1.0},
    {"id": "constraints.validity", "value": 0.999},
    {"id": "constraints.validity", "value": 0.98, "rule": "positive-amount"},
    {"id": "fidelity.column_shapes", "value": 0.91},
    {"id": "fidelity.column_pair_trends", "value": 0.88},
    {"id": "fidelity.missing_rate_diff", "column": "age", "value": 0.0},
    {"id": "fidelity.missing_rate_diff", "column": "region", "value": 0.0},
    {"id": "fidelity.missing_rate_diff", "column": "amount", "value": 0.01},
    {"id": "fidelity.missing_rate_diff", "column": "fraud", "value": 0.0},
    {
        "id": "fidelity.detection_auc",
        "value": 0.61,
        "ci": [0.58, 0.64],
        "interval": {"kind": "normal", "se": 0.015},
    },
    {
        "id": "utility.tstr",
        "value": 0.88,
        "ci": [0.86, 0.9],
        "interval": {"kind": "normal", "se": 0.01},
    },
    {
        "id": "utility.tstr_trtr_ratio",
        "value": 0.95,
        "ci": [0.93, 0.97],
        "interval": {"kind": "normal", "se": 0.01},
    },
    {"id": "privacy.prohibited_columns_absent", "value": 1.0},
    {"id": "privacy.exact_match_rate", "value": 0.0},
    {"id": "privacy.dcr_overfitting_protection", "value": 0.97},
    {
        "id": "privacy.exact_copy_excess",
        "value": 0.0,
        "ci": [-0.002, 0.002],
        "interval": {"kind": "newcombe", "successes": [0, 0], "trials": [2000, 2000]},
    },
    {
        "id": "privacy.near_copy_excess",
        "value": 0.0,
        "ci": [-0.006, 0.006],
        "interval": {"kind": "newcombe", "successes": [20, 20], "trials": [2000, 2000]},
    },
    {
        "id": "privacy.closer_than_fresh",
        "value": 0.5,
        "ci": [0.49, 0.51],
        "interval": {"kind": "normal", "se": 0.005},
    },
    {
        "id": "privacy.mia_auc",
        "value": 0.5,
        "ci": [0.49, 0.51],
        "interval": {"kind": "normal", "se": 0.005},
    },
    {
        "id": "privacy.singling_out_excess",
        "value": 0.0,
        "ci": [-0.02, 0.02],
        "interval": {"kind": "normal", "se": 0.01},
    },
    {
        "id": "privacy.linkability_excess",
        "value": 0.0,
        "ci": [-0.02, 0.02],
        "interval": {"kind": "newcombe", "successes": [100, 100], "trials": [2000, 2000]},
    },
    {
        "id": "privacy.inference_excess",
        "column": "fraud",
        "value": 0.0,
        "ci": [-0.03, 0.03],
        "interval": {"kind": "newcombe", "successes": [1000, 1000], "trials": [2000, 2000]},
    },
    {"id": "subgroup.worst_gap", "column": "region", "value": 0.02},
    {
        "id": "subgroup.shortfall",
        "column": "region",
        "value": 0.0,
        "group": "north",
        "ci": [-0.01, 0.01],
        "interval": {"kind": "normal", "se": 0.005},
    },
    {
        "id": "subgroup.shortfall",
        "column": "region",
        "value": 0.01,
        "group": "south",
        "ci": [0.0, 0.02],
        "interval": {"kind": "normal", "se": 0.005},
    },
]


POLICY = (ROOT / "synthgov/templates/policy.yaml").read_text()
_MIA = 'metric: privacy.mia_auc\n    op: "<="\n    threshold: 0.5\n    margin: 0.07\n'


def with_mia_rule(policy: str, threshold: float = 0.5, margin: float = 0.07) -> str:
    """`policy` (the default's text) with the MIA rule's threshold or margin changed."""
    assert _MIA in policy, "the default policy's MIA rule changed; update tests/helpers/samples.py"
    changed = f'metric: privacy.mia_auc\n    op: "<="\n    threshold: {threshold:g}\n    margin: {margin:g}\n'
    return policy.replace(_MIA, changed)


CARD = """\
schema_version: 1
id: claims
title: Insurance claims
owner: claims-team@example.org
description: Claims with member demographics.
source: {id: claims-db, privacy_unit: one member}
classification: confidential
intended_uses: [model development]
retention_days: 365
columns:
  - {name: age, type: integer, min: 18, max: 99}
  - {name: region, type: categorical, allowed_values: [north, south]}
  - {name: amount, type: number, min: 0, nullable: true}
  - {name: fraud, type: boolean}
constraints:
  - {name: positive-amount, rule: "amount >= 0"}
prohibited_columns: [email]
quasi_identifiers: [age, region]
subgroup_columns: [region]
target: {column: fraud, positive: true}
overrides:
  fidelity.detection_auc: {threshold: 0.7}
"""

#: the content fingerprints of the sample report's three tables, and the seed they derive
FINGERPRINTS = {"real": "1" * 64, "holdout": "2" * 64, "synthetic": "3" * 64}
SEED = derive_seed(FINGERPRINTS["real"], FINGERPRINTS["holdout"], FINGERPRINTS["synthetic"])


def sketch_of(fingerprint: str) -> list[str]:
    """A 3-row table's row sketch that follows from its fingerprint (other rows, other hashes)."""
    return sorted(hashlib.sha256(f"{fingerprint}{i}".encode()).hexdigest()[:16] for i in range(3))


def _sketch_text(fingerprint: str) -> str:
    return "[" + ", ".join(f'"{h}"' for h in sketch_of(fingerprint)) + "]"


def fingerprint_of(artifact: str) -> str:
    """The content fingerprint the samples give an artifact: another file, other rows."""
    return (
        FINGERPRINTS["synthetic"]
        if artifact == SHA
        else hashlib.sha256(artifact.encode()).hexdigest()
    )


def manifest_for(artifact: str, manifest: str | None = None) -> str:
    """`manifest` (default: MANIFEST) shipping `artifact`, with that artifact's fingerprint."""
    text = MANIFEST if manifest is None else manifest
    fingerprint = fingerprint_of(artifact)
    return (
        text.replace(f"sha256: {SHA}, rows", f"sha256: {artifact}, rows")
        .replace(_sketch_text(FINGERPRINTS["synthetic"]), _sketch_text(fingerprint))
        .replace(FINGERPRINTS["synthetic"], fingerprint)
    )


MANIFEST = f"""\
schema_version: 1
dataset: claims
version: "1.10"
created_at: "2026-09-02T10:00:00Z"
author: author@example.org
source: {{id: claims-db, snapshot: {{id: "2026-09-01", sha256: {SHA}}}}}
generator: {{name: ctgan, version: "0.10.1", parameters: {{epochs: 300}}, seed: 7}}
artifact: {{location: "s3://bucket/claims-1.10.parquet", sha256: {SHA}, rows: 1000, columns: 4, schema_sha256: {SHA}, fingerprint: "{FINGERPRINTS["synthetic"]}", distinct_rows: 3, sketch: {_sketch_text(FINGERPRINTS["synthetic"])}}}
privacy: {{mechanism: aim, notion: approx, epsilon: 1.0, delta: 0.000001, tuning: none}}
intended_uses: [model development]
"""

REPORT = f"""\
{{"schema_version": 1, "synthgov_version": "0.1.0", "dataset": "claims", "card_sha256": "{SHA}",
 "inputs": {{"real": {{"sha256": "{SHA}", "rows": 2000, "columns": 4, "fingerprint": "{FINGERPRINTS["real"]}"}},
            "holdout": {{"sha256": "{SHA}", "rows": 2000, "columns": 4, "fingerprint": "{FINGERPRINTS["holdout"]}"}},
            "synthetic": {{"sha256": "{SHA}", "rows": 2000, "columns": 4, "fingerprint": "{FINGERPRINTS["synthetic"]}", "distinct_rows": 3, "sketch": {_sketch_text(FINGERPRINTS["synthetic"])}}}}},
 "config": {{"seed": {SEED}, "target": "fraud", "sample_sizes": {{"dcr": 10}},
            "subgroups": {{"metric": "fidelity.column_shapes", "min_rows": 30}}}},
 "metrics": [{{"id": "fidelity.ks_complement", "column": "age", "value": 0.97, "n": 10, "method": "ks"}},
             {{"id": "privacy.linkability_risk", "value": 0.01, "ci": [0.0, 0.05]}}],
 "seconds": {{"fidelity": 0.4}}, "extra_tool_key": true}}
"""

APPROVAL = f"""\
schema_version: 1
release: claims@1.10
reviewer: alice
role: privacy-reviewer
decision: approve
digest: {SHA}
signed_at: "2026-09-03T08:00:00Z"
comment: Checked the privacy metrics.
signature:
  format: sshsig
  armored: |
    -----BEGIN SSH SIGNATURE-----
    U1NIU0lH
    -----END SSH SIGNATURE-----
"""

LEDGER = f"""\
schema_version: 1
source: claims-db
privacy_unit: one member
notion: approx
cap: {{epsilon: 3.0, delta: 0.000001}}
entries:
  - seq: 1
    release: claims@1.10
    mechanism: aim
    loss: {{epsilon: 1.0, delta: 0.0000001}}
    recorded_at: "2026-09-02T10:00:00Z"
    prev_sha256: {SHA}
  - seq: 2
    release: claims@1.11
    mechanism: mst
    loss: {{rho: 0.05}}
    recorded_at: "2026-09-05T10:00:00Z"
    prev_sha256: {SHA}
"""

WAIVER = """\
schema_version: 1
id: WVR-2026-007
release: claims@1.10
rule: fidelity.detection_auc
relax_to: 0.8
justification: Rounded date columns; release limited to QA fixtures.
owner: ada
ticket: GRC-1432
created_at: "2026-09-02T00:00:00Z"
expires_at: "2026-10-02T00:00:00Z"
"""


def ssh_key(
    directory: Path, name: str = "key", kind: str = "ed25519", bits: int | None = None
) -> tuple[str, str]:
    """A real SSH key pair made by ssh-keygen: (public key line, its fingerprint per ssh-keygen)."""
    path = directory / name
    size = ["-b", str(bits)] if bits else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *size, "-N", "", "-C", name, "-f", str(path)], check=True
    )
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{path}.pub"], check=True, capture_output=True, text=True
    )
    kind_and_key = " ".join((directory / f"{name}.pub").read_text().split()[:2])  # no comment
    return kind_and_key, listed.stdout.split()[1]


def reviewers(public_key: str, fingerprint: str) -> str:
    return f"""\
schema_version: 1
reviewers:
  - id: alice
    name: Alice Example
    email: alice@example.org
    roles: [privacy-reviewer, policy-admin]
    keys:
      - type: ssh
        public_key: {public_key}
        fingerprint: "{fingerprint}"
        valid_after: "2026-01-01T00:00:00Z"
"""


#: (kind, repository path, text) of every kind but reviewers (which needs a real key).
REVOCATION = f"""\
schema_version: 1
release: claims@1.10
incident_class: privacy
reason: Ages over 95 single out members.
revoked_at: "2026-10-14T08:30:00Z"
author: author@example.org
artifact_sha256: {SHA}
"""

REVALIDATION = json.dumps(
    {
        "schema_version": 1,
        "release": "claims@1.10",
        "revalidated_at": "2026-12-01T06:00:00Z",
        "fresh": {"sha256": SHA, "rows": 20, "columns": 4},
        "artifact_sha256": SHA,
        "verdict": "pass",
        "blocking": [],
        "drift": [
            {
                "id": "fidelity.ks_complement",
                "column": "age",
                "before": 0.97,
                "after": 0.95,
                "change": -0.02,
            }
        ],
        "report": json.loads(REPORT),
    },
    indent=1,
)

CHECKPOINT = f"""\
schema_version: 1
commit: {"b" * 40}
tree: {"c" * 40}
ledgers:
  budgets/claims-db.yaml:
    entries: 2
    head_sha256: {SHA}
created_at: "2026-10-01T09:00:00Z"
reviewer: alice
signature:
  format: sshsig
  armored: |
    -----BEGIN SSH SIGNATURE-----
    U1NIU0lH
    -----END SSH SIGNATURE-----
"""

AUDIT = json.dumps(
    {
        "schema_version": 1,
        "verdict": "clean",
        "range": "refs/heads/main",
        "head": "b" * 40,
        "commits": 3,
        "decided": 1,
        "at": None,
        "generated_at": "2026-10-01T09:00:00Z",
        "releases": [],
        "findings": [],
        "budgets": [],
        "checkpoints": [],
    }
)

DOCUMENTS = [
    ("policy", "policy/policy.yaml", POLICY),
    ("card", "datasets/claims/card.yaml", CARD),
    ("manifest", "datasets/claims/releases/1.10/manifest.yaml", MANIFEST),
    ("report", "datasets/claims/releases/1.10/report.json", REPORT),
    ("approval", "datasets/claims/releases/1.10/approvals/privacy-reviewer--alice.yaml", APPROVAL),
    ("ledger", "budgets/claims-db.yaml", LEDGER),
    ("waiver", "datasets/claims/releases/1.10/waivers/WVR-2026-007.yaml", WAIVER),
    ("revocation", "datasets/claims/releases/1.10/revocation.yaml", REVOCATION),
    (
        "revalidation",
        "datasets/claims/releases/1.10/revalidations/20261201T060000Z.json",
        REVALIDATION,
    ),
    ("checkpoint", "audit/checkpoints/20261001T090000Z.yaml", CHECKPOINT),
    ("audit", "audit.json", AUDIT),
]


def write_repo(root: Path, public_key: str, fingerprint: str) -> None:
    """A complete valid governance tree under `root`."""
    for _, path, text in [
        *DOCUMENTS,
        ("reviewers", "policy/reviewers.yaml", reviewers(public_key, fingerprint)),
    ]:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def report_json(metrics: list[dict[str, Any]], card_sha: str, artifact: str = SHA) -> str:
    """The sample report with `metrics`, about `artifact` (its fingerprint and seed follow)."""
    data = json.loads(REPORT)
    data.update(metrics=metrics, card_sha256=card_sha)
    data["inputs"]["synthetic"]["sha256"] = artifact
    fingerprint = fingerprint_of(artifact)
    data["inputs"]["synthetic"]["fingerprint"] = fingerprint
    data["inputs"]["synthetic"]["sketch"] = sketch_of(fingerprint)
    data["config"]["seed"] = derive_seed(FINGERPRINTS["real"], FINGERPRINTS["holdout"], fingerprint)
    return json.dumps(data, indent=1)


def with_metric(metric_id: str, **change: Any) -> list[dict[str, Any]]:
    """PASSING with `metric_id`'s entries changed; a new value drops the old interval."""

    def changed(entry: dict[str, Any]) -> dict[str, Any]:
        counted = entry.get("interval", {}).get("kind") in ("newcombe", "wilson")  # give the value
        dropped = ("ci", "interval") if counted else ("ci",)
        kept = {k: v for k, v in entry.items() if "value" not in change or k not in dropped}
        return {**kept, **change}

    return [(changed(m) if m["id"] == metric_id and "rule" not in m else m) for m in PASSING]


def judged(
    metric: str,
    op: str,
    threshold: float,
    value: float,
    interval: tuple[float, float],
    decision: str,
    margin: float = 0.0,
) -> Judged:
    """One condition of a rule as the engine judged it (margin last, as it is rarely set)."""
    return Judged(metric, op, threshold, margin, value, interval, decision)


#: utility.tstr fails on its own bound but passes through its alternative, the TSTR/TRTR
#: ratio: what the scorecard and the catalog must show as "pass via alternative".
TSTR_VIA_ALTERNATIVE = RuleScore(
    "utility.tstr",
    "mandatory",
    "pass",
    judged("utility.tstr", ">=", 0.84, 0.6512, (0.6119, 0.6905), "fail"),
    judged("utility.tstr_trtr_ratio", ">=", 0.8, 0.9312, (0.9011, 0.9613), "pass", 0.02),
)
