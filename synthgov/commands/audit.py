"""`synthgov audit`: replay main's history, write the evidence pack, record checkpoints.

Exit 1 when the audit has any finding, 0 when the history is clean, 2 when no audit is
possible (not a repository, a shallow clone, an unknown range, bad options).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import audit, checkpoints, governance, layout, outputs
from synthgov.commands.approve import signing_key
from synthgov.errors import InputError, UsageError
from synthgov.history import Repository
from synthgov.models import Checkpoint, Registry
from synthgov.paths import iter_files, read_bytes, write_new
from synthgov.sshsig import SignatureError
from synthgov.writing import to_yaml


def _recorded(repo: Repository, root: Path, tip: str) -> dict[tuple[str, bytes], None]:
    """Checkpoints committed at the tip and those in the working tree: a local copy
    survives a force-push that drops the committed one."""
    found: dict[tuple[str, bytes], None] = {}
    for path in repo.list_files(tip, checkpoints.FOLDER):
        raw = repo.read(tip, path)
        if raw is not None and path.endswith(".yaml"):
            found[(path, raw)] = None
    for rel in iter_files(root, checkpoints.FOLDER):
        path = rel.as_posix()
        if path.endswith(".yaml"):
            found[(path, read_bytes(root, path))] = None
    return found


def _write_checkpoint(
    repo: Repository, root: Path, head: str, tree: str, key: Path | None, now: datetime
) -> str:
    """Sign and write a checkpoint of `head`; its signer must be an auditor or policy admin
    of `head`'s registry."""
    signer = signing_key(root, key)
    if signer.format != "sshsig" or signer.path is None:
        raise UsageError("checkpoints are signed with an SSH key: pass --key FILE")
    registry: Registry = governance.load_bytes(  # type: ignore[assignment]
        repo.read(head, layout.REVIEWERS) or b"", layout.REVIEWERS, "reviewers"
    ).model
    ledger_paths = [
        p
        for p in repo.list_files(head, "budgets")
        if (k := layout.classify(p)) and k.kind == "ledger"
    ]
    heads = checkpoints.ledger_heads(lambda p: repo.read(head, p), ledger_paths)
    data: dict[str, Any] = checkpoints.unsigned(head, tree, heads, now, "unknown")
    probe = _sign(signer.path, b"synthgov checkpoint key probe")
    reviewer, why = checkpoints.signer_of(probe, registry, now)
    if reviewer is None:
        raise UsageError(f"cannot sign a checkpoint with {signer.path}: {why}")
    data["reviewer"] = reviewer
    data["signature"] = {
        "format": "sshsig",
        "armored": _sign(signer.path, checkpoints.payload(data)),
    }
    path = checkpoints.path_for(now)
    text = to_yaml(Checkpoint.model_validate(data))
    write_new(root, path, text.encode("utf-8"))
    return path


def _sign(key: Path, message: bytes) -> str:
    from synthgov.sshsig import sign_with_ssh_keygen

    try:
        return sign_with_ssh_keygen(key, message, checkpoints.NAMESPACE)
    except SignatureError as exc:
        raise UsageError(str(exc)) from None


def run(
    root: Path,
    *,
    revisions: str | None,
    at: datetime | None,
    fmt: str,
    out: Path | None,
    checkpoint: bool,
    key: Path | None,
) -> int:
    from synthgov.evidence import render_html, render_markdown

    generated_at = datetime.now(UTC).replace(microsecond=0)
    pack = outputs.folder(out) if out is not None else None  # refused before the replay
    with Repository.open(root) as repo:
        revisions = revisions or repo.default_base()
        history = repo.first_parent(revisions)
        if not history:
            raise InputError.at(revisions, "the range holds no commit to audit")
        tip = history[-1].sha
        full = None
        if ".." in revisions:  # checkpoints before the range are still on main's history
            full = {c.sha for c in repo.first_parent(tip)}
        replay = audit.Replay(repo, at, generated_at)
        try:
            outcome = replay.run(revisions, history)
        finally:
            replay.close()
        audit.verify_checkpoints(
            repo, history, tip, _recorded(repo, root, tip), outcome, full, generated_at
        )
        audit.anchor(history, outcome)
        written = None
        if checkpoint:
            main_tip = repo.resolve(repo.default_base())
            if tip != main_tip:  # a checkpoint bounds later commits by the audit's clock
                raise UsageError(
                    f"--checkpoint records main's tip ({main_tip[:12]}); the range "
                    f"ends at {tip[:12]}: audit up to main's tip, fetched fresh"
                )
            written = _write_checkpoint(repo, root, tip, history[-1].tree, key, generated_at)
    document = outcome.document(generated_at)
    if written:
        click.echo(
            f"checkpoint of {tip[:12]} written to {written}; commit it, and keep a copy "
            "outside the repository",
            err=True,
        )
    text_json = json.dumps(document, indent=2) + "\n"
    if pack is not None:
        outputs.write_text(pack / "audit.json", text_json)
        outputs.write_text(pack / "audit.md", render_markdown(document))
        outputs.write_text(pack / "audit.html", render_html(document))
        count = len(document["findings"])
        click.echo(
            f"audit of {document['commits']} commits: {count} finding"
            f"{'' if count == 1 else 's'}; evidence pack in {out}"
        )
    elif fmt == "markdown":
        click.echo(render_markdown(document), nl=False)
    elif fmt == "html":
        click.echo(render_html(document), nl=False)
    else:
        click.echo(text_json, nl=False)
    return 1 if document["findings"] else 0
