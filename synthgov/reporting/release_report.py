"""The release report: one self-contained HTML page drawn from report.json alone.

What a reviewer or a consumer looks at (BRIEF §11.5, §11.7): the scorecard, each column's
real-vs-synthetic distribution, the change in pairwise association, where a detector
tells the tables apart, the DCR distributions, attack success against the control with
intervals, and the subgroup gaps. Every figure comes from the report's aggregates (its
`charts` block and its metrics), never from a table, and no count under the minimum is
shown: cells the report holds under a stricter minimum than it was written with are
merged again here (`synthgov.metrics.cells`).

The page is static: inline CSS, inline SVG written by hand (`reporting.charts`: a few
milliseconds a page, so a catalog of thousands of releases can draw them all), no
script, no font, image or link outside itself, and a Content-Security-Policy that
forbids loading anything. A report written before the `charts` block renders what
its metrics give and says what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from synthgov.decision.findings import RuleScore
from synthgov.files.loading import Loaded
from synthgov.metrics import cells as small
from synthgov.models import Card, Policy
from synthgov.models.report import ChartCell, Charts, Metric, Report

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
GENERATOR = "synthgov release report"
CSS = """
:root{color-scheme:light}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 1.5rem 3rem;color:#1d1d1f;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #d0d0d7;padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.4rem 0 .3rem}p.lead{margin-top:0;color:#4a4a52}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}caption{text-align:left;font-weight:600;padding:.3rem 0;color:#1d1d1f}
th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #e3e3e8;vertical-align:top}
th{background:#f4f4f7}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.pass{color:#116329}.fail{color:#b3261e}.inconclusive{color:#7a4d00}.muted{color:#595960}
.note{border-left:4px solid #7a4d00;background:#fff8e5;padding:.4rem .8rem;margin:1rem 0}
figure{margin:1rem 0 1.6rem;break-inside:avoid;page-break-inside:avoid}figcaption{font-size:.9rem;color:#4a4a52;max-width:60rem}
svg.chart{max-width:100%;height:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:0 2rem}
.bar{display:inline-block;height:.8rem;vertical-align:middle;border:1px solid #1d5fa6;background:#1d5fa6}
.bar.synthetic{background:#b3490b;border-color:#b3490b}.bar.control{background:#fff;border-color:#1d5fa6}
.track{display:inline-block;width:12rem;position:relative;vertical-align:middle;background:#eef0f4;height:.9rem}
.track>span{position:absolute;top:0;height:.9rem}.track>.fill{left:0;background:#1d5fa6}
.track>.mid{width:2px;background:#1d1d1f}.track>.ci{height:2px;top:.4rem;background:#1d1d1f}
details{margin:.2rem 0 1rem}summary{cursor:pointer;color:#1d5fa6}
nav ol{columns:2;padding-left:1.2rem}
@media print{body{max-width:none;padding:0;font-size:11pt}nav,summary{display:none}details>*{display:block}
h2{break-after:avoid;page-break-after:avoid}a{color:inherit;text-decoration:none}.grid{display:block}}
"""
SECTIONS = (
    ("scorecard", "Scorecard"),
    ("columns", "Column distributions"),
    ("associations", "Pairwise associations"),
    ("detection", "What tells the tables apart"),
    ("dcr", "Distance to the closest training record"),
    ("attacks", "Attacks against the control"),
    ("subgroups", "Subgroup gaps"),
)
#: the table-level figures the scorecard shows when no policy judged the report
HEADLINE = (
    "fidelity.column_shapes",
    "fidelity.column_pair_trends",
    "fidelity.detection_auc",
    "utility.tstr",
    "utility.tstr_trtr_ratio",
    "privacy.exact_copy_excess",
    "privacy.near_copy_excess",
    "privacy.closer_than_fresh",
    "privacy.mia_auc",
)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _g(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def render(
    report: Report,
    *,
    scorecard: Sequence[RuleScore] | None = None,
    min_cell_count: int | None = None,
    title: str | None = None,
    draw: bool | None = None,
    back: tuple[str, str] | None = None,
) -> str:
    """The page for `report`; `scorecard`: the policy's rules judged on it, when known;
    `min_cell_count`: the policy's minimum (the stricter of it and the report's applies);
    `draw`: draw the figures (default: yes; their numbers are in the tables either way);
    `back`: a link (href, text) to the page that holds this one (the catalog's dataset page)."""
    from synthgov.reporting import charts as figures

    figures.restart_ids()  # the same report draws the same bytes, in any process
    if draw is None:
        draw = figures.available()
    charts = report.charts
    minimum = max(min_cell_count or 1, charts.min_cell_count if charts else 1)
    heading = title or f"Release report: {report.dataset}"
    up = f'<p><a href="{_e(back[0])}">← {_e(back[1])}</a></p>' if back else ""
    parts = [
        f"<header>{up}<h1>{_e(heading)}</h1>",
        f'<p class="lead">{_inputs(report)}</p></header>',
        '<nav aria-label="sections"><ol>'
        + "".join(f'<li><a href="#{key}">{name}</a></li>' for key, name in SECTIONS)
        + "</ol></nav>",
        "<main>",
    ]
    if charts is None:
        parts.append(
            '<p class="note">This report has no chart aggregates (it was written before '
            "synthgov recorded them): the distributions, associations, detection and DCR "
            "sections are empty. Run <code>synthgov evaluate</code> again to get them.</p>"
        )
    elif not draw:
        parts.append(
            '<p class="note">Figures are not drawn here; every figure\'s numbers are in the '
            "tables.</p>"
        )
    parts += [
        _section("scorecard", _scorecard(report, scorecard)),
        _section("columns", _columns(report, charts, minimum, draw)),
        _section("associations", _associations(charts, draw)),
        _section("detection", _detection(report, charts)),
        _section("dcr", _dcr(report, charts, minimum, draw)),
        _section("attacks", _attacks(report)),
        _section("subgroups", _subgroups(report, minimum)),
        "</main>",
        f'<footer><p class="muted">Drawn from report.json by synthgov {_e(report.synthgov_version)}'
        f" (aggregates only; no count under {minimum} rows is shown).</p></footer>",
    ]
    return _page(heading, "\n".join(parts))


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _section(key: str, content: str) -> str:
    name = dict(SECTIONS)[key]
    return f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{name}</h2>\n{content}\n</section>'


def _inputs(report: Report) -> str:
    rows = report.inputs
    return (
        f"Dataset <code>{_e(report.dataset)}</code>: {rows.real.rows:,} real training rows, "
        f"{rows.holdout.rows:,} holdout rows, {rows.synthetic.rows:,} synthetic rows; "
        f"evaluation seed {report.config.seed}."
    )


def _table(
    caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]
) -> str:
    def cell(i: int, text: str, tag: str) -> str:
        klass = ' class="num"' if i in numeric else ""
        scope = ' scope="col"' if tag == "th" else ""
        return f"<{tag}{scope}{klass}>{text}</{tag}>"

    header = "<tr>" + "".join(cell(i, h, "th") for i, h in enumerate(head)) + "</tr>"
    body = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{text}</th>' if i == 0 else cell(i, text, "td"))
            for i, text in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{caption}</caption><thead>{header}</thead><tbody>{body}</tbody></table>"
    )


def _scorecard(report: Report, scorecard: Sequence[RuleScore] | None) -> str:
    if scorecard:
        rows = []
        for score in scorecard:
            j = score.decided
            interval = f"[{_g(j.interval[0])}, {_g(j.interval[1])}]" if j.interval else "—"
            where = f" ({_e(j.where)})" if j.where else ""
            rows.append(
                [
                    f"<code>{_e(score.rule)}</code>",
                    f"<code>{_e(j.metric)}</code>{where}",
                    _g(j.value),
                    interval,
                    f"{_e(j.op)} {j.threshold:g}",
                    f'<span class="{_e(score.decision)}">{_e(score.decision)}</span>'
                    + (" (alternative)" if score.by_alternative else ""),
                    _e(score.enforcement),
                ]
            )
        failed = sum(1 for s in scorecard if s.decision != "pass")
        lead = (
            f"<p>{len(scorecard) - failed} of {len(scorecard)} rules of the policy pass; "
            "the interval is the one the decision used (at the policy's level).</p>"
        )
        head = ["rule", "metric", "value", "interval", "threshold", "result", "enforcement"]
        return lead + _table("The policy's rules judged on this report", head, rows, {2, 3})
    rows = []
    for metric_id in HEADLINE:
        for m in report.values(metric_id):
            if m.column is None and m.columns is None:
                ci = f"[{_g(m.ci[0])}, {_g(m.ci[1])}]" if m.ci else "—"
                rows.append([f"<code>{_e(m.id)}</code>", _g(m.value), ci, _e(m.n)])
    if not rows:
        return '<p class="muted">The report holds none of the headline metrics.</p>'
    return (
        '<p class="muted">No policy judged this report here: its headline figures, with '
        "95 % intervals. <code>synthgov check</code> gives the verdict.</p>"
        + _table("Headline metrics", ["metric", "value", "95 % interval", "n"], rows, {1, 3})
    )


def _recheck(
    cells: list[ChartCell], sides: tuple[str, ...], minimum: int, ordered: bool
) -> list[dict[str, Any]] | None:
    """The cells as dicts, merged again if the page's minimum is stricter than the report's."""
    plain = [cell.model_dump(exclude_none=True) for cell in cells]
    for cell in plain:
        for side in sides:
            cell.setdefault(side, 0)
    if all(small.ok(c, sides, minimum) for c in plain):
        return plain
    merge = small.merge_adjacent if ordered else small.merge_into_other
    return merge(plain, sides, minimum)


def _tick(label: str) -> str:
    """A bin's short name on the axis: its lower edge (the table gives the whole range)."""
    tail = ", missing" if label.endswith(f" or {small.MISSING}") else ""
    label = label.removesuffix(f" or {small.MISSING}")
    if label.startswith("[") and ", " in label:
        return label[1:].split(", ")[0] + tail
    if label.startswith(">= "):
        return "≥ " + label[3:] + tail
    return label + tail


def _shares(cells: list[dict[str, Any]], sides: tuple[str, ...]) -> dict[str, list[float]]:
    totals = {s: sum(int(c[s]) for c in cells) for s in sides}
    return {s: [int(c[s]) / totals[s] if totals[s] else 0.0 for c in cells] for s in sides}


def _count_table(
    caption: str, first: str, cells: list[dict[str, Any]], sides: tuple[str, ...]
) -> str:
    from synthgov.reporting.charts import NAMES

    shares = _shares(cells, sides)
    head = [first, *(f"{NAMES[s]} rows" for s in sides), *(f"{NAMES[s]} share" for s in sides)]
    rows = [
        [
            _e(c["label"])
            + (f' <span class="muted">({c["merged"]} merged)</span>' if c.get("merged") else ""),
            *(f"{int(c[s]):,}" for s in sides),
            *(_pct(shares[s][i]) for s in sides),
        ]
        for i, c in enumerate(cells)
    ]
    return (
        "<details><summary>The numbers</summary>"
        + _table(caption, head, rows, set(range(1, 1 + 2 * len(sides))))
        + "</details>"
    )


def _columns(report: Report, charts: Charts | None, minimum: int, draw: bool) -> str:
    if charts is None or not charts.columns:
        return '<p class="muted">No column distributions in this report.</p>'
    from synthgov.reporting import charts as figures

    scores = {
        m.column: m
        for m in report.metrics
        if m.id in ("fidelity.ks_complement", "fidelity.tv_complement") and m.column
    }
    sides = ("real", "synthetic")
    out = [
        "<p>Each column's share of rows per category or per bin, real training rows against "
        "synthetic rows. Numeric bins are fixed from the real table (two open-ended bins "
        f"hold its outer 1 % each); categories or bins with fewer than {minimum} rows on "
        "either side are merged with others (<em>(other)</em>, or a wider bin). The score "
        "is the column's KS or TV complement (1 = the same distribution).</p>",
        '<div class="grid">',
    ]
    for column in charts.columns:
        score = scores.get(column.column)
        said = f"{score.id.split('.')[1]} {_g(score.value)}" if score else "no score"
        name = _e(column.column)
        cells = (
            None
            if column.suppressed
            else _recheck(column.cells, sides, minimum, column.kind == "numeric")
        )
        if not cells:
            out.append(
                f"<figure><figcaption><strong>{name}</strong> ({_e(column.type)}): fewer than "
                f"{minimum} rows in all; not shown.</figcaption></figure>"
            )
            continue
        numeric = column.kind == "numeric"
        figure = ""
        if draw:
            figure = figures.bars(
                [_tick(str(c["label"])) if numeric else str(c["label"]) for c in cells],
                _shares(cells, sides),
                title=column.column,
                xlabel="bin (its lower edge)" if numeric else "category",
            )
        out.append(
            f"<figure>{figure}<figcaption><strong>{name}</strong> ({_e(column.type)}; {_e(said)})"
            f"</figcaption>{_count_table(f'Rows per cell of {name}', 'cell', cells, sides)}</figure>"
        )
    out.append("</div>")
    return "\n".join(out)


def _associations(charts: Charts | None, draw: bool) -> str:
    if charts is None or charts.associations is None or not charts.associations.pairs:
        return '<p class="muted">No pairwise associations in this report.</p>'
    from synthgov.reporting import charts as figures

    block = charts.associations
    names = block.columns
    index = {n: i for i, n in enumerate(names)}
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    for pair in block.pairs:
        i, j = index.get(pair.columns[0]), index.get(pair.columns[1])
        if i is not None and j is not None:
            matrix[i][j] = matrix[j][i] = pair.difference
    figure = figures.heatmap(names, matrix, title="Association: synthetic − real") if draw else ""
    ranked = sorted(
        (p for p in block.pairs if p.difference is not None), key=lambda p: -abs(p.difference or 0)
    )
    rows = [
        [
            f"{_e(p.columns[0])} × {_e(p.columns[1])}",
            "Pearson r" if p.measure == "pearson" else "Cramér's V",
            _g(p.real),
            _g(p.synthetic),
            f"{p.difference:+.3f}" if p.difference is not None else "—",
        ]
        for p in ranked[:15]
    ]
    text = (
        "<p>How strongly each pair of columns goes together in each table: Pearson's r for "
        "two numeric columns (−1 to 1), Cramér's V for any other pair (0 to 1, on the chart's "
        "cells). The heatmap shows synthetic minus real: red where the synthetic table "
        "links two columns more strongly than the real one, blue where less, white where "
        "alike; grey where a pair could not be measured.</p>"
    )
    caption = "The pairs whose association changed most"
    return (
        text
        + (
            f"<figure>{figure}<figcaption>Difference in association per pair of columns.</figcaption></figure>"
            if figure
            else ""
        )
        + _table(caption, ["pair", "measure", "real", "synthetic", "difference"], rows, {2, 3, 4})
    )


def _detection(report: Report, charts: Charts | None) -> str:
    overall = [m for m in report.values("fidelity.detection_auc") if m.column is None]
    lead = ""
    if overall:
        m = overall[0]
        ci = f" (95 % interval {_g(m.ci[0])} to {_g(m.ci[1])})" if m.ci else ""
        lead = (
            f"<p>A classifier trained on all columns tells real from synthetic rows with ROC "
            f"AUC <strong>{_g(m.value)}</strong>{ci}; 0.5 means it cannot.</p>"
        )
    if charts is None or charts.detection is None or not charts.detection.columns:
        return lead + '<p class="muted">No per-column detection in this report.</p>'
    rows = []
    for entry in charts.detection.columns:
        width = max(0.0, min(1.0, (entry.auc - 0.5) / 0.5))
        bar = (
            f'<span class="track" role="img" aria-label="AUC {entry.auc:.3f}">'
            f'<span class="fill" style="width:{100 * width:.1f}%"></span></span>'
        )
        rows.append([_e(entry.column), f"{entry.auc:.3f}", bar])
    return (
        lead + "<p>Which columns give the synthetic rows away: the ROC AUC of a detector that "
        "sees one column only (its chart cells), highest first. The bar runs from 0.5 "
        "(that column alone tells nothing) to 1 (it tells every row). Start with the top "
        "columns when improving fidelity.</p>"
        + _table("One-column detection AUC", ["column", "AUC", "0.5 → 1"], rows, {1})
    )


def _dcr(report: Report, charts: Charts | None, minimum: int, draw: bool) -> str:
    figures_of = [
        (m.id, m)
        for metric_id in (
            "privacy.exact_copy_excess",
            "privacy.near_copy_excess",
            "privacy.closer_than_fresh",
        )
        for m in report.values(metric_id)
    ]
    rows = [
        [f"<code>{_e(i)}</code>", _g(m.value), f"[{_g(m.ci[0])}, {_g(m.ci[1])}]" if m.ci else "—"]
        for i, m in figures_of
    ]
    table = (
        _table("DCR figures the policy gates", ["metric", "value", "95 % interval"], rows, {1})
        if rows
        else ""
    )
    if charts is None or charts.dcr is None:
        return table + '<p class="muted">No DCR distribution in this report.</p>'
    sides = ("synthetic", "holdout")
    cells = None if charts.dcr.suppressed else _recheck(charts.dcr.cells, sides, minimum, True)
    if not cells:
        return (
            table
            + f'<p class="muted">Fewer than {minimum} rows: the DCR distribution is not shown.</p>'
        )
    from synthgov.reporting import charts as figures

    figure = ""
    if draw:
        figure = figures.bars(
            ["0" if c.get("high") == 0 else f"≤ {c.get('high', 1.0):.3g}" for c in cells],
            _shares(cells, sides),
            title="Distance to the closest training record",
            xlabel="DCR to train (cell's upper edge; cells cut at the holdout's 5 % quantiles)",
            width=9.6,
        )
    text = (
        "<p>How far each synthetic row lies from its closest training row, against fresh "
        "holdout rows that the generator never saw. The cells are cut at the holdout's 5 % "
        "quantiles, so fresh rows fill each about equally. Synthetic rows piled into the "
        "first cells (exact copies, or closer than almost any fresh row) are memorised "
        "training records; a synthetic distribution that follows the holdout's is what an "
        "ideal generator gives.</p>"
    )
    return (
        text
        + (
            f"<figure>{figure}<figcaption>Share of rows per DCR cell, synthetic against holdout.</figcaption></figure>"
            if figure
            else ""
        )
        + _count_table("Rows per DCR cell", "DCR cell", cells, sides)
        + table
    )


def _attacks(report: Report) -> str:
    rows = []
    for m in report.metrics:
        if not m.id.startswith("privacy.") or not m.id.endswith("_excess"):
            continue
        extra = m.model_extra or {}
        attack, control = extra.get("attack_share"), extra.get("control_share")
        if attack is None:
            attack, control = extra.get("synthetic_share"), extra.get("holdout_share")
        name = m.id.removeprefix("privacy.").removesuffix("_excess").replace("_", " ")
        if m.column:
            name += f" ({_e(m.column)})"
        ci = f"[{_g(m.ci[0])}, {_g(m.ci[1])}]" if m.ci else "—"
        rows.append(
            [
                _e(name),
                _g(attack) if isinstance(attack, float | int) else "—",
                _g(control) if isinstance(control, float | int) else "—",
                f"{m.value:+.3f}",
                ci,
                _excess_bar(m),
            ]
        )
    if not rows:
        return '<p class="muted">No attack against a control in this report.</p>'
    return (
        "<p>Each attack's success on training records against its success on holdout "
        "records (the control: people the generator never saw). Only the excess is "
        "evidence of a leak; the bar shows it with its 95 % interval around 0 (the line in "
        "the middle), on a scale of ±0.25.</p>"
        + _table(
            "Attack success against the control",
            [
                "attack",
                "success (train)",
                "success (control)",
                "excess",
                "95 % interval",
                "excess ±0.25",
            ],
            rows,
            {1, 2, 3, 4},
        )
    )


def _excess_bar(m: Metric) -> str:
    def x(value: float) -> float:
        return round(50 + 200 * max(-0.25, min(0.25, value)), 1)

    low, high = (m.ci[0], m.ci[1]) if m.ci else (m.value, m.value)
    left, right = sorted((x(0.0), x(m.value)))
    return (
        f'<span class="track" role="img" aria-label="excess {m.value:+.3f}">'
        f'<span class="fill" style="left:{left}%;width:{max(right - left, 0.5):.1f}%"></span>'
        f'<span class="ci" style="left:{x(low)}%;width:{max(x(high) - x(low), 0.5):.1f}%"></span>'
        '<span class="mid" style="left:50%"></span></span>'
    )


#: the per-group metric behind each `subgroups.metric` of the policy (metrics/subgroup.py)
_SUBGROUP_OF = {"fidelity.column_shapes": "subgroup.fidelity", "utility.tstr": "subgroup.utility"}


def _subgroups(report: Report, minimum: int) -> str:
    worst = {m.column: m for m in report.values("subgroup.worst_gap") if m.column}
    rows, hidden = [], 0
    for m in report.metrics:
        if m.id not in ("subgroup.fidelity", "subgroup.utility") or not m.column:
            continue
        extra = m.model_extra or {}
        counts = extra.get("rows") if isinstance(extra.get("rows"), dict) else {}
        real = counts.get("real") if isinstance(counts, dict) else None
        if not isinstance(real, int) or not small.is_shown(real, minimum) or real == 0:
            hidden += 1
            continue
        gap = extra.get("gap")
        whole = extra.get("whole")
        width = max(0.0, min(1.0, float(gap) / 0.5)) if isinstance(gap, float | int) else 0.0
        bar = (
            f'<span class="track" role="img" aria-label="gap {_g(gap)}">'
            f'<span class="fill" style="width:{100 * width:.1f}%"></span></span>'
        )
        top = worst.get(m.column)
        said = (top.model_extra or {}) if top is not None else {}
        worst_of = _SUBGROUP_OF.get(str(said.get("metric")))
        mark = " (worst)" if worst_of == m.id and said.get("group") == extra.get("group") else ""
        rows.append(
            [
                f"{_e(m.column)} = {_e(extra.get('group'))}{mark}",
                m.id.split(".")[1],
                _g(m.value),
                _g(whole) if isinstance(whole, float | int) else "—",
                _g(gap) if isinstance(gap, float | int) else "—",
                bar,
                "yes" if extra.get("gated") else "no",
            ]
        )
    if not rows:
        return '<p class="muted">No subgroup metrics in this report.</p>'
    note = (
        f'<p class="muted">{hidden} groups with fewer than {minimum} real rows are not shown.</p>'
        if hidden
        else ""
    )
    return (
        "<p>How well each group of the card's subgroup columns is served, against the whole "
        "table: the gap is |group − whole|; the bar runs from 0 to 0.5. Groups too small for "
        "the policy's <code>subgroups.min_rows</code> are not gated.</p>"
        + _table(
            "Subgroup scores",
            ["group", "metric", "group value", "whole table", "gap", "gap 0 → 0.5", "gated"],
            rows,
            {2, 3, 4},
        )
        + note
    )


def page(
    report: dict[str, Any],
    policy: Loaded[Policy] | None = None,
    card: Loaded[Card] | None = None,
) -> bytes:
    """The page of a report `evaluate` just wrote: the policy's rules judged on it (as
    `check` will judge them for the card's classification) and the policy's minimum."""
    model = Report.model_validate(report)
    scorecard = None
    if policy is not None and card is not None:
        from synthgov.gates.metrics import rule_scores, score

        scorecard = rule_scores(score(policy, card, model, card.model.classification))
    minimum = policy.model.charts.min_cell_count if policy is not None else None
    return render(model, scorecard=scorecard, min_cell_count=minimum).encode()


def is_page(data: bytes) -> bool:
    """Whether `data` is a page this module wrote (which may be replaced)."""
    return f'<meta name="generator" content="{GENERATOR}">'.encode() in data[:2048]


def release_page(root: Path, report: dict[str, Any], card_bytes: bytes, card_path: str) -> bytes:
    """The page `release new` writes beside report.json, judged by the repository's policy."""
    from synthgov.files import governance, layout

    policy: Loaded[Policy] = governance.load(root, layout.POLICY, Policy)
    card: Loaded[Card] = governance.load_bytes(card_bytes, card_path, Card)
    return page(report, policy, card)
