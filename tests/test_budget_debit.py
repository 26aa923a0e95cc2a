"""`synthgov budget debit`: appends one chained entry, refuses overdraws (exit 1, ledger
untouched) and bad input (exit 2, one line naming the file or option)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from synthgov.budget import ledgers
from synthgov.budget.debits import record_debit
from synthgov.errors import InputError
from synthgov.files import governance
from synthgov.models import Ledger
from synthgov.models.loss import Loss
from tests.helpers import samples
from tests.helpers.cli import Result, Synthgov

LEDGER = "budgets/claims-db.yaml"
MANIFEST = "datasets/claims/releases/1.10/manifest.yaml"


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def gov(synthgov: Synthgov, repo: Path) -> Path:
    """The claims card (source claims-db) and its empty approximate ledger."""
    (repo / "datasets/claims").mkdir(parents=True)
    (repo / "datasets/claims/card.yaml").write_text(samples.CARD)
    assert (
        synthgov(
            "budget",
            "new",
            "claims-db",
            "--epsilon",
            "3",
            "--delta",
            "1e-6",
            "--privacy-unit",
            "one member",
            cwd=repo,
        ).code
        == 0
    )
    return repo


def ledger(repo: Path) -> Ledger:
    model = governance.load(repo, LEDGER, Ledger).model
    return model


def debit(synthgov: Synthgov, repo: Path, release: str, *args: str) -> Result:
    return synthgov("budget", "debit", "claims-db", "--release", release, *args, cwd=repo)


def test_a_debit_is_appended_and_chained(synthgov: Synthgov, gov: Path) -> None:
    before = (gov / LEDGER).read_text()
    result = debit(
        synthgov,
        gov,
        "claims@1.10",
        "--epsilon",
        "1.0",
        "--delta",
        "1e-7",
        "--mechanism",
        "AIM",
        "--param",
        "degree=2",
        "--param",
        "note=first run",
    )
    assert result.code == 0, result.err
    assert one_line(result.err) == (
        "debited budgets/claims-db.yaml: seq 1, claims@1.10, epsilon 1.0, delta 0.0000001; "
        "spent now epsilon 1 of 3 at delta 1e-06, epsilon 2 left"
    )
    text = (gov / LEDGER).read_text()
    assert text.startswith(before.replace("entries: []\n", "entries:\n"))  # comments kept
    [entry] = ledger(gov).entries
    assert (entry.seq, entry.release, entry.mechanism) == (1, "claims@1.10", "AIM")
    assert entry.parameters == {"degree": 2, "note": "first run"}
    assert (entry.loss.epsilon, entry.loss.delta) == (Decimal("1.0"), Decimal("0.0000001"))
    assert "      delta: 0.0000001\n" in text
    data = governance.load(gov, LEDGER).document.data
    assert entry.prev_sha256 == ledgers.sha256(ledgers.header(data))
    assert debit(synthgov, gov, "claims@1.11", "--rho", "0.05").code == 0
    second = ledger(gov).entries[1]
    data = governance.load(gov, LEDGER).document.data
    assert second.prev_sha256 == ledgers.sha256(data["entries"][0])
    assert ledgers.chain_issues(data) == []
    assert second.mechanism == "unspecified" and second.loss.rho == Decimal("0.05")
    assert synthgov("validate", cwd=gov).code == 0


@pytest.mark.parametrize("zero", ["0", "0.0", "+0e-3"])
def test_delta_zero_on_an_approximate_ledger_is_accepted_as_a_pure_debit(
    synthgov: Synthgov, gov: Path, zero: str
) -> None:
    result = debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5", "--delta", zero)
    assert result.code == 0, result.err
    assert one_line(result.err).startswith(
        "debited budgets/claims-db.yaml: seq 1, claims@1.10, epsilon 0.5;"
    )
    [entry] = ledger(gov).entries
    assert (entry.loss.kind, entry.loss.epsilon, entry.loss.delta) == ("pure", Decimal("0.5"), None)
    assert synthgov("validate", cwd=gov).code == 0


def test_delta_zero_on_a_pure_ledger_is_a_pure_debit(synthgov: Synthgov, repo: Path) -> None:
    (repo / "datasets/claims").mkdir(parents=True)
    (repo / "datasets/claims/card.yaml").write_text(samples.CARD)
    assert synthgov("budget", "new", "claims-db", "--epsilon", "1", cwd=repo).code == 0
    assert debit(synthgov, repo, "claims@1.0", "--epsilon", "0.5", "--delta", "0").code == 0
    assert ledger(repo).entries[0].loss.kind == "pure"


@pytest.mark.parametrize(
    ("option", "typed"),
    [
        ("--rho", "0.024355970359538362"),
        ("--epsilon", repr(0.1 + 0.2)),
        ("--epsilon", "0.1234567890123456"),
        ("--rho", repr(1 / 3e5)),  # 3.3333333333333333e-06
    ],
)
def test_a_float_as_python_prints_it_is_accepted_and_kept_exactly_as_written(
    synthgov: Synthgov, gov: Path, option: str, typed: str
) -> None:
    result = debit(synthgov, gov, "claims@1.10", option, typed)
    assert result.code == 0, result.err
    [entry] = ledger(gov).entries
    kept = entry.loss.rho if option == "--rho" else entry.loss.epsilon
    assert kept == Decimal(typed) and repr(float(kept)) == typed
    assert f"      {option[2:]}: {format(Decimal(typed), 'f')}\n" in (gov / LEDGER).read_text()
    assert synthgov("validate", cwd=gov).code == 0
    assert debit(synthgov, gov, "claims@1.11", "--epsilon", "0.1").code == 0  # chain still reads


def test_an_overdraw_is_refused_with_the_remaining_budget(synthgov: Synthgov, gov: Path) -> None:
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "2.5").code == 0
    before = (gov / LEDGER).read_bytes()
    result = debit(synthgov, gov, "claims@1.11", "--epsilon", "0.6")
    assert result.code == 1
    assert one_line(result.err) == (
        "refused: debiting claims@1.11 with epsilon 0.6 would overdraw budgets/claims-db.yaml: "
        "spent would be epsilon 3.1 of 3 at delta 1e-06; remaining epsilon 0.5; "
        "the ledger is unchanged"
    )
    assert (gov / LEDGER).read_bytes() == before
    assert debit(synthgov, gov, "claims@1.11", "--epsilon", "0.5").code == 0  # exactly full


def test_ten_tenths_fill_a_cap_of_one_and_the_eleventh_is_refused(
    synthgov: Synthgov, repo: Path
) -> None:
    (repo / "datasets/claims").mkdir(parents=True)
    (repo / "datasets/claims/card.yaml").write_text(samples.CARD)
    assert synthgov("budget", "new", "claims-db", "--epsilon", "1.0", cwd=repo).code == 0
    for minor in range(10):
        assert debit(synthgov, repo, f"claims@1.{minor}", "--epsilon", "0.1").code == 0
    result = debit(synthgov, repo, "claims@1.10", "--epsilon", "0.1")
    assert result.code == 1 and "remaining epsilon 0;" in result.err


def test_a_zcdp_debit_that_delta_cannot_cover_is_refused(synthgov: Synthgov, gov: Path) -> None:
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "0.1", "--delta", "0.000001").code == 0
    result = debit(synthgov, gov, "claims@1.11", "--rho", "0.001")
    assert result.code == 1
    assert "spent would be epsilon infinite of 3" in result.err


def test_the_manifest_decides_the_loss_and_lends_its_mechanism(
    synthgov: Synthgov, gov: Path
) -> None:
    (gov / MANIFEST).parent.mkdir(parents=True)
    (gov / MANIFEST).write_text(samples.MANIFEST)  # aim, epsilon 1.0, delta 0.000001
    result = debit(synthgov, gov, "claims@1.10", "--epsilon", "1.0", "--delta", "0.0000001")
    assert result.code == 2
    assert one_line(result.err) == (
        f"{MANIFEST}:9: privacy declares epsilon 1.0, delta 0.000001, not epsilon 1.0, "
        "delta 0.0000001; the debit records the release's own loss"
    )
    named = debit(
        synthgov, gov, "claims@1.10", "--epsilon", "2", "--delta", "1e-6", "--mechanism", "AIM"
    )
    assert named.code == 2 and "privacy declares epsilon 1.0" in named.err
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "1", "--delta", "1e-6").code == 0
    assert ledger(gov).entries[0].mechanism == "aim"


def test_an_empirical_audit_release_has_no_debit(synthgov: Synthgov, gov: Path) -> None:
    (gov / MANIFEST).parent.mkdir(parents=True)
    (gov / MANIFEST).write_text(
        samples.MANIFEST.replace("notion: approx, epsilon: 1.0, delta: 0.000001", "notion: none")
    )
    result = debit(synthgov, gov, "claims@1.10", "--epsilon", "1.0")
    assert result.code == 2 and "empirical audit only" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--release", "claims", "--epsilon", "1"),
            "--release: 'claims' is not a release; expected DATASET@VERSION",
        ),
        (
            ("--release", "other@1.0", "--epsilon", "1"),
            "--release: dataset other has no card datasets/other/card.yaml",
        ),
        (("--release", "claims@1.0", "--epsilon", "nan"), "--epsilon: 'nan' is not finite"),
        (("--release", "claims@1.0", "--epsilon", "-1"), "--epsilon: -1 is negative"),
        (("--release", "claims@1.0", "--epsilon", "0"), "--epsilon: 0 is not positive"),
        (("--release", "claims@1.0", "--epsilon", "lots"), "--epsilon: 'lots' is not a number"),
        (("--release", "claims@1.0", "--epsilon", "inf"), "--epsilon: 'inf' is not finite"),
        (
            ("--release", "claims@1.0", "--epsilon", "1", "--delta", "1"),
            "--delta: 1 is not below 1",
        ),
        (
            ("--release", "claims@1.0", "--epsilon", "0.12345678901234567"),
            "--epsilon: 0.12345678901234567 has more than 15 significant digits and is not a "
            "float as Python prints it (0.12345678901234566)",
        ),
        (
            ("--release", "claims@1.0", "--rho", "0.0243559703595383621"),
            "--rho: 0.0243559703595383621 has more than 17 significant digits",
        ),
        (
            ("--release", "claims@1.0", "--epsilon", "1", "--delta", "-0"),
            "--delta: -0 is negative",
        ),
        (
            ("--release", "claims@1.0", "--epsilon", "1", "--delta", "zero"),
            "--delta: 'zero' is not a number",
        ),
        (
            ("--release", "claims@1.0", "--epsilon", "1", "--rho", "1"),
            "--epsilon and --rho cannot be combined",
        ),
        (("--release", "claims@1.0", "--delta", "0.1"), "no loss given"),
        (
            ("--release", "claims@1.0", "--epsilon", "1", "--param", "novalue"),
            "--param: 'novalue' is not KEY=VALUE",
        ),
    ],
)
def test_bad_input_is_exit_2_and_writes_nothing(
    synthgov: Synthgov, gov: Path, args: tuple[str, ...], message: str
) -> None:
    before = (gov / LEDGER).read_bytes()
    result = synthgov("budget", "debit", "claims-db", *args, cwd=gov)
    assert result.code == 2
    assert message in one_line(result.err)
    assert (gov / LEDGER).read_bytes() == before


def test_no_ledger_and_another_source_are_exit_2(synthgov: Synthgov, gov: Path) -> None:
    result = synthgov("budget", "debit", "nope", "--release", "claims@1", "--epsilon", "1", cwd=gov)
    assert result.code == 2
    assert one_line(result.err) == (
        "budgets/nope.yaml: no such ledger; create it with `synthgov budget new nope`"
    )
    assert synthgov("budget", "new", "other", "--epsilon", "1", cwd=gov).code == 0
    result = synthgov(
        "budget", "debit", "other", "--release", "claims@1", "--epsilon", "1", cwd=gov
    )
    assert result.code == 2
    assert one_line(result.err) == (
        "datasets/claims/card.yaml:6: source.id: claims's source is claims-db, not other; "
        "its releases debit budgets/claims-db.yaml"
    )


@pytest.mark.parametrize(
    ("cap", "args", "message"),
    [
        (
            ("--epsilon", "1"),
            ("--epsilon", "1", "--delta", "1e-7"),
            "a pure ledger cannot record --epsilon with --delta; debit it with --epsilon alone",
        ),
        (
            ("--epsilon", "1"),
            ("--rho", "0.1"),
            "a pure ledger cannot record --rho alone; debit it with --epsilon alone",
        ),
        (
            ("--rho", "1", "--delta", "1e-6"),
            ("--epsilon", "1", "--delta", "1e-7"),
            "a zcdp ledger cannot record --epsilon with --delta; debit it with --epsilon alone or --rho alone",
        ),
        (
            ("--rho", "1", "--delta", "1e-6"),
            ("--rho", "0.1", "--delta", "1e-7"),
            "a zcdp ledger cannot record --rho with --delta; debit it with --epsilon alone or --rho alone",
        ),
    ],
)
def test_a_loss_the_notion_cannot_express_is_exit_2(
    synthgov: Synthgov, repo: Path, cap: tuple[str, ...], args: tuple[str, ...], message: str
) -> None:
    (repo / "datasets/claims").mkdir(parents=True)
    (repo / "datasets/claims/card.yaml").write_text(samples.CARD)
    assert synthgov("budget", "new", "claims-db", *cap, cwd=repo).code == 0
    result = debit(synthgov, repo, "claims@1.0", *args)
    assert result.code == 2
    assert one_line(result.err) == f"{LEDGER}: {message}"


def test_a_release_is_debited_once(synthgov: Synthgov, gov: Path) -> None:
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5").code == 0
    result = debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5")
    assert result.code == 2
    assert one_line(result.err) == (
        "--release: claims@1.10 already has its debit: budgets/claims-db.yaml:12 (seq 1); "
        "a release is debited once"
    )


def test_a_broken_chain_is_refused(synthgov: Synthgov, gov: Path) -> None:
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5").code == 0
    path = gov / LEDGER
    path.write_text(path.read_text().replace("epsilon: 0.5", "epsilon: 0.1"))
    assert debit(synthgov, gov, "claims@1.11", "--epsilon", "0.5").code == 0  # entry 1 is first
    tampered = path.read_text()
    first = tampered.index("prev_sha256: ")
    tampered = tampered[:first] + "prev_sha256: " + "0" * 64 + tampered[first + 13 + 64 :]
    path.write_text(tampered)
    before = path.read_bytes()
    result = debit(synthgov, gov, "claims@1.12", "--epsilon", "0.5")
    assert result.code == 2
    line = tampered[:first].count("\n") + 1
    assert one_line(result.err).startswith(
        f"{LEDGER}:{line}: entry seq 1's prev_sha256 is not the sha256 of the header"
    )
    assert path.read_bytes() == before


def test_a_flow_list_of_entries_is_not_edited(synthgov: Synthgov, gov: Path) -> None:
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5").code == 0
    data = governance.load(gov, LEDGER).document.data
    entry = data["entries"][0]
    flow = (gov / LEDGER).read_text().split("entries:")[0] + (
        "entries: [{seq: 1, release: claims@1.10, mechanism: unspecified, "
        f"loss: {{epsilon: 0.5}}, recorded_at: '{entry['recorded_at']}', "
        f"prev_sha256: {entry['prev_sha256']}}}]\n"
    )
    (gov / LEDGER).write_text(flow)
    result = debit(synthgov, gov, "claims@1.11", "--epsilon", "0.5")
    assert result.code == 2 and "flow list" in result.err
    assert (gov / LEDGER).read_text() == flow


def test_record_debit_is_the_plain_function_release_new_calls(gov: Path) -> None:
    now = datetime(2026, 9, 2, 10, 0, 0, 123456, tzinfo=UTC)
    loss = Loss(rho=Decimal("0.1"))
    done = record_debit(
        gov, "claims-db", "claims@2.0", loss, mechanism="MST", parameters={"degree": 2}, now=now
    )
    assert done.written and done.entry.seq == 1
    assert done.entry.recorded_at == datetime(2026, 9, 2, 10, 0, tzinfo=UTC)
    assert done.before["spent"]["epsilon"] == 0.0 and done.after["spent"]["epsilon"] > 2.1
    refused = record_debit(
        gov,
        "claims-db",
        "claims@2.1",
        Loss(rho=Decimal("0.1")),
        mechanism=None,
        parameters={},
        now=now,
    )
    assert not refused.written and "would overdraw" in refused.message()
    assert len(ledger(gov).entries) == 1
    with pytest.raises(InputError, match="a pure ledger cannot record a zcdp loss"):
        assert (gov / "budgets").is_dir()
        (gov / "budgets/p.yaml").write_text(
            "schema_version: 1\nsource: p\nprivacy_unit: x\nnotion: pure\ncap: {epsilon: 1}\n"
        )
        record_debit(gov, "p", "claims@2.0", loss, mechanism=None, parameters={}, now=now)


def test_a_manifest_from_another_source_is_not_debited_here(synthgov: Synthgov, gov: Path) -> None:
    (gov / MANIFEST).parent.mkdir(parents=True)
    (gov / MANIFEST).write_text(samples.MANIFEST.replace("{id: claims-db,", "{id: elsewhere,"))
    result = debit(synthgov, gov, "claims@1.10", "--epsilon", "1.0", "--delta", "0.000001")
    assert result.code == 2
    assert one_line(result.err) == (
        f"{MANIFEST}:6: source.id is elsewhere, not claims-db: the release was not made from "
        "this ledger's source"
    )


def test_a_tab_after_a_colon_that_validate_accepts_is_debited(
    synthgov: Synthgov, gov: Path
) -> None:
    """Issue 15: the text editor read the ledger with another YAML parser than the loader
    (PyYAML's Python scanner refuses a tab after a colon; libyaml does not): `validate`
    passed and `budget debit` failed with an internal error. One parser reads both now."""
    assert debit(synthgov, gov, "claims@1.10", "--epsilon", "0.5").code == 0
    path = gov / LEDGER
    tabbed = path.read_text().replace("notion: approx", "notion:\tapprox")
    tabbed = tabbed.replace("    mechanism: unspecified", "    mechanism:\tunspecified")
    path.write_text(tabbed)
    assert synthgov("validate", LEDGER, cwd=gov).code == 0
    result = debit(synthgov, gov, "claims@1.11", "--epsilon", "0.5")
    assert result.code == 0, result.err
    assert path.read_text().startswith(tabbed)  # the tabs are the user's: kept
    assert [e.release for e in ledger(gov).entries] == ["claims@1.10", "claims@1.11"]
    assert synthgov("validate", LEDGER, cwd=gov).code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--epsilon", "1e-120"),
            "--epsilon: 1e-120 is out of range; expected a number from 1e-50 to 10000",
        ),
        (("--rho", "900000000000000"), "--rho: 900000000000000 is out of range; expected a number"),
        (
            ("--epsilon", "0.5", "--param", "note=" + "x" * 1001),
            "--param: note's value has more than 1000 characters",
        ),
    ],
)
def test_figures_out_of_range_and_long_parameters_are_one_line_exit_2(
    synthgov: Synthgov, gov: Path, args: tuple[str, ...], message: str
) -> None:
    before = (gov / LEDGER).read_bytes()
    result = debit(synthgov, gov, "claims@1.10", *args)
    assert result.code == 2
    assert one_line(result.err).startswith(message)
    assert (gov / LEDGER).read_bytes() == before


WORKER = """
import sys
from synthgov.cli import main
worker = sys.argv[1]
for n in range(20):
    main(["budget", "debit", "claims-db", "--release", f"claims@{worker}.{n}", "--epsilon", "0.001"])
"""


def test_eight_concurrent_debit_processes_lose_no_entry(gov: Path) -> None:
    """Issue 15: eight `budget debit` processes at once printed "debited … seq N" for
    entries that another one then overwrote. 8 processes x 20 debits: 160 entries, the
    chain intact, and every seq a process reported holds that process's release."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(w)],
            cwd=gov,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(1, 9)
    ]
    reported: dict[int, str] = {}
    for w, process in enumerate(workers, start=1):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        for found in re.finditer(r"^debited budgets/claims-db\.yaml: seq (\d+), (\S+),", err, re.M):
            reported[int(found.group(1))] = found.group(2)
            assert found.group(2).startswith(f"claims@{w}.")
        assert "internal error" not in err and "changed while" not in err, err
    entries = ledger(gov).entries
    assert len(entries) == 160 and len(reported) == 160
    assert {e.seq: e.release for e in entries} == reported
    assert ledgers.chain_issues(governance.load(gov, LEDGER).document.data) == []


def test_release_new_with_delta_zero_declares_a_pure_release() -> None:
    """`release new --epsilon 1 --delta 0` is what `budget debit` records: a pure debit,
    not an (epsilon, delta) release with a delta the loader refuses."""
    from synthgov.manifests import privacy_block

    block = privacy_block("ctgan", None, "1", "0", None)
    assert block == {
        "mechanism": "ctgan",
        "notion": "pure",
        "epsilon": privacy_block("ctgan", None, "1", None, None)["epsilon"],
    }
    assert privacy_block("ctgan", None, "1", "1e-6", None)["notion"] == "approx"
