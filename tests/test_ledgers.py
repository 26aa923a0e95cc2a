"""The ledger file format: canonical bytes (RFC 8785), the hash chain, append-only against a
base, and appending by editing text (comments and layout kept)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.budget import ledgers
from synthgov.files.loading import parse_yaml
from synthgov.signing.canonical import canonical
from tests.helpers import ledgers as build

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("0.000001"), "0.000001"),
        (D("1E-7"), "1e-7"),
        (D("0.0000001"), "1e-7"),
        (D("3.0"), "3"),
        (D("100"), "100"),
        (D("1E+2"), "100"),
        (D("123.4560"), "123.456"),
        (D("1E+21"), "1e+21"),
        (D("1.5E+21"), "1.5e+21"),
        (D("1E+20"), "100000000000000000000"),
        (D("-0.5"), "-0.5"),
        (D("0.0"), "0"),
        (D("2.5E-10"), "2.5e-10"),
    ],
)
def test_numbers_are_written_as_ecmascript_does(value: Decimal, text: str) -> None:
    assert canonical(value) == text.encode()
    assert float(text) == float(value)  # the same number JSON.parse would read


def test_canonical_json_sorts_keys_and_escapes_like_jcs() -> None:
    data = {"b": [1, True, None], "a": 'é\n"\\\u0001', "€": 1, "\U0001f600": 2, "\uff61": 3}
    assert (
        canonical(data)
        == ('{"a":"é\\n\\"\\\\\\u0001","b":[1,true,null],"€":1,"\U0001f600":2,"\uff61":3}').encode()
    )  # U+1F600 (surrogates D83D…) sorts before U+FF61 in UTF-16 code units
    plain = {"z": 1, "a": {"y": [1, 2], "b": "x"}}
    assert canonical(plain) == json.dumps(plain, sort_keys=True, separators=(",", ":")).encode()


def test_the_chain_starts_at_the_header_and_links_each_entry() -> None:
    text = build.build([("claims@1.0", {"epsilon": "1.0"}), ("claims@1.1", {"rho": "0.1"})])
    data = parse_yaml(text.encode(), build.PATH).data
    header = {k: v for k, v in data.items() if k != "entries"}
    assert data["entries"][0]["prev_sha256"] == ledgers.sha256(header)
    assert data["entries"][1]["prev_sha256"] == ledgers.sha256(data["entries"][0])
    assert ledgers.chain_issues(data) == []
    # a comment or a re-indentation does not change what is hashed
    reformatted = text.replace(
        "cap: {epsilon: 3.0, delta: 0.000001}",
        "cap:  # the source's whole budget\n  epsilon: 3.0\n  delta: 1e-6",
    )
    assert ledgers.chain_issues(parse_yaml(reformatted.encode(), build.PATH).data) == []
    raised = text.replace("epsilon: 3.0", "epsilon: 3.5")
    [issue] = ledgers.chain_issues(parse_yaml(raised.encode(), build.PATH).data)
    assert issue.loc == ("entries", 0, "prev_sha256") and issue.rule == "budget.chain_broken"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ("entries: []\n", "entries:\n  - seq: 1\n"),
        ("entries: []  # none yet\n", "entries:  # none yet\n  - seq: 1\n"),
        ("entries:\n", "entries:\n  - seq: 1\n"),
        ("", "entries:\n  - seq: 1\n"),
    ],
)
def test_appending_turns_an_empty_list_into_a_block_list(entries: str, expected: str) -> None:
    text = build.empty().replace("entries: []\n", entries)
    appended = build.append(text, "claims@1.0", epsilon="1.0")
    assert expected in appended and appended.startswith(text.replace(entries, ""))
    data = parse_yaml(appended.encode(), build.PATH).data
    assert ledgers.chain_issues(data) == [] and len(data["entries"]) == 1


def test_behind_means_a_prefix_of_the_base_with_the_same_header() -> None:
    one = build.build([("claims@1.0", {"epsilon": "1.0"})])
    two = build.append(one, "claims@1.1", epsilon="0.5")
    data = {
        name: parse_yaml(t.encode(), build.PATH).data for name, t in (("one", one), ("two", two))
    }
    assert ledgers.is_behind(data["one"], data["two"]) and ledgers.is_behind(
        data["two"], data["two"]
    )
    assert not ledgers.is_behind(data["two"], data["one"])
    raised = parse_yaml(one.replace("epsilon: 3.0", "epsilon: 4.0").encode(), build.PATH).data
    assert not ledgers.is_behind(raised, data["two"])


LOSS = st.one_of(
    st.builds(lambda e: {"epsilon": e}, st.sampled_from(["0.1", "1.0", "0.000001", "2.5"])),
    st.builds(
        lambda r, d: {"rho": r, "delta": d},
        st.sampled_from(["0.01", "0.5"]),
        st.sampled_from(["0.0000001", "1e-9"]),
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(LOSS, max_size=5), st.lists(LOSS, min_size=1, max_size=3))
def test_appending_keeps_the_chain_and_the_base_intact(
    before: list[dict[str, str]], after: list[dict[str, str]]
) -> None:
    base = build.build([(f"claims@1.{i}", loss) for i, loss in enumerate(before)])
    head = base
    for j, loss in enumerate(after):
        head = build.append(head, f"claims@2.{j}", **loss)
    base_doc = parse_yaml(base.encode(), build.PATH)
    head_doc = parse_yaml(head.encode(), build.PATH)
    assert ledgers.chain_issues(head_doc.data) == []
    assert ledgers.history_issues(head_doc, base_doc) == []
    assert head.startswith(base.replace("entries: []\n", "entries:\n"))
    assert list(ledgers.new_entries(head_doc.data, base_doc.data)) == list(
        range(len(before), len(before) + len(after))
    )
