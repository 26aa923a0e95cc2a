"""`synthgov audit`: replay main's history, write the evidence pack, record checkpoints.

Exit 1 when the audit has any finding, 0 when the history is clean, 2 when no audit is
possible (not a repository, a shallow clone, an unknown range, bad options).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov.audit import checkpoints
from synthgov.audit.replay import Replay, anchor, verify_checkpoints
from synthgov.errors import InputError, UsageError
from synthgov.git.history import Repository
from synthgov.reporting import outputs
from synthgov.signing.signer import signing_key


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
    from synthgov.audit.pack import render_html, render_markdown

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
        replay = Replay(repo, at, generated_at)
        try:
            outcome = replay.run(revisions, history)
        finally:
            replay.close()
        verify_checkpoints(
            repo, history, tip, checkpoints.recorded(repo, root, tip), outcome, full, generated_at
        )
        anchor(history, outcome)
        written = None
        if checkpoint:
            main_tip = repo.resolve(repo.default_base())
            if tip != main_tip:  # a checkpoint bounds later commits by the audit's clock
                raise UsageError(
                    f"--checkpoint records main's tip ({main_tip[:12]}); the range "
                    f"ends at {tip[:12]}: audit up to main's tip, fetched fresh"
                )
            signing = signing_key(root, key)
            if signing.format != "sshsig" or signing.path is None:
                raise UsageError("checkpoints are signed with an SSH key: pass --key FILE")
            written = checkpoints.write(
                repo, root, tip, history[-1].tree, signing.path, generated_at
            )
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
