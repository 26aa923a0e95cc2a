"""`synthgov budget new`: the cap options pick the notion (BRIEF §10.9); figures stay exact."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from synthgov.files import governance
from synthgov.models import Ledger
from tests.helpers.cli import Synthgov


def load_ledger(repo: Path, source: str = "claims") -> Ledger:
    model = governance.load(repo, f"budgets/{source}.yaml", Ledger).model
    return model


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "notion", "cap"),
    [
        (("--epsilon", "1.0"), "pure", {"epsilon": Decimal("1.0")}),
        (
            ("--epsilon", "3", "--delta", "1e-6"),
            "approx",
            {"epsilon": Decimal(3), "delta": Decimal("0.000001")},
        ),
        (
            ("--rho", "0.10", "--delta", "0.00001"),
            "zcdp",
            {"rho": Decimal("0.10"), "delta": Decimal("0.00001")},
        ),
    ],
)
def test_notions(
    synthgov: Synthgov, repo: Path, args: tuple[str, ...], notion: str, cap: dict[str, Decimal]
) -> None:
    result = synthgov("budget", "new", "claims", *args, cwd=repo)
    assert result.code == 0, result.err
    assert one_line(result.err).startswith(f"created budgets/claims.yaml: {notion} ledger, cap ")
    ledger = load_ledger(repo)
    assert ledger.notion.value == notion and ledger.entries == []
    written = {k: v for k, v in ledger.cap.model_dump().items() if v is not None}
    assert written == cap
    assert ledger.privacy_unit == "one record of the source dataset"
    assert synthgov("validate", cwd=repo).code == 0


def test_figures_kept_as_typed(synthgov: Synthgov, repo: Path) -> None:
    args = ("--rho", "0.10", "--delta", "1e-7", "--privacy-unit", "one patient")
    assert synthgov("budget", "new", "claims", *args, cwd=repo).code == 0
    text = (repo / "budgets/claims.yaml").read_text()
    assert "  rho: 0.10\n" in text and "  delta: 0.0000001\n" in text
    assert "privacy_unit: one patient\n" in text
    assert text.startswith("# yaml-language-server: $schema=../.synthgov/schemas/ledger.json\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rho", "1"), "--rho needs --delta"),
        (("--delta", "1e-6"), "--delta needs --epsilon or --rho"),
        (("--epsilon", "1", "--rho", "1"), "--epsilon and --rho cannot be combined"),
        (
            ("--epsilon", "1", "--rho", "1", "--delta", "1e-6"),
            "--epsilon and --rho cannot be combined",
        ),
        ((), "no cap given"),
    ],
)
def test_bad_combinations(
    synthgov: Synthgov, repo: Path, args: tuple[str, ...], message: str
) -> None:
    result = synthgov("budget", "new", "claims", *args, cwd=repo)
    assert result.code == 2
    line = one_line(result.err)
    assert message in line and "--epsilon E [--delta D] or --rho R --delta D" in line
    assert not (repo / "budgets").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--epsilon", "NaN"), "--epsilon: 'NaN' is not finite"),
        (("--epsilon", "-1"), "--epsilon: -1 is negative"),
        (("--epsilon", "0"), "--epsilon: 0 is not positive"),
        (("--epsilon", "0.000"), "--epsilon: 0.000 is not positive"),
        (("--epsilon", "abc"), "--epsilon: 'abc' is not a number"),
        (("--epsilon", "inf"), "--epsilon: 'inf' is not finite"),
        (("--epsilon", "1e400"), "--epsilon: 1e400 is out of range"),
        (("--epsilon", "1e-400"), "--epsilon: 1e-400 is out of range"),
        # issue 15: a cap every command then refused was written
        (
            ("--epsilon", "1e-120"),
            "--epsilon: 1e-120 is out of range; expected a number from 1e-50 to 10000",
        ),
        (
            ("--epsilon", "10000.5"),
            "--epsilon: 10000.5 is out of range; expected a number from 1e-50 to 10000",
        ),
        (
            ("--rho", "9e14", "--delta", "1e-6"),
            "--rho: 9e14 is out of range; expected a number from 1e-50",
        ),
        (
            ("--epsilon", "1", "--delta", "1e-51"),
            "--delta: 1e-51 is out of range; expected a number from 1e-50",
        ),
        (("--epsilon", "0x10"), "--epsilon: '0x10' is not a number"),
        (("--epsilon", "1", "--delta", "1"), "--delta: 1 is not below 1"),
        (("--epsilon", "1", "--delta", "0"), "--delta: 0 is not positive"),
        (("--rho", "-0.5", "--delta", "1e-6"), "--rho: -0.5 is negative"),
        (("--epsilon", "1", "--privacy-unit", ""), "--privacy-unit: "),
    ],
)
def test_bad_numbers(synthgov: Synthgov, repo: Path, args: tuple[str, ...], message: str) -> None:
    result = synthgov("budget", "new", "claims", *args, cwd=repo)
    assert result.code == 2
    assert one_line(result.err).startswith(message)
    assert not (repo / "budgets").exists()


@pytest.mark.parametrize("source", ["../x", "Claims", "a_b", ""])
def test_bad_source(synthgov: Synthgov, repo: Path, source: str) -> None:
    result = synthgov("budget", "new", source, "--epsilon", "1", cwd=repo)
    assert result.code == 2
    assert one_line(result.err).startswith(f"SOURCE: {source!r} is not a valid id")


def test_existing_ledger_not_overwritten(synthgov: Synthgov, repo: Path) -> None:
    assert synthgov("budget", "new", "claims", "--epsilon", "1", cwd=repo).code == 0
    before = (repo / "budgets/claims.yaml").read_bytes()
    result = synthgov("budget", "new", "claims", "--epsilon", "5", cwd=repo)
    assert result.code == 2
    assert one_line(result.err) == "budgets/claims.yaml: already exists; refusing to overwrite it"
    assert (repo / "budgets/claims.yaml").read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ("--epsilon", "1e-50"),
        ("--epsilon", "10000"),
        ("--rho", "10000", "--delta", "0.999999999999999"),
        ("--epsilon", "1.23456789012345e-50", "--delta", "1e-50"),
    ],
)
def test_a_cap_at_the_ends_of_the_range_is_read_by_every_command(
    synthgov: Synthgov, repo: Path, args: tuple[str, ...]
) -> None:
    assert synthgov("budget", "new", "claims", *args, cwd=repo).code == 0
    assert synthgov("validate", "budgets/claims.yaml", cwd=repo).code == 0
    assert synthgov("budget", "status", "claims", "--format", "json", cwd=repo).code == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "0.12345678901234567",
            "--epsilon: 0.12345678901234567 has more than 15 significant digits and is not a "
            "float as Python prints it (0.12345678901234566); a ledger keeps figures exactly "
            "as written",
        ),
        (
            "0.123456789012345678",
            "--epsilon: 0.123456789012345678 has more than 17 significant digits; a ledger "
            "keeps figures exactly as written",
        ),
    ],
)
def test_a_cap_the_ledger_could_not_read_back_is_refused(
    synthgov: Synthgov, repo: Path, typed: str, message: str
) -> None:
    result = synthgov("budget", "new", "claims", "--epsilon", typed, cwd=repo)
    assert result.code == 2
    assert one_line(result.err) == message
    assert not (repo / "budgets").exists()


def test_a_cap_as_python_prints_a_float_is_kept_as_written(synthgov: Synthgov, repo: Path) -> None:
    typed = repr(0.1 + 0.2)  # 0.30000000000000004: 17 significant digits
    assert synthgov("budget", "new", "claims", "--epsilon", typed, cwd=repo).code == 0
    assert f"  epsilon: {typed}\n" in (repo / "budgets/claims.yaml").read_text()
    assert synthgov("validate", "budgets/claims.yaml", cwd=repo).code == 0
