"""The row-constraint language: trees, precedence, every error message, bounds, and fuzzing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.errors import ExpressionError
from synthgov.expressions import (
    MAX_DEPTH,
    MAX_NODES,
    Arithmetic,
    ColumnRef,
    Compare,
    Elapsed,
    In,
    IsNull,
    Literal,
    Logical,
    Negate,
    Not,
    column_names,
    parse,
    parse_rule,
)
from synthgov.models.card import ColumnType
from tests.helpers import samples
from tests.helpers.cli import Synthgov

COLUMNS = {
    "amount": ColumnType.NUMBER,
    "age": ColumnType.INTEGER,
    "region": ColumnType.CATEGORICAL,
    "note": ColumnType.STRING,
    "fraud": ColumnType.BOOLEAN,
    "admitted": ColumnType.DATE,
    "discharged": ColumnType.DATE,
    "seen_at": ColumnType.DATETIME,
    "my col": ColumnType.NUMBER,
}
a, b, c = ColumnRef("a"), ColumnRef("b"), ColumnRef("c")


def num(value: float) -> Literal:
    return Literal(float(value))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("amount >= 0", Compare(">=", ColumnRef("amount"), num(0))),
        # not binds looser than comparison, and looser than nothing else but and/or
        (
            "not a > 1 and b < 2 or c in ('x')",
            Logical(
                "or",
                (
                    Logical("and", (Not(Compare(">", a, num(1))), Compare("<", b, num(2)))),
                    In(c, (Literal("x"),)),
                ),
            ),
        ),
        ("a or b and c", Logical("or", (a, Logical("and", (b, c))))),
        ("a or b or c", Logical("or", (a, b, c))),
        ("(a or b) and c", Logical("and", (Logical("or", (a, b)), c))),
        ("not not a", Not(Not(a))),
        (
            "a + b * c - a / b",
            Arithmetic("-", Arithmetic("+", a, Arithmetic("*", b, c)), Arithmetic("/", a, b)),
        ),
        ("a - b - c", Arithmetic("-", Arithmetic("-", a, b), c)),
        ("-a * b", Arithmetic("*", Negate(a), b)),
        ("- -1", Negate(Negate(num(1)))),
        ("a * (b + c) > 2", Compare(">", Arithmetic("*", a, Arithmetic("+", b, c)), num(2))),
        ("a + 1 == b - 1", Compare("==", Arithmetic("+", a, num(1)), Arithmetic("-", b, num(1)))),
        ("a not in (1, -2.5, 3e2)", In(a, (num(1), num(-2.5), num(300)), negated=True)),
        ("a in ('x', \"y\", true)", In(a, (Literal("x"), Literal("y"), Literal(True)))),
        ("a is null", IsNull(a)),
        ("a IS NOT NULL AND NOT b", Logical("and", (IsNull(a, negated=True), Not(b)))),
        ("`my col` != `it``s`", Compare("!=", ColumnRef("my col"), ColumnRef("it`s"))),
        ("`and` == 'it''s'", Compare("==", ColumnRef("and"), Literal("it's"))),
        ('"say ""hi"""  == a', Compare("==", Literal('say "hi"'), a)),
        (".5 <= 2. ", Compare("<=", num(0.5), num(2))),
        ("größe\t>\n1", Compare(">", ColumnRef("größe"), num(1))),
        ("TRUE == false", Compare("==", Literal(True), Literal(False))),
    ],
)
def test_trees_and_precedence(text: str, tree: object) -> None:
    assert parse(text) == tree


