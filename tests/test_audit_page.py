"""The audit page (audit.html) as people read it: charts that say what they count, tables a
screen reader can walk, colours anyone can read, and nothing fetched from anywhere."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from synthgov.audit import pack
from synthgov.files.schemas import json_schema
from tests.helpers.cli import Synthgov
from tests.helpers.git import merge
from tests.helpers.repos import add_release, make_base

SHA = "a" * 40


def decision(time: str, verdict: str = "pass") -> dict[str, Any]:
    findings = (
        [{"gate": "privacy", "rule": "privacy.mia_auc", "severity": "error", "message": "high"}]
        if verdict == "blocked"
        else []
    )
    return {"commit": SHA, "time": time, "verdict": verdict, "findings": findings}


def budget(source: str, time: str, spent: float, cap: float = 4.0) -> dict[str, Any]:
    return {
        "source": source,
        "commit": SHA,
        "time": time,
        "entries": 1,
        "notion": "approx-dp",
        "cap": {"epsilon": cap},
        "spent": {"epsilon": spent},
    }


def document(
    *decisions: dict[str, Any], budgets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    blocked = any(d["verdict"] == "blocked" for d in decisions)
    doc = {
        "schema_version": 1,
        "verdict": "findings" if blocked else "clean",
        "range": "main",
        "head": SHA,
        "commits": 3,
        "decided": 2,
        "at": None,
        "unanchored": 0,
        "generated_at": "2026-12-01T00:00:00Z",
        "releases": [
            {
                "release": "claims@1.10",
                "verdict": "findings" if blocked else "pass",
                "first_commit": SHA,
                "last_commit": SHA,
                "author": "author@example.org",
                "inputs": {"releases/claims/1.10/manifest.yaml": "b" * 64},
                "approvals": [
                    {
                        "path": "approvals/ada.yaml",
                        "reviewer": "ada",
                        "role": "privacy",
                        "decision": "approve",
                        "signed_at": "2026-11-01T00:00:00Z",
                        "fingerprint": "SHA256:abc",
                        "carrier": "embedded",
                    }
                ],
                "decisions": list(decisions),
            }
        ],
        "findings": [
            {
                "commit": SHA,
                "kind": "release.blocked",
                "release": "claims@1.10",
                "gate": "privacy",
                "rule": "privacy.mia_auc",
                "message": "blocked <at> merge & shipped",
            }
        ]
        if blocked
        else [],
        "budgets": budgets or [],
        "checkpoints": [],
    }
    jsonschema.validate(doc, json_schema("audit"))
    return doc


CLEAN = document(
    decision("2026-11-02T10:00:00Z"),
    budgets=[budget("claims-db", "2026-11-02T10:00:00Z", 1.0)],
)
BLOCKED = document(
    decision("2026-11-02T10:00:00Z"),
    decision("2026-11-03T10:00:00Z", "blocked"),
    decision("2026-11-03T11:00:00Z", "blocked"),
    budgets=[
        budget("claims-db", "2026-11-02T10:00:00Z", 1.0),
        budget("policy-db", "2026-11-03T10:00:00Z", 2.0, cap=2.0),
        budget("claims-db", "2026-11-03T11:00:00Z", 3.0),
    ],
)


class Page(HTMLParser):
    """The page's elements as a tree of (tag, attrs, children, text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, Any] = {"tag": "#root", "attrs": {}, "children": [], "text": ""}
        self.stack = [self.root]
        self.feed(html)
        self.close()

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = {"tag": tag, "attrs": dict(attrs), "children": [], "text": ""}
        self.stack[-1]["children"].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1]["children"].append(
            {"tag": tag, "attrs": dict(attrs), "children": [], "text": ""}
        )

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1]["tag"] == tag, f"</{tag}> closes <{self.stack[-1]['tag']}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for node in self.stack:
            node["text"] += data

    def everything(self, node: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found = []
        for child in (node or self.root)["children"]:
            found += [child, *self.everything(child)]
        return found

    def all(self, tag: str, node: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found = []
        for child in (node or self.root)["children"]:
            if child["tag"] == tag:
                found.append(child)
            found += self.all(tag, child)
        return found


def page(doc: dict[str, Any]) -> Page:
    parsed = Page(pack.render_html(doc))
    assert [n["tag"] for n in parsed.stack] == ["#root"], "an element is left open"
    return parsed


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    dark, light = sorted((luminance(a), luminance(b)))
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("doc", [CLEAN, BLOCKED], ids=["clean", "blocked"])
def test_the_page_parses_and_every_element_closes(doc: dict[str, Any]) -> None:
    parsed = page(doc)
    assert parsed.all("html")[0]["attrs"]["lang"] == "en"
    assert parsed.all("title")[0]["text"] == "synthgov audit"


@pytest.mark.parametrize("doc", [CLEAN, BLOCKED], ids=["clean", "blocked"])
def test_every_table_has_a_caption_and_scoped_headers(doc: dict[str, Any]) -> None:
    parsed = page(doc)
    tables = parsed.all("table")
    assert len(tables) >= 5
    for table in tables:
        [caption] = parsed.all("caption", table)
        assert caption["text"].strip()
        headers = parsed.all("th", table)
        assert headers and all(th["attrs"].get("scope") in ("col", "row") for th in headers)
        rows = parsed.all("tr", table)
        assert all(row["children"][0]["tag"] == "th" for row in rows), "a row has no header"


def test_a_clean_audit_chart_says_what_it_counts_not_just_a_green_rectangle() -> None:
    parsed = page(CLEAN)
    [verdicts, budgets] = parsed.all("figure")
    text = verdicts["text"]
    for words in (
        "passed",
        "blocked",
        "day of the decision",
        "2026-11-02",
        "passed: 1",
        "blocked: 0",
    ):
        assert words in text, words
    assert "0" in [t["text"] for t in parsed.all("text", verdicts)]  # the y axis' ticks
    assert "no decision blocked" in text
    assert parsed.all("figcaption", verdicts)[0]["text"].startswith("Number of release decisions")
    for words in (
        "share of the cap spent",
        "cap (100%)",
        "0%",
        "100%",
        "claims-db",
        "oldest to newest",
    ):
        assert words in budgets["text"], words
    assert "25% of the ε cap spent (1 of 4," in parsed.all("figcaption", budgets)[0]["text"]


def test_a_blocked_audit_chart_counts_blocked_below_the_axis_with_its_legend() -> None:
    parsed = page(BLOCKED)
    verdicts, budgets = parsed.all("figure")
    assert "passed: 1" in verdicts["text"] and "blocked: 2" in verdicts["text"]
    titles = [t["text"] for t in parsed.all("title", verdicts)]
    assert "2026-11-03: 2 blocked" in titles and "2026-11-02: 1 passed" in titles
    assert "1 passed, 2 blocked" in verdicts["children"][0]["attrs"]["aria-label"]
    # two sources: each has its own marker shape and dash, not only its colour
    lines = parsed.all("polyline", budgets)
    assert (
        len(
            {
                line["attrs"].get("stroke-dasharray")
                for line in lines
                if line["attrs"].get("stroke-width") == "2"
            }
        )
        == 2
    )
    assert "policy-db: 100% of the ε cap" in budgets["text"]


def test_every_chart_is_an_image_with_a_name_inside_a_captioned_figure() -> None:
    parsed = page(BLOCKED)
    for figure in parsed.all("figure"):
        [svg] = parsed.all("svg", figure)
        assert svg["attrs"]["role"] == "img" and svg["attrs"]["aria-label"]
        assert svg["children"][0]["tag"] == "title"
        assert parsed.all("figcaption", figure)[0]["text"].strip()


def test_every_colour_pair_of_the_page_reads_at_wcag_aa() -> None:
    for foreground, background in pack.CONTRASTS:
        assert contrast(foreground, background) >= 4.5, (foreground, background)
    html = pack.render_html(BLOCKED)
    used = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", html)} - {"#d0d7de"}  # borders
    listed = {c for pair in pack.CONTRASTS for c in pair}
    assert used <= listed, used - listed  # every colour on the page is in a checked pair


def test_the_badges_carry_their_word_and_read_at_aa() -> None:
    parsed = page(BLOCKED)
    badges = [s for s in parsed.all("span") if "badge" in s["attrs"].get("class", "")]
    assert {b["text"] for b in badges} >= {"findings", "pass", "blocked"}
    assert contrast(pack.PAPER, pack.GOOD) >= 4.5 and contrast(pack.PAPER, pack.BAD) >= 4.5


def test_the_csp_forbids_scripts_and_external_resources_and_a_viewport_is_set() -> None:
    parsed = page(BLOCKED)
    metas = {
        m["attrs"].get("http-equiv") or m["attrs"].get("name"): m["attrs"]
        for m in parsed.all("meta")
    }
    csp = metas["Content-Security-Policy"]["content"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives
    assert "http" not in csp and "*" not in csp
    assert metas["viewport"]["content"] == "width=device-width, initial-scale=1"
    tags = {n["tag"] for n in parsed.everything()}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    handlers = [k for n in parsed.everything() for k in n["attrs"] if k.startswith("on")]
    assert handlers == []


def test_no_external_url_is_referenced() -> None:
    html = pack.render_html(BLOCKED)
    assert re.findall(r"[a-z]+://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE) == []
    assert "url(" not in html and "@import" not in html


def test_text_from_the_history_is_escaped() -> None:
    html = pack.render_html(BLOCKED)
    assert "blocked &lt;at&gt; merge &amp; shipped" in html and "<at>" not in html


def test_the_page_of_a_real_clean_history(synthgov: Synthgov, repo: Path) -> None:
    make_base(repo)
    add_release(repo)
    merge(repo)
    result = synthgov("audit", "--format", "html", cwd=repo)
    assert result.code == 0
    parsed = Page(result.out)
    [verdicts, budgets] = parsed.all("figure")
    assert "passed: 1" in verdicts["text"] and "blocked: 0" in verdicts["text"], verdicts["text"]
    assert "claims-db" in budgets["text"]
    for table in parsed.all("table"):
        assert parsed.all("caption", table)


def test_a_long_history_with_many_sources_keeps_its_axis_legible_and_sources_apart() -> None:
    times = [f"2026-{month:02d}-{day:02d}T09:00:00Z" for month in (1, 2, 3) for day in range(1, 29)]
    sources = [f"source-{i:02d}" for i in range(14)]
    doc = document(
        *(decision(t, "blocked" if i % 9 == 0 else "pass") for i, t in enumerate(times)),
        budgets=[budget(sources[i % 14], t, 0.1 * i % 4) for i, t in enumerate(times)],
    )
    parsed = page(doc)
    verdicts, budgets = parsed.all("figure")
    assert "month of the decision" in verdicts["text"]  # 84 days: counted per month
    ticks = [t for t in parsed.all("text", verdicts) if t["attrs"]["text-anchor"] == "end"]
    heights = sorted(float(t["attrs"]["y"]) for t in ticks)
    assert min(b - a for a, b in itertools.pairwise(heights)) >= 14  # the tick labels never overlap
    assert {"2026-01", "2026-02", "2026-03"} <= {t["text"] for t in parsed.all("text", verdicts)}
    svg = parsed.all("svg", budgets)[0]
    legend = [t for t in parsed.all("text", budgets) if t["text"] in sources]
    assert len(legend) == 14
    assert max(float(t["attrs"]["y"]) for t in legend) < float(svg["attrs"]["height"]) - 40
    styles = {
        (line["attrs"]["stroke"], line["attrs"].get("stroke-dasharray"))
        for line in parsed.all("polyline", budgets)
        if line["attrs"].get("stroke-width") == "2"
    }
    assert len(styles) == 14  # colour and dash together tell every source apart
    assert "0.0000000" not in budgets["text"]  # amounts at four significant digits
