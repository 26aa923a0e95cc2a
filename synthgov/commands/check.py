"""`synthgov check`: the pull-request gate.

The trust root is the base commit: its policy (and, for an existing dataset, its card's
classification) decides; nothing the pull request changes under policy/ applies to it
(BRIEF §5). The changed files are `git diff merge-base(base, head)..head`; every release
they touch is evaluated by the engine. A malformed governance file in the pull request is a
`files` finding (exit 1: it is what is under review); what prevents a decision, such as an
unknown base or a base policy that cannot be loaded, is exit 2 (BRIEF §10.6).
"""

from __future__ import annotations

import builtins
import hashlib
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import click

from synthgov import approvals, clock, engine, governance, layout, ledgers, outputs
from synthgov.consistency import card_problems, constraint_problems
from synthgov.content import RevokedTable, Table
from synthgov.errors import GitError, InputError
from synthgov.findings import Finding, ReleaseResult, Severity, Verdict
from synthgov.gates import ReleaseContext, budget, dates, metrics
from synthgov.gates.approvals import (
    Evidence,
    Filed,
    budget_subject,
    card_subject,
    judge,
    policy_subject,
)
from synthgov.gates.changes import (
    BudgetChange,
    approved,
    as_change_findings,
    budget_findings,
    card_changes,
    card_findings,
    same_data,
)
from synthgov.gates.policy import artifact_table
from synthgov.history import Repository
from synthgov.loading import Document, Loaded, validate
from synthgov.models import (
    Approval,
    Card,
    Ledger,
    Manifest,
    Policy,
    Registry,
    Report,
    Revalidation,
    Revocation,
)
from synthgov.models.common import Classification
from synthgov.paths import iter_files, read_bytes
from synthgov.provenance import Provenance
from synthgov.signatures import Verifier

RELEASE_KINDS = ("manifest", "report", "approval", "waiver", "revocation", "revalidation")
#: A release's files that never change once on the base: what was approved and shipped,
#: its revocation (rewritten, it would stop naming the revoked table) and its
#: revalidation records (re-dated, one would postpone the schedule).
MERGED_FIXED = ("manifest", "report", "revocation", "revalidation")


@lru_cache(maxsize=8192)
def _parsed(raw: bytes, path: str, kind: str | None) -> Loaded:  # type: ignore[type-arg]
    """Parse and validate once per content: `policy_impact` judges every release twice and
    the releases of one dataset share their card and ledger. Loaded models are frozen."""
    return governance.load_bytes(raw, path, kind)


@dataclass(frozen=True)
class Tree:
    """One side of the comparison: how to read a file and list a folder."""

    read: Callable[[str], bytes | None]
    list: Callable[[str], list[str]]
    #: Paths under a folder with a given file name, in one go (git: one `ls-tree`).
    named: Callable[[str, str], builtins.list[str]] | None = None
    #: A content id of a folder (git: its tree id), to cache what is derived from it.
    folder_id: Callable[[str], str | None] | None = None

    def find(self, prefix: str, name: str) -> builtins.list[str]:
        if self.named is not None:
            return self.named(prefix, name)
        return [p for p in self.list(prefix) if p.rsplit("/", 1)[-1] == name]

    def load(self, path: str, kind: str | None = None) -> Loaded:  # type: ignore[type-arg]
        raw = self.read(path)
        if raw is None:
            raise InputError.at(
                path,
                "missing"
                + (
                    ": a release needs its manifest.yaml, report.json and card"
                    if path.startswith("datasets/")
                    else ""
                ),
            )
        return _parsed(raw, path, kind)


@dataclass(frozen=True)
class Trust:
    """What a run judges with: the base's policy and registry, its clock, the pull
    request's history (None with --no-git: embedded signatures only)."""

    policy: Loaded[Policy]
    registry: Registry
    verifier: Verifier
    now: datetime
    provenance: Provenance | None = None
    enforce_approvals: bool = True
    pr_author: str | None = None  # the code-host login that opened the pull request
    #: Ledgers whose creation or header change the pull request's approvals cover: the
    #: budget gate judges them by their proposed header.
    approved_ledgers: frozenset[str] = frozenset()


def working_tree(root: Path) -> Tree:
    def read(path: str) -> bytes | None:
        full = root / path
        return read_bytes(root, path) if full.exists() or full.is_symlink() else None

    return Tree(read, lambda prefix: [p.as_posix() for p in iter_files(root, prefix)])


def _files_findings(exc: InputError, rule: str = "files.invalid") -> list[Finding]:
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


