"""The safe loader refuses every unsafe construct, with file, line and column (signing.md §9)."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from synthgov.errors import InputError
from synthgov.files.loading import load_document, parse_json, parse_yaml
from synthgov.files.paths import MAX_FILE_BYTES, read_bytes

ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

REJECTED_YAML = {
    "duplicate key": (
        b"decision: reject\ndecision: approve\n",
        2,
        1,
        "duplicate key 'decision' (first defined at line 1)",
    ),
    "nested duplicate": (b"a:\n  b: 1\n  c: 2\n  b: 3\n", 4, 3, "duplicate key 'b'"),
    "python object tag": (
        b"x: !!python/object/apply:os.system ['true']\n",
        1,
        4,
        "tags (tag:yaml.org,2002:python/object/apply:os.system) are not allowed",
    ),
    "binary tag": (b"x: !!binary aGVsbG8=\n", 1, 4, "tags"),
    "local tag": (b"x: !custom 1\n", 1, 4, "tags (!custom)"),
    "str tag": (b"x: !!str 1\n", 1, 4, "tags"),
    "anchor": (b"a: &x 1\nb: 2\n", 1, 4, "anchors (&x) are not allowed"),
    "merge key": (b"<<: {a: 1}\nb: 2\n", 1, 1, "merge keys (<<) are not allowed"),
    "nan": (b"epsilon: .nan\n", 1, 10, "non-finite number .nan"),
    "inf": (b"cap: .inf\n", 1, 6, "non-finite number .inf"),
    "negative inf": (b"cap: -.inf\n", 1, 6, "non-finite number -.inf"),
    "underflow": (b"epsilon: 1e-400\n", 1, 10, "too small to represent"),
    "overflow": (b"epsilon: 1e400\n", 1, 10, "too large"),
    "two documents": (b"a: 1\n---\nb: 2\n", 2, 1, "malformed YAML"),
    "empty": (b"", 1, 1, "file is empty"),
    "not utf-8": (b"name: caf\xe9\n", 1, 10, "not valid UTF-8"),
    "NUL byte": (b"a: 1\nb: x\x00y\n", 2, 5, "character U+0000 is not allowed"),
    "line separator hides a key in a comment": (
        b"retention_days: 365  # legal\xe2\x80\xa8revalidation_days: 3650\n",
        1,
        29,
        "character U+2028 is not allowed",
    ),
    "lone CR": (b"a: 1 # x\rb: 2\n", 1, 9, "character U+000D is not allowed"),
    "next line": (b"a: 1 # x\xc2\x85b: 2\n", 1, 9, "character U+0085 is not allowed"),
    "bidi override": (b'a: "x\xe2\x80\xaey"\n', 1, 6, "character U+202E is not allowed"),
    "bidi override by an escape": (b'a: "x\\u202ey"\n', 1, 4, "an escape makes character U+202E"),
    "bidi isolate by an escape in a key": (
        b'a: 1\n"\\u2066b": 2\n',
        2,
        1,
        "an escape makes character U+2066",
    ),
    "line separator by an escape": (b'a: ["x\\Ly"]\n', 1, 5, "an escape makes character U+2028"),
    "terminal colour by an escape": (
        b'a: "\\e[31mred"\n',
        1,
        4,
        "an escape makes character U+001B",
    ),
    "C1 control by an escape in a key": (b'"\\x9b": 1\n', 1, 1, "an escape makes character U+009B"),
    "NUL by an escape": (b'a: "\\0"\n', 1, 4, "an escape makes character U+0000"),
    "left-to-right mark by an escape": (b'a: "x\\u200e"\n', 1, 4, "character U+200E"),
    "huge integer": (b"seed: " + b"9" * 5000 + b"\n", 1, 7, "number with more than 100 characters"),
    "huge exponent": (b"epsilon: 1e999999999999999999999\n", 1, 10, "is too large"),
    "more digits than a float holds": (
        b"threshold: 0.78000000000000001\n",
        1,
        12,
        "more than 15 significant digits",
    ),
    "more digits than a double's shortest form": (
        b"min: 0.10000000000000001\n",
        1,
        6,
        "more than 15 significant digits",
    ),
    "complex key": (b"? [a, b]\n: 1\n", 1, 3, "mapping keys must be plain strings"),
    "malformed": (b"a: [1, 2\n", 2, 1, "malformed YAML"),
}


@pytest.mark.parametrize("name", REJECTED_YAML)
def test_yaml_refusals_are_located(name: str) -> None:
    raw, line, column, message = REJECTED_YAML[name]
    with pytest.raises(InputError) as caught:
        parse_yaml(raw, "policy/policy.yaml")
    problem = caught.value.problems[0]
    assert (problem.location.path, problem.location.line, problem.location.column) == (
        "policy/policy.yaml",
        line,
        column,
    )
    assert message in problem.message


def test_alias_bomb_is_refused_in_under_a_second() -> None:
    start = time.perf_counter()
    with pytest.raises(InputError, match="anchors"):
        parse_yaml(ALIAS_BOMB, "bomb.yaml")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b"{a: ", b"}")])
def test_thousand_deep_nesting_is_an_input_error_not_a_recursion_error(
    opener: bytes, closer: bytes
) -> None:
    with pytest.raises(InputError, match="nesting deeper than 64 levels"):
        parse_yaml(opener * 1000 + b"1" + closer * 1000, "deep.yaml")


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_yaml(b"[" * 63 + b"1" + b"]" * 63, "ok.yaml").data is not None


def test_yaml_11_traps_read_as_written() -> None:
    data = parse_yaml(
        b"a: no\nb: on\nc: 012\nd: 1:20\ne: 2025-01-15\nf: 1.10\ng: yes\nh: ~\ni: true\nj: 0.5\nk: 7\n",
        "f.yaml",
    ).data
    assert data == {
        "a": "no",
        "b": "on",
        "c": "012",
        "d": "1:20",
        "e": "2025-01-15",
        "f": Decimal("1.10"),
        "g": "yes",
        "h": None,
        "i": True,
        "j": Decimal("0.5"),
        "k": 7,
    }
    assert str(data["f"]) == "1.10"  # exactly as written, not 1.1


def test_quoted_scalars_are_always_strings() -> None:
    assert parse_yaml(b'a: "1.10"\nb: \'true\'\nc: "null"\n', "f.yaml").data == {
        "a": "1.10",
        "b": "true",
        "c": "null",
    }


REJECTED_JSON = {
    "duplicate key": (b'{"a": 1,\n "a": 2}', 2, 2, "duplicate key 'a'"),
    "NaN": (b'{"x": 1,\n "epsilon": NaN}', 2, 13, "non-finite number NaN"),
    "Infinity": (b'{"cap": -Infinity}', 1, 9, "non-finite number -Infinity"),
    "underflow": (b'{"epsilon": 1e-400}', 1, 13, "too small to represent"),
    "malformed": (b'{"a": }', 1, 7, "malformed JSON"),
    "huge integer": (
        b'{"rows": ' + b"9" * 5000 + b"}",
        1,
        10,
        "number with more than 100 characters",
    ),
    "huge exponent": (b'{"e": 1e999999999999999999999}', 1, 7, "is too large"),
}


@pytest.mark.parametrize("name", REJECTED_JSON)
def test_json_refusals_are_located(name: str) -> None:
    raw, line, column, message = REJECTED_JSON[name]
    with pytest.raises(InputError) as caught:
        parse_json(raw, "report.json")
    problem = caught.value.problems[0]
    assert (problem.location.line, problem.location.column) == (line, column)
    assert message in problem.message


def test_json_deep_nesting_is_refused() -> None:
    with pytest.raises(InputError, match="nesting deeper than 64"):
        parse_json(b"[" * 5000 + b"]" * 5000, "r.json")
    with pytest.raises(InputError, match="nesting deeper than 64"):
        parse_json(b"[" * 65 + b"]" * 65, "r.json")


def test_json_numbers_are_exact() -> None:
    assert parse_json(b'{"e": 0.1, "n": 3}', "r.json").data == {"e": Decimal("0.1"), "n": 3}


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "policy.yaml"
    with big.open("wb") as handle:
        handle.write(b"a: " + b"x" * (20 * 1024 * 1024) + b"\n")
    start = time.perf_counter()
    with pytest.raises(InputError, match="larger than the 1024 KiB limit"):
        load_document(tmp_path, "policy.yaml")
    assert time.perf_counter() - start < 1.0
    (tmp_path / "ok.yaml").write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES - 10) + b"\n")
    assert load_document(tmp_path, "ok.yaml").data["a"].startswith("x")


def test_symlink_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("token: hunter2\n")
    root = tmp_path / "repo"
    (root / "policy").mkdir(parents=True)
    os.symlink(secret, root / "policy" / "policy.yaml")
    with pytest.raises(
        InputError, match=r"refusing to follow the symbolic link policy/policy\.yaml"
    ):
        read_bytes(root, "policy/policy.yaml")


def test_symlinked_directory_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "card.yaml").write_text("id: x\n")
    root = tmp_path / "repo"
    (root / "datasets").mkdir(parents=True)
    os.symlink(outside, root / "datasets" / "x")
    with pytest.raises(InputError, match="symbolic link datasets/x"):
        read_bytes(root, "datasets/x/card.yaml")


@pytest.mark.parametrize("path", ["../outside.yaml", "policy/../../x.yaml", "/etc/passwd", ""])
def test_paths_out_of_the_repository_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(InputError):
        read_bytes(tmp_path, path)


def test_absolute_path_inside_the_repository_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: 1\n")
    assert read_bytes(tmp_path, str(tmp_path / "a.yaml")) == b"a: 1\n"


def test_control_characters_in_user_text_cannot_forge_output_lines() -> None:
    from synthgov.files.loading import validate
    from synthgov.models import Waiver

    doc = parse_yaml(b'"x\\n::error::forged": 1\n"\\tevil": 2\n', "w.yaml")
    with pytest.raises(InputError) as caught:
        validate(doc, Waiver)
    lines = str(caught.value).splitlines()
    assert (
        "w.yaml:1:1: x\\u000a::error::forged: unknown field (check the spelling; see `synthgov schema`)"
        in lines
    )
    assert any("\\u0009evil" in line for line in lines)
    assert all(line.startswith("w.yaml:") for line in lines)


def test_json_lone_surrogates_are_refused() -> None:
    with pytest.raises(InputError, match="lone surrogate"):
        parse_json(b'{"synthgov_version": "\\ud800"}', "r.json")


def test_crlf_line_ends_are_fine() -> None:
    assert parse_yaml(b"a: 1\r\nb: x\r\n", "f.yaml").data == {"a": 1, "b": "x"}


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "card.yaml")
    with pytest.raises(InputError, match="not a regular file"):
        read_bytes(tmp_path, "card.yaml")


def test_writing_where_a_folder_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    from synthgov.files.paths import write_new

    (tmp_path / "budgets").write_text("not a folder")
    with pytest.raises(InputError, match=r"budgets/x\.yaml: cannot write"):
        write_new(tmp_path, "budgets/x.yaml", b"x")


@pytest.mark.parametrize("name", REJECTED_YAML)
def test_the_pure_python_parser_refuses_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libyaml the loader falls back to PyYAML's Python parser: same rules, same places."""
    from synthgov.files import loading

    monkeypatch.setattr(loading, "_Composer", loading._PyComposer)
    test_yaml_refusals_are_located(name)


