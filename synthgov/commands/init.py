"""`synthgov init [DIR]`: scaffold a governance repository, never touching what exists.

Every target is computed before anything is written, so a refusal leaves the directory as
it was: a half-scaffolded repository (a workflow without its policy) would be worse than
none. The texts live in synthgov/templates/ and ship in the wheel.
"""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from pathlib import Path

import click

from synthgov import __version__, lockfile
from synthgov.errors import InputError, Location, Problem
from synthgov.files.paths import write_new
from synthgov.models import KINDS

#: Placeholder in the templates for the synthgov release that CI and pre-commit pin.
VERSION_PLACEHOLDER = "@SYNTHGOV_VERSION@"

#: The template policy's repository id, replaced by a fresh random one in every scaffold.
REPOSITORY_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"

#: Placeholder in the gate workflow for the synthgov action it uses.
ACTION_PLACEHOLDER = "@SYNTHGOV_ACTION@"

#: The copy of the synthgov action that `init` writes, and how the workflow names it.
LOCAL_ACTION = ".github/actions/synthgov/action.yml"
LOCAL_ACTION_REF = "./.github/actions/synthgov"

#: The published action (action.yml at the root of this repository), pinned by commit.
ACTION_REPOSITORY = "synthgov/synthgov"

#: Target path -> template name, for the files copied from synthgov/templates/ (GitHub).
TEMPLATES = {
    "policy/policy.yaml": "policy.yaml",
    "policy/reviewers.yaml": "reviewers.yaml",
    ".github/workflows/synthgov.yml": "workflow.yml",
    ".github/workflows/synthgov-revalidation.yml": "revalidation-workflow.yml",
    LOCAL_ACTION: "action.yml",
    ".github/synthgov-requirements.in": "synthgov-requirements.in",
    ".github/dependabot.yml": "dependabot.yml",
    ".github/CODEOWNERS": "CODEOWNERS",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}

#: The same for `init --ci gitlab`: a .gitlab-ci.yml instead of .github/.
GITLAB_TEMPLATES = {
    "policy/policy.yaml": "policy.yaml",
    "policy/reviewers.yaml": "reviewers.yaml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
    ".gitlab/synthgov-requirements.in": "synthgov-requirements.in",
    ".gitlab/CODEOWNERS": "gitlab-CODEOWNERS",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}

#: The CI systems `init --ci` writes for: their templates, the folder of the lock, and
#: what to make required.
CI = {
    "github": (TEMPLATES, ".github", "Make `synthgov / check` a required status check of main"),
    "gitlab": (
        GITLAB_TEMPLATES,
        ".gitlab",
        'Turn on "Pipelines must succeed" for merge requests',
    ),
}

NEXT_STEPS = """\
Next steps:
  1. Register a policy-admin before the first commit, and commit them with the policy:
       synthgov reviewer add ID --name N --email E --role policy-admin --key KEY.pub
     Every later change to policy/ (the registry included) needs policy-admin approvals,
     so a repository whose first commit has none can never change its policy again.
  2. Review policy/policy.yaml and replace @your-org/privacy-admins in {codeowners}.
  3. synthgov reviewer add ID --name N --email E --role privacy-reviewer --key KEY.pub
     (and data-owner); `synthgov validate` warns while no policy-admin is registered.
  4. synthgov dataset new ID --owner O --classification C --source S --from-data TABLE
  5. synthgov budget new SOURCE --epsilon E --delta D
  6. {required} (docs/ci.md)."""


def template(name: str) -> bytes:
    """A template's bytes, with the running synthgov version pinned where it is named."""
    data = files("synthgov").joinpath("templates", name).read_bytes()
    return data.replace(VERSION_PLACEHOLDER.encode(), __version__.encode())


def action_ref(action_sha: str | None) -> str:
    """How the gate workflow names the synthgov action: the copy `init` writes, or the
    published one pinned by the full commit sha of its release tag (GitHub's hardening
    guidance: a tag can be moved, a commit cannot), with the tag beside it."""
    if action_sha is None:
        return LOCAL_ACTION_REF
    return f"{ACTION_REPOSITORY}@{action_sha} # v{__version__}"


def next_steps(ci: str) -> str:
    """What to do after `init`, for the CI system it wrote for."""
    _, folder, required = CI[ci]
    return NEXT_STEPS.format(codeowners=f"{folder}/CODEOWNERS", required=required)


def requirements_input(ci: str) -> str:
    """The path of the gate's requirements input for `ci` (its lock is beside it)."""
    return f"{CI[ci][1]}/synthgov-requirements.in"


