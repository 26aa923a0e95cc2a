"""The release report: chart aggregates in report.json, and the page drawn from them alone.

What these stop: a chart showing a small count (a rare person's category, recoverable by
subtraction too), counts that a chunked engine could not reproduce, a page that loads
anything from outside or runs a script, a page without its figures or their labels, and
an old report (no aggregates) that no longer renders.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from synthgov.examples import write_release_tables
from synthgov.files import governance
from synthgov.inventory import DatasetState, ReleaseState
from synthgov.metrics import aggregates
from synthgov.models import Card, Policy, Report
from synthgov.reporting import charts as figures
from synthgov.reporting.catalog import report_pages
from synthgov.reporting.release_report import page, render
from tests.helpers.cli import Synthgov, as_json, audit, check, release_new_args, run_in
from tests.helpers.git import commit, git, merge
from tests.helpers.releases import add_version
from tests.helpers.repos import make_base
from tests.helpers.samples import PASSING, SHA, report_json
from tests.helpers.tables import make_tables

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "datasets/claims/card.yaml"
MINIMUM = 10


class Page(HTMLParser):
    """Every tag with its attributes, the text of SVG <text> and of table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.svg_text: list[str] = []
        self.cells: list[tuple[str, str]] = []  # (th|td, text)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "img", "input", "link", "path", "use", "rect", "line"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "text" in self.stack and "svg" in self.stack:
            self.svg_text.append(data.strip())
        for tag in reversed(self.stack):
            if tag in ("td", "th"):
                self.cells.append((tag, data.strip()))
                break

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def _rare_tables() -> Any:
    """300 rows a side; `kind` has a category of 3 real rows (and 4 synthetic), `score` a
    lone outlier, `code` a missing value in 2 real rows."""
    rng = np.random.default_rng(5)
    n = 300

    def kinds() -> list[Any]:
        return list(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]))

    real_kind, synthetic_kind = kinds(), kinds()
    real_kind[:3] = ["rare"] * 3
    synthetic_kind[:4] = ["rare"] * 4
    real_score = [float(x) for x in rng.normal(50, 10, n)]
    real_score[0] = 10_000.0
    real_code: list[int | None] = [int(x) for x in rng.integers(0, 40, n)]
    real_code[5:7] = [None, None]

    def draw() -> list[Any]:
        return [float(x) for x in rng.normal(50, 10, n)]

    return make_tables(
        {
            "kind": ("categorical", real_kind, kinds(), synthetic_kind),
            "score": ("number", real_score, draw(), draw()),
            "code": ("integer", real_code, [int(x) for x in rng.integers(0, 40, n)], real_code),
        }
    )


