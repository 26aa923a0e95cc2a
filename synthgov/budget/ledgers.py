"""The ledger file as an append-only, hash-chained record (BRIEF §3, §5): pure, no I/O.

Canonical form: RFC 8785 (JCS) JSON of the entry (or the header: every top-level key but
`entries`) as the safe loader read it, so the hash covers what was written and not a
re-serialisation: keys sorted by UTF-16 code units, no whitespace, strings as JSON with
UTF-8, numbers in ECMAScript form of their shortest digits (`0.000001`, `1e-7`, `3`).
Entry 1's `prev_sha256` is the sha256 of the header's canonical bytes; entry n+1's, that
of entry n's (which holds entry n's own `prev_sha256`, so the chain covers the header).

Against the base branch a ledger may only grow: the header and every entry the base
holds stay the same, byte for byte, and new entries go after them. `history_issues`
reports each departure with the key path (or line) in the head file that shows it;
composition and the cap are the accounting core's (`synthgov.budget.accounting`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synthgov.files import loading, yaml_edit
from synthgov.files.loading import Document, KeyPath
from synthgov.signing.canonical import canonical

ENTRIES = "entries"


@dataclass(frozen=True)
class Issue:
    """One departure from append-only or from the chain, located in the head ledger."""

    rule: str  # budget.<rule>
    message: str
    loc: KeyPath  # where in the head document; `line` wins when set
    line: int | None = None
    blocks: bool = True
    fix: str | None = None


# --- the chain ----------------------------------------------------------------------------


def header(data: dict[str, Any]) -> dict[str, Any]:
    """Everything but the entries: source, privacy unit, notion, cap, description, owner."""
    return {key: value for key, value in data.items() if key != ENTRIES}


def entries(data: dict[str, Any]) -> list[Any]:
    """The entries as read (an absent `entries` is an empty ledger)."""
    found = data.get(ENTRIES)
    return found if isinstance(found, list) else []


def sha256(value: Any) -> str:
    """Hex SHA-256 of the canonical bytes of `value`."""
    return hashlib.sha256(canonical(value)).hexdigest()


def link(data: dict[str, Any], index: int) -> str:
    """The `prev_sha256` that entry number `index` (0-based) must carry."""
    return sha256(header(data)) if index == 0 else sha256(entries(data)[index - 1])


def chain_issues(data: dict[str, Any]) -> list[Issue]:
    """Every entry whose `prev_sha256` is not the hash of what precedes it."""
    found = []
    for index, entry in enumerate(entries(data)):
        expected = link(data, index)
        if isinstance(entry, dict) and entry.get("prev_sha256") != expected:
            before = "the header" if index == 0 else f"entry seq {index}"
            found.append(
                Issue(
                    "budget.chain_broken",
                    f"entry seq {index + 1}'s prev_sha256 is not the sha256 of {before} "
                    f"({expected[:12]}…): the hash chain is broken, so an earlier part of the "
                    "ledger was changed or this entry was not appended by synthgov",
                    (ENTRIES, index, "prev_sha256"),
                )
            )
    return found


def duplicate_issues(data: dict[str, Any]) -> list[Issue]:
    """A release debited twice (a release spends its budget once, in one debit)."""
    first: dict[str, int] = {}
    found = []
    for index, entry in enumerate(entries(data)):
        release = entry.get("release") if isinstance(entry, dict) else None
        if not isinstance(release, str):
            continue
        if release in first:
            found.append(
                Issue(
                    "budget.duplicate_debit",
                    f"entry seq {index + 1} debits {release} again (first at seq {first[release] + 1}); "
                    "a release has exactly one debit",
                    (ENTRIES, index, "release"),
                )
            )
        else:
            first[release] = index
    return found


# --- append-only against the base ------------------------------------------------------------


def is_behind(head: dict[str, Any], base: dict[str, Any]) -> bool:
    """Whether `head` is the base ledger or an older state of it (the branch left it alone)."""
    if head is base:  # the same parsed file (check parses each content once)
        return True
    ours, theirs = entries(head), entries(base)
    same_header = canonical(header(head)) == canonical(header(base))
    return same_header and len(ours) <= len(theirs) and _same(ours, theirs[: len(ours)])


def _same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(canonical(x) == canonical(y) for x, y in zip(a, b, strict=True))


def _first_difference(a: Any, b: Any, path: KeyPath = ()) -> KeyPath:
    """The key path of the first place where `b` differs from `a` (`path` if they are leaves)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return (*path, key) if key in b else path
            if canonical(a[key]) != canonical(b[key]):
                return _first_difference(a[key], b[key], (*path, key))
    return path


