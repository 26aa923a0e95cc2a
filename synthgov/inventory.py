"""What the repository holds and in which state, per dataset (pure; no I/O).

Shared by `synthgov status` and `synthgov catalog`, so that both tell a consumer the same
thing. The command gathers the files at HEAD and the gate's verdict on each release (the
same judgement as `check`, with the base branch as trust root); this module decides:

- approved: the release passes the gate as judged now;
- revoked: a `revocation.yaml` sits in the release folder at HEAD (even one that does not
  load: a consumer is never pointed at a release someone tried to withdraw);
- current: the approved, non-revoked release with the latest manifest `created_at`, so a
  revoked release falls back to the last known good one;
- pending: neither passing nor revoked, with the rules that block it;
- next revalidation: the card's `revalidation_days` after the current release's latest
  revalidation, else after its manifest's `created_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from synthgov import clock
from synthgov.decision.rules import Ruling
from synthgov.gates import ReleaseContext
from synthgov.gates.metrics import scorecard as judged_rules
from synthgov.metrics.metric_ids import METRICS
from synthgov.models import Card, Manifest, Revocation


@dataclass(frozen=True)
class Score:
    """One policy rule on one release: the observed aggregate against its threshold."""

    rule: str
    metric: str
    op: str
    threshold: float
    observed: float | None  # None: the report lacks the metric
    where: str | None  # the column or pair that decided it
    passed: bool
    enforcement: str
    upper: float | None  # the metric's range, for drawing a bar (None: unbounded)
    decision: str = "pass"  # pass | inconclusive | fail
    interval: tuple[float, float] | None = None  # at the policy's level
    by_alternative: bool = False  # passed through the rule's alternative


@dataclass(frozen=True)
class CountedApproval:
    """An approval that counts towards the release's required roles."""

    reviewer: str
    role: str
    decision: str
    signed_at: datetime
    fingerprint: str
    carrier: str  # embedded | commit
    comment: str | None = None


@dataclass(frozen=True)
class ReleaseState:
    release: str  # dataset@version
    version: str
    verdict: str  # pass | blocked, as the gate judges it now
    blocking: tuple[str, ...] = ()
    manifest: Manifest | None = None  # None: it does not load (the release is blocked)
    revocation: Revocation | None = None
    revocation_problem: str | None = None  # a revocation.yaml that does not load
    revalidated_at: datetime | None = None  # the latest revalidation
    scores: tuple[Score, ...] = ()
    approvals: tuple[CountedApproval, ...] = ()
    required: dict[str, int] = field(default_factory=dict)  # role -> count the tier requires

    @property
    def created_at(self) -> datetime | None:
        return self.manifest.created_at if self.manifest else None

    @property
    def is_revoked(self) -> bool:
        return self.revocation is not None or self.revocation_problem is not None

    @property
    def is_approved(self) -> bool:
        return self.verdict == "pass" and not self.is_revoked


@dataclass(frozen=True)
class DatasetState:
    dataset: str
    card: Card | None  # None: the card does not load at HEAD (see problems)
    releases: tuple[ReleaseState, ...]  # in version-folder order
    budget: dict[str, Any] | None = None  # `budget status` JSON of the source's ledger
    problems: tuple[str, ...] = ()  # what could not be read, one line each


def current(state: DatasetState) -> ReleaseState | None:
    """The release consumers should use: the newest approved, non-revoked one."""
    good = [r for r in state.releases if r.is_approved and r.created_at is not None]
    return max(good, key=lambda r: (r.created_at, r.version), default=None)


def pending(state: DatasetState) -> list[ReleaseState]:
    return [r for r in state.releases if r.verdict != "pass" and not r.is_revoked]


def revoked(state: DatasetState) -> list[ReleaseState]:
    return [r for r in state.releases if r.is_revoked]


def next_revalidation(state: DatasetState) -> date | None:
    """When the current release is due to be re-measured (None: no cadence or no release)."""
    release = current(state)
    if state.card is None or state.card.revalidation_days is None or release is None:
        return None
    since = release.revalidated_at or release.created_at
    assert since is not None  # current() only picks releases with a manifest
    return clock.shift(since, timedelta(days=state.card.revalidation_days)).date()


def revocation_summary(release: ReleaseState) -> dict[str, Any]:
    found = release.revocation
    if found is None:
        reason = f"revocation.yaml does not load: {release.revocation_problem}"
        return {"release": release.release, "incident_class": None, "reason": reason}
    return {
        "release": release.release,
        "incident_class": found.incident_class,
        "reason": found.reason,
    }


def summary(state: DatasetState) -> dict[str, Any]:
    """The `status --format json` entry of one dataset."""
    card, now_current, due = state.card, current(state), next_revalidation(state)
    return {
        "dataset": state.dataset,
        "title": card.title if card else None,
        "classification": card.classification.value if card else None,
        "owner": card.owner if card else None,
        "current": now_current.release if now_current else None,
        "pending": [{"release": r.release, "blocking": list(r.blocking)} for r in pending(state)],
        "revoked": [revocation_summary(r) for r in revoked(state)],
        "budget": state.budget,
        "next_revalidation": due.isoformat() if due else None,
        "problems": list(state.problems),
    }


def is_overdue(due: date | None, today: date) -> bool:
    return due is not None and due < today


def scorecard(ctx: ReleaseContext) -> tuple[Score, ...]:
    """Every policy rule as `check` judges it: the tier's and the card's overrides, the
    estimate, its interval at the policy's level, and the decision."""
    scores = []
    for scored in judged_rules(ctx):
        current, rule, judged = scored.rule, scored.rule.rule, scored.primary
        spec = METRICS.get(rule.metric)
        scores.append(
            Score(
                rule=current.rule_id,
                metric=rule.metric,
                op=rule.op,
                threshold=current.threshold,
                observed=judged.value,
                where=judged.where,
                passed=scored.decision is Ruling.PASS,
                enforcement=current.enforcement.value,
                upper=spec.upper if spec else None,
                decision=scored.decision.value,
                interval=judged.interval,
                by_alternative=scored.by_alternative,
            )
        )
    return tuple(scores)
