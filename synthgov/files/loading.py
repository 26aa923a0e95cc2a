"""Safe loading of governance files: bytes -> plain data + a source map -> a validated model.

This is the only place that parses YAML or JSON the user wrote. It refuses what a
governance file never needs and an attacker could use (signing.md §9, attacks 29–32):
duplicate keys, explicit tags, anchors and aliases (hence alias bombs and merge keys),
nesting deeper than `MAX_DEPTH`, several documents, non-UTF-8 bytes, non-finite numbers.

Plain YAML scalars are resolved by a small YAML 1.2-style rule instead of PyYAML's 1.1
resolver, so that what the user wrote is what is read: `no`, `on`, `012`, `1:20` and
`2025-01-15` stay strings, `1.10` is a number that a string field rejects with "quote it"
rather than silently becoming `1.1`. Non-integer numbers are kept as `Decimal`, exactly
as written (ledgers compare sums of the values as written, BRIEF §10.11).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer, ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover
    CParser = None  # type: ignore[assignment, misc]
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synthgov.errors import InputError, Location, Problem
from synthgov.files.paths import read_bytes

MAX_DEPTH = 64

KeyPath = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Document:
    """Parsed data plus where each value and each mapping key stood in the file."""

    path: str
    data: Any
    text: str = ""
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    @cached_property
    def _source_map(self) -> tuple[dict[KeyPath, tuple[int, int]], dict[KeyPath, tuple[int, int]]]:
        """(values, keys); JSON files get theirs on first use, as few findings need one."""
        if not self.values and self.path.endswith(".json") and self.text:
            located = _json_locations(self.text, self.path)
            return located.values, located.keys
        return self.values, self.keys

    def locate(self, loc: KeyPath, *, key: bool = False) -> Location:
        """The location of the deepest known prefix of `loc` (1-based line and column)."""
        values, keys = self._source_map
        table = keys if key else values
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            mark = table.get(prefix) or values.get(prefix)
            if mark is not None:
                return Location(self.path, *mark)
        return Location(self.path, 1, 1)


@dataclass(frozen=True)
class Loaded(Generic[ModelT]):
    """A validated model together with the document it came from (for locating findings)."""

    model: ModelT
    document: Document


# --- YAML -------------------------------------------------------------------------------

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?$")
#: Digits a float holds exactly: beyond them a written threshold or budget would silently
#: change on reading (0.78000000000000001 would read as 0.78).
_MAX_DIGITS = 15
_MAX_NUMBER_CHARS = 100
#: Characters that end a line for YAML but not for editors and diffs (so a value hidden
#: "inside a comment" is parsed), and bidirectional controls that reorder what is shown.
_HIDDEN = re.compile("[\u2028\u2029\u0085\u202a-\u202e\u2066-\u2069]|\r(?!\n)")
_NON_FINITE = re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$")
#: The first characters of every null, boolean and number `_scalar` resolves.
_SPECIAL_STARTS = frozenset("~nNtTfF+-.0123456789")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]")


class _Fail(Exception):
    """Internal: a refusal at a node, turned into an InputError with the file's path.

    Outside the error tree on purpose: it never leaves this module (`_refusals` locates
    it), and `reads_back_as` uses it as an answer, not a failure."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None


class _Rules:
    """Our composition rules, on top of either PyYAML parser (C when libyaml is present)."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent):
            raise _Fail("aliases (*name) are not allowed in governance files", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Fail(
                f"anchors (&{anchor}) are not allowed in governance files", event.start_mark
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _Fail(f"tags ({tag}) are not allowed in governance files", event.start_mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Fail(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
        try:
            node = Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
            assert node is not None  # a node event was peeked above
            return node
        finally:
            self._depth -= 1


class _PyComposer(_Rules, yaml.SafeLoader):
    pass


if CParser is not None:

    class _CComposer(_Rules, CParser, Composer, Resolver):
        """libyaml's parser (about 10x faster) with the Python composer and our rules."""

        # CParser's own get_single_node composes in C and would bypass every rule above.
        get_single_node = Composer.get_single_node

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)

    _Composer: Any = _CComposer
else:  # pragma: no cover - libyaml ships in PyYAML's wheels
    _Composer = _PyComposer


