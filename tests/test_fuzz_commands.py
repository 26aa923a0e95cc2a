"""Property test: every command of the CLI, driven with random option values and files inside
a real governance repository, exits as it documents (0, 1 or 2) and never shows an internal
error or a traceback; exit 2 says what was wrong, one line per problem (usage errors: one).

The commands are read from the click tree of `synthgov.cli`, so a new command is fuzzed as
soon as it exists (and `test_a_command_line_that_should_work_works` fails until it has a
working command line); each option's values come from its type and its name (numbers for
`--epsilon`, times for `--at`, tables for `--real`, ...), valid-looking or odd at a rate
drawn per example. The repository is made once per process (init, a card, a ledger,
reviewers with real ssh keys, releases, revalidation, revocation and edits on branches; see
`sandbox`) and copied for every example; an example may run on another branch and damage
one governance file first, in the working tree or committed. Examples are derandomized, so
CI runs the same ones; `SYNTHGOV_FUZZ_SCALE=10` runs ten times as many.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgov.cli import cli, main
from synthgov.examples import write_release_tables
from tests.helpers import signing
from tests.helpers.cli import run_in
from tests.helpers.git import commit, git

PEOPLE = signing.people()
SCALE = float(os.environ.get("SYNTHGOV_FUZZ_SCALE", "1"))


# --- the commands -------------------------------------------------------------------------


Leaf = tuple[tuple[str, ...], click.Command]


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[Leaf]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = dict(leaves(cli))
_EXIT_1 = re.compile(r"\bexit 1\b|\bexit 0\s[^.]*?,\s1\s", re.IGNORECASE)


def documented_exits(command: click.Command) -> set[int]:
    """0 and 2 for every command; 1 only where its help documents a verdict or a refusal."""
    return {0, 1, 2} if _EXIT_1.search(command.help or "") else {0, 2}


#: Commands that evaluate tables (about a second per run once they get that far).
HEAVY = {("evaluate",), ("release", "new"), ("revalidate",)}


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    """A path into the example's sandbox: a prepared file, or `content` written at run time."""

    name: str
    content: bytes | None = None


@dataclass(frozen=True)
class Token:
    """A value known only once the repository exists (a key's fingerprint)."""

    name: str


#: Hostile text for any option (argv cannot hold a NUL; strings with one come from files).
HOSTILE = [
    "",
    " ",
    "-",
    "--",
    "\n",
    "a\nb",
    "\t",
    "\x1b[31mred",
    "\u202egnp.exe",
    "\u200b",
    "\ufeff",
    "\u00e9",
    "\U0001d54f",
    "\udcff",
    "\udc80x",
    "a" * 5000,
    "../../etc/passwd",
    "/",
    "%s%n",
    "{}",
    "$(id)",
    "'",
    '"',
    "\\",
    "null",
    "~",
    "*",
    "&a",
    "1e400",
    "-1",
    "nan",
]


#: What a shell can pass: no NUL, and no surrogates but those of undecodable bytes (in HOSTILE).
_ARGV_CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


@dataclass(frozen=True)
class Pool:
    """Values for one parameter: valid-looking ones, and odd ones that should be refused
    (or accepted) cleanly."""

    valid: list[Any]
    odd: list[Any]
    extra: st.SearchStrategy[Any] | None = None  # more odd values, generated

    def hostile(self) -> st.SearchStrategy[Any]:
        options = [
            st.sampled_from(self.odd or HOSTILE),
            st.sampled_from(HOSTILE),
            st.text(_ARGV_CHARACTERS, max_size=12),
        ]
        return st.one_of(*options, *([self.extra] if self.extra is not None else []))


