"""JSON Schemas (draft 2020-12) generated from the models, for `validate` and editors."""

from __future__ import annotations

from typing import Any

from synthgov import __version__
from synthgov.models import KINDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one file kind.

    Raises:
        KeyError: `kind` is not one of `KINDS`.
    """
    model = KINDS[kind]
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://synthgov.dev/schemas/{__version__}/{kind}.json",
        "title": f"synthgov {kind} file",
        **{k: v for k, v in schema.items() if k != "title"},
    }
