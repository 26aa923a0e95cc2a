"""Reading the user's tables (CSV or Parquet) into a DataFrame, bound to the sha256 of the bytes.

Tables are user data outside the governance repository: they are read from the path
given, without the 1 MiB limit of governance files, but never a directory. The file is
read once; the digest and the frame come from the same bytes, so a report can never bind
a hash of one file to the numbers of another (STYLE §3: hash the bytes you read).
pandas and pyarrow are imported inside the functions: the CLI must start fast (BRIEF §7).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from synthgov.errors import InputError
from synthgov.files.paths import read_user_file

if TYPE_CHECKING:
    from pandas import DataFrame

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def read_table(path: Path) -> tuple[DataFrame, str]:
    """The table at `path` and the sha256 hex digest of its bytes.

    Raises:
        InputError: unknown suffix, missing, a directory, malformed, empty (no rows or no
            columns), or with duplicate column names.
    """
    shown = str(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise InputError.at(shown, "expected a table ending in .csv, .parquet or .pq")
    raw = read_user_file(path, "a CSV or Parquet table")
    frame = parse_table(raw, shown, suffix)
    if frame.shape[0] == 0:
        raise InputError.at(shown, "the table has no rows")
    return frame, hashlib.sha256(raw).hexdigest()


def parse_table(raw: bytes, shown: str, suffix: str) -> DataFrame:
    """The table in `raw`, the bytes of a file ending in `suffix`, checked as `read_table`
    checks it except for rows: a partition of a dataset may be empty, its table not.

    Raises:
        InputError: malformed, no columns, or duplicate column names.
    """
    frame = _parse_csv(raw, shown) if suffix in CSV_SUFFIXES else _parse_parquet(raw, shown)
    if frame.shape[1] == 0:
        raise InputError.at(shown, "the table has no columns")
    return frame


def is_index_column(name: str) -> bool:
    """Whether a Parquet column is pandas' stored unnamed index (`__index_level_N__`), not data."""
    return _PANDAS_INDEX.fullmatch(name) is not None


def _duplicates(names: list[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _csv_header(raw: bytes, shown: str) -> list[str]:
    """The header row as written: pandas renames duplicates (`a`, `a.1`), which hides them."""
    try:
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
        return next(csv.reader(text), [])
    except UnicodeDecodeError:
        raise InputError.at(shown, "the CSV file is not valid UTF-8") from None
    except csv.Error as exc:
        raise InputError.at(shown, f"malformed CSV header: {exc}") from None


def _parse_csv(raw: bytes, shown: str) -> DataFrame:
    import pandas as pd

    header = _csv_header(raw, shown)
    if not any(name.strip() for name in header):
        raise InputError.at(shown, "the table has no columns (empty file or empty header row)")
    unnamed = [str(i) for i, name in enumerate(header, 1) if not name.strip()]
    if unnamed:
        raise InputError.at(shown, f"the header gives no name to column {', '.join(unnamed)}")
    duplicates = _duplicates(header)
    if duplicates:
        raise InputError.at(shown, f"duplicate column names: {', '.join(duplicates)}")
    try:
        with warnings.catch_warnings():
            # a data row longer than the header would silently become the index
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Only an empty field is missing: "NA" (North America), "None" or "null" are values.
            return pd.read_csv(
                io.BytesIO(raw),
                index_col=False,
                encoding="utf-8-sig",
                keep_default_na=False,
                na_values=[""],
            )
    except pd.errors.EmptyDataError:
        raise InputError.at(shown, "the table has no columns (empty file)") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise InputError.at(shown, f"malformed CSV: {_first_line(exc)}") from None
    except UnicodeDecodeError:
        raise InputError.at(shown, "the CSV file is not valid UTF-8") from None
    except (ValueError, OverflowError) as exc:
        raise InputError.at(shown, f"malformed CSV: {_first_line(exc)}") from None


def _parse_parquet(raw: bytes, shown: str) -> DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(raw))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError.at(shown, f"malformed Parquet file: {_first_line(exc)}") from None
    # pandas stores an unnamed non-default index as `__index_level_N__`: not data
    keep = [name for name in table.column_names if not _PANDAS_INDEX.fullmatch(name)]
    table = table.select(keep) if len(keep) != table.num_columns else table
    duplicates = _duplicates(table.column_names)
    if duplicates:
        raise InputError.at(shown, f"duplicate column names: {', '.join(duplicates)}")
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise InputError.at(
            shown, f"nested columns (lists, structs, maps) are not supported: {', '.join(nested)}"
        )
    try:
        # the file's columns in the file's order (BRIEF §10.18), a named index included
        return table.to_pandas(ignore_metadata=True)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InputError.at(shown, f"cannot read the Parquet table: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
