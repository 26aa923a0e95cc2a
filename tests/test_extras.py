"""The slim core and its extras: `pip install synthgov` runs the governance commands without
pandas, scikit-learn, SciPy, pyarrow, numba or OpenDP, and a command that needs one of them
says in one line which extra to install (exit 2), never a traceback.

A missing extra is simulated by a subprocess whose imports of the extra's modules fail, as
they do when the module is not installed (ModuleNotFoundError, found by no finder); the
measured install of the core wheel is in tests/test_init.py's pre-commit test.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from synthgov.extras import EXTRA_OF_MODULE
from tests.helpers import samples
from tests.helpers.repos import add_release

ROOT = Path(__file__).resolve().parent.parent
EVALUATE = sorted(m for m, extra in EXTRA_OF_MODULE.items() if extra == "evaluate")
EVERY_EXTRA = sorted(EXTRA_OF_MODULE)

#: Runs synthgov's CLI with the named top-level modules not importable.
WITHOUT = """
import sys

class NotInstalled:
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled(sys.argv[1].split(",")))
from synthgov.cli import main
sys.exit(main(sys.argv[2:]))
"""


def without(modules: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, ",".join(modules), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(done: subprocess.CompletedProcess[str], extra: str, command: str) -> None:
    expected = f"{command} needs the {extra} extra: pip install 'synthgov[{extra}]'\n"
    assert (done.returncode, done.stderr) == (2, expected), done.stdout + done.stderr


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_evaluate_without_the_evaluate_extra_names_it_instead_of_a_traceback(
    tmp_path: Path,
) -> None:
    for name in ("card.yaml", "real.csv", "holdout.csv", "synthetic.csv"):
        (tmp_path / name).write_text("a\n1\n")
    args = ["--real", "real.csv", "--holdout", "holdout.csv", "--synthetic", "synthetic.csv"]
    done = without(EVALUATE, "evaluate", "--card", "card.yaml", *args, "-o", "r.json", cwd=tmp_path)
    one_line(done, "evaluate", "synthgov evaluate")
    assert not (tmp_path / "r.json").exists()


def test_release_new_and_dataset_new_from_data_without_the_evaluate_extra_name_it(
    base: Path,
) -> None:
    release = ["release", "new", "claims", "2.0", "--synthetic", "s.csv", "--real", "r.csv"]
    release += ["--holdout", "h.csv", "--generator", "g", "--generator-version", "1"]
    release += ["--seed", "7"]
    one_line(without(EVALUATE, *release, cwd=base), "evaluate", "synthgov release new")
    card = ["dataset", "new", "x", "--owner", "o", "--classification", "public", "--source", "s"]
    done = without(EVALUATE, *card, "--from-data", "t.csv", cwd=base)
    one_line(done, "evaluate", "synthgov dataset new")


def test_check_without_opendp_exits_2_naming_the_dp_extra_rather_than_blocking_the_release(
    base: Path,
) -> None:
    """A zCDP debit under an (epsilon, delta) cap is converted by OpenDP: without it the gate
    cannot decide, which is the environment's fault, not a finding about the release."""
    zcdp = samples.MANIFEST.replace(
        "notion: approx, epsilon: 1.0, delta: 0.000001", "notion: zcdp, rho: 0.05"
    )
    assert zcdp != samples.MANIFEST
    add_release(base, manifest=zcdp)
    done = without(["opendp"], "check", "--base", "main", "--format", "json", cwd=base)
    one_line(done, "dp", "synthgov check")
    assert done.stdout == ""


def test_budget_views_without_opendp_name_the_dp_extra() -> None:
    """The worked example's wdbc ledger is zCDP: its (epsilon, delta) figure needs OpenDP."""
    for command in (["budget", "status"], ["status"]):
        done = without(["opendp"], "-C", str(ROOT), *command, cwd=ROOT)
        one_line(done, "dp", f"synthgov {' '.join(command)}")


def test_the_core_commands_run_with_no_extra_installed(base: Path) -> None:
    """validate (the pre-commit hook), schema and a check of a release whose budget needs no
    conversion: none imports a module of an extra."""
    add_release(base)
    assert without(EVERY_EXTRA, "validate", cwd=base).returncode == 0
    assert without(EVERY_EXTRA, "schema", "card", cwd=base).returncode == 0
    done = without(EVERY_EXTRA, "check", "--base", "main", "--format", "json", cwd=base)
    assert done.returncode in (0, 1) and done.stderr == "", done.stderr
    assert '"verdict"' in done.stdout


def test_the_core_install_brings_no_module_of_an_extra() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    core = names(project["dependencies"])
    for extra in ("evaluate", "dp"):
        assert not core & names(project["optional-dependencies"][extra]), extra


def test_each_extra_named_for_a_module_installs_that_module() -> None:
    """EXTRA_OF_MODULE against pyproject.toml: the extra the message names must bring the
    distribution that provides the module (numpy comes with pandas)."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    extras = project["optional-dependencies"]
    provided = importlib.metadata.packages_distributions()
    for module, extra in EXTRA_OF_MODULE.items():
        wanted = {d.lower() for d in provided[module]}
        if module == "numpy":
            wanted = {"pandas"}
        assert wanted & names(extras[extra]), (module, extra)


def test_the_check_hook_installs_the_dp_extra_and_the_validate_hook_does_not() -> None:
    """pre-commit installs synthgov's core for each hook; the gate needs OpenDP besides."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    dp = project["optional-dependencies"]["dp"]
    assert hooks["synthgov-check"]["additional_dependencies"] == dp
    assert "additional_dependencies" not in hooks["synthgov-validate"]


def test_the_demo_without_the_evaluate_extra_names_it(tmp_path: Path) -> None:
    script = WITHOUT.replace(
        "from synthgov.cli import main\nsys.exit(main(sys.argv[2:]))",
        "from synthgov.demo import run\nsys.exit(run())",
    )
    assert script != WITHOUT
    done = subprocess.run(
        [sys.executable, "-c", script, ",".join(EVALUATE)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line(done, "evaluate", "python -m synthgov.demo")