def locked(source: str, text: bytes) -> bytes | str:
    """The lock of the requirements input `text`, resolved and hashed now (synthgov.lockfile),
    else why pip could not make it."""
    try:
        pins = lockfile.resolve(lockfile.requirements(text.decode()))
    except lockfile.LockUnavailable as exc:
        return str(exc)
    return lockfile.render(pins, source, lockfile.RUNNER_PYTHON).encode()


def scaffold(action_sha: str | None = None, ci: str = "github") -> dict[str, bytes]:
    """Every file `init` writes, by repository-relative path."""
    from synthgov.files.schemas import json_schema

    targets = {path: template(name) for path, name in CI[ci][0].items()}
    workflow = ".github/workflows/synthgov.yml"
    if workflow in targets:
        targets[workflow] = targets[workflow].replace(
            ACTION_PLACEHOLDER.encode(), action_ref(action_sha).encode()
        )
    if action_sha is not None:  # the published action: no copy of it
        del targets[LOCAL_ACTION]
    fresh = str(uuid.uuid4()).encode()  # approvals sign it: no two repositories share one
    targets["policy/policy.yaml"] = targets["policy/policy.yaml"].replace(
        REPOSITORY_PLACEHOLDER.encode(), fresh
    )
    targets["datasets/.gitkeep"] = b""
    targets["budgets/.gitkeep"] = b""
    for kind in KINDS:
        text = json.dumps(json_schema(kind), indent=2) + "\n"
        targets[f".synthgov/schemas/{kind}.json"] = text.encode()
    return targets


def _symlinked(root: Path, path: str) -> str | None:
    """The first component of `path` under `root` that is a symlink (write_new refuses them)."""
    current = root
    for part in Path(path).parts:
        current = current / part
        if current.is_symlink():
            return current.relative_to(root).as_posix()
    return None


def _refuse(directory: Path, paths: list[str], message: str) -> InputError:
    return InputError([Problem(Location(str(directory / path)), message) for path in paths])


def run(
    directory: Path,
    skip_existing: bool,
    action_sha: str | None = None,
    ci: str = "github",
    lock: bool = False,
) -> int:
    root = directory.absolute()
    if action_sha is not None and ci != "github":
        raise InputError.at("--action-sha", "names a GitHub action; it applies to --ci github only")
    targets = scaffold(action_sha, ci)
    source = requirements_input(ci)
    lock_target = lockfile.lock_path(source)
    candidates = [*targets, lock_target]  # the lock is resolved later, if nothing refuses
    try:
        if root.is_symlink() and not root.exists():
            raise InputError.at(
                str(directory), "is a symbolic link to nothing; nothing was written"
            )
        if root.exists() and not root.is_dir():
            raise InputError.at(str(directory), "not a directory")
        links = sorted({link for path in candidates if (link := _symlinked(root, path))})
        existing = [path for path in candidates if (root / path).exists()]
    except OSError as exc:  # a name too long for the file system
        raise InputError.at(str(directory), f"cannot write: {exc.strerror or exc}") from None
    if links:
        raise _refuse(directory, links, "is a symbolic link; nothing was written")
    if existing and not skip_existing:
        raise _refuse(
            directory,
            existing,
            "already exists; nothing was written "
            "(use --skip-existing to write only the missing files)",
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission
        raise InputError.at(
            str(directory), f"cannot create the directory: {exc.strerror or exc}"
        ) from None
    unlocked = None
    if lock_target in existing:
        pass
    elif not lock:
        unlocked = "--no-lock"
    elif source in existing:
        unlocked = f"{source} exists: lock that one"
    else:  # after every refusal (pip takes seconds), before anything is written
        made = locked(source, targets[source])
        if isinstance(made, bytes):
            targets[lock_target] = made
        else:
            unlocked = made
    written = [path for path in targets if path not in existing]
    for path in written:
        write_new(root, path, targets[path])
    for path in existing:
        click.echo(f"kept {directory / path} (exists)", err=True)
    click.echo(f"synthgov init: wrote {len(written)} file(s) in {directory}", err=True)
    for path in written:
        click.echo(f"  {path}", err=True)
    if unlocked is not None:  # one line: the gate installs nothing until the lock exists
        click.echo(
            f"synthgov init: {lock_target} not written ({unlocked}); make it with "
            f"`{lockfile.REFRESH}` once synthgov=={__version__} is on your index (docs/ci.md)",
            err=True,
        )
    click.echo(next_steps(ci), err=True)
    return 0