def _release(entry: Any) -> str:
    release = entry.get("release") if isinstance(entry, dict) else None
    return release if isinstance(release, str) else "?"


def cap_change(base: dict[str, Any], head: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """figure -> (base value, head value) for each figure of the cap that the head changes
    (None where a side has no such figure); empty when the cap is the base's.

    The one place a changed cap is detected: `history_issues` leaves the cap to it, and
    the budget gate reports what it returns as `budget.cap_changed`.
    """
    ours, theirs = _cap(base), _cap(head)
    return {
        name: (ours.get(name), theirs.get(name))
        for name in sorted({*ours, *theirs})
        if canonical(ours.get(name)) != canonical(theirs.get(name))
    }


def _cap(data: dict[str, Any]) -> dict[str, Any]:
    found = data.get("cap")
    return found if isinstance(found, dict) else {}


def _fixed(data: dict[str, Any]) -> dict[str, Any]:
    """The header but its cap (which `cap_change` judges)."""
    return {key: value for key, value in header(data).items() if key != "cap"}


def history_issues(head: Document, base: Document, header_approved: bool = False) -> list[Issue]:
    """How `head` departs from append-only against `base`: header, entries, bytes.

    With `header_approved` (the pull request's `budget_changes` approvals cover its new
    header), a changed header re-links the chain and is judged by `relinked_issues`
    instead. Otherwise the cap is `cap_change`'s to report; its text is the only part of
    the base's that may differ here, and only when its value does.
    Two branches that each appended a debit collide at the same sequence number; the one
    checked against a base that already holds the other's is told to rebase.
    """
    if header_approved and canonical(header(head.data)) != canonical(header(base.data)):
        return relinked_issues(head, base)
    ours, theirs = entries(head.data), entries(base.data)
    found: list[Issue] = []
    if canonical(_fixed(head.data)) != canonical(_fixed(base.data)):
        where = _first_difference(_fixed(base.data), _fixed(head.data))
        shown = ".".join(str(p) for p in where) or "the header"
        found.append(
            Issue(
                "budget.header_changed",
                f"{shown} differs from the base: a ledger's header (source, privacy unit, notion, "
                "cap) is fixed once merged, but for a change the policy's budget_changes "
                "approvals cover (synthgov approve --budget)",
                where or ("source",),
            )
        )
    ours_releases = {_release(e): i for i, e in enumerate(ours)}
    theirs_releases = {_release(e): i for i, e in enumerate(theirs)}
    for index, entry in enumerate(theirs):
        if index < len(ours) and canonical(ours[index]) == canonical(entry):
            continue
        release, seq = _release(entry), index + 1
        mine = ours[index] if index < len(ours) else None
        if mine is not None and _release(mine) == release:
            where = _first_difference(entry, mine, (ENTRIES, index))
            field = ".".join(str(p) for p in where[2:]) or "the entry"
            found.append(
                Issue(
                    "budget.entry_changed",
                    f"entry seq {seq} ({release}) differs from the base in {field}: entries "
                    "are append-only, an earlier entry can never change",
                    where,
                )
            )
        elif release in ours_releases:
            moved = ours_releases[release]
            found.append(
                Issue(
                    "budget.entry_moved",
                    f"the debit of {release} is entry seq {seq} on the base but seq {moved + 1} "
                    "here: entries keep their order and numbers",
                    (ENTRIES, moved, "seq"),
                )
            )
        elif (
            mine is not None
            and _release(mine) not in theirs_releases
            and all(_release(e) not in ours_releases for e in theirs[index:])
        ):
            found.append(
                Issue(
                    "budget.sequence_taken",
                    f"sequence number {seq} is already taken on the base by {release}: another "
                    "pull request debited this ledger after this branch was made. Rebase onto the "
                    "base and debit again",
                    (ENTRIES, index, "seq"),
                    fix="Rebase onto the base, keep the base's ledger, debit again with `synthgov "
                    "budget debit` (or `release new`) and push; the merge queue re-checks it.",
                )
            )
            break  # every later position is the same collision
        else:
            at: KeyPath = (ENTRIES, min(index, len(ours) - 1)) if ours else (ENTRIES,)
            found.append(
                Issue(
                    "budget.entry_deleted",
                    f"entry seq {seq} ({release}) of the base is missing: entries are "
                    "append-only, never removed",
                    at,
                )
            )
    if not found:
        found += _byte_issues(head, base, masked=bool(cap_change(base.data, head.data)))
    return found


def _unlinked(entry: Any) -> Any:
    return (
        {k: v for k, v in entry.items() if k != "prev_sha256"} if isinstance(entry, dict) else entry
    )


def relinked_issues(head: Document, base: Document) -> list[Issue]:
    """An approved change of the header re-links the chain from the new header, so every
    `prev_sha256` changes; every entry of the base stays, in place, the same otherwise.
    (`chain_issues` still checks the new links.)"""
    ours, theirs = entries(head.data), entries(base.data)
    found = []
    for index, entry in enumerate(theirs):
        mine = ours[index] if index < len(ours) else None
        if mine is not None and canonical(_unlinked(mine)) == canonical(_unlinked(entry)):
            continue
        release, seq = _release(entry), index + 1
        if mine is None:
            found.append(
                Issue(
                    "budget.entry_deleted",
                    f"entry seq {seq} ({release}) of the base is missing: entries are "
                    "append-only, never removed, also when the header changes",
                    (ENTRIES,),
                )
            )
            continue
        where = _first_difference(_unlinked(entry), _unlinked(mine), (ENTRIES, index))
        field = ".".join(str(p) for p in where[2:]) or "the entry"
        found.append(
            Issue(
                "budget.entry_changed",
                f"entry seq {seq} ({release}) differs from the base in {field}: a change of the "
                "header re-links the entries (prev_sha256) and changes nothing else",
                where,
            )
        )
    return found


def _byte_issues(head: Document, base: Document, *, masked: bool = False) -> list[Issue]:
    """Same data but different text before the end of the base's entries (BRIEF §5); with
    `masked`, the cap's text is left out on both sides (its change is reported apart)."""
    ours, theirs, skip = head.text, base.text, (len(head.text), 0)
    if masked:
        ours, skip = _without_cap(ours, head.path)
        theirs, _ = _without_cap(theirs, base.path)
    if ours.startswith(theirs):  # appended to: nothing up to any end of the base changed
        return []
    end = _protected_end(theirs, base.path)
    ours, theirs = ours[:end], theirs[:end]
    if ours == theirs:
        return []
    pairs = enumerate(zip(ours, theirs, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(ours), len(theirs)))
    at += skip[1] if at > skip[0] else 0  # back to a place in the head's own text
    line = head.text.count("\n", 0, at) + 1
    return [
        Issue(
            "budget.rewritten",
            f"line {line} differs from the base ledger's text: everything up to the base's last "
            "entry stays byte-identical (comments and layout too); append new entries after it",
            (),
            line=line,
        )
    ]


def _content_end(node: Node) -> int:
    """Just past the last character of `node`'s content (a block collection's own end
    mark lies at the next token, after any comments)."""
    return max(
        n.end_mark.index
        for n in yaml_edit.descendants(node)
        if isinstance(n, ScalarNode) or getattr(n, "flow_style", False)
    )


def _without_cap(text: str, path: str) -> tuple[str, tuple[int, int]]:
    """`text` with everything after the top-level `cap` key to the end of its value (its
    comments too) cut down to `:`, and (where the cut is, how many characters it took)."""
    root = loading.compose(text, path)
    for key, value in root.value if isinstance(root, MappingNode) else []:
        if isinstance(key, ScalarNode) and key.value == "cap":
            start, stop = key.end_mark.index, _content_end(value)
            return text[:start] + ":" + text[stop:], (start, stop - start - 1)
    return text, (len(text), 0)


@lru_cache(maxsize=256)
def _protected_end(text: str, path: str) -> int:
    """Where the part of `text` that must never change ends: after its last entry's
    content, or at the `entries` key of a ledger without entries. Remembered by text: a
    commit's ledger is the next commit's base ledger (`audit`)."""
    root = loading.compose(text, path)
    if not isinstance(root, MappingNode):
        return 0
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == ENTRIES:
            if isinstance(value, SequenceNode) and value.value:
                return _content_end(value.value[-1])
            return text.rfind("\n", 0, key.start_mark.index) + 1
    return len(text)


def new_entries(head: dict[str, Any], base: dict[str, Any] | None) -> range:
    """Indexes of the head's entries beyond the base's (all of them without a base)."""
    return range(len(entries(base)) if base is not None else 0, len(entries(head)))


# --- appending -----------------------------------------------------------------------------


def append(text: str, entry_yaml: str, path: str = "(ledger)") -> str | None:
    """`text` with the block mapping `entry_yaml` appended to `entries`, nothing else changed.

    `entries: []` becomes a block list. None when the layout is one this does not edit (a
    non-empty flow list); the caller re-parses the result and compares before writing.
    """
    return yaml_edit.append_item(text, ENTRIES, yaml_edit.sequence_item(entry_yaml), path)