def _dcr(seed: int = 1, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    synthetic = rng.random(n) * 0.2
    synthetic[:3] = 0.0  # three exact copies: a cell of 3 that must never show
    return synthetic, rng.random(n) * 0.2


def _counts(block: dict[str, Any]) -> list[int]:
    found = []
    for column in block["columns"]:
        for cell in column["cells"]:
            found += [cell["real"], cell["synthetic"]]
    for cell in block["dcr"]["cells"]:
        found += [cell["synthetic"], cell["holdout"]]
    return found


def _report(charts: dict[str, Any] | None) -> Report:
    data = json.loads(report_json(PASSING, SHA))
    if charts is not None:
        data["charts"] = charts
    return Report.model_validate(data)


def test_a_rare_category_and_every_small_cell_are_merged_never_shown() -> None:
    block = aggregates.measure(_rare_tables(), MINIMUM, _dcr())
    counts = _counts(block)
    assert counts and all(c == 0 or c >= MINIMUM for c in counts), counts
    kind = next(c for c in block["columns"] if c["column"] == "kind")
    labels = [cell["label"] for cell in kind["cells"]]
    assert "rare" not in labels and "(other)" in labels
    other = next(cell for cell in kind["cells"] if cell["label"] == "(other)")
    # the other bucket took a large category too, or 3 = total - shown would give it away
    assert other["merged"] >= 2 and other["real"] >= MINIMUM
    dcr = block["dcr"]["cells"]
    assert dcr[0]["synthetic"] != 3 and not dcr[0]["label"].startswith("0 (")  # merged upward
    assert Report.model_validate(_report(block).model_dump()).charts is not None


def test_the_page_shows_no_count_under_the_minimum_and_not_the_rare_category() -> None:
    html = render(_report(aggregates.measure(_rare_tables(), MINIMUM, _dcr())))
    page = parse(html)
    numbers = [
        int(text.replace(",", ""))
        for tag, text in page.cells
        if tag == "td" and text.replace(",", "").isdigit()
    ]
    assert numbers and all(n == 0 or n >= MINIMUM for n in numbers), numbers
    assert ">rare<" not in html and "rare</text>" not in html


def test_a_stricter_policy_minimum_merges_the_reports_cells_again_on_the_page() -> None:
    block = aggregates.measure(_rare_tables(), MINIMUM, _dcr())
    assert any(0 < c < 40 for c in _counts(block))  # the report holds cells under 40
    page = parse(render(_report(block), min_cell_count=40, draw=False))
    numbers = [
        int(text.replace(",", ""))
        for tag, text in page.cells
        if tag == "td" and text.replace(",", "").isdigit()
    ]
    assert numbers and all(n == 0 or n >= 40 for n in numbers), numbers


def test_the_catalog_pages_apply_the_policy_minimum_to_a_report_that_lowered_its_own() -> None:
    """A report written with `charts.min_cell_count: 1` holds the counts of single people;
    the catalog's release page merges them again to the base policy's minimum."""
    block = aggregates.measure(_rare_tables(), 1, _dcr())
    release = ReleaseState("claims@1.0", "1.0", "pass", report=_report(block))
    pages = report_pages([DatasetState("claims", None, (release,))], min_cell_count=MINIMUM)
    html = pages["datasets/claims@1.0.html"].decode()
    numbers = [
        int(text.replace(",", ""))
        for tag, text in parse(html).cells
        if tag == "td" and text.replace(",", "").isdigit()
    ]
    assert numbers and all(n == 0 or n >= MINIMUM for n in numbers), numbers
    assert ">rare<" not in html and "rare</text>" not in html


def test_a_report_with_a_chart_cell_under_its_minimum_does_not_load() -> None:
    block = aggregates.measure(_rare_tables(), MINIMUM, _dcr())
    block["columns"][0]["cells"][0]["real"] = 3
    with pytest.raises(ValidationError, match="min_cell_count"):
        _report(block)


def test_counts_of_row_chunks_sum_to_the_counts_of_the_whole_table() -> None:
    """What the partitioned engine relies on: plan once, count per chunk, add, finish."""
    tables = _rare_tables()
    plans = aggregates.plan_columns(tables)
    whole = aggregates.count_columns(plans, tables)
    rows = np.arange(300)
    chunks = [
        tables.select("real", part).select("synthetic", part)
        for part in (rows[:120], rows[120:250], rows[250:])
    ]
    summed = aggregates.add(*(aggregates.count_columns(plans, chunk) for chunk in chunks))
    assert whole.keys() == summed.keys()
    for key in whole:
        assert np.allclose(whole[key], summed[key], rtol=1e-12, atol=1e-9), key
    synthetic, holdout = _dcr()
    edges = aggregates.plan_dcr(holdout)
    split = aggregates.add(
        aggregates.count_dcr(edges, synthetic[:100], holdout[:150]),
        aggregates.count_dcr(edges, synthetic[100:], holdout[150:]),
    )
    assert all(
        (split[k] == v).all() for k, v in aggregates.count_dcr(edges, synthetic, holdout).items()
    )
    assert aggregates.block(plans, summed, MINIMUM) == aggregates.block(plans, whole, MINIMUM)


def test_an_old_report_without_aggregates_still_renders_its_metrics() -> None:
    html = render(_report(None))
    page = parse(html)
    assert not page.named("svg")
    assert "no chart aggregates" in html
    assert "privacy.mia_auc" in html  # the scorecard's headline figures
    assert page.named("table") and page.named("caption")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`evaluate --html` of the worked example's honest table (400 rows)."""
    work = tmp_path_factory.mktemp("page")
    data = write_release_tables(work / "data", rows=400)
    page, report = work / "report.html", work / "report.json"
    args = ["--card", str(CARD), "--real", str(data["train"]), "--holdout", str(data["holdout"])]
    code = run_in(
        work,
        "evaluate",
        *args,
        "--synthetic",
        str(data["honest"]),
        "-o",
        str(report),
        "--html",
        str(page),
        "--quiet",
        "--sample",
        "200",
    )
    assert code == 0
    return {"page": page, "report": report, **data}


def test_evaluate_html_draws_every_chart_with_labelled_axes_from_the_report(
    evaluated: dict[str, Path],
) -> None:
    report = json.loads(evaluated["report"].read_text())
    assert report["charts"]["version"] == 1 and report["charts"]["min_cell_count"] == MINIMUM
    page = parse(evaluated["page"].read_text())
    figures = page.named("svg")
    # one per column, the association heatmap and the DCR distribution
    assert (
        len([f for f in figures if f.get("class") == "chart"])
        == len(report["charts"]["columns"]) + 2
    )
    assert all(f.get("role") == "img" and f.get("aria-label") for f in figures)
    texts = set(page.svg_text)
    assert {"share of rows", "real (train)", "synthetic", "holdout (fresh rows)"} <= texts
    assert "synthetic − real association" in texts and "column" in texts
    assert any(t.startswith("DCR to train") for t in texts)
    assert page.named("caption") and all(
        attrs.get("scope") in ("col", "row") for attrs in page.named("th")
    )


def test_the_page_loads_nothing_from_outside_and_runs_no_script(
    evaluated: dict[str, Path],
) -> None:
    html = evaluated["page"].read_text()
    page = parse(html)
    assert not page.named("script") and not page.named("link") and not page.named("iframe")
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:", "data:")), (
                tag,
                name,
                value,
            )
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    metas = {(a.get("http-equiv") or a.get("name")): a.get("content") for a in page.named("meta")}
    assert metas["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    assert "width=device-width" in (metas["viewport"] or "")
    assert "@media print" in html and "url(http" not in html and "@import" not in html


def test_evaluate_html_refuses_to_overwrite_a_file_that_is_not_its_page(
    evaluated: dict[str, Path], tmp_path: Path, synthgov: Synthgov
) -> None:
    notes = tmp_path / "notes.html"
    notes.write_text("<p>my notes</p>")
    args = ["--card", str(CARD), "--real", str(evaluated["train"])]
    result = synthgov(
        "evaluate",
        *args,
        "--holdout",
        str(evaluated["holdout"]),
        "--synthetic",
        str(evaluated["honest"]),
        "-o",
        str(tmp_path / "r.json"),
        "--html",
        str(notes),
    )
    assert result.code == 2 and "notes.html" in result.err and "not overwritten" in result.err
    assert notes.read_text() == "<p>my notes</p>" and not (tmp_path / "r.json").exists()


def test_release_new_writes_the_page_that_check_accepts_and_the_catalog_links_and_the_gate_holds_its_minimum(
    tmp_path: Path, synthgov: Synthgov
) -> None:
    data = write_release_tables(tmp_path / "data", rows=300)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "sam@example.org")
    assert run_in(tmp_path, "init", str(repo)) == 0
    dataset = ("dataset", "new", "claims", "--owner", "claims-team", "--classification")
    source = ("internal", "--source", "claims-2024", "--from-data", str(data["train"]))
    assert run_in(repo, *dataset, *source, "--target", "fraud") == 0
    commit(repo, "bootstrap")
    git(repo, "checkout", "-qb", "r")
    assert run_in(repo, *release_new_args("claims", "1.0", str(data["honest"]), data)) in (0, 1)
    folder = repo / "datasets/claims/releases/1.0"
    page = (folder / "report.html").read_text()
    assert "<svg" in page and "Release report: claims" in page and "rule" in page
    commit(repo, "release claims@1.0")
    verdict = as_json(check(synthgov, repo, "--format", "json"))
    assert "files.unknown" not in json.dumps(verdict)
    assert "files.report_page" not in json.dumps(verdict)  # the page check draws too
    out = tmp_path / "site"
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0
    release_page = (out / "datasets/claims@1.0.html").read_text()
    assert "<svg" in release_page and 'href="claims.html#release-1.0"' in release_page
    assert 'href="claims@1.0.html"' in (out / "datasets/claims.html").read_text()
    assert "datasets/claims@1.0.html" in json.loads((out / "catalog.json").read_text())["files"]
    assert synthgov("catalog", "--out", str(out), cwd=repo).code == 0  # over the earlier one
    # a report that declares a smaller minimum than the base policy's is blocked
    report = folder / "report.json"
    report.write_text(report.read_text().replace('"min_cell_count": 10', '"min_cell_count": 1'))
    commit(repo, "show smaller cells")
    assert '"rule": "integrity.chart_minimum"' in json.dumps(
        as_json(check(synthgov, repo, "--format", "json"))
    )


