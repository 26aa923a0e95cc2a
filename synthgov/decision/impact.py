"""The impact of a proposed policy: releases on the base that pass today but would be
blocked under it.

Advice for the policy admins who approve the change, never a block. Approvals are judged
by their embedded signatures and missing ones only warn: the question is what the new
rules and thresholds would change.
"""

from __future__ import annotations

from dataclasses import replace

from synthgov.decision.decide import check_release
from synthgov.decision.findings import Finding
from synthgov.decision.sides import Tree, release_of
from synthgov.decision.trust import Trust
from synthgov.files import layout
from synthgov.files.loading import Loaded
from synthgov.gates import policy
from synthgov.models import Policy


def policy_impact(proposed: Loaded[Policy], trust: Trust, base: Tree) -> list[Finding]:
    """A `policy.impact` warning per base release the proposed policy would newly block."""
    current = replace(trust, provenance=None, enforce_approvals=False)
    after_policy = replace(current, policy=proposed)
    releases = sorted({r for p in base.list("datasets") if (r := release_of(p))})
    found = []
    for release in releases:
        after, _ = check_release(release, (), after_policy, base, base)
        if after.verdict != "blocked":
            continue
        if check_release(release, (), current, base, base)[0].verdict == "blocked":
            continue  # already blocked today: not this change's doing
        rules = sorted({f.rule for f in after.findings if f.blocks})
        found.append(policy.impact(release, rules, layout.POLICY))
    return found
