"""`audit --since CHECKPOINT`: start after a verified checkpoint and carry its state.

A checkpoint of a whole-history audit records that audit's state (its findings, each
release's verdict, each ledger's latest totals) under the auditor's signature. Every
decision of the replay depends only on a commit, its parent's trees and (for a merge) the
side it brings in, so the commits after the checkpoint are judged exactly as a full audit
judges them, and what came before is carried, not replayed. Nothing of the checkpoint is
trusted before it verifies: it must load, its state must hash to its recorded digest, its
commit must be on the first-parent history being audited, with the tree and ledger heads
it recorded, and its signature must be by an auditor or policy admin of the registry at
that commit, with a key valid when it was made (`checkpoints.verify` decides, as for every
recorded checkpoint), and the registry at the audited tip must still vouch for that key and
its holder (`checkpoints.still_trusted`): `created_at` is the signer's own word, so a key
revoked since, whatever the revocation's date, could back-date a forged state. Anything else refuses the audit (exit 2, one line naming the file):
an incremental audit from a checkpoint that does not hold would be a partial audit that
looks whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from synthgov import clock
from synthgov.audit import checkpoints
from synthgov.audit.replay import AuditResult
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.paths import MAX_FILE_BYTES
from synthgov.git.history import FirstParent, Repository
from synthgov.models import Checkpoint, Registry
from synthgov.models.checkpoint import AuditState
from synthgov.models.common import format_timestamp


@dataclass(frozen=True)
class Start:
    """A verified checkpoint to audit after: its file, its commit, and its state."""

    name: str  # the file as the user named it (repository-relative when inside it)
    raw: bytes
    checkpoint: Checkpoint
    state: AuditState
    commit: FirstParent  # the checkpointed commit: the walk starts after it

    def seed(self, outcome: AuditResult) -> None:
        """Carry the state into an audit of the commits after the checkpoint: its findings
        and budgets come first, and the pack says where it started."""
        state = self.state
        outcome.findings[:0] = [f.model_dump(mode="json") for f in state.findings]
        outcome.budgets[:0] = [b.model_dump(mode="json", exclude_none=True) for b in state.budgets]
        point = self.checkpoint
        assert point.state_sha256 is not None  # `start` refuses a checkpoint without one
        outcome.since = {
            "checkpoint": self.name,
            "commit": point.commit,
            "created_at": format_timestamp(point.created_at),
            "reviewer": point.reviewer,
            "state_sha256": point.state_sha256,
            "commits": state.commits,
            "decided": state.decided,
            "findings": len(state.findings),
            "releases": dict(state.releases),
        }

    def drop_repeats(self, outcome: AuditResult) -> None:
        """Drop a finding found again after the carried ones (an old checkpoint that is
        verified anew says what it said then)."""
        carried = len(self.state.findings)
        seen = {tuple(sorted(f.items())) for f in outcome.findings[:carried]}
        outcome.findings[carried:] = [
            f for f in outcome.findings[carried:] if tuple(sorted(f.items())) not in seen
        ]


def name_of(given: Path, root: Path) -> str:
    """How a checkpoint file is named in findings and the pack."""
    try:
        return given.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(given)


def start(repo: Repository, root: Path, given: Path, tip: str, now: datetime) -> Start:
    """The checkpoint in the file `given`, verified against the first-parent history of
    `tip`, with the clock `now`.

    Raises:
        InputError: the checkpoint cannot be read or does not hold (one problem that names
            the file).
    """
    name = name_of(given, root)
    try:
        if given.stat().st_size > MAX_FILE_BYTES:
            raise InputError.at(name, f"larger than the {MAX_FILE_BYTES // 1024} KiB limit")
        raw = given.read_bytes()
    except OSError as exc:
        raise InputError.at(name, f"cannot read the checkpoint: {exc.strerror}") from None
    loaded = governance.load_bytes(raw, name, Checkpoint)
    point: Checkpoint = loaded.model
    data: dict[str, Any] = loaded.document.data
    if point.state is None or point.state_sha256 is None:
        raise InputError.at(
            name,
            "records no audit state to start from (made by an audit of part of the history, "
            "with --at, or by an older synthgov): audit the whole history with --checkpoint",
        )
    digest = checkpoints.state_sha256(data["state"])
    if digest != point.state_sha256:
        raise InputError.at(
            name,
            f"state digest mismatch: the state hashes to {digest[:12]}, the checkpoint "
            f"records {point.state_sha256[:12]}: it was changed after it was signed",
        )
    short = point.commit[:12]
    if point.commit not in repo.first_parent_ids(tip):
        raise InputError.at(
            name,
            f"checkpointed commit {short} is not on the first-parent history of "
            f"{tip[:12]}: history was rewritten, or the checkpoint is another repository's",
        )
    [commit] = repo.first_parent(f"{point.commit}^!")
    try:
        registry: Registry = governance.load_bytes(
            repo.read(point.commit, layout.REVIEWERS) or b"", layout.REVIEWERS, Registry
        ).model
    except InputError as exc:
        raise InputError.at(name, f"no registry at {short} to verify it with: {exc}") from None
    ledger_paths = [
        p
        for p in repo.list_files(point.commit, "budgets")
        if (k := layout.classify(p)) and k.kind == "ledger"
    ]
    heads = checkpoints.ledger_heads(partial(repo.read, point.commit), ledger_paths)
    problems = [
        p.message for p in checkpoints.verify(point, data, registry, True, commit.tree, heads)
    ]
    late = clock.future_problem("created_at", point.created_at, now)
    if late:
        problems.append(late)
    try:
        current: Registry = governance.load_bytes(
            repo.read(tip, layout.REVIEWERS) or b"", layout.REVIEWERS, Registry
        ).model
    except InputError as exc:
        raise InputError.at(name, f"no registry at {tip[:12]} to verify it with: {exc}") from None
    gone = checkpoints.still_trusted(point.signature.armored, point.reviewer, current)
    if gone:
        problems.append(f"the registry at {tip[:12]} no longer vouches for it: {gone}")
    if problems:
        raise InputError.at(name, f"not trusted: {problems[0]}")
    return Start(name, raw, point, point.state, commit)
