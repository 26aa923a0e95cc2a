"""The accounting core: the canonical rule against the research vectors, hand-computed
totals, exact decimal boundaries, OpenDP cross-checks, and monotonicity (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.budget import accounting
from synthgov.budget.accounting import INFINITY, compose, fits, rho_of, spent, summary
from synthgov.models.common import Notion
from synthgov.models.ledger import Cap
from synthgov.models.loss import Loss
from tests.helpers import ROOT

D = Decimal
TARGET = D("0.000001")


def loss(**figures: str) -> Loss:
    return Loss.model_validate({k: D(v) for k, v in figures.items()})


def cap(**figures: str) -> Cap:
    return Cap.model_validate({k: D(v) for k, v in figures.items()})


def close(actual: Decimal, expected: float, rel: float) -> bool:
    if math.isinf(expected):
        return actual == INFINITY
    return math.isclose(float(actual), expected, rel_tol=rel)


# research/privacy-accounting.md §7: entries, target delta, expected (epsilon, delta, rule,
# rho of the zCDP part), the budget (epsilon, delta) and the gate's decision.
VECTORS = [
    ("empty", [], 0.0, 0.0, "empty", "0", ("1.0", "0.000001"), True),
    (
        "single_pure",
        [loss(epsilon="0.5")],
        0.5,
        0.0,
        "R1 pure-as-approx",
        "0",
        ("1.0", "0.000001"),
        True,
    ),
    (
        "single_zcdp",
        [loss(rho="0.1")],
        2.1419389283854744,
        1e-6,
        "no pure entries",
        "0.1",
        ("3.0", "0.000001"),
        True,
    ),
    (
        "mixed_all_kinds",
        [
            loss(epsilon="0.5"),
            loss(epsilon="0.3", delta="0.0000002"),
            loss(rho="0.05"),
            loss(rho="0.02"),
        ],
        2.5824892682628064,
        1e-6,
        "R1 pure-as-approx",
        "0.07",
        ("3.0", "0.000001"),
        True,
    ),
    (
        "zcdp_sum",
        [loss(rho="0.05"), loss(rho="0.05"), loss(rho="0.1")],
        3.131055680764348,
        1e-6,
        "no pure entries",
        "0.2",
        ("3.0", "0.000001"),
        False,
    ),
    (
        "delta_exhausted_over",
        [loss(epsilon="0.1", delta="0.0000006")] * 2,
        math.inf,
        1e-6,
        "no pure entries",
        "0",
        ("5.0", "0.000001"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "losses", "epsilon", "delta", "rule", "rho", "budget", "passes"),
    VECTORS,
    ids=[v[0] for v in VECTORS],
)
def test_the_research_vectors(
    name: str,
    losses: list[Loss],
    epsilon: float,
    delta: float,
    rule: str,
    rho: str,
    budget: tuple[str, str],
    passes: bool,
) -> None:
    total = compose(losses, TARGET)
    # §5: 1e-9 relative for sums, 1e-6 for anything through a zCDP conversion
    assert close(total.epsilon, epsilon, 1e-6 if total.rho else 1e-9), total
    assert float(total.delta) == pytest.approx(delta, rel=1e-9)
    assert (total.rule, total.rho) == (rule, D(rho))
    ledger_cap = cap(epsilon=budget[0], delta=budget[1])
    assert fits(Notion.APPROX, ledger_cap, losses) is passes
    assert spent(Notion.APPROX, ledger_cap, losses).within(ledger_cap) is passes


def test_pure_only_is_the_exact_sum_with_no_delta() -> None:
    losses = [loss(epsilon="0.5"), loss(epsilon="0.3"), loss(epsilon="0.2")]
    assert compose(losses, D(0)) == accounting.Total(D("1.0"), D(0), "R1 pure-as-approx")
    # at a positive delta the other splits are worse for these few large entries
    assert compose(losses, TARGET).epsilon == D("1.0")


def test_approx_only_adds_epsilon_and_delta_exactly() -> None:
    losses = [loss(epsilon="1.0", delta="0.0000001"), loss(epsilon="0.5", delta="0.0000002")]
    total = compose(losses, TARGET)
    assert (total.epsilon, total.delta) == (D("1.5"), D("0.0000003"))
    over = [*losses, loss(epsilon="0.1", delta="0.0000008")]
    assert compose(over, TARGET).epsilon == INFINITY  # delta 1.1e-6 > 1e-6


def test_many_small_pure_entries_are_cheaper_as_zcdp() -> None:
    """research §6: 1,000 x epsilon 0.01 at delta 1e-6 is about 1.472 by R2, not 10."""
    total = compose([loss(epsilon="0.01")] * 1000, TARGET)
    assert total.rule == "R2 pure-as-zcdp" and total.rho == D("0.05")
    assert float(total.epsilon) == pytest.approx(1.472, abs=5e-4)


def test_a_split_between_distinct_values_can_win() -> None:
    """One large entry as (2.0, 0) plus 400 small ones as zCDP beats both R1 (6.0) and R2."""
    losses = [loss(epsilon="2.0")] + [loss(epsilon="0.01")] * 400
    total = compose(losses, TARGET)
    assert total.rule == "split: the 1 largest pure entries as approx, 400 as zCDP"
    assert total.rho == D("0.02")  # 400 x 0.01² / 2
    r2 = compose([loss(rho="2.02")], TARGET).epsilon  # all 401 as zCDP: rho 2 + 0.02
    converted = compose([loss(rho="0.02")], TARGET).epsilon
    assert math.isclose(float(total.epsilon), 2.0 + float(converted), rel_tol=1e-15)
    assert total.epsilon < D("6.0") and total.epsilon < r2


def test_zcdp_with_nothing_left_of_delta_is_infinite() -> None:
    assert compose([loss(rho="0.1")], D(0)).epsilon == INFINITY
    exhausted = [loss(epsilon="0.1", delta="0.000001"), loss(rho="0.01")]
    assert compose(exhausted, TARGET).epsilon == INFINITY  # other delta == target, rho > 0
    assert compose([loss(rho="0.01", delta="0.000002")], TARGET).epsilon == INFINITY


# --- the cap boundary (BRIEF §10.11) -------------------------------------------------------


def test_ten_debits_of_a_tenth_exactly_fill_a_cap_of_one() -> None:
    tenths = [loss(epsilon="0.1")] * 10
    assert sum(0.1 for _ in range(10)) != 1.0  # what a float sum would get wrong
    assert fits(Notion.PURE, cap(epsilon="1.0"), tenths)
    assert compose(tenths, D(0)).epsilon == D("1.0")
    assert not fits(Notion.PURE, cap(epsilon="1.0"), [*tenths, loss(epsilon="0.000000000000001")])
    approx = [loss(epsilon="0.1", delta="0.0000001")] * 10
    assert fits(Notion.APPROX, cap(epsilon="1.0", delta="0.000001"), approx)
    assert not fits(Notion.APPROX, cap(epsilon="0.999999999999999", delta="0.000001"), approx)


def test_a_zcdp_ledger_compares_exact_rho() -> None:
    zcdp_cap = cap(rho="0.5", delta="0.000001")
    assert fits(Notion.ZCDP, zcdp_cap, [loss(rho="0.25"), loss(rho="0.25")])
    assert fits(Notion.ZCDP, zcdp_cap, [loss(epsilon="1")])  # rho = 1/2 exactly
    assert not fits(Notion.ZCDP, zcdp_cap, [loss(epsilon="1"), loss(rho="0.000000000000001")])
    assert rho_of([loss(epsilon="0.1"), loss(rho="0.3")]) == D("0.305")


def test_epsilon_squared_over_two_equals_opendps_conversion() -> None:
    """Exact decimal epsilon²/2 is what OpenDP's make_pureDP_to_zCDP computes, rounded up."""
    dp = accounting._opendp()
    import opendp.combinators as combinators
    import opendp.measures as measures

    for text in ("0.1", "0.5", "1.0", "1.7", "0.003"):
        pure = dp.make_user_measurement(
            dp.atom_domain(T=int),
            dp.absolute_distance(T=int),
            measures.max_divergence(),
            function=lambda x: x,
            privacy_map=lambda d_in, e=float(text): e,
        )
        theirs = combinators.make_pureDP_to_zCDP(pure).map(1)
        ours = rho_of([loss(epsilon=text)])
        assert D(theirs) >= ours and math.isclose(theirs, float(ours), rel_tol=1e-15)


