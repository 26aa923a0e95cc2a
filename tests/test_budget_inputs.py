"""Property tests of `budget new|debit|status` (issue 15): whatever figures are typed and
whatever a ledger holds once `validate` accepts it, the commands answer 0, 1 or 2 (bad
input in one line), never an internal error; and what one command writes, every other
command reads."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgov.budget import debits, ledgers
from synthgov.files import governance
from synthgov.files.loading import parse_yaml
from tests.helpers import ledgers as builders
from tests.helpers import samples
from tests.helpers.cli import Result, Synthgov

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LEDGER = builders.PATH

figures = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**6), 10**6), st.integers(-400, 400)),
    st.text(max_size=12),
    st.sampled_from(
        [
            "1e-50",
            "1e-51",
            "10000",
            "10000.0000001",
            "0.1234567890123456",
            "9e14",
            "1e-120",
            "+1",
            "-0",
            "0x1",
            "1_0",
            " 2 ",
            "1e+3",
            ".5",
            "5.",
        ]
    ),
)
maybe = st.none() | figures


def answered(result: Result, codes: tuple[int, ...] = (0, 1, 2)) -> None:
    """An exit code the command documents; exit 2 in one line; never an internal error."""
    assert result.code in codes, (result.code, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    if result.code == 2:
        assert len(result.err.strip().splitlines()) == 1, result.err


def options(**given: str | None) -> list[str]:
    return [a for name, value in given.items() if value is not None for a in (f"--{name}", value)]


def repository(folder: Path) -> Path:
    (folder / ".git").mkdir()  # the repository root; no git command reads it
    (folder / "datasets/claims").mkdir(parents=True)
    (folder / "datasets/claims/card.yaml").write_text(samples.CARD)
    return folder


@SETTINGS
@given(epsilon=maybe, delta=maybe, rho=maybe)
def test_any_cap_given_to_budget_new_is_refused_or_read_by_every_command(
    synthgov: Synthgov, epsilon: str | None, delta: str | None, rho: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = repository(Path(folder))
        cap = options(epsilon=epsilon, delta=delta, rho=rho)
        created = synthgov("budget", "new", "claims-db", *cap, cwd=repo)
        answered(created, (0, 2))
        if created.code != 0:
            assert not (repo / LEDGER).exists()
            return
        answered(synthgov("validate", LEDGER, cwd=repo), (0,))
        answered(synthgov("budget", "status", "--format", "json", cwd=repo), (0,))
        loss = ["--rho", "0.001"] if rho is not None else ["--epsilon", "0.001"]
        answered(
            synthgov("budget", "debit", "claims-db", "--release", "claims@1.0", *loss, cwd=repo)
        )
        answered(synthgov("validate", LEDGER, cwd=repo), (0,))


@SETTINGS
@given(
    epsilon=maybe,
    delta=maybe,
    rho=maybe,
    param=st.none() | st.text(max_size=30).map(lambda v: f"k={v}"),
)
def test_any_loss_given_to_budget_debit_is_refused_or_read_by_every_command(
    synthgov: Synthgov, epsilon: str | None, delta: str | None, rho: str | None, param: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = repository(Path(folder))
        (repo / "budgets").mkdir()
        (repo / LEDGER).write_text(builders.empty())
        before = (repo / LEDGER).read_bytes()
        args = options(epsilon=epsilon, delta=delta, rho=rho, param=param)
        result = synthgov(
            "budget", "debit", "claims-db", "--release", "claims@1.0", *args, cwd=repo
        )
        answered(result)
        if result.code != 0:
            assert (repo / LEDGER).read_bytes() == before
            return
        answered(synthgov("validate", LEDGER, cwd=repo), (0,))
        answered(synthgov("budget", "status", "claims-db", cwd=repo), (0,))


VALID = builders.build(
    [("claims@0.1", {"epsilon": "1.0", "delta": "0.0000001"}), ("claims@0.2", {"rho": "0.05"})]
)
PIECES = [
    " ",
    "\t",
    "  ",
    "#",
    "# c",
    ":",
    ": ",
    ":\t",
    "-",
    "- ",
    "'",
    '"',
    "\n",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "a",
    "1",
    "é",
    "~",
    "?",
    "|",
    ">",
    "&a ",
    "!!str ",
    "\ufeff",
]


@SETTINGS
@given(
    cut=st.integers(0, len(VALID)),
    insert=st.lists(st.sampled_from(PIECES), max_size=3),
    tabs=st.booleans(),
)
def test_a_ledger_that_validate_accepts_is_debited_or_refused_in_one_line(
    synthgov: Synthgov, cut: int, insert: list[str], tabs: bool
) -> None:
    """The text editor and the loader read one YAML: whatever layout `validate` accepts,
    `budget debit` appends to (keeping every character written) or refuses in one line."""
    with tempfile.TemporaryDirectory() as folder:
        repo = repository(Path(folder))
        (repo / "budgets").mkdir()
        text = VALID[:cut] + "".join(insert) + VALID[cut:]
        text = text.replace(": ", ":\t") if tabs else text  # libyaml reads a tab there
        (repo / LEDGER).write_bytes(text.encode())
        if synthgov("validate", LEDGER, cwd=repo).code != 0:
            return
        answered(synthgov("budget", "status", "claims-db", cwd=repo), (0,))
        result = synthgov(
            "budget", "debit", "claims-db", "--release", "claims@1.0", "--epsilon", "0.1", cwd=repo
        )
        answered(result)
        if result.code != 0:
            assert (repo / LEDGER).read_bytes() == text.encode()
            return
        answered(synthgov("validate", LEDGER, cwd=repo), (0,))
        after = governance.load(repo, LEDGER).document.data
        assert ledgers.chain_issues(after) == [] and ledgers.entries(after)[-1]["seq"] == 3


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-50, max_value=10000, allow_nan=False, allow_infinity=False))
def test_every_float_as_python_prints_it_is_a_figure_kept_exactly_as_written(value: float) -> None:
    typed = repr(value)
    figure = debits.figure(typed, "--rho")
    assert figure == Decimal(typed)
    [loaded] = parse_yaml(f"- {format(figure, 'f')}\n".encode(), "budgets/x.yaml").data
    assert loaded == figure and repr(float(loaded)) == typed
