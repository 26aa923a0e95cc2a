"""The digests an approval binds (pure): of a release, a waiver, a revocation, or a change
to policy/, a card or the budgets.

A digest binds an approval to the content it approves, computed from the files' parsed
data rather than their bytes, so that a comment or a re-indentation does not void an
approval while any change of a value does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from synthgov.signing.canonical import canonical


def _sha256(data: Any) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def release_digest(manifest: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    """sha256 over the canonical manifest, report and artifact hash of a release."""
    artifact = manifest.get("artifact")
    sha = artifact.get("sha256") if isinstance(artifact, Mapping) else None
    return _sha256({"artifact_sha256": sha, "manifest": manifest, "report": report})


def waiver_digest(release: str, waiver: Mapping[str, Any]) -> str:
    return _sha256({"release": release, "waiver": waiver})


def revocation_digest(release: str, revocation: Mapping[str, Any]) -> str:
    return _sha256({"release": release, "revocation": revocation})


def policy_digest(
    base: Mapping[str, Any],
    proposed: Mapping[str, Any],
    classifications: Mapping[str, tuple[str, str]],
) -> str:
    """sha256 over a change of the trust root, what a policy admin approves: the base's
    policy and registry, the proposed ones, and every dataset's classification change.
    Binding the base as well makes an old approval useless for rolling back to the state
    it approved once."""
    changes = {dataset: list(pair) for dataset, pair in sorted(classifications.items())}
    return _sha256({"base": base, "proposed": proposed, "classifications": changes})


def card_digest(dataset: str, base: Mapping[str, Any], proposed: Mapping[str, Any]) -> str:
    """sha256 over a change of an existing card: the card on the base and as proposed.
    Binding the base makes the approval of A -> B useless for rolling B back to A."""
    return _sha256({"dataset": dataset, "base": base, "proposed": proposed})


def budget_digest(
    ledgers: Mapping[str, tuple[Any, Any]], sources: Mapping[str, tuple[str, str]]
) -> str:
    """sha256 over a change of the privacy budgets: per ledger path, its header on the base
    (None: a new ledger) and as proposed; per dataset, its card's source on the base and
    as proposed."""
    return _sha256(
        {
            "ledgers": {
                path: {"base": pair[0], "proposed": pair[1]}
                for path, pair in sorted(ledgers.items())
            },
            "sources": {dataset: list(pair) for dataset, pair in sorted(sources.items())},
        }
    )
