"""Likely direct identifiers among a table's columns, by name and by value.

A card lists direct identifiers in `prohibited_columns` so that the privacy gate blocks
any release that carries one (BRIEF §4). These rules err on the side of flagging: a
false alarm costs the user one edit of the drafted card, a miss can leak. The rules are
written down in docs/schema-inference.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from synthgov.models.card import ColumnType

#: Share of distinct values above which an id-like column is an identifier.
NEAR_UNIQUE = 0.95
#: Share of sampled values that must look like an email, SSN or phone number.
VALUE_MATCH_SHARE = 0.8
VALUE_SAMPLE = 1000

_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
_SSN = r"\d{3}-\d{2}-\d{4}"
_PHONE = r"\+?[\d\s().\-/]{7,24}"


@dataclass(frozen=True)
class Identifier:
    """A column left out of the schema because it looks like a direct identifier."""

    column: str
    reason: str


# --- names --------------------------------------------------------------------------------

#: (what the column holds, pattern its name must END with, whether it applies to every
#: type or only to free text). Ending with the pattern keeps `email_domain`, `phone_type`
#: and `plan_name` out.
_NAME_RULES: list[tuple[str, str, bool]] = [
    ("an email address", r"e_?mail(?:_?addr(?:ess)?)?", True),
    ("an IP address", r"ip(?:_?addr(?:ess)?)?|ipv[46](?:_?addr(?:ess)?)?", True),
    ("a social security number", r"ssn|social_?security(?:_?(?:number|no))?", True),
    (
        "a phone number",
        r"(?:tele|cell_?|mobile_?)?phone(?:_?(?:number|no))?|mobile_?number|fax",
        True,
    ),
    ("a passport number", r"passport(?:_?(?:number|no|id))?", True),
    ("a bank account", r"iban|bank_?account(?:_?(?:number|no))?|account_?(?:number|no)", True),
    ("a payment card number", r"credit_?card(?:_?(?:number|no))?|card_?(?:number|no)", True),
    (
        "a national or official identifier",
        r"national_?id|nhs_?(?:number|no)|tax_?id|mrn|medical_?record(?:_?(?:number|no))?"
        r"|(?:drivers?_?)?licen[cs]e_?(?:number|no)|insurance_?(?:number|no)",
        True,
    ),
    (
        "a postal address",
        r"(?:street|home|postal|mailing)?_?address(?:_?line)?(?:_?\d)?|street",
        True,
    ),
    (
        "a person's name",
        r"(?:first|last|full|given|family|middle|maiden|user|patient|member|customer|client"
        r"|person|employee)_?name|^name|surname|forename",
        True,
    ),
    ("a name", r"\w*name", False),  # `plan_name` with few values is a category, not a person
]
_COMPILED = [
    (what, re.compile(rf"(?:^|_)(?:{pattern})$"), any_type)
    for what, pattern, any_type in _NAME_RULES
]
_ID_NAME = re.compile(r"(?:^|_)(?:id|uuid|guid|identifier)$|^[a-z]+id$")


def snake(name: str) -> str:
    """`memberEmail`, `Member-Email`, `member email` -> `member_email`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return "_".join(t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t)


def name_reason(name: str, kind: ColumnType) -> str | None:
    """Why a column's name marks it as a likely direct identifier, or None."""
    if kind is ColumnType.BOOLEAN:
        return None  # `has_email`, `mobile`: a flag, not an identifier
    key = snake(name)
    for what, pattern, any_type in _COMPILED:
        if pattern.search(key) and (any_type or kind is ColumnType.STRING):
            return f"its name suggests {what}"
    return None


# --- values -------------------------------------------------------------------------------


def _text_sample(values: pd.Series) -> pd.Series:
    return values.head(VALUE_SAMPLE).astype(str)


def _share(sample: pd.Series, pattern: str) -> float:
    return float(sample.str.fullmatch(pattern).mean()) if len(sample) else 0.0


def _phone_share(sample: pd.Series) -> float:
    shaped = sample.str.fullmatch(_PHONE)
    digits = sample.str.count(r"\d")
    return float((shaped & digits.between(7, 15)).mean()) if len(sample) else 0.0


def _by_values(name: str, values: pd.Series, kind: ColumnType) -> str | None:
    if kind in (ColumnType.STRING, ColumnType.CATEGORICAL):
        sample = _text_sample(values)
        for what, share in (
            ("email addresses", _share(sample, _EMAIL)),
            ("social security numbers", _share(sample, _SSN)),
            ("phone numbers", _phone_share(sample)),
        ):
            if share >= VALUE_MATCH_SHARE:
                return f"its values look like {what} ({share:.0%} of those sampled)"
    if kind in (ColumnType.STRING, ColumnType.INTEGER) and len(values) >= 2:
        distinct = values.nunique() / len(values)
        if distinct >= NEAR_UNIQUE and _ID_NAME.search(snake(name)):
            return f"its values are near-unique ({distinct:.0%} distinct) and its name is id-like"
    return None


def identifier_reason(name: str, values: pd.Series, kind: ColumnType) -> str | None:
    """Why a column is likely a direct identifier, or None (`values`: its non-null values)."""
    return name_reason(name, kind) or _by_values(name, values, kind)
