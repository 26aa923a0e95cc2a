"""The scheduled run (`check --scheduled`): what the owners of the releases at HEAD must act
on, judged exactly as `status` and the catalog judge them (`decision/status.py` gathers the
view, `inventory.current` and `inventory.outstanding` read it), so that the three always
name the same current release and the same withdrawals:

- each dataset's current release past its card's `revalidation_days`, counted from its
  latest passing revalidation, else its creation (`policy.revalidation_overdue`);
- each release withdrawn by a failed revalidation (`policy.revalidation_failed`) or by the
  expiry of a waiver it passed through (`policy.waiver_expired`) that is neither revoked
  nor superseded by a newer current release: consumers already fall back to an earlier
  release, and the run fails until the owners revoke it, renew the waiver or release a new
  version. A revoked release is left alone: revoking was the owners' act;
- advisory: the notices of `status` (waivers of approved releases and reviewer keys that
  expire within the policy's `expiry_warning_days`).

Dates after the checker's clock count for nothing and block: a manifest or a record dated
2099 would switch the schedule off.
"""

from __future__ import annotations

from datetime import datetime

from synthgov import inventory
from synthgov.decision import expiry
from synthgov.decision.findings import Finding, ReleaseResult
from synthgov.decision.sides import Tree, kind_of
from synthgov.decision.status import StatusView
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import dates, files, revalidation
from synthgov.inventory import DatasetState
from synthgov.models import Card, Manifest, Revalidation


def _future_manifests(head: Tree, state: DatasetState, now: datetime) -> list[ReleaseResult]:
    """A blocking result for each manifest not revoked that does not load or is dated
    after `now` (such a release is never current, and would never fall due)."""
    results = []
    for release in state.releases:
        if release.is_revoked:
            continue
        path = f"{Release.of(release.release).folder}/manifest.yaml"
        try:
            loaded: Loaded[Manifest] = head.load(path, Manifest)
        except InputError as exc:
            results.append(ReleaseResult(release.release, tuple(files.invalid(exc))))
            continue
        late = dates.future_finding(
            loaded.document,
            "created_at",
            loaded.model.created_at,
            now,
            f"Revoke {release.release} and release it again with `synthgov release new`.",
        )
        if late is not None:
            results.append(ReleaseResult(release.release, (late,)))
    return results


def _records(head: Tree, release: str, now: datetime) -> list[Finding]:
    """Revalidation records that do not load or are dated after `now` (status leaves them
    out of the clock: the release is due sooner, never later)."""
    found: list[Finding] = []
    for path in head.list(f"{Release.of(release).folder}/revalidations"):
        if kind_of(path) != "revalidation":
            continue
        try:
            item: Loaded[Revalidation] = head.load(path, Revalidation)
        except InputError as exc:
            found += files.invalid(exc)
            continue
        late = dates.future_finding(
            item.document,
            "revalidated_at",
            item.model.revalidated_at,
            now,
            "Write records with `synthgov revalidate`; never edit them.",
        )
        if late is not None:
            found.append(late)
    return found


def _current(head: Tree, state: DatasetState, now: datetime) -> list[Finding]:
    """The current release's schedule: its records' problems, and overdue."""
    current = inventory.current(state)
    if current is None or current.created_at is None:
        return []
    found = _records(head, current.release, now)
    try:
        card: Card = head.load(layout.card_path(state.dataset), Card).model
    except InputError as exc:
        return found + files.invalid(exc)
    since = max(current.created_at, current.revalidated_at or current.created_at)
    late = revalidation.overdue(current.release, card, since, now)
    return found + ([late] if late else [])


def overdue(view: StatusView, head: Tree, now: datetime) -> list[ReleaseResult]:
    """What blocks the scheduled run, per release: overdue current releases, withdrawals
    the owners have not acted on, and dates after `now` that would postpone the schedule."""
    found: dict[str, list[Finding]] = {}
    for state in view.datasets:
        for result in _future_manifests(head, state, now):
            found.setdefault(result.release, []).extend(result.findings)
        current = inventory.current(state)
        if current is not None:
            found.setdefault(current.release, []).extend(_current(head, state, now))
        for release in inventory.outstanding(state):
            assert release.withdrawal is not None  # outstanding: withdrawn, not revoked
            fallback = inventory.fallback(state, release)
            finding = revalidation.withdrawn(
                release.release, release.withdrawal, fallback.release if fallback else None
            )
            found.setdefault(release.release, []).append(finding)
    return [ReleaseResult(r, tuple(f)) for r, f in sorted(found.items()) if f]


def expiring(view: StatusView) -> list[Finding]:
    """Advisory findings: exactly the notices `status` and the catalog show."""
    return [expiry.finding(n) for n in view.notices]
