"""Command-line declarations only: options, help, and a call into `synthgov.commands`.

Exit codes (BRIEF §6): 0 ok or compliant, 1 blocked by findings, 2 bad input or usage,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM, during `evaluate`: `synthgov.signals`).
Every error is one line per problem on stderr, never a traceback (`SYNTHGOV_DEBUG=1`
shows it). Command modules are imported inside each command so that start-up stays
fast and pandas, scikit-learn and OpenDP load only where they are needed.
"""

from __future__ import annotations

import atexit
import gc
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from synthgov import __version__

EXIT_OK, EXIT_BLOCKED, EXIT_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")


def _require(extra: str) -> None:
    """The command always needs `extra`: say so before reading any input (MissingExtra)."""
    from synthgov import extras

    extras.require(extra)


F = TypeVar("F", bound=Callable[..., Any])


def _tuning_options(command: F) -> F:
    """The runs on the real data before a release (`release new`, `budget debit`): the same
    four options, so the two commands record and debit tuning alike."""
    for option in reversed(
        (
            click.option(
                "--tuning-runs",
                type=click.IntRange(0),
                metavar="N",
                help="Runs of the generator on the real data before this one (tuning); 0: "
                "none. Their loss is debited with the release's.",
            ),
            click.option("--tuning-epsilon", metavar="E", help="Epsilon of each tuning run."),
            click.option("--tuning-delta", metavar="D", help="Delta of each tuning run."),
            click.option("--tuning-rho", metavar="R", help="Rho of each tuning run."),
        )
    ):
        command = option(command)
    return command


def _root(ctx: click.Context) -> Path:
    from synthgov.files.paths import find_root

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return find_root(start)


class Command(click.Command):
    """A command that names itself when it needs an extra that is not installed: an import of
    one of the extra's modules (`synthgov.extras`), or the `MissingExtra` the core raised.
    SIGTERM (a CI job cancelled) takes Ctrl-C's path through the command's clean-up and
    ends it as `Terminated` (`synthgov.signals`)."""

    def invoke(self, ctx: click.Context) -> Any:
        from synthgov.errors import MissingExtra
        from synthgov.signals import sigterm_as_interrupt

        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except MissingExtra as exc:
            exc.command = ctx.command_path
            raise
        except ImportError as exc:
            from synthgov import extras

            missing = extras.missing(exc)
            if missing is None:
                raise
            missing.command = ctx.command_path
            raise missing from exc


class Group(click.Group):
    command_class = Command
    group_class = type  # subgroups are Groups too, so their commands are Commands


@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 ok, 1 blocked by findings, 2 bad input or usage, 130 interrupted, 143 terminated (SIGTERM).",
)
@click.version_option(__version__, "-V", "--version", prog_name="synthgov")
@click.option(
    "-C",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run as if started in this directory (its repository root is used).",
)
def cli(directory: Path | None) -> None:
    """Govern synthetic-data releases in Git: cards, policy, budgets, approvals, audits."""


def _commit_sha(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A full commit sha (40 hex digits, lower case), as GitHub's pinning guidance asks."""
    if value is not None and not re.fullmatch(r"[0-9a-f]{40}", value):
        raise click.BadParameter("not a full commit sha (40 lower-case hex digits)")
    return value


@cli.command(short_help="Scaffold a governance repository.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--skip-existing", is_flag=True, help="Write the missing files, keep the existing ones."
)
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab"]),
    default="github",
    show_default=True,
    help="The CI system to write the gate for: GitHub Actions or GitLab CI/CD.",
)
@click.option(
    "--action-sha",
    metavar="SHA",
    callback=_commit_sha,
    help="Use the published synthgov action at this full commit sha (of the release tag) "
    "instead of a copy in .github/actions/ (docs/ci.md).",
)
@click.option(
    "--lock/--no-lock",
    default=True,
    show_default=True,
    help="Resolve and hash the gate's install now with pip (`synthgov lock`); --no-lock: "
    "write only its input, and lock later.",
)
@click.pass_context
def init(
    ctx: click.Context,
    /,
    directory: Path | None,
    skip_existing: bool,
    ci: str,
    action_sha: str | None,
    lock: bool,
) -> int:
    """Scaffold a governance repository in DIRECTORY (default: here).

    Writes policy/, datasets/, budgets/, the CI (GitHub: the workflows, the synthgov action
    they use, Dependabot's configuration; GitLab: .gitlab-ci.yml), the hash-locked
    requirements the gate installs and their input, CODEOWNERS and a pre-commit
    configuration. Refuses to overwrite any existing file. The lock is written only when
    pip can download this release and its dependencies now; otherwise init says how to
    make it.
    """
    from synthgov.commands import init as command

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return command.run(
        start / directory if directory else start,
        skip_existing=skip_existing,
        action_sha=action_sha,
        ci=ci,
        lock=lock,
    )


