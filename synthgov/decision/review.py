"""One review of a subject's approvals, returning a result (as python-tuf's `VerificationResult`).

`review(subject, evidence)` never raises on a bad approval: it says, per approval file, whose
carrier verified or which numbered check the file fails and why, and per role who fills it
and how many are missing. The approvals gate reports its findings; `approve` asks it
"would this count?"; `status`, `release new` and `audit` read the signers and roles from
it. Nothing is verified twice: a file's check 1 is answered once per verifier
(`Filed.signature`, carriers looked up once), and the verifier remembers every signature
it verified, so whichever subject, command or report asks again reads the first answer.

The checks an approval file passes to count, in this order (BRIEF §5, signing.md §11):

- check 1 (`Check.SIGNATURE`): a carrier verifies, the embedded signature over the
  canonical payload or else a signed commit of the pull request that set these exact
  bytes, with a key the base registry gives this reviewer, valid at the checker's clock;
- check 2 (`Check.BINDING`): its signed payload names this kind of subject and this
  repository (the base policy's `repository`);
- check 3 (`Check.SIGNED_AT`): its `signed_at` is not after the checker's clock;
- check 4 (`Check.ROLE`): the reviewer holds the role in the base registry;
- check 5 (`Check.AUTHOR`): the reviewer is not an author of the subject;
- a `reject` that passes checks 1-5 stands, whichever version it rejected;
- check 6 (`Check.DIGEST`): its digest is the subject's as it is now.

Then a reject among the earlier versions of the files still stands unless its reviewer
decided again later, and each reviewer fills at most one slot (`fill`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from enum import IntEnum

from synthgov import clock
from synthgov.decision.findings import Finding, Severity
from synthgov.errors import SignatureError
from synthgov.files.loading import Loaded
from synthgov.models import Approval, Registry
from synthgov.models.common import format_timestamp
from synthgov.models.reviewers import Reviewer
from synthgov.signing import commits
from synthgov.signing.canonical import signed_payload
from synthgov.signing.signatures import Signer, Verifier


class Check(IntEnum):
    """The numbered checks of an approval file, in the order `review` applies them."""

    SIGNATURE = 1  # check 1: a carrier verifies with the reviewer's registered key, valid now
    BINDING = 2  # check 2: the signed payload names this subject's kind and this repository
    SIGNED_AT = 3  # check 3: signed_at is not in the future
    ROLE = 4  # check 4: the reviewer holds the role in the base registry
    AUTHOR = 5  # check 5: the reviewer is not an author of the subject
    DIGEST = 6  # check 6: the digest binds the subject as it is now


def _none() -> tuple[bytes, ...]:
    return ()


@dataclass(frozen=True)
class Filed:
    """An approval file at head, and how to find the signed commits that carry it."""

    loaded: Loaded[Approval]
    #: Raw commits of the pull request that set these exact bytes, authored by the reviewer
    #: and touching nothing but approval files; looked up only when the embedded signature
    #: does not verify.
    commits: Callable[[], tuple[bytes, ...]] = _none
    #: check 1's answer per verifier: a file's signature is verified once
    verified: dict[Verifier, tuple[Signer | None, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def path(self) -> str:
        return self.loaded.document.path

    def signature(self, verifier: Verifier) -> tuple[Signer | None, str]:
        """Check 1: the first carrier that verifies, else None and why the embedded one
        failed. Verified once per verifier; later calls read the first answer."""
        if verifier not in self.verified:
            self.verified[verifier] = _first_carrier(self, verifier)
        return self.verified[verifier]


def _first_carrier(filed: Filed, verifier: Verifier) -> tuple[Signer | None, str]:
    approval = filed.loaded.model
    payload = signed_payload(filed.loaded.document.data)
    try:
        signer = verifier.embedded(approval.signature, payload)
    except SignatureError as exc:
        why = f"embedded signature: {exc}"
    else:
        if signer.reviewer == approval.reviewer:
            return signer, ""
        why = f"embedded signature: made with {signer.reviewer}'s key, not {approval.reviewer}'s"
    carriers = filed.commits()
    for raw in carriers:
        try:
            signer = verifier.commit(raw)
        except SignatureError:
            continue
        if signer.reviewer == approval.reviewer:
            return signer, ""
    if carriers:
        why += "; no commit adding it is validly signed by the reviewer"
    return None, why


@dataclass(frozen=True)
class Evidence:
    """What the approvals of one subject are judged on, gathered by the decision."""

    registry: Registry  # the base branch's: the trust root
    verifier: Verifier
    approvals: tuple[Filed, ...]  # every approval file of the subject at head
    author_emails: frozenset[str]  # case-folded: manifest author, commit authors and committers
    author_commits: tuple[bytes, ...] = ()  # raw commits that made the authors
    enforce: bool = True  # False (pre-push): missing approvals warn instead of block
    #: Earlier versions of the subject's approval files (on the base, or in the pull
    #: request and since deleted or overwritten): a reject among them still stands.
    past: tuple[Loaded[Approval], ...] = ()
    #: Case-folded code-host logins that opened the pull request (`check --pr-author`).
    author_logins: frozenset[str] = frozenset()
    #: Whether the pull request's commits were examined (False with --no-git).
    history: bool = True


@dataclass(frozen=True)
class Subject:
    """What is approved: its label, digest and requirement, and where that was set."""

    label: str  # "claims@1.0", "waiver w1 of claims@1.0", "the change to policy/"
    digest: str
    required: dict[str, int]
    required_file: str
    required_line: int | None
    command: str  # how a reviewer approves it
    type: str  # the approvals' `subject`: release, waiver, revocation, policy, card, budget
    repository: str | None  # the base policy's repository id (None: the policy sets none)


@dataclass(frozen=True)
class FileReview:
    """One approval file of the subject: whose carrier verified, or the check it fails."""

    path: str
    approval: Approval
    signer: Signer | None  # check 1's verified carrier; None when none verified
    failed: Check | None = None  # the first check the file fails; None: it passed them all
    #: why it fails that check ("" when it passed them all); for check 1, why the embedded
    #: carrier did not verify, as the verifier says it
    reason: str = ""

    @property
    def explanation(self) -> str:
        """Why the file does not count, as the gate's finding says it ("" when it counts)."""
        if self.failed is Check.SIGNATURE:
            return f"no valid signature ({self.reason})"
        return self.reason

    @property
    def counts(self) -> bool:
        """It passed every check and approves: it can fill a slot of its role."""
        return self.failed is None and self.approval.decision == "approve"