def test_whole_opendp_composition_agrees() -> None:
    """The research sketch done entirely in OpenDP (entries composed by make_composition,
    then one conversion) gives the same total as exact sums plus one OpenDP conversion."""
    dp = accounting._opendp()
    import opendp.combinators as combinators
    import opendp.measures as measures

    def recorded(measure: Any, value: Any) -> Any:
        return dp.make_user_measurement(
            dp.atom_domain(T=int),
            dp.absolute_distance(T=int),
            measure,
            function=lambda x: x,
            privacy_map=lambda d_in: value,
        )

    approx_zcdp = measures.approximate(measures.zero_concentrated_divergence())
    rhos, approx = [0.05, 0.02, 0.013], [(0.3, 2e-7), (0.2, 1e-7)]
    zcdp_part = combinators.make_composition([recorded(approx_zcdp, (r, 0.0)) for r in rhos])
    approx_part = combinators.make_composition(
        [recorded(measures.approximate(measures.max_divergence()), a) for a in approx]
    )
    approx_eps, approx_delta = approx_part.map(1)
    rho, _ = zcdp_part.map(1)
    both = recorded(approx_zcdp, (rho, approx_delta))
    converted, _ = combinators.make_fix_delta(combinators.make_zCDP_to_approxDP(both), 1e-6).map(1)
    ours = compose(
        [loss(rho=str(r)) for r in rhos]
        + [loss(epsilon=str(e), delta=format(D(str(d)), "f")) for e, d in approx],
        TARGET,
    )
    assert math.isclose(float(ours.epsilon), approx_eps + converted, rel_tol=1e-9)


