"""Typed models of every governance file kind, and the kind registry.

The models are imported on first use, not with the package: building a pydantic class
costs milliseconds, and `check` of one release reads a few of the twelve kinds
(docs/benchmarks.md, "check"). `from synthgov.models import Card` imports the card's
module only; `KINDS` imports a kind's module when that kind is looked up.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from synthgov.models.approval import Approval
    from synthgov.models.audit import Audit
    from synthgov.models.card import Card
    from synthgov.models.checkpoint import Checkpoint
    from synthgov.models.ledger import Ledger
    from synthgov.models.manifest import Manifest
    from synthgov.models.policy import Policy
    from synthgov.models.report import Report
    from synthgov.models.revalidation import Revalidation
    from synthgov.models.reviewers import Registry
    from synthgov.models.revocation import Revocation
    from synthgov.models.waiver import Waiver

#: File kind -> (its module, its model's name), in the order `synthgov schema` lists them
#: (BRIEF §10.8).
_KINDS: dict[str, tuple[str, str]] = {
    "policy": ("policy", "Policy"),
    "reviewers": ("reviewers", "Registry"),
    "card": ("card", "Card"),
    "manifest": ("manifest", "Manifest"),
    "report": ("report", "Report"),
    "approval": ("approval", "Approval"),
    "ledger": ("ledger", "Ledger"),
    "waiver": ("waiver", "Waiver"),
    "revocation": ("revocation", "Revocation"),
    "revalidation": ("revalidation", "Revalidation"),
    "checkpoint": ("checkpoint", "Checkpoint"),
    "audit": ("audit", "Audit"),
}
_MODULE_OF = {name: module for module, name in _KINDS.values()}


def __getattr__(name: str) -> Any:
    """A model of the registry, its module imported on first use (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__, not importlib.import_module: `python -X importtime` sees only the former
    __import__(f"{__name__}.{module}")
    model = getattr(sys.modules[f"{__name__}.{module}"], name)
    globals()[name] = model
    return model


class Kinds(Mapping[str, "type[BaseModel]"]):
    """File kind -> model, in the order of `_KINDS`; a kind's module is imported when the
    kind is looked up, so iterating the kinds' names imports nothing."""

    def __getitem__(self, kind: str) -> type[BaseModel]:
        model: type[BaseModel] = __getattr__(_KINDS[kind][1])
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(_KINDS)

    def __len__(self) -> int:
        return len(_KINDS)


#: File kind -> model (BRIEF §10.8).
KINDS: Mapping[str, type[BaseModel]] = Kinds()

__all__ = [
    "KINDS",
    "Approval",
    "Audit",
    "Card",
    "Checkpoint",
    "Ledger",
    "Manifest",
    "Policy",
    "Registry",
    "Report",
    "Revalidation",
    "Revocation",
    "Waiver",
]
