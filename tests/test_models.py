"""Models: round trips through the writer and loader, exported schemas, refused values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from synthgov.errors import InputError
from synthgov.files.loading import parse_document, validate
from synthgov.files.schemas import json_schema
from synthgov.files.writing import to_yaml
from synthgov.models import KINDS
from tests.helpers import samples


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return samples.ssh_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def documents(key: tuple[str, str]) -> list[tuple[str, str, str]]:
    return [*samples.DOCUMENTS, ("reviewers", "policy/reviewers.yaml", samples.reviewers(*key))]


def _load(kind: str, path: str, text: str) -> Any:  # the model of the kind named at run time
    return validate(parse_document(text.encode(), path), KINDS[kind])


def test_every_kind_has_a_sample(documents: list[tuple[str, str, str]]) -> None:
    assert {kind for kind, _, _ in documents} == set(KINDS)


def test_every_model_round_trips_through_yaml(documents: list[tuple[str, str, str]]) -> None:
    for kind, path, text in documents:
        model = _load(kind, path, text)
        written = to_yaml(model)
        assert _load(kind, path.replace(".json", ".yaml"), written) == model, kind
        assert to_yaml(_load(kind, "again.yaml", written)) == written, kind  # a fixed point


def test_exported_schemas_are_valid_draft_2020_12_and_accept_the_samples(
    documents: list[tuple[str, str, str]],
) -> None:
    for kind, path, text in documents:
        schema = json_schema(kind)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        data = json.loads(_load(kind, path, text).model_dump_json())
        jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_rejects_unknown_fields_like_the_model() -> None:
    schema = json_schema("waiver")
    data = json.loads(_load("waiver", "w.yaml", samples.WAIVER).model_dump_json())
    data["relax_too"] = 1
    with pytest.raises(jsonschema.ValidationError, match="relax_too"):
        jsonschema.validate(data, schema)


def _error(kind: str, text: str) -> str:
    with pytest.raises(InputError) as caught:
        _load(kind, "f.yaml", text)
    return str(caught.value)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


#: the 1-based line of the detection rule's `metric:` in the default policy (threshold: +2)
_DETECTION = samples.POLICY.splitlines().index("    metric: fidelity.detection_auc") + 1

INVALID = {
    "unknown field": ("card", samples.CARD + "colums: []\n", "f.yaml:23:1: colums: unknown field"),
    "wrong type": (
        "card",
        _edit(samples.CARD, "retention_days: 365", "retention_days: a year"),
        'retention_days: input should be a valid integer, got the string "a year"',
    ),
    "classification enum": (
        "card",
        _edit(samples.CARD, "classification: confidential", "classification: secret"),
        "classification: input should be 'public', 'internal', 'confidential' or 'restricted'",
    ),
    "unquoted version": (
        "manifest",
        _edit(samples.MANIFEST, 'version: "1.10"', "version: 1.10"),
        'version: input should be a valid string, got the number 1.10; quote it to keep it as written: "1.10"',
    ),
    "negative epsilon": (
        "manifest",
        _edit(samples.MANIFEST, "epsilon: 1.0", "epsilon: -1"),
        "expected a finite positive number, got -1",
    ),
    "probability above 1": (
        "policy",
        _edit(samples.POLICY, "threshold: 0.78", "threshold: 1.5"),
        f"f.yaml:{_DETECTION + 2}:16: rules.fidelity.detection_auc.threshold: 1.5 is outside [0, 1]",
    ),
    "unknown metric": (
        "policy",
        _edit(samples.POLICY, "metric: fidelity.detection_auc", "metric: fidelity.detection"),
        f"f.yaml:{_DETECTION}:13: rules.fidelity.detection_auc.metric: 'fidelity.detection' is not a metric id",
    ),
    "zero approvals": (
        "policy",
        _edit(samples.POLICY, "approvals: {data-owner: 1}", "approvals: {data-owner: 0}"),
        "tiers.public.approvals.data-owner: input should be greater than or equal to 1",
    ),
    "no approvals": (
        "policy",
        _edit(samples.POLICY, "approvals: {data-owner: 1}", "approvals: {}"),
        "tiers.public.approvals: dictionary should have at least 1 item",
    ),
    "sha256 not hex": (
        "approval",
        _edit(samples.APPROVAL, f"digest: {samples.SHA}", "digest: " + "g" * 64),
        "digest: string should match pattern",
    ),
    "path-like dataset id": (
        "card",
        _edit(samples.CARD, "id: claims", "id: ../policy"),
        "id: string should match pattern",
    ),
    "upper-case id": (
        "card",
        _edit(samples.CARD, "id: claims", "id: Claims"),
        "id: string should match pattern",
    ),
    "naive timestamp": (
        "waiver",
        _edit(samples.WAIVER, '"2026-09-02T00:00:00Z"', '"2026-09-02T00:00:00"'),
        "created_at: expected an ISO 8601 time with a zone",
    ),
    "impossible date": (
        "waiver",
        _edit(samples.WAIVER, '"2026-09-02T00:00:00Z"', '"2026-02-30T00:00:00Z"'),
        "2026-02-30T00:00:00Z is not a real date and time",
    ),
    "unquoted timestamp": (
        "waiver",
        _edit(samples.WAIVER, '"2026-10-02T00:00:00Z"', "2026-10-02"),
        "expires_at: expected an ISO 8601 time with a zone",
    ),
    "boolean for number": (
        "waiver",
        _edit(samples.WAIVER, "relax_to: 0.8", "relax_to: true"),
        "relax_to: expected a number, got the boolean true",
    ),
    "prohibited column in schema": (
        "card",
        _edit(samples.CARD, "prohibited_columns: [email]", "prohibited_columns: [age]"),
        "prohibited columns are in the schema: age",
    ),
    "unknown subgroup column": (
        "card",
        _edit(samples.CARD, "subgroup_columns: [region]", "subgroup_columns: [sex]"),
        "f.yaml:19:19: subgroup_columns: names unknown columns: sex",
    ),
    "bidi override in name": (
        "card",
        _edit(samples.CARD, "title: Insurance claims", 'title: "Insurance \\u202eclaims"'),
        "an escape makes character U+202E",
    ),
    "pure ledger with approx entry": (
        "ledger",
        _edit(
            samples.LEDGER,
            "notion: approx\ncap: {epsilon: 3.0, delta: 0.000001}",
            "notion: pure\ncap: {epsilon: 3.0}",
        ),
        "f.yaml:10:11: entries.0.loss: an approx loss cannot be recorded in a pure ledger",
    ),
    "ledger sequence gap": (
        "ledger",
        _edit(samples.LEDGER, "seq: 2", "seq: 3"),
        "f.yaml:13:10: entries.1.seq: is 3, expected 2",
    ),
    "dp notion without figures": (
        "manifest",
        _edit(samples.MANIFEST, "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: approx"),
        "notion 'approx' needs delta and epsilon, got nothing",
    ),
    "waiver expiring before creation": (
        "waiver",
        _edit(samples.WAIVER, '"2026-10-02T00:00:00Z"', '"2026-09-01T00:00:00Z"'),
        "f.yaml:10:13: expires_at: must be after created_at",
    ),
    "metric value outside its interval": (
        "report",
        samples.REPORT.replace(
            '"value": 0.01, "ci": [0.0, 0.05]', '"value": 0.5, "ci": [0.0, 0.05]'
        ),
        "ci: must be [lower, upper] around the value 0.5",
    ),
    "metric value outside its range": (
        "report",
        samples.REPORT.replace('"value": 0.97', '"value": 7.5'),
        "value: 7.5 is outside [0, 1] for fidelity.ks_complement",
    ),
    "per-column metric without a column": (
        "report",
        samples.REPORT.replace('"column": "age", ', ""),
        "fidelity.ks_complement is a per-column metric; name its column",
    ),
    "zero epsilon": (
        "manifest",
        _edit(samples.MANIFEST, "epsilon: 1.0", "epsilon: 0"),
        "expected a finite positive number, got 0",
    ),
    "negative zero epsilon": (
        "manifest",
        _edit(samples.MANIFEST, "epsilon: 1.0", "epsilon: -0.0"),
        "expected a finite positive number",
    ),
    "epsilon above the range": (
        "manifest",
        _edit(samples.MANIFEST, "epsilon: 1.0", "epsilon: 50000"),
        "privacy.epsilon: expected a number from 1e-50 to 10000, got 50000",
    ),
    "delta below the range": (
        "manifest",
        _edit(samples.MANIFEST, "delta: 0.000001", "delta: 1e-60"),
        "privacy.delta: expected a number from 1e-50 to 10000, got 1E-60",
    ),
    "comparator against the metric's direction": (
        "policy",
        _edit(
            samples.POLICY,
            'metric: privacy.mia_auc\n    op: "<="',
            'metric: privacy.mia_auc\n    op: ">="',
        ),
        "privacy.mia_auc is better when lower; a limit on it uses <=",
    ),
    "alternative from another gate": (
        "policy",
        _edit(samples.POLICY, "metric: utility.tstr_trtr_ratio", "metric: fidelity.column_shapes"),
        "an alternative stays within its rule's gate (utility)",
    ),
    "schema version true": (
        "waiver",
        _edit(samples.WAIVER, "schema_version: 1", "schema_version: true"),
        "expected the integer 1, got True",
    ),
    "email with a bidi override": (
        "manifest",
        _edit(
            samples.MANIFEST, "author: author@example.org", 'author: "author@exa\\u2067mple.org"'
        ),
        "an escape makes character U+2067",
    ),
    "schema version 2": (
        "waiver",
        _edit(samples.WAIVER, "schema_version: 1", "schema_version: 2"),
        "schema_version: input should be 1",
    ),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_values_are_refused_with_the_field_named(name: str) -> None:
    kind, text, expected = INVALID[name]
    assert expected in _error(kind, text)


def test_all_errors_of_a_file_are_reported_at_once() -> None:
    text = _edit(samples.CARD, "retention_days: 365", "retention_days: -1\nbogus: 1")
    text = _edit(text, "classification: confidential", "classification: secret")
    message = _error("card", text)
    assert "classification" in message and "retention_days" in message and "bogus" in message


def test_registry_rejects_a_fingerprint_that_is_not_the_keys(key: tuple[str, str]) -> None:
    public, fingerprint = key
    wrong = "SHA256:" + "A" * 43
    message = _error("reviewers", samples.reviewers(public, wrong))
    assert (
        f"reviewers.0.keys.0.fingerprint: {wrong} is not the key's; its fingerprint is {fingerprint}"
        in message
    )


def test_registry_rejects_one_key_under_two_reviewers(key: tuple[str, str]) -> None:
    text = samples.reviewers(*key)
    second = text.split("reviewers:\n", 1)[1].replace("id: alice", "id: bob")
    assert "is registered more than once (alice, bob)" in _error("reviewers", text + second)


@pytest.mark.parametrize(("kind", "bits"), [("rsa", 3072), ("ecdsa", 256), ("ecdsa", 521)])
def test_registry_accepts_strong_keys_with_ssh_keygens_fingerprint(
    tmp_path: Path, kind: str, bits: int
) -> None:
    public, fingerprint = samples.ssh_key(tmp_path, kind, kind, bits)
    assert (
        _load("reviewers", "r.yaml", samples.reviewers(public, fingerprint)).reviewers[0].id
        == "alice"
    )


def test_registry_rejects_rsa_under_3072_bits(tmp_path: Path) -> None:
    public, fingerprint = samples.ssh_key(tmp_path, "weak", "rsa", 2048)
    assert "RSA keys need at least 3072 bits, got 2048" in _error(
        "reviewers", samples.reviewers(public, fingerprint)
    )


def test_a_registry_key_with_a_second_line_is_refused(key: tuple[str, str]) -> None:
    public, fingerprint = key
    smuggled = f'"{public} c\\n{public.split()[0]} AAAAC3NzaC1lZDI1NTE5AAAAIMallory mallory"'
    assert "store the key as '<type> <base64>' only" in _error(
        "reviewers", samples.reviewers(smuggled, fingerprint)
    )


def test_a_value_matching_no_alternative_type_is_one_line() -> None:
    text = _edit(
        samples.CARD,
        "target: {column: fraud, positive: true}",
        "target: {column: fraud, positive: [1]}",
    )
    text = _edit(text, "min: 18, max: 99", "min: .5x, max: 99")
    lines = _error("card", text).splitlines()
    assert lines == [
        'f.yaml:11:37: columns.0.min: expected an integer or a number, got the string ".5x"',
        "f.yaml:20:35: target.positive: expected a string, an integer or a boolean, got a list",
    ]
