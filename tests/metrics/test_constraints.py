"""`constraints.validity`: three-valued evaluation on tiny tables, the metric, and a property
test against an independent row-by-row reference."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.errors import InputError
from synthgov.expressions import parse_rule
from synthgov.files import governance
from synthgov.metrics.constraints import VALIDITY, evaluate, measure
from synthgov.metrics.encoding import Tables
from synthgov.metrics.measurement import Context, Measurement
from synthgov.models.card import Card
from tests.helpers import ROOT
from tests.helpers.tables import card_for, make_tables

T, F, N = True, False, None

# Five synthetic rows; the real and holdout rows only add categories ('central', 'west').
COLUMNS: dict[str, Any] = {
    "x": ("integer", [0, 1, 2], [0, 1, 2], [1, -1, None, 0, 5]),
    "y": ("number", [0.0, 1, 2], [0.0, 1, 2], [2.0, 0.0, 1.0, None, 0.5]),
    "region": (
        "categorical",
        ["central", "north", "south"],
        ["east"] * 3,
        ["north", "south", None, "north", "east"],
    ),
    "home": (
        "categorical",
        ["west", "north", "south"],
        ["east"] * 3,
        ["north", "west", "south", None, "east"],
    ),
    "flag": ("boolean", [True, False, True], [True] * 3, [True, False, None, True, False]),
    "admitted": (
        "date",
        ["2024-01-01"] * 3,
        ["2024-01-01"] * 3,
        ["2024-01-01", "2024-01-05", "2024-01-03", None, "2024-01-02"],
    ),
    "discharged": (
        "date",
        ["2024-01-01"] * 3,
        ["2024-01-01"] * 3,
        ["2024-01-02", "2024-01-04", "2024-01-03", "2024-01-01", None],
    ),
    "seen_at": (
        "datetime",
        ["2024-01-01T00:00:00"] * 3,
        ["2024-01-01T00:00:00"] * 3,
        [
            "2024-01-01T12:00:00",
            "2024-01-04T00:00:00",
            None,
            "2024-01-01T00:00:00",
            "2024-01-02T00:00:00",
        ],
    ),
}


@pytest.fixture(scope="module")
def tables() -> Tables:
    return make_tables(COLUMNS)


TYPES = card_for({name: spec[0] for name, spec in COLUMNS.items()}).columns


def truths(rule: str, tables: Tables) -> list[bool | None]:
    truth = evaluate(parse_rule(rule, {c.name: c.type for c in TYPES}), tables)
    return [T if t else F if f else N for t, f in zip(truth.true, truth.false, strict=True)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # x: 1, -1, null, 0, 5 and y: 2, 0, 1, null, 0.5
        ("x >= 0", [T, F, N, T, T]),
        ("not (x >= 0)", [F, T, N, F, F]),
        ("x > 0 and y > 0", [T, F, N, F, T]),  # null and true = null; false and null = false
        ("x > 0 or y > 0", [T, F, T, N, T]),  # null or true = true; false or null = null
        ("x / y > 0", [T, N, N, N, T]),  # -1 / 0 and 5 / 0.5: a division by zero is null
        ("(x / y) is null", [F, T, T, T, F]),
        ("x + y * 2 == 5", [T, F, N, N, F]),  # 1 + 4; -1 + 0; null; null; 5 + 1
        ("-x < 0", [T, F, N, F, T]),  # -0 < 0 is false
        ("x in (1, 5)", [T, F, N, F, T]),
        ("x not in (1, 5)", [F, T, N, T, F]),
        ("x is not null", [T, T, F, T, T]),
        # region: north, south, null, north, east
        ("region == 'north'", [T, F, N, T, F]),
        ("'north' != region", [F, T, N, F, T]),
        ("region == 'nowhere'", [F, F, N, F, F]),  # a label not among the categories
        ("region != 'nowhere'", [T, T, N, T, T]),
        ("region in ('east', 'nowhere')", [F, F, N, F, T]),
        ("region is null", [F, F, T, F, F]),
        # home: north, west, south, null, east -- other categories, so other codes
        ("region == home", [T, F, N, N, T]),
        ("region != home", [F, T, N, N, F]),
        # flag: true, false, null, true, false
        ("flag", [T, F, N, T, F]),
        ("not flag", [F, T, N, F, T]),
        ("flag == false", [F, T, N, F, T]),
        ("flag in (true)", [T, F, N, T, F]),
        ("flag not in (false)", [T, F, N, T, F]),
        ("flag is not null", [T, T, F, T, T]),
        ("flag == (x > 0)", [T, T, N, F, F]),
        # admitted: 01-01, 01-05, 01-03, null, 01-02; discharged: 01-02, 01-04, 01-03, 01-01, null
        ("discharged >= admitted", [T, F, T, N, N]),
        ("discharged - admitted <= 0", [F, T, T, N, N]),  # 1, -1, 0 days
        ("admitted >= '2024-01-03'", [F, T, T, N, F]),
        ("admitted in ('2024-01-02', '2024-01-05')", [F, T, F, N, T]),
        ("admitted - '2024-01-01' == 4", [F, T, F, N, F]),
        # seen_at: 01-01 12:00, 01-04, null, 01-01, 01-02
        ("seen_at >= admitted", [T, F, N, N, T]),
        ("seen_at - admitted == 0.5", [T, F, N, N, F]),  # days, fractional for date-times
        ("seen_at < '2024-01-01T12:00:00+01:00'", [F, F, N, T, F]),  # 11:00 UTC
        ("true", [T, T, T, T, T]),
        ("false or x is null", [F, F, T, F, F]),
    ],
)
def test_three_valued_results(tables: Tables, rule: str, expected: list[bool | None]) -> None:
    assert truths(rule, tables) == expected


def test_satisfied_is_not_false(tables: Tables) -> None:
    truth = evaluate(parse_rule("x > 0 or y > 0", {c.name: c.type for c in TYPES}), tables)
    assert truth.satisfied.tolist() == [True, False, True, True, True]  # null passes


def _card(*rules: str, **columns: str) -> Card:
    types = columns or {name: spec[0] for name, spec in COLUMNS.items()}
    constraints = [{"name": f"r{i}", "rule": rule} for i, rule in enumerate(rules)]
    return card_for(types, constraints=constraints)


def test_measure_every_rule_and_all_of_them(tables: Tables) -> None:
    card = _card("x >= 0", "region != 'nowhere'", "x > 0 and y > 0", "flag is not null")
    found = measure(tables, Context(), card)
    # passes per row: r0 1,0,1,1,1; r1 all; r2 1,0,1,0,1; r3 1,1,0,1,1; all: rows 0 and 4
    assert [(m.id, m.value, m.n, m.extra) for m in found] == [
        (VALIDITY, 0.4, 5, {}),
        (VALIDITY, 0.8, 5, {"rule": "r0"}),
        (VALIDITY, 1.0, 5, {"rule": "r1"}),
        (VALIDITY, 0.6, 5, {"rule": "r2"}),
        (VALIDITY, 0.8, 5, {"rule": "r3"}),
    ]
    assert found[0].method == (
        "share of rows satisfying all 4 rule(s); "
        "a rule holds unless it is false: an unknown (null) result passes, as in SQL CHECK"
    )
    assert found[1].method is not None and found[1].method.startswith(
        "share of rows satisfying `x >= 0`;"
    )
    assert found[2].as_json()["rule"] == "r1"


def test_a_card_without_constraints_is_fully_valid(tables: Tables) -> None:
    assert measure(tables, Context(), _card()) == [
        Measurement(VALIDITY, 1.0, n=5, method="the card has no row constraints")
    ]


def test_a_rule_on_a_column_missing_from_the_synthetic_table_fails_every_row(
    tables: Tables,
) -> None:
    card = _card("x >= 0", "gone > 0 or x > 0", x="integer", gone="number")
    found = measure(tables, Context(), card)
    assert [m.value for m in found] == [0.0, 0.8, 0.0]
    assert found[2].method == (
        "`gone > 0 or x > 0` reads gone, absent from the synthetic table: every row fails"
    )


def test_a_rule_that_does_not_fit_the_card_is_an_input_error(tables: Tables) -> None:
    with pytest.raises(InputError) as caught:
        measure(tables, Context(), _card("x >= 0", "amout >= 0"))
    assert str(caught.value) == (
        "datasets/t/card.yaml: constraints.1.rule (r1): unknown column 'amout'"
    )


def test_the_claims_card_constraints() -> None:
    card = governance.load(ROOT, "datasets/claims/card.yaml", Card).model
    tables = make_tables(
        {
            "claim_amount": ("number", [1.0], [1.0], [100.0, 5.0, -1.0, None]),
            "admitted": (
                "date",
                ["2024-03-01"],
                ["2024-03-01"],
                ["2024-03-01", "2024-03-05", "2024-03-09", "2024-03-09"],
            ),
            "discharged": (
                "date",
                ["2024-03-01"],
                ["2024-03-01"],
                ["2024-03-02", "2024-03-04", "2024-03-09", None],
            ),
        }
    )
    found = measure(tables, Context(), card)
    # amount >= 0: pass, pass, fail, null passes; discharged >= admitted: pass, fail, pass
    # (same day), null passes; both: rows 0 and 3
    assert [(m.value, m.extra) for m in found] == [
        (0.5, {}),
        (0.75, {"rule": "non-negative-amount"}),
        (0.75, {"rule": "discharge-after-admission"}),
    ]


# --- property: the vectorised result equals an independent row-by-row evaluation ---------

SCHEMA = {
    "x": "integer",
    "y": "number",
    "d": "date",
    "t": "datetime",
    "c": "categorical",
    "k": "categorical",
    "b": "boolean",
}
Row = dict[str, Any]


@dataclass(frozen=True, repr=False)
class Ref:
    """A generated rule fragment: its text, and its value on one row (None is null)."""

    text: str
    run: Callable[[Row], Any]

    def __repr__(self) -> str:
        return self.text


def _column(name: str, convert: Callable[[Any], Any]) -> Ref:
    return Ref(name, lambda row: None if row[name] is None else convert(row[name]))


def _const(text: str, value: Any) -> Ref:
    return Ref(text, lambda row: value)


def _moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _arith(op: str, left: Ref, right: Ref) -> Ref:
    apply = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}[op]

    def run(row: Row) -> float | None:
        a, b = left.run(row), right.run(row)
        if a is None or b is None or (op == "/" and b == 0):
            return None
        value = apply(a, b)
        return None if math.isnan(value) else value

    return Ref(f"({left.text} {op} {right.text})", run)


def _negate(operand: Ref) -> Ref:
    return Ref(f"(-{operand.text})", lambda row: None if (v := operand.run(row)) is None else -v)


def _elapsed(later: Ref, earlier: Ref) -> Ref:
    def run(row: Row) -> float | None:
        a, b = later.run(row), earlier.run(row)
        return None if a is None or b is None else (a - b).total_seconds() / 86_400

    return Ref(f"({later.text} - {earlier.text})", run)


def _cmp(op: str, left: Ref, right: Ref) -> Ref:
    compare = {
        "==": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }[op]

    def run(row: Row) -> bool | None:
        a, b = left.run(row), right.run(row)
        return None if a is None or b is None else bool(compare(a, b))

    return Ref(f"({left.text} {op} {right.text})", run)


def _in(operand: Ref, items: list[Ref], negated: bool, word: str) -> Ref:
    def run(row: Row) -> bool | None:
        value = operand.run(row)
        if value is None:
            return None
        return any(value == item.run(row) for item in items) != negated

    listed = ", ".join(item.text for item in items)
    return Ref(f"({operand.text} {'not ' if negated else ''}{word} ({listed}))", run)


def _is_null(operand: Ref, negated: bool) -> Ref:
    return Ref(
        f"({operand.text} is {'not ' if negated else ''}null)",
        lambda row: (operand.run(row) is None) != negated,
    )


def _logical(word: str, operands: list[Ref]) -> Ref:
    def run(row: Row) -> bool | None:  # Kleene: false (and) / true (or) dominates null
        values = [o.run(row) for o in operands]
        dominant = word.lower() == "or"
        return dominant if dominant in values else None if None in values else not dominant

    return Ref("(" + f" {word} ".join(o.text for o in operands) + ")", run)


def _not(operand: Ref) -> Ref:
    return Ref(
        f"(not {operand.text})", lambda row: None if (v := operand.run(row)) is None else not v
    )


def _either_order(
    column: st.SearchStrategy[Ref], other: st.SearchStrategy[Ref]
) -> st.SearchStrategy[tuple[Ref, Ref]]:
    """Two operands, at least one a column (two literals do not bind), in either order."""
    return st.tuples(column, other, st.booleans()).map(lambda t: (t[1], t[0]) if t[2] else t[:2])


def _items(literal: st.SearchStrategy[Ref]) -> st.SearchStrategy[list[Ref]]:
    return st.lists(literal, min_size=1, max_size=3)


ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
equality = st.sampled_from(["==", "!="])
negated = st.booleans()
in_word = st.sampled_from(["in", "IN", "In"])  # keywords are case-insensitive

number_literals = st.sampled_from([0.0, 0.0, 1.0, 2.0, -1.0, 0.5, 2.5, 1000.0]).map(
    lambda v: _const(repr(v), v)
)
date_literals = st.sampled_from(
    ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02T12:00:00"]
).map(lambda s: _const(f"'{s}'", _moment(datetime.fromisoformat(s))))
date_columns = st.sampled_from([_column("d", _moment), _column("t", _moment)])
label_columns = st.sampled_from([_column("c", str), _column("k", str)])
label_literals = st.sampled_from(["a", "b", "q"]).map(lambda s: _const(f'"{s}"', s))
flag = _column("b", bool)
booleans = st.sampled_from([_const("true", True), _const("FALSE", False)])

numbers = st.recursive(
    st.one_of(
        st.sampled_from([_column("x", float), _column("y", float)]),
        number_literals,
        _either_order(date_columns, date_columns | date_literals).map(lambda p: _elapsed(*p)),
    ),
    lambda inner: st.one_of(
        inner.map(_negate),
        st.builds(_arith, st.sampled_from("+-*/"), inner, inner),
        st.builds(
            _arith, st.just("/"), inner, st.sampled_from([_column("y", float), _const("0.0", 0.0)])
        ),
    ),  # the last: division by zero, often
    max_leaves=4,
)
conditions = st.recursive(
    st.one_of(
        st.just(flag),
        booleans,
        st.builds(_cmp, ops, numbers, numbers),
        st.builds(
            lambda op, p: _cmp(op, *p),
            ops,
            _either_order(date_columns, date_columns | date_literals),
        ),
        st.builds(
            lambda op, p: _cmp(op, *p),
            equality,
            _either_order(label_columns, label_columns | label_literals),
        ),
        st.builds(_is_null, numbers | date_columns | label_columns | st.just(flag), negated),
        st.builds(_in, numbers, _items(number_literals), negated, in_word),
        st.builds(_in, label_columns, _items(label_literals), negated, in_word),
        st.builds(_in, date_columns, _items(date_literals), negated, in_word),
        st.builds(_in, st.just(flag), _items(booleans), negated, in_word),
    ),
    lambda inner: st.one_of(
        st.builds(
            _logical,
            st.sampled_from(["and", "or", "AND", "Or"]),
            st.lists(inner, min_size=2, max_size=3),
        ),
        st.builds(
            _logical, st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)
        ),
        inner.map(_not),
        st.builds(_cmp, equality, inner, inner),
    ),
    max_leaves=6,
)


def _value(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "x": st.integers(-2, 3),
    "y": st.sampled_from([-1.5, 0.0, 0.0, 0.5, 2.0]),
    "d": st.dates(date(2024, 1, 1), date(2024, 1, 4)),
    "t": st.sampled_from([datetime(2024, 1, 1), datetime(2024, 1, 2, 12), datetime(2024, 1, 3, 6)]),
    "c": st.sampled_from(["a", "b", "c"]),
    "k": st.sampled_from(["a", "b", "z"]),
    "b": st.booleans(),
}
full_rows = st.fixed_dictionaries(VALUES)  # one row without nulls: no column is all missing
rows = st.lists(st.fixed_dictionaries({n: _value(s) for n, s in VALUES.items()}), max_size=12)
# 'A' sorts first: k's codes differ from c's for the same label
REFERENCE_ROWS: dict[str, list[Any]] = {
    "x": [0],
    "y": [0.0],
    "d": ["2024-01-01"],
    "t": ["2024-01-01T00:00:00"],
    "c": ["a"],
    "k": ["A"],
    "b": [True],
}


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value  # datetime is a date too


@settings(max_examples=120, deadline=None)
@given(rules=st.lists(conditions, min_size=1, max_size=4), first=full_rows, rest=rows)
def test_vectorised_evaluation_equals_a_row_by_row_reference(
    rules: list[Ref], first: Row, rest: list[Row]
) -> None:
    synthetic = [first, *rest]
    tables = make_tables(
        {
            name: (
                kind,
                REFERENCE_ROWS[name],
                REFERENCE_ROWS[name],
                [_cell(r[name]) for r in synthetic],
            )
            for name, kind in SCHEMA.items()
        }
    )
    columns = {c.name: c.type for c in card_for(SCHEMA).columns}
    for rule in rules:  # several rules per table: encoding is the slow part
        truth = evaluate(parse_rule(rule.text, columns), tables)
        got = [T if t else F if f else N for t, f in zip(truth.true, truth.false, strict=True)]
        assert got == [rule.run(row) for row in synthetic], rule.text
