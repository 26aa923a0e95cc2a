"""The static HTML catalog for consumers: an index and one page per dataset (pure: `render`
returns file names and bytes; `synthgov.commands.catalog` writes them).

Self-contained on purpose: inline CSS, inline SVG metric bars, no JavaScript, no fonts,
images or links outside the catalog, and a Content-Security-Policy that forbids loading
anything, so a page opened from a file share or an artifact store shows exactly what was
rendered. Output is deterministic for the same repository state and day.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from html import escape
from typing import Any

from synthgov import inventory
from synthgov.budget import tuning
from synthgov.budget.accounting import figure_text
from synthgov.decision.expiry import Notice
from synthgov.decision.findings import Judged
from synthgov.files.layout import Release
from synthgov.inventory import DatasetState, ReleaseState, Score
from synthgov.models import Manifest
from synthgov.models.common import format_timestamp

GENERATOR = "synthgov catalog"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f6f6f8}code{font:13px ui-monospace,monospace;word-break:break-all}
.badge{display:inline-block;padding:0 .5rem;border-radius:.6rem;font-size:.85rem;color:#fff}
.current{background:#1a7f37}.approved{background:#3565c2}.pending{background:#9a6700}.revoked{background:#cf222e}.withdrawn{background:#a40e26}
.pass{color:#1a7f37}.fail{color:#cf222e}.waived{color:#7a5200}.muted{color:#666}section.release{border:1px solid #ddd;border-radius:.4rem;padding:0 1rem 1rem;margin:1rem 0}
nav{margin-bottom:1rem}.notice{border:1px solid #9a6700;background:#fff8e5;border-radius:.4rem;padding:0 1rem;margin:1rem 0}
"""
BAR_WIDTH, BAR_HEIGHT = 160, 12


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _g(value: float | None) -> str:
    """A measured value; "—" when the report has none."""
    return "—" if value is None else f"{value:.4g}"


def _page(title: str, body: str, root: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<nav><a href="{root}index.html">Synthetic-data catalog</a></nav>\n'
        f"{body}\n</body>\n</html>\n"
    ).encode()


def _state(release: ReleaseState, current: ReleaseState | None) -> str:
    if release.is_revoked:
        return "revoked"
    if release.is_withdrawn:
        return "withdrawn"
    if current is not None and release.release == current.release:
        return "current"
    return "approved" if release.verdict == "pass" else "pending"


def _badge(state: str) -> str:
    return f'<span class="badge {state}">{state}</span>'


def page_of(dataset: str) -> str:
    return f"datasets/{dataset}.html"


def report_page_of(release: ReleaseState) -> str:
    """The release report page, beside its dataset's page (`datasets/claims@2026.1.html`)."""
    return f"datasets/{release.release}.html"


def report_pages(states: list[DatasetState], min_cell_count: int = 10) -> dict[str, bytes]:
    """Every release's report page, drawn from its report.json (`reporting.release_report`)
    with no cell under the base policy's `min_cell_count`, whatever the report declares."""
    from synthgov.reporting.release_report import render as release_report

    return {
        report_page_of(release): release_report(
            release.report,
            scorecard=[s.judged for s in release.scores],
            min_cell_count=min_cell_count,
            title=f"Release report: {release.release}",
            back=(f"{Release.of(release.release).dataset}.html#{anchor(release)}", release.release),
        ).encode()
        for state in states
        for release in state.releases
        if release.report is not None
    }


def anchor(release: ReleaseState) -> str:
    return f"release-{release.version}"


def bar(judged: Judged, upper: float | None, fill: str, said: str | None = None) -> str:
    """An inline SVG: the value as a filled bar, the interval as a thin line, the
    threshold as a vertical line."""
    values = [
        v for v in (judged.value, judged.threshold, *(judged.interval or ())) if v is not None
    ]
    scale = upper if upper is not None else max([*values, 1e-9]) * 1.25
    scale = max(scale, *values) if values else scale

    def x(value: float) -> float:
        return round(min(max(value / scale, 0.0), 1.0) * BAR_WIDTH, 1) if scale > 0 else 0.0

    label = (
        f"{judged.metric} {_g(judged.value)}, bound {_g(judged.bound)}, "
        f"threshold {judged.op} {judged.threshold:g}, {said or judged.decision}"
    )
    observed = (
        f'<rect x="0" y="2" width="{x(judged.value)}" height="{BAR_HEIGHT - 4}" fill="{fill}"/>'
        if judged.value is not None
        else ""
    )
    if judged.interval is not None:
        low, high = judged.interval
        observed += (
            f'<line x1="{x(low)}" x2="{x(high)}" y1="{BAR_HEIGHT / 2}" y2="{BAR_HEIGHT / 2}" '
            'stroke="#555" stroke-width="2"/>'
        )
    at = x(judged.threshold)
    return (
        f'<svg role="img" aria-label="{_e(label)}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
        f'viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}">'
        f"<title>{_e(label)}</title>"
        f'<rect x="0" y="2" width="{BAR_WIDTH}" height="{BAR_HEIGHT - 4}" fill="#eee"/>'
        f'{observed}<line x1="{at}" x2="{at}" y1="0" y2="{BAR_HEIGHT}" stroke="#000" '
        f'stroke-width="2"/></svg>'
    )


_FILLS = {"pass": "#1a7f37", "waived": "#9a6700", "fail": "#cf222e", "muted": "#888"}


def _result_class(score: Score) -> str:
    if score.passed:
        return "pass"
    return "waived" if score.waived_until is not None else "fail"


def _condition_row(
    rule: str,
    judged: Judged,
    upper: float | None,
    klass: str,
    result: str,
    enforcement: str,
    fill: str | None = None,
) -> str:
    """One condition's row; `klass` colours the verdict (pass, waived, fail, muted: a
    condition that did not decide) and the bar, unless `fill` is given."""
    where = f' <span class="muted">({_e(judged.where)})</span>' if judged.where else ""
    bound = "—" if judged.interval is None else _g(judged.bound)
    margin = f"{judged.margin:g}" if judged.margin else "—"
    return (
        f"<tr><td>{rule}</td><td><code>{_e(judged.metric)}</code>{where}</td>"
        f"<td>{_g(judged.value)}</td><td>{bound}</td>"
        f"<td>{_e(judged.op)} {judged.threshold:g}</td><td>{margin}</td>"
        f"<td>{bar(judged, upper, fill or _FILLS[klass], result)}</td>"
        f'<td class="{klass}">{_e(result)}</td><td>{_e(enforcement)}</td></tr>'
    )


def _scorecard(release: ReleaseState) -> str:
    if not release.scores:
        return '<p class="muted">No scorecard: the release could not be evaluated.</p>'
    rows = []
    for s in release.scores:
        j = s.judged
        klass = _result_class(s)
        rows.append(
            _condition_row(
                f"<code>{_e(s.rule)}</code>",
                j.primary,
                j.upper,
                klass,
                s.result,
                j.enforcement,
                _FILLS["muted"] if j.by_alternative else None,  # the primary did not decide
            )
        )
        if j.alternative is not None:
            alt = j.alternative
            said = f"{alt.decision} (decided)" if j.by_alternative else alt.decision
            klass = "pass" if alt.decision == "pass" else "muted"
            rows.append(_condition_row("↳ or", alt, None, klass, said, ""))
    return (
        "<table><tr><th>rule</th><th>metric</th><th>value</th><th>bound used</th>"
        "<th>threshold</th><th>margin</th><th></th><th>result</th><th>enforcement</th></tr>"
        + "".join(rows)
        + "</table>"
        '<p class="muted">The value is the estimate; the bound is the end of its interval '
        "(at the policy's confidence) that the decision compared with the threshold. A rule "
        "with an alternative passes when either condition does.</p>"
    )


def _approvals(release: ReleaseState) -> str:
    needs = ", ".join(f"{n} {_e(role)}" for role, n in sorted(release.required.items()))
    head = f"<p>Required by the tier: {needs or 'nothing'}.</p>"
    if not release.approvals:
        return head + '<p class="muted">No approval counts yet.</p>'
    rows = "".join(
        f"<tr><td>{_e(a.reviewer)}</td><td>{_e(a.role)}</td><td>{_e(a.decision)}</td>"
        f"<td>{_e(format_timestamp(a.signed_at))}</td><td><code>{_e(a.fingerprint)}</code></td>"
        f"<td>{_e(a.carrier)}</td></tr>"
        for a in release.approvals
    )
    return (
        head + "<table><tr><th>reviewer</th><th>role</th><th>decision</th><th>signed at</th>"
        "<th>verifying key</th><th>signature</th></tr>" + rows + "</table>"
    )


