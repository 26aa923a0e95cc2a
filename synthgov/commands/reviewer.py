"""`synthgov reviewer add ID`: register a reviewer and a public key in policy/reviewers.yaml.

The registry is a file people write by hand, with comments; `add` therefore inserts the
new reviewer's YAML block into the text instead of re-serialising the file (`yaml_edit`
does the text work), checks that the edited text parses to exactly the old registry plus
the new reviewer, and only then replaces the file atomically. When that check fails
nothing is written and the block is printed for the user to paste.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import governance, layout, options, yaml_edit
from synthgov.errors import InputError
from synthgov.keys import UnusableKeyError, parse_public_key
from synthgov.loading import parse_yaml, validate
from synthgov.models import Policy, Registry
from synthgov.models.common import Classification, format_timestamp
from synthgov.models.reviewers import Reviewer
from synthgov.paths import read_user_file, replace_file
from synthgov.writing import to_yaml

#: A public key is at most a few KiB (an RSA-4096 OpenPGP key with signatures: ~10 KiB).
MAX_KEY_BYTES = 64 * 1024

_PGP_BLOCK = re.compile(
    r"^-----BEGIN PGP PUBLIC KEY BLOCK-----\n.*?^-----END PGP PUBLIC KEY BLOCK-----$",
    re.DOTALL | re.MULTILINE,
)
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
    key_type, public_key, fingerprint = read_public_key(key_file)
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
    registry, text = _load_registry(root)
    _refuse_duplicates(registry, reviewer)
    _write(root, registry, text, reviewer)
    _warn_unknown_roles(root, reviewer)
    click.echo(
        f"registered {reviewer.id} ({', '.join(reviewer.roles)}) with {key_type} key "
        f"{fingerprint} in {layout.REVIEWERS}; the change to policy/ needs the policy-admin "
        "approvals of the base branch's policy",
        err=True,
    )
    return 0


def read_public_key(path: Path) -> tuple[str, str, str]:
    """The key's type (ssh | openpgp), its text as stored, and its fingerprint.

    Raises:
        InputError: missing, not a regular file, too large, a private key, or not a usable
            SSH or OpenPGP public key.
    """
    text = _read_key_text(path)
    shown = str(path)
    if "PRIVATE KEY" in text:
        raise InputError.at(
            shown, "this is a PRIVATE key; pass the public one (KEY.pub, or `gpg --armor --export`)"
        )
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" in text:
        found = _PGP_BLOCK.findall(text.replace("\r\n", "\n"))
        if len(found) != 1:
            raise InputError.at(shown, "expected exactly one armoured OpenPGP public key block")
        key_type, public_key = "openpgp", found[0] + "\n"
    else:
        lines = [line.strip() for line in text.splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        if len(lines) != 1:
            raise InputError.at(
                shown,
                "expected one SSH public key line ('ssh-ed25519 AAAA… comment') or an "
                "armoured OpenPGP public key",
            )
        key_type, public_key = "ssh", " ".join(lines[0].split()[:2])  # the comment stays out
    try:
        parsed = parse_public_key(key_type, public_key)
    except UnusableKeyError as exc:
        raise InputError.at(shown, f"not a usable {key_type} public key: {exc}") from None
    return key_type, public_key, parsed.fingerprint


def _read_key_text(path: Path) -> str:
    shown = str(path)
    raw = read_user_file(path, "a public key file", MAX_KEY_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.at(
            shown, "not text; export the key in ASCII armour (`gpg --armor --export`)"
        ) from None


def _load_registry(root: Path) -> tuple[Registry, str]:
    """The registry and its exact text; it must exist and be valid (`synthgov init`)."""
    path = layout.REVIEWERS
    if not (root / path).exists() and not (root / path).is_symlink():
        raise InputError.at(path, "no such file; run `synthgov init` first to create the registry")
    loaded = governance.load(root, path)
    assert isinstance(loaded.model, Registry)
    return loaded.model, loaded.document.text


def _refuse_duplicates(registry: Registry, reviewer: Reviewer) -> None:
    if registry.reviewer(reviewer.id) is not None:
        raise InputError.at(
            layout.REVIEWERS, f"reviewer {reviewer.id} already exists; nothing was changed"
        )
    fingerprint = reviewer.keys[0].fingerprint
    for other in registry.reviewers:
        if any(key.fingerprint == fingerprint for key in other.keys):
            raise InputError.at(
                layout.REVIEWERS,
                f"key {fingerprint} is already registered to {other.id}; a key identifies "
                "one reviewer (nothing was changed)",
            )


def _warn_unknown_roles(root: Path, reviewer: Reviewer) -> None:
    """A role no policy rule asks for is most likely a typo (`privacy-reviwer`)."""
    try:
        policy = governance.load(root, layout.POLICY).model
    except InputError:
        return
    assert isinstance(policy, Policy)
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
    block = yaml_edit.sequence_item(to_yaml(reviewer))
    expected = Registry(
        schema_version=registry.schema_version, reviewers=[*registry.reviewers, reviewer]
    )
    new_text = yaml_edit.append_item(text, "reviewers", block)
    if new_text is None or not _reads_as(new_text, expected):
        click.echo(yaml_edit.indent(block, 2), nl=False)
        raise InputError.at(
            layout.REVIEWERS,
            "cannot add the reviewer without rewriting the file's layout; nothing was "
            "written: paste the block printed above under `reviewers:`",
        )
    replace_file(root, layout.REVIEWERS, text.encode("utf-8"), new_text.encode("utf-8"))


def _reads_as(text: str, expected: Registry) -> bool:
    try:
        return validate(parse_yaml(text.encode("utf-8"), layout.REVIEWERS), Registry) == expected
    except InputError:
        return False


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
    registry, text = _load_registry(root)
    doc = parse_yaml(text.encode("utf-8"), layout.REVIEWERS)
    for i, reviewer in enumerate(registry.reviewers):
        for j, key in enumerate(reviewer.keys):
            if reviewer.id != reviewer_id or key.fingerprint != fingerprint:
                continue
            if key.revoked_at is not None:
                raise InputError.at(
                    layout.REVIEWERS,
                    f"key {fingerprint} of {reviewer_id} is "
                    f"already revoked (at {format_timestamp(key.revoked_at)})",
                )
            spot = doc.locate(("reviewers", i, "keys", j, "fingerprint"), key=True)
            lines = text.splitlines(True)
            pad = " " * ((spot.column or 1) - 1)
            added = (
                f'{pad}revoked_at: "{format_timestamp(when)}"\n'
                f"{pad}revocation_reason: {json.dumps(reason, ensure_ascii=False)}\n"
            )
            new_text = "".join(lines[: spot.line]) + added + "".join(lines[spot.line :])
            revoked = key.model_copy(update={"revoked_at": when, "revocation_reason": reason})
            keys = [*reviewer.keys[:j], revoked, *reviewer.keys[j + 1 :]]
            people = list(registry.reviewers)
            people[i] = reviewer.model_copy(update={"keys": keys})
            expected = registry.model_copy(update={"reviewers": people})
            if not _reads_as(new_text, expected):
                raise InputError.at(
                    layout.REVIEWERS,
                    "cannot insert the revocation without "
                    f"rewriting the file's layout; add under key {fingerprint}: "
                    f"{added.strip()}",
                )
            replace_file(root, layout.REVIEWERS, text.encode("utf-8"), new_text.encode("utf-8"))
            click.echo(
                f"revoked {reviewer_id}'s key {fingerprint} from {format_timestamp(when)} "
                f"in {layout.REVIEWERS}; the change to policy/ needs the policy-admin "
                "approvals of the base branch's policy",
                err=True,
            )
            return 0
    raise InputError.at(
        "--fingerprint", f"{reviewer_id} has no key {fingerprint} in {layout.REVIEWERS}"
    )