NUMBERS = Pool(
    ["1", "0.5", "3", "0.1", "1e-7", "1e-6", "1e-8", "2.5"],
    [
        "0",
        "-1",
        "-0",
        "+1",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e-400",
        "1e400",
        "1e-320",
        "9e14",
        "1e-120",
        "1e308",
        "1.7976931348623157e308",
        "",
        " 1 ",
        "1,5",
        "0x10",
        "1_0",
        "\u0661",
        "\u00bd",
        "1e",
        ".",
        "e5",
        "9" * 400,
        "0." + "0" * 400 + "1",
        "4e-324",
        "0.9999999999999999999",
        "1.0000000000000000001",
        "1e-300",
        "100",
    ],
)
INTEGERS = Pool(
    ["0", "1", "7", "100", "1000"],
    [
        "101",
        "-1",
        "4294967295",
        "4294967296",
        "9" * 30,
        "1.5",
        "nan",
        "",
        "0x10",
        "\u0661\u0662",
        " 7",
    ],
)
TIMES = Pool(
    ["2025-06-01T10:00:00Z", "2025-06-01", "2026-01-01T00:00:00+02:00"],
    [
        "2099-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31",
        "0001-01-01T00:00:00Z",
        "0001-01-01",
        "2025-02-30",
        "2025-13-01T00:00:00Z",
        "2025-06-01T25:00:00Z",
        "2025-06-01T10:00:00+14:00",
        "2025-06-01T10:00:00-23:59",
        "2025-06-01T10:00:00+99:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "now",
        "",
        "1e400",
        "2025-06-01T10:00:00.123456789Z",
        "10000-01-01T00:00:00Z",
        "2025-06-01T10:00Z",
        "2025-06-01 10:00:00",
        "1970-01-01T00:00:00Z",
    ],
)
REFS = Pool(
    ["main", "HEAD", "work", "r1", "HEAD~1", "main..HEAD", "r1..work", "main..work"],
    [
        "HEAD~99",
        "nope",
        "main..nope",
        "..",
        "...",
        "main...HEAD",
        "--output=../injected",
        "-c",
        "HEAD@{99}",
        ":/bootstrap",
        "HEAD^{tree}",
        "main:policy/policy.yaml",
        "a" * 300,
        "refs/heads/main",
        "origin/HEAD",
        "0" * 40,
        "HEAD^{blob}",
        "main..",
        "..main",
    ],
)
RELEASES = Pool(
    ["claims@1.0", "claims@1.1", "claims@1.2"],
    [
        "claims@9.9",
        "claims",
        "@",
        "claims@",
        "@1.0",
        "nope@1.0",
        "claims@../1.0",
        "claims@1.0/../..",
        "../claims@1.0",
        "CLAIMS@1.0",
        "claims@1.0@1.0",
        "claims@" + "9" * 300,
        "cla\u202eims@1.0",
        "claims@1.0\n",
    ],
)
_ODD_IDS = [
    "a",
    "-",
    "a--b",
    "Claims",
    "../x",
    "a/b",
    ".",
    "..",
    "x" * 64,
    "x" * 63,
    "con",
    "\u00fcn\u00ef",
    "claims\n",
    "",
]
DATASETS = Pool(["claims", "fresh"], _ODD_IDS)
SOURCES = Pool(["claims-2024", "fresh-source"], ["other", *_ODD_IDS])
REVIEWERS = Pool(["ada", "chen", "dana", "eli"], _ODD_IDS)
VERSIONS = Pool(
    ["1.0", "1.1", "1.2", "2.0.0"],
    ["1.0.0-rc.1", "", "../1", "1", "v1", "1.0/..", "01.0", "9" * 100, "1..0", "1.0\n"],
)
ROLES = Pool(["privacy-reviewer", "data-owner", "policy-admin"], ["nobody", "", "Privacy-Reviewer"])
EMAILS = Pool(
    ["x@example.org", "ada@example.org", "author@example.org"],
    ["not-an-email", "", "a@b", "a@" + "b" * 300, "\u00e9@example.org", "a@example.org\n"],
)
LOGINS = Pool(["octocat", "ada"], ["", "-x", "a" * 50, "a b", "\u00fcn\u00ef", "ada\n"])
FINGERPRINTS = Pool([Token("ada"), Token("chen")], ["SHA256:" + "A" * 43, "", "nope"])
PARAMS = Pool(["epochs=10", "k=v"], ["=", "k=", "=v", "noequals", "a=b=c", "k=1e400", "k=\n"])
KINDS = Pool(
    [
        "policy",
        "card",
        "ledger",
        "reviewers",
        "manifest",
        "report",
        "approval",
        "waiver",
        "revocation",
        "checkpoint",
        "audit",
        "revalidation",
    ],
    ["nope", "", "../x"],
)
TEXT = Pool(["some text", "model development", "aim", "0.16.0", "claims-team"], [])
GOVERNANCE = [
    "policy/policy.yaml",
    "policy/reviewers.yaml",
    "datasets/claims/card.yaml",
    "budgets/claims-2024.yaml",
    "datasets/claims/releases/1.1/manifest.yaml",
    "datasets/claims/releases/1.1/report.json",
    "datasets/claims/releases/1.0/manifest.yaml",
    "datasets/claims/releases/1.0/approvals/privacy-reviewer--ada.yaml",
]
#: ... and what a damaged example may damage besides (on the branches that have them).
DAMAGEABLE = [
    *GOVERNANCE,
    "datasets/claims/releases/1.0/revalidations/*.json",
    "datasets/claims/releases/1.0/revocation.yaml",
]

