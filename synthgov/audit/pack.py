"""The audit's evidence pack as text: audit.md and a self-contained audit.html (pure).

The HTML carries its style inline and its two charts as inline SVG (budget spent per
source over time, verdicts over time): no script, font, image or stylesheet is fetched,
so the file can be attached to a ticket and read offline years later. Both documents
render the audit.json object (model `Audit`) and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

#: What the pack holds for the data-governance evidence that reviews ask for. A mapping to
#: help a reviewer find the evidence, not a statement of conformity.
REGULATORY = (
    (
        "EU AI Act Art. 10(2)(b)",
        "data collection processes and the origin of data",
        "each release's source snapshot id and content hash (manifest), the input tables' sha256 (report), in Releases",
    ),
    (
        "EU AI Act Art. 10(2)(c)",
        "data-preparation operations",
        "generator family, version, parameters and seed (manifest, hashed under Inputs)",
    ),
    (
        "EU AI Act Art. 10(2)(f)-(g)",
        "examination and mitigation of possible biases",
        "the subgroup gate's decisions, in each release's decisions",
    ),
    (
        "EU AI Act Art. 10(3)",
        "data relevant, representative, free of errors and complete",
        "schema, constraints, fidelity and utility gate decisions at the policy of the time",
    ),
    (
        "EU AI Act Art. 10(5)",
        "safeguards for personal data",
        "privacy gate decisions; privacy-budget ledgers and their totals over time (Budgets)",
    ),
    (
        "EU AI Act Art. 12, 18",
        "record-keeping and documentation kept",
        "this pack: every first-parent commit replayed, with checkpoints against rewriting",
    ),
    (
        "ISO/IEC 42001 A.7.5",
        "data provenance",
        "Inputs (sha256 of every file and table a decision used), commit ids",
    ),
    ("ISO/IEC 42001 A.7.4", "quality of data", "the metric gates' decisions per release"),
    ("ISO/IEC 42001 A.7.6", "data preparation", "manifest generator fields (hashed)"),
    (
        "ISO/IEC 42001 A.6.2.2-A.6.2.3",
        "AI system requirements, design and approvals",
        "the policy of each commit's parent, signed approvals with key fingerprints",
    ),
    (
        "ISO/IEC 42001 A.6.2.8 / 9.2",
        "event logs; internal audit",
        "Findings (each at the commit it happened), Checkpoints",
    ),
    (
        "ISO/IEC 42001 A.9.2-A.9.3",
        "responsible use; change management",
        "policy changes and their admin approvals; waivers and their expiry",
    ),
)


def _summary(doc: dict[str, Any]) -> list[tuple[str, str]]:
    releases = doc["releases"]
    return [
        ("Verdict", doc["verdict"]),
        ("Range", doc["range"]),
        ("Head", doc["head"]),
        ("First-parent commits walked", str(doc["commits"])),
        ("Commits that changed governance files", str(doc["decided"])),
        (
            "Releases",
            f"{len(releases)} ({sum(r['verdict'] == 'pass' for r in releases)} passed "
            "every decision)",
        ),
        ("Findings", str(len(doc["findings"]))),
        ("Clock", doc["at"] or "each commit's committer time"),
        (
            "Decisions on unanchored dates",
            f"{doc.get('unanchored', 0)} (judged at a committer "
            "date no signed checkpoint bounds: a claim)",
        ),
        ("Generated", doc["generated_at"]),
        *_since(doc.get("since")),
    ]


def _since(since: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The row of an incremental audit: where it started and what it carried."""
    if not since:
        return []
    return [
        (
            "Incremental audit",
            f"only the commits after the checkpoint {since['checkpoint']} of "
            f"{since['commit'][:12]} ({since['created_at']}, signed by {since['reviewer']}) "
            f"were judged; its state (sha256 {since['state_sha256']}: "
            f"{since['commits']} earlier commits, {since['findings']} findings, "
            f"{len(since['releases'])} releases) is carried, not replayed",
        )
    ]


