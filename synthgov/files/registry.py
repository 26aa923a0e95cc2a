"""Editing the reviewer registry (policy/reviewers.yaml) by its text.

The registry is a file people write by hand, with comments, so it is never re-serialised:
a new reviewer's YAML block is inserted into the text (`yaml_edit` does the text work),
a key's revocation is two lines inserted under its fingerprint, and an edit counts only
when the edited text reads back as exactly the intended registry. Public keys are read
from the files users export them to.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from synthgov.errors import InputError, UnusableKeyError
from synthgov.files import governance, layout, yaml_edit
from synthgov.files.loading import parse_yaml, validate
from synthgov.files.paths import read_user_file
from synthgov.files.writing import to_yaml
from synthgov.models import Registry
from synthgov.models.common import format_timestamp
from synthgov.models.reviewers import Reviewer
from synthgov.signing.keys import parse_public_key

#: A public key is at most a few KiB (an RSA-4096 OpenPGP key with signatures: ~10 KiB).
MAX_KEY_BYTES = 64 * 1024


_PGP_BLOCK = re.compile(
    r"^-----BEGIN PGP PUBLIC KEY BLOCK-----\n.*?^-----END PGP PUBLIC KEY BLOCK-----$",
    re.DOTALL | re.MULTILINE,
)


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


def load(root: Path) -> tuple[Registry, str]:
    """The registry and its exact text; it must exist and be valid (`synthgov init`)."""
    path = layout.REVIEWERS
    if not (root / path).exists() and not (root / path).is_symlink():
        raise InputError.at(path, "no such file; run `synthgov init` first to create the registry")
    loaded = governance.load(root, path, Registry)
    return loaded.model, loaded.document.text


def refuse_duplicates(registry: Registry, reviewer: Reviewer) -> None:
    """A reviewer id is registered once, and a key identifies one reviewer."""
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


def reads_as(text: str, expected: Registry) -> bool:
    """Whether the edited text is a valid registry equal to `expected`."""
    try:
        return validate(parse_yaml(text.encode("utf-8"), layout.REVIEWERS), Registry) == expected
    except InputError:
        return False


def with_reviewer(text: str, registry: Registry, reviewer: Reviewer) -> tuple[str | None, str]:
    """The registry's text with `reviewer` appended (None when that cannot be done without
    rewriting the file's layout), and the reviewer's YAML block."""
    block = yaml_edit.sequence_item(to_yaml(reviewer))
    expected = Registry(
        schema_version=registry.schema_version, reviewers=[*registry.reviewers, reviewer]
    )
    new_text = yaml_edit.append_item(text, "reviewers", block)
    if new_text is None or not reads_as(new_text, expected):
        return None, block
    return new_text, block


def with_revoked_key(
    text: str, registry: Registry, reviewer_id: str, fingerprint: str, when: datetime, reason: str
) -> str:
    """The registry's text with the key revoked from `when` (BRIEF §10.12): `revoked_at`
    and `revocation_reason` inserted after its fingerprint.

    Raises:
        InputError: no such key, already revoked, or the lines cannot be inserted without
            rewriting the file's layout.
    """
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
            if not reads_as(new_text, expected):
                raise InputError.at(
                    layout.REVIEWERS,
                    "cannot insert the revocation without "
                    f"rewriting the file's layout; add under key {fingerprint}: "
                    f"{added.strip()}",
                )
            return new_text
    raise InputError.at(
        "--fingerprint", f"{reviewer_id} has no key {fingerprint} in {layout.REVIEWERS}"
    )
