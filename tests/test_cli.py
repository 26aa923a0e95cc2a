"""The CLI boundary: help and version everywhere, exit 2 with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from synthgov import __version__
from synthgov.cli import cli
from synthgov.errors import SignatureError, UnusableKeyError
from tests.helpers import ROOT
from tests.helpers.cli import Synthgov, fresh_python


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(cli), ids=lambda c: " ".join(c) or "synthgov")
def test_every_command_has_help(synthgov: Synthgov, command: tuple[str, ...]) -> None:
    result = synthgov(*command, "--help")
    assert result.code == 0
    assert result.out.startswith("Usage: synthgov")
    assert "Show this message and exit." in result.out


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version(synthgov: Synthgov, option: str) -> None:
    result = synthgov(option)
    assert (result.code, result.out.strip()) == (0, f"synthgov, version {__version__}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate", "--bogus"), "synthgov validate: error: No such option"),
        (("frobnicate",), "synthgov: error: No such command 'frobnicate'"),
        (("dataset", "new", "x"), "synthgov dataset new: error: Missing option '--owner'"),
        (
            ("dataset", "new", "x", "--owner", "o", "--classification", "secret", "--source", "s"),
            "synthgov dataset new: error: Invalid value for '--classification': 'secret' is not one of",
        ),
        (
            ("schema", "nope"),
            "synthgov: error: unknown kind 'nope'; expected one of: policy, reviewers,",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    synthgov: Synthgov, args: tuple[str, ...], message: str
) -> None:
    result = synthgov(*args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert result.err.startswith(message)
    assert result.err.rstrip().endswith("--help')") or args[0] == "schema"
    assert result.out == ""


def test_no_arguments_prints_help_and_exits_2(synthgov: Synthgov) -> None:
    result = synthgov()
    assert result.code == 2
    assert "Commands:" in result.err


def test_an_unexpected_exception_is_one_line_not_a_traceback(
    synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthgov.commands import schema

    def explode(kind: str | None) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema, "run", explode)
    result = synthgov("schema")
    assert result.code == 2
    assert result.err.strip() == (
        "synthgov: internal error: RuntimeError: disk on fire "
        "(set SYNTHGOV_DEBUG=1 for the traceback, and please report it)"
    )
    monkeypatch.setenv("SYNTHGOV_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        synthgov("schema")


@pytest.mark.parametrize("error", [SignatureError, UnusableKeyError])
def test_a_signing_failure_nothing_caught_is_an_error_not_an_internal_one(
    synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    """Signature and key failures belong to the error tree: one line, exit 2, no traceback."""
    from synthgov.commands import schema

    def refuse(kind: str | None) -> int:
        raise error("cannot run gpg: No such file or directory")

    monkeypatch.setattr(schema, "run", refuse)
    result = synthgov("schema")
    assert result.code == 2
    assert result.err.strip() == "synthgov: error: cannot run gpg: No such file or directory"


def test_schema_lists_the_kinds_one_a_line(synthgov: Synthgov) -> None:
    from synthgov.models import KINDS

    listed = synthgov("schema").out.split()
    assert listed == list(KINDS)
    first = ["policy", "reviewers", "card", "manifest", "report", "approval", "ledger", "waiver"]
    assert listed[:8] == first  # BRIEF §10.8's order; the later kinds follow
    assert {"revocation", "revalidation"} <= set(listed[8:])


def test_schema_prints_draft_2020_12_json(synthgov: Synthgov) -> None:
    import json

    schema = json.loads(synthgov("schema", "ledger").out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_the_installed_console_script_runs_without_heavy_imports() -> None:
    probe = "import sys; from synthgov.cli import main; main(['--help']); print(sorted(m for m in ('pandas','sklearn','opendp','git','numpy') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr


def test_evaluate_without_dask_never_imports_dask(tmp_path: Path) -> None:
    """The in-process engine is the default: Dask and distributed load only with --dask."""
    import csv

    from synthgov.examples import CLAIMS_COLUMNS, claims_rows

    rows = claims_rows(seed=0, rows=300)
    for name, part in (("real", rows[:100]), ("holdout", rows[100:200]), ("synthetic", rows[200:])):
        with open(tmp_path / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([CLAIMS_COLUMNS, *part])
    args = [
        "evaluate", "--card", str(ROOT / "datasets/claims/card.yaml"), "--quiet",
        "--real", "real.csv", "--holdout", "holdout.csv", "--synthetic", "synthetic.csv",
        "-o", "report.json", "--sample", "100",
    ]  # fmt: skip
    probe = (
        "import sys; from synthgov.cli import main; code = main(sys.argv[1:]); "
        "print(code, sorted(m for m in ('dask', 'distributed', 'fsspec') if m in sys.modules))"
    )
    done = fresh_python(probe, tmp_path, *args)
    assert done.stdout.strip().endswith("0 []"), done.stdout + done.stderr
    assert (tmp_path / "report.json").is_file()


def test_python_dash_m_synthgov_exits_with_the_commands_code() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "synthgov"]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env)
    assert (version.returncode, version.stdout.strip()) == (0, f"synthgov, version {__version__}")
    bad = subprocess.run([*run, "schema", "nope"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_a_missing_choice_option_is_one_line_naming_the_choices(synthgov: Synthgov) -> None:
    result = synthgov("revoke", "claims@1.0", "--reason", "leak")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "synthgov revoke: error: Missing option '--class'. Choose from: schema, privacy, "
        "utility, other (see 'synthgov revoke --help')"
    ]


def test_a_bidi_override_in_a_stray_argument_is_escaped_in_the_usage_error(
    synthgov: Synthgov,
) -> None:
    result = synthgov("budget", "cap", "claims", "\u202eexe.txt")
    assert result.code == 2
    assert "\u202e" not in result.err and "(\\u202eexe.txt)" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_an_undecodable_file_name_is_escaped_not_an_encoding_crash(tmp_path: Path) -> None:
    """A name that is not UTF-8 (bytes 0xff on the command line) on a strict UTF-8 stdout."""
    (tmp_path / ".git").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "synthgov", "validate", os.fsdecode(b"\xff.yaml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr
    assert done.stdout == "\\udcff.yaml:1:1: no such file\n"


@pytest.mark.parametrize(
    "command",
    [c for c in _commands(cli) if c],
    ids=" ".join,
)
def test_a_command_summary_is_a_whole_sentence_never_cut(command: tuple[str, ...]) -> None:
    """click cuts a docstring's first paragraph to the terminal ("Approve (or reject) a
    release, a waiver, a revocation, or a..."): every command names its own summary."""
    group: click.Command = cli
    for name in command:
        assert isinstance(group, click.Group)
        group = group.commands[name]
    summary = group.get_short_help_str(limit=30)  # the narrowest listing click makes
    assert group.short_help == summary, "give the command a short_help"
    assert summary[0].isupper() and summary.endswith(".") and not summary.endswith("..."), summary
    assert summary.count(". ") == 0 and len(summary) <= 60, summary