def _approval_evidence(
    folder: str,
    head: Tree,
    trust: Trust,
    author_prefixes: tuple[str, ...],
    author_emails: frozenset[str] = frozenset(),
) -> Evidence:
    """Every approval file under `folder` at head (with a lazy lookup of its signed
    carriers), the earlier versions of those files, and the authors."""
    filed, current = [], {}
    provenance = trust.provenance
    for path in head.list(folder):
        if _kind(path) != "approval":
            continue
        raw = head.read(path)
        assert raw is not None  # listed a moment ago
        current[path] = raw
        loaded: Loaded[Approval] = governance.load_bytes(raw, path, "approval")  # type: ignore[assignment]
        reviewer = trust.registry.reviewer(loaded.model.reviewer)
        if provenance is not None and reviewer is not None:
            carriers = partial(provenance.carriers, path, raw, reviewer.email)
            filed.append(Filed(loaded, carriers))
        else:
            filed.append(Filed(loaded))
    past: list[Loaded[Approval]] = []
    history: tuple[bytes, ...] = ()
    if provenance is not None:
        for path, raw in provenance.past_approvals(folder, current):
            with suppress(InputError):  # an old malformed version decided nothing
                past.append(governance.load_bytes(raw, path, "approval"))  # type: ignore[arg-type]
        history = provenance.author_commits(*author_prefixes)
    logins = frozenset({trust.pr_author.casefold()} if trust.pr_author else ())
    return Evidence(
        trust.registry,
        trust.verifier,
        tuple(filed),
        author_emails,
        history,
        trust.enforce_approvals,
        tuple(past),
        logins,
        provenance is not None,
    )


def _ledgers(source: str, head: Tree, base: Tree | None) -> dict[str, Loaded[Ledger] | None]:
    """The source's ledger at head and on the base, for the budget gate (None: no such file)."""
    path = layout.ledger_path(source)
    found: dict[str, Loaded[Ledger] | None] = {}
    for name, tree in (("ledger", head), ("base_ledger", base)):
        raw = tree.read(path) if tree is not None else None
        found[name] = _parsed(raw, path, "ledger") if raw is not None else None
    return found


def release_context(release: str, trust: Trust, head: Tree, base: Tree | None) -> ReleaseContext:
    dataset, version = release.split("@", 1)
    folder = layout.release_dir(dataset, version)
    card_path = layout.card_path(dataset)
    card_bytes = head.read(card_path)
    if card_bytes is None:
        raise InputError.at(card_path, "missing: a release needs its dataset's card")
    card: Loaded[Card] = _parsed(card_bytes, card_path, "card")
    base_card_bytes = base.read(card_path) if base else None
    classification = card.model.classification
    base_card: Loaded[Card] | None = None
    if base_card_bytes is not None:  # the base decides the tier of an existing dataset
        loaded: Loaded[Card] = _parsed(base_card_bytes, card_path, "card")
        base_card, classification = loaded, loaded.model.classification
    waivers = tuple(
        head.load(p, "waiver") for p in head.list(f"{folder}/waivers") if _kind(p) == "waiver"
    )
    manifest: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", "manifest")
    report: Loaded[Report] = head.load(f"{folder}/report.json", "report")
    revocation = None
    if head.read(f"{folder}/revocation.yaml") is not None:
        revocation = head.load(f"{folder}/revocation.yaml", "revocation")
    return ReleaseContext(
        release=release,
        policy=trust.policy,
        card=card,
        card_sha256=hashlib.sha256(card_bytes).hexdigest(),
        classification=classification,
        manifest=manifest,
        report=report,
        waivers=waivers,
        now=trust.now,
        base_card=base_card.model if base_card else None,
        approvals=_approval_evidence(
            folder, head, trust, (folder,), frozenset({manifest.model.author.casefold()})
        ),
        **_ledgers((base_card or card).model.source.id, head, base),
        revocation=revocation,
        revoked_artifacts=_revoked_artifacts(head, base),
        ledger_approved=layout.ledger_path((base_card or card).model.source.id)
        in trust.approved_ledgers,
        source_floor=_source_floor(card.model, base_card.model if base_card else None, base),
        newest_on_base=_newest_on_base(dataset, folder, base),
    )


def _newest_on_base(dataset: str, folder: str, base: Tree | None) -> tuple[str, datetime] | None:
    """The dataset's newest release on the base that is not revoked, by `created_at`, when
    the release in `folder` is new: a new release dated before it would be superseded on
    arrival, never current and never due for revalidation."""
    if base is None or base.read(f"{folder}/manifest.yaml") is not None:
        return None
    newest: tuple[str, datetime] | None = None
    for path in base.find(f"datasets/{dataset}/releases", "manifest.yaml"):
        placed = layout.classify(path)
        if placed is None or placed.kind != "manifest":
            continue
        if base.read(path.rsplit("/", 1)[0] + "/revocation.yaml") is not None:
            continue
        try:
            created = base.load(path, "manifest").model.created_at
        except InputError:
            continue  # a base manifest that does not load dates nothing
        if newest is None or created > newest[1]:
            newest = (f"{dataset}@{placed.ids['version']}", created)
    return newest


