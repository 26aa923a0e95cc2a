"""The release lifecycle end to end in real git repositories: release new -> blocked ->
approved -> merged -> revoked -> last known good; version reuse refused; revalidation
drift recorded; overdue revalidations reported; a revoked artifact never ships again."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_release_tables
from tests.helpers import signing
from tests.helpers.cli import approve_as, release_new_args
from tests.helpers.cli import run_in as run
from tests.helpers.git import commit, git

PEOPLE = signing.people()
ROWS = 600


def release(
    repo: Path, data: dict[str, Path], version: str, table: str = "honest", **dp: str
) -> int:
    figures = [a for k, v in dp.items() for a in (f"--{k}", v)]
    if dp:  # the template policy requires the record of tuning runs of a DP release
        figures += ["--tuning-runs", "0"]
    return run(
        repo,
        *release_new_args("claims", version, str(data[table]), data),
        "-q",
        *figures,
    )


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """main: init, the claims card (reviewed), ada and chen, a budget; branch `r1` holds
    release 1.0 (DP (1, 1e-7)), committed but not approved."""
    work = tmp_path_factory.mktemp("lifecycle")
    data = write_release_tables(work / "data", rows=ROWS)
    other = [row[2:] for row in claims_rows(seed=9, rows=ROWS)]  # a second honest table
    data["honest2"] = work / "data/honest2.csv"
    data["honest2"].write_text("\n".join(",".join(r) for r in [CLAIMS_COLUMNS[2:], *other]) + "\n")
    repo = work / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "sam@example.org")
    assert run(work, "init", str(repo)) == 0
    assert (
        run(
            repo,
            "dataset",
            "new",
            "claims",
            "--owner",
            "claims-team",
            "--classification",
            "confidential",
            "--source",
            "claims-2024",
            "--from-data",
            str(data["train"]),
            "--target",
            "fraud",
        )
        == 0
    )
    card = repo / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("secret_columns: []", "secret_columns: [plan]"))
    (repo / "policy/reviewers.yaml").write_text(
        signing.registry_yaml(PEOPLE["ada"], PEOPLE["chen"])
    )
    assert run(repo, "budget", "new", "claims-2024", "--epsilon", "3", "--delta", "1e-6") == 0
    commit(repo, "bootstrap")
    git(repo, "checkout", "-qb", "r1")
    assert release(repo, data, "1.0", epsilon="1", delta="1e-7") == 0
    commit(repo, "release claims@1.0")
    return repo, data


@pytest.fixture
def repo(bootstrapped: tuple[Path, dict[str, Path]], tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(bootstrapped[0], copy, symlinks=True)
    yield copy


def check_json(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = run(repo, "check", "--format", "json", *args)
    return code, json.loads(capsys.readouterr().out)


def test_release_new_writes_manifest_report_and_debit(repo: Path) -> None:
    folder = repo / "datasets/claims/releases/1.0"
    manifest = (folder / "manifest.yaml").read_text()
    assert "author: sam@example.org" in manifest and "notion: approx" in manifest
    report = json.loads((folder / "report.json").read_text())
    assert report["dataset"] == "claims" and report["inputs"]["synthetic"]["rows"] == ROWS
    ledger = (repo / "budgets/claims-2024.yaml").read_text()
    assert "release: claims@1.0" in ledger and "seq: 1" in ledger


def test_version_reuse_is_refused(repo: Path, bootstrapped: tuple[Path, dict[str, Path]]) -> None:
    before = (repo / "budgets/claims-2024.yaml").read_text()
    assert release(repo, bootstrapped[1], "1.0", epsilon="0.1", delta="1e-8") == 1
    assert (repo / "budgets/claims-2024.yaml").read_text() == before


def test_a_malformed_code_commit_is_refused_before_the_evaluation_naming_its_option(
    repo: Path, bootstrapped: tuple[Path, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    data = bootstrapped[1]
    capsys.readouterr()
    code = run(
        repo,
        *release_new_args("claims", "1.1", str(data["honest"]), data),
        "--code-commit",
        "main",
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [  # one line, and no evaluation progress before it
        "--code-commit: string should match pattern '^(?:[0-9a-f]{40}|[0-9a-f]{64})$'"
    ]
    assert not (repo / "datasets/claims/releases/1.1").exists()


def test_an_overdraw_refuses_the_release_and_writes_nothing(
    repo: Path, bootstrapped: tuple[Path, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert release(repo, bootstrapped[1], "1.1", epsilon="2.5", delta="1e-7") == 1
    assert not (repo / "datasets/claims/releases/1.1").exists()
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("refused: debiting claims@1.1 with epsilon 2.5")
    assert "refused: refused" not in line
    assert line.endswith("the ledger is unchanged; nothing was written")


def test_blocked_approved_merged_revoked_then_last_known_good(
    repo: Path, bootstrapped: tuple[Path, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = check_json(repo, capsys, "--base", "main")
    assert code == 1 and {
        f["rule"] for f in data["releases"][0]["findings"] if f["severity"] == "error"
    } == {"approvals.missing"}
    assert approve_as(repo, "ada") == 0 and approve_as(repo, "chen") == 0
    assert check_json(repo, capsys, "--base", "main")[0] == 0
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    # release 1.1, approved and merged: the current one
    git(repo, "checkout", "-qb", "r2")
    assert release(repo, bootstrapped[1], "1.1", "honest2", epsilon="0.5", delta="1e-7") == 0
    commit(repo, "release claims@1.1")
    for name in ("ada", "chen"):
        assert approve_as(repo, name, target="claims@1.1") == 0
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r2", "r2")
    # revoke 1.1: the revocation needs the tier's approvals, not the release's gates again
    git(repo, "checkout", "-qb", "revoke")
    assert run(repo, "revoke", "claims@1.1", "--reason", "age leaks", "--class", "privacy") == 0
    commit(repo, "revoke claims@1.1")
    code, data = check_json(repo, capsys, "--base", "main")
    assert code == 1 and "the revocation of claims@1.1" in json.dumps(data)
    for name in ("ada", "chen"):
        assert approve_as(repo, name, "--revocation", target="claims@1.1") == 0
    code, data = check_json(repo, capsys, "--base", "main")
    assert code == 0, data
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge revoke", "revoke")
    capsys.readouterr()
    assert run(repo, "status", "--format", "json") == 0
    status = json.loads(capsys.readouterr().out)
    [claims] = status["datasets"]
    assert claims["current"] == "claims@1.0"  # the last known good
    assert [r["release"] for r in claims["revoked"]] == ["claims@1.1"]
    # the revoked artifact never ships again, whatever the version
    git(repo, "checkout", "-qb", "again")
    assert release(repo, bootstrapped[1], "1.2", "honest2", epsilon="0.1", delta="1e-8") == 0
    commit(repo, "claims@1.2 ships 1.1's table again")
    code, data = check_json(repo, capsys, "--base", "main")
    assert code == 1
    rules = {f["rule"] for r in data["releases"] for f in r["findings"]}
    assert "policy.revoked_artifact" in rules


def test_a_revoked_table_shuffled_as_parquet_or_half_reshipped_is_refused(
    repo: Path,
    bootstrapped: tuple[Path, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Revocation by content (BRIEF §11.3): claims@1.0 (the honest table) is revoked on
    main; its rows come back shuffled as Parquet, and half of them mixed with new rows."""
    import pandas as pd

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    git(repo, "checkout", "-qb", "revoke")
    assert run(repo, "revoke", "claims@1.0", "--reason", "leak", "--class", "privacy") == 0
    commit(repo, "revoke claims@1.0")
    for name in ("ada", "chen"):
        assert approve_as(repo, name, "--revocation") == 0
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge revoke", "revoke")
    revoked = pd.read_csv(bootstrapped[1]["honest"])
    fresh = pd.read_csv(bootstrapped[1]["honest2"])
    tables = {
        "shuffled": revoked.sample(frac=1.0, random_state=5)[list(reversed(revoked.columns))],
        "half": pd.concat([revoked.iloc[: ROWS // 2], fresh.iloc[ROWS // 2 :]]),
    }
    expected = {"shuffled": "holds the same rows as claims@1.0's", "half": "shares about"}
    for version, (name, frame) in zip(("1.1", "1.2"), tables.items(), strict=True):
        git(repo, "checkout", "-q", "main")
        git(repo, "checkout", "-qb", f"content-{name}")
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        data = {**bootstrapped[1], name: path}
        assert release(repo, data, version, name, epsilon="0.1", delta="1e-8") == 0
        commit(repo, f"claims@{version} ships claims@1.0's rows {name}")
        code, result = check_json(repo, capsys, "--base", "main")
        found = [
            f
            for r in result["releases"]
            for f in r["findings"]
            if f["rule"] == "policy.revoked_artifact"
        ]
        assert code == 1 and len(found) == 1, result
        assert expected[name] in found[0]["message"]


def test_revalidation_records_drift_and_the_schedule_reports_overdue(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh.csv"
    rows = claims_rows(seed=11, rows=2 * ROWS)
    fresh.write_text("\n".join(",".join(r) for r in [CLAIMS_COLUMNS, *rows]) + "\n")
    code, data = check_json(repo, capsys, "--scheduled", "--at", "2099-01-01")
    assert (code, data["releases"]) == (0, [])  # not approved: not current, never due
    assert approve_as(repo, "ada") == 0 and approve_as(repo, "chen") == 0
    code, data = check_json(repo, capsys, "--scheduled", "--at", "2099-01-01")
    assert code == 1
    assert [r["release"] for r in data["releases"]] == ["claims@1.0"]
    assert data["releases"][0]["findings"][0]["rule"] == "policy.revalidation_overdue"
    assert run(repo, "revalidate", "claims@1.0", "--real", str(fresh), "-q") == 0
    [record] = (repo / "datasets/claims/releases/1.0/revalidations").iterdir()
    data = json.loads(record.read_text())
    assert data["release"] == "claims@1.0" and data["verdict"] in ("pass", "blocked")
    ks = [d for d in data["drift"] if d["id"] == "fidelity.ks_complement"]
    assert ks and all(d["change"] == pytest.approx(d["after"] - d["before"]) for d in ks)
    commit(repo, "revalidation record")
    code, scheduled = check_json(repo, capsys, "--scheduled")
    rules = {f["rule"] for r in scheduled["releases"] for f in r["findings"]}
    assert "policy.revalidation_overdue" not in rules  # revalidated just now
    assert ("policy.revalidation_failed" in rules) == (data["verdict"] == "blocked") == (code == 1)
    assert run(repo, "validate") == 0


def test_a_hand_edited_revalidation_record_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh.csv"
    rows = claims_rows(seed=12, rows=2 * ROWS)
    fresh.write_text("\n".join(",".join(r) for r in [CLAIMS_COLUMNS, *rows]) + "\n")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    git(repo, "checkout", "-qb", "reval")
    assert run(repo, "revalidate", "claims@1.0", "--real", str(fresh), "-q") == 0
    [record] = (repo / "datasets/claims/releases/1.0/revalidations").iterdir()
    commit(repo, "an honest record")
    assert check_json(repo, capsys, "--base", "main")[0] == 0
    data = json.loads(record.read_text())
    data.update(revalidated_at="2099-01-01T00:00:00Z", verdict="pass", blocking=[])
    for metric in data["report"]["metrics"]:  # the fresh report now says it leaks copies
        if metric["id"] == "privacy.exact_match_rate":
            metric["value"] = 0.5
    record.write_text(json.dumps(data))
    commit(repo, "a record that switches the schedule off")
    code, result = check_json(repo, capsys, "--base", "main")
    assert code == 1
    messages = [f["message"] for r in result["releases"] for f in r["findings"]]
    assert "revalidated_at is in the future" in messages
    assert any(m.startswith("verdict does not match its report") for m in messages)


def test_a_revocation_must_name_the_shipped_artifact(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    git(repo, "checkout", "-qb", "revoke")
    assert run(repo, "revoke", "claims@1.0", "--reason", "leak", "--class", "privacy") == 0
    path = repo / "datasets/claims/releases/1.0/revocation.yaml"
    text = path.read_text()
    shipped = text.split("artifact_sha256: ")[1].strip()
    path.write_text(text.replace(shipped, "0" * 64))
    commit(repo, "revoke, naming another artifact")
    for name in ("ada", "chen"):
        assert approve_as(repo, name, "--revocation") == 0
    code, data = check_json(repo, capsys, "--base", "main")
    assert code == 1
    assert "policy.revocation_artifact" in {
        f["rule"] for r in data["releases"] for f in r["findings"]
    }


def test_a_revoked_artifact_cannot_ship_as_another_dataset(
    repo: Path, bootstrapped: tuple[Path, dict[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    data = bootstrapped[1]
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    git(repo, "checkout", "-qb", "revoke")
    assert run(repo, "revoke", "claims@1.0", "--reason", "leak", "--class", "privacy") == 0
    commit(repo, "revoke claims@1.0")
    for name in ("ada", "chen"):
        assert approve_as(repo, name, "--revocation") == 0
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge revoke", "revoke")
    git(repo, "checkout", "-qb", "elsewhere")
    card = (repo / "datasets/claims/card.yaml").read_text().replace("id: claims", "id: claims2")
    (repo / "datasets/claims2").mkdir()
    (repo / "datasets/claims2/card.yaml").write_text(card)
    commit(repo, "a second dataset")
    assert (
        run(
            repo,
            *release_new_args("claims2", "1.0", str(data["honest"]), data),
            "-q",
        )
        == 0
    )
    commit(repo, "claims2@1.0 ships claims@1.0's revoked table")
    code, result = check_json(repo, capsys, "--base", "main")
    assert code == 1
    rules = {f["rule"] for r in result["releases"] for f in r["findings"]}
    assert "policy.revoked_artifact" in rules