#: Prepared files (made by `_files`).
TABLES = ["train.csv", "holdout.csv", "honest.csv", "honest.parquet"]
ODD_TABLES = [
    "one-row.csv",
    "one-column.csv",
    "all-missing.csv",
    "duplicate-columns.csv",
    "header-only.csv",
    "empty.csv",
    "ragged.csv",
    "bom.csv",
    "latin1.csv",
    "nul.csv",
    "crlf.csv",
    "extreme-numbers.csv",
    "bad-dates.csv",
    "odd-names.csv",
    "long-field.csv",
    "unbalanced-quotes.csv",
    "one-row.parquet",
    "all-null.parquet",
    "nested.parquet",
    "zero-rows.parquet",
    "garbage.parquet",
    "csv-as.parquet",
    "parquet-as.csv",
    "table.xlsx",
    "no-suffix",
    "constant.csv",
    "swapped.csv",
    "wide.csv",
    "uint64.parquet",
    "decimal.parquet",
    "binary.parquet",
    "dictionary.parquet",
    "zoned.parquet",
    "duration.parquet",
    "null-type.parquet",
    "duplicate-columns.parquet",
]
CARDS = ["card.yaml"]
ODD_CARDS = [
    "card.json",
    "garbage.yaml",
    "list.yaml",
    "aliases.yaml",
    "deep.yaml",
    "tabs.yaml",
    "empty.yaml",
    "policy-as-card.yaml",
    "card-bad-rule.yaml",
    "card-huge-number.yaml",
]
ODD_KEYS = [
    "mallory",
    "mallory.pub",
    "pgp-garbage.asc",
    "pub-junk.pub",
    "empty.pub",
    "two-keys.pub",
    "chen",
]
SPECIAL = [
    "missing.csv",
    "dir",
    "fifo",
    "link.csv",
    "dangling.csv",
    "loop.csv",
    "link-to-dir",
    "/dev/null",
    "/dev/zero",
    "/etc/hostname",
    "a" * 300 + ".csv",
    "new\nline.csv",
    "\udcff.csv",
]
OUTPUTS = Pool(
    ["-", "out/report.json", "report.json"],
    [
        "dir",
        "fifo",
        "devnull-link",
        "train.csv",
        "dangling.csv",
        "../escape.json",
        "",
        "a" * 300,
        "new\nline",
        "link-to-dir/report.json",
        "fifo/report.json",
        "out/deeper/than/that/report.json",
    ],
)
FOLDERS = Pool(
    ["new-folder", "catalog", "dir"],
    [".", "..", "fifo", "train.csv", "link-to-dir", "nope/deep", "", "a" * 300, "dangling.csv"],
)


def _files_pool(valid: list[str], odd: list[str], suffixes: list[str]) -> Pool:
    generated = st.builds(
        lambda data, suffix: File(f"random{suffix}", data),
        st.binary(max_size=400),
        st.sampled_from(suffixes),
    )
    specials = [n if n.startswith("/") else File(n) for n in SPECIAL]
    return Pool(
        [File(n) for n in valid],
        [File(n) for n in odd] + specials,
        st.one_of(generated, _csv_tables()),
    )


_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "-1",
            "0",
            "1e400",
            "nan",
            "inf",
            "-0",
            "1.5",
            "north",
            "south",
            "bronze",
            "F",
            "M",
            "2024-01-01",
            "2024-02-30",
            "NA",
            "None",
            "\u202e",
            "x" * 200,
            "9" * 40,
            "1e-400",
            '"',
            "a,b",
        ]
    ),
    st.text(max_size=6),
)
_NAMES = [
    "age",
    "sex",
    "region",
    "plan",
    "admitted",
    "discharged",
    "claim_amount",
    "fraud",
    "member_id",
    "email",
    "extra",
]