def _number(text: str, mark: Any) -> int | Decimal:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _Fail(f"number with more than {_MAX_NUMBER_CHARS} characters", mark)
    if _INT.match(text):
        return int(text)
    try:
        value = Decimal(text)
        digits = _significant(value)
        as_float = float(value)
    except ArithmeticError:  # exponent beyond what Decimal or float can hold
        raise _Fail(f"number {text} is too large", mark) from None
    if digits > _MAX_DIGITS and not reads_exactly(value):
        raise _Fail(
            f"number {text} has more than {_MAX_DIGITS} significant digits; it would not be read exactly",
            mark,
        )
    if as_float in (float("inf"), float("-inf")):
        raise _Fail(f"number {text} is too large", mark)
    if as_float == 0.0 and value != 0:
        raise _Fail(f"number {text} is too small to represent (it would read as 0)", mark)
    return value


def _significant(value: Decimal) -> int:
    """The significant digits of a number as written. Not `normalize()`: it rounds to the
    context's 28 digits first, so `0.780000000000000000000000000001` counted 2 digits and
    was admitted, to be read as 0.78."""
    return len("".join(map(str, value.as_tuple().digits)).strip("0")) or 1


def reads_exactly(value: Decimal) -> bool:
    """Whether a finite number is read back exactly as written: up to `_MAX_DIGITS`
    significant digits, or a double's own shortest form (up to 17 digits: what Python,
    pandas and `dataset new` write for a measured minimum, `0.024355970359538362`)."""
    if _significant(value) <= _MAX_DIGITS:
        return True
    try:
        return Decimal(repr(float(value))) == value
    except ArithmeticError:  # pragma: no cover - the callers admit finite numbers only
        return False


def _is_plain(node: ScalarNode) -> bool:
    """Unquoted: PyYAML's Python parser marks it None, libyaml's the empty string."""
    return node.style in (None, "")


def _scalar(node: ScalarNode) -> Any:
    return _resolve(node.value, node.style, node.start_mark)


def _resolve(text: str, style: str | None, mark: Any) -> Any:
    """A scalar's value from its text and style (the loader never reads PyYAML's tags)."""
    if style not in (None, ""):  # quoted or block scalar: always a string
        if style == '"':
            _refuse_escaped(text, mark)
        return text
    if text and text[0] not in _SPECIAL_STARTS:  # most scalars: no rule below can match
        return text
    known = _RESOLVED.get(text, _RESOLVED)
    if known is not _RESOLVED:
        return known
    found = _resolve_plain(text, mark)
    if len(text) <= 24:  # numbers as written: `1.0`, `0.000001` recur in every ledger
        if len(_RESOLVED) >= 4096:
            _RESOLVED.clear()
        _RESOLVED[text] = found
    return found


#: Plain scalar text -> its value (immutable: str, int, Decimal, None, bool); refusals are
#: raised again, never remembered.
_RESOLVED: dict[str, Any] = {}


def _escaped(text: str) -> str | None:
    """The first character of a double-quoted scalar that only an escape can write and that
    no governance file needs: a control character other than tab and newline (`"\\e[31m"`
    colours a terminal), a line or paragraph separator, or a format character (`"\\u202e"`
    reorders what is shown). Written as they are, the YAML reader refuses the controls and
    `_refuse_hidden` the separators and bidirectional controls; None when there is none."""
    for char in text:
        if char < " " or "\x7f" <= char <= "\x9f":
            if char not in "\n\t":
                return char
        elif char > "\x7f" and unicodedata.category(char) in ("Cf", "Zl", "Zp"):
            return char
    return None


def _refuse_escaped(text: str, mark: Any) -> None:
    char = _escaped(text)
    if char is not None:
        raise _Fail(
            f"an escape makes character U+{ord(char):04X}, which is not allowed: it hides, "
            "reorders or controls text where the value is shown",
            mark,
        )


def _resolve_plain(text: str, mark: Any) -> Any:
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _NON_FINITE.match(text):
        raise _Fail(f"non-finite number {text} is not allowed", mark)
    if _FLOAT.match(text) and not _LEADING_ZERO.match(text):
        return _number(text, mark)
    return text  # everything else, including `no`, `012`, `1:20`, dates: a string as written


