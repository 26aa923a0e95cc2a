"""`constraints.validity`: the share of synthetic rows that satisfy the card's row rules.

Rules (`synthgov.expressions`) are evaluated vectorised over the encoded synthetic table
with SQL's three-valued logic: a null operand makes a comparison unknown, `and`/`or`/`not`
follow Kleene's tables, division by zero is null. A row satisfies a rule unless the rule
is FALSE there, as in an SQL CHECK constraint: `amount >= 0` passes a row whose amount is
missing, because whether a value may be missing is the card's `nullable`, judged by the
schema metrics, not by every rule that reads the column. A rule that must reject nulls
says so: `amount is not null and amount >= 0`.

Dates are compared in seconds since 1970-01-01 UTC (date columns are encoded in days); a
string literal is compared with a label, so a literal that is not among the column's
categories never matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, assert_never

import numpy as np

from synthgov.errors import ExpressionError, InputError
from synthgov.expressions import (
    Arithmetic,
    ColumnRef,
    Compare,
    Elapsed,
    Expr,
    In,
    IsNull,
    Literal,
    Logical,
    Negate,
    Not,
    column_names,
    parse_rule,
)
from synthgov.files.layout import card_path
from synthgov.metrics.encoding import Encoded, Tables
from synthgov.metrics.measurement import Context, Measurement
from synthgov.models.card import Card, ColumnType

VALIDITY = "constraints.validity"
_DAY = 86_400.0
_SQL_CHECK = "a rule holds unless it is false: an unknown (null) result passes, as in SQL CHECK"
_ORDER: dict[str, Callable[[Any, Any], np.ndarray]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Truth:
    """A three-valued column: rows known true, rows known false, the rest unknown."""

    true: np.ndarray
    false: np.ndarray

    @property
    def satisfied(self) -> np.ndarray:
        """The rows that pass as a CHECK constraint (not false)."""
        return ~self.false

    def invert(self) -> Truth:
        return Truth(self.false, self.true)


@dataclass(frozen=True)
class _Labels:
    codes: np.ndarray  # int32 into categories, -1 missing
    categories: tuple[str, ...]

    def index(self) -> dict[str, int]:
        """Label -> code; built per use, so that a lookup is O(1), not a scan of the tuple."""
        return {label: code for code, label in enumerate(self.categories)}

    def code(self, label: str) -> int:
        """The code of `label`, or -2 (matches no row) when it is not a category."""
        return self.index().get(label, -2)

    def recode(self, other: _Labels) -> np.ndarray:
        """`other`'s codes in this column's categories: -1 missing, -2 not a category."""
        index = self.index()
        lookup = np.array(
            [index.get(label, -2) for label in other.categories] + [-1], dtype=np.int32
        )
        recoded: np.ndarray = lookup[other.codes]
        return recoded


_Value = np.ndarray | Truth | _Labels | str


def measure(
    tables: Tables, context: Context, card: Card, counted: Satisfied | None = None
) -> list[Measurement]:
    """The share of synthetic rows satisfying every rule, then one measurement per rule.

    A rule that reads a column absent from the synthetic table fails every row (the schema
    metrics already fail such a release). With no synthetic rows the shares are undefined
    and nothing is measured. `counted` is what `satisfied` gives for the whole synthetic
    table, which a distributed engine adds up from its partitions; None: counted here.

    Raises:
        InputError: a rule that does not parse or does not fit the card's columns (normally
            caught earlier by `synthgov validate`).
    """
    del context  # exact and deterministic: nothing is sampled
    rows = int(tables.rows["synthetic"])
    if not card.constraints:
        return [Measurement(VALIDITY, 1.0, n=rows, method="the card has no row constraints")]
    if rows == 0:
        return []
    found = satisfied(tables, card) if counted is None else counted
    measured = []
    for constraint, passed, absent in zip(card.constraints, found.rules, found.absent, strict=True):
        if absent:
            method = f"`{constraint.rule}` reads {', '.join(absent)}, absent from the synthetic table: every row fails"
        else:
            method = f"share of rows satisfying `{constraint.rule}`; {_SQL_CHECK}"
        measured.append(
            Measurement(
                VALIDITY,
                _share(passed, rows),
                n=rows,
                method=method,
                extra={"rule": constraint.name},
            )
        )
    method = f"share of rows satisfying all {len(card.constraints)} rule(s); {_SQL_CHECK}"
    return [Measurement(VALIDITY, _share(found.every, rows), n=rows, method=method), *measured]


@dataclass(frozen=True)
class Satisfied:
    """How many rows satisfy each rule of the card and all of them: counts, so that a
    table's are the sum of its partitions' (`add`), whatever the partitioning."""

    rules: tuple[int, ...]
    every: int
    #: per rule, the columns it reads that the table lacks (the rule then fails every row)
    absent: tuple[tuple[str, ...], ...]

    def add(self, other: Satisfied) -> Satisfied:
        rules = tuple(a + b for a, b in zip(self.rules, other.rules, strict=True))
        return Satisfied(rules, self.every + other.every, self.absent)


def satisfied(tables: Tables, card: Card, role: str = "synthetic") -> Satisfied:
    """The rows of table `role` that satisfy each of the card's rules, counted (the map: a
    partition of a table as `tables`, in its own labels, counts as the whole would).

    Raises:
        InputError: a rule that does not parse or does not fit the card's columns.
    """
    rows = int(tables.rows[role])
    types = {c.name: c.type for c in card.columns}
    every = np.ones(rows, dtype=bool)
    counts, missing = [], []
    for index, constraint in enumerate(card.constraints):
        try:
            rule = parse_rule(constraint.rule, types)
        except ExpressionError as exc:
            raise InputError.at(
                card_path(card.id), f"constraints.{index}.rule ({constraint.name}): {exc}"
            ) from exc
        absent = tuple(sorted(column_names(rule) - set(tables.names)))
        passed = np.zeros(rows, dtype=bool) if absent else evaluate(rule, tables, role).satisfied
        every &= passed
        counts.append(int(np.count_nonzero(passed)))
        missing.append(absent)
    return Satisfied(tuple(counts), int(np.count_nonzero(every)), tuple(missing))


def _share(count: int, rows: int) -> float:
    """A mean of booleans: its count over its size, the same float as `np.mean`."""
    return float(np.float64(count) / rows)


def evaluate(rule: Expr, tables: Tables, role: str = "synthetic") -> Truth:
    """The three-valued result of the bound condition `rule` on every row of table `role`."""
    value = _Evaluator(tables, role).value(rule)
    assert isinstance(value, Truth), "parse_rule returns conditions only"
    return value


class _Evaluator:
    def __init__(self, tables: Tables, role: str) -> None:
        self.tables = tables
        self.role = role
        self.rows = int(tables.rows[role])

    def value(self, node: Expr) -> _Value:
        match node:
            case ColumnRef(name):
                return self._column(self.tables[name])
            case Literal(value) if isinstance(value, bool):
                return Truth(np.full(self.rows, value), np.full(self.rows, not value))
            case Literal(value) if isinstance(value, str):
                return value
            case Literal(value):
                return np.full(self.rows, value, dtype=np.float64)
            case Negate(operand):
                return -self._number(operand)
            case Arithmetic(op, left, right):
                return _arithmetic(op, self._number(left), self._number(right))
            case Elapsed(later, earlier):
                days: np.ndarray = (self._number(later) - self._number(earlier)) / _DAY
                return days
            case Compare(op, left, right):
                return _compare(op, self.value(left), self.value(right))
            case Logical(op, operands):
                return _logical(op, [self._truth(o) for o in operands])
            case Not(operand):
                return self._truth(operand).invert()
            case In(operand, items, negated):
                found = _member(self.value(operand), [item.value for item in items])
                return found.invert() if negated else found
            case IsNull(operand, negated):
                null = _null(self.value(operand), self.rows)
                return Truth(~null, null) if negated else Truth(null, ~null)
            case _:
                assert_never(node)

    def _column(self, column: Encoded) -> _Value:
        values = column.table(self.role)
        if column.type is ColumnType.DATE:
            return values * _DAY
        if column.is_numeric:
            return values
        labels = _Labels(values, column.categories)
        if column.type is ColumnType.BOOLEAN:
            return Truth(values == labels.code("true"), values == labels.code("false"))
        return labels

    def _number(self, node: Expr) -> np.ndarray:
        value = self.value(node)
        assert isinstance(value, np.ndarray), "binding admits numbers only here"
        return value

    def _truth(self, node: Expr) -> Truth:
        value = self.value(node)
        assert isinstance(value, Truth), "binding admits conditions only here"
        return value


def _arithmetic(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # overflow gives inf, inf - inf and x / 0 give null
        if op == "/":
            result: np.ndarray = np.divide(
                left, right, out=np.full(left.shape, np.nan), where=right != 0
            )
        else:
            result = {"+": np.add, "-": np.subtract, "*": np.multiply}[op](left, right)
    return result


def _compare(op: str, left: _Value, right: _Value) -> Truth:
    if isinstance(left, str):  # binding admits == and != only here, which are symmetric
        left, right = right, left
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray):
        known = ~(np.isnan(left) | np.isnan(right))
        holds = _ORDER[op](left, right)
    elif isinstance(left, Truth) and isinstance(right, Truth):
        known = (left.true | left.false) & (right.true | right.false)
        holds = _ORDER[op](left.true, right.true)
    elif isinstance(left, _Labels) and isinstance(right, _Labels | str):
        other = left.code(right) if isinstance(right, str) else left.recode(right)
        known = (left.codes >= 0) & (other != -1)
        holds = _ORDER[op](left.codes, other)
    else:
        raise AssertionError(f"binding admits no comparison of {left!r} with {right!r}")
    return Truth(known & holds, known & ~holds)


def _logical(op: str, operands: list[Truth]) -> Truth:
    true, false = operands[0].true, operands[0].false
    for operand in operands[1:]:
        if op == "and":
            true, false = true & operand.true, false | operand.false
        else:
            true, false = true | operand.true, false & operand.false
    return Truth(true, false)


def _member(value: _Value, items: list[float | str | bool]) -> Truth:
    if isinstance(value, np.ndarray):
        known = ~np.isnan(value)
        found = np.isin(value, np.array(items, dtype=np.float64))
    elif isinstance(value, _Labels):
        known = value.codes >= 0
        index = value.index()
        found = np.isin(value.codes, [index.get(str(item), -2) for item in items])
    elif isinstance(value, Truth):
        known = value.true | value.false
        found = (value.true & (True in items)) | (value.false & (False in items))
    else:
        raise AssertionError("binding admits no string on the left of 'in'")
    return Truth(known & found, known & ~found)


def _null(value: _Value, rows: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return np.isnan(value)
    if isinstance(value, _Labels):
        return value.codes < 0
    if isinstance(value, Truth):
        unknown: np.ndarray = ~(value.true | value.false)
        return unknown
    return np.zeros(rows, dtype=bool)  # a string literal is never null
