"""The base model and the value types every governance file shares.

Models are closed (`extra="forbid"`: an unknown key may be a misspelt threshold), frozen
and strict. Numbers arrive from the loader as `int` or `Decimal`; the types below accept
exactly those and refuse booleans, strings and non-finite values.
"""

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)


class FieldError(ValueError):
    """A model-level rule broken at a known field: the loader reports it at that field's line.

    A `ValueError`, outside the error tree of `synthgov.errors` on purpose: it is raised
    inside pydantic validators, where pydantic records a ValueError as a validation error
    (and lets most other exceptions escape); the loader then reads it back from the
    error's context and reports an `InputError` at `loc`. It never reaches a caller.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> "None":
        super().__init__(message)
        self.loc = loc


class Model(BaseModel):
    """Closed, frozen, strict: what the file says, nothing more, nothing coerced.

    Enum fields are annotated `Strict(False)`: strict mode wants enum instances, and lax
    enum validation still accepts nothing but the members' values.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        use_enum_values=False,
        validate_default=True,
        # a class's validator is built when it first validates, not at import: a run builds
        # the models of the files it reads, and no others (docs/benchmarks.md, "check")
        defer_build=True,
    )


def _exact_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected the integer 1, got {value!r}")
    return value


SchemaVersion = Annotated[
    Literal[1],
    BeforeValidator(_exact_int),  # Literal[1] alone accepts True and 1.0 (they equal 1)
    Field(description="Version of this file format; synthgov reads version 1."),
]

# --- identifiers -------------------------------------------------------------------------

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[
    str,
    StringConstraints(pattern=_SLUG, max_length=63),
    Field(description="Lower-case letters and digits in words joined by single '-'."),
]
_VERSION = r"^[0-9A-Za-z](?:[0-9A-Za-z._+-]{0,62}[0-9A-Za-z])?$"


def _no_double_dot(value: str) -> str:
    if ".." in value:
        raise ValueError("a version must not contain '..'")
    return value


Version = Annotated[
    str,
    StringConstraints(pattern=_VERSION),
    AfterValidator(_no_double_dot),
    Field(description='Release version, e.g. "2026.09.1" or "1.10" (quote it in YAML).'),
]
ReleaseRef = Annotated[
    str,
    StringConstraints(pattern=_SLUG[:-1] + "@" + _VERSION[1:]),
    AfterValidator(_no_double_dot),
    Field(description="A release as dataset@version."),
]
Sha256 = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    Field(description="SHA-256 digest, 64 lower-case hex digits."),
]
GitCommit = Annotated[str, StringConstraints(pattern=r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
#: A row's 64-bit hash in a table sketch (manifest and report).
RowHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
#: A generator or mechanism parameter's value (manifest and ledger).
ParamValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool | None
RepositoryId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
    Field(description="A UUID in lower-case hex, e.g. 5f0c2a52-3b1e-4c8e-9a43-0d5e7c1b2a9f."),
]


def _display_text(value: str) -> str:
    """Display strings: NFC, no control or bidirectional-override characters (attack 28)."""
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError("text must be in Unicode NFC form")
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\n\t") or category == "Cf":
            raise ValueError(f"text contains the invisible or control character U+{ord(char):04X}")
    return value


Email = Annotated[
    str,
    StringConstraints(pattern=r"^[^@\s<>]+@[^@\s<>]+$", max_length=254),
    AfterValidator(_display_text),  # no control, bidi or zero-width characters
]
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=10_000), AfterValidator(_display_text)
]


def single_line(value: str) -> str:
    if "\n" in value or "\t" in value:
        raise ValueError("a name is one line of text")
    return _display_text(value)


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(single_line)]

# --- numbers -------------------------------------------------------------------------------


def _finite_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("expected a finite number")
        return float(value)
    return value


FiniteFloat = Annotated[
    float,
    BeforeValidator(_finite_number),
    Field(allow_inf_nan=False),
    WithJsonSchema({"type": "number"}),
]
Probability = Annotated[
    float,
    BeforeValidator(_finite_number),
    Field(ge=0, le=1, allow_inf_nan=False),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}),
]


#: The range of every privacy figure (epsilon, rho, delta; delta is also below 1). Below
#: it a figure records no loss worth the name; above it there is no privacy left to speak
#: of. Inside it every figure is written as a plain decimal the loader reads back, and
#: OpenDP converts any rho a cap can hold. Every reader and writer (`budget new`, `budget
#: debit`, `release new`, ledgers, manifests) holds figures to it, so no command writes a
#: file that another refuses.
PRIVACY_MIN = Decimal("1e-50")
PRIVACY_MAX = Decimal(10000)
PRIVACY_RANGE = f"from {PRIVACY_MIN:e} to {PRIVACY_MAX:f}"


def _privacy_amount(value: Any) -> Decimal:
    """Privacy loss as an exact decimal of what was written (BRIEF §10.11), positive."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ValueError("expected a positive number")
    amount = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not amount.is_finite() or amount <= 0 or amount.is_signed():
        raise ValueError(f"expected a finite positive number, got {value}")
    if not PRIVACY_MIN <= amount <= PRIVACY_MAX:
        raise ValueError(f"expected a number {PRIVACY_RANGE}, got {value}")
    return amount


PrivacyAmount = Annotated[
    Decimal,
    BeforeValidator(_privacy_amount),
    # JSON number, not pydantic's default string: shortest-repr floats give back every
    # decimal of up to 15 significant digits exactly as written.
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": float(PRIVACY_MIN), "maximum": int(PRIVACY_MAX)}),
]

# --- time -----------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$")


def _timestamp(value: Any) -> datetime:
    """ISO 8601 with a time zone, as a string: a naive or numeric time is ambiguous."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("expected a time with a time zone")
        return value.astimezone(UTC)
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise ValueError('expected an ISO 8601 time with a zone, e.g. "2026-09-02T00:00:00Z"')
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # not a real date, or out of range once in UTC
        raise ValueError(f"{value} is not a real date and time") from None


def format_timestamp(value: datetime) -> str:
    """UTC, seconds precision unless the value has microseconds, with a trailing Z."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# --- vocabularies ------------------------------------------------------------------------------


class Classification(StrEnum):
    """Sensitivity tier of a dataset; the policy has one tier per classification."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class Notion(StrEnum):
    """How privacy loss is accounted (BRIEF §10.9)."""

    PURE = "pure"
    APPROX = "approx"
    ZCDP = "zcdp"


class Enforcement(StrEnum):
    """advisory: reported only; mandatory: blocks, waivable; hard: blocks, never waivable."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    HARD = "hard"

    @property
    def rank(self) -> int:
        return list(Enforcement).index(self)


ApprovalCounts = Annotated[
    dict[Slug, Annotated[int, Field(ge=1, le=20)]],
    Field(min_length=1, description="Required approvals as role -> number of distinct reviewers."),
]
