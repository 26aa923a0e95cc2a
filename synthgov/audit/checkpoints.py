"""Audit checkpoints: a signed record of main's history at an audit, and its verification.

A checkpoint (audit/checkpoints/<UTC time>.yaml, model `Checkpoint`) pins a first-parent
commit, its tree and every ledger's head, with the auditor's clock. It is signed over its
canonical JSON without `signature` (SSHSIG, namespace `synthgov-checkpoint`) by a reviewer
of the checkpointed commit's registry who holds `auditor` or `policy-admin`: a role that
answers for the trust root, so that a release author cannot pin a history they rewrote.
A checkpoint of a whole-history audit also holds that audit's state and its digest
(`state_of`, `state_sha256`): what `audit --since` carries forward. Building and judging
records is pure; `recorded` and `write` read Git and the working tree, sign with
ssh-keygen and write the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from synthgov import clock
from synthgov.budget import ledgers
from synthgov.errors import SignatureError, UsageError
from synthgov.files import governance, layout
from synthgov.files.paths import iter_files, read_bytes, write_new
from synthgov.files.writing import to_yaml
from synthgov.git.history import Repository
from synthgov.models import Checkpoint, Registry
from synthgov.models.checkpoint import AuditState
from synthgov.models.common import format_timestamp
from synthgov.signing import canonical, sshsig
from synthgov.signing.keys import parse_ssh_public_key
from synthgov.signing.signatures import key_problem

NAMESPACE = "synthgov-checkpoint"
SIGNER_ROLES = ("auditor", "policy-admin")
#: How far a later commit's time may lie before a checkpoint's before it counts as back-dated.
SKEW = clock.SKEW
FOLDER = "audit/checkpoints"


def path_for(created_at: datetime) -> str:
    return f"{FOLDER}/{created_at:%Y%m%dT%H%M%SZ}.yaml"


def ledger_heads(read: Callable[[str], bytes | None], paths: list[str]) -> dict[str, Any]:
    """Ledger path -> {entries, head_sha256} for the ledgers at a commit."""
    from synthgov.files.loading import parse_yaml

    heads = {}
    for path in paths:
        raw = read(path)
        if raw is None:
            continue
        data = parse_yaml(raw, path).data
        count = len(ledgers.entries(data))
        heads[path] = {"entries": count, "head_sha256": ledgers.link(data, count)}
    return heads


def unsigned(
    commit: str, tree: str, heads: dict[str, Any], created_at: datetime, reviewer: str
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "commit": commit,
        "tree": tree,
        "ledgers": heads,
        "created_at": format_timestamp(created_at),
        "reviewer": reviewer,
    }


def state_of(document: Mapping[str, Any], carried: AuditState | None) -> dict[str, Any]:
    """The state a checkpoint of `document`'s head records: the audit's findings and
    latest budgets (which hold the carried ones when it was incremental), each release's
    verdict and the counts, added to what `carried` brought; as the file will hold it."""
    releases = dict(carried.releases) if carried else {}
    releases.update({r["release"]: r["verdict"] for r in document["releases"]})
    latest = {point["source"]: point for point in document["budgets"]}
    state = {
        "commits": document["commits"] + (carried.commits if carried else 0),
        "decided": document["decided"] + (carried.decided if carried else 0),
        "findings": document["findings"],
        "releases": dict(sorted(releases.items())),
        "budgets": [latest[source] for source in sorted(latest)],
    }
    return AuditState.model_validate(state).model_dump(mode="json", exclude_none=True)


def state_sha256(state: Any) -> str:
    """sha256 of the canonical JSON of a state as the file holds it."""
    return hashlib.sha256(canonical.canonical(state)).hexdigest()


def payload(data: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the record without `signature`, canonical JSON."""
    return canonical.signed_payload(data)


def signer_of(armored: str, registry: Registry, at: datetime) -> tuple[str | None, str]:
    """(reviewer id, "") of the registered key that made `armored`, or (None, why not):
    the key must be registered, valid at `at`, and its holder an auditor or policy admin."""
    try:
        blob = sshsig.parse(armored).public_key
    except SignatureError as exc:
        return None, str(exc)
    for reviewer in registry.reviewers:
        for key in reviewer.keys:
            if key.type != "ssh" or parse_ssh_public_key(key.public_key).blob != blob:
                continue
            problem = key_problem(key, at)
            if problem:
                return None, f"{reviewer.id}'s key {key.fingerprint} {problem}"
            if not set(SIGNER_ROLES) & set(reviewer.roles):
                return None, f"{reviewer.id} holds neither {' nor '.join(SIGNER_ROLES)}"
            return reviewer.id, ""
    return None, "the signing key is not in the registry"


def still_trusted(armored: str, reviewer_id: str, registry: Registry) -> str | None:
    """Why the registry as it is now no longer vouches for a checkpoint's signer, or None.

    A checkpoint's `created_at` is the signer's own word, so a key revoked since, whatever
    the revocation's date, could sign a back-dated checkpoint: such a key, a signer no longer
    registered, or one without the role any more cannot start an incremental audit, and a
    recorded checkpoint it signed anchors nothing (`replay.verify_checkpoints`)."""
    try:
        blob = sshsig.parse(armored).public_key
    except SignatureError as exc:
        return str(exc)
    for reviewer in registry.reviewers:
        for key in reviewer.keys:
            if key.type != "ssh" or parse_ssh_public_key(key.public_key).blob != blob:
                continue
            if reviewer.id != reviewer_id:
                return f"its key is registered to {reviewer.id} now, not {reviewer_id}"
            if key.revoked_at is not None:
                return f"{reviewer.id}'s key {key.fingerprint} has been revoked since"
            if not set(SIGNER_ROLES) & set(reviewer.roles):
                return f"{reviewer.id} holds neither {' nor '.join(SIGNER_ROLES)} any more"
            return None
    return "its signing key is no longer in the registry"


