"""What takes a release away after it passed (pure): a revocation, a failed revalidation,
or the expiry of a waiver it passed through. Nothing else does: a policy tightened or a
key that expired after the merge leaves a merged release as the audit judged it
(`audit/merged.py`).

- revoked: a `revocation.yaml` in the release folder (one that does not load too: a
  consumer is never pointed at a release someone tried to withdraw), at its `revoked_at`;
- revalidation failed: the first revalidation record (by `revalidated_at`, none after the
  clock) whose verdict is `blocked`, at its date. A later passing record does not bring
  the release back: re-measuring until a run passes is a re-roll (BRIEF §11.2); release a
  new version instead;
- waiver expired: a release that passed only because waivers relaxed some findings stops
  passing when the first of those waivers expires, at its `expires_at`.

A revocation is shown before the other causes; of the others, the earliest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from synthgov.decision.findings import WaiverRef
from synthgov.models.common import format_timestamp

if TYPE_CHECKING:  # types only: a check whose releases have no records builds neither model
    from synthgov.models import Revalidation, Revocation

REVOKED, REVALIDATION_FAILED, WAIVER_EXPIRED = "revoked", "revalidation failed", "waiver expired"


@dataclass(frozen=True)
class Withdrawal:
    """Why and since when a release is no longer to be used."""

    cause: str  # revoked | revalidation failed | waiver expired
    at: datetime | None  # None: a revocation that does not load (its date is unknown)
    reason: str  # one line

    def as_json(self) -> dict[str, object]:
        return {
            "cause": self.cause,
            "at": format_timestamp(self.at) if self.at else None,
            "reason": self.reason,
        }


def revoked(revocation: Revocation | None, problem: str | None) -> Withdrawal | None:
    if revocation is not None:
        kind = f"{revocation.incident_class}: "
        return Withdrawal(REVOKED, revocation.revoked_at, f"{kind}{revocation.reason}")
    if problem is not None:
        return Withdrawal(REVOKED, None, f"revocation.yaml does not load: {problem}")
    return None


def first_failed(records: Iterable[Revalidation]) -> Revalidation | None:
    """The earliest record whose verdict is blocked (callers leave out records dated after
    their clock)."""
    failed = [r for r in records if r.verdict == "blocked"]
    return min(failed, key=lambda r: r.revalidated_at, default=None)


def revalidation_failed(records: Iterable[Revalidation]) -> Withdrawal | None:
    record = first_failed(records)
    if record is None:
        return None
    rules = ", ".join(record.blocking) or "its metric rules"
    reason = f"the revalidation of {record.revalidated_at:%Y-%m-%d} fails {rules} on fresh data"
    return Withdrawal(REVALIDATION_FAILED, record.revalidated_at, reason)


def waiver_expired(waived: Iterable[tuple[str, WaiverRef]], now: datetime) -> Withdrawal | None:
    """`waived`: (rule, waiver) of each finding a waiver relaxed when the release passed."""
    ended = [(w.expires_at, rule, w) for rule, w in waived if w.expires_at <= now]
    if not ended:
        return None
    at, rule, waiver = min(ended, key=lambda e: (e[0], e[1]))
    reason = f"it passed {rule} only through waiver {waiver.id}, which expired on {at:%Y-%m-%d}"
    return Withdrawal(WAIVER_EXPIRED, at, reason)


def withdrawal(
    revocation: Revocation | None,
    revocation_problem: str | None,
    records: Iterable[Revalidation],
    waived: Iterable[tuple[str, WaiverRef]],
    now: datetime,
) -> Withdrawal | None:
    """The withdrawal shown for a release, None when nothing took it away."""
    first = revoked(revocation, revocation_problem)
    if first is not None:
        return first
    found = [w for w in (revalidation_failed(records), waiver_expired(waived, now)) if w]
    return min(found, key=lambda w: w.at or now, default=None)
