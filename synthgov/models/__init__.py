"""Typed models of every governance file kind, and the kind registry."""

from __future__ import annotations

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

#: File kind -> model, in the order `synthgov schema` lists them (BRIEF §10.8).
KINDS: dict[str, type[BaseModel]] = {
    "policy": Policy,
    "reviewers": Registry,
    "card": Card,
    "manifest": Manifest,
    "report": Report,
    "approval": Approval,
    "ledger": Ledger,
    "waiver": Waiver,
    "revocation": Revocation,
    "revalidation": Revalidation,
    "checkpoint": Checkpoint,
    "audit": Audit,
}

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