def _source_floor(
    card: Card, base_card: Card | None, base: Tree | None
) -> tuple[Classification, str] | None:
    """The strictest classification the base gives another dataset of `card`'s source, and
    that dataset; only for a card that is new or moves to another source (an existing
    card's tier is its base classification). A second card of a restricted source must
    not ship its data as public, with the public tier's approvals and no DP."""
    source = card.source.id
    if base is None or (base_card is not None and base_card.source.id == source):
        return None
    found: tuple[Classification, str] | None = None
    for path in base.find("datasets", "card.yaml"):
        placed = layout.classify(path)
        if placed is None or placed.kind != "card" or placed.ids["dataset"] == card.id:
            continue
        raw = base.read(path)
        if raw is None or source.encode() not in raw:  # most cards: another source
            continue
        try:
            other: Card = _parsed(raw, path, "card").model
        except InputError:
            continue  # a base card that does not load classifies nothing
        rank = list(Classification).index
        if other.source.id != source:
            continue
        if found is None or rank(other.classification) > rank(found[0]):
            found = (other.classification, other.id)
    return found


_REVOCATIONS: dict[str, tuple[RevokedTable, ...]] = {}


def _revocations(tree: Tree) -> tuple[RevokedTable, ...]:
    """Every revoked release's artifact in `tree`, with the content its manifest records;
    cached by the datasets folder's id when the tree has one (audit decides a thousand
    commits whose datasets/ rarely changes between them)."""
    key = tree.folder_id("datasets") if tree.folder_id is not None else None
    if key is not None and key in _REVOCATIONS:
        return _REVOCATIONS[key]
    found = []
    for path in tree.find("datasets", "revocation.yaml"):
        if _kind(path) != "revocation":
            continue
        revocation: Revocation = tree.load(path, "revocation").model
        table = Table(revocation.artifact_sha256)
        manifest_path = path.rsplit("/", 1)[0] + "/manifest.yaml"
        if tree.read(manifest_path) is not None:
            manifest: Manifest = tree.load(manifest_path, "manifest").model
            if manifest.artifact.sha256 == revocation.artifact_sha256:  # bound by the revocation
                table = artifact_table(manifest)
        found.append(RevokedTable(revocation.release, table))
    result = tuple(found)
    if key is not None:
        if len(_REVOCATIONS) > 64:
            _REVOCATIONS.clear()
        _REVOCATIONS[key] = result
    return result


def _revoked_artifacts(head: Tree, base: Tree | None) -> tuple[RevokedTable, ...]:
    """Artifacts revoked on the base or in the pull request itself, in any dataset: a
    revoked table never ships again, under another version or another dataset."""
    return _revocations(head) + (_revocations(base) if base is not None else ())


def _only_revocation(files: tuple[str, ...]) -> bool:
    """A pull request that only revokes a release (and approves the revocation)."""

    def revocation_file(path: str) -> bool:
        placed = layout.classify(path)
        return placed is not None and (
            placed.kind == "revocation" or placed.ids.get("subject") == "revocation"
        )

    return bool(files) and all(revocation_file(p) for p in files)


def _check_release(
    release: str, files: tuple[str, ...], trust: Trust, head: Tree, base: Tree | None
) -> ReleaseResult:
    """One release, failing closed: whatever stops the evaluation blocks the release."""
    try:
        ctx = release_context(release, trust, head, base)
    except InputError as exc:
        return ReleaseResult(release, tuple(_files_findings(exc)), files)
    except Exception as exc:  # fail closed
        finding = engine.failed_to_check(
            files[0] if files else None, "files", f"{type(exc).__name__}: {exc}"
        )
        return ReleaseResult(release, (finding,), files)
    if ctx.revocation is not None and _only_revocation(files):
        return engine.check_revocation(ctx, files)
    records = tuple(p for p in files if _kind(p) == "revalidation")
    if files and len(records) == len(files):
        return _check_records(ctx, files, head)  # a record, not a new decision
    result = engine.check_release(ctx, files)
    if not records:
        return result
    # records that come with other files of the release are checked all the same: a
    # re-approval must not carry a hand-written one past the gate
    found = (*result.findings, *_check_records(ctx, records, head).findings)
    ordered = sorted(found, key=lambda f: (not f.blocks, f.gate, f.rule))
    return replace(result, findings=tuple(ordered))


def failing_rules(ctx: ReleaseContext, report: dict[str, Any]) -> list[str]:
    """The blocking metric rules of the release (as `check` judges it) on another report."""
    document = Document(ctx.report.document.path, report)
    fresh = replace(ctx, report=Loaded(validate(document, Report), document))
    return sorted(
        {f.rule for f in metrics.check(fresh) if f.blocks and f.enforcement != "advisory"}
    )


