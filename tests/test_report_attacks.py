"""Red team, round 2, class 4: report.json tweaked so that a leaky release passes.

A repository made with `synthgov init`; the dataset `claims` is internal (one privacy
reviewer; an inconclusive figure only warns) and has two row constraints. Its release
1.0 is made with `release new` from a table that copies 36 of its 600 rows from the
training table: `privacy.exact_copy_excess` and `privacy.mia_auc` fail. The author then
edits report.json, and the one privacy reviewer the tier asks for (colluding) approves
again. Each test is one edit; none may turn the failure into a pass or a mere warning.

The same holds for the reports inside revalidation records: an honest claims@1.0
(branch `honest`) is merged and revalidated on fresh data, and a later pull request
tries to make the release look revalidated again without measuring anything new.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthgov.examples import CLAIMS_COLUMNS, claims_rows, write_release_tables
from tests.helpers import signing
from tests.helpers.cli import approve_as, release_new_args
from tests.helpers.cli import run_in as run
from tests.helpers.git import commit, git

ROWS = 600
REPORT = "datasets/claims/releases/1.0/report.json"
CONSTRAINTS = """constraints:
- name: stay-not-negative
  rule: discharged >= admitted
- name: amount-positive
  rule: claim_amount > 0
"""


def _tables(folder: Path) -> dict[str, Path]:
    """The release tables, a partly leaky table (6 % training rows, identifiers dropped)
    and one that breaks each row constraint on two rows of its own (0.33 % each, 0.67 %
    together)."""
    data = write_release_tables(folder, rows=ROWS)
    with open(data["train"], newline="") as handle:
        train = [row[2:] for row in list(csv.reader(handle))[1:]]
    with open(data["honest"], newline="") as handle:
        header, *honest = list(csv.reader(handle))
    copied = 36
    tables = {"leaky": train[:copied] + honest[copied:], "broken": [list(r) for r in honest]}
    admitted, discharged, amount = (
        header.index(c) for c in ("admitted", "discharged", "claim_amount")
    )
    for row in tables["broken"][:2]:  # discharged before admitted
        row[admitted], row[discharged] = "2024-06-02", "2024-06-01"
    for row in tables["broken"][2:4]:
        row[amount] = "-5.00"
    for name, rows in tables.items():
        data[name] = folder / f"{name}.csv"
        with open(data[name], "w", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return data


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """main: init, the internal claims card with two constraints, ada and chen; branches
    `leaky`, `broken` and `honest` each add claims@1.0 from that table, approved by ada."""
    work = tmp_path_factory.mktemp("report-attacks")
    data = _tables(work / "data")
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
            "internal",
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
    card.write_text(card.read_text().replace("constraints: []\n", CONSTRAINTS))
    people = signing.people()
    (repo / "policy/reviewers.yaml").write_text(
        signing.registry_yaml(people["ada"], people["chen"])
    )
    commit(repo, "bootstrap")
    for table in ("leaky", "broken", "honest"):
        git(repo, "checkout", "-q", "main")
        git(repo, "checkout", "-qb", table)
        assert (
            run(
                repo,
                *release_new_args("claims", "1.0", str(data[table]), data),
                "-q",
            )
            == 0
        )
        commit(repo, f"release claims@1.0 from {table}")
        assert approve_as(repo, "ada") == 0
    git(repo, "checkout", "-q", "main")
    return repo, data


@pytest.fixture
def repo(governed: tuple[Path, dict[str, Path]], tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(governed[0], copy, symlinks=True)
    git(copy, "checkout", "-q", "leaky")
    yield copy


def check(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run(repo, "check", "--base", "main", "--format", "json")
    return code, json.loads(capsys.readouterr().out)


def findings(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for r in data["releases"] for f in r["findings"]}


def tweak(repo: Path, edit: Callable[[dict[str, Any]], None], *, approve: bool = True) -> None:
    """The author edits report.json and commits; the colluding reviewer approves again."""
    path = repo / REPORT
    report = json.loads(path.read_text())
    edit(report)
    path.write_text(json.dumps(report, indent=2) + "\n")
    commit(repo, "report.json, edited")
    if approve:
        assert approve_as(repo, "ada", "--replace") == 0


def entry(report: dict[str, Any], metric: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [m for m in report["metrics"] if m["id"] == metric]
    [one] = found
    return one


def test_the_leaky_release_fails_its_copy_and_membership_rules_as_made(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = check(repo, capsys)
    found = findings(data)
    assert code == 1
    for rule in ("privacy.exact_copy_excess", "privacy.mia_auc"):
        assert (found[rule]["severity"], found[rule]["outcome"]) == ("error", "fail")
    assert "approvals.missing" not in found  # ada's approval counts: only the metrics block


def test_entries_for_made_up_groups_do_not_widen_the_intervals(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 entries of `privacy.mia_auc` for groups nobody measured, each with an interval,
    used to count as 1,000 more estimates: each bound went from 99.5 % to 99.995 % and the
    membership-inference failure became an inconclusive warning."""
    before = findings(check(repo, capsys)[1])["privacy.mia_auc"]["message"]

    def inflate(report: dict[str, Any]) -> None:
        report["metrics"] += [
            {
                "id": "privacy.mia_auc",
                "group": f"g{i}",
                "value": 0.5,
                "n": 1200,
                "ci": [0.498, 0.502],
                "interval": {"kind": "normal", "se": 0.001},
            }
            for i in range(1000)
        ]

    tweak(repo, inflate)
    code, data = check(repo, capsys)
    mia = findings(data)["privacy.mia_auc"]
    assert code == 1
    assert (mia["severity"], mia["outcome"]) == ("error", "fail")
    assert mia["message"] == before  # the same interval, at the same level


