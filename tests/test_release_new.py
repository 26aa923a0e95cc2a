"""The author's loop of `release new`: every option refused before the evaluation and
named; an uncommitted draft re-run with --replace, a committed release never; the
predicted verdict first, then what to do next."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from synthgov.examples import write_release_tables
from synthgov.files import governance
from synthgov.models import Ledger, Manifest
from tests.helpers.cli import Result, Synthgov, release_new_args, run_in
from tests.helpers.git import commit, git

ROWS = 600
FOLDER = "datasets/claims/releases/2.0"


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """main: init, the claims card and a budget; on branch `r`, nothing released yet."""
    work = tmp_path_factory.mktemp("loop")
    data = write_release_tables(work / "data", rows=ROWS)
    repo = work / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "sam@example.org")
    assert run_in(work, "init", str(repo)) == 0
    dataset = ("dataset", "new", "claims", "--owner", "claims-team", "--classification")
    source = ("confidential", "--source", "claims-2024", "--from-data", str(data["train"]))
    assert run_in(repo, *dataset, *source, "--target", "fraud") == 0
    assert run_in(repo, "budget", "new", "claims-2024", "--epsilon", "3", "--delta", "1e-6") == 0
    commit(repo, "bootstrap")
    git(repo, "checkout", "-qb", "r")
    return repo, data


@pytest.fixture
def repo(governed: tuple[Path, dict[str, Path]], tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(governed[0], copy, symlinks=True)
    yield copy


@pytest.fixture
def data(governed: tuple[Path, dict[str, Path]]) -> dict[str, Path]:
    return governed[1]


def release_new(data: dict[str, Path], *extra: str, table: str = "honest") -> list[str]:
    return [
        *release_new_args("claims", "2.0", str(data[table]), data),
        *extra,
    ]


@pytest.mark.parametrize(
    "option, value",
    [
        ("--location", "s3://bucket/\u202egpj.csv"),
        ("--generator-version", "0.16\u2066"),
        ("--param", "epochs=3\u202e00"),
        ("--snapshot-id", "claims-\u2067q3"),
    ],
)
def test_a_character_check_refuses_to_read_is_refused_before_the_evaluation_by_its_option(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], option: str, value: str
) -> None:
    """It was written after minutes of evaluation, and only the prediction (or `check`)
    said the manifest does not load, at a line of the file."""
    result = synthgov(*release_new(data, option, value), cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()  # one line, and no evaluation progress before it
    assert line.startswith(f"{option}: character U+")
    assert not (repo / FOLDER).exists()


def test_a_default_refused_names_the_option_it_came_from_not_one_never_typed(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    """The real table's file name is the default --snapshot-id: the refusal named
    --snapshot-id, which the author never typed."""
    real = tmp_path / "train\u202eq.csv"
    shutil.copy(data["train"], real)
    args = release_new(data)
    args[args.index("--real") + 1] = str(real)
    result = synthgov(*args, cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith("--real (its file name is the default --snapshot-id): character U+")
    assert not (repo / FOLDER).exists()


@pytest.mark.parametrize("option", ["--location", "--snapshot-id", "--mechanism", "--description"])
def test_an_empty_option_is_refused_not_silently_replaced_by_its_default(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], option: str
) -> None:
    result = synthgov(*release_new(data, option, ""), cwd=repo)
    assert (result.code, result.err.splitlines()) == (
        2,
        [f"{option}: string should have at least 1 character"],
    )
    assert not (repo / FOLDER).exists()


def test_an_intended_use_the_card_lacks_is_refused_before_the_evaluation(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """The policy gate blocks it anyway: the author learnt it after the evaluation."""
    result = synthgov(*release_new(data, "--intended-use", "marketing"), cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith("--intended-use: 'marketing' is not one of the card's intended uses")
    assert not (repo / FOLDER).exists()


def stdout_lines(result: Result) -> list[str]:
    return result.out.splitlines()


def test_a_blocked_release_is_not_told_to_ask_the_reviewers_to_approve(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """It said "ask the reviewers to approve" whatever the prediction; now the verdict
    comes first, each blocking rule with its figures, and a waiver only where one helps."""
    result = synthgov(*release_new(data, "-q", table="leaky"), cwd=repo)
    assert result.code == 0, result.err
    lines = stdout_lines(result)
    assert lines[0].startswith("predicted verdict for claims@2.0: blocked by ")
    assert "privacy.near_copy_excess" in lines[0]
    assert "ask the reviewers" not in result.out and "needs 1" not in result.out
    near = lines.index(next(x for x in lines if x.startswith("  privacy.near_copy_excess")))
    assert "privacy.near_copy_excess is 0.9" in lines[near] and "interval [" in lines[near]
    assert lines[near + 1].startswith("    fix: ")
    assert lines[near + 2].startswith("    a waiver would not help: the policy allows relaxing")
    assert "synthgov waiver new" not in "\n".join(lines[near : near + 3])
    assert lines[-1].startswith("next: fix what blocks")
    assert "waivers above" not in lines[-1]


def test_a_waiver_is_suggested_only_for_a_rule_the_policy_lets_a_waiver_relax(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """privacy.inference_excess of the leaky table is within its waivers.max_relax bound;
    with that bound removed from the base's policy, no waiver can relax it."""
    lines = stdout_lines(synthgov(*release_new(data, "-q", table="leaky"), cwd=repo))
    at = lines.index(next(x for x in lines if x.startswith("  privacy.inference_excess")))
    assert lines[at + 1] == (
        "    or waive it (the policy allows relaxing it to 0.15 for at most 90 days): "
        "synthgov waiver new claims@2.0 --rule privacy.inference_excess --relax-to 0.15 "
        '--days 90 --reason "..." --owner REVIEWER --ticket TICKET'
    )
    shutil.rmtree(repo / FOLDER)
    git(repo, "checkout", "-q", "main")
    policy = repo / "policy/policy.yaml"
    policy.write_text(policy.read_text().replace("    privacy.inference_excess: 0.15\n", ""))
    commit(repo, "policy: privacy.inference_excess cannot be waived")
    git(repo, "checkout", "-q", "r")
    git(repo, "merge", "-q", "main")
    lines = stdout_lines(synthgov(*release_new(data, "-q", table="leaky"), cwd=repo))
    at = lines.index(next(x for x in lines if x.startswith("  privacy.inference_excess")))
    assert lines[at + 1] == (
        "    it cannot be waived: the policy sets no waivers.max_relax bound for it"
    )


