"""Adding an item to a top-level YAML sequence by editing text, so nothing else changes.

Governance files are written by people, with comments and their own layout; a command
that adds to one must not re-serialise it (BRIEF: nothing a user wrote is rewritten or
lost). These functions only compute the new text. Callers re-parse it and compare with
what they meant to write before replacing the file, and fall back to asking the user to
paste the item when the layout is one this module does not edit (a non-empty flow list).
"""

from __future__ import annotations

from collections.abc import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synthgov.files import loading

_NULLS = ("", "~", "null", "Null", "NULL")


def sequence_item(mapping_yaml: str) -> str:
    """`a: 1\\nb: 2\\n` (a block mapping at column 0) as the list item `- a: 1\\n  b: 2\\n`."""
    lines = mapping_yaml.splitlines()
    shifted = ["- " + lines[0]] + [("  " + line) if line else "" for line in lines[1:]]
    return "\n".join(shifted) + "\n"


def indent(block: str, columns: int) -> str:
    """Every non-empty line moved right by `columns` (literal blocks keep their shape)."""
    pad = " " * columns
    return "".join(pad + line if line.strip() else line for line in block.splitlines(True))


def append_item(text: str, key: str, item: str, path: str = "(text)") -> str | None:
    """`text` with `item` (from `sequence_item`) appended to the top-level list `key`.

    Handles a block list (the item goes after its last item, at the same indentation), an
    empty list written `[]` or as null (replaced by the item on the next line, a trailing
    comment kept), and a missing key (appended at the end). Returns None for layouts it
    does not edit. The text is read by the loader's own parser (`loading.compose`): what
    the loader accepts, this edits or declines, never reads differently.

    Raises:
        InputError: text the loader refuses (`path` names it).
    """
    root = loading.compose(text, path)
    if not isinstance(root, MappingNode):
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    found = next(((k, v) for k, v in root.value if k.value == key), None)
    if found is None:
        return (
            _ensure_newline(text, newline) + f"{key}:{newline}" + _lines(indent(item, 2), newline)
        )
    key_node, value = found
    if isinstance(value, SequenceNode) and not value.flow_style and value.value:
        end = _end_of_content(text, value)
        head = _ensure_newline(text[:end], newline)
        return head + _lines(indent(item, value.start_mark.column), newline) + text[end:]
    if _is_empty(value) and value.start_mark.line == key_node.start_mark.line:
        return _replace_empty(text, value, _lines(indent(item, 2), newline), newline)
    return None


def _is_empty(node: Node) -> bool:
    if isinstance(node, SequenceNode):
        return node.flow_style is True and not node.value
    return isinstance(node, ScalarNode) and node.style in (None, "") and node.value in _NULLS


def _replace_empty(text: str, value: Node, item: str, newline: str) -> str:
    """`key: []  # note` -> `key:  # note` followed by the item."""
    start, stop = value.start_mark.index, value.end_mark.index
    line_end = text.find("\n", stop)
    line_end = len(text) if line_end < 0 else line_end + 1
    rest = text[stop:line_end].rstrip("\r\n")
    line = text[:start].rstrip(" \t") + (rest if rest.strip() else "")
    return line + newline + item + text[line_end:]


def descendants(node: Node) -> Iterator[Node]:
    """The node and every node under it, keys included, in document order."""
    yield node
    if isinstance(node, SequenceNode):
        for child in node.value:
            yield from descendants(child)
    elif isinstance(node, MappingNode):
        for key, child in node.value:
            yield from descendants(key)
            yield from descendants(child)


def _end_of_content(text: str, sequence: SequenceNode) -> int:
    """Just past the line holding the sequence's last character of content.

    Block collections end where the next token starts (after any comments); scalars and
    flow collections end at their last character, so the latest of those ends is used.
    """
    ends = [
        node.end_mark.index
        for node in descendants(sequence.value[-1])
        if isinstance(node, ScalarNode) or getattr(node, "flow_style", False)
    ]
    position = max(ends)
    while position > 0 and text[position - 1] in " \t\r\n":
        position -= 1
    line_end = text.find("\n", position)
    return len(text) if line_end < 0 else line_end + 1


def _ensure_newline(text: str, newline: str) -> str:
    return text if not text or text.endswith("\n") else text + newline


def _lines(block: str, newline: str) -> str:
    return block.replace("\n", newline) if newline != "\n" else block
