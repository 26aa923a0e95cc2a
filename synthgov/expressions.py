"""The row-constraint language of dataset cards: `claim_amount >= 0`, `discharged >= admitted`.

A rule is parsed by a hand-written tokenizer and a recursive-descent parser into a tree of
frozen dataclasses, then bound to the card's columns, which resolves names and checks
types. User text is never evaluated by Python (no eval, compile or `DataFrame.query`), and
its size is bounded (`MAX_LENGTH` characters, `MAX_DEPTH` levels, `MAX_NODES` nodes), so
any text either parses or raises `ExpressionError`. Pure Python: `synthgov validate`
checks card rules without importing numpy or pandas; evaluation lives in
`synthgov.metrics.constraints`.

Grammar, loosest binding first (keywords are case-insensitive):

    rule       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum
                       | ["not"] "in" "(" item ("," item)* ")"
                       | "is" ["not"] "null"]            -- never chained
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := number | string | "true" | "false" | name | `quoted name` | "(" or ")"
    item       := ["-"] number | string | "true" | "false"

Types: integer and number columns are numbers (arithmetic, ordering); date and datetime
columns are dates, ordered among themselves and against ISO 8601 string literals, and the
difference of two dates is a number of days; categorical and string columns are labels
(`==`, `!=`, `in`, `is null`); a boolean column is a condition, usable alone or compared
with `true`/`false`. `null` appears only in `is [not] null`: `x == null` would never hold.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import TypeAlias, assert_never

from synthgov.errors import ExpressionError
from synthgov.models.card import ColumnType

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_NODES = 256

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", ",")
#: Spellings from other languages, refused with the one this language uses.
_HINTS = {"<>": "!=", "=": "==", "&&": "and", "||": "or", "&": "and", "|": "or", "!": "not"}
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the tree ----------------------------------------------------------------------------
# `offset` (0-based, an operator's own position) is for messages and is not compared.


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A column named in a rule (not the card's `models.card.Column`)."""

    name: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Literal:
    """A number (always a float), a string, or true/false."""

    value: float | str | bool
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # + - * /
    left: Expr
    right: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Elapsed:
    """Days from `earlier` to `later`; made by binding `later - earlier` on two dates."""

    later: Expr
    earlier: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # one of COMPARISONS
    left: Expr
    right: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # and, or
    operands: tuple[Expr, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class In:
    operand: Expr
    items: tuple[Literal, ...]
    negated: bool = False
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Expr
    negated: bool = False
    offset: int = field(default=0, compare=False)


Expr: TypeAlias = (
    ColumnRef | Literal | Negate | Arithmetic | Elapsed | Compare | Logical | Not | In | IsNull
)


def children(node: Expr) -> tuple[Expr, ...]:
    match node:
        case ColumnRef() | Literal():
            return ()
        case Negate(operand) | Not(operand) | IsNull(operand):
            return (operand,)
        case Arithmetic(_, left, right) | Compare(_, left, right):
            return (left, right)
        case Elapsed(later, earlier):
            return (later, earlier)
        case Logical(_, operands):
            return operands
        case In(operand, items):
            return (operand, *items)
        case _:
            assert_never(node)


def column_names(node: Expr) -> set[str]:
    """The columns `node` reads."""
    return {n.name for n in _walk(node) if isinstance(n, ColumnRef)}


def _walk(root: Expr) -> Iterator[Expr]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


# --- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, name, keyword, op, end
    text: str  # as written, for messages
    value: str | float  # the number, the string's content, the name, the lowercased keyword
    offset: int


def _error(message: str, offset: int, after: str = "") -> ExpressionError:
    return ExpressionError(f"{message} at character {offset + 1}{after}", offset)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif ch.isalpha() or ch == "_":
            end = i + 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[i:end]
            lower = word.lower()
            tokens.append(
                _Token(
                    "keyword" if lower in _KEYWORDS else "name",
                    word,
                    lower if lower in _KEYWORDS else word,
                    i,
                )
            )
            i = end
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            match = _NUMBER.match(text, i)
            end = match.end() if match else i
            if not match or (end < len(text) and (text[end].isalnum() or text[end] in "._")):
                raise _error("malformed number", i)
            number = float(text[i:end])
            if number == float("inf"):
                raise _error("number too large", i)
            tokens.append(_Token("number", text[i:end], number, i))
            i = end
        elif ch in "'\"`":
            content, end = _quoted(text, i)
            if ch == "`" and not content:
                raise _error("empty column name", i)
            tokens.append(_Token("name" if ch == "`" else "string", text[i:end], content, i))
            i = end
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            hint = next((h for h in _HINTS if text.startswith(h, i)), None)
            if hint is not None and (op is None or len(hint) > len(op)):
                raise _error(f"use '{_HINTS[hint]}' instead of '{hint}'", i)
            if op is None:
                raise _error(f"unexpected character {ch!r}", i)
            tokens.append(_Token("op", op, op, i))
            i += len(op)
    tokens.append(_Token("end", "", "", len(text)))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The content of the quoted token at `start` (a doubled quote is the quote itself)."""
    quote = text[start]
    parts = []
    i = start + 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            what = "column name" if quote == "`" else "string"
            raise _error(f"unterminated {what} starting", start)
        parts.append(text[i:end])
        if text[end + 1 : end + 2] != quote:
            return "".join(parts), end + 1
        parts.append(quote)
        i = end + 2


# --- parsing -----------------------------------------------------------------------------


def parse(text: str) -> Expr:
    """The tree of `text`, unchecked against any columns.

    Raises:
        ExpressionError: the text is too long, does not parse, or nests too deep.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a rule is at most {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(_tokens(text))
    tree = parser.disjunction()
    if parser.peek().kind != "end":
        raise parser.expected("an operator or the end of the rule")
    _check_size(tree)
    return tree


def _check_size(tree: Expr) -> None:
    count = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise _error(f"the rule nests deeper than {MAX_DEPTH} levels", node.offset)
        if count > MAX_NODES:
            raise _error(f"the rule has more than {MAX_NODES} terms", node.offset)
        stack.extend((child, depth + 1) for child in children(node))


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def accept(self, kind: str, *values: str) -> _Token | None:
        token = self.peek()
        if token.kind == kind and (not values or token.value in values):
            self.at += 1
            return token
        return None

    def expect(self, kind: str, value: str, what: str) -> _Token:
        token = self.accept(kind, value)
        if token is None:
            raise self.expected(what)
        return token

    def expected(self, what: str) -> ExpressionError:
        token = self.peek()
        found = "the end of the rule" if token.kind == "end" else f"'{token.text[:40]}'"
        return _error(f"expected {what}", token.offset, f", found {found}")

    @contextmanager
    def nested(self, token: _Token) -> Iterator[None]:
        """Bounds the recursion: each prefix operator and parenthesis is one level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"the rule nests deeper than {MAX_DEPTH} levels", token.offset)
        yield
        self.depth -= 1

    def disjunction(self) -> Expr:
        return self._logical("or", self.conjunction)

    def conjunction(self) -> Expr:
        return self._logical("and", self.negation)

    def _logical(self, op: str, operand: Callable[[], Expr]) -> Expr:
        first = operand()
        token = self.accept("keyword", op)
        if token is None:
            return first
        operands = [first, operand()]
        while self.accept("keyword", op):
            operands.append(operand())
        return Logical(op, tuple(operands), token.offset)

    def negation(self) -> Expr:
        token = self.accept("keyword", "not")
        if token is None:
            return self.comparison()
        with self.nested(token):
            return Not(self.negation(), token.offset)

    def comparison(self) -> Expr:
        left = self.sum()
        node = self._comparison(left)
        if node is not left and self._at_comparison():
            raise _error("comparisons cannot be chained; join them with 'and'", self.peek().offset)
        return node

    def _at_comparison(self) -> bool:
        token = self.peek()
        return (token.kind == "op" and token.value in COMPARISONS) or (
            token.kind == "keyword" and token.value in ("in", "is", "not")
        )

    def _comparison(self, left: Expr) -> Expr:
        if token := self.accept("op", *COMPARISONS):
            return Compare(str(token.value), left, self.sum(), token.offset)
        if token := self.accept("keyword", "is"):
            negated = self.accept("keyword", "not") is not None
            after = "'is not'" if negated else "'is'"
            self.expect("keyword", "null", f"'null' after {after}")
            return IsNull(left, negated, token.offset)
        token = self.peek()
        negated = self.accept("keyword", "not") is not None
        if negated or (self.peek().kind == "keyword" and self.peek().value == "in"):
            self.expect("keyword", "in", "'in' after 'not'")
            self.expect("op", "(", "'(' after 'in'")
            items = [self.item()]
            while self.accept("op", ","):
                items.append(self.item())
            self.expect("op", ")", "')' or ','")
            return In(left, tuple(items), negated, token.offset)
        return left

    def item(self) -> Literal:
        minus = self.accept("op", "-")
        token = self.peek()
        if token.kind == "number" or (minus is None and token.kind == "string"):
            self.at += 1
            value = token.value
            return Literal(-value if minus and isinstance(value, float) else value, token.offset)
        if minus is None and self.accept("keyword", "true", "false"):
            return Literal(token.value == "true", token.offset)
        if minus is None and token.kind == "keyword" and token.value == "null":
            raise _error("null never matches in a list; test for it with 'is null'", token.offset)
        raise self.expected("a number" if minus else "a number, a string, true or false")

    def sum(self) -> Expr:
        left = self.product()
        while token := self.accept("op", "+", "-"):
            left = Arithmetic(str(token.value), left, self.product(), token.offset)
        return left

    def product(self) -> Expr:
        left = self.unary()
        while token := self.accept("op", "*", "/"):
            left = Arithmetic(str(token.value), left, self.unary(), token.offset)
        return left

    def unary(self) -> Expr:
        token = self.accept("op", "-")
        if token is None:
            return self.primary()
        with self.nested(token):
            return Negate(self.unary(), token.offset)

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind in ("number", "string"):
            self.at += 1
            return Literal(token.value, token.offset)
        if token.kind == "name":
            self.at += 1
            return ColumnRef(str(token.value), token.offset)
        if self.accept("keyword", "true", "false"):
            return Literal(token.value == "true", token.offset)
        if token.kind == "keyword" and token.value == "null":
            raise _error("'null' is not a value; test for it with 'is null'", token.offset)
        if self.accept("op", "("):
            with self.nested(token):
                inner = self.disjunction()
                self.expect("op", ")", "')'")
                return inner
        raise self.expected("a column, a literal or '('")


# --- binding -----------------------------------------------------------------------------


class Type(Enum):
    NUMBER = "a number"
    DATE = "a date"
    CONDITION = "a condition"
    LABEL = "a label"
    STRING = "a string"  # a string literal, until it meets a label or a date


_COLUMN_TYPES = {
    ColumnType.INTEGER: Type.NUMBER,
    ColumnType.NUMBER: Type.NUMBER,
    ColumnType.DATE: Type.DATE,
    ColumnType.DATETIME: Type.DATE,
    ColumnType.BOOLEAN: Type.CONDITION,
    ColumnType.CATEGORICAL: Type.LABEL,
    ColumnType.STRING: Type.LABEL,
}
_ORDERED = (Type.NUMBER, Type.DATE)


def parse_rule(text: str, columns: Mapping[str, ColumnType]) -> Expr:
    """The bound tree of the rule `text` over `columns` (name -> card type).

    Binding checks every name and type, and resolves what evaluation needs: a string
    compared with a date becomes seconds since 1970-01-01 UTC (`Literal(float)`), and the
    difference of two dates becomes `Elapsed`.

    Raises:
        ExpressionError: the rule does not parse, names an unknown column, mixes types, or
            is not a condition.
    """
    binder = _Binder(columns)
    tree, kind = binder.bind(parse(text))
    if kind is not Type.CONDITION:
        raise ExpressionError(
            f"a rule must be a condition such as 'amount >= 0', not {binder.describe(tree, kind)}",
            tree.offset,
        )
    return tree


class _Binder:
    def __init__(self, columns: Mapping[str, ColumnType]) -> None:
        self.columns = columns

    def describe(self, node: Expr, kind: Type) -> str:
        if isinstance(node, ColumnRef):
            return f"{self.columns[node.name].value} column '{node.name}'"
        if isinstance(node, Literal) and isinstance(node.value, bool):
            return str(node.value).lower()
        return kind.value

    def bind(self, node: Expr) -> tuple[Expr, Type]:
        match node:
            case ColumnRef(name):
                if name not in self.columns:
                    raise ExpressionError(
                        f"unknown column '{name}'{self._suggest(name)}", node.offset
                    )
                return node, _COLUMN_TYPES[self.columns[name]]
            case Literal():
                return node, _literal_type(node)
            case Negate(operand):
                bound, kind = self.bind(operand)
                if kind is not Type.NUMBER:
                    raise ExpressionError(
                        f"'-' needs a number, not {self.describe(operand, kind)}", node.offset
                    )
                return Negate(bound, node.offset), kind
            case Arithmetic():
                return self._arithmetic(node)
            case Compare():
                return self._compare(node)
            case Logical(op, operands):
                return Logical(
                    op, tuple(self._condition(op, o) for o in operands), node.offset
                ), Type.CONDITION
            case Not(operand):
                return Not(self._condition("not", operand), node.offset), Type.CONDITION
            case In(operand, items, negated):
                bound, kind = self.bind(operand)
                if kind is Type.STRING:
                    raise ExpressionError(
                        "'in' needs a column or an expression on its left, not a string",
                        node.offset,
                    )
                resolved = tuple(self._item(operand, kind, item) for item in items)
                return In(bound, resolved, negated, node.offset), Type.CONDITION
            case IsNull(operand, negated):
                return IsNull(self.bind(operand)[0], negated, node.offset), Type.CONDITION
            case Elapsed():
                raise AssertionError("Elapsed is made by binding, never parsed")
            case _:
                assert_never(node)

    def _suggest(self, name: str) -> str:
        same = [c for c in self.columns if c.lower() == name.lower()]
        close = same or difflib.get_close_matches(name, list(self.columns), n=1, cutoff=0.6)
        return f" (did you mean '{close[0]}'?)" if close else ""

    def _condition(self, op: str, operand: Expr) -> Expr:
        bound, kind = self.bind(operand)
        if kind is not Type.CONDITION:
            raise ExpressionError(
                f"'{op}' needs conditions, not {self.describe(operand, kind)}", operand.offset
            )
        return bound

    def _arithmetic(self, node: Arithmetic) -> tuple[Expr, Type]:
        (left, lk), (right, rk) = self.bind(node.left), self.bind(node.right)
        if lk is rk is Type.NUMBER:
            return Arithmetic(node.op, left, right, node.offset), Type.NUMBER
        if node.op == "-" and {lk, rk} <= {Type.DATE, Type.STRING} and Type.DATE in (lk, rk):
            later, earlier = _as_date(left, lk), _as_date(right, rk)
            return Elapsed(later, earlier, node.offset), Type.NUMBER
        bad, kind = (node.left, lk) if lk is not Type.NUMBER else (node.right, rk)
        note = (
            " (of two dates, only the difference, in days, is defined)" if kind is Type.DATE else ""
        )
        raise ExpressionError(
            f"'{node.op}' needs numbers, not {self.describe(bad, kind)}{note}", node.offset
        )

    def _compare(self, node: Compare) -> tuple[Expr, Type]:
        (left, lk), (right, rk) = self.bind(node.left), self.bind(node.right)
        kinds = {lk, rk}
        shown = f"{self.describe(node.left, lk)} with {self.describe(node.right, rk)}"
        if kinds in ({Type.NUMBER}, {Type.DATE}, {Type.DATE, Type.STRING}):
            left, right = _as_date(left, lk), _as_date(right, rk)
        elif kinds in ({Type.LABEL}, {Type.LABEL, Type.STRING}, {Type.CONDITION}):
            if node.op not in ("==", "!="):
                bad, kind = (node.left, lk) if lk is not Type.STRING else (node.right, rk)
                raise ExpressionError(
                    f"'{node.op}' needs numbers or dates, not {self.describe(bad, kind)} "
                    "(use ==, !=, in or is null)",
                    node.offset,
                )
        else:
            raise ExpressionError(f"cannot compare {shown}", node.offset)
        return Compare(node.op, left, right, node.offset), Type.CONDITION

    def _item(self, operand: Expr, kind: Type, item: Literal) -> Literal:
        fits = {Type.NUMBER: float, Type.DATE: str, Type.LABEL: str, Type.CONDITION: bool}
        if type(item.value) is not fits[kind]:
            shown = (
                f"{self.describe(operand, kind)} with {self.describe(item, _literal_type(item))}"
            )
            raise ExpressionError(f"cannot compare {shown}", item.offset)
        return _seconds(item) if kind is Type.DATE else item


def _literal_type(literal: Literal) -> Type:
    return {bool: Type.CONDITION, float: Type.NUMBER, str: Type.STRING}[type(literal.value)]


def _as_date(bound: Expr, kind: Type) -> Expr:
    """`bound`, or if it is a string literal meeting a date, that date as a literal."""
    return _seconds(bound) if kind is Type.STRING else bound


def _seconds(literal: Expr) -> Literal:
    """An ISO 8601 string literal as seconds since 1970-01-01 UTC (naive means UTC, as in
    `synthgov.metrics.encoding`)."""
    assert isinstance(literal, Literal) and isinstance(literal.value, str)
    try:
        moment = datetime.fromisoformat(literal.value)
    except ValueError:
        raise ExpressionError(
            f"'{literal.value}' is not an ISO 8601 date or date-time", literal.offset
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Literal((moment - _EPOCH).total_seconds(), literal.offset)