def test_an_inconclusive_note_for_a_privacy_metric_does_not_excuse_its_absence(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failing entries removed and noted as "could not be measured" (asking for more
    rows than any input has) became two inconclusive warnings, and the release passed;
    `evaluate` never notes a privacy metric, so the note counts for nothing."""

    def note(report: dict[str, Any]) -> None:
        gone = ("privacy.exact_copy_excess", "privacy.mia_auc")
        report["metrics"] = [m for m in report["metrics"] if m["id"] not in gone]
        report["inconclusive"] = [
            {"id": m, "reason": "too few rows", "needs_rows": 10**9} for m in gone
        ]

    tweak(repo, note)
    code, data = check(repo, capsys)
    found = findings(data)
    assert code == 1
    for rule in ("privacy.exact_copy_excess", "privacy.mia_auc"):
        assert found[rule]["severity"] == "error"
        assert found[rule]["message"].startswith(f"the report has no {rule} metric")


def test_negative_or_fractional_counts_in_an_interval_are_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Counts that keep the value (-36/-600 - 0/600 = 0.06) made the interval [-0.01, 1],
    and the 6 % excess of copies inconclusive."""

    def negative(report: dict[str, Any]) -> None:
        entry(report, "privacy.exact_copy_excess")["interval"] = {
            "kind": "newcombe",
            "successes": [-36, 0],
            "trials": [-600, 600],
        }

    tweak(repo, negative, approve=False)  # `approve` refuses a report that does not load
    code, data = check(repo, capsys)
    assert code == 1
    invalid = findings(data)["files.invalid"]
    assert invalid["file"] == REPORT
    assert "interval" in invalid["message"]
    assert (
        "successes and trials must be whole numbers, 0 <= successes <= trials, trials >= 1"
        in (invalid["message"])
    )


@pytest.mark.parametrize("metric", ["privacy.exact_copy_excess", "privacy.singling_out_excess"])
def test_counts_inflated_beyond_the_tables_rows_are_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str], metric: str
) -> None:
    """Ten times the successes over ten times the trials keep the value and narrow the
    interval about threefold, which can turn a failing or inconclusive excess into a
    pass; an excess's trials are rows of its tables, so they can never be more."""

    def inflate(report: dict[str, Any]) -> None:
        found = entry(report, metric)
        rows = report["inputs"]["real"]["rows"]
        attack = round(found["value"] * rows)
        found["interval"] = {
            "kind": "newcombe",
            "successes": [10 * max(attack, 0), 10 * max(-attack, 0)],
            "trials": [10 * rows, 10 * rows],
        }
        found["value"] = (10 * max(attack, 0) - 10 * max(-attack, 0)) / (10 * rows)

    tweak(repo, inflate)
    code, data = check(repo, capsys)
    counts = findings(data)["integrity.counts"]
    assert code == 1 and counts["severity"] == "error"
    assert counts["message"].startswith(f"{metric} counts [")
    assert counts["file"] == REPORT


