"""Rules that span files: cards may only tighten the policy, waivers stay within its horizon,
a card's row constraints parse and fit the card's columns, and a card protects the privacy
unit of its source's ledger.

Pure over loaded files: it reads models and their source maps and returns problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from synthgov.errors import ExpressionError, Problem
from synthgov.files.loading import Loaded
from synthgov.models import Card, Policy, Waiver
from synthgov.models.common import Enforcement
from synthgov.models.policy import card_override_problems

if TYPE_CHECKING:
    from synthgov.models import Ledger


def card_problems(card: Loaded[Card], policy: Loaded[Policy]) -> list[Problem]:
    """A card override that loosens the policy, named with the policy line it would relax."""
    problems = []
    model = card.model
    for found in card_override_problems(policy.model, model.classification, model.overrides):
        field = ("overrides", found.rule_id) + ((found.field,) if found.field else ())
        where = card.document.locate(field, key=found.field is None)
        message = f"{'.'.join(field)}: {found.message}"
        if found.policy_at is not None:
            at = policy.document.locate(found.policy_at)
            message = message[:-1] + f", set at {at}); a card may only tighten"
        problems.append(Problem(where, message))
    return problems


def constraint_problems(card: Loaded[Card]) -> list[Problem]:
    """Each row constraint whose rule does not parse, names an unknown column or mixes types."""
    from synthgov.expressions import parse_rule  # a gate that reads no card's rules skips it

    columns = {c.name: c.type for c in card.model.columns}
    problems = []
    for index, constraint in enumerate(card.model.constraints):
        try:
            parse_rule(constraint.rule, columns)
        except ExpressionError as exc:
            where = card.document.locate(("constraints", index, "rule"))
            problems.append(Problem(where, f"constraints.{index}.rule: {exc}"))
    return problems


def same_unit(card: Card, ledger: Ledger) -> bool:
    """Whether a card and its source's ledger name the same privacy unit (case and spacing
    aside): the budget protects the ledger's, the card promises its own."""
    return _unit(card.source.privacy_unit) == _unit(ledger.privacy_unit)


def _unit(text: str) -> str:
    return " ".join(text.split()).casefold()


def unit_problems(card: Loaded[Card], ledger: Loaded[Ledger]) -> list[Problem]:
    """A card whose privacy unit is not its source's ledger's, named at the card's line."""
    if card.model.source.id != ledger.model.source or same_unit(card.model, ledger.model):
        return []
    where = card.document.locate(("source", "privacy_unit"))
    at = ledger.document.locate(("privacy_unit",))
    return [
        Problem(
            where,
            f"source.privacy_unit: {card.model.source.privacy_unit!r} is not the privacy unit "
            f"of {at.path} ({ledger.model.privacy_unit!r}, line {at.line}); the budget protects "
            "the ledger's unit, so the card must name the same one",
        )
    ]


def waiver_problems(waiver: Loaded[Waiver], policy: Loaded[Policy]) -> list[Problem]:
    """A waiver names a waivable rule of the policy, a threshold in the metric's range, and
    expires within the policy's maximum horizon."""
    problems = []
    model = waiver.model
    rule = policy.model.rules.get(model.rule)
    if rule is None:
        where = waiver.document.locate(("rule",))
        problems.append(Problem(where, f"rule: {model.rule} is not a rule of the policy"))
    elif rule.enforcement is Enforcement.HARD:
        where = waiver.document.locate(("rule",))
        at = policy.document.locate(("rules", model.rule, "enforcement"))
        problems.append(
            Problem(where, f"rule: {model.rule} is hard (set at {at}); it cannot be waived")
        )
    elif problem := rule.out_of_range(model.relax_to):
        problems.append(Problem(waiver.document.locate(("relax_to",)), f"relax_to: {problem}"))
    elif (beyond := _beyond_bound(waiver, policy)) is not None:
        problems.append(beyond)
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


def _beyond_bound(waiver: Loaded[Waiver], policy: Loaded[Policy]) -> Problem | None:
    """A `relax_to` past the policy's `waivers.max_relax` bound for its rule, or a rule
    the policy gives no bound (not waivable): a waiver may not switch a rule off."""
    model = waiver.model
    rule = policy.model.rules[model.rule]
    where = waiver.document.locate(("relax_to",))
    bound = policy.model.waivers.max_relax.get(model.rule)
    if bound is None:
        at = policy.document.locate(("waivers",), key=True)
        return Problem(
            where,
            f"relax_to: the policy sets no waivers.max_relax bound for "
            f"{model.rule} (waivers at {at}), so it cannot be waived",
        )
    if rule.is_tighter_or_equal(model.relax_to, bound):
        return None
    at = policy.document.locate(("waivers", "max_relax", model.rule))
    return Problem(
        where,
        f"relax_to: {model.relax_to:g} goes beyond the policy's bound for "
        f"{model.rule} ({rule.op} {bound:g}, set at {at})",
    )


def problems_against_policy(loaded: Loaded[BaseModel], policy: Loaded[Policy]) -> list[Problem]:
    """Dispatch the cross-file rules that apply to one loaded file."""
    if isinstance(loaded.model, Card):
        return card_problems(loaded, policy)  # type: ignore[arg-type]
    if isinstance(loaded.model, Waiver):
        return waiver_problems(loaded, policy)  # type: ignore[arg-type]
    return []