@st.composite
def _csv_tables(draw: st.DrawFn) -> File:
    """A CSV table with claims-like columns (maybe repeated or missing) and odd cells."""
    columns = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=10))
    rows = draw(
        st.lists(st.lists(_CELLS, min_size=len(columns), max_size=len(columns)), max_size=30)
    )
    repeat = draw(st.integers(1, 5))  # enough rows for a metric now and then
    lines = [",".join(columns)] + [",".join(_quote(c) for c in row) for row in rows] * repeat
    return File("generated.csv", ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell


def _named(pool: Pool, wrap: Callable[[str], Any]) -> Pool:
    return Pool([wrap(v) for v in pool.valid], [wrap(v) for v in pool.odd])


def _output(name: str) -> Any:
    return name if name in ("-", "") or name.startswith("../") else File(name)


def _folder(name: str) -> Any:
    return name if name in (".", "..", "") else File(name)


TABLE_FILES = _files_pool(TABLES, ODD_TABLES, [".csv", ".parquet", ".pq", ""])

#: Values by parameter name; parameters not named here get theirs from their type.
BY_NAME: dict[str, Pool] = {
    "epsilon": NUMBERS,
    "delta": NUMBERS,
    "rho": NUMBERS,
    "tuning_epsilon": NUMBERS,
    "tuning_delta": NUMBERS,
    "tuning_rho": NUMBERS,
    "tuning_runs": INTEGERS,
    "seed": INTEGERS,
    "eval_seed": INTEGERS,
    "sample": INTEGERS,
    "at": TIMES,
    "valid_after": TIMES,
    "valid_before": TIMES,
    "base": REFS,
    "revisions": REFS,
    "release": RELEASES,
    "dataset": DATASETS,
    "dataset_id": DATASETS,
    "reviewer_id": REVIEWERS,
    "source": SOURCES,
    "version": VERSIONS,
    "role": ROLES,
    "roles": ROLES,
    "email": EMAILS,
    "also_emails": EMAILS,
    "login": LOGINS,
    "pr_author": LOGINS,
    "fingerprint": FINGERPRINTS,
    "params": PARAMS,
    "kind": KINDS,
    "target": Pool(["fraud", "plan"], _NAMES),
    "waiver": Pool(["WVR-2025-001"], ["nope"]),
    "waiver_id": Pool(["WVR-2025-002", "WVR-2025-001"], ["../x", "-x", "a/b", "x" * 64, ""]),
    "rule": Pool(
        ["fidelity.detection_auc", "utility.tstr", "privacy.mia_auc"],
        ["schema.columns_match", "fidelity.missing_rate_diff", "nope", ""],
    ),
    "relax_to": Pool(["0.85", "0.7", "0.9", "0.5"], ["nan", "inf", "-1", "1.5", "0.99", "x"]),
    "days": Pool(["1", "30", "90"], ["0", "-3", "91", "100000", "x"]),
    "owner": REVIEWERS,
    "intended_uses": Pool(["model development", "testing"], []),
    "paths": Pool(
        [*GOVERNANCE, ".", "datasets"],
        [
            "nope.yaml",
            "../outside.yaml",
            "/etc/hostname",
            "datasets/claims/releases",
            *[
                f"../files/{n}"
                for n in [*ODD_CARDS, *ODD_TABLES[:6], "fifo", "dir", "loop.csv", "dangling.csv"]
            ],
        ],
    ),
    "real": TABLE_FILES,
    "holdout": TABLE_FILES,
    "synthetic": TABLE_FILES,
    "from_data": TABLE_FILES,
    "key_file": _files_pool(
        ["eli.pub", "bo.pub", "ada.pub"], [*ODD_KEYS, "ada"], [".pub", ".asc", ""]
    ),
    "key": _files_pool(["ada", "chen", "dana"], [*ODD_KEYS, "ada.pub"], ["", ".pub"]),
    "output": _named(OUTPUTS, _output),
    "out": _named(FOLDERS, _folder),
    "directory": _named(FOLDERS, _folder),
}


def values(command: click.Command, param: click.Parameter) -> Pool:
    if param.name == "card":  # a card file for `evaluate`, a dataset id for `approve`
        if isinstance(param.type, click.Path):
            return _files_pool(CARDS, ODD_CARDS, [".yaml", ".json"])
        return DATASETS
    if isinstance(param.type, click.Choice):
        return Pool(list(param.type.choices), [])
    if param.name in BY_NAME:
        return BY_NAME[param.name]
    if isinstance(param.type, click.Path):
        return _files_pool(TABLES + CARDS, ODD_TABLES + ODD_CARDS, [".csv", ".yaml", ""])
    if isinstance(param.type, click.types.IntParamType):
        return INTEGERS
    return TEXT


@st.composite
def arguments(draw: st.DrawFn, path: tuple[str, ...], command: click.Command) -> list[Any]:
    """A command line for `path`: each option present or not, each value valid-looking or, at
    a rate drawn per example (none to most), odd; now and then an unknown option, a stray
    argument, help, or a top-level `-C`."""
    rate = draw(st.sampled_from([0.0, 0.1, 0.25, 0.6]))

    def value(param: click.Parameter) -> Any:
        pool = values(command, param)
        if pool.valid and draw(st.floats(0, 1)) >= rate:
            return draw(st.sampled_from(pool.valid))
        return draw(pool.hostile())

    chunks: list[list[Any]] = []
    positional: list[Any] = []
    for param in command.params:
        if isinstance(param, click.Option):
            flag = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
            if param.is_flag:
                if draw(st.floats(0, 1)) < 0.25:
                    chunks.append([flag])
                continue
            wanted = 1.0 - rate / 4 if param.required else 0.35
            count = 1 if draw(st.floats(0, 1)) < wanted else 0
            if param.multiple and count:
                count = draw(st.integers(1, 3))
            chunks += [[flag, value(param)] for _ in range(count)]
        elif isinstance(param, click.Argument):
            if param.nargs == -1:
                positional += [value(param) for _ in range(draw(st.integers(0, 3)))]
            elif param.required or draw(st.booleans()):
                positional.append(value(param))
    chunks = draw(st.permutations(chunks))
    tail = draw(
        st.sampled_from(
            [[]] * 12 + [["--bogus"], ["stray"], ["--help"], ["--"], ["--epsilon"], ["-q", "-q"]]
        )
    )
    head: list[str | File] = draw(
        st.sampled_from(
            [[]] * 8
            + [
                ["-C", "."],
                ["-C", File("dir")],
                ["-C", File("missing.csv")],
                ["-C", "datasets"],
                ["-C", ".."],
                ["--version"],
            ]
        )
    )
    return [*head, *path, *positional, *[v for c in chunks for v in c], *tail]


#: The branch an example runs on (see `sandbox`).
BRANCHES = ["work", "work", "reval", "revoked", "edits", "main"]


# --- damage to the repository's own files --------------------------------------------------


@dataclass(frozen=True)
class Damage:
    path: str
    kind: str  # bytes | splice | token | tab | truncate
    data: bytes
    at: int
    committed: bool


TOKENS = [
    b"9e14",
    b"1e400",
    b".nan",
    b"-1",
    b"1e-400",
    b"2099-01-01T00:00:00Z",
    b"9999-12-31T23:59:59Z",
    b"~",
    b"[]",
    b"{}",
    b"&a x",
    b"*a",
    b"\t",
    b"''",
    b"0001-01-01",
    b"!!python/object:os.system",
    b"\xff",
    b"claims@1.0",
]

damages = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.builds(
        Damage,
        st.sampled_from(DAMAGEABLE),
        st.sampled_from(["bytes", "splice", "token", "tab", "truncate"]),
        st.one_of(st.binary(max_size=40), st.sampled_from(TOKENS)),
        st.integers(0, 100_000),
        st.booleans(),
    ),
)