def _lineage(release: ReleaseState, earlier: list[ReleaseState]) -> str:
    m = release.manifest
    if m is None:
        return '<p class="muted">The manifest does not load.</p>'
    params = ", ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(m.generator.parameters.items()))
    privacy = m.privacy
    figures = ", ".join(
        f"{k} {getattr(privacy, k)}"
        for k in ("epsilon", "delta", "rho")
        if getattr(privacy, k) is not None
    )
    previous = (
        ", ".join(f'<a href="#{_e(anchor(r))}">{_e(r.release)}</a>' for r in earlier) or "none"
    )
    rows = [
        (
            "source snapshot",
            f"{_e(m.source.id)} / {_e(m.source.snapshot.id)} <code>sha256:{_e(m.source.snapshot.sha256)}</code>",
        ),
        (
            "generator",
            f"{_e(m.generator.name)} {_e(m.generator.version)}; seed {m.generator.seed}; {params or 'no parameters'}",
        ),
        ("code commit", f"<code>{_e(m.generator.code_commit or 'not recorded')}</code>"),
        ("artifact", _artifact(m)),
        (
            "privacy",
            f"{_e(privacy.mechanism)} ({_e(privacy.notion)}{', ' + _e(figures) if figures else ''})",
        ),
        ("tuning runs", "<br>".join(_e(line) for line in tuning.lines(privacy.tuning))),
        ("author, created", f"{_e(m.author)}, {_e(format_timestamp(m.created_at))}"),
        ("previous releases", previous),
    ]
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _artifact(m: Manifest) -> str:
    """Where the artifact lives, only when that is not a path on the author's machine."""
    location = inventory.published_location(m.artifact.location)
    where = (
        f"<code>{_e(location)}</code>"
        if location
        else '<span class="muted">location not published (a local path)</span>'
    )
    return f"{where}, {m.artifact.rows} rows, <code>sha256:{_e(m.artifact.sha256)}</code>"


def _judged(release: ReleaseState) -> str:
    """On what the verdict rests: the audit's decision at the merge, or the gate's now."""
    if release.judged_at is None:
        return ""
    if release.merge_commit is None:  # the day only: the catalog is the same all day
        return (
            '<p class="muted">Not merged yet: judged as the gate would judge it on '
            f"{release.judged_at:%Y-%m-%d}.</p>"
        )
    when = format_timestamp(release.judged_at)
    return (
        f'<p class="muted">Judged as the audit judges it, at its merge commit '
        f"<code>{_e(release.merge_commit[:12])}</code> ({when}).</p>"
    )


def _withdrawal(release: ReleaseState, earlier: list[ReleaseState]) -> str:
    """Why, since when, and what replaces a withdrawn release (`earlier`: newest first)."""
    found = release.withdrawal
    if found is None:
        return ""
    replaced_by = next((r for r in earlier if r.is_approved), None)
    when = f" on {found.at:%Y-%m-%d}" if found.at else ""
    use = (
        f'<a href="#{_e(anchor(replaced_by))}">{_e(replaced_by.release)}</a>'
        if replaced_by
        else "none"
    )
    why = "" if found.cause == "revoked" else f" ({_e(found.cause)}): {_e(found.reason)}"
    return f'<p class="fail">Withdrawn{when}{why}. Fallback: {use}.</p>'


def _release(
    release: ReleaseState, current: ReleaseState | None, earlier: list[ReleaseState]
) -> str:
    state = _state(release, current)
    parts = [
        f'<section class="release" id="{_e(anchor(release))}">',
        f"<h3>{_e(release.release)} {_badge(state)}</h3>",
    ]
    if release.is_revoked:
        info = inventory.revocation_summary(release)
        kind = f"{_e(info['incident_class'])} incident: " if info["incident_class"] else ""
        parts.append(f'<p class="fail">Revoked — {kind}{_e(info["reason"])}</p>')
    parts.append(_withdrawal(release, earlier))
    parts.append(_judged(release))
    if release.blocking:
        rules = ", ".join(f"<code>{_e(r)}</code>" for r in release.blocking)
        parts.append(f"<p>Blocked by: {rules}</p>")
    if release.report is not None:
        parts.append(
            f'<p><a href="{_e(report_page_of(release).removeprefix("datasets/"))}">Release '
            "report</a>: column distributions, associations, detection, DCR, attacks and "
            "subgroups, drawn from the release's report.json.</p>"
        )
    parts += [
        "<h4>Scorecard</h4>",
        _scorecard(release),
        "<h4>Lineage</h4>",
        _lineage(release, earlier),
        "<h4>Approvals</h4>",
        _approvals(release),
        "</section>",
    ]
    return "\n".join(parts)


