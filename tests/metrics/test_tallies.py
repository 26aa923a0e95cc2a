"""Counts taken partition by partition and added up (`tallies`, what Dask workers and the
client do) equal the counts of the whole tables, and the fidelity metrics made of counts
are the same bits from either: the map and reduce cannot move a reported value."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from synthgov.metrics import constraints, fidelity, rows, tallies
from synthgov.metrics.encoding import ROLES, Tables, encode
from synthgov.metrics.measurement import Context
from synthgov.metrics.partitions import combine, counts, encode_part
from synthgov.metrics.tallies import Totals
from tests.helpers.tables import card_for

CARD = card_for(
    {"age": "integer", "kind": "categorical", "flag": "boolean", "x": "number", "city": "string"}
)


def _frames(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(n: int, kinds: list[str | None]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": pd.Series(rng.integers(18, 90, n), dtype=object).where(
                    rng.random(n) > 0.1, None
                ),
                "kind": pd.Series(rng.choice(np.array(kinds, dtype=object), n), dtype=object),
                "flag": pd.Series(rng.choice(["true", "false", None], n), dtype=object),
                "x": rng.normal(size=n),
                "city": pd.Series([f"c{v}" for v in rng.integers(0, 40, n)], dtype=object),
            }
        )

    return {
        "real": frame(300, ["a", "b", "c", None]),
        "holdout": frame(120, ["a", "d"]),
        # a category only the synthetic table holds, and one column the card lacks
        "synthetic": frame(250, ["a", "b", "e", None]).assign(extra=1),
    }


def _split(frame: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    edges = [0, *cuts, len(frame)]
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(edges)]


def _whole_and_added(
    frames: dict[str, pd.DataFrame], cuts: dict[str, list[int]]
) -> tuple[Tables, dict[str, Totals]]:
    """The whole tables (canonical), and each table's counts added up from its partitions."""
    whole, _ = encode(CARD, frames, {r: r for r in ROLES})
    parts = {
        role: [encode_part(CARD, p, f"{role}/{i}") for i, p in enumerate(_split(frames[role], cut))]
        for role, cut in cuts.items()
    }
    split, _ = combine(CARD, parts, {r: r for r in ROLES})
    categories = {c.name: c.categories for c in split.categorical}
    added = {
        role: tallies.add([counts(CARD, p, role)[0] for p in parts[role]], categories)
        for role in ROLES
    }
    return rows.canonical(whole)[0], added


def _assert_same(a: Totals, b: Totals) -> None:
    assert (a.rows, a.missing) == (b.rows, b.missing)
    assert a.labels.keys() == b.labels.keys() and a.pairs.keys() == b.pairs.keys()
    for name in a.labels:
        np.testing.assert_array_equal(a.labels[name], b.labels[name])
    for pair in a.pairs:
        for x, y in zip(a.pairs[pair], b.pairs[pair], strict=True):
            np.testing.assert_array_equal(x, y)


# uneven partitions, an empty one, labels only some partitions hold
CUTS = {"real": [40, 40, 170], "holdout": [1], "synthetic": [100, 249]}


def test_partition_counts_add_up_to_the_whole_tables_counts() -> None:
    whole, added = _whole_and_added(_frames(1), CUTS)
    at_once = tallies.of_tables(whole)
    for role in ROLES:
        _assert_same(at_once[role], added[role])
    assert added["real"].rows == 300
    assert added["synthetic"].labels["kind"].sum() + added["synthetic"].missing["kind"] == 250
    assert ("kind", "flag") in added["real"].pairs and ("age", "kind") not in added["real"].pairs


@pytest.mark.parametrize("dense", [True, False])
def test_fidelity_from_added_counts_is_the_in_process_report_bit_for_bit(
    dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not dense:  # the sparse pair counts and the compacted contingency table
        monkeypatch.setattr(tallies, "_DENSE_CELLS", 0)
        monkeypatch.setattr(fidelity, "_MAX_CELLS", 0)
    whole, added = _whole_and_added(_frames(2), CUTS)
    in_process = [m.as_json() for m in fidelity.measure(whole, Context())]
    spread = [m.as_json() for m in fidelity.measure(whole, Context(), added)]
    assert spread == in_process
    ids = {entry["id"] for entry in in_process}
    assert {"fidelity.tv_complement", "fidelity.contingency_similarity"} <= ids
    assert {"fidelity.category_adherence", "fidelity.missing_rate_diff"} <= ids


def test_counted_metrics_equal_the_array_functions_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The metrics of counts are the functions over arrays that the peers were checked
    against, not a second formula that is merely close."""
    whole, _ = _whole_and_added(_frames(3), CUTS)
    for compact in (False, True):
        if compact:
            monkeypatch.setattr(fidelity, "_MAX_CELLS", 0)
        found = {(m.id, m.column or m.columns): m.value for m in fidelity.measure(whole, Context())}
        for column in whole.categorical:
            n = len(column.categories)
            assert found[("fidelity.tv_complement", column.name)] == fidelity.tv_complement(
                column.real, column.synthetic, n
            )
            assert found[("fidelity.category_adherence", column.name)] == (
                fidelity.category_adherence(column.real, column.synthetic, n)
            )
        for column in whole:
            assert found[("fidelity.missing_rate_diff", column.name)] == (
                fidelity.missing_rate_diff(column.missing("real"), column.missing("synthetic"))
            )
        for a, b in itertools.combinations(whole.categorical, 2):
            expected = fidelity.contingency_similarity(
                (a.real, b.real), (a.synthetic, b.synthetic), (len(a.categories), len(b.categories))
            )
            assert found[("fidelity.contingency_similarity", (a.name, b.name))] == expected


def test_rules_counted_per_partition_give_the_whole_tables_validity_bit_for_bit() -> None:
    """Each partition is evaluated in its own labels (`partitions.tables_of`), so a label
    comparison must not depend on the codes: the counts still add up to the whole's."""
    rules = [
        "kind == 'a'",
        "kind != city",  # two label columns, each partition with its own codes
        "flag or age > 60",
        "x > 0 and kind in ('b', 'e')",
        "city is not null and x / age < 0.01",
    ]
    card = card_for(
        {
            "age": "integer",
            "kind": "categorical",
            "flag": "boolean",
            "x": "number",
            "city": "string",
        },
        constraints=[{"name": f"r{i}", "rule": rule} for i, rule in enumerate(rules)],
    )
    frames = _frames(4)
    frames["synthetic"]["city"] = frames["synthetic"]["city"].where(
        frames["synthetic"]["x"] < 1, "a"
    )
    whole, _ = encode(card, frames, {r: r for r in ROLES})
    pieces = [
        encode_part(card, p, f"s/{i}")
        for i, p in enumerate(_split(frames["synthetic"], [60, 60, 200]))
    ]
    found = [counts(card, part, "synthetic")[1] for part in pieces]
    assert all(f is not None for f in found)
    added = found[0]
    for more in found[1:]:
        assert more is not None and added is not None
        added = more.add(added)
    assert added == constraints.satisfied(whole, card)
    assert 0 < added.every < min(added.rules) and max(added.rules) < 250
    spread = constraints.measure(whole, Context(), card, added)
    assert [m.as_json() for m in spread] == [
        m.as_json() for m in constraints.measure(whole, Context(), card)
    ]
    # the real table's partitions are not judged by the rules
    assert counts(card, encode_part(card, frames["real"], "r"), "real")[1] is None