def _check_records(ctx: ReleaseContext, files: tuple[str, ...], head: Tree) -> ReleaseResult:
    """Revalidation records only: each must be about this release's artifact, dated no
    later than now, and say what its own report says (a hand-written `pass` or a date in
    2099 would switch the schedule off)."""
    found: list[Finding] = []
    artifact = ctx.manifest.model.artifact.sha256
    seen = _measured(ctx, head, files)
    for path in files:
        try:
            loaded = head.load(path, "revalidation")
        except InputError as exc:
            found += _files_findings(exc)
            continue
        record: Revalidation = loaded.model
        problems = []
        if record.artifact_sha256 != artifact or record.report.inputs.synthetic.sha256 != artifact:
            problems.append(("artifact_sha256", "is not the release's artifact"))
        if clock.is_future(record.revalidated_at, ctx.now):
            problems.append(("revalidated_at", "is in the future"))  # after the clock + skew
        measured = _content(record.report.inputs.real)
        if measured in seen:  # an earlier record copied under a new date postpones the schedule
            problems.append(
                (
                    "report",
                    f"measures real data already used by {seen[measured]}: "
                    "a revalidation measures fresh data",
                )
            )
        seen.setdefault(measured, path)
        rules = failing_rules(ctx, loaded.document.data["report"])
        if rules != sorted(record.blocking) or record.verdict != ("blocked" if rules else "pass"):
            problems.append(
                (
                    "verdict",
                    f"does not match its report (the report fails: {', '.join(rules) or 'nothing'})",
                )
            )
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
    return ReleaseResult(ctx.release, tuple(found), files)


def _content(table: Any) -> str:
    """A report input's identity: its content fingerprint, else its bytes' sha256."""
    return str(table.fingerprint or table.sha256)


def _measured(ctx: ReleaseContext, head: Tree, checked: tuple[str, ...]) -> dict[str, str]:
    """The real data the release has been measured on already -> where: its own training
    and holdout tables, and the real table of each revalidation record at head but those
    being `checked`."""
    report = ctx.report.model
    seen = {
        _content(report.inputs.real): ctx.report.document.path,
        _content(report.inputs.holdout): ctx.report.document.path,
    }
    folder = ctx.manifest.document.path.rsplit("/", 1)[0]
    for path in sorted(head.list(f"{folder}/revalidations")):
        if _kind(path) != "revalidation" or path in checked:
            continue
        with suppress(InputError):  # a record that does not load is its own finding
            record: Revalidation = head.load(path, "revalidation").model
            seen.setdefault(_content(record.report.inputs.real), path)
    return seen


def _named(release: str, changes: list[tuple[str, str]], head: Tree, base: Tree) -> budget.Named:
    """What the budget gate needs about a release a ledger entry names: its dataset's
    source (the base's card decides an existing dataset), its manifest at head, and
    whether this pull request adds it."""
    dataset, version = release.split("@", 1)
    card_path = layout.card_path(dataset)
    card_raw = base.read(card_path)
    card_raw = head.read(card_path) if card_raw is None else card_raw
    card: Card | None = _parsed(card_raw, card_path, "card").model if card_raw is not None else None
    where = f"{layout.release_dir(dataset, version)}/manifest.yaml"
    manifest = head.load(where, "manifest") if head.read(where) is not None else None
    added = any(path == where and status != "D" for path, status in changes)
    return budget.Named(
        card.source.id if card else None, manifest, added and base.read(where) is None
    )