@dataclass(frozen=True)
class CheckpointFinding:
    """Why a checkpoint does not hold: an audit finding of its kind."""

    kind: str  # history.rewritten | checkpoint.invalid
    message: str


def verify(
    checkpoint: Checkpoint,
    data: dict[str, Any],
    registry: Registry,
    in_history: bool,
    tree: str | None,
    heads: dict[str, Any] | None,
) -> list[CheckpointFinding]:
    """What is wrong with a recorded checkpoint against the history as it is now.

    `in_history`: the commit is on main's first-parent history; `tree` and `heads` are the
    commit's tree and ledger heads when the repository still has the commit.
    """
    found = []
    signature = checkpoint.signature
    if signature.format != "sshsig":
        found.append(
            CheckpointFinding("checkpoint.invalid", "checkpoints are signed with SSH keys only")
        )
    else:
        reviewer, why = signer_of(signature.armored, registry, checkpoint.created_at)
        if reviewer is None or reviewer != checkpoint.reviewer:
            found.append(
                CheckpointFinding(
                    "checkpoint.invalid",
                    f"signature not accepted: "
                    f"{why or f'made by {reviewer}, not {checkpoint.reviewer}'}",
                )
            )
        else:
            blob = sshsig.parse(signature.armored).public_key
            try:
                sshsig.verify(
                    signature.armored, payload(data), namespace=NAMESPACE, public_key=blob
                )
            except SignatureError as exc:
                found.append(
                    CheckpointFinding("checkpoint.invalid", f"signature not accepted: {exc}")
                )
    short = checkpoint.commit[:12]
    if not in_history:
        found.append(
            CheckpointFinding(
                "history.rewritten",
                f"checkpointed commit {short} "
                f"({format_timestamp(checkpoint.created_at)}) is no longer in "
                "main's first-parent history: history was rewritten (force-push)",
            )
        )
    elif tree is not None and tree != checkpoint.tree:
        found.append(
            CheckpointFinding(
                "history.rewritten",
                f"commit {short} has tree {tree[:12]}, the "
                f"checkpoint recorded {checkpoint.tree[:12]}",
            )
        )
    elif heads is not None:
        recorded = {k: v.model_dump() for k, v in checkpoint.ledgers.items()}
        if heads != recorded:
            changed = sorted(
                set(heads) ^ set(recorded) | {k for k in heads if heads[k] != recorded.get(k)}
            )
            found.append(
                CheckpointFinding(
                    "history.rewritten",
                    f"ledger heads at {short} differ from the checkpoint's: {', '.join(changed)}",
                )
            )
    return found


# --- on disk: the checkpoints recorded, and writing a new one ----------------------------


def recorded(repo: Repository, root: Path, tip: str) -> dict[tuple[str, bytes], None]:
    """Checkpoints committed at the tip and those in the working tree: a local copy
    survives a force-push that drops the committed one."""
    found: dict[tuple[str, bytes], None] = {}
    for path in repo.list_files(tip, FOLDER):
        raw = repo.read(tip, path)
        if raw is not None and path.endswith(".yaml"):
            found[(path, raw)] = None
    for rel in iter_files(root, FOLDER):
        path = rel.as_posix()
        if path.endswith(".yaml"):
            found[(path, read_bytes(root, path))] = None
    return found


def write(
    repo: Repository,
    root: Path,
    head: str,
    tree: str,
    key: Path,
    now: datetime,
    state: dict[str, Any] | None = None,
) -> str:
    """Sign a checkpoint of `head` with the SSH key file `key` and write it under
    `FOLDER`; its path. The signer must be an auditor or policy admin of `head`'s registry.
    `state` (from `state_of`) is recorded with its digest, for `audit --since`.

    Raises:
        UsageError: the key cannot sign, or is not such a reviewer's.
    """
    registry: Registry = governance.load_bytes(
        repo.read(head, layout.REVIEWERS) or b"", layout.REVIEWERS, Registry
    ).model
    ledger_paths = [
        p
        for p in repo.list_files(head, "budgets")
        if (k := layout.classify(p)) and k.kind == "ledger"
    ]
    heads = ledger_heads(lambda p: repo.read(head, p), ledger_paths)
    data: dict[str, Any] = unsigned(head, tree, heads, now, "unknown")
    if state is not None:
        data.update(state=state, state_sha256=state_sha256(state))
    probe = _sign(key, b"synthgov checkpoint key probe")
    reviewer, why = signer_of(probe, registry, now)
    if reviewer is None:
        raise UsageError(f"cannot sign a checkpoint with {key}: {why}")
    data["reviewer"] = reviewer
    data["signature"] = {
        "format": "sshsig",
        "armored": _sign(key, payload(data)),
    }
    path = path_for(now)
    text = to_yaml(Checkpoint.model_validate(data))
    write_new(root, path, text.encode("utf-8"))
    return path


def _sign(key: Path, message: bytes) -> str:
    try:
        return sshsig.sign_with_ssh_keygen(key, message, NAMESPACE)
    except SignatureError as exc:
        raise UsageError(str(exc)) from None
