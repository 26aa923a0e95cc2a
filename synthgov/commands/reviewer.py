"""`synthgov reviewer add ID` and `reviewer revoke-key ID`: register a reviewer and a
public key in policy/reviewers.yaml, or revoke a key.

The edits are made to the file's text (`synthgov.files.registry`), which must read back as
exactly the intended registry before the file is replaced atomically. When a reviewer
cannot be added that way nothing is written and the block is printed for the user to
paste.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import options
from synthgov.errors import InputError
from synthgov.files import governance, layout, yaml_edit
from synthgov.files import registry as edits
from synthgov.files.paths import replace_file
from synthgov.models import Policy, Registry
from synthgov.models.common import Classification, format_timestamp
from synthgov.models.reviewers import Reviewer

_LABELS = {
    "id": "ID",
    "name": "--name",
    "email": "--email",
    "roles": "--role",
    "keys": "--key",
    "keys.valid_after": "--valid-after",
    "keys.valid_before": "--valid-before",
    "emails": "--also-email",
    "login": "--login",
}


def run_add(
    root: Path,
    reviewer_id: str,
    *,
    name: str,
    email: str,
    roles: tuple[str, ...],
    key_file: Path,
    valid_after: str | None,
    valid_before: str | None,
    also_emails: tuple[str, ...] = (),
    login: str | None = None,
) -> int:
    """Add the reviewer; 0 when written, InputError (exit 2) otherwise, the file unchanged."""
    options.slug(reviewer_id, "ID")
    key_type, public_key, fingerprint = edits.read_public_key(key_file)
    key: dict[str, Any] = {
        "type": key_type,
        "public_key": public_key,
        "fingerprint": fingerprint,
        "valid_after": options.utc_time(valid_after, "--valid-after"),
        "valid_before": options.utc_time(valid_before, "--valid-before"),
    }
    data: dict[str, Any] = {"id": reviewer_id, "name": name, "email": email}
    if also_emails:  # every address authorship is matched on (docs/reviewers.md)
        data["emails"] = list(dict.fromkeys(also_emails))
    if login is not None:
        data["login"] = options.login(login, "--login")
    data |= {"roles": list(dict.fromkeys(roles)), "keys": [key]}
    reviewer = options.build(Reviewer, data, _LABELS, "reviewer add")
    registry, text = edits.load(root)
    edits.refuse_duplicates(registry, reviewer)
    _write(root, registry, text, reviewer)
    _warn_unknown_roles(root, reviewer)
    click.echo(
        f"registered {reviewer.id} ({', '.join(reviewer.roles)}) with {key_type} key "
        f"{fingerprint} in {layout.REVIEWERS}; the change to policy/ needs the policy-admin "
        "approvals of the base branch's policy",
        err=True,
    )
    return 0


def _warn_unknown_roles(root: Path, reviewer: Reviewer) -> None:
    """A role no policy rule asks for is most likely a typo (`privacy-reviwer`)."""
    try:
        policy = governance.load(root, layout.POLICY, Policy).model
    except InputError:
        return
    tiers = [policy.tiers.for_classification(c).approvals for c in Classification]
    known = {
        role
        for counts in (*tiers, policy.policy_changes.approvals, policy.waivers.approvals)
        for role in counts
    }
    for role in reviewer.roles:
        if role not in known:
            click.echo(
                f"warning: role {role} is not required anywhere in {layout.POLICY} "
                f"(known roles: {', '.join(sorted(known))})",
                err=True,
            )


def _write(root: Path, registry: Registry, text: str, reviewer: Reviewer) -> None:
    """Insert the block, verify the result, replace the file; or print the block and refuse."""
    new_text, block = edits.with_reviewer(text, registry, reviewer)
    if new_text is None:
        click.echo(yaml_edit.indent(block, 2), nl=False)
        raise InputError.at(
            layout.REVIEWERS,
            "cannot add the reviewer without rewriting the file's layout; nothing was "
            "written: paste the block printed above under `reviewers:`",
        )
    replace_file(root, layout.REVIEWERS, text.encode("utf-8"), new_text.encode("utf-8"))


def run_revoke_key(
    root: Path, reviewer_id: str, *, fingerprint: str, at: str | None, reason: str
) -> int:
    """Mark one key revoked (BRIEF §10.12) by inserting two lines after its fingerprint.

    From `revoked_at` on, no signature by the key counts, whatever time it claims: SSH
    signatures carry none, so a stolen key could sign "in the past".
    """
    when = options.utc_time(at, "--at") or datetime.now(UTC).replace(microsecond=0)
    if not reason.strip():
        raise InputError.at("--reason", "say why the key is revoked")
    registry, text = edits.load(root)
    new_text = edits.with_revoked_key(text, registry, reviewer_id, fingerprint, when, reason)
    replace_file(root, layout.REVIEWERS, text.encode("utf-8"), new_text.encode("utf-8"))
    click.echo(
        f"revoked {reviewer_id}'s key {fingerprint} from {format_timestamp(when)} "
        f"in {layout.REVIEWERS}; the change to policy/ needs the policy-admin "
        "approvals of the base branch's policy",
        err=True,
    )
    return 0
