"""The release report's figures: inline SVG drawn by matplotlib from report.json's aggregates.

matplotlib (the `evaluate` extra) is imported here, on first use, never by the rest of the
CLI. Each figure is rendered with the Agg canvas machinery into SVG text that carries its
text as <text> (searchable, readable by a screen reader's fallback) and no date, so the
same aggregates give the same bytes; its ids are prefixed so several figures can share
one page.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: colour-blind-safe pair, each at least 4.5:1 against white (WCAG AA for text and marks)
COLOURS = {"real": "#1d5fa6", "synthetic": "#b3490b", "holdout": "#1d5fa6"}
HATCHES = {"real": "", "synthetic": "//", "holdout": ""}
NAMES = {"real": "real (train)", "synthetic": "synthetic", "holdout": "holdout (fresh rows)"}
_counter = itertools.count(1)
_ID = re.compile(r'\bid="([^"]+)"')


def available() -> bool:
    """Whether matplotlib can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "synthgov",
            "font.family": "sans-serif",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "hatch.color": "#ffffff",
            "hatch.linewidth": 0.8,
        }
    )
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any, label: str) -> str:
    """The figure as inline SVG: no XML prolog, no date, ids unique on the page."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    _pyplot().close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"f{next(_counter)}-"
    ids = set(_ID.findall(text))
    for name in sorted(ids, key=len, reverse=True):
        text = text.replace(f'id="{name}"', f'id="{prefix}{name}"')
        text = text.replace(f"url(#{name})", f"url(#{prefix}{name})")
        text = text.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" class="chart" ', 1)


def _attr(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


def bars(
    labels: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str = "share of rows",
    width: float = 6.4,
) -> str:
    """Grouped bars: one group per cell, one bar per side (shares, so sizes compare)."""
    plt = _pyplot()
    count = len(labels)
    rotate = count > 5 or max((len(t) for t in labels), default=0) > 8
    figure, axes = plt.subplots(figsize=(width, 3.6), layout="constrained")
    step = 0.8 / max(len(shares), 1)
    for k, (side, values) in enumerate(shares.items()):
        xs = [i - 0.4 + step * (k + 0.5) for i in range(count)]
        axes.bar(
            xs,
            values,
            width=step,
            color=COLOURS[side],
            hatch=HATCHES[side],
            edgecolor=COLOURS[side],
            label=NAMES[side],
        )
    axes.set_xticks(range(count))
    axes.set_xticklabels(
        [_short(t) for t in labels],
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
    )
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title, loc="left", fontsize=11)
    axes.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0))
    axes.legend(frameon=False, fontsize=9)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    return _svg(figure, f"{title}: {ylabel} per {xlabel}, {' vs '.join(NAMES[s] for s in shares)}")


def heatmap(names: Sequence[str], matrix: Sequence[Sequence[float | None]], *, title: str) -> str:
    """A diverging heatmap of synthetic − real association per pair; blank: not measured."""
    import numpy as np

    plt = _pyplot()
    size = len(names)
    values = np.array([[np.nan if v is None else v for v in row] for row in matrix], float)
    side = max(3.6, min(10.0, 1.6 + 0.42 * size))
    figure, axes = plt.subplots(figsize=(side + 1.2, side), layout="constrained")
    limit = max(0.2, float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.2)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#f2f2f2")
    # vector cells (pcolormesh), not a raster image: sharp in print, no embedded PNG
    image = axes.pcolormesh(
        np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, edgecolors="#ffffff"
    )
    axes.set_xlim(0, size)
    axes.set_ylim(size, 0)
    axes.set_aspect("equal")
    axes.set_xticks([i + 0.5 for i in range(size)])
    axes.set_yticks([i + 0.5 for i in range(size)])
    axes.set_xticklabels(
        [_short(n) for n in names], rotation=45, ha="right", rotation_mode="anchor"
    )
    axes.set_yticklabels([_short(n) for n in names])
    axes.set_xlabel("column")
    axes.set_ylabel("column")
    axes.set_title(title, loc="left", fontsize=11)
    for spine in axes.spines.values():
        spine.set_visible(False)
    if size <= 14:
        for i in range(size):
            for j in range(size):
                if np.isfinite(values[i, j]):
                    strong = abs(values[i, j]) > 0.75 * limit  # white text only on dark cells (AA)
                    axes.text(
                        j + 0.5,
                        i + 0.5,
                        f"{values[i, j]:+.2f}".replace("-0.00", "0.00").replace("+0.00", "0.00"),
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="#ffffff" if strong else "#1d1d1f",
                    )
    bar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    bar.set_label("synthetic − real association")
    if bar.solids is not None:
        bar.solids.set_rasterized(False)  # matplotlib rasterizes long colorbars: keep SVG
        bar.solids.set_edgecolor("face")  # no seams between the colour steps
    return _svg(figure, f"{title}: synthetic minus real association for each pair of columns")


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
