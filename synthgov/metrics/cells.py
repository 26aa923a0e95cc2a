"""Small-cell control for chart counts: no cell of 1..minimum-1 rows is ever shown.

Pure Python on plain dicts (a cell is `{"label", "low"?, "high"?, <side>: count, ...}`), so
`evaluate` applies it when it writes the charts block and the release report applies it
again under a stricter policy, without numpy. Merging rather than blanking keeps every row
counted: the cells still sum to the table's size, which the report states, so a blanked
small cell could have been recovered by subtraction; a merged one cannot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

OTHER, MISSING, ZERO = "(other)", "(missing)", "0 (exact copy)"


def is_shown(count: int, minimum: int) -> bool:
    """Whether a count may be shown: zero, or at least the minimum."""
    return count == 0 or count >= minimum


def ok(cell: Mapping[str, Any], sides: Iterable[str], minimum: int) -> bool:
    """Whether every side's count of `cell` may be shown."""
    return all(is_shown(int(cell[s]), minimum) for s in sides)


def _join(cells: list[dict[str, Any]], sides: tuple[str, ...], label: str) -> dict[str, Any]:
    joined: dict[str, Any] = {"label": label}
    lows = [c["low"] for c in cells if "low" in c]
    highs = [c["high"] for c in cells if "high" in c]
    if lows and len(lows) == len(cells):
        joined["low"] = lows[0]
        if "high" in cells[-1]:  # the last bin (`>= x`) is open above
            joined["high"] = highs[-1]
    for side in sides:
        joined[side] = sum(int(c[side]) for c in cells)
    return joined


def merge_adjacent(
    cells: list[dict[str, Any]], sides: tuple[str, ...], minimum: int
) -> list[dict[str, Any]] | None:
    """Ordered cells with each run of neighbours joined until every side is 0 or >= minimum.

    None when the whole column falls short (its total is under the minimum).
    """
    groups: list[list[dict[str, Any]]] = []
    run: list[dict[str, Any]] = []
    for cell in cells:
        run.append(cell)
        if ok(_join(run, sides, ""), sides, minimum):
            groups.append(run)
            run = []
    while run:  # a short tail joins the groups before it until it is not short
        if not groups:
            return None
        run = groups.pop() + run
        if ok(_join(run, sides, ""), sides, minimum):
            groups.append(run)
            run = []
    return [_join(g, sides, _span_label(g)) for g in groups]


_INTERVAL = re.compile(r"^([\[(])(.*), (.*)([\])])$")


def _parts(label: str) -> tuple[str, str | None, str | None, str] | None:
    """A cell label as (opening, low, high, closing); None for a label that is no range."""
    if label == ZERO:
        return "[", "0", "0", "]"
    if label.startswith("< "):
        return "(", None, label[2:], ")"
    if label.startswith(">= "):
        return "[", label[3:], None, ")"
    found = _INTERVAL.match(label)
    return (found[1], found[2], found[3], found[4]) if found else None


def _span_label(group: list[dict[str, Any]]) -> str:
    """The label of joined neighbours: `[20, 30)` and `[30, 40)` make `[20, 40)`."""
    labels = [str(c["label"]) for c in group]
    tail = ""
    if len(labels) > 1 and labels[-1] == MISSING:
        labels, tail = labels[:-1], f" or {MISSING}"
    if len(labels) == 1:
        return labels[0] + tail
    first, last = _parts(labels[0]), _parts(labels[-1])
    if first is None or last is None:
        return " … ".join((labels[0], labels[-1])) + tail
    low, high = first[1], last[2]
    if low is None and high is None:
        text = "all values"
    elif low is None:
        text = f"< {high}"
    elif high is None:
        text = f">= {low}"
    else:
        text = f"{first[0]}{low}, {high}{last[3]}"
    return text + tail


def merge_into_other(
    cells: list[dict[str, Any]], sides: tuple[str, ...], minimum: int
) -> list[dict[str, Any]] | None:
    """Unordered cells: every short one goes to `(other)`, then the smallest others too
    until `(other)` is not short either. None when even all of them together fall short."""
    shown = [c for c in cells if c["label"] != OTHER and ok(c, sides, minimum)]
    pooled = [c for c in cells if c not in shown]
    while pooled and not ok(_join(pooled, sides, OTHER), sides, minimum):
        if not shown:
            return None
        smallest = min(shown, key=lambda c: (min(c[s] or math.inf for s in sides), c["label"]))
        shown.remove(smallest)
        pooled.append(smallest)
    out = [dict(c) for c in shown]
    if pooled and any(_join(pooled, sides, OTHER)[s] for s in sides):
        other = _join(pooled, sides, OTHER)
        other["merged"] = len(pooled)
        out.append(other)
    return out