def _unanchored(decision: dict[str, Any]) -> str:
    """A mark for a decision whose clock is a committer date no checkpoint bounds."""
    if decision.get("clock", "committer") == "at" or decision.get("anchored_by"):
        return ""
    return ", unanchored date"


def _cell(text: Any) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def _markdown_table(columns: tuple[str, ...], rows: list[str], empty: str) -> list[str]:
    """A Markdown table of `rows` under `columns`, or the sentence `empty` when none."""
    if not rows:
        return [empty]
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *rows]


def render_markdown(doc: dict[str, Any]) -> str:
    lines = ["# Audit of the governance history", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in _summary(doc)]
    lines += ["", "## Findings", ""]
    lines += _markdown_table(
        ("commit", "kind", "release", "gate", "message"),
        [
            f"| `{f['commit'][:12]}` | {f['kind']} | {_cell(f['release'])} | "
            f"{_cell(f['gate'])} | {_cell(f['message'])} |"
            for f in doc["findings"]
        ],
        "None: every release that reached main passed the gate of its time.",
    )
    lines += ["", "## Releases", ""]
    for release in doc["releases"]:
        lines += [
            f"### {release['release']}: {release['verdict']}",
            "",
            f"Author: {_cell(release['author'])}. Decided at "
            + ", ".join(
                f"`{d['commit'][:12]}` ({d['time']}{_unanchored(d)}, {d['verdict']})"
                for d in release["decisions"]
            )
            + ".",
            "",
            "| approval | role | decision | key | carrier |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {a['reviewer']} | {a['role']} | {a['decision']} | "
            f"{_cell(a['fingerprint'] or 'not verified: ' + (a['problem'] or ''))} | "
            f"{_cell(a['carrier'])} |"
            for a in release["approvals"]
        ]
        lines += ["", "| input | sha256 |", "|---|---|"]
        lines += [f"| {_cell(k)} | `{v}` |" for k, v in release["inputs"].items()]
        lines.append("")
    lines += ["## Budgets over time", ""]
    lines += _markdown_table(
        ("source", "commit", "time", "entries", "spent epsilon", "cap epsilon"),
        [
            f"| {b['source']} | `{b['commit'][:12]}` | {b['time']} | {b['entries']} | "
            f"{_cell(b['spent'].get('epsilon'))} | {_cell(b['cap'].get('epsilon'))} |"
            for b in doc["budgets"]
        ],
        "No ledger changed in the range.",
    )
    lines += ["", "## Checkpoints", ""]
    lines += _markdown_table(
        ("file", "commit", "time", "signer", "status"),
        [
            f"| {c['path']} | `{c['commit'][:12]}` | {_cell(c['created_at'])} | "
            f"{_cell(c['reviewer'])} | {c['status']} |"
            for c in doc["checkpoints"]
        ],
        "No checkpoint recorded (`synthgov audit --checkpoint` records one).",
    )
    lines += [
        "",
        "## Regulatory evidence map",
        "",
        "Where this pack holds the evidence that data-governance reviews ask for "
        "(a finding aid, not a statement of conformity).",
        "",
        "| requirement | asks for | in this pack |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in REGULATORY]
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------------

#: Nothing is fetched: no script, no external stylesheet, font or image (same policy as the
#: catalog's pages, without `img-src`: the page has no image).
CSP = "default-src 'none'; style-src 'unsafe-inline'"
#: The page's colours: text, its backgrounds, and the badges' text on their fill. Every
#: foreground/background pair used is in `CONTRASTS`, each at WCAG AA (4.5:1) or above
#: (`tests/test_audit_page.py` computes the ratios).
INK, MUTED, PAPER, HEAD = "#1b1f24", "#57606a", "#ffffff", "#f6f8fa"
GOOD, BAD = "#1a7f37", "#cf222e"
#: Series colours of the budget chart; every series also has its own dash and marker.
PALETTE = ("#0969da", "#8250df", "#bc4c00", "#116329", "#953800", "#1b1f24")
CONTRASTS = (
    (INK, PAPER),
    (INK, HEAD),
    (MUTED, PAPER),
    (PAPER, GOOD),
    (PAPER, BAD),
    (GOOD, PAPER),
    (BAD, PAPER),
    *((colour, PAPER) for colour in PALETTE),
)
_CSS = f"""
body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:{INK};background:{PAPER};padding:0 1em}}
table{{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}}
caption{{text-align:left;font-weight:600;padding:.3em 0}}
th,td{{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}}
th{{background:{HEAD}}}tbody th{{font-weight:normal}}code{{font:12px ui-monospace,monospace;word-break:break-all}}
.badge{{display:inline-block;padding:0 .45em;border-radius:.3em;color:{PAPER};font-weight:600}}
.clean,.pass{{background:{GOOD}}}.findings,.blocked{{background:{BAD}}}
figure{{margin:1em 0 1.5em}}figcaption{{color:{MUTED};max-width:60em}}
svg.chart{{max-width:100%;height:auto;font-family:system-ui,sans-serif}}
@media print{{body{{margin:0;max-width:none}}.badge{{border:1px solid {INK}}}}}
"""
_MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")
#: Five dashes against six markers and colours: no two of the first thirty sources look alike.
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _badge(text: str) -> str:
    """A verdict: its word in a coloured box, so the colour never carries it alone."""
    return f'<span class="badge {_e(text)}">{_e(text)}</span>'


def _table(caption: str, head: list[str], rows: list[list[str]], empty: str = "") -> str:
    """A captioned table whose first column heads its row; cells are already escaped."""
    if not rows and empty:
        return f"<p>{escape(empty)}</p>"
    top = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>' + "".join(f"<td>{c}</td>" for c in row[1:]) + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{top}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _svg(label: str, width: int, height: int, parts: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(label)}</title>{''.join(parts)}</svg>"
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" fill="{INK}" '
        f'text-anchor="{anchor}"{extra}>{escape(text)}</text>'
    )


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    """A series' marker shape, so the lines differ by more than their colour."""
    r = 4.0
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    shapes = {
        "triangle": [(0, -r - 1), (r + 1, r), (-r - 1, r)],
        "diamond": [(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
        "cross": [(-r, -r), (r, r), (0, 0), (r, -r), (-r, r), (0, 0)],
        "bar": [(-r, -1.5), (r, -1.5), (r, 1.5), (-r, 1.5)],
    }
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in shapes[kind])
    if kind == "cross":
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{points}"/>'
    return f'<polygon fill="{colour}" points="{points}"/>'


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else _e(value)


def _step(most: int) -> int:
    """A whole-number tick step giving at most about four ticks up to `most`."""
    return max(1, -(-most // 4))


def _verdict_chart(doc: dict[str, Any], width: int = 720, height: int = 260) -> str:
    """Decisions per day (per month on a long history): passed above the axis, blocked
    below it, so the side of the axis says what a bar counts, not only its colour."""
    decisions = [(d["time"], d["verdict"]) for r in doc["releases"] for d in r["decisions"]]
    if not decisions:
        return "<p>No release was decided in the range.</p>"
    days = {time[:10] for time, _ in decisions}
    size, unit = (10, "day") if len(days) <= 40 else (7, "month")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for time, verdict in decisions:
        counts[time[:size]][verdict != "pass"] += 1
    buckets = sorted(counts)
    passed = sum(c[0] for c in counts.values())
    blocked = sum(c[1] for c in counts.values())
    left, right, top_pad, bottom_pad = 70, 150, 20, 62
    plot = height - top_pad - bottom_pad
    most_up, most_down = (max(c[i] for c in counts.values()) for i in (0, 1))
    step = _step(max(most_up, most_down))  # one step on both sides of the axis
    up = step * max(1, -(-most_up // step))
    down = step * max(1, -(-most_down // step))
    zero = top_pad + plot * up / (up + down)
    scale = plot / (up + down)
    slot = (width - left - right) / len(buckets)
    bar = max(min(slot * 0.7, 48), 1.0)
    parts = [
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot}" stroke="{INK}"/>',
    ]
    for tick in range(0, up + 1, step):
        y = zero - tick * scale
        parts.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="{INK}"/>'
        )
        parts.append(_text(left - 7, y + 4, str(tick), "end"))
    for tick in range(step, down + 1, step):
        y = zero + tick * scale
        parts.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="{INK}"/>'
        )
        parts.append(_text(left - 7, y + 4, str(tick), "end"))
    middle_up, middle_down = (top_pad + zero) / 2, (zero + top_pad + plot) / 2
    parts.append(
        _text(16, middle_up, "passed ▲", "middle", f' transform="rotate(-90 16 {middle_up:.1f})"')
    )
    parts.append(
        _text(
            16, middle_down, "blocked ▼", "middle", f' transform="rotate(-90 16 {middle_down:.1f})"'
        )
    )
    label_every = max(1, -(-len(buckets) // 8))
    for i, bucket in enumerate(buckets):
        x = left + slot * i + (slot - bar) / 2
        ok, no = counts[bucket]
        if ok:
            parts.append(
                f'<rect x="{x:.1f}" y="{zero - ok * scale:.1f}" width="{bar:.1f}" '
                f'height="{ok * scale:.1f}" fill="{GOOD}"><title>{escape(bucket)}: {ok} '
                "passed</title></rect>"
            )
        if no:
            parts.append(
                f'<rect x="{x:.1f}" y="{zero:.1f}" width="{bar:.1f}" height="{no * scale:.1f}" '
                f'fill="{BAD}"><title>{escape(bucket)}: {no} blocked</title></rect>'
            )
        if ok and bar >= 12:  # the count at the end of its bar
            parts.append(_text(x + bar / 2, zero - ok * scale - 4, str(ok), "middle"))
        if no and bar >= 12:
            parts.append(_text(x + bar / 2, zero + no * scale + 14, str(no), "middle"))
        if i % label_every == 0 or i == len(buckets) - 1:
            parts.append(_text(x + bar / 2, top_pad + plot + 30, bucket, "middle"))
    parts.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="{INK}"/>'
    )
    parts.append(
        _text(
            left + (width - left - right) / 2,
            height - 8,
            f"{unit} of the decision (commit time; {unit}s without a decision left out)",
            "middle",
        )
    )
    legend_x = width - right + 16
    parts += [
        _text(legend_x, top_pad + 10, "decisions"),
        f'<rect x="{legend_x}" y="{top_pad + 20}" width="12" height="12" fill="{GOOD}"/>',
        _text(legend_x + 18, top_pad + 31, f"passed: {passed}"),
        f'<rect x="{legend_x}" y="{top_pad + 40}" width="12" height="12" fill="{BAD}"/>',
        _text(legend_x + 18, top_pad + 51, f"blocked: {blocked}"),
    ]
    if not blocked:
        parts.append(_text(left + 8, zero + 18, "no decision blocked"))
    svg = _svg(f"Decisions per {unit}: {passed} passed, {blocked} blocked", width, height, parts)
    caption = (
        f"Number of release decisions per {unit} of the commit that made them: "
        f"{passed} passed (green bars above the axis), {blocked} blocked (red bars below "
        "it). Each release's decisions are listed under Releases."
    )
    return _figure(svg, escape(caption))


def _budget_chart(doc: dict[str, Any], width: int = 720, height: int = 280) -> str:
    """Share of the cap spent per source after each ledger change, one line each, in the
    order of the history; each source has its own colour, dash and marker."""
    points = doc["budgets"]
    if not points:
        return "<p>No ledger changed in the range.</p>"
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    last: dict[str, tuple[str, Any, Any, int, str]] = {}
    for step, point in enumerate(points):
        figure = "rho" if point["cap"].get("rho") else "epsilon"
        cap, spent = point["cap"].get(figure), point["spent"].get(figure)
        share = 1.0 if spent is None else (spent / cap if cap else 0.0)
        series[point["source"]].append((step, share))
        last[point["source"]] = (figure, spent, cap, point["entries"], point["time"])
    left, right, top_pad, bottom_pad = 70, 170, 16, 48
    height = max(height, top_pad + 28 + 20 * len(series) + bottom_pad)  # room for the legend
    steps = len(points)
    top = max([1.0, *(share for line in series.values() for _, share in line)])
    top = -(-top * 4 // 1) / 4  # up to the next quarter

    def x(step: int) -> float:
        return left + 10 + (width - left - right - 20) * (step / max(steps - 1, 1))

    def y(share: float) -> float:
        return height - bottom_pad - (height - top_pad - bottom_pad) * (share / top)

    base = height - bottom_pad
    parts = [
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{base}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{y(1):.1f}" x2="{width - right}" y2="{y(1):.1f}" '
        f'stroke="{BAD}" stroke-dasharray="4 3"/>',
        _text(left + 4, y(1) - 5, "cap (100%)"),
    ]
    for i in range(int(top * 4) + 1):
        share = i / 4
        parts.append(
            f'<line x1="{left - 4}" y1="{y(share):.1f}" x2="{left}" y2="{y(share):.1f}" stroke="{INK}"/>'
        )
        parts.append(_text(left - 7, y(share) + 4, f"{share:.0%}", "end"))
    middle = (top_pad + base) / 2
    parts.append(
        _text(
            16,
            middle,
            "share of the cap spent",
            "middle",
            f' transform="rotate(-90 16 {middle:.1f})"',
        )
    )
    for step in sorted({0, steps - 1}):
        parts.append(
            f'<line x1="{x(step):.1f}" y1="{base}" x2="{x(step):.1f}" y2="{base + 4}" stroke="{INK}"/>'
        )
        anchor = "start" if step == 0 and steps > 1 else ("end" if steps > 1 else "middle")
        parts.append(_text(x(step), base + 17, points[step]["time"][:10], anchor))
    parts.append(
        _text(
            left + (width - left - right) / 2,
            height - 8,
            f"ledger changes in history order, oldest to newest ({steps} in all)",
            "middle",
        )
    )
    legend_x = width - right + 16
    parts.append(_text(legend_x, top_pad + 10, "source (ledger)"))
    summary = []
    for i, (source, line) in enumerate(sorted(series.items())):
        colour = PALETTE[i % len(PALETTE)]
        marker, dash = _MARKERS[i % len(_MARKERS)], _DASHES[i % len(_DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{x(s):.1f},{y(share):.1f}" for s, share in line)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dashed} points="{coords}">'
            f"<title>{escape(source)}</title></polyline>"
        )
        for s, share in line:
            parts.append(_marker(marker, x(s), y(share), colour))
        row = top_pad + 28 + 20 * i
        parts.append(
            f'<line x1="{legend_x}" y1="{row - 4}" x2="{legend_x + 24}" y2="{row - 4}" '
            f'stroke="{colour}" stroke-width="2"{dashed}/>'
        )
        parts.append(_marker(marker, legend_x + 12, row - 4, colour))
        parts.append(_text(legend_x + 30, row, source))
        figure, spent, cap, entries, time = last[source]
        symbol = "ρ" if figure == "rho" else "ε"
        summary.append(
            f"{source}: {line[-1][1]:.0%} of the {symbol} cap spent ({_number(spent)} of {_number(cap)}, "
            f"{entries} ledger entr{'y' if entries == 1 else 'ies'}) at {time}"
        )
    svg = _svg("Privacy budget spent per source, as a share of its cap", width, height, parts)
    caption = (
        "Share of each source's privacy-budget cap spent after each commit that changed its "
        "ledger (ε, or ρ when the cap is in ρ); the dashed red line is the cap. Each source "
        "has its own colour, dash and marker. Last values: " + "; ".join(summary) + "."
    )
    return _figure(svg, escape(caption))


def render_html(doc: dict[str, Any]) -> str:
    verdict = doc["verdict"]
    body = [
        f"<h1>Audit of the governance history: {_badge(verdict)}</h1>",
        _table("Summary", ["item", "value"], [[_e(k), _e(v)] for k, v in _summary(doc)]),
        "<h2>Findings</h2>",
        _table(
            "Findings, each at the first-parent commit it happened",
            ["commit", "kind", "release", "gate", "message"],
            [
                [
                    f"<code>{_e(f['commit'][:12])}</code>",
                    _e(f["kind"]),
                    _e(f["release"]),
                    _e(f["gate"]),
                    _e(f["message"]),
                ]
                for f in doc["findings"]
            ],
            "None: every release that reached main passed the gate of its time.",
        ),
        "<h2>Verdicts over time</h2>",
        _verdict_chart(doc),
        "<h2>Budget spent per source over time</h2>",
        _budget_chart(doc),
        "<h2>Releases</h2>",
    ]
    if not doc["releases"]:
        body.append("<p>No release was decided in the range.</p>")
    for release in doc["releases"]:
        name = release["release"]
        body.append(f"<h3>{_e(name)}: {_badge(release['verdict'])}</h3>")
        body.append(f"<p>Author: {_e(release['author'])}</p>")
        body.append(
            _table(
                f"Decisions on {name}",
                ["commit", "time", "verdict", "blocking findings"],
                [
                    [
                        f"<code>{_e(d['commit'][:12])}</code>",
                        _e(d["time"] + _unanchored(d)),
                        _badge(d["verdict"]),
                        _e("; ".join(f["rule"] for f in d["findings"] if f["severity"] == "error")),
                    ]
                    for d in release["decisions"]
                ],
            )
        )
        body.append(
            _table(
                f"Approvals of {name}",
                ["reviewer", "role", "decision", "key fingerprint", "carrier"],
                [
                    [
                        _e(a["reviewer"]),
                        _e(a["role"]),
                        _e(a["decision"]),
                        _e(a["fingerprint"] or f"not verified: {a['problem']}"),
                        _e(a["carrier"]),
                    ]
                    for a in release["approvals"]
                ],
                f"No approval of {name}.",
            )
        )
        body.append(
            _table(
                f"Inputs of {name} and their sha256",
                ["input", "sha256"],
                [[_e(k), f"<code>{_e(v)}</code>"] for k, v in release["inputs"].items()],
                f"No input recorded for {name}.",
            )
        )
    body.append("<h2>Checkpoints</h2>")
    body.append(
        _table(
            "Signed checkpoints of main's history",
            ["file", "commit", "time", "signer", "status"],
            [
                [
                    _e(c["path"]),
                    f"<code>{_e(c['commit'][:12])}</code>",
                    _e(c["created_at"]),
                    _e(c["reviewer"]),
                    _e(c["status"]),
                ]
                for c in doc["checkpoints"]
            ],
            "No checkpoint recorded (synthgov audit --checkpoint records one).",
        )
    )
    body.append(
        "<h2>Regulatory evidence map</h2><p>Where this pack holds the evidence that "
        "data-governance reviews ask for (a finding aid, not a statement of "
        "conformity).</p>"
    )
    body.append(
        _table(
            "Regulatory evidence map",
            ["requirement", "asks for", "in this pack"],
            [[_e(a), _e(b), _e(c)] for a, b, c in REGULATORY],
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>synthgov audit</title>"
        f"<style>{_CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )
