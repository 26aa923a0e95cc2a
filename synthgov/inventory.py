"""What the repository holds and in which state, per dataset (pure; no I/O).

Shared by `synthgov status` and `synthgov catalog`, so that both tell a consumer the same
thing. The command gathers the files at HEAD and a verdict on each release: a release
merged on the base is judged as the audit judges it, at its merge commit (that commit's
base policy, registry and clock: `audit/merged.py`); one the base does not hold yet is
judged as `check` would judge it now. This module decides:

- approved: the release passed (at its merge, or now when not merged) and nothing
  withdrew it since;
- withdrawn: a revocation, a failed revalidation or the expiry of a waiver it passed
  through took it away (`decision/withdrawals.py`), with the date and the fallback (the
  newest earlier release still approved, or none); a revoked release is withdrawn;
- current: the approved release with the latest manifest `created_at`, so a withdrawn
  release falls back to the last known good one;
- pending: neither passing nor withdrawn, with the rules that block it;
- next revalidation: the card's `revalidation_days` after the current release's latest
  PASSING revalidation, else after its manifest's `created_at` (a failed one never
  restarts the clock: it withdraws the release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from synthgov import clock
from synthgov.decision import withdrawals
from synthgov.decision.findings import ReleaseResult, RuleScore
from synthgov.decision.withdrawals import Withdrawal
from synthgov.models import Card, Manifest, Report, Revocation


@dataclass(frozen=True)
class Score:
    """One policy rule on one release as `check` judges it (`judged`: the value, the bound
    the decision used, threshold, margin, and the alternative), and the waiver's expiry
    when a waiver relaxed its finding."""

    judged: RuleScore
    waived_until: datetime | None = None

    @property
    def rule(self) -> str:
        return self.judged.rule

    @property
    def passed(self) -> bool:
        return self.judged.decision == "pass"

    @property
    def result(self) -> str:
        """pass | pass via alternative | waived until DATE | inconclusive | fail."""
        if self.passed:
            return "pass via alternative" if self.judged.by_alternative else "pass"
        if self.waived_until is not None:
            return f"waived until {self.waived_until:%Y-%m-%d}"
        return self.judged.decision


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
    verdict: str  # pass | blocked: at its merge when merged (`judged`), else now
    blocking: tuple[str, ...] = ()
    manifest: Manifest | None = None  # None: it does not load (the release is blocked)
    revocation: Revocation | None = None
    revocation_problem: str | None = None  # a revocation.yaml that does not load
    revalidated_at: datetime | None = None  # the latest passing revalidation
    scores: tuple[Score, ...] = ()
    approvals: tuple[CountedApproval, ...] = ()
    required: dict[str, int] = field(default_factory=dict)  # role -> count the tier requires
    withdrawal: Withdrawal | None = None  # what took it away after it passed
    #: the first-parent commit that merged it, whose decision the verdict is (None: not
    #: merged on the base, judged as the gate would judge it at `judged_at`)
    merge_commit: str | None = None
    judged_at: datetime | None = None  # the clock of that decision
    report: Report | None = None  # the release's report.json (the catalog draws its page)

    @property
    def created_at(self) -> datetime | None:
        return self.manifest.created_at if self.manifest else None

    @property
    def is_revoked(self) -> bool:
        return self.revocation is not None or self.revocation_problem is not None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawal is not None or self.is_revoked

    @property
    def is_approved(self) -> bool:
        return self.verdict == "pass" and not self.is_withdrawn


@dataclass(frozen=True)
class DatasetState:
    dataset: str
    card: Card | None  # None: the card does not load at HEAD (see problems)
    releases: tuple[ReleaseState, ...]  # in version-folder order
    budget: dict[str, Any] | None = None  # `budget status` JSON of the source's ledger
    problems: tuple[str, ...] = ()  # what could not be read, one line each


def _order(release: ReleaseState) -> tuple[datetime, str]:
    assert release.created_at is not None  # callers keep releases with a manifest
    return (release.created_at, release.version)


def current(state: DatasetState) -> ReleaseState | None:
    """The release consumers should use: the newest approved (so not withdrawn) one."""
    good = [r for r in state.releases if r.is_approved and r.created_at is not None]
    return max(good, key=_order, default=None)


def fallback(state: DatasetState, release: ReleaseState) -> ReleaseState | None:
    """What replaces a withdrawn release: the newest earlier release still approved."""
    if release.created_at is None:
        return current(state)
    mark = _order(release)
    good = [
        r for r in state.releases if r.is_approved and r.created_at is not None and _order(r) < mark
    ]
    return max(good, key=_order, default=None)


def pending(state: DatasetState) -> list[ReleaseState]:
    return [r for r in state.releases if r.verdict != "pass" and not r.is_withdrawn]


def revoked(state: DatasetState) -> list[ReleaseState]:
    return [r for r in state.releases if r.is_revoked]


def withdrawn(state: DatasetState) -> list[ReleaseState]:
    return [r for r in state.releases if r.is_withdrawn]


def outstanding(state: DatasetState) -> list[ReleaseState]:
    """Releases withdrawn by a failed revalidation or an expired waiver that the owners have
    not acted on: not revoked, and no newer release is current (`check --scheduled`
    reports them; status shows their fallback)."""
    now_current = current(state)
    return [
        r
        for r in state.releases
        if r.withdrawal is not None
        and not r.is_revoked
        and (now_current is None or r.created_at is None or _order(r) > _order(now_current))
    ]


def withdrawal_summary(state: DatasetState, release: ReleaseState) -> dict[str, Any]:
    """One withdrawn release: why, since when, and what replaces it."""
    found = release.withdrawal or withdrawals.revoked(
        release.revocation, release.revocation_problem
    )
    assert found is not None  # only asked of withdrawn releases
    replaced_by = fallback(state, release)
    return {
        "release": release.release,
        **found.as_json(),
        "fallback": replaced_by.release if replaced_by else None,
    }


def state_of(state: DatasetState, release: ReleaseState) -> str:
    """current | approved | pending | revoked | withdrawn."""
    if release.is_revoked:
        return "revoked"
    if release.is_withdrawn:
        return "withdrawn"
    now_current = current(state)
    if now_current is not None and release.release == now_current.release:
        return "current"
    return "approved" if release.verdict == "pass" else "pending"


def revalidation_due(state: DatasetState, release: ReleaseState | None) -> date | None:
    """When a release is due to be re-measured: its card's `revalidation_days` after its
    latest passing revalidation, else after its creation (None: no cadence, no manifest)."""
    if state.card is None or state.card.revalidation_days is None or release is None:
        return None
    if release.created_at is None:
        return None
    since = max(release.created_at, release.revalidated_at or release.created_at)
    return clock.shift(since, timedelta(days=state.card.revalidation_days)).date()


def next_revalidation(state: DatasetState) -> date | None:
    """When the current release is due to be re-measured (None: no cadence or no release)."""
    return revalidation_due(state, current(state))


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


def artifact(release: ReleaseState | None) -> dict[str, Any] | None:
    """Where the release's table lives (only a URL with a host: a local path is never
    shown) and what it holds: the content fingerprint (None in manifests that predate it)
    and the file's sha256."""
    if release is None or release.manifest is None:
        return None
    found = release.manifest.artifact
    return {
        "location": published_location(found.location),
        "fingerprint": found.fingerprint,
        "sha256": found.sha256,
        "rows": found.rows,
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
        "artifact": artifact(now_current),
        "pending": [{"release": r.release, "blocking": list(r.blocking)} for r in pending(state)],
        "revoked": [revocation_summary(r) for r in revoked(state)],
        "withdrawn": [withdrawal_summary(state, r) for r in withdrawn(state)],
        "budget": state.budget,
        "next_revalidation": due.isoformat() if due else None,
        "problems": list(state.problems),
    }


def is_overdue(due: date | None, today: date) -> bool:
    return due is not None and due < today


def scorecard(result: ReleaseResult) -> tuple[Score, ...]:
    """Every policy rule as `check` judged it on the release, with the expiry of the
    waiver that relaxed its finding, if one did."""
    waived = {f.rule: f.waiver.expires_at for f in result.findings if f.waiver is not None}
    return tuple(Score(s, waived.get(s.rule)) for s in result.scores)


_REMOTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://[^/\\]")


def published_location(location: str) -> str | None:
    """The artifact's location when it names a place others reach (a URL with a host, such
    as `s3://bucket/key` or `https://host/path`), else None: a local path (absolute or
    relative, `~`, `file://`, a Windows drive) is the author's machine and is never
    published."""
    if _REMOTE.match(location) and not location.lower().startswith("file:"):
        return location
    return None