def reads_back_as(text: str) -> Any:
    """What a plain (unquoted) scalar `text` would load as; writers quote when it is not `text`."""
    try:
        return _scalar(ScalarNode("tag:yaml.org,2002:str", text, style=None))
    except _Fail:
        return None


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(node: Node, path: KeyPath, doc: Document) -> Any:
    doc.values[path] = _mark(node)
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_construct(item, (*path, i), doc) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Fail("mapping keys must be plain strings", key_node.start_mark)
            key = key_node.value
            if key_node.style == '"':
                _refuse_escaped(key, key_node.start_mark)
            if key == "<<" and _is_plain(key_node):
                raise _Fail(
                    "merge keys (<<) are not allowed in governance files", key_node.start_mark
                )
            if key in result:
                first = doc.keys[(*path, key)]
                raise _Fail(
                    f"duplicate key '{key}' (first defined at line {first[0]})", key_node.start_mark
                )
            doc.keys[(*path, key)] = _mark(key_node)
            result[key] = _construct(value_node, (*path, key), doc)
        return result
    raise _Fail("unsupported YAML node", node.start_mark)  # pragma: no cover


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError.at(path, "file is not valid UTF-8", line, column) from None


def _refuse_hidden(text: str, path: str) -> None:
    found = _HIDDEN.search(text)
    if found:
        before = text[: found.start()]
        line = before.count("\n") + 1
        column = found.start() - (before.rfind("\n") + 1) + 1
        char = f"U+{ord(found.group()[0]):04X}"
        raise InputError.at(
            path,
            f"character {char} is not allowed: it hides or reorders text in editors and diffs",
            line,
            column,
        )


def _compose(text: str) -> Node | None:
    if CParser is not None:
        return _compose_events(text)
    loader = _Composer(text)  # pragma: no cover - libyaml ships in PyYAML's wheels
    try:  # pragma: no cover
        node: Node | None = loader.get_single_node()
        return node
    finally:  # pragma: no cover
        if hasattr(loader, "dispose"):
            loader.dispose()


class _LazyScalar(ScalarNode):
    """A scalar node whose implicit tag is resolved only if asked: the loader reads a
    scalar by its text and style (`_scalar`), never by PyYAML's 1.1 tag."""

    def __init__(self, value: str, start: Any, end: Any, style: str | None, implicit: Any):
        self.value, self.start_mark, self.end_mark, self.style = value, start, end, style
        self._implicit = implicit

    @property
    def tag(self) -> str:  # type: ignore[override]
        resolve: Callable[..., str] = _RESOLVER.resolve
        return resolve(ScalarNode, self.value, self._implicit)


_RESOLVER = Resolver()
_SEQ_TAG, _MAP_TAG = Resolver.DEFAULT_SEQUENCE_TAG, Resolver.DEFAULT_MAPPING_TAG


