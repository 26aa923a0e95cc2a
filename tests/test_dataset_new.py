"""`synthgov dataset new`: schema inference from real CSV and Parquet files, and refusals.

Tables are written with pandas/pyarrow to a directory outside the repository, as a user's
data would be; the card is read back with the same loader `validate` and `check` use.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgov.files import governance
from synthgov.metrics.identifiers import identifier_reason
from synthgov.metrics.inference import binary_positive, column_type, infer_schema
from synthgov.models import Card
from synthgov.models.card import ColumnType
from tests.helpers import ROOT
from tests.helpers.cli import Result, Synthgov

ROWS = 120
OPTIONS = ("--owner", "team@example.org", "--classification", "confidential", "--source", "src")


def mixed_frame() -> pd.DataFrame:
    """Columns in a deliberately non-alphabetical order, one of each kind."""
    rng = np.random.default_rng(7)
    age = rng.integers(18, 90, ROWS).astype(float)
    age[::10] = np.nan  # an integer column with missing values: read back as floats
    return pd.DataFrame(
        {
            "zeta_score": rng.normal(0, 1, ROWS).round(4),
            "member_id": [f"X{i:05d}" for i in range(ROWS)],
            "age": age,
            "smoker": rng.random(ROWS) < 0.3,
            "region": rng.choice(["north", "south", "east"], ROWS),
            "visit": [
                (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(ROWS)
            ],
            "seen_at": [f"2024-02-01T{i % 24:02d}:15:00Z" for i in range(ROWS)],
            "contact_email": [f"p{i}@example.org" for i in range(ROWS)],
            "notes": [f"free text number {i}" for i in range(ROWS)],
            "visits": np.arange(ROWS) * 3 + 1,
            "outcome": (np.arange(ROWS) % 4 == 0).astype(int),  # 30 of 120: minority class 1
        }
    )


@pytest.fixture
def csv_table(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "table.csv"
    path.parent.mkdir()
    mixed_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def parquet_table(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "table.parquet"
    path.parent.mkdir(exist_ok=True)
    mixed_frame().to_parquet(path, index=False)
    return path


def load_card(repo: Path, dataset: str = "patients") -> Card:
    model = governance.load(repo, f"datasets/{dataset}/card.yaml", Card).model
    return model


def new(
    synthgov: Synthgov, repo: Path, table: Path | None, *extra: str, dataset: str = "patients"
) -> Result:
    data = ("--from-data", str(table)) if table is not None else ()
    return synthgov("dataset", "new", dataset, *OPTIONS, *data, *extra, cwd=repo)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- inference from real files ----------------------------------------------------------------


def test_csv_schema_types_ranges_and_order(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = new(synthgov, repo, csv_table, "--target", "outcome")
    assert result.code == 0, result.err
    card = load_card(repo)
    names = [c.name for c in card.columns]
    assert names == [
        "zeta_score",
        "age",
        "smoker",
        "region",
        "visit",
        "seen_at",
        "notes",
        "visits",
        "outcome",
    ]
    by_name = {c.name: c for c in card.columns}
    assert {n: c.type.value for n, c in by_name.items()} == {
        "zeta_score": "number",
        "age": "integer",
        "smoker": "boolean",
        "region": "categorical",
        "visit": "date",
        "seen_at": "datetime",
        "notes": "string",
        "visits": "integer",
        "outcome": "integer",
    }
    frame = mixed_frame()
    assert by_name["age"].nullable and not by_name["zeta_score"].nullable
    assert (by_name["age"].min, by_name["age"].max) == (frame.age.min(), frame.age.max())
    assert by_name["zeta_score"].min == frame.zeta_score.min()
    assert by_name["region"].allowed_values == ["east", "north", "south"]
    assert by_name["notes"].unique and by_name["visits"].unique and not by_name["age"].unique
    assert card.prohibited_columns == ["member_id", "contact_email"]
    assert card.target is not None and (card.target.column, card.target.positive) == ("outcome", 1)
    assert card.subgroup_columns == card.quasi_identifiers == card.secret_columns == []
    assert (
        "excluded column member_id" in result.err and "excluded column contact_email" in result.err
    )
    assert "positive class 1 (the minority class, 30 of 120" in result.err
    assert "review the defaults" in result.err


def test_parquet_gives_the_same_card_as_csv(
    synthgov: Synthgov, repo: Path, csv_table: Path, parquet_table: Path
) -> None:
    assert new(synthgov, repo, csv_table, dataset="from-csv").code == 0
    assert new(synthgov, repo, parquet_table, dataset="from-parquet").code == 0
    assert load_card(repo, "from-csv").columns == load_card(repo, "from-parquet").columns


def test_parquet_typed_columns(synthgov: Synthgov, repo: Path, tmp_path: Path) -> None:
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=i % 40) for i in range(ROWS)]
    table = pa.table(
        {
            "day": pa.array(days, pa.date32()),
            "stamp": pa.array(
                [dt.datetime(2024, 1, 1, i % 24, tzinfo=dt.UTC) for i in range(ROWS)]
            ),
            "grade": pa.array(["a", "b", None, "c"] * (ROWS // 4)).dictionary_encode(),
            "count": pa.array([None if i % 9 == 0 else i % 7 for i in range(ROWS)], pa.int64()),
            "label": pa.array([i % 3 == 0 for i in range(ROWS)]),
        }
    )
    path = tmp_path / "typed.pq"
    pq.write_table(table, path)
    assert new(synthgov, repo, path, "--target", "label").code == 0
    card = load_card(repo)
    types = {c.name: (c.type.value, c.nullable) for c in card.columns}
    assert types == {
        "day": ("date", False),
        "stamp": ("datetime", False),
        "grade": ("categorical", True),
        "count": ("integer", True),
        "label": ("boolean", False),
    }
    grade = card.column("grade")
    assert grade is not None and grade.allowed_values == ["a", "b", "c"]
    assert card.target is not None and card.target.positive is True


def test_string_target_positive_is_the_minority(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": range(10), "churn": ["no"] * 7 + ["yes"] * 3}).to_csv(path, index=False)
    assert new(synthgov, repo, path, "--target", "churn").code == 0
    target = load_card(repo).target
    assert target is not None and target.positive == "yes"


def test_written_card_validates_and_defaults_are_set(
    synthgov: Synthgov, repo: Path, csv_table: Path
) -> None:
    (repo / "policy").mkdir()
    for name in ("policy.yaml", "reviewers.yaml"):
        (repo / "policy" / name).write_bytes((ROOT / "synthgov" / "templates" / name).read_bytes())
    assert new(synthgov, repo, csv_table).code == 0
    card = load_card(repo)
    assert card.title == "Patients" and card.description.startswith("TODO")
    assert card.intended_uses == ["model development and testing"]
    assert (card.retention_days, card.revalidation_days) == (365, 90)
    text = (repo / "datasets/patients/card.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../.synthgov/schemas/card.json\n")
    result = synthgov("validate", cwd=repo)
    assert result.code == 0, result.out


def test_privacy_unit_comes_from_the_source_ledger(
    synthgov: Synthgov, repo: Path, csv_table: Path
) -> None:
    assert (
        synthgov(
            "budget", "new", "src", "--epsilon", "1", "--privacy-unit", "one patient", cwd=repo
        ).code
        == 0
    )
    assert new(synthgov, repo, csv_table).code == 0
    assert load_card(repo).source.privacy_unit == "one patient"


# --- refusals: exit 2, one line, nothing written -----------------------------------------------


def test_existing_card_is_not_overwritten(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    card = repo / "datasets" / "patients" / "card.yaml"
    card.parent.mkdir(parents=True)
    card.write_bytes(b"# mine\nkeep: me\n")
    result = new(synthgov, repo, csv_table)
    assert result.code == 2
    assert one_line(result.err) == (
        "datasets/patients/card.yaml: already exists; refusing to overwrite it"
    )
    assert card.read_bytes() == b"# mine\nkeep: me\n"


@pytest.mark.parametrize("bad", ["../x", "Bad_ID", "a--b", "x" * 64, ""])
def test_bad_dataset_id(synthgov: Synthgov, repo: Path, csv_table: Path, bad: str) -> None:
    result = new(synthgov, repo, csv_table, dataset=bad)
    assert result.code == 2
    assert one_line(result.err).startswith(f"ID: {bad!r} is not a valid id")
    assert not (repo / "datasets").exists()


def test_bad_source_id(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = synthgov(
        "dataset",
        "new",
        "ok",
        "--owner",
        "o",
        "--classification",
        "public",
        "--source",
        "../up",
        "--from-data",
        str(csv_table),
        cwd=repo,
    )
    assert result.code == 2 and one_line(result.err).startswith("--source: '../up'")


def test_from_data_is_required(synthgov: Synthgov, repo: Path) -> None:
    result = new(synthgov, repo, None)
    assert result.code == 2
    assert one_line(result.err).startswith("--from-data: required")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_TABLES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (lambda d: d / "nope.csv", "nope.csv: no such file"),
    "empty file": (lambda d: write(d / "e.csv", b""), "the table has no columns"),
    "header only": (lambda d: write(d / "h.csv", b"a,b\n"), "the table has no rows"),
    "duplicate names": (
        lambda d: write(d / "d.csv", b"a,b,a\n1,2,3\n"),
        "duplicate column names: a",
    ),
    "unnamed column": (lambda d: write(d / "n.csv", b"a,,b\n1,2,3\n"), "no name to column 2"),
    "ragged": (lambda d: write(d / "r.csv", b"a,b\n1,2,3\n"), "malformed CSV"),
    "not utf-8": (lambda d: write(d / "u.csv", b"a\n\xff\xfe\n"), "not valid UTF-8"),
    "bad parquet": (lambda d: write(d / "b.parquet", b"PAR1 not really"), "malformed Parquet"),
    "suffix": (lambda d: write(d / "t.xlsx", b"a\n1\n"), "expected a table ending in .csv"),
}


@pytest.mark.parametrize("case", BAD_TABLES, ids=list(BAD_TABLES))
def test_bad_tables(synthgov: Synthgov, repo: Path, tmp_path: Path, case: str) -> None:
    make, expected = BAD_TABLES[case]
    path = make(tmp_path)
    result = new(synthgov, repo, path)
    assert result.code == 2
    line = one_line(result.err)
    assert line.startswith(str(path)) and expected in line, line
    assert not (repo / "datasets").exists()


def test_directory_is_refused(synthgov: Synthgov, repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    result = new(synthgov, repo, folder)
    assert result.code == 2 and "directory" in one_line(result.err)


def test_unknown_target(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = new(synthgov, repo, csv_table, "--target", "nope")
    assert result.code == 2
    assert one_line(result.err).startswith("--target: 'nope' is not a column of table.csv (")


def test_non_binary_target(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = new(synthgov, repo, csv_table, "--target", "region")
    assert result.code == 2
    assert one_line(result.err) == (
        "--target: 'region' has 3 distinct value(s); ROC AUC needs a binary target (exactly two)"
    )
    assert not (repo / "datasets").exists()


def test_fractional_target_is_refused(synthgov: Synthgov, repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": range(6), "y": [0.5, 1.5] * 3}).to_csv(path, index=False)
    result = new(synthgov, repo, path, "--target", "y")
    assert result.code == 2
    assert one_line(result.err) == (
        "--target: 'y' holds 0.5, which is not a boolean, a whole number or text"
    )


def test_identifier_target_is_refused(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = new(synthgov, repo, csv_table, "--target", "contact_email")
    assert result.code == 2 and "likely direct identifier" in one_line(result.err)


def test_bad_owner_names_the_option(synthgov: Synthgov, repo: Path, csv_table: Path) -> None:
    result = synthgov(
        "dataset",
        "new",
        "p",
        "--owner",
        "",
        "--classification",
        "public",
        "--source",
        "s",
        "--from-data",
        str(csv_table),
        cwd=repo,
    )
    assert result.code == 2 and one_line(result.err).startswith("--owner: ")
    result = new(synthgov, repo, csv_table, "--title", "", "--target", "outcome")
    assert result.code == 2 and one_line(result.err).startswith("--title: ")


# --- inference rules, directly ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values", "flagged"),
    [
        ("email", ["a@x.org", "b@x.org"], True),
        ("E-Mail", ["a@x.org", "a@x.org"], True),
        ("workEmail", ["x", "y"], True),
        ("email_domain", ["x.org"] * 10, False),
        ("ssn", ["123-45-6789", "987-65-4321"], True),
        ("phone_number", ["+1 555 0100", "+1 555 0101"], True),
        ("phone_type", ["mobile", "landline"] * 5, False),
        ("first_name", ["ann", "bob"] * 10, True),
        ("plan_name", ["gold", "silver"] * 10, False),
        ("street_address", ["1 Main St", "2 High St"], True),
        ("passport_no", ["X1", "X2"], True),
        ("iban", ["DE89370400440532013000", "DE89370400440532013001"], True),
        ("contact", [f"user{i}@mail.example.com" for i in range(20)], True),
        ("reach", [f"+44 20 7946 {i:04d}" for i in range(20)], True),
        ("patient_id", list(range(100, 140)), True),
        ("patientId", [f"p{i}" for i in range(40)], True),
        ("grade_id", [1, 2, 3] * 10, False),
        ("comment", [f"words {i}" for i in range(40)], False),
    ],
)
def test_identifier_rules(name: str, values: list[object], flagged: bool) -> None:
    series = pd.Series(values)
    reason = identifier_reason(name, series, column_type(series))
    assert (reason is not None) == flagged, reason


def test_boolean_flags_named_like_identifiers_are_kept() -> None:
    series = pd.Series([True, False] * 5)
    assert identifier_reason("email", series, column_type(series)) is None


def test_float_without_nulls_stays_a_number() -> None:
    assert column_type(pd.Series([1.0, 2.0, 3.0])) is ColumnType.NUMBER
    assert column_type(pd.Series([1.0, None, 3.0])) is ColumnType.INTEGER
    assert column_type(pd.Series([1.5, None, 3.0])) is ColumnType.NUMBER


def test_text_that_only_looks_like_dates_is_not_a_date() -> None:
    assert column_type(pd.Series(["2024-02-30", "2024-01-01"] * 5)) is ColumnType.CATEGORICAL
    assert column_type(pd.Series(["01/02/2024", "03/04/2024"] * 5)) is ColumnType.CATEGORICAL


def test_categorical_threshold() -> None:
    few = pd.Series([f"c{i % 50}" for i in range(100)])
    many = pd.Series([f"c{i % 51}" for i in range(200)])
    sparse = pd.Series([f"c{i % 10}" for i in range(15)])
    assert column_type(few) is ColumnType.CATEGORICAL
    assert column_type(many) is ColumnType.STRING
    assert column_type(sparse) is ColumnType.STRING


def test_binary_positive_tie_takes_the_larger_label() -> None:
    assert binary_positive(pd.Series([0, 1, 0, 1])) == (1, 2, 2)
    assert binary_positive(pd.Series([True, False])) == (True, 1, 1)
    with pytest.raises(ValueError, match="binary"):
        binary_positive(pd.Series([1, 1, 1]))


def test_all_null_column_is_a_nullable_string() -> None:
    schema = infer_schema(pd.DataFrame({"a": [1, 2], "b": [None, None]}))
    assert schema.empty_columns == ["b"]
    assert schema.columns[1].type is ColumnType.STRING and schema.columns[1].nullable


def test_commands_import_pandas_only_when_reading_a_table() -> None:
    """BRIEF §7: the CLI imports pandas only where a command needs it."""
    code = (
        "import sys, synthgov.commands.dataset, synthgov.commands.reviewer, "
        "synthgov.commands.budget, synthgov.metrics.tables, synthgov.examples; "
        "print(sorted({'pandas', 'pyarrow', 'numpy', 'sklearn'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_na_and_null_are_categories_not_missing_values(tmp_path: Path, synthgov: Synthgov) -> None:
    repo = tmp_path / "r"
    (repo / ".git").mkdir(parents=True)
    table = tmp_path / "t.csv"
    table.write_text(
        "region,n\n" + "".join(f"{r},{i}\n" for i, r in enumerate(["NA", "EU", "APAC", "null"] * 5))
    )
    result = synthgov(
        "dataset",
        "new",
        "x",
        "--owner",
        "o",
        "--classification",
        "internal",
        "--source",
        "s",
        "--from-data",
        str(table),
        cwd=repo,
    )
    assert result.code == 0, result.err
    card = (repo / "datasets/x/card.yaml").read_text()
    assert "- NA" in card
    assert "- 'null'" in card or '- "null"' in card
    assert "nullable: true" not in card.split("name: n")[0]


def test_an_overlong_column_name_is_one_line_not_a_crash(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    repo = tmp_path / "r"
    (repo / ".git").mkdir(parents=True)
    table = tmp_path / "t.csv"
    table.write_text("x" * 200 + ",b\n1,2\n3,4\n")
    result = synthgov(
        "dataset",
        "new",
        "x",
        "--owner",
        "o",
        "--classification",
        "internal",
        "--source",
        "s",
        "--from-data",
        str(table),
        cwd=repo,
    )
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "name: String should have at most 128 characters" in result.err
