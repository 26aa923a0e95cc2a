"""What the package index shows and what the wheel installs: the README renders there as on
GitHub (one command table, links that resolve off the repository, nothing outside it), the
metadata names the license, the repository and the classifiers, and the built sdist and
wheel pass `twine check --strict`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from synthgov.reporting.sarif import INFORMATION_URI
from tests.helpers import shared

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOB = f"{INFORMATION_URI}/blob/main/"
TREE = f"{INFORMATION_URI}/tree/main/"


def links(markdown: str) -> list[str]:
    """Every inline link target, outside code blocks and code spans."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def test_no_blank_line_splits_a_readme_table_in_two() -> None:
    """A blank line ends a Markdown table: the rows after it rendered as a paragraph of
    pipes, on GitHub and on the index."""
    lines = README.splitlines()
    split = [
        n + 1
        for n in range(1, len(lines) - 1)
        if not lines[n].strip() and lines[n - 1].startswith("|") and lines[n + 1].startswith("|")
    ]
    assert split == []


def test_the_readme_links_resolve_on_the_index_too() -> None:
    """Relative links resolve against the index's page, not the repository: every link is
    absolute, and one into the repository names a file or folder that exists."""
    found = links(README)
    assert found, "the README links its guides"
    for target in found:
        assert target.startswith(("https://", "#")), target
        for prefix in (BLOB, TREE):
            if target.startswith(prefix):
                path = target.removeprefix(prefix).partition("#")[0]
                assert (ROOT / path).exists(), target


def test_the_readme_points_at_nothing_outside_the_repository() -> None:
    """It named the team workspace's `../shared/BRIEF.md`, which no reader has."""
    assert "../" not in README and "BRIEF" not in README


def test_the_project_urls_name_the_repository_the_sarif_output_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    urls = project["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Repository", "Issues"}
    assert all(url.startswith(INFORMATION_URI) for url in urls.values()), urls
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text().splitlines()[1]


# --- the built distributions ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel of this tree, built as a release is (`python -m build`), once
    for the test run (tests/test_lock.py installs the same wheel)."""
    out, done = shared.distributions(tmp_path_factory)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def wheel_of(dist: Path) -> Path:
    [wheel] = dist.glob("synthgov-*.whl")
    return wheel


@pytest.mark.slow
def test_the_distributions_pass_twine_check_strict(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir())
    assert len(files) == 2, files
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


@pytest.mark.slow
def test_the_wheel_ships_the_license_urls_and_classifiers(dist: Path) -> None:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        names = wheel.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(wheel.read(metadata).decode())
        [license_file] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    assert meta["License-Expression"] == "Apache-2.0"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Documentation", "Repository", "Issues"}
    assert "Programming Language :: Python :: 3.11" in meta.get_all("Classifier")
    assert meta["Description-Content-Type"] == "text/markdown"
    assert set(meta.get_all("Provides-Extra")) >= {"evaluate", "dp"}
    core = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert not [r for r in core if re.match(r"(pandas|scikit-learn|opendp|numba|pyarrow)", r)]


@pytest.mark.slow
def test_the_demo_runs_from_the_installed_wheel_not_only_from_a_checkout(
    dist: Path, tmp_path: Path
) -> None:
    """It validated `Path(__file__).parent.parent`, the checkout: from site-packages that is
    no governance repository. The wheel, installed without its dependencies (this
    interpreter has the evaluate extra), run from elsewhere with the checkout off the path."""
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    done = subprocess.run(
        [*pip, str(wheel_of(dist))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shipped = sorted(
        str(p.relative_to(target / "synthgov" / "example"))
        for p in target.rglob("example/**/*.yaml")
    )
    assert shipped == sorted(
        str(p.relative_to(ROOT))
        for name in ("policy", "datasets", "budgets")
        for p in (ROOT / name).rglob("*.yaml")
    )
    script = (
        "import runpy, synthgov, sys\n"
        f"assert synthgov.__file__.startswith({str(target)!r}), synthgov.__file__\n"
        "runpy.run_module('synthgov.demo', run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "# the worked example shipped with synthgov" in done.stdout
    assert "synthgov validate: 6 file(s) valid" in done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith("verdict: PASS - all 18 steps")