def test_both_parsers_read_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthgov.files import loading

    raw = b"a: no\nb: 012\nc: 1.10\nd: ~\ne: true\nf: 'x'\ng: [1, {h: 2}]\n"
    fast = parse_yaml(raw, "f.yaml")
    monkeypatch.setattr(loading, "_Composer", loading._PyComposer)
    slow = parse_yaml(raw, "f.yaml")
    assert (fast.data, fast.values, fast.keys) == (slow.data, slow.values, slow.keys)


def test_a_doubles_shortest_form_is_read_exactly_as_written() -> None:
    """`dataset new` writes a measured minimum as Python prints it (17 digits at most); the
    card it writes must load, and keep the value exactly."""
    from decimal import Decimal

    from synthgov.files.loading import parse_yaml

    data = parse_yaml(b"min: -1.584899964827102\nmax: 0.30000000000000004\n", "card.yaml").data
    assert data == {"min": Decimal("-1.584899964827102"), "max": Decimal("0.30000000000000004")}


def _composed(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> object:
    """What the composer path (node tree, then data) reads or refuses."""
    from synthgov.files import loading

    def refuse(text: str) -> None:
        raise RuntimeError("the one-pass reader is off")

    with monkeypatch.context() as patched:
        patched.setattr(loading, "_read_events", refuse)
        return _outcome(raw)


def _outcome(raw: bytes) -> object:
    try:
        doc = parse_yaml(raw, "f.yaml")
    except InputError as exc:
        return [(p.location.line, p.location.column, p.message) for p in exc.problems]
    return (repr(doc.data), list(doc.values.items()), list(doc.keys.items()))


def test_the_one_pass_reader_reads_and_refuses_what_the_composer_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """parse_yaml reads a document straight from libyaml's events; the composer path (node
    tree, then data) words its refusals. Both must give the same data (types included), the
    same source map, and the same first refusal, on real files and on mutations of them
    that hit every rule (anchors, aliases, tags, merge keys, duplicates, depth, documents)."""
    import random

    from synthgov.files import loading

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_bytes() for p in sorted((root / "synthgov").rglob("*.yaml"))]
    texts += [p.read_bytes() for p in sorted((root / "docs").rglob("*.yaml"))]
    texts += [raw for raw, *_ in REJECTED_YAML.values()]
    texts += [b"a: [1, {b: 2.50, c: '3'}]\n? x\n: y\n", b"- 1\n- -0.0\n", b"{a: {b: [[]]}}"]
    bits = [b"&a ", b"*a", b"!!str ", b"<<: x\n", b"---\n", b"\t", b"[", b"{", b": ", b"- "]
    bits += [b"~", b".inf", b"1e999", b"'", b"? ", b"a: 1\na: 2\n", b"0.12345678901234567"]
    rnd = random.Random(19)
    real = list(texts)
    for _ in range(600):
        text = bytearray(rnd.choice(real))
        at = rnd.randint(0, len(text))
        text[at:at] = rnd.choice(bits)
        texts.append(bytes(text))
    read = 0
    for raw in texts:
        composed = _composed(raw, monkeypatch)
        assert _outcome(raw) == composed, raw[:200]
        if isinstance(composed, tuple):  # admitted: the one-pass reader must have read it
            assert loading._read_events(raw.decode()) is not None
            read += 1
    assert read > 100  # the comparison covers admitted documents, not only refusals


