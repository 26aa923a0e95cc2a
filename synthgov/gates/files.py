"""The files gate: every governance file the pull request changes must load, sit where the
layout puts it, and leave alone what is append-only.

A malformed or unsafe file is a finding here (exit 1: the pull request is what is under
review), never an error of the run (BRIEF §10.6). What was approved and shipped is never
rewritten, and governance history is never deleted: a merged release is revoked instead.
"""

from __future__ import annotations

from synthgov.decision.findings import Finding, Severity
from synthgov.errors import InputError
from synthgov.files.consistency import card_problems, constraint_problems
from synthgov.files.loading import Loaded
from synthgov.models import Policy

#: A release's files that never change once on the base: what was approved and shipped,
#: its revocation (rewritten, it would stop naming the revoked table) and its
#: revalidation records (re-dated, one would postpone the schedule).
MERGED_FIXED = ("manifest", "report", "revocation", "revalidation")

#: Governance files outside a release whose history is append-only.
KEPT = ("card", "ledger", "policy", "reviewers")


def block(rule: str, path: str, message: str, fix: str | None = None) -> Finding:
    """A hard error of the files gate on line 1 of `path` (a whole-file problem)."""
    return Finding(
        gate="files",
        rule=rule,
        severity=Severity.ERROR,
        message=message,
        file=path,
        line=1,
        enforcement="hard",
        fix=fix,
    )


def invalid(exc: InputError, rule: str = "files.invalid") -> list[Finding]:
    """One finding per problem of a file that does not load (or a card that contradicts)."""
    return [
        Finding(
            gate="files",
            rule=rule,
            severity=Severity.ERROR,
            message=p.message,
            file=p.location.path,
            line=p.location.line or 1,
            enforcement="hard",
            fix="Fix the file so that `synthgov validate` passes.",
        )
        for p in exc.problems
    ]


def unknown(path: str) -> Finding:
    """A file under a governed folder that the layout does not place."""
    return block("files.unknown", path, "not a governance file (see docs/files/ for the layout)")


def card_findings(loaded: Loaded, policy: Loaded[Policy]) -> list[Finding]:  # type: ignore[type-arg]
    """A card's constraints that contradict each other, and overrides the policy forbids."""
    found: list[Finding] = []
    for rule, problems in (
        ("files.card_constraint", constraint_problems(loaded)),
        ("files.card_override", card_problems(loaded, policy)),
    ):
        if problems:
            found += invalid(InputError(problems), rule)
    return found


def deleted(path: str, kind: str) -> Finding | None:
    """The finding for deleting a file outside any release, or None when that is allowed."""
    if kind not in KEPT:
        return None
    return block("files.deleted", path, f"{path} is deleted; governance history is append-only")


def removed_from_release(path: str) -> Finding:
    """A release's file deleted: a merged release is revoked, never removed."""
    return block(
        "files.deleted", path, f"{path} is deleted; a merged release is revoked, never removed"
    )


def record_deleted(path: str) -> Finding:
    """A revalidation record deleted: what it says (a failed one withdraws the release for
    good) is part of the governance history, which is never deleted."""
    return block(
        "files.deleted",
        path,
        f"{path} is deleted; a revalidation record is part of the governance history "
        "and is never deleted",
        "Restore the record. A failed revalidation withdraws the release for good: "
        "release a new version, or revoke this one.",
    )


def changed_after_merge(path: str) -> Finding:
    """A release's fixed file (`MERGED_FIXED`) rewritten after the release reached the base."""
    return block(
        "files.changed",
        path,
        f"{path} is changed, but its release is on the base already: "
        "what was approved and shipped is never rewritten",
        "Restore the base's file; release a new version, or revoke this one.",
    )
