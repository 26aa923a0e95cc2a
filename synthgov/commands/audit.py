"""`synthgov audit`: replay main's history, write the evidence pack, record checkpoints.

Exit 1 when the audit has any finding, 0 when the history is clean, 2 when no audit is
possible (not a repository, a shallow clone, an unknown range, bad options).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov.audit import checkpoints, incremental
from synthgov.audit.replay import AuditResult, Replay, anchor, verify_checkpoints
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
    since: Path | None = None,
) -> int:
    from synthgov.audit.pack import render_html, render_markdown

    generated_at = datetime.now(UTC).replace(microsecond=0)
    pack = outputs.folder(out) if out is not None else None  # refused before the replay
    if since is not None and revisions is not None and ".." in revisions:
        raise UsageError("--since starts after its checkpoint: give --range REV, not A..REV")
    if since is not None and at is not None:  # the carried state was judged at other times
        raise UsageError("--at judges every commit at one instant: audit in full, not --since")
    with Repository.open(root) as repo:
        revisions = revisions or repo.default_base()
        start = None
        recorded = None
        if since is None:
            history = repo.first_parent(revisions)
            if not history:
                raise InputError.at(revisions, "the range holds no commit to audit")
            tip = history[-1].sha
        else:  # verified before anything of it is used; fail closed, no partial pack
            tip = repo.resolve(revisions, "ref")
            start = incremental.start(repo, root, since, tip, generated_at)
            history = repo.first_parent(f"{start.checkpoint.commit}..{tip}")
            recorded = checkpoints.recorded(repo, root, tip)
            recorded[(start.name, start.raw)] = None
        full = None
        if ".." in revisions or start is not None:  # earlier checkpoints are on main too
            full = repo.first_parent_ids(tip)
        outcome = AuditResult(revisions, tip, 0, 0, at)
        if start is not None:
            start.seed(outcome)
        replay = Replay(repo, at, generated_at)
        try:
            replay.run(
                revisions, history, previous=start.commit if start else None, outcome=outcome
            )
        finally:
            replay.close()
        if recorded is None:
            recorded = checkpoints.recorded(repo, root, tip)
        verify_checkpoints(repo, history, tip, recorded, outcome, full, generated_at)
        if start is not None:
            start.drop_repeats(outcome)
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
            whole = ".." not in revisions and at is None  # else no state to carry
            state = (
                checkpoints.state_of(outcome.document(generated_at), start.state if start else None)
                if whole
                else None
            )
            tree = history[-1].tree if history else start.commit.tree if start else ""
            written = checkpoints.write(repo, root, tip, tree, signing.path, generated_at, state)
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