def test_floats_round_against_us() -> None:
    tenth = D("0.1")
    assert D(accounting._up(tenth)) >= tenth and D(accounting._down(tenth)) <= tenth
    third = D(1) / D(3)
    assert D(accounting._up(third)) >= third >= D(accounting._down(third))


def test_summary_has_the_json_shape_of_the_brief() -> None:
    approx = summary(
        "s",
        Notion.APPROX,
        cap(epsilon="3.0", delta="0.000001"),
        [loss(epsilon="1.0", delta="0.0000001")],
    )
    assert approx == {
        "source": "s",
        "notion": "approx",
        "entries": 1,
        "cap": {"epsilon": 3.0, "delta": 1e-6},
        "spent": {"epsilon": 1.0, "delta": 1e-7},
        "remaining": {"epsilon": 2.0, "delta": 9e-7},
    }
    zcdp = summary("w", Notion.ZCDP, cap(rho="0.5", delta="0.000001"), [loss(rho="0.1")])
    assert zcdp["cap"]["rho"] == 0.5 and zcdp["spent"]["rho"] == 0.1
    assert zcdp["remaining"]["rho"] == 0.4
    assert zcdp["spent"]["epsilon"] == pytest.approx(2.1419389283854744, rel=1e-6)
    assert zcdp["cap"]["epsilon"] > zcdp["spent"]["epsilon"]
    exhausted = summary(
        "s",
        Notion.APPROX,
        cap(epsilon="3.0", delta="0.000001"),
        [loss(epsilon="0.1", delta="0.0000006")] * 2,
    )
    assert exhausted["spent"]["epsilon"] is None and exhausted["remaining"]["epsilon"] is None


# --- properties ----------------------------------------------------------------------------

FIGURES = st.sampled_from(["0.01", "0.05", "0.1", "0.3", "1.0", "2.5"])
DELTAS = st.sampled_from(["0.00000001", "0.0000001", "0.0000003"])
LOSSES = st.one_of(
    st.builds(lambda e: loss(epsilon=e), FIGURES),
    st.builds(lambda e, d: loss(epsilon=e, delta=d), FIGURES, DELTAS),
    st.builds(lambda r: loss(rho=r), FIGURES),
    st.builds(lambda r, d: loss(rho=r, delta=d), FIGURES, DELTAS),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(LOSSES, max_size=6), LOSSES)
def test_adding_an_entry_never_lowers_the_composed_epsilon(losses: list[Loss], extra: Loss) -> None:
    before, after = compose(losses, TARGET), compose([*losses, extra], TARGET)
    assert after.epsilon >= before.epsilon


@settings(max_examples=60, deadline=None)
@given(st.lists(LOSSES, max_size=6), st.sampled_from(["1.0", "3.0", "8.0"]))
def test_the_fast_decision_is_the_canonical_one(losses: list[Loss], budget: str) -> None:
    """`fits` skips OpenDP where exact sums decide; it must agree with the full rule."""
    ledger_cap = cap(epsilon=budget, delta="0.000001")
    assert ledger_cap.epsilon is not None
    assert fits(Notion.APPROX, ledger_cap, losses) is (
        compose(losses, TARGET).epsilon <= ledger_cap.epsilon
    )


def test_exact_decisions_do_not_import_opendp() -> None:
    """`check` pays for OpenDP (about 0.3 s) only when a conversion is needed."""
    import subprocess
    import sys

    probe = """
import sys
from decimal import Decimal as D
from synthgov.budget.accounting import fits
from synthgov.models.common import Notion
from synthgov.models.ledger import Cap
from synthgov.models.loss import Loss
pure, approx = Loss(epsilon=D("0.5")), Loss(epsilon=D("1.0"), delta=D("0.0000001"))
assert fits(Notion.PURE, Cap(epsilon=D("1")), [pure, pure])
assert fits(Notion.APPROX, Cap(epsilon=D("3"), delta=D("0.000001")), [pure, approx])
assert not fits(Notion.APPROX, Cap(epsilon=D("1"), delta=D("0.000001")), [approx, approx])
assert fits(Notion.ZCDP, Cap(rho=D("0.5"), delta=D("0.000001")), [Loss(rho=D("0.2")), pure])
print("opendp" in sys.modules)
fits(Notion.APPROX, Cap(epsilon=D("3"), delta=D("0.000001")), [Loss(rho=D("0.1"))])
print("opendp" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["False", "True"], done.stderr