def _ledger_changes(
    changes: list[tuple[str, str]],
    head: Tree,
    base: Tree | None,
    approved_ledgers: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Top-level budget findings for every ledger the pull request changes (BRIEF §10.5)."""
    found: list[Finding] = []
    for path, status in changes:
        if _kind(path) != "ledger" or status == "D" or base is None:
            continue
        try:
            loaded: Loaded[Ledger] = head.load(path, "ledger")
        except InputError:
            continue  # already a files finding
        try:
            raw = base.read(path)
            on_base: Loaded[Ledger] | None = (
                governance.load_bytes(raw, path, "ledger") if raw is not None else None  # type: ignore[assignment]
            )
            base_data = on_base.document.data if on_base else None
            named = {
                release: _named(release, changes, head, base)
                for index in ledgers.new_entries(loaded.document.data, base_data)
                if (release := loaded.model.entries[index].release)
            }
            found += budget.ledger_findings(
                loaded, on_base, named, header_approved=path in approved_ledgers
            )
        except Exception as exc:  # fail closed
            found.append(engine.failed_to_check(path, "budget", f"{type(exc).__name__}: {exc}"))
    return found


def _top_level(path: str, status: str, policy: Loaded[Policy], head: Tree) -> list[Finding]:
    """Findings for a changed file outside any release: invalid files, policy changes."""
    placed = layout.classify(path)
    if placed is None:
        return [
            Finding(
                gate="files",
                rule="files.unknown",
                severity=Severity.ERROR,
                message="not a governance file (see docs/files/ for the layout)",
                file=path,
                line=1,
                enforcement="hard",
            )
        ]
    found: list[Finding] = []
    if status != "D":
        try:
            loaded = head.load(path)
            if placed.kind == "card":
                for rule, problems in (
                    ("files.card_constraint", constraint_problems(loaded)),
                    ("files.card_override", card_problems(loaded, policy)),
                ):
                    if problems:
                        found += _files_findings(InputError(problems), rule)
        except InputError as exc:
            found += _files_findings(exc)
    if status == "D" and placed.kind in ("card", "ledger", "policy", "reviewers"):
        found.append(
            Finding(
                gate="files",
                rule="files.deleted",
                severity=Severity.ERROR,
                message=f"{path} is deleted; governance history is append-only",
                file=path,
                line=1,
                enforcement="hard",
            )
        )
    return found


def changed_cards(
    changes: list[tuple[str, str]], head: Tree, base: Tree
) -> dict[str, tuple[Loaded[Card], Loaded[Card]]]:
    """dataset -> (base, head) card, for existing cards whose content the changes alter
    (a new dataset's card is reviewed with its first release). A card that does not load
    at head is skipped: its `files` finding blocks already.

    Raises:
        InputError: a changed card that does not load on the base.
    """
    found = {}
    for path, status in changes:
        if _kind(path) != "card" or status == "D":
            continue
        old_raw, new_raw = base.read(path), head.read(path)
        if old_raw is None or new_raw is None or (new := _loads(new_raw, path, "card")) is None:
            continue
        old: Loaded[Card] = _parsed(old_raw, path, "card")
        if old.model != new.model:
            found[new.model.id] = (old, new)
    return found


def _loads(raw: bytes, path: str, kind: str) -> Loaded | None:  # type: ignore[type-arg]
    """The file at head, or None when it does not load (a `files` finding blocks then)."""
    try:
        return _parsed(raw, path, kind)
    except InputError:
        return None


def classification_changes(
    changes: list[tuple[str, str]], head: Tree, base: Tree
) -> dict[str, tuple[str, str]]:
    """dataset -> (base, head) classification, for existing cards the changes reclassify."""
    return {
        dataset: (old.model.classification.value, new.model.classification.value)
        for dataset, (old, new) in changed_cards(changes, head, base).items()
        if old.model.classification != new.model.classification
    }


def budget_change(changes: list[tuple[str, str]], head: Tree, base: Tree) -> BudgetChange:
    """The ledgers the changes create or whose header they change, and the existing cards
    whose source they change: what `budget_changes` approvers approve."""
    headers: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]] = {}
    for path, status in changes:
        if _kind(path) != "ledger" or status == "D" or (new_raw := head.read(path)) is None:
            continue
        if (loaded := _loads(new_raw, path, "ledger")) is None:
            continue
        new = ledgers.header(loaded.document.data)
        old_raw = base.read(path)
        old = ledgers.header(_parsed(old_raw, path, "ledger").document.data) if old_raw else None
        if old is None or not same_data(old, new):
            headers[path] = (old, new)
    sources = {
        dataset: (old.model.source.id, new.model.source.id)
        for dataset, (old, new) in changed_cards(changes, head, base).items()
        if old.model.source.id != new.model.source.id
    }
    return BudgetChange(headers, sources)


def budget_change_digest(change: BudgetChange) -> str:
    return approvals.budget_digest(change.ledgers, change.sources)


def card_change_digest(old: Loaded[Card], new: Loaded[Card]) -> str:
    return approvals.card_digest(new.model.id, old.document.data, new.document.data)


def _governance_changes(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree
) -> tuple[list[Finding], frozenset[str]]:
    """Findings for the card and budget changes of the pull request (gates/changes.py),
    and the ledgers whose change is approved.

    Raises:
        InputError: a changed card or ledger that does not load on the base.
    """
    found: list[Finding] = []
    for dataset, (old, new) in changed_cards(changes, head, base).items():
        subject = card_subject(
            trust.policy, old.model.classification, dataset, card_change_digest(old, new)
        )
        evidence = _approval_evidence(
            layout.approval_folder("card", dataset), head, trust, (layout.card_path(dataset),)
        )
        described = card_changes(old.model, new.model, trust.policy.model)
        found += card_findings(subject, evidence, new, described)
    change = budget_change(changes, head, base)
    if not change:
        return found, frozenset()
    subject = budget_subject(trust.policy, trust.registry, budget_change_digest(change))
    touched = (*change.ledgers, *(layout.card_path(d) for d in change.sources))
    evidence = _approval_evidence(layout.approval_folder("budget"), head, trust, touched)
    problems = budget_findings(subject, evidence, change)
    return found + problems, frozenset(change.ledgers) if approved(problems) else frozenset()


def trust_root_digest(head: Tree, base: Tree, classifications: dict[str, tuple[str, str]]) -> str:
    """What policy admins approve: base and proposed policy/registry, and reclassifications.

    Raises:
        InputError: a policy or registry file that does not load (at head: a `files`
            finding already blocks the pull request).
    """
    sides = {}
    for name, tree in (("base", base), ("proposed", head)):
        sides[name] = {
            key: tree.load(path).document.data
            for key, path in (("policy", layout.POLICY), ("reviewers", layout.REVIEWERS))
        }
    return approvals.policy_digest(sides["base"], sides["proposed"], classifications)


def _policy_change(
    trust: Trust, head: Tree, base: Tree, classifications: dict[str, tuple[str, str]]
) -> list[Finding]:
    """The approvals a change to the trust root needs under the base policy (BRIEF §5):
    policy/ itself, or an existing dataset's classification (signing.md attack 13)."""
    try:
        digest = trust_root_digest(head, base, classifications)
    except InputError:
        return []  # the invalid or deleted file is a `files` finding already, and blocks
    evidence = _approval_evidence(
        layout.approval_folder("policy"), head, trust, ("policy", "datasets")
    )
    found = judge(policy_subject(trust.policy, trust.registry, digest), evidence)
    return as_change_findings(found, "policy.change", "policy")


def policy_impact(proposed: Loaded[Policy], trust: Trust, base: Tree) -> list[Finding]:
    """Releases on the base that pass today but the proposed policy would block (advisory).

    Approvals are judged by their embedded signatures, and missing ones only warn: the
    question is what the new rules and thresholds would change.
    """
    current = replace(trust, provenance=None, enforce_approvals=False)
    after_policy = replace(current, policy=proposed)
    releases = sorted({r for p in base.list("datasets") if (r := release_of(p))})
    found = []
    for release in releases:
        after = _check_release(release, (), after_policy, base, base)
        if after.verdict != "blocked":
            continue
        if _check_release(release, (), current, base, base).verdict == "blocked":
            continue  # already blocked today: not this change's doing
        rules = sorted({f.rule for f in after.findings if f.blocks})
        found.append(
            Finding(
                gate="policy",
                rule="policy.impact",
                severity=Severity.WARNING,
                message=f"under the proposed policy, {release} (on the base, passing today) would be blocked by {', '.join(rules)}",
                file=layout.POLICY,
                line=1,
                enforcement="advisory",
            )
        )
    return found


def _kind(path: str) -> str | None:
    placed = layout.classify(path)
    return placed.kind if placed else None


def release_of(path: str) -> str | None:
    placed = layout.classify(path)
    if placed is None or placed.kind not in RELEASE_KINDS or "version" not in placed.ids:
        return None  # not a release's file (a policy, card or budget approval)
    return f"{placed.ids['dataset']}@{placed.ids['version']}"


def decide(
    changes: list[tuple[str, str]], trust: Trust, head: Tree, base: Tree | None
) -> tuple[list[ReleaseResult], list[Finding]]:
    releases: dict[str, list[str]] = {}
    top: list[Finding] = []
    governed: list[Finding] = []  # card and budget changes: decided first, reported after
    if base is not None:
        try:
            governed, ledgers_approved = _governance_changes(changes, trust, head, base)
            trust = replace(trust, approved_ledgers=ledgers_approved)
        except InputError as exc:  # on the base: the change cannot be judged, so it blocks
            first = exc.problems[0]
            governed = [
                engine.failed_to_check(
                    first.location.path, "policy", f"the base's version does not load: {first}"
                )
            ]
        except Exception as exc:  # fail closed
            governed = [engine.failed_to_check(None, "policy", f"{type(exc).__name__}: {exc}")]
    for path, status in changes:
        if not layout.is_governed(path):  # a README or .gitkeep beside governance files
            continue
        release = release_of(path)
        if release is None:
            top += _top_level(path, status, trust.policy, head)
            continue
        releases.setdefault(release, []).append(path)
        if status != "D" and base is not None and _kind(path) in MERGED_FIXED:
            before = base.read(path)
            if before is not None and before != head.read(path):
                top.append(
                    Finding(
                        gate="files",
                        rule="files.changed",
                        severity=Severity.ERROR,
                        message=f"{path} is changed, but its release is on the base already: "
                        "what was approved and shipped is never rewritten",
                        file=path,
                        line=1,
                        enforcement="hard",
                        fix="Restore the base's file; release a new version, or revoke this one.",
                    )
                )
        if status == "D":
            top.append(
                Finding(
                    gate="files",
                    rule="files.deleted",
                    severity=Severity.ERROR,
                    message=f"{path} is deleted; a merged release is revoked, never removed",
                    file=path,
                    line=1,
                    enforcement="hard",
                )
            )
    results = []
    for release, files in sorted(releases.items()):
        if head.read(f"{layout.release_dir(*release.split('@', 1))}/manifest.yaml") is None and all(
            status == "D" for path, status in changes if path in files
        ):
            continue  # a deleted release: reported above
        results.append(_check_release(release, tuple(sorted(files)), trust, head, base))
    if base is not None:
        try:
            classifications = classification_changes(changes, head, base)
            if classifications or any(_kind(p) in ("policy", "reviewers") for p, _ in changes):
                top += _policy_change(trust, head, base, classifications)
        except InputError as exc:
            top += _files_findings(exc)
        except Exception as exc:  # fail closed
            reason = f"{type(exc).__name__}: {exc}"
            top.append(engine.failed_to_check(layout.POLICY, "policy", reason))
    top += governed + _unbound_approvals(trust, changes)
    top += _ledger_changes(changes, head, base, trust.approved_ledgers)
    return results, top


def _unbound_approvals(trust: Trust, changes: list[tuple[str, str]]) -> list[Finding]:
    """A warning while the base policy names no repository id: its approvals could be
    replayed from another repository whose registry holds the same keys."""
    if trust.policy.model.repository is not None or not any(
        layout.is_governed(path) for path, _ in changes
    ):
        return []
    return [
        Finding(
            gate="policy",
            rule="policy.repository_missing",
            severity=Severity.WARNING,
            message="the base policy names no `repository` id, so approvals are not "
            "bound to this repository and could be replayed from another",
            file=layout.POLICY,
            line=1,
            enforcement="advisory",
            fix="Add `repository: <a fresh UUID>` to policy/policy.yaml in an approved "
            "policy change (python -c 'import uuid; print(uuid.uuid4())').",
        )
    ]


@dataclass(frozen=True)
class Sides:
    """A comparison in Git: the trust root's commit, the head, what changed between them."""

    base: str
    head: str
    changes: list[tuple[str, str]]  # (path, status) of `merge-base(base, head)..head`
    base_tree: Tree
    head_tree: Tree
    provenance: Provenance


def git_sides(repo: Repository, base_ref: str | None, head_ref: str | None = None) -> Sides:
    """`base_ref` (default: origin/HEAD, else main) against `head_ref` (default: HEAD);
    `audit` passes a first-parent commit's parent and the commit itself."""
    base = repo.resolve(base_ref) if base_ref else repo.resolve(repo.default_base())
    head = repo.resolve(head_ref, "ref") if head_ref else repo.head()
    changed = repo.changed(base, head)
    changes = [(c.path, c.status) for c in changed]
    changes += [(c.old_path, "D") for c in changed if c.status == "R" and c.old_path]

    def side(commit: str) -> Tree:
        return Tree(
            lambda p: repo.read(commit, p),
            lambda prefix: repo.list_files(commit, prefix),
            lambda prefix, name: repo.named(commit, prefix, name),
            lambda prefix: repo.folder_id(commit, prefix),
        )

    provenance = Provenance(repo, repo.merge_base(base, head), head)
    return Sides(base, head, changes, side(base), side(head), provenance)


def load_trust_root(tree: Tree, path: str, kind: str, where: str) -> Loaded:  # type: ignore[type-arg]
    """The base's policy or registry; one that cannot be loaded prevents a decision (exit 2)."""
    try:
        return tree.load(path, kind)
    except InputError as exc:
        first = exc.problems[0]
        raise InputError.at(
            first.location.path,
            f"{where} {'policy' if kind == 'policy' else 'reviewer registry'} cannot be loaded: "
            f"{first.message}",
            first.location.line,
            first.location.column,
        ) from None


def make_trust(
    tree: Tree, where: str, now: datetime, provenance: Provenance | None, enforce_approvals: bool
) -> Trust:
    policy: Loaded[Policy] = load_trust_root(tree, layout.POLICY, "policy", where)
    registry: Loaded[Registry] = load_trust_root(tree, layout.REVIEWERS, "reviewers", where)
    verifier = Verifier(registry.model, now)
    return Trust(policy, registry.model, verifier, now, provenance, enforce_approvals)


def judge_locally(root: Path, release: str, now: datetime) -> ReleaseContext:
    """The context `check` will judge an uncommitted release in: the working tree as head,
    the default base's policy and registry as the trust root (the working tree's when there
    is no base yet, or it has no policy). For commands that predict the gate.

    Raises:
        InputError: the release or the trust root cannot be loaded.
    """
    head = working_tree(root)
    try:
        with Repository.open(root) as repo:
            sha = repo.resolve(repo.default_base())
            base = Tree(lambda p: repo.read(sha, p), lambda prefix: repo.list_files(sha, prefix))
            trust = make_trust(base, f"the base {sha[:12]}'s", now, None, True)
            with trust.verifier:
                return release_context(release, trust, head, base)
    except (GitError, InputError):
        pass  # no repository, no base yet, or a base without a policy
    trust = make_trust(head, "the working tree's", now, None, True)
    with trust.verifier:
        return release_context(release, trust, head, None)


def _head_tree(root: Path) -> Tree:
    """HEAD's committed files (the scheduled job's view of main)."""
    repo = Repository.open(root)
    head = repo.head()
    return Tree(lambda p: repo.read(head, p), lambda prefix: repo.list_files(head, prefix))


def _current(
    head: Tree, releases: list[str], now: datetime
) -> tuple[dict[str, tuple[str, Manifest]], list[ReleaseResult]]:
    """dataset -> its newest non-revoked release (by manifest created_at) and manifest; and
    a blocking result for each manifest dated after `now`, which never becomes current."""
    newest: dict[str, tuple[str, Manifest]] = {}
    future = []
    for release in releases:
        dataset, version = release.split("@", 1)
        folder = layout.release_dir(dataset, version)
        if head.read(f"{folder}/revocation.yaml") is not None:
            continue
        loaded: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", "manifest")
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
    """Each dataset's current release (its newest that is not revoked; older versions are
    superseded) when past its card's `revalidation_days`, counted from the latest
    revalidation record or else the release's creation, or when that record failed.
    Dates after `now` count for nothing and block (a manifest or record dated 2099 would
    switch the schedule off)."""
    releases = sorted({r for p in head.list("datasets") if (r := release_of(p))})
    try:
        current, results = _current(head, releases, now)
    except InputError as exc:
        return [ReleaseResult("(releases)", tuple(_files_findings(exc)))]
    for dataset, (release, manifest) in sorted(current.items()):
        folder = layout.release_dir(*release.split("@", 1))
        found: list[Finding] = []
        try:
            card: Card = head.load(layout.card_path(dataset), "card").model
            loaded = [
                head.load(p, "revalidation")
                for p in head.list(f"{folder}/revalidations")
                if _kind(p) == "revalidation"
            ]
        except InputError as exc:
            results.append(ReleaseResult(release, tuple(_files_findings(exc))))
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
        records.sort(key=lambda r: r.revalidated_at)
        if records and records[-1].verdict == "blocked":
            found.append(
                Finding(
                    gate="policy",
                    rule="policy.revalidation_failed",
                    severity=Severity.ERROR,
                    message=f"{release}'s latest revalidation ({records[-1].revalidated_at:%Y-%m-%d}) "
                    f"fails {', '.join(records[-1].blocking)} on fresh data",
                    file=f"{folder}/revalidations",
                    line=1,
                    enforcement="mandatory",
                    fix="Regenerate and release a new version, or revoke this one.",
                )
            )
        last = max([manifest.created_at, *(r.revalidated_at for r in records)])
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
        if found:
            results.append(ReleaseResult(release, tuple(found)))
    return results


def run(
    root: Path,
    *,
    base: str | None,
    fmt: str,
    output: Path | None,
    no_git: bool,
    at: datetime | None = None,
    allow_missing_approvals: bool = False,
    scheduled: bool = False,
    pr_author: str | None = None,
) -> int:
    from synthgov.reporting import Format, render

    now = at or datetime.now(UTC)  # the checker's clock, read once (BRIEF §9)
    enforce = not allow_missing_approvals
    if scheduled:
        tree = working_tree(root) if no_git else _head_tree(root)
        trust = make_trust(tree, "the checked-out", now, None, enforce)
        changes, base_sha, head_sha = [], "", ""
        results, top = overdue(tree, now), list[Finding]()
    elif no_git:
        tree = working_tree(root)
        trust = make_trust(tree, "the working tree's", now, None, enforce)
        trust = replace(trust, pr_author=pr_author)
        changes = [(p, "M") for p in tree.list("datasets") if release_of(p)]
        base_sha = head_sha = ""
        with trust.verifier:
            results, top = decide(changes, trust, tree, None)
    else:
        with Repository.open(root) as repo:
            sides = git_sides(repo, base)
            base_sha, head_sha, changes = sides.base, sides.head, sides.changes
            where = f"the base commit {base_sha[:12]}'s"
            trust = make_trust(sides.base_tree, where, now, sides.provenance, enforce)
            trust = replace(trust, pr_author=pr_author)
            with trust.verifier:
                results, top = decide(changes, trust, sides.head_tree, sides.base_tree)
                if any(path == layout.POLICY and status != "D" for path, status in changes):
                    try:
                        proposed = sides.head_tree.load(layout.POLICY, "policy")
                    except InputError:
                        pass  # already a files finding
                    else:
                        top += policy_impact(proposed, trust, sides.base_tree)
    policy = trust.policy
    governed = [path for path, _ in changes if layout.is_governed(path)]
    notes = () if governed or scheduled else ("no governance file changed: nothing to check",)
    verdict = Verdict(
        base=base_sha,
        head=head_sha,
        releases=tuple(results),
        findings=tuple(top),
        rules_evaluated=len(policy.model.rules) * len(results),
        evaluated_at=now,
        notes=notes,
    )
    color = (
        fmt == "text" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    text = render(verdict, Format(fmt), color=color)
    if output is not None:
        outputs.write_text(output, text)  # once complete: a regular file, folders created
    else:
        click.echo(text, nl=not text.endswith("\n"))
    return verdict.exit_code
