"""`synthgov waiver new DATASET@VERSION --rule R --relax-to X --days N --reason TEXT`.

Writes datasets/<id>/releases/<v>/waivers/<waiver>.yaml within the bounds of the policy's
`waivers` section and commits nothing; refuses (exit 1, nothing written) what those
bounds forbid, and never replaces an existing waiver. The waiver counts once the roles
of `waivers.approvals` approve it (`synthgov approve DATASET@VERSION --waiver ID`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov import options
from synthgov.decision.waiver_drafts import Forbidden, default_id, draft, waiver_path
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.paths import write_new
from synthgov.models import Policy, Registry


def run_new(
    root: Path,
    target: str,
    *,
    rule: str,
    relax_to: float,
    days: int,
    reason: str,
    owner: str,
    ticket: str,
    waiver_id: str | None,
) -> int:
    """0 when written, 1 when the policy forbids it or the waiver exists, 2 on bad input."""
    release = Release.parse(target)
    options.slug(owner, "--owner")
    if not reason.strip():
        raise InputError.at("--reason", "say why the exception is acceptable")
    manifest = f"{release.folder}/manifest.yaml"
    if not (root / manifest).exists():
        raise InputError.at(manifest, f"no such release {release}")
    registry = governance.load(root, layout.REVIEWERS, Registry).model
    if registry.reviewer(owner) is None:
        raise InputError.at("--owner", f"{owner} is not a reviewer of {layout.REVIEWERS}")
    now = datetime.now(UTC)
    chosen = waiver_id if waiver_id is not None else default_id(rule, now)
    path = waiver_path(release, chosen)
    if (root / path).exists() or (root / path).is_symlink():
        click.echo(
            f"refused: {path} already exists; a waiver is never overwritten "
            "(name another with --id)",
            err=True,
        )
        return 1
    policy = governance.load(root, layout.POLICY, Policy)
    try:
        made = draft(
            policy,
            release,
            rule=rule,
            relax_to=relax_to,
            days=days,
            reason=reason,
            owner=owner,
            ticket=ticket,
            waiver_id=chosen,
            now=now,
        )
    except Forbidden as exc:
        click.echo(f"refused: {exc}; nothing was written", err=True)
        return 1
    write_new(root, made.path, made.text.encode())
    waiver = made.waiver
    click.echo(
        f"wrote {made.path}: {waiver.rule} relaxed to {waiver.relax_to:g} until "
        f"{waiver.expires_at:%Y-%m-%d %H:%M}Z",
        err=True,
    )
    click.echo("next: commit it, then have it approved:", err=True)
    for role, count in made.approvals.items():
        times = "" if count == 1 else f" ({count} reviewers)"
        click.echo(
            f"  synthgov approve {release} --waiver {waiver.id} --role {role}{times}", err=True
        )
    return 0
