"""The output formats of `synthgov check`: each turns a Verdict into text, with no I/O.

Beside them, what else people read: the static HTML `catalog`, and `outputs`, which writes
what a user asked for where they asked.

The caller decides where the text goes (stdout, --output, $GITHUB_STEP_SUMMARY) and whether
colour is wanted; the exhaustive match makes a new Format fail type-checking until it is
rendered (as pip-audit does).
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from synthgov.decision.findings import Verdict
from synthgov.reporting import github, gitlab, json, junit, markdown, sarif, text


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    GITHUB = "github"
    SARIF = "sarif"
    JUNIT = "junit"
    GITLAB = "gitlab"


def render(verdict: Verdict, fmt: Format, *, color: bool = False) -> str:
    """The verdict in `fmt`; `color` only affects text."""
    match fmt:
        case Format.TEXT:
            return text.render(verdict, color=color)
        case Format.JSON:
            return json.render(verdict)
        case Format.MARKDOWN:
            return markdown.render(verdict)
        case Format.GITHUB:
            return github.render(verdict)
        case Format.SARIF:
            return sarif.render(verdict)
        case Format.JUNIT:
            return junit.render(verdict)
        case Format.GITLAB:
            return gitlab.render(verdict)
        case _:
            assert_never(fmt)
