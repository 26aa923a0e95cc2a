"""The scheduled run (`check --scheduled`): which current releases are due for revalidation,
and (advisory) which of their waivers and which reviewer keys expire soon.

Each dataset's current release is its newest that is not revoked (by manifest
`created_at`; older versions are superseded). One withdrawn by a failed revalidation stays
here, reported (`policy.revalidation_failed`), until it is revoked or superseded: the
scheduled run is the alarm, while status already shows its fallback. Dates after the checker's clock count for
nothing and block: a manifest or record dated 2099 would switch the schedule off.
"""

from __future__ import annotations

from datetime import datetime

from synthgov.decision import expiry
from synthgov.decision.findings import Finding, ReleaseResult
from synthgov.decision.sides import Tree, kind_of, release_of
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import dates, files, revalidation
from synthgov.models import Card, Manifest, Registry, Waiver


def _current(
    head: Tree, releases: list[str], now: datetime
) -> tuple[dict[str, tuple[str, Manifest]], list[ReleaseResult]]:
    """dataset -> its newest non-revoked release (by manifest created_at) and manifest; and
    a blocking result for each manifest dated after `now`, which never becomes current.

    Raises:
        InputError: a manifest does not load.
    """
    newest: dict[str, tuple[str, Manifest]] = {}
    future = []
    for release in releases:
        ref = Release.of(release)
        dataset, folder = ref.dataset, ref.folder
        if head.read(f"{folder}/revocation.yaml") is not None:
            continue
        loaded: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", Manifest)
        manifest = loaded.model
        late = dates.future_finding(
            loaded.document,
            "created_at",
            manifest.created_at,
            now,
            f"Revoke {release} and release it again with `synthgov release new`.",
        )
        if late is not None:
            future.append(ReleaseResult(release, (late,)))
            continue
        if dataset not in newest or manifest.created_at > newest[dataset][1].created_at:
            newest[dataset] = (release, manifest)
    return newest, future


def overdue(head: Tree, now: datetime) -> list[ReleaseResult]:
    """Each current release past its card's `revalidation_days` or whose latest
    revalidation failed, and each date after `now` that would postpone the schedule."""
    from synthgov.models import Revalidation  # the scheduled run's; a check builds it not

    releases = sorted({r for p in head.list("datasets") if (r := release_of(p))})
    try:
        current, results = _current(head, releases, now)
    except InputError as exc:
        return [ReleaseResult("(releases)", tuple(files.invalid(exc)))]
    for dataset, (release, manifest) in sorted(current.items()):
        folder = Release.of(release).folder
        found: list[Finding] = []
        try:
            card: Card = head.load(layout.card_path(dataset), Card).model
            loaded: list[Loaded[Revalidation]] = [
                head.load(p, Revalidation)
                for p in head.list(f"{folder}/revalidations")
                if kind_of(p) == "revalidation"
            ]
        except InputError as exc:
            results.append(ReleaseResult(release, tuple(files.invalid(exc))))
            continue
        records = []
        for item in loaded:
            late = dates.future_finding(
                item.document,
                "revalidated_at",
                item.model.revalidated_at,
                now,
                "Write records with `synthgov revalidate`; never edit them.",
            )
            if late is not None:
                found.append(late)
            else:
                records.append(item.model)
        found += revalidation.schedule_findings(release, card, manifest, records, now)
        if found:
            results.append(ReleaseResult(release, tuple(found)))
    return results


def expiring(head: Tree, registry: Registry, now: datetime, days: int) -> list[Finding]:
    """Advisory findings: the current releases' waivers in force that end within `days`,
    and the registry's keys that expire within them (a waiver that does not load is left
    to the gate, which blocks its release)."""
    releases = sorted({r for p in head.list("datasets") if (r := release_of(p))})
    try:
        current, _ = _current(head, releases, now)
    except InputError:
        current = {}  # already a finding of `overdue`
    notices = []
    for release in sorted(r for r, _ in current.values()):
        folder = Release.of(release).folder
        loaded: list[Loaded[Waiver]] = []
        for path in head.list(f"{folder}/waivers"):
            if kind_of(path) != "waiver":
                continue
            try:
                loaded.append(head.load(path, Waiver))
            except InputError:
                continue
        notices += expiry.waivers(release, loaded, now, days)
    notices += expiry.keys(registry, now, days, layout.REVIEWERS)
    return [expiry.finding(n) for n in notices]