@dataclass(frozen=True)
class Review:
    """The result of one review: per file, per role, and the findings the gate reports."""

    subject: Subject
    files: tuple[FileReview, ...]  # the subject's approval files at head, in order
    filled: dict[str, list[str]]  # role -> reviewers whose approval counts (one slot each)
    findings: tuple[Finding, ...]  # per-file notes, standing rejects, missing approvals

    @property
    def required(self) -> dict[str, int]:
        return self.subject.required

    def counted(self) -> tuple[FileReview, ...]:
        """The files that fill a slot of their role."""
        return tuple(
            f
            for f in self.files
            if f.counts and f.approval.reviewer in self.filled.get(f.approval.role, [])
        )


def binding_problem(subject: Subject, loaded: Loaded[Approval]) -> tuple[str, str] | None:
    """Check 2: (rule, why) when an approval's signed payload is not for this kind of
    subject in this repository: an approval is never replayed across subjects or
    repositories."""
    data, approval = loaded.document.data, loaded.model
    if subject.repository is None:
        return None  # a policy without an id binds nothing (check warns about it)
    if data.get("subject") != subject.type:
        named = data.get("subject")
        return (
            "approvals.type",
            f"its signed payload names {'no subject' if named is None else f'subject {named}'}, "
            f"not {subject.type}",
        )
    if approval.repository != subject.repository:
        named = approval.repository
        return (
            "approvals.repository",
            f"it was signed for {'no repository' if named is None else f'repository {named}'}, "
            f"not this one ({subject.repository}, the base policy's `repository`)",
        )
    return None


