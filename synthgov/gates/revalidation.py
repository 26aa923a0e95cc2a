"""The revalidation gate: a record is about this release, dated no later than now, measured
on fresh data, and says what its own report says; a current release is revalidated on
its card's schedule (only a passing record restarts it), and one withdrawn by a failed
record or an expired waiver is reported until the owners act.

A hand-written `pass`, a record copied under a new date or one dated 2099 would switch the
schedule off, so records are judged like any other governance file (`files.revalidation`)
and the schedule's findings (`policy.revalidation_*`, `policy.waiver_expired`) block the
scheduled run (`decision/schedule.py`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from synthgov import clock
from synthgov.decision import withdrawals
from synthgov.decision.findings import Finding, Severity
from synthgov.decision.withdrawals import Withdrawal
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Document, Loaded, validate
from synthgov.gates import ReleaseContext, metrics
from synthgov.models import Card, Report
from synthgov.models.common import format_timestamp

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


def overdue(release: str, card: Card, since: datetime, now: datetime) -> Finding | None:
    """A current release past its card's `revalidation_days`, counted from `since`: its
    latest passing record, else its creation (a failed record never restarts the clock:
    it withdraws the release instead)."""
    if card.revalidation_days is None:
        return None
    due = clock.shift(since, timedelta(days=card.revalidation_days))
    if now < due:
        return None
    return Finding(
        gate="policy",
        rule="policy.revalidation_overdue",
        severity=Severity.ERROR,
        message=f"{release} was due for revalidation on {due:%Y-%m-%d} "
        f"({(now - due).days} days ago; every {card.revalidation_days} days per its card)",
        observed=float((now - since).days),
        threshold=float(card.revalidation_days),
        file=layout.card_path(Release.of(release).dataset),
        line=1,
        enforcement="mandatory",
        fix=f"synthgov revalidate {release} --real FRESH, then merge the record.",
    )


#: The scheduled run's rule for each cause of a withdrawal it reports (a revocation is
#: the owners' own act: nothing left to report).
WITHDRAWN_RULES = {
    withdrawals.REVALIDATION_FAILED: "policy.revalidation_failed",
    withdrawals.WAIVER_EXPIRED: "policy.waiver_expired",
}
_WITHDRAWN_FIXES = {
    withdrawals.REVALIDATION_FAILED: "Regenerate and release a new version, or revoke this one "
    "(a later passing revalidation does not bring it back).",
    withdrawals.WAIVER_EXPIRED: "Replace the expired waiver with a new one approved in time "
    "(`synthgov waiver new`), release a new version that passes, or revoke this one.",
}


def withdrawn(release: str, taken: Withdrawal, fallback: str | None) -> Finding:
    """A release withdrawn by a failed revalidation or an expired waiver that nothing has
    superseded: consumers already use the fallback (as status says it), the owners must act."""
    folder = Release.of(release).folder
    where = "revalidations" if taken.cause == withdrawals.REVALIDATION_FAILED else "waivers"
    when = f" on {taken.at:%Y-%m-%d}" if taken.at else ""
    return Finding(
        gate="policy",
        rule=WITHDRAWN_RULES[taken.cause],
        severity=Severity.ERROR,
        message=f"{release} is withdrawn ({taken.cause}: {taken.reason}){when}; "
        f"fallback {fallback or 'none'}",
        observed=format_timestamp(taken.at) if taken.at else None,
        file=f"{folder}/{where}",
        line=1,
        enforcement="mandatory",
        fix=_WITHDRAWN_FIXES[taken.cause],
    )
