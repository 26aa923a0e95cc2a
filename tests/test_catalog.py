"""`synthgov catalog --out DIR`: self-contained pages, no broken links, one page per dataset,
catalog.json, the last known good release after a revocation, and a folder never clobbered.

No browser engine installs from PyPI here without downloading a browser build, so the
pages are parsed with the standard library's HTML parser and every link is followed.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest

from tests.helpers import signing
from tests.helpers.cli import Synthgov

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}
SVG_VOID = {"rect", "line", "path", "circle"}  # written self-closing inside inline SVG


class Page(HTMLParser):
    """Tags, ids, links, and whether the elements nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, value)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                assert value not in self.ids, f"duplicate id {value}"
                self.ids.add(value)
            if name in ("href", "src", "srcset", "action", "data", "poster", "xlink:href"):
                self.links.append((name, value or ""))
            if name == "style":
                self.styles.append(value or "")
        if tag not in VOID:
            self.stack.append(tag)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def built(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthgov.cli import main

    out = tmp_path_factory.mktemp("catalog") / "site"
    assert main(["-C", str(history), "catalog", "--out", str(out)]) == 0
    return out


def test_one_page_per_dataset_and_an_index(built: Path) -> None:
    assert sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()) == [
        "catalog.json",
        "datasets/claims.html",
        "index.html",
    ]


def test_pages_are_self_contained_well_formed_and_link_only_inside(built: Path) -> None:
    pages = {p.relative_to(built).as_posix(): parse(p) for p in built.rglob("*.html")}
    for name, page in pages.items():
        assert page.errors == [] and page.stack == [], (name, page.errors, page.stack)
        assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.tags)
        assert all(name == "href" for name, _ in page.links), page.links
        for style in page.styles:
            assert "url(" not in style and "@import" not in style
        for _, target in page.links:
            assert "://" not in target and not target.startswith(("//", "data:", "javascript:"))
            where, fragment = urldefrag(target)
            resolved = (built / name).parent.joinpath(where).resolve() if where else (built / name)
            assert resolved.is_file(), f"{name}: broken link {target}"
            assert resolved.is_relative_to(built.resolve()), f"{name}: {target} leaves the catalog"
            if fragment:
                key = resolved.relative_to(built.resolve()).as_posix()
                assert fragment in pages[key].ids, f"{name}: no #{fragment} in {key}"


def test_the_revoked_release_is_shown_and_the_last_known_good_is_current(built: Path) -> None:
    index = (built / "index.html").read_text()
    assert 'href="datasets/claims.html#release-1.10">claims@1.10</a>' in index
    page = parse(built / "datasets/claims.html")
    text = " ".join(" ".join(page.text).split())
    assert "Use claims@1.10 current" in text
    assert "claims@1.11 revoked" in text and "privacy incident: Near-copies" in text
    assert "claims@1.12 pending" in text and "Blocked by: approvals.missing" in text
    assert "Next revalidation: 2026-10-02" in text


def test_the_dataset_page_shows_card_scorecard_lineage_approvals_and_budget(built: Path) -> None:
    html = (built / "datasets/claims.html").read_text()
    for needle in (
        "Dataset card",
        "Scorecard",
        "Lineage",
        "Approvals",
        "Privacy budget",
        "Insurance claims",
        "model development",
        "s3://bucket/claims-1.10.parquet",
        "ctgan 0.10.1; seed 7; epochs=300",
        "fidelity.detection_auc",
    ):
        assert needle in html, needle
    # the card's override (0.7) is the threshold shown for detection AUC, with a bar
    assert (
        '<svg role="img" aria-label="fidelity.detection_auc 0.61, threshold &lt;= 0.7, pass"'
        in html
    )
    # approvals: reviewer, role and the fingerprint of the key that verified

    for name in ("ada", "chen"):
        assert signing.people()[name].fingerprint in html


def test_catalog_json_shape(built: Path) -> None:
    data: dict[str, Any] = json.loads((built / "catalog.json").read_text())
    assert data["generator"] == "synthgov catalog" and data["schema_version"] == 1
    assert set(data["files"]) == {"catalog.json", "index.html", "datasets/claims.html"}
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10" and claims["page"] == "datasets/claims.html"
    states = {r["release"]: r["state"] for r in claims["releases"]}
    assert states == {"claims@1.12": "pending", "claims@1.11": "revoked", "claims@1.10": "current"}
    [current] = [r for r in claims["releases"] if r["state"] == "current"]
    assert current["artifact"] == {
        "location": "s3://bucket/claims-1.10.parquet",
        "sha256": "b" * 64,
        "rows": 1000,
    }
    assert {a["role"] for a in current["approvals"]} == {"privacy-reviewer", "data-owner"}
    assert all(s["passed"] and s["decision"] == "pass" for s in current["scorecard"])
    revoked = next(r for r in claims["releases"] if r["state"] == "revoked")
    assert revoked["revocation"]["incident_class"] == "privacy"


def test_rendering_is_deterministic_and_replaces_an_earlier_catalog(
    synthgov: Synthgov, history: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=history).code == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = synthgov("catalog", "--out", str(out), cwd=history)
    assert result.code == 0 and "wrote the catalog of 1 dataset" in result.err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folders left behind


def test_a_folder_with_other_files_is_never_clobbered(
    synthgov: Synthgov, history: Path, tmp_path: Path
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = synthgov("catalog", "--out", str(out), cwd=history)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "not an earlier synthgov catalog" in result.err
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.iterdir())) == 1
    # an earlier catalog with a user's file added is not an earlier catalog any more
    site = tmp_path / "site"
    assert synthgov("catalog", "--out", str(site), cwd=history).code == 0
    (site / "datasets" / "extra.html").write_text("mine")
    assert synthgov("catalog", "--out", str(site), cwd=history).code == 2
    assert (site / "datasets" / "extra.html").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    assert synthgov("catalog", "--out", str(tmp_path / "file"), cwd=history).code == 2


def test_a_catalog_folder_name_too_long_is_a_one_line_error(
    synthgov: Synthgov, history: Path, tmp_path: Path
) -> None:
    result = synthgov("catalog", "--out", str(tmp_path / ("a" * 300)), cwd=history)
    assert result.code == 2 and "internal error" not in result.err
    assert result.err.strip().splitlines() == [
        f"{tmp_path / ('a' * 300)}: cannot write: File name too long"
    ]
