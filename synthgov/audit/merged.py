"""Each merged release as the audit judged it at the commit that merged it (BRIEF §5).

`status` and the catalog show a merged release's standing by this judgement, not by the
gate's today: the release is re-decided by the audit's own `Replay.decide` at the
first-parent commit that last changed it (its manifest, report, approvals or waivers),
with the policy and registry of that commit's parent and the clock of that commit. A
policy tightened or a key that expired or was rotated after the merge does not take the
release away; what does is said in `decision/withdrawals.py`.

A commit that only adds revalidation records or only revokes (with the revocation's
approvals) does not re-decide the release, exactly as `decision.decide` treats it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from synthgov import clock
from synthgov.audit.replay import AuditResult, Replay
from synthgov.content import RevokedTable
from synthgov.decision.findings import ReleaseResult
from synthgov.decision.review import Review
from synthgov.decision.revocations import Revocations
from synthgov.decision.sides import Tree, kind_of, release_of
from synthgov.decision.trust import Trust
from synthgov.files import layout
from synthgov.files.loading import Loaded
from synthgov.gates import ReleaseContext
from synthgov.git.history import FirstParent, Repository
from synthgov.models import Manifest, Waiver

#: Audit finding kinds that mean the release was never decided at its merge.
UNDECIDED = ("release.ungated", "audit.error")


@dataclass(frozen=True)
class Judgement:
    """One release as the audit decided it at its merge commit, and of what it was decided
    on only what status, the catalog and `check --scheduled` show: not its whole
    `ReleaseContext` (its policy, card, ledgers and their documents), which, kept for every
    merged release, grew the process by some 240 KB per release."""

    release: str
    commit: str  # the first-parent commit that merged the release as it is now
    at: datetime  # the clock the audit judged it at (that commit's time, at most now)
    result: ReleaseResult | None  # None: never decided (`problem` says why)
    manifest: Manifest | None = None  # None: the release did not load
    #: its report.json as merged, unparsed: only the catalog draws it, and its model is
    #: some 400 objects per release that every garbage collection would walk again
    report: bytes | None = None
    waivers: tuple[Loaded[Waiver], ...] = ()  # its waivers (the notices of those ending soon)
    review: Review | None = None  # its approvals, verified while the keyring was open
    problem: tuple[str, str] | None = None  # (audit finding kind, message)


def _is_revocation_file(path: str) -> bool:
    placed = layout.classify(path)
    return placed is not None and (
        placed.kind == "revocation" or placed.ids.get("subject") == "revocation"
    )


def decides(paths: list[str]) -> bool:
    """Whether a commit that changes these files of one release re-decides it (as
    `decision.decide` does): not when it only revokes, nor when it only adds records."""
    if not paths or all(_is_revocation_file(p) for p in paths):
        return False
    return not all(kind_of(p) == "revalidation" for p in paths)


def merge_commits(history: list[FirstParent]) -> dict[str, FirstParent]:
    """release -> the last first-parent commit of `history` (oldest first) that decided it."""
    found: dict[str, FirstParent] = {}
    for commit in history:
        touched: dict[str, list[str]] = {}
        for path, _ in commit.changes:
            release = release_of(path)
            if release is not None:
                touched.setdefault(release, []).append(path)
        for release, paths in touched.items():
            if decides(paths):
                found[release] = commit
    return found


def _is_revocation_input(path: str, revoked: set[str]) -> bool:
    """A revocation file (by name: more than the layout's, never fewer), or the manifest of
    a folder that held one (its artifact is what a revocation compares)."""
    folder, _, name = path.rpartition("/")
    return name == "revocation.yaml" or (name == "manifest.yaml" and folder in revoked)


def revocation_epochs(history: list[FirstParent]) -> dict[str, str]:
    """commit -> the last commit of `history` (oldest first), up to it, that changed what
    the revoked artifacts are (a revocation, or the manifest of a revoked release). Every
    tree between two such commits holds the same revoked artifacts."""
    revoked: set[str] = set()
    epoch, found = "", {}
    for commit in history:
        paths = [path for path, _ in commit.changes]
        revoked |= {p.rpartition("/")[0] for p in paths if p.endswith("/revocation.yaml")}
        if any(_is_revocation_input(p, revoked) for p in paths):
            epoch = commit.sha
        found[commit.sha] = epoch
    return found


class _Revocations(Revocations):
    """The revoked artifacts looked up once per epoch of the history (`revocation_epochs`)
    instead of once per content of datasets/, which changes with every merge: replaying
    N merges would otherwise list the whole datasets/ tree N times."""

    def __init__(self, epochs: dict[str, str]) -> None:
        super().__init__()
        self.epochs = epochs
        self.trees: dict[int, str] = {}  # id of a tree the replay handed out -> its commit
        self.known: dict[str, tuple[RevokedTable, ...]] = {}

    def of(self, tree: Tree) -> tuple[RevokedTable, ...]:
        epoch = self.epochs.get(self.trees.get(id(tree), ""))
        if epoch is None:  # a tree this replay did not hand out: the audit's own lookup
            return super().of(tree)
        if epoch not in self.known:
            self.known[epoch] = super().of(tree)
        return self.known[epoch]


class _Recording(Replay):
    """The audit's replay, keeping what each decision rested on: the decision is the
    audit's (`Replay.decide`), the audit's own records of it are not made (what a release's
    inputs hashed to, the ledgers' figures per commit): status shows neither, and they
    cost a seventh of the replay."""

    def __init__(self, repo: Repository, now: datetime, history: list[FirstParent]) -> None:
        super().__init__(repo, None, now)
        self.kept: dict[tuple[str, str], Judgement] = {}
        self.revocations = _Revocations(revocation_epochs(history))

    def tree(self, commit: str) -> Tree:
        found = super().tree(commit)
        self.revocations.trees[id(found)] = commit
        return found

    def trust(self, parent: str, now: datetime) -> Trust:
        return replace(super().trust(parent, now), revocations=self.revocations)

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
        key = (commit.sha, result.release)
        if ctx is None:
            self.kept[key] = Judgement(result.release, commit.sha, now, result)
            return
        try:  # read now, while the merge's keyring is open (verified once, cached)
            review = ctx.review
        except Exception:  # the gate already blocked what it could not review
            review = None
        self.kept[key] = Judgement(
            result.release,
            commit.sha,
            now,
            result,
            ctx.manifest.model,
            head.read(ctx.report.document.path),
            ctx.waivers,
            review,
        )

    def budgets(self, commit: FirstParent, head: Tree, outcome: AuditResult) -> None:
        """Nothing: status reads the ledgers at HEAD."""


def judge(repo: Repository, base: str, releases: list[str], now: datetime) -> dict[str, Judgement]:
    """The audit's judgement of each of `releases` merged on `base`'s first-parent history
    (a release not found there is left out: it is not merged)."""
    history = repo.first_parent(base)
    order = {c.sha: i for i, c in enumerate(history)}
    merged = merge_commits(history)
    commits = {merged[r].sha: merged[r] for r in releases if r in merged}
    replay = _Recording(repo, now, history)
    outcome = AuditResult(base, base, len(commits), 0, None)
    try:
        for commit in sorted(commits.values(), key=lambda c: order[c.sha]):
            replay.decide(commit, outcome)
    finally:
        replay.close()
    found = {}
    for release in releases:
        if release not in merged:
            continue
        commit = merged[release]
        kept = replay.kept.get((commit.sha, release))
        if kept is not None:
            found[release] = kept
            continue
        problem = next(
            (
                (f["kind"], f["message"])
                for f in outcome.findings
                if f["commit"] == commit.sha
                and f["kind"] in UNDECIDED
                and f["release"] in (release, None)
            ),
            ("audit.error", "the audit reached no decision on it"),
        )
        at = min(clock.from_timestamp(commit.time), now)
        found[release] = Judgement(release, commit.sha, at, None, problem=problem)
    return found
