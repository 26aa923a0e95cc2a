"""Canonical JSON (RFC 8785, JCS) of loader data: the bytes that hashes and signatures cover.

Keys sorted by UTF-16 code units, no whitespace, strings as JSON in UTF-8, numbers in the
ECMAScript form of their shortest digits (`0.000001`, `1e-7`, `3`). The YAML loader reads
numbers with a fraction as exact decimals and the JSON loader as floats; both print as the
digits that were written (up to 15 significant digits, or a double's shortest form, which
is all the loader admits), so the same value hashes the same whichever file format held it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring  # json.dumps(str, ensure_ascii=False), C-fast
from typing import Any

_LITERALS = {None: "null", True: "true", False: "false"}


def _number(value: Decimal) -> str:
    """ECMAScript Number::toString of a decimal's shortest digits (RFC 8785 §3.2.2.3)."""
    if value == 0:
        return "0"
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int), "the loader admits finite numbers only"
    text = "".join(map(str, digits))
    k, n = len(text), len(text) + exponent  # value = 0.<text> x 10^n
    if k <= n <= 21:
        body = text + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{text[:n]}.{text[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + text
    else:
        mantissa = text[0] + (f".{text[1:]}" if k > 1 else "")
        body = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return ("-" if sign else "") + body


def _canonical(value: Any) -> str:
    kind = type(value)  # the loader's exact types first: one lookup, no isinstance chain
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        keys = sorted(value) if all(k.isascii() for k in value) else _utf16_order(value)
        return "{" + ",".join(f"{encode_basestring(k)}:{_canonical(value[k])}" for k in keys) + "}"
    if kind is list:
        return "[" + ",".join([_canonical(item) for item in value]) + "]"
    if kind is Decimal:
        return _number(value)
    if kind is int:
        return str(value)
    return _other(value)


def _utf16_order(value: dict[str, Any]) -> list[str]:
    """Keys by UTF-16 code units (RFC 8785 §3.2.3); ASCII keys sort the same by `sorted`."""
    return sorted(value, key=lambda key: key.encode("utf-16-be"))


def _other(value: Any) -> str:
    """Every other type, and subclasses of the loader's (bool is an int)."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("no canonical form for a non-finite number")
        return _number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of loader data (dicts, lists, str, int, decimals)."""
    return _canonical(value).encode("utf-8")


def signed_payload(approval_data: Mapping[str, Any]) -> bytes:
    """The bytes an approval's embedded signature covers: the file without `signature`, as
    canonical JSON (BRIEF §10.13; RFC 8785, the form ledger hashes use too)."""
    return canonical({k: v for k, v in approval_data.items() if k != "signature"})