def _python_version(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from synthgov.lockfile import check_python_version

    try:
        return check_python_version(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _platforms(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    from synthgov.lockfile import check_platform

    try:
        return tuple(check_platform(tag) for tag in value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command(short_help="Make or refresh the gate's hash-locked requirements.")
@click.argument("input", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--python-version",
    metavar="X.Y",
    default="3.12",
    show_default=True,
    callback=_python_version,
    help="The Python CI runs the gate with (the action's python-version).",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="TAG",
    callback=_platforms,
    help="A wheel platform tag of the CI runner (repeatable; default: the manylinux tags "
    "of ubuntu-latest on x86_64).",
)
@click.pass_context
def lock(
    ctx: click.Context,
    /,
    input: Path | None,
    python_version: str,
    platforms: tuple[str, ...],
) -> int:
    """Lock the requirements INPUT (default: .github/synthgov-requirements.in, else
    .gitlab/'s) into the .txt beside it, which CI installs with pip --require-hashes.

    pip downloads the closure of INPUT for the CI runner from the index it is configured
    with; every package is pinned `==` with the sha256 of the file downloaded, computed
    here. The old lock is replaced only by a complete new one (docs/ci.md).
    """
    from synthgov.commands import lock as command

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return command.run(_root(ctx), start.absolute(), input, python_version, platforms)


@cli.command(short_help="Validate governance files and list every problem.")
@click.argument("paths", nargs=-1)
@click.pass_context
def validate(ctx: click.Context, /, paths: tuple[str, ...]) -> int:
    """Validate governance files (default: all under policy/, datasets/, budgets/).

    Prints every problem as `file:line:col: message`; exit 0 when all are valid, else 2.
    """
    from synthgov.commands import validate as command

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return command.run(_root(ctx), paths, start.absolute())


@cli.command(short_help="Print a file kind's JSON Schema, or list the kinds.")
@click.argument("kind", required=False)
def schema(kind: str | None) -> int:
    """Print the JSON Schema of a file KIND, or list the kinds."""
    from synthgov.commands import schema as command

    return command.run(kind)


FORMATS = ("text", "json", "markdown", "github", "sarif", "junit", "gitlab")


class FormatTarget(click.Choice[str]):
    """`FORMAT` or `FORMAT=PATH` (a format written to a file); completes as the formats."""

    name = "format"

    def __init__(self) -> None:
        super().__init__(FORMATS)

    def convert(  # type: ignore[override]
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, Path | None]:
        if isinstance(value, tuple):
            return value
        name, sep, path = str(value).partition("=")
        fmt = str(super().convert(name, param, ctx))
        if sep and not path:
            self.fail(f"{value!r} names no file after '='; write FORMAT or FORMAT=PATH", param, ctx)
        return fmt, Path(path) if sep else None


@cli.command(short_help="Decide whether this branch's releases may merge.")
@click.option(
    "--base",
    help="Trust root: policy and registry at this ref's tip (default: origin/HEAD, else main).",
)
@click.option(
    "--format",
    "formats",
    type=FormatTarget(),
    multiple=True,
    metavar="FORMAT[=PATH]",
    help=f"Report format ({', '.join(FORMATS)}; default text), to stdout, or to PATH as "
    "FORMAT=PATH. Repeat it to write several from one decision, e.g. --format github "
    "--format sarif=check.sarif. With github and $GITHUB_STEP_SUMMARY set, the Markdown "
    "summary is appended there.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the one report here instead of stdout (with several formats, use FORMAT=PATH).",
)
@click.option(
    "--no-git",
    is_flag=True,
    help="Check every release of the working tree against its own policy (pre-commit).",
)
@click.option(
    "--at",
    help="Judge key validity and waiver expiry at this ISO 8601 time instead of now (replay).",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="Instead of a diff: every release at HEAD past its card's revalidation cadence.",
)
@click.option(
    "--allow-missing-approvals",
    is_flag=True,
    help="Missing approvals warn instead of block (the pre-push hook: approvals come later).",
)
@click.option(
    "--pr-author",
    metavar="LOGIN",
    help="The code-host login that opened the pull request (CI passes the platform's): "
    "the reviewer registered with that login is an author of every release it changes.",
)
@click.pass_context
def check(
    ctx: click.Context,
    /,
    base: str | None,
    formats: tuple[tuple[str, Path | None], ...],
    output: Path | None,
    no_git: bool,
    at: str | None,
    allow_missing_approvals: bool,
    scheduled: bool,
    pr_author: str | None,
) -> int:
    """Decide whether the releases this branch adds or changes may merge.

    Exit 0 compliant, 1 blocked by findings, 2 when no decision is possible (bad usage,
    unknown base, a base policy or registry that cannot be loaded).
    """
    from synthgov import options
    from synthgov.commands import check as command

    if no_git and base:
        raise click.UsageError("--no-git checks the working tree; it takes no --base")
    return command.run(
        _root(ctx),
        base=base,
        formats=formats,
        output=output,
        no_git=no_git,
        at=options.instant(at, "--at"),
        allow_missing_approvals=allow_missing_approvals,
        scheduled=scheduled,
        pr_author=options.login(pr_author, "--pr-author"),
    )


TABLE = click.Path(dir_okay=False, path_type=Path)


@cli.command(short_help="Measure a synthetic table and write its report.")
@click.option("--card", required=True, type=TABLE, help="The dataset card (card.yaml).")
@click.option(
    "--real",
    required=True,
    metavar="TABLE",
    help="Real training table (CSV or Parquet; with --dask also a Parquet dataset: a folder, "
    "a glob or an fsspec URL).",
)
@click.option(
    "--holdout",
    required=True,
    metavar="TABLE",
    help="Real holdout table, never seen by the generator.",
)
@click.option("--synthetic", required=True, metavar="TABLE", help="The synthetic table to judge.")
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="REPORT",
    help="Where to write report.json ('-' for stdout); replaces only an earlier report.",
)
@click.option(
    "--seed",
    default=None,
    type=click.IntRange(0, 2**32 - 1),
    help="Seed of every sample, fold and random table; only where the policy's "
    "statistics.seed is `any` (default: derived from the tables' content).",
)
@click.option(
    "--sample",
    type=click.IntRange(100),
    metavar="N",
    help="Cap sampled work (DCR queries, detection rows, attack targets) at N rows.",
)
@click.option(
    "--html",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the release report page (self-contained HTML drawn from the report's "
    "aggregates); replaces only an earlier such page.",
)
@click.option(
    "--dask",
    "scheduler",
    metavar="SCHEDULER",
    help="Read and encode the tables on a Dask cluster: local, local:N (N worker processes) "
    "or a scheduler address such as tcp://host:8786 (needs the dask extra).",
)
@click.option(
    "--spill-dir",
    metavar="DIR",
    help="With --dask: the directory in which the client keeps the encoded tables on disk "
    "(a fresh folder, removed at the end; default: TMPDIR or /tmp).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr (for CI logs).")
@click.option(
    "--no-timings",
    "timings",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Leave out `seconds`, so that the same inputs give byte-identical reports.",
)
@click.pass_context
def evaluate(ctx: click.Context, /, output: str, **options: Any) -> int:
    """Measure a synthetic table against the real one and write the metric report.

    Schema and constraints against the card; fidelity, utility, privacy and subgroup
    metrics against the real training and holdout tables (docs/metrics.md).
    """
    _require("evaluate")
    from synthgov.commands import evaluate as command

    if options["scheduler"] is not None:
        _require("dask")
    here: Path = ctx.find_root().params.get("directory") or Path.cwd()
    paths: dict[str, Any] = {"card": here / options.pop("card")}
    for role in ("real", "holdout", "synthetic"):  # a URL stays a URL (only with --dask)
        given = options.pop(role)
        remote = options["scheduler"] is not None and "://" in given
        paths[role] = given if remote else here / given
    if output != "-":
        output = str(here / output)
    if options["html"] is not None:
        options["html"] = here / options["html"]
    if options["spill_dir"] is not None:
        options["spill_dir"] = here / options["spill_dir"]
    code: int = command.run(**paths, output=output, **options)
    return code


@cli.group(short_help="Dataset cards.")
def dataset() -> None:
    """Dataset cards."""


@dataset.command("new", short_help="Write a dataset card, its schema inferred from a table.")
@click.argument("dataset_id", metavar="ID")
@click.option("--owner", required=True, help="Owning team or email (free text).")
@click.option("--classification", required=True, type=click.Choice(CLASSIFICATIONS))
@click.option(
    "--source", required=True, help="Source dataset id; its ledger is budgets/SOURCE.yaml."
)
@click.option(
    "--from-data",
    "from_data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or Parquet table to infer the column schema from.",
)
@click.option("--target", help="Downstream target column (for utility metrics).")
@click.option("--title", help="Human title (default: derived from ID).")
@click.pass_context
def dataset_new(ctx: click.Context, /, dataset_id: str, **options: Any) -> int:
    """Write datasets/ID/card.yaml, inferring the schema from a table if given."""
    if options.get("from_data"):
        _require("evaluate")
    from synthgov.commands import dataset as command

    code: int = command.run_new(_root(ctx), dataset_id, **options)
    return code


@cli.group(short_help="The reviewer registry (policy/reviewers.yaml).")
def reviewer() -> None:
    """The reviewer registry (policy/reviewers.yaml)."""


@reviewer.command("add", short_help="Register a reviewer with a public key.")
@click.argument("reviewer_id", metavar="ID")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", "roles", required=True, multiple=True, help="Repeat for several roles.")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SSH public key (.pub) or ASCII-armoured OpenPGP public key.",
)
@click.option("--valid-after", help="ISO 8601 UTC time from which the key counts.")
@click.option("--valid-before", help="ISO 8601 UTC time until which the key counts.")
@click.option(
    "--also-email",
    "also_emails",
    multiple=True,
    metavar="EMAIL",
    help="Another address the reviewer writes or commits under; repeat for each.",
)
@click.option("--login", help="The reviewer's code-host login (for `check --pr-author`).")
@click.pass_context
def reviewer_add(ctx: click.Context, /, reviewer_id: str, **options: Any) -> int:
    """Register a reviewer with a public key (the key is parsed and fingerprinted)."""
    from synthgov.commands import reviewer as command

    code: int = command.run_add(_root(ctx), reviewer_id, **options)
    return code


@reviewer.command("revoke-key", short_help="Revoke a reviewer's key from a given time on.")
@click.argument("reviewer_id", metavar="ID")
@click.option("--fingerprint", required=True, help="The key's fingerprint as in the registry.")
@click.option("--at", help="When the revocation takes effect (ISO 8601; default: now).")
@click.option("--reason", required=True, help="Why, e.g. 'laptop stolen'.")
@click.pass_context
def reviewer_revoke_key(ctx: click.Context, /, reviewer_id: str, **options: Any) -> int:
    """Revoke a reviewer's key: no signature by it counts from --at on."""
    from synthgov.commands import reviewer as command

    return command.run_revoke_key(_root(ctx), reviewer_id, **options)


@cli.command(short_help="Approve or reject a release or a change, signed.")
@click.argument("release", metavar="DATASET@VERSION", required=False)
@click.option("--role", required=True, help="The role you approve in, e.g. privacy-reviewer.")
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SSH key to sign with (default: git's user.signingkey and gpg.format).",
)
@click.option(
    "--decision", type=click.Choice(["approve", "reject"]), default="approve", show_default=True
)
@click.option("--comment", help="Why; shown with the decision.")
@click.option("--waiver", help="Approve this waiver of the release instead of the release.")
@click.option("--policy", is_flag=True, help="Approve the change to policy/ on this branch.")
@click.option(
    "--card", metavar="DATASET", help="Approve the change to DATASET's card on this branch."
)
@click.option(
    "--budget",
    is_flag=True,
    help="Approve the change to privacy budgets on this branch (new ledgers, "
    "ledger headers, card sources).",
)
@click.option("--revocation", is_flag=True, help="Approve the release's revocation.")
@click.option("--replace", is_flag=True, help="Supersede your earlier approval file.")
@click.option("--no-commit", is_flag=True, help="Write the file only; commit it yourself.")
@click.pass_context
def approve(ctx: click.Context, /, release: str | None, no_commit: bool, **options: Any) -> int:
    """Approve (or reject) a release, a waiver, a revocation, or a change to policy/, a
    card or the privacy budgets, as a signed commit.

    The approval binds the release as committed at HEAD and carries its own signature,
    so it survives squash merges. Refuses (exit 1) an approval that would not count:
    an unregistered or expired key, a role you do not hold, a release you authored.
    """
    from synthgov.commands import approve as command

    return command.run(_root(ctx), release, commit=not no_commit, **options)


@cli.command(short_help="Show each dataset's releases, approvals and budget.")
@click.argument("dataset", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def status(ctx: click.Context, /, dataset: str | None, fmt: str) -> int:
    """Per dataset: the current approved release, pending and revoked ones, budget left,
    next revalidation; per release: its approvals present and missing."""
    from synthgov.commands import status as command

    return command.run(_root(ctx), dataset, fmt=fmt)


@cli.command(short_help="Write the static HTML catalog.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write to: new, empty, or an earlier catalog (replaced whole).",
)
@click.pass_context
def catalog(ctx: click.Context, /, out: Path) -> int:
    """Write the static HTML catalog: an index, a page per dataset, and catalog.json."""
    from synthgov.commands import catalog as command

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return command.run(_root(ctx), start / out)


@cli.command(short_help="Replay main's history and re-decide every release.")
@click.option(
    "--range",
    "revisions",
    metavar="REV",
    help="History to replay: REV or A..REV (default: origin/HEAD, else main).",
)
@click.option(
    "--at",
    help="Judge key validity and waiver expiry at this ISO 8601 time "
    "instead of each commit's committer time.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown", "html"]),
    default="json",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the evidence pack (audit.json, audit.md, audit.html) here.",
)
@click.option(
    "--checkpoint",
    is_flag=True,
    help="Sign and write a checkpoint of the audited head under audit/checkpoints/.",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SSH key for --checkpoint (default: git's user.signingkey).",
)
@click.option(
    "--since",
    metavar="CHECKPOINT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Judge only the commits after this signed checkpoint file, carrying its state "
    "(it must verify, else exit 2).",
)
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    revisions: str | None,
    at: str | None,
    fmt: str,
    out: Path | None,
    checkpoint: bool,
    key: Path | None,
    since: Path | None,
) -> int:
    """Replay main's first-parent history and re-decide every release at the policy,
    registry and clock of its time; report what reached main without passing.

    Exit 0 clean, 1 findings, 2 when no audit is possible.
    """
    from synthgov import options
    from synthgov.commands import audit as command

    start: Path = ctx.find_root().params.get("directory") or Path.cwd()
    return command.run(
        _root(ctx),
        revisions=revisions,
        at=options.instant(at, "--at"),
        fmt=fmt,
        out=start / out if out else None,
        checkpoint=checkpoint,
        key=key,
        since=start / since if since else None,
    )


@cli.group(short_help="Create releases from generator output.")
def release() -> None:
    """Create releases: from generator output to a release the gate can judge."""


@release.command("new", short_help="Evaluate a table and write a release and its debit.")
@click.argument("dataset")
@click.argument("version")
@click.option(
    "--synthetic", required=True, type=TABLE, help="The generator's output (CSV or Parquet)."
)
@click.option("--real", required=True, type=TABLE, help="The real table the generator trained on.")
@click.option("--holdout", required=True, type=TABLE, help="Real rows the generator never saw.")
@click.option("--generator", required=True, help="Generator family, e.g. ctgan or aim.")
@click.option("--generator-version", required=True)
@click.option("--param", "params", multiple=True, help="Generator parameter K=V; repeat.")
@click.option(
    "--seed", required=True, type=click.IntRange(0), help="The generator's seed (0 or more)."
)
@click.option("--epsilon", help="DP epsilon of the run (with --delta: approximate DP).")
@click.option("--delta", help="DP delta.")
@click.option("--rho", help="zCDP rho of the run.")
@click.option("--mechanism", help="DP mechanism (default: the generator's name).")
@_tuning_options
@click.option(
    "--intended-use",
    "intended_uses",
    multiple=True,
    help="Repeat; default: the card's intended uses.",
)
@click.option("--location", help="Where the synthetic table lives (default: the --synthetic path).")
@click.option("--snapshot-id", help="The source snapshot's id (default: the --real file's name).")
@click.option("--code-commit", help="Commit of the generator code.")
@click.option("--description")
@click.option(
    "--eval-seed",
    type=click.IntRange(0, 2**32 - 1),
    default=None,
    help="Seed of the evaluation; only where the policy's statistics.seed is `any` "
    "(default: derived from the tables' content).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Re-run an uncommitted draft of VERSION: rewrite its manifest and report "
    "(a committed release is never replaced).",
)
@click.option("-q", "--quiet", is_flag=True, help="No evaluation progress on stderr.")
@click.pass_context
def release_new(ctx: click.Context, /, dataset: str, version: str, **options: Any) -> int:
    """Evaluate a synthetic table and write the release's manifest, report and debit.

    Commits nothing; prints the predicted verdict and what to do next. Exit 0 when
    written, 1 when refused (the version exists, or is committed with --replace; the debit
    would overdraw), 2 on bad input.
    """
    _require("evaluate")
    from synthgov.commands import release as command

    return command.run(_root(ctx), dataset, version, **options)


@cli.command(short_help="Withdraw a release (approved like a release).")
@click.argument("release", metavar="DATASET@VERSION")
@click.option("--reason", required=True, help="What went wrong, for the record and the catalog.")
@click.option(
    "--class",
    "incident_class",
    required=True,
    type=click.Choice(["schema", "privacy", "utility", "other"]),
)
@click.pass_context
def revoke(ctx: click.Context, /, release: str, reason: str, incident_class: str) -> int:
    """Withdraw a release: writes its revocation record, which needs approvals like a release.

    Exit 1 when the release is already revoked.
    """
    from synthgov.commands import revoke as command

    return command.run(_root(ctx), release, reason=reason, incident_class=incident_class)


@cli.group(short_help="Waivers: bounded exceptions to a release's rules.")
def waiver() -> None:
    """Waivers: a named exception that relaxes one rule of one release until it expires."""


@waiver.command("new", short_help="Write a waiver within the policy's bounds.")
@click.argument("release", metavar="DATASET@VERSION")
@click.option("--rule", required=True, help="The rule to relax, e.g. fidelity.detection_auc.")
@click.option(
    "--relax-to",
    required=True,
    type=float,
    help="The threshold in force while the waiver is (within waivers.max_relax).",
)
@click.option(
    "--days", required=True, type=int, help="How long it lasts (at most waivers.max_days)."
)
@click.option("--reason", required=True, help="Why the exception is acceptable, and the fix.")
@click.option("--owner", required=True, help="The reviewer id who answers for the waiver.")
@click.option("--ticket", required=True, help="The issue or ticket that tracks the fix.")
@click.option(
    "--id", "waiver_id", help="The waiver id and file name (default: RULE-YYYYMMDD in words)."
)
@click.pass_context
def waiver_new(ctx: click.Context, /, release: str, **options: Any) -> int:
    """Write a waiver of one rule of a release, within the policy's `waivers` bounds.

    Exit 1, nothing written, when the policy forbids it (a hard rule, a rule without a
    max_relax bound, a looser threshold, a longer horizon) or the waiver exists. Prints
    the approvals it needs next.
    """
    from synthgov.commands import waiver as command

    return command.run_new(_root(ctx), release, **options)


@cli.command(short_help="Re-measure a release on fresh real data.")
@click.argument("release", metavar="DATASET@VERSION")
@click.option("--real", required=True, type=TABLE, help="Fresh real data (CSV or Parquet).")
@click.option(
    "--holdout", type=TABLE, help="Fresh holdout (default: FRESH's rows split alternately)."
)
@click.option(
    "--synthetic", type=TABLE, help="The released table (default: the manifest's location)."
)
@click.option("-q", "--quiet", is_flag=True, help="No evaluation progress on stderr.")
@click.pass_context
def revalidate(ctx: click.Context, /, release: str, **options: Any) -> int:
    """Re-measure a release on fresh real data and record the drift against its report."""
    _require("evaluate")
    from synthgov.commands import revalidate as command

    return command.run(_root(ctx), release, **options)


@cli.group(short_help="Privacy-budget ledgers (budgets/SOURCE.yaml).")
def budget() -> None:
    """Privacy-budget ledgers (budgets/SOURCE.yaml)."""


@budget.command("new", short_help="Create an empty privacy-budget ledger.")
@click.argument("source")
@click.option("--epsilon", help="Epsilon cap (alone: a pure ledger; with --delta: approximate).")
@click.option("--delta", help="Delta cap.")
@click.option("--rho", help="Rho cap (with --delta: a zCDP ledger).")
@click.option("--privacy-unit", default="one record of the source dataset", show_default=True)
@click.pass_context
def budget_new(ctx: click.Context, /, source: str, **options: Any) -> int:
    """Create an empty ledger: --epsilon E [--delta D] | --rho R --delta D."""
    from synthgov.commands import budget as command

    code: int = command.run_new(_root(ctx), source, **options)
    return code


@budget.command("debit", short_help="Append a debit to a ledger unless it overdraws.")
@click.argument("source")
@click.option(
    "--release",
    required=True,
    metavar="DATASET@VERSION",
    help="The release that spends the budget (its version need not exist yet).",
)
@click.option("--epsilon", help="Epsilon spent (alone: pure DP; with --delta: approximate).")
@click.option("--delta", help="Delta spent.")
@click.option("--rho", help="Rho spent (zero-concentrated DP; optionally with --delta).")
@click.option("--mechanism", help="The DP mechanism (default: the manifest's, else 'unspecified').")
@_tuning_options
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="K=V",
    help="A mechanism parameter for the record; repeat for several.",
)
@click.pass_context
def budget_debit(ctx: click.Context, /, source: str, **options: Any) -> int:
    """Append a debit: --epsilon E [--delta D] | --rho R [--delta D].

    The loss given is the release's own; its tuning runs (--tuning-runs N with
    --tuning-epsilon/--tuning-delta/--tuning-rho, or else those its manifest records in
    privacy.tuning) are composed with it into the one debit.

    Refuses (exit 1, ledger untouched) a debit that would overdraw the cap.
    """
    from synthgov.commands import budget as command

    code: int = command.run_debit(_root(ctx), source, **options)
    return code


@budget.command("cap", short_help="Change a ledger's cap, approved as a budget change.")
@click.argument("source")
@click.option("--epsilon", help="New epsilon cap (alone: pure; with --delta: approximate).")
@click.option("--delta", help="New delta cap.")
@click.option("--rho", help="New rho cap (with --delta: zCDP).")
@click.pass_context
def budget_cap(ctx: click.Context, /, source: str, **options: Any) -> int:
    """Change a ledger's cap, re-linking its entries: --epsilon E [--delta D] | --rho R --delta D.

    The change needs the policy's budget_changes approvals (synthgov approve --budget).
    """
    from synthgov.commands import budget_cap as command

    code: int = command.run_cap(_root(ctx), source, **options)
    return code


@budget.command("status", short_help="Show the cap, spent and remaining budget of ledgers.")
@click.argument("source", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.pass_context
def budget_status(ctx: click.Context, /, source: str | None, fmt: str) -> int:
    """Cap, spent and remaining budget of one ledger, or of all."""
    from synthgov.commands import budget as command

    code: int = command.run_status(_root(ctx), source, fmt=fmt)
    return code


def _debug() -> bool:
    return os.environ.get("SYNTHGOV_DEBUG", "") not in ("", "0")


def _fail(message: str) -> int:
    """One line: click's own line breaks ("Choose from:\n\tschema,\n\t...") joined, and the
    user's text (an argument, a value) escaped so that it cannot break or hide the line."""
    from synthgov.errors import printable

    click.echo(printable(message.replace("\n\t", " ")), err=True)
    return EXIT_INPUT


def _interrupted() -> int:
    """Ctrl-C: one line, no traceback, and the shells' 128 + SIGINT (BRIEF §11.5)."""
    click.echo("synthgov: interrupted", err=True)
    return EXIT_INTERRUPTED


def _terminated() -> int:
    """SIGTERM (a CI job cancelled) where a command takes it as Ctrl-C: one line, 143."""
    click.echo("synthgov: terminated", err=True)
    return EXIT_TERMINATED


#: The garbage collector's first threshold during a run (Python's default is 700): start-up
#: creates some 100,000 objects (classes, functions, validators) that all live to the end,
#: and every 700 allocations Python searched them for cycles again.
GC_YOUNG_THRESHOLD = 100_000
_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; the single error boundary of synthgov.

    The garbage collector runs rarely during the run (`GC_YOUNG_THRESHOLD`), and not at
    exit: what is alive then is freed with the process, so Python's last search for cycles
    through every object of the run is skipped (`gc.freeze` at exit). A caller in the same
    process gets its thresholds back (docs/benchmarks.md, "check"), and its environment:
    `PYDANTIC_DISABLE_PLUGINS`, set for the run when the caller had not, is unset after.
    """
    thresholds = gc.get_threshold()
    plugins_unset = _PLUGINS not in os.environ
    gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
    atexit.unregister(gc.freeze)  # registered once, however many runs a process makes
    atexit.register(gc.freeze)
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*thresholds)
        if plugins_unset:
            os.environ.pop(_PLUGINS, None)


def _main(argv: list[str] | None) -> int:
    from synthgov.errors import InputError, MissingExtra, SynthgovError
    from synthgov.signals import Terminated

    os.environ.setdefault("RUST_BACKTRACE", "0")  # OpenDP errors cost 0.1 s each otherwise
    # synthgov uses no pydantic plugin: without this, pydantic scans every installed
    # distribution's entry points and loads what registers as one (its code then runs inside
    # the gate's validation) at the first model built. A value the user set, even empty, is
    # kept (docs/check.md).
    os.environ.setdefault(_PLUGINS, "__all__")
    try:
        result = cli.main(args=argv, prog_name="synthgov", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
        return EXIT_INPUT
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "synthgov"
        return _fail(f"{command}: error: {exc.format_message()} (see '{command} --help')")
    except click.ClickException as exc:
        return _fail(f"synthgov: error: {exc.format_message()}")
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click wrapped it (and ended ^C's line)
            return _interrupted()
        return _fail("synthgov: aborted")
    except InputError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        return EXIT_INPUT
    except MissingExtra as exc:  # "synthgov evaluate needs the evaluate extra: pip install ..."
        return _fail(str(exc))
    except SynthgovError as exc:
        return _fail(f"synthgov: error: {exc}")
    except Terminated:  # after the command's clean-up (synthgov.signals)
        return _terminated()
    except KeyboardInterrupt:  # outside click's own handling (while importing a command)
        click.echo(err=True)
        return _interrupted()
    except Exception as exc:  # the boundary: never a traceback unless asked for
        if _debug():
            raise
        return _fail(
            f"synthgov: internal error: {type(exc).__name__}: {exc} "
            "(set SYNTHGOV_DEBUG=1 for the traceback, and please report it)"
        )
    if isinstance(result, int):
        return result
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