def _damage(repo: Path, damage: Damage) -> None:
    found = sorted(repo.glob(damage.path))
    if not found:  # not on this branch
        return
    target = found[0]
    raw = target.read_bytes()
    at = damage.at % (len(raw) + 1)
    if damage.kind == "bytes":
        new = damage.data
    elif damage.kind == "splice":
        new = raw[:at] + damage.data + raw[at + len(damage.data) :]
    elif damage.kind == "token":  # a value of the document replaced by a hostile one
        spans = [m.span() for m in re.finditer(rb"(?<=: )[^\n]+", raw)]
        start, end = spans[at % len(spans)] if spans else (at, at)
        new = raw[:start] + damage.data + raw[end:]
    elif damage.kind == "tab":  # a tab after a colon: YAML readers disagree about it
        new = re.sub(rb": ", b":\t", raw, count=1 + at % 3)
    else:
        new = raw[:at]
    target.write_bytes(new)
    if damage.committed:
        git(repo, "add", "-A")
        git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", "damage", "--allow-empty")


# --- the repository -------------------------------------------------------------------------


_run, _commit = run_in, commit


def _files(folder: Path, data: dict[str, Path], card: Path) -> None:
    """The prepared files: tables, cards and keys, valid, odd and broken."""
    import pandas as pd

    folder.mkdir()
    for name in ("train", "holdout", "honest"):
        shutil.copy(data[name], folder / f"{name}.csv")
    honest = pd.read_csv(data["honest"])
    honest.to_parquet(folder / "honest.parquet", index=False)
    honest.head(1).to_parquet(folder / "one-row.parquet", index=False)
    honest.head(0).to_parquet(folder / "zero-rows.parquet", index=False)
    pd.DataFrame({"age": [None] * 5, "region": [None] * 5}).to_parquet(folder / "all-null.parquet")
    pd.DataFrame({"age": [[1, 2], [3]]}).to_parquet(folder / "nested.parquet")
    _odd_parquet(folder, honest)
    text = data["honest"].read_text()
    lines = text.splitlines()
    header = lines[0]
    width = header.count(",") + 1
    files: dict[str, bytes | str] = {
        "one-row.csv": "\n".join(lines[:2]) + "\n",
        "one-column.csv": "\n".join(line.split(",")[0] for line in lines) + "\n",
        "all-missing.csv": header + "\n" + ("," * (width - 1) + "\n") * 50,
        "duplicate-columns.csv": header + ",age\n" + "\n".join(f"{x},40" for x in lines[1:]) + "\n",
        "header-only.csv": header + "\n",
        "empty.csv": "",
        "ragged.csv": header + "\n1,2\n" + lines[1] + ",extra,fields\n",
        "bom.csv": "\ufeff" + text,
        "latin1.csv": text.encode() + b"\xe9\xff,\xfe\n",
        "nul.csv": text.replace(",", ",\x00", 3),
        "crlf.csv": text.replace("\n", "\r\n"),
        "extreme-numbers.csv": header
        + "\n"
        + "\n".join(
            ",".join(v for _ in range(width))
            for v in ("1e400", "-1e400", "nan", "1e-400", "-0", "9" * 400, "inf")
        )
        + "\n",
        "bad-dates.csv": text.replace("2024-0", "2024-1"),
        "odd-names.csv": header.replace("age", "\u202eega").replace("sex", "se\nx")
        + "\n"
        + "\n".join(lines[1:])
        + "\n",
        "long-field.csv": header + "\n" + lines[1].replace(",", "," + "x" * 200_000, 1) + "\n",
        "unbalanced-quotes.csv": header + '\n"north,' + lines[1] + "\n",
        "garbage.parquet": b"PAR1" + os.urandom(64) + b"PAR1",
        "csv-as.parquet": text,
        "parquet-as.csv": (folder / "honest.parquet").read_bytes(),
        "table.xlsx": b"PK\x03\x04garbage",
        "no-suffix": text,
        "constant.csv": header + "\n" + (lines[1] + "\n") * 200,
        "swapped.csv": ",".join(reversed(header.split(",")))
        + "\n"
        + "\n".join(",".join(reversed(x.split(","))) for x in lines[1:])
        + "\n",
        "wide.csv": ",".join(f"c{i}" for i in range(300))
        + "\n"
        + ("\n".join(",".join(str(j) for j in range(300)) for _ in range(20)))
        + "\n",
        # cards
        "card.yaml": card.read_text(),
        "card.json": json.dumps(__import__("yaml").safe_load(card.read_text())),
        "garbage.yaml": b"\x00\xff{[:\n\t- ]",
        "list.yaml": "- a\n- b\n",
        "aliases.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "deep.yaml": "[" * 5000 + "]" * 5000 + "\n",
        "tabs.yaml": card.read_text().replace(": ", ":\t", 3),
        "empty.yaml": "",
        "policy-as-card.yaml": (card.parent.parent.parent / "policy/policy.yaml").read_text(),
        "card-bad-rule.yaml": card.read_text() + "constraints:\n  - {id: r, expr: 'age >>> 1'}\n",
        "card-huge-number.yaml": card.read_text().replace(
            "revalidation_days: 90", "revalidation_days: 99999999999999"
        ),
        # keys
        "pgp-garbage.asc": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
        "pub-junk.pub": "ssh-ed25519 AAAA!!!notbase64 junk\n",
        "empty.pub": "",
        "two-keys.pub": PEOPLE["ada"].public + "\n" + PEOPLE["chen"].public + "\n",
    }
    for name, content in files.items():
        raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        (folder / name).write_bytes(raw)
    for name in ("ada", "bo", "chen", "dana", "eli", "mallory"):
        shutil.copy(PEOPLE[name].key, folder / name)
        shutil.copy(PEOPLE[name].key.with_suffix(".pub"), folder / f"{name}.pub")
        os.chmod(folder / name, 0o600)
    (folder / "dir").mkdir()