def test_constant_sparse_date_and_extreme_columns_give_a_block_the_report_accepts() -> None:
    n = 40
    dates = ["2024-01-01"] * 20 + ["9999-12-30"] * 20
    tables = make_tables(
        {
            "same": ("integer", [7] * n, [7] * n, [7] * n),
            "sparse": ("number", [None] * 35 + [1.0, 2.0, 3.0, 4.0, 5.0], [1.0] * n, [1.5] * n),
            "day": ("date", dates, ["2024-02-01"] * n, ["2024-01-05"] * n),
            "huge": ("number", [-1e308] * 20 + [1e308] * 20, [0.0] * n, [1e308] * n),
        }
    )
    block = aggregates.measure(tables, MINIMUM, _dcr(n=n))
    charts = _report(block).charts
    assert charts is not None
    assert [c.column for c in charts.columns] == ["same", "sparse", "day", "huge"]
    counts = [k for column in charts.columns for cell in column.cells for k in cell.counts()]
    assert all(k == 0 or k >= MINIMUM for k in counts), counts
    # the 5 present values never show apart from the 35 missing ones
    sparse = charts.columns[1].cells
    assert all(cell.real in (0, n) for cell in sparse), sparse
    assert parse(render(_report(block), draw=False)).named("table")


def test_a_release_page_draws_every_figure_without_a_plotting_library() -> None:
    """The catalog draws one page per release: 10,000 of them must not take hours, which a
    plotting library (over a second a page) would (docs/benchmarks.md, "Catalog")."""
    block = aggregates.measure(_rare_tables(), MINIMUM, _dcr())
    code = (
        "import json, sys\n"
        "from synthgov.models import Report\n"
        "from synthgov.reporting.release_report import render\n"
        "page = render(Report.model_validate(json.loads(sys.stdin.read())))\n"
        "print(json.dumps({'charts': page.count('class=\"chart\"'),\n"
        "    'plotting': sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=_report(block).model_dump_json(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found["charts"] == len(block["columns"]) + 2 and found["plotting"] == []


@pytest.mark.parametrize("value", [k / 20 for k in range(-20, 21)])
def test_every_heatmap_cell_label_reaches_aa_contrast_on_its_colour(value: float) -> None:
    background = figures.colour(value, 1.0)
    assert figures.contrast(figures.text_on(background), background) >= 4.5


def test_the_heatmap_keeps_its_axes_colour_key_and_a_value_per_cell() -> None:
    svg = figures.heatmap(["a", "b"], [[None, 0.3], [0.3, None]], title="Association")
    page = parse(svg)
    assert page.named("svg")[0]["role"] == "img" and page.named("svg")[0]["aria-label"]
    assert page.svg_text.count("column") == 2 and "synthetic − real association" in page.svg_text
    assert {"+0.30", "-0.30", "not measured"} <= set(page.svg_text)
    titles = [t for t in page.text if " × " in t]
    assert sorted(titles) == [
        "a × a: not measured",
        "a × b: +0.300",
        "b × a: +0.300",
        "b × b: not measured",
    ]


def _page_rules(synthgov: Synthgov, repo: Path) -> list[tuple[str, str]]:
    """(rule, message) of each `files.report_page` finding of `check --base main`."""
    verdict = as_json(check(synthgov, repo, "--format", "json"))
    found = verdict["findings"] + [f for r in verdict["releases"] for f in r["findings"]]
    return [(f["rule"], f["message"]) for f in found if f["rule"] == "files.report_page"]


def test_a_forged_or_stale_committed_report_page_is_blocked_and_a_deleted_one_is_not(
    synthgov: Synthgov, repo: Path
) -> None:
    """A page in a release folder is what reviewers and readers of the repository open;
    before, the gate never looked at it (a page-only change to a merged release was not
    even decided), while the catalog drew its own."""
    make_base(repo)
    git(repo, "checkout", "-qB", "pr", "main")
    add_version(repo, "1.10")
    folder = "datasets/claims/releases/1.10"
    report = json.loads((repo / folder / "report.json").read_text())
    policy = governance.load(repo, "policy/policy.yaml", Policy)
    card = governance.load(repo, "datasets/claims/card.yaml", Card)
    drawn = page(report, policy, card)
    path = repo / folder / "report.html"
    path.write_bytes(drawn)
    commit(repo, "the page")
    assert _page_rules(synthgov, repo) == []
    forged = f"{folder}/report.html"
    message = (
        f"{forged} is not the page synthgov draws from {folder}/report.json with the base "
        "policy: a page that differs shows figures that were not judged"
    )
    path.write_bytes(drawn.replace(b"<h1>", b"<h1>All checks passed. "))
    commit(repo, "a friendlier page")
    assert _page_rules(synthgov, repo) == [("files.report_page", message)]
    git(repo, "rm", "-q", forged)
    commit(repo, "no page")
    assert _page_rules(synthgov, repo) == []
    path.write_bytes(drawn)
    commit(repo, "the page again")
    merge(repo)
    # a merged release's page changed alone: stale (another report's page) or forged
    git(repo, "checkout", "-qb", "page", "main")
    other = dict(report, dataset="another")
    path.write_bytes(page(other, policy, card))
    commit(repo, "the page of another report")
    assert _page_rules(synthgov, repo) == [("files.report_page", message)]


def test_the_audit_does_not_flag_a_merged_page_that_todays_synthgov_draws_differently(
    synthgov: Synthgov, repo: Path
) -> None:
    """A page drawn by an older synthgov differs from today's drawing though nothing was
    forged: were the audit to re-judge pages, every upgrade would turn every release's page
    into a finding. The gate judges the page; the audit verifies report.json."""
    make_base(repo)
    git(repo, "checkout", "-qB", "pr", "main")
    add_version(repo, "1.10")
    folder = repo / "datasets/claims/releases/1.10"
    report = json.loads((folder / "report.json").read_text())
    policy = governance.load(repo, "policy/policy.yaml", Policy)
    card = governance.load(repo, "datasets/claims/card.yaml", Card)
    older = page(report, policy, card).replace(b"<h1>", b"<h1>Drawn by synthgov 0.0.9: ")
    (folder / "report.html").write_bytes(older)
    commit(repo, "the page an older synthgov drew")
    assert _page_rules(synthgov, repo) != []  # today's gate would have blocked it
    merge(repo)
    code, document = audit(synthgov, repo)
    assert "report.html" not in json.dumps(document["findings"])
    assert code == 0, document["findings"]


def test_a_page_drawn_twice_in_one_process_is_the_same_bytes() -> None:
    """`check` compares a committed page with the one it draws, in the process that may
    have drawn other pages (`release new`, the catalog): before, the figures' pattern ids
    ran on from page to page, so a second drawing of the same report differed."""
    n = 40
    tables = make_tables(
        {
            "kind": ("categorical", ["a"] * 20 + ["b"] * 20, ["a"] * n, ["b"] * n),
            "amount": ("number", [float(i) for i in range(n)], [1.0] * n, [2.0] * n),
        }
    )
    report = _report(aggregates.measure(tables, MINIMUM, _dcr(n=n)))
    first = render(report)
    assert 'id="c1-' in first
    assert render(report) == first