def test_offsets_point_at_the_operator() -> None:
    tree = parse("amount >= 0")
    assert isinstance(tree, Compare)
    assert (tree.offset, tree.left.offset, tree.right.offset) == (7, 0, 10)


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("(amount > 1", "expected ')' at character 12, found the end of the rule", 11),
        (
            "amount > 1)",
            "expected an operator or the end of the rule at character 11, found ')'",
            10,
        ),
        (
            "amount >",
            "expected a column, a literal or '(' at character 9, found the end of the rule",
            8,
        ),
        (
            "amount > 1 amount",
            "expected an operator or the end of the rule at character 12, found 'amount'",
            11,
        ),
        ("", "expected a column, a literal or '(' at character 1, found the end of the rule", 0),
        ("amount = 1", "use '==' instead of '=' at character 8", 7),
        ("amount <> 1", "use '!=' instead of '<>' at character 8", 7),
        ("a && b", "use 'and' instead of '&&' at character 3", 2),
        ("a || b", "use 'or' instead of '||' at character 3", 2),
        ("!a", "use 'not' instead of '!' at character 1", 0),
        ("a > 1 > 0", "comparisons cannot be chained; join them with 'and' at character 7", 6),
        (
            "a is null is null",
            "comparisons cannot be chained; join them with 'and' at character 11",
            10,
        ),
        ("a == null", "'null' is not a value; test for it with 'is null' at character 6", 5),
        (
            "a in (1, null)",
            "null never matches in a list; test for it with 'is null' at character 10",
            9,
        ),
        ("a in ()", "expected a number, a string, true or false at character 7, found ')'", 6),
        ("a in (b)", "expected a number, a string, true or false at character 7, found 'b'", 6),
        ("a in (-'x')", "expected a number at character 8, found ''x''", 7),
        ("a in (1, 2", "expected ')' or ',' at character 11, found the end of the rule", 10),
        ("a in 1", "expected '(' after 'in' at character 6, found '1'", 5),
        ("a not b", "expected 'in' after 'not' at character 7, found 'b'", 6),
        ("a is 1", "expected 'null' after 'is' at character 6, found '1'", 5),
        ("a is not 1", "expected 'null' after 'is not' at character 10, found '1'", 9),
        ("a > 12abc", "malformed number at character 5", 4),
        ("a > 1.2.3", "malformed number at character 5", 4),
        ("a > 1e999", "number too large at character 5", 4),
        ("a == 'abc", "unterminated string starting at character 6", 5),
        ("`a > 1", "unterminated column name starting at character 1", 0),
        ("`` > 1", "empty column name at character 1", 0),
        ("a > 1 § 2", "unexpected character '§' at character 7", 6),
        ("a > $1", "unexpected character '$' at character 5", 4),
    ],
)
def test_syntax_errors(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.offset) == (message, offset)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amout >= 0", "unknown column 'amout' (did you mean 'amount'?)"),
        ("AMOUNT >= 0", "unknown column 'AMOUNT' (did you mean 'amount'?)"),
        ("zzz >= 0", "unknown column 'zzz'"),
        ("region > 1", "cannot compare categorical column 'region' with a number"),
        ("region == 1", "cannot compare categorical column 'region' with a number"),
        (
            "region < 'b'",
            "'<' needs numbers or dates, not categorical column 'region' (use ==, !=, in or is null)",
        ),
        (
            "'b' >= note",
            "'>=' needs numbers or dates, not string column 'note' (use ==, !=, in or is null)",
        ),
        ("region + 1 > 2", "'+' needs numbers, not categorical column 'region'"),
        ("-region == 'a'", "'-' needs a number, not categorical column 'region'"),
        ("region == age", "cannot compare categorical column 'region' with integer column 'age'"),
        ("amount == 'x'", "cannot compare number column 'amount' with a string"),
        ("'a' == 'b'", "cannot compare a string with a string"),
        ("amount == true", "cannot compare number column 'amount' with true"),
        ("fraud == 'true'", "cannot compare boolean column 'fraud' with a string"),
        (
            "fraud < true",
            "'<' needs numbers or dates, not boolean column 'fraud' (use ==, !=, in or is null)",
        ),
        ("fraud in (1)", "cannot compare boolean column 'fraud' with a number"),
        ("region in ('a', 2)", "cannot compare categorical column 'region' with a number"),
        ("amount in (1, 'x')", "cannot compare number column 'amount' with a string"),
        ("'x' in ('x')", "'in' needs a column or an expression on its left, not a string"),
        ("admitted > 1", "cannot compare date column 'admitted' with a number"),
        ("admitted > '2024-13-01'", "'2024-13-01' is not an ISO 8601 date or date-time"),
        ("admitted in ('soon')", "'soon' is not an ISO 8601 date or date-time"),
        (
            "admitted + 1 > discharged",
            "'+' needs numbers, not date column 'admitted' (of two dates, only the difference, in days, is defined)",
        ),
        (
            "discharged - 1 > admitted",
            "'-' needs numbers, not date column 'discharged' (of two dates, only the difference, in days, is defined)",
        ),
        (
            "amount * admitted > 0",
            "'*' needs numbers, not date column 'admitted' (of two dates, only the difference, in days, is defined)",
        ),
        ("'2024-01-02' - '2024-01-01' > 0", "'-' needs numbers, not a string"),
        ("amount and fraud", "'and' needs conditions, not number column 'amount'"),
        ("not region", "'not' needs conditions, not categorical column 'region'"),
        ("fraud or amount + 1", "'or' needs conditions, not a number"),
        ("amount", "a rule must be a condition such as 'amount >= 0', not number column 'amount'"),
        ("amount + 1", "a rule must be a condition such as 'amount >= 0', not a number"),
        (
            "(amount > 0) < (age > 0)",
            "'<' needs numbers or dates, not a condition (use ==, !=, in or is null)",
        ),
    ],
)
def test_binding_errors(text: str, message: str) -> None:
    parse(text)  # every one of these is well formed
    with pytest.raises(ExpressionError) as caught:
        parse_rule(text, COLUMNS)
    assert caught.value.message == message


def test_a_binding_error_points_at_its_node() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_rule("amount >= 0 and region > 1", COLUMNS)
    assert caught.value.offset == len("amount >= 0 and region ")


