"""`synthgov init`, the workflows synthgov ships or scaffolds, and its pre-commit hooks.

Everything runs for real: the CLI on real directories, the linters the BRIEF names
(§10.17) as subprocesses, and pre-commit installing synthgov from a clone of this tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from synthgov import __version__
from synthgov.commands.init import REPOSITORY_PLACEHOLDER, TEMPLATES
from synthgov.files.schemas import json_schema
from synthgov.models import KINDS
from tests.helpers import ROOT, samples, shared
from tests.helpers.cli import Synthgov
from tests.helpers.git import git
from tests.helpers.linters import actionlint

BIN = Path(sys.executable).parent
TEMPLATE_DIR = ROOT / "synthgov" / "templates"
EXPECTED = [
    *TEMPLATES,
    "datasets/.gitkeep",
    "budgets/.gitkeep",
    *(f".synthgov/schemas/{kind}.json" for kind in KINDS),
]
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}$")


def all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def scaffolded(tmp_path: Path, synthgov: Synthgov) -> Path:
    target = tmp_path / "gov"  # does not exist yet: init creates it
    result = synthgov("init", "--no-lock", str(target))
    assert result.code == 0, result.err
    return target


def test_init_writes_every_file_and_validates(scaffolded: Path, synthgov: Synthgov) -> None:
    assert all_files(scaffolded) == set(EXPECTED)
    for path, name in TEMPLATES.items():
        if name in ("policy.yaml", "reviewers.yaml"):
            written = (scaffolded / path).read_text()
            if name == "policy.yaml":  # the one difference: a fresh repository id
                [line] = [x for x in written.splitlines() if x.startswith("repository: ")]
                written = written.replace(line, f"repository: {REPOSITORY_PLACEHOLDER}")
            assert written == (TEMPLATE_DIR / name).read_text()
    result = synthgov("validate", cwd=scaffolded)
    assert result.code == 0, result.out + result.err


def test_init_reports_what_it_wrote_and_next_steps(tmp_path: Path, synthgov: Synthgov) -> None:
    result = synthgov("init", str(tmp_path / "gov"))
    assert result.code == 0
    assert result.out == ""
    for step in ("synthgov reviewer add", "synthgov dataset new", "synthgov budget new"):
        assert step in result.err
    assert ".github/workflows/synthgov.yml" in result.err


def test_init_says_a_policy_admin_must_be_registered_in_the_first_commit(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    """Registering a policy-admin later is a change to policy/ that only a policy-admin can
    approve: a repository that starts without one locks itself out of its own policy."""
    target = tmp_path / "gov"
    result = synthgov("init", "--no-lock", str(target))
    steps = result.err.split("Next steps:", 1)[1]
    first = steps.split("  2.", 1)[0]
    assert "--role policy-admin" in first and "first commit" in first, steps
    assert "can never change its policy again" in first
    registry = (target / "policy/reviewers.yaml").read_text()
    assert "policy-admin in the repository's first commit" in registry
    policy = (target / "policy/policy.yaml").read_text()
    assert "register one in the first commit" in policy.split("policy_changes:", 1)[0]
    validated = synthgov("validate", cwd=target)
    assert validated.code == 0
    assert "warning: no reviewer holds the role policy-admin" in validated.err


def test_a_scaffold_with_a_policy_admin_validates_without_the_warning(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    target = tmp_path / "gov"
    assert synthgov("init", "--no-lock", str(target)).code == 0
    samples.ssh_key(tmp_path, "ada")
    added = synthgov(
        "reviewer",
        "add",
        "ada",
        "--name",
        "Ada",
        "--email",
        "ada@example.org",
        "--role",
        "policy-admin",
        "--key",
        str(tmp_path / "ada.pub"),
        cwd=target,
    )
    assert added.code == 0, added.err
    validated = synthgov("validate", cwd=target)
    assert validated.code == 0 and "warning" not in validated.err, validated.err


def test_init_defaults_to_the_current_directory(tmp_path: Path, synthgov: Synthgov) -> None:
    assert synthgov("init", "--no-lock", cwd=tmp_path).code == 0
    assert all_files(tmp_path) == set(EXPECTED)


def test_init_refuses_when_a_file_exists_and_writes_nothing(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    custom = b"# our own policy\nschema_version: 1\n"
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "policy.yaml").write_bytes(custom)
    (tmp_path / ".pre-commit-config.yaml").write_bytes(b"repos: []\n")

    result = synthgov("init", "--no-lock", str(tmp_path))

    assert result.code == 2
    assert "policy/policy.yaml: already exists; nothing was written" in result.err
    assert ".pre-commit-config.yaml: already exists" in result.err
    assert "--skip-existing" in result.err
    assert "Traceback" not in result.err
    assert all_files(tmp_path) == {"policy/policy.yaml", ".pre-commit-config.yaml"}
    assert (tmp_path / "policy" / "policy.yaml").read_bytes() == custom


def test_skip_existing_writes_the_rest_and_keeps_the_custom_file(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    custom = b"# our own policy\nschema_version: 1\n"
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "policy.yaml").write_bytes(custom)

    result = synthgov("init", "--no-lock", "--skip-existing", str(tmp_path))

    assert result.code == 0, result.err
    assert "kept" in result.err and "policy/policy.yaml" in result.err
    assert all_files(tmp_path) == set(EXPECTED)
    assert (tmp_path / "policy" / "policy.yaml").read_bytes() == custom


def test_init_refuses_to_write_through_a_symlink(tmp_path: Path, synthgov: Synthgov) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "gov"
    repo.mkdir()
    (repo / "policy").symlink_to(outside, target_is_directory=True)

    result = synthgov("init", "--no-lock", "--skip-existing", str(repo))

    assert result.code == 2
    assert "symbolic link" in result.err
    assert list(outside.iterdir()) == []
    assert all_files(repo) == set()


def test_init_refuses_a_file_as_directory(tmp_path: Path, synthgov: Synthgov) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    result = synthgov("init", "--no-lock", str(target))
    assert result.code == 2
    assert "Traceback" not in result.err


def test_schemas_are_the_exported_ones_and_modelines_resolve(scaffolded: Path) -> None:
    for kind in KINDS:
        written = json.loads((scaffolded / f".synthgov/schemas/{kind}.json").read_text())
        assert written == json.loads(json.dumps(json_schema(kind)))
    for path in ("policy/policy.yaml", "policy/reviewers.yaml"):
        first = (scaffolded / path).read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, first
        assert ((scaffolded / path).parent / match.group(1)).resolve().is_file()


def test_versions_are_pinned_to_this_release(scaffolded: Path) -> None:
    locked = (scaffolded / ".github/synthgov-requirements.in").read_text()
    hooks = yaml.safe_load((scaffolded / ".pre-commit-config.yaml").read_text())
    assert [line for line in locked.splitlines() if not line.startswith("#")] == [
        f"synthgov[dp]=={__version__}"
    ]
    for path in EXPECTED:
        assert "@SYNTHGOV_" not in (scaffolded / path).read_text(), path
    assert hooks["repos"][0]["rev"] == f"v{__version__}"  # the release's tag (docs/ci.md)
    assert [h["id"] for h in hooks["repos"][0]["hooks"]] == ["synthgov-validate", "synthgov-check"]


def test_codeowners_protects_the_trust_root(scaffolded: Path) -> None:
    owned = {
        line.split()[0]
        for line in (scaffolded / ".github/CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"/policy/", "/.github/workflows/", "/.pre-commit-config.yaml"} <= owned


def test_the_gate_workflow_has_the_required_shape(scaffolded: Path) -> None:
    workflow = yaml.safe_load((scaffolded / ".github/workflows/synthgov.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["merge_group"] == {"types": ["checks_requested"]}
    assert triggers["push"] == {"branches": ["main"]}
    assert "pull_request" in triggers
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["check"]
    assert "if" not in job and "continue-on-error" not in job
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    for step in steps:
        if "uses" in step and step["uses"] != "./.github/actions/synthgov":
            assert SHA_PINNED.match(step["uses"]), step["uses"]
        assert "${{" not in step.get("run", ""), "github context must reach run: through env:"
    gate = next(s for s in steps if s.get("uses") == "./.github/actions/synthgov")
    assert gate["with"] == {"sarif": "${{ runner.temp }}/synthgov.sarif"}


def test_the_scaffolded_action_is_the_published_one(scaffolded: Path) -> None:
    """The copy `init` writes and action.yml at this repository's root (what
    `uses: synthgov/synthgov@SHA` runs) are one file: the two cannot drift apart."""
    copy = (scaffolded / ".github/actions/synthgov/action.yml").read_bytes()
    assert copy == (ROOT / "action.yml").read_bytes()


def test_the_gate_installs_only_hash_checked_bytes(scaffolded: Path) -> None:
    """No step of the scaffolded CI installs a name from an index without its hash: whoever
    owns the name on the index would otherwise own the gate."""
    action = yaml.safe_load((scaffolded / ".github/actions/synthgov/action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["requirements"]["default"] == ".github/synthgov-requirements.txt"
    installs = [
        step["run"]
        for path in (
            ".github/actions/synthgov/action.yml",
            ".github/workflows/synthgov.yml",
            ".github/workflows/synthgov-revalidation.yml",
        )
        for step in all_steps(yaml.safe_load((scaffolded / path).read_text()))
        if "pip install" in step.get("run", "")
    ]
    assert len(installs) == 3  # the action, and both jobs of the revalidation workflow
    for run in installs:
        assert "--require-hashes" in run and " -r " in run, run
        assert "synthgov==" not in run, run
    assert "synthgov==" not in (scaffolded / ".github/workflows/synthgov.yml").read_text()


def all_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_sarif_goes_to_code_scanning_from_a_job_that_alone_writes_security_events(
    scaffolded: Path,
) -> None:
    """The required check holds a read-only token and never depends on the upload (refused
    to forks); the upload job holds security-events: write and nothing else it need not."""
    workflow = yaml.safe_load((scaffolded / ".github/workflows/synthgov.yml").read_text())
    assert list(workflow["jobs"]) == ["check", "code-scanning"]
    check, upload = workflow["jobs"]["check"], workflow["jobs"]["code-scanning"]
    assert "permissions" not in check and workflow["permissions"] == {"contents": "read"}
    assert upload["permissions"] == {
        "contents": "read",
        "actions": "read",
        "security-events": "write",
    }
    assert upload["needs"] == "check" and upload["if"] == "${{ !cancelled() }}"
    [sarif] = [s for s in upload["steps"] if "upload-sarif@" in s["uses"]]
    assert sarif["uses"].startswith("github/codeql-action/upload-sarif@")
    assert sarif["with"]["sarif_file"] == "synthgov.sarif"
    for step in upload["steps"]:
        assert SHA_PINNED.match(step["uses"]), step["uses"]


def test_dependabot_updates_the_action_pins_and_the_lock(scaffolded: Path) -> None:
    config = yaml.safe_load((scaffolded / ".github/dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    assert "/.github/actions/*" in updates["github-actions"]["directories"]
    assert updates["pip"]["directory"] == "/.github"


def test_init_with_an_action_sha_uses_the_published_action_pinned_by_commit(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    sha = SHA
    result = synthgov("init", "--no-lock", "--action-sha", sha, str(tmp_path / "gov"))
    assert result.code == 0, result.err
    text = (tmp_path / "gov/.github/workflows/synthgov.yml").read_text()
    assert f"uses: synthgov/synthgov@{sha} # v{__version__}\n" in text
    assert not (tmp_path / "gov/.github/actions").exists()
    for bad in ("v0.1.0", "0123456", sha.upper()):
        refused = synthgov("init", "--no-lock", "--action-sha", bad, str(tmp_path / bad))
        assert refused.code == 2 and "full commit sha" in refused.err
        assert not (tmp_path / bad).exists()


def shipped_workflows() -> list[Path]:
    found = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert found, "the project ships its CI workflow"
    return found


SHA = "0123456789abcdef0123456789abcdef01234567"


def lint_targets(tmp_path: Path, synthgov: Synthgov) -> list[tuple[str, Path]]:
    """Every CI file shipped or scaffolded, with check-jsonschema's schema for its kind: both
    scaffolds (the action copied, and the published action pinned by commit sha)."""
    assert synthgov("init", "--no-lock", str(tmp_path / "gov")).code == 0
    assert synthgov("init", "--no-lock", "--action-sha", SHA, str(tmp_path / "pinned")).code == 0
    github = tmp_path / "gov" / ".github"
    return [
        *(("vendor.github-workflows", path) for path in shipped_workflows()),
        ("vendor.github-workflows", github / "workflows" / "synthgov.yml"),
        ("vendor.github-workflows", github / "workflows" / "synthgov-revalidation.yml"),
        ("vendor.github-workflows", tmp_path / "pinned/.github/workflows/synthgov.yml"),
        ("vendor.github-actions", ROOT / "action.yml"),
        ("vendor.github-actions", github / "actions" / "synthgov" / "action.yml"),
        ("vendor.dependabot", github / "dependabot.yml"),
    ]


def run_tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def test_workflows_action_and_dependabot_validate_against_their_schemas(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    for schema, path in lint_targets(tmp_path, synthgov):
        done = run_tool(BIN / "check-jsonschema", "--builtin-schema", schema, path)
        assert done.returncode == 0, f"{path}\n{done.stdout}{done.stderr}"


def test_workflows_action_and_dependabot_pass_zizmor(tmp_path: Path, synthgov: Synthgov) -> None:
    """zizmor audits each kind (a workflow, a composite action, dependabot.yml) by its
    path, so each file is linted where GitHub reads it."""
    for _, path in lint_targets(tmp_path, synthgov):
        done = run_tool(
            BIN / "zizmor",
            "--offline",
            "--no-config",
            "--min-severity",
            "medium",
            "--format",
            "json",
            path,
        )
        assert done.returncode == 0, f"{path}\n{done.stdout}{done.stderr}"
        assert json.loads(done.stdout) == [], path


def test_workflows_shipped_and_scaffolded_pass_actionlint(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    """actionlint (expressions, job and step keys, shell scripts' interpolation) on every
    workflow; a workflow that pastes an issue title into a script is the control that the
    linter runs and reports."""
    workflows = [p for kind, p in lint_targets(tmp_path, synthgov) if kind.endswith("workflows")]
    assert len(workflows) >= 4
    for path in workflows:
        assert actionlint(path) == [], path
    control = tmp_path / "control.yml"
    control.write_text(
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    assert [f["kind"] for f in actionlint(control)] == ["expression"]


def test_hook_manifest_and_configs_are_valid_for_pre_commit(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    assert synthgov("init", "--no-lock", str(tmp_path / "gov")).code == 0
    checks = [
        ("validate-manifest", ROOT / ".pre-commit-hooks.yaml"),
        ("validate-config", ROOT / ".pre-commit-config.yaml"),
        ("validate-config", tmp_path / "gov" / ".pre-commit-config.yaml"),
    ]
    for command, path in checks:
        done = run_tool(BIN / "pre-commit", command, path)
        assert done.returncode == 0, f"{path}\n{done.stdout}{done.stderr}"
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"synthgov-validate", "synthgov-check"}
    assert hooks["synthgov-check"]["stages"] == ["pre-push", "manual"]
    assert hooks["synthgov-check"]["pass_filenames"] is False
    assert hooks["synthgov-check"]["always_run"] is True


def test_the_check_hook_runs_on_demand_rather_than_skipping_with_nothing_staged(
    tmp_path: Path, repo: Path, synthgov: Synthgov
) -> None:
    """`pre-commit run synthgov-check --hook-stage manual`, as the scaffolded config's comment
    says, on a clean tree: pre-commit skips a hook with no matching files unless it always
    runs. The hook as the manifest defines it, run by this interpreter (no install)."""
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    [hook] = [
        h
        for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
        if h["id"] == "synthgov-check"
    ]
    hook.pop("minimum_pre_commit_version")
    hook.pop("additional_dependencies")  # this interpreter has the dp extra; system takes none
    local = {
        **hook,
        "language": "system",
        "entry": hook["entry"].replace("synthgov ", f"{sys.executable} -m synthgov ", 1),
    }
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "synthgov init")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [str(BIN / "pre-commit"), "run", "synthgov-check", "--hook-stage", "manual"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert "Skipped" not in output, output
    assert done.returncode == 0 and re.search(r"synthgov check\.+Passed", output), output


# --- pre-commit installs synthgov from a clone of this tree --------------------------------


def clone_of_this_tree(dest: Path) -> Path:
    """A git repository holding this working tree (committed HEAD plus uncommitted changes)."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "synthgov under test")
    return dest


#: The user's pip cache, read before the isolated HOME replaces it: pre-commit's own venv
#: then installs the wheels `make test` already downloaded instead of fetching them again.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")


@pytest.fixture
def hook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A clone of this tree and a pre-commit home holding its validate hook's environment,
    which pre-commit builds from the clone (`install-hooks`) once for the test run: both
    hook tests read it (its build is most of their time)."""

    def install(folder: Path) -> None:
        hook_repo = clone_of_this_tree(folder / "synthgov-src")
        governance = folder / "governance"
        governance.mkdir()
        git(governance, "init", "-q", "-b", "main")
        pin_the_validate_hook(governance, hook_repo)
        done = pre_commit(governance, folder / "home", "install-hooks")
        assert done.returncode == 0, done.stdout + done.stderr

    folder = shared.once(tmp_path_factory, "pre-commit-hook", install)
    return folder / "synthgov-src", folder / "home"


def pin_the_validate_hook(governance: Path, hook_repo: Path) -> None:
    """A `.pre-commit-config.yaml` running the validate hook of `hook_repo` at its HEAD."""
    config = {
        "repos": [
            {
                "repo": str(hook_repo),
                "rev": git(hook_repo, "rev-parse", "HEAD").strip(),
                "hooks": [{"id": "synthgov-validate"}],
            }
        ]
    }
    (governance / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))


def pre_commit(governance: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_CACHE_DIR": PIP_CACHE, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=governance,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_pre_commit_hook_passes_a_scaffold_and_fails_a_broken_card(
    repo: Path, synthgov: Synthgov, hook: tuple[Path, Path]
) -> None:
    hook_repo, home = hook
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    pin_the_validate_hook(repo, hook_repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "synthgov init")

    done = pre_commit(repo, home, "run", "synthgov-validate", "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"synthgov validate\.+Passed", output), output

    card = repo / "datasets" / "broken" / "card.yaml"
    card.parent.mkdir()
    card.write_text("schema_version: 1\nid: broken\nclassification: top-secret\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a broken card")

    done = pre_commit(repo, home, "run", "synthgov-validate", "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert re.search(r"synthgov validate\.+Failed", output), output
    assert "datasets/broken/card.yaml" in output


@pytest.mark.slow
def test_the_validate_hook_installs_the_core_only_under_100_mb(
    repo: Path, synthgov: Synthgov, hook: tuple[Path, Path]
) -> None:
    """It used to install 1.1 GB (pandas, scikit-learn, SciPy, pyarrow, numba, OpenDP) to
    validate YAML files. pre-commit builds the hook's environment from a clone of this tree;
    its size is the whole venv, pip included (docs/ci.md quotes the figure)."""
    hook_repo, home = hook
    assert synthgov("init", "--no-lock", str(repo)).code == 0
    pin_the_validate_hook(repo, hook_repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "synthgov init")
    for args in (["install-hooks"], ["run", "synthgov-validate", "--all-files"]):
        done = pre_commit(repo, home, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    [venv] = home.glob("repo*/py_env-*")
    files = [p for p in venv.rglob("*") if p.is_file() and not p.is_symlink()]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    print(f"the validate hook's environment: {megabytes:.0f} MB")
    assert megabytes < 100
    site = (
        venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )
    heavy = ("pandas", "sklearn", "scipy", "pyarrow", "numba", "opendp")
    assert not [name for name in heavy if (site / name).exists()]
    # a real core install: a command that needs an extra names it (tests/test_extras.py)
    tables = ("--real", "c.csv", "--holdout", "c.csv", "--synthetic", "c.csv", "-o", "r.json")
    (repo / "c.csv").write_text("a\n1\n")
    done = subprocess.run(
        [str(venv / "bin" / "synthgov"), "evaluate", "--card", "c.csv", *tables],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    needs = "synthgov evaluate needs the evaluate extra: pip install 'synthgov[evaluate]'\n"
    assert (done.returncode, done.stderr) == (2, needs)


def test_init_honours_dash_c(tmp_path: Path, synthgov: Synthgov) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = synthgov("-C", str(elsewhere), "init", "--no-lock", "gov", cwd=tmp_path)
    assert result.code == 0, result.err
    assert (elsewhere / "gov" / "policy" / "policy.yaml").is_file()
    assert not (tmp_path / "gov").exists() and not (tmp_path / "policy").exists()


def test_init_draws_a_fresh_repository_id_for_each_repository(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    """Approvals sign the id: two repositories scaffolded alike must not share one."""
    ids = []
    for name in ("one", "two"):
        assert synthgov("init", "--no-lock", str(tmp_path / name)).code == 0
        policy = yaml.safe_load((tmp_path / name / "policy/policy.yaml").read_text())
        ids.append(policy["repository"])
    assert len(set(ids)) == 2 and REPOSITORY_PLACEHOLDER not in ids


def test_init_into_a_name_too_long_for_the_file_system_is_a_one_line_error(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    result = synthgov("init", "--no-lock", str(tmp_path / ("a" * 300)))
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"{tmp_path / ('a' * 300)}: cannot write: File name too long"
    ]


def test_init_into_a_dangling_symlink_is_refused_and_writes_nothing(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    (tmp_path / "gov").symlink_to(tmp_path / "elsewhere")
    for extra in ((), ("--skip-existing",)):
        result = synthgov("init", "--no-lock", *extra, str(tmp_path / "gov"))
        assert result.code == 2 and "internal error" not in result.err
        assert result.err.strip().splitlines() == [
            f"{tmp_path / 'gov'}: is a symbolic link to nothing; nothing was written"
        ]
    assert not (tmp_path / "elsewhere").exists()
