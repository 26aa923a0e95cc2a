"""JSON Schemas (draft 2020-12) generated from the models, for `validate` and editors."""

from __future__ import annotations

from typing import Any

from synthgov import __version__
from synthgov.models import KINDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _close_pattern_keys(node: Any) -> None:
    """Mappings keyed by a pattern (rule ids, roles) refuse other keys, as the models do."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
            node["propertyNames"] = {"pattern": next(iter(patterns))}
            node["additionalProperties"] = False
        for value in node.values():
            _close_pattern_keys(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_keys(value)


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one file kind.

    Raises:
        KeyError: `kind` is not one of `KINDS`.
    """
    model = KINDS[kind]
    schema = model.model_json_schema(mode="validation")
    _close_pattern_keys(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://synthgov.dev/schemas/{__version__}/{kind}.json",
        "title": f"synthgov {kind} file",
        **{k: v for k, v in schema.items() if k != "title"},
    }
