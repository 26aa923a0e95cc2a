"""`synthgov catalog --out DIR`: self-contained pages, no broken links, one page per dataset,
catalog.json, the last known good release after a revocation, and a folder never clobbered.

No browser engine installs from PyPI here without downloading a browser build, so the
pages are parsed with the standard library's HTML parser and every link is followed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest

from synthgov import inventory
from synthgov.decision.findings import (
    Finding,
    ReleaseResult,
    RuleScore,
    Severity,
    WaiverRef,
)
from synthgov.inventory import DatasetState, ReleaseState
from synthgov.reporting import catalog
from tests.helpers import signing
from tests.helpers.cli import Synthgov
from tests.helpers.releases import add_version, waive
from tests.helpers.repos import make_base, on_main
from tests.helpers.samples import TSTR_VIA_ALTERNATIVE, judged, with_metric

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


def test_one_page_per_dataset_and_release_and_an_index(built: Path) -> None:
    assert sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()) == [
        "catalog.json",
        "datasets/claims.html",
        "datasets/claims@1.10.html",  # each release's report page
        "datasets/claims@1.11.html",
        "datasets/claims@1.12.html",
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
        '<svg role="img" aria-label="fidelity.detection_auc 0.61, bound 0.65, threshold &lt;= 0.7, pass"'
        in html
    )
    # approvals: reviewer, role and the fingerprint of the key that verified

    for name in ("ada", "chen"):
        assert signing.people()[name].fingerprint in html


def test_catalog_json_shape(built: Path) -> None:
    data: dict[str, Any] = json.loads((built / "catalog.json").read_text())
    assert data["generator"] == "synthgov catalog" and data["schema_version"] == 1
    releases = {f"datasets/claims@1.{minor}.html" for minor in (10, 11, 12)}
    assert set(data["files"]) == {"catalog.json", "index.html", "datasets/claims.html", *releases}
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


# --- a catalog that tells the truth -------------------------------------------------------

LOCAL = "/home/author/private/claims-1.10.parquet"


def test_the_catalog_never_publishes_the_authors_local_path(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10", location=LOCAL)
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"index.html", "catalog.json", "claims.html"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert LOCAL not in text and "/home/author" not in text, path
    data = json.loads((out / "catalog.json").read_text())
    [release] = data["datasets"][0]["releases"]
    assert release["state"] == "current"  # rendered, only its location held back
    assert release["artifact"]["location"] is None
    assert "location not published" in (out / "datasets/claims.html").read_text()
    status = synthgov("status", "--format", "json", cwd=repo)
    assert status.code == 0 and LOCAL not in status.out


@pytest.mark.parametrize(
    ("location", "published"),
    [
        ("s3://bucket/claims.parquet", True),
        ("https://data.example.org/claims.parquet", True),
        ("/home/author/claims.parquet", False),
        ("claims.parquet", False),
        ("./out/claims.parquet", False),
        ("~/claims.parquet", False),
        ("file:///home/author/claims.parquet", False),
        ("C:\\Users\\author\\claims.parquet", False),
        ("C:/Users/author/claims.parquet", False),
        ("\\\\share\\claims.parquet", False),
    ],
)
def test_only_a_location_others_can_reach_is_published(location: str, published: bool) -> None:
    assert (inventory.published_location(location) == location) is published


DCR = RuleScore(
    "privacy.dcr_share",
    "mandatory",
    "fail",
    judged("privacy.dcr_share", "<=", 0.5, 0.6, (0.55, 0.65), "fail"),
)
WAIVED_UNTIL = datetime(2026, 10, 2, tzinfo=UTC)


def _state() -> DatasetState:
    waiver = WaiverRef("WVR-2026-007", "w.yaml", "rev-alice", WAIVED_UNTIL, 0.7)
    waived = Finding("privacy", "privacy.dcr_share", Severity.WARNING, "waived", waiver=waiver)
    result = ReleaseResult("claims@1.10", (waived,), (), (), (TSTR_VIA_ALTERNATIVE, DCR))
    release = ReleaseState("claims@1.10", "1.10", "pass", scores=inventory.scorecard(result))
    return DatasetState("claims", None, (release,))


def _rows(html: str, rule: str) -> list[str]:
    start = html.index(f"<td><code>{rule}</code></td>")
    row = html[html.rindex("<tr>", 0, start) : html.index("</tr>", start)]
    return [re.sub(r"<[^>]+>", "", cell) for cell in row.split("<td")[1:]]


def test_a_rule_passing_via_its_alternative_shows_value_bound_and_the_rule_that_decided() -> None:
    html = catalog.dataset_page(_state(), date(2026, 9, 20)).decode()
    cells = _rows(html, "utility.tstr")
    # the estimate and the bound the decision used, apart; the verdict says how it passed
    assert [c.split(">", 1)[-1] for c in cells[2:5]] == ["0.6512", "0.6905", "&gt;= 0.84"]
    assert cells[7].endswith("pass via alternative")
    assert "↳ or" in html and "utility.tstr_trtr_ratio" in html and "pass (decided)" in html
    data = json.loads(
        catalog.render([_state()], "a", "b", datetime(2026, 9, 20, tzinfo=UTC))["catalog.json"]
    )
    [tstr, dcr] = data["datasets"][0]["releases"][0]["scorecard"]
    assert tstr["observed"] == 0.6512 and tstr["bound"] == 0.6905
    assert tstr["by_alternative"] and tstr["decided_by"] == "utility.tstr_trtr_ratio"
    assert tstr["result"] == "pass via alternative" and tstr["alternative"]["bound"] == 0.9011
    assert dcr["result"] == "waived until 2026-10-02" and dcr["waived_until"].startswith(
        "2026-10-02"
    )


def test_a_waived_finding_reads_waived_until_never_fail() -> None:
    html = catalog.dataset_page(_state(), date(2026, 9, 20)).decode()
    start = html.index("<td><code>privacy.dcr_share</code></td>")
    row = html[start : html.index("</tr>", start)]
    assert "waived until 2026-10-02" in row
    assert 'class="fail"' not in row and ">fail<" not in row
    assert "#cf222e" not in row and ", fail" not in row  # nor a red bar labelled fail


def test_a_waived_release_is_current_and_reads_waived_until_in_the_catalog(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    detection = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    add_version(repo, "1.10", metrics=detection)
    expires = waive(repo)
    out = tmp_path / "site"
    done = synthgov("catalog", "--out", str(out), cwd=repo)
    assert done.code == 0, done.err
    data = json.loads((out / "catalog.json").read_text())
    [release] = data["datasets"][0]["releases"]
    assert release["state"] == "current", release["blocking"]
    [auc] = [s for s in release["scorecard"] if s["rule"] == "fidelity.detection_auc"]
    assert auc["result"] == f"waived until {expires:%Y-%m-%d}" and not auc["passed"]
    html = (out / "datasets/claims.html").read_text()
    start = html.index("<td><code>fidelity.detection_auc</code></td>")
    row = html[start : html.index("</tr>", start)]
    assert "waived until" in row and ">fail<" not in row and "#cf222e" not in row


def test_every_badge_reads_at_wcag_aa_contrast() -> None:
    """White badge text on each state's colour is at least 4.5:1 (WCAG AA), so 'approved'
    is as readable as 'current', 'revoked' or 'withdrawn'."""
    import re

    from synthgov.reporting import catalog

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    badges = re.findall(
        r"\.(current|approved|pending|revoked|withdrawn)\{background:(#[0-9a-f]{6})\}",
        catalog.CSS,
    )
    assert len(badges) == 5
    for state, colour in badges:
        assert (1.05) / (luminance(colour) + 0.05) >= 4.5, state


def test_a_waiver_ending_soon_is_a_notice_in_the_catalog_and_the_release_stays_current(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    detection = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    add_version(repo, "1.10", metrics=detection)
    expires = waive(repo, days=5)
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    data = json.loads((out / "catalog.json").read_text())
    [claims] = data["datasets"]
    assert claims["releases"][0]["state"] == "current"  # a notice changes no state
    [notice] = claims["notices"]
    assert notice["kind"] == "waiver" and notice["release"] == "claims@1.10"
    assert data["notices"] == claims["notices"]
    message = f"waiver WVR-2026-007 of claims@1.10 ends on {expires:%Y-%m-%d}"
    assert message in (out / "datasets/claims.html").read_text()
    assert message in (out / "index.html").read_text()


def test_a_waiver_ending_after_the_window_is_no_notice_in_the_catalog(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    detection = with_metric("fidelity.detection_auc", value=0.8, ci=[0.78, 0.82])
    add_version(repo, "1.10", metrics=detection)
    waive(repo, days=30)
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    data = json.loads((out / "catalog.json").read_text())
    assert data["notices"] == [] and data["datasets"][0]["notices"] == []
    assert "Expiring soon" not in (out / "datasets/claims.html").read_text()


def test_a_signing_key_expiring_soon_is_a_notice_on_the_datasets_page(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10")  # approved by ada and chen
    until = datetime.now(UTC) + timedelta(days=5)
    extra = {"ada": f'valid_before: "{until:%Y-%m-%dT%H:%M:%SZ}"'}
    on_main(
        repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered(), extra=extra)
    )
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    data = json.loads((out / "catalog.json").read_text())
    [claims] = data["datasets"]
    assert claims["current"] == "claims@1.10"
    assert [(n["kind"], n["subject"]) for n in claims["notices"]] == [("key", "ada")]
    assert "reviewer ada&#x27;s key" in (out / "datasets/claims.html").read_text()


def test_the_catalog_publishes_the_current_artifacts_fingerprint_never_a_local_path(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    add_version(repo, "1.10", location="/home/author/claims-synthetic.csv")
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    [claims] = json.loads((out / "catalog.json").read_text())["datasets"]
    assert claims["artifact"]["location"] is None and claims["artifact"]["fingerprint"]
    for page in out.rglob("*"):
        if page.is_file():
            assert "/home/author" not in page.read_text()