def _odd_parquet(folder: Path, frame: Any) -> None:
    """Parquet types a CSV cannot hold: integers beyond int64, decimals, bytes, dictionaries,
    zoned timestamps, durations, the null type; and duplicate column names."""
    import datetime as dt
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    n = len(frame)

    def replaced(name: str, values: Any) -> Any:
        return table.set_column(table.schema.get_field_index(name), name, values)

    odd = {
        "uint64.parquet": replaced("age", pa.array([2**64 - 1] * n, pa.uint64())),
        "decimal.parquet": replaced(
            "claim_amount",
            pa.array(
                [decimal.Decimal(f"{x:.2f}") for x in frame.claim_amount], pa.decimal128(12, 2)
            ),
        ),
        "binary.parquet": replaced("region", pa.array([x.encode() for x in frame.region])),
        "dictionary.parquet": replaced("region", pa.array(frame.region).dictionary_encode()),
        "zoned.parquet": replaced(
            "admitted",
            pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
        ),
        "duration.parquet": replaced("admitted", pa.array([dt.timedelta(1)] * n)),
        "null-type.parquet": replaced("age", pa.nulls(n)),
        "duplicate-columns.parquet": pa.table([table.column(0)] * 2, names=["age", "age"]),
    }
    for name, value in odd.items():
        pq.write_table(value, folder / name)


def _specials(folder: Path) -> None:
    """What a copy cannot carry (a FIFO would block it) or should not (links)."""
    os.mkfifo(folder / "fifo")
    os.symlink(folder / "train.csv", folder / "link.csv")
    os.symlink(folder / "nothing-here", folder / "dangling.csv")
    os.symlink(folder / "loop.csv", folder / "loop.csv")
    os.symlink(folder / "dir", folder / "link-to-dir")
    os.symlink("/dev/null", folder / "devnull-link")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """<sandbox>/repo and <sandbox>/files. main: claims@1.0 approved and merged; branches from
    it: `work` (claims@1.1 committed, checked out), `reval` (a revalidation of 1.0), `revoked`
    (its revocation), `edits` (a raised cap, a new reviewer, a card edit)."""
    # every example copies the repository: on a RAM disk where there is one (ten times faster)
    shm = Path("/dev/shm")
    fast = shm.is_dir() and os.access(shm, os.W_OK)
    parent = Path(tempfile.mkdtemp(dir=shm)) if fast else tmp_path_factory.mktemp("fuzz")
    box = parent / "base"
    data = write_release_tables(box / "data", rows=60)
    repo = box / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "sam@example.org")
    assert main(["init", str(repo)]) == 0
    assert (
        _run(
            repo,
            "dataset",
            "new",
            "claims",
            "--owner",
            "claims-team",
            "--classification",
            "confidential",
            "--source",
            "claims-2024",
            "--from-data",
            str(data["train"]),
            "--target",
            "fraud",
        )
        == 0
    )
    card = repo / "datasets/claims/card.yaml"
    card.write_text(card.read_text().replace("secret_columns: []", "secret_columns: [plan]"))
    people = [PEOPLE[n] for n in ("ada", "chen", "dana")]
    (repo / "policy/reviewers.yaml").write_text(signing.registry_yaml(*people))
    assert _run(repo, "budget", "new", "claims-2024", "--epsilon", "3", "--delta", "1e-6") == 0
    _commit(repo, "bootstrap")
    git(repo, "checkout", "-qb", "r1")
    common = [
        "--real",
        str(data["train"]),
        "--holdout",
        str(data["holdout"]),
        "--generator",
        "aim",
        "--generator-version",
        "0.16.0",
        "--seed",
        "7",
        "-q",
    ]
    assert (
        _run(
            repo,
            "release",
            "new",
            "claims",
            "1.0",
            "--synthetic",
            str(data["honest"]),
            *common,
            "--epsilon",
            "1",
            "--delta",
            "1e-7",
            "--tuning-runs",
            "0",
        )
        == 0
    )
    _commit(repo, "release claims@1.0")
    for name in ("ada", "chen"):
        person = PEOPLE[name]
        assert (
            _run(
                repo,
                "approve",
                "claims@1.0",
                "--role",
                person.roles[0],
                "--key",
                str(person.key),
                identity=name,
            )
            == 0
        )
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge r1", "r1")
    git(repo, "checkout", "-qb", "work")
    assert (
        _run(
            repo,
            "release",
            "new",
            "claims",
            "1.1",
            "--synthetic",
            str(data["honest"]),
            *common,
            "--epsilon",
            "0.5",
            "--delta",
            "1e-7",
            "--tuning-runs",
            "0",
        )
        == 0
    )
    _commit(repo, "release claims@1.1")
    # other pull requests: a revalidation, a revocation, changes to a card, a cap and the registry
    for branch, args in (
        ("reval", ["revalidate", "claims@1.0", "--real", str(data["holdout"]), "-q"]),
        ("revoked", ["revoke", "claims@1.0", "--reason", "leak", "--class", "privacy"]),
        ("edits", ["budget", "cap", "claims-2024", "--epsilon", "5", "--delta", "1e-6"]),
    ):
        git(repo, "checkout", "-qb", branch, "main")
        assert _run(repo, *args) == 0, args
        if branch == "edits":
            assert (
                _run(
                    repo,
                    "reviewer",
                    "add",
                    "eli",
                    "--name",
                    "Eli",
                    "--email",
                    "eli@example.org",
                    "--role",
                    "policy-admin",
                    "--key",
                    str(PEOPLE["eli"].key) + ".pub",
                )
                == 0
            )
            card.write_text(card.read_text().replace("retention_days: 365", "retention_days: 400"))
        _commit(repo, branch)
    git(repo, "checkout", "-q", "work")
    git(repo, "repack", "-adq")  # fewer folders to copy
    git(repo, "prune")
    _files(box / "files", data, card)
    yield box
    if fast:
        shutil.rmtree(parent, ignore_errors=True)