def test_a_number_resolved_once_is_read_the_same_quoted_and_refused_again() -> None:
    """Plain number texts are resolved once and remembered; a quoted one stays a string,
    and a refused one is refused every time (never remembered)."""
    data = parse_yaml(b"a: 1.10\nb: '1.10'\nc: 1.10\n", "f.yaml").data
    assert data == {"a": Decimal("1.10"), "b": "1.10", "c": Decimal("1.10")}
    assert str(data["a"]) == "1.10" and isinstance(data["b"], str)
    for _ in range(2):
        with pytest.raises(InputError, match="too large"):
            parse_yaml(b"cap: 1e400\n", "f.yaml")


def test_a_number_longer_than_a_decimal_context_is_refused_not_rounded() -> None:
    """Significant digits were counted after `normalize()`, which rounds to 28 digits
    first: 0.780000000000000000000000000001 counted 2, was admitted, and a threshold read
    as 0.78. Digits are now counted as written; a double's shortest form still passes."""
    for text in ("0.780000000000000000000000000001", "1.0000000000000000000000000000001e-3"):
        with pytest.raises(InputError, match="more than 15 significant digits"):
            parse_yaml(f"threshold: {text}\n".encode(), "policy.yaml")
    data = parse_yaml(b"a: 100\nb: 1.50e3\nc: 0.024355970359538362\n", "f.yaml").data
    assert data == {"a": 100, "b": Decimal("1.50e3"), "c": Decimal("0.024355970359538362")}


