"""Issue 15, "overdraw any ledger", as the red team ran it: a repository made with `synthgov
init`, real releases (`release new`), real signed approvals, real git. A pull request
adds a debit of epsilon 50 (cap 3) to a ledger and names in it a release that the same
pull request touches without spending from that ledger: a new release of another
source, a revalidation record of a merged release without DP, an approved revocation.
Each must block, and `audit` must find the overdraw once it is merged."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthgov.examples import write_release_tables
from tests.helpers import ledgers, signing
from tests.helpers.cli import release_new_args, run_in
from tests.helpers.git import commit, git

PEOPLE = signing.people()
ROWS = 600
CLAIMS_LEDGER = "budgets/claims-2024.yaml"


def run(repo: Path, *args: str, identity: str = "sam") -> int:
    return run_in(repo, *args, identity=identity)


def merge(repo: Path, branch: str) -> None:
    git(repo, "checkout", "-q", "main")
    git(repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "--no-edit", branch)


def release(repo: Path, data: dict[str, Path], dataset: str, version: str) -> None:
    """An honest release without DP (`privacy.notion: none`): it debits nothing."""
    assert (
        run(
            repo,
            *release_new_args(dataset, version, str(data["honest"]), data),
            "-q",
        )
        == 0
    )
    commit(repo, f"release {dataset}@{version}")


def approve(repo: Path, target: str, *extra: str) -> None:
    for name in ("ada", "chen"):
        person = PEOPLE[name]
        assert (
            run(
                repo,
                "approve",
                target,
                "--role",
                person.roles[0],
                "--key",
                str(person.key),
                *extra,
                identity=name,
            )
            == 0
        )


def overdraw(repo: Path, release_ref: str) -> None:
    """The attack: epsilon 50 appended by hand to claims-2024's ledger (cap 3), chained."""
    path = repo / CLAIMS_LEDGER
    path.write_text(ledgers.append(path.read_text(), release_ref, epsilon="50"))
    commit(repo, f"debit epsilon 50 for {release_ref}")


def check(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run(repo, "check", "--base", "main", "--format", "json")
    return code, json.loads(capsys.readouterr().out)


def blocking(data: dict[str, Any]) -> set[tuple[str, str]]:
    """(scope, rule) of every blocking finding: "top" for those outside a release."""
    found = {("top", f["rule"]) for f in data["findings"] if f["severity"] == "error"}
    return found | {
        (r["release"], f["rule"])
        for r in data["releases"]
        for f in r["findings"]
        if f["severity"] == "error"
    }


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """main, from `synthgov init`: datasets claims (source claims-2024) and visits (source
    visits-2024), each with an approximate ledger capped at epsilon 3, and claims@1.0, a
    release without DP, approved and merged. Branch `visits` adds visits@1.0 (no DP),
    approved, unmerged."""
    work = tmp_path_factory.mktemp("attacks")
    data = write_release_tables(work / "data", rows=ROWS)
    repo = work / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "sam@example.org")
    assert run(work, "init", str(repo)) == 0
    for dataset, source in (("claims", "claims-2024"), ("visits", "visits-2024")):
        assert (
            run(
                repo,
                "dataset",
                "new",
                dataset,
                "--owner",
                "team",
                "--classification",
                "confidential",
                "--source",
                source,
                "--from-data",
                str(data["train"]),
                "--target",
                "fraud",
            )
            == 0
        )
        card = repo / f"datasets/{dataset}/card.yaml"
        card.write_text(card.read_text().replace("secret_columns: []", "secret_columns: [plan]"))
        assert run(repo, "budget", "new", source, "--epsilon", "3", "--delta", "1e-6") == 0
    (repo / "policy/reviewers.yaml").write_text(
        signing.registry_yaml(PEOPLE["ada"], PEOPLE["chen"])
    )
    commit(repo, "bootstrap")
    git(repo, "checkout", "-qb", "claims")
    release(repo, data, "claims", "1.0")
    approve(repo, "claims@1.0")
    merge(repo, "claims")
    git(repo, "checkout", "-qb", "visits")
    release(repo, data, "visits", "1.0")
    approve(repo, "visits@1.0")
    git(repo, "checkout", "-q", "main")
    return repo, data


@pytest.fixture
def repo(governed: tuple[Path, dict[str, Path]], tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(governed[0], copy, symlinks=True)
    yield copy


def test_a_debit_naming_a_new_release_of_another_source_is_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "visits")
    assert check(repo, capsys)[0] == 0  # the release alone passes
    overdraw(repo, "visits@1.0")
    code, data = check(repo, capsys)
    assert code == 1
    assert {("top", "budget.over_cap"), ("top", "budget.debit_other_source")} <= blocking(data)
    [other] = [f for f in data["findings"] if f["rule"] == "budget.debit_other_source"]
    assert other["file"] == CLAIMS_LEDGER
    assert other["message"] == (
        "entry seq 1 debits visits@1.0, a release of visits, whose source is visits-2024: "
        "budgets/claims-2024.yaml pays only for releases of its source claims-2024"
    )
    [over] = [f for f in data["findings"] if f["rule"] == "budget.over_cap"]
    assert (over["observed"], over["threshold"]) == (50.0, 3.0)


def test_a_debit_naming_a_revalidated_release_without_dp_is_blocked(
    repo: Path, governed: tuple[Path, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-qb", "revalidate")
    fresh = str(governed[1]["holdout"])
    assert run(repo, "revalidate", "claims@1.0", "--real", fresh, "-q") in (0, 1)
    commit(repo, "revalidation record of claims@1.0")
    assert check(repo, capsys)[0] == 0  # the record alone passes
    overdraw(repo, "claims@1.0")
    code, data = check(repo, capsys)
    assert code == 1
    assert blocking(data) == {
        ("top", "budget.over_cap"),
        ("top", "budget.debit_not_new"),
        ("top", "budget.debit_without_dp"),
    }


def test_a_debit_naming_an_approved_revocation_is_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-qb", "revoke")
    assert run(repo, "revoke", "claims@1.0", "--reason", "superseded", "--class", "other") == 0
    commit(repo, "revoke claims@1.0")
    approve(repo, "claims@1.0", "--revocation")
    assert check(repo, capsys)[0] == 0  # the approved revocation alone passes
    overdraw(repo, "claims@1.0")
    code, data = check(repo, capsys)
    assert code == 1
    assert blocking(data) == {
        ("top", "budget.over_cap"),
        ("top", "budget.debit_not_new"),
        ("top", "budget.debit_without_dp"),
    }


def test_audit_finds_a_merged_overdraw_naming_another_sources_release(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "visits")
    overdraw(repo, "visits@1.0")
    merge(repo, "visits")  # pushed past the gate
    merged = git(repo, "rev-parse", "HEAD").strip()
    capsys.readouterr()
    assert run(repo, "audit") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "findings"
    found = {(f["commit"], f["kind"], f["rule"]) for f in data["findings"]}
    assert found == {
        (merged, "budget.overdrawn", "budget.over_cap"),
        (merged, "budget.invalid", "budget.debit_other_source"),
        (merged, "budget.invalid", "budget.debit_without_dp"),
    }
