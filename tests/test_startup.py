"""The gate starts fast because a run imports only what it uses (BRIEF §7).

Each test runs the real CLI in a fresh interpreter and asserts on `sys.modules` afterwards,
never on time (the figures are in docs/benchmarks.md, "check"): the models of the file
kinds the run reads and nothing else, one output format, cryptography only to verify an
SSH signature, and none of the packages of `evaluate`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from synthgov.cli import cli
from tests.helpers import ROOT
from tests.helpers.cli import fresh_python
from tests.helpers.repos import add_release
from tests.helpers.samples import RELEASE

#: Never imported by `check`, `validate` or `--help`: the measuring and rendering stacks.
NEVER = (
    "pandas",
    "numpy",
    "sklearn",
    "scipy",
    "numba",
    "opendp",
    "dask",
    "pyarrow",
    "matplotlib",
    "rich",
    "jsonschema",
    "git",  # GitPython: synthgov runs the git binary
)
#: The models of the file kinds a release's pull request does not contain.
ABSENT_KINDS = ("audit", "checkpoint", "revalidation", "revocation")
#: The output formats other than the default text.
OTHER_FORMATS = ("json", "markdown", "github", "sarif", "junit", "gitlab")

PROBE = (
    "import json, sys\n"
    "from synthgov.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps([code, sorted(sys.modules)]))\n"
)


def imports_of(cwd: Path, *args: str) -> tuple[int, set[str], str]:
    """(exit code, every module imported, what the command printed) of `synthgov ARGS`."""
    done = fresh_python(PROBE, cwd, *args)
    *printed, last = done.stdout.splitlines() or [""]
    assert last.startswith("["), done.stdout + done.stderr
    code, modules = json.loads(last)
    return code, set(modules), "\n".join(printed)


def packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_check_of_a_release_imports_only_the_models_and_format_it_uses(base: Path) -> None:
    add_release(base)  # signed (ssh-keygen) approvals of ada and chen
    code, modules, printed = imports_of(base, "check", "--base", "main")
    assert code == 0, printed
    used = ("policy", "reviewers", "card", "manifest", "report", "approval", "ledger")
    assert {f"synthgov.models.{kind}" for kind in used} <= modules
    assert not {f"synthgov.models.{kind}" for kind in ABSENT_KINDS} & modules
    assert "synthgov.reporting.text" in modules
    assert not {f"synthgov.reporting.{fmt}" for fmt in OTHER_FORMATS} & modules
    assert "cryptography" in packages(modules)  # the two SSH signatures were verified
    assert not set(NEVER) & packages(modules)
    commands = {m for m in modules if m.startswith("synthgov.commands.")}
    assert commands == {"synthgov.commands.check"}
    assert "synthgov.expressions" not in modules  # no card changed: no rule to parse
    assert "synthgov.metrics.evaluation" not in modules


def test_check_with_no_signature_to_verify_never_imports_cryptography(base: Path) -> None:
    add_release(base, approved_by=())
    code, modules, printed = imports_of(base, "check", "--base", "main", "--format", "json")
    assert code == 1, printed  # blocked: the approvals are missing
    assert json.loads(printed)["verdict"] == "blocked"
    assert "cryptography" not in packages(modules)
    assert "synthgov.reporting.json" in modules
    assert "synthgov.reporting.text" not in modules
    assert not set(NEVER) & packages(modules)


def test_validate_of_one_manifest_imports_no_model_it_does_not_read(base: Path) -> None:
    add_release(base)
    code, modules, printed = imports_of(base, "validate", f"{RELEASE}/manifest.yaml")
    assert code == 0, printed
    assert {"synthgov.models.manifest", "synthgov.models.policy"} <= modules
    unread = ("report", "approval", "ledger", "reviewers", *ABSENT_KINDS)
    assert not {f"synthgov.models.{kind}" for kind in unread} & modules
    assert "cryptography" not in packages(modules)
    assert not set(NEVER) & packages(modules)
    assert {m for m in modules if m.startswith("synthgov.commands.")} == {
        "synthgov.commands.validate"
    }


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    code, modules, printed = imports_of(tmp_path, "--help")
    assert code == 0
    assert not {m for m in modules if m.startswith("synthgov.commands")}
    assert not {"pydantic", "yaml", "cryptography", *NEVER} & packages(modules)
    section = printed.split("Commands:\n")[1].split("\n\n")[0]
    listed = {line.split()[0] for line in section.splitlines() if re.match(r"  \S", line)}
    assert listed == set(cli.commands)
    for name, command in cli.commands.items():
        summary = command.get_short_help_str(limit=1000)
        assert summary.split()[0] in printed.split(f"  {name} ", 1)[1].split("\n")[0], name


def test_the_kind_registry_imports_a_model_only_when_its_kind_is_looked_up() -> None:
    probe = (
        "import json, sys\n"
        "from synthgov import models\n"
        "kinds = list(models.KINDS)\n"
        "before = sorted(m for m in sys.modules if m.startswith('synthgov.models.'))\n"
        "ledger = models.KINDS['ledger']\n"
        "after = sorted(m for m in sys.modules if m.startswith('synthgov.models.'))\n"
        "print(json.dumps([kinds, before, after, ledger.__module__, ledger is models.Ledger]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    kinds, before, after, module, same = json.loads(done.stdout)
    assert kinds[:3] == ["policy", "reviewers", "card"] and len(kinds) == 12
    assert before == []
    assert "synthgov.models.ledger" in after and "synthgov.models.card" not in after
    assert module == "synthgov.models.ledger" and same


def test_every_model_the_package_names_is_its_kinds_class() -> None:
    from synthgov import models

    for kind, model in models.KINDS.items():
        assert model.__module__ == f"synthgov.models.{kind}"
        assert getattr(models, model.__name__) is model
    assert sorted(models.__all__) == sorted(["KINDS", *(m.__name__ for m in models.KINDS.values())])
    with pytest.raises(AttributeError, match="Nothing"):
        models.Nothing  # noqa: B018


def test_a_command_group_is_listed_in_help_by_its_own_group(tmp_path: Path) -> None:
    groups = [name for name, c in cli.commands.items() if isinstance(c, click.Group)]
    assert groups  # budget, dataset, reviewer, waiver, ...
    code, modules, printed = imports_of(tmp_path, groups[0], "--help")
    assert code == 0
    assert not {m for m in modules if m.startswith("synthgov.commands")}
    group = cli.commands[groups[0]]
    assert isinstance(group, click.Group)
    for name in group.commands:
        assert f"  {name} " in printed or f"  {name}\n" in printed


def test_check_of_a_release_lists_the_bases_releases_once_and_asks_the_merge_base_once(
    base: Path, tmp_path: Path
) -> None:
    """Each git process costs a fork and an exec, and listing datasets/ reads every release's
    folder: the head's names are derived from the base's (docs/benchmarks.md, "check")."""
    add_release(base)
    trace = tmp_path / "git-trace.log"
    done = subprocess.run(
        [sys.executable, "-m", "synthgov", "check", "--base", "main"],
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GIT_TRACE": str(trace)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [
        line.split("trace: built-in: git ", 1)[1]
        for line in trace.read_text().splitlines()
        if "trace: built-in: git " in line
    ]
    listings = [c for c in commands if c.startswith("ls-tree") and c.endswith(" -- datasets/")]
    assert len(listings) == 1, commands  # the base's; the head's is the base's plus the diff
    assert len([c for c in commands if c.startswith("merge-base")]) == 1, commands
    assert len(commands) <= 12, commands  # today 11 (13 before session 7)


#: Modules a check of a release that changes no policy never needs: other commands' work
#: (audit, status, catalog, locks, scaffolding, signing, debits), the policy impact, and
#: everything of `evaluate` beside the three pure modules the gate reads reports with.
NOT_FOR_CHECK = (
    "synthgov.audit",
    "synthgov.decision.impact",
    "synthgov.decision.status",
    "synthgov.decision.schedule",
    "synthgov.decision.prediction",
    "synthgov.decision.waiver_drafts",
    "synthgov.inventory",
    "synthgov.lockfile",
    "synthgov.demo",
    "synthgov.examples",
    "synthgov.expressions",
    "synthgov.files.schemas",
    "synthgov.files.registry",
    "synthgov.files.writing",
    "synthgov.budget.debits",
    "synthgov.signing.signer",
)
#: The metric modules the gate and the report page read reports with (no numpy, no pandas).
PURE_METRICS = ("synthgov.metrics", "synthgov.metrics.metric_ids", "synthgov.metrics.intervals")


def test_check_that_changes_no_policy_imports_no_module_of_another_command(base: Path) -> None:
    add_release(base)
    code, modules, printed = imports_of(base, "check", "--base", "main")
    assert code == 0, printed
    unneeded = {m for m in modules if m.startswith(NOT_FOR_CHECK)}
    assert unneeded == set(), unneeded
    metrics = {m for m in modules if m.startswith("synthgov.metrics")}
    assert metrics <= {*PURE_METRICS, "synthgov.metrics.cells"}, metrics
    assert "synthgov.commands.check" in modules  # the probe saw the run


PLUGIN_PROBE = (
    "import json, os, sys\n"
    "from synthgov.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "from pydantic.plugin import _loader\n"
    "scanned = _loader._plugins is not None\n"  # pydantic's cache of the entry-point scan
    "print(json.dumps([code, scanned, os.environ.get('PYDANTIC_DISABLE_PLUGINS')]))\n"
)


def plugin_lookup(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, bool, str | None]:
    """(exit code, whether pydantic scanned the installed distributions for plugins, the
    variable's value after the run) of `synthgov ARGS` in a fresh interpreter."""
    done = fresh_python(PLUGIN_PROBE, cwd, *args, env=env)
    code, scanned, value = json.loads(done.stdout.splitlines()[-1])
    return code, scanned, value


def test_the_cli_skips_pydantic_plugins_unless_the_user_set_the_variable(base: Path) -> None:
    """synthgov uses no pydantic plugin; an installed one would run inside the gate's
    validation and the scan costs start-up time. A user's own setting, even empty, wins;
    a caller in the same process gets its environment back as it was (the variable unset
    again: its own later models, and the processes it starts, are not changed by a run)."""
    add_release(base)
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    manifest = f"{RELEASE}/manifest.yaml"
    assert plugin_lookup(base, env, "validate", manifest) == (0, False, None)
    user = {**env, "PYDANTIC_DISABLE_PLUGINS": ""}
    assert plugin_lookup(base, user, "validate", manifest) == (0, True, "")


def test_a_run_collects_garbage_rarely_and_gives_a_caller_its_thresholds_back(
    base: Path,
) -> None:
    """Start-up creates objects that live to the end: with Python's thresholds a `validate`
    searched them for cycles some 40 times, now at most twice; a caller in the same
    process (a test, a benchmark) gets its own thresholds back."""
    add_release(base)
    probe = (
        "import gc, json, sys\n"
        "from synthgov.cli import main\n"
        "gc.set_threshold(701, 11, 12)\n"
        "before = [s['collections'] for s in gc.get_stats()]\n"
        "code = main(sys.argv[1:])\n"
        "after = [s['collections'] for s in gc.get_stats()]\n"
        "print(json.dumps([code, after[0] - before[0], gc.get_threshold()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "validate", f"{RELEASE}/manifest.yaml"],
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    code, collections, thresholds = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stdout + done.stderr
    assert collections <= 2
    assert thresholds == [701, 11, 12]
