"""Tuning runs on the real data before a DP release: the manifest records them (or `none`),
and the release's one debit pays for them too, composed as the ledger composes its
entries (epsilons and deltas add up, rhos add up), on real git repositories and OpenDP."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from synthgov.budget import accounting, tuning
from synthgov.files import governance
from synthgov.models import Ledger, Manifest
from tests.helpers import ledgers, samples
from tests.helpers.cli import Synthgov, as_json, check
from tests.helpers.git import commit, git
from tests.helpers.repos import write
from tests.helpers.samples import PASSING, report_json

DP = "notion: approx, epsilon: 1.0, delta: 0.000001"
OWN = {"epsilon": "1.0", "delta": "0.000001"}
#: a release of (1.0, 1e-7) after four tuning runs of (0.5, 1e-7) each
TUNED = "notion: approx, epsilon: 1.0, delta: 0.0000001, tuning: [{runs: 4, epsilon: 0.5, delta: 0.0000001}]"
TUNED_OWN = {"epsilon": "1.0", "delta": "0.0000001"}
PAID = {"epsilon": "3.0", "delta": "0.0000005"}


def manifest(privacy: str) -> str:
    text = samples.MANIFEST.replace(f"{DP}, tuning: none", privacy)
    assert text != samples.MANIFEST or privacy == f"{DP}, tuning: none"
    return text


def release(repo: Path, privacy: str, debit: dict[str, str] | None) -> None:
    """Commit claims@1.10 with `privacy` and, unless None, a debit of `debit`."""
    card_sha = hashlib.sha256((repo / "datasets/claims/card.yaml").read_bytes()).hexdigest()
    write(repo, f"{samples.RELEASE}/manifest.yaml", manifest(privacy))
    write(repo, f"{samples.RELEASE}/report.json", report_json(PASSING, card_sha))
    if debit is not None:
        path = repo / ledgers.PATH
        path.write_text(ledgers.append(path.read_text(), "claims@1.10", **debit))
    commit(repo, "release claims@1.10")


def budget_findings(synthgov: Synthgov, repo: Path) -> tuple[int, list[dict[str, Any]]]:
    result = check(synthgov, repo, "--format", "json")
    assert result.code in (0, 1), result.err
    data = as_json(result)
    found = [f for r in data["releases"] for f in r["findings"] if f["gate"] == "budget"]
    return result.code, found + [f for f in data["findings"] if f["gate"] == "budget"]


# --- the gate --------------------------------------------------------------------------------


def test_debit_that_ignores_the_tuning_runs_is_blocked(synthgov: Synthgov, base: Path) -> None:
    release(base, TUNED, TUNED_OWN)
    code, found = budget_findings(synthgov, base)
    [finding] = [f for f in found if f["rule"] == "budget.debit_mismatch"]
    assert code == 1 and finding["severity"] == "error"
    assert finding["message"] == (
        "entry seq 1 records epsilon 1.0, delta 0.0000001 for claims@1.10, the release's own "
        "loss, but not its 4 tuning runs at epsilon 0.5, delta 0.0000001 each (the manifest's "
        "privacy.tuning): the debit owes epsilon 3.0, delta 0.0000005"
    )
    assert finding["observed"] == "epsilon 1.0, delta 0.0000001"
    assert finding["threshold"] == "epsilon 3.0, delta 0.0000005"


def test_debit_that_pays_for_the_tuning_runs_is_not_flagged(synthgov: Synthgov, base: Path) -> None:
    release(base, TUNED, PAID)
    _, found = budget_findings(synthgov, base)
    assert found == []


def test_dp_release_without_a_tuning_record_is_blocked_by_the_default_policy(
    synthgov: Synthgov, base: Path
) -> None:
    release(base, DP, OWN)
    code, found = budget_findings(synthgov, base)
    [finding] = found
    assert code == 1 and finding["rule"] == "budget.tuning_unrecorded"
    assert finding["severity"] == "error" and finding["file"].endswith("manifest.yaml")
    assert "tuning_record: required, policy/policy.yaml:" in finding["message"]


def test_a_policy_older_than_tuning_records_only_warns_of_a_missing_one(
    synthgov: Synthgov, base: Path
) -> None:
    """A base policy without `tuning_record` (written before synthgov recorded tuning runs)
    keeps judging DP releases as it did: a missing record is a warning, not a block."""
    policy = samples.POLICY
    start = policy.index("# Runs of a DP generator")
    end = policy.index("tuning_record: required\n") + len("tuning_record: required\n")
    git(base, "checkout", "-q", "main")
    write(base, "policy/policy.yaml", policy[:start] + policy[end:])
    commit(base, "a policy from before tuning records")
    git(base, "checkout", "-q", "pr")
    git(base, "merge", "-q", "--ff-only", "main")
    release(base, DP, OWN)
    _, found = budget_findings(synthgov, base)
    [finding] = found
    assert finding["rule"] == "budget.tuning_unrecorded" and finding["severity"] == "warning"
    assert "(tuning_record: advisory, policy/policy.yaml, the default)" in finding["message"]


def test_a_release_merged_before_tuning_records_is_not_blocked_when_touched_again(
    synthgov: Synthgov, base: Path
) -> None:
    """Its debit is on the base: its loss was settled when it merged. A later change to
    the release (here its description) warns of the missing record but does not block."""
    git(base, "checkout", "-q", "main")
    release(base, DP, OWN)
    git(base, "checkout", "-q", "pr")
    git(base, "merge", "-q", "--ff-only", "main")
    path = base / samples.RELEASE / "manifest.yaml"
    path.write_text(path.read_text() + "description: The same table, described.\n")
    commit(base, "describe claims@1.10")
    _, found = budget_findings(synthgov, base)
    [finding] = found
    assert finding["rule"] == "budget.tuning_unrecorded" and finding["severity"] == "warning"
    assert finding["message"].endswith("its debit was settled on the base, so this only warns")


def test_tuning_runs_in_rho_add_up_in_a_zcdp_ledger(synthgov: Synthgov, base: Path) -> None:
    git(base, "checkout", "-q", "main")
    write(base, ledgers.PATH, ledgers.empty("zcdp"))
    commit(base, "a zCDP ledger")
    git(base, "checkout", "-q", "pr")
    git(base, "merge", "-q", "--ff-only", "main")
    privacy = "notion: zcdp, rho: 0.1, tuning: [{runs: 3, rho: 0.05}, {runs: 1, rho: 0.1}]"
    release(base, privacy, {"rho": "0.35"})  # 0.1 + 3 x 0.05 + 0.1
    _, found = budget_findings(synthgov, base)
    assert found == []
    release(base, privacy.replace("runs: 1", "runs: 2"), None)  # one more run, same debit
    _, found = budget_findings(synthgov, base)
    assert [f["rule"] for f in found] == ["budget.debit_mismatch"]


def test_tuning_runs_that_push_the_total_over_the_cap_are_blocked(
    synthgov: Synthgov, base: Path
) -> None:
    """rho 0.1 alone fits the (3.0, 1e-6) cap (about epsilon 2.45 by OpenDP's conversion);
    with four tuning runs of rho 0.1 the debit is rho 0.5, about epsilon 5.8: over."""
    privacy = "notion: zcdp, rho: 0.1, tuning: [{runs: 4, rho: 0.1}]"
    own = accounting.compose([_loss(rho="0.1")], accounting.target_delta(_cap()))
    assert own.epsilon < 3
    release(base, privacy, {"rho": "0.5"})
    code, found = budget_findings(synthgov, base)
    rules = {f["rule"] for f in found}
    assert code == 1 and "budget.over_cap" in rules and "budget.debit_mismatch" not in rules


def test_tuning_runs_of_another_kind_than_the_release_are_refused(
    synthgov: Synthgov, base: Path
) -> None:
    write(
        base,
        f"{samples.RELEASE}/manifest.yaml",
        manifest(DP + ", tuning: [{runs: 2, rho: 0.1}]"),
    )
    result = synthgov("validate", f"{samples.RELEASE}/manifest.yaml", cwd=base)
    assert result.code == 2
    assert "privacy.tuning.0: a zcdp loss; tuning runs are recorded in the release's own " in (
        result.out
    )


def test_a_release_without_dp_cannot_claim_tuning_runs(synthgov: Synthgov, base: Path) -> None:
    write(
        base,
        f"{samples.RELEASE}/manifest.yaml",
        manifest("notion: none, tuning: [{runs: 2, epsilon: 0.1}]"),
    )
    result = synthgov("validate", f"{samples.RELEASE}/manifest.yaml", cwd=base)
    assert result.code == 2 and "no loss to add tuning runs to" in result.out


# --- budget debit --------------------------------------------------------------------------


def _loss(**figures: str) -> Any:
    from decimal import Decimal

    from synthgov.models.loss import Loss

    return Loss(**{k: Decimal(v) for k, v in figures.items()})


def _cap() -> Any:
    from decimal import Decimal

    from synthgov.models.ledger import Cap

    return Cap(epsilon=Decimal(3), delta=Decimal("0.000001"))


def debit(synthgov: Synthgov, repo: Path, *extra: str) -> Any:
    return synthgov(
        "budget", "debit", "claims-db", "--release", "claims@1.10",
        "--epsilon", "1.0", "--delta", "0.0000001", *extra, cwd=repo,
    )  # fmt: skip


def entry(repo: Path) -> Any:
    return governance.load(repo, ledgers.PATH, Ledger).model.entries[-1]


def test_budget_debit_composes_the_tuning_runs_it_is_given(synthgov: Synthgov, base: Path) -> None:
    runs = ("--tuning-runs", "4", "--tuning-epsilon", "0.5", "--tuning-delta", "0.0000001")
    result = debit(synthgov, base, *runs)
    assert result.code == 0, result.err
    assert result.err.startswith(
        "debited budgets/claims-db.yaml: seq 1, claims@1.10, epsilon 3.0, delta 0.0000005 "
        "(the release's loss with its 4 tuning runs at epsilon 0.5, delta 0.0000001 each)"
    )
    recorded = entry(base)
    assert recorded.loss.model_dump(exclude_none=True) == {k: Decimal(v) for k, v in PAID.items()}
    assert tuning.runs(recorded.tuning) == 4


def test_budget_debit_pays_for_the_runs_the_manifest_records(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, f"{samples.RELEASE}/manifest.yaml", manifest(TUNED))
    assert debit(synthgov, base).code == 0
    recorded = entry(base)
    loaded = governance.load(base, f"{samples.RELEASE}/manifest.yaml", Manifest)
    assert tuning.same(recorded.tuning, loaded.model.privacy.tuning)
    assert str(recorded.loss.epsilon) == "3.0"


def test_budget_debit_refuses_tuning_runs_the_manifest_does_not_record(
    synthgov: Synthgov, base: Path
) -> None:
    write(base, f"{samples.RELEASE}/manifest.yaml", manifest(TUNED))
    result = debit(synthgov, base, "--tuning-runs", "0")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "privacy.tuning records 4 tuning runs at epsilon 0.5" in result.err
    assert "not no tuning runs" in result.err
    assert entry_count(base) == 0


def entry_count(repo: Path) -> int:
    return len(governance.load(repo, ledgers.PATH, Ledger).model.entries)


def test_budget_debit_whose_tuning_runs_overdraw_is_refused(synthgov: Synthgov, base: Path) -> None:
    runs = ("--tuning-runs", "5", "--tuning-epsilon", "0.5", "--tuning-delta", "0.00000001")
    result = debit(synthgov, base, *runs)
    assert result.code == 1 and "would overdraw" in result.err
    assert entry_count(base) == 0


@pytest.mark.parametrize(
    "extra, expected",
    [
        (("--tuning-epsilon", "0.5"), "--tuning-epsilon needs --tuning-runs N"),
        (("--tuning-runs", "3"), "--tuning-runs N needs each run's loss"),
        (("--tuning-runs", "3", "--tuning-rho", "0.1"), "each tuning run's loss is --rho alone"),
        (("--tuning-runs", "0", "--tuning-epsilon", "1"), "--tuning-runs 0 (no tuning runs)"),
        (("--tuning-runs", "-1"), "-1 is not in the range x>=0"),
    ],
    ids=[
        "figures-without-runs",
        "runs-without-figures",
        "other-kind",
        "zero-with-figures",
        "negative",
    ],
)
def test_budget_debit_refuses_a_tuning_option_that_does_not_add_up(
    synthgov: Synthgov, base: Path, extra: tuple[str, ...], expected: str
) -> None:
    result = debit(synthgov, base, *extra)
    assert result.code == 2 and expected in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert entry_count(base) == 0