def _budget(budget: dict[str, Any] | None) -> str:
    if budget is None:
        return '<p class="muted">No privacy-budget ledger for this source.</p>'
    figure = "rho" if budget["notion"] == "zcdp" else "epsilon"
    cap, spent = budget["cap"][figure], budget["spent"][figure]
    share = 1.0 if spent is None or not cap else min(max(spent / cap, 0.0), 1.0)
    width = round(share * BAR_WIDTH * 2, 1)
    label = f"{figure} {figure_text(spent)} of {figure_text(cap)} spent"
    svg = (
        f'<svg role="img" aria-label="{_e(label)}" width="{BAR_WIDTH * 2}" height="{BAR_HEIGHT}" '
        f"><title>{_e(label)}</title>"
        f'<rect width="{BAR_WIDTH * 2}" height="{BAR_HEIGHT}" fill="#eee"/>'
        f'<rect width="{width}" height="{BAR_HEIGHT}" fill="{"#cf222e" if share >= 1 else "#3565c2"}"/></svg>'
    )
    rows = "".join(
        f"<tr><th>{k}</th><td>{figure_text(budget['cap'].get(k))}</td>"
        f"<td>{figure_text(budget['spent'].get(k))}</td>"
        f"<td>{figure_text(budget['remaining'].get(k))}</td></tr>"
        for k in ("epsilon", "delta", "rho")
        if k in budget["cap"]
    )
    return (
        f"<p>Ledger <code>budgets/{_e(budget['source'])}.yaml</code> ({_e(budget['notion'])}, "
        f"{budget['entries']} debits). {svg} {_e(label)}</p>"
        f"<table><tr><th></th><th>cap</th><th>spent</th><th>remaining</th></tr>{rows}</table>"
    )


def _card(state: DatasetState) -> str:
    card = state.card
    if card is None:
        return '<p class="fail">The card does not load at HEAD.</p>'

    def items(values: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{_e(v)}</li>" for v in values) + "</ul>" if values else "none"

    rows = [
        ("description", _e(card.description)),
        ("owner", _e(card.owner)),
        ("classification", _e(card.classification.value)),
        ("source", f"{_e(card.source.id)} (privacy unit: {_e(card.source.privacy_unit)})"),
        ("intended uses", items(card.intended_uses)),
        ("prohibited uses", items(card.prohibited_uses)),
        ("limitations", items(card.limitations)),
        ("retention", f"{card.retention_days} days" if card.retention_days else "not set"),
        ("access groups", _e(", ".join(card.access_groups)) or "none"),
        (
            "revalidation",
            f"every {card.revalidation_days} days" if card.revalidation_days else "not scheduled",
        ),
        ("target", _e(card.target.column) if card.target else "none"),
    ]
    columns = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td>{_e(c.type.value)}</td>"
        f"<td>{'yes' if c.nullable else 'no'}</td></tr>"
        for c in card.columns
    )
    return (
        "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"
        "<h3>Columns</h3><table><tr><th>name</th><th>type</th><th>nullable</th></tr>"
        + columns
        + "</table>"
    )


def notices_of(state: DatasetState, notices: list[Notice]) -> list[Notice]:
    """The notices that concern a dataset: its releases' waivers, and the keys that verified
    an approval counted for one of its approved releases."""
    mine = {r.release for r in state.releases}
    signers = {a.fingerprint for r in state.releases if r.is_approved for a in r.approvals}
    return [
        n
        for n in notices
        if (n.kind == "waiver" and n.release in mine)
        or (n.kind == "key" and n.fingerprint in signers)
    ]


def _notices(notices: list[Notice]) -> str:
    if not notices:
        return ""
    items = "".join(f"<li>{_e(n.message)}</li>" for n in notices)
    return (
        '<div class="notice" role="note"><p><strong>Expiring soon</strong> (a warning: nothing '
        "has changed yet)</p><ul>" + items + "</ul></div>"
    )


