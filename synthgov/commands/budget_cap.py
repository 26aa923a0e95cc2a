"""`synthgov budget cap SOURCE (--epsilon E [--delta D] | --rho R --delta D)`: change a
ledger's cap, as a change of its own that needs the `budget_changes` approvals.

The hash chain covers the header (entry 1 links to it), so a new cap re-links every
entry's `prev_sha256`; nothing else of an entry changes. The file is edited in place
(comments and layout stay): the cap's value, the notion when the figures imply another,
and each `prev_sha256`. The result must read back as the same entries under the new
header with an intact chain, or nothing is written. `check` then blocks the pull request
(`budget.change`) until the approvals are given with `synthgov approve --budget`, and
judges the ledger by the new cap once they are.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from yaml.nodes import MappingNode, Node, ScalarNode

from synthgov import options
from synthgov.budget import ledgers
from synthgov.budget.debits import figure, locked, notion_of, refuse_broken
from synthgov.errors import InputError
from synthgov.files import governance, layout, loading, yaml_edit
from synthgov.files.loading import Loaded, parse_yaml
from synthgov.files.paths import read_bytes, replace_file
from synthgov.models import Ledger
from synthgov.models.common import Notion
from synthgov.signing.canonical import canonical


def _value(mapping: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    if isinstance(mapping, MappingNode):
        for k, v in mapping.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return k, v
    return None


def _figure(value: Decimal | int) -> str:
    """As `budget new` writes a figure: exact, and a float (`5.0`, `0.000001`)."""
    text = format(Decimal(value), "f")
    return text if "." in text else text + ".0"


def _flow(cap: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{name}: {_figure(value)}" for name, value in cap.items()) + "}"


def recapped(text: str, cap: dict[str, Decimal], notion: str, path: str = "(ledger)") -> str | None:
    """`text` with the cap (and notion) replaced and every entry re-linked, or None when
    the layout is not one this edits. The places are found with the loader's own parser
    (`loading.compose`), so the editor never reads the text otherwise than `validate`."""
    root = loading.compose(text, path)
    found_cap, found_notion = _value(root, "cap"), _value(root, "notion")
    if found_cap is None or found_notion is None or not isinstance(found_notion[1], ScalarNode):
        return None
    key, node = found_cap
    same_keys = isinstance(node, MappingNode) and [
        k.value for k, v in node.value if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)
    ] == list(cap)
    if same_keys:  # the same figures: only their values change, in place
        edits = [
            (v.start_mark.index, v.end_mark.index, _figure(cap[k.value])) for k, v in node.value
        ]
    else:
        colon = text.index(":", key.end_mark.index)
        end = max(
            n.end_mark.index
            for n in yaml_edit.descendants(node)
            if isinstance(n, ScalarNode) or getattr(n, "flow_style", False)
        )
        edits = [(colon + 1, end, " " + _flow(cap))]
    notion_node = found_notion[1]
    edits.append((notion_node.start_mark.index, notion_node.end_mark.index, notion))
    data = parse_yaml(text.encode(), path).data
    data = {**data, "notion": notion, "cap": dict(cap)}
    entries = [dict(e) if isinstance(e, dict) else e for e in ledgers.entries(data)]
    data[ledgers.ENTRIES] = entries
    listed = _value(root, ledgers.ENTRIES)
    nodes = listed[1].value if listed is not None else []
    for index, entry_node in enumerate(nodes):
        link = ledgers.link(data, index)
        entries[index]["prev_sha256"] = link
        prev = _value(entry_node, "prev_sha256")
        if prev is None or not isinstance(prev[1], ScalarNode):
            return None
        edits.append((prev[1].start_mark.index, prev[1].end_mark.index, link))
    for start, stop, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[stop:]
    return text


def run_cap(
    root: Path, source: str, *, epsilon: str | None, delta: str | None, rho: str | None
) -> int:
    """Write the new cap; 0 when written, 2 on bad input (nothing written)."""
    path = layout.ledger_path(options.slug(source, "SOURCE"))
    if not (root / path).exists():
        raise InputError.at(path, f"no such ledger; create it with `synthgov budget new {source}`")
    notion = notion_of(epsilon, delta, rho)
    cap: dict[str, Decimal] = {}
    for name, typed in (("epsilon", epsilon), ("rho", rho), ("delta", delta)):
        if typed is not None:
            cap[name] = figure(typed, f"--{name}", below_one=name == "delta")
    with locked(root, path.rsplit("/", 1)[0]):  # a debit meanwhile would lose its entry
        return _write_cap(root, path, cap, notion)


def _write_cap(root: Path, path: str, cap: dict[str, Decimal], notion: Notion) -> int:
    """`run_cap` under the budgets/ lock that `budget debit` takes: read, edit, write."""
    raw = read_bytes(root, path)
    loaded: Loaded[Ledger] = governance.load_bytes(raw, path, Ledger)
    refuse_broken(loaded)
    if canonical(loaded.document.data.get("cap")) == canonical(cap) and (
        loaded.model.notion.value == notion.value
    ):
        raise InputError.at(path, f"the cap is already {_flow(cap)}; nothing to change")
    new = recapped(loaded.document.text, cap, notion.value, path)
    if new is None:
        raise InputError.at(
            path,
            "the header or the entries have a layout synthgov does not edit; nothing was written",
        )
    _verify(loaded, new.encode(), path)
    replace_file(root, path, raw, new.encode())
    count = len(loaded.model.entries)
    click.echo(
        f"{path}: cap {_flow(loaded.document.data['cap'])} -> {_flow(cap)} "
        f"({notion.value}), {count} {'entry' if count == 1 else 'entries'} re-linked; the "
        "change needs the budget_changes approvals (synthgov approve --budget)",
        err=True,
    )
    return 0


def _verify(old: Loaded[Ledger], new: bytes, path: str) -> None:
    """The edited text reads back as a valid ledger with the same entries (but for their
    links), an intact chain, and a total within the new cap."""
    from synthgov.budget import accounting

    try:
        reread: Loaded[Ledger] = governance.load_bytes(new, path, Ledger)
    except InputError as exc:
        raise InputError.at(
            path,
            f"the ledger would not be valid with this cap: "
            f"{exc.problems[0].message}; nothing was written",
        ) from None
    before, after = old.document.data, reread.document.data
    problems = ledgers.relinked_issues(reread.document, old.document) + ledgers.chain_issues(after)
    kept: dict[str, Any] = {
        k: v for k, v in ledgers.header(after).items() if k not in ("cap", "notion")
    }
    if problems or canonical(kept) != canonical(
        {k: v for k, v in ledgers.header(before).items() if k not in ("cap", "notion")}
    ):
        raise InputError.at(
            path,
            "changing the cap would change more than the header and the links; nothing was written",
        )
    model = reread.model
    if not accounting.fits(model.notion, model.cap, [e.loss for e in model.entries]):
        raise InputError.at(
            path, "the entries already spend more than this cap; nothing was written"
        )
