"""Builders of real, hash-chained ledgers for tests (through synthgov's own append)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from synthgov.budget import ledgers
from synthgov.files.loading import Loaded, parse_document, parse_yaml, validate
from synthgov.files.writing import to_yaml
from synthgov.models import Ledger
from synthgov.models.ledger import Entry

PATH = "budgets/claims-db.yaml"

HEADER = """\
# Privacy-budget ledger of claims-db (a test fixture).
schema_version: 1
source: {source}
privacy_unit: one member
notion: {notion}
cap: {cap}
entries: []
"""

CAPS = {
    "pure": "{epsilon: 3.0}",
    "approx": "{epsilon: 3.0, delta: 0.000001}",
    "zcdp": "{rho: 0.5, delta: 0.000001}",
}


def empty(notion: str = "approx", cap: str | None = None, source: str = "claims-db") -> str:
    return HEADER.format(source=source, notion=notion, cap=cap or CAPS[notion])


def append(
    text: str, release: str, when: str = "2026-09-02T10:00:00Z", mechanism: str = "aim", **loss: str
) -> str:
    """`text` with a debit of `release` appended exactly as `synthgov budget debit` does."""
    data = parse_yaml(text.encode(), PATH).data
    index = len(ledgers.entries(data))
    entry = Entry.model_validate(
        {
            "seq": index + 1,
            "release": release,
            "mechanism": mechanism,
            "loss": {k: Decimal(v) for k, v in loss.items()},
            "recorded_at": when,
            "prev_sha256": ledgers.link(data, index),
        }
    )
    new = ledgers.append(text, to_yaml(entry))
    assert new is not None
    return new


def build(
    debits: list[tuple[str, dict[str, str]]], notion: str = "approx", cap: str | None = None
) -> str:
    text = empty(notion, cap)
    for day, (release, loss) in enumerate(debits, start=1):
        text = append(text, release, f"2026-09-{day:02d}T10:00:00Z", **loss)
    return text


def load(text: str, path: str = PATH) -> Loaded[Ledger]:
    doc = parse_document(text.encode(), path)
    return Loaded(validate(doc, Ledger), doc)


def figures(manifest_text: str) -> dict[str, str]:
    """The DP figures a manifest declares, as written (empty for notion none)."""
    privacy = parse_yaml(manifest_text.encode(), "m.yaml").data["privacy"]
    return {k: format(v, "f") for k, v in privacy.items() if k in ("epsilon", "delta", "rho")}


def for_release(manifest_text: str, release: str = "claims@1.10") -> dict[str, Any]:
    """ReleaseContext fields: an empty base ledger and, for a DP release, its debit at head."""
    base = empty()
    loss = figures(manifest_text)
    head = append(base, release, **loss) if loss else base
    return {"ledger": load(head), "base_ledger": load(base)}


def debit(repo: Path, manifest_text: str, release: str = "claims@1.10", path: str = PATH) -> None:
    """Append the manifest's debit to the repository's ledger (nothing for notion none)."""
    loss = figures(manifest_text)
    if loss:
        target = repo / path
        target.write_text(append(target.read_text(), release, **loss))