def _newest_first(state: DatasetState) -> list[ReleaseState]:
    def key(r: ReleaseState) -> tuple[str, str]:
        return (format_timestamp(r.created_at) if r.created_at else "", r.version)

    return sorted(state.releases, key=key, reverse=True)


def dataset_page(state: DatasetState, today: date, notices: list[Notice] | None = None) -> bytes:
    current = inventory.current(state)
    title = state.card.title if state.card else state.dataset
    ordered = _newest_first(state)
    due = inventory.next_revalidation(state)
    if current is None:
        using = '<p class="fail">No approved release: do not use any release of this dataset.</p>'
    else:
        using = (
            f'<p>Use <a href="#{_e(anchor(current))}"><strong>{_e(current.release)}</strong></a> '
            f"{_badge('current')}</p>"
        )
    if due is not None:
        late = ' <span class="fail">overdue</span>' if inventory.is_overdue(due, today) else ""
        using += f"<p>Next revalidation: {due.isoformat()}{late}</p>"
    taken = [inventory.withdrawal_summary(state, r) for r in inventory.withdrawn(state)]
    if taken:
        using += (
            "<p>Withdrawn:</p><ul>"
            + "".join(
                f"<li>{_e(t['release'])}: {_e(t['cause'])}"
                f"{' on ' + _e(t['at'][:10]) if t['at'] else ''} ({_e(t['reason'])}); "
                f"fallback {_e(t['fallback'] or 'none')}</li>"
                for t in taken
            )
            + "</ul>"
        )
    problems = "".join(f'<p class="fail">{_e(p)}</p>' for p in state.problems)
    sections = [
        _release(r, current, [e for e in ordered[i + 1 :]]) for i, r in enumerate(ordered)
    ] or ['<p class="muted">No releases.</p>']
    body = "\n".join(
        [
            f"<h1>{_e(title)} <code>{_e(state.dataset)}</code></h1>",
            problems,
            '<h2 id="current">Current release</h2>',
            using,
            _notices(notices_of(state, notices or [])),
            '<h2 id="card">Dataset card</h2>',
            _card(state),
            '<h2 id="budget">Privacy budget</h2>',
            _budget(state.budget),
            '<h2 id="releases">Releases</h2>',
            *sections,
        ]
    )
    return _page(f"{title} — synthetic-data catalog", body, "../")


def index_page(
    states: list[DatasetState], head: str, today: date, notices: list[Notice] | None = None
) -> bytes:
    rows = []
    for state in states:
        entry = inventory.summary(state)
        current = inventory.current(state)
        page = page_of(state.dataset)
        using = (
            f'<a href="{_e(page)}#{_e(anchor(current))}">{_e(current.release)}</a>'
            if current
            else '<span class="fail">none approved</span>'
        )
        due = entry["next_revalidation"] or "—"
        budget = entry["budget"]
        left = "—"
        if budget is not None:
            figure = "rho" if budget["notion"] == "zcdp" else "epsilon"
            left = f"{figure} {figure_text(budget['remaining'][figure])} of {figure_text(budget['cap'][figure])}"
        rows.append(
            f'<tr><td><a href="{_e(page)}"><code>{_e(state.dataset)}</code></a></td>'
            f"<td>{_e(entry['title'])}</td><td>{_e(entry['classification'])}</td>"
            f"<td>{_e(entry['owner'])}</td><td>{using}</td><td>{len(entry['pending'])}</td>"
            f"<td>{len(entry['withdrawn'])}</td><td>{_e(left)}</td><td>{_e(due)}</td></tr>"
        )
    table = (
        (
            "<table><tr><th>dataset</th><th>title</th><th>classification</th><th>owner</th>"
            "<th>current release</th><th>pending</th>"
            "<th>withdrawn</th><th>budget left</th>"
            "<th>next revalidation</th></tr>" + "".join(rows) + "</table>"
            '<p class="muted">Withdrawn counts every release taken away: revoked, failed '
            "its revalidation, or passed through a waiver that has expired.</p>"
        )
        if rows
        else "<p>No datasets.</p>"
    )
    body = (
        f'<h1>Synthetic-data catalog</h1>\n<p class="muted">Repository state <code>{_e(head)}</code>, '
        f"judged on {today.isoformat()}. Use only a dataset's current release.</p>\n"
        f"{_notices(notices or [])}\n"
        f'{table}\n<p class="muted">Machine-readable: <a href="catalog.json">catalog.json</a>.</p>'
    )
    return _page("Synthetic-data catalog", body, "")