def author_reasons(evidence: Evidence) -> dict[str, str]:
    """Reviewer id -> why they are an author of the subject (the first reason found): any
    of their registered addresses on it or on a commit that touched it (author, committer
    or `Co-authored-by` trailer: a squash merge keeps only those), their key on such a
    commit, or the pull request opened under their login."""
    registry = evidence.registry
    found: dict[str, str] = {}
    for reviewer in registry.with_address(evidence.author_emails):
        address = sorted(reviewer.addresses & evidence.author_emails)[0]
        found.setdefault(reviewer.id, f"it names {address} as its author")
    for raw in evidence.author_commits:
        sha = commits.object_id(raw)[:12]
        made = frozenset(e.casefold() for e in commits.author_emails(raw))
        credited = frozenset(e.casefold() for e in commits.coauthor_emails(raw)) - made
        for emails, how in ((made, "was made as"), (credited, "names as a co-author")):
            for reviewer in registry.with_address(emails):
                address = sorted(reviewer.addresses & emails)[0]
                found.setdefault(
                    reviewer.id, f"commit {sha}, which wrote part of it, {how} {address}"
                )
        with suppress(SignatureError):  # unsigned or unknown: the addresses still count
            found.setdefault(
                evidence.verifier.commit_signer(raw),
                f"commit {sha}, which wrote part of it, is signed with their key",
            )
    for reviewer in registry.with_login(evidence.author_logins):
        found.setdefault(reviewer.id, f"the pull request was opened by @{reviewer.login}")
    return found


def _standing_rejects(
    subject: Subject, evidence: Evidence, decided: dict[str, Approval]
) -> list[Finding]:
    """Rejects that are no longer at head but were never superseded by the same reviewer's
    later signed decision (signing.md attack 27): deleting or overwriting one does not
    erase it."""
    found = []
    for loaded in evidence.past:
        old = loaded.model
        if old.decision != "reject" or binding_problem(subject, loaded) is not None:
            continue
        try:
            signer = evidence.verifier.embedded(old.signature, signed_payload(loaded.document.data))
        except SignatureError:
            continue  # a reject that never verified never blocked
        reviewer = evidence.registry.reviewer(signer.reviewer)
        if signer.reviewer != old.reviewer or reviewer is None or old.role not in reviewer.roles:
            continue
        now = decided.get(old.reviewer)
        if now is not None and now.signed_at > old.signed_at:
            continue  # the reviewer decided again, later
        path = loaded.document.path
        found.append(
            Finding(
                gate="approvals",
                rule="approvals.rejected",
                severity=Severity.ERROR,
                message=f"{path}: {old.reviewer} ({old.role}) rejected {subject.label} "
                f"at {format_timestamp(old.signed_at)}; removing or overwriting the file "
                "does not withdraw it: only the reviewer's later signed decision does",
                file=path,
                line=1,
                enforcement="hard",
                subject=path,
            )
        )
    return found


def _first_failure(
    subject: Subject, evidence: Evidence, filed: Filed, authored: dict[str, str]
) -> tuple[Check, str, str] | None:
    """(check, rule, why) of the first of checks 1-5 the file fails, else None."""
    approval = filed.loaded.model
    # check 1: a carrier verifies with the reviewer's registered key, valid now
    signer, why = filed.signature(evidence.verifier)
    if signer is None:
        return Check.SIGNATURE, "approvals.signature", why
    # check 2: the signed payload names this kind of subject and this repository
    if (bound := binding_problem(subject, filed.loaded)) is not None:
        return Check.BINDING, bound[0], bound[1]
    # check 3: signed_at is not after the checker's clock
    if clock.is_future(approval.signed_at, evidence.verifier.now):
        return (
            Check.SIGNED_AT,
            "approvals.signed_at",
            f"signed_at {format_timestamp(approval.signed_at)} is in the future",
        )
    reviewer = evidence.registry.reviewer(approval.reviewer)
    assert reviewer is not None  # check 1 verified one of their registered keys
    return standing(subject, reviewer, approval.role, authored)


def standing(
    subject: Subject, reviewer: Reviewer, role: str, authored: dict[str, str]
) -> tuple[Check, str, str] | None:
    """Checks 4 and 5, which need no signature: (check, rule, why) when `reviewer` may not
    fill `role` for this subject. `approve` asks them before the reviewer signs."""
    # check 4: the reviewer holds the role in the base registry
    if role not in reviewer.roles:
        return (
            Check.ROLE,
            "approvals.role",
            f"{reviewer.id} does not hold the role {role} in the base registry",
        )
    # check 5: the reviewer is not an author of what is approved
    if reviewer.id in authored:
        return (
            Check.AUTHOR,
            "approvals.author",
            f"{reviewer.id} is an author of {subject.label} and cannot approve it "
            f"({authored[reviewer.id]})",
        )
    return None


