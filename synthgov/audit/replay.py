"""The audit: replay main's first-parent history and re-decide every release (BRIEF §5).

For each first-parent commit C with first parent P, the gate is re-run exactly as `check`
runs it for a pull request with base P and head C (`decision.decide`): the trust root is P's
policy and registry, the clock is C's committer time (when it reached main; `--at`
replaces it), and for a merge the merged side's commits are the pull request's history.
Every blocking finding of that decision is a finding of the audit, at C: a release that
reached main without passing, a ledger rewritten or overdrawn, an approval that was not
valid then, a policy change without its approvals. Commits that change no governance
file need no decision; their dates still count (a first-parent committer date earlier
than the one before it is reported: commit dates are claims, checkpoints are the anchor).

Speed (BRIEF §7): one `git log` lists the history and its changes, one `git cat-file`
process reads every object, trust roots are cached by the bytes of policy and registry,
and a non-merge commit's history is answered from that log instead of new git processes.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from synthgov import clock
from synthgov.audit import checkpoints
from synthgov.budget.accounting import summary
from synthgov.decision.decide import decide
from synthgov.decision.evidence import filed as approval_files
from synthgov.decision.findings import Finding, ReleaseResult
from synthgov.decision.review import signatures
from synthgov.decision.sides import Tree, commit_tree, kind_of, release_of
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import GitError, InputError, MissingExtra, SignatureError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext
from synthgov.git.history import FirstParent, Repository
from synthgov.git.provenance import Provenance, base_approvals
from synthgov.models import Checkpoint, Ledger, Manifest, Registry, Report
from synthgov.models.common import format_timestamp
from synthgov.signing import commits

#: Ledger rules that mean an earlier entry or the header was changed, not appended to.
REWRITE_RULES = frozenset(
    {
        "budget.header_changed",
        "budget.cap_changed",
        "budget.entry_changed",
        "budget.entry_moved",
        "budget.sequence_taken",
        "budget.chain_broken",
    }
)


def audit_kind(finding: Finding) -> str:
    """The audit finding kind of a blocking gate finding."""
    rule, gate = finding.rule, finding.gate
    if rule == "policy.change":
        return "policy.unapproved"
    if rule == "policy.card_change":
        return "card.unapproved"
    if rule == "budget.change":
        return "budget.unapproved"
    if gate == "approvals":
        return "approval.missing" if rule == "approvals.missing" else "approval.invalid"
    if rule in REWRITE_RULES:
        return "ledger.rewrite"
    if rule == "budget.over_cap":
        return "budget.overdrawn"
    if gate == "budget":
        return "budget.invalid"
    if rule == "waivers.expired":
        return "waiver.expired"
    if "revo" in rule:
        return "revocation.ignored"
    if gate == "files":
        return "files.invalid"
    return "release.blocked"


@dataclass
class ReleaseRecord:
    release: str
    decisions: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    author: str | None = None


@dataclass
class AuditResult:
    """What the replay found: data for audit.json, audit.md and audit.html."""

    range: str
    head: str
    commits: int
    decided: int
    at: datetime | None
    findings: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[str, ReleaseRecord] = field(default_factory=dict)
    budgets: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    #: the verified checkpoint an incremental audit started after (`audit/incremental.py`)
    since: dict[str, Any] | None = None

    def add(
        self,
        commit: str,
        kind: str,
        message: str,
        *,
        release: str | None = None,
        gate: str | None = None,
        rule: str | None = None,
        file: str | None = None,
    ) -> None:
        self.findings.append(
            {
                "commit": commit,
                "kind": kind,
                "release": release,
                "gate": gate,
                "rule": rule,
                "file": file,
                "message": message,
            }
        )

    def document(self, generated_at: datetime) -> dict[str, Any]:
        """The audit.json object (model `Audit`)."""
        decisions = [d for r in self.releases.values() for d in r.decisions]
        unanchored = sum(d["clock"] != "at" and d["anchored_by"] is None for d in decisions)
        releases = []
        for record in sorted(self.releases.values(), key=lambda r: r.release):
            ok = all(d["verdict"] == "pass" for d in record.decisions)
            releases.append(
                {
                    "release": record.release,
                    "verdict": "pass" if ok else "findings",
                    "first_commit": record.decisions[0]["commit"],
                    "last_commit": record.decisions[-1]["commit"],
                    "author": record.author,
                    "inputs": record.inputs,
                    "approvals": record.approvals,
                    "decisions": record.decisions,
                }
            )
        return {
            "schema_version": 1,
            "verdict": "findings" if self.findings else "clean",
            "range": self.range,
            "head": self.head,
            "commits": self.commits,
            "decided": self.decided,
            "at": format_timestamp(self.at) if self.at else None,
            "unanchored": unanchored,
            "generated_at": format_timestamp(generated_at),
            "releases": releases,
            "findings": self.findings,
            "budgets": self.budgets,
            "checkpoints": self.checkpoints,
            "since": self.since,
        }


class SingleCommit(Provenance):
    """The history of a non-merge commit on main: the commit alone, answered from the
    first-parent log and the object reader instead of new `git log` processes."""

    def __init__(self, repo: Repository, commit: FirstParent) -> None:
        super().__init__(repo, commit.parents[0], commit.sha)
        self.commit = commit

    def _touches(self, prefix: str) -> list[str]:
        return [
            p for p in self.commit.paths if p == prefix or p.startswith(prefix.rstrip("/") + "/")
        ]

    def carriers(self, path: str, data: bytes, author_email: str) -> tuple[bytes, ...]:
        if path not in self.commit.paths or self.repo.read(self.commit.sha, path) != data:
            return ()
        raw = self.repo.commit_object(self.commit.sha)
        try:
            author = commits.author_emails(raw)[0]
        except SignatureError:
            return ()
        if author.casefold() != author_email.casefold():
            return ()
        only_approvals = all(kind_of(p) == "approval" for p in self.commit.paths)
        return (raw,) if only_approvals else ()

    def author_commits(self, *prefixes: str) -> tuple[bytes, ...]:
        touched = [p for prefix in prefixes for p in self._touches(prefix)]
        if any(kind_of(p) != "approval" for p in touched):
            return (self.repo.commit_object(self.commit.sha),)
        return ()

    def past_approvals(self, prefix: str, current: dict[str, bytes]) -> list[tuple[str, bytes]]:
        versions: dict[tuple[str, bytes], None] = {}
        for path in self._touches(prefix):
            data = self.repo.read(self.commit.sha, path) if kind_of(path) == "approval" else None
            if data is not None:
                versions[(path, data)] = None
        versions.update(dict.fromkeys(base_approvals(self.repo, self.start, prefix)))
        return [(p, d) for p, d in versions if current.get(p) != d]


class Replay:
    """One audit run over one repository; trust roots cached by their bytes."""

    def tree(self, commit: str) -> Tree:
        """One Tree per commit: a commit's head side is the next one's base side (what the
        decision derives from a tree's folders is remembered by the trust, per folder id)."""
        trees: dict[str, Tree] = self.__dict__.setdefault("_trees", {})
        if commit not in trees:
            if len(trees) >= 4:
                trees.pop(next(iter(trees)))
            found = partial(self.repo.find_named, commit)  # only changed folders are re-read
            tree = commit_tree(self.repo, commit)
            trees[commit] = replace(tree, read=_remembered(tree.read), named=found)
        return trees[commit]

    def __init__(self, repo: Repository, at: datetime | None, now: datetime | None = None) -> None:
        self.repo, self.at = repo, at
        #: the auditor's clock: no decision is later than it, whatever a commit claims
        self.now = now or datetime.now(UTC)
        self._trusts: dict[tuple[bytes | None, bytes | None], Trust] = {}
        self._stack = ExitStack()

    def close(self) -> None:
        self._stack.close()

    def trust(self, parent: str, now: datetime) -> Trust:
        base = commit_tree(self.repo, parent)
        key = (base.read(layout.POLICY), base.read(layout.REVIEWERS))
        trust = self._trusts.get(key)
        if trust is None:
            where = f"the parent commit {parent[:12]}'s"
            trust = self._trusts[key] = make_trust(base, where, now, None, True)
            self._stack.enter_context(trust.verifier)
        # one keyring per root; a page decides no release, and one drawn by an older
        # synthgov differs from today's drawing though nothing was forged
        return replace(trust, now=now, verifier=trust.verifier.at(now), check_pages=False)

    def run(
        self,
        revisions: str,
        history: list[FirstParent],
        *,
        previous: FirstParent | None = None,
        outcome: AuditResult | None = None,
    ) -> AuditResult:
        """Judge every commit of `history` (oldest first); `previous` is the commit before
        the first (an incremental audit's checkpoint), `outcome` what is carried into it."""
        head = history[-1].sha if history else (previous.sha if previous else "")
        if outcome is None:
            outcome = AuditResult(revisions, head, 0, 0, self.at)
        outcome.commits += len(history)
        with _fewer_collections():
            self._judge(history, previous, outcome)
        return outcome

    def _judge(
        self, history: list[FirstParent], previous: FirstParent | None, outcome: AuditResult
    ) -> None:
        for commit in history:
            if previous is not None and commit.time < previous.time:
                outcome.add(
                    commit.sha,
                    "history.date_regression",
                    f"committer date {_time(commit.time)} is before the previous "
                    f"first-parent commit's ({_time(previous.time)}): a claimed "
                    "time went backwards (rebased, back-dated or a wrong clock)",
                )
            parent_tree = previous.tree if previous is not None else None
            previous = commit
            if clock.is_future(clock.from_timestamp(commit.time), self.now):
                outcome.add(
                    commit.sha,
                    "history.future_dated",
                    f"committer date {_time(commit.time)} is after the auditor's clock "
                    f"({format_timestamp(self.now)}): the date is false, and the "
                    "commit is judged at the auditor's clock instead",
                )
            if commit.changes:
                outcome.decided += 1
                self.decide(commit, outcome, parent_tree)

    def decide(
        self, commit: FirstParent, outcome: AuditResult, parent_tree: str | None = None
    ) -> None:
        changes = list(commit.changes)
        # what it changed, and its parent's root folder (its trust root is read from there;
        # a commit that changed no governance file was not read), in one round trip
        self.repo.prefetch([*commit.objects, *([parent_tree] if parent_tree else [])])
        head = self.tree(commit.sha)
        if not commit.parents or self.repo.read(commit.parents[0], layout.POLICY) is None:
            for release in sorted({r for p, s in changes if (r := release_of(p))}):
                outcome.add(
                    commit.sha,
                    "release.ungated",
                    f"{release} was added by the commit "
                    "that set up the trust root (policy/): no gate could decide it",
                    release=release,
                )
            self.budgets(commit, head, outcome)
            return
        now = self.at or min(clock.from_timestamp(commit.time), self.now)
        parent = commit.parents[0]
        try:
            trust = self.trust(parent, now)
        except InputError as exc:
            outcome.add(commit.sha, "audit.error", f"no decision possible: {exc.problems[0]}")
            return
        single = len(commit.parents) == 1
        provenance = (
            SingleCommit(self.repo, commit) if single else Provenance(self.repo, parent, commit.sha)
        )
        trust = replace(trust, provenance=provenance)
        try:
            decision = decide(changes, trust, head, self.tree(parent))
        except (InputError, GitError) as exc:  # fail closed: the commit is not shown clean
            outcome.add(commit.sha, "audit.error", f"no decision possible: {exc}")
            return
        for finding in decision.findings:
            if finding.blocks:
                outcome.add(
                    commit.sha,
                    audit_kind(finding),
                    finding.message,
                    gate=finding.gate,
                    rule=finding.rule,
                    file=finding.file,
                )
        for result in decision.results:
            ctx = decision.contexts.get(result.release)
            self.record(commit, now, result, trust, head, outcome, ctx)
        self.budgets(commit, head, outcome)

    def record(
        self,
        commit: FirstParent,
        now: datetime,
        result: ReleaseResult,
        trust: Trust,
        head: Tree,
        outcome: AuditResult,
        ctx: ReleaseContext | None = None,
    ) -> None:
        release = result.release
        for finding in result.findings:
            if finding.blocks:
                outcome.add(
                    commit.sha,
                    audit_kind(finding),
                    finding.message,
                    release=release,
                    gate=finding.gate,
                    rule=finding.rule,
                    file=finding.file,
                )
        record = outcome.releases.setdefault(release, ReleaseRecord(release))
        claimed = "committer" if now == clock.from_timestamp(commit.time) else "auditor"
        record.decisions.append(
            {
                "commit": commit.sha,
                "time": format_timestamp(now),
                "verdict": result.verdict,
                "clock": "at" if self.at else claimed,
                "anchored_by": None,
                "findings": [
                    {
                        "gate": f.gate,
                        "rule": f.rule,
                        "severity": f.severity.value,
                        "message": f.message,
                    }
                    for f in result.findings
                ],
            }
        )
        with suppress(InputError, GitError):  # a release that does not load has its findings
            record.inputs, record.author = _inputs(release, head)
            record.approvals = _approvals(release, head, trust, ctx)

    def budgets(self, commit: FirstParent, head: Tree, outcome: AuditResult) -> None:
        for path, status in commit.changes:
            placed = layout.classify(path)
            if status == "D" or placed is None or placed.kind != "ledger":
                continue
            try:
                loaded: Loaded[Ledger] = head.load(path, Ledger)
                model = loaded.model
                figures = summary(
                    model.source, model.notion, model.cap, [e.loss for e in model.entries]
                )
            except MissingExtra:
                raise
            except Exception:
                continue
            outcome.budgets.append(
                {
                    "source": model.source,
                    "commit": commit.sha,
                    "time": _time(commit.time),
                    "entries": figures["entries"],
                    "notion": figures["notion"],
                    "cap": figures["cap"],
                    "spent": figures["spent"],
                }
            )


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A replay keeps what it has read to the end (files parsed by content, trees by id),
    and the collector's passes over all of it took a sixth of a 10,000-commit audit's CPU
    at the default thresholds (700 allocations). A young pass every 20,000 allocations finds
    the same garbage, later; the thresholds are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(20_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _remembered(read: Callable[[str], bytes | None]) -> Callable[[str], bytes | None]:
    """`read` of one commit, each path looked up once: a decision's gates read the same
    files (a release's manifest, its ledger, the policy) many times. A refusal is not
    remembered: it is raised again."""
    known: dict[str, bytes | None] = {}

    def remembered(path: str) -> bytes | None:
        if path not in known:
            known[path] = read(path)
        return known[path]

    return remembered


def _time(timestamp: int) -> str:
    return format_timestamp(clock.from_timestamp(timestamp))


def _inputs(release: str, head: Tree) -> tuple[dict[str, str], str | None]:
    """What the decision rested on: every file of the release and its card by sha256, and
    the synthetic artifact and evaluated tables by the hashes the files record."""
    ref = Release.of(release)
    dataset, folder = ref.dataset, ref.folder
    found = {}
    for path in [layout.card_path(dataset), *head.list(folder)]:
        raw = head.read(path)
        if raw is not None:
            found[path] = hashlib.sha256(raw).hexdigest()
    manifest: Manifest = head.load(f"{folder}/manifest.yaml", Manifest).model
    report: Report = head.load(f"{folder}/report.json", Report).model
    found["artifact"] = manifest.artifact.sha256
    for role in ("real", "holdout", "synthetic"):
        found[f"report.inputs.{role}"] = getattr(report.inputs, role).sha256
    return found, manifest.author


def _approvals(
    release: str, head: Tree, trust: Trust, ctx: ReleaseContext | None
) -> list[dict[str, Any]]:
    """Each approval file of the release with the key that verified it, as the decision
    verified it (read from its context; verified here only when no context was built)."""
    folder = f"{Release.of(release).folder}/approvals"
    if ctx is not None and ctx.approvals is not None:
        filed = ctx.approvals.approvals
    else:
        filed = approval_files(head.list(folder), head, trust)[0]
    found = []
    mine = [f for f in filed if f.path.startswith(folder + "/")]
    for reviewed in signatures(mine, trust.verifier):
        model, signer = reviewed.approval, reviewed.signer
        found.append(
            {
                "path": reviewed.path,
                "reviewer": model.reviewer,
                "role": model.role,
                "decision": model.decision,
                "signed_at": format_timestamp(model.signed_at),
                "fingerprint": signer.fingerprint if signer else None,
                "carrier": signer.carrier if signer else None,
                "problem": None if signer else reviewed.reason,
            }
        )
    return found


# --- checkpoints ---------------------------------------------------------------------------


def verify_checkpoints(
    repo: Repository,
    history: list[FirstParent],
    tip: str,
    recorded: dict[tuple[str, bytes], None],
    outcome: AuditResult,
    full_history: set[str] | None = None,
    now: datetime | None = None,
) -> None:
    """Judge every recorded checkpoint against the history; a later commit on main that
    claims a time before a checkpoint it follows is back-dated."""
    index = {c.sha: i for i, c in enumerate(history)}
    members = full_history if full_history is not None else set(index)
    current: Registry | None = None  # the tip's registry, read once
    current_problem = ""
    if recorded:
        try:
            current = governance.load_bytes(
                repo.read(tip, layout.REVIEWERS) or b"", layout.REVIEWERS, Registry
            ).model
        except InputError as exc:
            current_problem = f"no registry at {tip[:12]} to verify it with: {exc.problems[0]}"
    for path, raw in recorded:
        try:
            loaded = governance.load_bytes(raw, path, Checkpoint)
        except InputError as exc:
            outcome.add(tip, "checkpoint.invalid", f"{path}: {exc.problems[0]}", file=path)
            outcome.checkpoints.append(
                {
                    "path": path,
                    "commit": "",
                    "created_at": None,
                    "reviewer": None,
                    "status": "findings",
                }
            )
            continue
        point: Checkpoint = loaded.model
        present = point.commit in members
        registry_at = point.commit if present else tip
        tree = heads = None
        try:
            registry = governance.load_bytes(
                repo.read(registry_at, layout.REVIEWERS) or b"", layout.REVIEWERS, Registry
            ).model
        except InputError as exc:
            outcome.add(tip, "checkpoint.invalid", f"{path}: no registry to verify with: {exc}")
            continue
        if present:
            tree = next((c.tree for c in history if c.sha == point.commit), None)
            ledger_paths = [
                p
                for p in repo.list_files(point.commit, "budgets")
                if (k := layout.classify(p)) and k.kind == "ledger"
            ]
            heads = checkpoints.ledger_heads(partial(repo.read, point.commit), ledger_paths)
        problems = checkpoints.verify(point, loaded.document.data, registry, present, tree, heads)
        late = clock.future_problem("created_at", point.created_at, now or datetime.now(UTC))
        if late:  # it would bound every later commit by an instant that has not come
            problems.append(
                checkpoints.CheckpointFinding("checkpoint.invalid", f"{late}; not trusted")
            )
        if not any(p.kind == "checkpoint.invalid" for p in problems):
            # as for `--since`: created_at is the signer's word, so a key revoked since
            # (whatever date the revocation names) could have signed it back-dated
            if current is None:
                why = current_problem
            else:
                gone = checkpoints.still_trusted(point.signature.armored, point.reviewer, current)
                why = f"the registry at {tip[:12]} no longer vouches for it: {gone}" if gone else ""
            if why:
                problems.append(
                    checkpoints.CheckpointFinding("checkpoint.invalid", f"not trusted: {why}")
                )
        at = point.commit if present else tip
        for problem in problems:
            outcome.add(at, problem.kind, f"{path}: {problem.message}", file=path)
        start = index.get(point.commit)
        if start is None and history and history[0].parents[:1] == (point.commit,):
            start = -1  # the range starts right after the checkpoint (`--since`, `A..B`)
        if start is not None and not problems:
            bound = clock.shift(point.created_at, -checkpoints.SKEW)
            for later in history[start + 1 :]:
                if clock.from_timestamp(later.time) < bound:
                    outcome.add(
                        later.sha,
                        "history.backdated",
                        f"committer date {_time(later.time)} is before the checkpoint "
                        f"{path} ({format_timestamp(point.created_at)}) that it "
                        "follows: the commit is back-dated",
                    )
        outcome.checkpoints.append(
            {
                "path": path,
                "commit": point.commit,
                "created_at": format_timestamp(point.created_at),
                "reviewer": point.reviewer,
                "status": "findings" if problems else "verified",
            }
        )


def anchor(history: list[FirstParent], outcome: AuditResult) -> None:
    """Mark each decision with the signed checkpoint that anchors its clock, if any.

    A verified checkpoint of commit C, made at T, proves that C and every first-parent
    commit before it existed at T: their committer dates are bounded by T (a later claim is
    false, and reported). A decision judged at a committer date that no checkpoint bounds
    rests on a claim alone: `anchored_by` stays null and the summary counts it. Decisions
    judged at `--at` do not rest on committer dates at all.
    """
    index = {c.sha: i for i, c in enumerate(history)}
    points = sorted(
        (index[c["commit"]], c["path"], c["created_at"])
        for c in outcome.checkpoints
        if c["status"] == "verified" and c["commit"] in index
    )
    bounds: dict[str, tuple[str, str]] = {}  # commit -> (checkpoint path, its time)
    for i, commit in enumerate(history):
        later = next(((path, at) for at_index, path, at in points if at_index >= i), None)
        if later is None:
            break  # no checkpoint bounds this commit or any after it
        bounds[commit.sha] = later
        created = datetime.fromisoformat(later[1].replace("Z", "+00:00"))
        if clock.from_timestamp(commit.time) > clock.shift(created, checkpoints.SKEW):
            outcome.add(
                commit.sha,
                "history.future_dated",
                f"committer date {_time(commit.time)} is after the checkpoint "
                f"{later[0]} ({later[1]}) that already holds the commit: the date is false",
            )
    for record in outcome.releases.values():
        for decision in record.decisions:
            if decision["clock"] != "at" and decision["commit"] in bounds:
                decision["anchored_by"] = bounds[decision["commit"]][0]