# --- running one example --------------------------------------------------------------------


class Hang(BaseException):
    """A run that took too long (e.g. blocked on a FIFO); not an Exception, so the CLI's
    boundary cannot swallow it."""


def _resolve(value: Any, box: Path) -> str:
    if isinstance(value, Token):
        return PEOPLE[value.name].fingerprint
    if isinstance(value, File):
        if value.content is not None:
            (box / "files" / value.name).write_bytes(value.content)
        return str(Path("../files") / value.name)  # relative to the repository, the cwd
    return str(value)


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang("no answer within 60 s")


_USAGE = re.compile(r"^synthgov[\w -]*: error: .* \(see 'synthgov[\w -]*--help'\)$")
_PROGRESS = re.compile(r"^(synthgov evaluate: [a-z]+|evaluated in [\d.]+ s)$")


@dataclass
class CommandRun:
    code: int
    out: str
    err: str


def run_once(box: Path, argv: list[str]) -> CommandRun:
    """Run the CLI in process through its real error boundary, in the repository, with the
    streams of a UTF-8 terminal: a strict stdout, a stderr that escapes what it cannot encode."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    old = Path.cwd()
    os.chdir(box / "repo")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(old)
    return CommandRun(code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode())


def _copy(sandbox: Path) -> Path:
    box = Path(tempfile.mkdtemp(prefix="ex-", dir=sandbox.parent))
    shutil.copytree(sandbox / "repo", box / "repo", symlinks=True)
    shutil.copytree(sandbox / "files", box / "files", symlinks=True)
    _specials(box / "files")
    return box


def assert_clean(outcome: CommandRun, argv: list[str], exits: set[int]) -> None:
    """No traceback, no internal error, a documented exit code; exit 2 says what was wrong on
    stderr in one line per problem (usage errors: exactly one), none hidden by escapes."""
    shown = f"argv={argv!r}\nexit={outcome.code}\nstdout={outcome.out[-2000:]}\nstderr={outcome.err[-2000:]}"
    text = outcome.out + outcome.err
    assert "Traceback" not in text, shown
    assert "internal error" not in text, shown
    helped = any(a in ("--help", "-h", "--version") for a in argv)
    assert outcome.code in exits | ({0} if helped else set()), shown
    if outcome.code == 2:
        lines = [x for x in outcome.err.splitlines() if x.strip() and not _PROGRESS.match(x)]
        assert lines, shown
        if _USAGE.match(lines[-1]):
            assert len(lines) == 1, shown
        # `validate` prints its problems on stdout (BRIEF §10.7), everything else on stderr
        assert any(": " in x for x in lines + outcome.out.splitlines()), shown
        for line in lines:
            assert not line.startswith("\t"), shown  # no continuation lines
            assert not any(c in line for c in "\x1b\u202e\u2066\r"), shown


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_a_command_given_random_options_and_files_never_fails_internally(
    path: tuple[str, ...], sandbox: Path
) -> None:
    command = COMMANDS[path]
    exits = documented_exits(command)
    seen: Counter[str] = Counter()

    @settings(
        max_examples=max(1, int((12 if path in HEAVY else 40) * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(args=arguments(path, command), branch=st.sampled_from(BRANCHES), damage=damages)
    def drive(args: list[Any], branch: str, damage: Damage | None) -> None:
        box = _copy(sandbox)
        try:
            if branch != "work":
                git(box / "repo", "checkout", "-q", branch)
            if damage is not None:
                _damage(box / "repo", damage)
            argv = [_resolve(a, box) for a in args]
            outcome = run_once(box, argv)
            assert_clean(outcome, argv, exits)
            usage = outcome.code == 2 and _USAGE.match(outcome.err.strip().splitlines()[-1])
            seen["usage" if usage else f"exit {outcome.code}"] += 1
            assert not (box / "injected").exists(), argv
        finally:
            shutil.rmtree(box, ignore_errors=True)

    drive()
    reached = sum(n for kind, n in seen.items() if kind != "usage")
    assert reached, f"{' '.join(path)} never got past its option parser: {dict(seen)}"


#: A command line of each command that works in the sandbox, and its exit code: a command
#: added to the CLI fails `test_a_command_line_that_should_work_works` until it has one.
WORKING: dict[tuple[str, ...], tuple[list[Any], int]] = {
    ("approve",): (["claims@1.1", "--role", "privacy-reviewer", "--key", File("ada")], 0),
    ("audit",): (["--range", "main", "--format", "markdown"], 1),  # claims@1.0 merged blocked
    ("budget", "cap"): (["claims-2024", "--epsilon", "4", "--delta", "1e-6"], 0),
    ("budget", "debit"): (
        ["claims-2024", "--release", "claims@1.2", "--epsilon", "0.1", "--delta", "1e-8"],
        0,
    ),
    ("budget", "new"): (["fresh-source", "--rho", "0.5", "--delta", "1e-6"], 0),
    ("budget", "status"): (["--format", "json"], 0),
    ("catalog",): (["--out", File("catalog")], 0),
    ("check",): (["--base", "main", "--format", "sarif", "--output", File("out/check.sarif")], 1),
    ("dataset", "new"): (
        [
            "fresh",
            "--owner",
            "o",
            "--classification",
            "public",
            "--source",
            "fresh-source",
            "--from-data",
            File("honest.parquet"),
        ],
        0,
    ),
    ("evaluate",): (
        [
            "--card",
            File("card.yaml"),
            "--real",
            File("train.csv"),
            "--holdout",
            File("holdout.csv"),
            "--synthetic",
            File("honest.csv"),
            "-o",
            File("out/report.json"),
            "-q",
        ],
        0,
    ),
    ("init",): ([File("new-folder")], 0),
    # no index the sandbox reaches holds this synthgov: one line, exit 2, nothing written
    # (tests/test_lock.py makes a lock from a local index)
    ("lock",): (["--python-version", "3.12"], 2),
    ("release", "new"): (
        [
            "claims",
            "1.2",
            "--synthetic",
            File("honest.parquet"),
            "--real",
            File("train.csv"),
            "--holdout",
            File("holdout.csv"),
            "--generator",
            "aim",
            "--generator-version",
            "1",
            "--seed",
            "1",
            "-q",
        ],
        0,
    ),
    ("revalidate",): (["claims@1.0", "--real", File("holdout.csv"), "-q"], 0),
    ("reviewer", "add"): (
        [
            "eli",
            "--name",
            "Eli",
            "--email",
            "eli@example.org",
            "--role",
            "policy-admin",
            "--key",
            File("eli.pub"),
        ],
        0,
    ),
    ("reviewer", "revoke-key"): (["ada", "--fingerprint", Token("ada"), "--reason", "stolen"], 0),
    ("revoke",): (["claims@1.0", "--reason", "leak", "--class", "privacy"], 0),
    ("waiver", "new"): (
        [
            "claims@1.0",
            "--rule",
            "fidelity.detection_auc",
            "--relax-to",
            "0.85",
            "--days",
            "30",
            "--reason",
            "rounded dates",
            "--owner",
            "ada",
            "--ticket",
            "GRC-1",
        ],
        0,
    ),
    ("schema",): (["card"], 0),
    ("status",): (["claims", "--format", "json"], 0),
    ("validate",): ([], 0),
}


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_a_command_line_that_should_work_works(path: tuple[str, ...], sandbox: Path) -> None:
    """The fuzz above is only worth something if the sandbox can run each command."""
    assert path in WORKING, f"add a working command line of `synthgov {' '.join(path)}`"
    args, expected = WORKING[path]
    box = _copy(sandbox)
    try:
        argv = [*path, *(_resolve(a, box) for a in args)]
        outcome = run_once(box, argv)
        assert outcome.code == expected, (argv, outcome)
        assert_clean(outcome, argv, documented_exits(COMMANDS[path]))
    finally:
        shutil.rmtree(box, ignore_errors=True)


def test_every_command_of_the_cli_is_driven() -> None:
    """The parametrisation above is the click tree: a command added to the CLI is fuzzed."""
    walked = {tuple(p) for p in COMMANDS}
    assert ("budget", "debit") in walked and ("check",) in walked and ("init",) in walked
    for path, command in COMMANDS.items():
        for param in command.params:
            assert values(command, param) is not None, (path, param.name)
