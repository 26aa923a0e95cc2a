"""Outputs are regular files, and a missing folder is no internal error (issue 15).

`check --output` into a missing folder raised FileNotFoundError, and `check --output FIFO`
replaced the named pipe with a file. Every command that writes where the user says
(`check --output` and `--format FORMAT=PATH`, the job summary `check` appends to,
`evaluate -o`, `audit --out`, `catalog --out`) goes through
`synthgov.reporting.outputs`: folders are created, anything but a regular file is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.helpers.cli import Synthgov
from tests.helpers.repos import add_release, make_base


@pytest.fixture
def base(repo: Path) -> Path:
    make_base(repo)
    add_release(repo)
    return repo


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "internal error" not in err
    return lines[0]


def test_check_output_into_a_missing_folder_creates_it(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    target = tmp_path / "reports" / "pr-17" / "check.json"
    result = synthgov(
        "check", "--base", "main", "--format", "json", "--output", str(target), cwd=base
    )
    assert result.code == 0, result.err
    assert '"verdict": "pass"' in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink", "folder"])
def test_check_output_never_replaces_what_is_not_a_regular_file(
    synthgov: Synthgov, base: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "out"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "elsewhere.json").write_text("kept\n")
        target.symlink_to(tmp_path / "elsewhere.json")
    elif kind == "folder":
        target.mkdir()
    else:
        target = Path(os.devnull)
    before = os.lstat(target)
    result = synthgov("check", "--base", "main", "--output", str(target), cwd=base)
    assert result.code == 2
    assert str(target) in one_line(result.err)
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)  # untouched
    if kind == "symlink":
        assert (tmp_path / "elsewhere.json").read_text() == "kept\n"


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_the_job_summary_is_appended_to_a_regular_file_only(
    synthgov: Synthgov,
    base: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    target = tmp_path / "summary"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "elsewhere.md").write_text("kept\n")
        target.symlink_to(tmp_path / "elsewhere.md")
    else:
        target.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    before = os.lstat(target)
    result = synthgov("check", "--base", "main", "--format", "github", cwd=base)
    assert result.code == 2
    assert str(target) in one_line(result.err)
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    if kind == "symlink":
        assert (tmp_path / "elsewhere.md").read_text() == "kept\n"


def test_check_output_through_a_file_in_the_way_is_a_one_line_error(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes").write_text("mine\n")
    result = synthgov(
        "check", "--base", "main", "--output", str(tmp_path / "notes/out.txt"), cwd=base
    )
    assert result.code == 2 and "a file is in the way" in one_line(result.err)
    assert (tmp_path / "notes").read_text() == "mine\n"


def test_audit_out_refuses_a_fifo_inside_the_pack_and_a_file_as_the_pack(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    os.mkfifo(pack / "audit.json")
    result = synthgov("audit", "--range", "pr", "--out", str(pack), cwd=base)
    assert result.code == 2 and "is a named pipe (FIFO)" in one_line(result.err)
    assert stat.S_ISFIFO(os.lstat(pack / "audit.json").st_mode)
    (tmp_path / "file").write_text("mine\n")
    result = synthgov("audit", "--range", "pr", "--out", str(tmp_path / "file"), cwd=base)
    assert result.code == 2 and "is a file" in one_line(result.err)  # click's check, or ours
    deep = tmp_path / "new" / "pack"
    assert synthgov("audit", "--range", "pr", "--out", str(deep), cwd=base).code in (0, 1)
    assert (deep / "audit.json").is_file()


def test_catalog_never_reads_a_fifo_left_as_its_index(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    out = tmp_path / "catalog"
    out.mkdir()
    os.mkfifo(out / "catalog.json")  # reading it would block forever
    result = synthgov("catalog", "--out", str(out), cwd=base)
    assert result.code == 2 and "not an earlier synthgov catalog" in one_line(result.err)


def test_evaluate_output_refuses_a_fifo_before_any_work(
    synthgov: Synthgov, base: Path, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "report.json")
    card = base / "datasets/claims/card.yaml"
    missing = tmp_path / "none.csv"
    result = synthgov(
        "evaluate",
        "--card",
        str(card),
        "--real",
        str(missing),
        "--holdout",
        str(missing),
        "--synthetic",
        str(missing),
        "-o",
        str(tmp_path / "report.json"),
    )
    assert result.code == 2 and "is a named pipe (FIFO)" in one_line(result.err)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
