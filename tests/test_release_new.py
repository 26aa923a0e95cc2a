"""The author's loop of `release new`: every option refused before the evaluation and
named; an uncommitted draft re-run with --replace, a committed release never; the
predicted verdict first, then what to do next."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthgov.examples import write_release_tables
from tests.helpers.cli import Synthgov, run_in
from tests.helpers.git import commit, git

ROWS = 300
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
        "release",
        "new",
        "claims",
        "2.0",
        "--synthetic",
        str(data[table]),
        "--real",
        str(data["train"]),
        "--holdout",
        str(data["holdout"]),
        "--generator",
        "aim",
        "--generator-version",
        "0.16.0",
        "--seed",
        "7",
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
