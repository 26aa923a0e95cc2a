"""`synthgov budget status`: cap, spent, remaining and entries per ledger, as text with a
bar or as the JSON of BRIEF §6; ledgers with bad numbers are exit 2 at load time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT, ledgers, samples
from tests.helpers.cli import Synthgov


@pytest.fixture
def gov(repo: Path) -> Path:
    """Two ledgers: claims-db (approx, two debits) and wdbc (zCDP, one debit)."""
    (repo / "budgets").mkdir()
    approx = ledgers.build(
        [("claims@1.0", {"epsilon": "1.0", "delta": "0.0000001"}), ("claims@1.1", {"rho": "0.05"})]
    )
    (repo / "budgets/claims-db.yaml").write_text(approx)
    zcdp = ledgers.empty("zcdp", source="wdbc")
    (repo / "budgets/wdbc.yaml").write_text(ledgers.append(zcdp, "bc@1.0", rho="0.1"))
    return repo


def test_json_with_a_source_is_one_object(synthgov: Synthgov, gov: Path) -> None:
    result = synthgov("budget", "status", "claims-db", "--format", "json", cwd=gov)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) == {"source", "notion", "cap", "spent", "remaining", "entries"}
    assert (data["source"], data["notion"], data["entries"]) == ("claims-db", "approx", 2)
    assert data["cap"] == {"epsilon": 3.0, "delta": 1e-6}
    assert set(data["spent"]) == set(data["remaining"]) == {"epsilon", "delta"}
    # (1.0, 1e-7) plus rho 0.05 converted at the delta left: composed at the cap's delta
    assert data["spent"]["epsilon"] == pytest.approx(1.0 + 1.47867, abs=1e-5)
    assert data["spent"]["delta"] == 1e-6
    assert data["remaining"]["epsilon"] == pytest.approx(3.0 - data["spent"]["epsilon"])


def test_json_without_a_source_is_a_list_with_rho_for_zcdp(synthgov: Synthgov, gov: Path) -> None:
    result = synthgov("budget", "status", "--format", "json", cwd=gov)
    assert result.code == 0
    data = json.loads(result.out)
    assert [d["source"] for d in data] == ["claims-db", "wdbc"]
    wdbc = data[1]
    assert (
        set(wdbc["cap"])
        == set(wdbc["spent"])
        == set(wdbc["remaining"])
        == {"epsilon", "delta", "rho"}
    )
    assert (wdbc["cap"]["rho"], wdbc["spent"]["rho"], wdbc["remaining"]["rho"]) == (0.5, 0.1, 0.4)
    assert wdbc["spent"]["epsilon"] == pytest.approx(2.1419389283854744, rel=1e-6)


def test_text_shows_a_bar_per_ledger(synthgov: Synthgov, gov: Path) -> None:
    result = synthgov("budget", "status", cwd=gov)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "claims-db  (approx, 2 entries)"
    assert (
        lines[1] == "  " + "█" * 20 + "░" * 4 + "  83%  epsilon 2.47867 of 3 spent, 0.521334 left"
    )
    assert lines[2] == "  delta 1e-06 of 1e-06"
    assert lines[3] == "wdbc  (zcdp, 1 entry)"
    assert lines[4] == "  █████░░░░░░░░░░░░░░░░░░░  20%  rho 0.1 of 0.5 spent, 0.4 left"
    assert lines[5].startswith("  as epsilon at the cap's delta: 2.14194 of 5.22")


def test_an_infinite_epsilon_is_null_in_json(synthgov: Synthgov, repo: Path) -> None:
    (repo / "budgets").mkdir()
    exhausted = ledgers.build(
        [
            ("claims@1.0", {"epsilon": "0.1", "delta": "0.0000006"}),
            ("claims@1.1", {"epsilon": "0.1", "delta": "0.0000006"}),
        ]
    )
    (repo / "budgets/claims-db.yaml").write_text(exhausted)
    data = json.loads(synthgov("budget", "status", "claims-db", "--format", "json", cwd=repo).out)
    assert data["spent"]["epsilon"] is None and data["remaining"]["epsilon"] is None
    text = synthgov("budget", "status", cwd=repo).out
    assert "100%  epsilon infinite of 3 spent, infinite left" in text


def test_a_status_beyond_what_opendp_converts_shows_infinity_not_an_overflow(
    synthgov: Synthgov, repo: Path
) -> None:
    """Issue 15: OpenDP's conversion of rho overflows near 70,000; eight entries of rho
    10000 (each in range) in an over-drawn working copy still get a status."""
    (repo / "budgets").mkdir()
    text = ledgers.build(
        [(f"claims@1.{i}", {"rho": "10000"}) for i in range(8)],
        cap="{epsilon: 10000, delta: 0.000001}",
    )
    (repo / "budgets/claims-db.yaml").write_text(text)
    result = synthgov("budget", "status", "claims-db", "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["spent"]["epsilon"] is None and data["entries"] == 8


def test_no_ledgers_and_unknown_source(synthgov: Synthgov, repo: Path) -> None:
    assert json.loads(synthgov("budget", "status", "--format", "json", cwd=repo).out) == []
    result = synthgov("budget", "status", "nope", cwd=repo)
    assert result.code == 2
    assert result.err.strip() == (
        "budgets/nope.yaml: no such ledger; create it with `synthgov budget new nope`"
    )


def test_a_broken_chain_is_warned_about(synthgov: Synthgov, gov: Path) -> None:
    path = gov / "budgets/claims-db.yaml"
    path.write_text(path.read_text().replace("epsilon: 1.0", "epsilon: 0.5"))
    result = synthgov("budget", "status", "claims-db", cwd=gov)
    assert result.code == 0
    line = path.read_text().splitlines().index("  - seq: 2") + 1 + 7  # its prev_sha256
    assert result.err.startswith(
        f"budgets/claims-db.yaml:{line}: warning: entry seq 2's prev_sha256 is not the sha256 "
        "of entry seq 1"
    )


def _edit(old: str, new: str) -> str:
    text = ledgers.build([("claims@1.0", {"epsilon": "1.0", "delta": "0.0000001"})])
    assert old in text
    return text.replace(old, new, 1)


# Numbers a ledger must never hold: refused when the file is loaded, with file:line: field.
BAD = {
    "NaN epsilon": (
        _edit("epsilon: 1.0", "epsilon: .nan"),
        "13:16: non-finite number .nan is not allowed",
    ),
    "infinite epsilon": (
        _edit("epsilon: 1.0", "epsilon: .inf"),
        "13:16: non-finite number .inf is not allowed",
    ),
    "negative epsilon": (
        _edit("epsilon: 1.0", "epsilon: -1.0"),
        "13:16: entries.0.loss.epsilon: expected a finite positive number, got -1.0",
    ),
    "zero rho": (
        _edit("epsilon: 1.0\n      delta: 0.0000001", "rho: 0"),
        "13:12: entries.0.loss.rho: expected a finite positive number, got 0",
    ),
    "string epsilon": (
        _edit("epsilon: 1.0", 'epsilon: "1.0"'),
        "13:16: entries.0.loss.epsilon: expected a positive number",
    ),
    "boolean delta": (
        _edit("delta: 0.0000001", "delta: true"),
        "14:14: entries.0.loss.delta: expected a positive number",
    ),
    "underflow": (
        _edit("delta: 0.0000001", "delta: 1e-400"),
        "14:14: number 1e-400 is too small to represent (it would read as 0)",
    ),
    "negative cap": (
        _edit("epsilon: 3.0,", "epsilon: -3.0,"),
        "6:16: cap.epsilon: expected a finite positive number, got -3.0",
    ),
    "delta of 1": (
        _edit("delta: 0.0000001", "delta: 1"),
        "14:14: entries.0.loss.delta: must be below 1",
    ),
    "rho of 9e14": (
        _edit("epsilon: 1.0\n      delta: 0.0000001", "rho: 900000000000000"),
        "13:12: entries.0.loss.rho: expected a number from 1e-50 to 10000, got 900000000000000",
    ),
    "tiny epsilon": (
        _edit("epsilon: 1.0", "epsilon: 1e-60"),
        "13:16: entries.0.loss.epsilon: expected a number from 1e-50 to 10000, got 1E-60",
    ),
    "huge cap": (
        _edit("epsilon: 3.0,", "epsilon: 30000,"),
        "6:16: cap.epsilon: expected a number from 1e-50 to 10000, got 30000",
    ),
}


@pytest.mark.parametrize(("text", "message"), BAD.values(), ids=BAD.keys())
def test_bad_numbers_are_exit_2_at_load_time(
    synthgov: Synthgov, repo: Path, text: str, message: str
) -> None:
    (repo / "budgets").mkdir()
    (repo / "budgets/claims-db.yaml").write_text(text)
    result = synthgov("budget", "status", "claims-db", cwd=repo)
    assert result.code == 2
    assert result.err.strip().splitlines()[0].startswith(f"budgets/claims-db.yaml:{message}")
    assert samples  # the same values are refused in manifests (tests/test_models.py)


WORKED = [
    (
        "budget",
        "debit",
        "claims-2024",
        "--release",
        "claims@2026.03",
        "--rho",
        "0.05",
        "--mechanism",
        "MST",
    ),
    (
        "budget",
        "debit",
        "claims-2024",
        "--release",
        "claims@2026.06",
        "--epsilon",
        "0.5",
        "--delta",
        "1e-7",
        "--mechanism",
        "AIM",
        "--param",
        "degree=2",
    ),
    (
        "budget",
        "debit",
        "claims-2024",
        "--release",
        "claims@2026.09",
        "--epsilon",
        "0.3",
        "--mechanism",
        "Laplace counts",
    ),
    (
        "budget",
        "debit",
        "claims-2024",
        "--release",
        "claims@2026.12",
        "--rho",
        "0.1",
        "--mechanism",
        "MST",
    ),
    (
        "budget",
        "debit",
        "wdbc",
        "--release",
        "breast-cancer@1.0",
        "--rho",
        "0.1",
        "--mechanism",
        "AIM",
    ),
    (
        "budget",
        "debit",
        "wdbc",
        "--release",
        "breast-cancer@1.1",
        "--epsilon",
        "0.5",
        "--mechanism",
        "DP histogram",
    ),
    ("budget", "status"),
]


def test_the_worked_example_in_the_docs_is_what_synthgov_prints(
    synthgov: Synthgov, tmp_path: Path
) -> None:
    """docs/privacy-accounting.md replays debits on a copy of the shipped ledgers."""
    import shlex
    import shutil

    for top in ("policy", "datasets", "budgets"):
        shutil.copytree(ROOT / top, tmp_path / top)
    lines = ["```console"]
    for args in WORKED:
        result = synthgov(*args, cwd=tmp_path)
        assert result.code == (1 if "claims@2026.12" in args else 0), result.err
        lines += [f"$ synthgov {shlex.join(args)}", *(result.out + result.err).splitlines()]
    doc = (ROOT / "docs/privacy-accounting.md").read_text()
    assert "\n".join([*lines, "```"]) in doc
    status = synthgov("budget", "status", "wdbc", "--format", "json", cwd=tmp_path).out
    assert f"```json\n{status}```" in doc