def _compose_events(text: str) -> Node | None:
    """The node tree PyYAML's composer builds, from libyaml's events, with our rules
    (`_Rules`) checked at the same events in the same order: Composer and Resolver
    dispatch cost more than libyaml's parsing, and the loader never reads a node's tag."""
    parser = CParser(text)  # the reader already refuses control characters here
    get: Callable[[], Any] = parser.get_event
    peek: Callable[[], Any] = parser.peek_event

    def node(depth: int) -> Node:
        event = get()
        kind = type(event)
        if kind is AliasEvent:
            raise _Fail("aliases (*name) are not allowed in governance files", event.start_mark)
        if event.anchor is not None:
            raise _Fail(
                f"anchors (&{event.anchor}) are not allowed in governance files", event.start_mark
            )
        if event.tag is not None:
            raise _Fail(f"tags ({event.tag}) are not allowed in governance files", event.start_mark)
        if depth > MAX_DEPTH:
            raise _Fail(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
        if kind is ScalarEvent:
            return _LazyScalar(
                event.value, event.start_mark, event.end_mark, event.style, event.implicit
            )
        deeper = depth + 1
        if kind is SequenceStartEvent:
            items: list[Node] = []
            while type(peek()) is not SequenceEndEvent:
                items.append(node(deeper))
            end = get()
            return SequenceNode(
                _SEQ_TAG, items, event.start_mark, end.end_mark, flow_style=event.flow_style
            )
        pairs: list[tuple[Node, Node]] = []  # a MappingStartEvent: nothing else starts a node
        while type(peek()) is not MappingEndEvent:
            key = node(deeper)
            pairs.append((key, node(deeper)))
        end = get()
        return MappingNode(
            _MAP_TAG, pairs, event.start_mark, end.end_mark, flow_style=event.flow_style
        )

    try:
        get()  # the stream's start
        if type(peek()) is StreamEndEvent:
            return None
        get()  # the document's start
        root = node(1)
        get()  # the document's end
        if type(peek()) is not StreamEndEvent:
            raise ComposerError(
                "expected a single document in the stream",
                root.start_mark,
                "but found another document",
                get().start_mark,
            )
        return root
    finally:
        parser.dispose()


class _Refused(Exception):
    """Internal: `_read_events` met something the loader refuses; `parse_yaml` composes the
    text again to say what and where, in the composer's order."""


def _read_events(
    text: str,
) -> tuple[Any, dict[KeyPath, tuple[int, int]], dict[KeyPath, tuple[int, int]]]:
    """(data, values, keys) of an admissible document straight from libyaml's events, in
    one pass: what `_compose_events` and `_construct` give, without the node tree (half of
    a ledger's parsing). Every refusal of the two raises, and `parse_yaml` falls back to
    them for the message: the first refusal of the two passes is not always the first
    event that one pass meets."""
    parser = CParser(text)
    get: Callable[[], Any] = parser.get_event
    peek: Callable[[], Any] = parser.peek_event
    values: dict[KeyPath, tuple[int, int]] = {}
    keys: dict[KeyPath, tuple[int, int]] = {}

    def value(event: Any, path: KeyPath, depth: int) -> Any:
        """The node `event` starts (its mark recorded); the scalars inline: most nodes."""
        kind = type(event)
        if kind is AliasEvent or event.anchor is not None or event.tag is not None:
            raise _Refused
        if depth > MAX_DEPTH:
            raise _Refused
        mark: Any = event.start_mark
        values[path] = (mark.line + 1, mark.column + 1)
        if kind is ScalarEvent:
            return _resolve(event.value, event.style, mark)
        deeper = depth + 1
        if kind is SequenceStartEvent:
            items: list[Any] = []
            while (event := get()).__class__ is not SequenceEndEvent:
                items.append(value(event, (*path, len(items)), deeper))
            return items
        result: dict[str, Any] = {}  # a MappingStartEvent: nothing else starts a node
        while (event := get()).__class__ is not MappingEndEvent:
            if event.__class__ is not ScalarEvent or deeper > MAX_DEPTH:
                raise _Refused  # an alias, a collection as a key, or too deep
            key = event.value
            if event.anchor is not None or event.tag is not None or key in result:
                raise _Refused
            if key == "<<" and event.style in (None, ""):
                raise _Refused
            if event.style == '"' and _escaped(key) is not None:
                raise _Refused
            at: Any = event.start_mark
            sub = (*path, key)
            keys[sub] = (at.line + 1, at.column + 1)
            event = get()
            if event.__class__ is ScalarEvent and deeper <= MAX_DEPTH:
                if event.anchor is not None or event.tag is not None:
                    raise _Refused
                mark = event.start_mark
                values[sub] = (mark.line + 1, mark.column + 1)
                result[key] = _resolve(event.value, event.style, mark)
            else:
                result[key] = value(event, sub, deeper)
        return result

    try:
        get()  # the stream's start
        if type(peek()) is StreamEndEvent:
            raise _Refused  # empty
        get()  # the document's start
        data = value(get(), (), 1)
        get()  # the document's end
        if type(peek()) is not StreamEndEvent:
            raise _Refused  # a second document
        return data, values, keys
    finally:
        parser.dispose()


@contextmanager
def _refusals(text: str, path: str) -> Iterator[None]:
    """Every way the parser or our rules refuse `text`, as one located InputError."""
    try:
        yield
    except _Fail as exc:
        raise InputError.at(path, str(exc), exc.line, exc.column) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        at_line = before.count("\n") + 1
        at_column = exc.position - (before.rfind("\n") + 1) + 1
        raise InputError.at(
            path, f"character U+{exc.character:04X} is not allowed", at_line, at_column
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "malformed YAML"
        if "another document" in message:
            message = "a governance file holds one YAML document; found a second ('---')"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise InputError.at(path, f"malformed YAML: {message}", line, column) from None
    except yaml.YAMLError as exc:
        raise InputError.at(path, f"malformed YAML: {exc}") from None
    except RecursionError:
        raise InputError.at(path, f"nesting deeper than {MAX_DEPTH} levels") from None


def compose(text: str, path: str) -> Node | None:
    """The node tree of `text` as the loader reads it (None for an empty document).

    The one YAML parser: whatever edits a governance file's text (appending a ledger
    entry, a reviewer) finds its places with this, so the editor and the loader never
    disagree on what the text says (libyaml and PyYAML's Python scanner do, e.g. on a tab
    after a colon).

    Raises:
        InputError: what `parse_yaml` refuses in the YAML itself.
    """
    _refuse_hidden(text, path)
    with _refusals(text, path):
        return _compose(text)


def parse_yaml(raw: bytes, path: str) -> Document:
    """Parse one YAML document safely.

    Raises:
        InputError: malformed YAML or any construct refused above, with line and column.
    """
    text = _decode(raw, path)
    _refuse_hidden(text, path)
    if CParser is not None:
        try:
            data, values, keys = _read_events(text)
        except Exception:  # refused or malformed: the composer below says where and why
            pass
        else:
            return Document(path, data, text, values, keys)
    doc = Document(path, None, text)
    with _refusals(text, path):
        node = _compose(text)
        if node is None:
            raise InputError.at(path, "file is empty; expected a YAML mapping", 1, 1)
        data = _construct(node, (), doc)
    return Document(path, data, text, doc.values, doc.keys)


# --- JSON -------------------------------------------------------------------------------


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonFail(f"duplicate key '{key}'")
        result[key] = value
    return result


class _JsonFail(Exception):
    """Internal: a refusal from one of the json module's hooks (duplicate key, non-finite
    or oversized number), which `parse_json` turns into an InputError located in the text.
    It never leaves this module; `parse_json` catches it before json's own ValueErrors."""


#: A `\uD800`-`\uDFFF` escape: the only way JSON text holds a lone surrogate (text decoded
#: from UTF-8 holds none of its own).
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _json_constant(name: str) -> Any:
    raise _JsonFail(f"non-finite number {name} is not allowed")


def _json_int(text: str) -> int:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _JsonFail(f"number with more than {_MAX_NUMBER_CHARS} characters")
    return int(text)


def _json_float(text: str) -> Decimal:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _JsonFail(f"number with more than {_MAX_NUMBER_CHARS} characters")
    try:
        value = Decimal(text)
        value.normalize()
        as_float = float(value)
    except ArithmeticError:
        raise _JsonFail(f"number {text} is too large") from None
    if as_float in (float("inf"), float("-inf")):
        raise _JsonFail(f"number {text} is too large")
    if as_float == 0.0 and value != 0:
        raise _JsonFail(f"number {text} is too small to represent (it would read as 0)")
    return value


def _depth(value: Any, limit: int) -> bool:
    """True when `value` nests deeper than `limit` containers (iterative: no recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]  # containers only
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return False


def _json_locations(text: str, path: str) -> Document:
    """Best-effort source map of a JSON file, built only when an error needs locating.

    JSON is YAML flow syntax as far as PyYAML is concerned; where it is not, errors fall
    back to the top of the file.
    """
    try:
        return parse_yaml(text.encode("utf-8"), path)
    except InputError:
        return Document(path, None, text)


def _json_failure_mark(text: str, path: str, message: str) -> tuple[int | None, int | None]:
    """Line and column of a refusal the json module reports without a position."""
    token = re.search(r"number (\S+)", message)
    if token:
        name = token.group(1)
        found = re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w.])", text)
        if found:
            before = text[: found.start()]
            return before.count("\n") + 1, found.start() - (before.rfind("\n") + 1) + 1
    try:
        parse_yaml(text.encode("utf-8"), path)
    except InputError as exc:  # the YAML composer locates duplicate keys
        where = exc.problems[0].location
        return where.line, where.column
    return None, None


def parse_json(raw: bytes, path: str) -> Document:
    """Parse one JSON document with the same refusals as YAML where they apply.

    Raises:
        InputError: malformed JSON, duplicate keys, NaN/Infinity, or nesting too deep.
    """
    text = _decode(raw, path)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_constant=_json_constant,
            parse_float=_json_float,
            parse_int=_json_int,
        )
        if _ESCAPED_SURROGATE.search(text):  # else no string can hold a lone surrogate
            json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise InputError.at(path, f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except _JsonFail as exc:
        raise InputError.at(path, str(exc), *_json_failure_mark(text, path, str(exc))) from None
    except UnicodeEncodeError:
        raise InputError.at(
            path, "a string holds a lone surrogate (\\ud800-\\udfff escape)"
        ) from None
    except ValueError as exc:  # e.g. an integer over Python's digit limit
        raise InputError.at(path, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise InputError.at(path, f"nesting deeper than {MAX_DEPTH} levels") from None
    if _depth(data, MAX_DEPTH):
        raise InputError.at(path, f"nesting deeper than {MAX_DEPTH} levels")
    return Document(path, data, text)


def parse_document(raw: bytes, path: str) -> Document:
    """Parse by suffix: `.json` as JSON, everything else as YAML."""
    return parse_json(raw, path) if path.endswith(".json") else parse_yaml(raw, path)


# --- validation ------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | Decimal | float):
        return f"the number {value}"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown)}"
    return "a mapping" if isinstance(value, dict) else "a list"


def _message(error: Any, doc: Document) -> str:
    """One readable message for a pydantic error: the field path, what was expected, got what."""
    loc = tuple(error["loc"])
    dotted = ".".join(str(part) for part in loc) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"{dotted}: required field is missing"
    if kind == "extra_forbidden":
        return f"{dotted}: unknown field (check the spelling; see `synthgov schema`)"
    got = error.get("input")
    expected = error["msg"]
    if expected.startswith("Value error, "):
        expected = expected.removeprefix("Value error, ")
        return f"{dotted}: {expected}"
    hint = ""
    if kind == "string_type" and isinstance(got, int | Decimal) and not isinstance(got, bool):
        line_text = _source_text(doc, loc)
        hint = f'; quote it to keep it as written: "{line_text or got}"'
    return f"{dotted}: {expected[0].lower() + expected[1:]}, got {_describe(got)}{hint}"


def _source_text(doc: Document, loc: KeyPath) -> str | None:
    """The scalar exactly as written in the file (used to suggest quoting `1.10`)."""
    mark = doc.values.get(loc)
    lines = doc.text.splitlines()
    if mark is None or mark[0] > len(lines):
        return None
    line = lines[mark[0] - 1][mark[1] - 1 :]
    token = re.match(r"[^\s,#\]}]+", line)
    return token.group(0) if token else None


def validate(doc: Document, model: type[ModelT], context: dict[str, Any] | None = None) -> ModelT:
    """Validate parsed data against a model, reporting every error with its location.

    Raises:
        InputError: one problem per validation error, each located in the file.
    """
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        by_field: dict[KeyPath, list[dict[str, Any]]] = {}
        for error in exc.errors(include_url=False):
            cause = error.get("ctx", {}).get("error")
            loc = _field_path(doc.data, (*error["loc"], *getattr(cause, "loc", ())))
            by_field.setdefault(loc, []).append({**error, "loc": loc})
        problems = []
        for loc, errors in by_field.items():
            key = errors[0]["type"] == "extra_forbidden"
            message = _message(errors[0], doc) if len(errors) == 1 else _union_message(errors)
            problems.append(Problem(doc.locate(loc, key=key), message))
        raise InputError(problems) from None


def _field_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """`loc` without pydantic's union-branch tags (`int`, `constrained-str`, ...): only the
    keys and indexes that exist in the document, plus a final missing or unknown key."""
    path: list[str | int] = []
    for part in loc:
        in_mapping = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_mapping or in_list:
            data = data[part]
        elif (
            isinstance(data, dict)
            and isinstance(part, str)
            and "[" not in part
            and part not in _BRANCHES
        ):
            path.append(part)  # a missing field, or a rule's own field path (FieldError)
            data = None
            continue
        else:
            continue
        path.append(part)
    return tuple(path)


_BRANCHES = {"int", "float", "str", "bool", "none", "constrained-str", "decimal", "list", "dict"}
_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "string": "a string",
    "bool": "a boolean",
    "list": "a list",
    "dict": "a mapping",
    "none": "null",
}


def _union_message(errors: list[dict[str, Any]]) -> str:
    """One line for a value that matched none of a field's alternative types."""
    dotted = ".".join(str(part) for part in errors[0]["loc"])
    names = []
    for error in errors:
        name = _TYPE_NAMES.get(error["type"].split("_", 1)[0])
        if name and name not in names:
            names.append(name)
    if not names:
        return _message(errors[0], Document("", None))
    expected = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{dotted}: expected {expected}, got {_describe(errors[0].get('input'))}"


def load_document(root: Path, path: str) -> Document:
    """Read and parse one file inside the repository (no symlinks, size-limited)."""
    return parse_document(read_bytes(root, path), path)
