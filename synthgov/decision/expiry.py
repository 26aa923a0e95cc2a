"""What expires soon: waivers and reviewer keys within the policy's `expiry_warning_days`
of the checker's clock (pure).

`status`, the catalog and `check --scheduled` warn of them so that a waiver is renewed or
a key replaced before a release loses its standing. A warning never blocks; what has
already expired is judged elsewhere (`waivers.expired`, a key no longer valid) and is not
warned of here.

A key's `revoked_at` that lies after the clock is not a revocation yet: the key still
verifies until then, as the verifier treats it (`signing.signatures`). It ends the key's
validity at that date all the same, so it is warned of as that end, like `valid_before`
(whichever comes first), and says that a revocation ends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from synthgov.decision.findings import Finding, Severity
from synthgov.files.loading import Loaded
from synthgov.models import Registry, Waiver
from synthgov.models.common import format_timestamp


@dataclass(frozen=True)
class Notice:
    """A waiver or a reviewer's key that expires within the warning window."""

    kind: str  # waiver | key
    subject: str  # the waiver id, or the reviewer id
    expires_at: datetime
    days_left: int
    release: str | None = None  # the waiver's release
    fingerprint: str | None = None  # the key's
    file: str | None = None
    by_revocation: bool = False  # a key's end is its future `revoked_at`, not `valid_before`

    @property
    def message(self) -> str:
        left = {0: "today", 1: "tomorrow"}.get(self.days_left, f"in {self.days_left} days")
        when = f"{self.expires_at:%Y-%m-%d} ({left})"
        if self.kind == "waiver":
            return f"waiver {self.subject} of {self.release} ends on {when}"
        if self.by_revocation:
            return f"reviewer {self.subject}'s key {self.fingerprint} is revoked from {when}"
        return f"reviewer {self.subject}'s key {self.fingerprint} expires on {when}"

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "release": self.release,
            "fingerprint": self.fingerprint,
            "expires_at": format_timestamp(self.expires_at),
            "days_left": self.days_left,
            "ends_by": "revocation" if self.by_revocation else "expiry",
            "message": self.message,
        }


def _soon(expires_at: datetime, now: datetime, days: int) -> int | None:
    """Calendar days left when `expires_at` is after `now` and at most `days` calendar days
    on (counted by date, so that a whole day reads the same), else None."""
    if days <= 0 or expires_at <= now:
        return None
    left = (expires_at.date() - now.date()).days
    return left if left <= days else None


def waivers(
    release: str, loaded: Iterable[Loaded[Waiver]], now: datetime, days: int
) -> list[Notice]:
    """The release's waivers in force at `now` that end within `days`."""
    found = []
    for item in loaded:
        waiver = item.model
        left = _soon(waiver.expires_at, now, days)
        if left is None or waiver.created_at > now:
            continue
        found.append(
            Notice("waiver", waiver.id, waiver.expires_at, left, release, file=item.document.path)
        )
    return sorted(found, key=lambda n: (n.expires_at, n.subject))


def keys(registry: Registry, now: datetime, days: int, path: str) -> list[Notice]:
    """The registry's keys valid at `now` whose end falls within `days`: `valid_before`,
    or a `revoked_at` after `now` when that comes first."""
    found = []
    for reviewer in registry.reviewers:
        for key in reviewer.keys:
            if not key.is_valid_at(now):  # revoked or expired already, or not valid yet
                continue
            ends: list[tuple[datetime, bool]] = []
            if key.valid_before is not None:
                ends.append((key.valid_before, False))
            if key.revoked_at is not None:  # after `now`: the key is valid until then
                ends.append((key.revoked_at, True))
            if not ends:
                continue
            end, by_revocation = min(ends)
            left = _soon(end, now, days)
            if left is not None:
                found.append(
                    Notice(
                        "key",
                        reviewer.id,
                        end,
                        left,
                        fingerprint=key.fingerprint,
                        file=path,
                        by_revocation=by_revocation,
                    )
                )
    return sorted(found, key=lambda n: (n.expires_at, n.subject))


def finding(notice: Notice) -> Finding:
    """The advisory finding of `check --scheduled` (a warning: never blocks)."""
    rule = "policy.waiver_expiring" if notice.kind == "waiver" else "policy.key_expiring"
    fix = (
        "Fix the release, or renew the waiver with a new one approved in time."
        if notice.kind == "waiver"
        else "Register the reviewer's next key in policy/reviewers.yaml before this one expires."
    )
    return Finding(
        gate="policy",
        rule=rule,
        severity=Severity.WARNING,
        message=notice.message,
        observed=float(notice.days_left),
        file=notice.file,
        line=1,
        enforcement="advisory",
        fix=fix,
        subject=notice.subject if notice.kind == "waiver" else notice.fingerprint,
    )