def test_discharged_minus_admitted_uses_the_date_arithmetic() -> None:
    ok = parse_rule("discharged - admitted <= 30", COLUMNS)
    assert ok == Compare("<=", Elapsed(ColumnRef("discharged"), ColumnRef("admitted")), num(30))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("'2024-01-01'", 1_704_067_200.0),  # 19,723 days after 1970-01-01, times 86,400
        ("'2024-01-01T01:00:00+01:00'", 1_704_067_200.0),  # the same instant in UTC
        ("'2024-01-01 00:00:30Z'", 1_704_067_230.0),
    ],
)
def test_iso_literals_meeting_a_date_become_seconds_since_the_epoch(
    text: str, seconds: float
) -> None:
    assert parse_rule(f"admitted >= {text}", COLUMNS) == Compare(
        ">=", ColumnRef("admitted"), num(seconds)
    )
    assert parse_rule(f"seen_at in ({text})", COLUMNS) == In(ColumnRef("seen_at"), (num(seconds),))


@pytest.mark.parametrize(
    "text",
    [
        "fraud",
        "not fraud or fraud == false",
        "fraud in (true, false)",
        "region in ('north', 'nowhere') and note != 'x'",
        "region == note",
        "`my col` is null or -`my col` < 1e3",
        "seen_at >= admitted and admitted - seen_at < 1",
        "'2024-01-01' < admitted",
        "(amount > 0) == fraud",
        "true",
    ],
)
def test_well_typed_rules_bind(text: str) -> None:
    assert parse_rule(text, COLUMNS) is not None


def test_column_names() -> None:
    assert column_names(parse("a + `b c` > 1 or d in (1) and not e is null")) == {
        "a",
        "b c",
        "d",
        "e",
    }


def test_bounds() -> None:
    parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(
        ExpressionError, match=f"nests deeper than {MAX_DEPTH} levels at character 51"
    ):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("not " * (MAX_DEPTH + 1) + "a")
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("-" * 999 + "1")
    with pytest.raises(ExpressionError, match="nests deeper"):  # a left-deep chain, no recursion
        parse(" + ".join(["a"] * (MAX_DEPTH + 1)) + " > 0")
    parse("a in (" + ",".join(["1"] * (MAX_NODES - 2)) + ")")
    with pytest.raises(ExpressionError, match=f"more than {MAX_NODES} terms"):
        parse("a in (" + ",".join(["1"] * (MAX_NODES - 1)) + ")")
    with pytest.raises(ExpressionError, match="at most 1000 characters"):
        parse("a" * 1001)


# --- fuzzing -----------------------------------------------------------------------------

PIECES = [
    "a",
    "amount",
    "region",
    "admitted",
    "fraud",
    "`my col`",
    "1",
    "-",
    "2.5",
    "1e3",
    "'x'",
    '"2024-01-01"',
    "true",
    "null",
    "and",
    "or",
    "not",
    "in",
    "is",
    "(",
    ")",
    ",",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "*",
    "/",
    " ",
    "'",
    "`",
    "=",
    "!",
]
soup = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=80), soup))
def test_any_text_parses_or_raises_an_expression_error(text: str) -> None:
    for check in (parse, lambda t: parse_rule(t, COLUMNS)):
        try:
            check(text)
        except ExpressionError as exc:
            assert 0 <= exc.offset <= max(len(text), 1)
            assert exc.message


# --- validate ----------------------------------------------------------------------------


def test_validate_reports_a_bad_constraint_at_its_rule_line(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    root = tmp_path / "gov"
    root.mkdir()
    (root / ".git").mkdir()
    samples.write_repo(root, *samples.ssh_key(tmp_path))
    card = root / "datasets/claims/card.yaml"
    card.write_text(
        card.read_text().replace(
            '  - {name: positive-amount, rule: "amount >= 0"}\n',
            '  - {name: positive-amount, rule: "amout >= 0"}\n'
            "  - name: known-region\n"
            "    rule: region + 1 > 2\n"
            "  - {name: closed, rule: '(age > 1'}\n",
        )
    )
    lines = card.read_text().splitlines()

    def at(text: str) -> str:  # where the rule's value starts, 1-based
        number = next(i for i, line in enumerate(lines, 1) if text in line)
        return f"datasets/claims/card.yaml:{number}:{lines[number - 1].index(text) + 1}"

    amout, region, closed = at('"amout'), at("region + 1"), at("'(age")
    result = synthgov("validate", cwd=root)
    assert result.code == 2
    assert result.out.splitlines() == [
        f"{amout}: constraints.0.rule: unknown column 'amout' (did you mean 'amount'?)",
        f"{region}: constraints.1.rule: '+' needs numbers, not categorical column 'region'",
        f"{closed}: constraints.2.rule: expected ')' at character 9, found the end of the rule",
    ]
    assert "3 problem(s) in 1 file(s)" in result.err
