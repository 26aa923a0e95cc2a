"""Shared fixtures: an isolated environment (no user git config, no writes to ~), a CLI runner
and real git repositories. What they build lives in tests/helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import cli, cluster, releases
from tests.helpers.git import git
from tests.helpers.repos import make_base


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, a throwaway HOME, fixed identities (as pre-commit's tests do)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "author@example.org")
    monkeypatch.delenv("SYNTHGOV_DEBUG", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # a CI runner's job summary
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def dask_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scheduler address of one real two-worker LocalCluster per test process, shared by
    the tests of the Dask engine's parts (tests/helpers/cluster.py); a cluster that does not
    start fails them with its stderr instead of hanging the suite."""
    try:
        with cluster.shared_cluster(tmp_path_factory.mktemp("cluster")) as address:
            yield address
    except cluster.ClusterError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def synthgov(capsys: pytest.CaptureFixture[str]) -> cli.Synthgov:
    """Run the CLI in process through its real error boundary: synthgov(*args, cwd=dir)."""
    return cli.in_process(capsys)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty real git repository."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def base(repo: Path) -> Path:
    """main: the default policy, reviewers, the claims card and its ledger; on branch `pr`."""
    return make_base(repo)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """claims: 1.10 approved, 1.11 approved then revoked, 1.12 waiting for its data owner."""
    return releases.history(tmp_path_factory)
