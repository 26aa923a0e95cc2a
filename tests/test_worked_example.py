"""The worked example in this repository's own policy/, datasets/ and budgets/ (BRIEF §3).

It must validate, cover two classifications, let every default tier be approved
(BRIEF §10.1), and stay in step with the tables `python -m synthgov.examples` rebuilds.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synthgov import examples
from synthgov.files import governance, layout
from synthgov.metrics.inference import infer_schema
from synthgov.metrics.tables import read_table
from synthgov.models import Card, Ledger, Policy, Registry
from synthgov.models.common import Classification
from tests.helpers import ROOT
from tests.helpers.cli import Synthgov

CARDS = {"claims": "claims.csv", "breast-cancer": "breast-cancer.parquet"}


def load(path: str) -> Any:  # the model of whichever kind the path holds
    return governance.load(ROOT, path).model


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("example-data")
    examples.build(outdir)
    return outdir


def test_validate_passes_in_the_project_root(synthgov: Synthgov) -> None:
    result = synthgov("validate", cwd=ROOT)
    assert result.code == 0, result.out + result.err


def test_two_datasets_of_different_classifications_with_ledgers() -> None:
    cards = [load(layout.card_path(name)) for name in CARDS]
    assert all(isinstance(card, Card) for card in cards)
    assert len({card.classification for card in cards}) == len(cards)
    for card in cards:
        ledger = load(layout.ledger_path(card.source.id))
        assert isinstance(ledger, Ledger) and ledger.privacy_unit == card.source.privacy_unit
    notions = {
        load(f"budgets/{p.stem}.yaml").notion.value for p in (ROOT / "budgets").glob("*.yaml")
    }
    assert {"approx", "zcdp"} <= notions


def test_every_tier_and_policy_change_can_be_approved() -> None:
    policy, registry = load(layout.POLICY), load(layout.REVIEWERS)
    assert isinstance(policy, Policy) and isinstance(registry, Registry)
    needs = [policy.tiers.for_classification(c).approvals for c in Classification]
    for counts in (*needs, policy.policy_changes.approvals):
        for role, count in counts.items():
            assert len(registry.holders(role)) >= count, role
    assert {key.type for reviewer in registry.reviewers for key in reviewer.keys} == {
        "ssh",
        "openpgp",
    }


def test_only_public_keys_and_no_tables_are_committed() -> None:
    assert "PRIVATE" not in (ROOT / layout.REVIEWERS).read_text()
    for top in layout.GOVERNANCE_DIRS:
        for path in (ROOT / top).rglob("*"):
            assert path.suffix not in (".csv", ".parquet", ".pq"), path
            assert not path.is_file() or path.stat().st_size < 1024 * 1024, path


def test_the_claims_card_carries_its_reviewed_rules() -> None:
    card = load(layout.card_path("claims"))
    assert isinstance(card, Card)
    assert [c.rule for c in card.constraints] == ["claim_amount >= 0", "discharged >= admitted"]
    assert card.subgroup_columns == ["sex", "region"]
    assert card.quasi_identifiers == ["age", "sex", "region"]
    assert card.prohibited_columns == ["member_id", "email"]


@pytest.mark.parametrize("dataset", CARDS)
def test_cards_match_the_rebuilt_tables(tables: Path, dataset: str) -> None:
    """Column order, types and categories as `dataset new` infers them today (BRIEF §10.18)."""
    card = load(layout.card_path(dataset))
    frame, _ = read_table(tables / CARDS[dataset])
    schema = infer_schema(frame)
    shape = [(c.name, c.type, c.allowed_values) for c in schema.columns]
    assert [(c.name, c.type, c.allowed_values) for c in card.columns] == shape
    assert card.prohibited_columns == [found.column for found in schema.identifiers]


def test_generator_is_deterministic(tables: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "synthgov.examples", str(tmp_path / "again")],
        check=True,
        capture_output=True,
        text=True,
    )
    for name in CARDS.values():
        digest = hashlib.sha256((tables / name).read_bytes()).hexdigest()
        assert (tmp_path / "again" / name).read_bytes() == (tables / name).read_bytes()
        assert f"{digest}  {tmp_path / 'again' / name}" in done.stdout
    examples.write_claims(tmp_path / "other.csv", seed=1)
    assert (tmp_path / "other.csv").read_bytes() != (tables / "claims.csv").read_bytes()


def test_claims_rows_keep_their_rules(tables: Path) -> None:
    frame, _ = read_table(tables / "claims.csv")
    assert len(frame) == 2000 and (frame.claim_amount >= 0).all()
    assert (frame.discharged >= frame.admitted).all()  # ISO dates compare as text
    assert 0.03 < frame.fraud.mean() < 0.2 and frame.age.isna().any()


def test_the_repositorys_editor_schemas_are_current_and_every_modeline_resolves() -> None:
    from synthgov.commands.init import scaffold

    schemas = {p: data for p, data in scaffold().items() if p.startswith(".synthgov/schemas/")}
    for path, data in schemas.items():
        assert (ROOT / path).read_bytes() == data, (
            f"{path} is stale: run synthgov init --skip-existing"
        )
    governed = [
        p for top in ("policy", "datasets", "budgets") for p in (ROOT / top).rglob("*.yaml")
    ]
    assert governed
    for file in governed:
        first = file.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), file
        target = (file.parent / first.split("$schema=", 1)[1]).resolve()
        assert target.is_file(), f"{file}: {target}"
