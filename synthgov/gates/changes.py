"""Changes a pull request makes outside any release that need approvals (pure).

A dataset card is a contract: its consumers rely on its intended uses and limits, and
every release is judged against it. A change to an existing card therefore needs the
approvals of its tier (the classification on the base), signed over a digest of the card
on the base and as proposed, like a release; tightening changes too, since what is
"tighter" is not always decidable (a rewritten constraint) and consumers should know. What
the change loosens is named, one warning each, whether or not it is approved.

A privacy budget is set by its ledger's header: creating a ledger, changing an existing
ledger's header (cap, notion, privacy unit) or moving a card to another source (whose
ledger its releases then debit) needs the approvals of the base policy's
`budget_changes`. Without them a pull request could give a dataset a fresh budget of its
own choosing.

The decision (`synthgov.decision.changes`) gathers the files and the approval evidence;
this module describes the changes and turns missing approvals into the findings that
name them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from synthgov.decision.findings import Finding, Severity
from synthgov.decision.review import Evidence, Subject
from synthgov.files.loading import KeyPath, Loaded
from synthgov.gates.approvals import findings_for
from synthgov.models import Card, Policy
from synthgov.models.card import Column
from synthgov.models.common import Classification
from synthgov.models.policy import RuleOverride
from synthgov.signing.canonical import canonical

#: Card fields whose items a change may only add to without loosening, and those it may
#: only remove from. (Adding an intended use widens the card; removing a prohibited
#: column lets an identifier through.)
_GROW_LOOSENS = ("intended_uses", "access_groups")
_SHRINK_LOOSENS = (
    "prohibited_uses",
    "limitations",
    "prohibited_columns",
    "quasi_identifiers",
    "subgroup_columns",
    "secret_columns",
)
_ORDER = list(Classification)


@dataclass(frozen=True)
class CardChange:
    """One difference between the card on the base and as proposed."""

    text: str  # e.g. "intended_uses widened: + 'marketing'"
    loosens: bool
    loc: KeyPath  # where the proposed card shows it (its parent, for a removal)


def _q(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _items(field: str, old: Sequence[Any], new: Sequence[Any]) -> list[CardChange]:
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    found = []
    if added:
        loosens = field in _GROW_LOOSENS
        verb = "widened" if loosens else "extended"
        found.append(
            CardChange(
                f"{field} {verb}: " + ", ".join(f"+ {_q(v)}" for v in added),
                loosens,
                (field, new.index(added[0])),
            )
        )
    for value in removed:
        found.append(
            CardChange(f"{field}: {_q(value)} removed", field in _SHRINK_LOOSENS, (field,))
        )
    if not added and not removed and list(old) != list(new):
        found.append(CardChange(f"{field}: order changed", False, (field,)))
    return found


def _limit(
    field: str, old: int | None, new: int | None, *, larger_loosens: bool
) -> list[CardChange]:
    if old == new:
        return []
    loosens = new is None or (old is not None and (new > old) == larger_loosens)
    shown = "none" if new is None else str(new)
    return [
        CardChange(f"{field}: {old if old is not None else 'none'} -> {shown}", loosens, (field,))
    ]


def _column(index: int, old: Column, new: Column) -> list[CardChange]:
    name, at = new.name, ("columns", index)
    found = []

    def change(what: str, loosens: bool, key: str) -> None:
        found.append(CardChange(f"column {_q(name)}: {what}", loosens, (*at, key)))

    if old.type != new.type:
        change(f"type {old.type.value} -> {new.type.value}", True, "type")
    if old.nullable != new.nullable:
        change(
            f"nullable {str(old.nullable).lower()} -> {str(new.nullable).lower()}",
            new.nullable,
            "nullable",
        )
    if old.unique != new.unique:
        change(
            f"unique {str(old.unique).lower()} -> {str(new.unique).lower()}",
            not new.unique,
            "unique",
        )
    for key, lower in (("min", True), ("max", False)):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            wider = after is None or (before is not None and (after < before) == lower)
            change(
                f"{key} {_q(before) if before is not None else 'none'} -> "
                f"{_q(after) if after is not None else 'none'}",
                wider,
                key,
            )
    old_values, new_values = old.allowed_values or [], new.allowed_values or []
    added = [v for v in new_values if v not in old_values]
    removed = [v for v in old_values if v not in new_values]
    if (old.allowed_values is None) != (new.allowed_values is None) or added or removed:
        if new.allowed_values is None:
            change("allowed_values removed", True, "allowed_values")
        else:
            parts = [f"+ {_q(v)}" for v in added] + [f"- {_q(v)}" for v in removed]
            change(
                f"allowed_values {', '.join(parts) or 'set'}",
                bool(added) and old.allowed_values is not None,
                "allowed_values",
            )
    if old.pattern != new.pattern:
        change(
            f"pattern {_q(old.pattern)} -> {_q(new.pattern)}", old.pattern is not None, "pattern"
        )
    if old.description != new.description:
        change("description changed", False, "description")
    return found


def _columns(old: Card, new: Card) -> list[CardChange]:
    before = {c.name: c for c in old.columns}
    after = {c.name: c for c in new.columns}
    found = [
        CardChange(f"columns: {_q(n)} added", False, ("columns", i))
        for i, n in enumerate(after)
        if n not in before
    ]
    found += [
        CardChange(f"columns: {_q(n)} removed", False, ("columns",))
        for n in before
        if n not in after
    ]
    for index, column in enumerate(new.columns):
        if column.name in before:
            found += _column(index, before[column.name], column)
    kept_before = [n for n in before if n in after]
    kept_after = [n for n in after if n in before]
    if kept_before != kept_after:  # order decides the attack column sets (BRIEF §10.18)
        found.append(CardChange("columns: order changed", False, ("columns",)))
    return found


def _constraints(old: Card, new: Card) -> list[CardChange]:
    before = {c.name: c for c in old.constraints}
    after = {c.name: c for c in new.constraints}
    found = []
    for index, (name, constraint) in enumerate(after.items()):
        if name not in before:
            found.append(
                CardChange(f"constraints: {_q(name)} added", False, ("constraints", index))
            )
        elif before[name].rule != constraint.rule:
            found.append(
                CardChange(
                    f"constraints: {_q(name)} rule {_q(before[name].rule)} -> {_q(constraint.rule)}",
                    True,
                    ("constraints", index, "rule"),
                )
            )
    found += [
        CardChange(f"constraints: {_q(n)} removed", True, ("constraints",))
        for n in before
        if n not in after
    ]
    return found


def _overrides(old: Card, new: Card, policy: Policy) -> list[CardChange]:
    found = []
    for rule_id, before in old.overrides.items():
        after = new.overrides.get(rule_id)
        if after is None:
            found.append(CardChange(f"override {rule_id} removed", True, ("overrides",)))
        elif after != before:
            loosens = _override_loosens(policy, rule_id, before, after)
            found.append(
                CardChange(
                    f"override {rule_id} changed ({_override(before)} -> {_override(after)})",
                    loosens,
                    ("overrides", rule_id),
                )
            )
    found += [
        CardChange(f"override {rule_id} added ({_override(o)})", False, ("overrides", rule_id))
        for rule_id, o in new.overrides.items()
        if rule_id not in old.overrides
    ]
    return found


def _override(override: RuleOverride) -> str:
    parts = [
        f"{k} {v.value if hasattr(v, 'value') else f'{v:g}'}"
        for k, v in (
            ("threshold", override.threshold),
            ("alternative", override.alternative),
            ("enforcement", override.enforcement),
        )
        if v is not None
    ]
    return ", ".join(parts)


def _override_loosens(policy: Policy, rule_id: str, old: RuleOverride, new: RuleOverride) -> bool:
    """Whether any value of the override is dropped or set looser than it was."""
    rule = policy.rules.get(rule_id)
    if rule is None:
        return True  # the policy no longer knows the rule: cannot tell, so say so
    checks: list[tuple[Any, Any, Callable[[Any, Any], bool]]] = [
        (old.threshold, new.threshold, rule.is_tighter_or_equal),
        (old.enforcement, new.enforcement, lambda a, b: a.rank >= b.rank),
    ]
    if rule.alternative is not None:
        checks.append((old.alternative, new.alternative, rule.alternative.is_tighter_or_equal))
    for before, after, tighter_or_equal in checks:
        if before is not None and (after is None or not tighter_or_equal(after, before)):
            return True
    return False


def card_changes(old: Card, new: Card, policy: Policy) -> list[CardChange]:
    """Every difference between two versions of a card, loosenings marked.

    Fields without a rule of their own are named as changed, so that nothing a card
    says changes unnamed.
    """
    found: list[CardChange] = []
    done = {
        "schema_version",
        "columns",
        "constraints",
        "overrides",
        "classification",
        "retention_days",
        "revalidation_days",
        "target",
        "source",
        *_GROW_LOOSENS,
        *_SHRINK_LOOSENS,
    }
    if old.classification != new.classification:
        lower = _ORDER.index(new.classification) < _ORDER.index(old.classification)
        found.append(
            CardChange(
                f"classification {old.classification.value} -> {new.classification.value}",
                lower,
                ("classification",),
            )
        )
    if old.source != new.source:
        if old.source.id != new.source.id:
            found.append(
                CardChange(
                    f"source.id {_q(old.source.id)} -> {_q(new.source.id)} (another "
                    "privacy budget)",
                    True,
                    ("source", "id"),
                )
            )
        if old.source.privacy_unit != new.source.privacy_unit:
            found.append(
                CardChange("source.privacy_unit changed", True, ("source", "privacy_unit"))
            )
    for field in (*_GROW_LOOSENS, *_SHRINK_LOOSENS):
        found += _items(field, getattr(old, field), getattr(new, field))
    found += _limit("retention_days", old.retention_days, new.retention_days, larger_loosens=True)
    found += _limit(
        "revalidation_days", old.revalidation_days, new.revalidation_days, larger_loosens=True
    )
    if old.target != new.target:
        shown = f"{_q(new.target.column)}" if new.target else "none"
        was = f"{_q(old.target.column)}" if old.target else "none"
        found.append(CardChange(f"target {was} -> {shown}", old.target is not None, ("target",)))
    found += _columns(old, new)
    found += _constraints(old, new)
    found += _overrides(old, new, policy)
    for field in type(new).model_fields:
        if field not in done and getattr(old, field) != getattr(new, field):
            found.append(CardChange(f"{field} changed", False, (field,)))
    return found


def same_data(a: Any, b: Any) -> bool:
    """Whether two parsed files hold the same data (comments and layout aside)."""
    return canonical(a) == canonical(b)


def as_change_findings(found: list[Finding], rule: str, gate: str) -> list[Finding]:
    """The approvals gate's findings, with its missing approvals renamed to the change's
    rule: what blocks is the change, and the fix is an approval of it."""
    return [replace(f, gate=gate, rule=rule) if f.rule == "approvals.missing" else f for f in found]


def _about(card: Card, loc: KeyPath) -> str:
    """What a card change is about, by name where the card names it (a column, a
    constraint), never by its position, so that reordering does not rename it."""
    parts = [str(part) for part in loc]
    if len(loc) >= 2 and loc[0] in ("columns", "constraints") and isinstance(loc[1], int):
        items = card.columns if loc[0] == "columns" else card.constraints
        if loc[1] < len(items):
            parts[1] = items[loc[1]].name
    return ".".join(parts)


def card_findings(
    subject: Subject, evidence: Evidence, card: Loaded[Card], changes: list[CardChange]
) -> list[Finding]:
    """A loosening warning per loosening, and the change's missing approvals as errors
    (`policy.card_change`) that list the whole change."""
    path = card.document.path
    found = [
        Finding(
            gate="policy",
            rule="policy.card_loosened",
            severity=Severity.WARNING,
            message=f"{path} loosens the card: {change.text}",
            file=path,
            line=card.document.locate(change.loc).line,
            enforcement="advisory",
            subject=_about(card.model, change.loc),
        )
        for change in changes
        if change.loosens
    ]
    summary = "; ".join(c.text for c in changes)
    for finding in as_change_findings(
        findings_for(subject, evidence), "policy.card_change", "policy"
    ):
        if finding.rule == "policy.card_change":
            finding = replace(finding, message=f"{finding.message} (the change: {summary})")
        found.append(finding)
    return found


@dataclass(frozen=True)
class BudgetChange:
    """What a pull request changes about privacy budgets, for the budget subject."""

    #: ledger path -> (header on the base or None for a new ledger, header as proposed)
    ledgers: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]]
    #: dataset -> (source on the base, source as proposed), for existing cards
    sources: dict[str, tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.ledgers or self.sources)

    def describe(self) -> str:
        parts = []
        for path, (base, proposed) in sorted(self.ledgers.items()):
            if base is None:
                parts.append(f"{path} is new (cap {_shown(proposed.get('cap'))})")
                continue
            changed = [
                key
                for key in {**base, **proposed}
                if not same_data(base.get(key), proposed.get(key))
            ]
            parts.append(
                f"{path}: "
                + ", ".join(
                    f"{key} {_shown(base.get(key))} -> {_shown(proposed.get(key))}"
                    for key in changed
                )
            )
        parts += [
            f"{dataset}'s source {old} -> {new}"
            for dataset, (old, new) in sorted(self.sources.items())
        ]
        return "; ".join(parts)


def _shown(value: Any) -> str:
    """A header value as a reader would write it: `{epsilon: 3.0}`, `approx`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return (
        "none"
        if value is None
        else format(value, "f")
        if hasattr(value, "as_tuple")
        else str(value)
    )


def budget_findings(subject: Subject, evidence: Evidence, change: BudgetChange) -> list[Finding]:
    """The budget change's missing approvals as `budget.change` errors, naming the change."""
    found = []
    for finding in as_change_findings(findings_for(subject, evidence), "budget.change", "budget"):
        if finding.rule == "budget.change":
            finding = replace(finding, message=f"{finding.message} ({change.describe()})")
        found.append(finding)
    return found


def approved(findings: list[Finding]) -> bool:
    """Whether a change's approvals are met: nothing of the change blocks."""
    return not any(f.blocks for f in findings)