@pytest.mark.parametrize("columns", ["50", "80", "200"])
def test_no_listed_summary_is_cut_mid_sentence_at_any_width(
    synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    for group in ((), ("budget",), ("dataset",), ("release",), ("reviewer",), ("waiver",)):
        listing = synthgov(*group, "--help").out.split("Commands:\n", 1)[1]
        assert "..." not in listing, listing


def test_ctrl_c_exits_130_with_one_line_and_no_traceback(
    synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthgov.commands import schema

    def interrupt(kind: str | None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(schema, "run", interrupt)
    result = synthgov("schema")
    assert (result.code, result.err.strip(), result.out) == (130, "synthgov: interrupted", "")


def test_ctrl_c_before_click_runs_exits_130_too(
    synthgov: Synthgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "main", interrupt)
    result = synthgov("schema")
    assert (result.code, result.err.strip()) == (130, "synthgov: interrupted")


def test_a_real_sigint_exits_130_with_one_line(tmp_path: Path) -> None:
    """SIGINT delivered to the process while a command runs, as a terminal's Ctrl-C does."""
    probe = (
        "import os, signal, sys, time\n"
        "from synthgov.commands import schema\n"
        "def wait(kind):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "schema.run = wait\n"
        "from synthgov.cli import main\n"
        "sys.exit(main(['schema']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "synthgov: interrupted"
    assert done.stdout == ""


def _status_on_a_terminal(tmp_path: Path, **env: str) -> bytes:
    """`budget status` with stdout on a pseudo-terminal, as a user runs it."""
    import pty

    (tmp_path / ".git").mkdir()
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    base.update(PYTHONPATH=str(ROOT), **env)
    run = [sys.executable, "-m", "synthgov", "budget"]
    subprocess.run([*run, "new", "claims", "--epsilon", "1"], cwd=tmp_path, env=base, check=True)
    leader, follower = pty.openpty()
    try:
        subprocess.run([*run, "status"], cwd=tmp_path, env=base, stdout=follower, check=True)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(leader)
    return out


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({"TERM": "xterm-256color"}, True), ({"TERM": "dumb"}, False), ({"NO_COLOR": "1"}, False)],
)
def test_no_colour_on_a_dumb_terminal_as_with_no_color(
    tmp_path: Path, env: dict[str, str], coloured: bool
) -> None:
    out = _status_on_a_terminal(tmp_path, **env)
    assert b"claims" in out
    assert (b"\x1b[" in out) is coloured, out


def test_shell_completion_as_the_readme_documents_it_completes_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for shell in ("bash", "zsh", "fish"):
        assert f"_SYNTHGOV_COMPLETE={shell}_source synthgov" in readme
    env = {**os.environ, "PYTHONPATH": str(ROOT), "_SYNTHGOV_COMPLETE": "bash_source"}
    run = [sys.executable, "-m", "synthgov"]
    script = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    assert "_SYNTHGOV_COMPLETE=bash_complete" in script
    env.update(_SYNTHGOV_COMPLETE="bash_complete", COMP_WORDS="synthgov budget d", COMP_CWORD="2")
    done = subprocess.run(run, capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["plain,debit"]


def test_a_dumb_terminal_gets_plain_progress_lines_not_a_live_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from synthgov.metrics.progress import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setenv("TERM", "dumb")
    with progress(quiet=False) as step:
        step("fidelity")
    assert stream.getvalue() == "synthgov evaluate: fidelity\n"


def test_a_long_evaluation_shows_the_time_so_far_and_left_from_the_families_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It showed the families' names only: no way to tell a minute's wait from an hour's."""
    import io

    from synthgov.metrics import progress as shown

    ticks = iter([0.0, 30.0, 60.0, 600.0])
    monkeypatch.setattr(shown.time, "monotonic", lambda: next(ticks))
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with shown.progress(quiet=False) as step:
        for name in ("read", "schema", "constraints", "privacy"):
            step(name)
    assert stream.getvalue().splitlines() == [
        "synthgov evaluate: read",
        "synthgov evaluate: schema (2/7; 30 s so far, about 3 min 00 s left)",
        "synthgov evaluate: constraints (3/7; 60 s so far, about 2 min 30 s left)",
        "synthgov evaluate: privacy (6/7; 10 min 00 s so far, about 6 min 40 s left)",
    ]
