"""Writing governance files: models to YAML that the safe loader reads back unchanged.

Strings are quoted whenever a plain scalar would load as something else (`"1.10"`,
`"no"`, `"012"`), decimals are written exactly as held, times as UTC ISO 8601 with `Z`,
and multi-line text (armoured keys) as literal blocks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel

from synthgov.files.loading import reads_back_as
from synthgov.models.common import format_timestamp


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the loader refuses anchors and aliases


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    style = None if reads_back_as(value) == value and value.strip() == value else '"'
    node = dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)
    if style is None and node.style is None:
        return node
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    if "." not in text:
        text += ".0"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Decimal, _decimal)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    return value


def to_yaml(model: BaseModel, schema_url: str | None = None, comment: str | None = None) -> str:
    """YAML text of a model, with an editor schema line and a leading comment if given."""
    data = _plain(model.model_dump(mode="python", exclude_none=True))
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    head = ""
    if schema_url:
        head += f"# yaml-language-server: $schema={schema_url}\n"
    if comment:
        head += "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return head + body


def schema_url(kind: str, path: str) -> str:
    """Relative path from a governance file to the schema `init` writes under .synthgov/."""
    depth = path.count("/")
    return "../" * depth + f".synthgov/schemas/{kind}.json"
