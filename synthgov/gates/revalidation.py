"""The revalidation gate: a record is about this release, dated no later than now, measured
on fresh data, and says what its own report says; a current release is revalidated on
its card's schedule (only a passing record restarts it) and no record of it failed.

A hand-written `pass`, a record copied under a new date or one dated 2099 would switch the
schedule off, so records are judged like any other governance file (`files.revalidation`)
and the schedule's findings (`policy.revalidation_*`) block the scheduled run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from synthgov import clock
from synthgov.decision.findings import Finding, Severity
from synthgov.decision.withdrawals import first_failed
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Document, Loaded, validate
from synthgov.gates import ReleaseContext, metrics
from synthgov.models import Card, Manifest, Report

if TYPE_CHECKING:
    from synthgov.models import Revalidation


def failing_rules(ctx: ReleaseContext, report: dict[str, Any]) -> list[str]:
    """The blocking metric rules of the release (as `check` judges it) on another report."""
    document = Document(ctx.report.document.path, report)
    fresh = replace(ctx, report=Loaded(validate(document, Report), document))
    return sorted(
        {f.rule for f in metrics.check(fresh) if f.blocks and f.enforcement != "advisory"}
    )


def content(table: Any) -> str:
    """A report input's identity: its content fingerprint, else its bytes' sha256."""
    return str(table.fingerprint or table.sha256)


def record_findings(
    ctx: ReleaseContext, loaded: Loaded[Revalidation], seen: dict[str, str]
) -> list[Finding]:
    """One record of the release; `seen` maps the real data measured so far to where
    (the release's own tables, earlier records), and learns this record's."""
    record = loaded.model
    artifact = ctx.manifest.model.artifact.sha256
    problems = []
    if record.artifact_sha256 != artifact or record.report.inputs.synthetic.sha256 != artifact:
        problems.append(("artifact_sha256", "is not the release's artifact"))
    if clock.is_future(record.revalidated_at, ctx.now):
        problems.append(("revalidated_at", "is in the future"))  # after the clock + skew
    measured = content(record.report.inputs.real)
    if measured in seen:  # an earlier record copied under a new date postpones the schedule
        problems.append(
            (
                "report",
                f"measures real data already used by {seen[measured]}: "
                "a revalidation measures fresh data",
            )
        )
    seen.setdefault(measured, loaded.document.path)
    rules = failing_rules(ctx, loaded.document.data["report"])
    if rules != sorted(record.blocking) or record.verdict != ("blocked" if rules else "pass"):
        problems.append(
            (
                "verdict",
                f"does not match its report (the report fails: {', '.join(rules) or 'nothing'})",
            )
        )
    found = []
    for field_name, message in problems:
        spot = loaded.document.locate((field_name,))
        found.append(
            Finding(
                gate="files",
                rule="files.revalidation",
                severity=Severity.ERROR,
                message=f"{field_name} {message}",
                file=spot.path,
                line=spot.line,
                enforcement="hard",
                fix="Write records with `synthgov revalidate`; never edit them.",
            )
        )
    return found


def clock_start(manifest: Manifest, records: list[Revalidation]) -> datetime:
    """Where a release's revalidation clock runs from: its latest passing record, else its
    creation. A failed record never restarts it (it withdraws the release instead)."""
    passed = [r.revalidated_at for r in records if r.verdict == "pass"]
    return max([manifest.created_at, *passed])


def schedule_findings(
    release: str,
    card: Card,
    manifest: Manifest,
    records: list[Revalidation],
    now: datetime,
) -> list[Finding]:
    """A current release with a failed record (the first, by `revalidated_at`, none dated
    after `now`: a later pass does not undo it), or that is past its card's
    `revalidation_days`, counted from its latest passing record or else its creation."""
    ref = Release.of(release)
    dataset, folder = ref.dataset, ref.folder
    found = []
    failed = first_failed(records)
    if failed is not None:
        found.append(
            Finding(
                gate="policy",
                rule="policy.revalidation_failed",
                severity=Severity.ERROR,
                message=f"{release}'s revalidation of {failed.revalidated_at:%Y-%m-%d} "
                f"fails {', '.join(failed.blocking)} on fresh data: the release is withdrawn",
                file=f"{folder}/revalidations",
                line=1,
                enforcement="mandatory",
                fix="Regenerate and release a new version, or revoke this one.",
            )
        )
    last = clock_start(manifest, records)
    due = clock.shift(last, timedelta(days=card.revalidation_days or 0))
    if card.revalidation_days is not None and now >= due:
        found.append(
            Finding(
                gate="policy",
                rule="policy.revalidation_overdue",
                severity=Severity.ERROR,
                message=f"{release} was due for revalidation on {due:%Y-%m-%d} "
                f"({(now - due).days} days ago; every {card.revalidation_days} days per its card)",
                observed=float((now - last).days),
                threshold=float(card.revalidation_days),
                file=layout.card_path(dataset),
                line=1,
                enforcement="mandatory",
                fix=f"synthgov revalidate {release} --real FRESH, then merge the record.",
            )
        )
    return found