#: YAML 1.1 implicit types, keys of every style, directives, document markers, escapes,
#: line ends and depths: what a hostile file author would try on the one-pass reader.
CRAFTED_YAML = [
    "a: yes\nb: no\nc: on\nd: off\ne: 0o17\nf: 017\ng: 1:30\nh: ~\ni: 2025-01-15\nj: =\n",
    "k: 2001-12-14t21:59:43.10-05:00\nl: 0x1F\nm: 1_000\nn: +1\no: -0\np: 5.\nq: 00\nr: .5\n",
    "a: .inf\n",
    "a: -.NaN\n",
    "1: a\ntrue: b\nnull: c\n~: d\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
    "? a\n: 1\n? a\n: 2\n",
    "{a: 1, 'a': 2}\n",
    'a: 1\n"\\x61": 2\n',
    'a: 1\n"\\u0061": 2\n',
    "? |-\n  a\n: 1\na: 2\n",
    "a: 1\na : 2\n",
    "\ufeffa: 1\n",
    "a: 1\r\nb: 2\r\n",
    "%YAML 1.1\n---\na: 1\n",
    "%TAG !e! tag:e.com,2000:\n---\na: !e!x 1\n",
    "%TAG ! tag:e.com,2000:\n---\na: 1\n",
    "---\na: 1\n...\n",
    "---\na: 1\n...\n---\nb: 2\n",
    "---\n",
    "<<: {a: 1}\n",
    "'<<': 1\n",
    "? <<\n: 1\n",
    "{<<: {a: 1}}\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: ! 1\n",
    "a: " + "[" * 62 + "]" * 62 + "\n",
    "a: " + "[" * 63 + "]" * 63 + "\n",
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 66)),
    "a: {? b}\n",
    "a: 0.780000000000000000000000000001\n",
    "a: 1e-400\n",
    "a: " + "1" * 5000 + "\n",
    "a: 1.10\nb: '1.10'\n1.10: 1.10\n",
]


@pytest.mark.parametrize("text", CRAFTED_YAML)
def test_crafted_yaml_reads_the_same_in_one_pass_as_through_the_composer(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same data, types, source map and first refusal on either path, whatever was read
    before (the number cache is warmed by a first read, then the text is read again)."""
    raw = text.encode()
    first = _outcome(raw)
    assert first == _composed(raw, monkeypatch) == _outcome(raw)
