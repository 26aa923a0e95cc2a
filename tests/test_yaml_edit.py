"""Appending to a YAML list by text: every layout a person may have written stays as it was."""

from __future__ import annotations

import pytest
import yaml

from synthgov.files.yaml_edit import append_item, sequence_item

ITEM = sequence_item("id: new\nnote: |\n  line one\n\n  line three\n")
NEW = "- id: new\n  note: |\n    line one\n\n    line three\n"


def at(column: int) -> str:
    return "".join(" " * column + line if line.strip() else line for line in NEW.splitlines(True))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a: 1\nlist: []\n", "a: 1\nlist:\n" + at(2)),
        ("list: []  # none yet\nb: 2\n", "list:  # none yet\n" + at(2) + "b: 2\n"),
        ("list:\nb: 2\n", "list:\n" + at(2) + "b: 2\n"),
        ("list:   # empty\n", "list:   # empty\n" + at(2)),
        ("list: ~\n", "list:\n" + at(2)),
        ("a: 1  # no list", "a: 1  # no list\nlist:\n" + at(2)),
        ("list:\n- id: old\n", "list:\n- id: old\n" + at(0)),
        (
            "list:\n    - id: old  # first\n# tail\n",
            "list:\n    - id: old  # first\n" + at(4) + "# tail\n",
        ),
    ],
)
def test_layouts(before: str, after: str) -> None:
    text = append_item(before, "list", ITEM)
    assert text == after
    assert yaml.safe_load(text)["list"][-1] == {"id": "new", "note": "line one\n\nline three\n"}


def test_flow_list_with_items_is_left_to_the_user() -> None:
    assert append_item("list: [{id: old}]\n", "list", ITEM) is None


def test_empty_value_on_the_next_line_is_left_to_the_user() -> None:
    assert append_item("list:\n  []\n", "list", ITEM) is None