def _release_json(release: ReleaseState, current: ReleaseState | None) -> dict[str, Any]:
    m = release.manifest
    return {
        "release": release.release,
        "version": release.version,
        "state": _state(release, current),
        "verdict": release.verdict,
        "blocking": list(release.blocking),
        "created_at": format_timestamp(m.created_at) if m else None,
        "revocation": inventory.revocation_summary(release) if release.is_revoked else None,
        "withdrawal": release.withdrawal.as_json() if release.withdrawal else None,
        "judged": {
            "as": "merged" if release.merge_commit else "now",
            "commit": release.merge_commit,
            "at": _judged_at(release),
        },
        "artifact": {
            "location": inventory.published_location(m.artifact.location),
            "sha256": m.artifact.sha256,
            "rows": m.artifact.rows,
        }
        if m
        else None,
        "page": f"{page_of(Release.of(release.release).dataset)}#{anchor(release)}",
        "scorecard": [
            {
                "rule": s.rule,
                "metric": s.judged.primary.metric,
                "observed": s.judged.primary.value,
                "bound": s.judged.primary.bound,
                "op": s.judged.primary.op,
                "threshold": s.judged.primary.threshold,
                "margin": s.judged.primary.margin,
                "interval": _interval(s.judged.primary),
                "passed": s.passed,
                "decision": s.judged.decision,
                "result": s.result,
                "by_alternative": s.judged.by_alternative,
                "decided_by": s.judged.decided.metric,
                "alternative": _condition_json(s.judged.alternative),
                "waived_until": format_timestamp(s.waived_until) if s.waived_until else None,
            }
            for s in release.scores
        ],
        "approvals": [
            {
                "reviewer": a.reviewer,
                "role": a.role,
                "decision": a.decision,
                "signed_at": format_timestamp(a.signed_at),
                "fingerprint": a.fingerprint,
            }
            for a in release.approvals
        ],
    }


def _judged_at(release: ReleaseState) -> str | None:
    """The merge decision's time, or the day a release not merged yet was judged."""
    if release.judged_at is None:
        return None
    if release.merge_commit is None:
        return release.judged_at.date().isoformat()
    return format_timestamp(release.judged_at)


def _interval(judged: Judged) -> list[float] | None:
    return list(judged.interval) if judged.interval is not None else None


def _condition_json(judged: Judged | None) -> dict[str, Any] | None:
    if judged is None:
        return None
    return {
        "metric": judged.metric,
        "observed": judged.value,
        "bound": judged.bound,
        "op": judged.op,
        "threshold": judged.threshold,
        "margin": judged.margin,
        "interval": _interval(judged),
        "decision": judged.decision,
    }


def render(
    states: list[DatasetState],
    base: str,
    head: str,
    now: datetime,
    notices: list[Notice] | None = None,
    min_cell_count: int = 10,
) -> dict[str, bytes]:
    """Every file of the catalog: relative path -> bytes; `notices`: what expires soon;
    `min_cell_count`: the base policy's smallest count a release page may show."""
    today, notices = now.date(), notices or []
    files = {page_of(s.dataset): dataset_page(s, today, notices) for s in states}
    files.update(report_pages(states, min_cell_count))
    files["index.html"] = index_page(states, head, today, notices)
    datasets = []
    for state in states:
        current = inventory.current(state)
        entry = inventory.summary(state)
        entry["page"] = page_of(state.dataset)
        entry["releases"] = [_release_json(r, current) for r in _newest_first(state)]
        entry["notices"] = [n.as_json() for n in notices_of(state, notices)]
        datasets.append(entry)
    names = sorted([*files, "catalog.json"])
    catalog = {
        "generator": GENERATOR,
        "schema_version": 1,
        "base": base,
        "head": head,
        "date": today.isoformat(),
        "files": names,
        "datasets": datasets,
        "notices": [n.as_json() for n in notices],
    }
    files["catalog.json"] = (json.dumps(catalog, indent=2) + "\n").encode()
    return dict(sorted(files.items()))