def review(subject: Subject, evidence: Evidence) -> Review:
    """The review of one subject's approvals (never raises on a bad approval)."""
    found: list[Finding] = []
    files: list[FileReview] = []
    authored = author_reasons(evidence)
    offers: dict[str, set[str]] = {}

    def note(path: str, rule: str, message: str, severity: Severity = Severity.WARNING) -> None:
        found.append(
            Finding(
                gate="approvals",
                rule=rule,
                severity=severity,
                file=path,
                line=1,
                message=f"{path}: {message}",
                enforcement="hard",
                subject=path,
            )
        )

    decided: dict[str, Approval] = {}  # reviewer -> their counted decision at head
    for filed in evidence.approvals:
        approval, path = filed.loaded.model, filed.path
        signer = filed.signature(evidence.verifier)[0]
        failure = _first_failure(subject, evidence, filed, authored)
        if failure is not None:
            check, rule, why = failure
            reviewed = FileReview(path, approval, signer, check, why)
            note(path, rule, f"not counted: {reviewed.explanation}")
            files.append(reviewed)
            continue
        decided[approval.reviewer] = approval
        if approval.decision == "reject":  # a valid reject stands, whichever version
            note(
                path,
                "approvals.rejected",
                f"{approval.reviewer} ({approval.role}) rejected {subject.label}"
                + (f": {approval.comment}" if approval.comment else ""),
                Severity.ERROR,
            )
            files.append(FileReview(path, approval, signer))
            continue
        # check 6: the digest binds the subject as it is now
        if approval.digest != subject.digest:
            why = (
                f"it approves another version of {subject.label} "
                "(changed since it was signed); the reviewer must approve again"
            )
            note(path, "approvals.stale", f"not counted: {why}")
            files.append(FileReview(path, approval, signer, Check.DIGEST, why))
            continue
        files.append(FileReview(path, approval, signer))
        offers.setdefault(approval.reviewer, set()).add(approval.role)
    found += _standing_rejects(subject, evidence, decided)
    filled = fill(subject.required, offers)
    for role, count in sorted(subject.required.items()):
        have = filled[role]
        if len(have) >= count:
            continue
        who = f" ({', '.join(have)})" if have else ""
        severity = Severity.ERROR if evidence.enforce else Severity.WARNING
        found.append(
            Finding(
                gate="approvals",
                rule="approvals.missing",
                severity=severity,
                message=f"{subject.label} needs {count} {role} approval(s) from distinct reviewers "
                f"who are not its authors, has {len(have)}{who}",
                observed=float(len(have)),
                threshold=float(count),
                file=subject.required_file,
                line=subject.required_line,
                threshold_file=subject.required_file,
                threshold_line=subject.required_line,
                enforcement="hard",
                fix=f"A reviewer with the role runs `{subject.command} --role {role}`.",
                subject=role,
            )
        )
    return Review(subject, tuple(files), filled, tuple(found))


def signatures(filed: Iterable[Filed], verifier: Verifier) -> tuple[FileReview, ...]:
    """Check 1 of each approval file, whatever its subject: the signer, or why no carrier
    verified (read from the review that verified it with this verifier, if any)."""
    found = []
    for one in filed:
        signer, why = one.signature(verifier)
        failed = None if signer is not None else Check.SIGNATURE
        found.append(FileReview(one.path, one.loaded.model, signer, failed, why))
    return tuple(found)


def fill(required: Mapping[str, int], offers: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """The most required slots that distinct reviewers can fill, role -> reviewer ids:
    thresholds count distinct people (signing.md §10, attack 12).

    `offers` maps a reviewer to the roles in which they validly approved. Each reviewer
    takes at most one slot (a bipartite matching by augmenting paths), so one person
    holding two roles cannot meet a two-role requirement alone, while the assignment
    never wastes a reviewer who could fill a role nobody else can.
    """
    slots = [role for role in sorted(required) for _ in range(required[role])]
    holder: dict[int, str] = {}  # slot index -> reviewer

    def place(reviewer: str, seen: set[int]) -> bool:
        for index, role in enumerate(slots):
            if role not in offers[reviewer] or index in seen:
                continue
            seen.add(index)
            if index not in holder or place(holder[index], seen):
                holder[index] = reviewer
                return True
        return False

    for reviewer in sorted(offers):
        place(reviewer, set())
    filled: dict[str, list[str]] = {role: [] for role in required}
    for index, reviewer in sorted(holder.items()):
        filled[slots[index]].append(reviewer)
    return {role: sorted(names) for role, names in filled.items()}
