"""Rules that span files: cards may only tighten the policy, waivers stay within its horizon.

Pure over loaded files: it reads models and their source maps and returns problems.
"""

from __future__ import annotations

from pydantic import BaseModel

from synthgov.errors import Problem
from synthgov.loading import Loaded
from synthgov.models import Card, Policy, Waiver
from synthgov.models.policy import Loosening, loosenings


def card_problems(card: Loaded[Card], policy: Loaded[Policy]) -> list[Problem]:
    """A card override that loosens the policy, named with the policy line it would relax."""
    problems = []
    model = card.model
    for found in loosenings(policy.model, model.classification, model.overrides):
        if isinstance(found, str):
            where = card.document.locate(("overrides", found), key=True)
            problems.append(
                Problem(where, f"overrides.{found}: no such rule (or alternative) in the policy")
            )
            continue
        assert isinstance(found, Loosening)
        where = card.document.locate(("overrides", found.rule_id, found.field))
        policy_at = policy.document.locate(found.policy_at)
        problems.append(
            Problem(
                where,
                f"overrides.{found.rule_id}.{found.field}: {found.card_value} loosens the "
                f"{model.classification.value} policy ({found.policy_value}, set at "
                f"{policy_at}); a card may only tighten",
            )
        )
    return problems


def waiver_problems(waiver: Loaded[Waiver], policy: Loaded[Policy]) -> list[Problem]:
    """A waiver must name a rule of the policy and expire within its maximum horizon."""
    problems = []
    model = waiver.model
    if model.rule not in policy.model.rules:
        where = waiver.document.locate(("rule",))
        problems.append(Problem(where, f"rule: {model.rule} is not a rule of the policy"))
    limit = policy.model.waivers.max_days
    if (model.expires_at - model.created_at).total_seconds() > limit * 86_400:
        where = waiver.document.locate(("expires_at",))
        at = policy.document.locate(("waivers", "max_days"))
        problems.append(
            Problem(
                where, f"expires_at: more than {limit} days after created_at (limit set at {at})"
            )
        )
    return problems


def problems_against_policy(loaded: Loaded[BaseModel], policy: Loaded[Policy]) -> list[Problem]:
    """Dispatch the cross-file rules that apply to one loaded file."""
    if isinstance(loaded.model, Card):
        return card_problems(loaded, policy)  # type: ignore[arg-type]
    if isinstance(loaded.model, Waiver):
        return waiver_problems(loaded, policy)  # type: ignore[arg-type]
    return []