def test_a_release_blocked_only_by_missing_approvals_is_told_which_to_ask_for(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    result = synthgov(*release_new(data, "-q"), cwd=repo)
    assert result.code == 0, result.err
    lines = stdout_lines(result)
    assert lines[0] == "predicted verdict for claims@2.0: blocked only by missing approvals"
    assert "  needs 1 privacy-reviewer approval(s): " in "\n".join(lines)
    assert lines[-1] == (
        "next: commit the release files, open a pull request, and ask the reviewers to approve"
    )


def test_an_uncommitted_draft_is_rewritten_with_replace_leaving_its_other_files(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """An uncommitted draft could not be re-run: the version 'already existed'."""
    assert synthgov(*release_new(data, "-q", table="leaky"), cwd=repo).code == 0
    again = synthgov(*release_new(data, "-q"), cwd=repo)
    assert again.code == 1 and "--replace" in again.err
    note = repo / FOLDER / "waivers/draft.txt"
    note.parent.mkdir()
    note.write_text("mine")
    replaced = synthgov(*release_new(data, "-q", "--replace"), cwd=repo)
    assert replaced.code == 0, replaced.err
    assert str(data["honest"]) in (repo / FOLDER / "manifest.yaml").read_text()
    assert replaced.out.splitlines()[0].endswith("blocked only by missing approvals")
    assert note.read_text() == "mine"
    assert git(repo, "status", "--porcelain").split() == ["??", "datasets/claims/releases/"]


@pytest.mark.parametrize("where", ["branch", "main"])
def test_replace_never_rewrites_a_committed_release(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], where: str
) -> None:
    """On this branch or already merged: versions are never reused."""
    assert synthgov(*release_new(data, "-q"), cwd=repo).code == 0
    if where == "main":
        git(repo, "checkout", "-q", "main")
        commit(repo, "claims@2.0")
        kept = shutil.copytree(repo / FOLDER, repo.parent / "kept")
        git(repo, "checkout", "-q", "r")  # the branch started before it: a stale copy
        shutil.copytree(kept, repo / FOLDER)
    else:
        commit(repo, "claims@2.0")
    before = (repo / FOLDER / "manifest.yaml").read_bytes()
    result = synthgov(*release_new(data, "-q", "--replace", table="leaky"), cwd=repo)
    assert result.code == 1
    assert result.err == (
        "refused: claims@2.0 is committed (datasets/claims/releases/2.0/manifest.yaml); "
        "versions are never reused: choose a new version\n"
    )
    assert (repo / FOLDER / "manifest.yaml").read_bytes() == before


def test_replace_of_a_draft_with_its_debit_still_in_the_ledger_is_refused_before_any_change(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """A release is debited once: a second debit would double its privacy loss, and the
    refusal named `--release`, an option `release new` does not have."""
    dp = ("--epsilon", "1", "--delta", "1e-7", "--tuning-runs", "0")
    assert synthgov(*release_new(data, "-q", *dp), cwd=repo).code == 0
    ledger = repo / "budgets/claims-2024.yaml"
    before = ledger.read_bytes(), (repo / FOLDER / "report.json").read_bytes()
    result = synthgov(*release_new(data, "-q", "--replace", *dp), cwd=repo)
    assert result.code == 1
    assert result.err.startswith(
        "refused: the draft's debit of claims@2.0 is still in budgets/claims-2024.yaml:"
    )
    assert "git checkout -- budgets/claims-2024.yaml" in result.err
    assert (ledger.read_bytes(), (repo / FOLDER / "report.json").read_bytes()) == before
    git(repo, "checkout", "--", "budgets/claims-2024.yaml")
    again = synthgov(
        *release_new(data, "-q", "--replace", "--epsilon", "0.5", "--tuning-runs", "0"), cwd=repo
    )
    assert again.code == 0, again.err
    assert "epsilon: 0.5" in (repo / FOLDER / "manifest.yaml").read_text()
    assert ledger.read_text().count("release: claims@2.0") == 1


def test_replace_never_removes_a_file_through_a_symlinked_release_folder(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    """An uncommitted folder that links elsewhere: --replace would have removed the files
    it points to, outside the repository."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.yaml").write_text("someone else's\n")
    (repo / FOLDER).parent.mkdir(parents=True)
    (repo / FOLDER).symlink_to(outside)
    result = synthgov(*release_new(data, "-q", "--replace"), cwd=repo)
    assert result.code == 2
    assert "refusing to follow the symbolic link" in result.err
    assert (outside / "manifest.yaml").read_text() == "someone else's\n"


def test_replace_refused_by_an_overdraw_says_the_draft_was_removed(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """It said "nothing was written" while the draft's files were gone."""
    assert synthgov(*release_new(data, "-q"), cwd=repo).code == 0
    dp = ("--epsilon", "5", "--delta", "1e-7", "--tuning-runs", "0")
    result = synthgov(*release_new(data, "-q", "--replace", *dp), cwd=repo)
    assert result.code == 1
    assert result.err.rstrip().endswith(
        f"nothing was written (the draft's {FOLDER}/manifest.yaml and {FOLDER}/report.json "
        f"and {FOLDER}/report.html removed)"
    )
    assert not (repo / FOLDER / "manifest.yaml").exists()


def test_a_version_the_ledger_already_debits_is_refused_before_the_evaluation(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """Its folder removed by hand, the draft's debit stayed; the refusal came from the
    debit, naming `--release`, an option `release new` does not have."""
    dp = ("--epsilon", "1", "--delta", "1e-7", "--tuning-runs", "0")
    assert synthgov(*release_new(data, "-q", *dp), cwd=repo).code == 0
    shutil.rmtree(repo / FOLDER)
    result = synthgov(*release_new(data, *dp), cwd=repo)
    assert result.code == 1
    [line] = result.err.splitlines()  # and no evaluation progress
    assert line.startswith("refused: budgets/claims-2024.yaml:")
    assert "already debits claims@2.0; versions are never reused" in line
    assert not (repo / FOLDER).exists()


# --- tuning runs, and the seeds checked first --------------------------------------------


def test_a_dp_release_without_its_tuning_runs_is_refused_before_the_evaluation(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """Runs of the generator on the real data before the release spend budget too: the
    default policy requires their record, so the author says how many there were."""
    ledger = (repo / "budgets/claims-2024.yaml").read_bytes()
    result = synthgov(*release_new(data, "--epsilon", "1", "--delta", "1e-7"), cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()  # and no evaluation progress
    assert line.startswith("--tuning-runs: say how many times the generator ran on the real")
    assert "policy/policy.yaml:" in line and "--tuning-runs 0 if it ran once" in line
    assert not (repo / FOLDER).exists()
    assert (repo / "budgets/claims-2024.yaml").read_bytes() == ledger


def test_release_new_records_the_tuning_runs_and_debits_them_with_the_release(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    dp = ("--epsilon", "1", "--delta", "1e-7")
    runs = ("--tuning-runs", "2", "--tuning-epsilon", "0.5", "--tuning-delta", "1e-8")
    result = synthgov(*release_new(data, "-q", *dp, *runs), cwd=repo)
    assert result.code == 0, result.err
    assert "epsilon 2.0, delta 0.00000012 (the release's loss with its 2 tuning runs" in result.err
    manifest = governance.load(repo, f"{FOLDER}/manifest.yaml", Manifest).model
    [group] = manifest.privacy.tuning or []
    assert (group.runs, group.epsilon, group.delta) == (2, Decimal("0.5"), Decimal("1e-8"))
    [entry] = governance.load(repo, "budgets/claims-2024.yaml", Ledger).model.entries
    assert (entry.loss.epsilon, entry.loss.delta) == (Decimal(2), Decimal("1.2e-7"))
    assert "budget." not in result.out  # the predicted verdict has no budget finding


def test_a_negative_generator_seed_is_refused_with_one_line(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    args = release_new(data)
    args[args.index("--seed") + 1] = "-1"
    result = synthgov(*args, cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert "--seed" in line and "-1 is not in the range x>=0" in line
    assert not (repo / FOLDER).exists()


def test_an_eval_seed_the_policy_forbids_is_refused_before_the_debit_is_tried(
    synthgov: Synthgov, repo: Path, data: dict[str, Path]
) -> None:
    """The policy derives the seed: the refusal came after the debit was tried (and after a
    draft was removed by --replace), as an overdraw's refusal hid it."""
    assert synthgov(*release_new(data, "-q"), cwd=repo).code == 0
    before = (repo / FOLDER / "manifest.yaml").read_bytes()
    overdraw = ("--epsilon", "5", "--delta", "1e-7", "--tuning-runs", "0")
    result = synthgov(*release_new(data, "--replace", "--eval-seed", "3", *overdraw), cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith("--eval-seed: the policy derives the evaluation seed")
    assert (repo / FOLDER / "manifest.yaml").read_bytes() == before


def test_a_negative_evaluation_seed_is_refused_by_evaluate_with_one_line(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    card = str(repo / "datasets/claims/card.yaml")
    tables = ("--real", str(data["train"]), "--holdout", str(data["holdout"]))
    out = tmp_path / "report.json"
    args = ("evaluate", "--card", card, *tables, "--synthetic", str(data["honest"]))
    result = synthgov(*args, "-o", str(out), "--seed", "-1", cwd=repo)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert "--seed" in line and "-1 is not in the range" in line
    assert not out.exists()


def test_evaluate_previews_each_failing_rule_in_the_words_check_then_uses(
    synthgov: Synthgov, repo: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    """`evaluate` composed its own preview line (figures without the bound's confidence,
    no alternative, no "likely fails"), so the author read one thing and the gate said
    another; both now come from `gates.metrics.explain`."""
    evaluated = synthgov(
        "evaluate", "--card", "datasets/claims/card.yaml", "--real", str(data["train"]),
        "--holdout", str(data["holdout"]), "--synthetic", str(data["leaky"]),
        "-o", str(tmp_path / "report.json"), cwd=repo,
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.err
    preview = next(
        line for line in evaluated.err.splitlines() if "privacy.near_copy_excess (" in line
    )
    assert preview.startswith("fail: privacy.near_copy_excess (confidential): ")
    said = preview.split(": ", 1)[1].split(": ", 1)[1]
    released = synthgov(*release_new(data, "-q", table="leaky"), cwd=repo)
    assert released.code == 0, released.err
    [shown] = [x for x in stdout_lines(released) if x.startswith("  privacy.near_copy_excess")]
    assert said in shown and "interval [" in said and "each bound" in said
