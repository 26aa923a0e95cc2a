"""The release report's figures: small inline SVG written by hand from report.json's aggregates.

Grouped bars and one heatmap need no plotting library: writing the few hundred elements
directly costs well under a millisecond a figure, where matplotlib took over a second a
page, which a catalog of ten thousand releases cannot afford. Every figure keeps what a
reader needs: a title, labelled axes with ticks, a legend or colour key, `role="img"` with
an `aria-label`, a `<title>` per mark (the value, for a pointer or a screen reader), text
as `<text>` (searchable), colours with at least 4.5:1 contrast against white and a hatch
that tells the sides apart in grey print. The same aggregates give the same bytes, up to
the ids, which are numbered so several figures can share one page.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from html import escape

#: colour-blind-safe pair, each at least 4.5:1 against white (WCAG AA for text and marks)
COLOURS = {"real": "#1d5fa6", "synthetic": "#b3490b", "holdout": "#1d5fa6"}
HATCHES = {"real": "", "synthetic": "//", "holdout": ""}
NAMES = {"real": "real (train)", "synthetic": "synthetic", "holdout": "holdout (fresh rows)"}
INK, GRID, BLANK = "#1d1d1f", "#dddddd", "#f2f2f2"
#: ColorBrewer RdBu, reversed: blue for less association in the synthetic table, red for more
DIVERGING = (
    "#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
    "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f",
)  # fmt: skip
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'
_counter = itertools.count(1)


def restart_ids() -> None:
    """Number the figures' pattern ids from 1 again, at the start of a page: ids need only
    be unique within a page, and a page drawn twice must be the same bytes (`check`
    compares a committed report page with the one it draws: `gates/report_page`)."""
    global _counter  # one page at a time: the CLI draws in one thread
    _counter = itertools.count(1)


def available() -> bool:
    """Whether figures can be drawn: always, they need no plotting library any more."""
    return True


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros (short, stable bytes)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text(
    x: float, y: float, text: str, *, size: float = 10, anchor: str = "start", extra: str = ""
) -> str:
    sized = "" if size == 10 else f' font-size="{_n(size)}"'
    anchored = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{_n(x)}" y="{_n(y)}"{sized}{anchored}{extra}>{_e(text)}</text>'


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg role="img" aria-label="{_e(label)}" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" {FONT} font-size="10" fill="{INK}">'
        + "".join(body)
        + "</svg>"
    )


def _step(top: float) -> float:
    """A round tick step for shares from 0 to `top`: at most about six ticks."""
    return next((s for s in (0.01, 0.02, 0.05, 0.1, 0.2) if top / s <= 6), 0.25)


def bars(
    labels: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str = "share of rows",
    width: float = 6.4,
) -> str:
    """Grouped bars: one group per cell, one bar per side (shares, so sizes compare).

    `width` in inches at 100 px each, as the figures were sized before.
    """
    count = max(len(labels), 1)
    shown = [_short(t) for t in labels]
    rotate = count > 5 or max((len(t) for t in labels), default=0) > 8
    longest = max((len(t) for t in shown), default=1)
    below = 6 + (longest * 4.4 + 8 if rotate else 16) + 18
    left, right, top = 52.0, 12.0, 40.0
    total_w = width * 100
    plot_w = total_w - left - right
    plot_h = 200.0
    total_h = top + plot_h + below
    peak = max((max(v, default=0.0) for v in shares.values()), default=0.0)
    step = _step(peak)
    ticks = max(1, math.ceil(peak / step - 1e-9))
    scale = plot_h / (ticks * step)
    base = top + plot_h
    prefix = f"c{next(_counter)}"
    hatched = [side for side in shares if HATCHES[side]]
    body = [
        "<defs>"
        + "".join(
            f'<pattern id="{prefix}-{side}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{COLOURS[side]}"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="1.6"/></pattern>'
            for side in hatched
        )
        + "</defs>",
        _text(4, 16, title, size=12, extra=' font-weight="600"'),
    ]
    for k in range(ticks + 1):  # grid lines and the y axis' tick labels
        y = base - k * step * scale
        body.append(
            f'<line x1="{_n(left)}" x2="{_n(left + plot_w)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        body.append(_text(left - 5, y + 3.5, f"{round(k * step * 100):d}%", anchor="end"))
    group = plot_w / count
    bar = group * 0.8 / max(len(shares), 1)
    for k, (side, values) in enumerate(shares.items()):
        fill = f"url(#{prefix}-{side})" if HATCHES[side] else COLOURS[side]
        body.append(f'<g fill="{fill}" stroke="{COLOURS[side]}" stroke-width="0.8">')
        for i, value in enumerate(values):
            x = left + group * i + group * 0.1 + bar * k
            h = max(0.0, value) * scale
            body.append(
                f'<rect x="{_n(x)}" y="{_n(base - h)}" width="{_n(bar)}" height="{_n(h)}">'
                f"<title>{_e(NAMES[side])}, {_e(labels[i])}: {value:.1%}</title></rect>"
            )
        body.append("</g>")
    body.append(  # the axes
        f'<path d="M{_n(left)} {_n(top)}V{_n(base)}H{_n(left + plot_w)}" fill="none" '
        f'stroke="{INK}" stroke-width="0.8"/>'
    )
    for i, text in enumerate(shown):
        x = left + group * (i + 0.5)
        body.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(base)}" y2="{_n(base + 4)}" '
            f'stroke="{INK}" stroke-width="0.8"/>'
        )
        if rotate:
            extra = f' transform="rotate(-45 {_n(x)} {_n(base + 12)})"'
            body.append(_text(x, base + 12, text, size=9, anchor="end", extra=extra))
        else:
            body.append(_text(x, base + 16, text, size=9, anchor="middle"))
    body.append(_text(left + plot_w / 2, total_h - 6, xlabel, anchor="middle"))
    middle = top + plot_h / 2
    body.append(
        _text(14, middle, ylabel, anchor="middle", extra=f' transform="rotate(-90 14 {middle})"')
    )
    x = left + plot_w
    for side in reversed(list(shares)):  # the legend, right-aligned above the plot
        name = NAMES[side]
        x -= len(name) * 5.6 + 26
        fill = f"url(#{prefix}-{side})" if HATCHES[side] else COLOURS[side]
        body.append(
            f'<rect x="{_n(x)}" y="22" width="14" height="10" fill="{fill}" '
            f'stroke="{COLOURS[side]}" stroke-width="0.8"/>'
        )
        body.append(_text(x + 18, 31, name, size=9.5))
    label = f"{title}: {ylabel} per {xlabel}, {' vs '.join(NAMES[s] for s in shares)}"
    return _svg(total_w, total_h, label, body)


def colour(value: float, limit: float) -> str:
    """The diverging colour of `value` on a scale from −limit (blue) to +limit (red)."""
    t = (min(max(value / limit, -1.0), 1.0) + 1) / 2 * (len(DIVERGING) - 1)
    low = min(int(t), len(DIVERGING) - 2)
    a, b = _rgb(DIVERGING[low]), _rgb(DIVERGING[low + 1])
    mixed = (round(x + (y - x) * (t - low)) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        for c in (v / 255 for v in _rgb(hex_colour))
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: str) -> str:
    """White or black, whichever contrasts more with `background`: at least 4.58:1 on any
    colour (the worst case is where both are equal), so AA for the small cell labels."""
    return (
        "#ffffff"
        if contrast("#ffffff", background) > contrast("#000000", background)
        else "#000000"
    )


def heatmap(names: Sequence[str], matrix: Sequence[Sequence[float | None]], *, title: str) -> str:
    """A diverging heatmap of synthetic − real association per pair; grey: not measured."""
    size = max(len(names), 1)
    finite = [abs(v) for row in matrix for v in row if v is not None and math.isfinite(v)]
    limit = max(0.2, max(finite, default=0.2))
    shown = [_short(n) for n in names]
    margin = max((len(t) for t in shown), default=1) * 5.6 + 10
    cell = max(18.0, min(34.0, 520 / size))
    left, top = 34 + margin, 30.0
    side = cell * size
    key_x = left + side + 24
    total_w = key_x + 90
    total_h = top + side + margin * 0.72 + 34
    body = [_text(4, 16, title, size=12, extra=' font-weight="600"'), '<g stroke="#ffffff">']
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            x, y = left + j * cell, top + i * cell
            blank = value is None or not math.isfinite(value)
            fill = BLANK if value is None or blank else colour(value, limit)
            said = "not measured" if value is None or blank else f"{value:+.3f}"
            body.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(cell)}" height="{_n(cell)}" '
                f'fill="{fill}"><title>{_e(names[i])} × '
                f"{_e(names[j])}: {said}</title></rect>"
            )
            if size <= 14 and value is not None and not blank:
                text = f"{value:+.2f}".replace("-0.00", "0.00").replace("+0.00", "0.00")
                body.append(
                    f'<text x="{_n(x + cell / 2)}" y="{_n(y + cell / 2 + 3)}" font-size="8" '
                    f'text-anchor="middle" stroke="none" fill="{text_on(fill)}">{text}</text>'
                )
    body.append("</g>")
    for i, text in enumerate(shown):
        middle = top + (i + 0.5) * cell
        body.append(_text(left - 4, middle + 3.5, text, size=9, anchor="end"))
        x, y = left + (i + 0.5) * cell, top + side + 8
        extra = f' transform="rotate(-45 {_n(x)} {_n(y)})"'
        body.append(_text(x, y, text, size=9, anchor="end", extra=extra))
    body.append(_text(left + side / 2, total_h - 6, "column", anchor="middle"))
    middle = top + side / 2
    body.append(
        _text(12, middle, "column", anchor="middle", extra=f' transform="rotate(-90 12 {middle})"')
    )
    steps = 20  # the colour key: a column of steps from +limit (top) to -limit
    tall = max(side, 150.0)  # room for the key's own label
    height = tall / steps
    for k in range(steps):
        value = limit - (k + 0.5) * 2 * limit / steps
        body.append(
            f'<rect x="{_n(key_x)}" y="{_n(top + k * height)}" width="14" '
            f'height="{_n(height + 0.3)}" fill="{colour(value, limit)}"/>'
        )
    body.append(
        f'<rect x="{_n(key_x)}" y="{_n(top)}" width="14" height="{_n(tall)}" fill="none" '
        f'stroke="{INK}" stroke-width="0.6"/>'
    )
    for value, y in ((limit, top), (0.0, top + tall / 2), (-limit, top + tall)):
        body.append(_text(key_x + 18, y + 3.5, f"{value:+.2f}".replace("+0.00", "0"), size=9))
    x = key_x + 62
    body.append(
        _text(
            x,
            top + tall / 2,
            "synthetic − real association",
            size=9.5,
            anchor="middle",
            extra=f' transform="rotate(-90 {_n(x)} {_n(top + tall / 2)})"',
        )
    )
    grey = top + tall + 14
    body.append(
        f'<rect x="{_n(key_x)}" y="{_n(grey)}" width="14" height="10" fill="{BLANK}" '
        f'stroke="{INK}" stroke-width="0.6"/>'
    )
    body.append(_text(key_x + 18, grey + 9, "not measured", size=9))
    total_h = max(total_h, grey + 18)
    label = f"{title}: synthetic minus real association for each pair of columns"
    return _svg(total_w, total_h, label, body)


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
