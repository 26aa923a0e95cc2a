"""The output formats of `synthgov check`: each turns a Verdict into text, with no I/O.

Beside them, what else people read: the static HTML `catalog`, and `outputs`, which writes
what a user asked for where they asked.

The caller decides where the text goes (stdout, --output, $GITHUB_STEP_SUMMARY) and whether
colour is wanted; the exhaustive match makes a new Format fail type-checking until it is
rendered (as pip-audit does). A format's module is imported when it renders: a run
prints one format, and the others would only slow the gate's start.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:
    from synthgov.decision.findings import Verdict


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
            from synthgov.reporting import text

            return text.render(verdict, color=color)
        case Format.JSON:
            from synthgov.reporting import json

            return json.render(verdict)
        case Format.MARKDOWN:
            from synthgov.reporting import markdown

            return markdown.render(verdict)
        case Format.GITHUB:
            from synthgov.reporting import github

            return github.render(verdict)
        case Format.SARIF:
            from synthgov.reporting import sarif

            return sarif.render(verdict)
        case Format.JUNIT:
            from synthgov.reporting import junit

            return junit.render(verdict)
        case Format.GITLAB:
            from synthgov.reporting import gitlab

            return gitlab.render(verdict)
        case _:
            assert_never(fmt)