def test_a_report_without_the_overall_constraint_validity_is_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two constraints broken on two rows each: 99.33 % of rows satisfy both (below the
    policy's 99.5 %), 99.67 % each one. Without the overall entry, the worst per-rule
    entry was judged instead, and passed."""
    git(repo, "checkout", "-q", "broken")
    code, data = check(repo, capsys)
    validity = findings(data)["constraints.validity"]
    assert code == 1 and validity["severity"] == "error" and validity["observed"] < 0.995

    def drop(report: dict[str, Any]) -> None:
        per_rule = [
            m for m in report["metrics"] if m["id"] == "constraints.validity" and "rule" in m
        ]
        assert len(per_rule) == 2 and min(m["value"] for m in per_rule) >= 0.995
        report["metrics"] = [
            m for m in report["metrics"] if m["id"] != "constraints.validity" or "rule" in m
        ]

    tweak(repo, drop)
    code, data = check(repo, capsys)
    validity = findings(data)["constraints.validity"]
    assert code == 1 and validity["severity"] == "error"
    assert validity["message"].startswith("the report has no constraints.validity metric")


def test_half_a_revoked_table_with_a_sketch_of_its_own_in_the_manifest_is_blocked(
    repo: Path,
    governed: tuple[Path, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """claims@1.0 is merged and revoked; half its rows come back as claims@2.0, which
    `check` recognises by the row sketch the manifest records. Rewriting that sketch in the
    manifest alone (the report keeps the evaluated table's) hid the shared rows."""
    data = governed[1]
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge claims@1.0", "leaky")
    assert run(repo, "revoke", "claims@1.0", "--reason", "copies", "--class", "privacy") == 0
    commit(repo, "revoke claims@1.0 (merged)")
    git(repo, "checkout", "-qb", "again")
    with open(data["leaky"], newline="") as handle:
        rows = list(csv.reader(handle))
    half = tmp_path / "half.csv"
    with open(half, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows[: 1 + ROWS // 2])
    assert (
        run(
            repo,
            *release_new_args("claims", "2.0", str(half), data),
            "-q",
        )
        == 0
    )
    commit(repo, "claims@2.0: half of claims@1.0's rows")
    assert approve_as(repo, "ada", target="claims@2.0") == 0
    assert "policy.revoked_artifact" in findings(check(repo, capsys)[1])
    manifest = repo / "datasets/claims/releases/2.0/manifest.yaml"
    lines = manifest.read_text().splitlines(keepends=True)
    forged = [
        f"  - {i:016x}\n" if line.startswith("  - ") and len(line) == 21 else line
        for i, line in enumerate(lines)
    ]
    manifest.write_text("".join(forged))
    commit(repo, "manifest: another sketch")
    assert approve_as(repo, "ada", "--replace", target="claims@2.0") == 0
    code, data = check(repo, capsys)
    found = findings(data)
    assert code == 1 and "policy.revoked_artifact" not in found  # the sketch no longer matches
    sketch = found["integrity.artifact_sketch"]
    assert (sketch["severity"], sketch["file"]) == (
        "error",
        "datasets/claims/releases/2.0/report.json",
    )
    assert sketch["message"] == "the manifest's artifact sketch is not the evaluated table's"


def _revalidated(repo: Path, data: dict[str, Path], tmp_path: Path) -> Path:
    """claims@1.0 (honest) merged and revalidated on fresh rows, both on main; a branch
    `later` from there. The record's path."""
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge claims@1.0", "honest")
    fresh = tmp_path / "fresh.csv"
    rows = claims_rows(seed=13, rows=2 * ROWS)
    fresh.write_text("\n".join(",".join(r) for r in [CLAIMS_COLUMNS, *rows]) + "\n")
    assert run(repo, "revalidate", "claims@1.0", "--real", str(fresh), "-q") == 0
    commit(repo, "revalidation record of claims@1.0")
    git(repo, "checkout", "-qb", "later")
    [record] = (repo / "datasets/claims/releases/1.0/revalidations").iterdir()
    return record


def _redated(record: Path, seconds: int, **changes: Any) -> Path:
    """A copy of `record` dated `seconds` later, under the file name that date gives."""
    data = json.loads(record.read_text())
    at = datetime.fromisoformat(data["revalidated_at"].replace("Z", "+00:00"))
    later = at + timedelta(seconds=seconds)
    data.update(revalidated_at=later.strftime("%Y-%m-%dT%H:%M:%SZ"), **changes)
    copy = record.with_name(later.strftime("%Y%m%dT%H%M%SZ.json"))
    copy.write_text(json.dumps(data, indent=2) + "\n")
    return copy


def test_a_revalidation_record_copied_under_a_new_date_is_blocked(
    repo: Path,
    governed: tuple[Path, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A copy of the merged record, dated a minute later under a new file name, made the
    release look revalidated again with nothing measured, and postponed its next due date
    by a revalidation period."""
    record = _revalidated(repo, governed[1], tmp_path)
    copy = _redated(record, 60)
    commit(repo, "a record dated later")
    code, data = check(repo, capsys)
    assert code == 1
    [stale] = [f for r in data["releases"] for f in r["findings"]]
    assert (stale["rule"], stale["file"]) == (
        "files.revalidation",
        copy.relative_to(repo).as_posix(),
    )
    assert stale["message"] == (
        f"report measures real data already used by {record.relative_to(repo).as_posix()}: a "
        "revalidation measures fresh data"
    )


def test_a_hand_edited_record_that_comes_with_a_re_approval_is_still_checked(
    repo: Path,
    governed: tuple[Path, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Records were checked only in a pull request of records alone; beside another file
    of the release (ada approving it again), a record whose verdict says what its report
    does not went through unchecked."""
    record = _revalidated(repo, governed[1], tmp_path)
    verdict = json.loads(record.read_text())["verdict"]
    flipped = "blocked" if verdict == "pass" else "pass"
    _redated(
        record, 60, verdict=flipped, blocking=["privacy.mia_auc"] if flipped == "blocked" else []
    )
    commit(repo, "a hand-written record")
    assert approve_as(repo, "ada", "--replace") == 0
    code, data = check(repo, capsys)
    assert code == 1
    found = [
        f for r in data["releases"] for f in r["findings"] if f["rule"] == "files.revalidation"
    ]
    assert any(f["message"].startswith("verdict does not match its report") for f in found)


def test_re_dating_a_merged_revalidation_record_in_place_is_blocked(
    repo: Path,
    governed: tuple[Path, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The merged record itself, its `revalidated_at` moved a minute later: the same
    postponement, without a second file."""
    record = _revalidated(repo, governed[1], tmp_path)
    data = json.loads(record.read_text())
    at = datetime.fromisoformat(data["revalidated_at"].replace("Z", "+00:00"))
    data["revalidated_at"] = (at + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record.write_text(json.dumps(data, indent=2) + "\n")
    commit(repo, "the record, re-dated")
    code, data = check(repo, capsys)
    assert code == 1
    [changed] = [f for f in data["findings"] if f["severity"] == "error"]
    assert (changed["rule"], changed["file"]) == (
        "files.changed",
        record.relative_to(repo).as_posix(),
    )


@pytest.mark.parametrize(
    ("metric", "interval"),
    [
        ("privacy.exact_copy_excess", {"kind": "normal", "se": 0}),
        ("privacy.linkability_excess", {"kind": "normal", "se": 0.0001}),
        ("privacy.singling_out_excess", {"kind": "normal", "se": 0}),
    ],
)
def test_an_excess_interval_switched_from_counts_to_a_narrow_normal_one_is_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str], metric: str, interval: dict[str, Any]
) -> None:
    """The counts check (integrity.counts) read Newcombe intervals only: the same value with
    `{"kind": "normal", "se": 0}` escaped it and made the interval zero-wide, which turns an
    inconclusive excess into a pass. Singling out's jackknife of variance 0 is the case
    `evaluate` now writes as counts, so a `normal` one of se 0 is a forgery too."""

    def narrow(report: dict[str, Any]) -> None:
        found = entry(report, metric)
        found["interval"] = interval
        found.pop("ci", None)

    tweak(repo, narrow)
    code, data = check(repo, capsys)
    counts = findings(data)["integrity.counts"]
    assert code == 1 and (counts["severity"], counts["enforcement"]) == ("error", "hard")
    assert counts["message"].startswith(f"{metric} has a normal interval")
    assert counts["file"] == REPORT


def test_singling_out_with_a_jackknife_interval_of_some_width_is_not_refused_for_its_kind(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `evaluate` writes when some records are singled out: a `normal` interval of
    se > 0, which no count bounds and the counts check leaves alone."""
    report = json.loads((repo / REPORT).read_text())
    assert entry(report, "privacy.singling_out_excess")["interval"]["kind"] == "normal"
    _, data = check(repo, capsys)
    assert "integrity.counts" not in findings(data)


def test_singling_out_counts_shrunk_below_the_tables_rows_are_blocked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Singling out counts every record of the two tables cut to the smaller one's rows.
    An excess of 1 (every training record singled out, no holdout one) over [1, 1] trials
    has Newcombe's interval [-0.12, 1] (over 600 rows, [0.99, 1]): it no longer fails, it
    is merely inconclusive, a warning at this tier. Fewer trials than those rows are
    refused as more are."""
    report = json.loads((repo / REPORT).read_text())
    size = min(report["inputs"][role]["rows"] for role in ("real", "holdout"))
    metric = "privacy.singling_out_excess"

    def shrink(report: dict[str, Any]) -> None:
        found = entry(report, metric)
        found.update(value=1.0, ci=[-0.12, 1.0])
        found["interval"] = {"kind": "newcombe", "successes": [1, 0], "trials": [1, 1]}

    tweak(repo, shrink)
    code, data = check(repo, capsys)
    counts, rule = findings(data)["integrity.counts"], findings(data)[metric]
    assert (rule["severity"], rule["outcome"]) == ("warning", "inconclusive")  # the harm
    assert code == 1 and counts["severity"] == "error"  # what stops it
    assert counts["message"] == (
        f"privacy.singling_out_excess counts [1, 1] trials; its tables give {size:,} and "
        f"{size:,} (the smaller of the real and holdout rows, twice)"
    )


def test_singling_out_counts_over_the_smaller_tables_rows_pass_the_counts_check(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `evaluate` writes when nobody is singled out: [0, 0] of the smaller table's rows."""
    report = json.loads((repo / REPORT).read_text())
    size = min(report["inputs"][role]["rows"] for role in ("real", "holdout"))

    def nobody(report: dict[str, Any]) -> None:
        found = entry(report, "privacy.singling_out_excess")
        found.update(value=0.0, ci=[-0.01, 0.01])
        found["interval"] = {"kind": "newcombe", "successes": [0, 0], "trials": [size, size]}

    tweak(repo, nobody)
    _, data = check(repo, capsys)
    assert "integrity.counts" not in findings(data)
