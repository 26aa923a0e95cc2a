"""Values typed on the command line, checked before they reach a model or a file name.

Each refusal is an `InputError` located at the option (`--epsilon: …`), so the user sees
one line naming what they typed and what was expected (BRIEF §6, exit 2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from synthgov.errors import InputError, Location, Problem
from synthgov.files.loading import ModelT

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_RULE = "lower-case letters and digits in words joined by single '-', at most 63 characters"
#: A plain decimal number as typed: digits, an optional point and exponent, no sign.
NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
_ZONED = re.compile(_NAIVE.pattern + r"(?:Z|[+-]\d{2}:\d{2})")


def slug(value: str, label: str) -> str:
    """An id that names a file (`datasets/<id>/`, `budgets/<id>.yaml`): never `../x`.

    Raises:
        InputError: not a slug.
    """
    if len(value) > 63 or not _SLUG.fullmatch(value):
        raise InputError.at(label, f"{value!r} is not a valid id; expected {SLUG_RULE}")
    return value


def positive_decimal(text: str, label: str, *, below_one: bool = False) -> Decimal:
    """A privacy figure exactly as typed (`0.10` stays `0.10`), finite and above zero.

    Raises:
        InputError: not a plain decimal number, not positive, too large or too small to
            represent, or (with `below_one`) not below 1.
    """
    shown = text.strip()
    expected = "a number in (0, 1)" if below_one else "a positive number"
    if shown.lower().lstrip("+-") in ("nan", "inf", "infinity", "snan"):
        raise InputError.at(label, f"{shown!r} is not finite; expected {expected}")
    if shown.startswith("-") and NUMBER.fullmatch(shown[1:]):
        raise InputError.at(label, f"{shown} is negative; expected {expected}")
    if not NUMBER.fullmatch(shown.lstrip("+")):
        raise InputError.at(
            label, f"{shown!r} is not a number; expected {expected}, e.g. 1.5 or 1e-6"
        )
    try:
        value = Decimal(shown.lstrip("+"))
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        raise InputError.at(label, f"{shown} is out of range; expected {expected}") from None
    if value == 0:
        raise InputError.at(
            label, f"{shown} is not positive; expected {expected} (a zero cap allows nothing)"
        )
    if float(value) in (0.0, float("inf")):
        raise InputError.at(label, f"{shown} is out of range; expected {expected}")
    if below_one and value >= 1:
        raise InputError.at(label, f"{shown} is not below 1; expected {expected}")
    return value


def utc_time(text: str | None, label: str) -> datetime | None:
    """An ISO 8601 time; a date means midnight UTC and a time without a zone is UTC.

    Raises:
        InputError: not an ISO 8601 date or time, or not a real one.
    """
    if text is None:
        return None
    shown = text.strip()
    if _DATE.fullmatch(shown):
        shown += "T00:00:00Z"
    elif _NAIVE.fullmatch(shown):
        shown += "Z"
    if not _ZONED.fullmatch(shown):
        raise InputError.at(
            label, f"{text!r} is not an ISO 8601 time; expected e.g. 2026-09-02T00:00:00Z"
        )
    try:
        return datetime.fromisoformat(shown.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError.at(label, f"{text!r} is not a real date and time") from None


def instant(text: str | None, label: str) -> datetime | None:
    """A clock for replay (`--at`): an ISO 8601 time within `clock.EARLIEST`..`clock.LATEST`.

    Raises:
        InputError: not an ISO 8601 time, or outside the range a replay can use.
    """
    from synthgov import clock
    from synthgov.models.common import format_timestamp

    moment = utc_time(text, label)
    if moment is not None and not clock.EARLIEST <= moment < clock.LATEST:
        raise InputError.at(
            label,
            f"{text!r} is outside the range a clock can replay; expected "
            f"a time from {format_timestamp(clock.EARLIEST)} to before "
            f"{format_timestamp(clock.LATEST)}",
        )
    return moment


def login(text: str | None, label: str) -> str | None:
    """A code-host login (`--pr-author`, `--login`), as GitHub and GitLab spell them.

    Raises:
        InputError: not a login.
    """
    from pydantic import TypeAdapter

    from synthgov.models.reviewers import Login

    if text is None:
        return None
    try:
        return TypeAdapter(Login).validate_python(text)
    except ValidationError:
        raise InputError.at(
            label,
            f"{text!r} is not a code-host login; expected letters, "
            "digits, '.', '_' or '-', e.g. ada-lindqvist",
        ) from None


def build(model: type[ModelT], data: dict[str, Any], labels: dict[str, str], other: str) -> ModelT:
    """Validate `data` as `model`, naming each problem by the option that supplied it.

    `labels` maps a field path without list indices (`owner`, `keys.valid_after`) to its
    option; the longest matching prefix wins. Problems in other fields are reported at
    `other` (a file name, or the command).

    Raises:
        InputError: one problem per validation error.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            cause = error.get("ctx", {}).get("error")
            loc = (*error["loc"], *getattr(cause, "loc", ()))
            label = _label(loc, labels)
            field = ".".join(str(part) for part in loc)
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
            text = message if label else f"{field}: {message}" if field else message
            problems.append(Problem(Location(label or other), text))
        raise InputError(problems) from None


def _label(loc: tuple[Any, ...], labels: dict[str, str]) -> str | None:
    names = [str(part) for part in loc if not isinstance(part, int)]
    for end in range(len(names), 0, -1):
        label = labels.get(".".join(names[:end]))
        if label is not None:
            return label
    return None
